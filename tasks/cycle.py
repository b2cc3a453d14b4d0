"""Tasks of a reporting cycle. Work is done in batches (one task run per stage, not per file):
the Prefect server records only ~40 task runs a second, and one validation over the whole batch is
far cheaper than one per file."""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from baocao import pipeline
from baocao.settings import Settings


@task(name="open-cycle", cache_policy=NO_CACHE)
def open_cycle(s: Settings, period: str, now: datetime | None = None) -> list[dict]:
    return pipeline.open_cycle(pipeline.connection(s), period, now=now)


@task(name="close-cycle", cache_policy=NO_CACHE)
def close_cycle(s: Settings, period: str) -> int:
    return pipeline.close_cycle(pipeline.connection(s), period)


@task(name="collect", cache_policy=NO_CACHE)
def collect(s: Settings) -> int:
    return len(pipeline.collect(s))


@task(name="parse", cache_policy=NO_CACHE)
def parse(s: Settings) -> list:
    con = pipeline.connection(s)
    return [r for r, _ in pipeline.parse(pipeline.pending(con, s), con)]


@task(name="validate", cache_policy=NO_CACHE)
def validate(s: Settings, records: list) -> dict:
    return pipeline.validate(records, pipeline.connection(s))


@task(name="load", cache_policy=NO_CACHE, retries=1)
def load(s: Settings, records: list) -> dict:
    return pipeline.load(pipeline.connection(s), records)


@task(name="aggregate", cache_policy=NO_CACHE)
def aggregate(s: Settings) -> list[str]:
    return pipeline.aggregate(pipeline.connection(s))


@task(name="notify", cache_policy=NO_CACHE)
def notify(s: Settings, records: list, period: str | None, now: datetime | None = None) -> dict:
    con = pipeline.connection(s)
    n_feedback = pipeline.enqueue_feedback(con, s, records)
    n_schedule = pipeline.enqueue_schedule(con, period, now) if period else 0
    report = pipeline.dispatch(con)
    return {"feedback": n_feedback, "scheduled": n_schedule, "dispatch": report}


@task(name="publish", cache_policy=NO_CACHE)
def publish(s: Settings) -> str:
    return str(pipeline.publish_all(pipeline.connection(s), s))
