"""notifications.schedule: which notifications are due when (pure; no Slack, no DuckDB)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifications.schedule import TZ as VN
from notifications.schedule import Due, UnitStatus, due_notifications, make_key

DEADLINE = datetime(2026, 7, 10, 23, 59, 59, tzinfo=VN)
OPENED = datetime(2026, 7, 1, 0, 0, tzinfo=VN)
UNITS = [
    UnitStatus("LD.24781", accepted=False, received=False),
    UnitStatus("LD.24787", accepted=False, received=True),  # sent, rejected
    UnitStatus("LD.24778", accepted=True, received=True),
]


def due_at(now: datetime, **kw) -> list[Due]:
    return due_notifications(
        dataset_code="XA_6T",
        period="2026H1",
        units=UNITS,
        deadline=DEADLINE,
        now=now,
        opened_at=OPENED,
        **kw,
    )


def keys(items: list[Due]) -> list[str]:
    return [d.key for d in items]


def test_key_is_kind_period_dataset_unit_stage():
    assert (
        make_key("reminder", "2026H1", "XA_6T", "LD.24781", "d-7")
        == "reminder:2026H1:XA_6T:LD.24781:d-7"
    )
    with pytest.raises(ValueError):
        make_key("reminder", "2026H1", "XA_6T", "LD:X001", "d-7")
    with pytest.raises(ValueError):
        make_key("spam", "2026H1", "XA_6T", "LD.24781", "d-7")


def test_nothing_before_opening():
    assert due_at(datetime(2026, 6, 30, 12, tzinfo=VN)) == []


def test_cycle_opened_to_units_that_sent_nothing():
    assert keys(due_at(OPENED)) == ["cycle_opened:2026H1:XA_6T:LD.24781:opened"]


def test_reminder_d7_for_units_without_an_accepted_submission():
    items = [d for d in due_at(datetime(2026, 7, 3, 8, tzinfo=VN)) if d.kind == "reminder"]
    assert keys(items) == ["reminder:2026H1:XA_6T:LD.24781:d-7", "reminder:2026H1:XA_6T:LD.24787:d-7"]
    assert [(d.days, d.received, d.audience) for d in items] == [
        (7, False, "unit"),
        (7, True, "unit"),
    ]


def test_only_the_latest_reminder_is_due():
    items = [d for d in due_at(datetime(2026, 7, 9, 9, tzinfo=VN)) if d.kind == "reminder"]
    assert {d.stage for d in items} == {"d-1"}
    assert {d.days for d in items} == {1}


def test_reminder_days_are_configurable():
    items = due_at(datetime(2026, 6, 27, 9, tzinfo=VN), reminder_days=(14, 3))
    assert {d.stage for d in items if d.kind == "reminder"} == {"d-14"}
    with pytest.raises(ValueError):
        due_at(OPENED, reminder_days=(7, -1))


def test_overdue_after_the_deadline_then_escalation_after_n_days():
    first = due_at(datetime(2026, 7, 11, 8, tzinfo=VN))
    assert keys(first) == [
        "overdue:2026H1:XA_6T:LD.24781:overdue",
        "overdue:2026H1:XA_6T:LD.24787:overdue",
    ]
    assert {d.days for d in first} == {1}
    later = due_at(datetime(2026, 7, 14, 8, tzinfo=VN))
    assert keys(later) == [
        "overdue:2026H1:XA_6T:LD.24781:overdue",
        "escalation:2026H1:XA_6T:LD.24781:escalation",
        "escalation:2026H1:XA_6T:LD.24781:escalation-operator",
        "overdue:2026H1:XA_6T:LD.24787:overdue",
        "escalation:2026H1:XA_6T:LD.24787:escalation",
        "escalation:2026H1:XA_6T:LD.24787:escalation-operator",
    ]
    assert [d.audience for d in later if d.kind == "escalation"] == ["supervisor", "operator"] * 2
    assert {d.days for d in later} == {4}
    # escalate_after_days is configurable
    assert not [
        d
        for d in due_at(datetime(2026, 7, 14, 8, tzinfo=VN), escalate_after_days=5)
        if d.kind == "escalation"
    ]


def test_accepted_units_get_nothing_and_until_stops_everything():
    assert not [d for d in due_at(datetime(2026, 7, 14, 8, tzinfo=VN)) if d.unit_code == "LD.24778"]
    assert due_at(datetime(2026, 7, 30, tzinfo=VN), until=datetime(2026, 7, 20, tzinfo=VN)) == []


def test_same_moment_same_keys_and_times_compare_in_vietnam():
    # 2026-07-02 17:30 UTC is already 3 July in Vietnam: d-7 is due
    utc = due_at(datetime(2026, 7, 2, 17, 30, tzinfo=UTC))
    assert "reminder:2026H1:XA_6T:LD.24781:d-7" in keys(utc)
    assert keys(utc) == keys(due_at(datetime(2026, 7, 3, 0, 30)))  # naive = local time


def test_rows_may_be_tuples_or_dicts():
    rows = [("LD.24781", False, False), {"unit_code": "LD.24787", "accepted": True, "received": True}]
    items = due_notifications(
        dataset_code="XA_6T",
        period="2026H1",
        units=rows,
        deadline=DEADLINE,
        now=datetime(2026, 7, 11, 8, tzinfo=VN),
    )
    assert keys(items) == ["overdue:2026H1:XA_6T:LD.24781:overdue"]
