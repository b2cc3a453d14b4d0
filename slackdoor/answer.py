"""The outbox's sender when the door is on: each answer goes where the unit will see it.

`DoorSender` has the `notifications.sender.Sender` interface (resolve, post, find_by_key), so
the outbox's exactly-once dispatch drives it unchanged:

- feedback on a submission that came through Slack (its audit sidecar says so) is posted in the
  thread of the shared file, in the channel (or DM) it came from, and the annotated workbook is
  uploaded into that thread;
- the cycle-opened message, reminders and overdue notices carry the unit's pre-filled workbook
  for the period: uploaded once per unit and period (into the thread of the first of them),
  later messages link to that file;
- everything else is posted as SlackSender posts it.

Both steps are idempotent (slackdoor.web), so a row retried after a lost answer or a failed
upload completes what is missing and repeats nothing; `find_by_key` reports a message as sent
only once its attachment is there too.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import catalog as catalog_mod
from baocao.settings import Settings
from notifications.sender import Posted, SendError
from slackdoor import forms, receive, texts
from slackdoor.config import DoorConfig
from slackdoor.web import DoorClient

FORM_KINDS = ("cycle_opened", "reminder", "overdue")
# submission ids whose answer (reply and annotated workbook) this process delivered in full: the
# listener then need not take the warehouse's slot to check the outbox
DELIVERED: set[str] = set()


def split_key(key: str) -> tuple[str, str, str, str, str] | None:
    parts = key.split(":", 4)
    return tuple(parts) if len(parts) == 5 else None  # type: ignore[return-value]


class FormRegistry:
    """Which pre-filled forms were shared, and where: `<home>/slack/forms.json` (name -> file)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def get(self, name: str) -> dict | None:
        with self._lock:
            return self._read().get(name)

    def put(self, name: str, entry: dict) -> None:
        with self._lock:
            data = self._read()
            data[name] = entry
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=0), encoding="utf-8")
            os.replace(tmp, self.path)

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}


