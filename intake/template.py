"""Blank per-unit, per-period report workbooks (the form a commune officer fills in)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.protection import SheetProtection

import catalog as catalog_mod
from baocao import calendar
from baocao.escape import xlsx_guard, xlsx_put
from baocao.labels import period_text
from baocao.text import fmt_number
from intake import form

HEAD = Font(bold=True)
FILL = PatternFill("solid", fgColor="FFF2CC")  # cells the unit fills in
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)
# No password (a unit never needs one): protection only keeps labels, codes and the layout from
# being overwritten by accident. Resizing columns and rows stays allowed.
PROTECT = dict(sheet=True, formatColumns=False, formatRows=False, selectLockedCells=False,
               selectUnlockedCells=False)
NO_DEADLINE = "Thường xuyên (báo cáo định kỳ 6 tháng, năm)"  # a plan's task with no date stated
ONE_PAGE_ROWS = 45  # a sheet with at most this many printed lines goes on one page


period_words = period_text  # a period as an official writes it ("6 tháng đầu năm 2026")


def task_deadline(task) -> str:
    """The deadline the plan gives a task: its own words, else its date, else "thường xuyên"."""
    if (task.deadline_text or "").strip():
        return task.deadline_text.strip()
    if (task.deadline_date or "").strip():
        y, m, d = task.deadline_date.strip()[:10].split("-")
        return f"{d}/{m}/{y}"
    return NO_DEADLINE


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
    meta["A1"] = f"{ds.name} — {unit.name} — {period_words(per)}"
    meta["A1"].font = Font(bold=True, size=13)
    meta_values = {
        "template_version": form.TEMPLATE_VERSION, "unit_code": unit.code, "unit_name": unit.name,
        "period": per.code, "dataset_code": ds.code,
        "deadline": calendar.deadline(per, rule).strftime("%d/%m/%Y"), "prepared_by": "",
    }
    for i, (key, label) in enumerate(form.META_ROWS):
        r = form.META_FIRST_ROW + i
        meta.cell(r, 1, label).font = HEAD
        c = xlsx_put(meta.cell(r, 2), meta_values[key])
        if key == "period":
            xlsx_put(meta.cell(r, 3), period_words(per)).font = Font(italic=True)
        if key == "prepared_by":
            c.fill, c.protection = FILL, UNLOCKED
    meta.column_dimensions["A"].width = 34
    meta.column_dimensions["B"].width = 50
    meta.column_dimensions["C"].width = 24
    meta.cell(form.META_FIRST_ROW + len(form.META_ROWS) + 1, 1,
              "Chỉ điền ô «Người lập biểu» (tô vàng); các ô khác đã khóa. "
              "Only 'Prepared by' (yellow) can be filled in; the other cells are locked.")
    _print_setup(meta, landscape=False, rows=form.META_FIRST_ROW + len(form.META_ROWS) + 1)
    _protect(meta)

    data = wb.create_sheet(form.SHEET_DATA)
    data["A1"] = f"Số liệu {period_words(per)} — {unit.name}"
    data["A1"].font = Font(bold=True, size=13)
    data["A2"] = ("Nhập số vào cột «Giá trị» (số nguyên cho số lượng; 1 = có, 0 = không). "
                  "Có thể viết 1.234 hoặc 1234. Để trống nếu chưa có số liệu sẽ bị báo thiếu.")
    _header(data, form.DATA_COLUMNS)
    values = values or {}
    checks: dict[tuple, DataValidation] = {}
    for i, code in enumerate(ds.elements):
        el = cat.elements[code]
        r = form.HEADER_ROW + 1 + i
        data.cell(r, 1, el.code)
        data.cell(r, 2, el.name).alignment = WRAP_TOP
        data.cell(r, 3, el.unit)
        c = xlsx_put(data.cell(r, form.DATA_VALUE_COL), values.get(code))
        c.fill, c.protection = FILL, UNLOCKED
        data.cell(r, form.DATA_VALUE_COL + 1).protection = UNLOCKED  # the unit's note
        data.cell(r, form.DATA_VALUE_COL + 1).alignment = WRAP_TOP
        lo, hi = el.bounds
        key = ("flag",) if el.value_type == "flag" else ("decimal", lo, hi)
        if key not in checks:
            checks[key] = _number_check(key)
            data.add_data_validation(checks[key])
        checks[key].add(c)
        if len(el.name) > 70:
            data.row_dimensions[r].height = 15 * -(-len(el.name) // 70)
    for col, w in zip("ABCDE", (28, 70, 12, 16, 30), strict=True):
        data.column_dimensions[col].width = w
    _print_setup(data, landscape=True, rows=form.HEADER_ROW + len(ds.elements))
    _protect(data)

    task_list = cat.tasks_for(ds.code, unit.code)
    if task_list:
        ts = wb.create_sheet(form.SHEET_TASKS)
        ts["A1"] = "Tình hình thực hiện nhiệm vụ được giao"
        ts["A1"].font = Font(bold=True, size=13)
        ts["A2"] = "Chọn tình trạng: " + "; ".join(s["name"] for s in cat.task_statuses)
        _header(ts, form.TASK_COLUMNS)
        dv = DataValidation(type="list", formula1='"' + ",".join(s["name"] for s in cat.task_statuses) + '"',
                            allow_blank=True, showErrorMessage=True, showInputMessage=True,
                            errorTitle="Tình trạng không hợp lệ", promptTitle="Tình trạng",
                            error="Chọn một tình trạng trong danh sách.",
                            prompt="Chọn trong danh sách: " + "; ".join(s["name"] for s in cat.task_statuses))
        ts.add_data_validation(dv)
        tasks = tasks or {}
        for i, t in enumerate(task_list):
            r = form.HEADER_ROW + 1 + i
            ts.cell(r, 1, t.plan_code)
            ts.cell(r, 2, t.task_no)
            ts.cell(r, 3, t.title).alignment = WRAP_TOP
            ts.cell(r, 4, task_deadline(t)).alignment = WRAP_TOP
            st = tasks.get((t.plan_code, t.task_no))
            c = xlsx_put(ts.cell(r, form.TASK_STATUS_COL), st[0] if isinstance(st, tuple) else st)
            c.fill, c.protection = FILL, UNLOCKED
            dv.add(c)
            note = ts.cell(r, form.TASK_STATUS_COL + 1)
            note.protection, note.alignment = UNLOCKED, WRAP_TOP
            if isinstance(st, tuple):
                xlsx_put(note, st[1])
            ts.row_dimensions[r].height = 15 * max(-(-len(t.title) // 80), -(-len(task_deadline(t)) // 24), 1)
        for col, w in zip("ABCDEF", (12, 6, 80, 24, 18, 30), strict=True):
            ts.column_dimensions[col].width = w
        _print_setup(ts, landscape=True,
                     rows=form.HEADER_ROW + sum(max(1, -(-len(t.title) // 80)) for t in task_list))
        _protect(ts)

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
            c.fill, c.protection, c.alignment = FILL, UNLOCKED, WRAP_TOP
            tx.row_dimensions[r].height = 90  # room to write a paragraph
        for col, w in zip("ABC", (12, 28, 100), strict=True):
            tx.column_dimensions[col].width = w
        _print_setup(tx, landscape=True, rows=form.HEADER_ROW + 6 * len(cat.narrative_sections))
        _protect(tx)
    return wb


def _number_check(key: tuple) -> DataValidation:
    """Excel's own check on a value cell: 0/1 for a yes/no element, else a number within the
    element's bounds (≥ 0), with the reason in Vietnamese. The parser checks the same again."""
    if key[0] == "flag":
        return DataValidation(type="list", formula1='"0,1"', allow_blank=True, showErrorMessage=True,
                              showInputMessage=True, errorTitle="Chỉ nhập 0 hoặc 1", promptTitle="Có / không",
                              error="Chỉ nhập 1 (có) hoặc 0 (không).", prompt="Nhập 1 nếu có, 0 nếu không.")
    _, lo, hi = key
    words = f"từ {_num(lo)} đến {_num(hi)}" if hi is not None else f"lớn hơn hoặc bằng {_num(lo)}"
    dv = DataValidation(type="decimal", operator="between" if hi is not None else "greaterThanOrEqual",
                        formula1=str(lo), formula2=None if hi is None else str(hi), allow_blank=True,
                        showErrorMessage=True, showInputMessage=True, errorTitle="Giá trị không hợp lệ",
                        promptTitle="Nhập số", error=f"Chỉ nhập số {words}; không nhập chữ hay ký hiệu.",
                        prompt=f"Nhập một số {words}.")
    return dv


def _num(x: float) -> str:
    return fmt_number(x)  # 2.000.000, 0,5


def _print_setup(ws, *, landscape: bool, rows: int) -> None:
    """A4, fit to the page width, the header rows repeated on every page, one page tall when it fits."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if rows <= ONE_PAGE_ROWS else 0
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = True
    if ws.title != form.SHEET_META:
        ws.print_title_rows = f"1:{form.HEADER_ROW}"


def _protect(ws) -> None:
    ws.protection = SheetProtection(**PROTECT)


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
