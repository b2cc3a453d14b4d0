"""Deliver the outbox: its own flow and deployment (prefect.yaml: every few minutes, and when
new rows are handed off). It reads and updates only the delivery store (an SQLite file beside
the warehouse), never the warehouse: it does not take the warehouse limit, and a slow or hung
Slack holds up no submission. Two runs at once are safe (each recipient is leased to one).

Like the cycle flows it takes `home` (deployments) and, in-process, `resources` handed in (a
test's store, sender and clock); without them it builds the live resources from the settings."""

from __future__ import annotations

from typing import Any

from prefect import flow

from tasks import deliver as t
from tasks.cycle import resources as run_resources


@flow(name="deliver-notifications", log_prints=True)
def deliver_notifications(home: str | None = None, deadline_s: float | None = None, reason: str | None = None,
                          resources: Any = None) -> dict:
    """Send what is pending, still true, in order; stop by `deadline_s` seconds (default: the
    settings' delivery_deadline_s, $BAOCAO_DELIVERY_DEADLINE). `reason`: what triggered the run
    (the event), for the run's log."""
    if reason:
        print(f"Triggered by {reason}")
    with run_resources(home, resources) as r:
        return t.deliver(r, deadline_s).as_dict()
