"""Tasks of a reporting cycle. Work is done in batches (one task run per stage, not per file):
the Prefect server records only ~40 task runs a second, and one validation over the whole batch is
far cheaper than one per file.

Each task is a thin wrapper over a plain function of `baocao.services`, called with the
`Resources` the flow holds, and emits baocao's events (baocao.events) through the resources'
event emitter; emitting never fails a task.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from baocao import events as ev
from baocao.resources import Resources, live
from baocao.services import answer, cycles, process
from baocao.settings import settings
from intake import answer as journal
from tasks import deliver as deliver_tasks
from tasks.artifacts import _n, _records_by_dataset, named
from warehouse import queries

# ----------------------------------------------------------------------------- resources, lock


@contextlib.contextmanager
def resources(home: str | None = None, handed_in: Any = None) -> Iterator[Resources]:
    """The resources a flow run works with: those handed in (tests, the CLI, a parent flow), or
    the live ones built from the settings (`home`, else $BAOCAO_HOME); those built here are
    closed when the run ends."""
    if handed_in is not None:
        yield handed_in
        return
    with live(settings(home)) as res:
        yield res


_LOCK_DEPTH = 0


@contextlib.contextmanager
def warehouse_lock(res: Resources) -> Iterator[None]:
    """Hold the global concurrency limit named by the settings' warehouse_limit
    ($BAOCAO_WAREHOUSE_LIMIT, limit 1) while a flow uses the warehouse: DuckDB allows one writer
    process, and each deployment run is its own process. Re-entrant within a process (close-cycle
    runs process-submissions as a subflow). Before the slot is released the warehouse is closed,
    so the next run can open the file. Without a limit (in-process runs: make demo, tests) it
    only counts."""
    global _LOCK_DEPTH
    name = res.settings.warehouse_limit
    if not name or _LOCK_DEPTH:
        _LOCK_DEPTH += 1
        try:
            yield
        finally:
            _LOCK_DEPTH -= 1
        return
    from tasks.slot import hold  # Prefect's concurrency() with short retries (tasks/slot.py says why)

    with hold(name, lease_duration=120):
        _LOCK_DEPTH += 1
        try:
            yield
        finally:
            _LOCK_DEPTH -= 1
            res.warehouse.close()


# ------------------------------------------------------------------------------------ cycles


@task(name="open-cycle", cache_policy=NO_CACHE, task_run_name=named(lambda p: f"open {p['period']}" + (f" ({', '.join(p['datasets'])})" if p.get("datasets") else "")))
def open_cycle(r: Resources, period: str, now: datetime | None = None, datasets: list[str] | None = None) -> list[dict]:
    rows = cycles.open_cycle(r, period, datasets=datasets, now=now)
    r.events.emit_all(ev.cycle_opened(row) for row in rows)
    return rows


@task(name="due-period", cache_policy=NO_CACHE, task_run_name=named(lambda p: f"which period opens ({p['kind']}, {p['semantic']})"))
def due_period(r: Resources, kind: str, semantic: str, now: datetime | None = None) -> tuple[str, list[str]]:
    """The period an open pass opens at `now`, and the data sets it opens."""
    now = now or r.now()
    return cycles.period_to_open(now, kind, semantic), cycles.datasets_to_open(r.cat, kind, semantic)


@task(name="open-cycles", cache_policy=NO_CACHE, task_run_name=named(lambda p: f"open cycles {p.get('period') or '(all)'}"))
def open_rows(r: Resources, period: str | None = None) -> list[cycles.CycleRow]:
    return cycles.open_rows(cycles.cycle_rows(r.con()), period)


@task(name="cycle-events", cache_policy=NO_CACHE, task_run_name=named(lambda p: f"deadline events ({len(p['rows'])} open cycles)"))
def cycle_events(r: Resources, rows: list[cycles.CycleRow], now: datetime | None = None) -> list[str]:
    """deadline.approaching / deadline.passed events due since the previous daily pass."""
    specs = cycles.due_cycle_events(rows, now or r.now())
    r.events.emit_all(specs)
    return [f"{s.event} {s.resource_id}" for s in specs]


@task(name="cycles-to-close", cache_policy=NO_CACHE, task_run_name=named(lambda p: f"cycles to close {p.get('period') or '(due)'}"))
def to_close(r: Resources, period: str | None = None, now: datetime | None = None) -> list[cycles.CycleRow]:
    """Every open data set of `period`, or without it each one whose deadline + grace has passed."""
    rows = cycles.open_rows(cycles.cycle_rows(r.con()), period)
    return rows if period else cycles.due_closings(rows, now or r.now())


@task(name="close-cycle", cache_policy=NO_CACHE, task_run_name=named(lambda p: "close " + ", ".join(f"{c.period} {c.dataset_code}" for c in p["rows"])))
def close_cycle(r: Resources, rows: list[cycles.CycleRow], now: datetime | None = None) -> list[tuple[str, str]]:
    closed = cycles.close_rows(r.con(), rows, now or r.now())
    r.events.emit_all(ev.cycle_closed(c.period, c.dataset_code, c.deadline_at, c.closed_at) for c in closed)
    return [(c.period, c.dataset_code) for c in closed]


# ----------------------------------------------------------------------------------- process


def outcomes(records: list) -> list[dict]:
    """What happened to each file of a run, for the command line and the run's artifact: unit,
    data set, period, file, result, error and warning counts, and the first finding."""
    out = []
    for rec in records:
        first = rec.findings[0] if rec.findings else None
        out.append({"submission_id": rec.submission_id, "unit_code": rec.unit_code, "dataset_code": rec.dataset_code,
                    "period": rec.period, "file_name": rec.file_name, "status": rec.status,
                    "decision": rec.decision, "n_errors": rec.n_errors, "n_warnings": rec.n_warnings,
                    "where": first.where() if first else "", "where_en": first.where("en") if first else "",
                    "rule_id": first.rule_id if first else None,
                    "finding_vi": first.message_vi if first else None, "finding_en": first.message_en if first else None})
    return out



@task(name="collect", cache_policy=NO_CACHE, task_run_name=named(lambda p: "collect the inbox"))
def collect(r: Resources) -> int:
    return len(process.collect(r))


@task(name="nothing-pending", cache_policy=NO_CACHE)
def nothing_pending(r: Resources, submission_id: str | None = None) -> bool:
    return process.nothing_pending(r, submission_id)


@task(name="parse", cache_policy=NO_CACHE, task_run_name=named(lambda p: "parse pending files"))
def parse(r: Resources) -> list:
    return process.parse(r, process.pending(r))


@task(name="validate", cache_policy=NO_CACHE, task_run_name=named(lambda p: f"validate {_records_by_dataset(p['records'])} ({_n(p['records'])} submissions)"))
def validate(r: Resources, records: list) -> dict:
    stats = process.validate(r, records)
    r.events.emit_all(ev.submission_outcome(rec) for rec in records)
    return stats


@task(name="validation-chunks", cache_policy=NO_CACHE, task_run_name=named(lambda p: f"group {_n(p['records'])} submissions for validation"))
def validation_chunks(r: Resources, records: list) -> list:
    """Cut the batch into chunks to validate (one per data set unless BAOCAO_VALIDATION_CHUNK)."""
    return process.validation_chunks(r, records)


@task(name="validate-chunk", cache_policy=NO_CACHE, task_run_name=named(lambda p: f"validate {p['chunk'].dataset_code} {p['chunk'].period} ({len(p['chunk'].items)} submissions)"))
def validate_chunk(chunk) -> tuple:
    """One Great Expectations run over a chunk; no warehouse, so it can run on any worker."""
    return process.validate_chunk(chunk)


def validate_chunks(r: Resources, chunks: list) -> list:
    """Run `validate-chunk` over the chunks on the flow's task runner; with BAOCAO_TASK_RUNNER=dask
    on a Dask runner built for this run from the settings."""
    if r.settings.task_runner == "dask":
        from baocao import runners

        with runners.task_runner(r.settings) as runner:
            return [f.result() for f in runner.map(validate_chunk, {"chunk": chunks})]
    return [f.result() for f in validate_chunk.map(chunks)]


@task(name="apply-validation", cache_policy=NO_CACHE, task_run_name=named(lambda p: f"record validation of {_n(p['records'])} submissions ({_records_by_dataset(p['records'])})"))
def apply_validation(r: Resources, records: list, chunks: list, results: list) -> dict:
    stats = process.public(process.apply_validation(r, records, chunks, results))
    r.events.emit_all(ev.submission_outcome(rec) for rec in records)
    return stats


@task(name="load", cache_policy=NO_CACHE, task_run_name=named(lambda p: f"load {_n(p['records'])} submissions"), retries=1)
def load(r: Resources, records: list) -> dict:
    from warehouse.load import known_ids, release_facts

    con = r.con()
    before = known_ids(con, [rec.submission_id for rec in records])
    # the journal says "answer these" until their feedback is queued (a crash in between loses nothing)
    journal.mark_loading(r.store.root, [rec.submission_id for rec in records if rec.submission_id not in before])
    counts = process.load(r, records)
    process.note_recorded(r, records)
    journal.after_load(r.settings.test_kill_after_load)
    new = {rec.submission_id: rec for rec in records if rec.submission_id not in before}
    versions = queries.submission_versions(con, list(new))
    r.events.emit_all(ev.submission_loaded(rec, versions.get(sid)) for sid, rec in new.items())
    release_facts(records)  # their rows are in the warehouse; what follows needs findings and status only
    return counts


@task(name="aggregate", cache_policy=NO_CACHE, task_run_name=named(lambda p: "rebuild marts"))
def aggregate(r: Resources) -> list[str]:
    return process.aggregate(r)


@task(name="notify", cache_policy=NO_CACHE, task_run_name=named(lambda p: f"notify {p.get('period') or ''} ({_n(p['records'])} submissions)".replace("  ", " ")))
def notify(r: Resources, records: list, period: str | None, now: datetime | None = None) -> dict:
    """Enqueue what is due and hand it to delivery at once (the deliver-notifications flow sends it
    without the warehouse; feedback on a submission should not wait)."""
    queued = enqueue.fn(r, records, period, now)
    write_feedback.fn(r, records)
    return {**queued, "dispatch": dispatch.fn(r)}


@task(name="write-feedback-files", cache_policy=NO_CACHE, task_run_name=named(lambda p: f"write feedback workbooks ({_n(p['records'])} submissions)"))
def write_feedback(r: Resources, records: list) -> int:
    """The annotated workbooks the feedback messages link to."""
    return answer.write_feedback_files(r, records)


@task(name="enqueue-notifications", cache_policy=NO_CACHE, task_run_name=named(lambda p: f"enqueue notifications {p.get('period') or ''} ({_n(p['records'])} submissions)".replace("  ", " ")))
def enqueue(r: Resources, records: list, period: str | None, now: datetime | None = None) -> dict:
    """Write the due notifications into the outbox (exactly-once keys); fast, no network."""
    n_feedback = answer.enqueue_feedback(r, records)
    n_schedule = answer.enqueue_schedule(r, period, now=now) if period else 0
    return {"feedback": n_feedback, "scheduled": n_schedule}


@task(name="dispatch-notifications", cache_policy=NO_CACHE, task_run_name=named(lambda p: "hand notifications to delivery"))
def dispatch(r: Resources) -> dict:
    """Hand the outbox to delivery (the deliver-notifications flow sends it, without the warehouse)."""
    return {"handed_off": deliver_tasks.handoff.fn(r)}


@task(name="publish", cache_policy=NO_CACHE, task_run_name=named(lambda p: f"publish snapshot ({len(p.get('models') or [])} models)"))
def publish(r: Resources, models: list[str] | None = None) -> str:
    snapshot = str(process.publish_all(r))
    r.events.emit(ev.aggregates_published(snapshot, models or []))
    return snapshot
