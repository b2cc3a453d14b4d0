"""Feedback workbooks: the unit's own form with the findings marked on their cells, plus a first
sheet listing them all (intake/annotate.py)."""

from __future__ import annotations

import hashlib
import random
import re

import pytest
from openpyxl import load_workbook

import catalog as catalog_mod
from baocao.findings import error, warning
from intake import annotate, form
from intake.template import build_template
from testing.demo import commune_values

PERIOD, DATASET = "2026H1", "XA_6T"


@pytest.fixture(scope="module")
def cat():
    return catalog_mod.load()


@pytest.fixture
def submitted(tmp_path, cat):
    """A filled form with text in BEDS and a doubtful DOCTORS figure; returns (path, unit, cells)."""
    unit = cat.expected_units(DATASET)[0].code
    values = dict(commune_values(random.Random(7)), BEDS="chưa có", DOCTORS=90)
    path = tmp_path / "in" / f"{DATASET}_{unit}_{PERIOD}.xlsx"
    path.parent.mkdir()
    build_template(unit, PERIOD, DATASET, cat=cat, values=values).save(path)
    elements = cat.datasets[DATASET].elements
    col = form.col_letter(form.DATA_VALUE_COL)
    cells = {code: f"{col}{form.HEADER_ROW + 1 + i}" for i, code in enumerate(elements)}
    return path, unit, cells


def _findings(cells):
    return [
        error("V01", "Ô chứa chữ thay vì số", "The cell holds text, not a number", sheet=form.SHEET_DATA,
              cell=cells["BEDS"], element_code="BEDS", element_name="Giường bệnh", value_raw="chưa có",
              expected_vi="một số, ví dụ 25", expected_en="a number, e.g. 25"),
        warning("W01", "Thay đổi hơn 50 % so với kỳ trước", "Changed by more than 50% from the previous period",
                sheet=form.SHEET_DATA, cell=cells["DOCTORS"], element_code="DOCTORS", value_raw="90",
                expected_vi="kiểm tra lại; nếu đúng, xác nhận với tỉnh",
                expected_en="check it; if correct, confirm with the province"),
        warning("W02", "Tỷ lệ khác thường so với các đơn vị cùng loại", "Rate far from comparable units",
                sheet=form.SHEET_DATA, cell=cells["BEDS"], element_code="BEDS", value_raw="chưa có",
                expected_vi="kiểm tra lại", expected_en="check it"),
        error("S10", "Kỳ báo cáo chưa mở", "Period is not open", sheet=form.SHEET_META, cell="B6",
              value_raw=PERIOD, expected_vi="kỳ đang mở: 2025H2", expected_en="open periods: 2025H2"),
        error("S12", "Dòng CSV sai", "Malformed CSV line", sheet="CSV", cell="dòng 5", value_raw="=1+1"),
        error("S04", "Hộp thư không thuộc đơn vị nào", "Inbox is not a unit", value_raw="LD.99999"),
    ]


def _values(wb, skip=()):
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets if ws.title not in skip
            for row in ws.iter_rows() for c in row if c.value is not None}


def _rgb(cell) -> str:
    return str(cell.fill.fgColor.rgb).upper() if cell.fill.fill_type == "solid" else ""


