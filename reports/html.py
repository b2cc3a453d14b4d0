"""The report as a self-contained HTML page (jinja2 with autoescape; inline CSS and SVG)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from baocao.text import fmt_number
from reports import overrides
from reports.charts import reporting_svg, trend_svg
from reports.data import ReportData
from reports.labels import (
    COMPLETENESS,
    LABELS,
    STATUS,
    TASK_STATUS,
    TRAJECTORY,
    UNIT_CAPTION,
    assessment,
    fmt_goal,
    fmt_rate,
    fmt_time,
    fmt_value,
    target_unit,
    title,
)
from reports.next_steps import next_period_words
from reports.recommendations import THEME_NAMES

TEMPLATES = Path(__file__).parent / "templates"


def render_html(data: ReportData) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    lang = data.lang
    env.filters.update({
        "num": lambda v, d=2: fmt_number(v, d, lang), "rate": lambda v: fmt_rate(v, lang),
        "val": lambda v, u: fmt_value(v, u, lang), "time": lambda v: fmt_time(v, lang),
        "raw": lambda v: "" if v is None else repr(float(v)) if isinstance(v, float) else str(v),
    })
    L = LABELS[lang]
    now = data.generated_at
    c = data.counts
    lead = [
        L["lead_reporting"].format(accepted=c["accepted"], expected=c["expected"], on_time=c["on_time"],
                                   late=c["late"], missing=c["missing"],
                                   rate=fmt_rate(c["accepted"] / c["expected"] if c["expected"] else None, lang),
                                   trate=fmt_rate(c["on_time"] / c["expected"] if c["expected"] else None, lang)),
        L["lead_met"].format(n_ahead=c["not_yet_due"], **c),
        L["lead_tasks"].format(n=c["n_overdue"], n_recs=sum(len(t["proposals"]) for t in data.recommendations),
                               n_units=data.n_rec_units),
    ]
    return env.get_template("report.html.j2").render(
        d=data, L=L, lang=lang, title=title(data.period, lang), lead=lead,
        place=data.province["name"].removeprefix("Tỉnh ").removeprefix("Thành phố "),
        dated=L["dated"].format(place=data.province["name"].removeprefix("Tỉnh ").removeprefix("Thành phố "),
                                d=now.day, m=now.month, y=now.year),
        source=L["source"].format(at=fmt_time(now, lang)),
        status_names=STATUS[lang], trajectory_names=TRAJECTORY[lang], completeness_names=COMPLETENESS[lang],
        task_status_names=TASK_STATUS[lang], theme_names=THEME_NAMES[lang], assessment=assessment,
        reporting_svg=reporting_svg(data.reporting, lang) if data.reporting else "",
        target_unit=target_unit, show_notes=lang != "vi",
        trend_svg=lambda tr: trend_svg(tr["points"], data.period, tr["unit"], lang, tr["goals"]),
        unit_suffix=UNIT_CAPTION[lang], fmt_goal=lambda g, u: fmt_goal(g, u, lang),
        OL=overrides.LABELS[lang], override_cells=lambda r: overrides.cells(r, lang),
        doc_no=L["doc_no"].format(dots="……", abbr=data.office.get("abbr") or "SYT"),
        dated_blank=L["dated_blank"].format(place=data.office.get("place") or "……", dots="……", y=now.year),
        next_period=next_period_words(data.period, lang),
    )

