"""The pages' words, Vietnamese first (official wording), English by the switch."""

from __future__ import annotations

from datetime import datetime

from baocao import calendar
from intake.numbers import format_vn

LANGS = ("vi", "en")

TEXT: dict[str, tuple[str, str]] = {
    # page furniture
    "app": ("Báo cáo y tế định kỳ", "Health-plan reporting"),
    "switch": ("English", "Tiếng Việt"),
    "signout": ("Đăng xuất", "Sign out"),
    "unit_page": ("Báo cáo của đơn vị", "Your unit's reports"),
    "operator_page": ("Theo dõi kỳ báo cáo", "Cycle overview"),
    "nothing_open": ("Hiện không có kỳ báo cáo nào đang mở cho đơn vị.", "No reporting cycle is open for your unit."),
    "deadline": ("Hạn nộp", "Deadline"),
    "days_left": ("còn {n} ngày làm việc", "{n} working days left"),
    "days_late": ("quá hạn {n} ngày", "{n} days past the deadline"),
    "due_today": ("hạn cuối là hôm nay", "due today"),
    "status": ("Tình trạng", "Status"),
    "counting": ("Bản được tính", "Version that counts"),
    "none": ("chưa có", "none yet"),
    "download_blank": ("Tải mẫu biểu trống", "Download the blank form"),
    "download_prefilled": ("Tải mẫu biểu có số liệu kỳ trước (tham khảo)", "Download the form with last period's values"),
    "upload": ("Gửi báo cáo", "Send the report"),
    "upload_hint": ("Kéo thả tệp Excel (.xlsx) hoặc CSV vào đây, hoặc bấm để chọn tệp.",
                    "Drop the Excel (.xlsx) or CSV file here, or tap to choose it."),
    "choose": ("Chọn tệp", "Choose file"),
    "sending": ("Đang gửi…", "Sending…"),
    "checking": ("Đang kiểm tra báo cáo, vui lòng chờ trong giây lát…", "Checking your report, one moment…"),
    "versions": ("Các lần gửi", "Versions sent"),
    "versions_earlier": ("Các lần gửi của những kỳ trước", "Versions sent for earlier periods"),
    "new_decisions": ("Có quyết định mới cần xem — tải lại trang", "New decisions waiting — reload the page"),
    "version": ("Lần", "Version"),
    "received": ("Nhận lúc", "Received"),
    "file": ("Tệp", "File"),
    "result": ("Kết quả", "Result"),
    "errors": ("lỗi", "errors"),
    "warnings": ("cảnh báo", "warnings"),
    "findings": ("Các điểm cần sửa", "What to fix"),
    "no_findings": ("Không có lỗi hay cảnh báo.", "No errors or warnings."),
    "sheet": ("Trang tính", "Sheet"),
    "cell": ("Ô", "Cell"),
    "element": ("Chỉ tiêu", "Element"),
    "value": ("Giá trị", "Value"),
    "problem": ("Vấn đề", "Problem"),
    "would_pass": ("Để đạt", "What would pass"),
    "annotated": ("Tải bản có đánh dấu ô cần sửa", "Download your workbook with the cells to fix marked"),
    "explain": ("Giải thích cảnh báo", "Explain this warning"),
    "explain_save": ("Gửi giải thích", "Send explanation"),
    "explained": ("Đã gửi giải thích", "Explanation sent"),
    "back": ("Quay lại trang đơn vị", "Back to your unit's page"),
    "late_mark": ("nộp muộn", "late"),
    # states
    "accepted": ("Đã tiếp nhận", "Accepted"),
    "accepted_with_warnings": ("Đã tiếp nhận, có cảnh báo", "Accepted with warnings"),
    "accepted_late": ("Đã tiếp nhận (muộn)", "Accepted (late)"),
    "accepted_by_override": ("Đã tiếp nhận theo quyết định của tỉnh", "Accepted by the province's decision"),
    "held": ("Được giữ lại chờ tỉnh quyết định", "Held for the province's decision"),
    "rejected": ("Bị trả lại, cần sửa", "Rejected — please fix"),
    "not_received": ("Chưa nộp", "Not received"),
    "pending": ("Đang kiểm tra", "Being checked"),
    "error": ("Lỗi", "Error"),
    "warning": ("Cảnh báo", "Warning"),
    # operator
    "period": ("Kỳ", "Period"),
    "dataset": ("Báo cáo", "Data set"),
    "expected": ("Phải nộp", "Expected"),
    "accepted_n": ("Đã tiếp nhận", "Accepted"),
    "on_time": ("Đúng hạn", "On time"),
    "late": ("Muộn", "Late"),
    "missing": ("Chưa có", "Missing"),
    "rate": ("Tỷ lệ báo cáo", "Reporting rate"),
    "timeliness": ("Tỷ lệ đúng hạn", "Timeliness"),
    "units": ("Đơn vị", "Units"),
    "unit": ("Đơn vị", "Unit"),
    "show_all": ("Hiện tất cả đơn vị", "Show every unit"),
    "rules": ("Lỗi và cảnh báo theo quy tắc (bản mới nhất của mỗi đơn vị)", "Findings by rule (each unit's latest version)"),
    "rule": ("Quy tắc", "Rule"),
    "count": ("Số lần", "Count"),
    "to_decide": ("Cảnh báo chờ quyết định", "Warnings awaiting a decision"),
    "explanation": ("Giải thích của đơn vị", "Unit's explanation"),
    "accept": ("Chấp nhận", "Accept"),
    "reason": ("Lý do", "Reason"),
    "remind": ("Nhắc", "Remind"),
    "reminded": ("Đã gửi nhắc nhở", "Reminder sent"),
    "accepted_warning": ("Đã chấp nhận cảnh báo", "Warning accepted"),
    "errors_to_decide": ("Lỗi tỉnh có thể chấp nhận (bản mới nhất bị trả lại)",
                         "Errors the province may accept (latest version rejected)"),
    "override": ("Chấp nhận lỗi", "Accept the error"),
    "overridden": ("Đã chấp nhận lỗi; bản báo cáo được tính", "Error accepted; the version now counts"),
    "overridden_partly": ("Đã chấp nhận lỗi; bản báo cáo còn lỗi khác", "Error accepted; the version has other errors"),
    "reason_needed": ("Cần ghi lý do.", "A reason is needed."),
    "plan": ("Kế hoạch", "Plan"),
    "n_targets": ("Số mục tiêu", "Targets"),
    "targets": ("Chỉ tiêu so với mục tiêu kế hoạch", "Indicators against the plans' targets"),
    "target": ("Mục tiêu", "Target"),
    "threshold": ("Ngưỡng", "Threshold"),
    "draft_report": ("Dự thảo báo cáo của tỉnh", "Draft provincial report"),
    "live": ("Tự cập nhật", "Updates itself"),
    "updated": ("Cập nhật lúc", "Updated"),
    "met": ("Đạt", "Met"), "not_met": ("Chưa đạt", "Not met"), "not_yet_due": ("Chưa đến hạn", "Not yet due"),
    "no_data": ("Chưa có số liệu", "No data"),
    "no_baseline": ("Chưa có số liệu gốc", "No baseline"),
    "insufficient_data": ("Chưa đủ số liệu", "Insufficient data"),
    "targets_detail": ("Xem từng mục tiêu (chưa đạt trước)", "Every target (not met first)"),
    "no_snapshot": ("Chưa có dữ liệu đã công bố.", "Nothing published yet."),
    # denials
    "signin_needed": ("Vui lòng mở đường dẫn truy cập được cấp cho đơn vị.", "Please open the access link you were given."),
    "link_invalid": ("Đường dẫn truy cập không hợp lệ, đã hết hạn hoặc đã bị thu hồi. Liên hệ tỉnh để được cấp lại.",
                     "This access link is invalid, expired or revoked. Ask the province for a new one."),
    "operator_only": ("Trang này dành cho cán bộ tỉnh.", "This page is for the provincial operator."),
    "unit_only": ("Chỉ đơn vị mới gửi được báo cáo của mình.", "Only the unit itself can send its report."),
    "other_unit": ("Bạn chỉ xem được báo cáo của đơn vị mình.", "You can only see your own unit's reports."),
    "unknown_unit": ("Không có đơn vị này.", "No such unit."),
    "not_found": ("Không tìm thấy.", "Not found."),
    "csrf": ("Phiên làm việc đã thay đổi; tải lại trang rồi thử lại.", "Your session changed; reload the page and try again."),
    "form_too_large": ("Nội dung gửi quá dài.", "The form is too large."),
    "rate_limited": ("Bạn gửi quá nhiều lần trong thời gian ngắn; vui lòng chờ một phút rồi gửi lại.",
                     "Too many uploads in a short time; wait a minute and send again."),
    "bad_request": ("Yêu cầu không hợp lệ.", "Invalid request."),
    # refusals before storing
    "empty": ("Tệp rỗng (0 byte): hãy chọn lại tệp mẫu biểu đã điền số liệu.", "The file is empty: choose the filled-in form again."),
    "too_large": ("Tệp quá lớn ({size} byte; tối đa {limit} byte): xóa ảnh, trang tính thừa rồi lưu lại.",
                  "The file is too large ({size} bytes; at most {limit}): remove images and extra sheets and save again."),
    "old_excel": ("Tệp Excel cũ (.xls): trong Excel chọn Lưu thành > Sổ làm việc Excel (.xlsx) rồi gửi lại.",
                  "Old Excel file (.xls): in Excel choose Save As > Excel Workbook (.xlsx) and send again."),
    "not_workbook": ("Tệp không phải mẫu biểu Excel (.xlsx) hay CSV: hãy gửi mẫu biểu tải từ trang này.",
                     "The file is not an Excel (.xlsx) or CSV form: send the form downloaded from this page."),
}


def t(lang: str, key: str, **kw) -> str:
    vi, en = TEXT.get(key, (key, key))
    text = en if lang == "en" else vi
    return text.format(**kw) if kw else text


def num(value, lang: str, decimals: int = 1) -> str:
    if value is None:
        return "—"
    if lang == "vi":
        return format_vn(value, decimals)
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.{decimals}f}"


def pct(value, lang: str) -> str:
    return "—" if value is None else f"{num(100 * value, lang, 1)} %"


def when(dt: datetime | None, lang: str) -> str:
    """A time as the officer reads it: Vietnam's clock, day/month/year."""
    if dt is None:
        return ""
    local = dt.astimezone(calendar.TZ)
    return local.strftime("%H:%M %d/%m/%Y") if lang == "vi" else local.strftime("%d %b %Y %H:%M")


def day(dt: datetime | None, lang: str) -> str:
    if dt is None:
        return ""
    local = dt.astimezone(calendar.TZ)
    return local.strftime("%d/%m/%Y") if lang == "vi" else local.strftime("%d %b %Y")
