"""The Socket Mode listener: Slack's envelopes in, the unit's answers out.

Every envelope is written to a spool file (`<home>/slack/spool/<event id>.json`) and
acknowledged at once; the work happens afterwards on one worker thread, in arrival order. An
event already done (`<home>/slack/events.done`) or already spooled is acknowledged and not done
again — Slack redelivers with `retry_attempt` when an ack is late or a socket drops. Spooled
events left by a stopped listener are done when the next one starts. The worker's steps for a
file shared in a unit's channel:

    access.decide → files.info (size check) → download with the bot token → receive (the one
    intake path, source "slack", meta {user, channel, ts, file_id}) → baocao.submission.received
    (watch.announce: the watcher's journal, so it is announced once) → the warm path
    (tasks.warm: parse, validate, load, outbox, under one hold of the warehouse; no flow run)
    → the answer sent from the delivery store into the file's thread (slackdoor.answer.DoorSender)
    before the warehouse slot is released

Messages "biểu mẫu"/"form" and "trạng thái"/"status" (and the reminder's form button) answer in
the message's thread with the unit's own pre-filled workbook or state.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from baocao.settings import Settings
from notifications.render import FORM_ACTION
from notifications.sender import SendError
from slackdoor import access, receive, status, texts
from slackdoor.answer import DoorSender
from slackdoor.config import DoorConfig
from slackdoor.web import DoorClient, DownloadError

log = logging.getLogger("baocao.slack")

FORM_WORDS = ("bieu mau", "mau bieu", "form", "template")
STATUS_WORDS = ("trang thai", "tinh hinh", "status")
HANDLED_SUBTYPES = (None, "file_share", "thread_broadcast")


def fold(text: str) -> str:
    """Lower case, no diacritics, single spaces (both Unicode normalisations read the same)."""
    import unicodedata

    t = unicodedata.normalize("NFKD", (text or "").replace("đ", "d").replace("Đ", "D"))
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", t).split())


def command_of(text: str) -> str | None:
    """"form", "status" or None for a message's text (a short message that is only the command,
    perhaps after a mention of the bot)."""
    t = fold(re.sub(r"<@[A-Z0-9]+>", " ", text or ""))
    if not t or len(t) > 40:
        return None
    if any(t == w or t.startswith(w + " ") for w in FORM_WORDS):
        return "form"
    if any(t == w or t.startswith(w + " ") for w in STATUS_WORDS):
        return "status"
    return None


def now_utc() -> datetime:
    return datetime.now(UTC)


def run_process(res, submission_id: str, after: Callable[[], object] | None = None) -> None:
    """The warm path (tasks.warm): every pending file, this one included, parsed, validated,
    loaded and its answer handed to delivery under one hold of the warehouse, in this process,
    without a flow run's round trips to the Prefect API (the event announced before is labelled
    warm, so the process-submission deployment does not run for it)."""
    from tasks.cycle import warehouse_lock
    from tasks.warm import answer_pending

    took: dict[str, float] = {}
    t0 = time.monotonic()
    with warehouse_lock(res):
        t1 = time.monotonic()
        records = answer_pending(res, took)
        res.warehouse.close()
        if after is not None:  # the answer goes out before the slot's release, a round trip to
            t2 = time.monotonic()  # the Prefect API that a busy SQLite server can make slow
            after()
            took["answer sent"] = time.monotonic() - t2
    log.info("%s: warehouse slot %.2f s, %s (%d files)", submission_id, t1 - t0,
             ", ".join(f"{k} {v:.2f} s" for k, v in took.items()), len(records))


class Door:
    """What to do with one event (plain methods; the listener calls `handle`)."""

    def __init__(self, res, cfg: DoorConfig, *, client: DoorClient | None = None,
                 process: Callable[..., None] = run_process, clock: Callable[[], datetime] | None = None,
                 emit=None):
        self.res = res  # baocao.resources.Resources, kept warm (the warehouse closes with each slot)
        self.s: Settings = res.settings
        self.cfg = cfg
        self.cat = res.cat
        self.client = client or DoorClient(cfg.bot_token, cfg.api_url)
        self.process = process
        self.clock = clock or res.now
        self.emit = emit
        self._bot: str | None = None
        self.unmirrored = False  # answers sent outside the warehouse, not yet mirrored into ops.outbox

    @property
    def bot_user_id(self) -> str:
        if self._bot is None:
            self._bot = self.client.bot_user_id()
        return self._bot

    def lang(self, unit: str | None) -> str:
        lang = ((self.cat.recipients.get(unit or "") or {}).get("lang") or "vi") if unit else "vi"
        return lang if lang in ("vi", "en") else "vi"

    # -- dispatch ------------------------------------------------------------------------------------

    def handle(self, body: dict) -> None:
        if body.get("type") == "interactive":
            self._interactive(body.get("payload") or {})
            return
        event = (body.get("payload") or {}).get("event") or {}
        if event.get("type") not in ("message", "app_mention"):
            return
        if event.get("bot_id") or event.get("user") in (None, self.bot_user_id):
            return  # the bot's own messages, and messages of other bots
        if event.get("subtype") not in HANDLED_SUBTYPES:
            return  # edits, deletions, joins…
        files = event.get("files") or []
        if files:
            for f in files[:10]:
                self.take_file(event, f)
            return
        cmd = command_of(event.get("text") or "")
        if cmd is not None:
            self.command(event, cmd)

    def _decide(self, channel: str, channel_type: str | None, user: str | None) -> access.Decision:
        return access.decide(channel_id=channel, channel_type=channel_type, user=user,
                             recipients=self.cat.recipients, channel_name=self.client.channel_name,
                             user_email=self.client.user_email)

    # -- a file --------------------------------------------------------------------------------------

    def take_file(self, event: dict, f: dict) -> str | None:
        """Store the shared file for the channel's unit and have it answered; the submission id,
        or None when it was refused (the reason is answered in the thread)."""
        channel, ts, user = event["channel"], event["ts"], event.get("user")
        fid = str(f.get("id") or "")
        name = str(f.get("name") or fid)
        decision = self._decide(channel, event.get("channel_type"), user)
        thread = event.get("thread_ts") or ts
        if decision.unit_code is None:
            example = access.channel_of_contact(self.client.user_email(user) if user else None, self.cat.recipients)
            self.client.reply(channel, thread, texts.refusal(decision.refusal or access.NO_UNIT, file_name=name,
                                                             channel_name=decision.channel_name, unit_channel=example),
                              key=f"refused:{channel}:{ts}:{fid}")
            log.info("refused %s in %s (%s)", fid, channel, decision.refusal)
            return None
        unit = decision.unit_code
        lang = self.lang(unit)
        info = self.client.file_info(fid)
        size = int(info.get("size") or 0)
        if size > self.cfg.max_bytes:
            self.client.reply(channel, thread, texts.too_large(file_name=name, size=size, limit=self.cfg.max_bytes,
                                                               lang=lang), key=f"too_large:{channel}:{ts}:{fid}")
            return None
        try:
            data = self.client.download(str(info.get("url_private_download") or info.get("url_private") or ""),
                                        self.cfg.max_bytes)
        except DownloadError as err:
            if err.code == "too_large":
                self.client.reply(channel, thread, texts.too_large(file_name=name, size=self.cfg.max_bytes + 1,
                                                                   limit=self.cfg.max_bytes, lang=lang),
                                  key=f"too_large:{channel}:{ts}:{fid}")
                return None
            log.error("could not download %s from %s for %s: %s", fid, channel, unit, err)
            self.client.reply(channel, thread, texts.not_downloaded(file_name=name, lang=lang),
                              key=f"not_downloaded:{channel}:{ts}:{fid}")
            return None
        meta = {"user": user, "channel": channel, "ts": thread, "file_id": fid, "message_ts": ts}
        stored, new = receive.receive(self.s.store, unit, data, name, source="slack", received_at=self.clock(),
                                      meta=meta)
        if not new:
            first = receive.audit(self.s.store, unit, stored.submission_id) or {}
            at = first.get("received_at")
            self.client.reply(channel, thread, texts.duplicate(
                file_name=name, first_received=datetime.fromisoformat(at) if at else stored.received_at, lang=lang),
                key=f"duplicate:{channel}:{ts}:{fid}")
            return stored.submission_id
        t0 = time.monotonic()
        self.announce(stored)
        t1 = time.monotonic()
        delivered: list[float] = []

        def answer() -> None:
            self.deliver(stored.submission_id)
            delivered.append(time.monotonic())

        self.process(self.res, stored.submission_id, after=answer)
        t2 = time.monotonic()
        if not delivered:
            self.deliver(stored.submission_id)
            delivered.append(time.monotonic())
        self.unmirrored = True
        log.info("%s %s from %s: announced %.2f s, processed and answered %.2f s, warehouse slot released"
                 " %.2f s later", unit, stored.submission_id, channel, t1 - t0, delivered[0] - t1,
                 max(0.0, t2 - delivered[0]))
        return stored.submission_id

    def deliver(self, submission_id: str, tries: int = 3, wait: float = 0.5) -> bool:
        """Send the answer now, from the delivery store, without the warehouse (the processing
        handed it off); if Slack failed it (an upload that failed, an answer lost), try again a
        few times rather than at the next deliver-notifications run. True when delivered."""
        from slackdoor.answer import DELIVERED
        from tasks.warm import deliver_now, feedback_status

        for attempt in range(tries):
            if submission_id in DELIVERED:
                return True
            status = feedback_status(self.res, [submission_id])[submission_id]
            if status not in ("pending", "missing") or (attempt and status == "missing"):
                return status == "sent"  # sent (here or by deliver-notifications), superseded, failed
            if status == "pending":
                deliver_now(self.res, self.door_sender())
            time.sleep(wait * attempt)
        return submission_id in DELIVERED

    def mirror(self) -> None:
        """What was sent outside the warehouse, mirrored into ops.outbox (the hand-off does it;
        the listener calls this when no event is waiting, after the answers are out); then the
        marts and the snapshot refreshed, as the web answerer does when uploads pause (the warm
        path's loads start no refresh-aggregates run)."""
        from baocao.services import deliver
        from tasks import cycle as t

        with self._warehouse():
            deliver.handoff(self.res)
            t.publish.fn(self.res, t.aggregate.fn(self.res))
        self.unmirrored = False

    def announce(self, stored) -> None:
        """baocao.submission.received, through the watcher's journal (announced once)."""
        from intake import watch

        report = watch.PollReport(taken=[watch.Taken(stored, new=True)])
        kwargs = {"emit": self.emit} if self.emit is not None else {}
        watch.announce(self.s, cat=self.cat, report=report, warm=True, **kwargs)  # self.process answers them

    def failed(self, body: dict) -> None:
        """A file that could not be handled (a defect, not the unit's doing): say so in its thread,
        once, best effort — the unit is never left without an answer."""
        event = (body.get("payload") or {}).get("event") or {}
        files = event.get("files") or []
        if not files or not event.get("channel") or not event.get("ts"):
            return
        try:
            name = str(files[0].get("name") or "")
            self.client.reply(event["channel"], event.get("thread_ts") or event["ts"],
                              texts.system_error(file_name=name, lang="vi"),
                              key=f"failed:{event['channel']}:{event['ts']}")
        except Exception:
            log.exception("could not tell %s about a failed file", event.get("channel"))

    # -- commands ------------------------------------------------------------------------------------

    def command(self, event: dict, cmd: str) -> None:
        channel, ts = event["channel"], event["ts"]
        thread = event.get("thread_ts") or ts
        decision = self._decide(channel, event.get("channel_type"), event.get("user"))
        if decision.unit_code is None:
            return  # not a unit's conversation: the bot keeps quiet (no data to show)
        if cmd == "form":
            self.send_forms(channel, thread, decision.unit_code, key_ts=ts)
        else:
            self.send_status(channel, thread, decision.unit_code, key_ts=ts)

    def _interactive(self, payload: dict) -> None:
        if payload.get("type") != "block_actions":
            return
        actions = [a for a in payload.get("actions") or [] if a.get("action_id") == FORM_ACTION]
        if not actions:
            return
        channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get("channel_id")
        ts = (payload.get("message") or {}).get("ts") or (payload.get("container") or {}).get("message_ts")
        user = (payload.get("user") or {}).get("id")
        if not channel or not ts:
            return
        decision = self._decide(channel, None, user)
        if decision.unit_code is not None:
            self.send_forms(channel, ts, decision.unit_code, key_ts=actions[0].get("action_ts") or ts)

    def _warehouse(self):
        from tasks.cycle import warehouse_lock

        return warehouse_lock(self.res)

    def sender(self) -> DoorSender:
        return DoorSender(self.client, self.s, con_fn=self.res.con, cat=self.cat)

    def door_sender(self) -> DoorSender:
        """The sender for a delivery pass outside the warehouse: the pre-filled forms it may
        attach read last period from the published snapshot, never the writer."""
        snap = self.res.snapshot
        return DoorSender(self.client, self.s, con_fn=snap.con if snap.exists else None, cat=self.cat)

    def open_datasets(self, con, unit: str) -> list[tuple[str, str]]:
        from baocao import calendar

        rows = con.execute("select period, dataset_code from ops.cycle where closed_at is null order by 1, 2").fetchall()
        mine = []
        for period, ds in rows:
            kinds = {d.code for d in self.cat.datasets_for_unit(unit, calendar.parse_period(period).kind)}
            if ds in kinds:
                mine.append((period, ds))
        return mine

    def send_forms(self, channel: str, thread: str, unit: str, key_ts: str) -> None:
        with self._warehouse():
            todo = self.open_datasets(self.res.con(), unit)
            sender = self.sender()
            if not todo:
                self.client.reply(channel, thread, texts.no_open_cycle(self.lang(unit)), key=f"form:{channel}:{key_ts}")
                return
            for period, ds in todo:
                sender.send_form(channel, thread, unit, period, ds)

    def send_status(self, channel: str, thread: str, unit: str, key_ts: str) -> None:
        with self._warehouse():
            rows = status.unit_state(self.res.con(), unit, self.clock(), self.cat)
        u = self.cat.org_units.get(unit)
        self.client.reply(channel, thread, texts.status_lines(rows, unit_name=u.name if u else unit,
                                                              lang=self.lang(unit)),
                          key=f"status:{channel}:{key_ts}")


class Listener:
    """The Socket Mode client and the one worker thread."""

    def __init__(self, res, cfg: DoorConfig, *, door: Door | None = None, retries: int = 3,
                 retry_wait: float = 1.0, ping_interval: float = 10, release_warehouse: bool = True,
                 warm: bool = False, mirror_after: float = 0.0):
        from slack_sdk import WebClient
        from slack_sdk.socket_mode.builtin import SocketModeClient

        s = res.settings
        self.s = s
        self.cfg = cfg
        self.door = door or Door(res, cfg)
        self.retries = retries
        self.retry_wait = retry_wait
        # after each event, close the warehouse so the operator's commands can open it (under
        # `baocao serve` the warehouse lock does this already)
        self.release_warehouse = release_warehouse
        self.warm = warm  # pay Great Expectations' fixed costs before the first file (tasks.warm.warm)
        # answers are sent outside the warehouse; their states are mirrored into ops.outbox under
        # it once no event has come for `mirror_after` seconds (0: right after each event), so the
        # mirror never makes the next unit's file wait for the warehouse (every processing pass's
        # hand-off mirrors too)
        self.mirror_after = mirror_after
        self.folder = s.home / "slack"
        self.spool = self.folder / "spool"
        self.spool.mkdir(parents=True, exist_ok=True)
        self.done_path = self.folder / "events.done"
        self._done = self._read_done()
        self._lock = threading.Lock()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self.handled: list[str] = []  # event ids done by this listener (for tests and the bench)
        self.failed: list[str] = []  # left in the spool after `retries` attempts
        web = WebClient(token=cfg.app_token, base_url=(cfg.api_url or "https://slack.com/api/"))
        self.client = SocketModeClient(app_token=cfg.app_token, web_client=web, ping_interval=ping_interval,
                                       auto_reconnect_enabled=True)
        self.client.socket_mode_request_listeners.append(self._on_request)

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> Listener:
        self._worker = threading.Thread(target=self._work, name="baocao-slack-worker", daemon=True)
        self._worker.start()
        for path in sorted(self.spool.glob("*.json"), key=lambda p: p.stat().st_mtime):
            self._queue.put(path.stem)  # left by a listener that stopped before doing them
        self.client.connect()
        return self

    def stop(self, timeout: float = 30) -> None:
        self.client.close()
        self._queue.put(None)
        if self._worker is not None:
            self._worker.join(timeout=timeout)

    def idle(self) -> bool:
        return self._queue.unfinished_tasks == 0

    def wait_idle(self, timeout: float = 60) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.idle():
                return True
            time.sleep(0.02)
        return False

    # -- receiving -------------------------------------------------------------------------------------

    def _on_request(self, client, req) -> None:
        from slack_sdk.socket_mode.response import SocketModeResponse

        body = {"type": req.type, "payload": req.payload, "retry_attempt": req.retry_attempt}
        eid = _event_id(req.type, req.payload, req.envelope_id)
        fresh = False
        with self._lock:
            if eid not in self._done and not (self.spool / f"{eid}.json").exists():
                _write_atomic(self.spool / f"{eid}.json", json.dumps(body, ensure_ascii=False))
                fresh = True
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        if fresh:
            self._queue.put(eid)
        else:
            log.info("event %s again (retry_attempt %s): acknowledged, not done twice", eid, req.retry_attempt)

    def _work(self) -> None:
        if self.warm:
            from tasks.warm import warm

            log.info("warm path ready in %.1f s", warm(self.door.cat))
        while True:
            try:
                eid = self._queue.get(timeout=self.mirror_after or None)
            except queue.Empty:
                self._mirror()
                continue
            try:
                if eid is None:
                    return
                self._do(eid)
            finally:
                self._queue.task_done()

    def _do(self, eid: str) -> None:
        path = self.spool / f"{eid}.json"
        if eid in self._done or not path.exists():
            return
        body = json.loads(path.read_text(encoding="utf-8"))
        for attempt in range(1, self.retries + 1):
            try:
                self.door.handle(body)
                break
            except (SendError, DownloadError, OSError) as err:  # Slack or the network: try again
                log.warning("event %s attempt %d failed: %s", eid, attempt, err)
                if attempt == self.retries:
                    self.failed.append(eid)
                    return  # stays spooled: done by the next listener that starts
                time.sleep(self.retry_wait * attempt)
            except Exception:  # a bug or hostile input: never blocks the next unit's file
                log.exception("event %s could not be handled", eid)
                self.door.failed(body)
                break
        if self._queue.qsize() == 0 and not self.mirror_after:
            self._mirror()
        if self.release_warehouse and self._queue.qsize() == 0:
            self.door.res.warehouse.close()
        with self._lock:
            self._done.add(eid)
            with open(self.done_path, "a", encoding="utf-8") as fh:
                fh.write(eid + "\n")
            path.unlink(missing_ok=True)
        self.handled.append(eid)

    def _mirror(self) -> None:
        if not getattr(self.door, "unmirrored", False):
            return
        try:
            self.door.mirror()
        except Exception:  # the next hand-off mirrors it; nothing is lost
            log.warning("could not mirror the delivery states into ops.outbox", exc_info=True)
        if self.release_warehouse and self._queue.qsize() == 0:
            self.door.res.warehouse.close()

    def _read_done(self) -> set[str]:
        try:
            return {x.strip() for x in self.done_path.read_text(encoding="utf-8").splitlines() if x.strip()}
        except FileNotFoundError:
            return set()


def _event_id(kind: str, payload: dict, envelope_id: str) -> str:
    raw = payload.get("event_id") if kind == "events_api" else None
    if not raw and kind == "interactive":
        acts = payload.get("actions") or [{}]
        raw = "ia-" + str(acts[0].get("action_ts") or envelope_id)
    raw = raw or "env-" + envelope_id
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(raw))[:100]


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def listen(s: Settings, cfg: DoorConfig, stop: Callable[[], bool] | None = None) -> None:
    """Run until interrupted (or `stop()`)."""
    from baocao.resources import live

    res = live(s)
    lst = Listener(res, cfg, warm=True, mirror_after=5.0).start()
    log.info("listening (Socket Mode) for %s", s.home)
    try:
        while not (stop and stop()):
            time.sleep(0.5)
    finally:
        lst.stop()
        res.close()
        from baocao import events as ev

        ev.flush()
