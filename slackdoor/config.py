"""The door's settings, read from the environment once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_MAX_BYTES = 5 * 1024 * 1024  # intake.parse.MAX_FILE_BYTES: a filled form is ~20 KB


@dataclass(frozen=True)
class DoorConfig:
    bot_token: str
    app_token: str
    api_url: str | None = None
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DoorConfig | None:
        """The configuration when both SLACK_BOT_TOKEN (xoxb-) and SLACK_APP_TOKEN (xapp-) are
        set; None otherwise (Slack then only carries outgoing messages, or nothing)."""
        env = os.environ if env is None else env
        bot = (env.get("SLACK_BOT_TOKEN") or "").strip()
        app = (env.get("SLACK_APP_TOKEN") or "").strip()
        if not bot or not app:
            return None
        if not app.startswith("xapp-"):
            raise ValueError("SLACK_APP_TOKEN phải là token cấp ứng dụng (xapp-…, quyền connections:write)"
                             " / SLACK_APP_TOKEN must be an app-level token (xapp-…, scope connections:write)")
        limit = (env.get("BAOCAO_SLACK_MAX_BYTES") or "").strip()
        return cls(bot, app, (env.get("SLACK_API_URL") or "").strip() or None,
                   int(limit) if limit else DEFAULT_MAX_BYTES)
