"""Feedback is never lost: every loaded submission gets its answer, exactly once.

Loading a batch and queuing its answers are two transactions (the load commits first), so a run
that dies in between (killed, power cut) leaves submissions recorded without an outbox row and
without their annotated workbook; the files are no longer pending, so nothing would answer them.

* `mark_loading(store, ids)` before the load: `store/.unanswered` lists the ids about to be loaded (a
  hint that lets the next run know it has work even when no file is pending);
* `baocao.services.answer.repair(res, records)`, called where the feedback is queued, finds
  (with `unanswered` and `missing_workbooks` here) in the warehouse every
  submission of the journal with no feedback row (a unit with recipients) and every missing
  annotated workbook,
  writes the workbooks and returns the records to queue with the batch's own (the outbox key
  `feedback:…:<submission_id>` keeps it exactly once); then clears the hint.

The warehouse is the truth; the hint only says "look". Nothing here reads the environment or
imports the services: the store folder, the settings' test hook and the services' own helpers
(`findings_of`, `feedback_path`) are handed in.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

from warehouse.load import SubmissionRecord

JOURNAL = ".unanswered"
KILL_AFTER_LOAD = "BAOCAO_TEST_KILL_AFTER_LOAD"  # test hook (Settings.test_kill_after_load): SIGKILL once the load commits


def _journal(store: Path) -> Path:
    return Path(store) / JOURNAL


def mark_loading(store: Path, ids: list[str]) -> None:
    if not ids:
        return
    Path(store).mkdir(parents=True, exist_ok=True)
    with open(_journal(store), "a", encoding="utf-8") as fh:
        fh.write("".join(i + "\n" for i in ids))
        fh.flush()
        os.fsync(fh.fileno())


def marked(store: Path) -> set[str]:
    """The ids a run was loading when it last wrote the journal (and may not have answered)."""
    try:
        return {line.strip() for line in _journal(store).read_text(encoding="utf-8").splitlines() if line.strip()}
    except FileNotFoundError:
        return set()


def unanswered_hint(store: Path) -> bool:
    return bool(marked(store))


def after_load(kill: bool = False) -> None:
    """Called right after the load commits. Under the test hook (`kill`), die here as a crash would."""
    if kill:
        os.kill(os.getpid(), signal.SIGKILL)


Findings = Callable[[str], list]  # submission id -> its findings in the warehouse


def _records(con, where: str, params: list, findings_of: Findings) -> list[SubmissionRecord]:
    rows = con.execute(f"""select submission_id, unit_code, period, dataset_code, file_name, stored_path, sha256,
                                  size_bytes, file_format, received_at, source, is_late
                           from raw.submission s where {where} order by received_at, submission_id""",
                       params).fetchall()
    out = []
    for sid, unit, period, ds, name, path, sha, size, fmt, at, source, late in rows:
        out.append(SubmissionRecord(submission_id=sid, unit_code=unit, period=period, dataset_code=ds, file_name=name,
                                    stored_path=path, sha256=sha, size_bytes=size, file_format=fmt, received_at=at,
                                    source=source, is_late=late, findings=findings_of(sid)))
    return out


def unanswered(con, cat, ids: set[str], findings_of: Findings) -> list[SubmissionRecord]:
    """Of `ids` (what a run was loading), those loaded with no feedback row, for units with
    recipients. Only these: older submissions are never answered again (a message that is no
    longer true is never sent)."""
    units = sorted(cat.recipients)
    if not units or not ids:
        return []
    return _records(con, """list_contains(?, s.submission_id) and list_contains(?, s.unit_code)
                            and not exists (select 1 from ops.outbox o where o.kind = 'feedback'
                                            and o.stage = s.submission_id)""", [sorted(ids), units], findings_of)


def missing_workbooks(con, path_of: Callable[[SubmissionRecord], Path | None], findings_of: Findings,
                      exclude: set[str] = frozenset()) -> list[SubmissionRecord]:
    """Submissions with findings whose annotated workbook (`path_of`) is not on disk."""
    rows = con.execute("""select submission_id, period, unit_code, file_name from raw.submission
                          where n_errors + n_warnings > 0""").fetchall()
    gone = []
    for sid, period, unit, name in rows:
        if sid in exclude:
            continue
        probe = SubmissionRecord(submission_id=sid, unit_code=unit, period=period, dataset_code="", file_name=name,
                                 stored_path="", sha256="", size_bytes=0, file_format="", received_at=None,
                                 source="", is_late=False, findings=[None])  # type: ignore[list-item]
        path = path_of(probe)
        if path is not None and not path.exists():
            gone.append(sid)
    if not gone:
        return []
    return _records(con, "list_contains(?, s.submission_id)", [gone], findings_of)


def answered(store: Path) -> None:
    """After the batch's answers (and the repaired ones) are queued: clear the hint."""
    _journal(store).unlink(missing_ok=True)
