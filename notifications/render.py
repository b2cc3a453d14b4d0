"""Pure rendering of baocao's Slack messages: (unit, cycle, findings) -> `Message(text, blocks)`.

Every function here is pure: no I/O, no clock, no catalog look-ups. Names come in as arguments.
Blocks are built with `slack_sdk.models.blocks` and returned as plain dicts (`.to_dict()`), so
tests compare data and the outbox stores JSON.

Rules kept here, not left to Slack:
- Slack's limits: at most 50 blocks, section text <= 3000 characters, header <= 150 (slack_sdk
  checks the last two when `.to_dict()` runs; nobody checks the first).
- Everything a unit can influence (unit and element names, values, sheet names, messages, paths)
  goes through `escape()`: `&`, `<`, `>` become entities (Slack's own escaping rules), which
  makes `<!channel>`, `<@U…>` and `<http…|…>` inert; bare `@channel`/`@here`/`@everyone` and URL
  schemes get a zero-width space so nothing mentions anyone or becomes a link. Sections holding
  such text are also sent with `verbatim: true` (no auto-linking).
- Vietnamese by default; English when the recipient's `lang` is "en". Numbers 1.234,5 (vi) or
  1,234.5 (en); dates dd/mm/yyyy in Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from baocao import text
from baocao.escape import slack_text
from baocao.labels import period_text
from baocao.text import fmt_date, fmt_datetime, local_date

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_TEXT = 2000  # context elements: keep well under Slack's limit
MAX_FALLBACK_TEXT = 3000  # the notification / fallback `text`; Slack's hard limit is 40,000
_SECTION_BUDGET = 2900  # leave room for Slack counting characters differently from Python
_LINE_MAX = 700  # one finding / one unit line
_VALUE_MAX = 80  # a value as typed, inside a finding line

STATUSES = ("accepted", "accepted_with_warnings", "accepted_by_override", "held", "rejected")
LANGS = ("vi", "en")
_ZWSP = "\u200b"


@dataclass(frozen=True)
class Message:
    """What chat.postMessage receives: fallback `text` and Block Kit `blocks` (plain dicts)."""

    text: str
    blocks: list[dict]


# ---------------------------------------------------------------------------------------------
# Escaping and formatting
# ---------------------------------------------------------------------------------------------

_MENTION = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_SCHEME = re.compile(r"\b(https?|ftp|mailto|file|slack|tel)(:)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape(value: Any) -> str:
    """Make unit-supplied text safe inside Slack mrkdwn (and the fallback text).

    `&`, `<`, `>` -> `&amp;`, `&lt;`, `&gt;` (so `<!here>`, `<@U123>`, `<http://x|y>` stay text);
    bare `@channel`, `@here`, `@everyone` and URL schemes (`https:`) get a zero-width space.
    """
    return slack_text(value)  # the one Slack escaper (baocao.escape)


def escape_code(value: Any) -> str:
    """`escape()` for text placed inside an inline code span (no backticks, one line)."""
    return escape(oneline(value)).replace("`", "ˋ")


def oneline(value: Any) -> str:
    """Collapse whitespace (newlines included) into single spaces."""
    return " ".join(str(value).split()) if value is not None else ""


def clip(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, ending with "…", never inside an entity."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    amp = cut.rfind("&", max(len(cut) - 6, 0))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def fmt_number(value: float | None, lang: str = "vi", decimals: int | None = None) -> str:
    """`baocao.text.fmt_number` with the language first (as every message builder here calls it)."""
    return text.fmt_number(value, decimals, lang)


_PERIOD = re.compile(r"^(\d{4})(?:[-\s]?H([12]))?$", re.IGNORECASE)


def period_label(period: str, lang: str = "vi") -> str:
    """ "2026H1" -> "6 tháng đầu năm 2026" / "first half of 2026"; "2026" -> "năm 2026"."""
    if not _PERIOD.match(str(period).strip()):
        return escape(period)
    return period_text(str(period).strip(), lang)


def _lang(lang: str | None) -> str:
    return lang if lang in LANGS else "vi"


def _t(lang: str, vi: str, en: str) -> str:
    return en if lang == "en" else vi


# ---------------------------------------------------------------------------------------------
# Block helpers
# ---------------------------------------------------------------------------------------------


def _header(text: str) -> HeaderBlock:
    # Headers carry only our own words (no unit-supplied text): plain_text is not escaped by Slack.
    return HeaderBlock(text=clip(oneline(text), MAX_HEADER_TEXT))


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT), verbatim=True))


def _context(*texts: str) -> ContextBlock:
    return ContextBlock(
        elements=[MarkdownTextObject(text=clip(t, MAX_CONTEXT_TEXT), verbatim=True) for t in texts]
    )


def _pack(heading: str, lines: Sequence[str], max_sections: int) -> tuple[list[SectionBlock], int]:
    """Pack lines into at most `max_sections` sections (each <= the section budget).

    Returns the sections and how many lines fitted (the caller reports the rest)."""
    if max_sections <= 0:
        return [], 0
    sections: list[SectionBlock] = []
    current = heading
    used = 0
    for line in lines:
        line = clip(line, _LINE_MAX)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= _SECTION_BUDGET:
            current = candidate
            used += 1
            continue
        if len(sections) + 1 >= max_sections:
            break
        sections.append(_section(current))
        current = line
        used += 1
    if current and len(sections) < max_sections and (used or heading):
        sections.append(_section(current))
    return sections, used


def _finish(blocks: list[Block], text: str) -> Message:
    if len(blocks) > MAX_BLOCKS:  # builders keep within budget; this is the last guard
        blocks = blocks[: MAX_BLOCKS - 1] + [_context("…")]
    return Message(
        text=clip(oneline(text), MAX_FALLBACK_TEXT), blocks=[b.to_dict() for b in blocks]
    )


def _unit(unit_name: str | None, unit_code: str) -> str:
    if unit_name:
        return f"{escape(oneline(unit_name))} ({escape(unit_code)})"
    return escape(unit_code)


def _dataset(dataset_name: str | None, dataset_code: str) -> str:
    if dataset_name:
        return f"{escape(oneline(dataset_name))} ({escape(dataset_code)})"
    return escape(dataset_code)


def _facts(lang: str, unit: str | None, dataset: str, period: str, deadline: Any) -> str:
    rows = []
    if unit is not None:
        rows.append(f"*{_t(lang, 'Đơn vị', 'Unit')}:* {unit}")
    rows.append(f"*{_t(lang, 'Báo cáo', 'Report')}:* {dataset}")
    rows.append(
        f"*{_t(lang, 'Kỳ báo cáo', 'Period')}:* {period_label(period, lang)} ({escape(period)})"
    )
    if deadline is not None:
        rows.append(f"*{_t(lang, 'Hạn nộp', 'Deadline')}:* {fmt_date(deadline)}")
    return "\n".join(rows)


def _template_hint(lang: str, form_in_thread: bool) -> str:
    """Where the unit's form is; never a command to run. `form_in_thread`: the Slack door is on
    and attaches the unit's pre-filled workbook to this message (slackdoor.answer)."""
    if form_in_thread:
        return _t(
            lang,
            ":paperclip: Biểu mẫu của đơn vị (kèm số liệu kỳ trước để tham khảo) được gửi trong luồng tin nhắn"
            " này; gõ «biểu mẫu» trong kênh để nhận lại. Điền xong, gửi tệp vào kênh này.",
            ":paperclip: Your unit's form (with last period's figures for reference) is in this message's"
            " thread; write «form» in the channel to get it again. When it is filled in, share the file in"
            " this channel.",
        )
    return _t(
        lang,
        "Biểu mẫu của đơn vị: đề nghị cán bộ phụ trách báo cáo của tỉnh gửi cho đơn vị.",
        "Your unit's form: ask the province's reporting officer to send it to you.",
    )


