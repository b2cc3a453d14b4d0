"""A reporting cycle, end to end: open → collect → parse → validate → load → aggregate → notify →
publish. The same flow runs in-process (make demo) and as a deployment (prefect.yaml)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from baocao.settings import settings
from tasks import cycle as t


@flow(name="reporting-cycle", log_prints=True)
def reporting_cycle(period: str, home: str | None = None, now: datetime | None = None) -> dict:
    s = settings(home)
    t.open_cycle(s, period)
    collected = t.collect(s)
    records = t.parse(s)
    validation = t.validate(s, records)
    loaded = t.load(s, records)
    t.aggregate(s)
    notified = t.notify(s, records, period, now)
    snapshot = t.publish(s)
    return {"period": period, "collected": collected, "validation": validation, "loaded": loaded,
            "notified": notified, "snapshot": snapshot,
            "statuses": [(r.unit_code, r.file_name, r.status) for r in records]}


@flow(name="process-submissions", log_prints=True)
def process_submissions(home: str | None = None) -> dict:
    """Take every pending submission (a burst coalesces into one run; a run that finds nothing
    does nothing), validate, load, answer each unit, refresh aggregates and the snapshot."""
    s = settings(home)
    collected = t.collect(s)
    records = t.parse(s)
    if not records:
        return {"collected": collected, "processed": 0}
    t.validate(s, records)
    loaded = t.load(s, records)
    t.aggregate(s)
    notified = t.notify(s, records, None)
    snapshot = t.publish(s)
    return {"collected": collected, "processed": len(records), "loaded": loaded, "notified": notified,
            "snapshot": snapshot}


@flow(name="cycle-reminders", log_prints=True)
def cycle_reminders(period: str, home: str | None = None) -> dict:
    """The daily pass during an open cycle: reminders, overdue notices, escalations, operator summary."""
    s = settings(home)
    t.aggregate(s)
    return t.notify(s, [], period)


@flow(name="close-cycle", log_prints=True)
def close_cycle(period: str, home: str | None = None) -> dict:
    s = settings(home)
    result = process_submissions(home)
    t.close_cycle(s, period)
    t.aggregate(s)
    t.notify(s, [], period)
    return {"processed": result, "snapshot": t.publish(s)}
