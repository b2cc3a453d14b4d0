"""Delivery of a national cycle's notifications, measured against Slack's pace.

    python -m bench.delivery [--scale 1.0] [--stall-scale 0.1]
    python -m bench.run --delivery-only [--scale 1.0]      # the same, from the bench runner

1. **Paced delivery.** The national catalog (bench/national.py: 34 provinces, 3,321 communes ×
   scale) and the outbox a cycle leaves four days after the deadline: feedback to every commune
   that sent (93 % accepted, 4 % rejected), overdue notices to the rejected and missing, their
   escalations to each province's health department and to the operator (one digest), and the
   operator summary — enqueued with the real notify functions, handed off to the delivery store,
   delivered by `notifications.deliver.deliver` with slack_sdk's WebClient against the local
   Slack server in its own process, which refuses (429) more than ~1 post/s per channel like Slack.
   The per-channel minimum is what Slack's pace allows at best: (most posts to one channel − 1) ×
   1 s. Target: delivery ≤ 1.2 × that minimum.
2. **A Slack that stalls.** Every chat.postMessage hangs `--stall` seconds (then is stored, as a
   server that is slow, not down, would). A run with `--deadline` must end by it, leave the rest
   pending, lose nothing; once Slack is back (and the hung posts have landed), the next run
   delivers everything, each message once (hung posts are found in history, not posted again).
   `stall_*`: posts hang longer than the request timeout (the circuit breaker opens); `slow_*`:
   each post takes 2 s, under the timeout (no breaker: the deadline alone ends the run).

Prints `name=value` lines (with the load average: the machine is shared, figures are noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
DEADLINE_LOCAL = (2026, 7, 10, 23, 59, 59)


@contextmanager
def slack_process(recipients_csv: Path, *extra: str):
    """The local Slack server as a child process; yields (url, token, base for /_baocao)."""
    proc = subprocess.Popen([sys.executable, "-m", "testing.slack_server", "--port", "0",
                             "--recipients", str(recipients_csv), *extra], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    env = {}
    try:
        while len(env) < 2:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("the local Slack server did not start")
            k, _, v = line.strip().partition("=")
            if k in ("SLACK_API_URL", "SLACK_BOT_TOKEN"):
                env[k] = v
        yield env["SLACK_API_URL"], env["SLACK_BOT_TOKEN"], env["SLACK_API_URL"].removesuffix("/api/")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=120) as resp:
        return json.loads(resp.read().decode("utf-8"))


def build_outbox(folder: Path, scale: float, seed: int = 20260630) -> tuple[Path, Path, dict]:
    """A national cycle's outbox four days after the deadline; returns (warehouse, catalog dir, mix)."""
    from bench import national
    from notifications import outbox
    from notifications.notify import enqueue_feedback, enqueue_operator_summary, enqueue_schedule
    from notifications.schedule import TZ
    from warehouse.migrate import upgrade

    cat_dir = folder / "catalog"
    cat = national.write_catalog(cat_dir, scale)
    communes = national.communes(cat)
    rng = random.Random(f"{seed}:delivery")
    deadline = datetime(*DEADLINE_LOCAL, tzinfo=TZ)
    now = deadline + timedelta(days=4)
    status = {}
    for code in communes:
        r = rng.random()
        status[code] = "accepted" if r < 0.93 else "rejected" if r < 0.97 else "missing"
    db = folder / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    upgrade(con)
    con.execute("begin transaction")
    with outbox.batch(con):
        for i, code in enumerate(communes):
            if status[code] != "missing":
                enqueue_feedback(con, unit_code=code, period=national.PERIOD, dataset_code=national.DATASET,
                                 submission_id=f"s{i:05d}", status=status[code], findings=[], version=1,
                                 received_at=deadline - timedelta(days=2, minutes=i % 600), deadline=deadline,
                                 catalog_dir=cat_dir)
        enqueue_schedule(con, dataset_code=national.DATASET, period=national.PERIOD, deadline=deadline, now=now,
                         units=[(c, status[c] == "accepted", status[c] != "missing") for c in communes],
                         catalog_dir=cat_dir)
        enqueue_operator_summary(con, dataset_code=national.DATASET, period=national.PERIOD, stage="bench",
                                 units=[(c, status[c]) for c in communes], deadline=deadline, as_of=now,
                                 catalog_dir=cat_dir)
    con.execute("commit")
    con.close()
    return db, cat_dir, dict(Counter(status.values()))


def _handoff(db: Path):
    from notifications.store import OutboxStore, handoff, path_for

    con = duckdb.connect(str(db))
    store = OutboxStore(path_for(db))
    handoff(con, store)
    con.close()  # delivery runs without the warehouse
    return store


