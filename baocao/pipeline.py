"""The cycle's stages as plain functions (no Prefect): open, collect, process (parse → validate →
load), aggregate, publish. Prefect tasks in tasks/ wrap these; tests call them directly."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

import catalog as catalog_mod
from baocao import calendar, decisions
from baocao.findings import Finding, error
from baocao.settings import Settings
from expectations import validate as validate_mod
from expectations.validate import BatchItem, validate_batch
from intake import batch
from intake import store as store_mod
from intake.parse import parse_file
from warehouse import db, models, publish
from warehouse.load import SubmissionRecord, known_ids, load_batch

_CONNECTIONS: dict[str, duckdb.DuckDBPyConnection] = {}


def connection(s: Settings) -> duckdb.DuckDBPyConnection:
    """The process's writer connection to the warehouse (a cursor on one shared database)."""
    key = str(s.db_path)
    if key not in _CONNECTIONS:
        _CONNECTIONS[key] = db.connect(key)
    return _CONNECTIONS[key].cursor()


def close_connections() -> None:
    """Release the warehouse so another process can write it."""
    for con in _CONNECTIONS.values():
        con.close()
    _CONNECTIONS.clear()


def now_utc() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------ cycles

def open_cycle(con, period: str, datasets: list[str] | None = None, now: datetime | None = None, cat=None) -> list[dict]:
    """Open the period for every data set of its frequency (or those named); idempotent."""
    cat = cat or catalog_mod.load()
    per = calendar.parse_period(period)
    chosen = datasets or [d.code for d in cat.datasets.values() if d.frequency == per.kind]
    now = now or now_utc()
    out = []
    for code in chosen:
        ds = cat.datasets[code]
        if ds.frequency != per.kind:
            raise ValueError(f"Báo cáo {code} là kỳ {'6 tháng' if ds.frequency == 'H' else 'năm'}, không mở cho kỳ {per.code}"
                             f" / data set {code} does not match period {per.code}")
        rule = calendar.DeadlineRule.from_dict(ds.deadline)
        start, end = calendar.window(per, rule)
        row = {"period": per.code, "dataset_code": code, "window_start": start, "window_end": end,
               "deadline_at": calendar.deadline(per, rule), "close_at": calendar.close_at(per, rule),
               "legal_basis": rule.legal_basis, "opened_at": now}
        con.execute("""insert into ops.cycle (period, dataset_code, window_start, window_end, deadline_at, close_at,
                       legal_basis, opened_at) values ($period, $dataset_code, $window_start, $window_end, $deadline_at,
                       $close_at, $legal_basis, $opened_at) on conflict do nothing""", row)
        out.append(row)
    return out


def close_cycle(con, period: str, now: datetime | None = None) -> int:
    n = con.execute("update ops.cycle set closed_at = ? where period = ? and closed_at is null returning 1",
                    [now or now_utc(), period]).fetchall()
    return len(n)


def open_cycles(con) -> dict[tuple[str, str], dict]:
    rows = con.execute("select period, dataset_code, deadline_at, close_at, closed_at from ops.cycle").fetchall()
    return {(p, d): {"deadline_at": dl, "close_at": ca, "closed_at": cl} for p, d, dl, ca, cl in rows}


# ----------------------------------------------------------------------------------- collect

def collect(s: Settings) -> list[store_mod.StoredFile]:
    """Move every file in the inbox into the submission store (the watcher's intake: the same
    bytes again are recognised by their submission id and not stored twice)."""
    from intake import watch

    return [t.stored for t in watch.take_inbox(s)]


def pending(con, s: Settings) -> list[store_mod.StoredFile]:
    """Stored files not yet recorded in the warehouse (what the next processing run takes)."""
    files = store_mod.store_files(s.store)
    done = known_ids(con, [f.submission_id for f in files])
    store_mod.write_recorded(s.store, s.db_path, done)
    return [store_mod.with_hash(f) for f in files if f.submission_id not in done]


def note_recorded(s: Settings, records: list[SubmissionRecord]) -> None:
    """After a load committed `records`: `store/.recorded` lists them (see `nothing_pending`)."""
    store_mod.add_recorded(s.store, s.db_path, {r.submission_id for r in records})


