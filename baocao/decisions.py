"""Periods respected and the operator's decisions (plain functions; the services are baocao/services/operator.py, the CLI cli/decisions.py).

- `period_finding`: a file for a period that has not ended is refused with the date it opens
  (S17); a file for a closed cycle is refused with the command that reopens it (S10); a version
  sent after its cycle's closing date is *held* (S18: recorded, not counted) until the operator
  releases it. (S11–S16 are the intake's file rules, intake/parse/.)
- `accept_error`: an error of a rule marked `overridable: true` in catalog/validation_rules.yaml
  accepted for one unit, period and element, with who, when and why (ops.error_override); the
  version counts (status accepted_by_override) and later versions are not refused for it.
- `release_held`, `reopen_cycle`: the operator's answers to a held version and a closed cycle.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from baocao import calendar
from baocao.findings import Finding, error, warning

HOLD_RULE = "S18"


def _day(ts: datetime) -> str:
    return ts.astimezone(calendar.TZ).strftime("%d/%m/%Y")


def period_finding(period: str, dataset_code: str, received_at: datetime, cycles: dict, cat,
                   where: dict) -> Finding | None:
    """The finding that refuses (error) or holds (warning S18) a file for its period, or None.
    `cycles`: (period, data set) -> ops.cycle row; `where`: sheet/cell of the period.

    A period is past once the province has opened a later cycle of the data set; a version that
    arrives after a past period's closing date is held (the period's figures may already be
    published and compared), whether or not the operator formally closed it."""
    cycle = cycles.get((period, dataset_code))
    open_periods = sorted({p for (p, d), c in cycles.items() if d == dataset_code and c["closed_at"] is None})
    later = any(d == dataset_code and p > (period or "") for p, d in cycles)
    ds = cat.datasets.get(dataset_code)
    try:
        per = calendar.parse_period(period)
    except (ValueError, TypeError, AttributeError):
        per = None
    if ds is not None and per is not None:
        opens = calendar.open_at(per, calendar.DeadlineRule.from_dict(ds.deadline))
        if received_at < opens:
            return error(
                "S17", f"Kỳ báo cáo {per.code} chưa kết thúc: báo cáo {dataset_code} nhận từ ngày {_day(opens)}",
                f"Period {per.code} has not ended: report {dataset_code} is received from {opens:%d %b %Y}",
                value_raw=per.code, **where,
                expected_vi=f"gửi lại từ ngày {_day(opens)}, với số liệu cả kỳ",
                expected_en=f"send it again from {opens:%d %b %Y}, with the whole period's figures")
    if cycle is not None and cycle["closed_at"] is not None:
        return error(
            "S10", f"Kỳ báo cáo {period} của báo cáo {dataset_code} đã đóng ngày {_day(cycle['closed_at'])}",
            f"Period {period} of report {dataset_code} was closed on {cycle['closed_at']:%d %b %Y}",
            value_raw=period, **where,
            expected_vi=f"liên hệ tỉnh; tỉnh mở lại bằng lệnh: baocao cycle reopen {period} --dataset {dataset_code}"
                        " --reason … --by …",
            expected_en=f"contact the province; it reopens the cycle with: baocao cycle reopen {period}"
                        f" --dataset {dataset_code} --reason … --by …")
    if cycle is None:
        listed = ", ".join(open_periods) or "không có"
        return error(
            "S10", f"Kỳ báo cáo {period} của báo cáo {dataset_code} chưa mở",
            f"Period {period} of report {dataset_code} is not open", value_raw=period, **where,
            expected_vi=f"kỳ đang mở: {listed}", expected_en=f"open periods: {', '.join(open_periods) or 'none'}")
    if later and received_at > cycle["close_at"]:
        return warning(
            HOLD_RULE, f"Gửi sau ngày đóng kỳ {_day(cycle['close_at'])}: bản này được giữ lại chờ tỉnh quyết định,"
            " chưa đưa vào tổng hợp", f"Sent after the cycle's closing date {cycle['close_at']:%d %b %Y}: this version"
            " is held for the province's decision and does not count yet", value_raw=period, **where,
            expected_vi="tỉnh xem xét và quyết định; không cần gửi lại", expected_en="the province decides; no need to resend")
    return None


# ------------------------------------------------------------------------------- overrides

def overridable(cat, rule: str) -> bool:
    return any(r["id"] == rule and r.get("overridable") for r in cat.rules.get("rules", []))


def overrides(con, period: str) -> dict[tuple[str, str, str, str], tuple[str, str]]:
    """(unit, data set, rule, element) -> (decided_by, reason) for a period."""
    rows = con.execute("""select unit_code, dataset_code, rule_id, element_code, decided_by, reason
                          from ops.error_override where period = ?""", [period]).fetchall()
    return {(u, d, r, e): (by, why) for u, d, r, e, by, why in rows}


def apply_overrides(rec, decided: dict) -> None:
    """Turn the errors the operator accepted for this unit into flagged warnings saying so; when no
    error is left the version counts as accepted_by_override."""
    hit = False
    for i, f in enumerate(rec.findings):
        key = (rec.unit_code, rec.dataset_code, f.rule_id, f.element_code)
        if f.severity == "error" and key in decided:
            by, why = decided[key]
            rec.findings[i] = replace(f, severity="warning",
                                      message_vi=f"{f.message_vi} — tỉnh đã chấp nhận ({by}: {why})",
                                      message_en=f"{f.message_en} — accepted by the province ({by}: {why})")
            hit = True
    if hit and not rec.n_errors and rec.decision is None:
        rec.decision = "override"


def accept_error(con, unit: str, period: str, rule: str, by: str, reason: str, cat=None,
                 now: datetime | None = None) -> dict:
    """Record the operator's acceptance of an overridable error; the latest version refused for it
    counts if no other error is left. Returns what happened (status of that version)."""
    import catalog as catalog_mod

    cat = cat or catalog_mod.load()
    if not overridable(cat, rule):
        raise ValueError(f"Quy tắc {rule} không được phép chấp nhận (catalog/validation_rules.yaml: overridable)"
                         f" / rule {rule} is not overridable")
    if not (by or "").strip() or not (reason or "").strip():
        raise ValueError("Cần ghi người quyết định (--by) và lý do (--reason) / --by and --reason are required")
    found = con.execute("""select s.submission_id, s.dataset_code, f.element_code from raw.finding f
                           join raw.submission s using (submission_id)
                           where s.unit_code = ? and s.period = ? and f.rule_id = ? and f.severity = 'error'
                           order by s.version desc limit 1""", [unit, period, rule]).fetchone()
    if not found:
        raise ValueError(f"Không có lỗi {rule} của {unit} kỳ {period} / no {rule} error for {unit} in {period}")
    sid, ds, element = found
    now = now or datetime.now(UTC)
    con.execute("begin transaction")
    try:
        con.execute("""insert or replace into ops.error_override (unit_code, period, dataset_code, rule_id, element_code,
                       submission_id, decided_by, reason, decided_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [unit, period, ds, rule, element, sid, by.strip(), reason.strip(), now])
        status, left = _count_if_clear(con, sid, cat)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return {"unit_code": unit, "period": period, "dataset_code": ds, "rule_id": rule, "element_code": element,
            "submission_id": sid, "decided_by": by.strip(), "reason": reason.strip(), "status": status,
            "errors_left": left}


