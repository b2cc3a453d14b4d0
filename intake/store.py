"""The one intake path and the submission store.

Every way a file arrives (the watched inbox, `baocao submit`, Slack, the web) goes through
`receive()`. It checks the unit code (syntax, then the catalog) before touching the file system,
stores the bytes under the server's own name `store/<unit_code>/<submission_id>.<ext>` (the
extension from a short allow-list, else `.bin`), and writes beside it a small JSON sidecar
`<submission_id>.json` with what the warehouse keeps: the name the unit sent (as data: any
length, any bytes), `received_at` (the server's clock when intake first saw the file, never the
file's own time), the source, the channel's audit trail (`meta`) and the file's modification time
(information only). The submission id is the unit plus the content hash: the same bytes from the
same unit twice are one submission, stored once, with the time of the first arrival.

Files a worker could not read at all are quarantined (`quarantine()`): moved to
`store/<unit>/.quarantine/` with their reason, and never listed as pending again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

IGNORED_PREFIXES = (".", "~$")  # hidden files, temp files and Excel lock files
SOURCES = ("inbox", "submit", "slack", "web", "demo", "bench")
QUARANTINE = ".quarantine"
# what a unit code looks like in the catalog (LD, LD.SYT, LD.24781, LD.T24781, DNA.26299): checked on the string
# before it is ever joined to a path, so `../../x`, `LD/..`, `LD\0` never reach the file system
UNIT_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,5}(?:\.[A-Z0-9]{1,16})?$")
_EXTS = ("xlsx", "xlsm", "xls", "xlsb", "ods", "csv", "txt")
_STORED = re.compile(r"^([0-9a-f]{20})\.(" + "|".join(_EXTS) + r"|bin)$")
_LEGACY = re.compile(r"^([0-9a-f]{20})__(.+)$")  # stores written before the sidecars: <id>__<name>
log = logging.getLogger(__name__)


class UnitRefused(ValueError):
    """A unit code that is not a catalog unit: nothing is stored, nothing on disk is touched."""

    def __init__(self, code: str, known_syntax: bool):
        self.code, self.known_syntax = code, known_syntax
        shown = code if len(code) <= 40 else code[:40] + "…"
        shown = shown.encode("unicode_escape").decode("ascii")
        if known_syntax:
            vi, en = f"Mã đơn vị «{shown}» không có trong danh mục", f"unit code «{shown}» is not in the catalog"
        else:
            vi, en = f"Mã đơn vị «{shown}» không hợp lệ", f"unit code «{shown}» is not a valid code"
        self.message_vi, self.message_en = vi, en
        super().__init__(f"{vi}: không nhận tệp; dùng mã đơn vị trong danh mục, ví dụ LD.24781 / "
                         f"{en}: file not received; use a catalog unit code, e.g. LD.24781")

    def __reduce__(self):
        return (UnitRefused, (self.code, self.known_syntax))


@dataclass(frozen=True)
class StoredFile:
    submission_id: str
    unit_code: str
    path: Path
    file_name: str               # the name the unit sent, for display (invalid UTF-8 shown as U+FFFD)
    sha256: str
    size_bytes: int
    received_at: datetime        # the server's clock at first sight
    source: str
    original_name_raw: bytes = b""   # the name exactly as sent (any bytes)
    meta: dict = field(default_factory=dict)
    file_mtime: datetime | None = None  # the file's own time: information only
    duplicate: bool = False      # receive(): the store already held these bytes from this unit


def check_unit(unit_code: object, cat=None) -> str:
    """The unit code if it is a catalog unit; else UnitRefused (no file-system access before this)."""
    code = unit_code if isinstance(unit_code, str) else repr(unit_code)
    if not isinstance(unit_code, str) or not UNIT_CODE.fullmatch(unit_code):
        raise UnitRefused(code, known_syntax=False)
    if cat is None:
        import catalog as catalog_mod

        cat = catalog_mod.load()
    if unit_code not in cat.org_units:
        raise UnitRefused(code, known_syntax=True)
    return unit_code


def name_bytes(original_name: str | bytes) -> bytes:
    """The name as bytes (a str from the file system may carry surrogate escapes of raw bytes)."""
    if isinstance(original_name, bytes):
        return original_name
    return os.fsencode(original_name) if any("\udc80" <= ch <= "\udcff" for ch in original_name) \
        else original_name.encode("utf-8", "surrogatepass")


def display_name(raw: bytes) -> str:
    """The name for people: UTF-8 where it is, U+FFFD where it is not, control characters dropped."""
    text = raw.decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text) or "(không tên)"


def safe_stem(display: str, limit: int = 60) -> str:
    """A short file-system-safe stem of a unit's file name, for files baocao writes about it."""
    stem = display.rsplit(".", 1)[0] if "." in display else display
    out = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem).strip("._") or "tep"
    while len(out.encode("utf-8")) > limit:
        out = out[:-1]
    return out


