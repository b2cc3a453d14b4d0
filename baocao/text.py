"""Text helpers every output shares, once: Unicode normalisation, the accent-insensitive key
(`fold`), Vietnamese and English number formats, dates in Vietnam.

Pure functions, no framework. The escapers (one per output kind) live in `baocao.escape`.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NONE = "—"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@functools.lru_cache(maxsize=1 << 16)  # labels, headers and statuses repeat in every file
def fold(text: str) -> str:
    """Case- and accent-insensitive key (đ → d): 'Bảo hiểm  Y TẾ' → 'bao hiem y te'.

    Runs of whitespace (no-break spaces included) count as one space, so `Hoàn  thành` and
    `Hoàn\u00a0thành` match `Hoàn thành`; both Unicode normalisations give the same key."""
    t = unicodedata.normalize("NFD", " ".join(text.split()).casefold()).replace("đ", "d")
    return "".join(c for c in t if unicodedata.category(c) != "Mn")


def fmt_number(value: float | None, decimals: int | None = None, lang: str = "vi") -> str:
    """1234.5 → '1.234,5' (vi) or '1,234.5' (en); None or NaN → '—'. Without `decimals`,
    integers keep none and other values up to 2 (trailing zeros dropped); with `decimals`,
    exactly that many. Halves round up (0.125 → 0,13)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NONE
    d = Decimal(str(value))
    if decimals is None:
        if d == d.to_integral_value():
            s = f"{int(d):,}"
        else:
            s = f"{d.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}".rstrip("0").rstrip(".")
    else:
        s = f"{d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP):,.{decimals}f}"
    if lang == "en":
        return s
    return s.translate(str.maketrans({",": ".", ".": ","}))


def local_date(value: date | datetime) -> date:
    """The calendar date in Vietnam (naive datetimes are taken as local time)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(TZ)
        return value.date()
    return value


def fmt_date(value: date | datetime | None) -> str:
    """dd/mm/yyyy (the date in Vietnam)."""
    if value is None:
        return NONE
    return local_date(value).strftime("%d/%m/%Y")


def fmt_datetime(value: datetime | None, lang: str = "vi") -> str:
    """'HH:MM dd/mm/yyyy' in Vietnam (en: 'YYYY-MM-DD HH:MM')."""
    if value is None:
        return NONE
    if value.tzinfo is not None:
        value = value.astimezone(TZ)
    return value.strftime("%H:%M %d/%m/%Y") if lang == "vi" else value.strftime("%Y-%m-%d %H:%M")
