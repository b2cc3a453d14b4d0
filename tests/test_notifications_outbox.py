"""notifications.outbox: exactly-once delivery, end to end — real DuckDB file, real slack_sdk
WebClient (inside SlackSender), local Slack server. No mocks."""
# ruff: noqa: F811  (pytest fixtures imported from tests.slack_fixtures are test arguments)

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from notifications.outbox import (
    DispatchReport,
    dispatch,
    enqueue,
    pending_rows,
    recipient_for,
    requeue,
)
from notifications.render import Message
from notifications.sender import (
    EVENT_TYPE,
    SlackSender,
    sender_from_env,
)
from testing.sender import RecordingSender
from tests.slack_fixtures import slack_sender, slack_server, warehouse  # noqa: F401

MSG = Message(
    text="[baocao] thử / test",
    blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "Xin chào"}}],
)


def add(con, unit: str = "LD.24781", recipient: str | None = None, stage: str = "d-7") -> str:
    recipient = recipient or recipient_for(unit).address
    assert enqueue(
        con,
        kind="reminder",
        period="2026H1",
        dataset_code="XA_6T",
        unit_code=unit,
        stage=stage,
        recipient=recipient,
        message=MSG,
    )
    return f"reminder:2026H1:XA_6T:{unit}:{stage}"


def row(con, key: str) -> dict:
    cur = con.execute("select * from ops.outbox where key = ?", [key])
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def test_enqueue_once_per_key(warehouse):
    key = add(warehouse)
    again = enqueue(
        warehouse,
        kind="reminder",
        period="2026H1",
        dataset_code="XA_6T",
        unit_code="LD.24781",
        stage="d-7",
        recipient="bc-other",
        message=Message("other", []),
    )
    assert again is False
    r = row(warehouse, key)
    assert (r["status"], r["attempts"], r["recipient"], r["text"]) == (
        "pending",
        0,
        "bc-ld-24781",
        MSG.text,
    )
    assert warehouse.execute("select count(*) from ops.outbox").fetchone()[0] == 1


