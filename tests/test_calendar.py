"""Tests for baocao.calendar, against the real `holidays` library."""

from datetime import UTC, date, datetime, timedelta

import pytest

from baocao.calendar import (
    ADMIN_DECREE_09,
    COMMUNE_STATISTICS,
    PROVINCE_STATISTICS,
    TZ,
    DeadlineRule,
    Period,
    add_working_days,
    close_at,
    current_period,
    deadline,
    deadline_date,
    is_late,
    is_working_day,
    open_at,
    parse_period,
    reminder_dates,
    vn_holidays,
    weekend_workdays,
    window,
)

H1_2026 = Period(2026, 1)
H2_2026 = Period(2026, 2)
Y_2026 = Period(2026)


def _count_without_holidays(d: date, n: int) -> date:
    """Reference: n-th Mon-Fri after d, ignoring holidays."""
    while n:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


# ----------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026H1", Period(2026, 1)),
        ("2026h2", Period(2026, 2)),
        ("2026-H1", Period(2026, 1)),
        ("2026 h2", Period(2026, 2)),
        ("  2026  ", Period(2026)),
        ("2026", Period(2026, None)),
    ],
)
def test_parse_period_forms(text, expected):
    assert parse_period(text) == expected


@pytest.mark.parametrize("code", ["2026H1", "2026H2", "2026", "1999H2"])
def test_code_round_trip(code):
    assert parse_period(code).code == code
    assert str(parse_period(code)) == code


@pytest.mark.parametrize(
    "text", ["", "26H1", "2026H3", "2026Q1", "6T/2026", "H1/2026", "2026--H1", "2026H", "abc"]
)
def test_parse_period_bad_text(text):
    with pytest.raises(ValueError) as exc:
        parse_period(text)
    msg = str(exc.value)
    assert "Kỳ báo cáo không hợp lệ" in msg
    assert " / Invalid reporting period" in msg
    assert "YYYYH1" in msg and "YYYY" in msg


def test_parse_period_not_a_string():
    with pytest.raises(TypeError, match="must be a string"):
        parse_period(2026)


def test_period_validation():
    with pytest.raises(ValueError, match="Half must be 1, 2 or None"):
        Period(2026, 3)
    with pytest.raises(TypeError, match="Year must be an int"):
        Period("2026", 1)


def test_kind_and_code():
    assert (H1_2026.kind, H1_2026.code) == ("H", "2026H1")
    assert (H2_2026.kind, H2_2026.code) == ("H", "2026H2")
    assert (Y_2026.kind, Y_2026.code) == ("Y", "2026")


def test_ordering_and_hashing():
    periods = [Period(2027, 1), Y_2026, H2_2026, Period(2025), H1_2026]
    assert sorted(periods) == [Period(2025), H1_2026, H2_2026, Y_2026, Period(2027, 1)]
    assert len({Period(2026, 1), parse_period("2026h1")}) == 1
    assert Period(2026) != Period(2026, 1)


def test_calendar_windows():
    assert H1_2026.calendar_window() == (date(2026, 1, 1), date(2026, 6, 30))
    assert H2_2026.calendar_window() == (date(2026, 7, 1), date(2026, 12, 31))
    assert Y_2026.calendar_window() == (date(2026, 1, 1), date(2026, 12, 31))


def test_admin_windows():
    assert H1_2026.admin_window() == (date(2025, 12, 15), date(2026, 6, 14))
    assert H2_2026.admin_window() == (date(2026, 6, 15), date(2026, 12, 14))
    assert Y_2026.admin_window() == (date(2025, 12, 15), date(2026, 12, 14))


def test_admin_halves_tile_the_admin_year():
    h1, h2 = Y_2026.contains_halves()
    assert h1.admin_window()[0] == Y_2026.admin_window()[0]
    assert h1.admin_window()[1] + timedelta(days=1) == h2.admin_window()[0]
    assert h2.admin_window()[1] == Y_2026.admin_window()[1]
    assert Period(2025, 2).admin_window()[1] + timedelta(days=1) == h1.admin_window()[0]


def test_previous_next_same_period_last_year():
    assert H1_2026.previous() == Period(2025, 2)
    assert H2_2026.previous() == H1_2026
    assert Y_2026.previous() == Period(2025)
    assert Period(2025, 2).next() == H1_2026
    assert H1_2026.same_period_last_year() == Period(2025, 1)
    assert Y_2026.same_period_last_year() == Period(2025)


def test_contains_halves():
    assert Y_2026.contains_halves() == [H1_2026, H2_2026]
    assert H2_2026.contains_halves() == [H2_2026]


# ----------------------------------------------------------------------- holidays


