"""The local Slack server, two-way: Socket Mode, files and threads, for the Slack door's tests.

`SocketSlackServer` is `SlackServer` (the Web API look-alike) plus what a unit's side of Slack
needs, so the real `slack_sdk` clients (`WebClient`, `socket_mode.builtin.SocketModeClient`) run
against it unchanged:

- `apps.connections.open` (app-level `xapp-` token) returns a local `ws://` URL. The WebSocket
  says `hello`, pushes event envelopes and expects each to be acknowledged with its
  `envelope_id`; an envelope not acknowledged when its socket goes away is delivered again on the
  next connection with `retry_attempt` + 1 (as Slack does).
- `files.info`, the file download (`url_private_download`, only with `Authorization: Bearer
  <bot token>`; without it, like Slack, an HTML sign-in page with status 200), the external
  upload pair (`files.getUploadURLExternal`, POST to the upload URL,
  `files.completeUploadExternal`, which shares the file in a channel or thread as a message),
  `conversations.replies`, `users.info`, and `thread_ts` on `chat.postMessage`.

What a user does (test API): `share_file(channel, user, name, data)` (a `message` event with
subtype `file_share`), `say(channel, user, text)`, `click(channel, user, action_id, value)`;
`dm(user)` is the user's direct-message channel with the bot.

Scenarios: `deliver_twice_next()` (the next envelope is delivered again with `retry_attempt` 1
after it was acknowledged), `drop_socket_next()` (the socket is cut right after the next
envelope is sent, before its ack can arrive), `fail_upload_next()` (the upload URL answers 500),
`drop_after_accept_next(method="files.completeUploadExternal")` (the upload completes, the
client never hears back), `share_file(..., size=…)` (files.info states another size than the
bytes served). Inspection: `thread(channel, ts)`, `files_in(channel, thread_ts)`, `acked`.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
import uuid
from typing import Any
from urllib.parse import quote

from testing.slack_server import SlackServer, _ApiError, _int, _json_param, _truthy

DEFAULT_APP_TOKEN = "xapp-1-baocao-local"
SIGN_IN_PAGE = b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"


class SocketSlackServer(SlackServer):
    def __init__(self, *, app_token: str = DEFAULT_APP_TOKEN, **kwargs: Any):
        super().__init__(**kwargs)
        self.app_tokens = {app_token}
        self.app_id = "ABAOCAO"
        self._files: dict[str, dict] = {}  # id -> file (with "data": bytes)
        self._uploads: dict[str, dict] = {}  # id -> {"filename", "length", "data"}
        self._pending: dict[str, dict] = {}  # envelope_id -> envelope, not acknowledged yet
        self._sent_on: dict[str, int] = {}  # envelope_id -> connection number it was sent on
        self.acked: list[str] = []  # envelope ids, in the order acknowledged
        self.connections_opened = 0
        self._conn_seq = itertools.count(1)
        self._twice = 0
        self._drop = 0
        self._upload_fail = 0
        self._ws = None
        self._ws_thread: threading.Thread | None = None
        self._ws_port = 0
        self._wake = threading.Condition(self._lock)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> SocketSlackServer:
        from websockets.sync.server import serve

        super().start()
        self._ws = serve(self._ws_handler, self.host, 0, compression=None, ping_interval=None)
        self._ws_port = self._ws.socket.getsockname()[1]
        self._ws_thread = threading.Thread(target=self._ws.serve_forever, daemon=True)
        self._ws_thread.start()
        return self

    def stop(self) -> None:
        if self._ws is not None:
            self._ws.shutdown()
            self._ws = None
        if self._ws_thread is not None:
            self._ws_thread.join(timeout=5)
            self._ws_thread = None
        with self._wake:
            self._wake.notify_all()
        super().stop()

    @property
    def app_token(self) -> str:
        return min(self.app_tokens)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- workspace ---------------------------------------------------------------------------------

    def user_id(self, address: str) -> str:
        with self._lock:
            return self._users[address.strip().lower()]

    def dm(self, user: str) -> str:
        """The direct-message channel between `user` and the bot."""
        with self._lock:
            cid, _ = self._dm_for([user])
            return cid

    # -- scenarios ---------------------------------------------------------------------------------

    def deliver_twice_next(self, n: int = 1) -> None:
        with self._lock:
            self._twice += n

    def drop_socket_next(self, n: int = 1) -> None:
        with self._lock:
            self._drop += n

    def fail_upload_next(self, n: int = 1) -> None:
        with self._lock:
            self._upload_fail += n

    # -- what users do -----------------------------------------------------------------------------

    def share_file(
        self, channel: str, user: str, name: str, data: bytes, *, text: str = "", size: int | None = None
    ) -> dict:
        """A user shares a file in a channel (id or name) or DM: the message is posted and its
        event pushed. `size` overrides what files.info states. Returns the event."""
        with self._lock:
            ch = self._channels.get(channel) or self._find_channel(channel)
            fid = self._new_id("F")
            f = self._file(fid, name, data, user, size=size)
            f["channels"] = [] if ch["is_im"] else [ch["id"]]
            f["ims"] = [ch["id"]] if ch["is_im"] else []
            ts = self._next_ts()
            msg = {"type": "message", "subtype": "file_share", "user": user, "text": text, "ts": ts,
                   "channel": ch["id"], "files": [self._public(f)], "upload": True, "display_as_bot": False}
            self._messages.append(msg)
            event = {k: v for k, v in msg.items()}
            event.update({"event_ts": ts, "channel_type": "im" if ch["is_im"] else "channel"})
            self._push_event(event)
            return event

    def say(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> dict:
        """A user writes a message; its event is pushed."""
        with self._lock:
            ch = self._channels.get(channel) or self._find_channel(channel)
            ts = self._next_ts()
            msg = {"type": "message", "user": user, "text": text, "ts": ts, "channel": ch["id"]}
            if thread_ts:
                msg["thread_ts"] = thread_ts
            self._messages.append(msg)
            event = {**msg, "event_ts": ts, "channel_type": "im" if ch["is_im"] else "channel"}
            self._push_event(event)
            return event

    def click(self, channel: str, user: str, action_id: str, value: str, message_ts: str) -> dict:
        """A user presses a button of a message: an `interactive` envelope (block_actions)."""
        with self._lock:
            ch = self._channels.get(channel) or self._find_channel(channel)
            payload = {
                "type": "block_actions",
                "team": {"id": self.team_id},
                "user": {"id": user},
                "api_app_id": self.app_id,
                "container": {"type": "message", "message_ts": message_ts, "channel_id": ch["id"]},
                "channel": {"id": ch["id"], "name": ch["name"]},
                "message": {"ts": message_ts},
                "trigger_id": uuid.uuid4().hex,
                "actions": [{"action_id": action_id, "block_id": "b", "type": "button", "value": value,
                             "action_ts": self._next_ts()}],
            }
            self._push({"type": "interactive", "payload": payload})
            return payload

    # -- inspection --------------------------------------------------------------------------------

    def thread(self, channel: str, ts: str) -> list[dict]:
        """The parent message and its replies, oldest first (copies, without file bytes)."""
        with self._lock:
            cid = self._channels[channel]["id"] if channel in self._channels else self._find_channel(channel)["id"]
            return [dict(m) for m in self._messages
                    if m["channel"] == cid and (m["ts"] == ts or m.get("thread_ts") == ts)]

    def file_bytes(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id]["data"]

    def files_in(self, channel: str, thread_ts: str | None = None) -> list[dict]:
        """Files shared by the bot in a channel (or one thread): dicts with name, id, data."""
        with self._lock:
            out = []
            msgs = self.thread(channel, thread_ts) if thread_ts else self.messages(channel)
            for m in msgs:
                if m.get("user") != self.bot_user_id:
                    continue
                for f in m.get("files") or []:
                    out.append({**f, "data": self._files[f["id"]]["data"], "message_ts": m["ts"]})
            return out

    @property
    def pending_envelopes(self) -> int:
        with self._lock:
            return len(self._pending)

    # -- Socket Mode ------------------------------------------------------------------------------

    def _push_event(self, event: dict) -> None:
        payload = {
            "token": "verification-token-unused",
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:12].upper(),
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team_id, "user_id": self.bot_user_id, "is_bot": True}],
        }
        self._push({"type": "events_api", "payload": payload, "accepts_response_payload": False})

    def _push(self, body: dict, retry_attempt: int = 0) -> None:
        with self._wake:
            env = {"envelope_id": str(uuid.uuid4()), **body, "retry_attempt": retry_attempt,
                   "retry_reason": "timeout" if retry_attempt else ""}
            if self._twice > 0 and not retry_attempt:
                self._twice -= 1
                env["_again"] = True
            self._pending[env["envelope_id"]] = env
            self._wake.notify_all()

    def _ws_handler(self, conn) -> None:
        with self._wake:
            n = next(self._conn_seq)
        conn.send(json.dumps({"type": "hello", "num_connections": 1,
                              "debug_info": {"host": "baocao-local", "approximate_connection_time": 3600},
                              "connection_info": {"app_id": self.app_id}}))
        try:
            while self._ws is not None:
                with self._wake:
                    todo = [e for eid, e in self._pending.items() if self._sent_on.get(eid) != n]
                    drop = False
                    if todo and self._drop > 0:
                        self._drop -= 1
                        todo, drop = todo[:1], True
                    for env in todo:
                        self._sent_on[env["envelope_id"]] = n
                for env in todo:
                    conn.send(json.dumps({k: v for k, v in env.items() if not k.startswith("_")}, ensure_ascii=False))
                if drop:  # cut the socket before the ack can be read: the envelope stays pending
                    with self._wake:
                        for env in self._pending.values():
                            if self._sent_on.get(env["envelope_id"]) == n:
                                self._sent_on.pop(env["envelope_id"])
                                env["retry_attempt"] += 1
                                env["retry_reason"] = "timeout"
                    conn.socket.shutdown(socket.SHUT_RDWR)
                    conn.socket.close()
                    return
                try:
                    raw = conn.recv(timeout=0.02)
                except TimeoutError:
                    continue
                self._on_frame(raw)
        except Exception:  # the client went away: unacknowledged envelopes wait for the next socket
            with self._wake:
                for eid in [e for e, c in self._sent_on.items() if c == n and e in self._pending]:
                    self._sent_on.pop(eid)
                    self._pending[eid]["retry_attempt"] += 1
                    self._pending[eid]["retry_reason"] = "timeout"

    def _on_frame(self, raw: str | bytes) -> None:
        try:
            msg = json.loads(raw)
        except (ValueError, TypeError):
            return
        eid = msg.get("envelope_id") if isinstance(msg, dict) else None
        with self._wake:
            env = self._pending.pop(eid, None)
            if env is None:
                return
            self.acked.append(eid)
            self._sent_on.pop(eid, None)
            if env.get("_again"):  # Slack's redelivery: the same event, a new envelope
                body = {k: v for k, v in env.items()
                        if k not in ("envelope_id", "retry_attempt", "retry_reason", "_again")}
                self._push(body, retry_attempt=1)

    # -- Web API ----------------------------------------------------------------------------------

    def handle(self, method: str, params: dict, token: str | None) -> dict:
        if method == "apps.connections.open":
            with self._lock:
                self._calls.append((method, dict(params)))
            if not token:
                raise _ApiError("not_authed")
            if token not in self.app_tokens:
                raise _ApiError("invalid_auth" if not token.startswith("xoxb-") else "not_allowed_token_type")
            with self._lock:
                self.connections_opened += 1
            ticket = uuid.uuid4().hex
            return {"url": f"ws://{self.host}:{self._ws_port}/link/?ticket={ticket}&app_id={self.app_id}"}
        if token in self.app_tokens:
            with self._lock:
                self._calls.append((method, dict(params)))
            raise _ApiError("not_allowed_token_type")
        return super().handle(method, params, token)

    def _file(self, fid: str, name: str, data: bytes, user: str, *, size: int | None = None, title: str | None = None) -> dict:
        f = {
            "id": fid, "name": name, "title": title or name, "user": user, "size": len(data) if size is None else size,
            "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            if name.lower().endswith(".xlsx") else "application/octet-stream",
            "filetype": name.rsplit(".", 1)[-1].lower() if "." in name else "binary",
            "created": int(time.time()), "is_external": False,
            "url_private": f"{self.base}/files-pri/{self.team_id}-{fid}/{quote(name)}",
            "url_private_download": f"{self.base}/files-pri/{self.team_id}-{fid}/download/{quote(name)}",
            "permalink": f"{self.base}/files/{user}/{fid}/{quote(name)}",
            "data": data,
        }
        self._files[fid] = f
        return f

    @staticmethod
    def _public(f: dict) -> dict:
        return {k: v for k, v in f.items() if k not in ("data", "channels", "ims")}

    def _api_files_info(self, params: dict) -> dict:
        f = self._files.get(str(params.get("file") or ""))
        if f is None:
            raise _ApiError("file_not_found")
        return {"file": {**self._public(f), "channels": list(f.get("channels", [])), "ims": list(f.get("ims", []))}}

    def _api_users_info(self, params: dict) -> dict:
        uid = str(params.get("user") or "")
        address = next((a for a, u in self._users.items() if u == uid), None)
        if address is None:
            raise _ApiError("user_not_found")
        return {"user": {"id": uid, "team_id": self.team_id, "name": address.split("@")[0], "deleted": False,
                         "is_bot": False, "profile": {"email": address}}}

    def _api_files_getUploadURLExternal(self, params: dict) -> dict:
        filename = str(params.get("filename") or "")
        length = _int(params.get("length"), -1)
        if not filename or length < 0:
            raise _ApiError("invalid_arguments")
        fid = self._new_id("F")
        self._uploads[fid] = {"filename": filename, "length": length, "data": None}
        return {"upload_url": f"{self.base}/upload/v1/{fid}", "file_id": fid}

    def _api_files_completeUploadExternal(self, params: dict) -> dict:
        files = _json_param(params.get("files"), "invalid_arguments")
        if not isinstance(files, list) or not files:
            raise _ApiError("invalid_arguments")
        done = []
        for item in files:
            up = self._uploads.get(str(item.get("id")))
            if up is None or up["data"] is None:
                raise _ApiError("file_not_found")
        channel = params.get("channel_id")
        ch = None
        if channel:
            ch = self._channels.get(channel) or self._find_channel(str(channel))
            if not ch["is_member"]:
                raise _ApiError("not_in_channel")
        for item in files:
            up = self._uploads.pop(str(item["id"]))
            f = self._file(str(item["id"]), up["filename"], up["data"], self.bot_user_id, title=item.get("title"))
            f["channels"] = [ch["id"]] if ch is not None and not ch["is_im"] else []
            f["ims"] = [ch["id"]] if ch is not None and ch["is_im"] else []
            done.append(self._public(f))
        if ch is not None:
            msg = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "text": params.get("initial_comment") or "",
                   "ts": self._next_ts(), "channel": ch["id"], "files": done, "upload": True}
            if params.get("thread_ts"):
                msg["thread_ts"] = str(params["thread_ts"])
            self._messages.append(msg)
        return {"files": [{"id": f["id"], "title": f["title"]} for f in done]}

    def _api_chat_postMessage(self, params: dict) -> dict:
        out = super()._api_chat_postMessage(params)
        if params.get("thread_ts"):
            parent = str(params["thread_ts"])
            if not any(m["ts"] == parent and m["channel"] == out["channel"] for m in self._messages):
                self._messages.pop()
                raise _ApiError("thread_not_found")
            self._messages[-1]["thread_ts"] = parent
            out["message"]["thread_ts"] = parent
        return out

    def _api_conversations_history(self, params: dict) -> dict:
        everything = self._messages  # like Slack: replies are not in the channel's history
        self._messages = [m for m in everything if m.get("thread_ts") in (None, m["ts"])]
        try:
            return super()._api_conversations_history(params)
        finally:
            self._messages = everything

    def _api_conversations_replies(self, params: dict) -> dict:
        ref, ts = params.get("channel"), str(params.get("ts") or "")
        if not ref or ref not in self._channels:
            raise _ApiError("channel_not_found")
        if not ts:
            raise _ApiError("invalid_arguments")
        ch = self._channels[ref]
        if not ch["is_member"]:
            raise _ApiError("not_in_channel")
        found = [m for m in self._messages if m["channel"] == ch["id"] and (m["ts"] == ts or m.get("thread_ts") == ts)]
        if not found:
            raise _ApiError("thread_not_found")
        with_meta = _truthy(params.get("include_all_metadata"))
        limit = min(max(_int(params.get("limit"), 1000), 1), 1000)
        start = _int(str(params.get("cursor") or "offset_0").removeprefix("offset_"), 0)
        page = found[start:start + limit]
        more = start + limit < len(found)
        out = []
        for m in page:
            item = {k: v for k, v in m.items() if k not in ("channel", "metadata")}
            if with_meta and "metadata" in m:
                item["metadata"] = m["metadata"]
            out.append(item)
        return {"messages": out, "has_more": more,
                "response_metadata": {"next_cursor": f"offset_{start + limit}" if more else ""}}

    # -- HTTP paths outside /api/ -----------------------------------------------------------------

    def serve_path(self, handler, path: str) -> bool:
        if path in ("/_baocao/share", "/_baocao/say", "/_baocao/thread"):
            self._demo(handler, path)
            return True
        if path.startswith("/files-pri/"):
            self._download(handler, path)
            return True
        if path.startswith("/upload/v1/"):
            self._upload(handler, path.rsplit("/", 1)[-1])
            return True
        return False

    def _demo(self, handler, path: str) -> None:
        """Not Slack: what a unit's officer does, for the README's walk-through.
        POST /_baocao/share?channel=…&user=<e-mail>&name=… (body: the file), POST /_baocao/say?…
        (body: the text), GET /_baocao/thread?channel=…&ts=… (the thread, file bytes left out)."""
        from urllib.parse import parse_qs, urlsplit

        q = {k: v[-1] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        try:
            if path == "/_baocao/thread":
                out = {"ok": True, "messages": self.thread(q["channel"], q["ts"])}
            else:
                user = self.add_user(q["user"]) if "@" in q.get("user", "") else q["user"]
                if path == "/_baocao/share":
                    ev = self.share_file(q["channel"], user, q.get("name") or "bao_cao.xlsx", body)
                    ev = {**ev, "files": [{k: v for k, v in f.items() if k != "data"} for f in ev["files"]]}
                else:
                    ev = self.say(q["channel"], user, body.decode("utf-8"))
                out = {"ok": True, "channel": ev["channel"], "ts": ev["ts"]}
        except (KeyError, _ApiError) as exc:
            out = {"ok": False, "error": str(exc)}
        data = json.dumps(out, ensure_ascii=False, default=str).encode("utf-8")
        handler.send_response(200 if out["ok"] else 400)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _download(self, handler, path: str) -> None:
        auth = handler.headers.get("Authorization") or ""
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        fid = path.split("/")[2].split("-", 1)[-1]
        with self._lock:
            self._calls.append(("files.download", {"file": fid}))
            f = self._files.get(fid)
        if token not in self.tokens or token in self.inactive_tokens:
            body = SIGN_IN_PAGE
            ctype, status = "text/html; charset=utf-8", 200
        elif f is None:
            body, ctype, status = b"Not found", "text/plain", 404
        else:
            body, ctype, status = f["data"], f["mimetype"], 200
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _upload(self, handler, fid: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        data = handler.rfile.read(length) if length else b""
        with self._lock:
            self._calls.append(("files.upload", {"file": fid, "bytes": len(data)}))
            fail = self._upload_fail > 0
            if fail:
                self._upload_fail -= 1
            up = self._uploads.get(fid)
            if up is not None and not fail:
                up["data"] = data
        status, body = (500, b"upload failed") if fail else ((200, f"OK - {len(data)}".encode()) if up else (404, b"no upload"))
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


def from_recipients(**kwargs: Any) -> SocketSlackServer:
    """A two-way server knowing every channel and e-mail of catalog/recipients.csv."""
    from testing.slack_server import RECIPIENTS_CSV, _recipient_rows

    channels, users = _recipient_rows(kwargs.pop("path", RECIPIENTS_CSV))
    return SocketSlackServer(channels=channels, users=users, **kwargs)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    ap = argparse.ArgumentParser(description="Local two-way Slack server for baocao (Web API + Socket Mode)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = any free port")
    args = ap.parse_args(argv)
    server = from_recipients(host=args.host, port=args.port).start()
    print(f"SLACK_API_URL={server.url}", flush=True)
    print(f"SLACK_BOT_TOKEN={server.token}", flush=True)
    print(f"SLACK_APP_TOKEN={server.app_token}", flush=True)
    print(f"# share a file as a unit: curl --data-binary @FILE '{server.base}/_baocao/share?channel=bc-ld-24781"
          f"&user=baocao.ld-24781@example.vn&name=FILE'", flush=True, file=sys.stdout)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
