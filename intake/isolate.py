"""Every file is parsed in a worker process with its own time and memory bound.

A unit's file is hostile until read. The parser is careful, but the libraries under it (zip,
calamine's Rust, CPython's XML) can still abort, allocate without end or take too long on a file
built for it. So no file is parsed in a process that matters (the watcher, `serve`, a flow run):
each goes to a worker of a small pool that lives as long as the process that uses it.

* time: each file gets `seconds` (default `FILE_SECONDS`, 20 s; the settings' parse_seconds,
  BAOCAO_PARSE_SECONDS) of wall time from the
  moment its worker starts on it; past that the worker is killed and replaced;
* memory: each worker runs under RLIMIT_AS = `memory_mb` (default `MEMORY_MB`, 1536 MB; the
  settings' parse_memory_mb, BAOCAO_PARSE_MEMORY_MB),
  so a file that makes a library ask for 512 GiB gets a refused allocation (MemoryError or an
  abort), not the machine's memory;
* a worker that dies (SIGABRT, SIGSEGV, killed by the kernel) is replaced and its file tried once
  more on a fresh worker (a worker killed from outside costs time, not a file); if it dies again,
  or the file overran its time or memory, the file gets a P08 finding saying what happened, in Vietnamese first ("Tệp không đọc được — hãy lưu lại bằng
  Excel và gửi lại"), and is quarantined (intake.store.quarantine) so no later run parses it
  again; the rest of the batch goes on, on the other workers and the replacement.

Workers are reused across files (starting one costs ~0.3 s of imports), so isolation costs a pipe
round trip per file at national scale, not a process. The settings' parse_workers
(BAOCAO_PARSE_WORKERS) set the pool size (default: the CPU count, at most 4). Nothing here reads
the environment: the limits are handed in.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from baocao.findings import error
from intake.parse import ParsedSubmission, parse_file

log = logging.getLogger(__name__)
FILE_SECONDS = 20.0  # defaults of Settings.parse_seconds / parse_memory_mb
MEMORY_MB = 1536
START_SECONDS = 120.0  # a worker's imports, on a machine under load
RULE = "P08"
_FIX_VI = "hãy lưu lại bằng Excel (Lưu thành > Excel Workbook .xlsx) và gửi lại; nếu vẫn lỗi, dùng mẫu biểu gốc"
_FIX_EN = "save it again in Excel (Save As > Excel Workbook .xlsx) and send it again; if it still fails, use the original form"


def workers() -> int:
    """The default pool size: the CPU count, at most 4."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(4, n))


# ------------------------------------------------------------------------------ what went wrong

@dataclass(frozen=True)
class Failure:
    kind: str       # timeout | memory | signal | exit | error
    detail: str     # the signal's name, the exception's type, the limit

    def finding(self, name: str):
        why_vi, why_en = {
            "timeout": (f"đọc tệp mất hơn {self.detail} giây", f"reading it took more than {self.detail} s"),
            "memory": (f"đọc tệp cần hơn {self.detail} MB bộ nhớ", f"reading it needed more than {self.detail} MB of memory"),
            "signal": (f"trình đọc bị dừng đột ngột ({self.detail})", f"the reader stopped abruptly ({self.detail})"),
            "exit": (f"trình đọc dừng bất thường (mã {self.detail})", f"the reader exited abnormally (code {self.detail})"),
            "error": (f"cấu trúc bên trong tệp không hợp lệ ({self.detail})", f"its inner structure is invalid ({self.detail})"),
        }[self.kind]
        return error(RULE, f"Tệp không đọc được — {why_vi}", f"The file cannot be read — {why_en}",
                     value_raw=name, expected_vi=_FIX_VI, expected_en=_FIX_EN)

    @property
    def reason_en(self) -> str:
        return f"{self.kind}: {self.detail}"


def failed(path: Path, name: str, failure: Failure) -> ParsedSubmission:
    p = ParsedSubmission(path=Path(path), file_format="unknown")
    p.findings.append(failure.finding(name))
    p.failure = failure.reason_en
    return p


# ------------------------------------------------------------------------------------ worker