def nothing_pending(s: Settings, submission_id: str | None = None) -> bool:
    """True when the store's journal shows `submission_id` (or, without it, every stored
    submission) recorded, so a run can stop without opening the warehouse or waiting for its
    writer slot. False when unsure."""
    if submission_id:
        done = store_mod.recorded_ids(s.store, s.db_path)
        return done is not None and submission_id in done
    left = store_mod.unrecorded(s.store, s.db_path)
    return left is not None and not left


# ----------------------------------------------------------------------------------- process

def parse(files: list[store_mod.StoredFile], con, cat=None) -> list[SubmissionRecord]:
    """Parse each stored file and apply the checks that need the cycle (period open, lateness)."""
    cat = cat or catalog_mod.load()
    cycles = open_cycles(con)
    out = []
    # the validation stage's fixed cost (importing Great Expectations) is paid while the pool parses
    parsed = batch.parse_many([(f.path, f.unit_code) for f in files], cat,
                              while_waiting=validate_mod.warm if files else None)
    for f, p in zip(files, parsed, strict=True):
        if f.unit_code not in cat.org_units and not p.has_errors:
            p.findings.append(error("S04", f"Hộp thư «{f.unit_code}» không thuộc đơn vị nào trong danh mục",
                                    f"Inbox «{f.unit_code}» is not a unit in the catalog", value_raw=f.unit_code,
                                    expected_vi="liên hệ tỉnh để được cấp hộp thư", expected_en="ask the province for an inbox"))
        period = p.period or _fallback_period(cycles)
        dataset = p.dataset_code if p.dataset_code in cat.datasets else _fallback_dataset(cat, f.unit_code, period)
        cyc = cycles.get((period, dataset))
        held = False
        if not p.has_errors:  # the period has ended, its cycle is open, the file is not past closing
            found = decisions.period_finding(period, dataset, f.received_at, cycles, cat, {
                "sheet": "CSV" if p.file_format == "csv" else "Thông tin", "cell": None if p.file_format == "csv" else "B6"})
            p.findings += [found] if found else []
            held = bool(found) and found.rule_id == decisions.HOLD_RULE
        deadline = cyc["deadline_at"] if cyc else None
        rec = SubmissionRecord(
            submission_id=f.submission_id, unit_code=f.unit_code, period=period or "?", dataset_code=dataset or "?",
            file_name=f.file_name, stored_path=str(f.path), sha256=f.sha256, size_bytes=f.size_bytes,
            file_format=p.file_format, received_at=f.received_at, source=f.source,
            is_late=bool(deadline and f.received_at > deadline),
            findings=list(p.findings), values=p.values, tasks=p.tasks, texts=p.texts, decision="held" if held else None)
        out.append(rec)
    return out


def _fallback_period(cycles) -> str | None:
    live = sorted({p for (p, _), c in cycles.items() if c["closed_at"] is None})
    return live[-1] if live else None


def _fallback_dataset(cat, unit_code: str, period: str | None) -> str | None:
    if unit_code not in cat.org_units or not period:
        return None
    kind = calendar.parse_period(period).kind
    ds = cat.datasets_for_unit(unit_code, kind)
    return ds[0].code if ds else None


def previous_values(con, period: str, dataset_code: str) -> dict[tuple[str, str], float]:
    prev = calendar.parse_period(period).previous().code
    rows = con.execute("""select unit_code, element_code, value from core.current_value
                          where period = ? and dataset_code = ? and value is not null""", [prev, dataset_code]).fetchall()
    return {(u, e): v for u, e, v in rows}


@dataclass
class ValidationChunk:
    """Part of one data set's batch, validated as a unit (on this process or a Dask worker): its
    items, the previous period's values, and the peer statistics of the whole batch."""
    dataset_code: str
    period: str
    keys: list[str]
    items: list[BatchItem]
    previous: dict
    peers: dict
    changes: dict = field(default_factory=dict)  # how the cycle's units changed, per element


