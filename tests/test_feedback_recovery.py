"""Feedback is never lost: `baocao process` is killed (SIGKILL, a real subprocess) right after
the load commits — the submissions are recorded, no answer is queued, no annotated workbook is
written. The next run answers every one of them and writes the workbook, once; a third run adds
nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from baocao.settings import settings
from intake import answer
from intake import store as store_mod
from tests import hostile

CAT = hostile.CAT
NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


def _process(home: Path, **env) -> subprocess.CompletedProcess:
    from prefect.settings import get_current_settings

    full = dict(os.environ, PREFECT_API_URL=str(get_current_settings().api.url), **env)
    full.pop("SLACK_BOT_TOKEN", None)
    return subprocess.run([str(Path(sys.executable).parent / "baocao"), "process", "--home", str(home)],
                          capture_output=True, text=True, env=full, timeout=600)


def _state(s) -> tuple[int, list, list]:
    con = duckdb.connect(str(s.db_path), read_only=True)
    try:
        n = con.execute("select count(*) from raw.submission").fetchone()[0]
        fb = con.execute("""select stage, count(*) from ops.outbox where kind = 'feedback'
                            group by stage order by stage""").fetchall()
    finally:
        con.close()
    books = sorted(p.name for p in s.feedback.rglob("*_kiem_tra_*.xlsx"))
    return n, fb, books


def test_a_run_killed_after_the_load_is_answered_by_the_next_run(tmp_path, prefect_harness):
    s = settings(tmp_path / "home")
    hostile.resources(s.home, NOW).close()  # the cycle open
    units = hostile.communes(3)
    assert all(u in CAT.recipients for u in units)
    for u in units[:2]:
        store_mod.receive(s.store, u, hostile.workbook_bytes(u), f"{u}.xlsx", source="inbox", received_at=NOW, cat=CAT)
    bad = hostile.workbook_bytes(units[2], values=dict(hostile.values_for(units[2]), POP="chưa có số liệu"))
    store_mod.receive(s.store, units[2], bad, "bao_cao_sai.xlsx", source="inbox", received_at=NOW, cat=CAT)

    killed = _process(s.home, **{answer.KILL_AFTER_LOAD: "1"})
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-2000:] + killed.stderr[-2000:]
    n, fb, books = _state(s)
    assert n == 3 and fb == [] and books == []  # recorded, unanswered: what a crash used to lose for good
    assert answer.unanswered_hint(s.store)

    again = _process(s.home)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    n, fb, books = _state(s)
    ids = [f.submission_id for f in store_mod.store_files(s.store)]
    assert n == 3 and fb == [(sid, 1) for sid in sorted(ids)]  # every unit answered, once
    assert len(books) == 1 and "bao_cao_sai" in books[0]      # the rejected unit's annotated workbook
    assert not answer.unanswered_hint(s.store)

    third = _process(s.home)
    assert third.returncode == 0
    assert _state(s) == (n, fb, books)
