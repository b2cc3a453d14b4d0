"""Blank per-unit, per-period report workbooks (the form a commune officer fills in)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

import catalog as catalog_mod
from baocao import calendar
from baocao.escape import xlsx_guard, xlsx_put
from intake import form

HEAD = Font(bold=True)
FILL = PatternFill("solid", fgColor="FFF2CC")  # cells the unit fills in


def build_template(unit_code: str, period: str, dataset_code: str, cat=None, values: dict | None = None,
                   tasks: dict | None = None, texts: dict | None = None) -> Workbook:
    """A workbook for one unit, period and data set. `values`/`tasks`/`texts` pre-fill it (used by
    the demo generator and tests; a real blank template leaves them empty)."""
    cat = cat or catalog_mod.load()
    unit = cat.org_units[unit_code]
    ds = cat.datasets[dataset_code]
    per = calendar.parse_period(period)
    rule = calendar.DeadlineRule.from_dict(ds.deadline)
    wb = Workbook()
    meta = wb.active
    meta.title = form.SHEET_META
    meta["A1"] = f"{ds.name} — {unit.name} — kỳ {per.code}"
    meta["A1"].font = Font(bold=True, size=13)
    meta_values = {
        "template_version": form.TEMPLATE_VERSION, "unit_code": unit.code, "unit_name": unit.name,
        "period": per.code, "dataset_code": ds.code,
        "deadline": calendar.deadline(per, rule).strftime("%d/%m/%Y"), "prepared_by": "",
    }
    for i, (key, label) in enumerate(form.META_ROWS):
        r = form.META_FIRST_ROW + i
        meta.cell(r, 1, label).font = HEAD
        xlsx_put(meta.cell(r, 2), meta_values[key])
    meta.column_dimensions["A"].width = 34
    meta.column_dimensions["B"].width = 50
    meta.cell(form.META_FIRST_ROW + len(form.META_ROWS) + 1, 1,
              "Không sửa các ô trên, trừ «Người lập biểu». Do not edit the cells above except 'Prepared by'.")

    data = wb.create_sheet(form.SHEET_DATA)
    data["A1"] = f"Số liệu kỳ {per.code} — {unit.name}"
    data["A1"].font = Font(bold=True, size=13)
    data["A2"] = ("Nhập số vào cột «Giá trị» (số nguyên cho số lượng; 1 = có, 0 = không). "
                  "Có thể viết 1.234 hoặc 1234. Để trống nếu chưa có số liệu sẽ bị báo thiếu.")
    _header(data, form.DATA_COLUMNS)
    values = values or {}
    for i, code in enumerate(ds.elements):
        el = cat.elements[code]
        r = form.HEADER_ROW + 1 + i
        data.cell(r, 1, el.code)
        data.cell(r, 2, el.name)
        data.cell(r, 3, el.unit)
        c = xlsx_put(data.cell(r, form.DATA_VALUE_COL), values.get(code))
        c.fill = FILL
        c.protection = Protection(locked=False)
    for col, w in zip("ABCDE", (24, 70, 12, 16, 30), strict=True):
        data.column_dimensions[col].width = w

    task_list = cat.tasks_for(ds.code, unit.code)
    if task_list:
        ts = wb.create_sheet(form.SHEET_TASKS)
        ts["A1"] = "Tình hình thực hiện nhiệm vụ được giao"
        ts["A1"].font = Font(bold=True, size=13)
        ts["A2"] = "Chọn tình trạng: " + "; ".join(s["name"] for s in cat.task_statuses)
        _header(ts, form.TASK_COLUMNS)
        dv = DataValidation(type="list", formula1='"' + ",".join(s["name"] for s in cat.task_statuses) + '"',
                            allow_blank=True)
        ts.add_data_validation(dv)
        tasks = tasks or {}
        for i, t in enumerate(task_list):
            r = form.HEADER_ROW + 1 + i
            ts.cell(r, 1, t.plan_code)
            ts.cell(r, 2, t.task_no)
            ts.cell(r, 3, t.title).alignment = Alignment(wrap_text=True, vertical="top")
            ts.cell(r, 4, t.deadline_text)
            st = tasks.get((t.plan_code, t.task_no))
            c = xlsx_put(ts.cell(r, form.TASK_STATUS_COL), st[0] if isinstance(st, tuple) else st)
            c.fill = FILL
            dv.add(c)
            if isinstance(st, tuple):
                xlsx_put(ts.cell(r, 6), st[1])
        for col, w in zip("ABCDEF", (12, 6, 80, 14, 18, 30), strict=True):
            ts.column_dimensions[col].width = w

    if ds.narrative:
        tx = wb.create_sheet(form.SHEET_TEXT)
        tx["A1"] = "Thuyết minh: kết quả, hạn chế, kiến nghị"
        tx["A1"].font = Font(bold=True, size=13)
        _header(tx, form.TEXT_COLUMNS)
        texts = texts or {}
        for i, s in enumerate(cat.narrative_sections):
            r = form.HEADER_ROW + 1 + i
            tx.cell(r, 1, s["code"])
            tx.cell(r, 2, s["name"])
            c = xlsx_put(tx.cell(r, form.TEXT_VALUE_COL), texts.get(s["code"]))
            c.fill = FILL
            c.alignment = Alignment(wrap_text=True, vertical="top")
        for col, w in zip("ABC", (12, 28, 100), strict=True):
            tx.column_dimensions[col].width = w
    return wb


def _header(ws, columns: list[str]) -> None:
    for j, name in enumerate(columns, start=1):
        c = ws.cell(form.HEADER_ROW, j, name)
        c.font = HEAD
        c.fill = PatternFill("solid", fgColor="D9E1F2")


def write_template(path: Path, unit_code: str, period: str, dataset_code: str, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = build_template(unit_code, period, dataset_code, **kw)
    tmp = path.with_suffix(path.suffix + ".tmp")
    xlsx_guard(wb)
    wb.save(tmp)
    tmp.replace(path)
    return path


def template_name(unit_code: str, period: str, dataset_code: str) -> str:
    return f"{dataset_code}_{unit_code}_{period}.xlsx"
