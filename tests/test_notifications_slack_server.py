"""testing.slack_server through the real slack_sdk WebClient (and raw HTTP where the
client would hide what is sent)."""
# ruff: noqa: F811  (pytest fixtures imported from tests.slack_fixtures are test arguments)

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from http.client import RemoteDisconnected
from pathlib import Path
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from testing.slack_server import SlackServer
from tests.slack_fixtures import slack_server  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}


def client(server: SlackServer, token: str | None = None) -> WebClient:
    """A client without retry handlers: every scenario is seen as it happens."""
    return WebClient(token=token or server.token, base_url=server.url, retry_handlers=[], timeout=5)


def error_of(call) -> tuple[int, str]:
    with pytest.raises(SlackApiError) as exc:
        call()
    return exc.value.response.status_code, exc.value.response["error"]


def test_auth(slack_server):
    assert client(slack_server).auth_test()["user_id"] == slack_server.bot_user_id
    assert error_of(lambda: client(slack_server, "xoxb-wrong").auth_test()) == (200, "invalid_auth")
    slack_server.deactivate_token(slack_server.token)
    assert error_of(lambda: client(slack_server).auth_test()) == (200, "account_inactive")
    assert error_of(
        lambda: WebClient(base_url=slack_server.url, retry_handlers=[]).auth_test()
    ) == (
        200,
        "not_authed",
    )


