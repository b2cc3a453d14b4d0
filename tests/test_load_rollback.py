"""A batch is loaded whole or not at all: a failure half-way through `load_batch` (a real DuckDB
constraint violation raised by a record of the batch, after the first tables were written in the
same transaction) leaves no row of the batch in any table, keeps what earlier batches loaded, and
the same batch without the bad record loads afterwards."""

from __future__ import annotations

import copy

import duckdb
import pytest

from baocao.services import cycles, process
from testing import demo
from warehouse.load import load_batch

TABLES = ("raw.submission", "raw.finding", "core.data_value", "core.task_status", "core.narrative")


def _rows(con, ids: list[str] | None = None) -> dict[str, int]:
    out = {}
    for t in TABLES:
        if ids is None:
            out[t] = con.execute(f"select count(*) from {t}").fetchone()[0]
        else:
            out[t] = con.execute(f"select count(*) from {t} where list_contains(?, submission_id)", [ids]).fetchone()[0]
    return out


@pytest.fixture
def parsed(res):
    """Half of a generated 2026H1 cycle loaded; the other half parsed, not loaded. Returns the
    resources, one cursor on the writer (held by the test throughout) and the unloaded half."""
    cycles.open_cycle(res, "2026H1")
    demo.generate(res.store.inbox, "2026H1")  # with its bad files: rejected records carry findings
    records = process.parse(res, process.collect(res))
    records.sort(key=lambda r: r.submission_id)
    second = records[1::2]
    # the unloaded half holds a rejected record with findings and a counted one with texts, whatever
    # the (random) submission ids' order
    for wanted in (lambda r: r.findings, lambda r: r.status != "rejected" and r.texts):
        if not any(wanted(r) for r in second):
            second.append(next(r for r in records if wanted(r)))
    first = [r for r in records if r not in second]
    process.load(res, first)
    return res, res.con(), second


def _duplicate_value(r):
    r.values.append(dict(r.values[0]))  # the same element twice: core.data_value's primary key


def _duplicate_task(r):
    r.tasks.append(dict(r.tasks[0]))  # the same task twice: core.task_status's primary key


@pytest.mark.parametrize(("inject", "written_before"), [
    (_duplicate_value, ("raw.submission", "raw.finding")),
    (_duplicate_task, ("raw.submission", "raw.finding", "core.data_value")),
], ids=["fails-at-data_value", "fails-at-task_status"])
def test_a_failure_inside_load_batch_leaves_no_row_of_the_batch(parsed, inject, written_before):
    res, con, batch = parsed
    ids = [r.submission_id for r in batch]
    before = _rows(con)
    assert _rows(con, ids) == dict.fromkeys(TABLES, 0)
    # the tables written before the failure really receive rows from this batch
    assert any(r.findings for r in batch) and any(r.status != "rejected" and r.texts for r in batch)
    bad = copy.deepcopy(batch)
    victim = [r for r in bad if r.status != "rejected" and r.values and r.tasks][-1]  # late in the batch
    inject(victim)

    with pytest.raises(duckdb.ConstraintException, match=f"(?i)primary key.*duplicate key \"{victim.submission_id}, "):
        load_batch(con, bad, res.now())  # on the cursor the test reads through: its own rows would show

    assert _rows(con, ids) == dict.fromkeys(TABLES, 0), "rows of the failed batch were left behind"
    assert _rows(con) == before, "rows of earlier batches changed"
    # the connection is usable and not inside a half-open transaction: the clean batch loads whole
    counts = load_batch(con, batch, res.now())
    assert counts["submissions"] == len(batch)
    after = _rows(con, ids)
    for table in (*written_before, "core.task_status", "core.narrative"):
        assert after[table] > 0, table
    assert after["core.data_value"] == sum(len(r.values) for r in batch if r.status != "rejected")