FORM_ACTION = "baocao_form"  # slackdoor.listener answers it with the unit's pre-filled form


def _form_button(lang: str, unit_code: str, period: str) -> ActionsBlock:
    return ActionsBlock(elements=[ButtonElement(
        text=_t(lang, "Gửi lại biểu mẫu", "Send the form again"), action_id=FORM_ACTION,
        value=f"{unit_code}:{period}"[:2000])])


def _full_list(lang: str, full_list: str | None) -> str | None:
    """Where the complete list is: an http(s) link (rendered as a link) or a path (as code)."""
    if not full_list:
        return None
    label = _t(lang, "Danh sách đầy đủ", "Full list")
    s = str(full_list).strip()
    if re.match(r"^https?://\S+$", s):
        url = s.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
        return f"{label}: <{url}|{_t(lang, 'mở', 'open')}>"
    return f"{label}: `{escape_code(s)}`"


def _days(lang: str, n: int) -> str:
    n = abs(int(n))
    return _t(
        lang, f"{fmt_number(n, lang)} ngày", f"{fmt_number(n, lang)} day{'s' if n != 1 else ''}"
    )


# ---------------------------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------------------------


def _finding_dict(f: Any) -> dict:
    if isinstance(f, Mapping):
        return dict(f)
    if hasattr(f, "as_dict"):
        return f.as_dict()
    return dict(vars(f))


