"""The report's charts as inline SVG (no script, no external resource): a trend per indicator
against its goals, and the reporting rate per data set. Every text is escaped."""

from __future__ import annotations

import math

from markupsafe import Markup, escape

from baocao.text import fmt_number
from reports.labels import LABELS, decimals_for, fmt_rate


def _svg_text(x, y, text, cls="", anchor="middle") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"'
            + (f' class="{cls}"' if cls else "") + f">{escape(text)}</text>")


def _nice_step(span: float, n: int = 3) -> float:
    raw = span / n if span > 0 else 1.0
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def trend_svg(points: list[dict], current: str, unit: str | None, lang: str = "vi",
              goals: list[dict] | None = None, width: int = 340, height: int = 160) -> Markup:
    """A small line chart of a province indicator across periods: one point per period (marts
    value), labelled; the current period's point is filled; the plans' thresholds are dashed lines.
    The scale starts from round ticks and spans at least a tenth of the values, so that a change in
    the second decimal does not look like a collapse."""
    left, right, top, bottom, inset = 44, 44, 20, 24, 26
    vals = [p["value"] for p in points if p["value"] is not None]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="trend">']
    if not vals:
        parts.append(_svg_text(width / 2, height / 2, "—", "axis"))
        return Markup("".join(parts) + "</svg>")
    lines = sorted({g["threshold"] for g in goals or [] if g["threshold"] is not None and g["op"] != "range"}
                   | {v for g in goals or [] if g["op"] == "range" for v in (g["low"], g["high"]) if v is not None})
    every = vals + lines
    lo, hi = min(every), max(every)
    floor_span = max(abs(v) for v in every) * 0.1 or 1.0
    if hi - lo < floor_span:
        mid = (hi + lo) / 2
        lo, hi = mid - floor_span / 2, mid + floor_span / 2
        if min(every) >= 0 > lo:
            lo, hi = 0.0, hi - lo
    step = _nice_step(hi - lo)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    if hi == lo:
        hi = lo + step
    n = len(points)
    pw, ph = width - left - right - 2 * inset, height - top - bottom

    def x(i: int) -> float:
        return left + inset + (pw / 2 if n == 1 else pw * i / (n - 1))

    def y(v: float) -> float:
        return top + ph * (1 - (v - lo) / (hi - lo))

    tick_d = min(2, max(0, -math.floor(math.log10(step)) + (0 if float(step).is_integer() else 1)))
    k = 0
    while lo + k * step <= hi + step / 1000:
        gv = lo + k * step
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(gv):.1f}" y2="{y(gv):.1f}" class="grid"/>')
        parts.append(_svg_text(left - 5, y(gv) + 3.5, fmt_number(gv, tick_d, lang), "axis", "end"))
        k += 1
    last_label = None
    for v in lines:
        gy = y(v)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}" class="goal"/>')
        if last_label is None or abs(last_label - gy) > 11:
            parts.append(_svg_text(width - right + 4, gy + 3.5, fmt_number(v, decimals_for(unit, v), lang),
                                   "goal-lbl", "start"))
            last_label = gy
    d = decimals_for(unit, vals[0])
    xy = [(x(i), y(p["value"])) for i, p in enumerate(points) if p["value"] is not None]
    if len(xy) > 1:
        parts.append('<polyline class="line" points="' + " ".join(f"{a:.1f},{b:.1f}" for a, b in xy) + '"/>')
    for i, p in enumerate(points):
        is_cur = p["period"] == current
        parts.append(_svg_text(x(i), height - 7, p["period"], "axis cur" if is_cur else "axis"))
        if p["value"] is None:
            continue
        cx, cy = x(i), y(p["value"])
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{4.5 if is_cur else 3.5}" '
                     f'class="{"pt cur" if is_cur else "pt"}" data-period="{escape(p["period"])}"/>')
        above = cy - 8 if cy - 8 > top - 6 else cy + 16
        parts.append(_svg_text(cx, above, fmt_number(p["value"], d, lang), "val cur" if is_cur else "val"))
    return Markup("".join(parts) + "</svg>")


def reporting_svg(reporting: list[dict], lang: str = "vi", width: int = 640) -> Markup:
    """Stacked horizontal bars per data set: on time, late, without an accepted report."""
    L = LABELS[lang]
    row_h, left, right, top = 30, 90, 60, 8
    height = top + row_h * len(reporting) + 34
    pw = width - left - right
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" class="bars">']
    for i, r in enumerate(reporting):
        y0 = top + i * row_h
        parts.append(_svg_text(left - 8, y0 + 17, r["dataset_code"], "axis lbl", "end"))
        x0 = float(left)
        for key, cls in (("on_time", "ok"), ("late", "late"), ("missing", "miss")):
            w = pw * r[key] / r["expected"] if r["expected"] else 0
            if w > 0:
                parts.append(f'<rect x="{x0:.1f}" y="{y0 + 4}" width="{w:.1f}" height="{row_h - 10}" class="{cls}">'
                             f'<title>{escape(L[key])}: {r[key]}</title></rect>')
                if w > 22:
                    parts.append(_svg_text(x0 + w / 2, y0 + 18, str(r[key]), "inbar"))
            x0 += w
        parts.append(_svg_text(width - right + 6, y0 + 18, fmt_rate(r["reporting_rate"], lang), "axis", "start"))
    ly = height - 14
    lx = float(left)
    for key, cls in (("legend_on_time", "ok"), ("legend_late", "late"), ("legend_missing", "miss")):
        parts.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="11" height="11" class="{cls}"/>')
        parts.append(_svg_text(lx + 16, ly, L[key], "axis", "start"))
        lx += 24 + 7.2 * len(L[key])
    return Markup("".join(parts) + "</svg>")

