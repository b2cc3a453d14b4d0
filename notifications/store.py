"""The delivery store: the outbox's delivery state in its own SQLite file (WAL), beside the warehouse.

Why a second file: DuckDB lets one process write the warehouse at a time, and a slow Slack must
never keep a submission from being processed. So the run that enqueues (and holds the warehouse
anyway) hands its new rows and the facts the send-time checks need over to this file
(`handoff`), and delivery (`notifications/deliver.py`) reads and updates only this file, in
short transactions (`BEGIN IMMEDIATE` … `COMMIT`, milliseconds), any number of processes at once.

    handoff(con, store)    # in the warehouse-writing run, after the enqueue committed
    store.pending_by_recipient() / claim / record …   # delivery, without the warehouse

Tables:
- `outbox`: one row per key (copied from ops.outbox), with the delivery state: pending | sent |
  failed | superseded | digested, attempts, first/last claim time, channel, ts, error/reason.
- `unit_state` / `cycle_state`: what the send-time checks read (accepted? latest version?
  deadline, closed?), refreshed by every handoff.
- `lease`: which delivery process is working on a recipient (one at a time, in order).
- `notice`: operator notices (circuit breaker opened, bad token) — shown by `baocao outbox`.
- `meta`: the last mirror time (delivery state copied back to ops.outbox by `handoff`).

All times are seconds since the epoch (UTC), as REAL.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

FILE_NAME = "outbox.sqlite"
STATES = ("pending", "sent", "failed", "superseded", "digested")

SCHEMA = """
create table if not exists outbox (
    key              text primary key,
    unit_code        text not null,
    period           text not null,
    dataset_code     text not null,
    kind             text not null,
    stage            text not null,
    recipient        text not null,
    lang             text not null default 'vi',
    text             text not null,
    blocks_json      text not null,
    render_json      text,
    event_at         real,
    created_at       real not null,
    status           text not null default 'pending'
                     check (status in ('pending', 'sent', 'failed', 'superseded', 'digested')),
    error            text,
    attempts         integer not null default 0,
    slack_channel    text,
    slack_ts         text,
    first_claimed_at real,
    claimed_at       real,
    claimed_by       text,
    sent_at          real,
    updated_at       real not null
);
create index if not exists outbox_pending on outbox (status, recipient, event_at);
create index if not exists outbox_updated on outbox (updated_at);
create table if not exists unit_state (
    period text not null, dataset_code text not null, unit_code text not null,
    accepted integer not null, received integer not null,
    latest_version integer, latest_submission text,
    primary key (period, dataset_code, unit_code)
);
create table if not exists cycle_state (
    period text not null, dataset_code text not null,
    deadline_at real, close_at real, closed_at real,
    primary key (period, dataset_code)
);
create table if not exists lease (
    recipient text primary key, owner text not null, host text not null, pid integer not null,
    until real not null
);
create table if not exists notice (
    id integer primary key autoincrement, at real not null, code text not null, text text not null
);
create table if not exists meta (name text primary key, value text);
"""

COLUMNS = ("key", "unit_code", "period", "dataset_code", "kind", "stage", "recipient", "lang", "text",
           "blocks_json", "render_json", "event_at", "created_at", "status", "error", "attempts",
           "slack_channel", "slack_ts", "sent_at")


def path_for(db_path: Path | str) -> Path:
    """The delivery store of a warehouse file: `outbox.sqlite` in the same folder."""
    return Path(db_path).resolve().parent / FILE_NAME


def path_of(con: duckdb.DuckDBPyConnection) -> Path:
    """The delivery store of the warehouse `con` is connected to."""
    row = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    if not row or not row[0]:
        raise ValueError(
            "kho dữ liệu trong bộ nhớ không có tệp hộp thư đi / "
            "an in-memory warehouse has no delivery store; pass store= explicitly"
        )
    return path_for(row[0])


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    return float(value)


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{time.time_ns()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutboxStore:
    """One SQLite file; a connection per thread (sqlite3 connections are not shared)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write = threading.Lock()  # threads of one process queue here, not in SQLite's busy back-off
        self.db().executescript(SCHEMA)

    def __repr__(self) -> str:
        return f"OutboxStore({str(self.path)!r})"

    def db(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=True)
            con.row_factory = sqlite3.Row
            con.execute("pragma journal_mode=wal")
            con.execute("pragma synchronous=normal")
            con.execute("pragma busy_timeout=60000")
            self._local.con = con
        return con

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction (taken at once: no deadlock between two writers)."""
        db = self.db()
        with self._write:
            db.execute("begin immediate")
            try:
                yield db
                db.execute("commit")
            except BaseException:
                db.execute("rollback")
                raise

    # -- rows ------------------------------------------------------------------------------------

    def add(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert rows not yet known (by key); returns how many were new."""
        now = time.time()
        data = [
            (r["key"], r["unit_code"], r["period"], r["dataset_code"], r["kind"], r["stage"], r["recipient"],
             r.get("lang") or "vi", r["text"], r["blocks_json"], r.get("render_json"), _epoch(r.get("event_at")),
             _epoch(r.get("created_at")) or now, r.get("status") or "pending", r.get("error"),
             int(r.get("attempts") or 0), r.get("slack_channel"), r.get("slack_ts"), _epoch(r.get("sent_at")), now)
            for r in rows
        ]
        if not data:
            return 0
        with self.tx() as db:
            before = db.total_changes
            db.executemany(
                "insert or ignore into outbox (key, unit_code, period, dataset_code, kind, stage, recipient,"
                " lang, text, blocks_json, render_json, event_at, created_at, status, error, attempts,"
                " slack_channel, slack_ts, sent_at, updated_at) values (" + ", ".join("?" * 20) + ")",
                data,
            )
            return db.total_changes - before

    def keys(self) -> set[str]:
        return {r[0] for r in self.db().execute("select key from outbox")}

    def row(self, key: str) -> dict[str, Any] | None:
        r = self.db().execute("select * from outbox where key = ?", [key]).fetchone()
        return dict(r) if r else None

    def rows(self, *, status: str | None = None, unit: str | None = None, period: str | None = None,
             limit: int | None = None) -> list[dict[str, Any]]:
        sql, params = "select * from outbox where 1 = 1", []
        for col, val in (("status", status), ("unit_code", unit), ("period", period)):
            if val:
                sql += f" and {col} = ?"
                params.append(val)
        sql += " order by coalesce(event_at, created_at), created_at, key"
        if limit:
            sql += f" limit {int(limit)}"
        return [dict(r) for r in self.db().execute(sql, params)]

    def pending(self) -> list[dict[str, Any]]:
        """Pending rows in delivery order: per recipient, by the time of the event they report."""
        return [dict(r) for r in self.db().execute(
            "select * from outbox where status = 'pending'"
            " order by recipient, coalesce(event_at, created_at), created_at, key")]

    def counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.db().execute("select status, count(*) from outbox group by 1")}

    def set_state(self, key: str, status: str, *, error: str | None = None, only_if: str | None = "pending",
                  **cols: Any) -> bool:
        """Move one row to `status` (only from `only_if`, if given)."""
        assert status in STATES
        sets = ["status = ?", "error = ?", "updated_at = ?"]
        params: list[Any] = [status, error, time.time()]
        for c, v in cols.items():
            sets.append(f"{c} = ?")
            params.append(v)
        sql = f"update outbox set {', '.join(sets)} where key = ?"
        params.append(key)
        if only_if:
            sql += " and status = ?"
            params.append(only_if)
        with self.tx() as db:
            return db.execute(sql, params).rowcount == 1

    def note_error(self, key: str, code: str, *, count_attempt: bool, max_attempts: int | None,
                   permanent: bool) -> str:
        """Record an error; a permanent one, or the attempts limit reached (`max_attempts`; None
        after a post that may have reached Slack: its history is checked first), makes the row
        failed. Returns the new status."""
        with self.tx() as db:
            r = db.execute("select attempts, status from outbox where key = ?", [key]).fetchone()
            if r is None or r["status"] != "pending":
                return r["status"] if r else "missing"
            attempts = r["attempts"] + (1 if count_attempt else 0)
            status, error = "pending", code
            if permanent:
                status = "failed"
            elif max_attempts is not None and attempts >= max_attempts:
                status, error = "failed", f"too_many_attempts: {code}"
            db.execute("update outbox set status = ?, error = ?, attempts = ?, updated_at = ? where key = ?",
                       [status, error, attempts, time.time(), key])
            return status

    def claim(self, key: str, attempts: int, channel: str, owner: str, recipient: str) -> float | None:
        """Count an attempt before posting (committed); None if the row moved on or the lease is
        no longer ours. Returns the claim time."""
        now = time.time()
        with self.tx() as db:
            held = db.execute("select owner from lease where recipient = ?", [recipient]).fetchone()
            if held is None or held["owner"] != owner:
                return None
            n = db.execute(
                "update outbox set attempts = attempts + 1, slack_channel = ?, claimed_at = ?,"
                " first_claimed_at = coalesce(first_claimed_at, ?), claimed_by = ?, updated_at = ?"
                " where key = ? and status = 'pending' and attempts = ?",
                [channel, now, now, owner, now, key, attempts],
            ).rowcount
        return now if n == 1 else None

    def requeue(self, *, keys: list[str] | None = None, unit: list[str] | None = None,
                states: tuple[str, ...] = ("failed",)) -> int:
        """Failed rows back to pending. attempts > 0 becomes 1: the history check stays (an
        earlier post may be in Slack), the attempt budget starts again."""
        sql = ("update outbox set status = 'pending', attempts = case when attempts > 0 then 1 else 0 end,"
               " updated_at = ? where status in (" + ", ".join("?" for _ in states) + ")")
        params: list[Any] = [time.time(), *states]
        if keys is not None:
            if not keys:
                return 0
            sql += " and key in (" + ", ".join("?" for _ in keys) + ")"
            params += keys
        if unit:
            sql += " and unit_code in (" + ", ".join("?" for _ in unit) + ")"
            params += unit
        with self.tx() as db:
            return db.execute(sql, params).rowcount

    # -- leases ----------------------------------------------------------------------------------

    def take_lease(self, recipient: str, owner: str, until: float) -> bool:
        """Work on `recipient` alone until `until`: free, expired, ours, or its holder's process on
        this host is gone (killed) — then it is ours."""
        host, pid = socket.gethostname(), os.getpid()
        with self.tx() as db:
            r = db.execute("select * from lease where recipient = ?", [recipient]).fetchone()
            if r is not None and r["owner"] != owner and r["until"] > time.time():
                if r["host"] != host or _pid_alive(r["pid"]):
                    return False
            db.execute("insert or replace into lease (recipient, owner, host, pid, until) values (?, ?, ?, ?, ?)",
                       [recipient, owner, host, pid, until])
            return True

    def take_leases(self, recipients: list[str], owner: str, until: float) -> set[str]:
        """`take_lease` for many recipients in one transaction; returns those now ours."""
        host, pid, now = socket.gethostname(), os.getpid(), time.time()
        held = {}
        ours = set()
        with self.tx() as db:
            for r in db.execute("select * from lease"):
                held[r["recipient"]] = dict(r)
            rows = []
            for rcpt in recipients:
                h = held.get(rcpt)
                if h is not None and h["owner"] != owner and h["until"] > now:
                    if h["host"] != host or _pid_alive(h["pid"]):
                        continue
                rows.append((rcpt, owner, host, pid, until))
                ours.add(rcpt)
            db.executemany("insert or replace into lease (recipient, owner, host, pid, until) values (?, ?, ?, ?, ?)",
                           rows)
        return ours

    def release_lease(self, recipient: str, owner: str) -> None:
        with self.tx() as db:
            db.execute("delete from lease where recipient = ? and owner = ?", [recipient, owner])

    def release_leases(self, owner: str) -> None:
        with self.tx() as db:
            db.execute("delete from lease where owner = ?", [owner])

    # -- facts for the send-time checks -----------------------------------------------------------

    def facts(self, period: str, dataset_code: str, unit_code: str) -> tuple[dict | None, dict | None]:
        """(cycle_state row or None, unit_state row or None). A known cycle with no unit row
        means the unit has sent nothing."""
        db = self.db()
        cyc = db.execute("select * from cycle_state where period = ? and dataset_code = ?",
                         [period, dataset_code]).fetchone()
        unit = db.execute("select * from unit_state where period = ? and dataset_code = ? and unit_code = ?",
                          [period, dataset_code, unit_code]).fetchone()
        return (dict(cyc) if cyc else None), (dict(unit) if unit else None)

    def newer_summary_exists(self, row: dict) -> bool:
        r = self.db().execute(
            "select 1 from outbox where kind = 'operator_summary' and period = ? and dataset_code = ?"
            " and recipient = ? and coalesce(event_at, created_at) > ? and status in ('pending', 'sent') limit 1",
            [row["period"], row["dataset_code"], row["recipient"], row["event_at"] or row["created_at"]],
        ).fetchone()
        return r is not None

    def set_facts(self, units: list[tuple], cycles: list[tuple]) -> None:
        with self.tx() as db:
            db.execute("delete from unit_state")
            db.executemany("insert into unit_state values (?, ?, ?, ?, ?, ?, ?)", units)
            db.execute("delete from cycle_state")
            db.executemany("insert into cycle_state values (?, ?, ?, ?, ?)", cycles)

    # -- notices ---------------------------------------------------------------------------------

    def notice(self, code: str, text: str) -> None:
        with self.tx() as db:
            db.execute("insert into notice (at, code, text) values (?, ?, ?)", [time.time(), code, text])

    def notices(self, limit: int = 20) -> list[dict]:
        return [dict(r) for r in self.db().execute("select * from notice order by id desc limit ?", [limit])]

    def meta(self, name: str) -> str | None:
        r = self.db().execute("select value from meta where name = ?", [name]).fetchone()
        return r[0] if r else None

    def set_meta(self, name: str, value: str) -> None:
        with self.tx() as db:
            db.execute("insert or replace into meta values (?, ?)", [name, value])


