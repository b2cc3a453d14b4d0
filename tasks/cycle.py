"""Tasks of a reporting cycle. Work is done in batches (one task run per stage, not per file):
the Prefect server records only ~40 task runs a second, and one validation over the whole batch is
far cheaper than one per file.

Each task wraps plain functions (baocao.pipeline, tasks.plan) and emits baocao's
events (baocao.events) for what it did; emitting never fails a task.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from baocao import events as ev
from baocao import pipeline
from baocao.settings import Settings
from intake import answer
from tasks import plan

# ------------------------------------------------------------------------------ warehouse lock

LIMIT_ENV = "BAOCAO_WAREHOUSE_LIMIT"
_LOCK_DEPTH = 0


@contextlib.contextmanager
def warehouse_lock() -> Iterator[None]:
    """Hold the global concurrency limit named by $BAOCAO_WAREHOUSE_LIMIT (limit 1) while a flow
    uses the warehouse: DuckDB allows one writer process, and each deployment run is its own
    process. Re-entrant within a process (close-cycle runs process-submissions as a subflow).
    Before the slot is released the process's connections are closed, so the next run can open
    the file. Without the variable (in-process runs: make demo, tests) it does nothing."""
    global _LOCK_DEPTH
    name = os.environ.get(LIMIT_ENV, "").strip()
    if not name or _LOCK_DEPTH:
        _LOCK_DEPTH += 1
        try:
            yield
        finally:
            _LOCK_DEPTH -= 1
        return
    from prefect.concurrency.sync import concurrency

    with concurrency(name, occupy=1, lease_duration=120):
        _LOCK_DEPTH += 1
        try:
            yield
        finally:
            _LOCK_DEPTH -= 1
            pipeline.close_connections()


# ------------------------------------------------------------------------------------ cycles


@task(name="open-cycle", cache_policy=NO_CACHE)
def open_cycle(s: Settings, period: str, now: datetime | None = None, datasets: list[str] | None = None) -> list[dict]:
    rows = pipeline.open_cycle(pipeline.connection(s), period, datasets=datasets, now=now)
    ev.emit_all(ev.cycle_opened(r) for r in rows)
    return rows


@task(name="due-period", cache_policy=NO_CACHE)
def due_period(kind: str, semantic: str, now: datetime | None = None) -> tuple[str, list[str]]:
    """The period an open pass opens at `now`, and the data sets it opens."""
    import catalog

    now = now or pipeline.now_utc()
    return plan.period_to_open(now, kind, semantic), plan.datasets_to_open(catalog.load(), kind, semantic)


@task(name="open-cycles", cache_policy=NO_CACHE)
def open_rows(s: Settings, period: str | None = None) -> list[plan.CycleRow]:
    return plan.open_rows(plan.cycle_rows(pipeline.connection(s)), period)


@task(name="cycle-events", cache_policy=NO_CACHE)
def cycle_events(rows: list[plan.CycleRow], now: datetime | None = None) -> list[str]:
    """deadline.approaching / deadline.passed events due since the previous daily pass."""
    specs = plan.due_cycle_events(rows, now or pipeline.now_utc())
    ev.emit_all(specs)
    return [f"{s.event} {s.resource_id}" for s in specs]


@task(name="cycles-to-close", cache_policy=NO_CACHE)
def to_close(s: Settings, period: str | None = None, now: datetime | None = None) -> list[plan.CycleRow]:
    """Every open data set of `period`, or without it each one whose deadline + grace has passed."""
    rows = plan.open_rows(plan.cycle_rows(pipeline.connection(s)), period)
    return rows if period else plan.due_closings(rows, now or pipeline.now_utc())


@task(name="close-cycle", cache_policy=NO_CACHE)
def close_cycle(s: Settings, rows: list[plan.CycleRow], now: datetime | None = None) -> list[tuple[str, str]]:
    closed = plan.close_rows(pipeline.connection(s), rows, now or pipeline.now_utc())
    ev.emit_all(ev.cycle_closed(r.period, r.dataset_code, r.deadline_at, r.closed_at) for r in closed)
    return [(r.period, r.dataset_code) for r in closed]


# ----------------------------------------------------------------------------------- process


@task(name="collect", cache_policy=NO_CACHE)
def collect(s: Settings) -> int:
    return len(pipeline.collect(s))


@task(name="nothing-pending", cache_policy=NO_CACHE)
def nothing_pending(s: Settings, submission_id: str | None = None) -> bool:
    return pipeline.nothing_pending(s, submission_id)


@task(name="parse", cache_policy=NO_CACHE)
def parse(s: Settings) -> list:
    con = pipeline.connection(s)
    return pipeline.parse(pipeline.pending(con, s), con)


@task(name="validate", cache_policy=NO_CACHE)
def validate(s: Settings, records: list) -> dict:
    stats = pipeline.validate(records, pipeline.connection(s))
    ev.emit_all(ev.submission_outcome(r) for r in records)
    return stats


@task(name="validation-chunks", cache_policy=NO_CACHE)
def validation_chunks(s: Settings, records: list) -> list:
    """Cut the batch into chunks to validate (one per data set unless BAOCAO_VALIDATION_CHUNK)."""
    from baocao import runners

    return pipeline.validation_chunks(records, pipeline.connection(s), chunk_size=runners.chunk_size())


@task(name="validate-chunk", cache_policy=NO_CACHE)
def validate_chunk(chunk) -> tuple:
    """One Great Expectations run over a chunk; no warehouse, so it can run on any worker."""
    return pipeline.validate_chunk(chunk)


@task(name="apply-validation", cache_policy=NO_CACHE)
def apply_validation(s: Settings, records: list, chunks: list, results: list) -> dict:
    stats = pipeline.apply_validation(records, chunks, results, pipeline.connection(s))
    ev.emit_all(ev.submission_outcome(r) for r in records)
    return stats


@task(name="load", cache_policy=NO_CACHE, retries=1)
def load(s: Settings, records: list) -> dict:
    from warehouse.load import known_ids

    con = pipeline.connection(s)
    before = known_ids(con, [r.submission_id for r in records])
    answer.mark_loading(s, [r.submission_id for r in records if r.submission_id not in before])
    counts = pipeline.load(con, records)
    pipeline.note_recorded(s, records)
    answer.after_load()
    new = {r.submission_id: r for r in records if r.submission_id not in before}
    versions = plan.versions(con, list(new))
    ev.emit_all(ev.submission_loaded(r, versions.get(sid)) for sid, r in new.items())
    return counts


@task(name="aggregate", cache_policy=NO_CACHE)
def aggregate(s: Settings) -> list[str]:
    return pipeline.aggregate(pipeline.connection(s))


@task(name="notify", cache_policy=NO_CACHE)
def notify(s: Settings, records: list, period: str | None, now: datetime | None = None) -> dict:
    """Enqueue what is due and deliver it now (feedback on a submission should not wait)."""
    queued = enqueue.fn(s, records, period, now)
    write_feedback.fn(s, records)
    return {**queued, "dispatch": dispatch.fn(s)}


@task(name="write-feedback-files", cache_policy=NO_CACHE)
def write_feedback(s: Settings, records: list) -> int:
    """The annotated workbooks the feedback messages link to."""
    return pipeline.write_feedback_files(s, records)


@task(name="enqueue-notifications", cache_policy=NO_CACHE)
def enqueue(s: Settings, records: list, period: str | None, now: datetime | None = None) -> dict:
    """Write the due notifications into the outbox (exactly-once keys); fast, no network."""
    con = pipeline.connection(s)
    n_feedback = pipeline.enqueue_feedback(con, s, records)
    n_schedule = pipeline.enqueue_schedule(con, period, now) if period else 0
    return {"feedback": n_feedback, "scheduled": n_schedule}


@task(name="dispatch-notifications", cache_policy=NO_CACHE)
def dispatch(s: Settings):
    """Deliver the outbox (Slack when configured; otherwise rows stay for `baocao outbox`)."""
    return pipeline.dispatch(pipeline.connection(s))


@task(name="publish", cache_policy=NO_CACHE)
def publish(s: Settings, models: list[str] | None = None) -> str:
    snapshot = str(pipeline.publish_all(pipeline.connection(s), s))
    ev.emit(ev.aggregates_published(snapshot, models or []))
    return snapshot
