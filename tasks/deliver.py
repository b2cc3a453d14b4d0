"""Delivery tasks: thin wrappers over notifications/store.py (hand-off, in the warehouse run) and
notifications/deliver.py (delivery, in its own flow, without the warehouse)."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from baocao import events as ev
from baocao.settings import Settings


@task(name="hand-off-notifications", cache_policy=NO_CACHE)
def handoff(s: Settings) -> int:
    """Copy new outbox rows and the send-time facts into the delivery store (fast, no network),
    mirror delivery states back into ops.outbox, and announce the new rows."""
    from baocao import pipeline
    from notifications.store import handoff as _handoff
    from notifications.store import path_for

    n = _handoff(pipeline.connection(s), path_for(s.db_path))
    if n:
        ev.emit(ev.outbox_enqueued(n))
    return n


@task(name="deliver-notifications", cache_policy=NO_CACHE)
def deliver(s: Settings, deadline_s: float) -> dict:
    """One delivery pass (Slack when configured; otherwise rows stay for `baocao outbox`)."""
    from notifications.deliver import deliver as _deliver
    from notifications.sender import sender_from_env
    from notifications.store import path_for

    report = _deliver(path_for(s.db_path), sender_from_env(), deadline_s=deadline_s)
    print(str(report))
    return report.as_dict()
