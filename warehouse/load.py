"""Load a validated batch into the warehouse: one transaction per batch, idempotent by
submission id (a rerun of the same files inserts nothing), rejected submissions recorded with
their findings but none of their values."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from baocao.findings import Finding

if TYPE_CHECKING:  # a cursor is handed in; DuckDB is imported by whoever opens it
    import duckdb


@dataclass
class SubmissionRecord:
    submission_id: str
    unit_code: str
    period: str
    dataset_code: str
    file_name: str
    stored_path: str
    sha256: str
    size_bytes: int
    file_format: str
    received_at: datetime
    source: str
    is_late: bool
    findings: list[Finding] = field(default_factory=list)
    values: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)
    texts: list[dict] = field(default_factory=list)
    original_name_raw: bytes | None = None   # the name exactly as sent (file_name is for display)
    meta: dict | None = None                 # the channel's audit trail
    file_mtime: datetime | None = None       # the file's own time: information only
    decision: str | None = None  # "held" (waits for the operator) | "override" (an accepted error)

    @property
    def n_errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def n_warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)

    @property
    def status(self) -> str:
        if self.n_errors:
            return "rejected"
        if self.decision in ("held", "override"):
            return {"held": "held", "override": "accepted_by_override"}[self.decision]
        return "accepted_with_warnings" if self.n_warnings else "accepted"


_S, _I, _D, _B, _TS = pa.string(), pa.int32(), pa.float64(), pa.bool_(), pa.timestamp("us", tz="UTC")


def known_ids(con: duckdb.DuckDBPyConnection, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    tbl = pa.table({"submission_id": pa.array(ids, _S)})  # noqa: F841
    return {r[0] for r in con.execute("select s.submission_id from raw.submission s join tbl using (submission_id)").fetchall()}


def load_batch(con: duckdb.DuckDBPyConnection, records: list[SubmissionRecord], validated_at: datetime,
               chunk: int = 0) -> dict:
    """Insert the batch in one transaction. Returns counts of what was inserted. With `chunk` > 0
    the rows go in by groups of that many units (every version of a unit in the same group, in
    order), so that no more than one group's Arrow tables exist at once; still one transaction."""
    con.execute("begin transaction")
    try:
        seen = known_ids(con, [r.submission_id for r in records])
        new = [r for r in records if r.submission_id not in seen]
        # dedupe within the batch too (the same file dropped twice)
        uniq: dict[str, SubmissionRecord] = {}
        for r in sorted(new, key=lambda r: r.received_at):
            uniq.setdefault(r.submission_id, r)
        new = list(uniq.values())
        counts = {"submissions": len(new), "skipped": len(records) - len(new), "values": 0, "findings": 0}
        for part in _unit_groups(new, chunk):
            for k, n in _insert(con, part, validated_at).items():
                counts[k] += n
        con.execute("commit")
        return counts
    except Exception:
        con.execute("rollback")
        raise


def _unit_groups(records: list[SubmissionRecord], chunk: int) -> list[list[SubmissionRecord]]:
    """`records` cut into groups of at most `chunk` units (0: one group), order kept within a unit."""
    if chunk <= 0 or not records:
        return [records] if records else []
    by_unit: dict[str, list[SubmissionRecord]] = {}
    for r in records:
        by_unit.setdefault(r.unit_code, []).append(r)
    units = list(by_unit)
    return [[r for u in units[i:i + chunk] for r in by_unit[u]] for i in range(0, len(units), chunk)]


