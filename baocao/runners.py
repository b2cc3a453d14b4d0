"""Which Prefect task runner spreads the validation chunks, chosen by the settings.

- default: chunks run one after another in the flow's process (Great Expectations is not used
  from several threads at once);
- BAOCAO_TASK_RUNNER=dask: prefect-dask's DaskTaskRunner. Validation chunks (BAOCAO_VALIDATION_CHUNK
  units each) are spread over Dask workers: a local cluster of BAOCAO_DASK_WORKERS processes, or an
  existing scheduler at BAOCAO_DASK_ADDRESS (workers on other hosts). Chunks carry the whole batch's
  peer statistics, so the findings are the same as in one piece.

The runner is built per run from the `Settings` handed in (not when a module is imported);
Prefect and prefect-dask are imported only when a runner is built.
"""

from __future__ import annotations

from baocao.settings import Settings


def task_runner(s: Settings):
    if s.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        if s.dask_address:
            return DaskTaskRunner(address=s.dask_address)
        return DaskTaskRunner(cluster_kwargs={
            "n_workers": s.dask_workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None})
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=1)
