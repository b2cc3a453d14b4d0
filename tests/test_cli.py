"""The operator's command line, through typer's runner on the demo's warehouse."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()


def test_cycle_status_shows_the_warehouse_counts(demo_cycle, open_res):
    """Per data set the warehouse's counts with percentages; rejected and not sent apart; the state
    that counts now per unit (a unit whose second version was accepted is not failing)."""
    s, plan, _ = demo_cycle
    result = runner.invoke(app, ["cycle", "status", "2026H1", "--home", str(s.home)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    r = open_res(s)
    marts = r.con().execute("""select dataset_code, expected, received, accepted, on_time, late
                               from marts.reporting_rate where period = '2026H1'""").fetchall()
    r.close()
    for ds, *counts in marts:
        row = next(line for line in result.output.splitlines() if re.search(rf"\b{ds}\b\s*│", line))
        cells = [c.strip() for c in row.split("│")[2:-1]]
        assert [int(c.split()[0]) for c in cells[:5]] == counts, row
        expected = counts[0]
        for c, n in zip(cells[1:5], counts[1:], strict=True):  # a share of the expected units, decimal comma
            assert c == str(n) if n == 0 else c == f"{n} ({100 * n / expected:.1f}%)".replace(".", ","), (c, row)
    rejected_now = {f["unit"] for f in plan.files if f["kind"] == "resubmit_first"}
    assert rejected_now, "the demo has a unit that is rejected and resubmits"
    for unit in plan.missing:
        assert re.search(rf"chưa nộp \(\d+\): .*{re.escape(unit)}", result.output), unit
    for unit in rejected_now:  # its second version counts: not in the rejected list, not in the attention table
        assert not re.search(rf"bị từ chối \(\d+\): .*{re.escape(unit)}", result.output), unit
        assert not re.search(rf"│ {re.escape(unit)}\s+│", result.output), unit
    js = runner.invoke(app, ["cycle", "status", "2026H1", "--home", str(s.home), "--json"])
    data = json.loads(js.stdout)
    xa = next(d for d in data["datasets"] if d["dataset_code"] == "XA_6T")
    assert xa["rejected"] + xa["not_received"] + xa["accepted"] == xa["expected"]
    assert set(plan.missing) <= set(xa["units"]["not_received"])
    assert not rejected_now & set(xa["units"]["rejected"])


def test_cycle_status_in_english(demo_cycle):
    s, _, _ = demo_cycle
    result = runner.invoke(app, ["cycle", "status", "2026H1", "--home", str(s.home), "--lang", "en"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "first half of 2026" in result.output and "not sent" in result.output
    assert "phải nộp" not in result.output


def test_history_lists_every_version(demo_cycle):
    """One row per version, in order, each with its period, data set, version, file name, status,
    error count, whether it counts and its submission id; checked against the files the unit
    sent (the generator's list and the bytes in the store), not the warehouse."""
    import hashlib
    from pathlib import Path

    s, plan, _ = demo_cycle
    unit = next(f["unit"] for f in plan.files if f["kind"] == "resubmit_first")
    sent = sorted((f for f in plan.files if f["unit"] == unit), key=lambda f: f["received_at"])
    ids = {hashlib.sha256(f"{unit}|{hashlib.sha256(p.read_bytes()).hexdigest()}".encode()).hexdigest()[:20]
           for p in (s.store / unit).iterdir() if p.suffix != ".json"}
    result = runner.invoke(app, ["history", "--unit", unit, "--period", "2026H1", "--home", str(s.home), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == len(sent) == 2, rows
    assert [r["period"] for r in rows] == ["2026H1", "2026H1"]
    assert [r["dataset_code"] for r in rows] == [sent[0]["dataset"], sent[1]["dataset"]]
    assert [r["version"] for r in rows] == [1, 2]
    assert [r["file_name"] for r in rows] == [Path(f["path"]).name for f in sent]
    assert rows[0]["status"] == "rejected" and rows[1]["status"] in ("accepted", "accepted_with_warnings")
    assert rows[0]["n_errors"] > 0 and rows[1]["n_errors"] == 0
    assert [r["counts"] for r in rows] == [False, True]
    assert {r["submission_id"] for r in rows} <= ids and len({r["submission_id"] for r in rows}) == 2
    table = runner.invoke(app, ["history", "--unit", unit, "--period", "2026H1", "--home", str(s.home)],
                          env={"COLUMNS": "250"})
    assert table.exit_code == 0, table.output
    assert "bị từ chối" in table.output and "✓" in table.output and "Các lần nộp của" in table.output
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d", table.output)  # no microseconds
    assert not re.search(r"\+00:00|UTC", table.output)  # local time, not UTC


def test_accept_warning_twice_says_already_accepted(demo_cycle, open_res, tmp_path):
    import shutil

    from baocao.settings import settings

    shutil.copytree(demo_cycle[0].home, tmp_path / "home")  # a decision is recorded: not in the shared demo
    s = settings(tmp_path / "home")
    r = open_res(s)
    unit, element, rule = r.con().execute("""
        select s.unit_code, f.element_code, f.rule_id from raw.finding f join raw.submission s using (submission_id)
        where s.period = '2026H1' and f.severity = 'warning' order by 1, 2, 3 limit 1""").fetchone()
    r.close()
    args = ["accept-warning", "--unit", unit, "--period", "2026H1", "--element", element, "--rule", rule,
            "--by", "Nguyễn Văn A", "--home", str(s.home)]
    first = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert first.exit_code == 0, first.output
    assert "Đã chấp nhận cảnh báo" in first.output and "đã chấp nhận trước đó" not in first.output
    again = runner.invoke(app, [*args[:-4], "--by", "Trần Thị B", "--home", str(s.home)], env={"COLUMNS": "250"})
    assert again.exit_code == 0, again.output
    assert "đã chấp nhận trước đó" in again.output and "Nguyễn Văn A" in again.output  # the first decision stands
    js = runner.invoke(app, [*args, "--json"])
    assert json.loads(js.stdout)["already"] is True


def test_template_writes_a_blank_workbook_per_data_set(tmp_path):
    result = runner.invoke(app, ["template", "2026H1", "--unit", "LD.SYT", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("*.xlsx")) == ["SYT_6T_LD.SYT_2026H1.xlsx"]


def test_help_is_bilingual():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "báo cáo" in result.output and "reporting" in result.output