def _count_if_clear(con, sid: str, cat) -> tuple[str, list[str]]:
    """If every error of the version is overridden, load its values (read again from the stored
    file) and mark it accepted_by_override. Returns (status, errors not overridden)."""
    from intake.parse import parse_file
    from warehouse.load import SubmissionRecord, insert_facts

    row = con.execute("""select unit_code, period, dataset_code, stored_path, status, file_name, sha256, size_bytes,
                         file_format, received_at, source, is_late from raw.submission where submission_id = ?""",
                      [sid]).fetchone()
    unit, period, ds, path, status, *rest = row
    decided = overrides(con, period)
    errs = con.execute("""select rule_id, element_code from raw.finding where submission_id = ? and severity = 'error'""",
                       [sid]).fetchall()
    left = [f"{r} {e or ''}".strip() for r, e in errs if (unit, ds, r, e) not in decided]
    if left or status != "rejected":
        return status, left
    p = parse_file(Path(path), inbox_unit=unit, cat=cat)
    if p.has_errors:  # the stored file no longer reads as it did: leave it refused
        return status, [f.rule_id for f in p.findings if f.severity == "error"]
    rec = SubmissionRecord(sid, unit, period, ds, rest[0], path, rest[1], rest[2], rest[3], rest[4], rest[5], rest[6],
                           findings=[Finding("warning", r, "", "", element_code=e) for r, e in errs],
                           values=p.values, tasks=p.tasks, texts=p.texts, decision="override")
    if con.execute("select count(*) from core.data_value where submission_id = ?", [sid]).fetchone()[0] == 0:
        insert_facts(con, [rec])
    con.execute("update raw.submission set status = 'accepted_by_override' where submission_id = ?", [sid])
    return "accepted_by_override", []


