"""Delivering the outbox through the sender resource (Slack, the local Slack-compatible server,
or a recording fake). Without a sender (no SLACK_BOT_TOKEN) nothing is sent and every row stays
pending for `baocao outbox`."""

from __future__ import annotations


def dispatch(res, sender=None):
    """Send every pending outbox row with `sender` (default: the resources' sender)."""
    from notifications.outbox import dispatch as _dispatch

    return _dispatch(res.con(), res.sender if sender is None else sender, res.now(),
                     workers=res.settings.dispatch_workers)
