"""Rebuild the declarative models (warehouse/models/core then marts) with create or replace."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a cursor is handed in; DuckDB is imported by whoever opens it
    import duckdb


MODELS = Path(__file__).parent / "models"


def model_files(layers: tuple[str, ...] = ("core", "marts")) -> list[Path]:
    return [p for layer in layers for p in sorted((MODELS / layer).glob("*.sql"))]


def build(con: duckdb.DuckDBPyConnection, layers: tuple[str, ...] = ("core", "marts")) -> list[str]:
    built = []
    for path in model_files(layers):
        con.execute(path.read_text(encoding="utf-8"))
        built.append(f"{path.parent.name}/{path.name}")
    return built
