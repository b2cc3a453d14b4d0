"""The report as an Excel workbook the operator edits."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from baocao.escape import xlsx_guard, xlsx_put
from reports import overrides
from reports.data import ReportData, period_end
from reports.labels import (
    COMPLETENESS,
    LABELS,
    STATUS,
    TASK_STATUS,
    TRAJECTORY,
    UNIT_CAPTION,
    assessment,
    decimals_for,
    fmt_time,
    title,
)
from reports.next_steps import next_period_words
from reports.recommendations import THEME_NAMES

HEAD_FONT = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="1F4E79")
TITLE_FONT = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")
STATUS_FILL = {"met": "C6EFCE", "on_track": "C6EFCE", "not_met": "FFC7CE", "off_track": "FFC7CE",
               "at_risk": "FFEB9C", "late": "FFEB9C", "rejected": "FFC7CE", "not_received": "FFC7CE",
               "missing": "FFC7CE"}


def _number_format(unit: str | None, value=None) -> str:
    d = decimals_for(unit, value)
    return "#,##0" if d == 0 else "#,##0." + "0" * d


def _sheet(wb: Workbook, name: str, headers: list[str], widths: list[int], heading: str | None = None):
    ws = wb.create_sheet(name[:31])
    row = 1
    if heading:
        ws.cell(1, 1, heading).font = TITLE_FONT
        row = 3
    for i, (h, w) in enumerate(zip(headers, widths, strict=True), 1):
        c = ws.cell(row, i, h)
        c.font, c.fill, c.alignment = HEAD_FONT, HEAD_FILL, Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = ws.cell(row + 1, 1)
    return ws, row + 1


def _doc_head(ws, data: ReportData, L: dict) -> int:
    """The administrative header (Decree 30/2020/NĐ-CP): issuing office and document number on
    the left, the national motto and place and date on the right. Returns the next free row."""
    bold = Font(bold=True)
    center = Alignment(horizontal="center")
    office = data.office or {}
    left = [(office.get("superior", "").upper(), Font()), ((office.get("name") or "").upper(), bold),
            (L["doc_no"].format(dots="……", abbr=office.get("abbr") or "SYT"), Font())]
    right = [(L["nation"], bold), (L["motto"], bold),
             (L["dated_blank"].format(place=office.get("place") or "……", dots="……", y=data.generated_at.year),
              Font(italic=True))]
    for r, ((lt, lf), (rt, rf)) in enumerate(zip(left, right, strict=True), 1):
        xlsx_put(ws.cell(r, 1), lt).font = lf
        xlsx_put(ws.cell(r, 3), rt).font = rf
        ws.cell(r, 1).alignment = ws.cell(r, 3).alignment = center
    return 5


def _signature(ws, r: int, L: dict) -> None:
    """"Nơi nhận" on the left, the signer's block on the right, below the summary."""
    ws.cell(r, 1, L["recipients_title"]).font = Font(bold=True, italic=True)
    for i, line in enumerate(L["recipients"], 1):
        ws.cell(r + i, 1, "- " + line).font = Font(size=10)
    center = Alignment(horizontal="center")
    for i, (text, font) in enumerate([(L["sign_for"], Font(bold=True)), (L["sign_title"], Font(bold=True)),
                                      (L["sign_hint"], Font(italic=True))]):
        c = ws.cell(r + i, 3, text)
        c.font, c.alignment = font, center
    ws.cell(r + 7, 3, "……………………………").alignment = center


