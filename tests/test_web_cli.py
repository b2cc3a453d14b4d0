"""`baocao access issue / revoke / list`: links printed once, stored hashed, revocable."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from typer.testing import CliRunner

from cli.app import app


def test_issue_list_revoke(tmp_path):
    home = tmp_path / "home"
    run = CliRunner().invoke
    assert run(app, ["cycle", "open", "2026H1", "--home", str(home)]).exit_code == 0  # a home, with its warehouse
    r = run(app, ["access", "issue", "--unit", "LD.24781", "--operator", "--name", "Nguyễn Văn A",
                  "--home", str(home), "--base-url", "https://bc.example.vn/"])
    assert r.exit_code == 0, r.output
    lines = dict(line.split("\t") for line in r.output.strip().splitlines())
    assert set(lines) == {"LD.24781", "OPERATOR"}
    token = lines["LD.24781"].removeprefix("https://bc.example.vn/a/")
    with sqlite3.connect(home / "web" / "access.sqlite") as db:
        stored = [t for (t,) in db.execute("select token_hash from link")]
    assert token not in stored and len(stored) == 2  # only hashes are kept

    from web.access import AccessStore

    store = AccessStore(home / "web" / "access.sqlite")
    assert store.open_session(token, datetime.now(UTC), "127.0.0.1", "test") is not None
    r = run(app, ["access", "revoke", "--unit", "LD.24781", "--home", str(home)])
    assert r.exit_code == 0 and "1" in r.output
    assert store.open_session(token, datetime.now(UTC), "127.0.0.1", "test") is None
    listed = run(app, ["access", "list", "--home", str(home)]).output
    assert "revoked" in listed and "active" in listed and token not in listed


def test_unknown_unit_is_refused(tmp_path):
    r = CliRunner().invoke(app, ["access", "issue", "--unit", "LD.NOPE", "--home", str(tmp_path)])
    assert r.exit_code != 0 and "LD.NOPE" in r.output
