"""Every failure a user can cause on the command line is one line (Vietnamese, or English with
--lang en), a non-zero exit code and no traceback; --debug shows the traceback. Run as the
operator runs them: the console script in a subprocess, in a folder of its own, with none of the
Makefile's variables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BAOCAO = Path(sys.executable).parent / "baocao"


def _env(tmp: Path) -> dict:
    (tmp / "user").mkdir(exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH")}
    return {**keep, "HOME": str(tmp / "user"), "COLUMNS": "200"}


def run(tmp: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BAOCAO), *args], cwd=cwd or tmp, env=_env(tmp), capture_output=True, text=True,
                          timeout=300)


def one_line_error(p: subprocess.CompletedProcess, *words: str) -> str:
    assert p.returncode not in (0, None), (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr + p.stdout, p.stderr[-2000:]
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, p.stderr
    assert p.stdout.strip() == "", p.stdout
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A home with 2026H1 open (the first `cycle open --home` creates it)."""
    tmp = tmp_path_factory.mktemp("clierr")
    p = run(tmp, "cycle", "open", "2026H1", "--home", str(tmp / "h"))
    assert p.returncode == 0, p.stderr
    assert "XA_6T" in p.stdout and "6 tháng đầu năm 2026" in p.stdout
    assert "Đã tạo thư mục dữ liệu mới" in p.stderr
    return tmp / "h"


def test_first_cycle_open_creates_the_home_and_a_second_changes_nothing(home, tmp_path):
    p = run(tmp_path, "cycle", "open", "2026H1", "--home", str(home))
    assert p.returncode == 0 and "XA_6T" in p.stdout and "Đã tạo" not in p.stderr, p.stderr


def test_unknown_home_is_one_line_and_creates_nothing(tmp_path):
    nope = tmp_path / "nope"
    for args in (("outbox",), ("cycle", "status", "2026H1"), ("process",), ("history", "--unit", "LD.24781")):
        one_line_error(run(tmp_path, *args, "--home", str(nope)), str(nope), "--home")
    assert not nope.exists()
    line = one_line_error(run(tmp_path, "cycle", "status", "2026H1"))  # no --home, no ./var: says how to choose
    assert "make demo" in line and "--home" in line
    line = one_line_error(run(tmp_path, "--lang", "en", "outbox", "--home", str(nope)))
    assert line.startswith("no warehouse in")


def test_unknown_period_is_one_line(home, tmp_path):
    for args in (("cycle", "open", "H1-2026"), ("report", "2026H3"), ("cycle", "status", "2026-06")):
        one_line_error(run(tmp_path, *args, "--home", str(home)), "2026H1", "2026H2")
    line = one_line_error(run(tmp_path, "cycle", "status", "2027H1", "--home", str(home)), "2027H1", "cycle open")
    assert "chưa được mở" in line and "2026H1" in line  # says which periods are open
    line = one_line_error(run(tmp_path, "cycle", "status", "2027H1", "--home", str(home), "--lang", "en"))
    assert line.startswith("period 2027H1 is not open")


def test_unknown_unit_is_one_line(home, tmp_path):
    one_line_error(run(tmp_path, "history", "--unit", "LD.99999", "--home", str(home)), "LD.99999")
    one_line_error(run(tmp_path, "template", "2026H1", "--unit", "LD.99999", "--out", str(tmp_path)), "LD.99999")
    f = tmp_path / "XA_6T_LD.99999_2026H1.xlsx"
    f.write_bytes(b"PK")
    one_line_error(run(tmp_path, "submit", "--unit", "LD.99999", str(f), "--home", str(home)), "LD.99999")
    assert not (home / "store" / "LD.99999").exists()


def test_file_type_missing_file_and_period_not_open_are_one_line(home, tmp_path):
    txt = tmp_path / "bao_cao.txt"
    txt.write_text("số liệu")
    one_line_error(run(tmp_path, "submit", "--unit", "LD.24781", str(txt), "--home", str(home)), ".xlsx")
    one_line_error(run(tmp_path, "submit", "--unit", "LD.24781", str(tmp_path / "gone.xlsx"), "--home", str(home)),
                   "gone.xlsx")
    late = tmp_path / "XA_6T_LD.24781_2027H1.xlsx"
    late.write_bytes(b"PK")
    one_line_error(run(tmp_path, "submit", "--unit", "LD.24781", str(late), "--home", str(home)), "2027H1")
    assert not (home / "store" / "LD.24781").exists()  # nothing stored for a refused file


def test_unsupported_language_and_unknown_warning_are_one_line(home, tmp_path):
    one_line_error(run(tmp_path, "report", "2026H1", "--lang", "fr", "--home", str(home)), "fr")
    one_line_error(run(tmp_path, "accept-warning", "--unit", "LD.24823", "--period", "2026H1", "--element", "DOCTORS",
                       "--rule", "W99", "--by", "x", "--home", str(home)), "W99", "LD.24823")
    one_line_error(run(tmp_path, "release", "--submission", "abc", "--reason", "r", "--by", "b", "--home", str(home)),
                   "abc")


def test_debug_shows_the_traceback(home, tmp_path):
    p = run(tmp_path, "--debug", "cycle", "status", "2027H1", "--home", str(home))
    assert p.returncode != 0 and "Traceback" in p.stderr and "2027H1" in p.stderr
