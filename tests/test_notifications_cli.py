"""`baocao outbox`, `baocao outbox retry`, `baocao outbox send` — the real CLI on a real home
folder (warehouse + delivery store), against the local Slack server."""
# ruff: noqa: F811  (pytest fixtures imported from tests.slack_fixtures are test arguments)

from __future__ import annotations

from typer.testing import CliRunner

from baocao.resources import live
from baocao.settings import settings
from cli.app import app
from notifications.outbox import enqueue
from notifications.render import Message
from tests.slack_fixtures import slack_server  # noqa: F401

HOSTILE = "[bold red]x[/] *đậm* \x1b[31m\nhai dòng"


def _home(tmp_path):
    s = settings(tmp_path / "home")
    with live(s) as res:
        con = res.con()
        for unit, recipient in (("LD.24781", "bc-ld-24781"), ("LD.24787", "bc-da-xoa")):
            enqueue(con, kind="reminder", period="2026H1", dataset_code="XA_6T", unit_code=unit, stage="d-1",
                    recipient=recipient, message=Message(f"Nhắc {unit} {HOSTILE}", []))
    return s


def test_list_send_retry(tmp_path, slack_server, monkeypatch):
    s = _home(tmp_path)
    run = CliRunner().invoke
    home = ["--home", str(s.home)]

    shown = run(app, ["outbox", *home])
    assert shown.exit_code == 0, shown.output
    assert "chờ gửi" in shown.output and "LD.24781" in shown.output
    assert "[bold red]x[/]" in shown.output  # unit text is shown as text, never as markup
    assert "\x1b" not in shown.output

    no_token = run(app, ["outbox", "send", *home])
    assert no_token.exit_code == 0 and "SLACK_BOT_TOKEN" in no_token.output

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-sai")
    monkeypatch.setenv("SLACK_API_URL", slack_server.url)
    bad = run(app, ["outbox", "send", *home])
    assert bad.exit_code == 1 and "invalid_auth" in bad.output
    assert slack_server.messages() == []

    monkeypatch.setenv("SLACK_BOT_TOKEN", slack_server.token)
    sent = run(app, ["outbox", "send", "--deadline", "60", *home])
    assert sent.exit_code == 0, sent.output
    assert "đã gửi: 1" in sent.output and "lỗi: 1" in sent.output
    assert "channel_not_found" in sent.output
    failed = run(app, ["outbox", "--status", "failed", *home])
    assert "LD.24787" in failed.output and "LD.24781" not in failed.output
    assert "channel_not_found" in failed.output

    assert run(app, ["outbox", "retry", *home]).exit_code == 2  # nothing named
    slack_server.add_channel("bc-da-xoa")
    none = run(app, ["outbox", "retry", "--failed", "--unit", "LD.24781", *home])
    assert "Đã đưa 0 thông báo" in none.output
    again = run(app, ["outbox", "retry", "--failed", "--unit", "LD.24787", *home])
    assert "Đã đưa 1 thông báo" in again.output
    sent = run(app, ["outbox", "send", *home])
    assert "đã gửi: 1" in sent.output
    assert len(slack_server.messages("bc-da-xoa")) == 1 and len(slack_server.messages("bc-ld-24781")) == 1
    # the warehouse mirror says the same once the CLI handed off again
    with live(s) as res:
        assert dict(res.con().execute("select unit_code, status from ops.outbox").fetchall()) == {
            "LD.24781": "sent", "LD.24787": "sent"}
