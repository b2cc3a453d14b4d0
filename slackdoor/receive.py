"""The one intake call, as the Slack door makes it, and the audit trail kept beside the file.

`receive` has the signature of `intake.store.receive` (the intake stream's function; this is the
thin stand-in until it lands): it checks the unit code's syntax before touching the file system,
stores the bytes under the server's own name through `intake.store.store_file` (idempotent on
identical bytes for the same unit), and writes a sidecar `store/<unit>/.<submission_id>.json`
with `received_at`, `source`, `original_name` and `meta` (for Slack: user, channel, ts,
file_id). The sidecar of the first arrival is kept; the same bytes again (any name) add nothing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from pathlib import Path

from intake import store as store_mod

UNIT_CODE = re.compile(r"^[A-Z]{2}\.[A-Z0-9]{1,16}$")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(original: str | bytes, limit: int = 80) -> str:
    """The server's name for a unit's file: ASCII letters, digits, '.', '_', '-' only."""
    text = original.decode("utf-8", "replace") if isinstance(original, bytes) else str(original)
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    stem, dot, ext = text.rpartition(".")
    if not dot:
        stem, ext = text, ""
    stem = _SAFE.sub("_", stem).strip("._-")[:limit] or "tep"
    ext = _SAFE.sub("", ext)[:8].lower()
    return f"{stem}.{ext}" if ext else stem


def sidecar_path(store: Path, unit_code: str, submission_id: str) -> Path:
    """The store's own record of a submission (`intake.store.receive` writes it)."""
    return store / unit_code / f"{submission_id}.json"


def audit(store: Path, unit_code: str, submission_id: str) -> dict | None:
    """The store's record of a submission (source, received_at, original name, meta), or None."""
    if not UNIT_CODE.match(unit_code or "") or not re.fullmatch(r"[0-9a-f]{20}", submission_id or ""):
        return None
    try:
        return json.loads(sidecar_path(store, unit_code, submission_id).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def receive(store: Path, unit_code: str, data: bytes | Path, original_name: str | bytes, *, source: str,
            received_at: datetime, meta: dict | None = None) -> tuple[store_mod.StoredFile, bool]:
    """Store one file for a unit through the one intake path; returns (stored file, True if new)."""
    if not UNIT_CODE.match(unit_code or ""):
        raise ValueError(f"mã đơn vị không hợp lệ / invalid unit code: {unit_code!r}")
    stored = store_mod.receive(store, unit_code, data, original_name, source=source, received_at=received_at,
                               meta=meta)
    return store_mod.with_hash(stored), not stored.duplicate
