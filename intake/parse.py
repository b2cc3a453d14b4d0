"""Reading a unit's submission (xlsx workbook or CSV) into rows, with located findings.

Nothing here touches the warehouse: a file either yields a `ParsedSubmission` whose `findings`
say exactly what is wrong and where, or clean rows for validation. Hostile and broken files
(empty, not a workbook, encrypted, zip bombs, oversized, formulas without values, merged value
cells, text in number cells, legacy encodings) each get a specific message.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine as pc

import catalog as catalog_mod
from baocao import calendar
from baocao.findings import Finding, error
from intake import form
from intake.numbers import NotANumber, fold, nfc, parse_number

MAX_FILE_BYTES = 5 * 1024 * 1024        # a filled form is ~20 KB; 5 MB leaves room for logos
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024   # beyond this an xlsx is treated as a zip bomb
_DATE_TEXT = re.compile(r"^\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\s*$")
_YES = {"co", "x", "yes", "y", "dat", "1"}
_NO = {"khong", "no", "n", "chua", "chua dat", "0"}


@dataclass
class ParsedSubmission:
    path: Path
    file_format: str                      # xlsx | csv | unknown
    unit_code: str | None = None          # as the file states it
    period: str | None = None
    dataset_code: str | None = None
    template_version: str | None = None
    values: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)
    texts: list[dict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


def parse_file(path: Path, inbox_unit: str | None = None, cat=None) -> ParsedSubmission:
    """Parse one file. `inbox_unit` is the unit whose inbox (or command) delivered it."""
    cat = cat or catalog_mod.load()
    path = Path(path)
    data = path.read_bytes()
    name = path.name
    if len(data) == 0:
        return _fail(path, "unknown", "P01", "Tệp rỗng (0 byte)", "The file is empty (0 bytes)",
                     "gửi lại tệp mẫu biểu đã điền số liệu", "send the filled-in form again")
    if len(data) > MAX_FILE_BYTES:
        mb = len(data) / 1024 / 1024
        return _fail(path, "unknown", "P04", f"Tệp quá lớn ({mb:.1f} MB; tối đa {MAX_FILE_BYTES // 1048576} MB)",
                     f"File too large ({mb:.1f} MB; at most {MAX_FILE_BYTES // 1048576} MB)",
                     "xóa ảnh, trang tính thừa rồi lưu lại mẫu biểu", "remove images and extra sheets and save the form again")
    if data[:4] == b"\xd0\xcf\x11\xe0":
        return _fail(path, "xlsx", "P05",
                     "Tệp có mật khẩu hoặc là định dạng Excel cũ (.xls), không đọc được",
                     "The workbook is password-protected or in the old .xls format and cannot be read",
                     "bỏ mật khẩu và lưu dạng .xlsx (File > Lưu thành > Excel Workbook)",
                     "remove the password and save as .xlsx")
    if data[:4] == b"PK\x03\x04":
        return _parse_xlsx(path, data, inbox_unit, cat)
    if name.lower().endswith((".xlsx", ".xlsm", ".xls")):
        return _fail(path, "xlsx", "P02", "Tệp không phải là bảng tính Excel hợp lệ (có thể bị hỏng)",
                     "The file is not a valid Excel workbook (it may be corrupt)",
                     "mở lại bằng Excel, lưu dạng .xlsx rồi gửi lại", "open it in Excel, save as .xlsx and send again")
    return _parse_csv(path, data, inbox_unit, cat)


def _fail(path, fmt, rule, vi, en, exp_vi, exp_en) -> ParsedSubmission:
    p = ParsedSubmission(path=Path(path), file_format=fmt)
    p.findings.append(error(rule, vi, en, sheet=None, cell=None, value_raw=Path(path).name,
                            expected_vi=exp_vi, expected_en=exp_en))
    return p


# ---------------------------------------------------------------------------------------- xlsx

def _parse_xlsx(path: Path, data: bytes, inbox_unit, cat) -> ParsedSubmission:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        unzipped = sum(i.file_size for i in zf.infolist())
        names = set(zf.namelist())
    except zipfile.BadZipFile:
        return _fail(path, "xlsx", "P02", "Tệp Excel bị hỏng, không giải nén được",
                     "The Excel file is corrupt (cannot be unzipped)",
                     "mở lại bằng Excel, lưu dạng .xlsx rồi gửi lại", "open it in Excel, save as .xlsx and send again")
    if unzipped > MAX_UNZIPPED_BYTES:
        return _fail(path, "xlsx", "P03",
                     f"Tệp Excel giải nén ra quá lớn ({unzipped // 1048576} MB > {MAX_UNZIPPED_BYTES // 1048576} MB)",
                     f"The workbook decompresses beyond the limit ({unzipped // 1048576} MB > {MAX_UNZIPPED_BYTES // 1048576} MB)",
                     "dùng mẫu biểu gốc của baocao, không chèn dữ liệu thừa", "use baocao's template without extra content")
    if "xl/workbook.xml" not in names:
        return _fail(path, "xlsx", "P02", "Tệp nén nhưng không phải bảng tính Excel",
                     "The file is a zip archive but not an Excel workbook",
                     "gửi tệp .xlsx của mẫu biểu", "send the form's .xlsx file")
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError:
        return _fail(path, "xlsx", "P05", "Tệp Excel có mật khẩu", "The workbook is password-protected",
                     "bỏ mật khẩu rồi gửi lại", "remove the password and send again")
    except Exception as exc:  # calamine raises several error types for broken files
        return _fail(path, "xlsx", "P02", f"Tệp Excel bị hỏng ({type(exc).__name__})",
                     f"The Excel file is corrupt ({type(exc).__name__})",
                     "mở lại bằng Excel, lưu dạng .xlsx rồi gửi lại", "open it in Excel, save as .xlsx and send again")
    p = ParsedSubmission(path=path, file_format="xlsx")
    sheets = {fold(nfc(s)): s for s in wb.sheet_names}
    missing = [s for s in form.REQUIRED_SHEETS if fold(s) not in sheets]
    if missing:
        p.findings.append(error(
            "S01", f"Thiếu trang tính «{', '.join(missing)}»: tệp không phải mẫu biểu baocao",
            f"Missing sheet(s) «{', '.join(missing)}»: this is not a baocao form",
            value_raw=", ".join(wb.sheet_names),
            expected_vi="tải mẫu biểu bằng lệnh `baocao template` và điền vào đó",
            expected_en="download the form with `baocao template` and fill it in"))
        return p

    def rows(sheet_label: str) -> list[list]:
        return wb.get_sheet_by_name(sheets[fold(sheet_label)]).to_python(skip_empty_area=False)

    meta = {}
    for i, (key, _label) in enumerate(form.META_ROWS):
        r = form.META_FIRST_ROW - 1 + i
        mrows = rows(form.SHEET_META)
        meta[key] = mrows[r][1] if r < len(mrows) and len(mrows[r]) > 1 else None
    _check_meta(p, meta, form.SHEET_META, {k: f"B{form.META_FIRST_ROW + i}" for i, (k, _) in enumerate(form.META_ROWS)},
                inbox_unit, cat)
    if p.has_errors:
        return p
    ds = cat.datasets[p.dataset_code]

    data_sheet = sheets[fold(form.SHEET_DATA)]
    drows = rows(form.SHEET_DATA)
    if not _check_header(p, drows, form.SHEET_DATA, form.DATA_COLUMNS):
        return p
    merged = _merged_value_rows(wb.get_sheet_by_name(data_sheet), form.DATA_VALUE_COL)
    formula_cells: set[str] | None = None
    seen: dict[str, str] = {}
    for r in range(form.HEADER_ROW, len(drows)):
        row = drows[r]
        code = _code(row[0] if row else None)
        if not code:
            continue
        cell = f"{form.col_letter(form.DATA_VALUE_COL)}{r + 1}"
        raw = row[form.DATA_VALUE_COL - 1] if len(row) >= form.DATA_VALUE_COL else None
        if raw == "" and formula_cells is None:
            formula_cells = _formula_cells_without_value(data, data_sheet)
        if raw == "" and cell in (formula_cells or set()):
            p.findings.append(error(
                "V02", "Ô chứa công thức nhưng không có giá trị đã tính", "The cell holds a formula without a computed value",
                sheet=form.SHEET_DATA, cell=cell, element_code=code, element_name=_ename(cat, code), value_raw="=…",
                expected_vi="mở tệp bằng Excel để tính lại rồi lưu, hoặc nhập số trực tiếp",
                expected_en="open the file in Excel so it recalculates and save it, or type the number"))
            continue
        if (r + 1) in merged:
            p.findings.append(error(
                "V04", "Ô giá trị bị gộp (merge) với ô khác", "The value cell is merged with other cells",
                sheet=form.SHEET_DATA, cell=cell, element_code=code, element_name=_ename(cat, code),
                value_raw=_s(raw), expected_vi="bỏ gộp ô (Unmerge) và nhập mỗi chỉ tiêu một giá trị",
                expected_en="unmerge the cells and give each element its own value"))
            continue
        _add_value(p, cat, ds, code, raw, form.SHEET_DATA, cell, seen)
    _check_unknown_dataset_elements(p, cat, ds)

    if cat.tasks_for(ds.code, p.unit_code):
        if fold(form.SHEET_TASKS) not in sheets:
            p.findings.append(error("S01", f"Thiếu trang tính «{form.SHEET_TASKS}»", f"Missing sheet «{form.SHEET_TASKS}»",
                                    expected_vi="dùng mẫu biểu của kỳ này", expected_en="use this period's form"))
        else:
            trows = rows(form.SHEET_TASKS)
            if _check_header(p, trows, form.SHEET_TASKS, form.TASK_COLUMNS):
                for r in range(form.HEADER_ROW, len(trows)):
                    row = list(trows[r]) + [None] * 6
                    if row[0] in (None, "") and row[1] in (None, ""):
                        continue
                    _add_task(p, cat, row[0], row[1], row[form.TASK_STATUS_COL - 1], row[5],
                              form.SHEET_TASKS, f"{form.col_letter(form.TASK_STATUS_COL)}{r + 1}")
    if ds.narrative and fold(form.SHEET_TEXT) in sheets:
        xrows = rows(form.SHEET_TEXT)
        for r in range(form.HEADER_ROW, len(xrows)):
            row = list(xrows[r]) + [None] * 3
            if row[0] not in (None, ""):
                p.texts.append({"section": nfc(str(row[0])).strip(), "text": _text(row[form.TEXT_VALUE_COL - 1])})
    return p


def _merged_value_rows(sheet, col: int) -> set[int]:
    out: set[int] = set()
    try:
        ranges = sheet.merged_cell_ranges or []
    except Exception:  # older files without merge info
        return out
    for (r0, c0), (r1, c1) in ranges:
        if c0 <= col - 1 <= c1:
            out.update(range(r0 + 1, r1 + 2))
    return out


_SHEET_REL = re.compile(r'<sheet\b[^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"')
_REL = re.compile(r'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"')
_REL2 = re.compile(r'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"')
_FORMULA_CELL = re.compile(r'<c\b[^>]*?r="([A-Z]+\d+)"[^>]*>(?:(?!</c>).)*?<f\b(?:(?!</c>).)*?</c>', re.S)


def _formula_cells_without_value(data: bytes, sheet_name: str) -> set[str]:
    """Cells of a sheet that hold a formula but no cached value (calamine reads those as blank)."""
    import html
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        wbxml = zf.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
        rid = {html.unescape(n): i for n, i in _SHEET_REL.findall(wbxml)}.get(sheet_name)
        targets = dict(_REL.findall(rels)) | {i: t for t, i in _REL2.findall(rels)}
        target = targets.get(rid or "")
        if not target:
            return set()
        target = target.lstrip("/")
        xml = zf.read(target if target.startswith("xl/") else f"xl/{target}").decode("utf-8", "replace")
    out = set()
    for m in _FORMULA_CELL.finditer(xml):
        if not re.search(r"<v>[^<]+</v>", m.group(0)):
            out.add(m.group(1))
    return out


# ----------------------------------------------------------------------------------------- csv

def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1258"), "cp1258"


def _parse_csv(path: Path, data: bytes, inbox_unit, cat) -> ParsedSubmission:
    p = ParsedSubmission(path=path, file_format="csv")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        p.findings.append(error("P02", "Tệp không phải bảng tính hay CSV (tệp nhị phân)",
                                "The file is neither a workbook nor a CSV (binary content)", value_raw=path.name,
                                expected_vi="gửi tệp .xlsx của mẫu biểu hoặc tệp .csv", expected_en="send the form's .xlsx or a .csv"))
        p.file_format = "unknown"
        return p
    try:
        text, _enc = _decode(data)
    except UnicodeDecodeError:
        p.findings.append(error("P06", "Không đọc được mã ký tự của tệp CSV", "Cannot decode the CSV's characters",
                                value_raw=path.name, expected_vi="lưu CSV dạng UTF-8", expected_en="save the CSV as UTF-8"))
        return p
    text = nfc(text)
    first = text.split("\n", 1)[0]
    delim = max([",", ";", "\t"], key=first.count)
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    if not rows or [fold(c) for c in rows[0][:4]] != [fold(c) for c in form.CSV_COLUMNS]:
        p.findings.append(error(
            "S09", "Dòng tiêu đề CSV không đúng mẫu", "The CSV header does not match the form",
            sheet="CSV", cell="dòng 1", value_raw=delim.join(rows[0]) if rows else "",
            expected_vi="dòng 1 phải là: " + ",".join(form.CSV_COLUMNS),
            expected_en="line 1 must be: " + ",".join(form.CSV_COLUMNS)))
        return p
    meta, meta_cells = {}, {}
    body = []
    for i, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        row = row + [""] * 4
        kind = fold(row[0])
        if kind == "meta":
            meta[row[1].strip()] = row[2].strip()
            meta_cells[row[1].strip()] = f"dòng {i}"
        else:
            body.append((i, kind, row))
    _check_meta(p, meta, "CSV", meta_cells, inbox_unit, cat)
    if p.has_errors:
        return p
    ds = cat.datasets[p.dataset_code]
    seen: dict[str, str] = {}
    for i, kind, row in body:
        cell = f"dòng {i}"
        if kind == "so_lieu":
            _add_value(p, cat, ds, _code(row[1]), row[2], "CSV", cell, seen)
        elif kind == "nhiem_vu":
            plan, _, no = row[1].rpartition("/")
            _add_task(p, cat, plan, no, row[2], row[3], "CSV", cell)
        elif kind == "thuyet_minh":
            p.texts.append({"section": row[1].strip(), "text": _text(row[2])})
        else:
            p.findings.append(error("S11", f"Loại dòng không hợp lệ «{row[0]}»", f"Unknown line type «{row[0]}»",
                                    sheet="CSV", cell=cell, value_raw=row[0],
                                    expected_vi="meta, so_lieu, nhiem_vu hoặc thuyet_minh",
                                    expected_en="meta, so_lieu, nhiem_vu or thuyet_minh"))
    _check_unknown_dataset_elements(p, cat, ds)
    return p


# ------------------------------------------------------------------------------------- shared

def _s(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return nfc(str(v))


def _code(v) -> str:
    return nfc(_s(v)).strip().upper()


def _text(v) -> str | None:
    t = nfc(_s(v)).strip()
    return t or None


def _ename(cat, code: str) -> str | None:
    el = cat.elements.get(code)
    return el.name if el else None


def _check_header(p: ParsedSubmission, rows: list[list], sheet: str, columns: list[str]) -> bool:
    hr = form.HEADER_ROW - 1
    got = [fold(_s(c)) for c in (rows[hr] if hr < len(rows) else [])][: len(columns)]
    if got != [fold(c) for c in columns]:
        p.findings.append(error(
            "S09", f"Dòng tiêu đề của trang «{sheet}» không đúng mẫu", f"The header row of sheet «{sheet}» does not match the form",
            sheet=sheet, cell=f"A{form.HEADER_ROW}", value_raw=" | ".join(_s(c) for c in (rows[hr] if hr < len(rows) else [])),
            expected_vi="các cột: " + " | ".join(columns) + " (không chèn, xóa cột)",
            expected_en="columns: " + " | ".join(columns) + " (do not insert or delete columns)"))
        return False
    return True


def _check_meta(p: ParsedSubmission, meta: dict, sheet: str, cells: dict, inbox_unit, cat) -> None:
    version = _s(meta.get("template_version")).strip()
    p.template_version = version
    if version not in form.READABLE_VERSIONS:
        p.findings.append(error(
            "S02", "Tệp không phải mẫu biểu do baocao tạo (thiếu hoặc sai phiên bản mẫu)",
            "The file is not a form generated by baocao (template version missing or unknown)",
            sheet=sheet, cell=cells.get("template_version"), value_raw=version,
            expected_vi=f"phiên bản {', '.join(form.READABLE_VERSIONS)}; tải mẫu bằng `baocao template`",
            expected_en=f"version {', '.join(form.READABLE_VERSIONS)}; get the form with `baocao template`"))
        return
    unit = _code(meta.get("unit_code"))
    p.unit_code = unit or None
    if unit not in cat.org_units:
        p.findings.append(error(
            "S04", f"Mã đơn vị «{unit}» không có trong danh mục", f"Unit code «{unit}» is not in the catalog",
            sheet=sheet, cell=cells.get("unit_code"), value_raw=unit,
            expected_vi=f"mã đơn vị của mình{f' ({inbox_unit})' if inbox_unit else ''}, như trong mẫu biểu được gửi",
            expected_en=f"your own unit code{f' ({inbox_unit})' if inbox_unit else ''}, as in the form you were sent"))
    elif inbox_unit and unit != inbox_unit:
        p.findings.append(error(
            "S03", f"Tệp ghi đơn vị «{unit}» nhưng được gửi từ đơn vị «{inbox_unit}»",
            f"The file names unit «{unit}» but came from unit «{inbox_unit}»",
            sheet=sheet, cell=cells.get("unit_code"), value_raw=unit,
            expected_vi=f"mỗi đơn vị chỉ gửi báo cáo của mình ({inbox_unit}); dùng đúng mẫu biểu của đơn vị",
            expected_en=f"each unit sends only its own report ({inbox_unit}); use your unit's form"))
    try:
        p.period = calendar.parse_period(_s(meta.get("period"))).code
    except (ValueError, TypeError):
        p.findings.append(error(
            "S05", "Kỳ báo cáo không hợp lệ", "The reporting period is not valid",
            sheet=sheet, cell=cells.get("period"), value_raw=_s(meta.get("period")),
            expected_vi="dạng 2026H1, 2026H2 hoặc 2026", expected_en="like 2026H1, 2026H2 or 2026"))
    ds = _code(meta.get("dataset_code"))
    p.dataset_code = ds or None
    if ds not in cat.datasets:
        p.findings.append(error("S06", f"Mã báo cáo «{ds}» không có trong danh mục", f"Report code «{ds}» is unknown",
                                sheet=sheet, cell=cells.get("dataset_code"), value_raw=ds,
                                expected_vi="dùng mẫu biểu baocao gửi cho đơn vị", expected_en="use the form baocao sent you"))
    elif unit in cat.org_units and ds not in {d.code for d in cat.datasets_for_unit(unit)}:
        p.findings.append(error("S06", f"Đơn vị «{unit}» không phải nộp báo cáo «{ds}»", f"Unit «{unit}» does not report «{ds}»",
                                sheet=sheet, cell=cells.get("dataset_code"), value_raw=ds,
                                expected_vi="dùng mẫu biểu baocao gửi cho đơn vị", expected_en="use the form baocao sent you"))


def _add_value(p, cat, ds, code: str, raw, sheet: str, cell: str, seen: dict) -> None:
    if not code:
        return
    el = cat.elements.get(code)
    if el is None or code not in ds.elements:
        p.findings.append(error(
            "S08", f"Mã chỉ tiêu «{code}» không có trong mẫu báo cáo {ds.code}", f"Element code «{code}» is not in report {ds.code}",
            sheet=sheet, cell=cell.replace("D", "A", 1) if sheet != "CSV" else cell, element_code=code, value_raw=_s(raw),
            expected_vi="không sửa cột «Mã»; xóa dòng thêm vào", expected_en="do not edit the code column; delete added rows"))
        return
    if code in seen:
        p.findings.append(error(
            "S07", f"Mã chỉ tiêu «{code}» xuất hiện hai lần (lần đầu ở {seen[code]})",
            f"Element code «{code}» appears twice (first at {seen[code]})",
            sheet=sheet, cell=cell, element_code=code, element_name=el.name, value_raw=_s(raw),
            expected_vi="mỗi chỉ tiêu chỉ một dòng; xóa dòng trùng", expected_en="one line per element; delete the duplicate"))
        return
    seen[code] = cell
    value = None
    try:
        if isinstance(raw, (dt.date, dt.datetime, dt.time, dt.timedelta)) or (isinstance(raw, str) and _DATE_TEXT.match(raw)):
            raise _DateInNumber
        if el.value_type == "flag" and isinstance(raw, str) and fold(raw) in _YES | _NO:
            value = 1.0 if fold(raw) in _YES else 0.0
        else:
            value = parse_number(raw, percent=el.value_type == "percent")
    except _DateInNumber:
        p.findings.append(error(
            "V03", "Ô số liệu chứa ngày tháng, cần một con số", "The cell holds a date where a number is expected",
            sheet=sheet, cell=cell, element_code=code, element_name=el.name, value_raw=_s(raw),
            expected_vi=f"một số ({el.unit or 'số'}); định dạng ô là Số (Number), không phải Ngày",
            expected_en=f"a number ({el.name_en}); format the cell as Number, not Date"))
        return
    except NotANumber:
        p.findings.append(error(
            "V01", "Ô số liệu chứa chữ, không phải số", "The cell holds text, not a number",
            sheet=sheet, cell=cell, element_code=code, element_name=el.name, value_raw=_s(raw),
            expected_vi="chỉ nhập chữ số, ví dụ 1.234 hoặc 1234,5" + ("; 1 = có, 0 = không" if el.value_type == "flag" else ""),
            expected_en="digits only, e.g. 1.234 or 1234,5" + ("; 1 = yes, 0 = no" if el.value_type == "flag" else "")))
        return
    p.values.append({"element_code": code, "value": value, "value_raw": _s(raw), "sheet": sheet, "cell": cell})


class _DateInNumber(Exception):
    pass


def _check_unknown_dataset_elements(p, cat, ds) -> None:
    """Blank rows for required elements are left to the completeness suite; nothing to do here."""
    return None


def _add_task(p, cat, plan, no, status_raw, note, sheet, cell) -> None:
    plan = nfc(_s(plan)).strip()
    try:
        task_no = int(float(_s(no)))
    except ValueError:
        p.findings.append(error("T03", "Số thứ tự nhiệm vụ không hợp lệ", "Invalid task number", sheet=sheet, cell=cell,
                                value_raw=_s(no), expected_vi="không sửa cột STT", expected_en="do not edit the number column"))
        return
    status = None
    raw = _text(status_raw)
    if raw:
        key = fold(raw)
        for s in cat.task_statuses:
            if key in (fold(s["name"]), fold(s["code"]), fold(s["name_en"])):
                status = s["code"]
        if status is None:
            p.findings.append(error(
                "T02", "Tình trạng nhiệm vụ không hợp lệ", "Unknown task status", sheet=sheet, cell=cell,
                element_code=f"{plan}/{task_no}", value_raw=raw,
                expected_vi="một trong: " + "; ".join(s["name"] for s in cat.task_statuses),
                expected_en="one of: " + "; ".join(s["name_en"] for s in cat.task_statuses)))
            return
    p.tasks.append({"plan_code": plan, "task_no": task_no, "status": status, "status_raw": raw,
                    "note": _text(note), "sheet": sheet, "cell": cell})
