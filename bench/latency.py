"""Event-driven feedback latency: a unit's file lands in its inbox → the unit's feedback message
is in Slack, with `baocao serve` (local Prefect server, process work pool, prefect.yaml's
deployments, process worker, inbox watcher — all with their default intervals) and the local
Slack server.

Files are dropped one at a time (the next after the previous answer, plus a pause), so each
latency is that of an isolated arrival: watcher poll + settle, the baocao.submission.received
event, the automation, the worker's poll, a fresh flow-run process (imports included), parse,
validate, load, and the Slack post. Latency = the Slack message's ts − the moment the file was
renamed into the inbox. A first drop warms the server and is reported apart.

The served flows use the reviewed catalog (catalog/, province LD): the national catalog of the
cycle benchmark cannot be handed to a deployment, and latency is per submission anyway.
Needs prefect.yaml and cli/procs.py (`baocao serve`); without them: NA with the reason.
"""

from __future__ import annotations

import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEEDS = ("prefect.yaml", "cli/procs.py")
READY = "ready: PREFECT_API_URL="
PERIOD = "2026H1"


def missing() -> list[str]:
    return [p for p in NEEDS if not (ROOT / p).exists()]


def _stop_group(proc: subprocess.Popen) -> None:
    from cli.procs import stop_serve_group

    stop_serve_group(proc)


def _feedback_ts(slack, unit: str) -> float | None:
    channel = f"bc-{unit.lower().replace('.', '-')}"
    for m in slack.messages(channel):
        key = ((m.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        if key.startswith(f"feedback:{PERIOD}:") and f":{unit}:" in key:
            return float(m["ts"])
    return None


def _phases(api: str, drops: list[tuple[float, float]]) -> dict | None:
    """Median split of the measured drops from the server's flow runs of process-submission:
    drop → run created (watcher, event, automation), created → running (worker poll, a fresh
    process, imports), running → Slack post (the flow's work)."""
    from datetime import datetime

    import httpx

    try:
        with httpx.Client(base_url=api, timeout=10) as http:
            deps = http.post("/deployments/filter", json={}).json()
            dep = next(d["id"] for d in deps if d["name"] == "process-submission")
            runs = http.post("/flow_runs/filter", json={"deployments": {"id": {"any_": [dep]}},
                                                         "sort": "EXPECTED_START_TIME_ASC"}).json()
    except (httpx.HTTPError, StopIteration, KeyError, ValueError):
        return None

    def t(x):
        return datetime.fromisoformat(x).timestamp() if x else None

    runs = [(t(r["created"]), t(r["start_time"])) for r in runs]
    split = {"drop_to_run_created": [], "created_to_running": [], "running_to_slack": []}
    for t0, ts in drops:
        run = next(((c, st) for c, st in runs if c is not None and st is not None and t0 <= c <= ts), None)
        if run is None:
            continue
        split["drop_to_run_created"].append(run[0] - t0)
        split["created_to_running"].append(run[1] - run[0])
        split["running_to_slack"].append(ts - run[1])
    return {k: statistics.median(v) for k, v in split.items() if v}


def measure(n: int = 10, pause: float = 3.0, wait_each: float = 240.0, keep: bool = False, db: str = "sqlite") -> dict:
    """{'p50', 'p95', 'latencies', 'warmup', 'reason'}; p50/p95 None when not measured. `db` is the
    Prefect server's database: sqlite (in PREFECT_HOME) or postgresql (a throw-away cluster)."""
    gone = missing()
    if gone:
        return {"p50": None, "p95": None, "latencies": [],
                "reason": f"{' and '.join(gone)} not present (event-driven serving not built yet); nothing to measure"}
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
    from cli.procs import free_port
    from intake.watch import copy_into_inbox
    from testing import demo
    from testing.slack_server import from_recipients

    tmp = Path(tempfile.mkdtemp(prefix="baocao-bench-latency-"))
    s = settings(tmp / "home")
    with live(s) as res:
        cycles.open_cycle(res, PERIOD)   # the operator opens the cycle
    plan = demo.generate(tmp / "staging", PERIOD, with_problems=False)
    files = [f for f in plan.files if f["dataset"] == "XA_6T"][: n + 1]
    slack = from_recipients().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(tmp / "prefect"), "BAOCAO_HOME": str(s.home), "SLACK_BOT_TOKEN": slack.token,
                "SLACK_API_URL": slack.url, "PREFECT_LOGGING_LEVEL": "WARNING", "DO_NOT_TRACK": "1",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false", **db_env})
    log = tmp / "serve.log"
    port = free_port()
    t_start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", "from cli.app import app; app()", "serve", "--home",
                                 str(s.home), "--port", str(port), "--no-ui"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    result: dict = {"p50": None, "p95": None, "latencies": [], "warmup": None}
    drops: list[tuple[float, float]] = []
    try:
        end = time.monotonic() + 300
        while READY not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > end:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                result["reason"] = f"baocao serve did not become ready ({proc.poll()}): {tail}"
                return result
            time.sleep(0.5)
        result["startup_s"] = time.monotonic() - t_start
        for i, f in enumerate(files):
            src, unit = Path(f["path"]), f["unit"]
            t0 = time.time()
            copy_into_inbox(src, unit, s)
            end = time.monotonic() + wait_each
            ts = None
            while ts is None and time.monotonic() < end and proc.poll() is None:
                time.sleep(0.1)
                ts = _feedback_ts(slack, unit)
            if ts is None:
                result["reason"] = f"no feedback for {unit} within {wait_each:.0f} s (serve exit {proc.poll()})"
                break
            if i == 0:
                result["warmup"] = ts - t0
            else:
                result["latencies"].append(ts - t0)
                drops.append((t0, ts))
            time.sleep(pause)
        result["phases"] = _phases(f"http://127.0.0.1:{port}/api", drops)
        lat = sorted(result["latencies"])
        if lat:
            result["p50"] = statistics.median(lat)
            result["p95"] = lat[max(0, math.ceil(0.95 * len(lat)) - 1)]  # nearest rank
            result.setdefault("reason", f"{len(lat)} isolated drops after 1 warm-up drop; LD catalog; "
                                        "serve defaults (watch 1 s + settle 0.5 s, --fast; worker poll 2 s)")
        return result
    finally:
        _stop_group(proc)
        slack.stop()
        if keep:
            print(f"# latency: kept {tmp} (serve.log, home, prefect)", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
