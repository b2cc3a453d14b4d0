"""prefect.yaml without a server: every deployment imports and is described, every schedule fires
on the days baocao.calendar says, every trigger matches an event the code really emits and every
parameter template renders against it with Prefect's own code. Also the inbox watcher."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import os
import random
import re
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

import catalog
from baocao import calendar
from baocao import events as ev
from baocao.services import cycles as plan
from intake.store import store_files

ROOT = Path(__file__).resolve().parents[1]
CFG = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
DEPLOYMENTS = {d["name"]: d for d in CFG["deployments"]}
TZ = calendar.TZ
CAT = catalog.load()
PERIODS = ("2026H1", "2026H2", "2026", "2027H1", "2027")


# ------------------------------------------------------------------------------------ helpers


def workbook(unit: str, period: str = "2026H1", dataset: str = "XA_6T", bad: bool = False):
    """A filled-in commune workbook (values as the demo makes them); `bad`: text in a number cell."""
    from intake.template import build_template
    from testing import demo

    values = demo.commune_values(random.Random(f"{demo.SEED}:{unit}"))
    if bad:
        values = dict(values, POP_INSURED="khoảng 9 nghìn")
    tasks = {(t.plan_code, t.task_no): "Hoàn thành" for t in CAT.tasks_for(dataset, unit)}
    texts = {x["code"]: "Hoàn thành các chỉ tiêu." for x in CAT.narrative_sections}
    return build_template(unit, period, dataset, cat=CAT, values=values, tasks=tasks, texts=texts)


def drop(s, unit: str, name: str, **kw) -> Path:
    from intake.watch import copy_into_inbox

    src = s.home / "drafts" / name
    src.parent.mkdir(parents=True, exist_ok=True)
    workbook(unit, **kw).save(src)
    return copy_into_inbox(src, unit, s)


def local(d: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=TZ)


def fires(name: str, start: datetime, end: datetime) -> list[tuple[datetime, dict]]:
    """When a deployment's schedules fire in [start, end], and with which parameters, computed by
    Prefect's server-side schedule from the schedule as `prefect deploy` reads it."""
    from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
    from prefect.server.schemas.schedules import CronSchedule

    dep = DEPLOYMENTS[name]
    out = []
    for sc in dep.get("schedules") or []:
        converted = _schedule_config_to_deployment_schedule(dict(sc))
        server = CronSchedule(**converted["schedule"].model_dump())
        for d in asyncio.run(server.get_dates(n=1000, start=start, end=end)):
            out.append(
                (
                    datetime.fromtimestamp(d.timestamp(), TZ),
                    {**(dep.get("parameters") or {}), **(sc.get("parameters") or {})},
                )
            )
    return sorted(out, key=lambda x: x[0])


def cycles(periods=PERIODS):
    for code in periods:
        per = calendar.parse_period(code)
        for ds in CAT.datasets.values():
            if ds.frequency == per.kind:
                yield per, ds, calendar.DeadlineRule.from_dict(ds.deadline)


def opening(per, rule) -> datetime:
    """The open pass that opens this cycle (asserted in test_open_passes_open_each_period_on_time)."""
    name = "open-six-monthly-cycle" if per.kind == "H" else "open-annual-cycle"
    day = calendar.open_at(per, rule).date()
    hits = [
        (t, p)
        for t, p in fires(name, local(day), local(day, 23, 59))
        if p["kind"] == per.kind and p["semantic"] == rule.semantic
    ]
    assert len(hits) == 1, (per, rule, hits)
    return hits[0][0]


# --------------------------------------------------------------------------------- structure


def test_every_deployment_imports_is_described_and_shares_the_definitions(monkeypatch):
    from prefect.flows import load_flow_from_entrypoint

    monkeypatch.chdir(ROOT)
    pool = CFG["definitions"]["work_pools"]["baocao"]
    assert pool["job_variables"]["env"]["BAOCAO_WAREHOUSE_LIMIT"]
    for name, dep in DEPLOYMENTS.items():
        assert len((dep.get("description") or "").strip()) > 40, name
        assert dep["work_pool"] is pool, f"{name} does not use the definitions' work pool"
        assert "baocao" in dep["tags"]
        flow = load_flow_from_entrypoint(dep["entrypoint"])
        accepted = set(inspect.signature(flow.fn).parameters)
        params = [dep.get("parameters") or {}]
        params += [sc.get("parameters") or {} for sc in dep.get("schedules") or []]
        params += [tr.get("parameters") or {} for tr in dep.get("triggers") or []]
        for p in params:
            assert set(p) <= accepted, (name, set(p) - accepted)
        for sc in dep.get("schedules") or []:
            assert sc["timezone"] == "Asia/Ho_Chi_Minh", (name, sc)
            assert sc.get("slug"), (name, sc)
        assert dep.get("schedules") or dep.get("triggers"), f"{name} never runs"


