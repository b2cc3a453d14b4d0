"""The blank form (intake/template.py) as written to disk: protected sheets with only the input
cells unlocked, Excel's own checks on number and 0/1 cells, task deadlines from the catalog,
official period wording and a print layout; and the parser still reads it and still refuses
what it refused."""

from __future__ import annotations

import random

import pytest
from openpyxl import load_workbook

import catalog as catalog_mod
from intake import form, template
from intake.parse import parse_file
from testing.demo import commune_values

PERIOD, DATASET = "2026H1", "XA_6T"


@pytest.fixture(scope="module")
def cat():
    return catalog_mod.load()


@pytest.fixture(scope="module")
def unit(cat):
    return cat.expected_units(DATASET)[0].code


@pytest.fixture
def blank(tmp_path, cat, unit):
    path = template.write_template(tmp_path / template.template_name(unit, PERIOD, DATASET), unit, PERIOD, DATASET,
                                   cat=cat)
    return load_workbook(path), path


def _unlocked(ws) -> set[str]:
    return {c.coordinate for row in ws.iter_rows() for c in row if c.protection.locked is False}


def test_every_sheet_is_protected_without_a_password_and_only_input_cells_are_open(blank, cat):
    wb, _ = blank
    ds = cat.datasets[DATASET]
    n = len(ds.elements)
    assert set(wb.sheetnames) == {form.SHEET_META, form.SHEET_DATA, form.SHEET_TASKS, form.SHEET_TEXT}
    for ws in wb.worksheets:
        assert ws.protection.sheet is True, ws.title
        assert not ws.protection.password, "a unit never needs a password"
    first = form.HEADER_ROW + 1
    value, note = form.col_letter(form.DATA_VALUE_COL), form.col_letter(form.DATA_VALUE_COL + 1)
    assert _unlocked(wb[form.SHEET_DATA]) == ({f"{value}{r}" for r in range(first, first + n)}
                                              | {f"{note}{r}" for r in range(first, first + n)})
    prepared = form.META_FIRST_ROW + [k for k, _ in form.META_ROWS].index("prepared_by")
    assert _unlocked(wb[form.SHEET_META]) == {f"B{prepared}"}
    n_tasks = len(cat.tasks_for(DATASET, wb[form.SHEET_META]["B4"].value))
    status, tnote = form.col_letter(form.TASK_STATUS_COL), form.col_letter(form.TASK_STATUS_COL + 1)
    assert _unlocked(wb[form.SHEET_TASKS]) == ({f"{status}{r}" for r in range(first, first + n_tasks)}
                                               | {f"{tnote}{r}" for r in range(first, first + n_tasks)})
    text = form.col_letter(form.TEXT_VALUE_COL)
    assert _unlocked(wb[form.SHEET_TEXT]) == {f"{text}{r}" for r in range(first, first + len(cat.narrative_sections))}
    # codes, labels and the header are locked
    data = wb[form.SHEET_DATA]
    assert data["A5"].protection.locked and data[f"A{form.HEADER_ROW}"].protection.locked


def _validation_of(ws, coord):
    hits = [dv for dv in ws.data_validations.dataValidation if coord in dv.sqref]
    assert len(hits) == 1, (coord, hits)
    return hits[0]


def test_number_and_yes_no_cells_carry_excels_own_check_in_vietnamese(blank, cat):
    wb, _ = blank
    data = wb[form.SHEET_DATA]
    col = form.col_letter(form.DATA_VALUE_COL)
    seen = set()
    for i, code in enumerate(cat.datasets[DATASET].elements):
        el = cat.elements[code]
        dv = _validation_of(data, f"{col}{form.HEADER_ROW + 1 + i}")
        assert dv.showErrorMessage and dv.allow_blank and dv.error and dv.prompt
        if el.value_type == "flag":
            assert dv.type == "list" and dv.formula1 == '"0,1"' and "0" in dv.error and "1" in dv.error
        else:
            lo, hi = el.bounds
            assert dv.type == "decimal" and float(dv.formula1) == lo >= 0
            assert (dv.operator, dv.formula2) == (("between", str(hi)) if hi is not None else ("greaterThanOrEqual", None))
            assert "Chỉ nhập số" in dv.error
        seen.add(dv.type)
    assert seen == {"list", "decimal"}, "the form has both kinds of value cell"
    tasks = wb[form.SHEET_TASKS]
    dv = _validation_of(tasks, f"{form.col_letter(form.TASK_STATUS_COL)}{form.HEADER_ROW + 1}")
    assert dv.type == "list" and dv.showErrorMessage and "Chọn" in dv.error


def test_task_deadlines_are_filled_from_the_catalog(blank, cat, unit):
    wb, _ = blank
    ts = wb[form.SHEET_TASKS]
    tasks = cat.tasks_for(DATASET, unit)
    got = [ts.cell(form.HEADER_ROW + 1 + i, 4).value for i in range(len(tasks))]
    assert got == [template.task_deadline(t) for t in tasks] and all(got)
    # a plan that states no date: its tasks are standing ones, reported every period
    assert all(g == template.NO_DEADLINE for g, t in zip(got, tasks, strict=True) if not t.deadline_text)
    dated = next(t for t in cat.tasks if t.deadline_text)
    assert template.task_deadline(dated) == dated.deadline_text


def test_periods_are_written_as_officials_write_them(blank):
    wb, _ = blank
    words = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert not any("kỳ 2026H1" in w or "kỳ báo cáo 2026H1" in w for w in words)
    assert "6 tháng đầu năm 2026" in wb[form.SHEET_META]["A1"].value
    assert "6 tháng đầu năm 2026" in wb[form.SHEET_DATA]["A1"].value
    assert template.period_words("2026H2") == "6 tháng cuối năm 2026"
    assert template.period_words("2026") == "năm 2026"
    assert template.period_words("2026H1", "en") == "first half of 2026"


def test_each_sheet_prints_fit_to_width_with_its_header_repeated(blank):
    wb, _ = blank
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ps.fitToWidth == 1, ws.title
        assert int(ps.paperSize) == 9  # A4
        if ws.title != form.SHEET_META:
            assert ps.orientation == "landscape" and ws.print_title_rows == f"$1:${form.HEADER_ROW}"
    assert wb[form.SHEET_META].page_setup.fitToHeight == 1
    assert wb[form.SHEET_DATA].page_setup.fitToHeight == 1, "30 elements fit on one landscape page"


def test_the_parser_reads_the_protected_form_and_still_refuses_what_it_refused(tmp_path, cat, unit):
    values = commune_values(random.Random(3))
    good = template.write_template(tmp_path / "good.xlsx", unit, PERIOD, DATASET, cat=cat, values=values)
    parsed = parse_file(good, cat=cat)
    assert not parsed.findings and parsed.unit_code == unit and parsed.period == PERIOD
    assert {v["element_code"]: v["value"] for v in parsed.values} == pytest.approx(values)

    bad = template.write_template(tmp_path / "bad.xlsx", unit, PERIOD, DATASET, cat=cat,
                                  values=dict(values, BEDS="chưa có"))
    (v01,) = [f for f in parse_file(bad, cat=cat).findings if f.rule_id == "V01"]
    assert v01.element_code == "BEDS" and v01.severity == "error"

    other = next(u.code for u in cat.expected_units(DATASET) if u.code != unit)
    wrong = template.write_template(tmp_path / "wrong.xlsx", other, PERIOD, DATASET, cat=cat, values=values)
    assert "S03" in {f.rule_id for f in parse_file(wrong, inbox_unit=unit, cat=cat).findings}
