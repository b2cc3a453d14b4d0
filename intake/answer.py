"""Feedback is never lost: every loaded submission gets its answer, exactly once.

Loading a batch and queuing its answers are two transactions (the load commits first), so a run
that dies in between (killed, power cut) leaves submissions recorded without an outbox row and
without their annotated workbook; the files are no longer pending, so nothing would answer them.

* `mark_loading(s, ids)` before the load: `store/.unanswered` lists the ids about to be loaded (a
  hint that lets the next run know it has work even when no file is pending);
* `repair(con, s, records)`, called where the feedback is queued: finds in the warehouse every
  submission of the journal with no feedback row (a unit with recipients) and every missing
  annotated workbook,
  writes the workbooks and returns the records to queue with the batch's own (the outbox key
  `feedback:…:<submission_id>` keeps it exactly once); then clears the hint.

The warehouse is the truth; the hint only says "look".
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from baocao.settings import Settings
from warehouse.load import SubmissionRecord

JOURNAL = ".unanswered"
KILL_AFTER_LOAD = "BAOCAO_TEST_KILL_AFTER_LOAD"  # test hook: SIGKILL this process once the load commits


def _journal(s: Settings) -> Path:
    return s.store / JOURNAL


def mark_loading(s: Settings, ids: list[str]) -> None:
    if not ids:
        return
    s.store.mkdir(parents=True, exist_ok=True)
    with open(_journal(s), "a", encoding="utf-8") as fh:
        fh.write("".join(i + "\n" for i in ids))
        fh.flush()
        os.fsync(fh.fileno())


def marked(s: Settings) -> set[str]:
    """The ids a run was loading when it last wrote the journal (and may not have answered)."""
    try:
        return {line.strip() for line in _journal(s).read_text(encoding="utf-8").splitlines() if line.strip()}
    except FileNotFoundError:
        return set()


def unanswered_hint(s: Settings) -> bool:
    return bool(marked(s))


def after_load() -> None:
    """Called right after the load commits. Under the test hook, die here as a crash would."""
    if os.environ.get(KILL_AFTER_LOAD) == "1":
        os.kill(os.getpid(), signal.SIGKILL)


def _records(con, where: str, params: list) -> list[SubmissionRecord]:
    from baocao import pipeline

    rows = con.execute(f"""select submission_id, unit_code, period, dataset_code, file_name, stored_path, sha256,
                                  size_bytes, file_format, received_at, source, is_late
                           from raw.submission s where {where} order by received_at, submission_id""",
                       params).fetchall()
    out = []
    for sid, unit, period, ds, name, path, sha, size, fmt, at, source, late in rows:
        out.append(SubmissionRecord(submission_id=sid, unit_code=unit, period=period, dataset_code=ds, file_name=name,
                                    stored_path=path, sha256=sha, size_bytes=size, file_format=fmt, received_at=at,
                                    source=source, is_late=late, findings=pipeline.findings_of(con, sid)))
    return out


def unanswered(con, cat, ids: set[str]) -> list[SubmissionRecord]:
    """Of `ids` (what a run was loading), those loaded with no feedback row, for units with
    recipients. Only these: older submissions are never answered again (a message that is no
    longer true is never sent)."""
    units = sorted(cat.recipients)
    if not units or not ids:
        return []
    return _records(con, """list_contains(?, s.submission_id) and list_contains(?, s.unit_code)
                            and not exists (select 1 from ops.outbox o where o.kind = 'feedback'
                                            and o.stage = s.submission_id)""", [sorted(ids), units])


def missing_workbooks(con, s: Settings, exclude: set[str] = frozenset()) -> list[SubmissionRecord]:
    """Submissions with findings whose annotated workbook is not on disk."""
    from baocao import pipeline

    rows = con.execute("""select submission_id, period, unit_code, file_name from raw.submission
                          where n_errors + n_warnings > 0""").fetchall()
    gone = []
    for sid, period, unit, name in rows:
        if sid in exclude:
            continue
        probe = SubmissionRecord(submission_id=sid, unit_code=unit, period=period, dataset_code="", file_name=name,
                                 stored_path="", sha256="", size_bytes=0, file_format="", received_at=None,
                                 source="", is_late=False, findings=[None])  # type: ignore[list-item]
        path = pipeline.feedback_path(s, probe)
        if path is not None and not path.exists():
            gone.append(sid)
    if not gone:
        return []
    return _records(con, "list_contains(?, s.submission_id)", [gone])


def repair(con, s: Settings, records: list[SubmissionRecord], cat) -> list[SubmissionRecord]:
    """The records to answer: the batch's plus every loaded submission left unanswered; writes
    the annotated workbooks that are missing (the batch's own are written by its flow)."""
    from baocao import pipeline

    mine = {r.submission_id for r in records}
    extra = unanswered(con, cat, marked(s) - mine)
    rebuilt = missing_workbooks(con, s, exclude=mine)
    for r in rebuilt:
        pipeline.write_findings_file(s, r, cat)
    return list(records) + extra


def answered(s: Settings) -> None:
    """After the batch's answers (and the repaired ones) are queued: clear the hint."""
    _journal(s).unlink(missing_ok=True)
