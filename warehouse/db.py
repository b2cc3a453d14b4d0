"""Opening the warehouse: one writer connection per process, migrations applied, catalog loaded."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from warehouse import catalog_load, migrate, models

if TYPE_CHECKING:
    import duckdb


def connect(path: Path | str, read_only: bool = False, load_catalog: bool = True,
            lock_wait: float | None = None, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """The writer (or a reader). `memory_limit` (the settings' duckdb_memory, e.g. "512MB") bounds
    DuckDB's buffer pool; beyond it DuckDB evicts and spills to disk."""
    import duckdb

    path = Path(path)
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = open_writer(path, lock_wait)
    con.execute("set timezone = 'Asia/Ho_Chi_Minh'")
    if memory_limit:
        con.execute(f"set memory_limit = '{_memory(memory_limit)}'")
    migrate.upgrade(con)
    if load_catalog:
        con.execute("begin transaction")
        catalog_load.load_catalog(con)
        models.build(con, layers=("core",))
        con.execute("commit")
    return con


def _memory(limit: str) -> str:
    if not re.fullmatch(r"\d+(?:\.\d+)?\s*[KMGT]i?B", limit.strip(), re.IGNORECASE):
        raise ValueError(f"memory limit {limit!r}: use e.g. 512MB or 1GB")
    return limit.strip()


LOCK_WAIT = 30.0  # seconds (Settings.lock_wait, BAOCAO_LOCK_WAIT)
_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse's write lock (DuckDB allows one writer process)."""

    def __init__(self, path: Path, waited: float, detail: str):
        m = _HOLDER.search(detail)
        who = f"PID {m.group(2)}, {Path(m.group(1)).name}" if m else "không rõ / unknown"
        self.pid = int(m.group(2)) if m else None
        super().__init__(
            f"Kho dữ liệu {path} đang được một tiến trình khác ghi ({who}); đã chờ {waited:g} giây — chạy lại khi "
            f"tiến trình đó xong / another process holds the warehouse's write lock ({who}); waited {waited:g} s — "
            "run again when it has finished")


def open_writer(path: Path | str, wait: float | None = None) -> duckdb.DuckDBPyConnection:
    """The writer connection, waiting up to `wait` seconds (the settings' lock_wait, default 30)
    while another process holds the lock; then WarehouseBusy, one line naming the holder's PID."""
    import duckdb

    wait = LOCK_WAIT if wait is None else wait
    start = time.monotonic()
    delay = 0.1
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() - start >= wait:
                raise WarehouseBusy(Path(path), wait, str(exc)) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
