"""The signed session cookie and CSRF tokens.

The cookie carries only a session id and its HMAC-SHA256 under a secret kept in
`<home>/web/secret` (created once, mode 0600); the session itself (role, unit, expiry, the link it
came from) is looked up in the access store on every request, so revoking a link takes effect at
once. A form's CSRF token is an HMAC of the session id (a different purpose string), checked on
every POST together with the Origin header.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from web.access import OPERATOR, Session

COOKIE = "baocao_session"


def load_secret(folder: Path) -> bytes:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret"
    if not path.exists():
        tmp = folder / f".secret.{os.getpid()}.{secrets.token_hex(6)}.tmp"  # unique per call: threads share a pid
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # first writer wins; a second process reads the winner's
        except FileExistsError:
            pass
        tmp.unlink()
    return bytes.fromhex(path.read_text().strip())


def _mac(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


def sign(secret: bytes, session_id: str) -> str:
    return f"{session_id}.{_mac(secret, 'session', session_id)}"


def unsign(secret: bytes, cookie: str | None) -> str | None:
    if not cookie or "." not in cookie or len(cookie) > 200:
        return None
    sid, _, mac = cookie.rpartition(".")
    return sid if hmac.compare_digest(mac, _mac(secret, "session", sid)) else None


def csrf_token(secret: bytes, session_id: str) -> str:
    return _mac(secret, "csrf", session_id)


def csrf_ok(secret: bytes, session_id: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(token, csrf_token(secret, session_id))


@dataclass(frozen=True)
class Actor:
    """Who is asking: a session (unit or operator), and from where."""

    session: Session | None
    ip: str | None

    @property
    def is_operator(self) -> bool:
        return self.session is not None and self.session.role == OPERATOR

    @property
    def unit_code(self) -> str | None:
        return self.session.unit_code if self.session else None

    @property
    def label(self) -> str:
        return self.session.label if self.session else ""
