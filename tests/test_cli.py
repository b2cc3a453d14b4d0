"""The operator's command line, through typer's runner on the demo's warehouse."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()


def test_cycle_status_shows_the_warehouse_counts(demo_cycle, open_res):
    s, plan, _ = demo_cycle
    result = runner.invoke(app, ["cycle", "status", "2026H1", "--home", str(s.home)])
    assert result.exit_code == 0, result.output
    con = open_res(s).con()
    for ds, *counts in con.execute("""select dataset_code, expected, received, accepted, on_time, late, missing
                                      from marts.reporting_rate where period = '2026H1'""").fetchall():
        row = next(line for line in result.output.splitlines() if re.search(rf"\b{ds}\b\s*│", line))
        assert [int(x) for x in re.findall(r"\d+", row.split(ds, 1)[1])] == counts, row
    for unit in plan.missing:
        assert unit in result.output


def test_history_lists_every_version(demo_cycle):
    """One line per version, in order, each with its period, data set, version, file name, status,
    error count, whether it counts and its submission id; checked against the files the unit
    sent (the generator's list and the bytes in the store), not the warehouse."""
    import hashlib
    from pathlib import Path

    s, plan, _ = demo_cycle
    unit = next(f["unit"] for f in plan.files if f["kind"] == "resubmit_first")
    sent = sorted((f for f in plan.files if f["unit"] == unit), key=lambda f: f["received_at"])
    ids = {hashlib.sha256(f"{unit}|{hashlib.sha256(p.read_bytes()).hexdigest()}".encode()).hexdigest()[:20]
           for p in (s.store / unit).iterdir() if p.suffix != ".json"}
    result = runner.invoke(app, ["history", "--unit", unit, "--period", "2026H1", "--home", str(s.home)],
                           env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == len(sent) == 2, result.output
    rows = [re.split(r" {2,}", line.strip()) for line in lines]
    assert all(len(r) == 10 for r in rows), rows
    period, dataset, version, name, _received, status, errors, _warnings, counts, sid = zip(*rows, strict=True)
    assert period == ("2026H1", "2026H1")
    assert dataset == (sent[0]["dataset"], sent[1]["dataset"])
    assert version == ("1", "2")
    assert name == tuple(Path(f["path"]).name for f in sent)
    assert status[0] == "rejected" and status[1] in ("accepted", "accepted_with_warnings")
    assert int(errors[0]) > 0 and errors[1] == "0"
    assert counts == ("False", "True")
    assert set(sid) <= ids and len(set(sid)) == 2  # the ids of two of the files the unit stored


def test_template_writes_a_blank_workbook_per_data_set(tmp_path):
    result = runner.invoke(app, ["template", "2026H1", "--unit", "LD.SYT", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("*.xlsx")) == ["SYT_6T_LD.SYT_2026H1.xlsx"]


def test_help_is_bilingual():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "báo cáo" in result.output and "reporting" in result.output
