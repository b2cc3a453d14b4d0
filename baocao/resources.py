"""The resources every service works over, built once from `Settings` and handed in.

| resource | live | fake (tests, demo, bench) |
|---|---|---|
| `Warehouse` | the writer: one DuckDB connection, opened on first use (migrations, catalog) | `Warehouse.temporary()`: the same on a fresh folder |
| `Snapshot` | the published read-only copy analysts and read-only commands open | same class on any published file |
| `Store` | the inbox and the submission store (folders) | `Store` on a temporary folder |
| `DeliveryStore` | the outbox's delivery state, an SQLite file beside the warehouse (delivery needs no writer) | same class under the temporary home |
| `CatalogSource` | `LiveCatalog`: the reviewed catalog, read once | `FixedCatalog`: a catalog already in memory |
| sender | `SlackSender` when SLACK_BOT_TOKEN is set, else None (messages stay in the outbox) | `testing.sender.RecordingSender` |
| `Events` | `PrefectEvents`: Prefect's event stream | `RecordingEvents`: a list |
| `Clock` | `SystemClock`: the server's time (UTC) | `FixedClock`: a time the test sets and moves |

`live(settings)` builds the live set, `Resources.fake(home, …)` a fake one. Whoever builds a
`Resources` closes it (`close()`, or `with`). Nothing here imports DuckDB, Prefect or Slack at
import time: each is imported when a live resource is first used.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from baocao.settings import Settings

# ------------------------------------------------------------------------------------- clock


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The server's clock (UTC). Times never come from a unit's file."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stays where it is set."""

    def __init__(self, at: datetime):
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.at = at

    def now(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at

    def advance(self, **delta: float) -> datetime:
        self.at = self.at + timedelta(**delta)
        return self.at


# --------------------------------------------------------------------------------- warehouse


class Warehouse:
    """The warehouse's writer. DuckDB allows one writer process per file: a run holds this for
    its duration and closes it before another process may write (see `tasks.cycle.warehouse_lock`).
    `con()` gives a cursor on the one connection (each thread its own cursor)."""

    def __init__(self, path: Path | str, lock_wait: float | None = None, memory_limit: str | None = None):
        self.path = Path(path)
        self.lock_wait = lock_wait  # seconds to wait for another writer (None: warehouse.db's default)
        self.memory_limit = memory_limit  # DuckDB's memory_limit for the writer (None: DuckDB's default)
        self._con = None

    @classmethod
    def temporary(cls) -> Warehouse:
        return cls(Path(tempfile.mkdtemp(prefix="baocao-wh-")) / "baocao.duckdb")

    @property
    def is_open(self) -> bool:
        return self._con is not None

    def con(self):
        if self._con is None:
            from warehouse import db

            self._con = db.connect(self.path, lock_wait=self.lock_wait, memory_limit=self.memory_limit)
        return self._con.cursor()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def __repr__(self) -> str:
        return f"Warehouse({str(self.path)!r})"


class Snapshot:
    """The published read-only snapshot: what analysts and read-only commands open, so they never
    wait for (or block) the writer."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def con(self):
        if not self.path.exists():
            raise FileNotFoundError(f"Chưa có bản chụp {self.path}: chạy `baocao process` trước"
                                    f" / no snapshot at {self.path}: run `baocao process` first")
        import duckdb

        return duckdb.connect(str(self.path), read_only=True)

    def __repr__(self) -> str:
        return f"Snapshot({str(self.path)!r})"


# ------------------------------------------------------------------------------------- store


@dataclass(frozen=True)
class Store:
    """Where files arrive (`inbox/<unit>/…`) and where they are kept (`store/<unit>/…`)."""

    inbox: Path
    root: Path

    @classmethod
    def at(cls, home: Path) -> Store:
        return cls(inbox=home / "inbox", root=home / "store")


# ------------------------------------------------------------------------------- delivery store


class DeliveryStore:
    """Where delivery keeps the outbox's state (`notifications.store.OutboxStore`, SQLite in WAL
    mode): the warehouse run hands new rows over, delivery reads and updates only this file, in
    short transactions, any number of processes at once. `get()` opens it on first use."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._store = None

    def get(self):
        if self._store is None:
            from notifications.store import OutboxStore

            self._store = OutboxStore(self.path)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __repr__(self) -> str:
        return f"DeliveryStore({str(self.path)!r})"


# ----------------------------------------------------------------------------------- catalog


class CatalogSource(Protocol):
    def get(self): ...