def test_post_and_read_back_newest_first_with_metadata(slack_server):
    c = client(slack_server)
    posted = [
        c.chat_postMessage(
            channel="#bc-ld-24781",
            text=f"m{i}",
            blocks=[SECTION],
            metadata={"event_type": "baocao_notification", "event_payload": {"key": f"k{i}"}},
        )
        for i in range(5)
    ]
    cid = posted[0]["channel"]
    assert cid == slack_server.channel_id("bc-ld-24781") and cid.startswith("C")
    assert len({p["ts"] for p in posted}) == 5
    hist = c.conversations_history(channel=cid, include_all_metadata=True)
    assert [m["text"] for m in hist["messages"]] == ["m4", "m3", "m2", "m1", "m0"]
    assert hist["messages"][0]["metadata"] == {
        "event_type": "baocao_notification",
        "event_payload": {"key": "k4"},
    }
    assert hist["messages"][0]["blocks"] == [SECTION]
    assert "metadata" not in c.conversations_history(channel=cid)["messages"][0]
    page = c.conversations_history(channel=cid, limit=2)
    assert [m["text"] for m in page["messages"]] == ["m4", "m3"] and page["has_more"]
    rest = c.conversations_history(
        channel=cid, limit=2, cursor=page["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1"]
    newer = c.conversations_history(channel=cid, oldest=posted[2]["ts"])
    assert [m["text"] for m in newer["messages"]] == ["m4", "m3"]
    assert [m["text"] for m in slack_server.messages("bc-ld-24781")] == [
        "m0",
        "m1",
        "m2",
        "m3",
        "m4",
    ]


def test_history_takes_ids_not_names(slack_server):
    assert error_of(lambda: client(slack_server).conversations_history(channel="bc-ld-24781")) == (
        200,
        "channel_not_found",
    )


def test_form_encoded_and_json_bodies(slack_server):
    base = slack_server.url
    headers = {"Authorization": f"Bearer {slack_server.token}"}
    form = urlencode(
        {"channel": "bc-ld-24787", "text": "form", "blocks": json.dumps([SECTION])}
    ).encode()
    req = urllib.request.Request(base + "chat.postMessage", data=form, headers=headers)
    assert json.load(urllib.request.urlopen(req))["ok"]
    body = json.dumps({"channel": "bc-ld-24787", "text": "json", "blocks": [SECTION]}).encode()
    req = urllib.request.Request(
        base + "chat.postMessage",
        data=body,
        headers={**headers, "Content-Type": "application/json; charset=utf-8"},
    )
    assert json.load(urllib.request.urlopen(req))["ok"]
    # token as a form parameter, as older clients send it
    form = urlencode({"token": slack_server.token, "channel": "bc-ld-24787", "text": "tok"}).encode()
    assert json.load(urllib.request.urlopen(base + "chat.postMessage", data=form))["ok"]
    # slack_sdk: chat.postMessage goes as JSON, api_call(params=…) as a form
    c = client(slack_server)
    assert c.api_call("chat.postMessage", params={"channel": "bc-ld-24787", "text": "sdk-form"})[
        "ok"
    ]
    msgs = slack_server.messages("bc-ld-24787")
    assert [m["text"] for m in msgs] == ["form", "json", "tok", "sdk-form"]
    assert msgs[0]["blocks"] == msgs[1]["blocks"] == [SECTION]


def test_channel_errors(slack_server):
    c = client(slack_server)
    assert error_of(lambda: c.chat_postMessage(channel="bc-khong-co", text="x")) == (
        200,
        "channel_not_found",
    )
    slack_server.set_member("bc-ld-24778", False)
    assert error_of(lambda: c.chat_postMessage(channel="bc-ld-24778", text="x")) == (
        200,
        "not_in_channel",
    )
    cid = slack_server.channel_id("bc-ld-24778")
    assert error_of(lambda: c.conversations_history(channel=cid)) == (200, "not_in_channel")
    assert slack_server.messages("bc-ld-24778") == []


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_documented_limits(slack_server):
    c = client(slack_server)

    def post(text="x", blocks=None):
        return error_of(lambda: c.chat_postMessage(channel="bc-operator", text=text, blocks=blocks))

    long_section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    long_header = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    assert c.chat_postMessage(channel="bc-operator", text="x" * 40_000)["ok"]
    assert c.chat_postMessage(channel="bc-operator", text="x", blocks=[SECTION] * 50)["ok"]
    assert post(text="x" * 40_001) == (200, "msg_too_long")
    assert post(blocks=[SECTION] * 51) == (200, "invalid_blocks")
    assert post(blocks=[long_section]) == (200, "invalid_blocks")
    assert post(blocks=[long_header]) == (200, "invalid_blocks")
    assert post(text="") == (200, "no_text")
    assert len(slack_server.messages("bc-operator")) == 2


def test_users_and_direct_messages(slack_server):
    c = client(slack_server)
    uid = c.users_lookupByEmail(email="Baocao.LD-24781@example.vn")["user"]["id"]
    assert uid.startswith("U")
    assert error_of(lambda: c.users_lookupByEmail(email="ai@khong.vn")) == (200, "users_not_found")
    dm = c.conversations_open(users=[uid])["channel"]["id"]
    assert dm.startswith("D")
    assert c.conversations_open(users=uid)["channel"]["id"] == dm
    assert error_of(lambda: c.conversations_open(users="U404"))[1] == "user_not_found"
    c.chat_postMessage(channel=dm, text="riêng")
    assert [m["text"] for m in slack_server.messages(dm)] == ["riêng"]


def test_scenarios_rate_limit_fail_and_drop(slack_server):
    c = client(slack_server)
    slack_server.rate_limit_next(1, retry_after=7)
    with pytest.raises(SlackApiError) as exc:
        c.auth_test()
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "7"
    slack_server.fail_next(1, status=503, method="chat.postMessage")
    assert c.auth_test()["ok"]  # other methods are not affected
    assert error_of(lambda: c.chat_postMessage(channel="bc-operator", text="x"))[0] == 503
    assert slack_server.messages("bc-operator") == []
    slack_server.drop_after_accept_next(1)
    with pytest.raises(RemoteDisconnected):
        c.chat_postMessage(channel="bc-operator", text="stored")
    assert [m["text"] for m in slack_server.messages("bc-operator")] == ["stored"]
    assert c.chat_postMessage(channel="bc-operator", text="next")["ok"]  # one-shot
    assert [name for name, _ in slack_server.calls()][-3:] == ["chat.postMessage"] * 3


def test_runs_as_a_module_and_prints_its_url():
    proc = subprocess.Popen(
        [sys.executable, "-m", "testing.slack_server", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = proc.stdout.readline().strip().removeprefix("SLACK_API_URL=")
        token = proc.stdout.readline().strip().removeprefix("SLACK_BOT_TOKEN=")
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/")
        c = WebClient(token=token, base_url=url, retry_handlers=[])
        assert c.chat_postMessage(channel="bc-operator", text="demo")["ok"]
        listing = json.load(urllib.request.urlopen(url.removesuffix("/api/") + "/_baocao/messages"))
        assert [m["text"] for m in listing["messages"]] == ["demo"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
