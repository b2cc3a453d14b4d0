"""Everything the report shows, read once from the marts (and names from the catalog tables)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from baocao import calendar
from reports import overrides
from reports.difficulties import group_difficulties
from reports.next_steps import next_steps
from reports.recommendations import group_recommendations


def _rows(con, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def period_end(code: str) -> calendar.Period:
    return calendar.parse_period(code)


@dataclass
class ReportData:
    """Everything the report shows, read once from the warehouse."""
    period: str
    lang: str
    province: dict
    generated_at: datetime
    reporting: list[dict]
    units: list[dict]
    plans: list[dict]
    trends: list[dict]
    overdue: list[dict]
    overdue_tasks: list[dict]
    recommendations: list[dict]
    n_rec_units: int
    counts: dict = field(default_factory=dict)
    overrides: list[dict] = field(default_factory=list)  # errors the operator accepted (reports/overrides.py)
    difficulties: list[dict] = field(default_factory=list)  # units' han_che by theme (reports/difficulties.py)
    causes: list[dict] = field(default_factory=list)        # the causes units named, by theme
    n_dif_units: int = 0
    next_steps: list[dict] = field(default_factory=list)    # reports/next_steps.py
    office: dict = field(default_factory=dict)              # issuing office: superior, name, abbreviation


def report_province(con, province: str | None = None) -> dict:
    """The province a report is about: `province` (a province code of the catalog), or the
    deployment's only province; with several and none named, a one-line error naming them."""
    rows = _rows(con, "select unit_code, name from core.org_unit where unit_type = 'province' order by unit_code")
    codes = [r["unit_code"] for r in rows]
    if province is not None:
        hit = [r for r in rows if r["unit_code"] == province]
        if not hit:
            raise ValueError(f"Không có tỉnh {province!r} trong danh mục (có: {', '.join(codes) or 'không'}) / "
                             f"no province {province!r} in the catalog (known: {', '.join(codes) or 'none'})")
        return hit[0]
    if len(rows) == 1:
        return rows[0]
    if not rows:
        return {"unit_code": "", "name": ""}
    raise ValueError(f"Kho dữ liệu có {len(rows)} tỉnh ({', '.join(codes)}): chọn một tỉnh cho báo cáo / "
                     f"the warehouse holds {len(rows)} provinces ({', '.join(codes)}): name the province of the report")


# the plans of a province: its own, its departments' (judged on it) and its communes'
PLANS_OF_PROVINCE = """
    select p.plan_code, p.title, p.issuer, p.issued_on, p.level, p.unit_code, p.scope_unit
    from core.plan p
    left join core.unit_area s on s.unit_code = p.scope_unit
    left join core.unit_area u on u.unit_code = p.unit_code
    where p.scope_unit = ? or s.province_code = ? or u.province_code = ?
    order by case p.level when 'province' then 0 when 'department' then 1 else 2 end,
             p.issued_on desc nulls first, p.plan_code"""


def plan_codes(con, provinces) -> list[str]:
    """The plans of these provinces (each as `PLANS_OF_PROVINCE`), in that order, each once: what a
    deployment's operator pages and printouts show (another province's plan is not theirs)."""
    out: dict[str, None] = {}
    for prov in provinces:
        out.update(dict.fromkeys(r[0] for r in con.execute(PLANS_OF_PROVINCE, [prov, prov, prov]).fetchall()))
    return list(out)


