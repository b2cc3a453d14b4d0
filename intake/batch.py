"""Parse a batch of stored files on a small process pool.

Each file is independent and parsing is pure Python plus calamine, so a national batch (3,321
files, ~3 s on one core) splits over the machine's cores. While the pool works, the calling
process would be idle in `Future.result()`; `while_waiting` lets it use that time (the cycle imports
Great Expectations there, a ~2.5 s fixed cost of the next stage).

Small batches (an event-driven run answers one file) are parsed in-process: starting a pool
costs more than it saves. Workers come from a `forkserver` (a clean process, not a copy of a
parent that holds Prefect's threads or a DuckDB connection). If a worker dies, the batch is
parsed again in-process, so a pool problem costs time, never a submission.

BAOCAO_PARSE_WORKERS sets the pool size (default: the CPU count, at most 4; 1 = no pool)."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from intake.parse import ParsedSubmission, parse_file

POOL_MIN_FILES = 200  # below this, in-process is faster than starting workers
log = logging.getLogger(__name__)
_CAT = None


def workers() -> int:
    raw = os.environ.get("BAOCAO_PARSE_WORKERS", "").strip()
    if raw:
        return max(1, int(raw))
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def _init(cat) -> None:
    global _CAT
    _CAT = cat


def _parse_chunk(items: list[tuple[str, str | None]]) -> list[ParsedSubmission]:
    return [parse_file(Path(p), inbox_unit=u, cat=_CAT) for p, u in items]


def parse_many(items: list[tuple[Path, str | None]], cat, n_workers: int | None = None,
               while_waiting: Callable[[], object] | None = None,
               min_files: int = POOL_MIN_FILES) -> list[ParsedSubmission]:
    """(path, inbox unit) pairs → ParsedSubmission, in the same order."""
    n = workers() if n_workers is None else n_workers
    if n <= 1 or len(items) < min_files:
        return [parse_file(p, inbox_unit=u, cat=cat) for p, u in items]
    size = -(-len(items) // (n * 4))  # a few chunks per worker, so a slow chunk does not hold the end
    chunks = [[(str(p), u) for p, u in items[i:i + size]] for i in range(0, len(items), size)]
    try:
        ctx = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(n, mp_context=ctx, initializer=_init, initargs=(cat,)) as pool:
            futures = [pool.submit(_parse_chunk, c) for c in chunks]
            if while_waiting:
                while_waiting()
            return [p for f in futures for p in f.result()]
    except BrokenProcessPool as exc:  # a worker died (killed, out of memory): lose time, not files
        log.warning("parse pool failed (%s); parsing %d files in-process", exc, len(items))
        return [parse_file(p, inbox_unit=u, cat=cat) for p, u in items]
