"""The words baocao shows an operator, in one place (Vietnamese first, English): submission
statuses, a unit's reporting state, target states, units of measure, notification kinds and
states, periods as officials write them, and the command line's headers. The CLI uses these; the
report and the pages can share them.

Pure data and two formatters, no framework. Numbers go through `baocao.text.fmt_number`.
"""

from __future__ import annotations

from baocao.text import NONE, fmt_number

LANGS = ("vi", "en")

# what happened to one version (raw.submission.status and the operator's decisions)
STATUS = {
    "vi": {"accepted": "hợp lệ", "accepted_with_warnings": "hợp lệ, có cảnh báo", "rejected": "bị từ chối",
           "accepted_by_override": "hợp lệ theo quyết định", "held": "đang giữ chờ quyết định",
           "not_received": "chưa nộp", "pending": "đang chờ xử lý"},
    "en": {"accepted": "accepted", "accepted_with_warnings": "accepted with warnings", "rejected": "rejected",
           "accepted_by_override": "accepted by decision", "held": "held for a decision",
           "not_received": "not sent", "pending": "pending"},
}

# a unit's state now in a cycle (the version that counts, else the latest one)
STATE = {
    "vi": {"on_time": "đúng hạn", "late": "trễ hạn", "rejected": "bị từ chối", "not_received": "chưa nộp"},
    "en": {"on_time": "on time", "late": "late", "rejected": "rejected", "not_received": "not sent"},
}

# a target's assessment (marts.target_progress status, or trajectory before the milestone year)
TARGET = {
    "vi": {"met": "đạt", "not_met": "không đạt", "on_track": "đúng tiến độ", "at_risk": "có nguy cơ chậm",
           "off_track": "chậm tiến độ", "no_data": "chưa có số liệu", "no_baseline": "thiếu số liệu gốc",
           "not_yet_due": "chưa đến hạn", "insufficient_data": "chưa đủ số liệu"},
    "en": {"met": "met", "not_met": "not met", "on_track": "on track", "at_risk": "at risk",
           "off_track": "off track", "no_data": "no data", "no_baseline": "no baseline",
           "not_yet_due": "not yet due", "insufficient_data": "insufficient data"},
}

# đơn vị tính (unit of measure) — not to be confused with đơn vị báo cáo (reporting unit)
UOM = {
    "vi": {"pct": "%", "per_10k": "/10.000 dân", "permille": "‰", "years": "tuổi", "cm": "cm", "count": "",
           "vaccines": "vắc xin", "milestone": "", None: ""},
    "en": {"pct": "%", "per_10k": "/10,000 population", "permille": "‰", "years": "years", "cm": "cm",
           "count": "", "vaccines": "vaccines", "milestone": "", None: ""},
}

OUTBOX_STATE = {
    "vi": {"pending": "chờ gửi", "sent": "đã gửi", "failed": "lỗi", "superseded": "không gửi (hết đúng)",
           "digested": "trong bản tổng hợp"},
    "en": {"pending": "pending", "sent": "sent", "failed": "failed", "superseded": "not sent (no longer true)",
           "digested": "in a digest"},
}

KIND = {
    "vi": {"cycle_opened": "mở kỳ", "reminder": "nhắc hạn", "overdue": "quá hạn", "escalation": "báo cấp trên",
           "feedback": "kết quả kiểm tra", "operator_summary": "tóm tắt cho cán bộ tỉnh"},
    "en": {"cycle_opened": "cycle opened", "reminder": "reminder", "overdue": "overdue", "escalation": "escalation",
           "feedback": "feedback", "operator_summary": "operator summary"},
}

