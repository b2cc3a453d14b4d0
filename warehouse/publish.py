"""Publishing for analysts: an atomic, read-only snapshot of the warehouse and Parquet exports.

DuckDB allows one writer process and a reader blocks it, so analysts never open the live file:
after each load the pipeline copies the database (one consistent transaction, `COPY FROM
DATABASE`, tables, views and comments) into a new file beside the snapshot and renames it into
place (rename is atomic: a reader holding the old snapshot keeps reading the old one, a new reader
gets the new one, nobody sees a mix).

Parquet is published the same way, by pointers: every export is written whole into a new folder
`<parquet>/.versions/<version>/<mart>/period=…/` that is never changed afterwards, then the
symbolic links `<parquet>/current` (all marts of one export) and `<parquet>/<mart>` are swapped to
it, each with a rename (atomic: a path resolves to the old export or to the new one, never to a
missing or half-written folder). A consistent read resolves the pointer once (`resolve()` below, or
`os.path.realpath`) and reads from the folder it names; the previous `KEEP - 1` exports stay on
disk so that a reader who resolved one just before a swap can finish.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a cursor is handed in; DuckDB is imported by whoever opens it
    import duckdb


MARTS_EXPORTED = ("indicator_value", "target_progress", "reporting_completeness", "reporting_rate", "task_progress")
VERSIONS = ".versions"
CURRENT = "current"
KEEP = 3  # exports kept on disk: the current one and the two before it


def publish_snapshot(con: duckdb.DuckDBPyConnection, snapshot_path: Path) -> Path:
    snapshot_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = snapshot_path.with_name(f".{snapshot_path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    source = con.execute("select current_database()").fetchone()[0]
    con.execute(f"attach '{tmp}' as baocao_snapshot")
    try:
        con.execute(f'copy from database "{source}" to baocao_snapshot')
    finally:
        con.execute("detach baocao_snapshot")
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, snapshot_path)
    return snapshot_path


def export_parquet(con: duckdb.DuckDBPyConnection, folder: Path) -> list[Path]:
    """Marts as Parquet, partitioned by period (hive layout: <mart>/period=2026H1/…), written
    aside and swapped in by pointer (module docstring). Returns the pointers `<folder>/<mart>`."""
    versions = folder / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}"
    tmp = versions / f".{name}.tmp"
    tmp.mkdir()
    for mart in MARTS_EXPORTED:
        con.execute(f"copy marts.{mart} to '{tmp / mart}' (format parquet, partition_by (period))")
    _fsync_tree(tmp)
    version = versions / name
    os.rename(tmp, version)  # complete before any pointer names it
    _point(folder / CURRENT, Path(VERSIONS) / name)
    out = []
    for mart in MARTS_EXPORTED:
        _point(folder / mart, Path(VERSIONS) / name / mart)
        out.append(folder / mart)
    _prune(versions, keep=KEEP)
    return out


def resolve(folder: Path, mart: str | None = None) -> Path:
    """The export folder a pointer names now (`current`, or one mart's): read from it for a
    consistent state; it does not change while you read."""
    return Path(os.path.realpath(folder / (mart or CURRENT)))


def _point(link: Path, target: Path) -> None:
    """Make `link` a symbolic link to `target` (relative), replacing whatever it was by a rename."""
    if link.exists() and not link.is_symlink():  # a folder of the layout before pointers: moved aside once
        os.rename(link, link.parent / VERSIONS / f".old-{link.name}-{time.time_ns()}")
    tmp = link.with_name(f".{link.name}.{os.getpid()}.link")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _prune(versions: Path, keep: int) -> None:
    """Remove all but the newest `keep` exports (names sort by time), never one a pointer names,
    and what an interrupted export left (one writer publishes at a time)."""
    named = set()
    for p in versions.parent.iterdir():
        if p.is_symlink():
            target = Path(os.path.realpath(p))
            if target.is_relative_to(versions.resolve()):
                named.add(target.relative_to(versions.resolve()).parts[0])
    done = sorted(p for p in versions.iterdir() if not p.name.startswith("."))
    for old in done[:-keep]:
        if old.name not in named:
            shutil.rmtree(old, ignore_errors=True)
    for p in versions.glob(".*"):
        shutil.rmtree(p, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            fd = os.open(os.path.join(dirpath, f), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
