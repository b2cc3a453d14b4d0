"""Batched enqueue: one insert for many notifications, still exactly once per key."""

import duckdb

from notifications import outbox
from notifications.render import Message
from warehouse.migrate import upgrade


def _enqueue(con, i):
    return outbox.enqueue(con, kind="reminder", period="2026H1", dataset_code="XA_6T", unit_code=f"LD.{24000 + i}",
                          stage="d-1", recipient="bc-x", message=Message(text=f"m{i}", blocks=[]), lang="vi")


def test_batch_inserts_once_and_recognises_known_keys(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    upgrade(con)
    assert _enqueue(con, 1)  # unbatched, already there
    with outbox.batch(con):
        got = [_enqueue(con, i) for i in (1, 2, 3, 3)]
        assert con.execute("select count(*) from ops.outbox").fetchone() == (1,)  # buffered
    assert got == [False, True, True, False]
    assert con.execute("select count(*) from ops.outbox").fetchone() == (3,)
    with outbox.batch(con):
        assert not any(_enqueue(con, i) for i in (1, 2, 3))
    assert con.execute("select count(*) from ops.outbox").fetchone() == (3,)


def test_batch_writes_nothing_when_the_block_fails(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    upgrade(con)
    try:
        with outbox.batch(con):
            _enqueue(con, 5)
            raise RuntimeError("render failed")
    except RuntimeError:
        pass
    assert con.execute("select count(*) from ops.outbox").fetchone() == (0,)
