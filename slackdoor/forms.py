"""The unit's own workbook for a period, pre-filled with last period's values as a reference.

The form is `intake.template.build_template` unchanged (the parser reads it back as any blank
form), plus one column after «Ghi chú» on the data sheet: «Kỳ trước <period> (tham khảo)», the
values the warehouse holds as the unit's current version for the previous period. The value
column stays empty: the officer types this period's figures.
"""

from __future__ import annotations

import io

from openpyxl.styles import Font, PatternFill

from baocao import calendar
from intake import form
from intake.template import build_template, template_name

REFERENCE_COL = len(form.DATA_COLUMNS) + 1  # F
GREY = PatternFill("solid", fgColor="EDEDED")


def previous_period(period: str) -> str:
    return calendar.parse_period(period).previous().code


def previous_values(con, unit_code: str, period: str, dataset_code: str) -> dict[str, float]:
    """The unit's values for the previous period (its version that counts), by element."""
    rows = con.execute(
        """select element_code, value from core.current_value
           where unit_code = ? and period = ? and dataset_code = ? and value is not null""",
        [unit_code, previous_period(period), dataset_code]).fetchall()
    return {e: v for e, v in rows}


def reference_header(period: str) -> str:
    return f"Kỳ trước {previous_period(period)} (tham khảo)"


def prefilled_form(unit_code: str, period: str, dataset_code: str, previous: dict[str, float], cat=None) -> bytes:
    wb = build_template(unit_code, period, dataset_code, cat=cat)
    ws = wb[form.SHEET_DATA]
    head = ws.cell(form.HEADER_ROW, REFERENCE_COL, reference_header(period))
    head.font = Font(bold=True, italic=True)
    head.fill = GREY
    for r in range(form.HEADER_ROW + 1, ws.max_row + 1):
        code = ws.cell(r, 1).value
        if code in previous:
            c = ws.cell(r, REFERENCE_COL, previous[code])
            c.fill = GREY
            c.font = Font(italic=True)
    ws.column_dimensions[form.col_letter(REFERENCE_COL)].width = 24
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def form_name(unit_code: str, period: str, dataset_code: str) -> str:
    return template_name(unit_code, period, dataset_code)