def test_daily_passes_match_the_plan_interval():
    for name in ("cycle-reminders", "close-cycle"):
        times = [t for t, _ in fires(name, local(date(2027, 1, 1)), local(date(2027, 3, 1)))]
        assert {b - a for a, b in itertools.pairwise(times)} == {plan.PASS_INTERVAL}, name


# ---------------------------------------------------------------------------------- schedules


def test_open_passes_open_each_period_on_time():
    for per, ds, rule in cycles():
        fire = opening(per, rule)
        assert fire.date() == calendar.open_at(per, rule).date()
        assert plan.period_to_open(fire, per.kind, rule.semantic) == per.code
        assert ds.code in plan.datasets_to_open(CAT, per.kind, rule.semantic)
    h1 = calendar.parse_period("2026H1")
    assert opening(h1, calendar.DeadlineRule.from_dict(CAT.datasets["XA_6T"].deadline)) == local(date(2026, 7, 1), 7)
    assert opening(h1, calendar.DeadlineRule.from_dict(CAT.datasets["SYT_6T"].deadline)) == local(date(2026, 6, 15), 7)


def test_no_open_pass_opens_a_period_twice_or_a_wrong_one():
    seen = set()
    for name in ("open-six-monthly-cycle", "open-annual-cycle"):
        for t, p in fires(name, local(date(2026, 1, 1)), local(date(2028, 12, 31))):
            key = (plan.period_to_open(t, p["kind"], p["semantic"]), p["semantic"])
            assert key not in seen, key
            seen.add(key)


def simulate(per, ds, rule):
    """Run the reminder and close passes' plans over the cycle's life, as the schedules fire."""
    opened = opening(per, rule)
    row = plan.CycleRow(per.code, ds.code, calendar.deadline(per, rule), calendar.close_at(per, rule), opened)
    end = row.close_at + timedelta(days=3)
    emitted = []
    for t, _ in fires("cycle-reminders", opened, end):
        if t <= row.close_at:
            emitted += [(t, s.event, s.payload.get("stage")) for s in plan.due_cycle_events([row], t)]
    closes = [t for t, _ in fires("close-cycle", opened, end) if plan.due_closings([row], t)]
    return row, emitted, closes[0]


def test_reminder_and_close_passes_follow_the_calendar():
    for per, ds, rule in cycles():
        row, emitted, closed = simulate(per, ds, rule)
        opened = row.opened_at.date()
        reminders = [(t.date(), stage) for t, name, stage in emitted if name == ev.DEADLINE_APPROACHING]
        passed = [t for t, name, _ in emitted if name == ev.DEADLINE_PASSED]
        due = calendar.deadline_date(per, rule)
        # the reminder pass fires on each reminder day baocao.calendar gives
        days = {t.date() for t, _ in fires("cycle-reminders", local(due - timedelta(days=8)), local(due))}
        assert set(calendar.reminder_dates(per, rule)) <= days
        # d-1 the day before the deadline; d-7 seven days before, or at the opening if later
        d1 = due - timedelta(days=1)
        assert (d1, "d-1") in reminders or d1 < opened, (per, ds.code, reminders)
        d7 = max(due - timedelta(days=7), opened)
        assert (d7, "d-7") in reminders or d7 == max(d1, opened), (per, ds.code, reminders)
        assert len(reminders) == len(set(reminders)) and all(opened <= d <= due for d, _ in reminders)
        assert passed == [local(due + timedelta(days=1), 8)], (per, ds.code, passed)
        assert closed == local(row.close_at.date() + timedelta(days=1), 0, 30), (per, ds.code, closed)


def test_2026h1_commune_cycle():
    per = calendar.parse_period("2026H1")
    rule = calendar.DeadlineRule.from_dict(CAT.datasets["XA_6T"].deadline)
    _row, emitted, closed = simulate(per, CAT.datasets["XA_6T"], rule)
    assert calendar.reminder_dates(per, rule) == [date(2026, 6, 30), date(2026, 7, 6)]
    # 30 Jun is before the cycle opens (1 Jul): d-7 goes out with the opening, on the first pass
    assert [(t, n, st) for t, n, st in emitted] == [
        (local(date(2026, 7, 1), 8), ev.DEADLINE_APPROACHING, "d-7"),
        (local(date(2026, 7, 6), 8), ev.DEADLINE_APPROACHING, "d-1"),
        (local(date(2026, 7, 8), 8), ev.DEADLINE_PASSED, None),
    ]
    assert closed == local(date(2026, 7, 15), 0, 30)


