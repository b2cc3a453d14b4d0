"""The README's command block, run as a new user runs it: a fresh clone, `make demo`, then every
`.venv/bin/baocao …` line in order, outside make (none of the Makefile's variables, a HOME of its
own so Prefect starts from nothing), each checked for its exit code and for printing what it is
for. Long-running commands (`serve`, `web`) are started, checked while they run, and stopped.

The clone shares this checkout's .venv (a symlink; PYTHONPATH points the console script at the
clone's code) so the test does not download or build an environment."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow]


def readme_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## The command line", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line, comments=True) for line in block.splitlines()
            if line.strip().startswith(".venv/bin/baocao")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(base: Path, clone: Path) -> dict:
    """A new user's shell: PATH, a locale, a HOME of its own; nothing of make's or the suite's."""
    (base / "user").mkdir(exist_ok=True)
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(base / "user"),
            "PYTHONPATH": str(clone), "COLUMNS": "200"}


def _no_traceback(p_out: str, p_err: str, cmd) -> None:
    assert "Traceback" not in p_out + p_err, (cmd, p_err[-3000:])


def _expected(args: list[str]) -> tuple[int, tuple[str, ...]]:
    """(exit code, words the output must hold) for a README line; 'error' exit codes are one line."""
    sub = " ".join(a for a in args[1:3] if not a.startswith("-"))
    return {
        "": (0, ("cycle", "process", "report")),  # --help
        "template 2026H1": (0, ("XA_6T_LD.24781_2026H1.xlsx",)),
        "cycle open": (0, ("XA_6T", "6 tháng đầu năm 2026")),
        "submit": (0, ("Đã nhận", "LD.24781")),
        "process": (0, ("LD.24781", "XA_6T", "Đã xử lý 1 tệp")),
        "cycle status": (0, ("phải nộp", "hợp lệ", "%", "bị từ chối", "chưa nộp")),
        "outbox": (0, ("Hộp thư đi", "chờ gửi")),
        "history": (0, ("LD.24848", "bị từ chối", "hợp lệ")),
        "accept-warning": (0, ("Đã chấp nhận cảnh báo W02 DOCTORS", "LD.24823")),
        "accept-error": (1, ("R03", "LD.24871")),  # the demo has no overridable error (README says so)
        "held": (0, ("Không có bản nào đang giữ",)),
        "release": (1, ("<id>",)),  # nothing held on the demo: no id to release (README says so)
        "cycle reopen": (0, ("2026H1 XA_6T",)),
        "report 2026H1": (0, ("Excel:", "HTML:")),
        "datadocs 2026H1": (0, ("data docs",)),
        "access issue": (0, ("LD.24781\thttp://",)),
    }[sub if sub in ("", "cycle open", "cycle status", "cycle reopen", "access issue") else
      " ".join(args[1:3]) if args[1] in ("template", "report", "datadocs") else args[1]]


@pytest.mark.timeout(3000)
def test_every_readme_command_works_as_written_after_make_demo(tmp_path):
    if shutil.which("git") is None or shutil.which("make") is None or not (ROOT / ".git").exists():
        pytest.fail("needs git, make and a git checkout (CI runs from one)")
    clone = tmp_path / "baocao"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=300)
    (clone / ".venv").symlink_to(ROOT / ".venv")
    env = _env(tmp_path, clone)
    demo = subprocess.run(["make", "-o", ".venv/.synced", "demo"], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=1800)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "snapshot:" in demo.stdout

    commands = readme_commands()
    assert len(commands) >= 17 and commands[0] == [".venv/bin/baocao", "--help"]
    seen = []
    for args in commands:
        sub = args[1] if len(args) > 1 else ""
        if sub in ("serve", "web"):
            _run_server(clone, env, args, seen)
            continue
        code, words = _expected(args)
        p = subprocess.run(args, cwd=clone, env=env, capture_output=True, text=True, timeout=900)
        seen.append((args, p.returncode, p.stdout, p.stderr))
        _no_traceback(p.stdout, p.stderr, args)
        out = p.stdout + p.stderr
        if code == 0:
            assert p.returncode == 0, (args, p.stdout[-2000:], p.stderr[-2000:])
            assert p.stdout.strip(), args
        else:
            assert p.returncode == code, (args, p.returncode, out[-2000:])
            errors = [x for x in p.stderr.splitlines() if x.strip() and not x.startswith("Dùng thư mục dữ liệu")]
            assert len(errors) == 1 and not p.stdout.strip(), (args, out)
        for w in words:
            assert w in out, (args, w, out[-3000:])
        if sub == "template":
            assert (clone / "XA_6T_LD.24781_2026H1.xlsx").is_file()  # where the next line expects it
        if sub == "report":
            assert all(Path(x).is_file() for x in re.findall(r"(?:Excel|HTML):\s+(\S+)", p.stdout))
        if sub != "--help" and sub != "template":
            assert "var/demo" in p.stderr, (args, p.stderr)  # says which home it uses, and how to choose
    assert {a[1] if len(a) > 1 else "" for a, *_ in seen} >= {"serve", "web", "process", "report", "history"}

    # the state that counts now: LD.24848's second version was accepted, so it is not failing
    p = subprocess.run([".venv/bin/baocao", "cycle", "status", "2026H1", "--json"], cwd=clone, env=env,
                       capture_output=True, text=True, timeout=600)
    status = json.loads(p.stdout)
    xa = next(d for d in status["datasets"] if d["dataset_code"] == "XA_6T")
    assert "LD.24848" not in xa["units"]["rejected"] + xa["units"]["not_received"]
    assert 0 < xa["reporting_rate"] < 1 and xa["rejected"] >= 1 and xa["not_received"] >= 1
    x010 = next(u for u in status["units"] if u["unit_code"] == "LD.24848" and u["dataset_code"] == "XA_6T")
    assert x010["state"] in ("on_time", "late") and x010["version"] == 2 and x010["n_versions"] == 2


def _run_server(clone: Path, env: dict, args: list[str], seen: list) -> None:
    """`serve` and `web` run until stopped: start them (on free ports, so a test run never
    collides with another on this machine), check what they print and serve, then stop them."""
    port, web_port = _free_port(), _free_port()
    extra = ["--port", str(port), "--web-port", str(web_port)] if args[1] == "serve" else ["--port", str(web_port)]
    log = clone / f"{args[1]}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(args + extra, cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        ready = False
        while time.monotonic() < deadline and proc.poll() is None:
            text = log.read_text(errors="replace")
            if args[1] == "serve" and "Sẵn sàng" in text:
                ready = True
                break
            if args[1] == "web":
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/", timeout=5) as r:
                        ready = r.status < 500
                except urllib.error.HTTPError as exc:
                    ready = exc.code < 500
                except OSError:
                    pass
                if ready:
                    break
            time.sleep(1)
        text = log.read_text(errors="replace")
        assert ready, (args, proc.poll(), text[-3000:])
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM if args[1] == "serve" else signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = log.read_text(errors="replace")
    seen.append((args, proc.returncode, text, ""))
    _no_traceback(text, "", args)
    assert "var/demo" in text  # the demo's home, and how to choose another
    if args[1] == "serve":
        assert f"PREFECT_API_URL=http://127.0.0.1:{port}/api" in text
        assert "prefect deployment run" not in text and "prefect deploy" not in text.replace("prefect.yaml", "")
        assert "Configure Prefect" not in text and "|_|" not in text  # Prefect's banner and advice go to the log
        assert len([x for x in text.splitlines() if x.strip()]) <= 12, text  # what the operator needs, no more
        assert (clone / "var" / "demo" / "logs" / "prefect-server.log").stat().st_size > 0