def sort_findings(findings: Iterable[Any]) -> list[dict]:
    """Errors first, then warnings; otherwise the order given (stable)."""
    rows = [_finding_dict(f) for f in findings]
    return sorted(rows, key=lambda r: 0 if r.get("severity") == "error" else 1)


def finding_line(f: Mapping[str, Any], lang: str = "vi") -> str:
    """One finding as one mrkdwn line, every field escaped."""
    icon = ":x:" if f.get("severity") == "error" else ":warning:"
    where = []
    if f.get("sheet"):
        where.append(f"{_t(lang, 'trang', 'sheet')} «{escape(oneline(f['sheet']))}»")
    if f.get("cell"):
        where.append(f"{_t(lang, 'ô', 'cell')} {escape(oneline(f['cell']))}")
    element = ""
    if f.get("element_code") or f.get("element_name"):
        code = f"*{escape(oneline(f.get('element_code')))}*" if f.get("element_code") else ""
        name = escape(oneline(f.get("element_name"))) if f.get("element_name") else ""
        element = " ".join(p for p in (code, name) if p)
    msg = f.get("message_en" if lang == "en" else "message_vi") or f.get("message_vi") or ""
    expected = f.get("expected_en" if lang == "en" else "expected_vi")
    parts = [icon]
    if f.get("rule_id"):
        parts.append(f"`{escape_code(f['rule_id'])}`")
    head = ", ".join(where)
    if head:
        parts.append(head + (" —" if element else ":"))
    if element:
        parts.append(element + ":")
    parts.append(escape(oneline(msg)))
    line = " ".join(parts)
    value = f.get("value_raw")
    if value not in (None, ""):
        shown = clip(escape(oneline(value)), _VALUE_MAX)
        line += f" ({_t(lang, 'giá trị', 'value')}: “{shown}”)"
    if expected:
        line += f" → {_t(lang, 'cần', 'expected')}: {escape(oneline(expected))}"
    return line


def _more_line(lang: str, rest: Sequence[Mapping[str, Any]], full_list: str | None) -> str:
    n = len(rest)
    if any(r.get("severity") == "error" for r in rest):
        vi = f"… và {fmt_number(n, 'vi')} lỗi khác"
    else:
        vi = f"… và {fmt_number(n, 'vi')} cảnh báo khác"
    text = _t(lang, vi, f"… and {fmt_number(n, 'en')} more")
    where = _full_list(lang, full_list)
    return f"{text}. {where}" if where else text


# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------


