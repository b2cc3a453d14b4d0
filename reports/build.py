"""The draft provincial report for a period, from the marts.

`write_report(con, period, out_dir)` writes the "báo cáo sơ kết 6 tháng" (a half-year) or the
"báo cáo tổng kết năm" (a year) twice: an Excel workbook the operator edits, and a self-contained
HTML page (inline CSS, inline SVG charts drawn here; no script, no external resource) to read and
print. Every figure comes from the marts (marts.target_progress, marts.indicator_value,
marts.reporting_rate, marts.reporting_completeness, marts.task_progress) as stored, so the report
and the snapshot agree; the only other inputs are names from the catalog and the units'
recommendations (core.narrative, section kien_nghi, of the versions that count), which are grouped
by theme with a keyword classifier.

    python -m reports.build --db var/demo/snapshot/baocao.duckdb --period 2026H1 --out var/demo/reports
"""

from __future__ import annotations

import argparse
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from baocao import calendar
from reports import overrides

TEMPLATES = Path(__file__).parent / "templates"

# ------------------------------------------------------------------------------------ labels

LABELS = {
    "vi": {
        "nation": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto": "Độc lập - Tự do - Hạnh phúc",
        "draft": "DỰ THẢO",
        "title_H": "BÁO CÁO SƠ KẾT 6 THÁNG {half} NĂM {year}",
        "title_Y": "BÁO CÁO TỔNG KẾT NĂM {year}",
        "half_1": "ĐẦU", "half_2": "CUỐI",
        "subtitle": "Kết quả thực hiện các chương trình, kế hoạch về bảo vệ, chăm sóc và nâng cao sức khỏe Nhân dân",
        "dated": "{place}, ngày {d:02d} tháng {m:02d} năm {y}",
        "source": ("Số liệu tổng hợp tự động từ kho dữ liệu báo cáo (các bảng marts) lúc {at}; "
                   "dự thảo để cán bộ tỉnh rà soát, bổ sung trước khi ban hành."),
        "summary": "Tóm tắt",
        "s_reporting": "I. Tình hình thu thập báo cáo",
        "s_targets": "II. Kết quả thực hiện các chỉ tiêu so với mục tiêu kế hoạch",
        "s_trends": "III. Diễn biến các chỉ tiêu cấp tỉnh qua các kỳ",
        "s_tasks": "IV. Nhiệm vụ quá hạn",
        "s_recs": "V. Kiến nghị, đề xuất của các đơn vị",
        "dataset": "Báo cáo", "dataset_name": "Tên báo cáo", "expected": "Phải nộp", "received": "Đã nhận",
        "accepted": "Hợp lệ",
        "on_time": "Đúng hạn", "late": "Trễ hạn", "missing": "Thiếu",
        "reporting_rate": "Tỷ lệ báo cáo", "timeliness_rate": "Tỷ lệ đúng hạn", "deadline": "Hạn nộp",
        "unit": "Đơn vị", "unit_code": "Mã đơn vị", "versions": "Số lần gửi", "state": "Tình trạng",
        "first_received": "Nhận lần đầu", "accepted_received": "Nhận bản hợp lệ",
        "units_attention": "Đơn vị chưa nộp, bị từ chối hoặc nộp trễ",
        "all_units": "Toàn bộ đơn vị ({n})",
        "plan": "Kế hoạch", "indicator": "Chỉ tiêu", "target": "Mục tiêu (nguyên văn)", "year": "Mốc",
        "threshold": "Ngưỡng", "value": "Kết quả", "coverage": "Độ bao phủ", "assessment": "Đánh giá",
        "status": "Tình trạng", "trajectory": "Tiến độ",
        "target_counts": "Số mục tiêu theo đánh giá",
        "trend_note": ("Giá trị cấp tỉnh (tổng tử số / tổng mẫu số của các đơn vị có báo cáo hợp lệ); "
                       "điểm đậm là kỳ báo cáo này."),
        "targets_for": "Mục tiêu",
        "task": "Nhiệm vụ", "task_no": "STT", "lead_agency": "Cơ quan chủ trì", "task_deadline": "Thời hạn",
        "reported_status": "Tình trạng báo cáo", "note": "Ghi chú", "no_overdue": "Không có nhiệm vụ quá hạn.",
        "theme": "Nhóm vấn đề", "proposal": "Kiến nghị", "units": "Đơn vị kiến nghị", "n_units": "Số đơn vị",
        "no_recs": "Không có kiến nghị.", "no_data": "Chưa có số liệu cho kỳ này.",
        "sheet_summary": "Tổng hợp", "sheet_targets": "Mục tiêu", "sheet_trends": "Xu hướng",
        "sheet_reporting": "Tình hình báo cáo", "sheet_units": "Đơn vị", "sheet_tasks": "Nhiệm vụ quá hạn",
        "sheet_recs": "Kiến nghị", "period": "Kỳ", "province": "Tỉnh",
        "review_note": "Ghi chú rà soát danh mục (tiếng Anh)", "value_period": "Kỳ số liệu",
        "value_of": "số liệu kỳ {p}",
        "lead_met": ("Trong {n_due} mục tiêu đã đến hạn đánh giá có {met} mục tiêu đạt và {not_met} mục tiêu "
                     "không đạt; trong {n_ahead} mục tiêu chưa đến hạn có {on_track} mục tiêu đúng tiến độ, "
                     "{at_risk} mục tiêu có nguy cơ chậm và {off_track} mục tiêu chậm tiến độ; "
                     "{no_data} mục tiêu chưa có số liệu."),
        "lead_reporting": ("{accepted}/{expected} báo cáo hợp lệ ({rate}), {on_time} báo cáo đúng hạn ({trate}), "
                           "{late} báo cáo trễ hạn; {missing} báo cáo còn thiếu (chưa nộp hoặc bị từ chối)."),
        "lead_tasks": ("{n} lượt nhiệm vụ quá hạn chưa hoàn thành; {n_units} đơn vị có kiến nghị, "
                       "tổng hợp thành {n_recs} nội dung."),
        "legend_on_time": "Đúng hạn", "legend_late": "Trễ hạn", "legend_missing": "Chưa có báo cáo hợp lệ",
        "done": "Hoàn thành", "not_done": "Chưa hoàn thành", "contributing": "đơn vị",
    },
    "en": {
        "nation": "SOCIALIST REPUBLIC OF VIET NAM",
        "motto": "Independence - Freedom - Happiness",
        "draft": "DRAFT",
        "title_H": "SIX-MONTH REVIEW, {half} HALF OF {year}",
        "title_Y": "ANNUAL REVIEW {year}",
        "half_1": "FIRST", "half_2": "SECOND",
        "subtitle": "Implementation of the plans on protecting, caring for and improving the people's health",
        "dated": "{place}, {y}-{m:02d}-{d:02d}",
        "source": ("Figures compiled automatically from the reporting warehouse (marts) at {at}; "
                   "a draft for the provincial officer to review and complete before issuing."),
        "summary": "Summary",
        "s_reporting": "I. Reports received",
        "s_targets": "II. Indicators against plan targets",
        "s_trends": "III. Province indicators across periods",
        "s_tasks": "IV. Overdue tasks",
        "s_recs": "V. Units' recommendations",
        "dataset": "Report", "dataset_name": "Report name", "expected": "Expected", "received": "Received",
        "accepted": "Accepted",
        "on_time": "On time", "late": "Late", "missing": "Missing",
        "reporting_rate": "Reporting rate", "timeliness_rate": "Timeliness", "deadline": "Deadline",
        "unit": "Unit", "unit_code": "Unit code", "versions": "Files sent", "state": "State",
        "first_received": "First received", "accepted_received": "Accepted version received",
        "units_attention": "Units missing, rejected or late",
        "all_units": "All units ({n})",
        "plan": "Plan", "indicator": "Indicator", "target": "Target (as worded)", "year": "By",
        "threshold": "Threshold", "value": "Result", "coverage": "Coverage", "assessment": "Assessment",
        "status": "Status", "trajectory": "Trajectory",
        "target_counts": "Targets by assessment",
        "trend_note": ("Province value (summed numerators over summed denominators of units with an "
                       "accepted report); the bold point is this period."),
        "targets_for": "Targets",
        "task": "Task", "task_no": "No.", "lead_agency": "Lead agency", "task_deadline": "Deadline",
        "reported_status": "Reported status", "note": "Note", "no_overdue": "No overdue task.",
        "theme": "Theme", "proposal": "Recommendation", "units": "Units", "n_units": "Units",
        "no_recs": "No recommendation.", "no_data": "No data for this period yet.",
        "sheet_summary": "Summary", "sheet_targets": "Targets", "sheet_trends": "Trends",
        "sheet_reporting": "Reporting", "sheet_units": "Units", "sheet_tasks": "Overdue tasks",
        "sheet_recs": "Recommendations", "period": "Period", "province": "Province",
        "review_note": "Catalog reviewer's note", "value_period": "Value of period",
        "value_of": "value of {p}",
        "lead_met": ("Of {n_due} targets due, {met} are met and {not_met} not met; of {n_ahead} targets not yet "
                     "due, {on_track} are on track, {at_risk} at risk and {off_track} off track; {no_data} "
                     "targets have no data."),
        "lead_reporting": ("{accepted}/{expected} reports accepted ({rate}), {on_time} on time ({trate}), "
                           "{late} late; {missing} missing (not sent or rejected)."),
        "lead_tasks": "{n} overdue task reports not done; {n_units} units made recommendations, {n_recs} distinct.",
        "legend_on_time": "On time", "legend_late": "Late", "legend_missing": "No accepted report",
        "done": "Done", "not_done": "Not done", "contributing": "units",
    },
}

