"""Pytest fixtures for the notification tests: a local Slack server, a real SlackSender pointed
at it, and a migrated DuckDB warehouse file. Import them in a test module:

    from tests.slack_fixtures import slack_sender, slack_server, warehouse  # noqa: F401
"""

from __future__ import annotations

import duckdb
import pytest

from notifications.sender import SlackSender
from testing.slack_server import SlackServer, from_recipients
from warehouse.migrate import upgrade


@pytest.fixture
def slack_server():
    """A started server knowing every channel and e-mail of catalog/recipients.csv."""
    server: SlackServer = from_recipients().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def slack_sender(slack_server):
    """The real slack_sdk client behind SlackSender, with short backoffs for tests."""
    return SlackSender(slack_server.token, slack_server.url, backoff_factor=0.02, timeout=5)


@pytest.fixture
def warehouse(tmp_path):
    """A DuckDB file in tmp_path with every migration applied."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    upgrade(con)
    try:
        yield con
    finally:
        con.close()
