"""Delivery: send what is pending in the delivery store, exactly once, only while still true.

    deliver(store, sender, deadline_s=240)  -> DeliveryReport

It never opens the warehouse: the store (notifications/store.py) is an SQLite file updated in
short transactions, so a submission is processed while Slack is slow, and any number of delivery
processes may run at once (each recipient is leased to one of them; its messages go in order).

One run:
1. `auth.test` first: a wrong or revoked token is one clear error (and one operator notice), and
   no row is touched.
2. Operator escalations still true are merged into one digest row per operator address (the
   members become `digested`); the digest is then delivered like any other row.
3. Per recipient (leased), in the order of the events the messages report, each message is
   checked (notifications/truth.py: superseded with the reason if no longer true), rendered again
   for now, and posted:
   - a row with attempts > 0 may already be in Slack: the channel's history is searched from the
     row's first claim (less a margin), every page, for the key; found → sent, not posted again;
   - the attempt is counted and committed before the post;
   - a 5xx on the post is never retried blindly: the history is searched first, then (at most
     `post_tries` times a run) it is posted again;
   - a post whose outcome is unknown (timeout, connection lost, the process killed) may still be
     in flight at Slack: it is left alone for `settle_s` after its claim, then the history is
     searched (a search made too early could miss it and post it twice);
   - failed look-ups count as attempts; after `max_attempts` the row is failed.
4. Channels are paced (one post per channel per `pace_s`, ~1/s as Slack asks), different
   channels in parallel (`workers` threads).
5. The run stops taking new work at its deadline (requests time out before it); after
   `breaker_after` consecutive connection failures or 5xx the circuit opens: the rest stays
   pending for the next run and the operator gets one notice per outage.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notifications import render, truth
from notifications.render import Message
from notifications.sender import Sender, SendError
from notifications.store import OutboxStore, load_render, owner_id, render_json

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_DEADLINE_S = 240.0
DEFAULT_PACE_S = 1.0
DEFAULT_WORKERS = 16
DEFAULT_BREAKER_AFTER = 5
HISTORY_MARGIN_S = 120.0  # search history from this long before the first claim (clock skew)
REQUEST_TIMEOUT_S = 30.0
SETTLE_S = 120.0  # a post whose outcome is unknown (timeout, lost connection, killed process)
#                   may still be in flight at Slack: its history is searched this long after it
UNKNOWN_OUTCOME = ("connection_error", "request_timeout")


@dataclass
class DeliveryReport:
    sent: list[str] = field(default_factory=list)  # posted now
    recovered: list[str] = field(default_factory=list)  # found already in Slack; not posted again
    failed: dict[str, str] = field(default_factory=dict)  # key -> error code
    pending: dict[str, str | None] = field(default_factory=dict)  # key -> last transient error
    superseded: dict[str, str] = field(default_factory=dict)  # key -> why it was not sent
    digested: dict[str, str] = field(default_factory=dict)  # key -> the digest that carries it
    busy: list[str] = field(default_factory=list)  # recipients another delivery process holds
    auth_error: str | None = None
    breaker_open: bool = False
    deadline_reached: bool = False
    seconds: float = field(default=0.0, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": list(self.sent), "recovered": list(self.recovered), "failed": dict(self.failed),
            "pending": dict(self.pending), "superseded": dict(self.superseded),
            "digested": dict(self.digested), "busy": list(self.busy), "auth_error": self.auth_error,
            "breaker_open": self.breaker_open, "deadline_reached": self.deadline_reached,
            "seconds": round(self.seconds, 3),
        }

    def __str__(self) -> str:
        line = (
            f"đã gửi/sent {len(self.sent)}, tìm lại/recovered {len(self.recovered)}, "
            f"thay thế/superseded {len(self.superseded)}, gộp/digested {len(self.digested)}, "
            f"lỗi/failed {len(self.failed)}, chờ/pending {len(self.pending)}"
        )
        if self.auth_error:
            line += f"; token Slack không hợp lệ / Slack token rejected: {self.auth_error}"
        if self.breaker_open:
            line += "; Slack không phản hồi, tạm dừng / Slack unreachable, paused (circuit open)"
        if self.deadline_reached:
            line += "; hết thời gian của lượt / run deadline reached"
        return line


class _Breaker:
    """Opens after `after` consecutive outage-like failures (connection lost, timeout, 5xx)."""

    def __init__(self, after: int):
        self.after, self.count, self.open = after, 0, False
        self._lock = threading.Lock()

    @staticmethod
    def outage(err: SendError) -> bool:
        return not err.permanent and (
            err.code in ("connection_error", "request_timeout") or err.detail.startswith("HTTP 5")
            or err.code.startswith("http_5") or err.code.startswith("unexpected_")
        )

    def failure(self, err: SendError) -> None:
        if not self.outage(err):
            return
        with self._lock:
            self.count += 1
            if self.count >= self.after:
                self.open = True

    def success(self) -> None:
        with self._lock:
            self.count = 0


class _Pacer:
    """At most one post per channel every `pace_s` seconds."""

    def __init__(self, pace_s: float):
        self.pace_s = pace_s
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def slot(self, channel: str) -> float:
        """Reserve the channel's next slot; returns how long to wait for it."""
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next.get(channel, 0.0))
            self._next[channel] = at + self.pace_s
            return at - now

    def free_at(self, channel: str | None) -> float:
        """When the channel's next slot is free (monotonic clock)."""
        with self._lock:
            return self._next.get(channel, 0.0) if channel else 0.0