def validation_chunks(records: list[SubmissionRecord], con, cat=None, chunk_size: int = 0) -> list[ValidationChunk]:
    """Group the parseable submissions by data set and period; with `chunk_size` > 0 cut each
    group into chunks of that many units (peers are still judged against the whole group)."""
    from expectations import context
    from expectations.validate import change_stats, peer_stats

    cat = cat or catalog_mod.load()
    groups: dict[tuple[str, str], list[SubmissionRecord]] = defaultdict(list)
    for r in records:
        if not any(f.severity == "error" for f in r.findings):
            groups[(r.dataset_code, r.period)].append(r)
    out = []
    for (ds, period), recs in groups.items():
        items = [BatchItem(key=r.submission_id, unit_code=r.unit_code, values=r.values, tasks=r.tasks) for r in recs]
        previous = context.unit_series(con, period, ds, cat.rules.get("history", {}).get("series_length", 1))
        counted = context.counted_values(con, period, ds, list(cat.datasets[ds].elements))
        peers = peer_stats(ds, items, cat, counted)  # the cycle's peers and changes, not the run's
        changes = change_stats(ds, items, cat, counted, previous)
        size = chunk_size if chunk_size > 0 else len(items)
        for i in range(0, len(items), size):
            part = items[i:i + size]
            units = {it.unit_code for it in part}
            out.append(ValidationChunk(ds, period, [it.key for it in part], part,
                                       {k: v for k, v in previous.items() if k[0] in units}, peers, changes))
    return out


def validate_chunk(chunk: ValidationChunk, cat=None) -> tuple[list[list[Finding]], dict]:
    """Plain and picklable: no warehouse, so it runs on any worker."""
    found, stats = validate_batch(chunk.dataset_code, chunk.items, chunk.previous, cat, peers=chunk.peers,
                                  changes=chunk.changes)
    return [found[i] for i in range(len(chunk.items))], stats


def apply_validation(records: list[SubmissionRecord], chunks: list[ValidationChunk], results: list, con) -> dict:
    """Attach each chunk's findings to its submissions, leaving out warnings an operator accepted."""
    by_id = {r.submission_id: r for r in records}
    stats = {"batches": len({(c.dataset_code, c.period) for c in chunks}), "chunks": len(chunks), "rows": 0,
             "expectations": 0}
    for chunk, (found, st) in zip(chunks, results, strict=True):
        accepted = {(u, d, e) for u, d, e in con.execute(
            "select unit_code, dataset_code, element_code from ops.warning_acceptance where period = ?",
            [chunk.period]).fetchall()}
        overridden = decisions.overrides(con, chunk.period)
        for key, fs in zip(chunk.keys, found, strict=True):
            r = by_id[key]
            r.findings.extend(f for f in fs if not (f.severity == "warning"
                                                    and (r.unit_code, chunk.dataset_code, f.element_code) in accepted))
            decisions.apply_overrides(r, overridden)
        if st.get("peer_check"):
            stats.setdefault("peer_check", {})[f"{chunk.dataset_code} {chunk.period}"] = st["peer_check"]
        stats["rows"] += st["rows"]
        stats["expectations"] += st["expectations"]
    return stats


def validate(records: list[SubmissionRecord], con, cat=None) -> dict:
    """One Great Expectations run per data set over all parseable submissions of the batch."""
    chunks = validation_chunks(records, con, cat)
    return apply_validation(records, chunks, [validate_chunk(c, cat) for c in chunks], con)


def load(con, records: list[SubmissionRecord], now: datetime | None = None) -> dict:
    return load_batch(con, records, now or now_utc())


def process(con, s: Settings, files: list[store_mod.StoredFile] | None = None, cat=None) -> list[SubmissionRecord]:
    """Parse, validate and load every pending submission (the unit of work of one run)."""
    files = pending(con, s) if files is None else files
    records = parse(files, con, cat)
    validate(records, con, cat)
    load(con, records)
    note_recorded(s, records)
    return records


# --------------------------------------------------------------------------------- aggregate

def aggregate(con) -> list[str]:
    con.execute("begin transaction")
    try:
        built = models.build(con)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return built


def publish_all(con, s: Settings) -> Path:
    publish.export_parquet(con, s.parquet)
    return publish.publish_snapshot(con, s.snapshot)


def findings_of(con, submission_id: str) -> list[Finding]:
    rows = con.execute("""select severity, rule_id, message_vi, message_en, sheet, cell, element_code, value_raw,
                          expected_vi, expected_en from raw.finding where submission_id = ? order by seq""",
                       [submission_id]).fetchall()
    return [Finding(severity=r[0], rule_id=r[1], message_vi=r[2], message_en=r[3], sheet=r[4], cell=r[5],
                    element_code=r[6], value_raw=r[7], expected_vi=r[8], expected_en=r[9]) for r in rows]


