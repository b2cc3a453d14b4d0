"""A sender that records instead of talking to Slack (tests, the demo, the bench): the same
interface as `notifications.sender.SlackSender` (`check`, `start_run`, `set_timeout`, `resolve`,
`post`, `find_by_key`), no HTTP. `baocao.resources.Resources.fake()` hands one in by default."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from notifications.sender import Posted, SendError, emails_of


@dataclass
class RecordedMessage:
    channel: str
    text: str
    blocks: list[dict]
    key: str
    ts: str


@dataclass
class RecordingSender:
    """In-memory sender for tests that need no HTTP.

    Channel names and ids resolve to themselves, e-mails to a "D:" channel; `unknown` holds
    recipients that fail with channel_not_found / users_not_found. `fail_next(code, n)` makes
    the next `n` posts raise SendError(code); `lose_reply_next(n)` records the post but raises a
    transient error, as if the answer was lost."""

    unknown: set[str] = field(default_factory=set)
    sent: list[RecordedMessage] = field(default_factory=list)
    _fail: list[str] = field(default_factory=list)
    _lose: int = 0

    def fail_next(self, code: str, n: int = 1) -> None:
        self._fail.extend([code] * n)

    def lose_reply_next(self, n: int = 1) -> None:
        self._lose += n

    def check(self) -> dict:
        return {"ok": True, "user_id": "UFAKE"}

    def start_run(self) -> None:
        pass

    def set_timeout(self, seconds: float) -> None:
        pass

    def resolve(self, recipient: str) -> str:
        recipient = (recipient or "").strip()
        if not recipient or recipient in self.unknown:
            raise SendError("users_not_found" if emails_of(recipient) else "channel_not_found")
        addresses = emails_of(recipient)
        if addresses is not None:
            return "D:" + ",".join(sorted(a.lower() for a in addresses))
        return recipient.lstrip("#")

    def post(self, channel: str, text: str, blocks: Sequence[dict], key: str) -> Posted:
        if self._fail:
            raise SendError(self._fail.pop(0))
        ts = f"{time.time():.6f}"
        if self.sent and float(ts) <= float(self.sent[-1].ts):
            ts = f"{float(self.sent[-1].ts) + 0.000001:.6f}"
        self.sent.append(RecordedMessage(channel, text, list(blocks), key, ts))
        if self._lose:
            self._lose -= 1
            raise SendError("connection_error", permanent=False, detail="reply lost (simulated)")
        return Posted(channel, ts)

    def find_by_key(self, channel: str, key: str, oldest: float | None = None) -> str | None:
        for m in reversed(self.sent):
            if m.channel == channel and m.key == key and (oldest is None or float(m.ts) > oldest):
                return m.ts
        return None

    def messages(self, channel: str | None = None) -> list[RecordedMessage]:
        return [m for m in self.sent if channel is None or m.channel == channel]
