"""A reporting cycle, end to end: open → collect → parse → validate → load → aggregate → enqueue
notifications → hand off → publish → deliver notifications. The same flows run in-process (make demo, `baocao process`) and as deployments
(prefect.yaml): scheduled passes open cycles, remind and close them; events drive processing.

Every flow that touches the warehouse holds the `warehouse_lock` (a Prefect global concurrency
limit when deployed; nothing in-process): DuckDB allows one writer process at a time. The flows
that enqueue notifications hand them to the delivery store before they let go of the warehouse;
the deliver-notifications flow (flows/deliver.py, its own deployment, triggered by the hand-off)
sends them without it. `reporting_cycle`, the in-process cycle, runs that delivery pass itself at
the end, after letting go of the warehouse.

Each flow takes `home` (deployments: a string parameter) and, in-process, `resources`: a
`baocao.resources.Resources` handed in (a test's temporary warehouse, recording sender and fixed
clock; the CLI's). Without it the flow builds the live resources from the settings and closes
them when it ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from intake import answer as journal
from tasks import artifacts as art
from tasks import cycle as t
from tasks import deliver as td


@flow(name="reporting-cycle", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=1))
def reporting_cycle(period: str, home: str | None = None, now: datetime | None = None, resources: Any = None) -> dict:
    with t.resources(home, resources) as r:
        with t.warehouse_lock(r):
            t.open_cycle(r, period)
            collected = t.collect(r)
            records = t.parse(r)
            chunks = t.validation_chunks(r, records)
            results = t.validate_chunks(r, chunks)  # spread over Dask workers with BAOCAO_TASK_RUNNER=dask
            validation = t.apply_validation(r, records, chunks, results)
            loaded = t.load(r, records)
            models = t.aggregate(r)
            notified = t.enqueue(r, records, period, now)
            t.write_feedback(r, records)  # the workbooks the messages link to, before any can be sent
            notified.update(t.dispatch(r))  # handed to the delivery store
            snapshot = t.publish(r, models)  # analysts and the operator do not wait for Slack
            art.completeness_artifact(r, period)  # the run's story in the UI: completeness, failing units
        # delivery talks to Slack without the warehouse (the deliver-notifications flow's pass),
        # then a moment under the lock mirrors what it did into ops.outbox
        notified["dispatch"] = td.deliver(r)
        with t.warehouse_lock(r):
            td.handoff(r)
    return {
        "period": period,
        "collected": collected,
        "validation": validation,
        "loaded": loaded,
        "notified": notified,
        "snapshot": snapshot,
        "statuses": [(rec.unit_code, rec.file_name, rec.status) for rec in records],
    }


@flow(name="process-submissions", log_prints=True)
def process_submissions(
    home: str | None = None, submission_id: str | None = None, refresh: bool = True, triggered_by: str | None = None,
    resources: Any = None,
) -> dict:
    """Take every pending submission (a burst coalesces into one run; a run that finds nothing
    does nothing), validate, load, answer each unit; with `refresh`, also rebuild the aggregates
    and the snapshot (the event-driven deployment leaves that to `refresh-aggregates`).
    `submission_id`/`triggered_by` say which event started the run: a run triggered for a
    submission the store's journal lists as recorded stops at once."""
    with t.resources(home, resources) as r:
        return _process_submissions(r, submission_id, refresh, triggered_by)