def test_2026_provincial_statistics_deadline_counts_working_days_across_tet_2027():
    per = calendar.parse_period("2026")
    rule = calendar.DeadlineRule.from_dict(CAT.datasets["TK_NAM"].deadline)
    assert calendar.deadline_date(per, rule) == date(2027, 2, 12)
    row, emitted, closed = simulate(per, CAT.datasets["TK_NAM"], rule)
    assert row.opened_at == local(date(2027, 1, 1), 7, 10)
    assert [(t, n, st) for t, n, st in emitted] == [
        (local(date(2027, 2, 5), 8), ev.DEADLINE_APPROACHING, "d-7"),
        (local(date(2027, 2, 11), 8), ev.DEADLINE_APPROACHING, "d-1"),
        (local(date(2027, 2, 13), 8), ev.DEADLINE_PASSED, None),
    ]
    assert closed == local(date(2027, 2, 23), 0, 30)  # 12 Feb + 10 grace days, closed after midnight


# ----------------------------------------------------------------------------------- triggers


@pytest.fixture(scope="module")
def emitted(tmp_path_factory):
    """The events the code really emits for two files, through the watcher and the load task."""
    import tasks.cycle as t
    from baocao.resources import RecordingEvents, live
    from baocao.services import cycles
    from baocao.settings import settings
    from intake import watch

    s = settings(tmp_path_factory.mktemp("events"))
    res = live(s, events=RecordingEvents())
    cycles.open_cycle(res, "2026H1")
    drop(s, "LD.24781", "good.xlsx")
    drop(s, "LD.24787", "bad.xlsx", bad=True)
    specs: list[ev.EventSpec] = []

    def capture(spec):
        specs.append(spec)
        return spec

    report = watch.poll(s, settle_seconds=0, emit=capture)
    assert len(report.announced) == 2
    records = t.parse.fn(res)
    specs += [ev.submission_outcome(r) for r in records]
    t.load.fn(res, records)
    t.enqueue.fn(res, records, None)
    t.dispatch.fn(res)  # hands the outbox to delivery: baocao.outbox.enqueued
    specs += res.events.specs
    res.close()
    return specs


def _received(spec: ev.EventSpec):
    from prefect.events.schemas.events import Event
    from prefect.server.events.schemas.events import ReceivedEvent

    event = Event(event=spec.event, resource=spec.resource, related=spec.related, payload=spec.payload)
    return ReceivedEvent(**event.model_dump(), received=datetime.now(UTC))


def render(automation, event, parameters: dict) -> dict:
    """What the server's RunDeployment action does with the trigger's parameters."""
    from prefect.server.events.actions import RunDeployment
    from prefect.server.events.schemas.automations import TriggeredAction

    action = RunDeployment(source="selected", deployment_id=uuid.uuid4(), parameters=parameters)
    triggered = TriggeredAction(
        automation=automation, triggered=datetime.now(UTC), triggering_labels={}, triggering_event=event, action=action
    )
    return asyncio.run(action.render_parameters(triggered))


def server_automations():
    from prefect.cli.deploy._triggers import _initialize_deployment_triggers
    from prefect.server.events.schemas.automations import Automation

    for name, dep in DEPLOYMENTS.items():
        for trig in _initialize_deployment_triggers(name, [dict(x) for x in dep.get("triggers") or []]):
            trig.set_deployment_id(uuid.uuid4())
            auto = trig.as_automation()
            yield name, dep, Automation.model_validate({**auto.model_dump(mode="json"), "id": str(uuid.uuid4())})


