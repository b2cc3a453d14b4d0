"""Reading numbers and text as Vietnamese officers type them.

Vietnamese writes 1.234.567,5 (dot for thousands, comma for decimals); spreadsheets set to English
write 1,234,567.5. Both occur in the same province. Thousands may also be grouped with a space, a
no-break space (U+00A0), a narrow no-break space (U+202F) or a thin space (U+2009), as Word and
some Excel locales do. Text arrives in NFC or NFD (decomposed) form.
"""

from __future__ import annotations

import math
import re

from baocao.text import fmt_number, fold, nfc  # noqa: F401  (fold: the label key intake matches with)

# Only ASCII digits: `\d` would also accept Arabic-Indic and other digits that float() reads.
_SPACE = r"[ \u00a0\u202f\u2009\u2007]"
_WS = re.compile(r"\s+")
_SPACED_GROUPS = re.compile(rf"^[+-]?[0-9]{{1,3}}({_SPACE}[0-9]{{3}})+([.,][0-9]+)?$")
_PLAIN = re.compile(r"^[+-]?[0-9]+$")
_VN_THOUSANDS = re.compile(r"^[+-]?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]+)?$")     # 1.234.567,5
_EN_THOUSANDS = re.compile(r"^[+-]?[0-9]{1,3}(,[0-9]{3}){2,}(\.[0-9]+)?$")  # 1,234,567.5 (2+ groups)
_EN_THOUSANDS_DEC = re.compile(r"^[+-]?[0-9]{1,3}(,[0-9]{3})+\.[0-9]+$")    # 1,234.5
_DECIMAL_COMMA = re.compile(r"^[+-]?[0-9]+,[0-9]+$")                        # 74,5
_DECIMAL_DOT = re.compile(r"^[+-]?[0-9]+\.[0-9]+$")                         # 74.5 (not 1.234: see above)
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\uff0b": "+"})       # minus sign, en dash


class NotANumber(ValueError):
    pass


class AmbiguousNumber(NotANumber):
    """A whole-number cell whose text reads two ways (e.g. «1,5»: one and a half with a decimal
    comma, or 15 with a stray separator). Carries both readings and the bilingual reason."""

    def __init__(self, raw: str, readings: tuple[float, float], vi: str, en: str, expected_vi: str, expected_en: str):
        super().__init__(raw)
        self.raw, self.readings, self.vi, self.en = raw, readings, vi, en
        self.expected_vi, self.expected_en = expected_vi, expected_en


def parse_number(raw: object, percent: bool = False) -> float | None:
    """A cell's value as a number; None when blank. Raises NotANumber for text that is not one.

    Ambiguous `1.234` is read the Vietnamese way (1234) and so is `1,234` (1.234, a decimal);
    `74.5` (not three digits after the dot) is a decimal. `1,234,567` and `1,234.5` are
    unambiguously English. Spaces group thousands only in threes (`1 234`, not `12 34`).
    With `percent`, a trailing `%` is allowed (`45,5 %` -> 45.5).
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise NotANumber(str(raw))
    if isinstance(raw, (int, float)):
        if not math.isfinite(raw):
            raise NotANumber(str(raw))
        return float(raw)
    s = nfc(str(raw)).translate(_MINUS).strip()
    if s == "":
        return None
    if percent and s.endswith("%"):
        s = s[:-1].rstrip()
    if _WS.search(s):
        if not _SPACED_GROUPS.match(s):
            raise NotANumber(str(raw))
        s = _WS.sub("", s)
    if _PLAIN.match(s):
        return float(s)
    if _VN_THOUSANDS.match(s):
        return float(s.replace(".", "").replace(",", "."))
    if _EN_THOUSANDS.match(s) or _EN_THOUSANDS_DEC.match(s):
        return float(s.replace(",", ""))
    if _DECIMAL_COMMA.match(s):
        return float(s.replace(",", "."))
    if _DECIMAL_DOT.match(s):
        return float(s)
    raise NotANumber(str(raw))


_ONE_SEP = re.compile(r"^([+-]?[0-9]+)([.,])([0-9]+)$")          # 19,315  1,5  1.5  (one separator)
_LOCALE_VI = ("kiểu Việt Nam dùng dấu phẩy «,» cho phần thập phân và dấu chấm «.» phân cách hàng nghìn;"
              " kiểu Anh-Mỹ (máy đặt vùng English) thì ngược lại — xem Control Panel › Region › Decimal symbol")
_LOCALE_EN = ("the Vietnamese setting writes decimals with a comma and groups thousands with a dot; an"
              " English regional setting does the opposite (Control Panel › Region › Decimal symbol)")


def parse_whole_number(raw: object) -> float | None:
    """A whole-number cell (a count, a 0/1 flag) as officers type it, in either locale.

    A lone separator followed by exactly three digits groups thousands, whichever it is:
    «11,000» and «19,315» are 11000 and 19315 (an English-locale spreadsheet), «19.315» is 19315.
    Nobody counts people to the thousandth. Other text reads as `parse_number` reads it, except a
    lone separator followed by one, two or four or more digits («1,5», «12.50»): one reading is a
    decimal (not a count), the other a slip of the separator (15, 1250); that raises
    AmbiguousNumber naming both readings and the locale setting behind it. An unambiguous
    decimal («1.234,5») is returned as read (the whole-number check then reports it).
    """
    if raw is None or isinstance(raw, (bool, int, float)):
        return parse_number(raw)
    text = nfc(str(raw)).translate(_MINUS).strip()
    m = _ONE_SEP.match(text)
    if not m:
        return parse_number(raw)
    whole, sep, digits = m.groups()
    if len(digits) == 3 and len(whole.lstrip("+-")) <= 3:
        return float(whole + digits)
    decimal = float(f"{whole}.{digits}")
    joined = float(whole + digits)
    if decimal == joined:
        return decimal
    places = len(digits)
    raise AmbiguousNumber(
        str(raw), (decimal, joined),
        f"«{text}» trong ô số nguyên đọc được hai cách: {format_vn(decimal, decimals=places)}"
        f" («{sep}» là dấu thập phân) hoặc {format_vn(joined)} («{sep}» gõ thừa)",
        f"«{text}» in a whole-number cell reads two ways: {decimal:,.{places}f} («{sep}» as the decimal mark)"
        f" or {joined:,.0f} (a stray «{sep}»)",
        f"một số nguyên, gõ không có dấu phân cách (ví dụ {int(joined)}); {_LOCALE_VI}",
        f"a whole number typed without separators (e.g. {int(joined)}); {_LOCALE_EN}")


def read_cell_number(raw: object, value_type: str) -> float | None:
    """A cell's value read with its element's type in mind: counts and flags are whole numbers
    (`parse_whole_number`), percentages may carry «%», other decimals read as `parse_number`."""
    if value_type in ("count", "flag"):
        return parse_whole_number(raw)
    return parse_number(raw, percent=value_type == "percent")


def format_vn(value: float | None, decimals: int = 1) -> str:
    """1234.5 -> '1.234,5' (integers without decimals)."""
    if value is None:
        return ""
    return fmt_number(value, None if float(value).is_integer() else decimals)
