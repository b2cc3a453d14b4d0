"""Feedback workbooks: the unit's own file with every finding marked on the cell it names.

`annotate_workbook(src, findings, dest, source_name=…)` copies the unit's workbook (values,
formulas, styles, validations, other sheets: whatever openpyxl keeps) and, for each finding that
names a sheet and an Excel cell, fills that cell red (error) or amber (warning) and attaches a
comment with the message, the value as typed and what would pass (for a plausibility warning:
the expected range and the previous value, which the validation puts there). A broken
cross-element rule (R…, catalog/validation_rules.yaml) marks both of its cells: the finding names
the left element's cell, the right element's is found on the data sheet by its code. A first
sheet "Kết quả kiểm tra" ("Check results" in English) lists every finding, with links to the
marked cells, so the officer sees everything at once; its title names the file as the unit sent
it (`source_name`), never the store's own name. CSV submissions, files the parser refused (P rules) and workbooks openpyxl
cannot read get only that sheet (`annotate_findings_xlsx`). Writes are atomic (tmp + os.replace).

A unit sending the annotated file back is fine: an earlier findings sheet, baocao's comments and
its red/amber fills are removed before the new ones are added.

The copy holds the unit's values, not their formulas (loaded with the cached values), and every
text baocao writes is a string cell (baocao.escape), so no cell of an annotated workbook holds a
formula that came from a unit.

Limits (openpyxl): charts, and images when Pillow is not installed, are not carried over.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import re
import tempfile
import warnings
import zipfile
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

import catalog as catalog_mod
from baocao.escape import xlsx_guard, xlsx_put
from baocao.findings import Finding
from intake import form, template
from intake.numbers import fold

log = logging.getLogger(__name__)

AUTHOR = "baocao"
ERROR_RGB, WARNING_RGB = "FFFF7C80", "FFFFC000"   # red / amber
ERROR_FILL = PatternFill("solid", fgColor=ERROR_RGB)
WARNING_FILL = PatternFill("solid", fgColor=WARNING_RGB)
INPUT_FILL = template.FILL  # the form's fill of the cells a unit fills in
SHEET_TITLE = {"vi": "Kết quả kiểm tra", "en": "Check results"}

_CELL = re.compile(r"^\s*\$?([A-Za-z]{1,3})\$?([0-9]{1,7})\s*$")
_MAX_ROW, _MAX_COL = 1_048_576, 16_384
_TEXT_MAX = 32_000   # Excel keeps at most 32,767 characters in a cell
_NOTE_MAX = 2_000    # per finding in a comment

_L = {
    "vi": {
        "error": "Lỗi", "warning": "Cảnh báo", "typed": "Giá trị đã nhập", "expected": "Cần",
        "blank": "(trống)",
        "headers": ["STT", "Mức độ", "Mã kiểm tra", "Trang", "Ô", "Chỉ tiêu", "Giá trị đã nhập", "Nội dung",
                    "Cần sửa thành / yêu cầu"],
        "title": "Kết quả kiểm tra tệp «{name}»: {errors} lỗi, {warnings} cảnh báo",
        "none": "Không có lỗi hay cảnh báo nào.",
        "legend": ("Ô tô đỏ: lỗi, phải sửa rồi gửi lại. Ô tô vàng cam: cảnh báo, kiểm tra lại (nếu đúng thì xác nhận "
                   "với tỉnh). Di chuột vào ô được tô để xem ghi chú; bấm vào địa chỉ ô ở cột «Ô» để đến ô đó."),
        "legend_plain": ("Tệp gửi lên không phải bảng tính Excel đọc được (ví dụ tệp CSV) nên không đánh dấu được ô; "
                         "danh sách đầy đủ ở dưới."),
    },
    "en": {
        "error": "Error", "warning": "Warning", "typed": "Value as typed", "expected": "Expected",
        "blank": "(blank)",
        "headers": ["No.", "Severity", "Check", "Sheet", "Cell", "Element", "Value as typed", "Problem",
                    "What would pass"],
        "title": "Check results for «{name}»: {errors} error(s), {warnings} warning(s)",
        "none": "No errors or warnings.",
        "legend": ("Red cells: errors, to be corrected before sending the file again. Amber cells: warnings, to be "
                   "checked (if the figure is right, confirm it with the province). Hover over a marked cell to read "
                   "its comment; click a cell address in column «Cell» to go there."),
        "legend_plain": ("The file sent is not a readable Excel workbook (for example a CSV file), so no cells could "
                         "be marked; the full list is below."),
    },
}


# ------------------------------------------------------------------------------------ public

def annotate_workbook(src: Path, findings: list[Finding], dest: Path, lang: str = "vi",
                      source_name: str | None = None, cat=None) -> Path:
    """Write `dest`: a copy of the workbook `src` with the findings marked on their cells and a
    first sheet listing them all. `source_name`: the file's name as the unit sent it (the title
    shows it; `src` is the store's copy). Falls back to `annotate_findings_xlsx` when `src` is not
    a workbook openpyxl can safely read (CSV, damaged, refused by the parser). Returns `dest`."""
    src, dest = Path(src), Path(dest)
    lang = lang if lang in _L else "vi"
    name = source_name or src.name
    wb = _load(src, findings)
    if wb is None:
        return annotate_findings_xlsx(findings, dest, lang, source_name=name)
    _strip_previous(wb)
    marked = _mark_cells(wb, findings, lang, _rule_partners(cat))
    ws = wb.create_sheet(SHEET_TITLE[lang], 0)
    _findings_sheet(ws, findings, lang, name, marked, plain=False)
    for other in wb.worksheets:
        other.sheet_view.tabSelected = False  # several selected tabs = "grouped" sheets in Excel
    ws.sheet_view.tabSelected = True
    wb.active = 0
    return _save(wb, dest)


def annotate_findings_xlsx(findings: list[Finding], dest: Path, lang: str = "vi",
                           source_name: str | None = None) -> Path:
    """Write `dest`: a workbook with only the findings sheet (for CSV or unreadable submissions)."""
    lang = lang if lang in _L else "vi"
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_TITLE[lang]
    _findings_sheet(ws, findings, lang, source_name or "", {}, plain=True)
    return _save(wb, Path(dest))


def comment_text(findings: list[Finding], lang: str = "vi") -> str:
    """The comment put on a cell for the findings that name it."""
    lang = lang if lang in _L else "vi"
    return "\n\n".join(_note(f, lang) for f in findings)


# ----------------------------------------------------------------------------------- reading

def _load(src: Path, findings: list[Finding]) -> Workbook | None:
    """The workbook, or None when it must not or cannot be opened with openpyxl."""
    from intake.parse import MAX_FILE_BYTES, MAX_UNZIPPED_BYTES, MAX_ZIP_MEMBERS

    if any((f.rule_id or "").upper().startswith("P") for f in findings):
        return None  # the parser refused the file itself (damaged, bomb, encrypted, giant sheet...)
    try:
        if src.stat().st_size > MAX_FILE_BYTES:
            return None
        data = src.read_bytes()
        if data[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
            return None  # CSV or something else: its content decides, not its name
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_MEMBERS or sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
                return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "extension is not supported and will be removed" etc.
            # a file object, not the path: openpyxl refuses names not ending in .xlsx/.xlsm
            # values, not formulas: the copy sent back holds no formula from the unit's file (a
            # DDE `=cmd|…` or `=HYPERLINK(…)` stays in their original, never in what baocao writes)
            return load_workbook(io.BytesIO(data), keep_vba=False, keep_links=False, rich_text=True, data_only=True)
    except Exception as exc:  # any failure means "list the findings only"
        log.info("cannot annotate %s (%s: %s); writing the findings sheet only", src, type(exc).__name__, exc)
        return None


def _strip_previous(wb: Workbook) -> None:
    """Undo an earlier annotation (a unit may send the annotated file back)."""
    for title in SHEET_TITLE.values():
        if title in wb.sheetnames:
            del wb[title]
    ours = {ERROR_RGB, WARNING_RGB}
    inputs = {fold(form.SHEET_DATA): form.DATA_VALUE_COL, fold(form.SHEET_TASKS): form.TASK_STATUS_COL,
              fold(form.SHEET_TEXT): form.TEXT_VALUE_COL}
    for ws in wb.worksheets:
        input_col = inputs.get(fold(ws.title))
        for row in ws.iter_rows():
            for c in row:
                if c.comment is not None and c.comment.author == AUTHOR:
                    c.comment = None
                if c.has_style and c.fill is not None and c.fill.fill_type == "solid" \
                        and str(c.fill.fgColor.rgb).upper() in ours:
                    is_input = input_col is not None and c.column == input_col and c.row > form.HEADER_ROW
                    c.fill = INPUT_FILL if is_input else PatternFill()


# ----------------------------------------------------------------------------------- marking

def _target(wb: Workbook, f: Finding):
    """(worksheet, coordinate) of the cell a finding names, or None (no cell, CSV line, unknown sheet)."""
    if not f.sheet or not f.cell:
        return None
    m = _CELL.match(str(f.cell).split(":")[0])
    if not m:
        return None
    col, row = column_index_from_string(m.group(1).upper()), int(m.group(2))
    if not (1 <= row <= _MAX_ROW and 1 <= col <= _MAX_COL):
        return None
    ws = wb[f.sheet] if f.sheet in wb.sheetnames else None
    if ws is None:
        key = fold(str(f.sheet))
        ws = next((w for w in wb.worksheets if fold(w.title) == key), None)
    if ws is None or not hasattr(ws, "merged_cells"):  # chartsheets have no cells
        return None
    for rng in ws.merged_cells.ranges:  # a merged area: its top-left cell holds value and comment
        if rng.min_row <= row <= rng.max_row and rng.min_col <= col <= rng.max_col:
            row, col = rng.min_row, rng.min_col
            break
    return ws, f"{get_column_letter(col)}{row}"


def _rule_partners(cat=None) -> dict[str, tuple[str, str]]:
    """Cross-element rule id -> (left element, right element), from the catalog."""
    try:
        cat = cat or catalog_mod.load()
    except Exception as exc:  # no catalog: rules mark their left cell only
        log.warning("catalog not readable (%s); cross-element rules mark one cell", exc)
        return {}
    return {str(r["id"]).upper(): (r["left"], r["right"]) for r in cat.rules.get("rules", [])
            if r.get("id") and r.get("left") and r.get("right")}


def _partner(wb: Workbook, f: Finding, partners: dict[str, tuple[str, str]]):
    """(worksheet, coordinate) of the other cell of a broken cross-element rule: the value cell of
    the rule's right element on the data sheet, found by its code in column A. None if absent."""
    pair = partners.get((f.rule_id or "").upper())
    if pair is None or (f.element_code and f.element_code != pair[0]):
        return None
    ws = next((w for w in wb.worksheets if fold(w.title) == fold(form.SHEET_DATA) and hasattr(w, "merged_cells")),
              None)
    if ws is None:
        return None
    want = fold(pair[1])
    for r, (code,) in enumerate(ws.iter_rows(min_row=form.HEADER_ROW + 1,
                                             max_row=min(ws.max_row, form.HEADER_ROW + 5000),
                                             min_col=1, max_col=1, values_only=True), start=form.HEADER_ROW + 1):
        if isinstance(code, str) and fold(code) == want:
            return ws, f"{get_column_letter(form.DATA_VALUE_COL)}{r}"
    return None