def _insert(con: duckdb.DuckDBPyConnection, new: list[SubmissionRecord], validated_at: datetime) -> dict:
    """Insert new records (inside the caller's transaction): submissions with their versions,
    findings, and the facts of those not rejected."""
    counts = {"values": 0, "findings": 0}
    sub = pa.table({  # noqa: F841
        "submission_id": pa.array([r.submission_id for r in new], _S),
        "unit_code": pa.array([r.unit_code for r in new], _S),
        "period": pa.array([r.period for r in new], _S),
        "dataset_code": pa.array([r.dataset_code for r in new], _S),
        "file_name": pa.array([r.file_name for r in new], _S),
        "stored_path": pa.array([r.stored_path for r in new], _S),
        "sha256": pa.array([r.sha256 for r in new], _S),
        "size_bytes": pa.array([r.size_bytes for r in new], pa.int64()),
        "file_format": pa.array([r.file_format for r in new], _S),
        "received_at": pa.array([r.received_at for r in new], _TS),
        "source": pa.array([r.source for r in new], _S),
        "status": pa.array([r.status for r in new], _S),
        "n_errors": pa.array([r.n_errors for r in new], _I),
        "n_warnings": pa.array([r.n_warnings for r in new], _I),
        "is_late": pa.array([r.is_late for r in new], _B),
        "original_name_raw": pa.array([r.original_name_raw for r in new], pa.binary()),
        "meta": pa.array([json.dumps(r.meta, ensure_ascii=False) if r.meta else None for r in new], _S),
        "file_mtime": pa.array([r.file_mtime for r in new], _TS),
    })
    con.execute("""
        insert into raw.submission (submission_id, unit_code, period, dataset_code, version, file_name, stored_path,
            sha256, size_bytes, file_format, received_at, source, status, n_errors, n_warnings, validated_at, is_late,
            original_name_raw, meta, file_mtime)
        select s.submission_id, s.unit_code, s.period, s.dataset_code,
               coalesce(v.max_version, 0) + row_number() over (
                   partition by s.unit_code, s.period, s.dataset_code order by s.received_at, s.submission_id),
               s.file_name, s.stored_path, s.sha256, s.size_bytes, s.file_format, s.received_at, s.source,
               s.status, s.n_errors, s.n_warnings, ?::timestamptz, s.is_late, s.original_name_raw, s.meta::json,
               s.file_mtime
        from sub s
        left join (select unit_code, period, dataset_code, max(version) as max_version
                   from raw.submission group by all) v using (unit_code, period, dataset_code)
    """, [validated_at])
    frows = [(r.submission_id, n, f) for r in new for n, f in enumerate(r.findings, 1)]
    if frows:
        fnd = pa.table({  # noqa: F841
            "submission_id": pa.array([x[0] for x in frows], _S), "seq": pa.array([x[1] for x in frows], _I),
            **{k: pa.array([getattr(x[2], k) for x in frows], _S) for k in (
                "severity", "rule_id", "sheet", "cell", "element_code", "value_raw", "message_vi", "message_en",
                "expected_vi", "expected_en")}})
        con.execute("insert into raw.finding select submission_id, seq, severity, rule_id, sheet, cell, element_code,"
                    " value_raw, message_vi, message_en, expected_vi, expected_en from fnd")
        counts["findings"] = len(frows)
    counts["values"] = insert_facts(con, [r for r in new if r.status != "rejected"])
    return counts


def _head(rows: list[tuple]) -> dict:
    """The columns every fact table starts with (submission, unit, period), for (record, fact) pairs."""
    return {"submission_id": pa.array([r.submission_id for r, _ in rows], _S),
            "unit_code": pa.array([r.unit_code for r, _ in rows], _S),
            "period": pa.array([r.period for r, _ in rows], _S)}


def insert_facts(con: duckdb.DuckDBPyConnection, ok: list[SubmissionRecord]) -> int:
    """Insert the values, task statuses and narratives of records that are not rejected (inside
    the caller's transaction); a value carrying a warning is flagged. Returns the values inserted."""
    flagged = {(r.submission_id, f.element_code) for r in ok for f in r.findings if f.severity == "warning"}
    vrows = [(r, v) for r in ok for v in r.values]
    if vrows:
        val = pa.table({  # noqa: F841
            **_head(vrows),
            "dataset_code": pa.array([r.dataset_code for r, _ in vrows], _S),
            "element_code": pa.array([v["element_code"] for _, v in vrows], _S),
            "value": pa.array([v["value"] for _, v in vrows], _D),
            "value_raw": pa.array([v["value_raw"] for _, v in vrows], _S),
            "sheet": pa.array([v["sheet"] for _, v in vrows], _S),
            "cell": pa.array([v["cell"] for _, v in vrows], _S),
            "is_flagged": pa.array([(r.submission_id, v["element_code"]) in flagged for r, v in vrows], _B),
        })
        con.execute("insert into core.data_value select * from val")
    trows = [(r, t) for r in ok for t in r.tasks]
    if trows:
        tsk = pa.table({  # noqa: F841
            **_head(trows),
            "plan_code": pa.array([t["plan_code"] for _, t in trows], _S),
            "task_no": pa.array([t["task_no"] for _, t in trows], _I),
            "status": pa.array([t["status"] for _, t in trows], _S),
            "note": pa.array([t.get("note") for _, t in trows], _S),
        })
        con.execute("insert into core.task_status select * from tsk")
    xrows = [(r, x) for r in ok for x in r.texts]
    if xrows:
        txt = pa.table({  # noqa: F841
            **_head(xrows),
            "section": pa.array([x["section"] for _, x in xrows], _S),
            "text": pa.array([x["text"] for _, x in xrows], _S),
        })
        con.execute("insert into core.narrative select distinct on (submission_id, section) * from txt")
    return len(vrows)


def release_facts(records: list[SubmissionRecord]) -> int:
    """After the batch's load committed: its values, task statuses and narratives are in the
    warehouse, and what comes next (marts, feedback, messages) reads them from there or needs
    only the findings and the status, so a national batch does not keep ~18 KB of parsed rows per
    unit in memory through the marts and the snapshot. Returns the records released."""
    for r in records:
        r.values, r.tasks, r.texts = [], [], []
    return len(records)