STATUS = {
    "vi": {"met": "Đạt", "not_met": "Không đạt", "not_yet_due": "Chưa đến hạn", "no_data": "Chưa có số liệu",
           "no_baseline": "Thiếu số liệu gốc", "insufficient_data": "Chưa đủ số liệu"},
    "en": {"met": "Met", "not_met": "Not met", "not_yet_due": "Not yet due", "no_data": "No data",
           "no_baseline": "No baseline", "insufficient_data": "Insufficient data"},
}
TRAJECTORY = {
    "vi": {"on_track": "Đúng tiến độ", "at_risk": "Có nguy cơ chậm", "off_track": "Chậm tiến độ"},
    "en": {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track"},
}
COMPLETENESS = {
    "vi": {"on_time": "Đúng hạn", "late": "Trễ hạn", "rejected": "Bị từ chối", "not_received": "Chưa nộp",
           "missing": "Chưa có bản hợp lệ"},
    "en": {"on_time": "On time", "late": "Late", "rejected": "Rejected", "not_received": "Not received",
           "missing": "No accepted version"},
}
TASK_STATUS = {
    "vi": {"hoan_thanh": "Hoàn thành", "dang_thuc_hien": "Đang thực hiện", "chua_thuc_hien": "Chưa thực hiện",
           "khong_ap_dung": "Không áp dụng", None: "Chưa báo cáo"},
    "en": {"hoan_thanh": "Done", "dang_thuc_hien": "In progress", "chua_thuc_hien": "Not started",
           "khong_ap_dung": "Not applicable", None: "Not reported"},
}
UNIT_SUFFIX = {
    "vi": {"pct": "%", "per_10k": "", "permille": "‰", "years": "tuổi", "cm": "cm", "count": "",
           "vaccines": "vắc xin", "milestone": ""},
    "en": {"pct": "%", "per_10k": "", "permille": "‰", "years": "years", "cm": "cm", "count": "",
           "vaccines": "vaccines", "milestone": ""},
}
# What a chart caption says the unit is (values in tables carry their suffix; per 10,000 is in the name).
UNIT_CAPTION = {
    "vi": {"pct": "%", "per_10k": "trên 10.000 dân", "permille": "‰ trẻ đẻ sống", "years": "tuổi", "cm": "cm",
           "count": "", "vaccines": "vắc xin", "milestone": "1 = hoàn thành"},
    "en": {"pct": "%", "per_10k": "per 10,000 population", "permille": "per 1,000 live births", "years": "years",
           "cm": "cm", "count": "", "vaccines": "vaccines", "milestone": "1 = done"},
}
DECIMALS = {"pct": 2, "per_10k": 2, "permille": 2, "years": 1, "cm": 1, "vaccines": 0, "milestone": 0}

# ------------------------------------------------------------------------ recommendation themes

THEMES = ("nhan_luc", "co_so_vat_chat", "bhyt", "chuyen_doi_so", "kinh_phi", "khac")
THEME_NAMES = {
    "vi": {"nhan_luc": "Nhân lực", "co_so_vat_chat": "Cơ sở vật chất, trang thiết bị", "bhyt": "Bảo hiểm y tế",
           "chuyen_doi_so": "Chuyển đổi số", "kinh_phi": "Kinh phí", "khac": "Khác"},
    "en": {"nhan_luc": "Workforce", "co_so_vat_chat": "Facilities and equipment", "bhyt": "Health insurance",
           "chuyen_doi_so": "Digital transformation", "kinh_phi": "Funding", "khac": "Other"},
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
}
TIE_ORDER = ("bhyt", "chuyen_doi_so", "kinh_phi", "nhan_luc", "co_so_vat_chat")
_KEYWORD_RE = {t: [re.compile(rf"(?<!\w){re.escape(k)}(?!\w)") for k in kws] for t, kws in THEME_KEYWORDS.items()}


def fold(text: str) -> str:
    """Lower case without diacritics (đ → d): 'Bảo hiểm Y TẾ' → 'bao hiem y te'."""
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


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


# ------------------------------------------------------------------------------ formatting


def fmt_number(value: float | None, decimals: int = 2, lang: str = "vi") -> str:
    """1234.5 → '1.234,50' (vi) or '1,234.50' (en); None → '—'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    s = f"{value:,.{decimals}f}"
    return s.replace(",", "\x00").replace(".", ",").replace("\x00", ".") if lang == "vi" else s


def decimals_for(unit: str | None, value: float | None = None) -> int:
    if unit in DECIMALS:
        return DECIMALS[unit]
    return 0 if value is not None and float(value).is_integer() else 2


def fmt_value(value: float | None, unit: str | None, lang: str = "vi") -> str:
    """An indicator value with its unit, as the report shows it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "milestone":
        return LABELS[lang]["done"] if value >= 1 else LABELS[lang]["not_done"]
    text = fmt_number(value, decimals_for(unit, value), lang)
    suffix = UNIT_SUFFIX[lang].get(unit or "", "")
    return f"{text}{'' if suffix in ('', '%', '‰') else ' '}{suffix}" if suffix else text


def fmt_rate(value: float | None, lang: str = "vi") -> str:
    """A 0–1 share as a percentage: 0.9355 → '93,55%'."""
    return "—" if value is None else fmt_number(value * 100, 2, lang) + "%"


def fmt_time(ts, lang: str = "vi") -> str:
    if ts is None:
        return "—"
    ts = ts.astimezone(calendar.TZ)
    return ts.strftime("%d/%m/%Y %H:%M") if lang == "vi" else ts.strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------------- queries


def _rows(con, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _period_end(code: str) -> calendar.Period:
    return calendar.parse_period(code)


@dataclass
class ReportData:
    """Everything the report shows, read once from the warehouse."""
    period: str
    lang: str
    province: dict
    generated_at: datetime
    reporting: list[dict]
    units: list[dict]
    plans: list[dict]
    trends: list[dict]
    overdue: list[dict]
    overdue_tasks: list[dict]
    recommendations: list[dict]
    n_rec_units: int
    counts: dict = field(default_factory=dict)
    overrides: list[dict] = field(default_factory=list)  # errors the operator accepted (reports/overrides.py)


def collect(con, period: str, lang: str = "vi") -> ReportData:
    """Read the marts (and names from the catalog) for the report of `period`."""
    per = calendar.parse_period(period)
    code = per.code
    province = (_rows(con, "select unit_code, name from core.org_unit where unit_type = 'province' "
                           "order by unit_code limit 1") or [{"unit_code": "", "name": ""}])[0]
    name_col = "name_en" if lang == "en" else "name"

    reporting = _rows(con, f"""
        select r.*, d.{name_col} as dataset_name,
               (select min(rc.deadline_at) from marts.reporting_completeness rc where rc.period = r.period
                  and rc.dataset_code = r.dataset_code) as deadline_at
        from marts.reporting_rate r left join core.dataset d using (dataset_code)
        where r.period = ? order by r.dataset_code""", [code])
    units = _rows(con, """
        select rc.*, case when rc.is_on_time then 'on_time' when rc.is_late then 'late'
                          when rc.last_status = 'rejected' then 'rejected'
                          when not rc.is_received then 'not_received' else 'missing' end as state
        from marts.reporting_completeness rc
        where rc.period = ? order by rc.dataset_code, rc.unit_code""", [code])

    plan_rows = _rows(con, """
        select plan_code, title, issuer, issued_on, level from core.plan
        order by case level when 'province' then 0 when 'department' then 1 else 2 end,
                 issued_on desc nulls first, plan_code""")
    targets = _rows(con, f"""
        select tp.*, i.{name_col} as indicator_name
        from marts.target_progress tp left join core.indicator i using (indicator_code)
        where tp.period = ? order by tp.plan_code, tp.target_id""", [code])
    plans = []
    known = {p["plan_code"] for p in plan_rows}
    for p in plan_rows + [{"plan_code": c, "title": c, "issuer": None, "issued_on": None, "level": None}
                          for c in sorted({t["plan_code"] for t in targets} - known)]:
        ts = [t for t in targets if t["plan_code"] == p["plan_code"]]
        if ts:
            plans.append({**p, "targets": ts, "counts": _target_counts(ts)})

    series = _rows(con, f"""
        select iv.indicator_code, iv.period, iv.value, iv.unit, iv.coverage, iv.units_contributing,
               iv.units_expected, i.{name_col} as indicator_name
        from marts.indicator_value iv left join core.indicator i using (indicator_code)
        where iv.level = 'province' order by iv.indicator_code, iv.period""")
    trends = []
    for ind in dict.fromkeys(s["indicator_code"] for s in series):
        pts = sorted((s for s in series if s["indicator_code"] == ind), key=lambda s: _period_end(s["period"]))
        if not any(p["period"] == code for p in pts):
            continue
        goals: dict[tuple, list[str]] = {}
        for t in targets:
            if t["indicator_code"] == ind and t["threshold"] is not None and t["op"] != "milestone":
                key = (t["milestone_year"] or 0, t["op"], t["threshold"], t["low"], t["high"])
                goals.setdefault(key, [])
                if t["plan_code"] not in goals[key]:
                    goals[key].append(t["plan_code"])
        goals = [dict(zip(("year", "op", "threshold", "low", "high"), k, strict=True), plans=v)
                 for k, v in sorted(goals.items(), key=lambda kv: kv[0][:1] + (kv[0][2],))]
        trends.append({"indicator_code": ind, "name": pts[0]["indicator_name"] or ind, "unit": pts[0]["unit"],
                       "points": pts, "goals": goals})

    first_seen = {}
    for p in plans:
        for t in p["targets"]:
            first_seen.setdefault(t["indicator_code"], len(first_seen))
    trends.sort(key=lambda tr: (first_seen.get(tr["indicator_code"], len(first_seen)), tr["indicator_code"]))

    overdue = _rows(con, """
        select tp.*, ou.name as unit_name
        from marts.task_progress tp left join core.org_unit ou using (unit_code)
        where tp.period = ? and tp.is_overdue
        order by tp.plan_code, tp.deadline_date nulls last, tp.task_no, tp.unit_code""", [code])
    grouped: dict[tuple, dict] = {}
    for r in overdue:
        g = grouped.setdefault((r["plan_code"], r["task_no"]), {
            "plan_code": r["plan_code"], "task_no": r["task_no"], "title": r["title"],
            "lead_agency": r["lead_agency"], "deadline_text": r["deadline_text"],
            "deadline_date": r["deadline_date"], "rows": []})
        g["rows"].append(r)

    texts = _rows(con, """
        select cs.unit_code, ou.name as unit_name, n.text
        from core.narrative n
        join core.current_submission cs using (submission_id)
        left join core.org_unit ou on ou.unit_code = cs.unit_code
        where cs.period = ? and n.section = 'kien_nghi' and n.text is not null
        order by cs.unit_code""", [code])
    recs = group_recommendations(texts)

    counts = _target_counts(targets)
    counts.update({k: sum(r[k] for r in reporting) for k in
                   ("expected", "received", "accepted", "on_time", "late", "missing")})
    counts["n_overdue"] = len(overdue)
    return ReportData(period=code, lang=lang, province=province, generated_at=datetime.now(calendar.TZ),
                      reporting=reporting, units=units, plans=plans, trends=trends, overdue=overdue,
                      overdue_tasks=list(grouped.values()), recommendations=recs,
                      n_rec_units=len({t["unit_code"] for t in texts}), counts=counts,
                      overrides=overrides.rows(con, code))


def _target_counts(targets: list[dict]) -> dict:
    c = {k: 0 for k in ("met", "not_met", "not_yet_due", "no_data", "no_baseline", "on_track", "at_risk",
                        "off_track")}
    for t in targets:
        c[t["status"]] = c.get(t["status"], 0) + 1
        if t["trajectory"]:
            c[t["trajectory"]] = c.get(t["trajectory"], 0) + 1
    c["n"] = len(targets)
    c["n_due"] = c["met"] + c["not_met"]
    return c


def group_recommendations(texts: list[dict]) -> list[dict]:
    """[{theme, proposals: [{text, units: [(code, name)]}], n_units}] in THEMES order, empty themes left out."""
    themes: dict[str, dict[str, dict]] = {t: {} for t in THEMES}
    for row in texts:
        for s in sentences(row["text"]):
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


# ------------------------------------------------------------------------------------- SVG


def _svg_text(x, y, text, cls="", anchor="middle") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"'
            + (f' class="{cls}"' if cls else "") + f">{escape(text)}</text>")


def _nice_step(span: float, n: int = 3) -> float:
    raw = span / n if span > 0 else 1.0
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def trend_svg(points: list[dict], current: str, unit: str | None, lang: str = "vi",
              goals: list[dict] | None = None, width: int = 340, height: int = 160) -> Markup:
    """A small line chart of a province indicator across periods: one point per period (marts
    value), labelled; the current period's point is filled; the plans' thresholds are dashed lines.
    The scale starts from round ticks and spans at least a tenth of the values, so that a change in
    the second decimal does not look like a collapse."""
    left, right, top, bottom, inset = 44, 44, 20, 24, 26
    vals = [p["value"] for p in points if p["value"] is not None]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="trend">']
    if not vals:
        parts.append(_svg_text(width / 2, height / 2, "—", "axis"))
        return Markup("".join(parts) + "</svg>")
    lines = sorted({g["threshold"] for g in goals or [] if g["threshold"] is not None and g["op"] != "range"}
                   | {v for g in goals or [] if g["op"] == "range" for v in (g["low"], g["high"]) if v is not None})
    every = vals + lines
    lo, hi = min(every), max(every)
    floor_span = max(abs(v) for v in every) * 0.1 or 1.0
    if hi - lo < floor_span:
        mid = (hi + lo) / 2
        lo, hi = mid - floor_span / 2, mid + floor_span / 2
        if min(every) >= 0 > lo:
            lo, hi = 0.0, hi - lo
    step = _nice_step(hi - lo)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    if hi == lo:
        hi = lo + step
    n = len(points)
    pw, ph = width - left - right - 2 * inset, height - top - bottom

    def x(i: int) -> float:
        return left + inset + (pw / 2 if n == 1 else pw * i / (n - 1))

    def y(v: float) -> float:
        return top + ph * (1 - (v - lo) / (hi - lo))

    tick_d = min(2, max(0, -math.floor(math.log10(step)) + (0 if float(step).is_integer() else 1)))
    k = 0
    while lo + k * step <= hi + step / 1000:
        gv = lo + k * step
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(gv):.1f}" y2="{y(gv):.1f}" class="grid"/>')
        parts.append(_svg_text(left - 5, y(gv) + 3.5, fmt_number(gv, tick_d, lang), "axis", "end"))
        k += 1
    last_label = None
    for v in lines:
        gy = y(v)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}" class="goal"/>')
        if last_label is None or abs(last_label - gy) > 11:
            parts.append(_svg_text(width - right + 4, gy + 3.5, fmt_number(v, decimals_for(unit, v), lang),
                                   "goal-lbl", "start"))
            last_label = gy
    d = decimals_for(unit, vals[0])
    xy = [(x(i), y(p["value"])) for i, p in enumerate(points) if p["value"] is not None]
    if len(xy) > 1:
        parts.append('<polyline class="line" points="' + " ".join(f"{a:.1f},{b:.1f}" for a, b in xy) + '"/>')
    for i, p in enumerate(points):
        is_cur = p["period"] == current
        parts.append(_svg_text(x(i), height - 7, p["period"], "axis cur" if is_cur else "axis"))
        if p["value"] is None:
            continue
        cx, cy = x(i), y(p["value"])
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{4.5 if is_cur else 3.5}" '
                     f'class="{"pt cur" if is_cur else "pt"}" data-period="{escape(p["period"])}"/>')
        above = cy - 8 if cy - 8 > top - 6 else cy + 16
        parts.append(_svg_text(cx, above, fmt_number(p["value"], d, lang), "val cur" if is_cur else "val"))
    return Markup("".join(parts) + "</svg>")


