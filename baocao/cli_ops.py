"""`baocao watch` and `baocao serve`: event-driven operation on a real Prefect server.

    baocao serve --home /srv/baocao          # Prefect server on 127.0.0.1, work pool, deployments,
                                             # worker and inbox watcher, in the foreground
    baocao watch --home /srv/baocao          # only the watcher (server and workers run elsewhere)

The helpers (start_server, ensure_pool_and_limit, deploy, start_worker) are what `serve` does step
by step; tests/test_prefect_server.py drives `serve` itself. Nothing here imports Prefect at module
level, so `baocao --help` stays fast (docs/operations.md).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import typer
import yaml

from baocao.cli import HomeOpt, app, console
from baocao.escape import console_text
from baocao.settings import settings

ROOT = Path(__file__).resolve().parents[1]
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


def start_server(host: str, port: int, ui: bool = True, env: dict | None = None) -> subprocess.Popen:
    """`prefect server start` (sqlite in $PREFECT_HOME unless PREFECT_API_DATABASE_CONNECTION_URL
    names a PostgreSQL database)."""
    args = ["server", "start", "--host", host, "--port", str(port), "--ui" if ui else "--no-ui"]
    env = dict(env or child_env())
    # A run refused the warehouse slot is told to retry after the limit's average occupancy,
    # capped by this setting (Prefect's default: 30 s, which once kept a unit's answer waiting
    # 63 s behind a 3 s refresh). baocao's slot is held for seconds: retry within one.
    env.setdefault(SLOT_WAIT_SETTING, "1")
    return subprocess.Popen(prefect_cmd(*args), env=env, stdin=subprocess.DEVNULL)


def wait_healthy(api_url: str, timeout: float = 90.0, proc: subprocess.Popen | None = None) -> None:
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
    """`prefect deploy --all` from the project folder (prefect.yaml)."""
    subprocess.run(
        prefect_cmd("--no-prompt", "deploy", "--all"),
        cwd=cwd,
        check=True,
        stdin=subprocess.DEVNULL,
        env=env or child_env(PREFECT_API_URL=api_url),
    )


def start_worker(
    api_url: str,
    pool: str,
    home: Path,
    limit: int = 1,
    poll_seconds: float = 2.0,
    prefetch_seconds: int = 10,
    env: dict | None = None,
) -> subprocess.Popen:
    """A process worker: each flow run is a fresh Python process started in the project folder."""
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
    return subprocess.Popen(prefect_cmd(*args), cwd=ROOT, env=env, stdin=subprocess.DEVNULL)


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
    code = "from baocao.cli import app; app()"
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


# ----------------------------------------------------------------------------------- commands


@app.command()
def watch(
    home: Path = HomeOpt,
    inbox: str = typer.Option(
        None,
        "--inbox",
        help="Hộp thư: thư mục hoặc URL fsspec (mặc định <home>/inbox)"
        " / inbox folder or fsspec URL (sftp://…, s3://…).",
    ),
    interval: float = typer.Option(2.0, help="Giây giữa hai lần quét / seconds between polls."),
    settle: float = typer.Option(1.0, help="Tệp phải yên bao nhiêu giây mới nhận / seconds a file must be unchanged."),
    once: bool = typer.Option(False, "--once", help="Quét một lần rồi thoát / poll once and exit."),
    process: bool = typer.Option(
        False, "--process/--no-process",
        help="Xử lý ngay trong tiến trình này (nhanh) / answer new files at once in this warm process;"
        " the triggered deployment then finds nothing left to do.",
    ),
) -> None:
    """Theo dõi hộp thư, nhận tệp và báo cho Prefect / watch the inbox, store new files, emit
    baocao.submission.received for each (and with --process, validate, load and answer them at once)."""
    from baocao import events as ev
    from intake import watch as watch_mod

    s = settings(home)
    if not ev.enabled():
        console.print(
            "PREFECT_API_URL chưa đặt: tệp được nhận nhưng không gửi sự kiện (chạy `baocao process`)"
            " / PREFECT_API_URL not set: files are stored but no events are sent."
        )

    def show(report: watch_mod.PollReport) -> None:
        for t in report.taken:
            what = "mới / new" if t.new else "trùng / duplicate"
            console.print(console_text(f"{t.stored.unit_code} {t.stored.file_name} → {t.stored.submission_id} ({what})"))
        for line in report.refused:
            console.print(console_text(line), soft_wrap=True)
        for sid in report.announced:
            console.print(f"baocao.submission.received {sid}")
        if process and any(t.new for t in report.taken):
            # fast path: this process already has Prefect and Great Expectations imported; it
            # takes the warehouse slot like any run, so the triggered run finds nothing pending
            from flows.cycle import process_submissions

            result = process_submissions(str(s.home), refresh=False, triggered_by="watcher")
            console.print(f"đã xử lý / processed {result.get('processed', 0)}")

    try:
        watch_mod.watch(s, inbox_url=inbox, interval=interval, settle_seconds=settle, once=once, on_poll=show)
    except KeyboardInterrupt:
        ev.flush()


@app.command()
def serve(
    home: Path = HomeOpt,
    host: str = typer.Option("127.0.0.1", help="Địa chỉ máy chủ Prefect / Prefect server host."),
    port: int = typer.Option(4200, help="Cổng (0: cổng trống bất kỳ) / port (0: any free port)."),
    api_url: str = typer.Option(
        None,
        "--api-url",
        help="Dùng máy chủ Prefect có sẵn / use a running server (e.g. one on PostgreSQL) instead of starting one.",
    ),
    ui: bool = typer.Option(True, help="Bật giao diện web / serve the dashboard."),
    worker_limit: int = typer.Option(
        1,
        help="Số lượt chạy đồng thời của worker / worker's concurrent runs"
        " (runs share one warehouse writer; see docs/operations.md).",
    ),
    poll: float = typer.Option(2.0, help="Giây giữa hai lần worker hỏi việc / worker poll interval."),
    prefetch: int = typer.Option(10, help="Worker nhận trước lượt chạy sắp tới (giây) / prefetch seconds."),
    watch_inbox: bool = typer.Option(
        True, "--watch/--no-watch", help="Chạy cả bộ theo dõi hộp thư / also run the inbox watcher."
    ),
    run_worker: bool = typer.Option(
        True, "--worker/--no-worker",
        help="Chạy worker trên máy này / run a worker here (--no-worker: server host only, workers elsewhere).",
    ),
    interval: float = typer.Option(1.0, help="Giây giữa hai lần quét hộp thư / watcher poll interval."),
    settle: float = typer.Option(0.5, help="Giây tệp phải yên / seconds a file must be unchanged."),
    fast: bool = typer.Option(
        True, "--fast/--no-fast",
        help="Bộ theo dõi tự xử lý tệp mới trong tiến trình đã nạp sẵn / the watcher answers new files in its"
        " warm process (seconds instead of a fresh worker process per run); deployments stay the backstop.",
    ),
) -> None:
    """Chạy hệ thống theo sự kiện trên máy này / run event-driven: Prefect server, work pool,
    deployments (prefect.yaml), a process worker and the inbox watcher, until Ctrl-C."""
    s = settings(home)
    s.home.mkdir(parents=True, exist_ok=True)
    cfg = project_config()
    procs: list[subprocess.Popen] = []

    def on_term(signum, frame):  # SIGTERM: stop like Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        if api_url is None:
            if "postgresql" not in os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL", ""):
                console.print(
                    "Máy chủ Prefect dùng SQLite: đủ để thử; khi vận hành hãy dùng PostgreSQL"
                    " / the Prefect server runs on SQLite: fine for a trial; use PostgreSQL in operation"
                    " (PREFECT_API_DATABASE_CONNECTION_URL, docs/operations.md)."
                )
            port = port or free_port(host)
            api_url = f"http://{host}:{port}/api"
            console.print(f"Khởi động máy chủ Prefect / starting Prefect server at {api_url}")
            procs.append(start_server(host, port, ui=ui))
            wait_healthy(api_url, proc=procs[-1])
        else:
            wait_healthy(api_url)
        ensure_pool_and_limit(api_url, cfg["pool"], cfg["limit"])
        console.print(f"Work pool {cfg['pool']}, giới hạn đồng thời / concurrency limit {cfg['limit']} = 1; deploying…")
        deploy(api_url)
        if run_worker:
            procs.append(
                start_worker(api_url, cfg["pool"], s.home, limit=worker_limit, poll_seconds=poll, prefetch_seconds=prefetch)
            )
            wait_worker(api_url, cfg["pool"])
        if watch_inbox:
            procs.append(start_watcher(api_url, s.home, interval, settle, process=fast, limit=cfg["limit"]))
        if not procs:  # --api-url … --no-worker --no-watch: pool, limit and deployments only
            console.print(f"Đã triển khai / deployed to {api_url}", soft_wrap=True)
            return
        console.print(f"Sẵn sàng / ready: PREFECT_API_URL={api_url} BAOCAO_HOME={s.home}", soft_wrap=True)
        sys.stdout.flush()
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        dead = [p.args for p in procs if p.poll() is not None]
        console.print(f"Một tiến trình đã dừng / a process exited: {dead}")
        raise typer.Exit(1)
    except KeyboardInterrupt:
        console.print("Đang dừng / stopping…")
    finally:
        stop(procs)
