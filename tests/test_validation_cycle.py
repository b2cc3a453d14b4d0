"""Validation that stays right on real data and in event-driven runs (issue 13), through the real
pipeline on real DuckDB files and the committed Great Expectations suites: peers are the cycle,
numbers are read with their element's type, the operator decides on overridable errors, periods
are respected, and target status says how much it rests on."""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

import catalog as catalog_mod
from baocao import decisions
from baocao.services import cycles, process
from baocao.settings import settings
from intake.store import store_file
from intake.template import build_template
from testing import demo

PERIOD = "2026H1"


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    """One clean 2026H1 workbook per expected unit (demo generator), kept read-only by the tests."""
    plan = demo.generate(tmp_path_factory.mktemp("forms"), PERIOD, with_problems=False)
    return plan


def _home(open_res, tmp_path: Path, name: str, periods=(PERIOD,)):
    """Live resources on a new home folder (closed after the test) with `periods` open."""
    res = open_res(settings(tmp_path / name))
    for p in periods:
        cycles.open_cycle(res, p)
    return res.settings, res


def _commune_files(plan) -> list[dict]:
    return [f for f in plan.files if f["dataset"] == "XA_6T"]


def _run(res, paths: list[tuple[str, str]], received_at: datetime | None = None):
    """Store copies of (unit, path) and process exactly them as one run (what the watcher does)."""
    s = res.settings
    stored = []
    for unit, path in paths:
        src = Path(path)
        if received_at is not None:
            copy = s.home / "incoming" / unit / src.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, copy)
            stored.append(store_file(copy, unit, s.store, received_at=received_at))
        else:
            stored.append(store_file(src, unit, s.store, move=False))
    records = process.parse(res, stored)
    stats = process.validate(res, records)
    process.load(res, records)
    return records, stats


def _write(s, unit: str, values: dict, period: str = PERIOD, name: str = "sua") -> str:
    cat = catalog_mod.load()
    tasks = demo._tasks(random.Random(unit), cat, "XA_6T", unit)
    wb = build_template(unit, period, "XA_6T", cat=cat, values=values, tasks=tasks)
    path = s.home / "made" / unit / f"{name}_{unit}_{period}.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return str(path)


def _shape(rec) -> list[tuple]:
    return [(f.severity, f.rule_id, f.element_code, f.cell, f.message_vi) for f in rec.findings]


# ------------------------------------------------------------------------------ peers: the cycle

def test_a_typo_processed_alone_is_judged_exactly_as_in_the_full_batch(forms, tmp_path, open_res):
    files = _commune_files(forms)
    typo = files[10]["unit"]
    values = dict(forms.values[typo], DOCTORS=forms.values[typo]["DOCTORS"] * 10)  # 9 typed as 90
    others = [(f["unit"], f["path"]) for f in files if f["unit"] != typo]

    # the full batch in one run
    s1, res1 = _home(open_res, tmp_path, "full")
    typo_path = _write(s1, typo, values)
    full, _ = _run(res1, others + [(typo, typo_path)])
    by_unit = {r.unit_code: r for r in full}
    flagged = [f for f in by_unit[typo].findings if f.rule_id == "W02" and f.element_code == "DOCTORS"]
    assert flagged, _shape(by_unit[typo])
    assert "trung vị của" in flagged[0].message_vi and "z vững" in flagged[0].message_vi

    # event-driven: three files first, then the rest, then the typo alone
    s2, res2 = _home(open_res, tmp_path, "events")
    typo_path2 = _write(s2, typo, values)
    first, stats = _run(res2, others[:3])
    assert "not run" in stats["peer_check"][f"XA_6T {PERIOD}"]["DOCTORS"]  # 3 units: it says it did not run
    assert not any(f.rule_id == "W02" for r in first for f in r.findings)
    _run(res2, others[3:])
    (alone,), stats = _run(res2, [(typo, typo_path2)])
    assert stats["peer_check"][f"XA_6T {PERIOD}"]["DOCTORS"].startswith("ran on")
    assert _shape(alone) == _shape(by_unit[typo])
    # a unit resending the same figures (a new version) alone: judged as in the full batch, its old
    # version replaced among the peers, not counted twice
    unit = next(u for u, p in others if p.endswith(".xlsx"))
    (resent,), _ = _run(res2, [(unit, _write(s2, unit, {k: int(v) for k, v in forms.values[unit].items()}))])
    assert _shape(resent) == _shape(by_unit[unit])

    # the typo does not move the province's figure: it is flagged, and a resubmission replaces it
    fixed_path = _write(s2, typo, forms.values[typo], name="lan2")
    (fixed,), _ = _run(res2, [(typo, fixed_path)])
    assert not [f for f in fixed.findings if f.rule_id == "W02"], _shape(fixed)