# ---------------------------------------------------------------------------------------------
# Handoff from the warehouse (called by the run that holds the warehouse writer)
# ---------------------------------------------------------------------------------------------


def handoff(con: duckdb.DuckDBPyConnection, store: OutboxStore | Path | str | None = None) -> int:
    """Copy ops.outbox rows the store does not have yet, refresh the facts the send-time checks
    read, and mirror the delivery state back into ops.outbox. Returns how many rows were new.

    Safe to call any number of times; a crash between the enqueue's commit and this call loses
    nothing (the next handoff copies what is missing)."""
    store = store if isinstance(store, OutboxStore) else OutboxStore(store or path_of(con))
    known = store.keys()
    cur = con.execute(
        "select key, unit_code, period, dataset_code, kind, stage, recipient, lang, text, blocks_json,"
        " render_json, event_at, created_at, status, error, attempts, slack_channel, slack_ts, sent_at"
        " from ops.outbox"
    )
    names = [d[0] for d in cur.description]
    new = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    new = [r for r in new if r["key"] not in known]
    added = store.add(new)
    _refresh_facts(con, store)
    mirror(con, store)
    return added


def _refresh_facts(con: duckdb.DuckDBPyConnection, store: OutboxStore) -> None:
    units = con.execute(
        "select period, dataset_code, unit_code,"
        " bool_or(status in ('accepted', 'accepted_with_warnings', 'accepted_by_override'))::int, 1, max(version),"
        " arg_max(submission_id, version) from raw.submission group by all"
    ).fetchall()
    cycles = [
        (p, d, _epoch(dl), _epoch(cl), _epoch(closed))
        for p, d, dl, cl, closed in con.execute(
            "select period, dataset_code, deadline_at, close_at, closed_at from ops.cycle").fetchall()
    ]
    store.set_facts(units, cycles)


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