def test_every_trigger_matches_emitted_events_and_its_templates_render(emitted, monkeypatch):
    from prefect.flows import load_flow_from_entrypoint

    monkeypatch.chdir(ROOT)
    events = [_received(s) for s in emitted]
    assert {e.event for e in events} == {
        ev.SUBMISSION_RECEIVED,
        ev.SUBMISSION_VALIDATED,
        ev.SUBMISSION_REJECTED,
        ev.SUBMISSION_LOADED,
        ev.OUTBOX_ENQUEUED,
    }
    checked = {}
    for name, dep, automation in server_automations():
        trigger = automation.trigger
        assert set(trigger.expect) <= set(ev.NAMES), (name, trigger.expect)
        covered = [e for e in events if trigger.covers(e)]
        assert covered, f"{name}: no emitted event matches {trigger.expect} {trigger.match}"
        assert {e.event for e in covered} == set(trigger.expect)
        params = automation.actions[0].parameters
        flow = load_flow_from_entrypoint(dep["entrypoint"])
        for e in covered:
            rendered = render(automation, e, params)
            # each {{ … }} alone too: a name missing from the event renders to "" inside a longer
            # string, but fails the automation when it is a parameter's whole value
            for key, tmpl in params.items():
                for expr in re.findall(r"{{.*?}}", tmpl):
                    alone = render(automation, e, {key: expr})[key]
                    assert alone not in ("", None), (name, key, expr)
            flow.validate_parameters({**(dep.get("parameters") or {}), **rendered})
            checked.setdefault(name, []).append((e, rendered))
    assert set(checked) == {"process-submission", "refresh-aggregates", "deliver-notifications"}
    assert [p["reason"] for _, p in checked["deliver-notifications"]] == ["baocao.outbox.enqueued (2 new)"]
    for e, p in checked["process-submission"]:
        assert p["submission_id"] == e.resource["baocao.submission.id"]
        assert e.resource["baocao.unit"] in p["triggered_by"] and str(e.occurred.year) in p["triggered_by"]
    assert sorted(p["reason"].split()[-1] for _, p in checked["refresh-aggregates"]) == ["(accepted)", "(rejected)"]


def test_a_template_naming_a_missing_field_is_caught(emitted):
    _, _, automation = next(server_automations())
    event = _received(emitted[0])
    for bad in ("{{ event.resource['baocao.nope'] }}", "{{ event.occurred }}", "{{ event.id }}"):
        with pytest.raises(Exception):  # noqa: B017 - Prefect raises its own hydration errors
            render(automation, event, {"x": bad})
    assert render(automation, event, {"x": "{{ event.occurred | string }}"})["x"].startswith(str(event.occurred.year))


def test_received_events_carry_the_labels(emitted):
    rec = [s for s in emitted if s.event == ev.SUBMISSION_RECEIVED]
    units = {s.resource["baocao.unit"] for s in rec}
    assert units == {"LD.24781", "LD.24787"}
    for s in rec:
        assert s.resource_id == f"baocao.submission.{s.resource['baocao.submission.id']}"
        assert s.resource["baocao.dataset"] == "XA_6T" and s.resource["baocao.period"] == "2026H1"
        assert {r["prefect.resource.id"] for r in s.related} == {
            f"baocao.unit.{s.resource['baocao.unit']}",
            "baocao.cycle.2026H1.XA_6T",
        }
    loaded = {s.resource["baocao.unit"]: s.payload for s in emitted if s.event == ev.SUBMISSION_LOADED}
    assert loaded["LD.24781"]["status"] == "accepted" and loaded["LD.24781"]["version"] == 1
    assert loaded["LD.24787"]["status"] == "rejected" and "V01" in loaded["LD.24787"]["rule_ids"]


