"""The one intake call, as the Slack door makes it, and the audit trail kept beside the file.

`receive` has the signature of `intake.store.receive` (the intake stream's function; this is the
thin stand-in until it lands): it checks the unit code's syntax before touching the file system,
stores the bytes under the server's own name through `intake.store.store_file` (idempotent on
identical bytes for the same unit), and writes a sidecar `store/<unit>/.<submission_id>.json`
with `received_at`, `source`, `original_name` and `meta` (for Slack: user, channel, ts,
file_id). The sidecar of the first arrival is kept; the same bytes again (any name) add nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
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
    return store / unit_code / f".{submission_id}.json"


def audit(store: Path, unit_code: str, submission_id: str) -> dict | None:
    """The sidecar of a stored submission, or None."""
    if not UNIT_CODE.match(unit_code or "") or not re.fullmatch(r"[0-9a-f]{20}", submission_id or ""):
        return None
    try:
        return json.loads(sidecar_path(store, unit_code, submission_id).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def receive(store: Path, unit_code: str, data: bytes | Path, original_name: str | bytes, *, source: str,
            received_at: datetime, meta: dict | None = None) -> tuple[store_mod.StoredFile, bool]:
    """Store one file for a unit; returns (stored file, True if it is new)."""
    if not UNIT_CODE.match(unit_code or ""):
        raise ValueError(f"mã đơn vị không hợp lệ / invalid unit code: {unit_code!r}")
    payload = data.read_bytes() if isinstance(data, Path) else bytes(data)
    sid = store_mod.submission_id(unit_code, hashlib.sha256(payload).hexdigest())
    unit_dir = store / unit_code
    unit_dir.mkdir(parents=True, exist_ok=True)
    existing = sorted(unit_dir.glob(f"{sid}__*"))
    if existing:  # the same bytes again, perhaps under another name: one submission
        return store_mod.with_hash(store_mod.stored(existing[0], source)), False
    side = sidecar_path(store, unit_code, sid)
    # the audit trail first, so a stored file never lacks it (one left by a crash is replaced)
    original = original_name.decode("utf-8", "replace") if isinstance(original_name, bytes) else str(original_name)
    body = {"submission_id": sid, "unit_code": unit_code, "source": source,
            "received_at": received_at.isoformat(), "original_name": original, "meta": meta or {}}
    part = side.with_name(side.name + ".tmp")
    part.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    os.replace(part, side)
    with tempfile.TemporaryDirectory(dir=unit_dir, prefix=".in-") as tmp:
        src = Path(tmp) / safe_name(original_name)
        src.write_bytes(payload)
        stored = store_mod.store_file(src, unit_code, store, source=source, move=True, received_at=received_at)
    return stored, True
