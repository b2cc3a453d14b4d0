"""Watching the inbox: take each new file into the store and announce it.

`baocao watch` polls the inbox (a local folder `inbox/<unit_code>/…`, or an fsspec URL such as
`sftp://host/baocao/inbox` or `s3://bucket/inbox` with the same layout), moves every settled file
into the submission store through `intake.store.receive` (the unit is the inbox folder's name,
checked against the catalog first; the arrival time is the server's clock when the watcher first
sees the file, never the file's own time) and emits `baocao.submission.received` for it; the
Prefect deployment `process-submission` reacts to that event. A folder that is not a catalog
unit is left alone and reported (`PollReport.refused`), so one stray folder cannot stop the rest.

Exactly once, cheaply:
* the submission id is the unit plus the content hash, so the same file dropped twice is the same
  submission: it is stored once, announced once, processed once (the second copy is removed from
  the inbox and reported as a duplicate);
* announced ids are kept in `store/.announced` (one per line, appended after the event is sent).
  A crash between storing and announcing leaves a stored id that is not in the journal; the next
  poll announces it. The first watch on a store adopts what it holds as already announced (those
  files were collected before the watcher existed, and processing takes every pending file anyway);
* files still being written are left for the next poll: a file is taken once its modification
  time is `settle_seconds` old (copies in progress have a fresh one; the time is used for nothing
  else). Hidden files, Excel lock files, `*.tmp` and symbolic links are ignored.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from baocao import events as ev
from baocao.settings import Settings
from intake import store as store_mod

JOURNAL = ".announced"


@dataclass
class Taken:
    stored: store_mod.StoredFile
    new: bool  # False: the store already held this submission (a duplicate drop)


@dataclass
class PollReport:
    taken: list[Taken] = field(default_factory=list)
    announced: list[str] = field(default_factory=list)  # submission ids
    skipped: list[str] = field(default_factory=list)  # files not settled yet / gone meanwhile
    refused: list[str] = field(default_factory=list)  # one line each: an inbox folder that is not a unit

    @property
    def duplicates(self) -> list[str]:
        return [t.stored.submission_id for t in self.taken if not t.new]


def _settled(mtime: float, settle_seconds: float, now: float) -> bool:
    return settle_seconds <= 0 or mtime <= now - settle_seconds


def _stored_paths(store: Path) -> list[Path]:
    """The store's files, as intake.store.store_files lists them, without hashing them again."""
    return store_mod.stored_paths(store)


def _stored_ids(store: Path) -> set[str]:
    return {store_mod.stored_id(p.name) for p in _stored_paths(store)}


def _refused(unit: str, cat, report: PollReport, seen: set[str]) -> bool:
    """True (and reported once per poll) when an inbox folder is not a catalog unit."""
    try:
        store_mod.check_unit(unit, cat)
        return False
    except store_mod.UnitRefused as exc:
        if unit not in seen:
            seen.add(unit)
            report.refused.append(str(exc))
        return True


