"""`baocao listen`: the Slack door alone (Socket Mode; `baocao serve` runs it beside the watcher)."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from baocao.settings import settings
from cli.common import HomeOpt, console


def listen(home: Path = HomeOpt) -> None:
    """Nhận báo cáo và trả lời đơn vị qua Slack / take units' files from their Slack channels and
    answer in the file's thread (needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN; docs/operations.md)."""
    from baocao import events as ev
    from slackdoor.config import DoorConfig
    from slackdoor.listener import listen as run

    try:
        cfg = DoorConfig.from_env()
    except ValueError as exc:
        console.print(str(exc))
        raise typer.Exit(2) from None
    if cfg is None:
        console.print("Cần SLACK_BOT_TOKEN (xoxb-…) và SLACK_APP_TOKEN (xapp-…) / set SLACK_BOT_TOKEN and"
                      " SLACK_APP_TOKEN to listen (docs/operations.md: the Slack app)")
        raise typer.Exit(2)
    if not ev.enabled():
        console.print("PREFECT_API_URL chưa đặt: tệp được nhận và xử lý tại chỗ, không gửi sự kiện"
                      " / PREFECT_API_URL not set: files are processed here, no events are sent.")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("baocao.slack").setLevel(logging.INFO)
    s = settings(home)
    console.print(f"Đang nghe Slack (Socket Mode) / listening for {s.home}", soft_wrap=True)
    try:
        run(s, cfg)
    except KeyboardInterrupt:
        pass
