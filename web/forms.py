"""The workbooks a unit downloads: the blank form, and the same form with last period's values in
a reference column beside the value column (the parser reads only the value column, so a unit
that sends the reference copy back unchanged is told its values are missing, not given last
period's figures)."""

from __future__ import annotations

import io

from openpyxl.styles import Font, PatternFill

from intake import form
from intake.template import build_template

REF_COL = form.DATA_VALUE_COL + 2  # F: after «Ghi chú»
REF_FILL = PatternFill("solid", fgColor="EDEDED")


def workbook_bytes(unit: str, period: str, dataset_code: str, cat, previous: dict[str, float] | None = None,
                   previous_period: str | None = None) -> bytes:
    wb = build_template(unit, period, dataset_code, cat=cat)
    if previous is not None:
        ws = wb[form.SHEET_DATA]
        head = ws.cell(form.HEADER_ROW, REF_COL, f"Kỳ trước {previous_period} (tham khảo) / previous period")
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor="D9E1F2")
        ws.column_dimensions["F"].width = 26
        for r in range(form.HEADER_ROW + 1, ws.max_row + 1):
            code = ws.cell(r, 1).value
            if code in previous:
                c = ws.cell(r, REF_COL, previous[code])
                c.fill = REF_FILL
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