def take_inbox(
    s: Settings,
    settle_seconds: float = 0.0,
    now: float | None = None,
    report: PollReport | None = None,
    inbox: Path | None = None,
    cat=None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[Taken]:
    """Move every settled file of the local inbox (default `s.inbox`) into the store. Safe against
    another process (a flow's collect step, a second watcher) moving the same file meanwhile."""
    now = time.time() if now is None else now
    report = report if report is not None else PollReport()
    cat = _catalog(cat)
    out, refused = [], set()
    for unit, path in store_mod.inbox_files(inbox or s.inbox):
        if _refused(unit, cat, report, refused):
            continue
        try:
            if not _settled(path.stat().st_mtime, settle_seconds, now):
                report.skipped.append(str(path))
                continue
            f = store_mod.receive(s.store, unit, path, os.fsencode(path.name), source="inbox",
                                  received_at=clock(), cat=cat, move=True)
        except FileNotFoundError:  # taken by another process meanwhile
            report.skipped.append(str(path))
            continue
        out.append(Taken(f, new=not f.duplicate))
    report.taken.extend(out)
    return out


def _catalog(cat):
    if cat is None:
        import catalog as catalog_mod

        cat = catalog_mod.load()
    return cat


def take_remote(
    url: str, s: Settings, settle_seconds: float = 0.0, now: float | None = None, report: PollReport | None = None,
    cat=None, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[Taken]:
    """The same from an fsspec URL: download each settled file to `home/incoming/<unit>/`, store
    it (arrival: the server's clock when seen; the remote modification time kept as information),
    delete the remote copy."""
    import fsspec

    now = time.time() if now is None else now
    report = report if report is not None else PollReport()
    fs, root = fsspec.core.url_to_fs(url)
    cat = _catalog(cat)
    out, refused = [], set()
    if not fs.exists(root):
        return out
    for unit_info in sorted(fs.ls(root, detail=True), key=lambda i: i["name"]):
        if unit_info.get("type") != "directory":
            continue
        unit = unit_info["name"].rstrip("/").rsplit("/", 1)[-1]
        if _refused(unit, cat, report, refused):
            continue
        for info in sorted(fs.ls(unit_info["name"], detail=True), key=lambda i: i["name"]):
            name = info["name"].rstrip("/").rsplit("/", 1)[-1]
            if info.get("type") != "file" or name.startswith(store_mod.IGNORED_PREFIXES) or name.endswith(".tmp"):
                continue
            mtime = _remote_mtime(info)
            if mtime is not None and not _settled(mtime, settle_seconds, now):
                report.skipped.append(info["name"])
                continue
            seen_at = clock()
            local_dir = s.home / "incoming" / unit
            local_dir.mkdir(parents=True, exist_ok=True)
            local = local_dir / f".{os.getpid()}.download.tmp"
            fs.get_file(info["name"], str(local))
            f = store_mod.receive(s.store, unit, local, name.encode("utf-8", "surrogateescape"), source="inbox",
                                  received_at=seen_at, cat=cat, move=True,
                                  file_mtime=datetime.fromtimestamp(mtime, UTC) if mtime is not None else None)
            local.unlink(missing_ok=True)
            out.append(Taken(f, new=not f.duplicate))
            fs.rm_file(info["name"])
    report.taken.extend(out)
    return out


def _remote_mtime(info: dict) -> float | None:
    for key in ("mtime", "LastModified", "last_modified", "created"):
        v = info.get(key)
        if isinstance(v, datetime):
            return (v if v.tzinfo else v.replace(tzinfo=UTC)).timestamp()
        if isinstance(v, (int, float)):
            return float(v)
    return None


# --------------------------------------------------------------------------------- announcing


def journal_path(s: Settings) -> Path:
    return s.store / JOURNAL


def read_journal(s: Settings) -> set[str] | None:
    p = journal_path(s)
    if not p.exists():
        return None
    return {line.strip() for line in p.read_text(encoding="utf-8").splitlines() if line.strip()}


def _append_journal(s: Settings, ids: list[str]) -> None:
    if not ids:
        return
    s.store.mkdir(parents=True, exist_ok=True)
    with open(journal_path(s), "a", encoding="utf-8") as fh:
        fh.write("".join(i + "\n" for i in ids))
        fh.flush()
        os.fsync(fh.fileno())


def adopt_store(s: Settings, except_ids: set[str] = frozenset()) -> set[str]:
    """Start the journal with what the store already holds (except `except_ids`)."""
    ids = sorted(_stored_ids(s.store) - set(except_ids))
    s.store.mkdir(parents=True, exist_ok=True)
    tmp = s.store / f"{JOURNAL}.tmp"
    tmp.write_text("".join(i + "\n" for i in ids), encoding="utf-8")
    os.replace(tmp, journal_path(s))
    return set(ids)


def describe(stored: store_mod.StoredFile, cat=None, s: Settings | None = None) -> tuple[str | None, str | None]:
    """(data set, period) as the file states them, or None where it cannot be read."""
    from intake import isolate

    try:  # in a bounded worker (the settings' limits): a hostile file cannot stop the watcher
        p = isolate.parse_one(stored.path, inbox_unit=stored.unit_code, cat=cat, name=stored.file_name,
                              n_workers=s.parse_workers if s else None, seconds=s.parse_seconds if s else None,
                              memory_mb=s.parse_memory_mb if s else None)
        if p.failure:  # it broke its worker: quarantined, answered by the next processing run
            from intake.batch import quarantine_failures

            quarantine_failures([stored], [p])
        return p.dataset_code, p.period
    except Exception:
        return None, None


def announce(
    s: Settings, emit: Callable[[ev.EventSpec], object] = ev.emit, cat=None, report: PollReport | None = None,
    warm: bool = False,
) -> list[str]:
    """Emit baocao.submission.received for every stored submission not announced yet; `warm`:
    the caller answers them in-process at once (the events say so, baocao.events)."""
    report = report if report is not None else PollReport()
    done = read_journal(s)
    if done is None:
        done = adopt_store(s, except_ids={t.stored.submission_id for t in report.taken if t.new})
    sent = []
    for path in _stored_paths(s.store):
        if store_mod.stored_id(path.name) in done:
            continue
        f = store_mod.stored(path)
        dataset, period = describe(f, cat, s)
        if emit(ev.submission_received(f, dataset_code=dataset, period=period, warm=warm)) is None:
            break  # no Prefect API: leave the rest for a later poll, in order
        sent.append(f.submission_id)
        done.add(f.submission_id)
        _append_journal(s, [f.submission_id])
    report.announced.extend(sent)
    return sent


def poll(
    s: Settings,
    inbox_url: str | None = None,
    settle_seconds: float = 1.0,
    emit: Callable[[ev.EventSpec], object] = ev.emit,
    cat=None,
    warm: bool = False,
) -> PollReport:
    """One pass: take what has arrived, announce what is not announced yet (`warm`: the caller
    answers them itself right after, see `announce`)."""
    report = PollReport()
    if inbox_url and "://" in inbox_url and not inbox_url.startswith("file://"):
        take_remote(inbox_url, s, settle_seconds, report=report, cat=cat)
    else:
        folder = Path(inbox_url.removeprefix("file://")).resolve() if inbox_url else None
        take_inbox(s, settle_seconds, report=report, inbox=folder, cat=cat)
    announce(s, emit=emit, cat=cat, report=report, warm=warm)
    return report


def watch(
    s: Settings,
    inbox_url: str | None = None,
    interval: float = 2.0,
    settle_seconds: float = 1.0,
    once: bool = False,
    on_poll: Callable[[PollReport], None] | None = None,
    stop: Callable[[], bool] | None = None,
    warm: bool = False,
) -> None:
    """Poll until interrupted (or once); `warm`: `on_poll` answers what was taken (see `announce`)."""
    import catalog

    cat = catalog.load()
    while True:
        report = poll(s, inbox_url, settle_seconds, cat=cat, warm=warm)
        if on_poll:
            on_poll(report)
        if once or (stop and stop()):
            ev.flush()
            return
        time.sleep(interval)


def copy_into_inbox(src: Path, unit_code: str, s: Settings) -> Path:
    """Drop a file into a unit's inbox atomically (what a unit's upload does)."""
    dest = s.inbox / unit_code
    dest.mkdir(parents=True, exist_ok=True)
    tmp = dest / f".{src.name}.tmp"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest / src.name)
    return dest / src.name