# the command line's headers and phrases
WORDS = {
    "vi": {
        "period": "kỳ", "dataset": "báo cáo", "unit": "đơn vị báo cáo", "unit_name": "tên đơn vị",
        "expected": "phải nộp", "received": "đã nhận", "accepted": "hợp lệ", "on_time": "đúng hạn",
        "late": "trễ hạn", "rejected": "bị từ chối", "not_received": "chưa nộp", "rate": "tỷ lệ hợp lệ",
        "timeliness": "tỷ lệ đúng hạn", "state": "tình trạng", "version": "lần", "file": "tệp",
        "received_at": "nhận lúc", "result": "kết quả", "errors": "lỗi", "warnings": "cảnh báo",
        "counts": "được tính", "errors_warnings": "lỗi / c.báo", "yes": "✓", "no": "", "where": "vị trí", "first_finding": "phát hiện đầu tiên",
        "submission": "mã bản nộp", "source": "nguồn", "uom": "đơn vị tính", "value": "giá trị",
        "indicator": "chỉ tiêu", "code": "mã", "plan": "kế hoạch", "target": "mục tiêu", "year": "năm",
        "assessment": "đánh giá", "n_targets": "số mục tiêu", "units_reporting": "đơn vị có số liệu",
        "time": "giờ", "kind": "loại", "to": "người nhận", "tries": "lần gửi", "error": "lỗi, lý do",
        "text": "nội dung",
        "t_completeness": "Tình hình nộp báo cáo — {period}",
        "t_attention": "Đơn vị chưa có bản hợp lệ hoặc có cảnh báo (tình trạng hiện tại)",
        "t_indicators": "Chỉ tiêu cấp tỉnh", "t_key_targets": "Chỉ tiêu chính so với mục tiêu",
        "t_targets": "Mục tiêu theo kế hoạch", "t_process": "Kết quả xử lý từng tệp",
        "t_outbox": "Hộp thư đi", "t_history": "Các lần nộp của {unit}",
        "nothing_pending": "Không có tệp nào đang chờ xử lý.",
        "no_history": "{unit} chưa gửi tệp nào{period}.",
        "processed": "Đã xử lý {n} tệp: {accepted} hợp lệ, {rejected} bị từ chối.",
        "milestone_done": "hoàn thành",
        "all_accepted": "Mọi đơn vị đã có bản hợp lệ, không có cảnh báo.",
    },
    "en": {
        "period": "period", "dataset": "data set", "unit": "reporting unit", "unit_name": "unit name",
        "expected": "expected", "received": "received", "accepted": "accepted", "on_time": "on time",
        "late": "late", "rejected": "rejected", "not_received": "not sent", "rate": "reporting rate",
        "timeliness": "timeliness", "state": "state", "version": "version", "file": "file",
        "received_at": "received", "result": "result", "errors": "errors", "warnings": "warnings",
        "counts": "counts", "errors_warnings": "err. / warn.", "yes": "✓", "no": "", "where": "where", "first_finding": "first finding",
        "submission": "submission", "source": "source", "uom": "unit of measure", "value": "value",
        "indicator": "indicator", "code": "code", "plan": "plan", "target": "target", "year": "year",
        "assessment": "assessment", "n_targets": "targets", "units_reporting": "units with data",
        "time": "time", "kind": "kind", "to": "to", "tries": "tries", "error": "error, reason",
        "text": "text",
        "t_completeness": "Reporting completeness — {period}",
        "t_attention": "Units without an accepted version, or with warnings (state now)",
        "t_indicators": "Province indicators", "t_key_targets": "Key indicators against targets",
        "t_targets": "Targets by plan", "t_process": "What happened to each file",
        "t_outbox": "Outbox", "t_history": "Versions sent by {unit}",
        "nothing_pending": "Nothing pending.",
        "no_history": "{unit} has sent no file{period}.",
        "processed": "Processed {n} files: {accepted} accepted, {rejected} rejected.",
        "milestone_done": "done",
        "all_accepted": "Every unit has an accepted version without warnings.",
    },
}


def lang_of(lang: str | None) -> str:
    return lang if lang in LANGS else "vi"


def word(key: str, lang: str = "vi", **fmt) -> str:
    """A command-line word or phrase (`WORDS`), formatted with `fmt`."""
    text = WORDS[lang_of(lang)].get(key, key)
    return text.format(**fmt) if fmt else text


def label(table: dict, code: str | None, lang: str = "vi") -> str:
    """`code` in one of the tables above (STATUS, STATE, TARGET, UOM, …); an unknown code as it is."""
    return table[lang_of(lang)].get(code, NONE if code is None else str(code))


def period_text(code, lang: str = "vi") -> str:
    """A period (code or calendar.Period) as officials write it: 2026H1 → '6 tháng đầu năm 2026',
    2026 → 'năm 2026'; English 'first half of 2026', 'year 2026'."""
    from baocao import calendar

    p = calendar.parse_period(code) if isinstance(code, str) else code
    return _period_words(p.year, p.half, lang)


def next_period_text(code, lang: str = "vi") -> str:
    """The period after `code`, as officials write it: 2026H1 → '6 tháng cuối năm 2026'."""
    from baocao import calendar

    p = calendar.parse_period(code) if isinstance(code, str) else code
    year, half = (p.year + 1, None) if p.half is None else (p.year, 2) if p.half == 1 else (p.year + 1, 1)
    return _period_words(year, half, lang)


def _period_words(year: int, half: int | None, lang: str) -> str:
    if lang_of(lang) == "en":
        return f"year {year}" if half is None else f"{'first' if half == 1 else 'second'} half of {year}"
    return f"năm {year}" if half is None else f"6 tháng {'đầu' if half == 1 else 'cuối'} năm {year}"


def fmt_pct(share: float | None, lang: str = "vi", decimals: int = 1) -> str:
    """A 0–1 share as a percentage: 0.9429 → '94,3%' (vi), '94.3%' (en)."""
    return NONE if share is None else fmt_number(share * 100, decimals, lang_of(lang)) + "%"


def fmt_value(value: float | None, uom: str | None, lang: str = "vi") -> str:
    """A value with its unit of measure: (9.82, 'per_10k') → '9,82 /10.000 dân'; (94.29, 'pct') → '94,29%'."""
    if value is None:
        return NONE
    suffix = label(UOM, uom, lang)
    num = fmt_number(value, 2, lang_of(lang))
    if not suffix:
        return num
    return num + suffix if suffix in ("%", "‰") else f"{num} {suffix}"
