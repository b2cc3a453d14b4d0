"""A finding: one thing wrong with a submission, located and explained in Vietnamese and English.

Every finding a unit can cause names the sheet and cell (or CSV line), the element, the value as
typed, the rule in plain words and what would pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Finding:
    severity: str            # error | warning
    rule_id: str
    message_vi: str
    message_en: str
    sheet: str | None = None
    cell: str | None = None
    element_code: str | None = None
    element_name: str | None = None
    value_raw: str | None = None
    expected_vi: str | None = None
    expected_en: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def where(self, lang: str = "vi") -> str:
        parts = []
        if self.sheet:
            parts.append(f"{'sheet' if lang == 'en' else 'trang'} «{self.sheet}»")
        if self.cell:
            parts.append(f"{'cell' if lang == 'en' else 'ô'} {self.cell}")
        return ", ".join(parts)

    def line(self, lang: str = "vi") -> str:
        msg = self.message_en if lang == "en" else self.message_vi
        exp = self.expected_en if lang == "en" else self.expected_vi
        head = self.where(lang)
        el = f"{self.element_code} " if self.element_code else ""
        val = f" ({'value' if lang == 'en' else 'giá trị'}: «{self.value_raw}»)" if self.value_raw not in (None, "") else ""
        tail = f" → {exp}" if exp else ""
        return f"{head + ': ' if head else ''}{el}{msg}{val}{tail}"


def error(rule_id: str, vi: str, en: str, **kw) -> Finding:
    return Finding("error", rule_id, vi, en, **kw)


def warning(rule_id: str, vi: str, en: str, **kw) -> Finding:
    return Finding("warning", rule_id, vi, en, **kw)
