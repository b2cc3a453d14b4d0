"""intake.numbers: numbers as Vietnamese and English-locale officers type them, and text in NFC
or NFD form."""

from __future__ import annotations

import math
import unicodedata

import pytest

from intake.numbers import NotANumber, fold, format_vn, nfc, parse_number


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


@pytest.mark.parametrize(("raw", "value"), [
    # Vietnamese: dot for thousands, comma for decimals
    ("1.234,5", 1234.5), ("12.345", 12345), ("1.234.567", 1234567), ("1.234.567,25", 1234567.25),
    ("74,5", 74.5), ("0,5", 0.5), ("100.000,00", 100000),
    # English: comma for thousands, dot for decimals
    ("1,234,567", 1234567), ("1,234.5", 1234.5), ("1,234,567.75", 1234567.75), ("74.5", 74.5), ("0.25", 0.25),
    # spaces as thousands separators: ASCII, no-break, narrow no-break, thin, figure space
    ("1 234", 1234), ("1\u00a0234", 1234), ("12\u202f345", 12345), ("1\u2009234\u2009567", 1234567),
    ("1\u2007234", 1234), ("1 234,5", 1234.5), ("1 234.5", 1234.5),
    # plain, signed, padded
    ("0", 0), ("42", 42), ("-7", -7), ("+7", 7), ("\u22127", -7), ("  1.234  ", 1234), ("\t12\n", 12),
    # numbers the spreadsheet already typed
    (42, 42), (42.5, 42.5), (0, 0),
])
def test_parse_number(raw, value):
    assert parse_number(raw) == value
    assert isinstance(parse_number(raw), float)


@pytest.mark.parametrize(("raw", "value"), [
    # ambiguous: one group of three digits after the separator is read the Vietnamese way
    ("1.234", 1234),     # Vietnamese thousands, not 1.234
    ("1,234", 1.234),    # Vietnamese decimal, not one thousand two hundred and thirty-four
    ("12.34", 12.34),    # two digits after a dot: a decimal
    ("1.2345", 1.2345),  # four digits after a dot: a decimal
    ("1234.567", 1234.567),  # more than three digits before the dot: not a thousands group
])
def test_ambiguous_numbers_read_the_vietnamese_way(raw, value):
    assert parse_number(raw) == pytest.approx(value)


@pytest.mark.parametrize(("raw", "value"), [("45%", 45), ("45 %", 45), ("45,5%", 45.5), ("12.5\u00a0%", 12.5),
                                            ("45", 45), ("0,5%", 0.5)])
def test_percent(raw, value):
    assert parse_number(raw, percent=True) == value


def test_percent_sign_only_where_a_percent_is_expected():
    with pytest.raises(NotANumber):
        parse_number("45%")


@pytest.mark.parametrize("raw", [None, "", "   ", "\u00a0", "\t\n"])
def test_blank_is_none(raw):
    assert parse_number(raw) is None


@pytest.mark.parametrize("raw", [
    "khoảng 500", "500 người", "n/a", "-", "x", "1.234.5", "1,234,5", "1..2", ".", ",", "1.23.456",
    "12 34", "1 2 3", "1  234", "1e3", "0x10", "1'234", "(5)", "12.345,6.7", "١٢٣", "１２３", "45%%",
    "%", "+", "nan", "inf", "1,234.567,8", "1.234,567.8",
])
def test_rejects(raw):
    with pytest.raises(NotANumber):
        parse_number(raw, percent=True)


@pytest.mark.parametrize("raw", [True, False, math.nan, math.inf, -math.inf])
def test_rejects_non_numbers_from_the_spreadsheet(raw):
    with pytest.raises(NotANumber):
        parse_number(raw)


def test_not_a_number_is_a_value_error():
    assert issubclass(NotANumber, ValueError)


def test_nfc_composes_decomposed_vietnamese():
    s = "Hoàn thành kế hoạch tiêm chủng; Đắk Lắk; người dân tộc thiểu số"
    assert nfc(nfd(s)) == s
    assert nfd(s) != s and len(nfd(s)) > len(s)
    assert nfc(s) == s
    # Windows-1258 style: precomposed base (ê, ô, ư) followed by a combining tone mark
    assert nfc("\u00ea\u0301") == "ế" and nfc("\u00f4\u0323") == "ộ" and nfc("\u01b0\u0309") == "ử"


@pytest.mark.parametrize(("a", "b"), [
    ("Hoàn thành", "hoan thanh"), ("Hoàn thành", nfd("Hoàn thành")), ("HOÀN THÀNH", "hoàn thành"),
    ("Đang thực hiện", "dang thuc hien"), ("đ", "D"), ("Không áp dụng", nfd("KHÔNG ÁP DỤNG")),
    ("Hoàn  thành", "Hoàn thành"), ("Hoàn\u00a0thành", "hoan thanh"), ("  Số liệu ", "so lieu"),
    ("Chưa thực hiện", "\u0043h\u01b0a th\u01b0\u0323c hi\u00ea\u0323n"),  # cp1258-style decomposition
])
def test_fold_matches_labels_typed_by_hand(a, b):
    assert fold(a) == fold(b)


@pytest.mark.parametrize(("a", "b"), [("Hoàn thành", "Hoàn thành một phần"), ("có", "co2"),
                                      ("Đang thực hiện", "Chưa thực hiện")])
def test_fold_keeps_different_words_apart(a, b):
    assert fold(a) != fold(b)


def test_fold_is_ascii_for_vietnamese():
    assert fold("Số liệu, Thuyết minh, Nhiệm vụ, Đơn vị tính") == "so lieu, thuyet minh, nhiem vu, don vi tinh"


@pytest.mark.parametrize(("value", "text"), [(1234.5, "1.234,5"), (12345, "12.345"), (0, "0"), (None, ""),
                                             (1234567, "1.234.567"), (74.5, "74,5")])
def test_format_vn_round_trips(value, text):
    assert format_vn(value) == text
    if value is not None:
        assert parse_number(text) == value
