"""The outbox: what baocao decided to tell whom (ops.outbox in the warehouse), and the bridge to delivery.

    enqueue(con, kind=…, period=…, dataset_code=…, unit_code=…, stage=…, recipient=…, message=…,
            event_at=…, render=(fn, kwargs))
        inserts one row per key (kind:period:dataset:unit:stage); the same key again is a no-op.
        It is written in the enqueueing run's own warehouse transaction.
    handoff(con)            (notifications/store.py) copies new rows and the facts the send-time
        checks need into the delivery store, an SQLite file beside the warehouse.
    deliver(store, sender)  (notifications/deliver.py) sends, without the warehouse.
    dispatch(con, sender)   handoff + deliver + mirror, for callers that hold the warehouse
        anyway (tests, the bench); flows hand off and leave the sending to the
        deliver-notifications flow (baocao/services/deliver.py).

With no sender (no SLACK_BOT_TOKEN), rows stay pending: the outbox is the operator's local list.
"""

from __future__ import annotations

import csv
import functools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from notifications.deliver import DEFAULT_MAX_ATTEMPTS, DEFAULT_WORKERS, DeliveryReport, deliver
from notifications.render import Message
from notifications.schedule import make_key
from notifications.sender import Sender
from notifications.store import OutboxStore, handoff, mirror, path_of, render_json

OPERATOR = "OPERATOR"
RECIPIENTS_CSV = Path(__file__).resolve().parents[1] / "catalog" / "recipients.csv"


# ---------------------------------------------------------------------------------------------
# Recipients (catalog/recipients.csv)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    unit_code: str
    channel: str | None
    emails: tuple[str, ...]
    lang: str
    supervisor_code: str | None

    @property
    def address(self) -> str:
        """What the outbox stores: the channel if there is one, else the e-mails (a DM)."""
        if self.channel:
            return self.channel
        if self.emails:
            return ",".join(self.emails)
        raise ValueError(
            f"đơn vị {self.unit_code} không có kênh Slack hay e-mail / "
            f"unit {self.unit_code} has no Slack channel or e-mail"
        )


@functools.cache
def _recipients(path: str) -> dict[str, Recipient]:
    out = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = (row.get("unit_code") or "").strip()
            if not code:
                continue
            lang = (row.get("lang") or "vi").strip().lower()
            out[code] = Recipient(
                unit_code=code,
                channel=(row.get("slack_channel") or row.get("channel") or "").strip() or None,
                emails=tuple(e.strip() for e in (row.get("emails") or "").split(",") if e.strip()),
                lang=lang if lang in ("vi", "en") else "vi",
                supervisor_code=(row.get("supervisor_code") or "").strip() or None,
            )
    return out


def recipients(path: Path | str = RECIPIENTS_CSV) -> dict[str, Recipient]:
    return dict(_recipients(str(path)))


def recipient_for(unit_code: str, path: Path | str = RECIPIENTS_CSV) -> Recipient:
    """The unit's row of catalog/recipients.csv (the operator's row is unit_code OPERATOR)."""
    try:
        return _recipients(str(path))[unit_code]
    except KeyError:
        raise KeyError(
            f"không có người nhận cho đơn vị {unit_code} trong {path} / "
            f"no recipient for unit {unit_code} in {path}"
        ) from None


# ---------------------------------------------------------------------------------------------
# Enqueue
# ---------------------------------------------------------------------------------------------


