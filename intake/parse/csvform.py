"""Reading the CSV form: character set, delimiter, lines."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from baocao.findings import error
from intake import form
from intake.numbers import fold
from intake.parse.common import ParsedSubmission, _code, _text
from intake.parse.rules import _add_task, _add_value, _check_meta, _element
from intake.parse.sniff import _utf16_without_bom

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
