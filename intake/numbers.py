"""Reading numbers and text as Vietnamese officers type them.

Vietnamese writes 1.234.567,5 (dot for thousands, comma for decimals); spreadsheets set to English
write 1,234,567.5. Both occur in the same province. Text arrives in NFC or NFD (decomposed) form.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_PLAIN = re.compile(r"^[+-]?\d+$")
_VN_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")      # 1.234.567,5
_EN_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3}){2,}(\.\d+)?$")   # 1,234,567.5 (2+ groups)
_EN_THOUSANDS_DEC = re.compile(r"^[+-]?\d{1,3}(,\d{3})+\.\d+$")     # 1,234.5
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")                     # 74,5
_DECIMAL_DOT = re.compile(r"^[+-]?\d+\.\d+$")                      # 74.5 (not 1.234: see above)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Case- and accent-insensitive key for matching labels typed by hand (đ -> d)."""
    t = unicodedata.normalize("NFD", text.strip().casefold()).replace("đ", "d")
    return "".join(c for c in t if unicodedata.category(c) != "Mn")


class NotANumber(ValueError):
    pass


def parse_number(raw: object, percent: bool = False) -> float | None:
    """A cell's value as a number; None when blank. Raises NotANumber for text that is not one.

    Ambiguous `1.234` is read the Vietnamese way (1234); `74.5` (not three digits after the dot)
    as a decimal.
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise NotANumber(str(raw))
    if isinstance(raw, (int, float)):
        return float(raw)
    s = _SPACES.sub("", nfc(str(raw)))
    if s == "":
        return None
    if percent and s.endswith("%"):
        s = s[:-1]
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


def format_vn(value: float | None, decimals: int = 1) -> str:
    """1234.5 -> '1.234,5' (integers without decimals)."""
    if value is None:
        return ""
    if float(value).is_integer():
        s = f"{int(value):,}"
        return s.replace(",", ".")
    s = f"{value:,.{decimals}f}"
    return s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