def _mark_cells(wb: Workbook, findings: list[Finding], lang: str,
                partners: dict[str, tuple[str, str]] | None = None) -> dict[int, list[tuple[str, str]]]:
    """Fill and comment every named cell (both cells of a cross-element rule). Returns finding
    index -> [(sheet title, coordinate), …], the cell the finding names first."""
    by_cell: dict[tuple[str, str], list[int]] = {}
    where: dict[int, list[tuple[str, str]]] = {}
    for i, f in enumerate(findings):
        t = _target(wb, f)
        if t is None:
            continue
        for ws, coord in [t] + [p for p in [_partner(wb, f, partners or {})] if p is not None]:
            key = (ws.title, coord)
            if key not in where.get(i, []):
                by_cell.setdefault(key, []).append(i)
                where.setdefault(i, []).append(key)
    for (title, coord), idx in by_cell.items():
        cell = wb[title][coord]
        # on a rule's other cell, "value as typed" is that cell's own value, not the one the finding names
        fs = [findings[i] if where[i][0] == (title, coord)
              else dataclasses.replace(findings[i], value_raw=None if cell.value is None else str(cell.value))
              for i in idx]
        fs.sort(key=lambda f: f.severity != "error")
        cell.fill = ERROR_FILL if any(f.severity == "error" for f in fs) else WARNING_FILL
        text = comment_text(fs, lang)
        if cell.comment is not None and cell.comment.text and cell.comment.author != AUTHOR:
            text = _clean(cell.comment.text) + "\n\n— " + AUTHOR + " —\n" + text  # keep the unit's own note
        cell.comment = _comment(text)
    return where


