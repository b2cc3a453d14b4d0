"""What every command shares: the console, the --home option, the resources a command works with."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

from baocao.resources import Resources, live
from baocao.settings import settings

for _k, _v in (("DO_NOT_TRACK", "1"), ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
               ("GX_ANALYTICS_ENABLED", "false")):
    os.environ.setdefault(_k, _v)

console = Console(width=140)

HomeOpt = typer.Option(None, "--home", help="Thư mục dữ liệu (mặc định ./var hoặc $BAOCAO_HOME) / data folder.")


def resources(home: Path | None) -> Resources:
    """The live resources of the home folder (close them: `with resources(home) as res:`)."""
    return live(settings(home))
