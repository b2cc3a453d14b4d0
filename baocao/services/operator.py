"""An operator's decisions and questions: accept a warning, accept an overridable error, release a
held version, reopen a closed cycle, a unit's version history, the Great Expectations data docs of
a cycle. The rules behind the decisions are in `baocao.decisions`."""

from __future__ import annotations

from pathlib import Path

from baocao import decisions
from baocao.services import process
from baocao.services.process import previous_values
from warehouse import queries


def accept_warning(res, unit: str, period: str, element: str, rule: str, by: str, reason: str = "") -> dict:
    """Record an operator's decision to accept a warning for a unit and period. The flagged value
    stays flagged in its version (lineage); later versions are not warned again for it."""
    con = res.con()
    dataset = queries.warning_dataset(con, unit, period, element, rule)
    if dataset is None:
        raise ValueError(f"Không có cảnh báo {rule} cho {element} của {unit} kỳ {period}"
                         f" / no warning {rule} on {element} for {unit} in {period}")
    earlier = queries.warning_acceptance(con, unit, period, dataset, element, rule)
    if earlier is not None:
        return {"unit_code": unit, "period": period, "dataset_code": dataset, "rule_id": rule, "element_code": element,
                "accepted_by": earlier[0], "accepted_at": earlier[1], "reason": earlier[2], "already": True}
    row = {"unit_code": unit, "period": period, "dataset_code": dataset, "rule_id": rule, "element_code": element,
           "accepted_by": by, "reason": reason or None}
    queries.accept_warning(con, row)
    return {**row, "accepted_at": res.now(), "already": False}


def versions(con, unit: str, period: str | None = None) -> list[tuple]:
    """A unit's history: every version with its validation result and whether it is the one that
    counts. `con`: the writer's cursor or a read-only snapshot's connection."""
    return queries.unit_history(con, unit, period)


def build_data_docs(res, period: str) -> Path:
    """Great Expectations data docs for the cycle (the latest version from each unit), readable
    offline, under <home>/datadocs/<period>/index.html."""
    from expectations.docs import build_data_docs as _build
    from expectations.validate import BatchItem, suite_exists, tasks_frame, values_frame
    from intake.parse import parse_file

    cat = res.cat
    con = res.con()
    batches = {}
    for ds in queries.datasets_of_period(con, period):
        items = []
        for unit, path in queries.latest_files(con, period, ds):
            p = parse_file(Path(path), inbox_unit=unit, cat=cat)
            if not p.has_errors:
                items.append(BatchItem(key=unit, unit_code=unit, values=p.values, tasks=p.tasks))
        if not items:
            continue
        if suite_exists(ds):
            batches[ds] = values_frame(ds, items, previous_values(con, period, ds), cat)
        if suite_exists(f"{ds}__tasks"):
            tdf, _ = tasks_frame(ds, items, cat)
            if len(tdf):
                batches[f"{ds}__tasks"] = tdf
    return _build(res.settings.datadocs / period, batches, run_name=period)


# ------------------------------------------------------------ errors overridden, periods decided


def accept_error(res, unit: str, period: str, rule: str, by: str, reason: str) -> dict:
    """Accept an overridable error for a unit and period (who, the clock's now, why); when no other
    error is left the unit counts, and the marts and the snapshot are rebuilt to show it."""
    row = decisions.accept_error(res.con(), unit, period, rule, by, reason, cat=res.cat, now=res.now())
    if row["status"] == "accepted_by_override":
        refresh(res)
    return row


def release(res, submission_id: str, by: str, reason: str) -> dict:
    """A version held for arriving after its cycle's closing date counts from now on."""
    row = decisions.release_held(res.con(), submission_id, by, reason, now=res.now())
    refresh(res)
    return row


def held(con, period: str | None = None) -> list[tuple]:
    """Versions waiting for the operator's decision. `con`: the writer's cursor or a snapshot's."""
    return decisions.held(con, period)


def reopen(res, period: str, dataset_code: str, by: str, reason: str, days: int = 7) -> dict:
    """Reopen a closed cycle for `days` days from the clock's now (recorded)."""
    return decisions.reopen_cycle(res.con(), period, dataset_code, by, reason, days=days, now=res.now())


def refresh(res) -> None:
    """Rebuild the marts and publish the snapshot, so analysts see a decision's effect."""
    process.aggregate(res)
    process.publish_all(res)


# ---------------------------------------------------------------------------- reminders on demand


def remind(res, unit: str, period: str, dataset_code: str, stage: str, catalog_dir: Path | None = None) -> list[str]:
    """An operator's reminder to one unit, now, through the outbox (its own key, `stage`, so it is
    sent once; checked again when it is sent: the unit has since reported → not sent). Before the
    deadline it is a reminder with the working days left; after it, an overdue notice (a reminder
    past its deadline is never true). Hands the row to delivery; returns the keys enqueued (none if
    this stage was already asked for)."""
    from baocao import calendar
    from baocao import events as ev
    from baocao.services.deliver import handoff
    from notifications.notify import enqueue_due
    from notifications.schedule import Due

    con = res.con()
    row = con.execute("select deadline_at, closed_at from ops.cycle where period = ? and dataset_code = ?",
                      [period, dataset_code]).fetchone()
    if row is None:
        raise ValueError(f"Không có kỳ {period} {dataset_code} / no cycle {period} {dataset_code}")
    deadline, closed = row
    now = res.now()
    if closed is not None and closed <= now:
        raise ValueError(f"Kỳ {period} {dataset_code} đã đóng / the cycle is closed")
    if unit not in {u.code for u in res.cat.expected_units(dataset_code)}:
        raise ValueError(f"{unit} không phải báo cáo {dataset_code} / {unit} does not report {dataset_code}")
    today, due_day = now.astimezone(calendar.TZ).date(), deadline.astimezone(calendar.TZ).date()
    late = now > deadline
    days = (today - due_day).days if late else (due_day - today).days  # as the send-time rendering counts
    due = Due(kind="overdue" if late else "reminder", period=period, dataset_code=dataset_code, unit_code=unit,
              stage=stage, audience="unit", days=max(days, 0), received=_received(con, unit, period, dataset_code))
    keys = enqueue_due(con, [due], deadline=deadline, **({"catalog_dir": catalog_dir} if catalog_dir else {}))
    n = handoff(res)  # into the delivery store, announced: the deliver-notifications flow sends it
    if n:
        res.events.emit(ev.outbox_enqueued(n))
    return keys


def _received(con, unit: str, period: str, dataset_code: str) -> bool:
    return con.execute("select count(*) from raw.submission where unit_code = ? and period = ? and dataset_code = ?",
                       [unit, period, dataset_code]).fetchone()[0] > 0
