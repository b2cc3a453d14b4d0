"""A local, Slack-compatible Web API server: what baocao uses, with Slack's checks and errors.

Point the real `slack_sdk.WebClient(token, base_url=server.url)` at it. Tests start one per test
(`start()` takes a few milliseconds); the demo runs it as a process:

    python -m testing.slack_server --port 0     # prints SLACK_API_URL=… and SLACK_BOT_TOKEN=…

Methods: auth.test, chat.postMessage, conversations.history, conversations.list,
conversations.open, users.lookupByEmail. Bodies may be form-encoded, JSON or multipart (as
slack_sdk sends them); the token comes from `Authorization: Bearer …` or a `token` parameter.

Checks, with Slack's error codes: not_authed / invalid_auth / account_inactive; channel_not_found;
not_in_channel (channels where the bot is not a member); no_text; msg_too_long (text > 40,000);
invalid_blocks (> 50 blocks, section text > 3000, header > 150, section fields > 10 or > 2000,
context elements > 10); invalid_metadata_format; users_not_found; user_not_found.

Scenario controls (Python API): `rate_limit_next`, `fail_next`, `drop_after_accept_next`,
`fail_after_accept_next` (stored, then HTTP 5xx), `error_next` (HTTP 200 with ok=false and a code),
`stall` (every call waits before it is handled), `pace_channels` (Slack's ~1 post per second per
channel: a token bucket per channel, HTTP 429 with Retry-After beyond it), `inject` (other people's
posts, to bury a message deep in history); inspection: `messages(channel)`, `calls(method)`,
`rejected_by_pace`. A non-Slack `GET /_baocao/messages` lists what was posted (for the demo).
Command line: `--stall SECONDS [--stall-method M]`, `--pace-channels` (for the bench);
`GET /_baocao/stall?seconds=S&method=M` changes the stall of a running server (S=0: none).
"""

from __future__ import annotations

import argparse
import csv
import email.parser
import email.policy
import itertools
import json
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

DEFAULT_TOKEN = "xoxb-baocao-local"
RECIPIENTS_CSV = Path(__file__).resolve().parents[1] / "catalog" / "recipients.csv"

MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
PAGE_MAX = 999


@dataclass
class _Scenario:
    kind: str  # ratelimit | fail | drop | fail_after | error
    remaining: int
    method: str | None
    status: int = 500
    retry_after: int = 1
    code: str = "internal_error"


class _ApiError(Exception):
    def __init__(self, code: str, status: int = 200, **extra: Any):
        super().__init__(code)
        self.code = code
        self.status = status
        self.extra = extra