def test_peers_exclude_the_units_earlier_version():
    """A unit's new version replaces its old one among the peers (it is not counted twice)."""
    from expectations.validate import BatchItem, peer_stats

    cat = catalog_mod.load()
    counted = {f"U{i}": {"POP": 10000.0, "DOCTORS": 10.0} for i in range(30)}
    counted["U0"] = {"POP": 10000.0, "DOCTORS": 1000.0}  # its old, wrong version
    item = BatchItem("k", "U0", [{"element_code": "POP", "value": 10000.0}, {"element_code": "DOCTORS", "value": 10.0}], [])
    assert peer_stats("XA_6T", [item], cat, counted)["DOCTORS"] == (10.0, 0.0, 30)


# --------------------------------------------------------------------------- numbers as typed

def test_english_locale_counts_load_as_whole_numbers(forms, tmp_path, open_res):
    s, res = _home(open_res, tmp_path, "numbers")
    con = res.con()
    unit = _commune_files(forms)[2]["unit"]
    values = dict(forms.values[unit])
    values = {k: int(v) for k, v in values.items()}
    values["POP_INSURED"] = "11,000"
    values["POP"] = max(values["POP"], 12000)
    values["INSURED_VISITS_TOTAL"] = "19,315"
    values["INSURED_VISITS_STATION"] = "1.234"
    path = s.home / "csv" / f"{unit}.csv"
    path.parent.mkdir(parents=True)
    cat = catalog_mod.load()
    demo.write_csv(path, unit, PERIOD, "XA_6T", values, demo._tasks(random.Random(unit), cat, "XA_6T", unit), {},
                   vn_numbers=False)
    (rec,), _ = _run(res, [(unit, str(path))])
    assert rec.status.startswith("accepted"), _shape(rec)
    got = dict(con.execute("""select element_code, value from core.data_value where submission_id = ?
                              and element_code in ('POP_INSURED', 'INSURED_VISITS_TOTAL', 'INSURED_VISITS_STATION')""",
                           [rec.submission_id]).fetchall())
    assert got == {"POP_INSURED": 11000, "INSURED_VISITS_TOTAL": 19315, "INSURED_VISITS_STATION": 1234}
    raw = dict(con.execute("select element_code, value_raw from core.data_value where submission_id = ?",
                           [rec.submission_id]).fetchall())
    assert raw["POP_INSURED"] == "11,000"  # kept as typed

    # an ambiguous count is an error naming both readings and the setting behind them
    values["DOCTORS"] = "1,5"
    path2 = s.home / "csv" / f"lan2_{unit}.csv"
    demo.write_csv(path2, unit, PERIOD, "XA_6T", values, demo._tasks(random.Random(unit), cat, "XA_6T", unit), {},
                   vn_numbers=False)
    (bad,), _ = _run(res, [(unit, str(path2))])
    (f,) = [f for f in bad.findings if f.element_code == "DOCTORS"]
    assert (f.severity, f.rule_id, f.value_raw) == ("error", "V06", "1,5")
    assert "1,5" in f.message_vi and "15" in f.message_vi and "Decimal symbol" in f.expected_en
    assert "Region" in f.expected_vi


