"""What the bot says in a unit's thread (Vietnamese first; English for recipients with lang en).

Pure functions returning mrkdwn text. Everything a unit or Slack user supplied (file names,
channel names) goes through `notifications.render.escape` so it is never a mention or a link.
"""

from __future__ import annotations

from datetime import datetime

from notifications.render import escape, fmt_date, fmt_datetime, fmt_number, oneline, period_label
from slackdoor import access


def _t(lang: str, vi: str, en: str) -> str:
    return en if lang == "en" else vi


def _name(value) -> str:
    return escape(oneline(value))[:200]


def refusal(reason: str, *, file_name: str, channel_name: str | None, unit_channel: str | None = None,
            lang: str = "vi") -> str:
    """A file that is not stored: why, and where to send it."""
    f = f"«{_name(file_name)}»"
    where_vi = (f"Vui lòng gửi tệp vào kênh báo cáo của đơn vị mình (ví dụ #{_name(unit_channel)})"
                if unit_channel else "Vui lòng gửi tệp vào kênh báo cáo của đơn vị mình")
    where_en = (f"Please send it in your unit's reporting channel (e.g. #{_name(unit_channel)})"
                if unit_channel else "Please send it in your unit's reporting channel")
    ask_vi = "; nếu đơn vị chưa có kênh, liên hệ cán bộ tỉnh để được thêm vào danh sách."
    ask_en = "; if your unit has none, ask the province to add it to the list."
    if reason == access.OPERATOR_CHANNEL:
        vi = f":no_entry: Tệp {f} chưa được nhận: kênh này là kênh của cán bộ tỉnh, không thuộc đơn vị nào."
        en = f":no_entry: File {f} was not taken: this is the province officers' channel, not a unit's."
    elif reason == access.NOT_A_CONTACT:
        vi = f":no_entry: Tệp {f} chưa được nhận: tài khoản của bạn không có trong danh sách người liên hệ của đơn vị nào."
        en = f":no_entry: File {f} was not taken: your account is not a listed contact of any unit."
    elif reason == access.MANY_UNITS:
        vi = f":no_entry: Tệp {f} chưa được nhận: tài khoản của bạn là người liên hệ của nhiều đơn vị, không rõ gửi cho đơn vị nào."
        en = f":no_entry: File {f} was not taken: your account is a contact of several units, so the unit is unclear."
    else:
        ch = f" #{_name(channel_name)}" if channel_name else ""
        vi = f":no_entry: Tệp {f} chưa được nhận: kênh{ch} không phải kênh báo cáo của đơn vị nào."
        en = f":no_entry: File {f} was not taken: channel{ch} is not any unit's reporting channel."
    return _t(lang, f"{vi} {where_vi}{ask_vi}", f"{en} {where_en}{ask_en}")


def too_large(*, file_name: str, size: int, limit: int, lang: str = "vi") -> str:
    mb, lim = size / 1048576, limit / 1048576
    return _t(
        lang,
        f":no_entry: Tệp «{_name(file_name)}» quá lớn ({fmt_number(round(mb, 1), 'vi')} MB; tối đa "
        f"{fmt_number(round(lim, 1), 'vi')} MB) nên chưa được nhận. Mẫu biểu đã điền chỉ khoảng 20 KB: vui lòng "
        "xóa ảnh, trang tính thừa rồi gửi lại.",
        f":no_entry: File «{_name(file_name)}» is too large ({round(mb, 1)} MB; at most {round(lim, 1)} MB) "
        "and was not taken. A filled form is about 20 KB: remove pictures and extra sheets and send it again.",
    )


def not_downloaded(*, file_name: str, lang: str = "vi") -> str:
    return _t(
        lang,
        f":warning: Chưa tải được tệp «{_name(file_name)}» từ Slack nên chưa nhận. Vui lòng gửi lại sau ít phút;"
        " cán bộ tỉnh đã được báo.",
        f":warning: File «{_name(file_name)}» could not be downloaded from Slack and was not taken. Please send"
        " it again in a few minutes; the province has been told.",
    )


def system_error(*, file_name: str, lang: str = "vi") -> str:
    return _t(
        lang,
        f":warning: Hệ thống gặp lỗi khi xử lý tệp «{_name(file_name)}» (không phải lỗi của đơn vị). Cán bộ tỉnh"
        " đã được báo và sẽ liên hệ với đơn vị.",
        f":warning: The system failed while handling file «{_name(file_name)}» (not your unit's error). The"
        " province has been told and will contact you.",
    )


