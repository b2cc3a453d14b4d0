"""Deliver the outbox: its own flow and deployment (prefect.yaml: every few minutes, and when
new rows are handed off). It reads and updates only the delivery store (an SQLite file beside
the warehouse), never the warehouse: it does not take the warehouse limit, and a slow or hung
Slack holds up no submission. Two runs at once are safe (each recipient is leased to one)."""

from __future__ import annotations

from prefect import flow

from baocao.settings import settings
from tasks import deliver as t


@flow(name="deliver-notifications", log_prints=True)
def deliver_notifications(home: str | None = None, deadline_s: float = 240.0, reason: str | None = None) -> dict:
    """Send what is pending, still true, in order; stop by `deadline_s` seconds. `reason`: what
    triggered the run (the event), for the run's log."""
    if reason:
        print(f"Triggered by {reason}")
    return t.deliver(settings(home), deadline_s)
