"""The operator's decisions in the draft report: every error accepted by override (unit, rule,
value as typed, who, when, why), so the figures that rest on them can be defended. Read by
reports/data.py (one query call), reports/html.py (one template include) and reports/xlsx.py (one sheet)."""

from __future__ import annotations

from baocao import calendar
from baocao.escape import xlsx_put

LABELS = {
    "vi": {"title": "Lỗi được tỉnh chấp nhận (quyết định của người vận hành)",
           "none": "Không có lỗi nào được chấp nhận trong kỳ.",
           "note": "Số liệu của các đơn vị này được tính vào tổng hợp theo quyết định dưới đây.",
           "cols": ["Đơn vị", "Báo cáo", "Quy tắc", "Chỉ tiêu", "Giá trị", "Người quyết định", "Thời điểm", "Lý do",
                    "Được tính"],
           "yes": "có", "no": "chưa", "sheet": "Lỗi được chấp nhận"},
    "en": {"title": "Errors accepted by the province (operator decisions)",
           "none": "No error was accepted in this period.",
           "note": "These units' figures count in the totals by the decisions below.",
           "cols": ["Unit", "Report", "Rule", "Element", "Value", "Decided by", "When", "Reason", "Counts"],
           "yes": "yes", "no": "not yet", "sheet": "Accepted errors"},
}


def rows(con, period: str) -> list[dict]:
    from baocao.decisions import override_list

    try:
        return override_list(con, period)
    except Exception as exc:  # a warehouse from before migration 006 has no decisions to list
        if "error_override" in str(exc):
            return []
        raise


def cells(r: dict, lang: str) -> list:
    L = LABELS[lang]
    when = r["decided_at"].astimezone(calendar.TZ).strftime("%d/%m/%Y %H:%M") if r["decided_at"] else ""
    return [f"{r['unit_name'] or r['unit_code']} ({r['unit_code']})", r["dataset_code"], r["rule_id"],
            r["element_code"], r["value_raw"] or "", r["decided_by"], when, r["reason"],
            L["yes"] if r["counts"] else L["no"]]


def add_sheet(wb, data_rows: list[dict], lang: str, make_sheet, period: str) -> None:
    """One sheet listing the decisions (`make_sheet`: reports.xlsx._sheet). Every cell goes through
    `baocao.escape.xlsx_put`: a unit's value as typed or an operator's reason is text, never a formula."""
    L = LABELS[lang]
    ws, r = make_sheet(wb, L["sheet"], L["cols"], [30, 10, 8, 22, 12, 22, 16, 50, 10], f"{L['title']} — {period}")
    for row in data_rows:
        for i, v in enumerate(cells(row, lang), 1):
            xlsx_put(ws.cell(r, i), v)
        r += 1
    if not data_rows:
        xlsx_put(ws.cell(r, 1), L["none"])
