"""Exactly-once delivery through the warehouse table `ops.outbox` (warehouse/migrations/002_outbox.sql).

    enqueue(con, kind=…, period=…, dataset_code=…, unit_code=…, stage=…, recipient=…, message=…)
        inserts one row per key (kind:period:dataset:unit:stage); the same key again is a no-op.
    dispatch(con, sender)
        sends every pending row, one at a time, committing each row's state.

How a message is sent once although anything can fail:
1. Before posting, the row's `attempts` is increased and its channel id stored, and that is
   committed. A row with attempts > 0 may therefore already be in Slack (the process died, or
   the connection dropped after Slack accepted the post).
2. Each post carries `metadata={"event_type": "baocao_notification", "event_payload": {"key": …}}`.
3. For a row with attempts > 0, dispatch first reads the channel's recent history; if a message
   with the key is there, the row is marked sent with that ts and nothing is posted.
4. Permanent errors (channel_not_found, not_in_channel, invalid_auth, account_inactive,
   users_not_found, …) mark the row failed with the code and the batch goes on; transient ones
   (rate limit or 5xx after the client's retries, connection lost, timeouts) leave it pending.

With no sender (no SLACK_BOT_TOKEN), rows stay pending: the outbox is the operator's local list.
Call dispatch with a connection that has no open transaction, from one process at a time (DuckDB
allows one writer; a Prefect concurrency limit of 1 on the dispatch task keeps it that way).
"""

from __future__ import annotations

import csv
import functools
import json
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from notifications.render import Message
from notifications.schedule import make_key
from notifications.sender import Sender, SendError

OPERATOR = "OPERATOR"
RECIPIENTS_CSV = Path(__file__).resolve().parents[1] / "catalog" / "recipients.csv"
DEFAULT_MAX_ATTEMPTS = 10
HISTORY_MARGIN_S = 600  # look this far before the row's created_at (clock skew)


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
) -> bool:
    """Insert the notification once; False if its key was already in the outbox. Inside
    `batch(con)` the row is buffered and written with the others when the batch ends."""
    key = make_key(kind, period, dataset_code, unit_code, stage)
    if not recipient:
        raise ValueError(f"thiếu người nhận / no recipient for {key}")
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
                              json.dumps(message.blocks, ensure_ascii=False)))
        return True
    rows = con.execute(
        "insert or ignore into ops.outbox"
        " (key, unit_code, period, dataset_code, kind, stage, recipient, lang, text, blocks_json)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning key",
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
        ],
    ).fetchall()
    return bool(rows)


_BATCH = threading.local()
_COLUMNS = ("key", "unit_code", "period", "dataset_code", "kind", "stage", "recipient", "lang", "text", "blocks_json")


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
            tbl = pa.table({c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(_COLUMNS)})  # noqa: F841
            cols = ", ".join(_COLUMNS)
            con.execute(f"insert or ignore into ops.outbox ({cols}) select {cols} from tbl")
    finally:
        _BATCH.state = None


# ---------------------------------------------------------------------------------------------
# Dispatch
# ---------------------------------------------------------------------------------------------


@dataclass
class DispatchReport:
    sent: list[str] = field(default_factory=list)  # posted now
    recovered: list[str] = field(default_factory=list)  # found already in Slack; not posted again
    failed: dict[str, str] = field(default_factory=dict)  # key -> error code (permanent)
    pending: dict[str, str | None] = field(default_factory=dict)  # key -> last transient error

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": list(self.sent),
            "recovered": list(self.recovered),
            "failed": dict(self.failed),
            "pending": dict(self.pending),
        }

    def __str__(self) -> str:
        return (
            f"đã gửi/sent {len(self.sent)}, tìm lại/recovered {len(self.recovered)}, "
            f"lỗi/failed {len(self.failed)}, chờ/pending {len(self.pending)}"
        )


