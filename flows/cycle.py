"""A reporting cycle, end to end: open → collect → parse → validate → load → aggregate → enqueue
notifications → publish → deliver notifications. The same flows run in-process (make demo, `baocao process`) and as deployments
(prefect.yaml): scheduled passes open cycles, remind and close them; events drive processing.

Every flow that touches the warehouse holds the `warehouse_lock` (a Prefect global concurrency
limit when deployed; nothing in-process): DuckDB allows one writer process at a time."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from baocao import runners
from baocao.settings import settings
from intake import answer
from tasks import cycle as t


@flow(name="reporting-cycle", log_prints=True, task_runner=runners.task_runner())
def reporting_cycle(period: str, home: str | None = None, now: datetime | None = None) -> dict:
    s = settings(home)
    with t.warehouse_lock():
        t.open_cycle(s, period)
        collected = t.collect(s)
        records = t.parse(s)
        chunks = t.validation_chunks(s, records)
        results = t.validate_chunk.map(chunks)  # spread over the task runner's workers (Dask)
        validation = t.apply_validation(s, records, chunks, results)
        loaded = t.load(s, records)
        models = t.aggregate(s)
        notified = t.enqueue(s, records, period, now)
        snapshot = t.publish(s, models)  # analysts and the operator do not wait for Slack
        t.write_feedback(s, records)
        notified["dispatch"] = t.dispatch(s)
    return {
        "period": period,
        "collected": collected,
        "validation": validation,
        "loaded": loaded,
        "notified": notified,
        "snapshot": snapshot,
        "statuses": [(r.unit_code, r.file_name, r.status) for r in records],
    }


@flow(name="process-submissions", log_prints=True)
def process_submissions(
    home: str | None = None, submission_id: str | None = None, refresh: bool = True, triggered_by: str | None = None
) -> dict:
    """Take every pending submission (a burst coalesces into one run; a run that finds nothing
    does nothing), validate, load, answer each unit; with `refresh`, also rebuild the aggregates
    and the snapshot (the event-driven deployment leaves that to `refresh-aggregates`).
    `submission_id`/`triggered_by` say which event started the run: a run triggered for a
    submission the store's journal lists as recorded stops at once."""
    s = settings(home)
    if triggered_by:
        print(f"Triggered by {triggered_by} (submission {submission_id})")
    nothing = (
        f"Nothing pending: submission {submission_id} was processed by an earlier run" if submission_id else "Nothing pending"
    )
    # Triggered by baocao.submission.received, the file is already stored (the watcher stores
    # before it announces), and a watcher answering in its warm process (`baocao serve`) has
    # usually recorded it. The store's journal says so without the warehouse's writer slot; a
    # run that is needed processes every pending file.
    collected = 0 if submission_id else t.collect(s)
    if t.nothing_pending(s, submission_id):
        print(nothing)
        return {"collected": collected, "processed": 0, "submission_id": submission_id}
    with t.warehouse_lock():
        records = t.parse(s)
        if not records and not answer.unanswered_hint(s):  # else: answer what a crashed run loaded
            print(nothing)
            return {"collected": collected, "processed": 0, "submission_id": submission_id}
        t.validate(s, records)
        loaded = t.load(s, records)
        notified = t.notify(s, records, None)
        snapshot = t.publish(s, t.aggregate(s)) if refresh else None
    return {
        "collected": collected,
        "processed": len(records),
        "loaded": loaded,
        "notified": notified,
        "snapshot": snapshot,
        "submission_id": submission_id,
        "statuses": [(r.submission_id, r.unit_code, r.status) for r in records],
    }


@flow(name="refresh-aggregates", log_prints=True)
def refresh_aggregates(home: str | None = None, reason: str | None = None) -> dict:
    """Rebuild the marts and publish the snapshot (after submissions were loaded)."""
    s = settings(home)
    if reason:
        print(f"Refreshing after {reason}")
    with t.warehouse_lock():
        models = t.aggregate(s)
        snapshot = t.publish(s, models)
    return {"models": len(models), "snapshot": snapshot}


@flow(name="open-cycle", log_prints=True)
def open_cycle(
    kind: str = "H",
    semantic: str = "calendar",
    period: str | None = None,
    home: str | None = None,
    now: datetime | None = None,
) -> dict:
    """Open the period whose window has just ended (or `period`) for the data sets of frequency
    `kind` (H six-monthly, Y annual) whose deadlines follow `semantic` (calendar: health
    statistics; admin: Decree 09 cut-off), then tell the units."""
    s = settings(home)
    due, datasets = t.due_period(kind, semantic, now)
    period = period or due
    with t.warehouse_lock():
        rows = t.open_cycle(s, period, now, datasets)
        models = t.aggregate(s)
        notified = t.notify(s, [], period, now)
        snapshot = t.publish(s, models)
    return {"period": period, "opened": [r["dataset_code"] for r in rows], "notified": notified, "snapshot": snapshot}


@flow(name="cycle-reminders", log_prints=True)
def cycle_reminders(period: str | None = None, home: str | None = None, now: datetime | None = None) -> dict:
    """The daily pass during open cycles (all open ones, or `period`): deadline events, reminders,
    overdue notices, escalations, operator summary."""
    s = settings(home)
    with t.warehouse_lock():
        rows = t.open_rows(s, period)
        if not rows:
            return {"open_cycles": 0}
        emitted = t.cycle_events(rows, now)
        t.aggregate(s)
        notified = {p: t.notify(s, [], p, now) for p in sorted({r.period for r in rows})}
    return {"open_cycles": len(rows), "events": emitted, "notified": notified}


@flow(name="close-cycle", log_prints=True)
def close_cycle(period: str | None = None, home: str | None = None, now: datetime | None = None) -> dict:
    """Close `period` (every data set), or, without it, each data set's cycle whose deadline +
    grace has passed; pending submissions are processed first; the snapshot is published."""
    s = settings(home)
    with t.warehouse_lock():
        rows = t.to_close(s, period, now)
        if not rows:
            return {"closed": []}
        result = process_submissions(home, refresh=False)
        closed = t.close_cycle(s, rows, now)
        models = t.aggregate(s)
        notified = {p: t.notify(s, [], p, now) for p in sorted({p for p, _ in closed})}
        snapshot = t.publish(s, models)
    return {"processed": result, "closed": closed, "notified": notified, "snapshot": snapshot}