def _ext(display: str) -> str:
    ext = display.rsplit(".", 1)[-1].lower() if "." in display else ""
    return ext if ext in _EXTS else "bin"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def submission_id(unit_code: str, sha256: str) -> str:
    return hashlib.sha256(f"{unit_code}|{sha256}".encode()).hexdigest()[:20]


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("received_at must carry a time zone (the server's clock, UTC)")
    return t.astimezone(UTC)


def receive(store: Path, unit_code: str, data: bytes | Path, original_name: str | bytes, *,
            source: str, received_at: datetime, meta: dict | None = None, cat=None, move: bool = False,
            file_mtime: datetime | None = None) -> StoredFile:
    """Take one file into the store (see the module docstring). `data` is the content or a path to
    it (`move=True` moves that file in instead of copying it). Idempotent on identical bytes for the
    same unit: the second call returns the first arrival, marked `duplicate`."""
    unit_code = check_unit(unit_code, cat)
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; one of {SOURCES}")
    received_at = _utc(received_at)
    raw = name_bytes(original_name)
    shown = display_name(raw)
    meta = dict(meta or {})
    json.dumps(meta)  # the audit trail must be plain data
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        sha, size = hashlib.sha256(data).hexdigest(), len(data)
    else:
        src = Path(data)
        st = src.stat()
        sha, size = file_sha256(src), st.st_size
        if file_mtime is None:
            file_mtime = datetime.fromtimestamp(st.st_mtime, UTC)
    sid = submission_id(unit_code, sha)
    unit_dir = Path(store) / unit_code
    unit_dir.mkdir(parents=True, exist_ok=True)
    dest = unit_dir / f"{sid}.{_ext(shown)}"
    side = unit_dir / f"{sid}.json"
    record = {"submission_id": sid, "unit_code": unit_code, "stored_name": dest.name,
              "original_name": shown, "original_name_b64": base64.b64encode(raw).decode("ascii"),
              "received_at": received_at.isoformat(), "source": source, "meta": meta,
              "file_mtime": file_mtime.astimezone(UTC).isoformat() if file_mtime else None,
              "sha256": sha, "size_bytes": size}
    tmp = unit_dir / f".{sid}.{os.getpid()}.json.tmp"
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    try:
        os.link(tmp, side)  # the first arrival wins, atomically, even against a second process
        first = True
    except FileExistsError:
        first = False
    finally:
        tmp.unlink(missing_ok=True)
    if not first:
        old = _read_sidecar(side)
        if old is not None:
            dest = unit_dir / old["stored_name"]
    if not dest.exists() and not _quarantined(unit_dir, sid):
        _write_content(data, dest, move)
    elif not isinstance(data, bytes) and move:
        Path(data).unlink(missing_ok=True)
    f = stored(dest) if dest.exists() else _from_sidecar(side, dest)
    return replace(f, sha256=sha, duplicate=not first)


