"""Publishing for analysts: an atomic, read-only snapshot of the warehouse and Parquet exports.

DuckDB allows one writer process and a reader blocks it, so analysts never open the live file:
after each load the pipeline copies the database (one consistent transaction, `COPY FROM
DATABASE`, tables, views and comments) into a new file beside the snapshot and renames it into
place (rename is atomic: a reader holding the old snapshot keeps reading the old one, a new reader
gets the new one, nobody sees a mix).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a cursor is handed in; DuckDB is imported by whoever opens it
    import duckdb


MARTS_EXPORTED = ("indicator_value", "target_progress", "reporting_completeness", "reporting_rate", "task_progress")


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
    """Marts as Parquet, partitioned by period (hive layout: <mart>/period=2026H1/…)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for mart in MARTS_EXPORTED:
        target = folder / mart
        tmp = folder / f".{mart}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        con.execute(f"copy marts.{mart} to '{tmp}' (format parquet, partition_by (period))")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        out.append(target)
    return out