# ------------------------------------------------------------------------------------ notify

def feedback_path(s: Settings, rec: SubmissionRecord) -> Path | None:
    """Where the annotated workbook of a submission with findings is (or will be) written."""
    if not rec.findings:
        return None
    return s.feedback / rec.period / rec.unit_code / f"{Path(rec.file_name).stem}_kiem_tra_{rec.submission_id[:8]}.xlsx"


def write_feedback_files(s: Settings, records: list[SubmissionRecord], cat=None) -> int:
    """Write the annotated workbooks the feedback messages link to (before they are delivered)."""
    cat = cat or catalog_mod.load()
    return sum(write_findings_file(s, r, cat) is not None for r in records)


def write_findings_file(s: Settings, rec: SubmissionRecord, cat=None) -> Path | None:
    """The unit's own workbook annotated (failing cells highlighted and commented, a first sheet
    listing every finding) — linked from the message — and the same list as plain text."""
    dest = feedback_path(s, rec)
    if dest is None or dest.exists():
        return dest
    from intake.annotate import annotate_findings_xlsx, annotate_workbook

    folder = dest.parent
    folder.mkdir(parents=True, exist_ok=True)
    text = folder / f"{rec.submission_id}.txt"
    lines = [f"{rec.file_name} — {rec.unit_code} — {rec.period} — {rec.status}", ""]
    lines += [f"[{f.severity}] {f.rule_id} {f.line('vi')}" for f in rec.findings]
    lines += ["", "English:"] + [f"[{f.severity}] {f.rule_id} {f.line('en')}" for f in rec.findings]
    text.write_text("\n".join(lines) + "\n", encoding="utf-8")
    lang = (cat or catalog_mod.load()).recipients.get(rec.unit_code, {}).get("lang", "vi")
    if rec.file_format == "xlsx":
        return annotate_workbook(Path(rec.stored_path), rec.findings, dest, lang=lang)
    return annotate_findings_xlsx(rec.findings, dest, lang=lang, source_name=rec.file_name)


def enqueue_feedback(con, s: Settings, records: list[SubmissionRecord], cat=None) -> int:
    """One feedback message per submission (accepted, with warnings, or rejected with its
    findings and the annotated workbook), enqueued in one transaction."""
    from notifications.notify import enqueue_feedback as _enqueue

    cat = cat or catalog_mod.load()
    cycles = open_cycles(con)
    known = cat.recipients
    todo = [r for r in records if r.unit_code in known]  # a unit that no longer exists: no one to tell
    if not todo:
        return 0
    ids = pa.table({"submission_id": pa.array([r.submission_id for r in todo], pa.string())})  # noqa: F841
    versions = dict(con.execute("select submission_id, version from raw.submission join ids using (submission_id)").fetchall())
    from notifications.outbox import batch

    n = 0
    con.execute("begin transaction")
    try:
        with batch(con):
            for rec in todo:
                full = feedback_path(s, rec)  # written by write_feedback_files before delivery
                cyc = cycles.get((rec.period, rec.dataset_code))
                n += bool(_enqueue(con, unit_code=rec.unit_code, period=rec.period, dataset_code=rec.dataset_code,
                                   submission_id=rec.submission_id, status=rec.status,
                                   findings=[f.as_dict() for f in rec.findings], full_list=str(full) if full else None,
                                   version=versions.get(rec.submission_id), received_at=rec.received_at,
                                   deadline=cyc["deadline_at"] if cyc else None, catalog_dir=cat.folder))
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return n


