"""The units' difficulties (core.narrative, section han_che) for "Hạn chế, khó khăn và nguyên
nhân": each sentence split into the difficulty and, when the unit gave one, its cause ("…, do …",
"… vì …", "Nguyên nhân: …"), both grouped by theme with the recommendations' classifier.

The split works on the folded text (both Unicode normalisations, with or without accents), so
"Nhân lực còn thiếu do khó tuyển dụng" and "Nhan luc con thieu do kho tuyen dung" read alike."""

from __future__ import annotations

import re
import unicodedata

from baocao.text import fold
from reports.recommendations import group_recommendations, sentences

# A cause marker after at least two words of the difficulty: ", do", " do", " vì", " bởi",
# " nguyên nhân (là|do)", "; nguyên nhân:". Matched on folded text (same length as the original
# apart from case and accents, so the offsets apply to the sentence as written).
_CAUSE = re.compile(r"(?:,\s*|\s+|;\s*)(?:(?:la\s+)?do|vi|boi(?:\s+vi)?|nguyen\s+nhan(?:\s+la|\s+do)?\s*:?)\s+",
                    re.IGNORECASE)
_CAUSE_ONLY = re.compile(r"^\s*nguyen\s+nhan(?:\s+la|\s+do)?\s*:?\s*", re.IGNORECASE)


def split_cause(sentence: str) -> tuple[str, str | None]:
    """("difficulty", "cause") of one sentence; cause None when the unit gave none; difficulty ""
    when the sentence is only a cause ("Nguyên nhân: …")."""
    s = " ".join(unicodedata.normalize("NFC", sentence).split())
    folded = fold(s)
    if len(folded) != len(s):  # a character that folds to several: do not cut at an offset
        return s, None
    m = _CAUSE_ONLY.match(folded)
    if m:
        return "", _tidy(s[m.end():])
    for m in _CAUSE.finditer(folded):
        if len(folded[:m.start()].split()) >= 2 and len(folded[m.end():].split()) >= 2:
            return _tidy(s[:m.start()]), _tidy(s[m.end():])
    return _tidy(s), None


def _tidy(text: str) -> str:
    text = text.strip(" ,;:.-")
    return (text[:1].upper() + text[1:] + ".") if text else ""


def group_difficulties(texts: list[dict]) -> tuple[list[dict], list[dict]]:
    """(difficulties, causes), each [{theme, proposals: [{text, units}], n_units}] like
    `group_recommendations`: the difficulties stated, and the causes the units named."""
    def difficulties(text: str) -> list[str]:
        return [d for d, _ in map(split_cause, sentences(text)) if d]

    def causes(text: str) -> list[str]:
        return [c for _, c in map(split_cause, sentences(text)) if c]

    return group_recommendations(texts, difficulties), group_recommendations(texts, causes)
