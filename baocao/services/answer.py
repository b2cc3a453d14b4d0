"""Answering units: the annotated workbook each submission with findings gets, one feedback
message per submission, and the reminders, overdue notices, escalations and operator summary due
at the clock's now — all written into the outbox (exactly-once keys); `deliver` sends them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from baocao import calendar
from baocao.services.cycles import open_cycles
from intake import answer as journal
from intake import store as store_mod
from warehouse import queries
from warehouse.load import SubmissionRecord


def feedback_path(res, rec: SubmissionRecord) -> Path | None:
    """Where the annotated workbook of a submission with findings is (or will be) written."""
    if not rec.findings:
        return None
    return (res.settings.feedback / rec.period / rec.unit_code
            / f"{store_mod.safe_stem(rec.file_name)}_kiem_tra_{rec.submission_id[:8]}.xlsx")


def write_feedback_files(res, records: list[SubmissionRecord]) -> int:
    """Write the annotated workbooks the feedback messages link to (before they are delivered)."""
    n = sum(write_findings_file(res, r) is not None for r in records)
    journal.answered(res.store.root)  # the batch and any repaired answers are queued and their workbooks written
    return n


def repair(res, records: list[SubmissionRecord]) -> list[SubmissionRecord]:
    """The records to answer: the batch's plus every submission a crashed run loaded and left
    unanswered (`intake.answer`'s journal); writes the annotated workbooks that are missing (the
    batch's own are written by `write_feedback_files`)."""
    from baocao.services.process import findings_of

    con = res.con()
    mine = {r.submission_id for r in records}

    def found(sid: str):
        return findings_of(res, sid)

    extra = journal.unanswered(con, res.cat, journal.marked(res.store.root) - mine, found)
    for r in journal.missing_workbooks(con, lambda rec: feedback_path(res, rec), found, exclude=mine):
        write_findings_file(res, r)
    return list(records) + extra


def write_findings_file(res, rec: SubmissionRecord) -> Path | None:
    """The unit's own workbook annotated (failing cells highlighted and commented, a first sheet
    listing every finding) — linked from the message — and the same list as plain text."""
    dest = feedback_path(res, rec)
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
    lang = res.cat.recipients.get(rec.unit_code, {}).get("lang", "vi")
    if rec.file_format == "xlsx":
        return annotate_workbook(Path(rec.stored_path), rec.findings, dest, lang=lang, source_name=rec.file_name,
                                 cat=res.cat)
    return annotate_findings_xlsx(rec.findings, dest, lang=lang, source_name=rec.file_name)


def enqueue_feedback(res, records: list[SubmissionRecord]) -> int:
    """One feedback message per submission (accepted, with warnings, or rejected with its
    findings and the annotated workbook), enqueued in one transaction."""
    from notifications.notify import enqueue_feedback as _enqueue
    from notifications.outbox import batch

    cat = res.cat
    con = res.con()
    records = repair(res, records)  # and every loaded submission a crash left unanswered
    cycles = open_cycles(con)
    todo = [r for r in records if r.unit_code in cat.recipients]  # a unit that no longer exists: no one to tell
    if not todo:
        return 0
    versions = queries.submission_versions(con, [r.submission_id for r in todo])
    n = 0
    con.execute("begin transaction")
    try:
        with batch(con):
            for rec in todo:
                full = feedback_path(res, rec)  # written by write_feedback_files before delivery
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


def enqueue_schedule(res, period: str, stage: str | None = None, now: datetime | None = None) -> int:
    """Reminders, overdue notices, escalations and the operator summary due at the clock's now."""
    from notifications.notify import enqueue_operator_summary
    from notifications.notify import enqueue_schedule as _schedule
    from notifications.outbox import batch

    cat = res.cat
    con = res.con()
    now = now or res.now()
    n = 0
    for ds, deadline, opened_at, _close in queries.cycles_of_period(con, period):
        rows = [r for r in queries.completeness(con, period, ds)
                if r[0] in cat.recipients]  # units that no longer exist get no reminders
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
