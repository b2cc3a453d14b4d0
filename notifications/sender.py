"""Senders: the thin layer that talks to Slack (or pretends to).

A sender has three operations the outbox needs:

- `resolve(recipient) -> channel id`: a channel id (C…/G…/D…) as is; a channel name (with or
  without "#") through conversations.list; e-mails ("a@x.vn" or "a@x.vn,b@y.vn") through
  users.lookupByEmail then conversations.open (a DM). Results are cached.
- `post(channel_id, text, blocks, key) -> Posted(channel, ts)`: chat.postMessage with
  `metadata={"event_type": "baocao_notification", "event_payload": {"key": key}}`.
- `find_by_key(channel_id, key, oldest=None) -> ts | None`: the channel's recent history
  (conversations.history, include_all_metadata) searched for a message carrying the key.

Failures raise `SendError(code, permanent)`. `SlackSender` wraps the real `slack_sdk.WebClient`
with slack_sdk's retry handlers; `testing.sender.RecordingSender` is an in-memory fake with the same
interface (not shipped).

Retries and exactly-once: reads (look-ups, history) are retried by the client on 429 (after
Retry-After), 500/503 (with backoff) and connection errors. chat.postMessage is retried by the
client only on 429 (Slack does not process a rate-limited request) and on connection errors
raised before the request was sent (urllib's URLError). A 5xx or a connection lost while waiting
for the answer may mean the message *was* posted: the error goes back to the outbox, which looks
for the key in the channel's history before it posts again (notifications/deliver.py).

Per run (`start_run()`), look-ups that failed are remembered: a missing channel or e-mail costs
one call, not one per message.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    ConnectionErrorRetryHandler,
    Jitter,
    RateLimitErrorRetryHandler,
    RetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from baocao.settings import Settings

EVENT_TYPE = "baocao_notification"
SLACK_DEFAULT_URL = "https://slack.com/api/"

# Codes that will not get better by trying again: the row is marked failed.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "invalid_auth",
        "account_inactive",
        "users_not_found",
        "user_not_found",
        "not_authed",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "no_permission",
        "is_archived",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_metadata_format",
        "restricted_action",
        "cannot_dm_bot",
        "user_disabled",
        "too_many_users",
        "ekm_access_denied",
    }
)
# Everything else (ratelimited after retries, internal_error, HTTP 5xx, connection errors,
# timeouts, unknown codes) is transient: the row stays pending and is tried again later.

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")


class SendError(Exception):
    """A Slack call failed; `code` is Slack's error code (or ours: connection_error, http_500…)."""

    def __init__(self, code: str, permanent: bool | None = None, detail: str = ""):
        super().__init__(f"{code}{': ' + detail if detail else ''}")
        self.code = code
        self.permanent = code in PERMANENT_ERRORS if permanent is None else permanent
        self.detail = detail


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


class Sender(Protocol):
    def resolve(self, recipient: str) -> str: ...

    def post(self, channel: str, text: str, blocks: Sequence[dict], key: str) -> Posted: ...

    def find_by_key(self, channel: str, key: str, oldest: float | None = None) -> str | None: ...


def metadata_for(key: str) -> dict:
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key}}


def emails_of(recipient: str) -> list[str] | None:
    """The e-mail addresses if `recipient` is a list of e-mails, else None."""
    parts = [p.strip() for p in re.split(r"[,;\s]+", recipient or "") if p.strip()]
    if parts and all("@" in p for p in parts):
        return parts
    return None


class _ProportionalJitter(Jitter):
    """Adds up to 50% of the interval (slack_sdk's RandomJitter adds up to a whole second)."""

    def recalculate(self, duration: float) -> float:
        import random

        return duration * (1 + random.random() / 2)


def _retry_handlers(*, max_retries: int, backoff_factor: float, post: bool) -> list[RetryHandler]:
    backoff = BackoffRetryIntervalCalculator(
        backoff_factor=backoff_factor, jitter=_ProportionalJitter()
    )
    if post:
        # only failures before the request was fully sent (urllib wraps those in URLError)
        connection = ConnectionErrorRetryHandler(
            max_retry_count=max_retries, interval_calculator=backoff, error_types=[URLError]
        )
    else:
        connection = ConnectionErrorRetryHandler(
            max_retry_count=max_retries, interval_calculator=backoff
        )
    handlers: list[RetryHandler] = [RateLimitErrorRetryHandler(max_retry_count=max_retries)]  # Retry-After (+ <1 s)
    if not post:  # a 5xx on a post may come after Slack stored it: the outbox checks history first
        handlers.append(ServerErrorRetryHandler(max_retry_count=max_retries, interval_calculator=backoff))
    handlers.append(connection)
    return handlers


