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
element, S09 header row changed, S11 unknown CSV line type, S12 malformed CSV line, S13–S16 the
workbook's structure (structure.py). S10 (period not open or closed), S17 (period not ended) and
S18 (held: sent after the close) belong to the collect step (baocao/decisions.py). Values: V01
text, V02 formula without a computed value, V03 date, V04 merged value cell, V05 formula error
value (#DIV/0!...), V06 a number with two readings for its element type ("1,5" in a count). Tasks:
T02 status, T03 task number.
"""

from __future__ import annotations

import io
from pathlib import Path

import catalog as catalog_mod
from baocao.findings import error
from intake.numbers import format_vn, nfc
from intake.parse.common import (  # noqa: F401 - the package's names
    _XLSX_NAMES,
    MAX_FILE_BYTES,
    MAX_SHEET_CELLS,
    MAX_UNZIPPED_BYTES,
    MAX_ZIP_MEMBERS,
    ParsedSubmission,
    _fail,
)
from intake.parse.csvform import _csv_header_line, _decode, _parse_csv
from intake.parse.sniff import _looks_binary, _not_a_workbook, _parse_cfb, _sniff
from intake.parse.xlsx import _parse_xlsx


def parse_file(path: Path, inbox_unit: str | None = None, cat=None, name: str | None = None) -> ParsedSubmission:
    """Parse one file. `inbox_unit` is the unit whose inbox (or command) delivered it; `name` is
    the name the unit sent (the stored file has the server's name): messages show it, and its
    extension is the one the unit chose. Call it through `intake.isolate` for a unit's file."""
    cat = cat or catalog_mod.load()
    path = Path(path)
    shown = name or path.name
    ext = "." + shown.rsplit(".", 1)[-1].lower()[:10] if "." in shown else ""
    p = _parse(path, inbox_unit, cat, ext)
    if name and name != path.name:  # file-level findings name the file as the unit sent it
        for f in p.findings:
            if f.value_raw == path.name:
                f.value_raw = name
    return p


def _parse(path: Path, inbox_unit, cat, ext: str) -> ParsedSubmission:
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
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return _parse_cfb(path, data, ext)
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _parse_xlsx(path, data, inbox_unit, cat, ext)
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
