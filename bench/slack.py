"""Slack door latency: a unit shares its file in its channel → the feedback is in the file's thread.

    .venv/bin/python -m bench.slack                      # 50 shares, SQLite then PostgreSQL
    .venv/bin/python -m bench.slack --files 10 --db sqlite --keep

`baocao serve` runs as in operation (local Prefect server, work pool, prefect.yaml's deployments,
process worker, inbox watcher) and, because SLACK_APP_TOKEN is set, the Slack listener, all
pointed at the local two-way Slack server (testing.slack_socket_server) started here. Each
unit's file (the demo's XA_6T workbooks, LD catalog) is shared in its own channel by its contact,
one at a time (the next after the previous answer, plus a pause), so each latency is that of an
isolated share: the event over the socket, files.info, the download, the store, the
baocao.submission.received event, processing on the listener's warm path (parse, validate, load,
the outbox), the reply in the thread. Latency = the reply's ts − the moment the share was posted.
A first share warms the listener (imports) and is reported apart. The annotated workbook, when
there is one, is uploaded right after the reply and is not in the figure.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY = "ready: PREFECT_API_URL="
PERIOD = "2026H1"
LISTENING = "listening (Socket Mode)"


def _reply_ts(slack, channel: str, ts: str) -> float | None:
    for m in slack.thread(channel, ts):
        key = ((m.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        if key.startswith(f"feedback:{PERIOD}:"):
            return float(m["ts"])
    return None


STAGE = re.compile(r"(warehouse slot|parse|validate|load|notify|answer sent|announced|processed and answered|released)"
                   r" (\d+\.\d+) s")


def stages(log_text: str, skip: int = 1) -> dict[str, float]:
    """Median seconds per stage of the listener's shares (its log lines; the first `skip` shares,
    the warm-up, left out): announced (the event), warehouse slot (waiting for the writer
    through the Prefect API), parse, validate, load, notify (outbox, annotated workbook,
    hand-off), processed and answered (all of that), delivery checked (the reply and the
    workbook posted)."""
    per: dict[str, list[float]] = {}
    slot_lines = [ln for ln in log_text.splitlines() if "warehouse slot" in ln][skip:]
    share_lines = [ln for ln in log_text.splitlines() if "processed and answered" in ln][skip:]
    for ln in slot_lines + share_lines:
        for name, secs in STAGE.findall(ln):
            per.setdefault(name, []).append(float(secs))
    return {k: statistics.median(v) for k, v in per.items()}


def measure(n: int = 50, pause: float = 1.0, wait_each: float = 240.0, keep: bool = False, db: str = "sqlite") -> dict:
    """{'p50', 'p95', 'latencies', 'warmup', 'reason'}; p50/p95 None when not measured."""
    if db == "sqlite":
        return _measure(n, pause, wait_each, keep, {})
    from testing import pg

    try:
        with pg.cluster() as url:
            return _measure(n, pause, wait_each, keep, {"PREFECT_API_DATABASE_CONNECTION_URL": url})
    except pg.Unavailable as exc:
        return {"p50": None, "p95": None, "latencies": [], "reason": f"no PostgreSQL: {exc}"}


def _measure(n: int, pause: float, wait_each: float, keep: bool, db_env: dict) -> dict:
    from baocao.resources import live
    from baocao.services import cycles
    from baocao.settings import settings
    from cli.procs import free_port, stop_serve_group
    from testing import demo
    from testing.slack_socket_server import from_recipients

    tmp = Path(tempfile.mkdtemp(prefix="baocao-bench-slack-"))
    s = settings(tmp / "home")
    with live(s) as res:
        cycles.open_cycle(res, PERIOD)  # the operator opens the cycle
    plan = demo.generate(tmp / "staging", PERIOD, with_problems=False)
    files = [f for f in plan.files if f["dataset"] == "XA_6T"][: n + 1]
    slack = from_recipients().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SLACK_"))}
    env.update({"PREFECT_HOME": str(tmp / "prefect"), "BAOCAO_HOME": str(s.home), "SLACK_BOT_TOKEN": slack.token,
                "SLACK_API_URL": slack.url, "SLACK_APP_TOKEN": slack.app_token, "PREFECT_LOGGING_LEVEL": "WARNING",
                "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false",
                **db_env})
    log = tmp / "serve.log"
    port = free_port()
    t_start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", "from cli.app import app; app()", "serve", "--home",
                                 str(s.home), "--port", str(port), "--no-ui", "--web-port", str(free_port())],
                                cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    result: dict = {"p50": None, "p95": None, "latencies": [], "warmup": None}
    try:
        end = time.monotonic() + 300
        while READY not in log.read_text(errors="replace") or slack.connections_opened == 0:
            if proc.poll() is not None or time.monotonic() > end:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                result["reason"] = f"baocao serve (with the listener) did not become ready ({proc.poll()}): {tail}"
                return result
            time.sleep(0.5)
        result["startup_s"] = time.monotonic() - t_start
        for i, f in enumerate(files):
            unit, path = f["unit"], Path(f["path"])
            user = slack.user_id(f"baocao.{unit.lower().replace('.', '-')}@example.vn")
            channel = f"bc-{unit.lower().replace('.', '-')}"
            t0 = time.time()
            event = slack.share_file(channel, user, path.name, path.read_bytes())
            end = time.monotonic() + wait_each
            ts = None
            while ts is None and time.monotonic() < end and proc.poll() is None:
                time.sleep(0.05)
                ts = _reply_ts(slack, channel, event["ts"])
            if ts is None:
                result["reason"] = f"no reply in the thread for {unit} within {wait_each:.0f} s (serve exit {proc.poll()})"
                break
            if i == 0:
                result["warmup"] = ts - t0
            else:
                result["latencies"].append(ts - t0)
            time.sleep(pause)
        lat = sorted(result["latencies"])
        if lat:
            result["p50"] = statistics.median(lat)
            result["p95"] = lat[max(0, math.ceil(0.95 * len(lat)) - 1)]  # nearest rank
            result.setdefault("reason", f"{len(lat)} isolated shares after 1 warm-up share; LD catalog; serve defaults")
        result["stages"] = stages(log.read_text(errors="replace"))
        return result
    finally:
        stop_serve_group(proc)
        slack.stop()
        if keep:
            print(f"# slack: kept {tmp} (serve.log, home, prefect)", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Slack door latency: file shared → feedback in its thread")
    ap.add_argument("--files", type=int, default=50, help="measured shares (after one warm-up share)")
    ap.add_argument("--db", default="sqlite,postgresql", help="Prefect server databases, in turn")
    ap.add_argument("--pause", type=float, default=1.0, help="seconds between an answer and the next share")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (serve.log, home)")
    args = ap.parse_args(argv)
    load = os.getloadavg()
    print(f"# load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores", flush=True)
    for db in args.db.split(","):
        r = measure(n=args.files, pause=args.pause, keep=args.keep, db=db)
        if r["p50"] is None:
            print(f"slack_feedback_{db}: NA ({r.get('reason')})", flush=True)
            continue
        load = os.getloadavg()
        print(f"slack_feedback_{db}: p50 {r['p50']:.2f} s, p95 {r['p95']:.2f} s, max {max(r['latencies']):.2f} s"
              f" over {len(r['latencies'])} shares; warm-up {r['warmup']:.2f} s; serve ready in"
              f" {r['startup_s']:.0f} s; load average {load[0]:.2f} ({r['reason']})", flush=True)
        print(f"#   median per stage ({db}): " + ", ".join(f"{k} {v:.2f} s" for k, v in r.get("stages", {}).items()),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
