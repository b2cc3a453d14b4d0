"""A unit's own state in every open cycle (what "trạng thái"/"status" answers). Only the asking
unit's rows are ever read."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from baocao import calendar


def working_days_left(today: date, deadline: date) -> int:
    """Working days after today up to and including the deadline (negative: days late)."""
    if deadline >= today:
        return sum(calendar.is_working_day(today + timedelta(days=i)) for i in range(1, (deadline - today).days + 1))
    return -sum(calendar.is_working_day(deadline + timedelta(days=i)) for i in range(1, (today - deadline).days + 1))


def unit_state(con, unit_code: str, now: datetime, cat) -> list[dict]:
    if unit_code not in cat.org_units:
        return []
    cycles = con.execute("""select period, dataset_code, deadline_at from ops.cycle
                            where closed_at is null order by period, dataset_code""").fetchall()
    today = now.astimezone(calendar.TZ).date()
    out = []
    for period, ds, deadline_at in cycles:
        kind = calendar.parse_period(period).kind
        if ds not in {d.code for d in cat.datasets_for_unit(unit_code, kind)}:
            continue
        versions = con.execute("""select version, status, n_errors, n_warnings from raw.submission
                                  where unit_code = ? and period = ? and dataset_code = ?
                                  order by version""", [unit_code, period, ds]).fetchall()
        accepted = [v for v in versions if v[1] in ("accepted", "accepted_with_warnings", "accepted_by_override")]
        last = versions[-1] if versions else None
        deadline_day = deadline_at.astimezone(calendar.TZ).date() if deadline_at else None
        out.append({
            "period": period, "dataset_code": ds, "deadline_at": deadline_at,
            "received": bool(versions), "n_versions": len(versions),
            "accepted": bool(accepted), "accepted_version": accepted[-1][0] if accepted else None,
            "last_version": last[0] if last else None, "last_status": last[1] if last else None,
            "n_errors": last[2] if last else 0, "n_warnings": last[3] if last else 0,
            "working_days_left": working_days_left(today, deadline_day) if deadline_day else None,
        })
    return out
