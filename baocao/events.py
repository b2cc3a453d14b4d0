"""baocao's events: stable names, resources and labels, sent to Prefect's event stream.

Deployments in prefect.yaml react to these names (a submission received → process it; a
submission loaded → refresh the aggregates), and an operator can follow a cycle in Prefect's
event feed. Builders here are plain functions (no Prefect import) that return an `EventSpec`;
the tasks in tasks/ call `emit(spec)`. Emitting never fails a run: without a Prefect API (a plain
script, a test without the harness) nothing is sent; an error while sending is logged and ignored.

Resources (`prefect.resource.id`):
  baocao.submission.<submission_id>   labels baocao.submission.id, baocao.unit, baocao.dataset,
                                      baocao.period, baocao.file (unknown values are "?")
  baocao.cycle.<period>.<dataset>     labels baocao.period, baocao.dataset, baocao.deadline
  baocao.warehouse                    the published aggregates and snapshot
  baocao.outbox                       the delivery store's hand-off
Every submission and outbox event also carries `baocao.path`: "warm" when a warm process (the web
answerer, the Slack listener, the watcher's --process) takes the file itself, "deployment" when
the deployments do the work. process-submission and deliver-notifications ignore warm events
(the warm process has done that work), so a burst of uploads starts no per-file flow run that
competes for the warehouse.
Related resources: baocao.unit.<code> (role "unit"), baocao.cycle.<period>.<dataset> (role
"cycle"). Label values are strings; payloads hold only JSON scalars, lists and dicts (times as
ISO strings) so every trigger template can render them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SUBMISSION_RECEIVED = "baocao.submission.received"
SUBMISSION_VALIDATED = "baocao.submission.validated"
SUBMISSION_REJECTED = "baocao.submission.rejected"
SUBMISSION_LOADED = "baocao.submission.loaded"
CYCLE_OPENED = "baocao.cycle.opened"
DEADLINE_APPROACHING = "baocao.cycle.deadline.approaching"
DEADLINE_PASSED = "baocao.cycle.deadline.passed"
CYCLE_CLOSED = "baocao.cycle.closed"
AGGREGATES_PUBLISHED = "baocao.aggregates.published"
OUTBOX_ENQUEUED = "baocao.outbox.enqueued"

NAMES = (
    SUBMISSION_RECEIVED,
    SUBMISSION_VALIDATED,
    SUBMISSION_REJECTED,
    SUBMISSION_LOADED,
    CYCLE_OPENED,
    DEADLINE_APPROACHING,
    DEADLINE_PASSED,
    CYCLE_CLOSED,
    AGGREGATES_PUBLISHED,
    OUTBOX_ENQUEUED,
)

UNKNOWN = "?"
PATH_LABEL = "baocao.path"
WARM = "warm"  # a warm process answers the file in-process (tasks.warm)
DEPLOYMENT = "deployment"  # the event-driven deployments do the work
WAREHOUSE_RESOURCE = "baocao.warehouse"

log = logging.getLogger("baocao.events")


@dataclass(frozen=True)
class EventSpec:
    """What `prefect.events.emit_event` takes, built without Prefect."""

    event: str
    resource: dict[str, str]
    related: list[dict[str, str]] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def resource_id(self) -> str:
        return self.resource["prefect.resource.id"]


def _s(value: object) -> str:
    return UNKNOWN if value is None or value == "" else str(value)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def submission_resource_id(submission_id: str) -> str:
    return f"baocao.submission.{submission_id}"


def cycle_resource_id(period: str, dataset_code: str) -> str:
    return f"baocao.cycle.{period}.{dataset_code}"


def unit_resource_id(unit_code: str) -> str:
    return f"baocao.unit.{unit_code}"


def _submission(
    event: str,
    *,
    submission_id: str,
    unit_code: str,
    dataset_code: str | None,
    period: str | None,
    file_name: str | None,
    payload: dict[str, Any],
    path: str = DEPLOYMENT,
) -> EventSpec:
    resource = {
        "prefect.resource.id": submission_resource_id(submission_id),
        "prefect.resource.name": _s(file_name),
        "baocao.submission.id": submission_id,
        "baocao.unit": _s(unit_code),
        "baocao.dataset": _s(dataset_code),
        "baocao.period": _s(period),
        "baocao.file": _s(file_name),
        PATH_LABEL: path,
    }
    related = [{"prefect.resource.id": unit_resource_id(_s(unit_code)), "prefect.resource.role": "unit"}]
    if dataset_code and period and UNKNOWN not in (dataset_code, period):
        related.append(
            {"prefect.resource.id": cycle_resource_id(period, dataset_code), "prefect.resource.role": "cycle"}
        )
    return EventSpec(event, resource, related, payload)


def submission_received(stored, *, dataset_code: str | None = None, period: str | None = None,
                        warm: bool = False) -> EventSpec:
    """A file has been taken from a unit's inbox into the store (`stored`: intake.store.StoredFile).
    The data set and period are what the file states, when it could be read. `warm`: the caller
    answers it in-process at once (the process-submission deployment then ignores the event)."""
    return _submission(
        SUBMISSION_RECEIVED,
        submission_id=stored.submission_id,
        unit_code=stored.unit_code,
        dataset_code=dataset_code,
        period=period,
        file_name=stored.file_name,
        payload={
            "file_name": stored.file_name,
            "sha256": stored.sha256,
            "size_bytes": stored.size_bytes,
            "received_at": _iso(stored.received_at),
            "source": stored.source,
        },
        path=WARM if warm else DEPLOYMENT,
    )


def _record_payload(rec) -> dict[str, Any]:
    return {
        "status": rec.status,
        "n_errors": rec.n_errors,
        "n_warnings": rec.n_warnings,
        "is_late": bool(rec.is_late),
        "received_at": _iso(rec.received_at),
        "rule_ids": sorted({f.rule_id for f in rec.findings}),
    }


def submission_outcome(rec) -> EventSpec:
    """Validated (accepted, perhaps with warnings) or rejected (`rec`: warehouse.load.SubmissionRecord)."""
    name = SUBMISSION_REJECTED if rec.status == "rejected" else SUBMISSION_VALIDATED
    return _submission(
        name,
        submission_id=rec.submission_id,
        unit_code=rec.unit_code,
        dataset_code=rec.dataset_code,
        period=rec.period,
        file_name=rec.file_name,
        payload=_record_payload(rec),
    )


def submission_loaded(rec, version: int | None = None) -> EventSpec:
    """The submission is recorded in the warehouse (its values too, unless rejected)."""
    return _submission(
        SUBMISSION_LOADED,
        submission_id=rec.submission_id,
        unit_code=rec.unit_code,
        dataset_code=rec.dataset_code,
        period=rec.period,
        file_name=rec.file_name,
        payload={**_record_payload(rec), "version": version},
    )


def _cycle(
    event: str, period: str, dataset_code: str, deadline_at: datetime | None, payload: dict[str, Any]
) -> EventSpec:
    resource = {
        "prefect.resource.id": cycle_resource_id(period, dataset_code),
        "prefect.resource.name": f"{dataset_code} {period}",
        "baocao.period": period,
        "baocao.dataset": dataset_code,
        "baocao.deadline": _s(_iso(deadline_at)),
    }
    related = [{"prefect.resource.id": f"baocao.dataset.{dataset_code}", "prefect.resource.role": "dataset"}]
    return EventSpec(event, resource, related, payload)


def cycle_opened(row: dict) -> EventSpec:
    """`row`: one of baocao.services.cycles.open_cycle's rows."""
    return _cycle(
        CYCLE_OPENED,
        row["period"],
        row["dataset_code"],
        row["deadline_at"],
        {
            "window_start": str(row["window_start"]),
            "window_end": str(row["window_end"]),
            "deadline_at": _iso(row["deadline_at"]),
            "close_at": _iso(row["close_at"]),
            "legal_basis": row.get("legal_basis"),
        },
    )


