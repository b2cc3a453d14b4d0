"""What `baocao.services.answer` calls: render for the right recipient and language, then enqueue.

    enqueue_feedback(con, unit_code=…, period=…, dataset_code=…, submission_id=…, status=…, findings=…)
    enqueue_schedule(con, dataset_code=…, period=…, units=…, deadline=…, now=…, opened_at=…)
    enqueue_operator_summary(con, dataset_code=…, period=…, units=…, stage=…)
    then baocao.services.deliver: handoff(res) in the same run, deliver(res) without the warehouse

Names (units, data sets) are read from catalog/org_units.csv and catalog/datasets.yaml;
recipients (channel or e-mails, language, supervisor) from catalog/recipients.csv.
"""

from __future__ import annotations

import csv
import functools
import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

from notifications import render
from notifications.outbox import OPERATOR, enqueue, recipient_for
from notifications.schedule import (
    DEFAULT_ESCALATE_AFTER_DAYS,
    DEFAULT_REMINDER_DAYS,
    TZ,
    Due,
    UnitStatus,
    due_notifications,
)

log = logging.getLogger(__name__)
CATALOG = Path(__file__).resolve().parents[1] / "catalog"


@functools.cache
def _unit_names(folder: str) -> dict[str, str]:
    path = Path(folder) / "org_units.csv"
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        return {r["code"]: r["name"] for r in csv.DictReader(fh) if r.get("code")}


@functools.cache
def _dataset_names(folder: str) -> dict[str, tuple[str, str]]:
    path = Path(folder) / "datasets.yaml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        d["code"]: (d.get("name") or d["code"], d.get("name_en") or d.get("name") or d["code"])
        for d in data.get("datasets", [])
        if isinstance(d, dict) and d.get("code")
    }


def unit_name(code: str, catalog_dir: Path = CATALOG) -> str | None:
    return _unit_names(str(catalog_dir)).get(code)


def dataset_name(code: str, lang: str = "vi", catalog_dir: Path = CATALOG) -> str | None:
    names = _dataset_names(str(catalog_dir)).get(code)
    if names is None:
        return None
    return names[1] if lang == "en" else names[0]


def _recipients_csv(catalog_dir: Path) -> Path:
    return Path(catalog_dir) / "recipients.csv"


def enqueue_feedback(
    con: duckdb.DuckDBPyConnection,
    *,
    unit_code: str,
    period: str,
    dataset_code: str,
    submission_id: str,
    status: str,
    findings: Iterable[Any] = (),
    full_list: str | None = None,
    version: int | None = None,
    received_at: datetime | None = None,
    deadline: date | datetime | None = None,
    max_findings: int = 10,
    catalog_dir: Path = CATALOG,
) -> bool:
    """Validation feedback for one submission (key feedback:period:dataset:unit:<submission_id>).

    False if this submission's feedback was already enqueued. Raises KeyError if the unit has no
    row in recipients.csv."""
    who = recipient_for(unit_code, _recipients_csv(catalog_dir))
    kwargs = {
        "unit_code": unit_code,
        "unit_name": unit_name(unit_code, catalog_dir),
        "dataset_code": dataset_code,
        "dataset_name": dataset_name(dataset_code, who.lang, catalog_dir),
        "period": period,
        "status": status,
        "findings": [render._finding_dict(f) for f in findings],
        "full_list": full_list,
        "version": version,
        "received_at": received_at,
        "deadline": deadline,
        "max_findings": max_findings,
        "lang": who.lang,
    }
    message = render.feedback(**kwargs)
    return enqueue(
        con,
        kind="feedback",
        period=period,
        dataset_code=dataset_code,
        unit_code=unit_code,
        stage=submission_id,
        recipient=who.address,
        message=message,
        lang=who.lang,
        event_at=received_at,
        render=("feedback", kwargs),
    )


def render_due(due: Due, *, deadline: date | datetime, catalog_dir: Path = CATALOG):
    """(recipient address, lang, Message) for one Due item, or None if nobody can receive it."""
    csv_path = _recipients_csv(catalog_dir)
    unit = recipient_for(due.unit_code, csv_path)
    if due.audience == "unit":
        who = unit
    elif due.audience == "supervisor":
        if not unit.supervisor_code:
            return None
        who = recipient_for(unit.supervisor_code, csv_path)
    else:
        who = recipient_for(OPERATOR, csv_path)
    common: dict[str, Any] = {
        "unit_code": due.unit_code,
        "unit_name": unit_name(due.unit_code, catalog_dir),
        "dataset_code": due.dataset_code,
        "dataset_name": dataset_name(due.dataset_code, who.lang, catalog_dir),
        "period": due.period,
        "deadline": deadline,
        "lang": who.lang,
    }
    # the Slack door (SLACK_APP_TOKEN) attaches the unit's pre-filled workbook to these three
    from baocao.settings import Settings

    s = Settings.from_env()
    in_thread = bool(s.slack_bot_token and s.slack_app_token)
    if due.kind == "cycle_opened":
        kwargs = {**common, "form_in_thread": in_thread, "web_link_at_send": bool(s.web_url)}  # link: web/links.py
    elif due.kind == "reminder":
        kwargs = {**common, "days_left": due.days, "received": due.received, "form_in_thread": in_thread}
    elif due.kind == "overdue":
        kwargs = {**common, "days_late": due.days, "received": due.received, "form_in_thread": in_thread}
    elif due.kind == "escalation":
        sup = unit.supervisor_code
        kwargs = {
            **common,
            "days_late": due.days,
            "received": due.received,
            "audience": due.audience,
            "supervisor_name": (unit_name(sup, catalog_dir) or sup) if sup else None,
        }
    else:
        raise ValueError(f"không lập lịch được loại / not a scheduled kind: {due.kind}")
    msg = getattr(render, due.kind)(**kwargs)
    return who.address, who.lang, msg, (due.kind, kwargs)