def enqueue(
    con: duckdb.DuckDBPyConnection,
    *,
    kind: str,
    period: str,
    dataset_code: str,
    unit_code: str,
    stage: str,
    recipient: str,
    message: Message,
    lang: str = "vi",
    event_at: datetime | None = None,
    render: tuple[str, dict[str, Any]] | None = None,
) -> bool:
    """Insert the notification once; False if its key was already in the outbox. Inside
    `batch(con)` the row is buffered and written with the others when the batch ends.

    `event_at`: when the event it reports happened (delivery goes in that order per recipient);
    `render`: the render function's name and arguments, so the text is rendered again, true,
    when it is sent (notifications/truth.py)."""
    key = make_key(kind, period, dataset_code, unit_code, stage)
    if not recipient:
        raise ValueError(f"thiếu người nhận / no recipient for {key}")
    spec = render_json(*render) if render else None
    state = getattr(_BATCH, "state", None)
    if state is not None and state["con"] is con:
        if period not in state["known"]:
            state["known"][period] = {r[0] for r in con.execute(
                "select key from ops.outbox where period = ?", [period]).fetchall()}
        if key in state["known"][period]:
            return False
        state["known"][period].add(key)
        state["rows"].append((key, unit_code, period, dataset_code, kind, stage, recipient,
                              lang if lang in ("vi", "en") else "vi", message.text,
                              json.dumps(message.blocks, ensure_ascii=False), spec, event_at))
        return True
    rows = con.execute(
        "insert or ignore into ops.outbox"
        " (key, unit_code, period, dataset_code, kind, stage, recipient, lang, text, blocks_json, render_json,"
        " event_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, coalesce(?, current_timestamp)) returning key",
        [
            key,
            unit_code,
            period,
            dataset_code,
            kind,
            stage,
            recipient,
            lang if lang in ("vi", "en") else "vi",
            message.text,
            json.dumps(message.blocks, ensure_ascii=False),
            spec,
            event_at,
        ],
    ).fetchall()
    return bool(rows)


_BATCH = threading.local()
_COLUMNS = ("key", "unit_code", "period", "dataset_code", "kind", "stage", "recipient", "lang", "text", "blocks_json",
            "render_json")


@contextmanager
def batch(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Buffer `enqueue` calls on `con` and insert them in one statement at the end (a cycle
    enqueues thousands; one insert each costs ~2 ms). Keys already in the outbox are still
    recognised, so a rerun inserts nothing. Nothing is written if the block raises."""
    _BATCH.state = {"con": con, "rows": [], "known": {}}
    try:
        yield
        rows = _BATCH.state["rows"]
        if rows:
            cols = {c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(_COLUMNS)}
            cols["event_at"] = pa.array([r[len(_COLUMNS)] for r in rows], pa.timestamp("us", tz="UTC"))
            tbl = pa.table(cols)  # noqa: F841
            names = ", ".join(_COLUMNS)
            con.execute(f"insert or ignore into ops.outbox ({names}, event_at)"
                        f" select {names}, coalesce(event_at, current_timestamp) from tbl")
    finally:
        _BATCH.state = None


# ---------------------------------------------------------------------------------------------
# Dispatch (handoff + deliver + mirror, for callers that hold the warehouse anyway)
# ---------------------------------------------------------------------------------------------

DispatchReport = DeliveryReport


def _no_open_transaction(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("begin transaction")
    except duckdb.TransactionException as exc:
        raise RuntimeError(
            "dispatch cần kết nối không có giao dịch đang mở / "
            "dispatch needs a connection without an open transaction"
        ) from exc
    con.execute("rollback")


def pending_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Pending rows of ops.outbox (as last mirrored), oldest first."""
    cur = con.execute(
        "select key, unit_code, period, dataset_code, kind, stage, recipient, lang, text,"
        " blocks_json, slack_channel, error, attempts, created_at"
        " from ops.outbox where status = 'pending' order by created_at, key"
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def dispatch(
    con: duckdb.DuckDBPyConnection,
    sender: Sender | None,
    now: datetime | None = None,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    workers: int | None = None,
    store: OutboxStore | Path | str | None = None,
    **options: Any,
) -> DeliveryReport:
    """Hand the new rows to the delivery store, deliver, and mirror the result into ops.outbox.
    This holds the warehouse while talking to Slack: flows use the deliver-notifications flow
    (notifications/deliver.py) instead; this is for tests and the bench."""
    _no_open_transaction(con)
    store = store if isinstance(store, OutboxStore) else OutboxStore(store or path_of(con))
    handoff(con, store)
    report = deliver(store, sender, now=now, max_attempts=max_attempts, workers=max(1, workers or DEFAULT_WORKERS),
                     **options)
    mirror(con, store)
    return report


def requeue(con: duckdb.DuckDBPyConnection, keys: list[str] | None = None,
            store: OutboxStore | Path | str | None = None) -> int:
    """Put failed rows back to pending (after fixing a channel or the token); returns how many."""
    store = store if isinstance(store, OutboxStore) else OutboxStore(store or path_of(con))
    handoff(con, store)
    n = store.requeue(keys=keys)
    mirror(con, store)
    return n
