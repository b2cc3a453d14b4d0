"""The Slack door's plain parts, without Slack or Prefect: who may send for whom, commands, the
intake call and its audit trail, working days left, what the bot says about hostile names."""

from __future__ import annotations

import base64
import json
import unicodedata
from datetime import UTC, date, datetime

import pytest

import catalog
from slackdoor import access, receive, status, texts
from slackdoor.answer import split_key
from slackdoor.config import DoorConfig
from slackdoor.listener import command_of

CAT = catalog.load()
NAMES = {"C1": "bc-ld-24781", "C2": "bc-operator", "C3": "chat-chung", "C4": "bc-ld-24787"}
EMAILS = {"U1": "baocao.ld-24781@example.vn", "U2": "nguoi.la@example.com", "U3": "BAOCAO.LD-24787@example.vn"}


def decide(channel, user="U1", channel_type="channel"):
    return access.decide(channel_id=channel, channel_type=channel_type, user=user, recipients=CAT.recipients,
                         channel_name=NAMES.get, user_email=EMAILS.get)


def test_the_channel_decides_the_unit():
    assert decide("C1") == access.Decision("LD.24781", None, "bc-ld-24781")
    assert decide("C4", user="U1").unit_code == "LD.24787"  # the channel, not the sender, decides
    assert decide("C2").refusal == access.OPERATOR_CHANNEL and decide("C2").unit_code is None
    assert decide("C3").refusal == access.NO_UNIT and decide("C3").unit_code is None
    assert decide("C9").refusal == access.NO_UNIT  # a channel the bot cannot name


def test_where_to_send_is_the_senders_own_units_channel():
    assert access.channel_of_contact("BAOCAO.LD-24787@example.vn", CAT.recipients) == "bc-ld-24787"
    assert access.channel_of_contact("nguoi.la@example.com", CAT.recipients) is None
    assert access.channel_of_contact(None, CAT.recipients) is None


def test_a_direct_message_speaks_for_the_contacts_unit_only():
    assert decide("D1", user="U1", channel_type="im").unit_code == "LD.24781"
    assert decide("D1", user="U3", channel_type="im").unit_code == "LD.24787"  # e-mails compared case-blind
    assert decide("D2", user="U2", channel_type="im").refusal == access.NOT_A_CONTACT
    assert decide("D3", user="U9", channel_type="im").refusal == access.NOT_A_CONTACT  # no e-mail visible
    shared = {"A": {"emails": "x@y.vn"}, "B": {"emails": "x@y.vn"}}
    d = access.decide(channel_id="D1", channel_type="im", user="U", recipients=shared,
                      channel_name=NAMES.get, user_email=lambda u: "x@y.vn")
    assert d.refusal == access.MANY_UNITS


@pytest.mark.parametrize(("text", "cmd"), [
    ("biểu mẫu", "form"), ("Biểu Mẫu", "form"), ("BIEU MAU", "form"), ("form", "form"), ("mẫu biểu", "form"),
    (unicodedata.normalize("NFD", "biểu mẫu"), "form"), ("<@UBAOCAOBOT> form please", "form"),
    ("trạng thái", "status"), (unicodedata.normalize("NFD", "Trạng thái"), "status"), ("status", "status"),
    ("tình hình", "status"), ("chào cả nhà, tuần sau họp biểu mẫu mới nhé", None), ("", None), ("formula", None),
])
def test_commands_in_both_normalisations(text, cmd):
    assert command_of(text) == cmd


def test_receive_stores_once_under_the_servers_name_with_the_audit_trail(tmp_path):
    store = tmp_path / "store"
    at = datetime(2026, 7, 3, 2, 0, tzinfo=UTC)
    meta = {"user": "U1", "channel": "C1", "ts": "1.000001", "file_id": "F1"}
    hostile = "../../etc/<passwd> báo cáo\u202e.xlsx"
    f, new = receive.receive(store, "LD.24781", b"PK-data", hostile, source="slack", received_at=at, meta=meta)
    assert new and f.path.parent == store / "LD.24781" and ".." not in f.path.name and "<" not in f.path.name
    assert f.received_at == at and f.path.read_bytes() == b"PK-data"
    side = json.loads((store / "LD.24781" / f"{f.submission_id}.json").read_text(encoding="utf-8"))
    # the name as sent is kept whole (bytes); the name shown to people has the bidi override neutralised
    assert base64.b64decode(side["original_name_b64"]).decode("utf-8") == hostile
    assert "\u202e" not in side["original_name"] and side["original_name"].startswith("../../etc/<passwd> báo cáo")
    assert side["meta"] == meta and side["source"] == "slack"
    again, new2 = receive.receive(store, "LD.24781", b"PK-data", "other.xlsx", source="slack",
                                  received_at=datetime(2026, 7, 4, tzinfo=UTC), meta={"ts": "2"})
    assert not new2 and again.submission_id == f.submission_id
    assert sorted(p.name for p in (store / "LD.24781").iterdir()) == sorted([f.path.name, f"{f.submission_id}.json"])
    assert receive.audit(store, "LD.24781", f.submission_id)["meta"]["ts"] == "1.000001"  # the first arrival
    with pytest.raises(ValueError):
        receive.receive(store, "../LD.24781", b"x", "a.xlsx", source="slack", received_at=at)
    assert receive.audit(store, "../x", f.submission_id) is None


def test_working_days_left_skip_weekends_and_holidays():
    assert status.working_days_left(date(2026, 7, 6), date(2026, 7, 10)) == 4  # Mon → Fri
    assert status.working_days_left(date(2026, 7, 10), date(2026, 7, 10)) == 0
    assert status.working_days_left(date(2026, 7, 13), date(2026, 7, 10)) == -1  # Mon after a Fri deadline
    assert status.working_days_left(date(2026, 8, 31), date(2026, 9, 3)) == 1  # National Day 2 Sep (and 1 Sep)


def test_what_the_bot_says_never_turns_a_name_into_markup():
    t = texts.refusal(access.NO_UNIT, file_name="<!channel> @here <http://x|y>.xlsx", channel_name="a<b",
                      unit_channel="bc-ld-24781")
    assert "<!channel>" not in t and "<http" not in t and "@here" not in t
    assert "#bc-ld-24781" in t
    assert "quá lớn" in texts.too_large(file_name="a.xlsx", size=6 * 1048576, limit=5 * 1048576)


def test_config_needs_both_tokens():
    assert DoorConfig.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}) is None
    assert DoorConfig.from_env({"SLACK_APP_TOKEN": "xapp-1"}) is None
    cfg = DoorConfig.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "BAOCAO_SLACK_MAX_BYTES": "100"})
    assert cfg.max_bytes == 100
    with pytest.raises(ValueError):
        DoorConfig.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"})


def test_outbox_keys_split_into_their_parts():
    assert split_key("feedback:2026H1:XA_6T:LD.24781:abc") == ("feedback", "2026H1", "XA_6T", "LD.24781", "abc")
    assert split_key("nonsense") is None
