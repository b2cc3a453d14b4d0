"""The warm path: a long-lived process (the Slack listener, the web answerer, the watcher's fast
path) answers a unit's file in seconds, with everything already loaded — Prefect and the stage
functions imported, the Great Expectations context built and every suite run once, the catalog
read, the parse pool's processes started.

    with warehouse_lock(res):  answer_pending(res)      # parse → validate → load → outbox, one slot
    deliver_now(res, sender)                            # the answer sent, without the warehouse

It calls the tasks' plain bodies (`task.fn`: the same code and the same events as a flow run,
without a flow run's or a task run's round trips to the Prefect API, which a SQLite-backed
server makes slow under load). Prefect still sees every file: `baocao.submission.received`,
`baocao.submission.validated`/`loaded`, `baocao.outbox.enqueued`, each labelled
`baocao.path: warm` (baocao.events), which process-submission, refresh-aggregates and
deliver-notifications ignore: a burst starts no per-file flow run competing for the slot (the
caller refreshes the snapshot when its files stop coming). The
guarantees are the flows': one writer (the `baocao-warehouse` limit, closed before release), the
parse pool's per-file time and memory bound, one transaction per load, the store's journal so a
rerun never duplicates, the outbox's keys so an answer goes out exactly once. Aggregates and the
snapshot are the caller's, when idle.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger("baocao.warm")


def warm(cat) -> float:
    """Pay the fixed costs before the first unit's file: Great Expectations' context, and each
    data set's suites run once on an empty row (a suite's first run in a process builds it, which
    takes seconds). Seconds taken."""
    from expectations import validate as validate_mod
    from expectations.validate import BatchItem, suite_exists, validate_batch

    t0 = time.perf_counter()
    validate_mod.warm()
    for ds in cat.datasets.values():
        units = cat.expected_units(ds.code)
        if not units or not suite_exists(ds.code):
            continue
        try:
            validate_batch(ds.code, [BatchItem(key="warm-up", unit_code=units[0].code, values=[], tasks=[])], {}, cat)
        except Exception:  # warming is an optimisation; a real run reports real problems
            log.warning("warming the %s suites failed", ds.code, exc_info=True)
    return time.perf_counter() - t0


def answer_pending(res, took: dict[str, float] | None = None) -> list:
    """Every pending stored file (the one just received and whatever else arrived meanwhile: a
    micro-batch) parsed, validated, loaded and its answer queued and handed to delivery. The
    caller holds the warehouse (`tasks.cycle.warehouse_lock`). Returns the records; `took`
    receives seconds per stage."""
    from baocao import events as ev
    from baocao.services import process
    from intake import answer as journal
    from tasks import cycle as t

    clock = time.perf_counter()
    took = {} if took is None else took

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        took[stage] = now - clock
        clock = now

    events = res.events
    res.events = ev.WarmEvents(events)  # this pass's events say the warm path did the work
    try:
        records = process.parse(res, process.pending(res))
        lap("parse")
        if records:
            t.validate.fn(res, records)
            lap("validate")
            t.load.fn(res, records)
            lap("load")
        if records or journal.unanswered_hint(res.store.root):  # also what a crashed run loaded, unanswered
            t.notify.fn(res, records, None)
            lap("notify")
    finally:
        res.events = events
    return records


ANSWER_DEADLINE_S = 15.0  # a warm pass's delivery stops by then; what is left is deliver-notifications'


def deliver_now(res, sender, deadline_s: float = ANSWER_DEADLINE_S) -> None:
    """One short delivery pass from the delivery store, right after the answer was handed off
    (the warehouse itself is not read; deliver-notifications may run at the same time: rows are
    leased per recipient and each is sent once). It stops by `deadline_s`, so a long queue of
    other messages (a cycle's reminders) never holds up the caller."""
    from baocao.services import deliver

    deliver.deliver(res, deadline_s, sender=sender)


def feedback_status(res, submission_ids: list[str]) -> dict[str, str]:
    """submission id -> the delivery store's status of its feedback row (pending, sent, failed…;
    missing when not handed off)."""
    db = res.outbox().db()
    out = {}
    for sid in submission_ids:
        row = db.execute("select status from outbox where key like 'feedback:%' and key like ?",
                         [f"%:{sid}"]).fetchone()
        out[sid] = row[0] if row else "missing"
    return out