def deadline_approaching(period: str, dataset_code: str, deadline_at: datetime, days_before: int) -> EventSpec:
    return _cycle(
        DEADLINE_APPROACHING,
        period,
        dataset_code,
        deadline_at,
        {"deadline_at": _iso(deadline_at), "days_before": days_before, "stage": f"d-{days_before}"},
    )


def deadline_passed(period: str, dataset_code: str, deadline_at: datetime) -> EventSpec:
    return _cycle(DEADLINE_PASSED, period, dataset_code, deadline_at, {"deadline_at": _iso(deadline_at)})


def cycle_closed(period: str, dataset_code: str, deadline_at: datetime | None, closed_at: datetime) -> EventSpec:
    return _cycle(
        CYCLE_CLOSED,
        period,
        dataset_code,
        deadline_at,
        {"deadline_at": _iso(deadline_at), "closed_at": _iso(closed_at)},
    )


def aggregates_published(snapshot: str, models: Iterable[str] = ()) -> EventSpec:
    return EventSpec(
        AGGREGATES_PUBLISHED,
        {
            "prefect.resource.id": WAREHOUSE_RESOURCE,
            "prefect.resource.name": "baocao warehouse",
            "baocao.snapshot": str(snapshot),
        },
        [],
        {"snapshot": str(snapshot), "models": list(models)},
    )