def reporting_svg(reporting: list[dict], lang: str = "vi", width: int = 640) -> Markup:
    """Stacked horizontal bars per data set: on time, late, without an accepted report."""
    L = LABELS[lang]
    row_h, left, right, top = 30, 90, 60, 8
    height = top + row_h * len(reporting) + 34
    pw = width - left - right
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" class="bars">']
    for i, r in enumerate(reporting):
        y0 = top + i * row_h
        parts.append(_svg_text(left - 8, y0 + 17, r["dataset_code"], "axis lbl", "end"))
        x0 = float(left)
        for key, cls in (("on_time", "ok"), ("late", "late"), ("missing", "miss")):
            w = pw * r[key] / r["expected"] if r["expected"] else 0
            if w > 0:
                parts.append(f'<rect x="{x0:.1f}" y="{y0 + 4}" width="{w:.1f}" height="{row_h - 10}" class="{cls}">'
                             f'<title>{escape(L[key])}: {r[key]}</title></rect>')
                if w > 22:
                    parts.append(_svg_text(x0 + w / 2, y0 + 18, str(r[key]), "inbar"))
            x0 += w
        parts.append(_svg_text(width - right + 6, y0 + 18, fmt_rate(r["reporting_rate"], lang), "axis", "start"))
    ly = height - 14
    lx = float(left)
    for key, cls in (("legend_on_time", "ok"), ("legend_late", "late"), ("legend_missing", "miss")):
        parts.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="11" height="11" class="{cls}"/>')
        parts.append(_svg_text(lx + 16, ly, L[key], "axis", "start"))
        lx += 24 + 7.2 * len(L[key])
    return Markup("".join(parts) + "</svg>")


