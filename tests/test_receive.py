"""The one intake path (intake.store.receive): unit codes checked before the file system, the
server's names and clock, the unit's name kept as data; `baocao submit` through it; one-line
refusals and lock messages; Rich markup in a code printed as typed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from baocao.services import process
from baocao.settings import settings
from cli.app import app
from intake import store as store_mod
from tests import hostile

CAT = hostile.CAT
NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("code", ["../../x", "LD/../..", "LD.24781/../../etc", "ld.24781", "", "LD.24781\x00", "LD.99999",
                                  "LD.24781 ", "[/]", "../" * 40])
def test_a_code_that_is_not_a_unit_touches_nothing(tmp_path, code):
    with pytest.raises(store_mod.UnitRefused) as exc:
        store_mod.receive(tmp_path / "store", code, b"data", "a.xlsx", source="submit", received_at=NOW, cat=CAT)
    assert not (tmp_path / "store").exists() and list(tmp_path.iterdir()) == []
    line = str(exc.value)
    assert "\n" not in line and " / " in line and "không" in line


def test_stored_under_the_servers_name_with_its_provenance(tmp_path):
    store = tmp_path / "store"
    src = tmp_path / "Báo cáo (bản cuối).xlsx"
    src.write_bytes(hostile.workbook_bytes("LD.24781"))
    old = (NOW - timedelta(days=120)).timestamp()  # copied with its old time (cp -p, rsync -t)
    os.utime(src, (old, old))
    f = store_mod.receive(store, "LD.24781", src, src.name, source="web", received_at=NOW,
                          meta={"web_session": "s-1", "ip": "10.0.0.7"}, cat=CAT)
    assert f.path.parent == store / "LD.24781" and f.path.name == f"{f.submission_id}.xlsx"
    assert f.file_name == src.name and f.received_at == NOW and f.source == "web"
    assert f.file_mtime == datetime.fromtimestamp(old, UTC) and not f.duplicate and src.exists()
    side = json.loads((store / "LD.24781" / f"{f.submission_id}.json").read_text(encoding="utf-8"))
    assert side["received_at"] == NOW.isoformat() and side["meta"] == {"web_session": "s-1", "ip": "10.0.0.7"}
    assert store_mod.stored(f.path).received_at == NOW  # listing reads the sidecar, not the mtime
    # the same bytes again, later, under another name: the first arrival, stored once
    again = store_mod.receive(store, "LD.24781", src.read_bytes(), "copy.xlsx", source="slack",
                              received_at=NOW + timedelta(days=3), cat=CAT)
    assert again.duplicate and again.submission_id == f.submission_id and again.received_at == NOW
    assert [p.name for p in store_mod.stored_paths(store)] == [f.path.name]


def test_any_name_any_bytes(tmp_path):
    store = tmp_path / "store"
    for raw in (hostile.LONG_NAME.encode(), hostile.NON_UTF8_NAME, b"../../etc/passwd", b"a\x00b.xlsx", b"\xff" * 300):
        f = store_mod.receive(store, "LD.24781", raw + b"-content", raw, source="inbox", received_at=NOW, cat=CAT)
        assert f.original_name_raw == raw and f.path.parent == store / "LD.24781"
        assert len(f.path.name) < 30 and "/" not in f.file_name.replace("../../etc/passwd", "")
        assert store_mod.stored(f.path).original_name_raw == raw


def test_lateness_is_from_the_server_clock_not_the_files_time(tmp_path):
    """A file kept four months with its old time arrives after the deadline: it is late."""
    s = settings(tmp_path / "home")
    res = hostile.resources(s.home, NOW)
    con = res.con()
    deadline = con.execute("select deadline_at from ops.cycle").fetchone()[0]
    src = tmp_path / "bao_cao.xlsx"
    src.write_bytes(hostile.workbook_bytes("LD.24787"))
    early = (deadline - timedelta(days=30)).timestamp()
    os.utime(src, (early, early))
    store_mod.receive(s.store, "LD.24787", src, src.name, source="inbox", received_at=deadline + timedelta(days=120),
                      cat=CAT)
    (rec,) = process.process(res)
    assert rec.is_late
    at, mtime = con.execute("select received_at, file_mtime from raw.submission").fetchone()
    assert at > deadline and mtime < deadline
    res.close()


def test_submit_refuses_a_path_as_unit_in_one_line(tmp_path):
    f = tmp_path / "a.xlsx"
    f.write_bytes(b"x")
    home = tmp_path / "home"
    result = CliRunner().invoke(app, ["submit", str(f), "--unit", "../../x", "--home", str(home)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "không hợp lệ" in lines[0]
    english = CliRunner().invoke(app, ["submit", str(f), "--unit", "../../x", "--home", str(home), "--lang", "en"])
    lines = [line for line in english.output.splitlines() if line.strip()]
    assert english.exit_code == 2 and len(lines) == 1 and "not a valid code" in lines[0]
    assert not home.exists() and not (tmp_path / "x").exists()


def test_submit_stores_now_through_receive(tmp_path):
    f = tmp_path / "Báo cáo.xlsx"
    f.write_bytes(hostile.workbook_bytes("LD.24778"))
    home = tmp_path / "home"
    refused = CliRunner().invoke(app, ["submit", str(f), "--unit", "LD.24778", "--home", str(home)])
    assert refused.exit_code == 2 and "cycle open" in refused.output and not home.exists()  # no silent warehouse
    assert CliRunner().invoke(app, ["cycle", "open", "2026H1", "--home", str(home)]).exit_code == 0
    result = CliRunner().invoke(app, ["submit", str(f), "--unit", "LD.24778", "--home", str(home)])
    assert result.exit_code == 0, result.output
    (stored,) = store_mod.store_files(home / "store")
    assert stored.source == "submit" and stored.file_name == "Báo cáo.xlsx"
    assert abs((stored.received_at - datetime.now(UTC)).total_seconds()) < 120
    assert "Đã nhận" in result.output and f.exists()


def test_a_second_writer_says_who_holds_the_warehouse(tmp_path):
    s = settings(tmp_path / "home")
    holder = hostile.resources(s.home, NOW)  # this process holds the writer lock
    env = dict(os.environ, BAOCAO_LOCK_WAIT="1")
    proc = subprocess.run([str(Path(sys.executable).parent / "baocao"), "cycle", "status", "2026H1", "--home", str(s.home)],
                          capture_output=True, text=True, env=env, timeout=300)
    holder.close()
    assert proc.returncode == 3, proc.stderr[-2000:]
    out = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(out) == 1 and f"PID {os.getpid()}" in out[0] and "đang được một tiến trình khác ghi" in out[0]
    assert "Traceback" not in proc.stdout + proc.stderr


def test_cycle_status_prints_markup_in_a_code_as_typed(tmp_path):
    s = settings(tmp_path / "home")
    res = hostile.resources(s.home, NOW)
    store_mod.receive(s.store, "LD.24805", b"%PDF-1.4", "[/]bad[bold].xlsx", source="inbox", received_at=NOW, cat=CAT)
    process.process(res)
    res.close()
    result = CliRunner().invoke(app, ["cycle", "status", hostile.PERIOD, "--home", str(s.home)])
    assert result.exit_code == 0, result.output
    assert "[/]bad[bold].xlsx" in result.output.replace("\n", "").replace(" ", "") or "[/]bad" in result.output