def duplicate(*, file_name: str, first_received: datetime | None, lang: str = "vi") -> str:
    when = fmt_datetime(first_received) if first_received else "—"
    return _t(
        lang,
        f":information_source: Tệp «{_name(file_name)}» giống hệt bản đơn vị đã gửi lúc {when}; không tính là"
        " lần gửi mới. Kết quả kiểm tra đã trả lời ở luồng của lần gửi đó. Muốn sửa, hãy gửi bản đã sửa.",
        f":information_source: File «{_name(file_name)}» is identical to the one your unit sent at {when}; it"
        " is not a new version. Its result was answered in that file's thread. To correct it, send the"
        " corrected file.",
    )


def form_intro(*, unit_name: str, period: str, dataset_code: str, previous: str | None, lang: str = "vi") -> str:
    prev_vi = f" Cột «Kỳ trước» ghi số liệu đơn vị đã báo cáo kỳ {previous} để tham khảo." if previous else ""
    prev_en = f" The «Kỳ trước» column holds what the unit reported for {previous}, for reference." if previous else ""
    return _t(
        lang,
        f":page_facing_up: Biểu mẫu {escape(dataset_code)} kỳ {period_label(period, 'vi')} của {_name(unit_name)}."
        f"{prev_vi} Điền cột «Giá trị», lưu tệp và gửi lại vào kênh này.",
        f":page_facing_up: Form {escape(dataset_code)} for {period_label(period, 'en')}, {_name(unit_name)}."
        f"{prev_en} Fill in the «Giá trị» column, save, and share the file back in this channel.",
    )


def no_open_cycle(lang: str = "vi") -> str:
    return _t(lang, "Hiện không có kỳ báo cáo nào đang mở cho đơn vị.", "No reporting cycle is open for your unit.")


def help_text(lang: str = "vi") -> str:
    return _t(
        lang,
        "Gửi tệp báo cáo (xlsx) vào kênh này để nộp; gõ «biểu mẫu» để nhận mẫu biểu, «trạng thái» để xem"
        " tình hình báo cáo của đơn vị.",
        "Share your report file (xlsx) in this channel to submit it; write «form» to get the workbook, «status»"
        " to see your unit's reporting state.",
    )


def status_lines(rows: list[dict], *, unit_name: str, lang: str = "vi") -> str:
    """One paragraph per open cycle of the unit (rows from slackdoor.status.unit_state)."""
    if not rows:
        return no_open_cycle(lang)
    out = [_t(lang, f"*Tình hình báo cáo của {_name(unit_name)}*", f"*Reporting state of {_name(unit_name)}*")]
    for r in rows:
        head = f"• *{escape(r['dataset_code'])}* {period_label(r['period'], lang)}"
        if not r["received"]:
            state = _t(lang, "chưa nhận được báo cáo", "not received")
        elif r["accepted"]:
            state = _t(lang, f"đã tiếp nhận (lần gửi {r['accepted_version']})",
                       f"accepted (version {r['accepted_version']})")
            if r["last_status"] == "rejected":
                state += _t(lang, f"; lần gửi {r['last_version']} bị từ chối", f"; version {r['last_version']} rejected")
        else:
            state = _t(lang, f"đã nhận {r['n_versions']} lần, chưa được tiếp nhận",
                       f"received {r['n_versions']} time(s), not accepted")
        if r["last_status"] == "held":  # sent after the close: waits for the province's decision
            state += _t(lang, f"; lần gửi {r['last_version']} được giữ lại chờ tỉnh quyết định",
                        f"; version {r['last_version']} held for the province's decision")
        if r["received"]:
            state += _t(lang, f"; còn {r['n_errors']} lỗi, {r['n_warnings']} cảnh báo ở lần gửi gần nhất",
                        f"; {r['n_errors']} errors, {r['n_warnings']} warnings outstanding in the latest version")
        days = r["working_days_left"]
        if days is None:
            due = ""
        elif days >= 0:
            due = _t(lang, f"hạn nộp {fmt_date(r['deadline_at'])} (còn {days} ngày làm việc)",
                     f"deadline {fmt_date(r['deadline_at'])} ({days} working days left)")
        else:
            due = _t(lang, f"hạn nộp {fmt_date(r['deadline_at'])} (đã quá {-days} ngày làm việc)",
                     f"deadline {fmt_date(r['deadline_at'])} ({-days} working days late)")
        out.append(f"{head}: {state}" + (f"; {due}" if due else "") + ".")
    return "\n".join(out)