# ------------------------------------------------------------------------------------ title


def title(period: str, lang: str = "vi") -> str:
    per = calendar.parse_period(period)
    L = LABELS[lang]
    if per.kind == "Y":
        return L["title_Y"].format(year=per.year)
    return L["title_H"].format(half=L[f"half_{per.half}"], year=per.year)


def file_stem(period: str) -> str:
    per = calendar.parse_period(period)
    return f"bao-cao-{'tong-ket-nam' if per.kind == 'Y' else 'so-ket-6-thang'}-{per.code}"


OP_SYMBOL = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "eq": "", "about": "≈", "increase": "≥"}


def fmt_goal(g: dict, unit: str | None, lang: str = "vi") -> str:
    """A target threshold for a trend caption: '≥ 32 (2030, CTHD-72-LD)'."""
    if g["op"] == "range" and g["low"] is not None and g["high"] is not None:
        figure = f"{fmt_number(g['low'], decimals_for(unit, g['low']), lang)}–" \
                 f"{fmt_number(g['high'], decimals_for(unit, g['high']), lang)}"
    else:
        figure = (OP_SYMBOL.get(g["op"], "") + " " + fmt_number(g["threshold"], decimals_for(unit, g["threshold"]),
                                                                 lang)).strip()
    return f"{figure} ({g['year'] or '—'}: {', '.join(g['plans'])})"


def target_unit(t: dict) -> str | None:
    """The unit a target's threshold and value are shown in (a milestone reads done / not done)."""
    return "milestone" if t["op"] == "milestone" else t["unit"]


def assessment(t: dict, lang: str = "vi") -> tuple[str, str]:
    """(css class, label) for a target row: the status when due, the trajectory when ahead."""
    if t["status"] == "not_yet_due" and t["trajectory"]:
        return t["trajectory"], TRAJECTORY[lang][t["trajectory"]]
    if t["status"] == "insufficient_data":  # says how much the value rests on
        return "no_data", f"{STATUS[lang]['insufficient_data']} ({fmt_rate(t['coverage'], lang)} {'đơn vị' if lang == 'vi' else 'of units'})"
    label = STATUS[lang].get(t["status"], t["status"])
    if t.get("judged_on") in ("later_data", "earlier_data") and t["status"] in ("met", "not_met"):
        when = {"vi": {"later_data": "sau", "earlier_data": "trước"}, "en": {"later_data": "after", "earlier_data": "before"}}
        label += (f" (theo số liệu {t['value_period']}, {when['vi'][t['judged_on']]} năm mốc)" if lang == "vi"
                  else f" (judged on {t['value_period']} data, {when['en'][t['judged_on']]} the milestone year)")
    return t["status"], label


# ------------------------------------------------------------------------------------- HTML


def render_html(data: ReportData) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    lang = data.lang
    env.filters.update({
        "num": lambda v, d=2: fmt_number(v, d, lang), "rate": lambda v: fmt_rate(v, lang),
        "val": lambda v, u: fmt_value(v, u, lang), "time": lambda v: fmt_time(v, lang),
        "raw": lambda v: "" if v is None else repr(float(v)) if isinstance(v, float) else str(v),
    })
    L = LABELS[lang]
    now = data.generated_at
    c = data.counts
    lead = [
        L["lead_reporting"].format(accepted=c["accepted"], expected=c["expected"], on_time=c["on_time"],
                                   late=c["late"], missing=c["missing"],
                                   rate=fmt_rate(c["accepted"] / c["expected"] if c["expected"] else None, lang),
                                   trate=fmt_rate(c["on_time"] / c["expected"] if c["expected"] else None, lang)),
        L["lead_met"].format(n_ahead=c["not_yet_due"], **c),
        L["lead_tasks"].format(n=c["n_overdue"], n_recs=sum(len(t["proposals"]) for t in data.recommendations),
                               n_units=data.n_rec_units),
    ]
    return env.get_template("report.html.j2").render(
        d=data, L=L, lang=lang, title=title(data.period, lang), lead=lead,
        place=data.province["name"].removeprefix("Tỉnh ").removeprefix("Thành phố "),
        dated=L["dated"].format(place=data.province["name"].removeprefix("Tỉnh ").removeprefix("Thành phố "),
                                d=now.day, m=now.month, y=now.year),
        source=L["source"].format(at=fmt_time(now, lang)),
        status_names=STATUS[lang], trajectory_names=TRAJECTORY[lang], completeness_names=COMPLETENESS[lang],
        task_status_names=TASK_STATUS[lang], theme_names=THEME_NAMES[lang], assessment=assessment,
        reporting_svg=reporting_svg(data.reporting, lang) if data.reporting else "",
        target_unit=target_unit, show_notes=lang != "vi",
        trend_svg=lambda tr: trend_svg(tr["points"], data.period, tr["unit"], lang, tr["goals"]),
        unit_suffix=UNIT_CAPTION[lang], fmt_goal=lambda g, u: fmt_goal(g, u, lang),
        OL=overrides.LABELS[lang], override_cells=lambda r: overrides.cells(r, lang),
    )


# ------------------------------------------------------------------------------------ Excel

HEAD_FONT = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="1F4E79")
TITLE_FONT = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")
STATUS_FILL = {"met": "C6EFCE", "on_track": "C6EFCE", "not_met": "FFC7CE", "off_track": "FFC7CE",
               "at_risk": "FFEB9C", "late": "FFEB9C", "rejected": "FFC7CE", "not_received": "FFC7CE",
               "missing": "FFC7CE"}


def _number_format(unit: str | None, value=None) -> str:
    d = decimals_for(unit, value)
    return "#,##0" if d == 0 else "#,##0." + "0" * d


def _sheet(wb: Workbook, name: str, headers: list[str], widths: list[int], heading: str | None = None):
    ws = wb.create_sheet(name[:31])
    row = 1
    if heading:
        ws.cell(1, 1, heading).font = TITLE_FONT
        row = 3
    for i, (h, w) in enumerate(zip(headers, widths, strict=True), 1):
        c = ws.cell(row, i, h)
        c.font, c.fill, c.alignment = HEAD_FONT, HEAD_FILL, Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = ws.cell(row + 1, 1)
    return ws, row + 1


def write_xlsx(data: ReportData, path: Path) -> Path:
    lang, L = data.lang, LABELS[data.lang]
    wb = Workbook()
    ws = wb.active
    ws.title = L["sheet_summary"]
    ws["A1"] = title(data.period, lang)
    ws["A1"].font = TITLE_FONT
    ws["A2"] = L["subtitle"]
    ws["A3"] = f"{L['draft']} — {L['source'].format(at=fmt_time(data.generated_at, lang))}"
    ws["A3"].font = Font(italic=True, color="C00000")
    ws["A5"], ws["B5"] = L["province"], data.province["name"]
    ws["A6"], ws["B6"] = L["period"], data.period
    r = 8
    ws.cell(r, 1, L["target_counts"]).font = Font(bold=True)
    for key in ("met", "not_met", "on_track", "at_risk", "off_track", "no_data", "no_baseline"):
        r += 1
        ws.cell(r, 1, STATUS[lang].get(key) or TRAJECTORY[lang][key])
        ws.cell(r, 2, data.counts.get(key, 0))
    r += 2
    ws.cell(r, 1, L["s_reporting"]).font = Font(bold=True)
    for key in ("expected", "received", "accepted", "on_time", "late", "missing", "n_overdue"):
        r += 1
        ws.cell(r, 1, L["s_tasks"] if key == "n_overdue" else L[key])
        ws.cell(r, 2, data.counts[key])
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 40

    # targets: one row per plan target (marts.target_progress)
    ws, r = _sheet(wb, L["sheet_targets"], [
        L["plan"], "Mã mục tiêu" if lang == "vi" else "Target id", "Mã chỉ tiêu" if lang == "vi" else "Indicator code",
        L["indicator"], L["target"], L["year"], L["threshold"], L["value"], L["value_period"],
        "Đơn vị tính" if lang == "vi" else "Unit", L["coverage"], L["status"], L["trajectory"], L["assessment"],
        L["review_note"]],
        [13, 16, 24, 36, 50, 7, 10, 10, 9, 10, 10, 16, 16, 18, 50], f"{title(data.period, lang)} — {L['s_targets']}")
    for p in data.plans:
        for t in p["targets"]:
            css, label = assessment(t, lang)
            vals = [t["plan_code"], t["target_id"], t["indicator_code"], t["indicator_name"], t["text"],
                    t["milestone_year"], t["threshold"], t["value"],
                    t.get("value_period") or (data.period if t["value"] is not None else None), t["unit"],
                    t["coverage"],
                    STATUS[lang].get(t["status"], t["status"]),
                    TRAJECTORY[lang].get(t["trajectory"], "") if t["trajectory"] else None, label, t["note"]]
            for i, v in enumerate(vals, 1):
                cell = ws.cell(r, i, v)
                cell.alignment = WRAP
            ws.cell(r, 7).number_format = ws.cell(r, 8).number_format = _number_format(t["unit"], t["value"])
            ws.cell(r, 11).number_format = "0.00%"
            if css in STATUS_FILL:
                ws.cell(r, 14).fill = PatternFill("solid", fgColor=STATUS_FILL[css])
            r += 1

    # trends: one row per indicator, one column per period (marts.indicator_value, province)
    periods = sorted({p["period"] for tr in data.trends for p in tr["points"]}, key=_period_end)
    ws, r = _sheet(wb, L["sheet_trends"], ["Mã chỉ tiêu" if lang == "vi" else "Indicator code", L["indicator"],
                                          "Đơn vị tính" if lang == "vi" else "Unit"] + periods,
                   [28, 50, 10] + [12] * len(periods), f"{L['s_trends']} — {data.province['name']}")
    for tr in data.trends:
        ws.cell(r, 1, tr["indicator_code"])
        ws.cell(r, 2, tr["name"])
        ws.cell(r, 3, UNIT_CAPTION[lang].get(tr["unit"], tr["unit"]))
        by = {p["period"]: p["value"] for p in tr["points"]}
        for j, per in enumerate(periods, 4):
            c = ws.cell(r, j, by.get(per))
            c.number_format = _number_format(tr["unit"], by.get(per))
            if per == data.period:
                c.font = Font(bold=True)
        r += 1

    # reporting rate per data set (marts.reporting_rate)
    ws, r = _sheet(wb, L["sheet_reporting"], [
        L["dataset"], L["dataset_name"], L["deadline"], L["expected"], L["received"], L["accepted"], L["on_time"],
        L["late"], L["missing"], L["reporting_rate"], L["timeliness_rate"]],
        [10, 50, 17, 10, 10, 10, 10, 10, 12, 12, 12], f"{L['s_reporting']} — {data.period}")
    for x in data.reporting:
        vals = [x["dataset_code"], x["dataset_name"], fmt_time(x["deadline_at"], lang), x["expected"], x["received"],
                x["accepted"], x["on_time"], x["late"], x["missing"], x["reporting_rate"], x["timeliness_rate"]]
        for i, v in enumerate(vals, 1):
            ws.cell(r, i, v)
        ws.cell(r, 10).number_format = ws.cell(r, 11).number_format = "0.00%"
        r += 1

    # units (marts.reporting_completeness)
    ws, r = _sheet(wb, L["sheet_units"], [
        L["dataset"], L["unit_code"], L["unit"], L["state"], L["versions"], L["first_received"],
        L["accepted_received"], L["on_time"], L["late"], L["missing"]],
        [10, 12, 36, 18, 10, 17, 17, 10, 10, 10], f"{L['s_reporting']} — {L['unit']}")
    for u in data.units:
        vals = [u["dataset_code"], u["unit_code"], u["unit_name"], COMPLETENESS[lang][u["state"]], u["n_versions"],
                fmt_time(u["first_received_at"], lang), fmt_time(u["accepted_received_at"], lang),
                u["is_on_time"], u["is_late"], u["is_missing"]]
        for i, v in enumerate(vals, 1):
            ws.cell(r, i, v)
        if u["state"] in STATUS_FILL:
            ws.cell(r, 4).fill = PatternFill("solid", fgColor=STATUS_FILL[u["state"]])
        r += 1

    # overdue tasks (marts.task_progress)
    ws, r = _sheet(wb, L["sheet_tasks"], [
        L["plan"], L["task_no"], L["task"], L["lead_agency"], L["task_deadline"], L["unit_code"], L["unit"],
        L["reported_status"], L["note"]], [12, 6, 60, 24, 12, 12, 30, 18, 30], f"{L['s_tasks']} — {data.period}")
    for t in data.overdue:
        vals = [t["plan_code"], t["task_no"], t["title"], t["lead_agency"], t["deadline_text"], t["unit_code"],
                t["unit_name"], TASK_STATUS[lang].get(t["status"], t["status"]), t["note"]]
        for i, v in enumerate(vals, 1):
            ws.cell(r, i, v).alignment = WRAP
        r += 1

    # recommendations by theme
    ws, r = _sheet(wb, L["sheet_recs"], [L["theme"], L["proposal"], L["n_units"], L["units"]],
                   [26, 70, 10, 60], f"{L['s_recs']} — {data.period}")
    for g in data.recommendations:
        for p in g["proposals"]:
            vals = [THEME_NAMES[lang][g["theme"]], p["text"], len(p["units"]), ", ".join(c for c, _ in p["units"])]
            for i, v in enumerate(vals, 1):
                ws.cell(r, i, v).alignment = WRAP
            r += 1
    overrides.add_sheet(wb, data.overrides, lang, _sheet, data.period)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path