def _add_store_rows(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Rows delivery made itself (an operator digest) into ops.outbox, so the warehouse's record
    lists every message sent and the digest its members name."""
    tbl = pa.table({  # noqa: F841 (read by the SQL below)
        **{c: pa.array([r[c] for r in rows], pa.string())
           for c in ("key", "unit_code", "period", "dataset_code", "kind", "stage", "recipient", "lang", "text",
                     "blocks_json", "render_json")},
        **{c: pa.array([_ts(r[c]) for r in rows], pa.timestamp("us", tz="UTC")) for c in ("event_at", "created_at")},
    })
    con.execute(
        "insert into ops.outbox (key, unit_code, period, dataset_code, kind, stage, recipient, lang, text, blocks_json,"
        " render_json, event_at, created_at) select key, unit_code, period, dataset_code, kind, stage, recipient,"
        " lang, text, blocks_json, render_json, event_at, created_at from tbl t"
        " where not exists (select 1 from ops.outbox o where o.key = t.key)"
    )


def mirror(con: duckdb.DuckDBPyConnection, store: OutboxStore) -> int:
    """Copy the delivery state of rows changed since the last mirror into ops.outbox (and the
    rows delivery made itself, the operator digests)."""
    since = float(store.meta("mirrored_at") or 0)
    started = time.time()
    rows = [dict(r) for r in store.db().execute(
        "select key, status, error, attempts, slack_channel, slack_ts, sent_at from outbox where updated_at >= ?",
        [since])]
    made = [dict(r) for r in store.db().execute(
        "select * from outbox where updated_at >= ? and kind = 'escalation' and stage = 'digest'", [since])]
    if made:
        _add_store_rows(con, made)
    if rows:
        tbl = pa.table({  # noqa: F841 (read by the SQL below)
            "key": pa.array([r["key"] for r in rows], pa.string()),
            "status": pa.array([r["status"] for r in rows], pa.string()),
            "error": pa.array([r["error"] for r in rows], pa.string()),
            "attempts": pa.array([r["attempts"] for r in rows], pa.int32()),
            "slack_channel": pa.array([r["slack_channel"] for r in rows], pa.string()),
            "slack_ts": pa.array([r["slack_ts"] for r in rows], pa.string()),
            "sent_at": pa.array([datetime.fromtimestamp(r["sent_at"], UTC) if r["sent_at"] else None
                                 for r in rows], pa.timestamp("us", tz="UTC")),
        })
        con.execute(
            "update ops.outbox o set status = t.status, error = t.error, attempts = t.attempts,"
            " slack_channel = t.slack_channel, slack_ts = t.slack_ts, sent_at = t.sent_at"
            " from tbl t where o.key = t.key"
        )
    store.set_meta("mirrored_at", repr(started - 1))  # a second's overlap: nothing slips between
    return len(rows)


def render_json(fn: str, kwargs: dict[str, Any]) -> str:
    """The render call a message was made with, as JSON (dates tagged), for re-rendering at send time."""
    return json.dumps({"fn": fn, "kwargs": kwargs}, ensure_ascii=False, default=_tag)


def _tag(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, (set, tuple)):
        return list(value)
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return str(value)  # Decimal, Path, …: rendered as text anyway


def _untag(obj: dict) -> Any:
    if set(obj) == {"$datetime"}:
        return datetime.fromisoformat(obj["$datetime"])
    if set(obj) == {"$date"}:
        return date.fromisoformat(obj["$date"])
    return obj


def load_render(text: str | None) -> tuple[str, dict[str, Any]] | None:
    if not text:
        return None
    spec = json.loads(text, object_hook=_untag)
    return spec["fn"], spec["kwargs"]
