"""Taking submissions in: collect the inbox, parse → validate → load what is pending, aggregate,
publish. `process(res)` is the unit of work of one run; the Prefect tasks call the stages one by
one (validation can be spread over Dask workers with `validation_chunks` / `validate_chunk`)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from baocao import calendar, decisions, memory
from baocao.findings import Finding, error
from baocao.services.cycles import open_cycles
from expectations import validate as validate_mod
from expectations.validate import BatchItem, validate_batch
from intake import answer, batch
from intake import store as store_mod
from warehouse import models, publish, queries
from warehouse.load import SubmissionRecord, known_ids, load_batch

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------------- collect


def collect(res) -> list[store_mod.StoredFile]:
    """Move every file in the inbox into the submission store (the watcher's intake: the same
    bytes again are recognised by their submission id and not stored twice)."""
    from intake import watch

    # received at the clock's now (the server's time), never the file's own
    return [t.stored for t in watch.take_inbox(res.settings, inbox=res.store.inbox, clock=res.clock.now)]


def pending(res) -> list[store_mod.StoredFile]:
    """Stored files not yet recorded in the warehouse (what the next processing run takes)."""
    files = store_mod.store_files(res.store.root) + store_mod.quarantined_files(res.store.root)
    done = known_ids(res.con(), [f.submission_id for f in files])
    store_mod.write_recorded(res.store.root, res.warehouse.path, done)
    return [store_mod.with_hash(f) for f in files if f.submission_id not in done]


def note_recorded(res, records: list[SubmissionRecord]) -> None:
    """After a load committed `records`: `store/.recorded` lists them (see `nothing_pending`)."""
    store_mod.add_recorded(res.store.root, res.warehouse.path, {r.submission_id for r in records})


def nothing_pending(res, submission_id: str | None = None) -> bool:
    """True when the store's journal shows `submission_id` (or, without it, every stored
    submission) recorded, so a run can stop without opening the warehouse or waiting for its
    writer slot. False when unsure."""
    if answer.unanswered_hint(res.store.root):  # a run died between loading and answering: this one answers
        return False
    if submission_id:
        done = store_mod.recorded_ids(res.store.root, res.warehouse.path)
        return done is not None and submission_id in done
    left = store_mod.unrecorded(res.store.root, res.warehouse.path)
    return left is not None and not left


# ------------------------------------------------------------------------------------- parse


LARGE_BATCH = 500  # files: a batch this large stops its parse workers after parsing and gives memory back
# after validating and loading (not worth a full garbage collection on the warm path's one file)


def parse(res, files: list[store_mod.StoredFile]) -> list[SubmissionRecord]:
    """Parse each stored file and apply the checks that need the cycle (period open, lateness)."""
    cat = res.cat
    cycles = open_cycles(res.con())
    out = []
    # the validation stage's fixed cost (importing Great Expectations) is paid while the pool parses
    s = res.settings
    parsed = batch.parse_many([(f.path, f.unit_code, f.file_name) for f in files], cat, n_workers=s.parse_workers,
                              seconds=s.parse_seconds, memory_mb=s.parse_memory_mb,
                              while_waiting=validate_mod.warm if files else None)
    if len(files) >= LARGE_BATCH:  # a cycle's batch: this run parses nothing more soon; the next file restarts them
        batch.stop_workers()        # and their memory goes to validation and the marts meanwhile
    files = batch.quarantine_failures(files, parsed)  # a file that broke its worker is never parsed again
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
            findings=list(p.findings), values=p.values, tasks=p.tasks, texts=p.texts,
            original_name_raw=f.original_name_raw or None, meta=f.meta or None, file_mtime=f.file_mtime,
            decision="held" if held else None)
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


# ---------------------------------------------------------------------------------- validate


def previous_values(con, period: str, dataset_code: str) -> dict[tuple[str, str], float]:
    """(unit, element) → the value that counted in the period before `period`."""
    return queries.previous_values(con, calendar.parse_period(period).previous().code, dataset_code)


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


def validation_chunks(res, records: list[SubmissionRecord], chunk_size: int | None = None) -> list[ValidationChunk]:
    """Group the parseable submissions by data set and period; with `chunk_size` > 0 (default:
    the settings' validation_chunk) cut each group into chunks of that many units (peers are
    still judged against the whole group). All chunks at once, for spreading over workers."""
    return list(iter_validation_chunks(res, records, chunk_size))


def iter_validation_chunks(res, records: list[SubmissionRecord], chunk_size: int | None = None):
    """`validation_chunks` one at a time: each chunk's units' history is read when the chunk is
    made, so a batch validated in-process holds one chunk's history (a national batch's whole
    history is ~400,000 series); the cycle's peers and changes are computed once per group."""
    from expectations import context
    from expectations.validate import change_stats, peer_stats

    cat = res.cat
    chunk_size = res.settings.validation_chunk if chunk_size is None else chunk_size
    con = res.con()
    groups: dict[tuple[str, str], list[SubmissionRecord]] = defaultdict(list)
    for r in records:
        if not any(f.severity == "error" for f in r.findings):
            groups[(r.dataset_code, r.period)].append(r)
    for (ds, period), recs in groups.items():
        n = cat.rules.get("history", {}).get("series_length", 1)
        items = [BatchItem(key=r.submission_id, unit_code=r.unit_code, values=r.values, tasks=r.tasks) for r in recs]
        counted = context.counted_values(con, period, ds, list(cat.datasets[ds].elements))
        peers = peer_stats(ds, items, cat, counted)  # the cycle's peers and changes, not the run's
        staged = context.stage_history(con, period, ds, n)
        changes = change_stats(ds, items, cat, counted, context.Latest(context.last_values(con, staged)))
        del counted
        size = chunk_size if chunk_size > 0 else len(items)
        for i in range(0, len(items), size):
            part = items[i:i + size]
            previous = context.unit_series(con, staged, units={it.unit_code for it in part})
            yield ValidationChunk(ds, period, [it.key for it in part], part, previous, peers, changes)
        con.execute(f"drop table if exists {staged}")