def test_vn_holidays_2027_as_listed_by_library():
    # Tết 2027 (6 Feb, a Saturday): the library moves the Sat/Sun Tết days to the
    # neighbouring weekdays, so Thu 4 Feb - Wed 10 Feb are all days off.
    h = vn_holidays(2027)
    assert {date(2027, 2, d) for d in range(4, 11)} <= h
    assert date(2027, 1, 1) in h
    assert date(2027, 5, 3) in h  # 1 May is a Saturday -> observed Mon 3 May
    assert {date(2027, 9, 2), date(2027, 9, 3)} <= h
    assert date(2027, 11, 24) in h  # Vietnam Cultural Day, from 2026
    assert all(d.year == 2027 for d in h)


def test_vn_holidays_multi_year_and_copy():
    both = vn_holidays([2026, 2027])
    assert both == vn_holidays(2026) | vn_holidays(2027)
    both.clear()  # returned set is a copy; the cache is untouched
    assert date(2026, 1, 1) in vn_holidays(2026)


def test_is_working_day_basics():
    assert is_working_day(date(2026, 6, 15))  # Monday
    assert not is_working_day(date(2026, 6, 13))  # Saturday
    assert not is_working_day(date(2026, 6, 14))  # Sunday
    assert not is_working_day(date(2026, 2, 17))  # Tết 2026
    assert not is_working_day(date(2026, 4, 30))
    assert not is_working_day(date(2026, 5, 1))
    assert not is_working_day(date(2026, 9, 2))
    assert is_working_day(datetime(2026, 6, 15, 10, 0, tzinfo=TZ))


def test_substituted_saturday_is_a_working_day():
    # 2026: Mon 31 Aug off, worked on Sat 22 Aug instead (per the library's static data).
    assert date(2026, 8, 22) in weekend_workdays(2026)
    assert is_working_day(date(2026, 8, 22))
    assert not is_working_day(date(2026, 8, 31))
    assert add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)


def test_add_working_days_skips_30_april_and_1_may():
    # Wed 29 Apr 2026; Thu 30 Apr and Fri 1 May are holidays.
    assert add_working_days(date(2026, 4, 29), 1) == date(2026, 5, 4)
    # 2025: 30 Apr Wed, 1 May Thu, 2 May Fri (swapped with Sat 26 Apr).
    assert add_working_days(date(2025, 4, 29), 1) == date(2025, 5, 5)


def test_add_working_days_skips_national_day():
    # 2025: Mon 1 and Tue 2 Sep.
    assert add_working_days(date(2025, 8, 29), 1) == date(2025, 9, 3)
    # 2026: Mon 31 Aug (swapped), Tue 1 and Wed 2 Sep.
    assert add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)


def test_add_working_days_edge_cases():
    assert add_working_days(date(2026, 6, 14), 0) == date(2026, 6, 14)
    assert add_working_days(date(2026, 6, 12), 1) == date(2026, 6, 15)  # Fri -> Mon
    with pytest.raises(ValueError, match="Working days must be an int >= 0"):
        add_working_days(date(2026, 6, 12), -1)


# ----------------------------------------------------------------------- deadlines


def test_commune_statistics_deadline_2026h1():
    # Window ends Tue 30 Jun 2026; 5 working days: 1, 2, 3, 6, 7 Jul.
    assert window(H1_2026, COMMUNE_STATISTICS) == (date(2026, 1, 1), date(2026, 6, 30))
    assert deadline(H1_2026, COMMUNE_STATISTICS) == datetime(2026, 7, 7, 23, 59, 59, tzinfo=TZ)


def test_admin_deadline_2026h1():
    # Decree 09 window ends Sun 14 Jun 2026; 2 working days -> Mon 15, Tue 16 Jun.
    assert window(H1_2026, ADMIN_DECREE_09) == (date(2025, 12, 15), date(2026, 6, 14))
    due = deadline(H1_2026, ADMIN_DECREE_09)
    assert due == datetime(2026, 6, 16, 23, 59, 59, tzinfo=TZ)
    assert due.date().weekday() == 1  # Tuesday
    assert due.utcoffset() == timedelta(hours=7)


def test_annual_province_statistics_deadline_crosses_tet_2027():
    # 31 Dec 2026 + 25 working days. Jan 2027: Fri 1 Jan off, then 20 working days
    # to Fri 29 Jan; Mon 1-Wed 3 Feb make 23; Thu 4-Wed 10 Feb are Tết days off;
    # Thu 11 Feb is 24th, Fri 12 Feb the 25th.
    end = date(2026, 12, 31)
    assert window(Y_2026, PROVINCE_STATISTICS)[1] == end
    due = deadline(Y_2026, PROVINCE_STATISTICS)
    assert due == datetime(2027, 2, 12, 23, 59, 59, tzinfo=TZ)
    naive_count = _count_without_holidays(end, 25)
    assert naive_count == date(2027, 2, 4)
    assert naive_count < due.date()


