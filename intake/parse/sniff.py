"""What the file is, from its content (not its name): magic numbers, text or binary, OLE2
compound files (encrypted workbooks, old .xls and .doc)."""

from __future__ import annotations

from pathlib import Path

from intake import form
from intake.parse.common import _REDO_EN, _REDO_VI, _XLSX_NAMES, ParsedSubmission, _fail

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


def _parse_cfb(path: Path, data: bytes, ext: str) -> ParsedSubmission:
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
        return _not_a_workbook(path, "doc", ext)
    if "Workbook".encode("utf-16-le") in head or "Book".encode("utf-16-le") in head:
        vi, en = "Tệp là bảng tính Excel 97-2003 (.xls) kiểu cũ", "The file is an old Excel 97-2003 workbook (.xls)"
    else:
        vi, en = "Tệp là định dạng Office cũ (OLE), không phải .xlsx", "The file is an old Office (OLE) format, not .xlsx"
    return _fail(path, "xlsx", "P07", vi, en,
                 "dùng mẫu biểu .xlsx baocao đã gửi; hoặc mở bằng Excel, chọn Lưu thành > Excel Workbook (.xlsx)",
                 "use the .xlsx form baocao sent; or open it in Excel and Save As > Excel Workbook (.xlsx)")