class LiveCatalog:
    """The reviewed catalog (catalog/ or another folder), read on first use, then kept."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self._cat = None

    def get(self):
        if self._cat is None:
            import catalog as catalog_mod

            self._cat = catalog_mod.load() if self.folder is None else catalog_mod.load(self.folder)
        return self._cat


class FixedCatalog:
    """A catalog already in memory (a test's edited copy)."""

    def __init__(self, cat):
        self.cat = cat

    def get(self):
        return self.cat


# ------------------------------------------------------------------------------------ events


class Events(Protocol):
    def emit(self, spec) -> Any: ...

    def emit_all(self, specs: Iterable) -> int: ...


class PrefectEvents:
    """Prefect's event stream (when a Prefect API is there; emitting never fails a run)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    def emit(self, spec):
        from baocao import events as ev

        return ev.emit(spec) if self.enabled else None

    def emit_all(self, specs: Iterable) -> int:
        return sum(self.emit(s) is not None for s in specs)


@dataclass
class RecordingEvents:
    """Keeps every event it is given (`specs`), sends nothing."""

    specs: list = field(default_factory=list)

    def emit(self, spec):
        self.specs.append(spec)
        return spec

    def emit_all(self, specs: Iterable) -> int:
        return sum(self.emit(s) is not None for s in specs)

    def names(self) -> list[str]:
        return [s.event for s in self.specs]


# ------------------------------------------------------------------------------------ sender


def live_sender(s: Settings):
    """A Slack sender when SLACK_BOT_TOKEN is set (SLACK_API_URL for a Slack-compatible server);
    None otherwise: messages then stay pending for `baocao outbox`."""
    if not s.slack_bot_token:
        return None
    from notifications.sender import SlackSender

    return SlackSender(s.slack_bot_token, base_url=s.slack_api_url)


# --------------------------------------------------------------------------------- the bundle


@dataclass
class Resources:
    """Everything a service needs from the outside world. Build it with `live(settings)` or
    `Resources.fake(home, …)`; hand it to `baocao.services` functions and to the flows."""

    settings: Settings
    warehouse: Warehouse
    snapshot: Snapshot
    store: Store
    catalog: Any  # CatalogSource
    sender: Any  # notifications.sender.Sender | None
    events: Any  # Events
    clock: Any  # Clock
    delivery: DeliveryStore | None = None  # default: the settings' outbox_store

    def __post_init__(self) -> None:
        if self.delivery is None:
            self.delivery = DeliveryStore(self.settings.outbox_store)

    @property
    def cat(self):
        return self.catalog.get()

    def con(self):
        """A cursor on the warehouse's writer connection."""
        return self.warehouse.con()

    def now(self) -> datetime:
        return self.clock.now()

    def outbox(self):
        """The delivery store (`notifications.store.OutboxStore`); opening it never opens the warehouse."""
        return self.delivery.get()

    def close(self) -> None:
        self.warehouse.close()
        self.delivery.close()

    def __enter__(self) -> Resources:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @classmethod
    def fake(cls, home: Path | str | None = None, *, clock: Clock | None = None, sender: Any = "recording",
             catalog: Any = None, events: Events | None = None) -> Resources:
        """Resources for tests: a warehouse and store under `home` (a new temporary folder by
        default), a recording sender, recording events, a fixed clock (default 1 July 2026,
        09:00 in Vietnam) and the reviewed catalog (or `catalog`, a Catalog object)."""
        home = Path(home) if home is not None else Path(tempfile.mkdtemp(prefix="baocao-"))
        s = Settings(home=home.resolve())
        if sender == "recording":
            from testing.sender import RecordingSender  # a source checkout's fake (not in the wheel)

            sender = RecordingSender()
        return cls(
            settings=s,
            warehouse=Warehouse(s.db_path),
            snapshot=Snapshot(s.snapshot),
            store=Store.at(s.home),
            delivery=DeliveryStore(s.outbox_store),
            catalog=FixedCatalog(catalog) if catalog is not None else LiveCatalog(),
            sender=sender,
            events=events if events is not None else RecordingEvents(),
            clock=clock if clock is not None else FixedClock(datetime(2026, 7, 1, 2, 0, tzinfo=UTC)),
        )


def live(s: Settings | None = None, **override: Any) -> Resources:
    """The live resources for `s` (default: this process's settings); `override` replaces any of
    them (e.g. `sender=` or `clock=`)."""
    if s is None:
        from baocao.settings import settings

        s = settings()
    built = dict(
        settings=s,
        warehouse=Warehouse(s.db_path, lock_wait=s.lock_wait, memory_limit=s.duckdb_memory),
        snapshot=Snapshot(s.snapshot),
        store=Store.at(s.home),
        delivery=DeliveryStore(s.outbox_store),
        catalog=LiveCatalog(),
        sender=live_sender(s),
        events=PrefectEvents(s.events),
        clock=SystemClock(),
    )
    built.update(override)
    return Resources(**built)
