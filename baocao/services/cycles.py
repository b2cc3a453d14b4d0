"""Opening and closing cycles, and what the scheduled passes do at a moment `now`.

prefect.yaml runs the passes on fixed cron schedules (Asia/Ho_Chi_Minh); the cycle rules
(which period a day opens, when reminders, deadlines and closings fall, working days and Tết)
stay here and in baocao.calendar, so a schedule never has to know a year's holidays:

* open pass (1 Jan / 1 Jul for health statistics, 15 Jun / 15 Dec for Decree 09 cut-offs): opens
  the latest period whose window has ended, for the data sets of that frequency and calendar;
* reminder pass (daily): for each open cycle, the events whose moment fell since the previous
  pass — a reminder day (deadline − 7, − 1 days; a day before the cycle opened counts at the
  opening) and the deadline itself;
* close pass (daily): closes each data set's cycle once its deadline + grace has passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from baocao import calendar
from baocao import events as ev
from warehouse import queries

REMINDER_DAYS = (7, 1)  # as notifications.schedule.DEFAULT_REMINDER_DAYS
PASS_INTERVAL = timedelta(days=1)  # the reminder and close passes run daily


def open_cycle(res, period: str, datasets: list[str] | None = None, now: datetime | None = None) -> list[dict]:
    """Open the period for every data set of its frequency (or those named); idempotent."""
    cat = res.cat
    per = calendar.parse_period(period)
    chosen = datasets or [d.code for d in cat.datasets.values() if d.frequency == per.kind]
    now = now or res.now()
    con = res.con()
    out = []
    for code in chosen:
        ds = cat.datasets[code]
        if ds.frequency != per.kind:
            raise ValueError(f"Báo cáo {code} là kỳ {'6 tháng' if ds.frequency == 'H' else 'năm'}, không mở cho kỳ {per.code}"
                             f" / data set {code} does not match period {per.code}")
        rule = calendar.DeadlineRule.from_dict(ds.deadline)
        start, end = calendar.window(per, rule)
        row = {"period": per.code, "dataset_code": code, "window_start": start, "window_end": end,
               "deadline_at": calendar.deadline(per, rule), "close_at": calendar.close_at(per, rule),
               "legal_basis": rule.legal_basis, "opened_at": now}
        queries.insert_cycle(con, row)
        out.append(row)
    return out


def close_cycle(res, period: str, now: datetime | None = None) -> int:
    """Close every data set of `period`; how many were still open."""
    return queries.close_period(res.con(), period, now or res.now())


def open_cycles(con) -> dict[tuple[str, str], dict]:
    """(period, data set) → deadline_at, close_at, closed_at of every cycle."""
    return queries.cycles(con)


# ------------------------------------------------------------------------- scheduled passes


@dataclass(frozen=True)
class CycleRow:
    """One row of ops.cycle."""

    period: str
    dataset_code: str
    deadline_at: datetime
    close_at: datetime
    opened_at: datetime
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def datasets_to_open(cat, kind: str, semantic: str) -> list[str]:
    """Data sets of a frequency ("H"/"Y") whose deadline rule uses `semantic` (calendar/admin)."""
    return [
        d.code
        for d in cat.datasets.values()
        if d.frequency == kind and calendar.DeadlineRule.from_dict(d.deadline).semantic == semantic
    ]


def period_to_open(now: datetime, kind: str, semantic: str) -> str:
    """The period an open pass at `now` opens: the latest whose window has ended."""
    return calendar.current_period(now, kind, semantic).code


def cycle_rows(con) -> list[CycleRow]:
    return [CycleRow(*r) for r in queries.cycle_rows(con)]


def open_rows(rows: Iterable[CycleRow], period: str | None = None) -> list[CycleRow]:
    return [r for r in rows if r.is_open and (period is None or r.period == period)]


def _day_start(d, tz=calendar.TZ) -> datetime:
    return datetime.combine(d, time(0), tzinfo=tz)


def due_cycle_events(
    rows: Iterable[CycleRow], now: datetime, since: datetime | None = None, reminder_days: Sequence[int] = REMINDER_DAYS
) -> list[ev.EventSpec]:
    """Events of open cycles whose moment is in (since, now]; `since` defaults to one pass ago.

    deadline.approaching: from 00:00 on deadline − N days, or at the opening if that is later;
    if several reminder moments fall in one pass only the nearest to the deadline is sent.
    deadline.passed: the deadline (23:59:59 of its last working day)."""
    since = since if since is not None else now - PASS_INTERVAL
    out: list[ev.EventSpec] = []
    for r in rows:
        if not r.is_open:
            continue
        deadline = r.deadline_at.astimezone(calendar.TZ)
        stages = []
        for n in reminder_days:
            moment = max(_day_start(deadline.date() - timedelta(days=n)), r.opened_at)
            if since < moment <= now <= deadline:
                stages.append(n)
        if stages:
            out.append(ev.deadline_approaching(r.period, r.dataset_code, deadline, min(stages)))
        if since < deadline <= now:
            out.append(ev.deadline_passed(r.period, r.dataset_code, deadline))
    return out


def due_closings(rows: Iterable[CycleRow], now: datetime) -> list[CycleRow]:
    """Open cycles whose deadline + grace (close_at) has passed."""
    return [r for r in rows if r.is_open and r.close_at <= now]


def close_rows(con, rows: Iterable[CycleRow], now: datetime) -> list[CycleRow]:
    """Close the given cycles (data set by data set); returns those this call closed."""
    return [CycleRow(r.period, r.dataset_code, r.deadline_at, r.close_at, r.opened_at, now)
            for r in rows if queries.close_one(con, r.period, r.dataset_code, now)]