class DoorSender:
    def __init__(self, client: DoorClient, s: Settings, con_fn=None, cat=None):
        self.client = client
        self.s = s
        self.con_fn = con_fn  # a cursor on the warehouse (the pre-filled forms read last period)
        self.cat = cat or catalog_mod.load()
        self.forms = FormRegistry(s.home / "slack" / "forms.json")

    # -- Sender interface ------------------------------------------------------------------------

    def resolve(self, recipient: str) -> str:
        return self.client.sender.resolve(recipient)

    def post(self, channel: str, text: str, blocks: Sequence[dict], key: str) -> Posted:
        parts = split_key(key)
        kind = parts[0] if parts else ""
        if kind == "feedback":
            origin = self._origin(parts)
            if origin is not None:
                ch, ts = origin
                reply_ts = self.client.reply(ch, ts, text, key, blocks)
                self._attach_feedback(ch, ts, parts)
                DELIVERED.add(parts[4])
                return Posted(ch, reply_ts)
        if kind in FORM_KINDS:
            shared = self.forms.get(forms.form_name(parts[3], parts[1], parts[2]))
            if shared and shared.get("permalink"):
                blocks = [*blocks, _form_link(shared, self._lang(parts[3]))]
        posted = self.client.sender.post(channel, text, blocks, key)
        if kind in FORM_KINDS:
            self._attach_form(posted.channel, posted.ts, parts)
        return posted

    def find_by_key(self, channel: str, key: str, oldest: float | None = None) -> str | None:
        parts = split_key(key)
        kind = parts[0] if parts else ""
        if kind == "feedback":
            origin = self._origin(parts)
            if origin is not None:
                ch, ts = origin
                found = self.client.find_reply(ch, ts, key)
                if found is None or (self._feedback_file(parts) and not self.client.find_file(
                        ch, ts, self._feedback_file(parts).name)):
                    return None  # post() completes what is missing, repeating nothing
                return found
        found = self.client.sender.find_by_key(channel, key, oldest=oldest)
        if found and kind in FORM_KINDS:
            self._attach_form(channel, found, parts)
        return found

    # -- feedback ------------------------------------------------------------------------------------

    def _origin(self, parts) -> tuple[str, str] | None:
        side = receive.audit(self.s.store, parts[3], parts[4])
        if not side or side.get("source") != "slack":
            return None
        meta = side.get("meta") or {}
        if meta.get("channel") and meta.get("ts"):
            return str(meta["channel"]), str(meta["ts"])
        return None

    def _feedback_file(self, parts) -> Path | None:
        """The annotated workbook (pipeline.write_findings_file names it `…_kiem_tra_<sid[:8]>.xlsx`)."""
        _, period, _, unit, sid = parts
        folder = self.s.feedback / period / unit
        found = sorted(folder.glob(f"*_kiem_tra_{sid[:8]}.xlsx")) if folder.is_dir() else []
        return found[0] if found else None

    def _attach_feedback(self, channel: str, ts: str, parts) -> None:
        path = self._feedback_file(parts)
        if path is None:
            return
        lang = self._lang(parts[3])
        title = texts._t(lang, "Bản đánh dấu các ô cần sửa", "Your workbook with the cells to fix marked")
        self.client.upload(channel, ts, path.name, path.read_bytes(), title=title)

    # -- forms -----------------------------------------------------------------------------------------

    def _lang(self, unit: str) -> str:
        lang = (self.cat.recipients.get(unit) or {}).get("lang") or "vi"
        return lang if lang in ("vi", "en") else "vi"

    def send_form(self, channel: str, thread_ts: str, unit: str, period: str, dataset: str) -> dict:
        """Upload the unit's pre-filled form into a thread (once per thread) and say what it is."""
        name = forms.form_name(unit, period, dataset)
        lang = self._lang(unit)
        u = self.cat.org_units.get(unit)
        previous = {}
        if self.con_fn is not None:
            con = self.con_fn()  # a cursor, or a read-only connection on the snapshot: ours to close
            try:
                previous = forms.previous_values(con, unit, period, dataset)
            finally:
                con.close()
        intro = texts.form_intro(unit_name=u.name if u else unit, period=period, dataset_code=dataset,
                                 previous=forms.previous_period(period) if previous else None, lang=lang)
        data = forms.prefilled_form(unit, period, dataset, previous, cat=self.cat)
        return self.client.upload(channel, thread_ts, name, data, title=name, comment=intro)

    def _attach_form(self, channel: str, ts: str, parts) -> None:
        _, period, dataset, unit, _ = parts
        if unit not in self.cat.org_units or dataset not in self.cat.datasets:
            return
        name = forms.form_name(unit, period, dataset)
        shared = self.forms.get(name)
        if shared and not (shared.get("thread_ts") == ts and shared.get("channel") == channel):
            return  # shared once for the unit and period; this message links to it
        f = self.send_form(channel, ts, unit, period, dataset)
        self.forms.put(name, {"channel": channel, "thread_ts": ts, "file_id": f.get("id"),
                              "permalink": f.get("permalink")})


def _form_link(shared: dict, lang: str) -> dict:
    url = str(shared["permalink"]).replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    label = texts._t(lang, "Biểu mẫu của đơn vị (điền và gửi lại vào kênh này)",
                     "Your unit's form (fill it in and share it back in this channel)")
    return {"type": "section", "text": {"type": "mrkdwn", "text": f":paperclip: <{url}|{label}>", "verbatim": True}}


def sender_for(res, env=None, con_fn=None) -> DoorSender | None:
    """The door's sender for a run's resources when SLACK_BOT_TOKEN and SLACK_APP_TOKEN are both
    set; None otherwise (the run then uses its resources' sender). `con_fn` opens what the
    pre-filled forms read last period from (default: the run's warehouse cursor)."""
    cfg = DoorConfig.from_env(env)
    if cfg is None:
        return None
    return DoorSender(DoorClient(cfg.bot_token, cfg.api_url), res.settings, con_fn=con_fn or res.con, cat=res.cat)


__all__ = ["DoorSender", "FormRegistry", "SendError", "sender_for", "split_key"]
