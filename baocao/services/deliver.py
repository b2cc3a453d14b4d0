"""Delivering the outbox, in two steps that never overlap in the warehouse writer:

1. `handoff(res)` — in the run that holds the warehouse anyway (it just enqueued): new
   ops.outbox rows and the facts the send-time checks read are copied into the delivery store
   (`res.outbox()`, an SQLite file beside the warehouse), and the delivery states are mirrored
   back into ops.outbox. Milliseconds, no network.
2. `deliver(res)` — anywhere, any number of processes at once, without the warehouse: what is
   pending is checked (still true?), rendered for the clock's now and sent through the sender
   resource, paced per channel, until the run's deadline (`settings.delivery_deadline_s`).

The deliver-notifications flow and `baocao outbox send` call `deliver`; the warehouse flows call
`handoff` (and the event it announces triggers the deliver-notifications deployment).
`dispatch(res)` does both and mirrors again, holding the warehouse while Slack answers: for
callers that hold it anyway (the bench). Without a sender (no SLACK_BOT_TOKEN) nothing is sent
and every row stays pending for `baocao outbox`."""

from __future__ import annotations


def handoff(res) -> int:
    """Copy the new outbox rows (and the send-time facts) into the delivery store and mirror the
    delivery states into ops.outbox; how many rows were new. Needs the warehouse writer."""
    from notifications.store import handoff as _handoff

    return _handoff(res.con(), res.outbox())


def deliver(res, deadline_s: float | None = None, sender=None, **options):
    """One delivery pass from the delivery store with `sender` (default: the resources' sender),
    at the resources' clock, stopping by `deadline_s` (default: the settings'). Never opens the
    warehouse. Returns a `notifications.deliver.DeliveryReport`."""
    from notifications.deliver import deliver as _deliver
    from web.links import for_delivery

    options.setdefault("links", for_delivery(res.settings))  # the unit's web link in "cycle opened"
    return _deliver(res.outbox(), sender_of(res) if sender is None else sender, clock=res.clock.now,
                    deadline_s=res.settings.delivery_deadline_s if deadline_s is None else deadline_s,
                    workers=res.settings.dispatch_workers, **options)


def sender_of(res):
    """The sender a delivery pass uses: with SLACK_APP_TOKEN beside SLACK_BOT_TOKEN, the Slack
    door's (answers in the file's thread, forms attached; it reads last period's values from the
    published snapshot, never the writer); otherwise the resources' sender."""
    from slackdoor.answer import sender_for

    return sender_for(res, con_fn=res.snapshot.con if res.snapshot.exists else None) or res.sender


def dispatch(res, sender=None, **options):
    """Hand off, deliver, mirror: everything pending sent while the warehouse is held (the bench,
    callers that hold it anyway). Flows hand off and leave the sending to `deliver`."""
    handoff(res)
    report = deliver(res, sender=sender, **options)
    handoff(res)
    return report


def requeue(res, keys: list[str] | None = None, unit: list[str] | None = None) -> int:
    """Failed rows (those named by `keys`, or every one; only `unit`'s if given) back to pending
    for the next delivery pass; how many. Only the delivery store is touched."""
    return res.outbox().requeue(keys=keys, unit=unit)
