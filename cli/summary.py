"""The operator's readable cycle summary (what `make demo` and `baocao cycle status` print), read
from the warehouse marts so the printout and the snapshot agree. Every word comes from
`baocao.labels` (Vietnamese, or English with --lang en); unit text goes through console_text.

A unit's state is the state that counts now: the version that counts (on time or late), else its
latest version (rejected), else nothing (not sent) — a unit whose second version was accepted is
not failing."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from baocao.escape import console_text
from baocao.labels import STATE, STATUS, TARGET, UOM, fmt_pct, fmt_value, label, period_text, word
from baocao.services.status import completeness, status_json, status_rows, unit_states  # noqa: F401
from baocao.text import fmt_number
from reports.data import plan_codes

KEY_INDICATORS = ("DOCTORS_PER_10K", "BEDS_PER_10K", "HI_COVERAGE", "EPI_COVERAGE", "IMR", "U5MR",
                  "STATION_INSURED_VISITS_PCT", "STATIONS_WITH_DOCTOR_PCT", "LIFE_EXPECTANCY")


def _count(n: int, expected: int, lang: str) -> str:
    return f"{n} ({fmt_pct(n / expected, lang, 1)})" if expected and n else str(n)


def print_status(con, period: str, c: Console, lang: str = "vi") -> None:
    """Completeness per data set with percentages, who is late / rejected / not sent, and the units
    whose state now needs attention (rejected, or counted with warnings), with the first finding."""
    c.rule(Text(f"baocao — {period_text(period, lang)} ({period})", style="bold"))
    t = Table(title=word("t_completeness", lang, period=period_text(period, lang)))
    t.add_column(word("dataset", lang))
    for key in ("expected", "received", "accepted", "on_time", "late", "rejected", "not_received"):
        t.add_column(word(key, lang), justify="right")
    rows = status_rows(con, period)
    for r in rows:
        e = r["expected"]
        t.add_row(console_text(r["dataset_code"]), str(e), _count(r["received"], e, lang), _count(r["accepted"], e, lang),
                  _count(r["on_time"], e, lang), _count(r["late"], e, lang), _count(r["rejected"], e, lang),
                  _count(r["not_received"], e, lang))
    c.print(t)
    for r in rows:
        for s in ("late", "rejected", "not_received"):
            if r["units"][s]:
                c.print(Text(f"  {r['dataset_code']} — {label(STATE, s, lang)} ({len(r['units'][s])}): "
                             + ", ".join(r["units"][s])), soft_wrap=True)
    attention = [u for u in unit_states(con, period) if u["state"] == "rejected" or (u["n_warnings"] or 0) > 0]
    if not attention:
        c.print(word("all_accepted", lang))
        return
    t = Table(title=word("t_attention", lang))
    t.add_column(word("unit", lang), overflow="fold", max_width=30)
    for key in ("dataset", "state", "version", "result", "errors", "warnings", "where"):
        t.add_column(word(key, lang), no_wrap=True, justify="right" if key in ("errors", "warnings") else "left")
    t.add_column(word("file", lang), overflow="fold", max_width=28)
    t.add_column(word("first_finding", lang), overflow="fold", min_width=36)
    for u in attention:
        msg = u["message_en"] if lang == "en" else u["message_vi"]
        rule = " ".join(x for x in (u["rule_id"], u["element_code"]) if x)
        t.add_row(*(Text(console_text(x)) for x in (
            f"{u['unit_name']} ({u['unit_code']})" if u["unit_name"] else u["unit_code"], u["dataset_code"], label(STATE, u["state"], lang), f"{u['version']}/{u['n_versions']}",
            label(STATUS, u["status"], lang), u["n_errors"], u["n_warnings"],
            f"{u['sheet'] or ''} {u['cell'] or ''}".strip(), u["file_name"] or "",
            f"{rule}: {(msg or '')[:110]}" if rule else msg or "")))
    c.print(t)


def indicators(con, period: str, provinces: tuple[str, ...] = ("LD",)) -> list[tuple]:
    """The provinces' indicators (level province), province by province."""
    return con.execute("""
        select iv.indicator_code, i.name, iv.value, iv.unit, iv.units_contributing, iv.units_expected
        from marts.indicator_value iv join core.indicator i using (indicator_code)
        where iv.period = ? and iv.level = 'province' and list_contains(?, iv.org_unit_code)
        order by list_position(?, iv.org_unit_code), iv.indicator_code""",
                       [period, list(provinces), list(provinces)]).fetchall()


