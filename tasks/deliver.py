"""Delivery tasks: thin wrappers over `baocao.services.deliver` — the hand-off (in the warehouse
run, which holds the writer anyway) and a delivery pass (in its own flow, without the warehouse)."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from baocao import events as ev
from baocao.resources import Resources
from baocao.services import deliver as service


@task(name="hand-off-notifications", cache_policy=NO_CACHE, task_run_name="hand notifications to delivery")
def handoff(r: Resources) -> int:
    """Copy new outbox rows and the send-time facts into the delivery store (fast, no network),
    mirror delivery states back into ops.outbox, and announce the new rows
    (baocao.outbox.enqueued: the deliver-notifications deployment's trigger)."""
    n = service.handoff(r)
    if n:
        r.events.emit(ev.outbox_enqueued(n))
    return n


@task(name="deliver-notifications", cache_policy=NO_CACHE, task_run_name="deliver pending notifications")
def deliver(r: Resources, deadline_s: float | None = None):
    """One delivery pass (the resources' sender; without one rows stay for `baocao outbox`).
    Returns the `DeliveryReport`."""
    report = service.deliver(r, deadline_s)
    print(str(report))
    return report