def test_marks_cells_and_lists_every_finding(submitted, tmp_path):
    src, _unit, cells = submitted
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    findings = _findings(cells)
    dest = tmp_path / "out" / "feedback.xlsx"
    assert annotate.annotate_workbook(src, findings, dest) == dest
    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest, "the unit's file is never modified"
    assert [p.name for p in dest.parent.iterdir()] == ["feedback.xlsx"], "no temporary file left behind"

    wb = load_workbook(dest)
    original = load_workbook(src)
    assert wb.sheetnames[0] == "Kết quả kiểm tra" and wb.active.title == "Kết quả kiểm tra"
    assert wb.sheetnames[1:] == original.sheetnames
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == ["Kết quả kiểm tra"]
    assert _values(wb, skip=("Kết quả kiểm tra",)) == _values(original), "values as typed are kept"

    data = wb[form.SHEET_DATA]
    beds, doctors = data[cells["BEDS"]], data[cells["DOCTORS"]]
    assert beds.value == "chưa có" and doctors.value == 90
    assert _rgb(beds) == annotate.ERROR_RGB, "error + warning on one cell: red"
    assert _rgb(doctors) == annotate.WARNING_RGB
    assert _rgb(wb[form.SHEET_META]["B6"]) == annotate.ERROR_RGB
    assert _rgb(data[cells["POP"]]) == "00FFF2CC", "unnamed cells keep the form's own fill"
    assert data[cells["POP"]].comment is None

    note = beds.comment.text
    assert beds.comment.author == "baocao"
    assert "Ô chứa chữ thay vì số" in note and "Tỷ lệ khác thường" in note, "several findings are joined"
    assert note.index("V01") < note.index("W02"), "errors first"
    assert "Giá trị đã nhập: «chưa có»" in note and "Cần: một số, ví dụ 25" in note
    assert "Thay đổi hơn 50 %" in doctors.comment.text and "«90»" in doctors.comment.text

    ws = wb["Kết quả kiểm tra"]
    assert "2 cảnh báo" in ws["A1"].value and "4 lỗi" in ws["A1"].value
    header = [c.value for c in ws[4]]
    assert header == ["STT", "Mức độ", "Mã kiểm tra", "Trang", "Ô", "Chỉ tiêu", "Giá trị đã nhập", "Nội dung",
                      "Cần sửa thành / yêu cầu"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=5) if r[0].value is not None]
    assert len(rows) == len(findings)
    assert [r[1] for r in rows] == ["Lỗi"] * 4 + ["Cảnh báo"] * 2
    by_rule = {r[2]: r for r in rows}
    assert by_rule["V01"][3:9] == [form.SHEET_DATA, cells["BEDS"], "BEDS — Giường bệnh", "chưa có",
                                   "Ô chứa chữ thay vì số", "một số, ví dụ 25"]
    assert by_rule["S12"][4] == "dòng 5" and by_rule["S12"][6] == "=1+1", "a CSV line is listed, not marked"
    assert by_rule["S04"][3] is None and by_rule["S04"][4] is None
    links = {r[2].value: r[4].hyperlink for r in ws.iter_rows(min_row=5) if r[0].value is not None}
    assert links["V01"].location == f"'{form.SHEET_DATA}'!{cells['BEDS']}"
    assert links["S12"] is None and links["S04"] is None


def test_english_variant(submitted, tmp_path):
    src, _unit, cells = submitted
    dest = annotate.annotate_workbook(src, _findings(cells), tmp_path / "en.xlsx", lang="en")
    wb = load_workbook(dest)
    assert wb.sheetnames[0] == "Check results"
    note = wb[form.SHEET_DATA][cells["BEDS"]].comment.text
    assert "[Error V01] The cell holds text, not a number" in note
    assert "Value as typed: «chưa có»" in note and "Expected: a number, e.g. 25" in note
    assert "[Warning W02]" in note
    ws = wb["Check results"]
    assert ws["H4"].value == "Problem" and ws["B5"].value == "Error"
    assert "4 error(s), 2 warning(s)" in ws["A1"].value


def test_annotating_an_annotated_file_starts_afresh(submitted, tmp_path):
    src, _unit, cells = submitted
    first = annotate.annotate_workbook(src, _findings(cells), tmp_path / "first.xlsx")
    only_doctors = [f for f in _findings(cells) if f.rule_id == "W01"]
    second = annotate.annotate_workbook(first, only_doctors, tmp_path / "second.xlsx")
    wb = load_workbook(second)
    assert wb.sheetnames.count("Kết quả kiểm tra") == 1 and wb.sheetnames[0] == "Kết quả kiểm tra"
    data = wb[form.SHEET_DATA]
    assert _rgb(data[cells["BEDS"]]) == "00FFF2CC" and data[cells["BEDS"]].comment is None
    assert _rgb(wb[form.SHEET_META]["B6"]) == "" and wb[form.SHEET_META]["B6"].comment is None
    assert _rgb(data[cells["DOCTORS"]]) == annotate.WARNING_RGB
    assert "Kết quả kiểm tra" in wb.sheetnames and len(wb["Kết quả kiểm tra"]["A"]) >= 5


def test_csv_or_unreadable_gets_the_findings_sheet_only(tmp_path, submitted):
    _src, _unit, cells = submitted
    findings = _findings(cells)
    csv = tmp_path / "XA_6T.csv"
    csv.write_text("loai,ma,gia_tri,ghi_chu\nso_lieu,BEDS,chưa có,\n", encoding="utf-8")
    for src in (csv, tmp_path / "missing.xlsx"):
        dest = annotate.annotate_workbook(src, findings, tmp_path / f"{src.stem}_fb.xlsx")
        wb = load_workbook(dest)
        assert wb.sheetnames == ["Kết quả kiểm tra"]
        rows = [r for r in wb.active.iter_rows(min_row=5, values_only=True) if r[0] is not None]
        assert len(rows) == len(findings)
        assert "không đánh dấu được ô" in wb.active["A2"].value

    # a workbook the parser refused (P rules) is never opened with openpyxl
    refused = [error("P03", "Vùng dữ liệu khổng lồ", "Enormous used area", sheet=form.SHEET_DATA, cell="XFD1048576")]
    wb = load_workbook(annotate.annotate_workbook(submitted[0], refused, tmp_path / "refused.xlsx"))
    assert wb.sheetnames == ["Kết quả kiểm tra"]

    dest = annotate.annotate_findings_xlsx(findings, tmp_path / "plain.xlsx", lang="en", source_name="x.csv")
    ws = load_workbook(dest)["Check results"]
    assert "x.csv" in ws["A1"].value
    s12 = next(r for r in ws.iter_rows(min_row=5) if r[2].value == "S12")
    assert s12[6].value == "=1+1" and s12[6].data_type == "s", "typed text never becomes a formula"