class SlackServer:
    """Slack Web API look-alike on a `ThreadingHTTPServer` running in a daemon thread."""

    def __init__(
        self,
        *,
        token: str | Iterable[str] = DEFAULT_TOKEN,
        channels: Iterable[str] = (),
        users: Iterable[str] = (),
        not_member: Iterable[str] = (),
        inactive_tokens: Iterable[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.tokens = {token} if isinstance(token, str) else set(token)
        self.inactive_tokens = set(inactive_tokens)
        self.host, self.port = host, port
        self.team_id, self.bot_user_id, self.bot_id = "TBAOCAO01", "UBAOCAOBOT", "BBAOCAOBOT"
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._channels: dict[str, dict] = {}  # id -> {id, name, is_member, is_im, members}
        self._users: dict[str, str] = {}  # email (lower) -> user id
        self._dms: dict[frozenset[str], str] = {}  # members -> channel id
        self._messages: list[dict] = []  # in posting order; each has "channel"
        self._calls: list[tuple[str, dict]] = []
        self._scenarios: list[_Scenario] = []
        self._last_ts = 0.0
        self._stall: tuple[float, str | None] | None = None
        self._pace: tuple[float, float] | None = None  # (posts per second, burst) per channel
        self._buckets: dict[str, tuple[float, float]] = {}  # channel id -> (tokens, at)
        self.rejected_by_pace = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for name in channels:
            self.add_channel(name)
        for name in not_member:
            self.add_channel(name, member=False)
        for address in users:
            self.add_user(address)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> SlackServer:
        handler = type("Handler", (_Handler,), {"slack": self})
        self._httpd = ThreadingHTTPServer((self.host, self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/api/"

    @property
    def token(self) -> str:
        return min(self.tokens)

    # -- workspace set-up ------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def add_channel(self, name: str, *, member: bool = True) -> str:
        """Create a public channel (or update its membership); return its id."""
        name = name.lstrip("#")
        with self._lock:
            for ch in self._channels.values():
                if ch["name"] == name:
                    ch["is_member"] = member
                    return ch["id"]
            cid = self._new_id("C")
            self._channels[cid] = {"id": cid, "name": name, "is_member": member, "is_im": False}
            return cid

    def set_member(self, channel: str, member: bool) -> None:
        with self._lock:
            self._find_channel(channel)["is_member"] = member

    def add_user(self, address: str) -> str:
        with self._lock:
            key = address.strip().lower()
            if key not in self._users:
                self._users[key] = self._new_id("U")
            return self._users[key]

    def deactivate_token(self, token: str) -> None:
        self.inactive_tokens.add(token)

    def channel_id(self, name_or_id: str) -> str:
        with self._lock:
            return self._find_channel(name_or_id)["id"]

    # -- scenario controls -----------------------------------------------------------------------

    def rate_limit_next(self, n: int = 1, retry_after: int = 1, method: str | None = None) -> None:
        """The next `n` calls (of `method`, or any) get HTTP 429 with `Retry-After`."""
        with self._lock:
            self._scenarios.append(_Scenario("ratelimit", n, method, 429, retry_after))

    def fail_next(self, n: int = 1, status: int = 500, method: str | None = None) -> None:
        """The next `n` calls (of `method`, or any) get HTTP `status` without being processed."""
        with self._lock:
            self._scenarios.append(_Scenario("fail", n, method, status))

    def drop_after_accept_next(self, n: int = 1, method: str = "chat.postMessage") -> None:
        """The next `n` successful posts are stored, then the connection closes with no response."""
        with self._lock:
            self._scenarios.append(_Scenario("drop", n, method))

    def fail_after_accept_next(self, n: int = 1, status: int = 500, method: str = "chat.postMessage") -> None:
        """The next `n` successful posts are stored, then answered with HTTP `status` (Slack's
        5xx after it accepted the message)."""
        with self._lock:
            self._scenarios.append(_Scenario("fail_after", n, method, status))

    def error_next(self, n: int = 1, code: str = "internal_error", method: str | None = None) -> None:
        """The next `n` calls (of `method`, or any) answer HTTP 200 with ok=false and `code`."""
        with self._lock:
            self._scenarios.append(_Scenario("error", n, method, 200, code=code))

    def stall(self, seconds: float | None, method: str | None = None) -> None:
        """Every call (of `method`, or any) waits `seconds` before it is handled; None: no more."""
        with self._lock:
            self._stall = (seconds, method) if seconds else None

    def pace_channels(self, per_second: float | None = 1.0, burst: float = 2.0) -> None:
        """Posts beyond `per_second` per channel (after a burst of `burst`) get HTTP 429."""
        with self._lock:
            self._pace = (per_second, burst) if per_second else None
            self._buckets.clear()

    def inject(self, channel: str, n: int, text: str = "tin nhắn khác / another message") -> None:
        """`n` posts by someone else in `channel` (no metadata), as if people talked there."""
        with self._lock:
            cid = self._find_channel(channel)["id"]
            for i in range(n):
                self._messages.append({"type": "message", "user": "UPEOPLE01", "text": f"{text} {i}",
                                       "ts": self._next_ts(), "channel": cid})

    def reset_scenarios(self) -> None:
        with self._lock:
            self._scenarios.clear()
            self._stall = None
            self._pace = None

    def _paced_out(self, params: dict) -> bool:
        """True if this post exceeds the channel's pace (and is therefore refused)."""
        with self._lock:
            if self._pace is None:
                return False
            rate, burst = self._pace
            try:
                cid = self._resolve_post_channel(str(params.get("channel") or ""))["id"]
            except _ApiError:
                return False
            now = time.monotonic()
            tokens, at = self._buckets.get(cid, (burst, now))
            tokens = min(burst, tokens + (now - at) * rate)
            if tokens < 1.0:
                self._buckets[cid] = (tokens, now)
                self.rejected_by_pace += 1
                return True
            self._buckets[cid] = (tokens - 1.0, now)
            return False

    def _take(self, kinds: tuple[str, ...], method: str) -> _Scenario | None:
        with self._lock:
            for sc in self._scenarios:
                if sc.kind in kinds and sc.remaining > 0 and sc.method in (None, method):
                    sc.remaining -= 1
                    if sc.remaining == 0:
                        self._scenarios.remove(sc)
                    return sc
        return None

    # -- inspection ------------------------------------------------------------------------------

    def messages(self, channel: str | None = None) -> list[dict]:
        """Posted messages, oldest first (copies); `channel` is a name or an id."""
        with self._lock:
            if channel is None:
                return [dict(m) for m in self._messages]
            try:
                cid = self._find_channel(channel)["id"]
            except _ApiError:
                return []
            return [dict(m) for m in self._messages if m["channel"] == cid]

    def calls(self, method: str | None = None) -> list[tuple[str, dict]]:
        """(method, params) of every request received (including failed ones)."""
        with self._lock:
            return [c for c in self._calls if method is None or c[0] == method]

    def serve_path(self, handler: BaseHTTPRequestHandler, path: str) -> bool:
        """Serve a path outside the Web API (slack_socket_server: downloads, uploads); False if
        it is not one."""
        return False

    # -- API implementation -----------------------------------------------------------------------

    def _find_channel(self, ref: str) -> dict:
        ref = (ref or "").strip()
        if ref in self._channels:
            return self._channels[ref]
        name = ref.lstrip("#")
        for ch in self._channels.values():
            if not ch["is_im"] and ch["name"] == name:
                return ch
        raise _ApiError("channel_not_found")

    def _check_token(self, token: str | None) -> None:
        if not token:
            raise _ApiError("not_authed")
        if token in self.inactive_tokens:
            raise _ApiError("account_inactive")
        if token not in self.tokens:
            raise _ApiError("invalid_auth")

    def _next_ts(self) -> str:
        now = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def handle(self, method: str, params: dict, token: str | None) -> dict:
        with self._lock:
            self._calls.append((method, dict(params)))
        impl = getattr(self, "_api_" + method.replace(".", "_"), None)
        if impl is None:
            raise _ApiError("unknown_method", status=404)
        self._check_token(token)
        with self._lock:
            return impl(params)

    def _api_auth_test(self, params: dict) -> dict:
        return {
            "url": "https://baocao-local.slack.com/",
            "team": "baocao (local)",
            "user": "baocao",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _dm_for(self, user_ids: list[str]) -> tuple[str, bool]:
        members = frozenset(user_ids)
        if members in self._dms:
            return self._dms[members], True
        cid = self._new_id("D" if len(members) == 1 else "G")
        self._channels[cid] = {"id": cid, "name": cid, "is_member": True, "is_im": True}
        self._dms[members] = cid
        return cid, False

    def _resolve_post_channel(self, ref: str) -> dict:
        if ref in self._users.values():  # posting to a user id opens the DM
            cid, _ = self._dm_for([ref])
            return self._channels[cid]
        return self._find_channel(ref)

    def _api_chat_postMessage(self, params: dict) -> dict:
        ref = params.get("channel")
        if not ref:
            raise _ApiError("channel_not_found")
        ch = self._resolve_post_channel(str(ref))
        if not ch["is_member"]:
            raise _ApiError("not_in_channel")
        text = params.get("text") or ""
        blocks = _json_param(params.get("blocks"), "invalid_blocks_format")
        if not text and not blocks:
            raise _ApiError("no_text")
        if len(text) > MAX_TEXT:
            raise _ApiError("msg_too_long")
        if blocks is not None:
            _check_blocks(blocks)
        metadata = _json_param(params.get("metadata"), "invalid_metadata_format")
        if metadata is not None and (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            raise _ApiError("invalid_metadata_format")
        ts = self._next_ts()
        message = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": "ABAOCAO",
            "team": self.team_id,
            "text": text,
            "ts": ts,
            "channel": ch["id"],
        }
        if blocks is not None:
            message["blocks"] = blocks
        if metadata is not None:
            message["metadata"] = metadata
        self._messages.append(message)
        out = {k: v for k, v in message.items() if k != "channel"}
        return {"channel": ch["id"], "ts": ts, "message": out}

    def _api_conversations_history(self, params: dict) -> dict:
        ref = params.get("channel")
        if not ref or ref not in self._channels:  # like Slack: ids only, no names
            raise _ApiError("channel_not_found")
        ch = self._channels[ref]
        if not ch["is_member"]:
            raise _ApiError("not_in_channel")
        limit = _int(params.get("limit"), 100)
        limit = min(max(limit, 1), PAGE_MAX)
        oldest = float(params.get("oldest") or 0)
        latest = float(params["latest"]) if params.get("latest") else float("inf")
        inclusive = _truthy(params.get("inclusive"))
        with_meta = _truthy(params.get("include_all_metadata"))

        def inside(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        found = [m for m in reversed(self._messages) if m["channel"] == ch["id"]]
        found = [m for m in found if inside(float(m["ts"]))]
        start = _cursor_offset(params.get("cursor"))
        page = found[start : start + limit]
        more = start + limit < len(found)
        out = []
        for m in page:
            item = {k: v for k, v in m.items() if k not in ("channel", "metadata")}
            if with_meta and "metadata" in m:
                item["metadata"] = m["metadata"]
            out.append(item)
        return {
            "messages": out,
            "has_more": more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": f"offset_{start + limit}" if more else ""},
        }

    def _api_conversations_list(self, params: dict) -> dict:
        limit = min(max(_int(params.get("limit"), 100), 1), PAGE_MAX)
        channels = [
            {
                "id": c["id"],
                "name": c["name"],
                "is_channel": True,
                "is_private": False,
                "is_archived": False,
                "is_member": c["is_member"],
            }
            for c in self._channels.values()
            if not c["is_im"]
        ]
        start = _cursor_offset(params.get("cursor"))
        page = channels[start : start + limit]
        more = start + limit < len(channels)
        return {
            "channels": page,
            "response_metadata": {"next_cursor": f"offset_{start + limit}" if more else ""},
        }

    def _api_conversations_open(self, params: dict) -> dict:
        if params.get("channel"):
            ch = self._find_channel(str(params["channel"]))
            return {"no_op": True, "already_open": True, "channel": {"id": ch["id"]}}
        users = [u.strip() for u in str(params.get("users") or "").split(",") if u.strip()]
        if not users:
            raise _ApiError("users_list_not_supplied")
        known = set(self._users.values())
        if any(u not in known for u in users):
            raise _ApiError("user_not_found")
        if len(users) > 8:
            raise _ApiError("too_many_users")
        cid, existed = self._dm_for(users)
        return {"no_op": existed, "already_open": existed, "channel": {"id": cid}}

    def _api_users_lookupByEmail(self, params: dict) -> dict:
        address = str(params.get("email") or "").strip().lower()
        if not address:
            raise _ApiError("invalid_arguments")
        uid = self._users.get(address)
        if uid is None:
            raise _ApiError("users_not_found")
        return {
            "user": {
                "id": uid,
                "team_id": self.team_id,
                "name": address.split("@")[0],
                "deleted": False,
                "is_bot": False,
                "profile": {"email": address},
            }
        }


# ---------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "yes") if value is not None else False


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _cursor_offset(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        return int(str(cursor).removeprefix("offset_"))
    except ValueError as exc:
        raise _ApiError("invalid_cursor") from exc


def _json_param(value: Any, error: str) -> Any:
    """Form bodies carry blocks/metadata as JSON strings; JSON bodies as objects."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise _ApiError(error) from exc
    return value


def _blocks_error(message: str, pointer: str) -> _ApiError:
    msg = f"{message} [json-pointer:{pointer}]"
    return _ApiError(
        "invalid_blocks", errors=[msg], response_metadata={"messages": [f"[ERROR] {msg}"]}
    )


def _text_of(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def _check_blocks(blocks: Any) -> None:
    if not isinstance(blocks, list):
        raise _ApiError("invalid_blocks_format")
    if len(blocks) > MAX_BLOCKS:
        raise _blocks_error(f"must be less than {MAX_BLOCKS + 1} items", "/blocks")
    for i, b in enumerate(blocks):
        if not isinstance(b, dict) or not isinstance(b.get("type"), str):
            raise _blocks_error("missing required field: type", f"/blocks/{i}")
        kind = b["type"]
        if kind == "section":
            if len(_text_of(b.get("text"))) > MAX_SECTION_TEXT:
                raise _blocks_error(
                    f"must be less than {MAX_SECTION_TEXT + 1} characters", f"/blocks/{i}/text"
                )
            fields = b.get("fields") or []
            if len(fields) > MAX_FIELDS:
                raise _blocks_error(
                    f"must be less than {MAX_FIELDS + 1} items", f"/blocks/{i}/fields"
                )
            for j, f in enumerate(fields):
                if len(_text_of(f)) > MAX_FIELD_TEXT:
                    raise _blocks_error(
                        f"must be less than {MAX_FIELD_TEXT + 1} characters",
                        f"/blocks/{i}/fields/{j}",
                    )
            if not b.get("text") and not fields:
                raise _blocks_error("must provide either text or fields", f"/blocks/{i}")
        elif kind == "header":
            text = b.get("text")
            if not isinstance(text, dict) or text.get("type") != "plain_text":
                raise _blocks_error("must be a plain_text object", f"/blocks/{i}/text")
            if len(_text_of(text)) > MAX_HEADER_TEXT:
                raise _blocks_error(
                    f"must be less than {MAX_HEADER_TEXT + 1} characters", f"/blocks/{i}/text"
                )
        elif kind == "context":
            elements = b.get("elements") or []
            if not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
                raise _blocks_error(
                    f"must have between 1 and {MAX_CONTEXT_ELEMENTS} items", f"/blocks/{i}/elements"
                )


# ---------------------------------------------------------------------------------------------
# HTTP layer
# ---------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    slack: SlackServer  # set on the subclass made in start()
    server_version = "baocao-slack/1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _params(self) -> dict:
        split = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not body:
            return params
        ctype = (self.headers.get("Content-Type") or "").lower()
        if ctype.startswith("multipart/form-data"):
            raw = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name and not part.get_filename():
                    params[name] = part.get_content()
            return params
        text = body.decode("utf-8")
        if "json" in ctype or text.lstrip().startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                data = None
            if isinstance(data, dict):
                params.update(data)
                return params
        params.update({k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()})
        return params

    def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            self.close_connection = True

    def _serve(self) -> None:
        path = urlsplit(self.path).path
        if self.slack.serve_path(self, path):
            return
        if path == "/_baocao/messages":
            query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
            self._send(200, {"ok": True, "messages": self.slack.messages(query.get("channel"))})
            return
        if path == "/_baocao/stall":  # scenario control for a server in another process (the bench)
            query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
            self.slack.stall(float(query.get("seconds") or 0), query.get("method") or None)
            self._send(200, {"ok": True, "rejected_by_pace": self.slack.rejected_by_pace})
            return
        if not path.startswith("/api/"):
            self._send(404, {"ok": False, "error": "unknown_method"})
            return
        method = path[len("/api/") :]
        try:
            params = self._params()
        except (ValueError, UnicodeDecodeError):
            self._send(400, {"ok": False, "error": "invalid_form_data"})
            return
        auth = self.headers.get("Authorization") or ""
        token = (
            auth[7:].strip() if auth.lower().startswith("bearer ") else params.pop("token", None)
        )
        params.pop("token", None)
        stall = self.slack._stall
        if stall is not None and stall[1] in (None, method):
            time.sleep(stall[0])
        sc = self.slack._take(("ratelimit", "fail", "error"), method)
        if sc is None and method == "chat.postMessage" and self.slack._paced_out(params):
            sc = _Scenario("ratelimit", 0, method, 429, 1)
        if sc is not None:
            with self.slack._lock:
                self.slack._calls.append((method, dict(params)))
            if sc.kind == "ratelimit":
                self._send(
                    429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(sc.retry_after)}
                )
            elif sc.kind == "error":
                self._send(200, {"ok": False, "error": sc.code})
            else:
                self._send(sc.status, {"ok": False, "error": "internal_error"})
            return
        try:
            result = self.slack.handle(method, params, token)
        except _ApiError as err:
            self._send(err.status, {"ok": False, "error": err.code, **err.extra})
            return
        if self.slack._take(("drop",), method) is not None:
            self.close_connection = True  # accepted and stored; the client never hears back
            return
        after = self.slack._take(("fail_after",), method)
        if after is not None:  # accepted and stored; the client hears a server error
            self._send(after.status, {"ok": False, "error": "internal_error"})
            return
        self._send(200, {"ok": True, **result})


# ---------------------------------------------------------------------------------------------
# Demo entry point
# ---------------------------------------------------------------------------------------------


def _recipient_rows(path: Path, provinces: tuple[str, ...] | None = None) -> tuple[list[str], list[str]]:
    """(channels, e-mails) of a recipients.csv: the workspace of a deployment serving `provinces`
    (default BAOCAO_PROVINCES, `LD`), its units' channels and the operator's; every row of a
    catalog folder without a province list (as the catalog itself does)."""
    from baocao.settings import provinces_in_scope

    if not (Path(path).parent / "provinces.csv").exists():
        provinces = None
    else:
        provinces = provinces or provinces_in_scope()
    channels, users = [], []
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row.get("unit_code") or ""
            if provinces and code != "OPERATOR" and code.split(".", 1)[0] not in provinces:
                continue
            if row.get("slack_channel"):
                channels.append(row["slack_channel"])
            users += [e.strip() for e in (row.get("emails") or "").split(",") if e.strip()]
    return channels, users


def from_recipients(path: Path = RECIPIENTS_CSV, **kwargs: Any) -> SlackServer:
    """A server knowing every channel and e-mail of catalog/recipients.csv."""
    channels, users = _recipient_rows(path)
    return SlackServer(channels=channels, users=users, **kwargs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Local Slack-compatible Web API for baocao's demo")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = any free port")
    ap.add_argument("--token", default=DEFAULT_TOKEN)
    ap.add_argument("--recipients", type=Path, default=RECIPIENTS_CSV)
    ap.add_argument("--not-member", action="append", default=[], metavar="CHANNEL")
    ap.add_argument("--stall", type=float, default=0, help="every call waits this many seconds")
    ap.add_argument("--stall-method", default=None, help="only this method stalls (e.g. chat.postMessage)")
    ap.add_argument("--pace-channels", action="store_true", help="HTTP 429 beyond ~1 post/s per channel")
    args = ap.parse_args(argv)
    server = from_recipients(
        args.recipients,
        token=args.token,
        host=args.host,
        port=args.port,
        not_member=args.not_member,
    ).start()
    if args.stall:
        server.stall(args.stall, args.stall_method)
    if args.pace_channels:
        server.pace_channels(1.0)
    print(f"SLACK_API_URL={server.url}", flush=True)
    print(f"SLACK_BOT_TOKEN={server.token}", flush=True)
    print(f"# messages: {server.url.removesuffix('/api/')}/_baocao/messages", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
