"""The door's Slack calls, on `notifications.sender.SlackSender`'s clients (its retries, its
error codes: every failure is a `SendError`, permanent or transient).

Exactly once without a local record: a reply carries `metadata={"event_type":
"baocao_notification", "event_payload": {"key": …}}` and is posted only if the thread does not
already hold a message with that key (`conversations.replies`); a file is uploaded into a thread
only if the thread does not already hold a file of that name (names carry the submission id).
So a post or an upload Slack completed while baocao lost the answer is found again, not repeated.
"""

from __future__ import annotations

import http.client
import threading
import urllib.request
from collections.abc import Sequence
from urllib.error import URLError

from notifications.sender import EVENT_TYPE, SendError, SlackSender, metadata_for


class DownloadError(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}{': ' + detail if detail else ''}")
        self.code = code


UPLOAD_ATTEMPTS = 3  # a file the thread still lacks is uploaded again, at most this often


class DoorClient:
    def __init__(self, token: str, base_url: str | None = None, *, timeout: int = 30, backoff_factor: float = 0.5):
        self.token = token
        self.sender = SlackSender(token, base_url, timeout=timeout, backoff_factor=backoff_factor)
        self.timeout = timeout
        self._names: dict[str, str] = {}
        self._emails: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def _call(self, fn, **kwargs):
        return self.sender._call(fn, **kwargs)

    # -- who -------------------------------------------------------------------------------------

    def bot_user_id(self) -> str:
        return self.sender.check()["user_id"]

    def channel_name(self, channel_id: str) -> str | None:
        """A channel's name (conversations.list, all pages, cached; listed again on a miss)."""
        with self._lock:
            if channel_id in self._names:
                return self._names[channel_id]
        cursor = None
        while True:
            resp = self._call(self.sender.client.conversations_list, types="public_channel,private_channel",
                              exclude_archived=True, limit=1000, cursor=cursor)
            with self._lock:
                for ch in resp.get("channels", []):
                    self._names[ch["id"]] = ch["name"]
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        with self._lock:
            return self._names.get(channel_id)

    def user_email(self, user: str) -> str | None:
        with self._lock:
            if user in self._emails:
                return self._emails[user]
        try:
            resp = self._call(self.sender.client.users_info, user=user)
            email = ((resp.get("user") or {}).get("profile") or {}).get("email")
        except SendError as err:
            if not err.permanent:
                raise
            email = None
        with self._lock:
            self._emails[user] = email
        return email

    # -- files in ------------------------------------------------------------------------------------

    def file_info(self, file_id: str) -> dict:
        return dict(self._call(self.sender.client.files_info, file=file_id)["file"])

    def download(self, url: str, max_bytes: int) -> bytes:
        """The file's bytes with the bot token; never more than `max_bytes` are read."""
        if not url.lower().startswith(("https://", "http://")):
            raise DownloadError("bad_url", url[:100])
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                ctype = (resp.headers.get("Content-Type") or "").lower()
                data = resp.read(max_bytes + 1)
        except (URLError, OSError, ValueError, http.client.HTTPException) as exc:
            raise DownloadError("download_failed", repr(exc)) from exc
        if ctype.startswith("text/html"):  # Slack's sign-in page: the token may not read files
            raise DownloadError("not_authorized", "got a sign-in page (is the files:read scope granted?)")
        if len(data) > max_bytes:
            raise DownloadError("too_large", f"more than {max_bytes} bytes")
        return data

    # -- threads ---------------------------------------------------------------------------------------

    def replies(self, channel: str, ts: str, pages: int = 10) -> list[dict]:
        out: list[dict] = []
        cursor = None
        for _ in range(pages):
            resp = self._call(self.sender.client.conversations_replies, channel=channel, ts=ts, limit=200,
                              include_all_metadata=True, cursor=cursor)
            out += resp.get("messages", [])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not resp.get("has_more") or not cursor:
                break
        return out

    @staticmethod
    def _key_of(m: dict) -> str | None:
        meta = m.get("metadata") or {}
        return (meta.get("event_payload") or {}).get("key") if meta.get("event_type") == EVENT_TYPE else None

    def find_reply(self, channel: str, thread_ts: str, key: str) -> str | None:
        return next((m["ts"] for m in self.replies(channel, thread_ts) if self._key_of(m) == key), None)

    def find_file(self, channel: str, thread_ts: str, name: str) -> dict | None:
        for m in self.replies(channel, thread_ts):
            for f in m.get("files") or []:
                if f.get("name") == name:
                    return f
        return None

    def reply(self, channel: str, thread_ts: str, text: str, key: str, blocks: Sequence[dict] = ()) -> str:
        """Post in the thread once per key; returns the message's ts."""
        found = self.find_reply(channel, thread_ts, key)
        if found:
            return found
        resp = self._call(self.sender._post_client.chat_postMessage, channel=channel, thread_ts=thread_ts,
                          text=text, blocks=list(blocks) or None, metadata=metadata_for(key),
                          unfurl_links=False, unfurl_media=False)
        return resp["ts"]

    def upload(self, channel: str, thread_ts: str, name: str, data: bytes, *, title: str,
               comment: str | None = None) -> dict:
        """Share a file in the thread once per file name; returns the file (id, name, permalink).
        A failed attempt is tried again (up to `UPLOAD_ATTEMPTS`), each time only after the thread
        shows the file is not there: an upload Slack completed without telling us is not repeated."""
        last: SendError | None = None
        for _ in range(UPLOAD_ATTEMPTS):
            found = self.find_file(channel, thread_ts, name)
            if found:
                return found
            try:
                resp = self._call(self.sender._post_client.files_upload_v2, channel=channel, thread_ts=thread_ts,
                                  filename=name, content=data, title=title, initial_comment=comment)
                break
            except SendError as exc:
                last = exc
        else:
            raise last  # type: ignore[misc]
        fid = resp["file"]["id"]
        try:
            return self.file_info(fid)
        except SendError:
            return {"id": fid, "name": name}
