"""Opening the warehouse: one writer connection per process, migrations applied, catalog loaded."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from warehouse import catalog_load, migrate, models

if TYPE_CHECKING:
    import duckdb


def connect(path: Path | str, read_only: bool = False, load_catalog: bool = True) -> duckdb.DuckDBPyConnection:
    import duckdb

    path = Path(path)
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("set timezone = 'Asia/Ho_Chi_Minh'")
    migrate.upgrade(con)
    if load_catalog:
        con.execute("begin transaction")
        catalog_load.load_catalog(con)
        models.build(con, layers=("core",))
        con.execute("commit")
    return con