def test_rule_messages_show_values_as_typed(forms, tmp_path, open_res):
    s, res = _home(open_res, tmp_path, "typed")
    unit = _commune_files(forms)[4]["unit"]
    values = {k: int(v) for k, v in forms.values[unit].items()}
    values["LIVE_BIRTHS"] = "1.544"  # Vietnamese thousands
    values["EPI_ELIGIBLE"] = 1544
    values["EPI_FULL"] = "1.600"
    path = _write(s, unit, values)
    (rec,), _ = _run(res, [(unit, path)])
    (r01,) = [f for f in rec.findings if f.rule_id == "R01"]
    assert "«1.600»" in r01.message_vi and "EPI_ELIGIBLE = «1544»" in r01.message_vi, r01.message_vi


# ------------------------------------------------------------------------ operator and errors

def test_an_overridden_r03_unit_counts_and_is_listed(forms, tmp_path, open_res):
    from reports.data import collect
    from reports.html import render_html

    s, res = _home(open_res, tmp_path, "override")
    con = res.con()
    files = _commune_files(forms)
    unit = files[6]["unit"]
    values = {k: int(v) for k, v in forms.values[unit].items()}
    values["DEATHS_U5"] = int(values["LIVE_BIRTHS"] * 0.25) + 1  # genuine high mortality: breaks R03
    values["DEATHS_U1"] = min(values["DEATHS_U1"], values["DEATHS_U5"])
    _run(res, [(f["unit"], f["path"]) for f in files if f["unit"] != unit])
    (rec,), _ = _run(res, [(unit, _write(s, unit, values))])
    assert rec.status == "rejected" and {f.rule_id for f in rec.findings if f.severity == "error"} == {"R03"}

    with pytest.raises(ValueError, match="overridable"):
        decisions.accept_error(con, unit, PERIOD, "R01", by="Nguyễn Văn A", reason="x")
    with pytest.raises(ValueError, match="--reason"):
        decisions.accept_error(con, unit, PERIOD, "R03", by="Nguyễn Văn A", reason=" ")
    row = decisions.accept_error(con, unit, PERIOD, "R03", by="Nguyễn Văn A",
                                 reason="Đã xác minh với trạm y tế: 2 ca tử vong do dịch sởi")
    assert row["status"] == "accepted_by_override"
    assert con.execute("select decided_by, reason is not null, decided_at is not null from ops.error_override"
                       " where unit_code = ?", [unit]).fetchone() == ("Nguyễn Văn A", True, True)
    process.aggregate(res)
    assert con.execute("select status from core.current_submission where unit_code = ? and period = ?",
                       [unit, PERIOD]).fetchone() == ("accepted_by_override",)
    n = con.execute("""select units_contributing from marts.indicator_value where period = ? and level = 'province'
                       and indicator_code = 'DOCTORS_PER_10K'""", [PERIOD]).fetchone()[0]
    assert n == len(files)
    deaths = con.execute("""select value from core.current_value where unit_code = ? and period = ?
                            and element_code = 'DEATHS_U5'""", [unit, PERIOD]).fetchone()[0]
    assert deaths == values["DEATHS_U5"]

    data = collect(con, PERIOD)
    assert [(o["unit_code"], o["rule_id"], o["decided_by"], o["counts"]) for o in data.overrides] == [
        (unit, "R03", "Nguyễn Văn A", True)]
    html = render_html(data)
    assert 'id="overrides"' in html and "2 ca tử vong do dịch sởi" in html and f"{unit}/R03/DEATHS_U5" in html

    # the same figures sent again are not refused for the accepted rule
    (again,), _ = _run(res, [(unit, _write(s, unit, dict(values, NURSES=values["NURSES"] + 1), name="lan2"))])
    assert again.status == "accepted_by_override", _shape(again)
    assert any("tỉnh đã chấp nhận" in f.message_vi for f in again.findings)