def test_dispatch_twice_sends_once(warehouse, slack_server, slack_sender):
    key = add(warehouse)
    first = dispatch(warehouse, slack_sender, now=datetime(2026, 7, 3, 1, tzinfo=UTC))
    second = dispatch(warehouse, slack_sender)
    assert first.sent == [key] and second == DispatchReport()
    msgs = slack_server.messages("bc-ld-24781")
    assert len(msgs) == 1
    assert msgs[0]["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"key": key}}
    assert msgs[0]["blocks"] == MSG.blocks and msgs[0]["text"] == MSG.text
    r = row(warehouse, key)
    assert r["status"] == "sent" and r["slack_ts"] == msgs[0]["ts"]
    assert r["slack_channel"] == slack_server.channel_id("bc-ld-24781")
    assert r["attempts"] == 1 and r["error"] is None
    assert r["sent_at"] == datetime(2026, 7, 3, 1, tzinfo=UTC)


def test_connection_dropped_after_slack_accepted_is_not_resent(
    warehouse, slack_server, slack_sender
):
    key = add(warehouse)
    slack_server.drop_after_accept_next(1)
    first = dispatch(warehouse, slack_sender)
    assert first.pending == {key: "connection_error"} and not first.sent
    assert (row(warehouse, key)["status"], row(warehouse, key)["attempts"]) == ("pending", 1)
    # the answer was lost; once it cannot be in flight any more, the history is searched first
    second = dispatch(warehouse, slack_sender, settle_s=0)
    assert second.recovered == [key] and not second.sent and not second.pending
    msgs = slack_server.messages("bc-ld-24781")
    assert len(msgs) == 1
    assert len(slack_server.calls("chat.postMessage")) == 1
    assert len(slack_server.calls("conversations.history")) == 1
    r = row(warehouse, key)
    assert (r["status"], r["slack_ts"], r["attempts"]) == ("sent", msgs[0]["ts"], 1)
    assert dispatch(warehouse, slack_sender) == DispatchReport()


def test_rate_limit_honours_retry_after(warehouse, slack_server, slack_sender):
    key = add(warehouse)
    slack_server.rate_limit_next(1, retry_after=1, method="chat.postMessage")
    started = time.monotonic()
    report = dispatch(warehouse, slack_sender)
    elapsed = time.monotonic() - started
    assert report.sent == [key]
    assert elapsed >= 1.0
    assert len(slack_server.calls("chat.postMessage")) == 2
    assert len(slack_server.messages("bc-ld-24781")) == 1


def test_server_error_once_then_success(warehouse, slack_server, slack_sender):
    key = add(warehouse)
    slack_server.fail_next(1, status=500, method="chat.postMessage")
    report = dispatch(warehouse, slack_sender)
    assert report.sent == [key]
    assert len(slack_server.calls("chat.postMessage")) == 2
    assert len(slack_server.messages("bc-ld-24781")) == 1


def test_server_errors_on_a_post_are_never_retried_without_checking_history(warehouse, slack_server):
    key = add(warehouse)
    sender = SlackSender(slack_server.token, slack_server.url, max_retries=3, backoff_factor=0.01)
    slack_server.fail_next(2, status=503, method="chat.postMessage")
    report = dispatch(warehouse, sender)
    assert report.pending == {key: "internal_error"}
    r = row(warehouse, key)
    assert (r["status"], r["attempts"], r["error"]) == ("pending", 2, "internal_error")
    # post, 503, history (not there), post, 503: the client itself retried nothing
    methods = [m for m, _ in slack_server.calls() if m != "auth.test"]
    assert methods == ["conversations.list", "chat.postMessage", "conversations.history", "chat.postMessage"]
    assert dispatch(warehouse, sender).sent == [key]  # history checked first: not there, so post
    assert len(slack_server.messages("bc-ld-24781")) == 1


def test_permanent_errors_are_recorded_and_the_batch_goes_on(warehouse, slack_server, slack_sender):
    slack_server.set_member("bc-ld-24787", False)
    ok1 = add(warehouse, "LD.24781")
    not_member = add(warehouse, "LD.24787")
    missing = add(warehouse, "LD.24778", recipient="bc-da-xoa")
    nobody = add(warehouse, "LD.24805", recipient="ai.do@khong-co.vn")
    ok2 = add(warehouse, "LD.24846")
    report = dispatch(warehouse, slack_sender)
    assert sorted(report.sent) == sorted([ok1, ok2])
    assert report.failed == {
        not_member: "not_in_channel",
        missing: "channel_not_found",
        nobody: "users_not_found",
    }
    assert row(warehouse, not_member)["status"] == "failed"
    assert row(warehouse, not_member)["error"] == "not_in_channel"
    assert len(slack_server.messages("bc-ld-24846")) == 1
    # the operator adds the bot to the channel and requeues: sent once
    slack_server.set_member("bc-ld-24787", True)
    assert requeue(warehouse, [not_member]) == 1
    assert dispatch(warehouse, slack_sender).sent == [not_member]
    assert len(slack_server.messages("bc-ld-24787")) == 1


@pytest.mark.parametrize("problem", ["invalid_auth", "account_inactive"])
def test_bad_tokens_stop_the_run_before_any_row_is_touched(warehouse, slack_server, problem):
    key = add(warehouse)
    token = "xoxb-sai" if problem == "invalid_auth" else slack_server.token
    if problem == "account_inactive":
        slack_server.deactivate_token(token)
    report = dispatch(warehouse, SlackSender(token, slack_server.url))
    assert report.auth_error == problem and not report.failed and report.pending == {key: None}
    assert [m for m, _ in slack_server.calls()] == ["auth.test"]
    assert (row(warehouse, key)["status"], row(warehouse, key)["attempts"]) == ("pending", 0)
    assert slack_server.messages() == []


def test_direct_message_by_email(warehouse, slack_server, slack_sender):
    a = add(warehouse, "LD.24781", recipient="baocao.ld-24781@example.vn", stage="d-7")
    b = add(warehouse, "LD.24781", recipient="baocao.ld-24781@example.vn", stage="d-1")
    report = dispatch(warehouse, slack_sender)
    assert sorted(report.sent) == sorted([a, b])
    dm = row(warehouse, a)["slack_channel"]
    assert dm.startswith("D") and row(warehouse, b)["slack_channel"] == dm
    assert len(slack_server.messages(dm)) == 2
    assert len(slack_server.calls("users.lookupByEmail")) == 1  # cached
    assert len(slack_server.calls("conversations.open")) == 1


def test_without_a_token_rows_stay_pending(warehouse, slack_server):
    key = add(warehouse)
    sender = sender_from_env({"SLACK_API_URL": slack_server.url})
    assert sender is None
    report = dispatch(warehouse, sender)
    assert report.pending == {key: None} and not report.sent
    assert [r["key"] for r in pending_rows(warehouse)] == [key]
    assert slack_server.calls() == []


def test_sender_from_env_uses_the_api_url(warehouse, slack_server):
    key = add(warehouse)
    sender = sender_from_env(
        {"SLACK_BOT_TOKEN": slack_server.token, "SLACK_API_URL": slack_server.url}
    )
    assert isinstance(sender, SlackSender) and sender.base_url == slack_server.url
    assert sender.check()["user_id"] == slack_server.bot_user_id
    assert dispatch(warehouse, sender).sent == [key]
    assert sender_from_env({"SLACK_BOT_TOKEN": "x"}).base_url == "https://slack.com/api/"


def test_recipient_for_reads_the_catalog():
    unit = recipient_for("LD.24781")
    assert (unit.channel, unit.emails, unit.lang, unit.supervisor_code) == (
        "bc-ld-24781",
        ("baocao.ld-24781@example.vn",),
        "vi",
        "LD.SYT",
    )
    op = recipient_for("OPERATOR")
    assert (op.address, op.emails, op.supervisor_code) == ("bc-operator", (), None)
    with pytest.raises(KeyError):
        recipient_for("LD.KHONGCO")


def test_recording_sender_gives_the_same_guarantees_without_http(warehouse):
    fake = RecordingSender(unknown={"bc-da-xoa"})
    lost = add(warehouse, "LD.24781")
    gone = add(warehouse, "LD.24787", recipient="bc-da-xoa")
    fake.lose_reply_next(1)
    first = dispatch(warehouse, fake)
    assert first.pending == {lost: "connection_error"} and first.failed == {gone: "channel_not_found"}
    assert dispatch(warehouse, fake, settle_s=0).recovered == [lost]
    assert dispatch(warehouse, fake) == DispatchReport()
    assert [m.key for m in fake.sent] == [lost]


def test_too_many_attempts_ends_in_failed(warehouse):
    fake = RecordingSender()
    key = add(warehouse)
    fake.fail_next("internal_error", 3)
    for _ in range(3):
        dispatch(warehouse, fake, max_attempts=2)
    r = row(warehouse, key)
    assert r["status"] == "failed" and r["error"].startswith("too_many_attempts")
    assert fake.sent == []


def test_dispatch_refuses_an_open_transaction(warehouse):
    add(warehouse)
    warehouse.execute("begin transaction")
    with pytest.raises(RuntimeError):
        dispatch(warehouse, RecordingSender())
    warehouse.execute("rollback")
