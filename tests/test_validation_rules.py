"""Plain-function checks of the validation rules: whole-number cells in either locale, and the
history rule against the unit's own series (modified z where there are enough periods, the
previous value where not)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import catalog as catalog_mod
from intake.numbers import AmbiguousNumber, NotANumber, read_cell_number


@pytest.mark.parametrize(("raw", "value"), [
    ("11,000", 11000), ("19,315", 19315), ("1.234.567", 1234567), ("1,234,567", 1234567), ("1.234", 1234),
    ("1,234", 1234), ("42", 42), (" 7 ", 7), ("1 234", 1234), (42.0, 42), ("-3", -3), (None, None), ("", None),
    ("1.234,5", 1234.5), ("1,234.5", 1234.5),  # unambiguous decimals: read, then refused as not whole (D02)
])
def test_whole_number_cells(raw, value):
    assert read_cell_number(raw, "count") == value


@pytest.mark.parametrize(("raw", "readings"), [("1,5", (1.5, 15)), ("12.50", (12.5, 1250)), ("0,5", (0.5, 5)),
                                               ("1234,567", (1234.567, 1234567)), ("12.0", (12, 120)),
                                               ("3,00", (3, 300))])
def test_ambiguous_counts_name_both_readings_and_the_setting(raw, readings):
    with pytest.raises(AmbiguousNumber) as exc:
        read_cell_number(raw, "count")
    e = exc.value
    assert e.readings == readings
    assert f"«{raw}»" in e.vi and f"«{raw}»" in e.en
    assert "Decimal symbol" in e.expected_vi and "Decimal symbol" in e.expected_en
    assert isinstance(e, NotANumber)


@pytest.mark.parametrize(("raw", "kind", "value"), [("74,5", "percent", 74.5), ("45,5 %", "percent", 45.5),
                                                    ("1,234", "years", 1.234), ("167.4", "cm", 167.4)])
def test_decimals_read_as_before(raw, kind, value):
    assert read_cell_number(raw, kind) == pytest.approx(value)


def test_whole_number_text_that_is_not_a_number_is_still_refused():
    for raw in ("khoảng 500", "1.234.5", "1,,2", "1e3"):
        with pytest.raises(NotANumber):
            read_cell_number(raw, "count")


def _scores(values, series_by_unit, code="DOCTORS"):
    from expectations.validate import history_scores

    units = [f"U{i}" for i in range(len(values))]
    prev = {(u, code): s for u, s in zip(units, series_by_unit, strict=True)}
    return history_scores(np.array(values, dtype=float), units, code, prev, catalog_mod.load())


def test_history_uses_the_units_own_series_where_there_are_enough_periods():
    series = [("2024H1", 30), ("2024H2", 31), ("2025H1", 30), ("2025H2", 32), ("2026H1", 31)]
    s = _scores([300, 33, 36, 55], [series] * 4)
    assert s[0] > 1            # 30 typed as 300
    assert abs(s[1]) < 1       # ordinary movement
    assert abs(s[2]) < 1       # within Poisson noise of a count of ~31
    assert s[3] > 1            # +77 %: beyond the noise of a stable series


def test_history_falls_back_to_the_previous_value_and_skips_small_counts():
    s = _scores([60, 44, 12, 5], [[("2025H2", 30)], [("2025H2", 30)], [("2025H2", 8)], []])
    assert s[0] > 1                  # doubled
    assert abs(s[1]) < 1             # +47 %: inside the 50 % band
    assert math.isnan(s[2])          # previous value below min_previous: not judged
    assert math.isnan(s[3])          # no history


def test_history_message_shows_the_series():
    from expectations.validate import BatchItem, validate_batch

    cat = catalog_mod.load()
    series = [("2024H1", 30.0), ("2024H2", 31.0), ("2025H1", 30.0), ("2025H2", 32.0), ("2026H1", 31.0)]
    values = [{"element_code": "DOCTORS", "value": 310.0, "value_raw": "310", "sheet": "Số liệu", "cell": "D7"}]
    found, _ = validate_batch("XA_6T", [BatchItem("k", "LD.24781", values, [])], {("LD.24781", "DOCTORS"): series}, cat)
    (w01,) = [f for f in found[0] if f.rule_id == "W01" and f.element_code == "DOCTORS"]
    assert w01.severity == "warning" and w01.cell == "D7"
    assert "2024H1: 30" in w01.message_vi and "2026H1: 31" in w01.message_vi and "«310»" in w01.message_vi
    assert "(trung vị 31)" in w01.message_vi and "median 31" in w01.message_en


@pytest.mark.parametrize("series", [
    [("2024H1", 30.0), ("2024H2", 31.0), ("2025H1", 30.0), ("2025H2", 32.0), ("2026H1", 31.0)],  # long: median ± z
    [("2025H2", 30.0)],                                                                       # short: previous ± band
])
def test_expected_range_is_where_the_history_rule_stops_warning(series):
    from expectations.validate import plausible_range

    cat = catalog_mod.load()
    lo, hi = plausible_range("history", "DOCTORS", cat, series)
    assert 0 <= lo < series[-1][1] < hi
    inside = _scores([lo + 0.01, hi - 0.01], [series] * 2)
    outside = _scores([hi + 0.01], [series])
    assert all(abs(x) <= 1 for x in inside) and outside[0] > 1


def test_a_history_warning_says_the_expected_range_and_the_previous_value():
    from expectations.validate import BatchItem, plausible_range, validate_batch

    cat = catalog_mod.load()
    series = [("2025H2", 30.0)]
    values = [{"element_code": "DOCTORS", "value": 90.0, "value_raw": "90", "sheet": "Số liệu", "cell": "D7"}]
    found, _ = validate_batch("XA_6T", [BatchItem("k", "LD.24781", values, [])], {("LD.24781", "DOCTORS"): series}, cat)
    (w01,) = [f for f in found[0] if f.rule_id == "W01" and f.element_code == "DOCTORS"]
    lo, hi = plausible_range("history", "DOCTORS", cat, series)
    assert f"khoảng dự kiến {math.ceil(lo)} – {math.floor(hi)}" in w01.expected_vi
    assert "kỳ trước 2025H2: 30" in w01.expected_vi and "previous period 2025H2: 30" in w01.expected_en
    assert f"expected range {math.ceil(lo)} – {math.floor(hi)}" in w01.expected_en
    assert w01.expected_vi.endswith("kiểm tra lại; nếu đúng, xác nhận với tỉnh")  # the rule's advice stays
