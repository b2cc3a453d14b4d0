"""The door's settings, taken from `baocao.settings` (the one place the environment is read)."""

from __future__ import annotations

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
        from baocao.settings import Settings

        s = Settings.from_env(env)
        bot, app = s.slack_bot_token or "", s.slack_app_token or ""
        if not bot or not app:
            return None
        if not app.startswith("xapp-"):
            raise ValueError("SLACK_APP_TOKEN phải là token cấp ứng dụng (xapp-…, quyền connections:write)"
                             " / SLACK_APP_TOKEN must be an app-level token (xapp-…, scope connections:write)")
        return cls(bot, app, s.slack_api_url, s.slack_max_bytes or DEFAULT_MAX_BYTES)