def cycle_opened(
    *,
    unit_code: str,
    unit_name: str | None,
    dataset_code: str,
    dataset_name: str | None,
    period: str,
    deadline: date | datetime,
    form_in_thread: bool = False,
    web_link: str | None = None,
    web_link_until: date | datetime | None = None,
    web_link_at_send: bool = False,
    lang: str = "vi",
) -> Message:
    """The cycle is open: what to report, by when, how to get the blank workbook, and the unit's
    own link to its web page (`web_link`, minted when the message is sent: web/links.py; queued,
    `web_link_at_send` says it will be added; neither: how to get one from the province)."""
    lang = _lang(lang)
    unit = _unit(unit_name, unit_code)
    blocks: list[Block] = [
        _header(
            _t(lang, ":mega: Mở kỳ báo cáo ", ":mega: Reporting cycle open: ")
            + period_label(period, lang)
        ),
        _section(
            _t(
                lang,
                "Kính gửi đơn vị, kỳ báo cáo đã mở. Vui lòng gửi báo cáo trước hạn.",
                "Dear colleagues, the reporting cycle is open. Please submit before the deadline.",
            )
            + "\n"
            + _facts(lang, unit, _dataset(dataset_name, dataset_code), period, deadline)
        ),
        _section(_template_hint(lang, form_in_thread)),
        _section(_web_hint(lang, web_link, web_link_until, web_link_at_send)),
    ]
    text = _t(
        lang,
        f"[baocao] Mở kỳ báo cáo {dataset_code} {period} cho {unit}; hạn nộp {fmt_date(deadline)}.",
        f"[baocao] Cycle {dataset_code} {period} open for {unit}; deadline {fmt_date(deadline)}.",
    )
    if web_link:
        text += _t(lang, f" Trang báo cáo của đơn vị: {web_link}", f" Your unit's web page: {web_link}")
    return _finish(blocks, text)


def _web_hint(lang: str, link: str | None, until: date | datetime | None, at_send: bool) -> str:
    """The unit's own sign-in link (never the operator's), or how to get one."""
    if link:
        safe = link.replace("<", "").replace(">", "").replace("|", "")
        until_txt = fmt_date(until) if until is not None else ""
        return _t(
            lang,
            f":link: Trang báo cáo của đơn vị (tải biểu mẫu, gửi báo cáo, xem kết quả kiểm tra): <{safe}|mở trang>."
            f" Đường dẫn này chỉ dành cho đơn vị, không chuyển cho người khác; hiệu lực đến {until_txt}.",
            f":link: Your unit's web page (download the form, send the report, see the checks): <{safe}|open it>."
            f" This link is for your unit only; do not forward it. Valid until {until_txt}.",
        )
    if at_send:
        return _t(lang, ":link: Đường dẫn riêng vào trang báo cáo của đơn vị được thêm khi gửi tin này.",
                  ":link: Your unit's own link to its web page is added when this message is sent.")
    return _t(
        lang,
        ":link: Muốn gửi báo cáo trên trang web: đề nghị cán bộ phụ trách báo cáo của tỉnh (Sở Y tế) cấp"
        " đường dẫn truy cập riêng cho đơn vị.",
        ":link: To report on the web page: ask the province's reporting officer (Department of Health) for"
        " your unit's own access link.",
    )


def reminder(
    *,
    unit_code: str,
    unit_name: str | None,
    dataset_code: str,
    dataset_name: str | None,
    period: str,
    deadline: date | datetime,
    days_left: int,
    received: bool = False,
    form_in_thread: bool = False,
    lang: str = "vi",
) -> Message:
    """Deadline approaching; `received` = a submission came in but was not accepted."""
    lang = _lang(lang)
    unit = _unit(unit_name, unit_code)
    if days_left <= 0:
        when = _t(lang, "*Hôm nay* là hạn nộp", "The deadline is *today*")
    else:
        when = _t(
            lang,
            f"Còn *{_days(lang, days_left)}* đến hạn nộp",
            f"*{_days(lang, days_left)}* left until the deadline",
        )
    status = (
        _t(
            lang,
            "Báo cáo đã gửi chưa được tiếp nhận (có lỗi). Vui lòng sửa và gửi lại.",
            "The report you sent was not accepted (it has errors). Please correct and resend it.",
        )
        if received
        else _t(
            lang,
            "Hệ thống chưa nhận được báo cáo của đơn vị.",
            "We have not received your report yet.",
        )
    )
    blocks: list[Block] = [
        _header(_t(lang, ":alarm_clock: Nhắc hạn nộp báo cáo", ":alarm_clock: Report due soon")),
        _section(
            f"{when} ({fmt_date(deadline)}). {status}\n"
            + _facts(lang, unit, _dataset(dataset_name, dataset_code), period, deadline)
        ),
        _section(_template_hint(lang, form_in_thread)),
    ]
    text = _t(
        lang,
        f"[baocao] Nhắc hạn: báo cáo {dataset_code} {period} của {unit}, "
        f"hạn {fmt_date(deadline)} (còn {max(days_left, 0)} ngày).",
        f"[baocao] Reminder: report {dataset_code} {period} for {unit} is due "
        f"{fmt_date(deadline)} ({max(days_left, 0)} days left).",
    )
    if form_in_thread:
        blocks.append(_form_button(lang, unit_code, period))
    return _finish(blocks, text)


