"""Parse a batch of stored files, each in a bounded worker (intake.isolate).

Parsing is pure Python plus calamine, so a national batch (3,321 files) splits over the machine's
cores. While the workers parse, the calling process would be idle; `while_waiting` lets it use
that time (the cycle imports Great Expectations there, a ~2.5 s fixed cost of the next stage).

Every file goes to a worker, however small the batch: the workers are started once per process
and reused, so an event-driven run that answers one file pays a pipe round trip, not a process.
A file that crashes, aborts, hangs or overruns memory gets a P08 finding and is quarantined
(`intake.store.quarantine`); a quarantined file that the warehouse has not recorded yet is
answered from its reason, without being parsed again.

`n_workers`, `seconds` and `memory_mb` come from the settings (parse_workers, parse_seconds,
parse_memory_mb); the pool size defaults to the CPU count, at most 4."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from intake import isolate
from intake import store as store_mod
from intake.parse import ParsedSubmission

log = logging.getLogger(__name__)


def workers() -> int:
    return isolate.workers()


def stop_workers() -> None:
    """Stop this process's parse workers (the next parse starts them again)."""
    isolate.close_pools()


def parse_many(items: list[tuple[Path, str | None] | tuple[Path, str | None, str | None]], cat,
               n_workers: int | None = None, while_waiting: Callable[[], object] | None = None,
               min_files: int = 0, seconds: float | None = None,
               memory_mb: int | None = None) -> list[ParsedSubmission]:
    """(path, inbox unit[, name as sent]) → ParsedSubmission, in the same order. `min_files` is
    kept for callers of the earlier pool; every file is isolated whatever the batch size."""
    full = [(Path(t[0]), t[1], t[2] if len(t) > 2 else None) for t in items]
    out: list[ParsedSubmission | None] = [None] * len(full)
    todo = []
    for i, (path, _unit, name) in enumerate(full):
        if path.parent.name == store_mod.QUARANTINE:
            out[i] = _from_quarantine(path, name)
        else:
            todo.append(i)
    if todo:
        pool = isolate.pool(cat, n_workers, seconds, memory_mb)
        result: list = []
        shared: dict[str, str] = {}
        errors: list[BaseException] = []

        def run() -> None:
            try:
                result.extend(pool.parse([full[i] for i in todo], keep=lambda p: share_strings(p, shared)))
            except BaseException as exc:  # re-raised in the caller's thread
                errors.append(exc)

        t = threading.Thread(target=run, name="parse-dispatch", daemon=True)
        t.start()
        if while_waiting:
            while_waiting()
        t.join()
        if errors:
            raise errors[0]
        for i, p in zip(todo, result, strict=True):
            out[i] = p
    elif while_waiting:
        while_waiting()
    return out  # type: ignore[return-value]


SHARED_MAX = 64  # strings this short are shared across the batch's files; longer ones (notes, texts) are not


def share_strings(p: ParsedSubmission, shared: dict[str, str]) -> ParsedSubmission:
    """Each file comes back from its worker with its own copies of the same few strings (element
    codes, sheet and cell names, task statuses, common numbers): a national batch would hold
    ~13,000 copies of "Chỉ tiêu". Replace each short string value by the batch's one copy
    (`shared` is the batch's table); the values are unchanged."""
    for rows in (p.values, p.tasks, p.texts):
        for d in rows:
            for k, v in d.items():
                if type(v) is str and len(v) <= SHARED_MAX:
                    d[k] = shared.setdefault(v, v)
    return p


def _from_quarantine(path: Path, name: str | None) -> ParsedSubmission:
    sid = path.name[:20]
    try:
        reason = json.loads((path.parent / f"{sid}.reason.json").read_text(encoding="utf-8"))
        kind, _, detail = reason.get("reason_en", "error: ?").partition(": ")
    except (OSError, ValueError):
        kind, detail = "error", "?"
    if kind not in ("timeout", "memory", "signal", "exit", "error"):
        kind, detail = "error", kind
    p = isolate.failed(path, name or path.name, isolate.Failure(kind, detail))
    p.failure = None  # already quarantined
    return p


def quarantine_failures(files: list[store_mod.StoredFile], parsed: list[ParsedSubmission]) -> list[store_mod.StoredFile]:
    """Quarantine every file whose worker failed on it; returns the files as they now are."""
    out = []
    for f, p in zip(files, parsed, strict=True):
        if p.failure:
            vi = p.findings[-1].message_vi if p.findings else "Tệp không đọc được"
            dest = store_mod.quarantine(f, vi, p.failure)
            f = replace(f, path=dest)
            p.path = dest
        out.append(f)
    return out