def write_xlsx(data: ReportData, path: Path) -> Path:
    lang, L = data.lang, LABELS[data.lang]
    wb = Workbook()
    ws = wb.active
    ws.title = L["sheet_summary"]
    r = _doc_head(ws, data, L)
    ws.cell(r, 1, title(data.period, lang)).font = TITLE_FONT
    ws.cell(r + 1, 1, L["subtitle"])
    ws.cell(r + 2, 1, f"{L['draft']} — {L['source'].format(at=fmt_time(data.generated_at, lang))}").font = \
        Font(italic=True, color="C00000")
    xlsx_put(ws.cell(r + 4, 1), L["province"])
    xlsx_put(ws.cell(r + 4, 2), data.province["name"])
    ws.cell(r + 5, 1, L["period"])
    ws.cell(r + 5, 2, data.period)
    r += 7
    ws.cell(r, 1, L["target_counts"]).font = Font(bold=True)
    for key in ("met", "not_met", "on_track", "at_risk", "off_track", "no_data", "no_baseline"):
        r += 1
        ws.cell(r, 1, STATUS[lang].get(key) or TRAJECTORY[lang][key])
        ws.cell(r, 2, data.counts.get(key, 0))
    r += 2
    ws.cell(r, 1, L["s_reporting"]).font = Font(bold=True)
    for key in ("expected", "received", "accepted", "on_time", "late", "missing", "n_overdue"):
        r += 1
        ws.cell(r, 1, L["s_tasks"] if key == "n_overdue" else L[key])
        ws.cell(r, 2, data.counts[key])
    _signature(ws, r + 3, L)
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 40
    ws.column_dimensions["C"].width = 50

    # targets: one row per plan target (marts.target_progress)
    ws, r = _sheet(wb, L["sheet_targets"], [
        L["plan"], "Mã mục tiêu" if lang == "vi" else "Target id", "Mã chỉ tiêu" if lang == "vi" else "Indicator code",
        L["indicator"], L["target"], L["year"], L["threshold"], L["value"], L["value_period"],
        "Đơn vị tính" if lang == "vi" else "Unit", L["coverage"], L["status"], L["trajectory"], L["assessment"],
        L["review_note"]],
        [13, 16, 24, 36, 50, 7, 10, 10, 9, 10, 10, 16, 16, 18, 50], f"{title(data.period, lang)} — {L['s_targets']}")
    for p in data.plans:
        for t in p["targets"]:
            css, label = assessment(t, lang)
            vals = [t["plan_code"], t["target_id"], t["indicator_code"], t["indicator_name"], t["text"],
                    t["milestone_year"], t["threshold"], t["value"],
                    t.get("value_period") or (data.period if t["value"] is not None else None), t["unit"],
                    t["coverage"],
                    STATUS[lang].get(t["status"], t["status"]),
                    TRAJECTORY[lang].get(t["trajectory"], "") if t["trajectory"] else None, label, t["note"]]
            for i, v in enumerate(vals, 1):
                xlsx_put(ws.cell(r, i), v).alignment = WRAP
            ws.cell(r, 7).number_format = ws.cell(r, 8).number_format = _number_format(t["unit"], t["value"])
            ws.cell(r, 11).number_format = "0.00%"
            if css in STATUS_FILL:
                ws.cell(r, 14).fill = PatternFill("solid", fgColor=STATUS_FILL[css])
            r += 1

    # trends: one row per indicator, one column per period (marts.indicator_value, province)
    periods = sorted({p["period"] for tr in data.trends for p in tr["points"]}, key=period_end)
    ws, r = _sheet(wb, L["sheet_trends"], ["Mã chỉ tiêu" if lang == "vi" else "Indicator code", L["indicator"],
                                          "Đơn vị tính" if lang == "vi" else "Unit"] + periods,
                   [28, 50, 10] + [12] * len(periods), f"{L['s_trends']} — {data.province['name']}")
    for tr in data.trends:
        xlsx_put(ws.cell(r, 1), tr["indicator_code"])
        xlsx_put(ws.cell(r, 2), tr["name"])
        ws.cell(r, 3, UNIT_CAPTION[lang].get(tr["unit"], tr["unit"]))
        by = {p["period"]: p["value"] for p in tr["points"]}
        for j, per in enumerate(periods, 4):
            c = ws.cell(r, j, by.get(per))
            c.number_format = _number_format(tr["unit"], by.get(per))
            if per == data.period:
                c.font = Font(bold=True)
        r += 1

    # reporting rate per data set (marts.reporting_rate)
    ws, r = _sheet(wb, L["sheet_reporting"], [
        L["dataset"], L["dataset_name"], L["deadline"], L["expected"], L["received"], L["accepted"], L["on_time"],
        L["late"], L["missing"], L["reporting_rate"], L["timeliness_rate"]],
        [10, 50, 17, 10, 10, 10, 10, 10, 12, 12, 12], f"{L['s_reporting']} — {data.period}")
    for x in data.reporting:
        vals = [x["dataset_code"], x["dataset_name"], fmt_time(x["deadline_at"], lang), x["expected"], x["received"],
                x["accepted"], x["on_time"], x["late"], x["missing"], x["reporting_rate"], x["timeliness_rate"]]
        for i, v in enumerate(vals, 1):
            xlsx_put(ws.cell(r, i), v)
        ws.cell(r, 10).number_format = ws.cell(r, 11).number_format = "0.00%"
        r += 1

    # units (marts.reporting_completeness)
    ws, r = _sheet(wb, L["sheet_units"], [
        L["dataset"], L["unit_code"], L["unit"], L["state"], L["versions"], L["first_received"],
        L["accepted_received"], L["on_time"], L["late"], L["missing"]],
        [10, 12, 36, 18, 10, 17, 17, 10, 10, 10], f"{L['s_reporting']} — {L['unit']}")
    for u in data.units:
        vals = [u["dataset_code"], u["unit_code"], u["unit_name"], COMPLETENESS[lang][u["state"]], u["n_versions"],
                fmt_time(u["first_received_at"], lang), fmt_time(u["accepted_received_at"], lang),
                u["is_on_time"], u["is_late"], u["is_missing"]]
        for i, v in enumerate(vals, 1):
            xlsx_put(ws.cell(r, i), v)
        if u["state"] in STATUS_FILL:
            ws.cell(r, 4).fill = PatternFill("solid", fgColor=STATUS_FILL[u["state"]])
        r += 1

    # overdue tasks (marts.task_progress)
    ws, r = _sheet(wb, L["sheet_tasks"], [
        L["plan"], L["task_no"], L["task"], L["lead_agency"], L["task_deadline"], L["unit_code"], L["unit"],
        L["reported_status"], L["note"]], [12, 6, 60, 24, 12, 12, 30, 18, 30], f"{L['s_tasks']} — {data.period}")
    for t in data.overdue:
        vals = [t["plan_code"], t["task_no"], t["title"], t["lead_agency"], t["deadline_text"], t["unit_code"],
                t["unit_name"], TASK_STATUS[lang].get(t["status"], t["status"]), t["note"]]
        for i, v in enumerate(vals, 1):
            xlsx_put(ws.cell(r, i), v).alignment = WRAP
        r += 1

    # recommendations by theme
    ws, r = _sheet(wb, L["sheet_recs"], [L["theme"], L["proposal"], L["n_units"], L["units"]],
                   [26, 70, 10, 60], f"{L['s_recs']} — {data.period}")
    for g in data.recommendations:
        for p in g["proposals"]:
            vals = [THEME_NAMES[lang][g["theme"]], p["text"], len(p["units"]), ", ".join(c for c, _ in p["units"])]
            for i, v in enumerate(vals, 1):
                xlsx_put(ws.cell(r, i), v).alignment = WRAP
            r += 1
    # difficulties and their causes, by theme (core.narrative, han_che)
    ws, r = _sheet(wb, L["sheet_difficulties"], [L["kind"], L["theme"], L["difficulty"], L["n_units"], L["units_stated"]],
                   [18, 26, 70, 10, 60], f"{L['s_difficulties']} — {data.period}")
    for kind, groups in ((L["difficulty"], data.difficulties), (L["cause"], data.causes)):
        for g in groups:
            for p in g["proposals"]:
                vals = [kind, THEME_NAMES[lang][g["theme"]], p["text"], len(p["units"]),
                        ", ".join(c for c, _ in p["units"])]
                for i, v in enumerate(vals, 1):
                    xlsx_put(ws.cell(r, i), v).alignment = WRAP
                r += 1
    if not data.causes:
        xlsx_put(ws.cell(r + 1, 1), L["no_causes"]).font = Font(italic=True)

    # next steps
    ws, r = _sheet(wb, L["sheet_next"], ["STT" if lang == "vi" else "No.", L["step"], L["basis"]], [6, 100, 40],
                   L["s_next"].format(next=next_period_words(data.period, lang)))
    for n, st in enumerate(data.next_steps, 1):
        for i, v in enumerate([n, st["text"] + (":" if st["details"] else "."), st["basis"]], 1):
            xlsx_put(ws.cell(r, i), v).alignment = WRAP
        ws.cell(r, 2).font = Font(bold=True)
        r += 1
        for x in st["details"]:
            xlsx_put(ws.cell(r, 2), f"– {x};").alignment = WRAP
            r += 1
    overrides.add_sheet(wb, data.overrides, lang, _sheet, data.period)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    xlsx_guard(wb)  # no cell of the report holds a formula (units' texts are data)
    wb.save(tmp)
    tmp.replace(path)
    return path