def paced(folder: Path, scale: float, workers: int) -> dict:
    from notifications.deliver import deliver
    from notifications.sender import SlackSender

    t0 = time.perf_counter()
    db, cat_dir, mix = build_outbox(folder, scale)
    store = _handoff(db)
    prepared = time.perf_counter() - t0
    rows = store.pending()
    with slack_process(cat_dir / "recipients.csv", "--pace-channels") as (url, token, base):
        sender = SlackSender(token, url)
        t1 = time.perf_counter()
        report = deliver(store, sender, pace_s=1.0, workers=workers, deadline_s=3600)
        took = time.perf_counter() - t1
        msgs = _get(base + "/_baocao/messages")["messages"]
        rejected = _get(base + "/_baocao/stall?seconds=0")["rejected_by_pace"]
    per_channel = Counter(m["channel"] for m in msgs)
    busiest = max(per_channel.values())
    minimum = (busiest - 1) * 1.0
    keys = Counter(m["metadata"]["event_payload"]["key"] for m in msgs if m.get("metadata"))
    return {
        "delivery_scale": scale,
        "delivery_communes": sum(mix.values()),
        "delivery_mix": " ".join(f"{k}:{v}" for k, v in sorted(mix.items())),
        "delivery_rows": len(rows),
        "delivery_posts": len(msgs),
        "delivery_channels": len(per_channel),
        "delivery_busiest_channel_posts": busiest,
        "delivery_superseded": len(report.superseded),
        "delivery_digested": len(report.digested),
        "delivery_failed": len(report.failed),
        "delivery_pending": len(report.pending),
        "delivery_duplicates": sum(n - 1 for n in keys.values() if n > 1),
        "delivery_rejected_by_pace": rejected,
        "delivery_workers": workers,
        "delivery_prepare_seconds": prepared,
        "delivery_seconds": took,
        "delivery_per_channel_min_seconds": minimum,
        "delivery_over_min": took / minimum if minimum else float("nan"),
    }


def stalling(folder: Path, scale: float, deadline_s: float, stall_s: float, workers: int,
             prefix: str = "stall") -> dict:
    from notifications.deliver import deliver
    from notifications.sender import SlackSender

    db, cat_dir, _ = build_outbox(folder, scale)
    store = _handoff(db)
    expected = {r["key"] for r in store.pending()}
    with slack_process(cat_dir / "recipients.csv", "--stall", str(stall_s),
                       "--stall-method", "chat.postMessage") as (url, token, base):
        sender = SlackSender(token, url)
        t0 = time.perf_counter()
        first = deliver(store, sender, deadline_s=deadline_s, workers=workers, settle_s=stall_s + 5)
        run_s = time.perf_counter() - t0
        pending_after = len(store.rows(status="pending"))
        _get(base + "/_baocao/stall?seconds=0")
        # Slack is back; wait until the hung posts have landed and settled (last claim + settle)
        last_claim = max((r["claimed_at"] or 0) for r in store.rows())
        time.sleep(max(stall_s + 1, last_claim + stall_s + 5 - time.time() + 1))
        t1 = time.perf_counter()
        second = deliver(store, sender, deadline_s=3600, workers=workers, pace_s=1.0, settle_s=stall_s + 5)
        recover_s = time.perf_counter() - t1
        msgs = _get(base + "/_baocao/messages")["messages"]
    posted = Counter(m["metadata"]["event_payload"]["key"] for m in msgs if m.get("metadata"))
    rows = {r["key"]: r for r in store.rows()}
    digests = {k for k, r in rows.items() if r["stage"] == "digest"}
    # lost: recorded as delivered (sent, or inside a digest) but not in Slack, or given up (failed)
    lost = {k for k, r in rows.items() if (r["status"] == "sent" and k not in posted)
            or (r["status"] == "digested" and r["error"] not in posted) or r["status"] == "failed"}
    waiting = {k for k, r in rows.items() if r["status"] == "pending"}
    return {
        f"{prefix}_rows": len(expected),
        f"{prefix}_post_hang_seconds": stall_s,
        f"{prefix}_deadline_seconds": deadline_s,
        f"{prefix}_run_seconds": run_s,
        f"{prefix}_run_ended_by_deadline": run_s <= deadline_s,
        f"{prefix}_breaker_open": first.breaker_open,
        f"{prefix}_pending_after_run": pending_after,
        f"{prefix}_failed": len(first.failed) + len(second.failed),
        f"{prefix}_recovered_from_history": len(second.recovered),
        f"{prefix}_recovery_run_seconds": recover_s,
        f"{prefix}_lost": len(lost),
        f"{prefix}_still_pending": len(waiting),
        f"{prefix}_unaccounted": len(expected - set(rows)),
        f"{prefix}_lost_or_pending_keys": " ".join(f"{k}[{rows[k]['status']},{rows[k]['attempts']},{rows[k]['error']}]"
                                    for k in sorted(lost | waiting)[:5]) or "-",
        f"{prefix}_duplicates": sum(n - 1 for n in posted.values() if n > 1),
        f"{prefix}_digests": len(digests),
    }


def measure(scale: float = 1.0, stall_scale: float = 0.1, workers: int = 16, deadline_s: float = 30.0,
            stall_s: float = 20.0, keep: bool = False) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="baocao-delivery-"))
    try:
        out = paced(folder / "paced", scale, workers)
        out.update(stalling(folder / "stall", stall_scale, deadline_s, stall_s, workers))
        # slow, not hung: each post takes 2 s (under the request timeout), so no breaker — the
        # deadline alone must end the run
        out.update(stalling(folder / "slow", stall_scale, deadline_s, 2.0, workers, prefix="slow"))
        return out
    finally:
        if not keep:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


def _fmt(v) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="national scale of the paced run (1.0 = 3,321 communes)")
    ap.add_argument("--stall-scale", type=float, default=0.1, help="scale of the stalling-Slack run")
    ap.add_argument("--workers", type=int, default=16, help="delivery threads (channels in parallel)")
    ap.add_argument("--deadline", type=float, default=30.0, help="run deadline of the stalling-Slack run (s)")
    ap.add_argument("--stall", type=float, default=20.0, help="how long each post hangs (s)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    print("# load average at start: {:.2f} {:.2f} {:.2f} on {} cores".format(*os.getloadavg(), os.cpu_count()))
    res = measure(args.scale, args.stall_scale, args.workers, args.deadline, args.stall, args.keep)
    print("# load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for k, v in res.items():
        print(f"{k}={_fmt(v)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