def outbox_enqueued(n: int) -> EventSpec:
    """New notifications were handed to delivery (triggers the deliver-notifications deployment)."""
    return EventSpec(OUTBOX_ENQUEUED, {"prefect.resource.id": "baocao.outbox", "prefect.resource.name": "baocao outbox",
                                       PATH_LABEL: DEPLOYMENT}, [], {"new": int(n)})


def on_warm_path(spec: EventSpec) -> EventSpec:
    """The same event, labelled as emitted by a warm process's own pass (tasks.warm)."""
    if PATH_LABEL not in spec.resource:
        return spec
    return EventSpec(spec.event, {**spec.resource, PATH_LABEL: WARM}, spec.related, spec.payload)


class WarmEvents:
    """An events emitter that labels what it sends as the warm path's (`on_warm_path`), around
    the resources' own (tasks.warm wraps `res.events` with it for one pass)."""

    def __init__(self, inner):
        self.inner = inner

    def emit(self, spec: EventSpec):
        return self.inner.emit(on_warm_path(spec))

    def emit_all(self, specs: Iterable[EventSpec]) -> int:
        return self.inner.emit_all(on_warm_path(s) for s in specs)

    def __getattr__(self, name):  # RecordingEvents' `specs` and the like
        return getattr(self.inner, name)


# ----------------------------------------------------------------------------------- sending


def enabled() -> bool:
    """True when a Prefect API is there to receive events: PREFECT_API_URL is set, or we are
    inside a flow or task run (which already talks to an API, possibly an ephemeral one). A plain
    script without either sends nothing (rather than starting an ephemeral server to send to).
    BAOCAO_EVENTS=0 (the settings' `events`) sends nothing."""
    from baocao.settings import events_enabled

    if not events_enabled():
        return False
    try:
        from prefect.context import FlowRunContext, TaskRunContext
        from prefect.settings import PREFECT_API_URL
    except Exception:  # pragma: no cover - prefect is a dependency
        return False
    if PREFECT_API_URL.value():
        return True
    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def emit(spec: EventSpec):
    """Send one event; returns the prefect Event, or None if nothing was sent. Never raises."""
    if not enabled():
        return None
    try:
        from prefect.events import emit_event

        return emit_event(
            event=spec.event, resource=spec.resource, related=spec.related or None, payload=spec.payload or None
        )
    except Exception:  # an event is a notice, never a reason to fail a run
        log.warning("could not emit %s for %s", spec.event, spec.resource_id, exc_info=True)
        return None


def emit_all(specs: Iterable[EventSpec]) -> int:
    return sum(emit(s) is not None for s in specs)


def flush(timeout: float = 10.0) -> None:
    """Wait until queued events are sent (a short-lived process calls this before exiting)."""
    try:
        from prefect.events.worker import EventsWorker

        EventsWorker.drain_all(timeout=timeout)
    except Exception:  # pragma: no cover
        log.warning("could not flush events", exc_info=True)