def _note(f: Finding, lang: str) -> str:
    L = _L[lang]
    msg = f.message_en if lang == "en" else f.message_vi
    exp = f.expected_en if lang == "en" else f.expected_vi
    head = f"[{L['error'] if f.severity == 'error' else L['warning']} {f.rule_id}]"
    lines = [f"{head} {msg}"]
    typed = L["blank"] if f.value_raw in (None, "") else f"«{f.value_raw}»"
    lines.append(f"{L['typed']}: {typed}")
    if exp:
        lines.append(f"{L['expected']}: {exp}")
    return _clean("\n".join(lines))[:_NOTE_MAX]


def _comment(text: str) -> Comment:
    text = text[:_TEXT_MAX]
    lines = sum(max(1, -(-len(line) // 48)) for line in text.split("\n"))
    return Comment(text, AUTHOR, height=min(600, 16 * lines + 24), width=320)


# ------------------------------------------------------------------------------ findings sheet

def _findings_sheet(ws, findings: list[Finding], lang: str, source_name: str,
                    marked: dict[int, list[tuple[str, str]]], plain: bool) -> None:
    L = _L[lang]
    order = sorted(range(len(findings)), key=lambda i: findings[i].severity != "error")
    n_err = sum(f.severity == "error" for f in findings)
    _put(ws, 1, 1, L["title"].format(name=source_name or "?", errors=n_err, warnings=len(findings) - n_err)
         if findings else L["none"]).font = Font(bold=True, size=13)
    _put(ws, 2, 1, L["legend_plain"] if plain else L["legend"]).alignment = Alignment(wrap_text=False)
    header_row = 4
    for j, name in enumerate(L["headers"], start=1):
        c = _put(ws, header_row, j, name)
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="D9E1F2")
    wrap = Alignment(wrap_text=True, vertical="top")
    for n, i in enumerate(order, start=1):
        f = findings[i]
        r = header_row + n
        element = f.element_code or ""
        if f.element_name and f.element_name != f.element_code:
            element = f"{element} — {f.element_name}" if element else f.element_name
        row = [n, L["error"] if f.severity == "error" else L["warning"], f.rule_id, f.sheet or "", f.cell or "",
               element, "" if f.value_raw is None else f.value_raw,
               f.message_en if lang == "en" else f.message_vi,
               (f.expected_en if lang == "en" else f.expected_vi) or ""]
        for j, v in enumerate(row, start=1):
            c = _put(ws, r, j, v)
            c.alignment = wrap
        ws.cell(r, 2).fill = ERROR_FILL if f.severity == "error" else WARNING_FILL
        if i in marked:
            title, coord = marked[i][0]
            c = ws.cell(r, 5)
            if len(marked[i]) > 1:  # both cells of a cross-element rule
                _put(ws, r, 5, ", ".join([f.cell or coord] + [k for _, k in marked[i][1:]]))
            c.hyperlink = Hyperlink(ref=c.coordinate, location=f"'{title.replace(chr(39), chr(39) * 2)}'!{coord}")
            c.font = Font(color="0563C1", underline="single")
    for col, width in zip("ABCDEFGHI", (5, 10, 11, 14, 9, 34, 18, 60, 44), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    if findings:
        ws.auto_filter.ref = f"A{header_row}:I{header_row + len(findings)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _put(ws, row: int, col: int, value):
    """Write a value as data: text is cleaned of characters XML cannot carry and never becomes a formula."""
    return xlsx_put(ws.cell(row, col), value)


def _clean(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", str(text))


# ------------------------------------------------------------------------------------ saving

def _save(wb: Workbook, dest: Path) -> Path:
    xlsx_guard(wb)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest
