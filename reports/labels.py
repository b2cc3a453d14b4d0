"""The report's words and how its values read: section labels (vi/en), status and trajectory
names, unit suffixes and decimals, the title, and the formatting of values, rates, times and goals
(numbers through `baocao.text`)."""

from __future__ import annotations

import math

from baocao import calendar
from baocao.labels import TARGET
from baocao.text import fmt_number

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
        "s_difficulties": "V. Hạn chế, khó khăn và nguyên nhân",
        "s_dif_list": "1. Hạn chế, khó khăn", "s_causes": "2. Nguyên nhân",
        "no_difficulties": "Các đơn vị không nêu hạn chế, khó khăn.",
        "no_causes": ("Các đơn vị chưa nêu nguyên nhân; đề nghị bổ sung nguyên nhân khách quan, chủ quan "
                      "khi hoàn thiện báo cáo."),
        "dif_note": "Tổng hợp từ mục «Hạn chế, khó khăn» của {n} đơn vị, nhóm theo vấn đề.",
        "s_recs": "VI. Kiến nghị, đề xuất",
        "s_next": "VII. Phương hướng, nhiệm vụ {next}",
        "next_note": ("Đề xuất từ các chỉ tiêu không đạt, chậm hoặc có nguy cơ chậm tiến độ, các nhiệm vụ quá hạn "
                      "và kiến nghị của các đơn vị; cán bộ tỉnh rà soát, bổ sung."),
        "no_next": "Chưa có nội dung đề xuất.", "basis": "Căn cứ",
        "doc_no": "Số: {dots}/BC-{abbr}", "dated_blank": "{place}, ngày {dots} tháng {dots} năm {y}",
        "recipients_title": "Nơi nhận:",
        "recipients": ["Bộ Y tế (để báo cáo);", "UBND tỉnh (để báo cáo);", "Giám đốc, các Phó Giám đốc Sở;",
                       "Các đơn vị trực thuộc Sở;", "Lưu: VT, KHTC."],
        "sign_for": "KT. GIÁM ĐỐC", "sign_title": "PHÓ GIÁM ĐỐC", "sign_hint": "(Ký, ghi rõ họ tên, đóng dấu)",
        "sheet_difficulties": "Hạn chế, khó khăn", "sheet_next": "Phương hướng",
        "difficulty": "Hạn chế, khó khăn", "cause": "Nguyên nhân", "kind": "Loại", "step": "Nhiệm vụ",
        "units_stated": "Đơn vị nêu",
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
        "s_difficulties": "V. Shortcomings, difficulties and their causes",
        "s_dif_list": "1. Shortcomings and difficulties", "s_causes": "2. Causes",
        "no_difficulties": "No unit reported shortcomings or difficulties.",
        "no_causes": "Units named no causes; add the objective and subjective causes when completing the report.",
        "dif_note": "From the «Shortcomings and difficulties» section of {n} units, grouped by theme.",
        "s_recs": "VI. Recommendations",
        "s_next": "VII. Next steps, {next}",
        "next_note": ("Proposed from targets not met, off track or at risk, overdue tasks and the units' "
                      "recommendations; for the provincial officer to review."),
        "no_next": "Nothing proposed.", "basis": "Basis",
        "doc_no": "No.: {dots}/BC-{abbr}", "dated_blank": "{place}, {dots}/{dots}/{y}",
        "recipients_title": "To:",
        "recipients": ["Ministry of Health (for reporting);", "Provincial People's Committee (for reporting);",
                       "Director and Deputy Directors;", "Units under the Department;", "Archive."],
        "sign_for": "FOR THE DIRECTOR", "sign_title": "DEPUTY DIRECTOR", "sign_hint": "(Signature, full name, seal)",
        "sheet_difficulties": "Difficulties", "sheet_next": "Next steps",
        "difficulty": "Shortcoming or difficulty", "cause": "Cause", "kind": "Kind", "step": "Step",
        "units_stated": "Units",
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

# a target's assessment, as the report's table heads it (baocao/labels.py's words, capitalised)
STATUS = {lang: {k: words[k][:1].upper() + words[k][1:] for k in
                 ("met", "not_met", "not_yet_due", "no_data", "no_baseline", "insufficient_data")}
          for lang, words in TARGET.items()}
TRAJECTORY = {lang: {k: words[k][:1].upper() + words[k][1:] for k in ("on_track", "at_risk", "off_track")}
              for lang, words in TARGET.items()}
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

# ------------------------------------------------------------------------------ formatting


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

