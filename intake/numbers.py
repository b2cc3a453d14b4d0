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


def format_vn(value: float | None, decimals: int = 1) -> str:
    """1234.5 -> '1.234,5' (integers without decimals)."""
    if value is None:
        return ""
    return fmt_number(value, None if float(value).is_integer() else decimals)