class _Run:
    def __init__(self, store: OutboxStore, sender: Sender, *, clock: Callable[[], datetime], deadline_s: float,
                 max_attempts: int, pace_s: float, workers: int, breaker_after: int, post_tries: int,
                 request_timeout_s: float, settle_s: float, links: Callable | None = None):
        self.store, self.sender, self.clock = store, sender, clock
        self.links = links
        self.max_attempts, self.workers, self.post_tries = max_attempts, workers, post_tries
        self.settle_s = settle_s
        self.started = time.monotonic()
        self.end = self.started + deadline_s
        self.request_timeout_s = min(request_timeout_s, max(deadline_s / 4, 1.0))
        self.pacer = _Pacer(pace_s)
        self.breaker = _Breaker(breaker_after)
        self.report = DeliveryReport()
        self.owner = owner_id()
        self.lease_until = time.time() + deadline_s + 60
        self._lock = threading.Lock()

    # -- helpers ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def left(self) -> float:
        return self.end - time.monotonic()

    def stopping(self) -> bool:
        if self.breaker.open:
            return True
        if self.left() < self.request_timeout_s:  # a request started now could outlive the run
            self.report.deadline_reached = True
            return True
        return False

    def note(self, key: str, status: str, code: str | None) -> None:
        with self._lock:
            if status == "failed":
                self.report.failed[key] = code or "failed"
            elif status == "pending":
                self.report.pending[key] = code

    # -- scheduling ----------------------------------------------------------------------------
    #
    # A thread never sleeps on a channel's pace while another channel could post: lanes (one per
    # recipient, its rows in event order) wait in a heap until their channel's next slot, and
    # among the lanes that may post now, the one with the most rows left goes first (so the
    # busiest channels, which set the run's length, never wait behind one-message channels).

    def run(self, lanes: dict[str, list[dict]]) -> None:
        ours = self.store.take_leases(list(lanes), self.owner, self.lease_until)
        self.report.busy.extend(sorted(set(lanes) - ours))
        self._rows = {r: list(reversed(rows)) for r, rows in lanes.items() if r in ours}  # pop() = next
        self._ready: list[tuple[int, int, str]] = []  # (-rows left, seq, recipient)
        self._waiting: list[tuple[float, int, str]] = []  # (ready at, seq, recipient)
        self._seq = 0
        self._active = 0
        self._cond = threading.Condition()
        for rcpt in self._rows:
            self._push(rcpt, 0.0)
        try:
            with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(self._rows) or 1))) as pool:
                for f in [pool.submit(self._worker) for _ in range(max(1, min(self.workers, len(self._rows) or 1)))]:
                    f.result()
        finally:
            for rows in self._rows.values():  # what the deadline or the breaker left
                for r in rows:
                    self.note(r["key"], "pending", r["error"])
            self.store.release_leases(self.owner)

    def _push(self, rcpt: str, ready_at: float) -> None:
        import heapq

        self._seq += 1
        heapq.heappush(self._waiting, (ready_at, self._seq, rcpt))

    def _next_lane(self) -> str | None:
        import heapq

        with self._cond:
            while True:
                if self.stopping():
                    return None
                now = time.monotonic()
                while self._waiting and self._waiting[0][0] <= now:
                    _, seq, rcpt = heapq.heappop(self._waiting)
                    heapq.heappush(self._ready, (-len(self._rows[rcpt]), seq, rcpt))
                if self._ready:
                    _, _, rcpt = heapq.heappop(self._ready)
                    self._active += 1
                    return rcpt
                if not self._waiting and self._active == 0:
                    return None
                wait = (self._waiting[0][0] - now) if self._waiting else 0.5
                self._cond.wait(min(max(wait, 0.001), 0.5))

    def _worker(self) -> None:
        while True:
            rcpt = self._next_lane()
            if rcpt is None:
                return
            channel, held = None, False
            try:
                row = self._rows[rcpt].pop()
                fresh = self.store.row(row["key"])  # another process may have moved it meanwhile
                if fresh is not None and fresh["status"] == "pending":
                    channel, held = self.one(fresh)
            finally:
                with self._cond:
                    self._active -= 1
                    if held:  # an earlier message still pending: the later ones wait (order by event)
                        for later in self._rows[rcpt]:
                            self.note(later["key"], "pending", later["error"] or "after_earlier")
                        self._rows[rcpt].clear()
                    if self._rows[rcpt]:
                        self._push(rcpt, self.pacer.free_at(channel))
                    self._cond.notify_all()

    def _error(self, key: str, err: SendError, *, count_attempt: bool, may_fail: bool = True) -> None:
        status = self.store.note_error(key, err.code, count_attempt=count_attempt,
                                       max_attempts=self.max_attempts if may_fail else None,
                                       permanent=err.permanent)
        self.note(key, status, self.store.row(key)["error"] if status == "failed" else err.code)
        self.breaker.failure(err)

    def one(self, row: dict) -> tuple[str | None, bool]:
        """Check, render and post one row; returns the channel it used (for its pace), if any,
        and whether the row is still pending (then the recipient's later rows wait: order)."""
        key, now = row["key"], self.now()
        reason = truth.verdict(row, self.store, now)
        if reason:
            if self.store.set_state(key, "superseded", error=reason):
                with self._lock:
                    self.report.superseded[key] = reason
            return None, False
        try:
            channel = row["slack_channel"] or self.sender.resolve(row["recipient"])
        except SendError as err:  # a failed look-up is an attempt: it ends as failed, never loops
            self._error(key, err, count_attempt=True)
            return None, False  # the later rows meet the same (cached) failure: none can overtake
        return channel, self._post(row, channel, now)

    def _post(self, row: dict, channel: str, now: datetime) -> bool:
        """Post one row exactly once; True if it is still pending afterwards (its lane waits)."""
        key = row["key"]
        msg = truth.render_now(row, self.store, now, self.links) or Message(row["text"], json.loads(row["blocks_json"] or "[]"))
        attempts, first_claim = row["attempts"], row["first_claimed_at"]
        if (attempts > 0 and (row["error"] is None or row["error"] in UNKNOWN_OUTCOME)
                and row["claimed_at"] and time.time() - row["claimed_at"] < self.settle_s):
            self.note(key, "pending", row["error"] or "settling")  # may still be in flight
            return True
        for attempt in range(self.post_tries):
            if attempts > 0 and self._found(key, channel, first_claim or row["created_at"]):
                return self.store.row(key)["status"] == "pending"
            if attempts >= self.max_attempts:
                code = f"too_many_attempts: {row['error'] or ''}".rstrip(": ")
                if self.store.set_state(key, "failed", error=code):
                    self.note(key, "failed", code)
                return False
            wait = self.pacer.slot(channel)
            if wait > 0:
                if self.left() - wait < self.request_timeout_s:
                    self.report.deadline_reached = True
                    self.note(key, "pending", row["error"])
                    return True
                time.sleep(wait)
            if self.stopping():
                self.note(key, "pending", row["error"])
                return True
            claimed = self.store.claim(key, attempts, channel, self.owner, row["recipient"])
            if claimed is None:  # moved on elsewhere, or the lease was taken over
                return False
            attempts += 1
            first_claim = first_claim or claimed
            try:
                posted = self.sender.post(channel, msg.text, msg.blocks, key)
            except SendError as err:
                if err.permanent:
                    self._error(key, err, count_attempt=False)
                    return False
                # the post may have been stored before the error: never post again unchecked
                self._error(key, err, count_attempt=False, may_fail=False)
                if err.code in UNKNOWN_OUTCOME or attempt + 1 >= self.post_tries or self.stopping():
                    return True  # unknown outcome: it may still land; a later run looks (settle_s)
                time.sleep(min(0.5 * (attempt + 1), max(self.left() - self.request_timeout_s, 0)))
                continue
            except Exception as exc:
                err = SendError(f"unexpected_{type(exc).__name__}", permanent=False, detail=str(exc))
                self._error(key, err, count_attempt=False, may_fail=False)
                return True
            self.breaker.success()
            stamp = self.now().timestamp()
            self.store.set_state(key, "sent", slack_channel=posted.channel or channel, slack_ts=posted.ts,
                                 sent_at=stamp)
            with self._lock:
                self.report.sent.append(key)
                self.report.pending.pop(key, None)
            return False
        return True

    def _found(self, key: str, channel: str, since: float) -> bool:
        """Search the channel's history for the key (every page since the first claim)."""
        try:
            ts = self.sender.find_by_key(channel, key, oldest=since - HISTORY_MARGIN_S)
        except SendError as err:
            self._error(key, err, count_attempt=False, may_fail=False)
            return True  # not known: do not post; the row stays pending
        if ts:
            self.store.set_state(key, "sent", slack_channel=channel, slack_ts=ts, sent_at=self.now().timestamp())
            self.breaker.success()
            with self._lock:
                self.report.recovered.append(key)
                self.report.pending.pop(key, None)
            return True
        return False