def collect(con, period: str, lang: str = "vi", generated_at: datetime | None = None,
            province: str | None = None) -> ReportData:
    """Read the marts (and names from the catalog) for the report of `period` on `province` (a
    province code; default: the deployment's only province): its reporting, its plans and its
    communes' plans (each judged on its own unit), its indicators."""
    per = calendar.parse_period(period)
    code = per.code
    province = report_province(con, province)
    prov = province["unit_code"]
    name_col = "name_en" if lang == "en" else "name"

    reporting = _rows(con, f"""
        select r.*, d.{name_col} as dataset_name,
               (select min(rc.deadline_at) from marts.reporting_completeness rc where rc.period = r.period
                  and rc.dataset_code = r.dataset_code) as deadline_at
        from marts.reporting_coverage r left join core.dataset d using (dataset_code)
        where r.period = ? and r.level = 'province' and r.org_unit_code = ? order by r.dataset_code""", [code, prov])
    units = _rows(con, """
        select rc.*, case when rc.is_on_time then 'on_time' when rc.is_late then 'late'
                          when rc.last_status = 'rejected' then 'rejected'
                          when not rc.is_received then 'not_received' else 'missing' end as state
        from marts.reporting_completeness rc
        where rc.period = ? and rc.province_code = ? order by rc.dataset_code, rc.unit_code""", [code, prov])

    plan_rows = _rows(con, PLANS_OF_PROVINCE, [prov, prov, prov])
    known = {p["plan_code"] for p in plan_rows}
    targets = [t for t in _rows(con, f"""
        select tp.*, i.{name_col} as indicator_name
        from marts.target_progress tp left join core.indicator i using (indicator_code)
        where tp.period = ? order by tp.plan_code, tp.target_id""", [code]) if t["plan_code"] in known]
    plans = []
    for p in plan_rows:
        ts = [t for t in targets if t["plan_code"] == p["plan_code"]]
        if ts:
            plans.append({**p, "targets": ts, "counts": _target_counts(ts)})

    series = _rows(con, f"""
        select iv.indicator_code, iv.period, iv.value, iv.unit, iv.coverage, iv.units_contributing,
               iv.units_expected, i.{name_col} as indicator_name
        from marts.indicator_value iv left join core.indicator i using (indicator_code)
        where iv.level = 'province' and iv.org_unit_code = ? order by iv.indicator_code, iv.period""", [prov])
    trends = []
    for ind in dict.fromkeys(s["indicator_code"] for s in series):
        pts = sorted((s for s in series if s["indicator_code"] == ind), key=lambda s: period_end(s["period"]))
        if not any(p["period"] == code for p in pts):
            continue
        goals: dict[tuple, list[str]] = {}
        for t in targets:
            if t["indicator_code"] == ind and t["threshold"] is not None and t["op"] != "milestone" \
                    and t["scope_unit"] == prov:  # a commune's target is no line on the province's chart
                key = (t["milestone_year"] or 0, t["op"], t["threshold"], t["low"], t["high"])
                goals.setdefault(key, [])
                if t["plan_code"] not in goals[key]:
                    goals[key].append(t["plan_code"])
        goals = [dict(zip(("year", "op", "threshold", "low", "high"), k, strict=True), plans=v)
                 for k, v in sorted(goals.items(), key=lambda kv: kv[0][:1] + (kv[0][2],))]
        trends.append({"indicator_code": ind, "name": pts[0]["indicator_name"] or ind, "unit": pts[0]["unit"],
                       "points": pts, "goals": goals})

    first_seen = {}
    for p in plans:
        for t in p["targets"]:
            first_seen.setdefault(t["indicator_code"], len(first_seen))
    trends.sort(key=lambda tr: (first_seen.get(tr["indicator_code"], len(first_seen)), tr["indicator_code"]))

    overdue = _rows(con, """
        select tp.*, ou.name as unit_name
        from marts.task_progress tp left join core.org_unit ou using (unit_code)
        left join core.unit_area ua using (unit_code)
        where tp.period = ? and tp.is_overdue and ua.province_code = ?
        order by tp.plan_code, tp.deadline_date nulls last, tp.task_no, tp.unit_code""", [code, prov])
    overdue = [r for r in overdue if r["plan_code"] in known]  # tasks of the plans this report shows
    grouped: dict[tuple, dict] = {}
    for r in overdue:
        g = grouped.setdefault((r["plan_code"], r["task_no"]), {
            "plan_code": r["plan_code"], "task_no": r["task_no"], "title": r["title"],
            "lead_agency": r["lead_agency"], "deadline_text": r["deadline_text"],
            "deadline_date": r["deadline_date"], "rows": []})
        g["rows"].append(r)

    texts = _narrative(con, code, "kien_nghi", prov)
    recs = group_recommendations(texts)
    hard = _narrative(con, code, "han_che", prov)
    difficulties, causes = group_difficulties(hard)

    counts = _target_counts(targets)
    counts.update({k: sum(r[k] for r in reporting) for k in
                   ("expected", "received", "accepted", "on_time", "late", "missing")})
    counts["n_overdue"] = len(overdue)
    overdue_tasks = list(grouped.values())
    return ReportData(period=code, lang=lang, province=province, generated_at=(generated_at or datetime.now(calendar.TZ)).astimezone(calendar.TZ),
                      reporting=reporting, units=units, plans=plans, trends=trends, overdue=overdue,
                      overdue_tasks=overdue_tasks, recommendations=recs,
                      n_rec_units=len({t["unit_code"] for t in texts}), counts=counts,
                      overrides=overrides.rows(con, code), difficulties=difficulties, causes=causes,
                      n_dif_units=len({t["unit_code"] for t in hard}),
                      next_steps=next_steps(plans, overdue_tasks, counts, recs, lang),
                      office=_office(con, province))


def _narrative(con, period: str, section: str, province: str) -> list[dict]:
    """The texts of one narrative section from the province's units, from the versions that count."""
    return _rows(con, """
        select cs.unit_code, ou.name as unit_name, n.text
        from core.narrative n
        join core.current_submission cs using (submission_id)
        left join core.org_unit ou on ou.unit_code = cs.unit_code
        left join core.unit_area ua on ua.unit_code = cs.unit_code
        where cs.period = ? and n.section = ? and n.text is not null and ua.province_code = ?
        order by cs.unit_code""", [period, section, province])


def _office(con, province: dict) -> dict:
    """The issuing office of the report: the province's health department (<ABBR>.SYT) under the
    provincial People's Committee, with the abbreviation of the document number (BC-SYT)."""
    rows = _rows(con, "select unit_code, name from core.org_unit where unit_type = 'department' "
                      "and unit_code = ?", [f"{province['unit_code']}.SYT"]) if province.get("unit_code") else []
    name = rows[0]["name"] if rows else "Sở Y tế"
    pname = province.get("name") or ""
    superior = "UBND " + pname if pname else "UBND TỈNH"
    return {"superior": superior, "name": name, "abbr": "SYT",
            "place": pname.removeprefix("Tỉnh ").removeprefix("Thành phố ")}


def _target_counts(targets: list[dict]) -> dict:
    c = {k: 0 for k in ("met", "not_met", "not_yet_due", "no_data", "no_baseline", "on_track", "at_risk",
                        "off_track")}
    for t in targets:
        c[t["status"]] = c.get(t["status"], 0) + 1
        if t["trajectory"]:
            c[t["trajectory"]] = c.get(t["trajectory"], 0) + 1
    c["n"] = len(targets)
    c["n_due"] = c["met"] + c["not_met"]
    return c

