"""What the Prefect UI shows after a cycle run and a reminder pass, read back from the Prefect API
of the test harness: task runs named by what they did, a completeness artifact with percentages
and the units without an accepted version, a table artifact of the reminders queued, and a log
line per unit reminded."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from datetime import UTC, datetime, time, timedelta

from baocao.resources import FixedClock, RecordingEvents, Resources
from baocao.text import TZ
from testing import demo
from testing.sender import RecordingSender

KEEP = 5


def _api(coro_fn):
    from prefect.client.orchestration import get_client

    async def go():
        async with get_client() as client:
            return await coro_fn(client)

    return asyncio.run(go())


def test_runs_tell_the_story(tmp_path, prefect_harness, monkeypatch):
    for k in [k for k in os.environ if k.startswith(("BAOCAO_", "SLACK_"))]:
        monkeypatch.delenv(k)
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
        FlowRunFilter,
        FlowRunFilterId,
    )

    from flows.cycle import cycle_reminders, reporting_cycle

    opened = datetime(2026, 7, 2, 3, 0, tzinfo=UTC)  # the cycle opens before its deadline
    clock = FixedClock(opened)
    res = Resources.fake(tmp_path / "home", clock=clock, sender=RecordingSender(), events=RecordingEvents())
    plan = demo.generate(tmp_path / "generated", "2026H1", with_problems=False)
    kept = sorted({f["unit"] for f in plan.files if f["dataset"] == "XA_6T"})[:KEEP]
    for unit in kept:
        shutil.copytree(tmp_path / "generated" / unit, res.store.inbox / unit)

    with res:
        state = reporting_cycle("2026H1", resources=res, return_state=True)
        result = state.result()
        assert result["collected"] == KEEP
        flow_run_id = state.state_details.flow_run_id
        deadline = res.con().execute(
            "select deadline_at from ops.cycle where period = '2026H1' and dataset_code = 'XA_6T'").fetchone()[0]
        expected = res.con().execute("select expected from marts.reporting_rate where period = '2026H1' and "
                                     "dataset_code = 'XA_6T'").fetchone()[0]
        missing = [u for (u,) in res.con().execute(
            "select unit_code from marts.reporting_completeness where period = '2026H1' and dataset_code = 'XA_6T'"
            " and not is_received order by 1").fetchall()][:3]
        # 01:00 on the day before the deadline: the d-1 reminder to every commune that has not sent
        day_before = deadline.astimezone(TZ).date() - timedelta(days=1)
        reminder_state = cycle_reminders("2026H1", resources=res, now=datetime.combine(day_before, time(1), TZ),
                                         return_state=True)
        reminded = reminder_state.result()["reminded"]["2026H1"]
        assert reminded >= expected - KEEP > 0

    task_runs = _api(lambda c: c.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))))
    names = {t.name for t in task_runs}
    assert f"validate XA_6T 2026H1 ({KEEP} submissions)" in names, sorted(names)
    assert f"load {KEEP} submissions" in names and "open 2026H1" in names, sorted(names)
    assert not any(n.endswith(tuple(f"-{i}" for i in range(10))) and n.split("-")[0] in ("notify", "validate")
                   for n in names), sorted(names)

    def artifact(key, run_id):  # this run's artifact (other tests' runs share the harness's API)
        arts = _api(lambda c: c.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[key]), flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))))
        assert len(arts) == 1, arts
        return arts[0].data

    md = artifact("completeness-2026h1", flow_run_id)
    assert "| XA_6T |" in md and "%" in md and "chưa nộp" in md
    assert all(u in md for u in missing), md[:2000]
    table = json.loads(artifact("reminders-2026h1", reminder_state.state_details.flow_run_id))
    assert len(table) == reminded and {row["loại"] for row in table} == {"nhắc hạn"}
    reminded_units = {row["đơn vị báo cáo"] for row in table}
    assert set(missing) <= reminded_units and not set(kept) & reminded_units  # who had not sent, only them