def _write_content(data: bytes | Path, dest: Path, move: bool) -> None:
    tmp = dest.parent / f".{dest.name}.{os.getpid()}.tmp"
    if isinstance(data, bytes):
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        return
    src = Path(data)
    if move:
        try:
            os.replace(src, dest)  # atomic on one file system
            return
        except OSError:
            pass
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)
    if move:
        src.unlink(missing_ok=True)


def store_file(src: Path, unit_code: str, store: Path, source: str = "inbox", move: bool = True,
               received_at: datetime | None = None, cat=None) -> StoredFile:
    """`receive()` for a file on disk, named as it is, arriving now (or at `received_at`)."""
    return receive(store, unit_code, src, os.fsencode(Path(src).name), source=source,
                   received_at=received_at or datetime.now(UTC), cat=cat, move=move)


def _read_sidecar(side: Path) -> dict | None:
    try:
        return json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _from_sidecar(side: Path, path: Path) -> StoredFile:
    d = _read_sidecar(side) or {}
    raw = base64.b64decode(d.get("original_name_b64", "")) if d.get("original_name_b64") else b""
    return StoredFile(
        submission_id=d.get("submission_id", path.stem), unit_code=d.get("unit_code", path.parent.name), path=path,
        file_name=d.get("original_name") or path.name, sha256=d.get("sha256", ""),
        size_bytes=int(d.get("size_bytes", 0)), received_at=datetime.fromisoformat(d["received_at"]),
        source=d.get("source", "inbox"), original_name_raw=raw, meta=d.get("meta") or {},
        file_mtime=datetime.fromisoformat(d["file_mtime"]) if d.get("file_mtime") else None)


def stored(path: Path, source: str = "inbox") -> StoredFile:
    """A stored file as listed, with its sidecar (its content hash is read only when needed: `with_hash`)."""
    path = Path(path)
    m = _STORED.match(path.name)
    if m:
        home = path.parent.parent if path.parent.name == QUARANTINE else path.parent
        side = home / f"{m.group(1)}.json"
        if side.exists():
            f = _from_sidecar(side, path)
            return replace(f, sha256="", size_bytes=path.stat().st_size)
    sid, _, name = path.name.partition("__")
    st = path.stat()
    return StoredFile(  # a legacy store file (or a sidecar lost): its time is the file's
        submission_id=sid[:20], unit_code=path.parent.name, path=path, file_name=name or path.name,
        sha256="", size_bytes=st.st_size, received_at=datetime.fromtimestamp(st.st_mtime, UTC), source=source,
        original_name_raw=os.fsencode(name or path.name))


def with_hash(f: StoredFile) -> StoredFile:
    return f if f.sha256 else replace(f, sha256=file_sha256(f.path))


def is_stored_name(name: str) -> bool:
    return bool(_STORED.match(name) or (_LEGACY.match(name) and not name.startswith(".")))


def stored_id(name: str) -> str:
    return name[:20]


def stored_paths(store: Path) -> list[Path]:
    """Every stored submission file (not sidecars, temporary files or the quarantine)."""
    if not store.exists():
        return []
    out = []
    for d in sorted(store.iterdir()):
        if d.is_dir() and not d.is_symlink() and not d.name.startswith("."):
            out += [f for f in sorted(d.iterdir()) if is_stored_name(f.name) and f.is_file()]
    return out


def store_files(store: Path) -> list[StoredFile]:
    return [stored(f) for f in stored_paths(store)]


def inbox_files(inbox: Path) -> list[tuple[str, Path]]:
    """(folder name, file) for every file in the inbox's unit folders. Folder names are NOT
    checked here: `receive` checks them. Symbolic links are never followed (a unit could point one
    at a server file)."""
    out = []
    if not inbox.exists():
        return out
    for unit_dir in sorted(p for p in inbox.iterdir() if p.is_dir() and not p.is_symlink()):
        for f in sorted(unit_dir.iterdir()):
            if f.is_symlink() or not f.is_file():
                continue
            if not f.name.startswith(IGNORED_PREFIXES) and not f.name.endswith(".tmp"):
                out.append((unit_dir.name, f))
    return out


