"""Which notifications are due for one data set and period at a time `now` (pure functions).

Input: the expected units' status rows (unit_code, accepted, received), the deadline, `now`.
Output: `Due` items, each with a deterministic key `kind:period:dataset:unit:stage`. Running the
schedule again (hourly, daily, after a crash) gives the same keys, and the outbox ignores keys it
already holds, so each notification is sent once.

Rules (all times compared in Asia/Ho_Chi_Minh; naive datetimes are local time):
- cycle_opened (stage "opened"): from `opened_at` until the deadline, to units that have sent
  nothing yet.
- reminder (stages "d-7", "d-1" by default): from 00:00 on the day deadline−N, to units without
  an accepted submission, until the deadline; only the latest reminder whose day has come is
  due (a schedule first run on d-1 sends "d-1", not "d-7" as well).
- overdue (stage "overdue"): after the deadline, to units without an accepted submission.
- escalation: from deadline + N days (default 3), about each unit still without an accepted
  submission: stage "escalation" to its supervisor and "escalation-operator" to the operator.
- nothing after `until` (the cycle's close), if given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
KINDS = ("cycle_opened", "reminder", "overdue", "escalation", "feedback", "operator_summary")
AUDIENCES = ("unit", "supervisor", "operator")
DEFAULT_REMINDER_DAYS = (7, 1)
DEFAULT_ESCALATE_AFTER_DAYS = 3


def make_key(kind: str, period: str, dataset_code: str, unit_code: str, stage: str) -> str:
    """`kind:period:dataset:unit:stage`; no part may be empty or contain ":"."""
    parts = (kind, period, dataset_code, unit_code, stage)
    for p in parts:
        if not p or ":" in str(p):
            raise ValueError(f"thành phần khóa không hợp lệ / invalid key part: {p!r} in {parts}")
    if kind not in KINDS:
        raise ValueError(f"loại thông báo không hợp lệ / unknown kind: {kind!r}")
    return ":".join(str(p) for p in parts)


@dataclass(frozen=True)
class UnitStatus:
    unit_code: str
    accepted: bool  # has an accepted (possibly with warnings) submission
    received: bool  # has sent anything at all


@dataclass(frozen=True)
class Due:
    kind: str
    period: str
    dataset_code: str
    unit_code: str  # the unit the notification is about
    stage: str
    audience: str  # unit | supervisor | operator: who receives it
    days: int  # reminder: days left; overdue/escalation: days late; cycle_opened: days left
    received: bool

    @property
    def key(self) -> str:
        return make_key(self.kind, self.period, self.dataset_code, self.unit_code, self.stage)


def _local(dt: datetime) -> datetime:
    return dt.replace(tzinfo=TZ) if dt.tzinfo is None else dt.astimezone(TZ)


def _status(row: Any) -> UnitStatus:
    if isinstance(row, UnitStatus):
        return row
    if isinstance(row, Mapping):
        return UnitStatus(str(row["unit_code"]), bool(row["accepted"]), bool(row["received"]))
    code, accepted, received = row
    return UnitStatus(str(code), bool(accepted), bool(received))


def stage_for_reminder(days_before: int) -> str:
    return f"d-{days_before}"


def current_reminder(deadline: datetime, now: datetime, reminder_days: Sequence[int]) -> int | None:
    """The N of the latest reminder whose day (deadline−N, from 00:00) has come, before the deadline."""
    deadline, now = _local(deadline), _local(now)
    if now > deadline:
        return None
    started = [
        n
        for n in reminder_days
        if now >= datetime.combine(deadline.date() - timedelta(days=n), time(0), tzinfo=TZ)
    ]
    return min(started) if started else None


def _days_between(a: date, b: date) -> int:
    return (b - a).days


def due_notifications(
    *,
    dataset_code: str,
    period: str,
    units: Iterable[UnitStatus | Mapping[str, Any] | tuple],
    deadline: datetime,
    now: datetime,
    opened_at: datetime | None = None,
    until: datetime | None = None,
    reminder_days: Sequence[int] = DEFAULT_REMINDER_DAYS,
    escalate_after_days: int = DEFAULT_ESCALATE_AFTER_DAYS,
) -> list[Due]:
    """Everything due at `now` (the outbox drops keys already enqueued)."""
    for n in reminder_days:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"reminder_days phải là số nguyên >= 0 / must be ints >= 0: {n!r}")
    if escalate_after_days < 0:
        raise ValueError("escalate_after_days >= 0")
    deadline, now = _local(deadline), _local(now)
    if until is not None and now > _local(until):
        return []
    rows = [_status(r) for r in units]
    out: list[Due] = []
    days_left = _days_between(now.date(), deadline.date())
    days_late = -days_left
    reminder_n = current_reminder(deadline, now, reminder_days)
    for u in rows:
        if u.accepted:
            continue

        def due(kind: str, stage: str, audience: str, days: int, u: UnitStatus = u) -> Due:
            return Due(kind, period, dataset_code, u.unit_code, stage, audience, days, u.received)

        if opened_at is not None and _local(opened_at) <= now <= deadline and not u.received:
            out.append(due("cycle_opened", "opened", "unit", days_left))
        if reminder_n is not None:
            out.append(due("reminder", stage_for_reminder(reminder_n), "unit", days_left))
        if now > deadline:
            out.append(due("overdue", "overdue", "unit", days_late))
            if now >= deadline + timedelta(days=escalate_after_days):
                out.append(due("escalation", "escalation", "supervisor", days_late))
                out.append(due("escalation", "escalation-operator", "operator", days_late))
    return out
