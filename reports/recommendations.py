"""The units' recommendations (core.narrative, section kien_nghi) grouped by theme: sentences
split, folded (`baocao.text.fold`) and classified by keywords. The units' difficulties (han_che)
are grouped the same way (reports/difficulties.py)."""

from __future__ import annotations

import re
import unicodedata

from baocao.text import fold

THEMES = ("nhan_luc", "co_so_vat_chat", "bhyt", "chuyen_doi_so", "kinh_phi", "dia_ban", "khac")
THEME_NAMES = {
    "vi": {"nhan_luc": "Nhân lực", "co_so_vat_chat": "Cơ sở vật chất, trang thiết bị", "bhyt": "Bảo hiểm y tế",
           "chuyen_doi_so": "Chuyển đổi số", "kinh_phi": "Kinh phí", "dia_ban": "Địa bàn, giao thông",
           "khac": "Khác"},
    "en": {"nhan_luc": "Workforce", "co_so_vat_chat": "Facilities and equipment", "bhyt": "Health insurance",
           "chuyen_doi_so": "Digital transformation", "kinh_phi": "Funding", "dia_ban": "Terrain and transport",
           "khac": "Other"},
}
# Keywords without diacritics (text is folded the same way), matched on word boundaries, so that
# unaccented or OCR'd text classifies like accented text. A sentence goes to the theme with the most
# hits; ties go to the more specific theme (TIE_ORDER: "bố trí ngân sách nâng cấp phần mềm" is
# digital, "hỗ trợ kinh phí sửa chữa trạm" is funding).
THEME_KEYWORDS = {
    "nhan_luc": ("nhan luc", "bac si", "dieu duong", "ho sinh", "y si", "duoc si", "can bo", "vien chuc",
                 "bien che", "dao tao", "tuyen dung", "thu hut", "nhan vien y te", "thieu nguoi", "chuyen mon"),
    "co_so_vat_chat": ("co so vat chat", "trang thiet bi", "thiet bi", "may moc", "sua chua", "xuong cap",
                       "xay dung", "xay moi", "nang cap", "cai tao", "tru so", "phong kham", "sieu am",
                       "xet nghiem", "xe cuu thuong", "giuong benh"),
    "bhyt": ("bhyt", "bao hiem y te", "the bao hiem", "bao hiem xa hoi", "bhxh", "bao phu"),
    "chuyen_doi_so": ("chuyen doi so", "so hoa", "dien tu", "phan mem", "may tinh", "duong truyen", "internet",
                      "cong nghe thong tin", "cntt", "du lieu", "truc tuyen", "ho so suc khoe"),
    "kinh_phi": ("kinh phi", "ngan sach", "von", "tai chinh", "chi phi", "phu cap", "dinh muc chi", "bo tri kinh phi"),
    "dia_ban": ("dia ban rong", "dia hinh", "giao thong", "vung sau", "vung xa", "vung cao", "hai dao", "di lai",
                "mua mua", "sat lo", "lu lut", "thien tai", "dan cu phan tan"),
}
TIE_ORDER = ("bhyt", "chuyen_doi_so", "kinh_phi", "nhan_luc", "co_so_vat_chat", "dia_ban")
_KEYWORD_RE = {t: [re.compile(rf"(?<!\w){re.escape(k)}(?!\w)") for k in kws] for t, kws in THEME_KEYWORDS.items()}


def classify(sentence: str) -> str:
    """The theme of one recommendation sentence (THEMES; 'khac' when no keyword matches)."""
    folded = fold(sentence)
    scores = {t: sum(len(r.findall(folded)) for r in regs) for t, regs in _KEYWORD_RE.items()}
    best = max(TIE_ORDER, key=lambda t: (scores[t], -TIE_ORDER.index(t)))
    return best if scores[best] else "khac"


def sentences(text: str) -> list[str]:
    """Split a recommendation text into sentences (and lines / bullet items)."""
    text = unicodedata.normalize("NFC", text or "")
    parts = re.split(r"(?<=[.!?;])\s+|\n+|^\s*[-•+*]\s+", text, flags=re.MULTILINE)
    out = []
    for p in parts:
        p = re.sub(r"^\s*(?:[-•+*]|\d+[.)])\s*", "", p or "").strip()
        if len(p) > 2:
            out.append(p)
    return out


def group_recommendations(texts: list[dict], split=sentences) -> list[dict]:
    """[{theme, proposals: [{text, units: [(code, name)]}], n_units}] in THEMES order, empty themes left out.
    `split`: a text -> its items (sentences by default)."""
    themes: dict[str, dict[str, dict]] = {t: {} for t in THEMES}
    for row in texts:
        for s in split(row["text"]):
            key = fold(s).rstrip(" .;")
            prop = themes[classify(s)].setdefault(key, {"text": s, "units": []})
            if row["unit_code"] not in [u for u, _ in prop["units"]]:
                prop["units"].append((row["unit_code"], row["unit_name"] or row["unit_code"]))
    out = []
    for t in THEMES:
        props = sorted(themes[t].values(), key=lambda p: (-len(p["units"]), p["text"]))
        if props:
            out.append({"theme": t, "proposals": props,
                        "n_units": len({u for p in props for u, _ in p["units"]})})
    return out