def test_accept_error_on_the_command_line(forms, tmp_path, open_res):
    from typer.testing import CliRunner

    from cli.app import app

    s, wh = _home(open_res, tmp_path, "cli")
    unit = _commune_files(forms)[8]["unit"]
    values = {k: int(v) for k, v in forms.values[unit].items()}
    values["DEATHS_U5"] = int(values["LIVE_BIRTHS"] * 0.3) + 1
    _run(wh, [(unit, _write(s, unit, values))])
    wh.close()  # the command opens the warehouse's writer itself
    runner = CliRunner()
    res = runner.invoke(app, ["accept-error", "--unit", unit, "--period", PERIOD, "--rule", "R01", "--reason", "x",
                              "--by", "A", "--home", str(s.home)])
    assert res.exit_code == 1 and "overridable" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["accept-error", "--unit", unit, "--period", PERIOD, "--rule", "R03", "--reason",
                              "xác minh qua điện thoại", "--by", "Trần Thị B", "--home", str(s.home)])
    assert res.exit_code == 0, res.output
    assert "được tính vào tổng hợp" in res.output
    import duckdb

    with duckdb.connect(str(s.snapshot), read_only=True) as snap:  # analysts see the decision
        assert snap.execute("select status from core.current_submission where unit_code = ?", [unit]).fetchone() == (
            "accepted_by_override",)


# ------------------------------------------------------------------------------------- periods

def test_a_report_before_the_period_ends_is_refused_with_the_opening_date(forms, tmp_path, open_res):
    s, res = _home(open_res, tmp_path, "early", periods=("2026H2",))
    con = res.con()
    unit = _commune_files(forms)[0]["unit"]
    path = _write(s, unit, {k: int(v) for k, v in forms.values[unit].items()}, period="2026H2")
    (rec,), _ = _run(res, [(unit, path)], received_at=datetime(2026, 11, 29, 3, 0, tzinfo=UTC))
    assert rec.status == "rejected"
    (f,) = [f for f in rec.findings if f.severity == "error"]
    assert f.rule_id == "S17" and "01/01/2027" in f.message_vi and "01 Jan 2027" in f.message_en
    assert con.execute("select count(*) from core.current_submission").fetchone() == (0,)


def test_a_closed_cycle_refuses_with_the_way_to_reopen_it(forms, tmp_path, open_res):
    _, res = _home(open_res, tmp_path, "closed")
    con = res.con()
    cycles.close_cycle(res, PERIOD)
    unit = _commune_files(forms)[0]["unit"]
    (rec,), _ = _run(res, [(unit, _commune_files(forms)[0]["path"])])
    (f,) = [f for f in rec.findings if f.severity == "error"]
    assert f.rule_id == "S10" and f"baocao cycle reopen {PERIOD} --dataset XA_6T" in f.expected_vi
    decisions.reopen_cycle(con, PERIOD, "XA_6T", by="Nguyễn Văn A", reason="đơn vị mất điện cả tuần",
                           now=datetime(2026, 7, 20, tzinfo=UTC))
    f2 = _commune_files(forms)[1]
    (ok,), _ = _run(res, [(f2["unit"], f2["path"])])
    assert ok.status.startswith("accepted"), _shape(ok)
    assert con.execute("select decision, decided_by from ops.period_decision").fetchall() == [("reopen", "Nguyễn Văn A")]