def event_time(due: Due, *, deadline: date | datetime, opened_at: datetime | None = None,
               escalate_after_days: int = DEFAULT_ESCALATE_AFTER_DAYS) -> datetime:
    """When the event a scheduled notification reports happened (delivery order per recipient):
    the cycle opening, the reminder's day (00:00 local), the deadline, the escalation day."""
    dl = deadline if isinstance(deadline, datetime) else datetime.combine(deadline, time(23, 59, 59))
    dl = dl if dl.tzinfo else dl.replace(tzinfo=TZ)
    if due.kind == "cycle_opened" and opened_at is not None:
        return opened_at if opened_at.tzinfo else opened_at.replace(tzinfo=TZ)
    if due.kind == "reminder":
        if due.stage.startswith("web-"):  # an operator's reminder from the web page, when it was asked
            at = datetime.strptime(due.stage.removeprefix("web-"), "%Y%m%d%H%M%S").replace(tzinfo=TZ)
        else:  # the schedule's "d-7": that day, 00:00 local
            n = int(due.stage.removeprefix("d-"))
            at = datetime.combine(dl.astimezone(TZ).date() - timedelta(days=n), time(0), tzinfo=TZ)
        if opened_at is not None:  # a cycle opened late: its reminders come after "cycle opened"
            opened = opened_at if opened_at.tzinfo else opened_at.replace(tzinfo=TZ)
            at = max(at, opened + timedelta(seconds=1))
        return at
    if due.kind == "escalation":
        return dl + timedelta(days=escalate_after_days)
    return dl


def enqueue_due(
    con: duckdb.DuckDBPyConnection,
    due: Iterable[Due],
    *,
    deadline: date | datetime,
    catalog_dir: Path = CATALOG,
    opened_at: datetime | None = None,
    escalate_after_days: int = DEFAULT_ESCALATE_AFTER_DAYS,
) -> list[str]:
    """Render and enqueue each Due item; returns the keys newly enqueued.

    Units missing from recipients.csv, and escalations for units without a supervisor, are
    skipped with a warning in the log."""
    added = []
    for d in due:
        try:
            rendered = render_due(d, deadline=deadline, catalog_dir=catalog_dir)
        except KeyError as exc:
            log.warning("%s", exc)
            continue
        if rendered is None:
            log.info("no supervisor for %s; %s skipped", d.unit_code, d.key)
            continue
        address, lang, msg, spec = rendered
        if enqueue(
            con,
            kind=d.kind,
            period=d.period,
            dataset_code=d.dataset_code,
            unit_code=d.unit_code,
            stage=d.stage,
            recipient=address,
            message=msg,
            lang=lang,
            event_at=event_time(d, deadline=deadline, opened_at=opened_at, escalate_after_days=escalate_after_days),
            render=spec,
        ):
            added.append(d.key)
    return added


def enqueue_schedule(
    con: duckdb.DuckDBPyConnection,
    *,
    dataset_code: str,
    period: str,
    units: Iterable[UnitStatus | Mapping[str, Any] | tuple],
    deadline: datetime,
    now: datetime,
    opened_at: datetime | None = None,
    until: datetime | None = None,
    reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS,
    escalate_after_days: int = DEFAULT_ESCALATE_AFTER_DAYS,
    catalog_dir: Path = CATALOG,
) -> list[str]:
    """Cycle-opened, reminder, overdue and escalation notifications due at `now`; returns the
    keys newly enqueued (safe to call as often as you like)."""
    due = due_notifications(
        dataset_code=dataset_code,
        period=period,
        units=units,
        deadline=deadline,
        now=now,
        opened_at=opened_at,
        until=until,
        reminder_days=reminder_days,
        escalate_after_days=escalate_after_days,
    )
    return enqueue_due(con, due, deadline=deadline, catalog_dir=catalog_dir, opened_at=opened_at,
                       escalate_after_days=escalate_after_days)


def enqueue_operator_summary(
    con: duckdb.DuckDBPyConnection,
    *,
    dataset_code: str,
    period: str,
    units: Iterable[tuple[str, str]],
    stage: str,
    deadline: date | datetime | None = None,
    as_of: datetime | None = None,
    full_list: str | None = None,
    catalog_dir: Path = CATALOG,
) -> bool:
    """The operator's summary; `units` = (unit_code, status) with status accepted |
    accepted_with_warnings | rejected | missing; `stage` names the moment (e.g. "2026-07-10"
    or "closing"), one summary per stage."""
    who = recipient_for(OPERATOR, _recipients_csv(catalog_dir))
    kwargs = {
        "dataset_code": dataset_code,
        "dataset_name": dataset_name(dataset_code, who.lang, catalog_dir),
        "period": period,
        "units": [(code, unit_name(code, catalog_dir), st) for code, st in units],
        "deadline": deadline,
        "as_of": as_of,
        "full_list": full_list,
        "lang": who.lang,
    }
    msg = render.operator_summary(**kwargs)
    return enqueue(
        con,
        kind="operator_summary",
        period=period,
        dataset_code=dataset_code,
        unit_code=OPERATOR,
        stage=stage,
        recipient=who.address,
        message=msg,
        lang=who.lang,
        event_at=as_of,
        render=("operator_summary", kwargs),
    )