class SlackSender:
    """The real thing: `slack_sdk.WebClient` against Slack (or the local server)."""

    def __init__(
        self,
        token: str,
        base_url: str | None = None,
        *,
        max_retries: int = 3,
        backoff_factor: float = 0.5,
        timeout: int = 30,
        history_page_size: int = 200,
    ):
        base_url = base_url or SLACK_DEFAULT_URL
        if not base_url.endswith("/"):
            base_url += "/"
        self.base_url = base_url
        self.history_page_size = history_page_size
        self.timeout = timeout
        self.client = WebClient(
            token=token,
            base_url=base_url,
            timeout=timeout,
            retry_handlers=_retry_handlers(
                max_retries=max_retries, backoff_factor=backoff_factor, post=False
            ),
        )
        self._post_client = WebClient(
            token=token,
            base_url=base_url,
            timeout=timeout,
            retry_handlers=_retry_handlers(
                max_retries=max_retries, backoff_factor=backoff_factor, post=True
            ),
        )
        self._cache: dict[str, str] = {}
        self._failed: dict[str, SendError] = {}  # look-ups that failed in this run
        self._lock = threading.Lock()

    def start_run(self) -> None:
        """Forget the failed look-ups of the previous run (a channel may have been created)."""
        with self._lock:
            self._failed.clear()

    def set_timeout(self, seconds: float) -> None:
        """Seconds a single HTTP request may take (a run with a deadline lowers it)."""
        seconds = max(1, int(seconds))
        self.client.timeout = self._post_client.timeout = seconds

    def __repr__(self) -> str:
        return f"SlackSender(base_url={self.base_url!r})"

    def _call(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except SlackApiError as err:
            data = err.response.data if isinstance(err.response.data, dict) else {}
            code = data.get("error") or f"http_{err.response.status_code}"
            if err.response.status_code >= 500 or err.response.status_code == 429:
                raise SendError(
                    code, permanent=False, detail=f"HTTP {err.response.status_code}"
                ) from err
            raise SendError(code) from err
        except SlackRequestError as err:
            raise SendError("request_error", permanent=True, detail=str(err)) from err
        except (OSError, URLError, ValueError) as err:
            # connection refused/reset/lost, timeouts (TimeoutError is an OSError), bad replies
            raise SendError("connection_error", permanent=False, detail=repr(err)) from err

    def check(self) -> dict:
        """auth.test: who the token is (raises SendError if it is not valid)."""
        return dict(self._call(self.client.auth_test).data)

    def resolve(self, recipient: str) -> str:
        recipient = (recipient or "").strip()
        with self._lock:
            if recipient in self._cache:
                return self._cache[recipient]
            if recipient in self._failed:
                raise self._failed[recipient]
        try:
            channel = self._resolve(recipient)
        except SendError as err:
            with self._lock:
                self._failed[recipient] = err
            raise
        with self._lock:
            self._cache[recipient] = channel
        return channel

    def _resolve(self, recipient: str) -> str:
        if not recipient:
            raise SendError("channel_not_found", detail="empty recipient")
        addresses = emails_of(recipient)
        if addresses is not None:
            users = []
            for address in addresses:
                resp = self._call(self.client.users_lookupByEmail, email=address)
                users.append(resp["user"]["id"])
            resp = self._call(self.client.conversations_open, users=users)
            channel = resp["channel"]["id"]
        elif _CHANNEL_ID.match(recipient):
            channel = recipient
        else:
            channel = self._channel_by_name(recipient.lstrip("#"))
        return channel

    def _channel_by_name(self, name: str) -> str:
        """List every channel once (all pages) into the cache, then look the name up: a cycle
        names hundreds of channels, and stopping mid-listing made each miss start over."""
        cursor = None
        found = None
        while True:
            resp = self._call(
                self.client.conversations_list,
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
            with self._lock:
                for ch in resp.get("channels", []):
                    self._cache.setdefault(ch["name"], ch["id"])
                    self._cache.setdefault("#" + ch["name"], ch["id"])
                    if ch["name"] == name:
                        found = ch["id"]
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        if found is None:
            raise SendError("channel_not_found", detail=name)
        return found

    def post(self, channel: str, text: str, blocks: Sequence[dict], key: str) -> Posted:
        resp = self._call(
            self._post_client.chat_postMessage,
            channel=channel,
            text=text,
            blocks=list(blocks) or None,
            metadata=metadata_for(key),
            unfurl_links=False,
            unfurl_media=False,
        )
        return Posted(channel=resp["channel"], ts=resp["ts"])

    def find_by_key(self, channel: str, key: str, oldest: float | None = None) -> str | None:
        """Every message since `oldest` (the row's first claim, less a margin), however deep:
        all pages, until Slack says there are no more."""
        cursor = None
        while True:
            kwargs = {"channel": channel, "limit": self.history_page_size, "include_all_metadata": True}
            if oldest is not None:
                kwargs["oldest"] = f"{oldest:.6f}"
            if cursor:
                kwargs["cursor"] = cursor
            resp = self._call(self.client.conversations_history, **kwargs)
            for m in resp.get("messages", []):
                meta = m.get("metadata") or {}
                if (
                    meta.get("event_type") == EVENT_TYPE
                    and (meta.get("event_payload") or {}).get("key") == key
                ):
                    return m["ts"]
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not resp.get("has_more") or not cursor:
                return None


def sender_from_env(env: Mapping[str, str] | None = None, **kwargs) -> SlackSender | None:
    """SlackSender if SLACK_BOT_TOKEN is set (base URL from SLACK_API_URL, else Slack's);
    None otherwise: the outbox is then only a local queue the operator reads. The variables are
    read by `baocao.settings` (of `env`, default this process's); the flows and the CLI get the
    sender from their resources (`baocao.resources.live_sender`) instead."""
    s = Settings.from_env(env)
    if not s.slack_bot_token:
        return None
    return SlackSender(s.slack_bot_token, base_url=s.slack_api_url, **kwargs)