def enqueue_schedule(con, period: str, now: datetime | None = None, stage: str | None = None, cat=None) -> int:
    """Reminders, overdue notices, escalations and the operator summary due at `now`."""
    from notifications.notify import enqueue_operator_summary
    from notifications.notify import enqueue_schedule as _schedule
    from notifications.outbox import batch

    cat = cat or catalog_mod.load()
    now = now or now_utc()
    n = 0
    cycles = con.execute("select dataset_code, deadline_at, opened_at, close_at from ops.cycle where period = ?",
                         [period]).fetchall()
    for ds, deadline, opened_at, _close in cycles:
        rows = con.execute("""select unit_code, is_accepted, is_received, last_status
                              from marts.reporting_completeness where period = ? and dataset_code = ?""",
                           [period, ds]).fetchall()
        rows = [r for r in rows if r[0] in cat.recipients]  # units that no longer exist get no reminders
        if not rows:
            continue
        units = [{"unit_code": u, "accepted": a, "received": r} for u, a, r, _ in rows]
        summary = [(u, st if st in ("accepted", "accepted_with_warnings", "rejected") else ("accepted" if a else "missing"))
                   for u, a, _, st in rows]
        con.execute("begin transaction")
        try:
            with batch(con):
                n += len(_schedule(con, dataset_code=ds, period=period, units=units, deadline=deadline, now=now,
                                   opened_at=opened_at, catalog_dir=cat.folder))
                n += bool(enqueue_operator_summary(con, dataset_code=ds, period=period, units=summary,
                                                   stage=stage or now.astimezone(calendar.TZ).strftime("%Y-%m-%d"),
                                                   deadline=deadline, as_of=now, catalog_dir=cat.folder))
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    return n


def dispatch(con, sender=None) -> object:
    from notifications.outbox import dispatch as _dispatch
    from notifications.sender import sender_from_env

    return _dispatch(con, sender if sender is not None else sender_from_env())


# ----------------------------------------------------------------------------- operator actions

def accept_warning(con, unit: str, period: str, element: str, rule: str, by: str, reason: str = "") -> dict:
    """Record an operator's decision to accept a warning for a unit and period. The flagged value
    stays flagged in its version (lineage); later versions are not warned again for it."""
    found = con.execute("""select s.dataset_code from raw.finding f join raw.submission s using (submission_id)
                           where s.unit_code = ? and s.period = ? and f.element_code = ? and f.rule_id = ?
                             and f.severity = 'warning' limit 1""", [unit, period, element, rule]).fetchone()
    if not found:
        raise ValueError(f"Không có cảnh báo {rule} cho {element} của {unit} kỳ {period}"
                         f" / no warning {rule} on {element} for {unit} in {period}")
    row = {"unit_code": unit, "period": period, "dataset_code": found[0], "rule_id": rule, "element_code": element,
           "accepted_by": by, "reason": reason or None}
    con.execute("""insert or replace into ops.warning_acceptance (unit_code, period, dataset_code, rule_id, element_code,
                   accepted_by, reason) values ($unit_code, $period, $dataset_code, $rule_id, $element_code,
                   $accepted_by, $reason)""", row)
    return row


def versions(con, unit: str, period: str | None = None) -> list[tuple]:
    """A unit's history: every version with its validation result and whether it is the one that counts."""
    return con.execute("""
        select s.period, s.dataset_code, s.version, s.file_name, s.received_at, s.status, s.n_errors, s.n_warnings,
               cs.submission_id is not null as counts, s.submission_id
        from raw.submission s
        left join core.current_submission cs using (submission_id)
        where s.unit_code = ? and (? is null or s.period = ?)
        order by s.period, s.dataset_code, s.version""", [unit, period, period]).fetchall()


def build_data_docs(con, s: Settings, period: str, cat=None) -> Path:
    """Great Expectations data docs for the cycle (the latest version from each unit), readable
    offline, under <home>/datadocs/<period>/index.html."""
    from expectations.docs import build_data_docs as _build
    from expectations.validate import suite_exists, tasks_frame, values_frame

    cat = cat or catalog_mod.load()
    batches = {}
    for (ds,) in con.execute("select dataset_code from ops.cycle where period = ? order by 1", [period]).fetchall():
        rows = con.execute("""select unit_code, stored_path from raw.submission where period = ? and dataset_code = ?
                              qualify row_number() over (partition by unit_code order by version desc) = 1
                              order by unit_code""", [period, ds]).fetchall()
        items = []
        for unit, path in rows:
            p = parse_file(Path(path), inbox_unit=unit, cat=cat)
            if not p.has_errors:
                items.append(BatchItem(key=unit, unit_code=unit, values=p.values, tasks=p.tasks))
        if not items:
            continue
        if suite_exists(ds):
            batches[ds] = values_frame(ds, items, previous_values(con, period, ds), cat)
        if suite_exists(f"{ds}__tasks"):
            tdf, _ = tasks_frame(ds, items, cat)
            if len(tdf):
                batches[f"{ds}__tasks"] = tdf
    return _build(s.home / "datadocs" / period, batches, run_name=period)
