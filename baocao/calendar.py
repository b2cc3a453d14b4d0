"""Reporting calendar: periods, windows, working days and deadlines (Asia/Ho_Chi_Minh).

Two calendars apply (see DOMAIN.md):

* ``"calendar"`` - health statistics (Law on Statistics, Circular 37/2019/TT-BYT):
  H1 1 Jan-30 Jun, H2 1 Jul-31 Dec, Y 1 Jan-31 Dec.
* ``"admin"`` - plan-implementation reports (Decree 09/2019/ND-CP cut-off):
  H1 15 Dec (previous year)-14 Jun, H2 15 Jun-14 Dec, Y 15 Dec (previous year)-14 Dec.

Deadlines are counted in Vietnamese working days (Mon-Fri, public holidays and Tet
excluded, make-up Saturdays included) after the window ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

SEMANTICS = ("calendar", "admin")
KINDS = ("H", "Y")

_END_OF_DAY = time(23, 59, 59)
_PERIOD_RE = re.compile(r"^(\d{4})(?:[-\s]?H([12]))?$", re.IGNORECASE)
_ACCEPTED_FORMS = "YYYY, YYYYH1, YYYYH2 (vd./e.g. 2026, 2026H1, 2026-h2, 2026 H2)"


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: a half-year (``half`` 1 or 2) or a whole year (``half`` None).

    Periods sort by the end of their window: 2026H1 < 2026H2 < 2026 < 2027H1.
    """

    year: int = field(compare=False)
    half: int | None = field(default=None, compare=False)
    _key: tuple[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.year, bool) or not isinstance(self.year, int):
            raise TypeError(f"Năm phải là số nguyên: {self.year!r} / Year must be an int")
        if not 1900 <= self.year <= 9998:
            raise ValueError(
                f"Năm ngoài phạm vi 1900-9998: {self.year} / Year out of range 1900-9998"
            )
        if self.half not in (1, 2, None):
            raise ValueError(
                f"Nửa năm phải là 1, 2 hoặc None: {self.half!r} / Half must be 1, 2 or None"
            )
        object.__setattr__(self, "_key", (self.year, self.half or 3))

    def __str__(self) -> str:
        return self.code

    @property
    def code(self) -> str:
        """Canonical code: "2026H1", "2026H2" or "2026"."""
        return f"{self.year}" if self.half is None else f"{self.year}H{self.half}"

    @property
    def kind(self) -> str:
        """Period kind: "H" for a six-monthly period, "Y" for an annual one."""
        return "Y" if self.half is None else "H"

    def calendar_window(self) -> tuple[date, date]:
        """Health-statistics window (calendar half or year), inclusive."""
        y = self.year
        if self.half == 1:
            return date(y, 1, 1), date(y, 6, 30)
        if self.half == 2:
            return date(y, 7, 1), date(y, 12, 31)
        return date(y, 1, 1), date(y, 12, 31)

    def admin_window(self) -> tuple[date, date]:
        """Decree 09/2019 cut-off window (15th of the month before to the 14th), inclusive."""
        y = self.year
        if self.half == 1:
            return date(y - 1, 12, 15), date(y, 6, 14)
        if self.half == 2:
            return date(y, 6, 15), date(y, 12, 14)
        return date(y - 1, 12, 15), date(y, 12, 14)

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        if self.half == 1:
            return Period(self.year - 1, 2)
        if self.half == 2:
            return Period(self.year, 1)
        return Period(self.year - 1)

    def next(self) -> Period:
        """The period of the same kind just after this one."""
        if self.half == 1:
            return Period(self.year, 2)
        if self.half == 2:
            return Period(self.year + 1, 1)
        return Period(self.year + 1)

    def same_period_last_year(self) -> Period:
        """The same half (or year) one year earlier."""
        return Period(self.year - 1, self.half)

    def contains_halves(self) -> list[Period]:
        """The halves making up this period: [H1, H2] for a year, [self] for a half."""
        if self.half is None:
            return [Period(self.year, 1), Period(self.year, 2)]
        return [self]


