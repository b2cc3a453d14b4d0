"""notifications.render: messages as data (`.to_dict()` output), escaping, limits, languages."""
# ruff: noqa: F811  (pytest fixtures imported from tests.slack_fixtures are test arguments)

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from slack_sdk import WebClient

from notifications import render
from notifications.render import Message, escape, fmt_date, fmt_number
from tests.slack_fixtures import slack_server  # noqa: F401

DEADLINE = date(2026, 7, 10)
UNIT = {
    "unit_code": "LD.24781",
    "unit_name": "Phường Xuân Hương - Đà Lạt",
    "dataset_code": "XA_6T",
    "period": "2026H1",
}
DS_VI = "Báo cáo 6 tháng của xã"


def finding(i: int = 1, severity: str = "error", **kw) -> dict:
    f = {
        "severity": severity,
        "rule_id": "R06",
        "sheet": "ChiTieu",
        "cell": f"D{i}",
        "element_code": "POP_INSURED",
        "element_name": "Số người có thẻ BHYT",
        "value_raw": "12500",
        "message_vi": "Số người có thẻ BHYT không được lớn hơn dân số",
        "message_en": "Insured people cannot exceed the population",
        "expected_vi": "≤ 12.000",
        "expected_en": "≤ 12,000",
    }
    f.update(kw)
    return f


def all_text(msg: Message) -> str:
    return msg.text + "\n" + json.dumps(msg.blocks, ensure_ascii=False)


def texts(msg: Message) -> list[str]:
    out = []
    for b in msg.blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        out += [e["text"] for e in b.get("elements", [])]
    return out


def test_feedback_rejected_is_exactly_these_blocks():
    msg = render.feedback(
        **UNIT,
        dataset_name=DS_VI,
        status="rejected",
        findings=[
            finding(7, "warning", rule_id="H01", value_raw="9", expected_vi=None),
            finding(5),
        ],
        version=2,
        deadline=DEADLINE,
    )
    assert msg.blocks == [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": ":x: Báo cáo bị từ chối", "emoji": True},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "verbatim": True,
                "text": "*Đơn vị:* Phường Xuân Hương - Đà Lạt (LD.24781)\n"
                "*Báo cáo:* Báo cáo 6 tháng của xã (XA_6T)\n"
                "*Kỳ báo cáo:* 6 tháng đầu năm 2026 (2026H1)\n"
                "*Lần gửi:* 2 · *Lỗi:* 1 · *Cảnh báo:* 1",
            },
        },
        {"type": "divider"},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "verbatim": True,
                "text": "*Lỗi cần sửa*\n"
                ":x: `R06` trang «ChiTieu», ô D5 — *POP_INSURED* Số người có thẻ BHYT: "
                "Số người có thẻ BHYT không được lớn hơn dân số (giá trị: “12500”) → cần: ≤ 12.000",
            },
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "verbatim": True,
                "text": "*Cảnh báo cần kiểm tra*\n"
                ":warning: `H01` trang «ChiTieu», ô D7 — *POP_INSURED* Số người có thẻ BHYT: "
                "Số người có thẻ BHYT không được lớn hơn dân số (giá trị: “9”)",
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "verbatim": True,
                    "text": "Báo cáo chưa được đưa vào tổng hợp. Vui lòng sửa các lỗi và gửi lại "
                    "trước hạn 10/07/2026.",
                }
            ],
        },
    ]
    assert msg.text == (
        "[baocao] Báo cáo bị từ chối: XA_6T 2026H1, Phường Xuân Hương - Đà Lạt (LD.24781) — 1 lỗi, 1 cảnh báo."
    )


def test_feedback_accepted_has_no_findings_section():
    msg = render.feedback(**UNIT, dataset_name=None, status="accepted")
    assert msg.blocks[0]["text"]["text"] == ":white_check_mark: Báo cáo đã được tiếp nhận"
    assert [b["type"] for b in msg.blocks] == ["header", "section"]


def test_feedback_unknown_status_is_refused():
    with pytest.raises(ValueError):
        render.feedback(**UNIT, dataset_name=None, status="ok")


HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0123ABCD>",
    "<#C0123ABCD>",
    "<https://evil.example/phish|Bấm vào đây>",
    "@channel",
    "@here hello",
    "a & b",
    "<!subteam^S123>",
]


@pytest.mark.parametrize("bad", HOSTILE)
def test_escape_neutralises_mentions_and_links(bad):
    s = escape(bad)
    assert "<" not in s and ">" not in s
    assert "@channel" not in s.lower() and "@here" not in s.lower() and "@everyone" not in s.lower()
    assert "https://" not in s
    # & only as the start of an entity
    assert all(part.split(";")[0] in ("amp", "lt", "gt") for part in s.split("&")[1:])


def test_escape_follows_slack_rules_for_plain_text():
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape("Phường Xuân Hương - Đà Lạt") == "Phường Xuân Hương - Đà Lạt"
    assert escape(None) == ""


def test_unit_supplied_text_is_escaped_everywhere():
    bad = "<!channel> @here <https://evil.example|x> & <@U999>"
    msg = render.feedback(
        unit_code="LD.24781",
        unit_name=f"Xã {bad}",
        dataset_code="XA_6T",
        dataset_name=f"DS {bad}",
        period="2026H1",
        status="rejected",
        findings=[
            finding(
                sheet=bad,
                cell=bad,
                element_name=bad,
                value_raw=bad,
                message_vi=bad,
                expected_vi=bad,
            )
        ],
        full_list=f"/srv/baocao/{bad}.xlsx",
    )
    everything = "\n".join(texts(msg)) + "\n" + msg.text
    for forbidden in ("<!", "<@", "<http", "@here", "@channel", "https://"):
        assert forbidden not in everything
    assert "&lt;!channel&gt;" in everything
    # and every mrkdwn object that carries it is verbatim (no auto-linking)
    for b in msg.blocks:
        for obj in [b.get("text")] + b.get("elements", []):
            if obj and obj["type"] == "mrkdwn":
                assert obj["verbatim"] is True


def test_top_findings_errors_first_then_and_n_more_with_full_list():
    findings = [finding(i, "warning") for i in range(5)] + [finding(100 + i) for i in range(20)]
    msg = render.feedback(
        **UNIT,
        dataset_name=DS_VI,
        status="rejected",
        findings=findings,
        full_list="/srv/baocao/ket_qua/LD.24781_2026H1_v3.xlsx",
        max_findings=10,
    )
    body = "\n".join(texts(msg))
    assert body.count(":x:") == 10 + 1  # ten errors shown (+ the header's emoji)
    assert ":warning: `R06`" not in body  # errors fill the top ten
    more = msg.blocks[-2]["elements"][0]["text"]
    assert (
        more == "… và 15 lỗi khác. Danh sách đầy đủ: `/srv/baocao/ket_qua/LD.24781_2026H1_v3.xlsx`"
    )


def test_and_n_more_counts_warnings_as_warnings_and_links_render_as_links():
    findings = [finding(i, "warning") for i in range(12)]
    msg = render.feedback(
        **UNIT,
        dataset_name=DS_VI,
        status="accepted_with_warnings",
        findings=findings,
        full_list="https://baocao.example.vn/r?id=1&lang=vi",
        max_findings=10,
    )
    more = msg.blocks[-2]["elements"][0]["text"]
    assert (
        more
        == "… và 2 cảnh báo khác. Danh sách đầy đủ: <https://baocao.example.vn/r?id=1&amp;lang=vi|mở>"
    )


def test_500_long_findings_stay_within_slack_limits(slack_server):
    findings = [finding(i, message_vi="Giá trị không hợp lệ " * 30) for i in range(480)]
    findings += [finding(i, "warning") for i in range(20)]
    msg = render.feedback(
        **UNIT,
        dataset_name=DS_VI,
        status="rejected",
        findings=findings,
        full_list="/srv/x.xlsx",
        max_findings=500,
    )
    assert len(msg.blocks) <= 50
    for b in msg.blocks:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= 3000
        if b["type"] == "header":
            assert len(b["text"]["text"]) <= 150
    body = "\n".join(texts(msg))
    shown = body.count(":x: `R06`") + body.count(":warning: `R06`")
    more = [t for t in texts(msg) if t.startswith("… và ")]
    assert more == [f"… và {500 - shown} lỗi khác. Danh sách đầy đủ: `/srv/x.xlsx`"]
    assert 0 < shown < 500
    # Slack (our local one, which enforces the same limits) accepts it
    client = WebClient(token=slack_server.token, base_url=slack_server.url)
    assert client.chat_postMessage(channel="bc-ld-24781", text=msg.text, blocks=msg.blocks)["ok"]


