"""Every setting baocao reads from the environment, read in one place, once.

Everything generated lives under one home folder (default `./var`, or $BAOCAO_HOME): the
warehouse, the inbox, the submission store, the published snapshot. The other variables:

| variable | meaning | default |
|---|---|---|
| BAOCAO_HOME | the home folder | `var` |
| BAOCAO_PROVINCES | provinces this deployment serves (abbreviations, comma-separated: `LD,LC`); expected units, reminders, recipients and completeness come from their units | `LD` |
| BAOCAO_TASK_RUNNER | `dask` spreads validation chunks over Dask workers | in-process |
| BAOCAO_VALIDATION_CHUNK | units per validation chunk (0: one chunk per data set) | 0 |
| BAOCAO_LOAD_CHUNK | units whose rows are inserted together when a batch is loaded (0: the whole batch; always one transaction) | 0 |
| BAOCAO_DASK_ADDRESS | an existing Dask scheduler (workers on other hosts) | a local cluster |
| BAOCAO_DASK_WORKERS | processes of the local Dask cluster | 2 |
| BAOCAO_PARSE_WORKERS | processes parsing a large batch | min(4, cores) |
| BAOCAO_DISPATCH_WORKERS | threads delivering the outbox (channels in parallel, each paced) | 16 |
| BAOCAO_DELIVERY_DEADLINE | seconds one delivery run may take (what is left stays pending) | 240 |
| BAOCAO_WAREHOUSE_LIMIT | Prefect global concurrency limit held while a run writes the warehouse | none |
| BAOCAO_EVENTS | `0`/`off` sends no Prefect events | on |
| BAOCAO_PARSE_SECONDS | wall time one file may take in its parse worker | 20 |
| BAOCAO_PARSE_MEMORY_MB | address-space limit of a parse worker (MB) | 1536 |
| BAOCAO_DUCKDB_MEMORY | memory limit of the warehouse writer's DuckDB (e.g. `512MB`; it spills to disk beyond) | DuckDB's (80 % of RAM) |
| BAOCAO_MARTS_MEMORY | DuckDB's memory limit while the marts are built, when BAOCAO_DUCKDB_MEMORY is unset (`off`: none); a build that runs out of memory under it is rebuilt without it, with a warning | `256MB` |
| BAOCAO_LOCK_WAIT | seconds a writer waits for the warehouse's lock before saying who holds it | 30 |
| BAOCAO_TEST_KILL_AFTER_LOAD | test hook: `1` kills the run (SIGKILL) right after a load commits | off |
| SLACK_BOT_TOKEN | Slack bot token; without it messages stay in the outbox | none |
| SLACK_API_URL | a Slack-compatible Web API (the local test server) | Slack's |
| SLACK_APP_TOKEN | app-level token (xapp-): with SLACK_BOT_TOKEN, the Slack door listens over Socket Mode | none |
| BAOCAO_SLACK_MAX_BYTES | largest file the Slack door downloads (bytes) | 5 MB |
| BAOCAO_WEB_URL | the web pages' public address: access links, and each unit's link in its cycle-opened Slack message (unset: the message says to ask the province) | links: http://127.0.0.1:<port>; Slack: none |

Nothing else in the project reads these variables: code gets a `Settings` (or the resources
built from it, `baocao.resources`) handed in.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

FALSE = ("0", "off", "false", "no")
MEMORY = re.compile(r"\d+(?:\.\d+)?\s*(?:[KMGT]i?B)", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    home: Path
    task_runner: str = ""
    validation_chunk: int = 0
    load_chunk: int = 0
    dask_address: str | None = None
    dask_workers: int = 2
    parse_workers: int | None = None
    dispatch_workers: int = 16
    delivery_deadline_s: float = 240.0
    warehouse_limit: str | None = None
    events: bool = True
    slack_bot_token: str | None = None
    slack_api_url: str | None = None
    slack_app_token: str | None = None
    slack_max_bytes: int | None = None
    web_url: str | None = None
    parse_seconds: float = 20.0
    parse_memory_mb: int = 1536
    lock_wait: float = 30.0
    duckdb_memory: str | None = None
    marts_memory: str | None = "256MB"
    test_kill_after_load: bool = False
    provinces: tuple[str, ...] = ("LD",)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, home: str | Path | None = None) -> Settings:
        """Read every BAOCAO_* / SLACK_* variable of `env` (default: this process's)."""
        env = os.environ if env is None else env

        def text(name: str) -> str | None:
            return (env.get(name) or "").strip() or None

        def seconds(name: str, default: float) -> float:
            raw = text(name)
            try:
                value = float(raw) if raw is not None else default
            except ValueError:
                value = -1.0
            if not value > 0:
                raise ValueError(f"{name}={raw!r}: cần một số giây lớn hơn 0 / must be a number of seconds above 0")
            return value

        def number(name: str, default: int | None) -> int | None:
            raw = text(name)
            try:
                return int(raw) if raw is not None else default
            except ValueError:
                raise ValueError(f"{name}={raw!r}: cần một số nguyên / must be a whole number") from None

        def memory(name: str) -> str | None:
            raw = text(name)
            if raw is not None and not MEMORY.fullmatch(raw):
                raise ValueError(f"{name}={raw!r}: cần dạng 512MB hoặc 1GB / must look like 512MB or 1GB")
            return raw

        def marts_memory() -> str | None:
            raw = text("BAOCAO_MARTS_MEMORY")
            if raw is not None and raw.lower() in ("off", "none", "0"):
                return None
            return memory("BAOCAO_MARTS_MEMORY") or "256MB"

        runner = (text("BAOCAO_TASK_RUNNER") or "").lower()
        if runner not in ("", "default", "thread", "dask"):
            raise ValueError(f"BAOCAO_TASK_RUNNER={runner!r}: dùng 'dask' hoặc để trống / use 'dask' or leave it empty")
        return cls(
            home=Path(home or text("BAOCAO_HOME") or "var").resolve(),
            task_runner="dask" if runner == "dask" else "",
            validation_chunk=number("BAOCAO_VALIDATION_CHUNK", 0) or 0,
            load_chunk=max(0, number("BAOCAO_LOAD_CHUNK", 0) or 0),
            dask_address=text("BAOCAO_DASK_ADDRESS"),
            dask_workers=number("BAOCAO_DASK_WORKERS", 2) or 2,
            parse_workers=number("BAOCAO_PARSE_WORKERS", None),
            dispatch_workers=max(1, number("BAOCAO_DISPATCH_WORKERS", 16) or 16),
            delivery_deadline_s=seconds("BAOCAO_DELIVERY_DEADLINE", 240.0),
            warehouse_limit=text("BAOCAO_WAREHOUSE_LIMIT"),
            events=events_enabled(env),
            slack_bot_token=text("SLACK_BOT_TOKEN"),
            slack_api_url=text("SLACK_API_URL"),
            slack_app_token=text("SLACK_APP_TOKEN"),
            slack_max_bytes=number("BAOCAO_SLACK_MAX_BYTES", None),
            web_url=text("BAOCAO_WEB_URL"),
            parse_seconds=seconds("BAOCAO_PARSE_SECONDS", 20.0),
            parse_memory_mb=number("BAOCAO_PARSE_MEMORY_MB", 1536) or 1536,
            lock_wait=seconds("BAOCAO_LOCK_WAIT", 30.0),
            duckdb_memory=memory("BAOCAO_DUCKDB_MEMORY"),
            marts_memory=marts_memory(),
            test_kill_after_load=text("BAOCAO_TEST_KILL_AFTER_LOAD") == "1",
            provinces=provinces_in_scope(env),
        )

    def with_home(self, home: str | Path) -> Settings:
        return replace(self, home=Path(home).resolve())

    @property
    def db_path(self) -> Path:
        return self.home / "warehouse" / "baocao.duckdb"

    @property
    def outbox_store(self) -> Path:
        """The delivery store (SQLite) beside the warehouse: delivery reads and updates only this."""
        return self.db_path.parent / "outbox.sqlite"

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

    @property
    def datadocs(self) -> Path:
        return self.home / "datadocs"


def events_enabled(env: Mapping[str, str] | None = None) -> bool:
    """BAOCAO_EVENTS (`0`/`off`: no Prefect events), for emitters handed no Settings (the watcher)."""
    env = os.environ if env is None else env
    return (env.get("BAOCAO_EVENTS") or "").strip().lower() not in FALSE


def provinces_in_scope(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """BAOCAO_PROVINCES (`LD`, `LD,LC`, `ld lc`): the provinces a deployment serves, for the
    catalog when it is handed no Settings. Whether each is a province is checked by the catalog."""
    env = os.environ if env is None else env
    raw = (env.get("BAOCAO_PROVINCES") or "").replace(",", " ").split()
    out = tuple(dict.fromkeys(p.strip().upper() for p in raw if p.strip()))
    for p in out:
        if not (p.isascii() and p.isalpha() and len(p) <= 4):
            raise ValueError(f"BAOCAO_PROVINCES: {p!r} không phải mã tỉnh (vd. LD, LC) / is no province "
                             "abbreviation (e.g. LD, LC)")
    return out or ("LD",)


def settings(home: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """The process's settings (from its environment), with `home` if given."""
    return Settings.from_env(env, home=home)
