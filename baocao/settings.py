"""Where baocao keeps its files. Everything generated lives under one home folder (default
`./var`, or $BAOCAO_HOME): the warehouse, the inbox, the submission store, the published snapshot."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path

    @property
    def db_path(self) -> Path:
        return self.home / "warehouse" / "baocao.duckdb"

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def store(self) -> Path:
        return self.home / "store"

    @property
    def snapshot(self) -> Path:
        return self.home / "snapshot" / "baocao.duckdb"

    @property
    def parquet(self) -> Path:
        return self.home / "parquet"

    @property
    def feedback(self) -> Path:
        """Annotated copies of units' workbooks and full findings lists."""
        return self.home / "feedback"

    @property
    def templates(self) -> Path:
        return self.home / "templates"

    @property
    def reports(self) -> Path:
        return self.home / "reports"


def settings(home: str | Path | None = None) -> Settings:
    return Settings(Path(home or os.environ.get("BAOCAO_HOME", "var")).resolve())