def overdue(
    *,
    unit_code: str,
    unit_name: str | None,
    dataset_code: str,
    dataset_name: str | None,
    period: str,
    deadline: date | datetime,
    days_late: int,
    received: bool = False,
    form_in_thread: bool = False,
    lang: str = "vi",
) -> Message:
    """The deadline passed without an accepted submission."""
    lang = _lang(lang)
    unit = _unit(unit_name, unit_code)
    late = (
        _t(lang, f"đã quá hạn *{_days(lang, days_late)}*", f"is *{_days(lang, days_late)}* late")
        if days_late > 0
        else _t(lang, "đã quá hạn", "is late")
    )
    what = (
        _t(
            lang,
            f"Báo cáo của đơn vị {late}: bản đã gửi chưa được tiếp nhận. Vui lòng sửa và gửi lại ngay.",
            f"Your report {late}: the version you sent was not accepted. Please correct and resend it now.",
        )
        if received
        else _t(
            lang,
            f"Báo cáo của đơn vị {late} và chưa được gửi. Vui lòng gửi ngay.",
            f"Your report {late} and has not been sent. Please submit it now.",
        )
    )
    blocks: list[Block] = [
        _header(_t(lang, ":rotating_light: Báo cáo quá hạn", ":rotating_light: Report overdue")),
        _section(
            what + "\n" + _facts(lang, unit, _dataset(dataset_name, dataset_code), period, deadline)
        ),
        _section(_template_hint(lang, form_in_thread)),
    ]
    text = _t(
        lang,
        f"[baocao] Quá hạn: báo cáo {dataset_code} {period} của {unit} (hạn {fmt_date(deadline)}).",
        f"[baocao] Overdue: report {dataset_code} {period} for {unit} (deadline {fmt_date(deadline)}).",
    )
    return _finish(blocks, text)


def escalation(
    *,
    unit_code: str,
    unit_name: str | None,
    dataset_code: str,
    dataset_name: str | None,
    period: str,
    deadline: date | datetime,
    days_late: int,
    received: bool = False,
    audience: str = "supervisor",
    supervisor_name: str | None = None,
    lang: str = "vi",
) -> Message:
    """To the late unit's supervisor (audience="supervisor") or the operator ("operator")."""
    lang = _lang(lang)
    unit = _unit(unit_name, unit_code)
    state = (
        _t(lang, "đã gửi nhưng chưa được tiếp nhận (có lỗi)", "sent a report that was not accepted")
        if received
        else _t(lang, "chưa gửi báo cáo", "has not sent its report")
    )
    body = _t(
        lang,
        f"Đơn vị {unit} {state}; quá hạn *{_days(lang, days_late)}* (hạn {fmt_date(deadline)}).",
        f"{unit} {state}; *{_days(lang, days_late)}* past the deadline ({fmt_date(deadline)}).",
    )
    ask = (
        _t(lang, "Đề nghị đơn vị quản lý đôn đốc.", "Please follow up with the unit.")
        if audience == "supervisor"
        else _t(lang, "Đề nghị theo dõi, đôn đốc.", "Please follow up.")
    )
    if audience == "operator" and supervisor_name:
        ask += (
            _t(lang, " Đơn vị quản lý: ", " Supervising unit: ")
            + escape(oneline(supervisor_name))
            + "."
        )
    blocks: list[Block] = [
        _header(_t(lang, ":sos: Đơn vị chậm nộp báo cáo", ":sos: Unit late with its report")),
        _section(
            f"{body} {ask}\n"
            + _facts(lang, unit, _dataset(dataset_name, dataset_code), period, deadline)
        ),
    ]
    text = _t(
        lang,
        f"[baocao] Chậm nộp: {unit} — báo cáo {dataset_code} {period}, quá hạn {days_late} ngày.",
        f"[baocao] Late: {unit} — report {dataset_code} {period}, {days_late} days past the deadline.",
    )
    return _finish(blocks, text)


