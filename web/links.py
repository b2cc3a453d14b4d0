"""The unit's access link carried by the cycle-opened Slack message.

Design (one link per unit and cycle, never sent twice, never two valid at once):
- The link is minted when the message is *sent*, not when it is queued: the outbox (ops.outbox and
  the delivery store) never holds a token, only the text "the link is added when sent". A message
  superseded before it is sent (the unit has already reported, the deadline has passed) mints none.
- Its token is derived from the message's outbox key under the web secret
  (HMAC-SHA256(secret, "message-link|" + key)), and the access store keeps only its sha256, like
  every other link. A delivery that is retried (Slack timed out, the process was killed after the
  post) renders the message again and gets the same token: the same link row, not a second one.
  So a re-sent message reuses its link; there is never a second valid link for the same message.
- The key names the unit, the data set and the period (`cycle_opened:<period>:<ds>:<unit>:opened`),
  so each unit and cycle gets its own link; it is a unit link (role `unit`), never the operator's.
- It expires at the cycle's deadline plus `GRACE_DAYS` (late reports and fixes after the deadline
  still need the page); a session it opens lasts at most `SESSION_HOURS`, as for any link.
- `baocao access revoke --unit X` revokes it like any other; a message sent after that does not
  carry the dead link, it says to ask the province (as when BAOCAO_WEB_URL is not set).
- `message_link` (access store) records which message carried which link hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from baocao.settings import Settings

GRACE_DAYS = 14


def token_for(secret: bytes, message_key: str) -> str:
    mac = hmac.new(secret, f"message-link|{message_key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _expiry(deadline: Any) -> datetime:
    from notifications.schedule import TZ

    if isinstance(deadline, datetime):
        dl = deadline if deadline.tzinfo else deadline.replace(tzinfo=TZ)
    else:  # a date: the end of that day in Vietnam
        dl = datetime.combine(deadline, time(23, 59, 59), tzinfo=TZ)
    return dl + timedelta(days=GRACE_DAYS)


def message_link(s: Settings, row: dict, kwargs: dict, now: datetime) -> dict:
    """Render arguments for a cycle-opened message about to be sent: `web_link` (the unit's own
    URL) and `web_link_until`, or nothing (no BAOCAO_WEB_URL, no deadline, the link revoked or
    already expired): the message then says how to get a link from the province."""
    if row.get("kind") != "cycle_opened" or not s.web_url or kwargs.get("deadline") is None:
        return {}
    unit = row["unit_code"]
    expires = _expiry(kwargs["deadline"])
    if expires <= now:
        return {}
    from web.access import AccessStore
    from web.auth import load_secret

    folder = s.home / "web"
    token = token_for(load_secret(folder), row["key"])
    store = AccessStore(folder / "access.sqlite")
    label = kwargs.get("unit_name") or unit
    if not store.issue_for_message(row["key"], token, unit, label, now, expires):
        return {}  # revoked (or the unit's links were): never send a dead link
    return {"web_link": f"{s.web_url.rstrip('/')}/a/{token}", "web_link_until": expires}


def for_delivery(s: Settings) -> Callable[[dict, dict, datetime], dict]:
    """The hook a delivery pass calls for each message it renders (notifications.deliver)."""
    return lambda row, kwargs, now: message_link(s, row, kwargs, now)