def _process_submissions(r, submission_id: str | None, refresh: bool, triggered_by: str | None) -> dict:
    if triggered_by:
        print(f"Triggered by {triggered_by} (submission {submission_id})")
    nothing = (
        f"Nothing pending: submission {submission_id} was processed by an earlier run" if submission_id else "Nothing pending"
    )
    # Triggered by baocao.submission.received, the file is already stored (the watcher stores
    # before it announces), and a watcher answering in its warm process (`baocao serve`) has
    # usually recorded it. The store's journal says so without the warehouse's writer slot; a
    # run that is needed processes every pending file.
    collected = 0 if submission_id else t.collect(r)
    if t.nothing_pending(r, submission_id):
        print(nothing)
        return {"collected": collected, "processed": 0, "submission_id": submission_id}
    with t.warehouse_lock(r):
        records = t.parse(r)
        if not records and not journal.unanswered_hint(r.store.root):  # else: answer what a crashed run loaded
            print(nothing)
            return {"collected": collected, "processed": 0, "submission_id": submission_id}
        t.validate(r, records)
        loaded = t.load(r, records)
        notified = t.notify(r, records, None)
        snapshot = t.publish(r, t.aggregate(r)) if refresh else None
        for period in sorted({rec.period for rec in records if rec.period}) if refresh else ():
            art.completeness_artifact(r, period)
    return {
        "collected": collected,
        "processed": len(records),
        "loaded": loaded,
        "notified": notified,
        "snapshot": snapshot,
        "submission_id": submission_id,
        "statuses": [(rec.submission_id, rec.unit_code, rec.status) for rec in records],
        "files": t.outcomes(records),
    }


@flow(name="refresh-aggregates", log_prints=True)
def refresh_aggregates(home: str | None = None, reason: str | None = None, resources: Any = None) -> dict:
    """Rebuild the marts and publish the snapshot (after submissions were loaded)."""
    if reason:
        print(f"Refreshing after {reason}")
    with t.resources(home, resources) as r, t.warehouse_lock(r):
        models = t.aggregate(r)
        snapshot = t.publish(r, models)
    return {"models": len(models), "snapshot": snapshot}


@flow(name="open-cycle", log_prints=True)
def open_cycle(
    kind: str = "H",
    semantic: str = "calendar",
    period: str | None = None,
    home: str | None = None,
    now: datetime | None = None,
    resources: Any = None,
) -> dict:
    """Open the period whose window has just ended (or `period`) for the data sets of frequency
    `kind` (H six-monthly, Y annual) whose deadlines follow `semantic` (calendar: health
    statistics; admin: Decree 09 cut-off), then tell the units."""
    with t.resources(home, resources) as r, t.warehouse_lock(r):
        due, datasets = t.due_period(r, kind, semantic, now)
        period = period or due
        rows = t.open_cycle(r, period, now, datasets)
        models = t.aggregate(r)
        notified = t.notify(r, [], period, now)
        snapshot = t.publish(r, models)
    return {"period": period, "opened": [row["dataset_code"] for row in rows], "notified": notified, "snapshot": snapshot}


@flow(name="cycle-reminders", log_prints=True)
def cycle_reminders(
    period: str | None = None, home: str | None = None, now: datetime | None = None, resources: Any = None
) -> dict:
    """The daily pass during open cycles (all open ones, or `period`): deadline events, reminders,
    overdue notices, escalations, operator summary."""
    with t.resources(home, resources) as r, t.warehouse_lock(r):
        rows = t.open_rows(r, period)
        if not rows:
            return {"open_cycles": 0}
        emitted = t.cycle_events(r, rows, now)
        t.aggregate(r)
        before = art.reminder_keys(r)
        notified = {p: t.notify(r, [], p, now) for p in sorted({row.period for row in rows})}
        reminded = {p: art.reminders_artifact(r, p, before) for p in notified}  # logs who; a table in the UI
    return {"open_cycles": len(rows), "events": emitted, "notified": notified, "reminded": reminded}


@flow(name="close-cycle", log_prints=True)
def close_cycle(
    period: str | None = None, home: str | None = None, now: datetime | None = None, resources: Any = None
) -> dict:
    """Close `period` (every data set), or, without it, each data set's cycle whose deadline +
    grace has passed; pending submissions are processed first; the snapshot is published."""
    with t.resources(home, resources) as r, t.warehouse_lock(r):
        rows = t.to_close(r, period, now)
        if not rows:
            return {"closed": []}
        result = process_submissions(home, refresh=False, resources=r)
        closed = t.close_cycle(r, rows, now)
        models = t.aggregate(r)
        notified = {p: t.notify(r, [], p, now) for p in sorted({p for p, _ in closed})}
        snapshot = t.publish(r, models)
        for p in sorted({p for p, _ in closed}):
            art.completeness_artifact(r, p)
    return {"processed": result, "closed": closed, "notified": notified, "snapshot": snapshot}