def parse_period(text: str) -> Period:
    """Parse "YYYY" or "YYYYH1"/"YYYYH2" (case-insensitive, optional '-' or space)."""
    if not isinstance(text, str):
        raise TypeError(
            f"Kỳ báo cáo phải là chuỗi, nhận được {type(text).__name__} / "
            f"Reporting period must be a string, got {type(text).__name__}"
        )
    m = _PERIOD_RE.match(text.strip())
    if m is None:
        raise ValueError(
            f"Kỳ báo cáo không hợp lệ: {text!r}; các dạng được chấp nhận: {_ACCEPTED_FORMS} / "
            f"Invalid reporting period: {text!r}; accepted forms: {_ACCEPTED_FORMS}"
        )
    year, half = m.groups()
    return Period(int(year), int(half) if half else None)


# --------------------------------------------------------------------------- working days


@cache
def _vn_year(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year, observed=True)


@cache
def _holidays_in(year: int) -> frozenset[date]:
    return frozenset(d for d in _vn_year(year) if d.year == year)


@cache
def _weekend_workdays_in(year: int) -> frozenset[date]:
    days = getattr(_vn_year(year), "weekend_workdays", ()) or ()
    return frozenset(d for d in days if d.year == year)


def vn_holidays(years: int | Iterable[int]) -> set[date]:
    """Vietnamese public holidays (observed and substituted days off included) for years."""
    ys = [years] if isinstance(years, int) else list(years)
    out: set[date] = set()
    for y in ys:
        out |= _holidays_in(int(y))
    return out


def weekend_workdays(years: int | Iterable[int]) -> set[date]:
    """Saturdays/Sundays declared working days to make up for a substituted day off."""
    ys = [years] if isinstance(years, int) else list(years)
    out: set[date] = set()
    for y in ys:
        out |= _weekend_workdays_in(int(y))
    return out


def _as_date(d: date) -> date:
    return d.date() if isinstance(d, datetime) else d


def is_working_day(d: date) -> bool:
    """Mon-Fri and not a public holiday; a declared make-up Saturday counts as working."""
    d = _as_date(d)
    if d.weekday() >= 5:
        return d in _weekend_workdays_in(d.year)
    return d not in _holidays_in(d.year)


