"""Which Prefect task runner the cycle uses, chosen by configuration.

- default: tasks run one after another in the flow's process (the cycle is a sequence of batch
  stages; Great Expectations is not used from several threads at once);
- BAOCAO_TASK_RUNNER=dask: prefect-dask's DaskTaskRunner. Validation chunks (BAOCAO_VALIDATION_CHUNK
  units each) are spread over Dask workers: a local cluster of BAOCAO_DASK_WORKERS processes, or an
  existing scheduler at BAOCAO_DASK_ADDRESS (workers on other hosts). Chunks carry the whole batch's
  peer statistics, so the findings are the same as in one piece.
"""

from __future__ import annotations

import os

from prefect.task_runners import ThreadPoolTaskRunner


def chunk_size() -> int:
    return int(os.environ.get("BAOCAO_VALIDATION_CHUNK", "0") or 0)


def task_runner():
    kind = os.environ.get("BAOCAO_TASK_RUNNER", "").strip().lower()
    if kind == "dask":
        from prefect_dask import DaskTaskRunner

        address = os.environ.get("BAOCAO_DASK_ADDRESS")
        if address:
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(cluster_kwargs={
            "n_workers": int(os.environ.get("BAOCAO_DASK_WORKERS", "2")), "threads_per_worker": 1,
            "processes": True, "dashboard_address": None})
    if kind not in ("", "default", "thread"):
        raise ValueError(f"BAOCAO_TASK_RUNNER={kind!r}: dùng 'dask' hoặc để trống / use 'dask' or leave it empty")
    return ThreadPoolTaskRunner(max_workers=1)
