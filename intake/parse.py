"""Reading a unit's submission (xlsx workbook or CSV) into rows, with located findings.

Nothing here touches the warehouse: a file either yields a `ParsedSubmission` whose `findings`
say exactly what is wrong and where, or clean rows for validation. Hostile and broken files
(empty, not a workbook, encrypted, zip bombs, giant sheets, oversized, formulas without values,
merged value cells, text in number cells, legacy encodings) each get a specific message. The
file's content decides how it is read, not its name: an .xlsx renamed .csv is read as a workbook,
a PDF renamed .xlsx is named as a PDF.

File-level rules (no sheet or cell): P01 empty, P02 not a workbook or CSV (or damaged), P03 too
large once unzipped (or a sheet spanning an enormous area: that one names the sheet and the far
cell), P04 file too large, P05 password-protected, P06 unreadable CSV characters, P07 old binary
Office format (.xls 97-2003). Structure: S01 sheet missing, S02 not a baocao form or unknown
template version, S03 another unit's file, S04 unknown unit, S05 invalid period (or one that
does not fit the report's frequency), S06 report code, S07 duplicate element, S08 unknown
element, S09 header row changed, S11 unknown CSV line type, S12 malformed CSV line (S10, period
not open, belongs to the collect step). Values: V01 text, V02 formula without a computed value,
V03 date, V04 merged value cell, V05 formula error value (#DIV/0!...). Tasks: T02 status, T03
task number.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine as pc

import catalog as catalog_mod
from baocao import calendar
from baocao.findings import Finding, error
from intake import form
from intake.numbers import AmbiguousNumber, NotANumber, fold, format_vn, nfc, read_cell_number

MAX_FILE_BYTES = 5 * 1024 * 1024        # a filled form is ~20 KB; 5 MB leaves room for logos
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024   # beyond this an xlsx is treated as a zip bomb
MAX_ZIP_MEMBERS = 2000                  # a form has about 15 parts
MAX_SHEET_CELLS = 1_000_000             # rows x columns of a sheet's used area (a form: ~300)
_DATE_TEXT = re.compile(r"^\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\s*$")
_CODE_LIKE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_YES = {"co", "x", "yes", "y", "dat", "1"}
_NO = {"khong", "no", "n", "chua", "chua dat", "0"}
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_XLSX_NAMES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
# what reading a zip member can raise on hostile input (CRC, deflate, encryption, method, missing)
_ZIP_ERRORS = (KeyError, zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError,
               RuntimeError)
_REDO_VI, _REDO_EN = "mở lại bằng Excel, lưu dạng .xlsx rồi gửi lại", "open it in Excel, save as .xlsx and send it again"


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
    with path.open("rb") as fh:  # bounded: a 2 GB drop is refused without reading it into memory
        data = fh.read(MAX_FILE_BYTES + 1)
        size = max(len(data), fh.seek(0, io.SEEK_END))
    if size == 0:
        return _fail(path, "unknown", "P01", "Tệp rỗng (0 byte)", "The file is empty (0 bytes)",
                     "gửi lại tệp mẫu biểu đã điền số liệu", "send the filled-in form again")
    if size > MAX_FILE_BYTES:
        mb, lim = size / 1048576, MAX_FILE_BYTES / 1048576
        return _fail(path, "unknown", "P04", f"Tệp quá lớn ({format_vn(size)} byte ≈ {mb:.1f} MB; tối đa {lim:g} MB)",
                     f"File too large ({size:,} bytes ≈ {mb:.1f} MB; at most {lim:g} MB)",
                     "xóa ảnh, trang tính thừa rồi lưu lại mẫu biểu", "remove images and extra sheets and save the form again")
    ext = path.suffix.lower()
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return _parse_cfb(path, data)
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _parse_xlsx(path, data, inbox_unit, cat)
    kind = _sniff(data)
    if kind:
        return _not_a_workbook(path, kind, ext)
    if _looks_binary(data):
        return _not_a_workbook(path, "binary", ext)
    decoded = _decode(data)
    if decoded is None:
        p = ParsedSubmission(path=path, file_format="csv")
        p.findings.append(error(
            "P06", "Không đọc được mã ký tự của tệp CSV (không phải UTF-8, UTF-16 hay Windows-1258)",
            "Cannot decode the CSV's characters (not UTF-8, UTF-16 or Windows-1258)",
            value_raw=path.name, expected_vi="trong Excel chọn Lưu thành > CSV UTF-8 (Comma delimited)",
            expected_en="in Excel choose Save As > CSV UTF-8 (Comma delimited)"))
        return p
    text = nfc(decoded)
    if ext in _XLSX_NAMES and not _csv_header_line(text):
        return _not_a_workbook(path, "text", ext)
    return _parse_csv(path, text, inbox_unit, cat)


def _fail(path, fmt, rule, vi, en, exp_vi, exp_en, value_raw=None) -> ParsedSubmission:
    p = ParsedSubmission(path=Path(path), file_format=fmt)
    p.findings.append(error(rule, vi, en, sheet=None, cell=None, value_raw=value_raw or Path(path).name,
                            expected_vi=exp_vi, expected_en=exp_en))
    return p


# ------------------------------------------------------------------------- what the file is

_MAGIC = [
    (b"%PDF", "pdf"), (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF87a", "gif"),
    (b"GIF89a", "gif"), (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"), (b"\x1f\x8b", "gzip"), (b"{\\rtf", "rtf"),
]
_SEND_FORM_VI = "gửi tệp Excel (.xlsx) của mẫu biểu baocao"
_SEND_FORM_EN = "send baocao's Excel form (.xlsx)"
_UNZIP_VI, _UNZIP_EN = "giải nén rồi gửi riêng tệp .xlsx", "extract it and send the .xlsx itself"
# kind -> (what it is, vi / en; what to send instead, vi / en)
_KINDS = {
    "pdf": ("tệp PDF", "a PDF document",
            _SEND_FORM_VI + ", không gửi bản PDF hay bản quét có chữ ký", _SEND_FORM_EN + ", not a PDF or a signed scan"),
    "png": ("ảnh PNG", "a PNG image",
            _SEND_FORM_VI + ", không gửi ảnh chụp màn hình", _SEND_FORM_EN + ", not a screenshot"),
    "jpeg": ("ảnh JPEG", "a JPEG photo", _SEND_FORM_VI + ", không gửi ảnh chụp", _SEND_FORM_EN + ", not a photo"),
    "gif": ("ảnh GIF", "a GIF image", _SEND_FORM_VI + ", không gửi ảnh", _SEND_FORM_EN + ", not an image"),
    "tiff": ("ảnh quét TIFF", "a scanned TIFF image", _SEND_FORM_VI + ", không gửi bản quét", _SEND_FORM_EN + ", not a scan"),
    "rar": ("tệp nén RAR", "a RAR archive", _UNZIP_VI, _UNZIP_EN),
    "7z": ("tệp nén 7-Zip", "a 7-Zip archive", _UNZIP_VI, _UNZIP_EN),
    "gzip": ("tệp nén gzip", "a gzip archive", _UNZIP_VI, _UNZIP_EN),
    "zip": ("tệp nén ZIP không chứa bảng tính", "a zip archive without a workbook", _SEND_FORM_VI, _SEND_FORM_EN),
    "rtf": ("văn bản Word (RTF)", "a Word (RTF) document",
            "nhập số liệu vào mẫu biểu Excel (.xlsx) rồi gửi tệp đó", "fill in the Excel form (.xlsx) and send that"),
    "doc": ("văn bản Word cũ (.doc)", "an old Word document (.doc)",
            "nhập số liệu vào mẫu biểu Excel (.xlsx) rồi gửi tệp đó", "fill in the Excel form (.xlsx) and send that"),
    "docx": ("văn bản Word (.docx)", "a Word document (.docx)",
             "nhập số liệu vào mẫu biểu Excel (.xlsx) rồi gửi tệp đó", "fill in the Excel form (.xlsx) and send that"),
    "pptx": ("bản trình chiếu PowerPoint", "a PowerPoint presentation", _SEND_FORM_VI, _SEND_FORM_EN),
    "ods": ("bảng tính OpenDocument (.ods)", "an OpenDocument spreadsheet (.ods)",
            "mở bằng Excel hoặc LibreOffice, chọn Lưu thành > Excel Workbook (.xlsx)",
            "open it in Excel or LibreOffice and Save As > Excel Workbook (.xlsx)"),
    "xlsb": ("sổ làm việc nhị phân Excel (.xlsb)", "an Excel binary workbook (.xlsb)",
             "chọn Lưu thành > Excel Workbook (.xlsx)", "Save As > Excel Workbook (.xlsx)"),
    "html": ("trang web HTML (phần mềm xuất ra rồi đặt đuôi .xls)", "an HTML page (web software's export named .xls)",
             "mở bằng Excel, chép số liệu vào mẫu biểu .xlsx của baocao", "open it in Excel and copy the figures into baocao's .xlsx form"),
    "xml2003": ("bảng tính Excel 2003 XML", "an Excel 2003 XML spreadsheet",
                "mở bằng Excel, chọn Lưu thành > Excel Workbook (.xlsx)", "open it in Excel and Save As > Excel Workbook (.xlsx)"),
    "xml": ("tệp XML", "an XML file", _SEND_FORM_VI, _SEND_FORM_EN),
    "binary": ("dữ liệu nhị phân không rõ định dạng", "binary data of no known format", _REDO_VI, _REDO_EN),
    "text": ("văn bản thuần, không phải bảng tính", "plain text, not a workbook",
             _SEND_FORM_VI + " hoặc tệp CSV đúng mẫu (dòng đầu: " + ",".join(form.CSV_COLUMNS) + ")",
             _SEND_FORM_EN + " or a CSV in the form's layout (line 1: " + ",".join(form.CSV_COLUMNS) + ")"),
}


def _sniff(data: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")):
        return "html"
    if head.startswith(b"<?xml"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in data[:8192].lower():
            return "xml2003"
        return "html" if b"<html" in head else "xml"
    return None


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16_without_bom(sample):
        return False
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 0x20 and b not in (9, 10, 12, 13)) + sample.count(0x7F)
    return control > len(sample) * 0.02


def _utf16_without_bom(sample: bytes) -> str | None:
    if len(sample) < 8:
        return None
    even, odd = sample[0:200:2], sample[1:200:2]
    if odd.count(0) > len(odd) * 0.7 and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.7 and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _not_a_workbook(path: Path, kind: str, ext: str) -> ParsedSubmission:
    what_vi, what_en, exp_vi, exp_en = _KINDS[kind]
    if ext in _XLSX_NAMES + (".csv",):
        vi = f"Tệp có đuôi {ext} nhưng thực chất là {what_vi}"
        en = f"The file is named {ext} but is actually {what_en}"
    else:
        vi = f"Tệp là {what_vi}, không phải bảng tính mẫu biểu"
        en = f"The file is {what_en}, not the report form"
    return _fail(path, "unknown", "P02", vi, en, exp_vi, exp_en)


def _parse_cfb(path: Path, data: bytes) -> ParsedSubmission:
    """An OLE2 compound file: a password-protected xlsx (EncryptedPackage), an old .xls or .doc."""
    head = data[: 1024 * 1024]
    if "EncryptedPackage".encode("utf-16-le") in head:
        return _fail(path, "xlsx", "P05", "Tệp Excel được đặt mật khẩu mở (mã hóa), baocao không đọc được",
                     "The workbook is protected with an opening password (encrypted) and cannot be read",
                     "mở tệp bằng Excel, vào Tệp > Thông tin > Bảo vệ Sổ làm việc > Mã hóa bằng Mật khẩu, "
                     "xóa trống mật khẩu, lưu rồi gửi lại",
                     "open it in Excel, File > Info > Protect Workbook > Encrypt with Password, clear the "
                     "password, save and send it again")
    if "WordDocument".encode("utf-16-le") in head:
        return _not_a_workbook(path, "doc", path.suffix.lower())
    if "Workbook".encode("utf-16-le") in head or "Book".encode("utf-16-le") in head:
        vi, en = "Tệp là bảng tính Excel 97-2003 (.xls) kiểu cũ", "The file is an old Excel 97-2003 workbook (.xls)"
    else:
        vi, en = "Tệp là định dạng Office cũ (OLE), không phải .xlsx", "The file is an old Office (OLE) format, not .xlsx"
    return _fail(path, "xlsx", "P07", vi, en,
                 "dùng mẫu biểu .xlsx baocao đã gửi; hoặc mở bằng Excel, chọn Lưu thành > Excel Workbook (.xlsx)",
                 "use the .xlsx form baocao sent; or open it in Excel and Save As > Excel Workbook (.xlsx)")


# ---------------------------------------------------------------------------------------- xlsx

def _parse_xlsx(path: Path, data: bytes, inbox_unit, cat) -> ParsedSubmission:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (*_ZIP_ERRORS, zipfile.LargeZipFile):
        if b"PK\x05\x06" not in data[-66000:]:
            return _fail(path, "xlsx", "P02", "Tệp Excel bị cắt cụt (thiếu phần cuối của tệp), không mở được",
                         "The Excel file is truncated (its end is missing) and cannot be opened",
                         "gửi lại tệp gốc; nếu tệp tải về hoặc chép bị dừng giữa chừng, tải hoặc đính kèm lại",
                         "send the original again; if a download or copy stopped halfway, attach it again")
        return _fail(path, "xlsx", "P02", "Tệp Excel bị hỏng (mục lục của tệp nén không đọc được)",
                     "The Excel file is damaged (its zip directory cannot be read)", _REDO_VI, _REDO_EN)
    unzipped = sum(i.file_size for i in infos)
    if len(infos) > MAX_ZIP_MEMBERS or unzipped > MAX_UNZIPPED_BYTES:
        big = max(infos, key=lambda i: i.file_size)
        mb, lim = unzipped / 1048576, MAX_UNZIPPED_BYTES // 1048576
        return _fail(path, "xlsx", "P03",
                     f"Tệp Excel giải nén ra lớn bất thường ({mb:.0f} MB > {lim} MB, {len(infos)} phần): "
                     "có thể là «bom nén» hoặc chứa dữ liệu thừa",
                     f"The workbook decompresses to an abnormal size ({mb:.0f} MB > {lim} MB, {len(infos)} parts): "
                     "a zip bomb or extra content",
                     "dùng mẫu biểu gốc của baocao, không chèn ảnh hay dữ liệu thừa",
                     "use baocao's template without images or extra content",
                     value_raw=f"{big.filename} ({big.file_size / 1048576:.0f} MB)")
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        kind = _zip_kind(zf, names)
        if kind.startswith("zip:"):
            inner = kind[4:]
            return _fail(path, "unknown", "P02", f"Tệp là tệp nén ZIP chứa «{inner}», không phải bảng tính",
                         f"The file is a zip archive holding «{inner}», not a workbook",
                         f"giải nén rồi gửi riêng tệp «{inner}»", f"extract it and send «{inner}» itself", value_raw=inner)
        return _not_a_workbook(path, kind, path.suffix.lower())
    parts = _sheet_parts(zf)
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet_names = list(wb.sheet_names)
    except pc.PasswordError:
        return _fail(path, "xlsx", "P05", "Tệp Excel có mật khẩu", "The workbook is password-protected",
                     "bỏ mật khẩu rồi gửi lại", "remove the password and send it again")
    except BaseException as exc:
        return _damaged(path, exc)
    p = ParsedSubmission(path=path, file_format="xlsx")
    sheets = {fold(nfc(s)): s for s in sheet_names}
    missing = [s for s in form.REQUIRED_SHEETS if fold(s) not in sheets]
    if missing:
        p.findings.append(error(
            "S01", f"Thiếu trang tính «{', '.join(missing)}»: tệp không phải mẫu biểu baocao",
            f"Missing sheet(s) «{', '.join(missing)}»: this is not a baocao form",
            value_raw=", ".join(sheet_names),
            expected_vi="tải mẫu biểu bằng lệnh `baocao template` và điền vào đó (các trang: "
                        + ", ".join(form.REQUIRED_SHEETS) + ")",
            expected_en="download the form with `baocao template` and fill it in (sheets: "
                        + ", ".join(form.REQUIRED_SHEETS) + ")"))
        return p

    grids: dict[str, list[list]] = {}
    scans: dict[str, _SheetScan] = {}
    for label in (form.SHEET_META, form.SHEET_DATA, form.SHEET_TASKS, form.SHEET_TEXT):
        real = sheets.get(fold(label))
        if real is None:
            continue
        scan = _scan_sheet(zf, parts.get(nfc(real)))
        if scan.rows * scan.cols > MAX_SHEET_CELLS:
            p.findings.append(error(
                "P03", f"Trang tính có vùng dữ liệu khổng lồ (đến ô {scan.far_cell}, {scan.rows} dòng × {scan.cols} cột)",
                f"The sheet's used area is enormous (up to cell {scan.far_cell}, {scan.rows} rows × {scan.cols} columns)",
                sheet=label, cell=scan.far_cell, value_raw=path.name,
                expected_vi=f"xóa các ô thừa ngoài bảng (đến {scan.far_cell}) hoặc dùng lại mẫu biểu gốc",
                expected_en=f"clear the stray cells outside the table (up to {scan.far_cell}) or reuse the original form"))
            return p
        try:
            grids[label] = wb.get_sheet_by_name(real).to_python(skip_empty_area=False)
        except BaseException as exc:
            return _damaged(path, exc)
        scans[label] = scan

    mgrid = grids[form.SHEET_META]
    meta, cells = _read_meta(mgrid)
    _check_meta(p, meta, form.SHEET_META, cells, inbox_unit, cat)
    if p.has_errors:
        return p
    ds = cat.datasets[p.dataset_code]

    drows, dscan = grids[form.SHEET_DATA], scans[form.SHEET_DATA]
    hdr = _check_header(p, drows, form.SHEET_DATA, form.DATA_COLUMNS)
    if hdr is None:
        return p
    vcol = form.col_letter(form.DATA_VALUE_COL)
    seen: dict[str, str] = {}
    for r in range(hdr + 1, len(drows)):
        row = drows[r]
        code = _code(row[0] if row else None)
        raw = row[form.DATA_VALUE_COL - 1] if len(row) >= form.DATA_VALUE_COL else None
        if not code or (not _CODE_LIKE.match(code) and raw in (None, "")):
            continue  # blank line, or a note typed below the table
        cell = f"{vcol}{r + 1}"
        el = _element(p, cat, ds, code, raw, form.SHEET_DATA, f"A{r + 1}", cell, seen)
        if el is None:
            continue
        where = {"sheet": form.SHEET_DATA, "cell": cell, "element_code": code, "element_name": el.name}
        if cell in dscan.errors:
            p.findings.append(error(
                "V05", f"Ô chứa công thức bị lỗi ({dscan.errors[cell]})",
                f"The cell holds a formula that failed ({dscan.errors[cell]})", value_raw=dscan.errors[cell], **where,
                expected_vi="sửa công thức (thường là chia cho 0 hoặc ô tham chiếu bị xóa) hoặc nhập số trực tiếp",
                expected_en="fix the formula (often a division by zero or a deleted reference) or type the number"))
        elif cell in dscan.formulas:
            p.findings.append(error(
                "V02", "Ô chứa công thức nhưng không có giá trị đã tính", "The cell holds a formula without a computed value",
                value_raw="=" + dscan.formulas[cell], **where,
                expected_vi="mở tệp bằng Excel để tính lại rồi lưu, hoặc nhập số trực tiếp",
                expected_en="open the file in Excel so it recalculates and save it, or type the number"))
        elif (r + 1) in dscan.merged_rows.get(form.DATA_VALUE_COL, {}):
            rng = dscan.merged_rows[form.DATA_VALUE_COL][r + 1]
            p.findings.append(error(
                "V04", f"Ô giá trị bị gộp (merge) với ô khác (vùng {rng})",
                f"The value cell is merged with other cells (range {rng})", value_raw=_s(raw), **where,
                expected_vi="bỏ gộp ô (Unmerge) và nhập mỗi chỉ tiêu một giá trị",
                expected_en="unmerge the cells and give each element its own value"))
        else:
            _add_value(p, el, raw, where)

    if cat.tasks_for(ds.code, p.unit_code):
        if form.SHEET_TASKS not in grids:
            p.findings.append(error("S01", f"Thiếu trang tính «{form.SHEET_TASKS}»", f"Missing sheet «{form.SHEET_TASKS}»",
                                    sheet=form.SHEET_TASKS, value_raw=", ".join(sheet_names),
                                    expected_vi="dùng mẫu biểu của kỳ này", expected_en="use this period's form"))
        else:
            trows = grids[form.SHEET_TASKS]
            thdr = _check_header(p, trows, form.SHEET_TASKS, form.TASK_COLUMNS)
            if thdr is not None:
                scol = form.col_letter(form.TASK_STATUS_COL)
                for r in range(thdr + 1, len(trows)):
                    row = list(trows[r]) + [None] * 6
                    if row[0] in (None, "") and row[1] in (None, ""):
                        continue
                    _add_task(p, cat, row[0], row[1], row[form.TASK_STATUS_COL - 1], row[5],
                              form.SHEET_TASKS, f"{scol}{r + 1}")
    if ds.narrative and form.SHEET_TEXT in grids:
        xrows = grids[form.SHEET_TEXT]
        xhdr = _check_header(p, xrows, form.SHEET_TEXT, form.TEXT_COLUMNS)
        if xhdr is not None:
            for r in range(xhdr + 1, len(xrows)):
                row = list(xrows[r]) + [None] * 3
                if row[0] not in (None, ""):
                    p.texts.append({"section": nfc(_s(row[0])).strip(), "text": _text(row[form.TEXT_VALUE_COL - 1])})
    return p


def _damaged(path: Path, exc: BaseException) -> ParsedSubmission:
    if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
        raise exc  # KeyboardInterrupt, SystemExit
    return _fail(path, "xlsx", "P02", f"Tệp Excel bị hỏng, nội dung bên trong không đọc được ({type(exc).__name__})",
                 f"The Excel file is damaged: its content cannot be read ({type(exc).__name__})", _REDO_VI, _REDO_EN)


def _zip_kind(zf: zipfile.ZipFile, names: set[str]) -> str:
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "mimetype" in names:
        try:
            with zf.open("mimetype") as f:
                if f.read(100).startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
                    return "ods"
        except _ZIP_ERRORS:
            pass
    inner = sorted(n for n in names if n.lower().endswith((".xlsx", ".xls", ".csv")))
    return f"zip:{inner[0]}" if inner else "zip"


_ATTR = re.compile(rb"""([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)>")
_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_ROW_OR_CELL = re.compile(rb"<(?:\w+:)?(?:(row)\b([^>]*)>|c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>))", re.DOTALL)
_F_TAG = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.DOTALL)
_V_TAG = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_MERGE = re.compile(rb"""<(?:\w+:)?mergeCell\b[^>]*?ref=["']([A-Z]+)([0-9]+):([A-Z]+)([0-9]+)["']""")
_REF = re.compile(r"^([A-Z]{1,3})([0-9]{1,7})$")


