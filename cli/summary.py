"""The operator's readable cycle summary (what `make demo` and `baocao cycle status` print), read
from the warehouse marts so the printout and the snapshot agree."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from baocao.escape import console_text

KEY_INDICATORS = ("DOCTORS_PER_10K", "BEDS_PER_10K", "HI_COVERAGE", "EPI_COVERAGE", "IMR", "U5MR",
                  "STATION_INSURED_VISITS_PCT", "STATIONS_WITH_DOCTOR_PCT", "LIFE_EXPECTANCY")


def completeness(con, period: str) -> list[tuple]:
    return con.execute("""select dataset_code, expected, received, accepted, on_time, late, missing
                          from marts.reporting_rate where period = ? order by dataset_code""", [period]).fetchall()


def who(con, period: str, dataset_code: str, what: str, named: bool = False) -> list[str]:
    """Unit codes (with `named`: "Phường Xuân Hương - Đà Lạt (LD.24781)")."""
    col = {"missing": "is_missing", "late": "is_late", "on_time": "is_on_time", "accepted": "is_accepted",
           "received": "is_received"}[what]
    return [f"{name} ({code})" if named and name else code for code, name in con.execute(
        f"select unit_code, unit_name from marts.reporting_completeness where period = ? and dataset_code = ? and {col}"
        " order by 1", [period, dataset_code]).fetchall()]


def failing(con, period: str) -> list[tuple]:
    return con.execute("""
        select s.unit_code || coalesce(' ' || ou.name, ''), s.file_name, s.status, s.n_errors, s.n_warnings,
               f.sheet, f.cell, f.element_code, f.message_vi
        from raw.submission s
        left join raw.finding f on f.submission_id = s.submission_id and f.seq = 1
        left join core.org_unit ou on ou.unit_code = s.unit_code
        where s.period = ? and s.status <> 'accepted'
        order by s.status desc, s.unit_code, s.version""", [period]).fetchall()


def indicators(con, period: str) -> list[tuple]:
    return con.execute("""
        select iv.indicator_code, i.name, iv.value, iv.unit, iv.units_contributing, iv.units_expected
        from marts.indicator_value iv join core.indicator i using (indicator_code)
        where iv.period = ? and iv.level = 'province' order by iv.indicator_code""", [period]).fetchall()


def targets(con, period: str) -> list[tuple]:
    return con.execute("""
        select plan_code, target_id, indicator_code, text, value, status, trajectory
        from marts.target_progress where period = ? and status <> 'no_data'
        order by plan_code, target_id""", [period]).fetchall()


OPS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "eq": "=", "about": "≈"}
VERDICT = {"met": "đạt / met", "not_met": "chưa đạt / not met", "on_track": "đúng lộ trình / on track",
           "at_risk": "có nguy cơ / at risk", "off_track": "chậm / off track", "no_data": "chưa có số liệu / no data",
           "no_baseline": "thiếu mốc gốc / no baseline"}


def key_targets(con, period: str) -> list[tuple]:
    rows = con.execute("""
        select t.indicator_code, i.name, t.value, t.value_period, t.plan_code, t.op, t.target_value, t.low, t.high,
               t.increase_kind, t.milestone_year, coalesce(t.trajectory, t.status)
        from marts.target_progress t join core.indicator i using (indicator_code)
        where t.period = ? and list_contains(?, t.indicator_code)
        order by list_position(?, t.indicator_code), t.plan_code, t.milestone_year""",
                       [period, list(KEY_INDICATORS), list(KEY_INDICATORS)]).fetchall()
    out = []
    for code, name, value, vperiod, plan, op, tv, low, high, inc, year, verdict in rows:
        if op == "range":
            target = f"{low:g}–{high:g}"
        elif op == "increase":
            target = f"+{tv:g}{'%' if inc == 'relative_pct' else ''}"
        elif op == "milestone":
            target = "hoàn thành"
        else:
            target = f"{OPS.get(op, op)} {tv:g}"
        shown = "—" if value is None else f"{value:,.2f}" + (f" ({vperiod})" if vperiod != period else "")
        out.append((code, name, shown, plan, target, year, VERDICT.get(verdict, verdict)))
    return out


def target_counts(con, period: str) -> list[tuple]:
    return con.execute("""
        select plan_code, coalesce(trajectory, status) as s, count(*) from marts.target_progress
        where period = ? group by all order by 1, 2""", [period]).fetchall()


def print_summary(con, period: str, console: Console | None = None) -> None:
    c = console or Console(width=140)
    c.rule(f"[bold]baocao — kỳ {period}")
    t = Table(title="Tình hình nộp báo cáo / Completeness and timeliness")
    for h in ("báo cáo", "phải nộp", "đã nhận", "hợp lệ", "đúng hạn", "trễ hạn", "thiếu"):
        t.add_column(h, justify="right")
    for row in completeness(con, period):
        t.add_row(*[console_text(x) for x in row])
    c.print(t)
    for ds, *_ in completeness(con, period):
        miss, late = who(con, period, ds, "missing", named=True), who(con, period, ds, "late", named=True)
        if miss:
            c.print(console_text(f"  {ds} thiếu / missing: {', '.join(miss)}"))
        if late:
            c.print(console_text(f"  {ds} trễ hạn / late: {', '.join(late)}"))
    t = Table(title="Báo cáo bị từ chối hoặc có cảnh báo / Failing units")
    for h in ("đơn vị", "tệp", "kết quả", "lỗi", "cảnh báo", "vị trí", "phát hiện đầu tiên"):
        t.add_column(h)
    for u, f, st, ne, nw, sh, cell, el, msg in failing(con, period):
        t.add_row(*map(console_text, (u, f, st, ne, nw, f"{sh or ''} {cell or ''}".strip(),
                                      f"{el or ''} {msg or ''}"[:70])))
    c.print(t)
    t = Table(title="Chỉ tiêu cấp tỉnh / Province indicators")
    for h in ("mã", "chỉ tiêu", "giá trị", "đơn vị", "đơn vị báo cáo"):
        t.add_column(h)
    for code, name, value, unit, n, e in indicators(con, period):
        t.add_row(*map(console_text, (code, name[:60], f"{value:,.2f}" if value is not None else "—", unit, f"{n}/{e}")))
    c.print(t)
    t = Table(title="Chỉ tiêu chính so với mục tiêu / Key indicators against targets")
    for h in ("chỉ tiêu", "giá trị", "kế hoạch", "mục tiêu", "năm", "đánh giá"):
        t.add_column(h)
    for code, _name, value, plan, target, year, verdict in key_targets(con, period):
        t.add_row(*map(console_text, (code, value, plan, target, year, verdict)))
    c.print(t)
    t = Table(title="Mục tiêu theo kế hoạch / Targets by plan")
    t.add_column("kế hoạch")
    t.add_column("tình trạng")
    t.add_column("số mục tiêu", justify="right")
    for plan, st, n in target_counts(con, period):
        t.add_row(*map(console_text, (plan, st, n)))
    c.print(t)