def add_working_days(d: date, n: int) -> date:
    """The n-th working day strictly after d (n=0 returns d itself)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(
            f"Số ngày làm việc phải là số nguyên >= 0: {n!r} / Working days must be an int >= 0"
        )
    cur = _as_date(d)
    left = n
    while left:
        cur += timedelta(days=1)
        if is_working_day(cur):
            left -= 1
    return cur


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class DeadlineRule:
    """How a data set's report deadline is computed, with its legal basis."""

    semantic: str
    working_days: int
    legal_basis: str
    grace_days: int = 0

    def __post_init__(self) -> None:
        if self.semantic not in SEMANTICS:
            raise ValueError(
                f"semantic phải là 'calendar' hoặc 'admin': {self.semantic!r} / "
                f"semantic must be 'calendar' or 'admin'"
            )
        for name in ("working_days", "grace_days"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(
                    f"{name} phải là số nguyên >= 0: {v!r} / {name} must be an int >= 0"
                )
        if not isinstance(self.legal_basis, str) or not self.legal_basis.strip():
            raise ValueError("Thiếu căn cứ pháp lý (legal_basis) / legal_basis is required")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DeadlineRule:
        """Build from a config mapping; unknown or missing keys are errors."""
        allowed = {"semantic", "working_days", "legal_basis", "grace_days"}
        unknown = sorted(set(d) - allowed)
        if unknown:
            raise ValueError(
                f"Khóa không hợp lệ trong quy tắc hạn nộp: {unknown} / "
                f"Unknown keys in deadline rule: {unknown}"
            )
        missing = sorted({"semantic", "working_days", "legal_basis"} - set(d))
        if missing:
            raise ValueError(
                f"Thiếu khóa trong quy tắc hạn nộp: {missing} / "
                f"Missing keys in deadline rule: {missing}"
            )
        return cls(**dict(d))

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping, the inverse of from_dict."""
        return {
            "semantic": self.semantic,
            "working_days": self.working_days,
            "legal_basis": self.legal_basis,
            "grace_days": self.grace_days,
        }


# Defaults as summarised in DOMAIN.md; check the texts before relying on the numbers.
COMMUNE_STATISTICS = DeadlineRule(
    "calendar", 5, "Thông tư 37/2019/TT-BYT (cấp xã: 5 ngày làm việc)"
)
PROVINCE_STATISTICS = DeadlineRule(
    "calendar", 25, "Thông tư 37/2019/TT-BYT (cấp tỉnh: 25 ngày làm việc)"
)
ADMIN_DECREE_09 = DeadlineRule(
    "admin",
    2,
    "Nghị định 09/2019/NĐ-CP; QĐ 01/2023/QĐ-UBND Khánh Hòa (2 ngày làm việc)",
)


# --------------------------------------------------------------------------- deadlines


def _to_local(dt: datetime) -> datetime:
    """Naive datetimes are local time; aware ones are converted to Asia/Ho_Chi_Minh."""
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        return dt.replace(tzinfo=TZ)
    return dt.astimezone(TZ)


def window(period: Period, rule: DeadlineRule) -> tuple[date, date]:
    """The data window of period under the rule's semantic (inclusive)."""
    if rule.semantic == "admin":
        return period.admin_window()
    return period.calendar_window()


def deadline_date(period: Period, rule: DeadlineRule) -> date:
    """The last day to send the report."""
    return add_working_days(window(period, rule)[1], rule.working_days)


def deadline(period: Period, rule: DeadlineRule) -> datetime:
    """End (23:59:59 local) of the last working day to send the report."""
    return datetime.combine(deadline_date(period, rule), _END_OF_DAY, tzinfo=TZ)


def close_at(period: Period, rule: DeadlineRule) -> datetime:
    """When the cycle closes: the deadline plus grace_days calendar days."""
    return deadline(period, rule) + timedelta(days=rule.grace_days)


def reminder_dates(
    period: Period, rule: DeadlineRule, days_before: Iterable[int] = (7, 1)
) -> list[date]:
    """Calendar days before the deadline date, earliest first."""
    due = deadline_date(period, rule)
    out = set()
    for n in days_before:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(
                f"days_before phải là số nguyên >= 0: {n!r} / days_before must be ints >= 0"
            )
        out.add(due - timedelta(days=n))
    return sorted(out)


def is_late(received_at: datetime, period: Period, rule: DeadlineRule) -> bool:
    """True if received after the deadline day (naive datetimes are local time)."""
    local = _to_local(received_at)
    return local.date() > deadline_date(period, rule)


def open_at(period: Period, rule: DeadlineRule) -> datetime:
    """When the cycle opens: 00:00 local on the day after the window ends."""
    return datetime.combine(window(period, rule)[1] + timedelta(days=1), time(0), tzinfo=TZ)


def current_period(now: datetime, kind: str = "H", semantic: str = "calendar") -> Period:
    """The latest period of kind whose window has ended by now (the one being collected)."""
    k = kind.upper() if isinstance(kind, str) else kind
    if k not in KINDS:
        raise ValueError(f"kind phải là 'H' hoặc 'Y': {kind!r} / kind must be 'H' or 'Y'")
    if semantic not in SEMANTICS:
        raise ValueError(
            f"semantic phải là 'calendar' hoặc 'admin': {semantic!r} / "
            f"semantic must be 'calendar' or 'admin'"
        )
    today = _to_local(now).date()
    p = Period(today.year + 1, 2) if k == "H" else Period(today.year + 1)
    while True:
        end = p.admin_window()[1] if semantic == "admin" else p.calendar_window()[1]
        if end < today:
            return p
        p = p.previous()