def validate_chunk(chunk: ValidationChunk, cat=None) -> tuple[list[list[Finding]], dict]:
    """Plain and picklable: no warehouse, so it runs on any worker."""
    found, stats = validate_batch(chunk.dataset_code, chunk.items, chunk.previous, cat, peers=chunk.peers,
                                  changes=chunk.changes)
    return [found[i] for i in range(len(chunk.items))], stats


def apply_validation(res, records: list[SubmissionRecord], chunks, results, stats: dict | None = None) -> dict:
    """Attach each chunk's findings to its submissions, leaving out warnings an operator accepted
    and turning the errors an operator accepted (overridable rules) into flagged warnings.
    `stats` (as returned) accumulates over calls for a batch applied chunk by chunk."""
    con = res.con()
    by_id = {r.submission_id: r for r in records}
    stats = stats if stats is not None else {"batches": 0, "chunks": 0, "rows": 0, "expectations": 0}
    groups = stats.setdefault("_groups", set())
    for chunk, (found, st) in zip(chunks, results, strict=True):
        groups.add((chunk.dataset_code, chunk.period))
        stats["chunks"] += 1
        accepted = queries.accepted_warnings(con, chunk.period)
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
    stats["batches"] = len(groups)
    return stats


def validate(res, records: list[SubmissionRecord]) -> dict:
    """One Great Expectations run per data set over all parseable submissions of the batch (or
    per chunk of the settings' validation_chunk units; peers are the whole batch either way),
    each chunk made, validated and applied before the next is made."""
    stats = None
    for chunk in iter_validation_chunks(res, records):
        stats = apply_validation(res, records, [chunk], [validate_chunk(chunk, res.cat)], stats)
    if len(records) >= LARGE_BATCH:  # not on the warm path's one file: a full collection costs it time
        memory.give_back()
    return public(stats)


def public(stats: dict | None) -> dict:
    """Validation statistics without the bookkeeping `apply_validation` keeps between chunks."""
    stats = dict(stats or {"batches": 0, "chunks": 0, "rows": 0, "expectations": 0})
    stats.pop("_groups", None)
    return stats


# -------------------------------------------------------------------------------------- load


def load(res, records: list[SubmissionRecord]) -> dict:
    """Load the batch in one transaction (validated at the clock's now), the settings' load_chunk
    units at a time."""
    counts = load_batch(res.con(), records, res.now(), chunk=res.settings.load_chunk)
    if len(records) >= LARGE_BATCH:
        memory.give_back()
    return counts


def process(res, files: list[store_mod.StoredFile] | None = None) -> list[SubmissionRecord]:
    """Parse, validate and load every pending submission (or `files`): the unit of work of one run."""
    files = pending(res) if files is None else files
    records = parse(res, files)
    validate(res, records)
    load(res, records)
    note_recorded(res, records)
    return records


def findings_of(res, submission_id: str) -> list[Finding]:
    return [Finding(severity=r[0], rule_id=r[1], message_vi=r[2], message_en=r[3], sheet=r[4], cell=r[5],
                    element_code=r[6], value_raw=r[7], expected_vi=r[8], expected_en=r[9])
            for r in queries.findings(res.con(), submission_id)]


# ------------------------------------------------------------------------- aggregate, publish


def aggregate(res) -> list[str]:
    """Rebuild the core views and marts in one transaction, DuckDB bounded to the settings'
    marts_memory (when the writer has no bound of its own): the marts' hash tables spill to disk
    instead of growing the process at national scale. A build that runs out of memory under the
    bound is rolled back and run again without it, with a warning naming the setting."""
    import duckdb

    memory.give_back()  # what Python freed, for DuckDB's build to use
    con = res.con()
    bound = res.settings.marts_memory if not res.settings.duckdb_memory else None
    try:
        return _build(con, bound)
    except duckdb.OutOfMemoryException as exc:
        if not bound:
            raise
        log.warning("Các bảng tổng hợp cần hơn %s bộ nhớ DuckDB: dựng lại không giới hạn (đặt BAOCAO_MARTS_MEMORY lớn hơn) / "
                    "the marts need more than %s of DuckDB memory: built again without the bound (raise "
                    "BAOCAO_MARTS_MEMORY): %s", bound, bound, str(exc).splitlines()[0])
        return _build(con, None)


def _build(con, bound: str | None) -> list[str]:
    from baocao.settings import MEMORY

    if bound and not MEMORY.fullmatch(bound.strip()):
        raise ValueError(f"marts_memory {bound!r}: cần dạng 256MB hoặc 1GB / must look like 256MB or 1GB")
    try:
        if bound:  # inside: DuckDB may refuse the limit (it cannot free enough) and still lower it
            con.execute(f"set memory_limit = '{bound}'")
        con.execute("begin transaction")
        try:
            built = models.build(con)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    finally:
        if bound:
            con.execute("reset memory_limit")
    return built


def publish_all(res) -> Path:
    """Parquet per mart and the read-only snapshot analysts open."""
    con = res.con()
    publish.export_parquet(con, res.settings.parquet)
    return publish.publish_snapshot(con, res.snapshot.path)
