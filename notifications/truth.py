"""Is a queued message still true when it is about to be sent? And its text, rendered now.

A message is queued when something happened; it may go out minutes or months later (Slack was
down, the token was wrong, the backlog was long). Before each post, delivery asks `verdict`:

| kind | still true when |
|---|---|
| cycle_opened | the unit has sent nothing yet and the deadline has not passed |
| reminder | the unit has no accepted report and the deadline has not passed |
| overdue, escalation | the unit still has no accepted report |
| feedback | the submission is still the unit's latest version; a rejection also needs the cycle open |
| operator_summary | no later summary of the same cycle is queued or sent |

Every kind about a cycle also needs the cycle not closed (except an acceptance: that stays true).
A message whose reason is gone is marked `superseded` with the reason, never sent. Facts come
from the delivery store (refreshed by each warehouse run); where a cycle is unknown to it, the
message is sent as queued.

`render_now` renders the message again with the inputs it was queued with and `now`, so days
left/late, "received or not", and "the deadline has passed — send it now" are true when read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from notifications import render
from notifications.render import Message
from notifications.schedule import TZ
from notifications.store import OutboxStore, load_render

SCHEDULED = ("cycle_opened", "reminder", "overdue", "escalation")

REASONS = {
    "accepted": "đơn vị đã có báo cáo được tiếp nhận / the unit's report has since been accepted",
    "received": "đơn vị đã gửi báo cáo / the unit has since sent its report",
    "deadline_passed": "đã qua hạn nộp / the deadline has passed",
    "cycle_closed": "kỳ báo cáo đã đóng / the reporting cycle is closed",
    "later_version": "đơn vị đã gửi bản mới hơn / the unit has since sent a later version",
    "newer_summary": "đã có bản tổng hợp mới hơn / a later summary replaces it",
}


def reason_text(code: str, detail: str = "") -> str:
    return f"{code}{' ' + detail if detail else ''}: {REASONS[code]}"


def verdict(row: dict[str, Any], store: OutboxStore, now: datetime) -> str | None:
    """None if the message is still true at `now`; else the reason it is superseded."""
    kind = row["kind"]
    if kind == "operator_summary":
        return reason_text("newer_summary") if store.newer_summary_exists(row) else None
    cycle, unit = store.facts(row["period"], row["dataset_code"], row["unit_code"])
    t = now.timestamp()
    if cycle is None:  # nothing known about this cycle: only the deadline it was queued with
        spec = load_render(row.get("render_json"))
        deadline = _epoch_of((spec[1] if spec else {}).get("deadline"))
        if kind in ("reminder", "cycle_opened") and deadline is not None and t > deadline:
            return reason_text("deadline_passed")
        return None
    closed = cycle["closed_at"] is not None and cycle["closed_at"] <= t
    deadline = cycle["deadline_at"]
    accepted = bool(unit and unit["accepted"])
    received = bool(unit and unit["received"])
    if kind == "feedback":
        latest = unit["latest_submission"] if unit else None
        if latest and latest != row["stage"]:
            return reason_text("later_version", f"v{unit['latest_version']}")
        spec = load_render(row.get("render_json"))
        status = spec[1].get("status") if spec else None
        if closed and status == "rejected":
            return reason_text("cycle_closed")
        return None
    if kind not in SCHEDULED:
        return None
    if closed:
        return reason_text("cycle_closed")
    if kind == "cycle_opened":
        if received:
            return reason_text("received")
        if deadline is not None and t > deadline:
            return reason_text("deadline_passed")
        return None
    if accepted:
        return reason_text("accepted")
    if kind == "reminder" and deadline is not None and t > deadline:
        return reason_text("deadline_passed")
    return None


def _epoch_of(value: Any) -> float | None:
    """A deadline as seconds; a date means the end of that day in Vietnam."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=TZ)).timestamp()
    return datetime.combine(value, time(23, 59, 59), tzinfo=TZ).timestamp()


def _local_date(value: Any):
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=TZ)).astimezone(TZ).date()
    return value


def render_now(row: dict[str, Any], store: OutboxStore, now: datetime,
               links: Callable[[dict, dict, datetime], dict] | None = None) -> Message | None:
    """The message rendered again for `now`; None if it was queued without its render inputs
    (then it goes as queued). `links`: the unit's web link for a cycle-opened message, minted now
    (web/links.py); without it the message says how to get one."""
    spec = load_render(row.get("render_json"))
    if spec is None:
        return None
    fn, kwargs = spec
    kwargs = dict(kwargs)
    today = now.astimezone(TZ).date()
    _, unit = store.facts(row["period"], row["dataset_code"], row["unit_code"])
    deadline = kwargs.get("deadline")
    if fn == "reminder" and deadline is not None:
        kwargs["days_left"] = max((_local_date(deadline) - today).days, 0)
    if fn in ("overdue", "escalation") and deadline is not None:
        kwargs["days_late"] = max((today - _local_date(deadline)).days, 0)
    if fn in ("reminder", "overdue", "escalation") and unit is not None:
        kwargs["received"] = bool(unit["received"])
    if fn in ("feedback", "escalation_digest"):
        kwargs["now"] = now
    if fn == "cycle_opened":
        kwargs["web_link_at_send"] = False
        if links is not None:
            kwargs.update(links(row, kwargs, now))
    return getattr(render, fn)(**kwargs)


def utc_now() -> datetime:
    return datetime.now(UTC)