def test_english_per_recipient():
    msg = render.feedback(
        **UNIT,
        dataset_name="Commune six-monthly health report",
        status="rejected",
        findings=[finding(i) for i in range(12)],
        full_list="/srv/x.xlsx",
        deadline=DEADLINE,
        lang="en",
    )
    body = "\n".join(texts(msg))
    assert msg.blocks[0]["text"]["text"] == ":x: Report rejected"
    assert "first half of 2026" in body
    assert "Insured people cannot exceed the population" in body
    assert "Số người có thẻ BHYT không được" not in body
    assert msg.blocks[-2]["elements"][0]["text"] == "… and 2 more. Full list: `/srv/x.xlsx`"
    assert "before 10/07/2026" in body
    assert msg.text.startswith("[baocao] Report rejected: XA_6T 2026H1")


def test_vietnamese_is_the_default_and_unknown_languages_fall_back_to_it():
    a = render.reminder(**UNIT, dataset_name=DS_VI, deadline=DEADLINE, days_left=7)
    b = render.reminder(**UNIT, dataset_name=DS_VI, deadline=DEADLINE, days_left=7, lang="fr")
    assert a == b
    assert a.blocks[0]["text"]["text"] == ":alarm_clock: Nhắc hạn nộp báo cáo"


def test_number_and_date_formats():
    assert fmt_number(1234.5) == "1.234,5"
    assert fmt_number(1234.5, "en") == "1,234.5"
    assert fmt_number(1234567) == "1.234.567"
    assert fmt_number(0.125) == "0,13"
    assert fmt_number(3, decimals=1) == "3,0"
    assert fmt_number(None) == "—"
    assert fmt_date(date(2026, 7, 10)) == "10/07/2026"
    # 20:00 UTC on the 9th is already the 10th in Vietnam
    assert fmt_date(datetime(2026, 7, 9, 20, 0, tzinfo=UTC)) == "10/07/2026"


def test_cycle_opened_points_to_the_attached_form_not_a_command():
    msg = render.cycle_opened(**UNIT, dataset_name=DS_VI, deadline=DEADLINE)
    assert msg.blocks[0]["text"]["text"] == ":mega: Mở kỳ báo cáo 6 tháng đầu năm 2026"
    hint = msg.blocks[2]["text"]["text"]
    assert hint == "Biểu mẫu của đơn vị: đề nghị cán bộ phụ trách báo cáo của tỉnh gửi cho đơn vị."
    attached = render.cycle_opened(**UNIT, dataset_name=DS_VI, deadline=DEADLINE, form_in_thread=True)
    hint = attached.blocks[2]["text"]["text"]
    assert "biểu mẫu" in hint.lower() and "luồng" in hint
    for m in (msg, attached):
        assert "baocao template" not in str(m.blocks) and "```" not in str(m.blocks)
    assert "*Hạn nộp:* 10/07/2026" in msg.blocks[1]["text"]["text"]


def test_reminder_days_left_and_deadline():
    msg = render.reminder(**UNIT, dataset_name=DS_VI, deadline=DEADLINE, days_left=7)
    assert msg.blocks[1]["text"]["text"].startswith(
        "Còn *7 ngày* đến hạn nộp (10/07/2026). Hệ thống chưa nhận được báo cáo của đơn vị."
    )
    again = render.reminder(
        **UNIT, dataset_name=DS_VI, deadline=DEADLINE, days_left=1, received=True
    )
    assert "Báo cáo đã gửi chưa được tiếp nhận" in again.blocks[1]["text"]["text"]
    en = render.reminder(**UNIT, dataset_name=None, deadline=DEADLINE, days_left=1, lang="en")
    assert en.blocks[1]["text"]["text"].startswith("*1 day* left until the deadline (10/07/2026).")