def test_emitting_without_a_server_sends_nothing_and_never_fails(monkeypatch, caplog):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    code = (
        "from baocao import events as ev; import prefect.events.worker as w;"
        "print(ev.enabled(), ev.emit(ev.aggregates_published('x')), w.EventsWorker._instances)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert out.split() == ["False", "None", "{}"]

    import prefect.events

    def broken(**kw):
        raise RuntimeError("no server")

    monkeypatch.setattr(ev, "enabled", lambda: True)
    monkeypatch.setattr(prefect.events, "emit_event", broken)
    assert ev.emit(ev.aggregates_published("x")) is None


# ------------------------------------------------------------------------------------- watcher


def test_watcher_stores_announces_and_recognises_the_same_file(tmp_path):
    from baocao.settings import settings
    from intake import watch

    s = settings(tmp_path)
    sent = []
    first = drop(s, "LD.24781", "XA_6T_LD.24781_2026H1.xlsx")
    r1 = watch.poll(s, settle_seconds=0, emit=lambda spec: sent.append(spec) or spec)
    assert [t.new for t in r1.taken] == [True] and len(sent) == 1 and not first.exists()
    sid = r1.taken[0].stored.submission_id
    # the same file again (another name): same submission, removed from the inbox, not announced
    # (the same bytes: a workbook saved again carries a new timestamp, so copy the first one)
    copy = s.home / "drafts" / "copy.xlsx"
    copy.write_bytes((s.home / "drafts" / "XA_6T_LD.24781_2026H1.xlsx").read_bytes())
    watch.copy_into_inbox(copy, "LD.24781", s)
    r2 = watch.poll(s, settle_seconds=0, emit=lambda spec: sent.append(spec) or spec)
    assert r2.duplicates == [sid] and r2.announced == [] and len(sent) == 1
    assert not any((s.inbox / "LD.24781").iterdir())
    assert [f.unit_code for f in store_files(s.store)] == ["LD.24781"]


def test_watcher_waits_for_files_still_being_written_and_retries_unsent(tmp_path):
    from baocao.settings import settings
    from intake import watch

    s = settings(tmp_path)
    path = drop(s, "LD.24778", "a.xlsx")
    assert watch.poll(s, settle_seconds=60, emit=lambda spec: spec).skipped == [str(path)]
    os.utime(path, (path.stat().st_atime - 120, path.stat().st_mtime - 120))
    r = watch.poll(s, settle_seconds=60, emit=lambda spec: None)  # no Prefect API: nothing sent
    assert len(r.taken) == 1 and r.announced == []
    r = watch.poll(s, settle_seconds=60, emit=lambda spec: spec)  # later: announced from the store
    assert r.taken == [] and r.announced == [r.announced[0]] and len(r.announced) == 1


def test_watcher_adopts_an_existing_store(tmp_path):
    from baocao.resources import live
    from baocao.services import process
    from baocao.settings import settings
    from intake import watch

    s = settings(tmp_path)
    drop(s, "LD.24805", "old.xlsx")
    process.collect(live(s))  # collected before any watcher ran
    drop(s, "LD.24846", "new.xlsx")
    r = watch.poll(s, settle_seconds=0, emit=lambda spec: spec)
    assert [x.stored.unit_code for x in r.taken] == ["LD.24846"] and len(r.announced) == 1


def test_watcher_takes_files_from_an_fsspec_url(tmp_path):
    import fsspec

    from baocao.settings import settings
    from intake import watch

    s = settings(tmp_path)
    fs = fsspec.filesystem("memory")
    src = tmp_path / "w.xlsx"
    workbook("LD.24823").save(src)
    fs.pipe("/inbox-test/LD.24823/w.xlsx", src.read_bytes())
    sent = []
    r = watch.poll(s, inbox_url="memory://inbox-test", settle_seconds=0, emit=lambda x: sent.append(x) or x)
    assert [x.stored.unit_code for x in r.taken] == ["LD.24823"] and not fs.exists("/inbox-test/LD.24823/w.xlsx")
    assert sent[0].resource["baocao.dataset"] == "XA_6T"


@pytest.fixture(scope="module")
def warm_emitted(tmp_path_factory):
    """The events of the warm path (tasks.warm: the web answerer, the Slack listener, `watch
    --process`) for two files: announced as warm, then one pass in-process."""
    from baocao.resources import RecordingEvents, live
    from baocao.services import cycles
    from baocao.settings import settings
    from intake import watch
    from tasks.warm import answer_pending

    s = settings(tmp_path_factory.mktemp("warm-events"))
    res = live(s, events=RecordingEvents())
    cycles.open_cycle(res, "2026H1")
    drop(s, "LD.24781", "good.xlsx")
    drop(s, "LD.24787", "bad.xlsx", bad=True)
    specs: list[ev.EventSpec] = []
    report = watch.poll(s, settle_seconds=0, emit=lambda spec: specs.append(spec) or spec, warm=True)
    assert len(report.announced) == 2
    records = answer_pending(res)
    assert len(records) == 2
    assert not isinstance(res.events, ev.WarmEvents)  # the pass's label is gone with the pass
    specs += res.events.specs
    res.close()
    return specs


def test_a_file_the_warm_path_takes_starts_no_per_file_run(emitted, warm_emitted):
    """process-submission, deliver-notifications and refresh-aggregates ignore the warm path's
    events (it answers, delivers and refreshes itself); they still take the inbox path's."""
    warm = [_received(s) for s in warm_emitted]
    cold = [_received(s) for s in emitted]
    assert {e.event for e in warm} == {e.event for e in cold}
    assert all(e.resource[ev.PATH_LABEL] == ev.WARM for e in warm)
    assert all(e.resource[ev.PATH_LABEL] == ev.DEPLOYMENT for e in cold)
    covers = {name: automation.trigger.covers for name, _, automation in server_automations()}
    for name in ("process-submission", "deliver-notifications", "refresh-aggregates"):
        assert not [e.event for e in warm if covers[name](e)], name
        assert [e for e in cold if covers[name](e)], name