def _limit_memory(mb: int) -> None:
    if mb > 0:
        limit = mb * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _serve(conn, cat, memory_mb: int, target: Callable) -> None:
    """A worker: parse what the pool sends, one file at a time, until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _limit_memory(memory_mb)
    conn.send(("ready", None))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        path, unit, name = msg
        try:
            out = ("ok", target(Path(path), inbox_unit=unit, cat=cat, name=name))
        except MemoryError:
            out = ("memory", str(memory_mb))
        except Exception as exc:  # any exception is the file's, reported as such
            out = ("error", type(exc).__name__)
        try:
            conn.send(out)
        except MemoryError:
            conn.send(("memory", str(memory_mb)))


class _Worker:
    def __init__(self, ctx, cat, memory_mb: int, target: Callable):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, cat, memory_mb, target), daemon=True)
        self.proc.start()
        child.close()
        self.job: int | None = None
        self.started = 0.0
        self.spawned = time.monotonic()
        self.ready = False

    def kill(self) -> None:
        try:
            self.proc.kill()
        except (OSError, ValueError):
            pass
        self.proc.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.kill()
        else:
            self.conn.close()

    def death(self) -> Failure:
        self.proc.join(5)
        code = self.proc.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return Failure("signal", name)
        return Failure("exit", str(code))


class Pool:
    """A pool of bounded parse workers; a worker that dies or overruns is replaced."""

    def __init__(self, cat, n_workers: int | None = None, seconds: float | None = None,
                 memory_mb: int | None = None, target: Callable = parse_file):
        self.cat, self.target = cat, target
        self.n = n_workers or workers()
        self.seconds = FILE_SECONDS if seconds is None else seconds
        self.memory_mb = MEMORY_MB if memory_mb is None else memory_mb
        self.ctx = multiprocessing.get_context("forkserver")
        self.live: list[_Worker] = []
        self.lock = threading.Lock()
        self.replaced = 0

    def _spawn(self) -> _Worker:
        return _Worker(self.ctx, self.cat, self.memory_mb, self.target)

    def parse(self, items: list[tuple[Path, str | None, str | None]],
              keep: Callable[[ParsedSubmission], ParsedSubmission] | None = None) -> list[ParsedSubmission]:
        """(path, inbox unit, name as sent) → ParsedSubmission, in order; a file that breaks its
        worker gets a P08 finding (`.failure` says why) and the others are parsed regardless.
        `keep` is applied to each result as it arrives (intake.batch shares its strings)."""
        with self.lock:
            return self._parse(items, keep or (lambda p: p))

    def _parse(self, items, keep) -> list[ParsedSubmission]:
        out: list[ParsedSubmission | None] = [None] * len(items)
        todo = list(range(len(items)))[::-1]
        while len(self.live) < min(self.n, len(items)):
            self.live.append(self._spawn())
        busy: dict[object, _Worker] = {}
        starting: dict[object, _Worker] = {w.conn: w for w in self.live if not w.ready}
        retried: set[int] = set()
        failed_starts = 0

        def feed(w: _Worker) -> None:
            if not todo:
                return
            i = todo.pop()
            path, unit, name = items[i]
            w.job, w.started = i, time.monotonic()  # the file's clock starts when its worker is ready
            try:
                w.conn.send((str(path), unit, name))
            except (OSError, ValueError):  # the worker died between files
                w.job = None
                todo.append(i)
                fresh = self._replace(w)
                starting[fresh.conn] = fresh
                return
            busy[w.conn] = w

        for w in list(self.live):
            if w.ready:
                feed(w)
        while busy or (todo and starting):
            now = time.monotonic()
            deadline = min([w.started + self.seconds for w in busy.values()]
                           + [w.spawned + START_SECONDS for w in starting.values()])
            for conn in wait(list(busy) + list(starting), timeout=max(0.0, deadline - now)):
                if conn in starting:
                    w = starting.pop(conn)
                    try:
                        conn.recv()  # ("ready", None)
                        w.ready, failed_starts = True, 0
                        feed(w)
                    except (EOFError, OSError):
                        failed_starts += 1
                        if failed_starts > 3:
                            raise RuntimeError(f"parse workers cannot start ({w.death().reason_en})") from None
                        fresh = self._replace(w)
                        starting[fresh.conn] = fresh
                    continue
                w = busy.pop(conn)
                i = w.job
                path, _unit, name = items[i]
                try:
                    kind, value = conn.recv()
                except (EOFError, OSError):
                    death = w.death()
                    fresh = self._replace(w)
                    starting[fresh.conn] = fresh
                    if i not in retried:  # killed from outside (the OOM killer, an operator)? once more
                        retried.add(i)
                        todo.append(i)
                    else:
                        out[i] = failed(path, name or Path(path).name, death)
                    continue
                out[i] = keep(value) if kind == "ok" else failed(path, name or Path(path).name, Failure(kind, value))
                w.job = None
                feed(w)
            now = time.monotonic()
            for conn, w in list(busy.items()):
                if now - w.started < self.seconds:
                    continue
                busy.pop(conn)
                path, _unit, name = items[w.job]
                out[w.job] = failed(path, name or Path(path).name, Failure("timeout", f"{self.seconds:g}"))
                fresh = self._replace(w)
                starting[fresh.conn] = fresh
            for w in list(starting.values()):
                if now - w.spawned > START_SECONDS:
                    raise RuntimeError(f"a parse worker did not start within {START_SECONDS:g} s")
        return out  # type: ignore[return-value]

    def _replace(self, w: _Worker) -> _Worker:
        w.kill()
        self.replaced += 1
        fresh = self._spawn()
        self.live[self.live.index(w)] = fresh
        return fresh

    def close(self) -> None:
        """Stop the workers, after the batch another thread may be parsing on them."""
        with self.lock:
            for w in self.live:
                w.stop()
            self.live = []


# -------------------------------------------------------------------------- the process's pool

_POOLS: dict[tuple, Pool] = {}


def pool(cat, n_workers: int | None = None, seconds: float | None = None, memory_mb: int | None = None) -> Pool:
    """The process's pool for this catalog and these limits (started on first use, reused by
    every later batch)."""
    seconds = FILE_SECONDS if seconds is None else seconds
    memory_mb = MEMORY_MB if memory_mb is None else memory_mb
    key = (str(getattr(cat, "folder", "")), id(cat), n_workers or workers(), seconds, memory_mb)
    if key not in _POOLS:
        for old in _POOLS.values():
            old.close()
        _POOLS.clear()
        _POOLS[key] = Pool(cat, n_workers, seconds=seconds, memory_mb=memory_mb)
    return _POOLS[key]


def close_pools() -> None:
    for p in _POOLS.values():
        p.close()
    _POOLS.clear()


def parse_one(path: Path, inbox_unit: str | None = None, cat=None, name: str | None = None,
              n_workers: int | None = None, seconds: float | None = None,
              memory_mb: int | None = None) -> ParsedSubmission:
    import catalog as catalog_mod

    cat = cat or catalog_mod.load()
    return pool(cat, n_workers, seconds, memory_mb).parse([(Path(path), inbox_unit, name)])[0]
