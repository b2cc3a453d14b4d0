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
    s, plan, _ = demo_cycle
    unit = next(f["unit"] for f in plan.files if f["kind"] == "resubmit_first")
    result = runner.invoke(app, ["history", "--unit", unit, "--period", "2026H1", "--home", str(s.home)])
    assert result.exit_code == 0, result.output
    assert "rejected" in result.output and "accepted" in result.output


def test_template_writes_a_blank_workbook_per_data_set(tmp_path):
    result = runner.invoke(app, ["template", "2026H1", "--unit", "LD.SYT", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("*.xlsx")) == ["SYT_6T_LD.SYT_2026H1.xlsx"]


def test_help_is_bilingual():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "báo cáo" in result.output and "reporting" in result.output