def test_rule_from_dict_and_grace():
    rule = DeadlineRule.from_dict(
        {
            "semantic": "calendar",
            "working_days": 5,
            "legal_basis": "Thông tư 37/2019/TT-BYT (cấp xã: 5 ngày làm việc)",
            "grace_days": 3,
        }
    )
    assert rule.grace_days == 3
    assert DeadlineRule.from_dict(rule.to_dict()) == rule
    assert close_at(H1_2026, rule) == datetime(2026, 7, 10, 23, 59, 59, tzinfo=TZ)
    assert close_at(H1_2026, COMMUNE_STATISTICS) == deadline(H1_2026, COMMUNE_STATISTICS)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"semantic": "calendar", "working_days": 5}, "Missing keys"),
        ({"semantic": "cal", "working_days": 5, "legal_basis": "x"}, "'calendar' or 'admin'"),
        ({"semantic": "admin", "working_days": -1, "legal_basis": "x"}, "working_days must"),
        ({"semantic": "admin", "working_days": 2, "legal_basis": " "}, "legal_basis is"),
        (
            {"semantic": "admin", "working_days": 2, "legal_basis": "x", "grace": 1},
            "Unknown keys",
        ),
    ],
)
def test_rule_from_dict_errors(data, fragment):
    with pytest.raises(ValueError, match=fragment):
        DeadlineRule.from_dict(data)


def test_reminder_dates():
    # Commune 2026H1 deadline is Tue 7 Jul 2026.
    assert reminder_dates(H1_2026, COMMUNE_STATISTICS) == [date(2026, 6, 30), date(2026, 7, 6)]
    assert reminder_dates(H1_2026, COMMUNE_STATISTICS, days_before=(1, 7, 1)) == [
        date(2026, 6, 30),
        date(2026, 7, 6),
    ]
    assert deadline_date(H1_2026, COMMUNE_STATISTICS) == date(2026, 7, 7)


def test_is_late_boundary_naive_local():
    assert not is_late(datetime(2026, 7, 7, 23, 59), H1_2026, COMMUNE_STATISTICS)
    assert not is_late(datetime(2026, 7, 7, 23, 59, 59, 999999), H1_2026, COMMUNE_STATISTICS)
    assert is_late(datetime(2026, 7, 8, 0, 0), H1_2026, COMMUNE_STATISTICS)


def test_is_late_boundary_aware():
    assert not is_late(datetime(2026, 7, 7, 23, 59, tzinfo=TZ), H1_2026, COMMUNE_STATISTICS)
    assert is_late(datetime(2026, 7, 8, 0, 0, tzinfo=TZ), H1_2026, COMMUNE_STATISTICS)
    # 16:59 UTC is 23:59 in Hanoi; 17:00 UTC is midnight.
    assert not is_late(datetime(2026, 7, 7, 16, 59, tzinfo=UTC), H1_2026, COMMUNE_STATISTICS)
    assert is_late(datetime(2026, 7, 7, 17, 0, tzinfo=UTC), H1_2026, COMMUNE_STATISTICS)
    # A naive 23:30 is local time, not UTC (which would be 06:30 the next day).
    assert not is_late(datetime(2026, 7, 7, 23, 30), H1_2026, COMMUNE_STATISTICS)


def test_open_at():
    assert open_at(H1_2026, COMMUNE_STATISTICS) == datetime(2026, 7, 1, 0, 0, tzinfo=TZ)
    assert open_at(H1_2026, ADMIN_DECREE_09) == datetime(2026, 6, 15, 0, 0, tzinfo=TZ)
    assert open_at(Y_2026, PROVINCE_STATISTICS) == datetime(2027, 1, 1, 0, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("now", "kind", "semantic", "expected"),
    [
        (datetime(2026, 7, 1, 0, 0), "H", "calendar", "2026H1"),
        (datetime(2026, 6, 30, 23, 59), "H", "calendar", "2025H2"),
        (datetime(2026, 3, 10, 9, 0), "H", "calendar", "2025H2"),
        (datetime(2026, 12, 31, 12, 0), "H", "calendar", "2026H1"),
        (datetime(2027, 1, 5, 12, 0), "H", "calendar", "2026H2"),
        (datetime(2026, 6, 15, 8, 0), "H", "admin", "2026H1"),
        (datetime(2026, 6, 14, 8, 0), "H", "admin", "2025H2"),
        (datetime(2026, 12, 15, 8, 0), "h", "admin", "2026H2"),
        (datetime(2026, 8, 1), "Y", "calendar", "2025"),
        (datetime(2027, 1, 1), "Y", "calendar", "2026"),
        (datetime(2026, 12, 15), "Y", "admin", "2026"),
        # 30 Jun 18:00 UTC is 1 Jul 01:00 in Hanoi.
        (datetime(2026, 6, 30, 18, 0, tzinfo=UTC), "H", "calendar", "2026H1"),
    ],
)
def test_current_period(now, kind, semantic, expected):
    assert current_period(now, kind, semantic).code == expected


def test_current_period_bad_kind():
    with pytest.raises(ValueError, match="kind must be 'H' or 'Y'"):
        current_period(datetime(2026, 7, 1), "Q")