_STATUS_HEAD = {
    "accepted": (
        ":white_check_mark: Báo cáo đã được tiếp nhận",
        ":white_check_mark: Report accepted",
    ),
    "accepted_with_warnings": (
        ":warning: Báo cáo được tiếp nhận, có cảnh báo",
        ":warning: Report accepted with warnings",
    ),
    "rejected": (":x: Báo cáo bị từ chối", ":x: Report rejected"),
    "accepted_by_override": (":ballot_box_with_check: Báo cáo được tiếp nhận theo quyết định của tỉnh",
                             ":ballot_box_with_check: Report accepted by the province's decision"),
    "held": (":hourglass: Báo cáo được giữ lại chờ tỉnh quyết định", ":hourglass: Report held for the province's decision"),
}


def feedback(
    *,
    unit_code: str,
    unit_name: str | None,
    dataset_code: str,
    dataset_name: str | None,
    period: str,
    status: str,
    findings: Iterable[Any] = (),
    full_list: str | None = None,
    version: int | None = None,
    received_at: datetime | None = None,
    deadline: date | datetime | None = None,
    max_findings: int = 10,
    lang: str = "vi",
    now: datetime | None = None,
) -> Message:
    """The validation result of one submission, with the top findings (errors first).

    `now` (the time the message is sent): once the deadline has passed, a rejection says so and
    asks for the corrected report now instead of "before" a date that is gone."""
    if status not in STATUSES:
        raise ValueError(f"trạng thái không hợp lệ / unknown status: {status!r}")
    lang = _lang(lang)
    unit = _unit(unit_name, unit_code)
    rows = sort_findings(findings)
    n_err = sum(1 for r in rows if r.get("severity") == "error")
    n_warn = len(rows) - n_err
    facts = _facts(lang, unit, _dataset(dataset_name, dataset_code), period, None)
    meta = []
    if version is not None:
        meta.append(f"*{_t(lang, 'Lần gửi', 'Version')}:* {fmt_number(version, lang)}")
    if received_at is not None:
        meta.append(f"*{_t(lang, 'Nhận lúc', 'Received')}:* {fmt_datetime(received_at)}")
    meta.append(f"*{_t(lang, 'Lỗi', 'Errors')}:* {fmt_number(n_err, lang)}")
    meta.append(f"*{_t(lang, 'Cảnh báo', 'Warnings')}:* {fmt_number(n_warn, lang)}")
    blocks: list[Block] = [
        _header(_STATUS_HEAD[status][1 if lang == "en" else 0]),
        _section(facts + "\n" + " · ".join(meta)),
    ]
    # Budget: header, facts, divider, [findings sections], "more" context, next-step context.
    shown = rows[: max(max_findings, 0)]
    if shown:
        blocks.append(DividerBlock())
        room = MAX_BLOCKS - len(blocks) - 2
        errors = [r for r in shown if r.get("severity") == "error"]
        warnings = [r for r in shown if r.get("severity") != "error"]
        used_total = 0
        for group, title in (
            (errors, _t(lang, "*Lỗi cần sửa*", "*Errors to fix*")),
            (warnings, _t(lang, "*Cảnh báo cần kiểm tra*", "*Warnings to check*")),
        ):
            if not group or room <= 0:
                continue
            sections, used = _pack(title, [finding_line(r, lang) for r in group], room)
            blocks.extend(sections)
            room -= len(sections)
            used_total += used
            if used < len(group):
                break
        # the rows actually displayed are a prefix of errors then a prefix of warnings
        n_shown_err = min(len(errors), used_total)
        n_shown_warn = max(used_total - len(errors), 0)
        shown_keys = {id(r) for r in errors[:n_shown_err]} | {
            id(r) for r in warnings[:n_shown_warn]
        }
        rest = [r for r in rows if id(r) not in shown_keys]
    else:
        rest = rows
    if rest:
        blocks.append(_context(_more_line(lang, rest, full_list)))
    elif full_list and rows:
        blocks.append(_context(_full_list(lang, full_list) or ""))
    if status == "rejected":
        step = _t(
            lang,
            "Báo cáo chưa được đưa vào tổng hợp. Vui lòng sửa các lỗi và gửi lại",
            "The report was not loaded. Please fix the errors and send it again",
        )
        if deadline is not None and now is not None and local_date(now) > local_date(deadline):
            step = _t(
                lang,
                f"Báo cáo chưa được đưa vào tổng hợp. Hạn đã qua ngày {fmt_date(deadline)} — "
                "vui lòng sửa các lỗi và gửi lại ngay",
                f"The report was not loaded. The deadline passed on {fmt_date(deadline)} — "
                "please fix the errors and send it again now",
            )
        elif deadline is not None:
            step += _t(lang, f" trước hạn {fmt_date(deadline)}", f" before {fmt_date(deadline)}")
        blocks.append(_context(step + "."))
    elif status == "accepted_with_warnings":
        blocks.append(
            _context(
                _t(
                    lang,
                    "Cảnh báo không chặn việc tiếp nhận; nếu số liệu đúng, vui lòng ghi giải trình, "
                    "nếu sai, vui lòng gửi lại bản đã sửa.",
                    "Warnings do not block acceptance; if the figures are right please explain them, "
                    "otherwise send a corrected version.",
                )
            )
        )
    head = _STATUS_HEAD[status][1 if lang == "en" else 0].split(" ", 1)[1]
    text = _t(
        lang,
        f"[baocao] {head}: {dataset_code} {period}, {unit} — {n_err} lỗi, {n_warn} cảnh báo.",
        f"[baocao] {head}: {dataset_code} {period}, {unit} — {n_err} errors, {n_warn} warnings.",
    )
    return _finish(blocks, text)


