"""`store/.recorded`: a triggered run that has nothing to do says so without the warehouse.

Under a burst every `submission.received` event starts a run; the first takes every pending file.
The others must not queue for the single writer slot (that queue once kept a unit's answer 63 s),
so they read the store's journal of recorded submission ids. The journal may only ever say less
than the warehouse holds: when it cannot tell, the run asks the warehouse as before."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from baocao.services import cycles, process
from intake import store as store_mod
from testing import demo


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    """Two valid commune workbooks of 2026H1 (from the demo generator)."""
    inbox = tmp_path_factory.mktemp("gen") / "inbox"
    demo.generate(inbox, "2026H1", with_problems=False)
    files = sorted(inbox.glob("LD.2*/*.xlsx"))[:2]
    assert len(files) == 2
    return files


def _drop(s, path):
    dest = s.inbox / path.parent.name / path.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, dest)


def test_journal_tracks_the_warehouse(home, res, two_files):
    s = home
    cycles.open_cycle(res, "2026H1", datasets=["XA_6T"])
    assert not process.nothing_pending(res)  # no journal yet: unsure, so not "nothing"

    _drop(s, two_files[0])
    process.collect(res)
    assert not process.nothing_pending(res)
    records = process.process(res)
    assert [r.status for r in records] == ["accepted"]
    assert process.nothing_pending(res)

    _drop(s, two_files[1])
    process.collect(res)
    left = store_mod.unrecorded(s.store, s.db_path)
    assert [f.unit_code for f in left] == [two_files[1].parent.name]
    assert not process.nothing_pending(res)
    process.process(res)
    assert process.nothing_pending(res)

    # a journal written for another warehouse file is not believed
    res.close()
    moved = s.db_path.with_suffix(".old")
    s.db_path.rename(moved)
    shutil.copy2(moved, s.db_path)  # same content, a new file
    assert store_mod.unrecorded(s.store, s.db_path) is None
    assert not process.nothing_pending(res)
    assert process.pending(res) == []  # asking the warehouse rewrites it
    assert process.nothing_pending(res)


@pytest.mark.timeout(300)  # only catches a hang: a run that waited for the lock would wait forever
def test_triggered_run_with_nothing_pending_leaves_the_warehouse_alone(home, res, two_files, prefect_harness,
                                                                        monkeypatch):
    """While another process holds the DuckDB file (until this test lets it go), a duplicate
    trigger and an untriggered pass with nothing pending finish without opening the warehouse."""
    from flows.cycle import process_submissions

    monkeypatch.setenv("BAOCAO_LOCK_WAIT", "2")  # a writer waits this long for the lock, then says who holds it

    s = home
    cycles.open_cycle(res, "2026H1", datasets=["XA_6T"])
    _drop(s, two_files[0])
    first = process_submissions(str(s.home), refresh=False)
    assert first["processed"] == 1
    res.close()

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.read()",
         str(s.db_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        sid = first["statuses"][0][0]
        again = process_submissions(str(s.home), refresh=False, submission_id=sid, triggered_by="test")
        assert again["processed"] == 0  # a duplicate trigger: its submission is recorded
        assert process_submissions(str(s.home), refresh=False)["processed"] == 0  # an untriggered pass
        assert holder.poll() is None, "the lock was held throughout"
        # with a file pending it must open the warehouse, and the other writer makes that fail loudly
        _drop(s, two_files[1])
        with pytest.raises(Exception, match=r"lock|Conflicting"):
            process_submissions(str(s.home), refresh=False)
        # a trigger for a submission the journal does not list must open the warehouse too
        with pytest.raises(Exception, match=r"lock|Conflicting"):
            process_submissions(str(s.home), refresh=False, submission_id="not-recorded-yet")
    finally:
        holder.stdin.close()
        holder.kill()
        holder.wait()
    assert process_submissions(str(s.home), refresh=False)["processed"] == 1
