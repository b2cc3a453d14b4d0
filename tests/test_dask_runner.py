"""The cycle with prefect-dask's task runner (BAOCAO_TASK_RUNNER=dask): validation chunks run on
Dask worker processes and the findings equal those of the default in-process run."""

from __future__ import annotations

import shutil

from baocao.resources import live
from baocao.settings import settings
from testing import demo


def _outcome(s) -> dict:
    with live(s) as res:
        rows = res.con().execute("""select s.unit_code, s.file_name, s.status,
                                 list(f.severity || ':' || f.rule_id || ':' || coalesce(f.cell, '') order by f.seq)
                          from raw.submission s left join raw.finding f using (submission_id)
                          group by all""").fetchall()
    return {(u, f): (st, sorted(x for x in fs if x)) for u, f, st, fs in rows}


def test_dask_workers_validate_the_same_way(tmp_path, prefect_harness, monkeypatch):
    from prefect_dask import DaskTaskRunner

    from flows.cycle import reporting_cycle

    inbox = tmp_path / "generated"
    demo.generate(inbox, "2026H1")
    homes = {}
    for name in ("default", "dask"):
        s = settings(tmp_path / name)
        shutil.copytree(inbox, s.inbox)
        homes[name] = s
    reporting_cycle("2026H1", str(homes["default"].home))
    monkeypatch.setenv("BAOCAO_VALIDATION_CHUNK", "40")  # 140 submissions -> chunks of 40 units
    runner = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True,
                                            "dashboard_address": None})
    result = reporting_cycle.with_options(task_runner=runner)("2026H1", str(homes["dask"].home))
    assert result["validation"]["chunks"] >= 4
    default, dask = _outcome(homes["default"]), _outcome(homes["dask"])
    assert dask == default
    assert any(st == "rejected" for st, _ in dask.values())
    assert any(any(x.startswith("warning") for x in fs) for _, fs in dask.values())