# ------------------------------------------------------------------------------------- entry


def write_report(con: duckdb.DuckDBPyConnection, period: str, out_dir: Path, lang: str = "vi") -> tuple[Path, Path]:
    """Write the draft report of `period` into `out_dir`: (workbook path, HTML path)."""
    if lang not in LABELS:
        raise ValueError(f"Ngôn ngữ không hỗ trợ: {lang!r} (vi, en) / unsupported language")
    data = collect(con, period, lang)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(data.period) + ("" if lang == "vi" else f".{lang}")
    xlsx = write_xlsx(data, out_dir / f"{stem}.xlsx")
    html = out_dir / f"{stem}.html"
    tmp = html.with_name(f".{html.name}.tmp")
    tmp.write_text(render_html(data), encoding="utf-8")
    tmp.replace(html)
    return xlsx, html


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write the draft provincial report (xlsx + HTML) for a period.")
    ap.add_argument("--db", type=Path, required=True, help="warehouse file (the published snapshot)")
    ap.add_argument("--period", required=True)
    ap.add_argument("--out", type=Path, default=Path("reports-out"))
    ap.add_argument("--lang", default="vi", choices=sorted(LABELS))
    args = ap.parse_args(argv)
    con = duckdb.connect(str(args.db), read_only=True)
    try:
        for p in write_report(con, args.period, args.out, args.lang):
            print(p)
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
