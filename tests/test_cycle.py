"""The demo cycle end to end, through the real flow under Prefect's test harness, on a real
DuckDB file and the committed Great Expectations suites."""

from __future__ import annotations

import duckdb
import pytest

from baocao.services import operator, process
from intake.parse import parse_file
from testing import demo


def _snap(s):
    return duckdb.connect(str(s.snapshot), read_only=True)


def test_province_ratio_matches_an_independent_computation(demo_cycle):
    """Doctors per 10,000: sum of doctors / sum of population over the accepted files, computed
    here from the generated files themselves (values the generator wrote)."""
    s, plan, _ = demo_cycle
    accepted = {u: v for u, v in plan.values.items() if "DOCTORS" in v}
    doctors = sum(v["DOCTORS"] for v in accepted.values())
    pop = sum(v["POP"] for v in accepted.values())
    with _snap(s) as con:
        value, n = con.execute("""select value, units_contributing from marts.indicator_value
            where period = '2026H1' and level = 'province' and indicator_code = 'DOCTORS_PER_10K'""").fetchone()
    assert n == len(accepted)
    assert value == pytest.approx(doctors / pop * 10000, rel=1e-9)


def test_bad_input_is_rejected_with_a_located_reason_and_nothing_loaded(demo_cycle):
    s, plan, _ = demo_cycle
    assert set(plan.bad.values()) >= {"P02", "S03", "S04", "V01", "R01"}
    with _snap(s) as con:
        for unit, rule in plan.bad.items():
            rows = con.execute("""select s.submission_id, s.status, f.rule_id, f.sheet, f.cell, f.message_vi, f.expected_vi
                from raw.submission s join raw.finding f using (submission_id)
                where s.unit_code = ? and s.period = '2026H1' and f.severity = 'error'""", [unit]).fetchall()
            assert rows, unit
            assert {r[1] for r in rows} == {"rejected"}
            assert rule in {r[2] for r in rows}, (unit, rows)
            for sid, *_ , msg, exp in rows:
                assert msg and exp
                # nothing of a rejected version reaches the facts
                assert con.execute("select count(*) from core.data_value where submission_id = ?", [sid]).fetchone()[0] == 0
                assert con.execute("select count(*) from core.task_status where submission_id = ?", [sid]).fetchone()[0] == 0
            # the unit is told, in its own channel, with the finding
            fb = con.execute("""select text, recipient from ops.outbox where unit_code = ? and period = '2026H1'
                                and kind like 'feedback%'""", [unit]).fetchall()
            assert fb, unit
            assert any("bc-" + unit.lower().replace(".", "-") == r for _, r in fb)
        located = con.execute("""select f.sheet, f.cell from raw.finding f join raw.submission s using (submission_id)
            where s.unit_code = ? and f.rule_id = 'V01'""", [next(u for u, r in plan.bad.items() if r == "V01")]).fetchone()
        assert located == ("Số liệu", "D6")


def test_resubmission_supersedes_and_history_is_kept(demo_cycle):
    s, plan, _ = demo_cycle
    unit = next(f["unit"] for f in plan.files if f["kind"] == "resubmit_first")
    with _snap(s) as con:
        versions = con.execute("""select version, status from raw.submission where unit_code = ? and period = '2026H1'
                                  order by version""", [unit]).fetchall()
        assert versions == [(1, "rejected"), (2, "accepted")] or versions[-1][1].startswith("accepted")
        assert versions[0][1] == "rejected"
        current = con.execute("""select version from core.current_submission where unit_code = ? and period = '2026H1'""",
                              [unit]).fetchone()[0]
        assert current == len(versions)


def test_completeness_in_the_snapshot_matches_the_generator(demo_cycle):
    s, plan, _ = demo_cycle
    with _snap(s) as con:
        expected, received, accepted, late, _missing = con.execute("""select expected, received, accepted, late, missing
            from marts.reporting_rate where period = '2026H1' and dataset_code = 'XA_6T'""").fetchone()
        missing_units = {r[0] for r in con.execute("""select unit_code from marts.reporting_completeness
            where period = '2026H1' and dataset_code = 'XA_6T' and is_missing""").fetchall()}
    bad_units = set(plan.bad)
    assert expected == 124
    assert received == 124 - len(plan.missing)
    assert missing_units == set(plan.missing) | bad_units
    assert accepted == expected - len(missing_units)
    assert late == len([u for u in plan.late if u not in bad_units])


def test_demo_summary_reads_the_same_numbers_as_the_snapshot(demo_cycle, open_res):
    from cli import summary

    s, _, _ = demo_cycle
    live = open_res(s).con()
    with _snap(s) as snap:
        assert summary.completeness(live, "2026H1") == summary.completeness(snap, "2026H1")
        assert summary.indicators(live, "2026H1") == summary.indicators(snap, "2026H1")


def _outbox(con) -> dict[str, tuple]:
    cols = [r[0] for r in con.execute("select column_name from duckdb_columns() where schema_name = 'ops'"
                                      " and table_name = 'outbox' order by column_index").fetchall()]
    return {r[0]: dict(zip(cols, r, strict=True)) for r in con.execute("select * from ops.outbox").fetchall()}


def _loaded(con) -> dict[str, list]:
    return {
        "submissions": con.execute("select submission_id, unit_code, period, dataset_code, version, status"
                                   " from raw.submission order by all").fetchall(),
        "findings": con.execute("select submission_id, seq, rule_id, cell from raw.finding order by all").fetchall(),
        "values": con.execute("select submission_id, element_code, value from core.data_value order by all").fetchall(),
        "tasks": con.execute("select submission_id, plan_code, task_no, status from core.task_status"
                             " order by all").fetchall(),
    }