def test_a_late_version_for_a_past_period_is_held_until_released(forms, tmp_path, open_res):
    s, res = _home(open_res, tmp_path, "held", periods=("2025H2", PERIOD))
    con = res.con()
    unit = _commune_files(forms)[0]["unit"]
    values = {k: int(v) for k, v in forms.values[unit].items()}
    first = _write(s, unit, values, period="2025H2", name="lan1")
    (v1,), _ = _run(res, [(unit, first)], received_at=datetime(2026, 1, 5, 3, 0, tzinfo=UTC))
    assert v1.status == "accepted", _shape(v1)
    late = _write(s, unit, dict(values, NURSES=values["NURSES"] + 3), period="2025H2", name="lan2")
    (v2,), _ = _run(res, [(unit, late)], received_at=datetime(2026, 11, 29, 3, 0, tzinfo=UTC))
    assert v2.status == "held"
    assert any(f.rule_id == "S18" and "giữ lại" in f.message_vi for f in v2.findings)
    counted = con.execute("select submission_id from core.current_submission where unit_code = ? and period = '2025H2'",
                          [unit]).fetchone()[0]
    assert counted == v1.submission_id  # history is not rewritten
    assert [r[0] for r in decisions.held(con, "2025H2")] == [v2.submission_id]
    decisions.release_held(con, v2.submission_id, by="Nguyễn Văn A", reason="đơn vị bổ sung điều dưỡng mới")
    counted = con.execute("select submission_id from core.current_submission where unit_code = ? and period = '2025H2'",
                          [unit]).fetchone()[0]
    assert counted == v2.submission_id
    with pytest.raises(ValueError):
        decisions.release_held(con, v2.submission_id, by="x", reason="y")


# ------------------------------------------------------------------------------------ coverage

def test_a_target_on_sixty_percent_coverage_shows_insufficient_data(forms, tmp_path, open_res):
    from reports.data import collect
    from reports.labels import assessment

    _, res = _home(open_res, tmp_path, "coverage")
    con = res.con()
    files = _commune_files(forms)
    n = -(-len(files) * 6 // 10)  # 60 % of the communes, rounded up: 75 of 124
    _run(res, [(f["unit"], f["path"]) for f in files[:n]])
    process.aggregate(res)
    rows = con.execute("""select tp.target_id, tp.status, tp.trajectory, tp.coverage, tp.min_coverage
                          from marts.target_progress tp join core.indicator i using (indicator_code)
                          where tp.period = ? and i.numerator = 'DOCTORS' and tp.scope_unit = 'LD'""",
                       [PERIOD]).fetchall()
    assert rows
    for _tid, status, trajectory, coverage, min_cov in rows:
        assert status == "insufficient_data" and trajectory is None
        assert coverage == pytest.approx(n / len(files), abs=1e-3) and min_cov == 0.8
    t = next(t for p in collect(con, PERIOD).plans for t in p["targets"] if t["target_id"] == rows[0][0])
    assert assessment(t)[1].startswith("Chưa đủ số liệu (60,")
    assert assessment(t, "en")[1].startswith("Insufficient data (60.")
    # with every unit the same targets are judged
    _run(res, [(f["unit"], f["path"]) for f in files[n:]])
    process.aggregate(res)
    statuses = {r[0] for r in con.execute("""select tp.status from marts.target_progress tp join core.indicator i
        using (indicator_code) where tp.period = ? and i.numerator = 'DOCTORS' and tp.scope_unit = 'LD'""",
        [PERIOD]).fetchall()}
    assert "insufficient_data" not in statuses


def test_a_past_milestone_says_which_years_data_judged_it(demo_cycle, open_res):
    """A 2025 target judged in 2026H1 without 2025 data is marked with the year it rests on."""
    from reports.data import collect
    from reports.labels import assessment

    s, _, _ = demo_cycle
    con = open_res(s).con()
    rows = con.execute("""select target_id, value_period, judged_on, status from marts.target_progress
                          where period = '2026H1' and milestone_year = 2025 and value is not null""").fetchall()
    assert rows
    for _tid, value_period, judged_on, status in rows:
        assert status in ("met", "not_met")
        assert judged_on == ("earlier_data" if value_period < "2025" else
                             "milestone_year" if value_period.startswith("2025") else "later_data"), (value_period, judged_on)
    other = [r for r in rows if r[2] in ("earlier_data", "later_data")]
    assert other  # life expectancy: the demo's statistics office reported 2024, not 2025
    targets = {t["target_id"]: t for p in collect(con, "2026H1").plans for t in p["targets"]}
    for tid, value_period, judged_on, _ in other:
        word = "trước" if judged_on == "earlier_data" else "sau"
        assert f"theo số liệu {value_period}, {word} năm mốc" in assessment(targets[tid])[1]