def _attrs(raw: bytes) -> dict[str, str]:
    return {k.decode(): html.unescape((a or b).decode("utf-8", "replace")) for k, a, b in _ATTR.findall(raw)}


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name (NFC) -> zip member of its XML, from workbook.xml and its relationships."""
    try:
        wbxml = _read_member(zf, "xl/workbook.xml")
        rels = _read_member(zf, "xl/_rels/workbook.xml.rels")
    except _ZIP_ERRORS:
        return {}
    targets = {}
    for m in _REL_TAG.finditer(rels):
        a = _attrs(m.group(1))
        if "Id" in a and "Target" in a:
            t = a["Target"]
            targets[a["Id"]] = t.lstrip("/") if t.startswith("/") else f"xl/{t}"
    out = {}
    for m in _SHEET_TAG.finditer(wbxml):
        a = _attrs(m.group(1))
        rid = next((v for k, v in a.items() if k.endswith(":id")), None)  # r:id, whatever the prefix
        if "name" in a and rid in targets:
            out[nfc(a["name"])] = targets[rid]
    return out


def _read_member(zf: zipfile.ZipFile, name: str) -> bytes:
    with zf.open(name) as f:
        return f.read(MAX_UNZIPPED_BYTES + 1)


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


@dataclass
class _SheetScan:
    rows: int = 0
    cols: int = 0
    far_cell: str = "A1"
    formulas: dict[str, str] = field(default_factory=dict)     # cell -> formula text, no cached value
    errors: dict[str, str] = field(default_factory=dict)       # cell -> #DIV/0! ...
    merged_rows: dict[int, dict[int, str]] = field(default_factory=dict)  # column -> row -> range


_FAST_REF = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"')
_FORMULA_OPEN = re.compile(rb"<(?:\w+:)?f[\s>/]")  # a cell formula <f>, not <formula1> of a list


def _scan_sheet(zf: zipfile.ZipFile, member: str | None) -> _SheetScan:
    """What calamine does not say, read from the sheet's XML before calamine loads it: the used
    area (calamine allocates rows x columns, so a cell at XFD1048576 would exhaust memory),
    formulas without a cached value and error values (both read as blank), merged ranges."""
    scan = _SheetScan()
    if member is None:
        return scan
    try:
        xml = _read_member(zf, member)
    except _ZIP_ERRORS:
        return scan
    if _FORMULA_OPEN.search(xml) is None and b't="e"' not in xml:
        # the common case (a form filled with values): only the used area (and merges) matter
        refs = _FAST_REF.findall(xml)
        if len(refs) == xml.count(b"<c ") + xml.count(b"<c>"):
            for col, row in refs:
                scan.rows = max(scan.rows, int(row))
                scan.cols = max(scan.cols, _col_number(col.decode()))
            return _merges(xml, scan)
    _scan_cells(xml, scan)
    return _merges(xml, scan)


def _scan_cells(xml: bytes, scan: _SheetScan) -> None:
    row_no = 0
    col_no = 0
    for m in _ROW_OR_CELL.finditer(xml):
        if m.group(1):  # <row>
            r = _attrs(m.group(2)).get("r", "")
            row_no = int(r) if r.isdigit() else row_no + 1
            col_no = 0
            continue
        a = _attrs(m.group(3))
        ref = _REF.match(a.get("r", ""))
        if ref:
            col_no, row_no = _col_number(ref.group(1)), int(ref.group(2))
        else:
            col_no += 1
        scan.rows = max(scan.rows, row_no)
        scan.cols = max(scan.cols, col_no)
        body = m.group(4) or b""
        cell = f"{form.col_letter(col_no)}{row_no}"
        v = _V_TAG.search(body)
        value = v.group(1).decode("utf-8", "replace").strip() if v else ""
        if a.get("t") == "e":
            scan.errors[cell] = html.unescape(value) or "#ERROR"
            continue
        f = _F_TAG.search(body)
        if f and not value:
            scan.formulas[cell] = html.unescape((f.group(1) or b"").decode("utf-8", "replace"))


def _merges(xml: bytes, scan: _SheetScan) -> _SheetScan:
    scan.far_cell = f"{form.col_letter(max(scan.cols, 1))}{max(scan.rows, 1)}"
    if b"mergeCell" not in xml:
        return scan
    for c0, r0, c1, r1 in _MERGE.findall(xml):
        a0, a1 = _col_number(c0.decode()), _col_number(c1.decode())
        rng = f"{c0.decode()}{int(r0)}:{c1.decode()}{int(r1)}"
        if (a0, int(r0)) == (a1, int(r1)):
            continue
        for col in range(a0, min(a1, 50) + 1):
            rows = scan.merged_rows.setdefault(col, {})
            for r in range(int(r0), min(int(r1), int(r0) + 10000) + 1):
                rows[r] = rng
    return scan


def _read_meta(grid: list[list]) -> tuple[dict, dict]:
    """Meta values by their label in column A (so an inserted row does not shift them), falling
    back to the fixed rows of the form."""
    labels = {}
    for key, label in form.META_ROWS:
        for part in (label, *label.split(" / ")):
            labels[fold(part)] = key
    found: dict[str, int] = {}
    for r, row in enumerate(grid[:60]):
        key = labels.get(fold(_s(row[0]))) if row else None
        if key and key not in found:
            found[key] = r
    meta, cells = {}, {}
    for i, (key, _label) in enumerate(form.META_ROWS):
        r = found.get(key, form.META_FIRST_ROW - 1 + i)
        meta[key] = grid[r][1] if r < len(grid) and len(grid[r]) > 1 else None
        cells[key] = f"B{r + 1}"
    return meta, cells


# ----------------------------------------------------------------------------------------- csv

def _decode(data: bytes) -> str | None:
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8")
        if data.startswith(b"\xff\xfe"):
            return data[2:].decode("utf-16-le")
        if data.startswith(b"\xfe\xff"):
            return data[2:].decode("utf-16-be")
        enc = _utf16_without_bom(data[:8192])
        if enc:
            return data.decode(enc)
    except UnicodeDecodeError:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1258")  # Vietnamese Windows; tone marks come as combining characters
    except UnicodeDecodeError:
        return None


def _csv_header_line(text: str) -> bool:
    for line in text.splitlines():
        if line.strip() and not line.lower().startswith("sep="):
            return [fold(c.strip('"')) for c in re.split(r"[,;\t]", line)[:4]] == list(form.CSV_COLUMNS)
    return False


def _parse_csv(path: Path, text: str, inbox_unit, cat) -> ParsedSubmission:
    p = ParsedSubmission(path=path, file_format="csv")
    if not text.strip():
        p.findings.append(error("P01", "Tệp CSV không có dòng nào (chỉ có khoảng trắng)",
                                "The CSV has no lines (only white space)", value_raw=path.name,
                                expected_vi="gửi lại tệp CSV đã điền số liệu", expected_en="send the filled-in CSV again"))
        return p
    lines = text.splitlines(keepends=True)
    offset = next(i for i, line in enumerate(lines) if line.strip())  # leading blank lines
    m = re.match(r"^sep=(.)\s*$", lines[offset], re.IGNORECASE)  # Excel's «sep=;» first line
    if m:
        delim, offset = m.group(1), offset + 1
    else:
        delim = max([",", ";", "\t"], key=lines[offset].count)
    text = "".join(lines[offset:])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    rows: list[tuple[int, list[str]]] = []
    last = 0
    try:
        for row in reader:
            rows.append((last + 1 + offset, row))
            last = reader.line_num
    except csv.Error as exc:
        p.findings.append(error(
            "S12", "Dòng CSV không đọc được (dấu ngoặc kép không đóng hoặc ô quá dài)",
            "A CSV line cannot be read (an unclosed quote or an overlong field)",
            sheet="CSV", cell=f"dòng {last + 1 + offset}", value_raw=str(exc),
            expected_vi="đóng dấu ngoặc kép; lưu lại bằng Excel dạng CSV UTF-8",
            expected_en="close the quotes; save it again from Excel as CSV UTF-8"))
        return p
    header = rows[0][1] if rows else []
    if [fold(c) for c in header[:4]] != [fold(c) for c in form.CSV_COLUMNS]:
        p.findings.append(error(
            "S09", "Dòng tiêu đề CSV không đúng mẫu", "The CSV header does not match the form",
            sheet="CSV", cell=f"dòng {rows[0][0] if rows else 1 + offset}", value_raw=delim.join(header),
            expected_vi="dòng 1 phải là: " + ",".join(form.CSV_COLUMNS),
            expected_en="line 1 must be: " + ",".join(form.CSV_COLUMNS)))
        return p
    meta, meta_cells = {}, {}
    body = []
    for i, row in rows[1:]:
        if not row or all(not c.strip() for c in row):
            continue
        row = row + [""] * 4
        kind = fold(row[0])
        if kind == "meta":
            key = row[1].strip().lower()
            meta[key] = row[2].strip()
            meta_cells[key] = f"dòng {i}"
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
            code = _code(row[1])
            if not code:
                continue
            el = _element(p, cat, ds, code, row[2], "CSV", cell, cell, seen)
            if el is not None:
                _add_value(p, el, row[2], {"sheet": "CSV", "cell": cell, "element_code": code, "element_name": el.name})
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
    return p


# ------------------------------------------------------------------------------------- shared

def _s(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return nfc(str(v))


def _date_text(v) -> str:
    if isinstance(v, dt.datetime):
        return v.strftime("%d/%m/%Y %H:%M") if (v.hour, v.minute) != (0, 0) else v.strftime("%d/%m/%Y")
    if isinstance(v, dt.date):
        return v.strftime("%d/%m/%Y")
    return _s(v)


def _code(v) -> str:
    return nfc(_s(v)).strip().upper()


def _text(v) -> str | None:
    t = nfc(_s(v)).strip()
    return t or None


def _check_header(p: ParsedSubmission, rows: list[list], sheet: str, columns: list[str]) -> int | None:
    """The 0-based header row, or None after a located S09. The header may sit lower than the
    form's row (a row inserted above it is harmless: cells are reported where they are); its
    columns may not change."""
    want = [fold(c) for c in columns]
    for r in range(min(len(rows), 20)):
        if [fold(_s(c)) for c in rows[r][: len(columns)]] == want:
            return r
    hr = form.HEADER_ROW - 1
    for r in range(min(len(rows), 20)):  # the row that starts like the header, if any
        if rows[r] and fold(_s(rows[r][0])) == want[0]:
            hr = r
            break
    raw = [_s(c) for c in (rows[hr] if hr < len(rows) else [])]
    got = [fold(c) for c in raw] + [""] * (len(columns) + 1)
    j = next(i for i in range(len(columns)) if got[i] != want[i])
    letter = form.col_letter(j + 1)
    have = raw[j] if j < len(raw) else ""
    if got[j + 1: len(columns) + 1] == want[j:]:
        vi = f"Trang «{sheet}»: đã chèn thêm cột «{have}» ở cột {letter}, các cột của mẫu bị lệch"
        en = f"Sheet «{sheet}»: a column «{have}» was inserted at column {letter}; the form's columns have shifted"
        exp_vi = f"xóa cột {letter} để cột «{columns[j]}» trở lại vị trí {letter}"
        exp_en = f"delete column {letter} so that «{columns[j]}» is back in column {letter}"
    elif got[j: len(columns) - 1] == want[j + 1:]:
        vi = f"Trang «{sheet}»: thiếu cột «{columns[j]}» (đã bị xóa) ở cột {letter}"
        en = f"Sheet «{sheet}»: column «{columns[j]}» is missing (deleted) at column {letter}"
        exp_vi = f"dùng lại mẫu biểu gốc; cột {letter} phải là «{columns[j]}»"
        exp_en = f"reuse the original form; column {letter} must be «{columns[j]}»"
    else:
        vi = f"Trang «{sheet}»: dòng tiêu đề không đúng mẫu, cột {letter} là «{have}» thay vì «{columns[j]}»"
        en = f"Sheet «{sheet}»: the header row does not match the form; column {letter} is «{have}», not «{columns[j]}»"
        exp_vi = "các cột: " + " | ".join(columns) + " (không chèn, xóa, đổi tên cột)"
        exp_en = "columns: " + " | ".join(columns) + " (do not insert, delete or rename columns)"
    p.findings.append(error("S09", vi, en, sheet=sheet, cell=f"{letter}{hr + 1}", value_raw=" | ".join(raw),
                            expected_vi=exp_vi, expected_en=exp_en))
    return None


def _check_meta(p: ParsedSubmission, meta: dict, sheet: str, cells: dict, inbox_unit, cat) -> None:
    version = _s(meta.get("template_version")).strip()
    p.template_version = version or None
    if version not in form.READABLE_VERSIONS:
        if version:
            vi = f"Phiên bản mẫu biểu «{version}» không được hỗ trợ"
            en = f"Template version «{version}» is not supported"
        else:
            vi = "Tệp không có phiên bản mẫu biểu: không phải mẫu biểu do baocao tạo"
            en = "The file has no template version: it is not a form generated by baocao"
        p.findings.append(error(
            "S02", vi, en, sheet=sheet, cell=cells.get("template_version"), value_raw=version,
            expected_vi=f"phiên bản {', '.join(form.READABLE_VERSIONS)}; tải mẫu mới bằng `baocao template`",
            expected_en=f"version {', '.join(form.READABLE_VERSIONS)}; get the current form with `baocao template`"))
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
    period = None
    try:
        period = calendar.parse_period(_s(meta.get("period")))
        p.period = period.code
    except (ValueError, TypeError):
        raw = _s(meta.get("period")).strip()
        p.findings.append(error(
            "S05", f"Kỳ báo cáo «{raw}» không hợp lệ" if raw else "Thiếu kỳ báo cáo",
            f"The reporting period «{raw}» is not valid" if raw else "The reporting period is missing",
            sheet=sheet, cell=cells.get("period"), value_raw=_s(meta.get("period")),
            expected_vi="dạng 2026H1, 2026H2 hoặc 2026", expected_en="like 2026H1, 2026H2 or 2026"))
    ds = _code(meta.get("dataset_code"))
    p.dataset_code = ds or None
    if ds not in cat.datasets:
        p.findings.append(error("S06", f"Mã báo cáo «{ds}» không có trong danh mục", f"Report code «{ds}» is unknown",
                                sheet=sheet, cell=cells.get("dataset_code"), value_raw=ds,
                                expected_vi="dùng mẫu biểu baocao gửi cho đơn vị", expected_en="use the form baocao sent you"))
        return
    if unit in cat.org_units and ds not in {d.code for d in cat.datasets_for_unit(unit)}:
        p.findings.append(error("S06", f"Đơn vị «{unit}» không phải nộp báo cáo «{ds}»", f"Unit «{unit}» does not report «{ds}»",
                                sheet=sheet, cell=cells.get("dataset_code"), value_raw=ds,
                                expected_vi="dùng mẫu biểu baocao gửi cho đơn vị", expected_en="use the form baocao sent you"))
    freq = cat.datasets[ds].frequency
    if period is not None and period.kind != freq:
        p.findings.append(error(
            "S05", f"Kỳ «{period.code}» không khớp báo cáo {ds} ({'6 tháng' if freq == 'H' else 'năm'})",
            f"Period «{period.code}» does not fit report {ds} ({'six-monthly' if freq == 'H' else 'annual'})",
            sheet=sheet, cell=cells.get("period"), value_raw=period.code,
            expected_vi=f"dạng {period.year}H1 hoặc {period.year}H2" if freq == "H" else f"dạng {period.year}",
            expected_en=f"like {period.year}H1 or {period.year}H2" if freq == "H" else f"like {period.year}"))


def _element(p, cat, ds, code: str, raw, sheet: str, code_cell: str, value_cell: str, seen: dict):
    """The catalog element of a data row, or None after a located S08 (unknown) or S07 (twice)."""
    el = cat.elements.get(code)
    if el is None or code not in ds.elements:
        p.findings.append(error(
            "S08", f"Mã chỉ tiêu «{code}» không có trong mẫu báo cáo {ds.code}", f"Element code «{code}» is not in report {ds.code}",
            sheet=sheet, cell=code_cell, element_code=code, value_raw=_s(raw),
            expected_vi="không sửa cột «Mã»; xóa dòng thêm vào", expected_en="do not edit the code column; delete added rows"))
        return None
    if code in seen:
        p.findings.append(error(
            "S07", f"Mã chỉ tiêu «{code}» xuất hiện hai lần (lần đầu ở {seen[code]})",
            f"Element code «{code}» appears twice (first at {seen[code]})",
            sheet=sheet, cell=code_cell, element_code=code, element_name=el.name, value_raw=_s(raw),
            expected_vi="mỗi chỉ tiêu chỉ một dòng; xóa dòng trùng", expected_en="one line per element; delete the duplicate"))
        return None
    seen[code] = code_cell
    return el


def _add_value(p, el, raw, where: dict) -> None:
    if isinstance(raw, (dt.date, dt.time, dt.timedelta)):
        serial = ""
        if isinstance(raw, dt.date):
            d = raw if isinstance(raw, dt.datetime) else dt.datetime(raw.year, raw.month, raw.day)
            serial = f"{(d - _EXCEL_EPOCH).total_seconds() / 86400:g}"
        p.findings.append(error(
            "V03", "Ô số liệu được định dạng Ngày tháng, cần một con số",
            "The cell is formatted as a date where a number is expected", value_raw=_date_text(raw), **where,
            expected_vi=f"một số ({el.unit or 'số'}): định dạng ô là Số (Number) rồi nhập lại"
                        + (f"; nếu đã gõ một số thì đó là {serial}" if serial else ""),
            expected_en=f"a number ({el.name_en}): format the cell as Number and type it again"
                        + (f"; if you typed a number it was {serial}" if serial else "")))
        return
    if isinstance(raw, str) and _DATE_TEXT.match(raw):
        p.findings.append(error(
            "V03", "Ô số liệu chứa ngày tháng gõ dạng chữ, cần một con số",
            "The cell holds a date typed as text where a number is expected", value_raw=_s(raw), **where,
            expected_vi=f"một số ({el.unit or 'số'}), không phải ngày; ví dụ 1.234",
            expected_en=f"a number ({el.name_en}), not a date; e.g. 1234"))
        return
    try:
        if el.value_type == "flag" and isinstance(raw, bool):
            value = 1.0 if raw else 0.0
        elif el.value_type == "flag" and isinstance(raw, str) and fold(raw) in _YES | _NO:
            value = 1.0 if fold(raw) in _YES else 0.0
        else:
            value = read_cell_number(raw, el.value_type)
    except AmbiguousNumber as amb:  # "1,5" in a count: two readings, the locale setting behind them
        p.findings.append(error("V04", amb.vi, amb.en, value_raw=_s(raw), **where,
                                expected_vi=amb.expected_vi, expected_en=amb.expected_en))
        return
    except NotANumber:
        vi, en = "Ô số liệu chứa chữ, không phải số", "The cell holds text, not a number"
        if isinstance(raw, bool):
            vi, en = "Ô số liệu chứa giá trị logic TRUE/FALSE, không phải số", "The cell holds TRUE/FALSE, not a number"
        p.findings.append(error(
            "V01", vi, en, value_raw=_s(raw), **where,
            expected_vi="chỉ nhập chữ số, ví dụ 1.234 hoặc 1234,5" + ("; 1 = có, 0 = không" if el.value_type == "flag" else ""),
            expected_en="digits only, e.g. 1.234 or 1234,5" + ("; 1 = yes, 0 = no" if el.value_type == "flag" else "")))
        return
    p.values.append({"element_code": where["element_code"], "value": value, "value_raw": _s(raw),
                     "sheet": where["sheet"], "cell": where["cell"]})


def _add_task(p, cat, plan, no, status_raw, note, sheet, cell) -> None:
    plan = nfc(_s(plan)).strip()
    try:
        task_no = int(float(_s(no)))
    except (ValueError, OverflowError):
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