_STATUS_LABEL = {
    "accepted": ("Đã tiếp nhận", "Accepted"),
    "accepted_with_warnings": ("Tiếp nhận, có cảnh báo", "Accepted with warnings"),
    "rejected": ("Bị từ chối", "Rejected"),
    "missing": ("Chưa nộp", "Not received"),
}


def operator_summary(
    *,
    dataset_code: str,
    dataset_name: str | None,
    period: str,
    units: Iterable[tuple[str, str | None, str]],
    deadline: date | datetime | None = None,
    as_of: datetime | None = None,
    full_list: str | None = None,
    max_units: int = 200,
    lang: str = "vi",
) -> Message:
    """Counts per status and the rejected / missing units, for the operator's channel.

    `units`: (unit_code, unit_name, status) with status accepted | accepted_with_warnings |
    rejected | missing."""
    lang = _lang(lang)
    rows = list(units)
    counts = {s: 0 for s in _STATUS_LABEL}
    for _, _, st in rows:
        counts[st if st in counts else "missing"] += 1
    total = len(rows)
    summary = (
        " · ".join(
            f"*{_STATUS_LABEL[s][1 if lang == 'en' else 0]}:* {fmt_number(counts[s], lang)}"
            for s in _STATUS_LABEL
        )
        + f" · *{_t(lang, 'Tổng', 'Total')}:* {fmt_number(total, lang)}"
    )
    facts = _facts(lang, None, _dataset(dataset_name, dataset_code), period, deadline)
    if as_of is not None:
        facts += f"\n*{_t(lang, 'Tính đến', 'As of')}:* {fmt_datetime(as_of)}"
    blocks: list[Block] = [
        _header(
            _t(lang, ":bar_chart: Tổng hợp tình hình nộp báo cáo", ":bar_chart: Submission summary")
        ),
        _section(facts + "\n" + summary),
    ]
    rest = 0
    budget = max_units
    for st, title in (
        ("rejected", _t(lang, "*Bị từ chối*", "*Rejected*")),
        ("missing", _t(lang, "*Chưa nộp*", "*Not received*")),
    ):
        lines = [
            f"• {_unit(name, code)}"
            for code, name, s in rows
            if (s if s in counts else "missing") == st
        ]
        if not lines:
            continue
        room = MAX_BLOCKS - len(blocks) - 2
        take = lines[: max(budget, 0)]
        if room <= 1 or not take:
            rest += len(lines)
            continue
        blocks.append(DividerBlock())
        sections, used = _pack(f"{title} ({fmt_number(len(lines), lang)})", take, room - 1)
        blocks.extend(sections)
        budget -= used
        rest += len(lines) - used
    if rest:
        more = _t(
            lang,
            f"… và {fmt_number(rest, lang)} đơn vị khác",
            f"… and {fmt_number(rest, lang)} more units",
        )
        where = _full_list(lang, full_list)
        blocks.append(_context(f"{more}. {where}" if where else more))
    elif full_list:
        blocks.append(_context(_full_list(lang, full_list) or ""))
    text = _t(
        lang,
        f"[baocao] Tổng hợp {dataset_code} {period}: {counts['accepted'] + counts['accepted_with_warnings']}"
        f"/{total} đã tiếp nhận, {counts['rejected']} bị từ chối, {counts['missing']} chưa nộp.",
        f"[baocao] Summary {dataset_code} {period}: {counts['accepted'] + counts['accepted_with_warnings']}"
        f"/{total} accepted, {counts['rejected']} rejected, {counts['missing']} not received.",
    )
    return _finish(blocks, text)