def targets(con, period: str, provinces: tuple[str, ...] = ("LD",)) -> list[tuple]:
    return con.execute("""
        select plan_code, target_id, indicator_code, text, value, status, trajectory
        from marts.target_progress where period = ? and status <> 'no_data' and list_contains(?, plan_code)
        order by plan_code, target_id""", [period, plan_codes(con, provinces)]).fetchall()


OPS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "eq": "=", "about": "≈"}


def key_targets(con, period: str, lang: str = "vi", provinces: tuple[str, ...] = ("LD",)) -> list[tuple]:
    rows = con.execute("""
        select t.indicator_code, i.name, t.value, t.value_period, t.plan_code, t.op, t.target_value, t.low, t.high,
               t.increase_kind, t.milestone_year, coalesce(t.trajectory, t.status), i.unit
        from marts.target_progress t join core.indicator i using (indicator_code)
        where t.period = ? and list_contains(?, t.indicator_code) and list_contains(?, t.plan_code)
        order by list_position(?, t.indicator_code), t.plan_code, t.milestone_year""",
                       [period, list(KEY_INDICATORS), plan_codes(con, provinces), list(KEY_INDICATORS)]).fetchall()
    out = []
    for code, name, value, vperiod, plan, op, tv, low, high, inc, year, verdict, uom in rows:
        if op == "range":
            target = f"{fmt_number(low, None, lang)}–{fmt_number(high, None, lang)}"
        elif op == "increase":
            target = f"+{fmt_number(tv, None, lang)}{'%' if inc == 'relative_pct' else ''}"
        elif op == "milestone":
            target = word("milestone_done", lang)
        else:
            target = f"{OPS.get(op, op)} {fmt_number(tv, None, lang)}"
        shown = fmt_value(value, uom, lang) + (f" ({vperiod})" if value is not None and vperiod != period else "")
        out.append((code, name, shown, plan, target, year, label(TARGET, verdict, lang)))
    return out


def target_counts(con, period: str, provinces: tuple[str, ...] = ("LD",)) -> list[tuple]:
    return con.execute("""
        select plan_code, coalesce(trajectory, status) as s, count(*) from marts.target_progress
        where period = ? and list_contains(?, plan_code) group by all order by 1, 2""",
                       [period, plan_codes(con, provinces)]).fetchall()


def print_summary(con, period: str, console: Console | None = None, lang: str = "vi",
                  provinces: tuple[str, ...] = ("LD",)) -> None:
    """The demo's printout: the status above, then the indicators of the provinces served and the
    targets of their plans (their own, their departments' and their communes')."""
    c = console or Console(width=140)
    print_status(con, period, c, lang)
    t = Table(title=word("t_indicators", lang))
    for h in ("code", "indicator", "value", "uom", "units_reporting"):
        t.add_column(word(h, lang), justify="right" if h in ("value", "units_reporting") else "left")
    for code, name, value, unit, n, e in indicators(con, period, provinces):
        t.add_row(*map(console_text, (code, name[:60], fmt_number(value, 2, lang), label(UOM, unit, lang), f"{n}/{e}")))
    c.print(t)
    t = Table(title=word("t_key_targets", lang))
    for h in ("indicator", "value", "plan", "target", "year", "assessment"):
        t.add_column(word(h, lang))
    for code, _name, value, plan, target, year, verdict in key_targets(con, period, lang, provinces):
        t.add_row(*map(console_text, (code, value, plan, target, year, verdict)))
    c.print(t)
    t = Table(title=word("t_targets", lang))
    t.add_column(word("plan", lang))
    t.add_column(word("assessment", lang))
    t.add_column(word("n_targets", lang), justify="right")
    for plan, st, n in target_counts(con, period, provinces):
        t.add_row(*map(console_text, (plan, label(TARGET, st, lang), n)))
    c.print(t)