def override_list(con, period: str) -> list[dict]:
    """Every error the operator accepted for a period, for the report: unit, rule, element, value,
    who, when, why, and whether that unit's figures count through it."""
    rows = con.execute("""
        select o.unit_code, ou.name as unit_name, o.dataset_code, o.rule_id, o.element_code, f.value_raw,
               o.decided_by, o.reason, o.decided_at,
               cs.status = 'accepted_by_override' as counts
        from ops.error_override o
        left join core.org_unit ou on ou.unit_code = o.unit_code
        left join raw.finding f on f.submission_id = o.submission_id and f.rule_id = o.rule_id
                               and f.element_code = o.element_code
        left join core.current_submission cs on cs.unit_code = o.unit_code and cs.period = o.period
                                            and cs.dataset_code = o.dataset_code
        where o.period = ?
        order by o.unit_code, o.rule_id, o.element_code""", [period]).fetchall()
    keys = ("unit_code", "unit_name", "dataset_code", "rule_id", "element_code", "value_raw", "decided_by", "reason",
            "decided_at", "counts")
    return [dict(zip(keys, r, strict=True)) for r in rows]


# --------------------------------------------------------------------------------- periods

def release_held(con, submission_id: str, by: str, reason: str, now: datetime | None = None) -> dict:
    """A held version counts from now on (it becomes the unit's latest accepted version)."""
    if not (by or "").strip() or not (reason or "").strip():
        raise ValueError("Cần ghi người quyết định (--by) và lý do (--reason) / --by and --reason are required")
    row = con.execute("select unit_code, period, dataset_code, status from raw.submission where submission_id = ?",
                      [submission_id]).fetchone()
    if row is None or row[3] != "held":
        raise ValueError(f"Không có bản báo cáo đang giữ lại với mã {submission_id}"
                         f" / no held version {submission_id} (see `baocao held`)")
    unit, period, ds, _ = row
    others = con.execute("""select count(*) from raw.finding where submission_id = ? and severity = 'warning'
                            and rule_id <> ?""", [submission_id, HOLD_RULE]).fetchone()[0]
    status = "accepted_with_warnings" if others else "accepted"
    con.execute("begin transaction")
    try:
        con.execute("update raw.submission set status = ? where submission_id = ?", [status, submission_id])
        con.execute("""insert into ops.period_decision (decision, period, dataset_code, unit_code, submission_id,
                       decided_by, reason, decided_at) values ('release', ?, ?, ?, ?, ?, ?, ?)""",
                    [period, ds, unit, submission_id, by.strip(), reason.strip(), now or datetime.now(UTC)])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return {"submission_id": submission_id, "unit_code": unit, "period": period, "dataset_code": ds, "status": status}


def held(con, period: str | None = None) -> list[tuple]:
    """Versions waiting for the operator: (submission id, unit, period, data set, version, received at)."""
    return con.execute("""select submission_id, unit_code, period, dataset_code, version, received_at
                          from raw.submission where status = 'held' and (? is null or period = ?)
                          order by period, dataset_code, unit_code, version""", [period, period]).fetchall()


def reopen_cycle(con, period: str, dataset_code: str, by: str, reason: str, days: int = 7,
                 now: datetime | None = None) -> dict:
    """Reopen a closed (or past-closing) cycle for `days` days from now: files are taken again and
    count; the decision is recorded."""
    if not (by or "").strip() or not (reason or "").strip():
        raise ValueError("Cần ghi người quyết định (--by) và lý do (--reason) / --by and --reason are required")
    now = now or datetime.now(UTC)
    until = now + timedelta(days=days)
    n = con.execute("""update ops.cycle set closed_at = null, close_at = greatest(close_at, ?)
                       where period = ? and dataset_code = ? returning 1""", [until, period, dataset_code]).fetchall()
    if not n:
        raise ValueError(f"Kỳ {period} của báo cáo {dataset_code} chưa từng mở / cycle {period} {dataset_code} was never opened")
    con.execute("""insert into ops.period_decision (decision, period, dataset_code, until_at, decided_by, reason,
                   decided_at) values ('reopen', ?, ?, ?, ?, ?, ?)""", [period, dataset_code, until, by.strip(),
                                                                        reason.strip(), now])
    return {"period": period, "dataset_code": dataset_code, "until": until}
