"""The answerer: one thread of the web process that answers uploads on the warm path.

It does what the watcher's `--process` fast path and the Slack listener do (`tasks.warm`: the
stage tasks' plain bodies, so the same events, no flow run), under the same warehouse lock the
flows and the watcher take (`tasks.cycle.warehouse_lock`: the `baocao-warehouse` global concurrency limit when
$BAOCAO_WAREHOUSE_LIMIT is set), and closes its DuckDB connection before releasing it, so the web
process never keeps the writer:

  upload stored → request(sid) → [lock] parse → validate → load → feedback (outbox, annotated
  workbook) → one result file per submission (`<home>/web/results/<unit>/<sid>.json`) [unlock]
  → once no upload has come for 2 s (or every 30 s in a steady stream): [lock] marts + snapshot [unlock]

Pages read those result files (seconds after an upload) and the published snapshot (the cycle's
state). A burst coalesces: one pass takes every pending file. Operator decisions that write the
warehouse (accepting a warning, a reminder) run here too, one at a time, through `call`.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from baocao.settings import Settings

log = logging.getLogger("baocao.web")
LOCK_RETRIES = 20  # another process holding DuckDB's file lock without the Prefect limit (no server)
RETRY_FIRST_S, RETRY_MAX_S = 1.0, 30.0  # a failed answer pass, tried again when idle


def result_path(s: Settings, unit_code: str, submission_id: str) -> Path:
    return s.home / "web" / "results" / unit_code / f"{submission_id}.json"


def read_result(s: Settings, unit_code: str, submission_id: str) -> dict | None:
    try:
        return json.loads(result_path(s, unit_code, submission_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def unit_results(s: Settings, unit_code: str) -> list[dict]:
    folder = s.home / "web" / "results" / unit_code
    out = []
    for p in sorted(folder.glob("*.json")) if folder.exists() else []:
        try:
            out.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


def write_results(res, s: Settings, submission_ids: list[str]) -> int:
    """One result file per recorded submission: status, version, findings, annotated workbook."""
    from baocao.services import process

    con = res.con()
    if not submission_ids:
        return 0
    marks = ", ".join("?" * len(submission_ids))
    rows = con.execute(f"""select submission_id, unit_code, period, dataset_code, version, file_name, stored_path,
                                  received_at, status, is_late, n_errors, n_warnings
                           from raw.submission where submission_id in ({marks})""", submission_ids).fetchall()
    for sid, unit, period, ds, version, name, stored, received, status, late, n_err, n_warn in rows:
        findings = process.findings_of(res, sid)
        annotated = None
        if findings:
            folder = s.feedback / period / unit
            hits = sorted(folder.glob(f"*_kiem_tra_{sid[:8]}.xlsx")) if folder.exists() else []
            annotated = str(hits[0].relative_to(s.feedback)) if hits else None
        _write_json(result_path(s, unit, sid), {
            "submission_id": sid, "unit_code": unit, "period": period, "dataset_code": ds, "version": version,
            "file_name": name, "stored_path": stored, "received_at": received.isoformat(), "status": status,
            "is_late": bool(late), "n_errors": n_err, "n_warnings": n_warn,
            "findings": [f.as_dict() for f in findings], "annotated": annotated,
            "answered_at": time.time()})
    return len(rows)


def warm_validation(cat) -> None:
    """Run each data set's suites once (tasks.warm.warm): a unit's first upload should not pay
    for building them."""
    from tasks.warm import warm

    warm(cat)


class Answerer:
    def __init__(self, s: Settings, refresh: bool = True, idle_refresh_seconds: float = 0.3,
                 refresh_after_idle: float = 2.0, refresh_at_most_every: float = 30.0):
        self.s = s
        self.refresh = refresh
        self.idle = idle_refresh_seconds
        self._q: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="baocao-web-answerer", daemon=True)
        self._dirty = False
        # the marts and the snapshot follow the answers: refreshed once uploads pause for
        # `refresh_after_idle` seconds (or, in a steady stream, every `refresh_at_most_every`), so
        # a unit's answer never waits behind a refresh that the previous upload started
        self.refresh_after_idle = refresh_after_idle
        self.refresh_at_most_every = refresh_at_most_every
        self._last_job = 0.0
        self._dirty_since = 0.0
        self.passes = 0
        self.last_error: str | None = None
        self.timings: list[dict[str, float]] = []  # per pass: seconds per stage (bench/web.py prints them)
        self.ready = threading.Event()
        # a pass that failed (the Prefect API refusing the slot, a crash in a stage) is tried again
        # when the queue is idle, after 1 s doubling to 30 s: its files are pending, and in a burst
        # every upload may already be queued, so no later request would take them (the burst "stall")
        self._retry_ids: set[str] = set()
        self._retry_at = 0.0
        self._retry_wait = RETRY_FIRST_S

    # ------------------------------------------------------------------------------ interface

    def start(self) -> Answerer:
        if not self._thread.is_alive() and not self._stop.is_set():
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._q.put(None)
        self._thread.join(timeout)

    def request(self, submission_id: str) -> None:
        """Answer this stored submission (and whatever else is pending) as soon as possible."""
        self._q.put(("answer", submission_id))

    def call(self, fn: Callable, timeout: float = 60.0):
        """Run fn(resources) under the warehouse lock on the answerer's thread; return its result."""
        fut: Future = Future()
        self._q.put(("call", fn, fut))
        return fut.result(timeout)

    # -------------------------------------------------------------------------------- thread

    def _run(self) -> None:
        from baocao.resources import live
        from expectations import validate as validate_mod
        from tasks import cycle  # noqa: F401 - Prefect and the stage functions, imported once

        self.res = live(self.s)  # the same resources a flow run builds: warehouse writer, store, sender, events
        self.cat = self.res.cat
        validate_mod.warm()  # Great Expectations' fixed cost, paid before the first upload
        t0 = time.perf_counter()
        warm_validation(self.cat)
        self.timings.append({"warm": time.perf_counter() - t0})
        self.ready.set()
        while not self._stop.is_set():
            try:
                job = self._q.get(timeout=self.idle)
            except queue.Empty:
                if self._retry_ids and time.monotonic() >= self._retry_at:
                    self._answer_pass([])
                elif self._dirty and self.refresh and time.monotonic() - self._last_job >= self.refresh_after_idle:
                    self._guarded(self._publish)
                continue
            if (self._dirty and self.refresh and job is not None
                    and time.monotonic() - self._dirty_since >= self.refresh_at_most_every):
                self._guarded(self._publish)  # a steady stream of uploads: the snapshot still follows
            if job is None:
                break
            jobs = [job]
            while True:  # coalesce a burst: one pass answers every pending file
                try:
                    more = self._q.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._stop.set()
                    break
                jobs.append(more)
            self._last_job = time.monotonic()
            asked = [j[1] for j in jobs if j[0] == "answer"]
            calls = [j for j in jobs if j[0] == "call"]
            if asked:
                self._answer_pass(asked)
            for _, fn, fut in calls:
                try:
                    fut.set_result(self._guarded(fn, reraise=True))
                except Exception as exc:
                    fut.set_exception(exc)

    def _guarded(self, fn: Callable, reraise: bool = False):
        from tasks.cycle import warehouse_lock

        for attempt in range(LOCK_RETRIES):
            try:
                with warehouse_lock(self.res):
                    try:
                        return fn(self.res)
                    finally:
                        self.res.warehouse.close()
            except Exception as exc:
                busy = "lock" in str(exc).lower() and "duckdb" in type(exc).__module__
                if busy and attempt < LOCK_RETRIES - 1:
                    time.sleep(min(0.1 * 2 ** attempt, 2.0))
                    continue
                if reraise and isinstance(exc, ValueError):
                    raise  # a decision refused (no such warning, a rule not overridable): the caller says why
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("answerer pass failed")
                if reraise:
                    raise
                return None
        return None

    def _answer_pass(self, asked: list[str]) -> None:
        """One answer pass (with the files of a failed pass); if it fails, schedule a retry."""
        ids = sorted(set(asked) | self._retry_ids)
        if self._guarded(lambda res: self._answer(res, ids)) is None:
            self._retry_ids = set(ids)
            self._retry_at = time.monotonic() + self._retry_wait
            log.warning("answer pass failed (%s); trying again in %.0f s", self.last_error, self._retry_wait)
            self._retry_wait = min(self._retry_wait * 2, RETRY_MAX_S)
        else:
            self._retry_ids.clear()
            self._retry_wait = RETRY_FIRST_S

    def _answer(self, res, asked: list[str]) -> int:
        from tasks.warm import answer_pending

        took: dict[str, float] = {}
        records = answer_pending(res, took)  # every pending file: a burst is one micro-batch
        t0 = time.perf_counter()
        if not self._dirty:
            self._dirty_since = time.monotonic()
        self._dirty = True  # even when another process loaded them: the snapshot may not show them yet
        ids = sorted({r.submission_id for r in records} | set(asked))
        self.passes += 1
        n = write_results(res, self.s, ids)
        took["results"] = time.perf_counter() - t0
        self.timings.append({"files": len(records), **took})
        return n

    def _publish(self, res) -> None:
        from tasks import cycle as t

        t0 = time.perf_counter()
        t.publish.fn(res, t.aggregate.fn(res))
        self.timings.append({"publish": time.perf_counter() - t0})
        self._dirty = False
        _write_json(self.s.home / "web" / "published.json", {"at": time.time()})
