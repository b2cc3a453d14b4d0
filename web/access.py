"""Access links, sessions, the audit trail, explanations and rate limits.

Kept in SQLite (`<home>/web/access.sqlite`, WAL) so the web process writes them without DuckDB's
writer. A link's token is shown once and stored only as its sha256; a session lives until its own
expiry, its link's expiry or its link's revocation, whichever comes first (revoking a link ends
every session it opened).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

OPERATOR = "operator"
UNIT = "unit"
SESSION_HOURS = 12

SCHEMA = """
create table if not exists link (
    token_hash text primary key,
    role text not null check (role in ('unit', 'operator')),
    unit_code text,                -- null for the operator
    label text not null,           -- who: the unit's name or the operator's name
    created_at text not null,
    expires_at text not null,
    revoked_at text
);
create table if not exists session (
    session_id text primary key,
    token_hash text not null references link(token_hash),
    created_at text not null,
    expires_at text not null,
    ip text,
    user_agent text
);
create table if not exists audit (
    seq integer primary key autoincrement,
    at text not null,
    session_id text,
    role text,
    unit_code text,                -- the unit the action was about
    who text,
    ip text,
    action text not null,
    detail text                    -- JSON
);
create index if not exists audit_session on audit (session_id, action, at);
create table if not exists explanation (
    unit_code text not null,
    period text not null,
    dataset_code text not null,
    element_code text not null,
    rule_id text not null,
    text text not null,
    session_id text not null,
    at text not null,
    primary key (unit_code, period, dataset_code, element_code, rule_id)
);
create table if not exists message_link (  -- which Slack message carried which link (web/links.py)
    message_key text primary key,
    token_hash text not null references link(token_hash),
    created_at text not null
);
create table if not exists request_once (  -- a form posted twice (double click, back, reload) acts once
    action text not null,
    nonce text not null,
    at text not null,
    primary key (action, nonce)
);
"""


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class Session:
    session_id: str
    role: str
    unit_code: str | None
    label: str
    expires_at: datetime


class AccessStore:
    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()  # one connection per thread, kept: every request reads a session
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("pragma journal_mode=wal")
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.path, timeout=15)
        db.row_factory = None
        with db:  # one transaction: committed on success, rolled back on error
            yield db

    # ------------------------------------------------------------------------------- links

    def issue(self, role: str, unit_code: str | None, label: str, now: datetime, days: float) -> str:
        """A new link token (returned once; only its hash is kept)."""
        if role not in (UNIT, OPERATOR) or (role == UNIT) != bool(unit_code):
            raise ValueError("a unit link names one unit; an operator link names none")
        token = secrets.token_urlsafe(32)
        with self._db() as db:
            db.execute("insert into link values (?, ?, ?, ?, ?, ?, null)",
                       (token_hash(token), role, unit_code, label, _iso(now), _iso(now + timedelta(days=days))))
        return token

    def issue_for_message(self, message_key: str, token: str, unit_code: str, label: str, now: datetime,
                          expires_at: datetime) -> bool:
        """The unit link a message carries (its token derived from the message's key, web/links.py):
        made once; asked again (a retried delivery), the same row. True if it opens a session now
        (neither revoked nor expired)."""
        h = token_hash(token)
        with self._db() as db:
            db.execute("insert or ignore into link values (?, 'unit', ?, ?, ?, ?, null)",
                       (h, unit_code, label, _iso(now), _iso(expires_at)))
            db.execute("insert or ignore into message_link values (?, ?, ?)", (message_key, h, _iso(now)))
            row = db.execute("select unit_code, expires_at, revoked_at from link where token_hash = ?", (h,)).fetchone()
        return row[0] == unit_code and row[2] is None and datetime.fromisoformat(row[1]) > now

    def message_links(self) -> list[dict]:
        with self._db() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(
                """select m.message_key, m.token_hash, l.unit_code, l.role, l.expires_at, l.revoked_at
                   from message_link m join link l using (token_hash) order by m.created_at""")]

    def once(self, action: str, nonce: str, now: datetime) -> bool:
        """True the first time (action, nonce) is seen; False for a form posted again."""
        with self._db() as db:
            cur = db.execute("insert or ignore into request_once values (?, ?, ?)", (action, nonce[:64], _iso(now)))
            return cur.rowcount == 1

    def revoke(self, now: datetime, *, unit_code: str | None = None, operator: bool = False,
               token: str | None = None) -> int:
        """Revoke the links of a unit, every operator link, or one link (by its token)."""
        with self._db() as db:
            if token:
                cur = db.execute("update link set revoked_at = ? where token_hash = ? and revoked_at is null",
                                 (_iso(now), token_hash(token)))
            elif operator:
                cur = db.execute("update link set revoked_at = ? where role = 'operator' and revoked_at is null",
                                 (_iso(now),))
            elif unit_code:
                cur = db.execute("update link set revoked_at = ? where unit_code = ? and revoked_at is null",
                                 (_iso(now), unit_code))
            else:
                raise ValueError("say which links to revoke")
            return cur.rowcount

    def links(self) -> list[dict]:
        with self._db() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("select * from link order by created_at")]

    # ----------------------------------------------------------------------------- sessions

    def open_session(self, token: str, now: datetime, ip: str | None, user_agent: str | None) -> Session | None:
        """Exchange a link's token for a session; None if the link is unknown, expired or revoked."""
        h = token_hash(token)
        with self._db() as db:
            row = db.execute("select role, unit_code, label, expires_at, revoked_at from link where token_hash = ?",
                             (h,)).fetchone()
            if row is None or row[4] is not None or datetime.fromisoformat(row[3]) <= now:
                return None
            expires = min(datetime.fromisoformat(row[3]), now + timedelta(hours=SESSION_HOURS))
            sid = secrets.token_urlsafe(24)
            db.execute("insert into session values (?, ?, ?, ?, ?, ?)",
                       (sid, h, _iso(now), _iso(expires), ip, (user_agent or "")[:300]))
        return Session(sid, row[0], row[1], row[2], expires)

    def session(self, session_id: str, now: datetime) -> Session | None:
        with self._db() as db:
            row = db.execute("""select s.session_id, l.role, l.unit_code, l.label, s.expires_at, l.expires_at,
                                       l.revoked_at
                                from session s join link l using (token_hash) where s.session_id = ?""",
                             (session_id,)).fetchone()
        if row is None or row[6] is not None:
            return None
        expires = min(datetime.fromisoformat(row[4]), datetime.fromisoformat(row[5]))
        if expires <= now:
            return None
        return Session(row[0], row[1], row[2], row[3], expires)

    def end_session(self, session_id: str, now: datetime) -> None:
        with self._db() as db:
            db.execute("update session set expires_at = ? where session_id = ?", (_iso(now), session_id))

    # -------------------------------------------------------------------------------- audit

    def record(self, now: datetime, action: str, *, session: Session | None, ip: str | None,
               unit_code: str | None = None, **detail) -> None:
        with self._db() as db:
            db.execute("insert into audit (at, session_id, role, unit_code, who, ip, action, detail)"
                       " values (?, ?, ?, ?, ?, ?, ?, ?)",
                       (_iso(now), session.session_id if session else None, session.role if session else None,
                        unit_code, session.label if session else None, ip, action,
                        json.dumps(detail, ensure_ascii=False, default=str)))

    def audit(self, action: str | None = None, unit_code: str | None = None) -> list[dict]:
        with self._db() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("""select * from audit where (? is null or action = ?) and (? is null or unit_code = ?)
                                 order by seq""", (action, action, unit_code, unit_code)).fetchall()
        return [{**dict(r), "detail": json.loads(r["detail"] or "{}")} for r in rows]

    def count_recent(self, session_id: str, action: str, since: datetime) -> int:
        with self._db() as db:
            return db.execute("select count(*) from audit where session_id = ? and action = ? and at >= ?",
                              (session_id, action, _iso(since))).fetchone()[0]

    # ------------------------------------------------------------------------- explanations

    def explain(self, now: datetime, session: Session, unit_code: str, period: str, dataset_code: str,
                element_code: str, rule_id: str, text: str) -> None:
        with self._db() as db:
            db.execute("insert or replace into explanation values (?, ?, ?, ?, ?, ?, ?, ?)",
                       (unit_code, period, dataset_code, element_code, rule_id, text, session.session_id, _iso(now)))

    def explanations(self, unit_code: str | None = None) -> dict[tuple[str, str, str, str, str], dict]:
        with self._db() as db:
            rows = db.execute("""select unit_code, period, dataset_code, element_code, rule_id, text, at
                                 from explanation where ? is null or unit_code = ?""", (unit_code, unit_code)).fetchall()
        return {tuple(r[:5]): {"text": r[5], "at": r[6]} for r in rows}