def test_overdue_and_escalation():
    late = render.overdue(**UNIT, dataset_name=DS_VI, deadline=DEADLINE, days_late=2)
    assert late.blocks[0]["text"]["text"] == ":rotating_light: Báo cáo quá hạn"
    assert "đã quá hạn *2 ngày*" in late.blocks[1]["text"]["text"]
    esc = render.escalation(
        **UNIT,
        dataset_name=DS_VI,
        deadline=DEADLINE,
        days_late=4,
        audience="operator",
        supervisor_name="Sở Y tế",
    )
    body = esc.blocks[1]["text"]["text"]
    assert body.startswith(
        "Đơn vị Phường Xuân Hương - Đà Lạt (LD.24781) chưa gửi báo cáo; quá hạn *4 ngày* (hạn 10/07/2026)."
    )
    assert "Đơn vị quản lý: Sở Y tế." in body


def test_operator_summary_counts_and_lists_within_limits():
    units = [(f"LD.{24000 + i}", f"Xã số {i}", "missing") for i in range(1, 125)]
    units[:60] = [(c, n, "accepted") for c, n, _ in units[:60]]
    units[60:65] = [(c, n, "rejected") for c, n, _ in units[60:65]]
    units[65:70] = [(c, n, "accepted_with_warnings") for c, n, _ in units[65:70]]
    msg = render.operator_summary(
        dataset_code="XA_6T", dataset_name=DS_VI, period="2026H1", units=units, deadline=DEADLINE
    )
    assert len(msg.blocks) <= 50
    head = msg.blocks[1]["text"]["text"]
    assert (
        "*Đã tiếp nhận:* 60 · *Tiếp nhận, có cảnh báo:* 5 · *Bị từ chối:* 5 · *Chưa nộp:* 54 · *Tổng:* 124"
        in head
    )
    body = "\n".join(texts(msg))
    assert "*Bị từ chối* (5)\n• Xã số 61 (LD.24061)" in body
    assert "*Chưa nộp* (54)" in body and "• Xã số 124 (LD.24124)" in body
    assert (
        msg.text
        == "[baocao] Tổng hợp XA_6T 2026H1: 65/124 đã tiếp nhận, 5 bị từ chối, 54 chưa nộp."
    )
    few = render.operator_summary(
        dataset_code="XA_6T",
        dataset_name=None,
        period="2026H1",
        units=units,
        max_units=10,
        full_list="/srv/summary.xlsx",
    )
    assert (
        few.blocks[-1]["elements"][0]["text"]
        == "… và 49 đơn vị khác. Danh sách đầy đủ: `/srv/summary.xlsx`"
    )


def test_headers_never_exceed_150_characters():
    msg = render.cycle_opened(**{**UNIT, "period": "x" * 400}, dataset_name=None, deadline=DEADLINE)
    assert len(msg.blocks[0]["text"]["text"]) <= 150


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_message_is_accepted_by_slack(slack_server, lang):
    client = WebClient(token=slack_server.token, base_url=slack_server.url)
    common = dict(**UNIT, dataset_name=DS_VI, deadline=DEADLINE, lang=lang)
    messages = [
        render.cycle_opened(**common),
        render.reminder(**common, days_left=0),
        render.overdue(**common, days_late=1, received=True),
        render.escalation(**common, days_late=3),
        render.feedback(
            **{k: v for k, v in common.items() if k != "deadline"},
            status="accepted_with_warnings",
            findings=[finding(1, "warning")],
        ),
        render.operator_summary(
            dataset_code="XA_6T",
            dataset_name=None,
            period="2026H1",
            units=[("LD.24781", "A", "rejected")],
            lang=lang,
        ),
    ]
    for m in messages:
        assert client.chat_postMessage(channel="bc-operator", text=m.text, blocks=m.blocks)["ok"]
    assert len(slack_server.messages("bc-operator")) == len(messages)
