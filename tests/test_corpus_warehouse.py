"""Every hostile file, through the whole pipeline into a real warehouse: each rejected file is
recorded with its located finding and changes nothing else; each clean one loads."""

from __future__ import annotations

import shutil

import pytest

from baocao import pipeline
from intake.store import file_sha256, submission_id
from tests.corpus import write_corpus

FACTS = ("core.data_value", "core.task_status", "core.narrative")


def _facts(con) -> dict:
    return {t: con.execute(f"select count(*), coalesce(sum(hash(columns(*))), 0) from {t}").fetchall() for t in FACTS}


@pytest.fixture
def warehouse(home):
    con = pipeline.connection(home)
    pipeline.open_cycle(con, "2026H1")
    return home, con


def test_rejected_files_leave_the_warehouse_unchanged(warehouse, tmp_path):
    s, con = warehouse
    corpus = write_corpus(tmp_path / "corpus")
    bad = {name: (path, exp) for name, (path, exp) in corpus.items() if exp["rule_id"]}
    assert len(bad) >= 20
    # one accepted version first, so that there is something a bad file could damage
    clean_path, clean = corpus["clean_xlsx"]
    (s.inbox / clean["inbox_unit"]).mkdir(parents=True, exist_ok=True)
    shutil.copy(clean_path, s.inbox / clean["inbox_unit"] / clean_path.name)
    pipeline.collect(s)
    first = pipeline.process(con, s)
    assert [r.status for r in first] == ["accepted"]
    pipeline.aggregate(con)
    before = _facts(con)
    marts_before = con.execute("select * from marts.indicator_value order by all").fetchall()
    for name, (path, exp) in sorted(bad.items()):
        unit = exp["inbox_unit"]
        (s.inbox / unit).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, s.inbox / unit / path.name)
        pipeline.collect(s)
        records = pipeline.process(con, s)
        assert len(records) == 1, name
        rec = records[0]
        assert rec.status == "rejected", (name, [f.line() for f in rec.findings])
        row = con.execute("select status, n_errors from raw.submission where submission_id = ?",
                          [rec.submission_id]).fetchone()
        assert row[0] == "rejected" and row[1] >= 1, name
        found = con.execute("select rule_id, sheet, cell from raw.finding where submission_id = ? and severity = 'error'",
                            [rec.submission_id]).fetchall()
        assert exp["rule_id"] in {r[0] for r in found}, (name, found)
        if exp.get("cell"):
            assert (exp["rule_id"], exp["sheet"], exp["cell"]) in found, (name, found)
        assert _facts(con) == before, name
    pipeline.aggregate(con)
    assert con.execute("select * from marts.indicator_value order by all").fetchall() == marts_before


def test_clean_variants_load(warehouse, tmp_path):
    s, con = warehouse
    corpus = write_corpus(tmp_path / "corpus")
    clean = {name: (path, exp) for name, (path, exp) in corpus.items() if not exp["rule_id"]}
    for name, (path, exp) in sorted(clean.items()):
        unit = exp["inbox_unit"]
        (s.inbox / unit).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, s.inbox / unit / path.name)
        pipeline.collect(s)
        records = pipeline.process(con, s)
        if not records:  # the very same bytes as an earlier case: recognised, not processed twice
            sid = submission_id(unit, file_sha256(path))
            assert con.execute("select count(*) from raw.submission where submission_id = ?", [sid]).fetchone() == (1,)
            continue
        (rec,) = records
        assert rec.status.startswith("accepted"), (name, [f.line() for f in rec.findings])
        # the latest accepted version counts; every version stays in history
        n = con.execute("select count(*) from raw.submission where unit_code = ?", [unit]).fetchone()[0]
        current = con.execute("select submission_id from core.current_submission where unit_code = ? and period = '2026H1'",
                              [unit]).fetchone()
        assert current == (rec.submission_id,)
        assert n >= 1
