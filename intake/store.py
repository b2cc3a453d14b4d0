"""The inbox and the submission store.

Units' files arrive in `inbox/<unit_code>/…` (or through `baocao submit`). Collecting moves each
file atomically into `store/<unit_code>/<submission_id>__<name>`, where the submission id is derived
from the unit and the file's content hash: the same file twice is the same submission, stored once.
A file's arrival time is its modification time in the inbox, kept by the move.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

IGNORED_PREFIXES = (".", "~$")  # hidden files, temp files and Excel lock files


@dataclass(frozen=True)
class StoredFile:
    submission_id: str
    unit_code: str
    path: Path
    file_name: str
    sha256: str
    size_bytes: int
    received_at: datetime
    source: str


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def submission_id(unit_code: str, sha256: str) -> str:
    return hashlib.sha256(f"{unit_code}|{sha256}".encode()).hexdigest()[:20]


def inbox_files(inbox: Path) -> list[tuple[str, Path]]:
    out = []
    if not inbox.exists():
        return out
    for unit_dir in sorted(p for p in inbox.iterdir() if p.is_dir()):
        for f in sorted(unit_dir.iterdir()):
            if f.is_file() and not f.name.startswith(IGNORED_PREFIXES) and not f.name.endswith(".tmp"):
                out.append((unit_dir.name, f))
    return out


def store_file(src: Path, unit_code: str, store: Path, source: str = "inbox", move: bool = True,
               received_at: datetime | None = None) -> StoredFile:
    """Move (or copy) one file into the store atomically; a file already stored is not duplicated."""
    sha = file_sha256(src)
    sid = submission_id(unit_code, sha)
    st = src.stat()
    dest_dir = store / unit_code
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"{sid}__{src.name}"
    if received_at is not None:
        os.utime(src, (st.st_atime, received_at.timestamp()))
    if dest.exists():
        if move:
            src.unlink()
    else:
        tmp = dest_dir / f".{dest.name}.tmp"
        if move:
            try:
                os.replace(src, dest)  # atomic on one filesystem
            except OSError:
                shutil.copy2(src, tmp)
                os.replace(tmp, dest)
                src.unlink()
        else:
            shutil.copy2(src, tmp)
            os.replace(tmp, dest)
    return with_hash(stored(dest, source))


def stored(path: Path, source: str = "inbox") -> StoredFile:
    """A stored file as listed (its content hash is read only when needed: `with_hash`)."""
    sid, _, name = path.name.partition("__")
    st = path.stat()
    return StoredFile(
        submission_id=sid, unit_code=path.parent.name, path=path, file_name=name,
        sha256="", size_bytes=st.st_size, received_at=datetime.fromtimestamp(st.st_mtime, UTC), source=source)


def with_hash(f: StoredFile) -> StoredFile:
    return f if f.sha256 else replace(f, sha256=file_sha256(f.path))


def store_files(store: Path) -> list[StoredFile]:
    if not store.exists():
        return []
    return [stored(f) for d in sorted(store.iterdir()) if d.is_dir()
            for f in sorted(d.iterdir()) if f.is_file() and "__" in f.name and not f.name.startswith(".")]


# ------------------------------------------------------------------ what the warehouse has recorded
# `store/.recorded` lists the submission ids the warehouse had recorded when a run last looked
# (written after its commits). It is advisory: it only lets a triggered run see, without waiting
# for the warehouse's single writer slot, that nothing is pending. It is never more than the
# warehouse holds; a missing, stale or foreign journal (another warehouse file) makes every
# caller fall back to asking the warehouse.
RECORDED = ".recorded"


def _warehouse_tag(warehouse: Path) -> str:
    try:
        st = warehouse.stat()
    except FileNotFoundError:
        return "none"
    return f"{st.st_dev}:{st.st_ino}"


def write_recorded(store: Path, warehouse: Path, ids: set[str]) -> None:
    store.mkdir(parents=True, exist_ok=True)
    tmp = store / f"{RECORDED}.{os.getpid()}.tmp"
    tmp.write_text("\n".join([f"# warehouse {_warehouse_tag(warehouse)}", *sorted(ids)]) + "\n", encoding="utf-8")
    os.replace(tmp, store / RECORDED)


def recorded_ids(store: Path, warehouse: Path) -> set[str] | None:
    """Submission ids the journal lists as recorded; None when the journal cannot say."""
    try:
        lines = (store / RECORDED).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    if not lines or lines[0] != f"# warehouse {_warehouse_tag(warehouse)}":
        return None
    return set(lines[1:])


def add_recorded(store: Path, warehouse: Path, ids: set[str]) -> None:
    """After a load committed `ids`: the journal lists them too (without listing the store again)."""
    write_recorded(store, warehouse, (recorded_ids(store, warehouse) or set()) | ids)


def unrecorded(store: Path, warehouse: Path) -> list[StoredFile] | None:
    """Stored files the journal does not list as recorded; None when the journal cannot say."""
    done = recorded_ids(store, warehouse)
    if done is None:
        return None
    return [f for f in store_files(store) if f.submission_id not in done]