def _apply(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list:
    """Run one statement in its own committed transaction."""
    try:
        con.execute("begin transaction")
    except duckdb.TransactionException as exc:
        raise RuntimeError(
            "dispatch cần kết nối không có giao dịch đang mở / "
            "dispatch needs a connection without an open transaction"
        ) from exc
    try:
        rows = con.execute(sql, params).fetchall()
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return rows


def _mark_sent(con, key: str, channel: str, ts: str, now: datetime) -> None:
    _apply(
        con,
        "update ops.outbox set status = 'sent', slack_channel = ?, slack_ts = ?, sent_at = ?,"
        " error = null where key = ?",
        [channel, ts, now, key],
    )


def _mark_error(con, key: str, err: SendError, *, count_attempt: bool) -> None:
    status = "failed" if err.permanent else "pending"
    _apply(
        con,
        "update ops.outbox set status = ?, error = ?, attempts = attempts + ? where key = ?",
        [status, err.code, 1 if count_attempt else 0, key],
    )


def pending_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Pending rows, oldest first (what the operator reads when there is no Slack)."""
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
) -> DispatchReport:
    """Send every pending row; return what was sent, recovered, failed and is still pending.

    With `workers` > 1 (default: $BAOCAO_DISPATCH_WORKERS or 4) recipients are spread over
    threads, each with its own cursor; one recipient's messages stay in one thread, in order.
    Every row is still claimed and recorded in its own committed transaction."""
    report = DispatchReport()
    rows = pending_rows(con)
    if sender is None:
        report.pending = {r["key"]: r["error"] for r in rows}
        return report
    workers = max(1, workers or int(os.environ.get("BAOCAO_DISPATCH_WORKERS", "4")))
    by_recipient: dict[str, list[dict]] = {}
    for row in rows:
        by_recipient.setdefault(row["recipient"], []).append(row)
    lanes: list[list[dict]] = [[] for _ in range(min(workers, len(by_recipient)) or 1)]
    for i, group in enumerate(by_recipient.values()):
        lanes[i % len(lanes)].extend(group)
    if len(lanes) == 1:
        _dispatch_rows(con, sender, lanes[0], report, now, max_attempts)
        return report
    reports = [DispatchReport() for _ in lanes]
    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        futures = [pool.submit(_dispatch_lane, con, sender, lane, rep, now, max_attempts)
                   for lane, rep in zip(lanes, reports, strict=True)]
        for f in futures:
            f.result()
    for rep in reports:
        report.sent += rep.sent
        report.recovered += rep.recovered
        report.failed.update(rep.failed)
        report.pending.update(rep.pending)
    return report


def _dispatch_lane(con, sender, rows, report, now, max_attempts) -> None:
    cur = con.cursor()
    try:
        _dispatch_rows(cur, sender, rows, report, now, max_attempts)
    finally:
        cur.close()


def _dispatch_rows(
    con: duckdb.DuckDBPyConnection,
    sender: Sender,
    rows: list[dict],
    report: DispatchReport,
    now: datetime | None,
    max_attempts: int,
) -> None:
    for row in rows:
        key = row["key"]
        stamp = now or datetime.now(UTC)
        try:
            channel = row["slack_channel"] or sender.resolve(row["recipient"])
        except SendError as err:
            _mark_error(con, key, err, count_attempt=True)
            _note(report, key, err)
            continue

        if row["attempts"] > 0:  # an earlier post may have reached Slack
            created = row["created_at"]
            oldest = created.timestamp() - HISTORY_MARGIN_S if created is not None else None
            try:
                ts = sender.find_by_key(channel, key, oldest=oldest)
            except SendError as err:
                _mark_error(con, key, err, count_attempt=False)
                _note(report, key, err)
                continue
            if ts:
                _mark_sent(con, key, channel, ts, stamp)
                report.recovered.append(key)
                continue
            if row["attempts"] >= max_attempts:
                err = SendError("too_many_attempts", permanent=True)
                _apply(
                    con,
                    "update ops.outbox set status = 'failed',"
                    " error = 'too_many_attempts: ' || coalesce(error, '') where key = ?",
                    [key],
                )
                report.failed[key] = "too_many_attempts"
                continue

        # Claim the row and count the attempt *before* posting (committed).
        claimed = _apply(
            con,
            "update ops.outbox set attempts = attempts + 1, slack_channel = ?"
            " where key = ? and status = 'pending' and attempts = ? returning key",
            [channel, key, row["attempts"]],
        )
        if not claimed:  # another dispatcher moved it on
            continue
        blocks = json.loads(row["blocks_json"] or "[]")
        try:
            posted = sender.post(channel, row["text"], blocks, key)
        except SendError as err:
            _mark_error(con, key, err, count_attempt=False)
            _note(report, key, err)
            continue
        except Exception as exc:
            err = SendError(f"unexpected_{type(exc).__name__}", permanent=False, detail=str(exc))
            _mark_error(con, key, err, count_attempt=False)
            _note(report, key, err)
            continue
        _mark_sent(con, key, posted.channel or channel, posted.ts, now or datetime.now(UTC))
        report.sent.append(key)


def _note(report: DispatchReport, key: str, err: SendError) -> None:
    if err.permanent:
        report.failed[key] = err.code
    else:
        report.pending[key] = err.code


def requeue(con: duckdb.DuckDBPyConnection, keys: list[str] | None = None) -> int:
    """Put failed rows back to pending (after fixing a channel or the token); returns how many."""
    # attempts > 0 becomes 1: the history check stays, the attempt budget starts again
    sql = (
        "update ops.outbox set status = 'pending',"
        " attempts = case when attempts > 0 then 1 else 0 end"
        " where status = 'failed'"
    )
    params: list = []
    if keys is not None:
        if not keys:
            return 0
        sql += " and key in (" + ", ".join("?" for _ in keys) + ")"
        params = list(keys)
    return len(con.execute(sql + " returning key", params).fetchall())
