"""Numbered, recorded schema migrations for the DuckDB warehouse.

Files `warehouse/migrations/NNN_name.sql` are applied in order, each in its own transaction, and
recorded in `ops.schema_migrations`. Applied files are never edited: a change is a new file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a cursor is handed in; DuckDB is imported by whoever opens it
    import duckdb


MIGRATIONS = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


def available(folder: Path = MIGRATIONS) -> list[tuple[int, str, Path]]:
    out = []
    for p in sorted(folder.glob("*.sql")):
        m = _NAME.match(p.name)
        if not m:
            raise ValueError(f"migration file name must be NNN_name.sql: {p.name}")
        out.append((int(m.group(1)), m.group(2), p))
    versions = [v for v, _, _ in out]
    if len(set(versions)) != len(versions):
        raise ValueError(f"two migrations share a number in {folder}")
    return out


def applied(con: duckdb.DuckDBPyConnection) -> list[int]:
    con.execute("create schema if not exists ops")
    con.execute(
        "create table if not exists ops.schema_migrations ("
        " version integer primary key, name varchar not null,"
        " applied_at timestamptz not null default current_timestamp)"
    )
    return [r[0] for r in con.execute("select version from ops.schema_migrations order by 1").fetchall()]


def upgrade(con: duckdb.DuckDBPyConnection, target: int | None = None, folder: Path = MIGRATIONS) -> list[int]:
    """Apply pending migrations up to `target` (all by default); return the versions applied."""
    done = set(applied(con))
    ran = []
    for version, name, path in available(folder):
        if version in done or (target is not None and version > target):
            continue
        con.execute("begin transaction")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("insert into ops.schema_migrations (version, name) values (?, ?)", [version, name])
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        ran.append(version)
    return ran
