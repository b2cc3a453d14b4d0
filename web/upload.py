"""An upload, before and at the intake path: size cap and type sniffing before anything is stored,
then `intake.store.receive` (source "web", meta with session, unit and address) and the
`baocao.submission.received` event, exactly as the watcher announces a file from the inbox.

The unit's file name is kept only as data (the sidecar and the audit trail); the stored file is
named by the server (`<submission_id>__web.xlsx`)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

from baocao import events as ev
from baocao.settings import Settings
from intake import store as store_mod
from intake.parse import MAX_FILE_BYTES

MAX_BYTES = MAX_FILE_BYTES  # the parser's own cap: a file the web takes is never refused for size later
UNIT_SYNTAX = re.compile(r"^[A-Z]{2}(\.[A-Z0-9_]{1,12}){0,3}$")


class Refused(ValueError):
    """An upload refused before storing; `key` is a message id in web.i18n, `detail` facts for it."""

    def __init__(self, key: str, **detail):
        super().__init__(key)
        self.key = key
        self.detail = detail


def sniff(data: bytes) -> str:
    """'xlsx' or 'csv', judged by the bytes (never by the name); Refused otherwise."""
    if not data:
        raise Refused("empty")
    if len(data) > MAX_BYTES:
        raise Refused("too_large", size=len(data), limit=MAX_BYTES)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise Refused("old_excel")
    if data[:4] == b"PK\x03\x04":
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())  # the central directory only
        except (zipfile.BadZipFile, ValueError, OSError):
            raise Refused("not_workbook") from None
        if "xl/workbook.xml" in names or ("[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)):
            return "xlsx"
        raise Refused("not_workbook")
    head = data[:4096]
    if b"\x00" in head.lstrip(b"\xff\xfe\xfe\xff") and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Refused("not_workbook")
    for enc in ("utf-8-sig", "utf-16", "cp1258"):
        try:
            text = head.decode(enc)
        except UnicodeDecodeError:
            continue
        first = text.splitlines()[0] if text.splitlines() else ""
        if ("," in first or ";" in first or "\t" in first) and not any(ch in text for ch in "\x00\x07\x1b"):
            return "csv"
        break
    raise Refused("not_workbook")


def receive(store: Path, unit_code: str, data: bytes | Path, original_name: str | bytes, *, source: str,
            received_at: datetime, meta: dict | None = None) -> store_mod.StoredFile:
    """The one intake path (`intake.store.receive`): the unit checked before the file system is
    touched, the server's own name, the unit's name and the upload's audit trail as data."""
    return store_mod.receive(store, unit_code, data, original_name, source=source, received_at=received_at, meta=meta)


def sent_through_web(store: Path, unit_code: str, submission_id: str) -> bool:
    """The store's record says the file came through the web: the answerer will write its result."""
    return (store_mod._read_sidecar(store / unit_code / f"{submission_id}.json") or {}).get("source") == "web"


def original_name(stored_path: Path, submission_id: str) -> str | None:
    """The name the unit's file had, as the store recorded it."""
    return (store_mod._read_sidecar(stored_path.parent / f"{submission_id}.json") or {}).get("original_name")


def announce(s: Settings, stored: store_mod.StoredFile, warm: bool = False) -> bool:
    """Emit baocao.submission.received (when a Prefect API is there) and journal it as the watcher
    does, so the watcher does not announce it again. `warm`: the web answerer takes it (the event
    says so, and the process-submission deployment ignores it)."""
    from intake import watch

    sent = ev.emit(ev.submission_received(stored, warm=warm)) is not None
    if sent and watch.read_journal(s) is not None:
        watch._append_journal(s, [stored.submission_id])
    return sent
