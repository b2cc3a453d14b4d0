"""What the pages show. Reads only: the published snapshot (read-only DuckDB, replaced atomically
after each refresh) and the answerer's per-submission result files, which are newer than the
snapshot for a few seconds after each upload. Nothing here opens the live warehouse."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from baocao import calendar
from baocao.settings import Settings
from reports.data import plan_codes
from web import answer

ACCEPTED = ("accepted", "accepted_with_warnings", "accepted_by_override")
STATE_ORDER = {"rejected": 0, "not_received": 1, "accepted_late": 2, "accepted": 3}
TARGET_ORDER = {"not_met": 0, "not_yet_due": 1, "no_data": 2, "no_baseline": 3, "met": 4}


@contextlib.contextmanager
def snapshot(s: Settings) -> Iterator[duckdb.DuckDBPyConnection | None]:
    if not s.snapshot.exists():
        yield None
        return
    con = duckdb.connect(str(s.snapshot), read_only=True)
    try:
        yield con
    finally:
        con.close()


def working_days_left(today: date, deadline_day: date) -> int:
    """Working days from today to the deadline, both counted (Vietnamese calendar, Tết included);
    negative: calendar days past it."""
    if deadline_day < today:
        return -(today - deadline_day).days
    n, d = 0, today
    while d <= deadline_day:
        n += calendar.is_working_day(d)
        d += timedelta(days=1)
    return n


@dataclass
class Version:
    submission_id: str
    period: str
    dataset_code: str
    version: int | None
    received_at: datetime
    status: str
    is_late: bool
    n_errors: int
    n_warnings: int
    file_name: str | None = None
    counts: bool = False
    findings: list[dict] = field(default_factory=list)
    annotated: str | None = None


@dataclass
class OpenDataset:
    period: str
    dataset_code: str
    name: str
    deadline_at: datetime
    days_left: int
    state: str  # accepted | accepted_late | rejected | not_received
    counting: Version | None
    versions: list[Version]


def _original_names(s: Settings, unit: str) -> dict[str, str]:
    from web.upload import original_name

    folder = s.store / unit
    out = {}
    for side in folder.glob("*.json") if folder.exists() else []:  # the store's records
        sid = side.stem
        name = original_name(folder / "x", sid)
        if name:
            out[sid] = name
    return out


def unit_versions(s: Settings, unit: str) -> list[Version]:
    """Every version the unit sent (snapshot, then the answerer's newer results), oldest first."""
    by_id: dict[str, Version] = {}
    with snapshot(s) as con:
        if con is not None:
            for r in con.execute("""select submission_id, period, dataset_code, version, received_at, status, is_late,
                                           n_errors, n_warnings, file_name from raw.submission where unit_code = ?""",
                                 [unit]).fetchall():
                by_id[r[0]] = Version(*r)
            if by_id:
                for sid, sev, rule, msg_vi, msg_en, sheet, cell, el, raw, exp_vi, exp_en in con.execute(
                        """select f.submission_id, severity, rule_id, message_vi, message_en, sheet, cell, element_code,
                                  value_raw, expected_vi, expected_en from raw.finding f
                           join raw.submission s using (submission_id) where s.unit_code = ? order by f.seq""",
                        [unit]).fetchall():
                    by_id[sid].findings.append({"severity": sev, "rule_id": rule, "message_vi": msg_vi,
                                                "message_en": msg_en, "sheet": sheet, "cell": cell,
                                                "element_code": el, "value_raw": raw, "expected_vi": exp_vi,
                                                "expected_en": exp_en})
    for r in answer.unit_results(s, unit):
        by_id[r["submission_id"]] = Version(
            r["submission_id"], r["period"], r["dataset_code"], r["version"], datetime.fromisoformat(r["received_at"]),
            r["status"], r["is_late"], r["n_errors"], r["n_warnings"], r["file_name"], findings=r["findings"],
            annotated=r.get("annotated"))
    names = _original_names(s, unit)
    for v in by_id.values():
        v.file_name = names.get(v.submission_id, v.file_name)
    out = sorted(by_id.values(), key=lambda v: (v.period, v.dataset_code, v.version or 0, v.received_at))
    for key in {(v.period, v.dataset_code) for v in out}:
        ok = [v for v in out if (v.period, v.dataset_code) == key and v.status in ACCEPTED]
        if ok:
            ok[-1].counts = True  # the version that counts: the latest accepted (core.current_submission)
    return out


def open_cycles(s: Settings) -> list[tuple[str, str, datetime]]:
    with snapshot(s) as con:
        if con is None:
            return []
        return con.execute("""select period, dataset_code, deadline_at from ops.cycle where closed_at is null
                              order by period, dataset_code""").fetchall()


def unit_page(s: Settings, cat, unit: str, now: datetime, lang: str) -> list[OpenDataset]:
    versions = unit_versions(s, unit)
    mine = {d.code for d in cat.datasets_for_unit(unit)}
    today = now.astimezone(calendar.TZ).date()
    out = []
    for period, ds, deadline_at in open_cycles(s):
        if ds not in mine:
            continue
        vs = [v for v in versions if (v.period, v.dataset_code) == (period, ds)]
        counting = next((v for v in vs if v.counts), None)
        if counting:
            state = "accepted_late" if counting.is_late else "accepted"
        else:
            state = "rejected" if vs else "not_received"
        d = cat.datasets[ds]
        out.append(OpenDataset(period, ds, d.name if lang == "vi" else d.name_en,
                               deadline_at, working_days_left(today, deadline_at.astimezone(calendar.TZ).date()),
                               state, counting, vs))
    return out


def previous_values(s: Settings, unit: str, period: str, dataset_code: str) -> dict[str, float]:
    prev = calendar.parse_period(period).previous().code
    with snapshot(s) as con:
        if con is None:
            return {}
        rows = con.execute("""select element_code, value from core.current_value
                              where unit_code = ? and period = ? and dataset_code = ? and value is not null""",
                           [unit, prev, dataset_code]).fetchall()
    return dict(rows)


# ------------------------------------------------------------------------------------ operator


def operator_status(s: Settings, period: str | None, explanations: dict, overridable: tuple[str, ...] = ()) -> dict:
    """The live view: rates per data set, every expected unit's state now, findings by rule, the
    warnings waiting for a decision (with the unit's explanation), the errors of rules the operator
    may override (`overridable`) in each unit's latest version, still refused, targets per plan."""
    try:  # the stamp is read before the file is opened: a refresh landing meanwhile shows as a newer stamp
        published = s.snapshot.stat().st_mtime
    except FileNotFoundError:
        published = None
    with snapshot(s) as con:
        if con is None:
            return {"period": None, "periods": [], "rates": [], "units": [], "rules": [], "warnings": [],
                    "errors": [], "targets": [], "plans": [], "published_at": None}
        periods = [p for (p,) in con.execute(
            "select distinct period from ops.cycle where closed_at is null order by 1").fetchall()]
        if not periods:
            periods = [p for (p,) in con.execute("select distinct period from ops.cycle order by 1").fetchall()]
        period = period if period in periods else (periods[-1] if periods else None)
        rates = con.execute("""select dataset_code, expected, received, accepted, on_time, late, missing,
                                      reporting_rate, timeliness_rate from marts.reporting_rate where period = ?
                               order by dataset_code""", [period]).fetchall()
        units = con.execute("""select unit_code, unit_name, dataset_code, n_versions, last_status, is_accepted, is_late,
                                      is_on_time, is_received, deadline_at
                               from marts.reporting_completeness where period = ?
                               order by dataset_code, unit_code""", [period]).fetchall()
        rules = con.execute("""with latest as (
                                   select submission_id from raw.submission where period = ?
                                   qualify row_number() over (partition by unit_code, dataset_code order by version desc) = 1)
                               select f.rule_id, f.severity, count(*) as n, count(distinct s.unit_code) as units,
                                      any_value(f.message_vi) as example_vi, any_value(f.message_en) as example_en
                               from raw.finding f join latest using (submission_id)
                               join raw.submission s using (submission_id)
                               where not (f.severity = 'error' and exists (  -- an error the operator has accepted
                                   select 1 from ops.error_override o
                                   where o.unit_code = s.unit_code and o.period = s.period
                                     and o.dataset_code = s.dataset_code and o.rule_id = f.rule_id
                                     and o.element_code is not distinct from f.element_code))
                               group by all order by f.severity, n desc, f.rule_id""", [period]).fetchall()
        warnings = con.execute("""select s.unit_code, s.dataset_code, f.rule_id, f.element_code, f.sheet, f.cell,
                                         f.value_raw, f.message_vi, f.message_en
                                  from core.current_submission s join raw.finding f using (submission_id)
                                  where s.period = ? and f.severity = 'warning' and f.element_code is not null
                                    and not exists (select 1 from ops.warning_acceptance a
                                                    where a.unit_code = s.unit_code and a.period = s.period
                                                      and a.dataset_code = s.dataset_code and a.rule_id = f.rule_id
                                                      and a.element_code = f.element_code)
                                  order by s.unit_code, f.rule_id, f.element_code""", [period]).fetchall()
        errors = con.execute("""with latest as (
                                     select * from raw.submission where period = ?
                                     qualify row_number() over (partition by unit_code, dataset_code
                                                                order by version desc) = 1)
                                 select s.unit_code, s.dataset_code, f.rule_id, f.element_code, f.sheet, f.cell,
                                        f.value_raw, f.message_vi, f.message_en, s.version
                                 from latest s join raw.finding f using (submission_id)
                                 where s.status = 'rejected' and f.severity = 'error'
                                   and f.rule_id in (select unnest(?::varchar[]))
                                   and not exists (select 1 from ops.error_override o
                                                   where o.unit_code = s.unit_code and o.period = s.period
                                                     and o.dataset_code = s.dataset_code and o.rule_id = f.rule_id
                                                     and o.element_code is not distinct from f.element_code)
                                 order by s.unit_code, f.rule_id, f.element_code""",
                             [period, list(overridable)]).fetchall() if overridable else []
        targets = con.execute("""select tp.plan_code, tp.target_id, i.name, tp.value, tp.threshold, tp.unit, tp.status,
                                        tp.trajectory, tp.coverage
                                 from marts.target_progress tp join core.indicator i using (indicator_code)
                                 where tp.period = ? and list_contains(?, tp.plan_code)
                                 order by tp.plan_code, tp.target_id""",
                              [period, plan_codes(con, s.provinces)]).fetchall()  # the plans of the provinces served
    return {
        "period": period, "periods": periods, "published_at": published,
        "rates": [dict(zip(("dataset_code", "expected", "received", "accepted", "on_time", "late", "missing",
                            "reporting_rate", "timeliness_rate"), r, strict=True)) for r in rates],
        "units": sorted(({"unit_code": u, "unit_name": n, "dataset_code": d, "n_versions": nv, "last_status": ls,
                          "state": _state(acc, late, rec), "deadline_at": dl.isoformat() if dl else None}
                         for u, n, d, nv, ls, acc, late, _ot, rec, dl in units),
                        key=lambda x: (STATE_ORDER[x["state"]], x["dataset_code"], x["unit_code"])),  # what to chase first
        "rules": [dict(zip(("rule_id", "severity", "n", "units", "example_vi", "example_en"), r, strict=True))
                  for r in rules],
        "warnings": [{**dict(zip(("unit_code", "dataset_code", "rule_id", "element_code", "sheet", "cell",
                                  "value_raw", "message_vi", "message_en"), w, strict=True)),
                      "explanation": (explanations.get((w[0], period, w[1], w[3], w[2])) or {}).get("text")}
                     for w in warnings],
        "errors": [dict(zip(("unit_code", "dataset_code", "rule_id", "element_code", "sheet", "cell", "value_raw",
                             "message_vi", "message_en", "version"), e, strict=True)) for e in errors],
        "targets": [{**dict(zip(("plan_code", "target_id", "indicator", "value", "threshold", "unit", "status",
                                 "trajectory", "coverage"), t, strict=True)),
                     "order_key": TARGET_ORDER.get(t[6], 9)} for t in targets],  # not met first
        "plans": _plans(targets),
    }


def _plans(targets: list[tuple]) -> list[dict]:
    """Targets per plan: how many met, not met, not yet due or without data, the plan's own order."""
    out: dict[str, dict] = {}
    for t in targets:
        p = out.setdefault(t[0], {"plan_code": t[0], "n": 0, "counts": {}})
        p["n"] += 1
        p["counts"][t[6]] = p["counts"].get(t[6], 0) + 1
    return list(out.values())


def _state(accepted: bool, late: bool, received: bool) -> str:
    if accepted:
        return "accepted_late" if late else "accepted"
    return "rejected" if received else "not_received"


def report_path(s: Settings, period: str, lang: str) -> Path:
    """The draft report (HTML) built from the snapshot, rebuilt when the snapshot is newer."""
    from reports.build import write_report
    from reports.labels import file_stem

    out = s.home / "web" / "reports"
    html = out / f"{file_stem(period)}{'' if lang == 'vi' else '.' + lang}.html"
    if not html.exists() or html.stat().st_mtime < s.snapshot.stat().st_mtime:
        with snapshot(s) as con:
            _, html = write_report(con, period, out, lang=lang)
    return html