# ---------------------------------------------------------------------------------------------
# Digest of operator escalations
# ---------------------------------------------------------------------------------------------


def make_digests(store: OutboxStore, now: datetime, report: DeliveryReport | None = None) -> list[str]:
    """Merge the pending operator escalations that are still true into one digest per operator
    address (never posted ones only). Returns the digest keys made."""
    report = report or DeliveryReport()
    cands = [r for r in store.pending()
             if r["kind"] == "escalation" and r["stage"] == "escalation-operator" and r["attempts"] == 0]
    keep = []
    for r in cands:
        reason = truth.verdict(r, store, now)
        if reason:
            if store.set_state(r["key"], "superseded", error=reason):
                report.superseded[r["key"]] = reason
        else:
            keep.append(r["key"])
    if not keep:
        return []
    made = []
    with store.tx() as db:
        marks = ", ".join("?" for _ in keep)
        rows = [dict(r) for r in db.execute(
            f"select * from outbox where key in ({marks}) and status = 'pending' and attempts = 0", keep)]
        groups: dict[tuple[str, str], list[dict]] = {}
        for r in rows:
            groups.setdefault((r["recipient"], r["lang"]), []).append(r)
        stamp = time.time()
        for (recipient, lang), members in sorted(groups.items()):
            keys = sorted(m["key"] for m in members)
            digest_key = "escalation:digest:all:OPERATOR:" + hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]
            items = []
            for m in members:
                spec = load_render(m["render_json"])
                kw = spec[1] if spec else {}
                items.append({k: kw.get(k) for k in ("unit_code", "unit_name", "dataset_code", "period", "deadline",
                                                     "received", "supervisor_name")}
                             | {"unit_code": m["unit_code"], "dataset_code": m["dataset_code"], "period": m["period"]})
            msg = render.escalation_digest(items=items, now=now, lang=lang)
            event_at = max((m["event_at"] or m["created_at"]) for m in members)
            db.execute(
                "insert or ignore into outbox (key, unit_code, period, dataset_code, kind, stage, recipient, lang,"
                " text, blocks_json, render_json, event_at, created_at, status, attempts, updated_at)"
                " values (?, 'OPERATOR', 'digest', 'all', 'escalation', 'digest', ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
                [digest_key, recipient, lang, msg.text, json.dumps(msg.blocks, ensure_ascii=False),
                 render_json("escalation_digest", {"items": items, "lang": lang}), event_at, stamp, stamp],
            )
            db.execute(f"update outbox set status = 'digested', error = ?, updated_at = ?"
                       f" where key in ({', '.join('?' for _ in keys)})", [digest_key, stamp, *keys])
            report.digested.update({k: digest_key for k in keys})
            made.append(digest_key)
    return made


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def _notice_once(store: OutboxStore, code: str, text: str) -> None:
    """One operator notice per condition: not repeated while the same condition lasts."""
    last = store.notices(1)
    if last and last[0]["code"] == code:
        return
    store.notice(code, text)
    log.error("%s", text)


