"""The processes `baocao serve` supervises, step by step: the Prefect server, the work pool and
the warehouse's concurrency limit, the deployments, a worker, the watcher. No typer and no Prefect
at module level (tests and the PostgreSQL helper in testing/ use these too)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]  # the project folder (prefect.yaml, flows/)
PREFECT_YAML = ROOT / "prefect.yaml"
QUIET_ENV = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false"}


# ------------------------------------------------------------------------------------ helpers


def project_config(path: Path = PREFECT_YAML) -> dict:
    """The work pool and the concurrency limit prefect.yaml's deployments use."""
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    pool = cfg["deployments"][0]["work_pool"]
    env = (pool.get("job_variables") or {}).get("env") or {}
    return {"pool": pool["name"], "limit": env.get("BAOCAO_WAREHOUSE_LIMIT"), "config": cfg}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **QUIET_ENV}
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


SLOT_WAIT_SETTING = "PREFECT_SERVER_CONCURRENCY_MAXIMUM_CONCURRENCY_SLOT_WAIT_SECONDS"


def prefect_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "prefect", *args]


def _log_to(log: Path | None) -> dict:
    """Popen's stdout/stderr: the log file when given (the operator's console shows baocao's own
    lines, not Prefect's banner and advice), else inherited."""
    if log is None:
        return {}
    log.parent.mkdir(parents=True, exist_ok=True)
    f = open(log, "ab")
    return {"stdout": f, "stderr": subprocess.STDOUT}


def start_server(host: str, port: int, ui: bool = True, env: dict | None = None,
                 log: Path | None = None) -> subprocess.Popen:
    """`prefect server start` (sqlite in $PREFECT_HOME unless PREFECT_API_DATABASE_CONNECTION_URL
    names a PostgreSQL database); its output goes to `log` when given."""
    args = ["server", "start", "--host", host, "--port", str(port), "--ui" if ui else "--no-ui"]
    env = dict(env or child_env())
    # A run refused the warehouse slot is told to retry after the limit's average occupancy,
    # capped by this setting (Prefect's default: 30 s, which once kept a unit's answer waiting
    # 63 s behind a 3 s refresh). baocao's slot is held for seconds: retry within one.
    env.setdefault(SLOT_WAIT_SETTING, "1")
    return subprocess.Popen(prefect_cmd(*args), env=env, stdin=subprocess.DEVNULL, **_log_to(log))


def wait_healthy(api_url: str, timeout: float = 240.0, proc: subprocess.Popen | None = None) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Prefect server exited with {proc.returncode}")
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"Prefect server at {api_url} not healthy after {timeout:.0f} s")


def ensure_pool_and_limit(api_url: str, pool: str, limit_name: str | None, pool_limit: int | None = None) -> None:
    """Create (or keep) the process work pool and the global concurrency limit (limit 1)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
        WorkPoolCreate,
    )
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.workers.process import ProcessWorker

    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        client.create_work_pool(
            WorkPoolCreate(
                name=pool,
                type="process",
                concurrency_limit=pool_limit,
                base_job_template=ProcessWorker.get_default_base_job_template(),
                description="baocao: flow runs as local processes (one per run)",
            ),
            overwrite=True,
        )
        if limit_name:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=limit_name, limit=1))
            except ObjectAlreadyExists:
                client.update_global_concurrency_limit(limit_name, GlobalConcurrencyLimitUpdate(limit=1, active=True))


def deploy(api_url: str, env: dict | None = None, cwd: Path = ROOT) -> None:
    """`prefect deploy --all` from the project folder (prefect.yaml). Its output (a table and
    advice about `prefect deployment run` for each deployment) is for Prefect's own users: it is
    kept from the operator unless the deploy fails, when its last lines become the error."""
    proc = subprocess.run(
        prefect_cmd("--no-prompt", "deploy", "--all"),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env or child_env(PREFECT_API_URL=api_url),
    )
    if proc.returncode != 0:
        tail = " | ".join(line.strip() for line in proc.stdout.strip().splitlines()[-8:] if line.strip())
        raise RuntimeError(f"prefect deploy thất bại (mã {proc.returncode}): {tail} / prefect deploy failed")


def start_worker(
    api_url: str,
    pool: str,
    home: Path,
    limit: int = 1,
    poll_seconds: float = 2.0,
    prefetch_seconds: int = 10,
    env: dict | None = None,
    log: Path | None = None,
) -> subprocess.Popen:
    """A process worker: each flow run is a fresh Python process started in the project folder;
    its output goes to `log` when given."""
    env = env or child_env()
    env.update(
        {
            "PREFECT_API_URL": api_url,
            "BAOCAO_HOME": str(home),
            "PREFECT_WORKER_QUERY_SECONDS": str(poll_seconds),
            "PREFECT_WORKER_PREFETCH_SECONDS": str(prefetch_seconds),
        }
    )
    args = [
        "--no-prompt",
        "worker",
        "start",
        "--pool",
        pool,
        "--type",
        "process",
        "--limit",
        str(limit),
        "--prefetch-seconds",
        str(prefetch_seconds),
    ]
    return subprocess.Popen(prefect_cmd(*args), cwd=ROOT, env=env, stdin=subprocess.DEVNULL, **_log_to(log))


def wait_worker(api_url: str, pool: str, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = httpx.post(f"{api_url}/work_pools/{pool}/workers/filter", json={}, timeout=5)
        if r.status_code == 200 and r.json():
            return
        time.sleep(0.5)
    raise TimeoutError(f"no worker polling work pool {pool} after {timeout:.0f} s")


def start_watcher(
    api_url: str, home: Path, interval: float, settle: float, env: dict | None = None,
    process: bool = False, limit: str | None = None,
) -> subprocess.Popen:
    env = env or child_env()
    env.update({"PREFECT_API_URL": api_url, "BAOCAO_HOME": str(home)})
    if limit:
        env["BAOCAO_WAREHOUSE_LIMIT"] = limit
    code = "from cli.app import app; app()"
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "watch",
            "--home",
            str(home),
            "--interval",
            str(interval),
            "--settle",
            str(settle),
            "--process" if process else "--no-process",
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def start_listener(api_url: str, home: Path, env: dict | None = None, limit: str | None = None) -> subprocess.Popen:
    """`baocao listen` (the Slack door) as a child of serve."""
    env = env or child_env()
    env.update({"PREFECT_API_URL": api_url, "BAOCAO_HOME": str(home)})
    if limit:
        env["BAOCAO_WAREHOUSE_LIMIT"] = limit
    code = "from cli.app import app; app()"
    return subprocess.Popen([sys.executable, "-c", code, "listen", "--home", str(home)], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL)


def stop_serve_group(proc: subprocess.Popen) -> None:
    """Stop a `baocao serve` started in its own process group: SIGTERM to serve (it stops its
    worker, watcher and server), then whatever is left of its group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        time.sleep(2)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def stop(procs: list[subprocess.Popen], timeout: float = 10.0) -> None:
    """Stop the processes we started, last started first (watcher, worker, then the server the
    others talk to): SIGTERM, then SIGKILL after `timeout` seconds. (Prefect 3.8's worker takes
    ~20 s to honour SIGTERM here; a flow run it started keeps running to its end.)"""
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)