def test_rerun_never_duplicates(demo_copy, prefect_harness, open_res):
    """The same files dropped again and the cycle run again: the warehouse and the outbox are
    exactly as they were, row for row; the only row the rerun may add is the operator's summary of
    today (its stage is the date), if the first run's summary was of another day."""
    from baocao import calendar
    from flows.cycle import reporting_cycle

    s, _ = demo_copy
    res = open_res(s)
    con = res.con()
    loaded, outbox = _loaded(con), _outbox(con)
    assert loaded["submissions"] and loaded["values"] and outbox
    # the same files dropped again land in the store under the same ids and are recognised
    for f in sorted(s.store.glob("*/*"))[:5]:
        (s.inbox / f.parent.name).mkdir(parents=True, exist_ok=True)
        (s.inbox / f.parent.name / f.name.split("__", 1)[1]).write_bytes(f.read_bytes())
    def today() -> str:
        return res.now().astimezone(calendar.TZ).strftime("%Y-%m-%d")

    days = {today()}
    result = reporting_cycle("2026H1", resources=res)
    days.add(today())
    assert result["collected"] == 5
    assert _loaded(con) == loaded
    after = _outbox(con)
    assert {k: after.get(k) for k in outbox} == outbox, "a row of the outbox changed or vanished"
    added = {k: v for k, v in after.items() if k not in outbox}
    allowed = {k for k, v in added.items() if v["kind"] == "operator_summary" and v["unit_code"] == "OPERATOR"
               and v["period"] == "2026H1" and v["stage"] in days}
    assert set(added) == allowed, f"the rerun queued {sorted(set(added) - allowed)}"


def test_every_generated_good_file_parses_cleanly(tmp_path):
    plan = demo.generate(tmp_path / "inbox", "2026H1")
    for f in plan.files:
        p = parse_file(__import__("pathlib").Path(f["path"]), inbox_unit=f["unit"])
        if f["kind"] in ("ok", "outlier", "resubmit", "rule"):
            assert not p.findings, (f, [x.line() for x in p.findings])


@pytest.fixture
def demo_copy(demo_cycle, tmp_path):
    """A private copy of the demo's home, for tests that add versions (the session's demo stays as
    generated for the other tests)."""
    import shutil

    from baocao.settings import settings

    s, plan, _ = demo_cycle
    shutil.copytree(s.home, tmp_path / "home")
    copy = settings(tmp_path / "home")
    yield copy, plan


def test_operator_accepts_a_warning_and_the_unit_is_not_warned_again(demo_copy, open_res):
    s, _ = demo_copy
    res = open_res(s)
    con = res.con()
    unit, element, rule = con.execute("""select s.unit_code, f.element_code, f.rule_id from raw.finding f
        join raw.submission s using (submission_id) where s.period = '2026H1' and f.severity = 'warning'
        order by 1 limit 1""").fetchone()
    operator.accept_warning(res, unit, "2026H1", element, rule, by="operator@ld", reason="đã xác minh qua điện thoại")
    assert con.execute("select accepted_by from ops.warning_acceptance where unit_code = ? and element_code = ?",
                       [unit, element]).fetchone() == ("operator@ld",)
    # the unit sends the same figures again (a new file): the accepted warning is not raised again
    current = con.execute("select stored_path from core.current_submission where unit_code = ? and period = '2026H1'"
                          " and dataset_code = 'XA_6T'", [unit]).fetchone()[0]
    import openpyxl

    from intake.store import store_file

    copy = s.home / "resend" / ("lan2_" + current.split("__", 1)[1])
    copy.parent.mkdir(exist_ok=True)
    wb = openpyxl.load_workbook(current)  # same figures, a different file (new hash)
    wb["Thông tin"]["B9"] = "người lập: kế toán"
    wb.save(copy)
    stored = store_file(copy, unit, s.store)
    (rec,) = process.process(res, files=[stored])
    assert not any(f.rule_id == rule and f.element_code == element for f in rec.findings), [f.line() for f in rec.findings]
    assert [v[2] for v in operator.versions(con, unit, "2026H1")] == list(range(1, len(operator.versions(con, unit, "2026H1")) + 1))
    with pytest.raises(ValueError):
        operator.accept_warning(res, unit, "2026H1", "POP", "W99", by="x")


def test_units_get_their_workbook_back_annotated(demo_cycle, open_res):
    import openpyxl

    s, plan, _ = demo_cycle
    unit = next(u for u, r in plan.bad.items() if r == "V01")
    files = sorted((s.feedback / "2026H1" / unit).glob("*_kiem_tra_*.xlsx"))
    assert files, "the annotated copy is written for a rejected workbook"
    wb = openpyxl.load_workbook(files[-1])
    assert wb.sheetnames[0] == "Kết quả kiểm tra"
    cell = wb["Số liệu"]["D6"]
    assert cell.comment is not None and "chữ" in cell.comment.text
    con = open_res(s).con()
    text = con.execute("select blocks_json from ops.outbox where unit_code = ? and kind = 'feedback' and period = '2026H1'",
                       [unit]).fetchone()[0]
    assert files[-1].name in text  # the message points at it


def test_offline_data_docs_for_the_cycle(demo_cycle, open_res):
    import re

    s, _, _ = demo_cycle
    index = operator.build_data_docs(open_res(s), "2026H1")
    assert index.exists()
    html = "".join(p.read_text(encoding="utf-8") for p in index.parent.rglob("*.html"))
    assert "XA_6T" in html
    assert not re.search(r"<(?:link|script|img)[^>]+(?:src|href)=[\"']https?://", html)