def deliver(
    store: OutboxStore | Path | str,
    sender: Sender | None,
    *,
    now: datetime | None = None,
    clock: Callable[[], datetime] | None = None,
    deadline_s: float = DEFAULT_DEADLINE_S,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    pace_s: float = DEFAULT_PACE_S,
    workers: int = DEFAULT_WORKERS,
    breaker_after: int = DEFAULT_BREAKER_AFTER,
    post_tries: int = 2,
    request_timeout_s: float = REQUEST_TIMEOUT_S,
    settle_s: float = SETTLE_S,
    progress: Callable[[str], None] | None = None,
    links: Callable[[dict, dict, datetime], dict] | None = None,
) -> DeliveryReport:
    """One delivery pass (see the module docstring). The send-time checks, the dates in the text
    and `sent_at` read `clock` (the resources' clock; default the server's UTC time), or `now`
    if given (a time fixed for the whole pass). `links`: render arguments added at send time (the
    unit's web link in a cycle-opened message: web/links.py)."""
    store = store if isinstance(store, OutboxStore) else OutboxStore(store)
    t0 = time.monotonic()
    if sender is None:  # no token: the outbox is the operator's local list
        report = DeliveryReport(pending={r["key"]: r["error"] for r in store.pending()})
        report.seconds = time.monotonic() - t0
        return report
    if clock is None:
        clock = (lambda: now) if now is not None else (lambda: datetime.now(UTC))
    run = _Run(store, sender, clock=clock, deadline_s=deadline_s, max_attempts=max_attempts, pace_s=pace_s,
               workers=workers, breaker_after=breaker_after, post_tries=post_tries,
               request_timeout_s=request_timeout_s, settle_s=settle_s, links=links)
    report = run.report
    if hasattr(sender, "start_run"):
        sender.start_run()
    if hasattr(sender, "set_timeout"):
        sender.set_timeout(run.request_timeout_s)
    if hasattr(sender, "check"):
        try:
            sender.check()
        except SendError as err:
            pending = {r["key"]: r["error"] for r in store.pending()}
            report.pending = pending
            if err.permanent:
                report.auth_error = err.code
                _notice_once(store, "auth", (
                    f"Slack từ chối token ({err.code}): chưa gửi thông báo nào, {len(pending)} đang chờ. "
                    f"Sửa SLACK_BOT_TOKEN rồi chạy `baocao outbox send` / Slack rejected the token "
                    f"({err.code}): nothing sent, {len(pending)} waiting. Fix SLACK_BOT_TOKEN, then run "
                    "`baocao outbox send`."))
            else:
                report.breaker_open = True
                _notice_once(store, "breaker_open", _outage_text(err.code, len(pending)))
            report.seconds = time.monotonic() - t0
            return report
    make_digests(store, run.now(), report)
    lanes: dict[str, list[dict]] = {}
    for r in store.pending():
        lanes.setdefault(r["recipient"], []).append(r)
    if progress:
        progress(f"{sum(map(len, lanes.values()))} pending for {len(lanes)} recipients")
    run.run(lanes)
    if run.breaker.open:
        report.breaker_open = True
        _notice_once(store, "breaker_open", _outage_text("connection_error", len(report.pending)))
    elif report.sent or report.recovered:
        last = store.notices(1)
        if last and last[0]["code"] in ("breaker_open", "auth"):
            store.notice("resumed", "Slack gửi được trở lại / Slack delivery resumed")
    report.seconds = time.monotonic() - t0
    return report


def _outage_text(code: str, waiting: int) -> str:
    return (
        f"Slack không phản hồi ({code}): tạm dừng gửi, {waiting} thông báo chờ lượt sau (không mất) / "
        f"Slack unreachable ({code}): delivery paused, {waiting} notifications wait for the next run (none lost)."
    )