def test_real_findings_name_the_unit_file_mark_both_rule_cells_and_show_the_range(cat, tmp_path):
    """Parsed and validated for real: a broken cross-element rule (R04, DOCTORS_STATION ≤ DOCTORS)
    marks both cells; a history warning's comment shows the expected range and the previous value;
    the title names the file as the unit sent it, not the store's copy."""
    from expectations.validate import BatchItem, validate_batch
    from intake.parse import parse_file

    unit = cat.expected_units(DATASET)[0].code
    values = dict(commune_values(random.Random(7)), DOCTORS=3, DOCTORS_STATION=5, BEDS=90)
    stored = tmp_path / "store" / "0f3a9c2e.xlsx"  # the store's own name
    stored.parent.mkdir()
    build_template(unit, PERIOD, DATASET, cat=cat, values=values).save(stored)
    parsed = parse_file(stored, cat=cat)
    assert not parsed.findings
    previous = {(unit, "BEDS"): [("2025H2", 30.0)]}
    found, _ = validate_batch(DATASET, [BatchItem("k", unit, parsed.values, parsed.tasks)], previous, cat)
    findings = found[0]
    (r04,) = [f for f in findings if f.rule_id == "R04"]
    (w01,) = [f for f in findings if f.rule_id == "W01" and f.element_code == "BEDS"]

    sent_as = "Báo cáo 6 tháng <Xã> =1+1.xlsx"
    dest = annotate.annotate_workbook(stored, findings, tmp_path / "fb.xlsx", source_name=sent_as, cat=cat)
    wb = load_workbook(dest)
    title = wb["Kết quả kiểm tra"]["A1"].value
    assert f"«{sent_as}»" in title and stored.name not in title

    data = wb[form.SHEET_DATA]
    rows = {data.cell(r, 1).value: r for r in range(form.HEADER_ROW + 1, data.max_row + 1)}
    col = form.col_letter(form.DATA_VALUE_COL)
    left, right = data[f"{col}{rows['DOCTORS_STATION']}"], data[f"{col}{rows['DOCTORS']}"]
    assert r04.cell == left.coordinate
    for c in (left, right):
        assert _rgb(c) == annotate.ERROR_RGB and "R04" in c.comment.text
    assert "Giá trị đã nhập: «5»" in left.comment.text and "Giá trị đã nhập: «3»" in right.comment.text, \
        "each cell says its own value"
    listed = next(r for r in wb["Kết quả kiểm tra"].iter_rows(min_row=5, values_only=True) if r[2] == "R04")
    assert listed[4] == f"{left.coordinate}, {right.coordinate}"

    beds = data[w01.cell]
    assert _rgb(beds) == annotate.WARNING_RGB
    assert "kỳ trước 2025H2: 30" in beds.comment.text
    lo, hi = map(int, re.search(r"khoảng dự kiến (\d+) – (\d+)", beds.comment.text).groups())
    assert lo < 30 < hi < 90, "the range around the previous value, which 90 is outside"


def test_a_rule_whose_other_element_is_absent_marks_the_one_cell_it_names(submitted, tmp_path, cat):
    src, _unit, cells = submitted
    f = error("R04", "Số bác sĩ tại trạm lớn hơn số bác sĩ", "Station doctors exceed doctors", sheet=form.SHEET_DATA,
              cell=cells["DOCTORS_STATION"], element_code="DOCTORS_STATION", value_raw="5")
    wb = load_workbook(src)
    ws = wb[form.SHEET_DATA]
    ws.cell(int(cells["DOCTORS"][1:]), 1).value = "XOA"  # the unit overwrote the other element's code
    wb.save(src)
    out = load_workbook(annotate.annotate_workbook(src, [f], tmp_path / "one.xlsx", cat=cat))
    marked = [c.coordinate for row in out[form.SHEET_DATA].iter_rows() for c in row if _rgb(c) == annotate.ERROR_RGB]
    assert marked == [cells["DOCTORS_STATION"]]