def escalation_digest(
    *,
    items: Sequence[Mapping[str, Any]],
    now: datetime | None = None,
    lang: str = "vi",
) -> Message:
    """One message to the operator for every unit escalated in a delivery pass (a national
    cycle would otherwise post ~1,000 escalations to one channel).

    `items`: mappings with unit_code, unit_name, dataset_code, period, deadline, received,
    supervisor_name (the inputs of the operator escalations it replaces)."""
    lang = _lang(lang)
    today = local_date(now) if now is not None else None
    lines = []
    for it in sorted(items, key=lambda i: (str(i.get("period")), str(i.get("dataset_code")), str(i.get("unit_code")))):
        deadline = it.get("deadline")
        late = (today - local_date(deadline)).days if today is not None and deadline is not None else None
        state = (
            _t(lang, "có bản bị từ chối", "sent a rejected version")
            if it.get("received")
            else _t(lang, "chưa gửi", "nothing sent")
        )
        line = (
            f"• {_unit(it.get('unit_name'), str(it.get('unit_code')))} — {escape(it.get('dataset_code'))} "
            f"{escape(it.get('period'))}: {state}"
        )
        if late is not None:
            line += _t(lang, f", quá hạn {_days(lang, max(late, 0))}", f", {_days(lang, max(late, 0))} late")
        if it.get("supervisor_name"):
            line += _t(lang, "; đơn vị quản lý: ", "; supervisor: ") + escape(oneline(it["supervisor_name"]))
        lines.append(line)
    n = len(lines)
    blocks: list[Block] = [
        _header(_t(lang, ":sos: Đơn vị chậm nộp báo cáo — tổng hợp", ":sos: Units late with their reports — digest")),
        _section(
            _t(
                lang,
                f"*{fmt_number(n, lang)}* đơn vị quá hạn chưa có báo cáo được tiếp nhận. Đề nghị theo dõi, đôn đốc.",
                f"*{fmt_number(n, lang)}* units are past the deadline without an accepted report. Please follow up.",
            )
        ),
    ]
    sections, used = _pack("", lines, MAX_BLOCKS - len(blocks) - 1)
    blocks.extend(sections)
    if used < n:
        blocks.append(
            _context(_t(lang, f"… và {fmt_number(n - used, lang)} đơn vị khác (baocao outbox).",
                        f"… and {fmt_number(n - used, lang)} more units (baocao outbox)."))
        )
    text = _t(
        lang,
        f"[baocao] {n} đơn vị chậm nộp báo cáo (tổng hợp).",
        f"[baocao] {n} units late with their reports (digest).",
    )
    return _finish(blocks, text)
