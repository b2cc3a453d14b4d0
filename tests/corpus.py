"""A corpus of hostile and broken submissions, one file per case, each with the finding it must
produce.

`write_corpus(folder)` writes every case and returns {case: (path, expected)}, where `expected` is

    {"rule_id": "V02" | None, "severity": "error" | None, "sheet": ... | None, "cell": ... | None,
     "inbox_unit": the unit whose inbox delivers the file, "about": one line on the case,
     "values" / "tasks" / "texts": for clean cases, what the parser must read}

`rule_id` None means the file must parse without any finding. Files are generated, never
committed: the builders below are the reviewed part. Used by tests/test_hostile_files.py, by the
warehouse tests (every file through the whole pipeline) and by the demo.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import catalog as catalog_mod
from baocao import calendar
from intake import form, parse
from intake.template import build_template
from testing.demo import encode_cp1258

TEXTS = {
    "ket_qua": "Đã triển khai tiêm chủng mở rộng đầy đủ; khám sàng lọc bệnh không lây nhiễm cho người cao tuổi.",
    "han_che": "Thiếu bác sĩ ở trạm y tế; nhiều hộ dân ở xa, đường sá khó khăn vào mùa mưa.",
    "kien_nghi": "Đề nghị Sở Y tế bổ sung nhân lực và kinh phí mua sắm trang thiết bị.",
}
STATUSES = ["Hoàn thành", "Đang thực hiện"]
# Plausible values for the commune form that pass every validation rule (R01-R12, ranges, integers).
BASE_VALUES: dict[str, float] = {
    "POP": 12345, "POP_INSURED": 11000, "DOCTORS": 12, "DOCTORS_STATION": 2, "NURSES": 20,
    "MIDWIVES_STATION": 1, "PHARMACISTS_UNIV": 3, "BEDS": 40, "BEDS_PRIVATE": 10, "LIVE_BIRTHS": 150,
    "DEATHS_U1": 1, "DEATHS_U5": 2, "EPI_ELIGIBLE": 150, "EPI_FULL": 145, "CHILDREN_U5_MEASURED": 900,
    "CHILDREN_U5_STUNTED": 150, "ADULTS_SCREENED": 3000, "ADULTS_OBESE": 200,
    "PEOPLE_HEALTH_MANAGED": 10000, "PEOPLE_EHR": 8000, "PEOPLE_CHECKUP": 5000, "PEOPLE_ACTIVE": 4000,
    "INSURED_VISITS_TOTAL": 20000, "INSURED_VISITS_STATION": 6000, "STATION_NCD": 1,
    "STATION_STANDARD": 1, "STATION_HAS_DOCTOR": 1, "STATION_HAS_MIDWIFE": 1, "STATION_HAS_TRAD_MED": 0,
    "COMMUNE_NATIONAL_CRITERIA": 1,
    "LIFE_EXPECTANCY": 74.5, "HEALTHY_LIFE_YEARS": 66.2, "HEIGHT_MALE_18": 168.5,
    "HEIGHT_FEMALE_18": 157.5, "HEIGHT_1_18_MEAN": 140.5,
}
# Thousands separators as officers type them, cycled over the values >= 1000 of the separators case.
SEPARATORS = [".", " ", "\u00a0", "\u202f", "\u2009"]
CSV_SEPARATORS = [".", " ", "\u00a0"]  # the ones Windows-1258 can encode


@dataclass
class Ctx:
    folder: Path
    unit: str
    period: str
    ds: object
    cat: object

    @property
    def elements(self) -> list[str]:
        return list(self.ds.elements)

    def row(self, code: str) -> int:
        return form.HEADER_ROW + 1 + self.elements.index(code)

    def values(self) -> dict[str, float]:
        return {c: good_value(self.cat.elements[c]) for c in self.elements}

    def tasks(self, status=lambda s: s) -> dict:
        return {(t.plan_code, t.task_no): (status(STATUSES[i % 2]), f"Ghi chú {i + 1}: đúng tiến độ")
                for i, t in enumerate(self.cat.tasks_for(self.ds.code, self.unit))}

    def texts(self, text=lambda s: s) -> dict:
        return {k: text(v) for k, v in TEXTS.items()} if self.ds.narrative else {}

    def workbook(self, unit: str | None = None, values=None, tasks=None, texts=None):
        return build_template(unit or self.unit, self.period, self.ds.code, cat=self.cat,
                              values=self.values() if values is None else values,
                              tasks=self.tasks() if tasks is None else tasks,
                              texts=self.texts() if texts is None else texts)

    def save(self, wb, name: str) -> Path:
        path = self.folder / name
        wb.save(path)
        return path

    def write(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path

    def clean(self, about: str, values=None, **extra) -> dict:
        status_code = {s["name"]: s["code"] for s in self.cat.task_statuses}
        exp = {"rule_id": None, "severity": None, "sheet": None, "cell": None, "inbox_unit": self.unit,
               "about": about, "values": {k: float(v) for k, v in (values or self.values()).items()},
               "tasks": {f"{p}/{n}": status_code[unicodedata.normalize("NFC", s)]
                         for (p, n), (s, _note) in self.tasks().items()},
               "texts": self.texts()}
        exp.update(extra)
        return exp

    def finding(self, rule: str, about: str, sheet: str | None = None, cell: str | None = None, **extra) -> dict:
        return {"rule_id": rule, "severity": "error", "sheet": sheet, "cell": cell, "inbox_unit": self.unit,
                "about": about, **extra}


def good_value(el) -> float:
    if el.code in BASE_VALUES:
        return float(BASE_VALUES[el.code])
    lo, hi = el.bounds
    if el.value_type == "flag":
        return 1.0
    mid = (lo + hi) / 2 if hi is not None else lo + 10
    return float(round(mid)) if el.integer else round(mid, 1)


def typed_vn(value: float, sep: str = ".") -> str:
    """12345 -> '12.345' (or '12 345' with another separator); 74.5 -> '74,5'."""
    whole, _, frac = f"{value:f}".rstrip("0").rstrip(".").partition(".")
    groups = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    s = sep.join([whole, *groups])
    return f"{s},{frac}" if frac else s


# ----------------------------------------------------------------------------- raw file kinds

def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 compound file (version 3, 512-byte sectors) holding `streams` (each padded
    to 4096 bytes so that no mini stream is needed). An encrypted xlsx is one of these with
    EncryptionInfo and EncryptedPackage streams; an Excel 97-2003 .xls holds a Workbook stream."""
    end, free, fatsect, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    items = sorted(streams.items(), key=lambda kv: (len(kv[0]), kv[0].upper()))
    blobs = [data.ljust(max(4096, -(-len(data) // 512) * 512), b"\0") for _, data in items]
    fat = [fatsect, end]                          # sector 0: the FAT, sector 1: the directory
    starts = []
    for blob in blobs:
        n = len(blob) // 512
        first = len(fat)
        starts.append(first)
        fat += [*range(first + 1, first + n), end]
    assert len(fat) <= 128, "one FAT sector is enough for the corpus"
    fat += [free] * (128 - len(fat))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBBIII", len(raw), kind, 1, nostream, right, child)
                + b"\0" * 16 + b"\0" * 4 + b"\0" * 16 + struct.pack("<IQ", start, size))

    dirs = [entry("Root Entry", 5, 1 if items else nostream, nostream, end, 0)]
    for i, ((name, data), start) in enumerate(zip(items, starts, strict=True)):
        dirs.append(entry(name, 2, nostream, i + 2 if i + 1 < len(items) else nostream, start, len(data)))
    assert len(dirs) <= 4, "one directory sector is enough for the corpus"
    empty = b"\0" * 64 + struct.pack("<HBBIII", 0, 0, 0, nostream, nostream, nostream) + b"\0" * 52
    dirs += [empty] * (4 - len(dirs))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<I", 0) + struct.pack("<I", free) * 108)
    assert len(header) == 512
    return header + struct.pack("<128I", *fat) + b"".join(dirs) + b"".join(blobs)


def png_bytes() -> bytes:
    """A real 1x1 white PNG (a screenshot stands in for one)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0\xff\xff\xff")) + chunk(b"IEND", b""))


PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def cp1258_bytes(text: str) -> bytes:
    """Encode as Windows-1258 does: base letters with circumflex, breve and horn are precomposed
    (ê, ơ, ư...), tone marks are combining characters (e + ̂ + ́ -> ê + U+0301)."""
    return encode_cp1258(text)


# ----------------------------------------------------------------------------------- the cases

CASES: dict[str, Callable[[Ctx], tuple[Path, dict]]] = {}


def case(fn: Callable[[Ctx], tuple[Path, dict]]) -> Callable[[Ctx], tuple[Path, dict]]:
    CASES[fn.__name__.removeprefix("case_")] = fn
    return fn


@case
def case_clean_xlsx(c: Ctx):
    return c.save(c.workbook(), "clean.xlsx"), c.clean("the form as baocao sent it, filled in correctly")


@case
def case_empty(c: Ctx):
    return c.write("empty.xlsx", b""), c.finding("P01", "a 0-byte file (an attachment that failed)")


@case
def case_pdf_as_xlsx(c: Ctx):
    return c.write("bao_cao_ky_so.xlsx", PDF), c.finding("P02", "a signed PDF renamed .xlsx")


@case
def case_png_as_xlsx(c: Ctx):
    return c.write("chup_man_hinh.xlsx", png_bytes()), c.finding("P02", "a screenshot renamed .xlsx")


@case
def case_random_binary(c: Ctx):
    data = b"\x00\x01" + random.Random(1258).randbytes(4094)
    return c.write("random.xlsx", data), c.finding("P02", "random binary content named .xlsx")


@case
def case_html_as_xls(c: Ctx):
    page = ("<html><head><meta charset='utf-8'></head><body><table><tr><td>Mã</td><td>Giá trị</td></tr>"
            "<tr><td>POP</td><td>12.345</td></tr></table></body></html>")
    return c.write("xuat_tu_phan_mem.xls", page.encode()), c.finding("P02", "a web export: HTML named .xls")


@case
def case_zip_holding_xlsx(c: Ctx):
    inner = io.BytesIO()
    c.workbook().save(inner)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("XA_6T_bao_cao.xlsx", inner.getvalue())
    return c.write("bao_cao_nen.xlsx", buf.getvalue()), c.finding("P02", "the form zipped, named .xlsx")


@case
def case_encrypted(c: Ctx):
    data = cfb({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00" + bytes(200),
                "EncryptedPackage": struct.pack("<Q", 20000) + random.Random(5).randbytes(6000)})
    return c.write("co_mat_khau.xlsx", data), c.finding("P05", "an xlsx with an opening password (OLE container)")


@case
def case_legacy_xls(c: Ctx):
    data = cfb({"Workbook": b"\x09\x08\x10\x00\x00\x06\x05\x00" + bytes(100)})
    return c.write("mau_cu.xls", data), c.finding("P07", "an Excel 97-2003 .xls")


@case
def case_truncated(c: Ctx):
    buf = io.BytesIO()
    c.workbook().save(buf)
    data = buf.getvalue()
    return c.write("bi_cat.xlsx", data[: len(data) // 2]), c.finding("P02", "an xlsx cut in half (upload stopped)")


@case
def case_zip_bomb(c: Ctx):
    """A real workbook plus a member that is a run of zeros: ~60 KB on disk, over the limit unzipped."""
    good = io.BytesIO()
    c.workbook().save(good)
    buf = io.BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for info in src.infolist():
            zf.writestr(info, src.read(info))
        with zf.open("xl/media/image1.png", "w") as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(parse.MAX_UNZIPPED_BYTES // len(chunk) + 1):
                f.write(chunk)
    return c.write("bom_nen.xlsx", buf.getvalue()), c.finding("P03", "a zip bomb: zeros beyond MAX_UNZIPPED_BYTES")


@case
def case_giant_sheet(c: Ctx):
    """One stray cell at the sheet's far corner: 5 KB on disk, but a reader allocating the used
    area (calamine does) would need rows x columns cells."""
    wb = c.workbook()
    wb[form.SHEET_DATA]["XFD1048576"] = "x"
    return c.save(wb, "o_xa_cuoi.xlsx"), c.finding("P03", "a stray cell at XFD1048576", form.SHEET_DATA, "XFD1048576")


@case
def case_too_large(c: Ctx):
    path = c.save(c.workbook(), "qua_lon.xlsx")
    with path.open("r+b") as f:
        f.truncate(parse.MAX_FILE_BYTES + 1)  # sparse: no 5 MB written
    return path, c.finding("P04", "a file over MAX_FILE_BYTES")


@case
def case_formula_no_value(c: Ctx):
    e0, e1 = c.elements[:2]
    wb = c.workbook(values=c.values())
    wb[form.SHEET_DATA][f"D{c.row(e1)}"] = f"=D{c.row(e0)}*2"  # a real formula (templates never write one)
    return (c.save(wb, "cong_thuc.xlsx"),
            c.finding("V02", "a formula saved without a cached value (openpyxl, LibreOffice macros)",
                      form.SHEET_DATA, f"D{c.row(e1)}"))


@case
def case_formula_error(c: Ctx):
    e = c.elements[2]
    return (c.save(c.workbook(values=c.values() | {e: "#DIV/0!"}), "loi_cong_thuc.xlsx"),
            c.finding("V05", "a formula whose cached value is #DIV/0!", form.SHEET_DATA, f"D{c.row(e)}"))


@case
def case_merged_value_cells(c: Ctx):
    e3, e4 = c.elements[3:5]
    wb = c.workbook()
    wb[form.SHEET_DATA].merge_cells(f"D{c.row(e3)}:D{c.row(e4)}")
    return (c.save(wb, "gop_o.xlsx"),
            c.finding("V04", "two value cells merged", form.SHEET_DATA, f"D{c.row(e3)}",
                      also_cells=[f"D{c.row(e4)}"]))


@case
def case_date_text(c: Ctx):
    e = c.elements[1]
    return (c.save(c.workbook(values=c.values() | {e: "30/06/2026"}), "ngay_dang_chu.xlsx"),
            c.finding("V03", "a date typed as text in a number cell", form.SHEET_DATA, f"D{c.row(e)}"))


@case
def case_date_cell(c: Ctx):
    e = c.elements[2]
    return (c.save(c.workbook(values=c.values() | {e: dt.date(2026, 6, 30)}), "o_ngay.xlsx"),
            c.finding("V03", "a real date in a number cell", form.SHEET_DATA, f"D{c.row(e)}"))


@case
def case_text_in_number(c: Ctx):
    e = c.elements[2]
    return (c.save(c.workbook(values=c.values() | {e: "khoảng 500"}), "chu_trong_o_so.xlsx"),
            c.finding("V01", "text in a number cell", form.SHEET_DATA, f"D{c.row(e)}"))


def _separated(c: Ctx, seps: list[str] = SEPARATORS) -> dict[str, object]:
    typed, i = {}, 0
    for code, v in c.values().items():
        if v >= 1000 or not v.is_integer():
            typed[code] = typed_vn(v, seps[i % len(seps)])
            i += 1
        else:
            typed[code] = v
    return typed


@case
def case_vn_separators(c: Ctx):
    return (c.save(c.workbook(values=_separated(c)), "dau_phan_cach.xlsx"),
            c.clean("numbers typed as text with thousands separators: 12.345, 11 000, NBSP, NNBSP, thin space; 74,5"))


@case
def case_nfd_text(c: Ctx):
    def nfd(s: str) -> str:
        return unicodedata.normalize("NFD", s)

    wb = c.workbook(tasks=c.tasks(status=nfd), texts=c.texts(text=nfd))
    return c.save(wb, "chu_to_hop.xlsx"), c.clean("task statuses and narrative in decomposed (NFD) Vietnamese")


@case
def case_inserted_row_above_header(c: Ctx):
    wb = c.workbook()
    wb[form.SHEET_DATA].insert_rows(2)
    return (c.save(wb, "chen_dong.xlsx"),
            c.clean("a row inserted above the data header: harmless, cells reported where they are",
                    value_cells={c.elements[0]: f"D{form.HEADER_ROW + 2}"}))


@case
def case_other_unit(c: Ctx):
    others = [u.code for u in c.cat.expected_units(c.ds.code) if u.code != c.unit]
    other = others[0] if others else next(u for u in c.cat.org_units if u != c.unit)
    return (c.save(c.workbook(unit=other), f"{other}.xlsx"),
            c.finding("S03", f"the form of {other} sent from {c.unit}'s inbox", form.SHEET_META, _meta_cell("unit_code"),
                      file_unit=other))


def _meta_edit(c: Ctx, key: str, value, name: str):
    wb = c.workbook()
    wb[form.SHEET_META][_meta_cell(key)] = value
    return c.save(wb, name)


def _meta_cell(key: str) -> str:
    return f"B{form.META_FIRST_ROW + [k for k, _ in form.META_ROWS].index(key)}"


@case
def case_unknown_unit(c: Ctx):
    return (_meta_edit(c, "unit_code", "LD.99999", "don_vi_la.xlsx"),
            c.finding("S04", "a unit code not in the catalog", form.SHEET_META, _meta_cell("unit_code")))


@case
def case_unknown_version(c: Ctx):
    return (_meta_edit(c, "template_version", "baocao-0", "mau_cu.xlsx"),
            c.finding("S02", "an old or future template version", form.SHEET_META, _meta_cell("template_version")))


@case
def case_invalid_period(c: Ctx):
    bad = f"{c.period[:4]}H3"
    return (_meta_edit(c, "period", bad, "ky_sai.xlsx"),
            c.finding("S05", f"period {bad}", form.SHEET_META, _meta_cell("period")))


@case
def case_period_kind_mismatch(c: Ctx):
    per = calendar.parse_period(c.period)
    other = f"{per.year}" if per.half else f"{per.year}H1"
    return (_meta_edit(c, "period", other, "ky_khong_khop.xlsx"),
            c.finding("S05", f"period {other} in a form of the other frequency", form.SHEET_META, _meta_cell("period")))


@case
def case_foreign_workbook(c: Ctx):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["STT", "Nội dung", "Số lượng"])
    ws.append([1, "Dân số", 12345])
    return c.save(wb, "bang_tinh_rieng.xlsx"), c.finding("S01", "a workbook of the unit's own design")


def _append_row(c: Ctx, code: str, value, name: str) -> tuple[Path, int]:
    wb = c.workbook()
    row = form.HEADER_ROW + 1 + len(c.elements)
    ws = wb[form.SHEET_DATA]
    ws.cell(row, 1, code)
    ws.cell(row, 2, "Dòng thêm vào")
    ws.cell(row, form.DATA_VALUE_COL, value)
    return c.save(wb, name), row


@case
def case_duplicate_code(c: Ctx):
    path, row = _append_row(c, c.elements[0], 999, "ma_trung.xlsx")
    return path, c.finding("S07", "an element row copied at the end", form.SHEET_DATA, f"A{row}")


@case
def case_unknown_code(c: Ctx):
    path, row = _append_row(c, "POP_TOTAL_X", 999, "ma_la.xlsx")
    return path, c.finding("S08", "a row with a code the report does not have", form.SHEET_DATA, f"A{row}")


@case
def case_inserted_column(c: Ctx):
    wb = c.workbook()
    ws = wb[form.SHEET_DATA]
    col = form.DATA_VALUE_COL
    ws.insert_cols(col)
    ws.cell(form.HEADER_ROW, col, "Kỳ trước")
    return (c.save(wb, "chen_cot.xlsx"),
            c.finding("S09", "a column «Kỳ trước» inserted before «Giá trị»", form.SHEET_DATA,
                      f"{form.col_letter(col)}{form.HEADER_ROW}"))


# ----------------------------------------------------------------------------------------- CSV

def csv_rows(c: Ctx, values: dict | None = None, status=lambda s: s) -> list[list[str]]:
    meta = {"template_version": form.TEMPLATE_VERSION, "unit_code": c.unit, "period": c.period,
            "dataset_code": c.ds.code, "prepared_by": "Nguyễn Thị Hằng"}
    rows = [list(form.CSV_COLUMNS)] + [["meta", k, v, ""] for k, v in meta.items()]
    typed = _separated(c, CSV_SEPARATORS) if values is None else values
    rows += [["so_lieu", code, v if isinstance(v, str) else f"{v:g}", ""] for code, v in typed.items()]
    rows += [["nhiem_vu", f"{p}/{n}", status(s), note] for (p, n), (s, note) in c.tasks().items()]
    rows += [["thuyet_minh", k, v, ""] for k, v in c.texts().items()]
    return rows


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _csv_case(name: str, data: bytes, about: str):
    def build(c: Ctx):
        return c.write(name, data(c)), c.clean(about)
    return build


CASES["csv_utf8_bom"] = _csv_case("utf8_bom.csv", lambda c: b"\xef\xbb\xbf" + csv_text(csv_rows(c)).encode(),
                                  "CSV saved by Excel as «CSV UTF-8» (with BOM)")
CASES["csv_utf16"] = _csv_case("utf16.csv", lambda c: b"\xff\xfe" + csv_text(csv_rows(c), "\t").encode("utf-16-le"),
                               "Excel «Unicode Text»: UTF-16 LE with BOM, tab-separated")
CASES["csv_cp1258"] = _csv_case("cp1258.csv", lambda c: cp1258_bytes(csv_text(csv_rows(c))),
                                "CSV in Windows-1258 (tone marks as combining characters)")
CASES["csv_semicolon"] = _csv_case("semicolon.csv", lambda c: csv_text(csv_rows(c), ";").encode(),
                                   "semicolon-separated CSV (Excel with a Vietnamese list separator)")
CASES["csv_named_xlsx"] = _csv_case("la_csv.xlsx", lambda c: csv_text(csv_rows(c)).encode(),
                                    "a CSV renamed .xlsx: read by content")


@case
def case_xlsx_named_csv(c: Ctx):
    path = c.save(c.workbook(), "la_xlsx.csv")
    return path, c.clean("an xlsx renamed .csv: read by content")


@case
def case_csv_text_in_number(c: Ctx):
    rows = csv_rows(c)
    i = next(i for i, r in enumerate(rows) if r[0] == "so_lieu")
    rows[i][2] = "chưa có số liệu"
    return (c.write("csv_chu.csv", csv_text(rows).encode()),
            c.finding("V01", "text in a CSV value", "CSV", f"dòng {i + 1}"))


@case
def case_csv_foreign(c: Ctx):
    text = "STT,Họ tên,Số tiền\r\n1,Nguyễn Văn A,\"1.234.000\"\r\n"
    return c.write("sao_ke.csv", text.encode()), c.finding("S09", "someone else's CSV (a bank export)", "CSV", "dòng 1")


# --------------------------------------------------------------------------------------- entry

def write_corpus(folder: Path, unit_code: str = "LD.24781", period: str = "2026H1",
                 cat=None) -> dict[str, tuple[Path, dict]]:
    """Write every case into `folder` for `unit_code` and `period` (its first data set of that
    period's kind with at least five elements); return {case: (path, expected)}."""
    cat = cat or catalog_mod.load()
    kind = calendar.parse_period(period).kind
    ds = next((d for d in cat.datasets_for_unit(unit_code, kind) if len(d.elements) >= 5), None)
    if ds is None:
        raise ValueError(f"{unit_code} reports no data set of kind {kind} with values to break")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ctx = Ctx(folder, unit_code, calendar.parse_period(period).code, ds, cat)
    return {name: build(ctx) for name, build in CASES.items()}
