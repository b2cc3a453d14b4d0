"""No file can stop intake (issue 11): every generated hostile class (tests/hostile.py), run
through `process` and through the watcher on a real warehouse, ends as a located finding within
the time limit, the other files of the batch are loaded, the facts and marts are what the clean
files alone give, and the next run does not touch the bad file again. The isolation itself is
proved with workers that really abort, hang, exhaust their memory limit and raise."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from baocao.services import process
from baocao.settings import settings
from intake import isolate, watch
from intake import store as store_mod
from tests import hostile

CAT = hostile.CAT
NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


def _open(s):
    return hostile.resources(s.home, NOW)


def _facts(res) -> dict:
    process.aggregate(res)
    con = res.con()
    return {
        "values": con.execute("""select unit_code, element_code, value from core.data_value order by all""").fetchall(),
        # what a file's figures feed (not who was expected to report: a rejected file is a report received)
        "indicators": con.execute("""select period, indicator_code, level, org_unit_code, round(numerator, 6),
                                            round(denominator, 6), round(value, 9), units_contributing
                                     from marts.indicator_value where period = ? order by all""",
                                  [hostile.PERIOD]).fetchall(),
    }


@pytest.fixture(scope="module")
def batch():
    """(hostile cases by unit, clean units): one unit per hostile file, two clean units."""
    units = hostile.communes(len(hostile.CLASSES) + 2)
    cases = {u: fn(u) for u, fn in zip(units, hostile.CLASSES, strict=False)}
    clean = units[len(hostile.CLASSES):]
    return cases, clean


@pytest.fixture(scope="module")
def clean_facts(tmp_path_factory, batch):
    """The facts and marts of the same batch without the files that must be rejected."""
    cases, clean = batch
    s = settings(tmp_path_factory.mktemp("clean"))
    res = _open(s)
    for u in clean:
        store_mod.receive(s.store, u, hostile.workbook_bytes(u), f"{u}.xlsx", source="inbox", received_at=NOW, cat=CAT)
    for u, h in cases.items():
        if h.severity == "warning":
            store_mod.receive(s.store, u, h.data, h.file_name, source="inbox", received_at=NOW, cat=CAT)
    process.process(res)
    facts = _facts(res)
    res.close()
    assert facts["values"] and facts["indicators"]
    return facts


def _check_outcome(records, cases, clean):
    by_unit = {r.unit_code: r for r in records}
    for unit, h in cases.items():
        r = by_unit[unit]
        where = [(f.rule_id, f.severity, f.sheet, f.cell) for f in r.findings]
        assert (h.rule_id, h.severity, h.sheet, h.cell) in where, (h.name, where)
        assert not any(f.rule_id == isolate.RULE for f in r.findings), (h.name, "hit a worker limit")
        assert r.status == ("rejected" if h.severity == "error" else "accepted_with_warnings"), h.name
        for f in r.findings:  # one line each, bilingual, with the fix
            assert f.message_vi and f.message_en and f.expected_vi and f.expected_en
    for unit in clean:
        assert by_unit[unit].status != "rejected", [f.line() for f in by_unit[unit].findings]


def test_every_hostile_class_through_process(tmp_path, batch, clean_facts):
    cases, clean = batch
    s = settings(tmp_path / "home")
    res = _open(s)
    con = res.con()
    for unit, h in cases.items():
        store_mod.receive(s.store, unit, h.data, h.file_name, source="inbox", received_at=NOW, cat=CAT)
    for u in clean:
        store_mod.receive(s.store, u, hostile.workbook_bytes(u), f"{u}.xlsx", source="inbox", received_at=NOW, cat=CAT)
    records = process.process(res)  # no file hits its worker's limit: _check_outcome
    _check_outcome(records, cases, clean)
    # the rejected files add nothing to the facts or the marts
    assert _facts(res) == clean_facts
    rejected = [r.submission_id for r in records if r.status == "rejected"]
    assert con.execute("select count(*) from core.data_value where list_contains(?, submission_id)",
                       [rejected]).fetchone()[0] == 0
    # the next run touches nothing
    assert process.pending(res) == []
    assert process.process(res) == []
    res.close()


def test_every_hostile_class_through_the_watcher(tmp_path, batch):
    cases, clean = batch
    s = settings(tmp_path / "home")
    res = _open(s)
    con = res.con()
    for unit, h in cases.items():
        (s.inbox / unit).mkdir(parents=True, exist_ok=True)
        (s.inbox / unit / h.file_name).write_bytes(h.data)
    # the clean files arrive under a 241+-byte name and a name that is not UTF-8
    names = {clean[0]: hostile.LONG_NAME.encode(), clean[1]: hostile.NON_UTF8_NAME}
    for u, raw in names.items():
        (s.inbox / u).mkdir(parents=True, exist_ok=True)
        with open(os.path.join(os.fsencode(s.inbox / u), raw), "wb") as fh:
            fh.write(hostile.workbook_bytes(u))
    (s.inbox / "KHONG.PHAI.DON.VI").mkdir()  # a folder that is not a unit: reported, left alone
    (s.inbox / "KHONG.PHAI.DON.VI" / "x.xlsx").write_bytes(b"PK")
    sent = []
    report = watch.poll(s, settle_seconds=0, emit=lambda spec: sent.append(spec) or spec, cat=CAT)
    assert len(report.taken) == len(cases) + 2 and len(sent) == len(cases) + 2
    assert len(report.refused) == 1 and "KHONG.PHAI.DON.VI" in report.refused[0]
    assert (s.inbox / "KHONG.PHAI.DON.VI" / "x.xlsx").exists()
    records = process.process(res)
    _check_outcome(records, cases, clean)
    rows = dict(con.execute("""select unit_code, original_name_raw from raw.submission
                               where list_contains(?, unit_code)""", [list(names)]).fetchall())
    assert rows == names  # the exact bytes the unit sent, through pyarrow into the warehouse
    shown = dict(con.execute("select unit_code, file_name from raw.submission where list_contains(?, unit_code)",
                             [list(names)]).fetchall())
    assert shown[clean[0]] == hostile.LONG_NAME and "\ufffd" in shown[clean[1]]
    # a second poll and run touch nothing
    assert watch.poll(s, settle_seconds=0, emit=lambda spec: sent.append(spec) or spec, cat=CAT).taken == []
    assert process.process(res) == []
    res.close()


def test_p_rule_messages_name_the_file_as_sent(tmp_path):
    s = settings(tmp_path / "home")
    res = _open(s)
    unit = hostile.communes(1)[0]
    store_mod.receive(s.store, unit, b"%PDF-1.4 scanned", "Báo cáo ký số.xlsx", source="submit", received_at=NOW, cat=CAT)
    (rec,) = process.process(res)
    f = rec.findings[0]
    assert f.rule_id == "P02" and f.value_raw == "Báo cáo ký số.xlsx" and ".xlsx" in f.message_vi
    assert rec.file_name == "Báo cáo ký số.xlsx" and Path(rec.stored_path).name != rec.file_name
    res.close()


# ------------------------------------------------------------------------------ the isolation


def _misbehaving(tmp_path, kinds: list[bytes]) -> list[Path]:
    unit = hostile.communes(1)[0]
    out = []
    for i, k in enumerate(kinds):
        p = tmp_path / f"f{i}.xlsx"
        p.write_bytes(k + b"-" * 20 if k else hostile.workbook_bytes(unit))
        out.append(p)
    return out


def test_workers_that_abort_hang_overrun_or_raise_cost_only_their_file(tmp_path):
    files = _misbehaving(tmp_path, [b"", b"ABORT", b"HANG", b"", b"HOG", b"RAISE", b""])
    pool = isolate.Pool(CAT, n_workers=2, seconds=3, memory_mb=768, target=hostile.misbehaving_parse)
    try:
        started = time.monotonic()
        out = pool.parse([(p, None, f"bao cao {i}.xlsx") for i, p in enumerate(files)])
        elapsed = time.monotonic() - started
    finally:
        pool.close()
    assert elapsed < 60, elapsed  # the hang is cut at its limit (a hang would never end)
    assert [p.path for p in out] == files
    for i in (0, 3, 6):
        assert out[i].failure is None and not out[i].has_errors and out[i].values
    kinds = {i: out[i].failure.split(":")[0] for i in (1, 2, 4, 5)}
    assert kinds == {1: "signal", 2: "timeout", 4: "memory", 5: "error"}
    assert "SIGABRT" in out[1].failure
    for i in (1, 2, 4, 5):
        (f,) = out[i].findings
        assert f.rule_id == "P08" and f.message_vi.startswith("Tệp không đọc được —")
        assert "lưu lại bằng Excel" in f.expected_vi and f.value_raw == f"bao cao {i}.xlsx"
    assert pool.replaced >= 2  # the aborted one (twice: it is retried once) and the hung one


def test_a_file_that_breaks_its_worker_is_quarantined_answered_and_never_parsed_again(tmp_path, monkeypatch):
    s = settings(tmp_path / "home")
    res = _open(s)
    units = hostile.communes(3)
    pool = isolate.Pool(CAT, n_workers=2, seconds=3, target=hostile.misbehaving_parse)
    monkeypatch.setattr(isolate, "pool", lambda cat, *limits: pool)
    try:
        bad = store_mod.receive(s.store, units[0], b"ABORT" + b"-" * 40, "so_lieu.xlsx", source="inbox",
                                received_at=NOW, cat=CAT)
        hang = store_mod.receive(s.store, units[1], b"HANG" + b"-" * 40, "treo.xlsx", source="inbox",
                                 received_at=NOW, cat=CAT)
        store_mod.receive(s.store, units[2], hostile.workbook_bytes(units[2]), "tot.xlsx", source="inbox",
                          received_at=NOW, cat=CAT)
        records = {r.unit_code: r for r in process.process(res)}
        assert records[units[2]].status == "accepted"
        for unit, sf in ((units[0], bad), (units[1], hang)):
            r = records[unit]
            assert r.status == "rejected" and r.findings[0].rule_id == "P08"
            assert not sf.path.exists() and Path(r.stored_path).parent.name == store_mod.QUARANTINE
        assert {q["submission_id"] for q in store_mod.quarantined(s.store)} == {bad.submission_id, hang.submission_id}
        replaced = pool.replaced
        # receiving the same bytes again does not bring it back, and no later run parses it
        again = store_mod.receive(s.store, units[0], b"ABORT" + b"-" * 40, "so_lieu (1).xlsx", source="inbox",
                                  received_at=NOW, cat=CAT)
        assert again.duplicate and not again.path.exists()
        assert process.process(res) == []
        assert pool.replaced == replaced
    finally:
        pool.close()
        res.close()