# ------------------------------------------------------------------------------- quarantine

def _quarantined(unit_dir: Path, sid: str) -> bool:
    return (unit_dir / QUARANTINE / f"{sid}.reason.json").exists()


def quarantine(f: StoredFile, reason_vi: str, reason_en: str) -> Path:
    """Move a stored file nobody can read (it crashed, aborted, hung or overran its worker) out of
    the pending list, with its reason; its sidecar stays (the warehouse still records it as
    rejected). Receiving the same bytes again does not bring it back."""
    qdir = f.path.parent / QUARANTINE
    qdir.mkdir(exist_ok=True)
    reason = qdir / f"{f.submission_id}.reason.json"
    tmp = qdir / f".{f.submission_id}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"submission_id": f.submission_id, "file_name": f.file_name, "reason_vi": reason_vi,
                               "reason_en": reason_en, "at": datetime.now(UTC).isoformat()}, ensure_ascii=False),
                   encoding="utf-8")
    os.replace(tmp, reason)
    dest = qdir / f.path.name
    if f.path.exists():
        os.replace(f.path, dest)
    log.warning("quarantined %s/%s (%s)", f.unit_code, f.submission_id, reason_en)
    return dest


def quarantined_files(store: Path) -> list[StoredFile]:
    """Files in quarantine (each unit's `.quarantine/`), as stored files."""
    return [stored(p) for p in sorted(Path(store).glob(f"*/{QUARANTINE}/*"))
            if _STORED.match(p.name) or _LEGACY.match(p.name)]


def quarantined(store: Path) -> list[dict]:
    out = []
    for d in sorted(p for p in Path(store).glob(f"*/{QUARANTINE}") if p.is_dir()):
        for r in sorted(d.glob("*.reason.json")):
            try:
                out.append({"unit_code": d.parent.name, **json.loads(r.read_text(encoding="utf-8"))})
            except (OSError, ValueError):
                continue
    return out


# ------------------------------------------------------------------ what the warehouse has recorded
# `store/.recorded` lists the submission ids the warehouse had recorded when a run last looked
# (written after its commits). It is advisory: it only lets a triggered run see, without waiting
# for the warehouse's single writer slot, that nothing is pending. It is never more than the
# warehouse holds; a missing, stale or foreign journal (another warehouse file) makes every
# caller fall back to asking the warehouse.
RECORDED = ".recorded"


def _warehouse_tag(warehouse: Path) -> str:
    try:
        st = warehouse.stat()
    except FileNotFoundError:
        return "none"
    return f"{st.st_dev}:{st.st_ino}"


def write_recorded(store: Path, warehouse: Path, ids: set[str]) -> None:
    store.mkdir(parents=True, exist_ok=True)
    tmp = store / f"{RECORDED}.{os.getpid()}.tmp"
    tmp.write_text("\n".join([f"# warehouse {_warehouse_tag(warehouse)}", *sorted(ids)]) + "\n", encoding="utf-8")
    os.replace(tmp, store / RECORDED)


def recorded_ids(store: Path, warehouse: Path) -> set[str] | None:
    """Submission ids the journal lists as recorded; None when the journal cannot say."""
    try:
        lines = (store / RECORDED).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    if not lines or lines[0] != f"# warehouse {_warehouse_tag(warehouse)}":
        return None
    return set(lines[1:])


def add_recorded(store: Path, warehouse: Path, ids: set[str]) -> None:
    """After a load committed `ids`: the journal lists them too (without listing the store again)."""
    write_recorded(store, warehouse, (recorded_ids(store, warehouse) or set()) | ids)


def unrecorded(store: Path, warehouse: Path) -> list[StoredFile] | None:
    """Stored files the journal does not list as recorded; None when the journal cannot say."""
    done = recorded_ids(store, warehouse)
    if done is None:
        return None
    return [f for f in store_files(store) if f.submission_id not in done]
