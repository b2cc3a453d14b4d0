"""`baocao watch` and `baocao serve`: event-driven operation on a real Prefect server.

    baocao serve --home /srv/baocao          # Prefect server on 127.0.0.1, work pool, deployments,
                                             # worker and inbox watcher, in the foreground
    baocao watch --home /srv/baocao          # only the watcher (server and workers run elsewhere)

The steps (start_server, ensure_pool_and_limit, deploy, start_worker) are in `cli.procs`;
tests/test_prefect_server.py drives `serve` itself. Nothing here imports Prefect at module level,
so `baocao --help` stays fast (docs/operations.md). cli.app registers these two commands.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer

from baocao.settings import settings
from cli.common import HomeOpt, console
from cli.procs import (
    deploy,
    ensure_pool_and_limit,
    free_port,
    project_config,
    start_listener,
    start_server,
    start_watcher,
    start_worker,
    stop,
    wait_healthy,
    wait_worker,
)
from slackdoor.config import DoorConfig


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
        " their events say so (baocao.path: warm), so no process-submission run is started for them.",
    ),
) -> None:
    """Theo dõi hộp thư, nhận tệp và báo cho Prefect / watch the inbox, store new files, emit
    baocao.submission.received for each (and with --process, validate, load and answer them at once)."""
    from baocao import events as ev
    from baocao.escape import console_text
    from baocao.resources import live
    from intake import watch as watch_mod

    s = settings(home)
    res = live(s)  # kept warm between polls; the warehouse is closed whenever the run's slot is released
    if not ev.enabled():
        console.print(
            "PREFECT_API_URL chưa đặt: tệp được nhận nhưng không gửi sự kiện (chạy `baocao process`)"
            " / PREFECT_API_URL not set: files are stored but no events are sent."
        )

    dirty = False  # files answered here since the snapshot was last published

    def show(report: watch_mod.PollReport) -> None:
        nonlocal dirty
        for t in report.taken:
            what = "mới / new" if t.new else "trùng / duplicate"
            console.print(console_text(f"{t.stored.unit_code} {t.stored.file_name} → {t.stored.submission_id} ({what})"))
        for line in report.refused:
            console.print(console_text(line), soft_wrap=True)
        for sid in report.announced:
            console.print(f"baocao.submission.received {sid}")
        if process and any(t.new for t in report.taken):
            # the warm path (tasks.warm): this process has Prefect, Great Expectations and the
            # parse pool loaded; it takes the warehouse slot like any run (so the triggered run
            # finds nothing pending), then sends the answers without holding it
            from baocao.services.deliver import sender_of
            from tasks.cycle import warehouse_lock
            from tasks.warm import answer_pending, deliver_now

            with warehouse_lock(res):
                records = answer_pending(res)
            console.print(f"đã xử lý / processed {len(records)}")
            if records:
                dirty = True
                deliver_now(res, sender_of(res))
        if process and dirty and (once or not report.taken):
            # a poll with nothing new: the marts and the snapshot follow what was answered here
            # (the warm path's loads start no refresh-aggregates run)
            from tasks import cycle as t

            with t.warehouse_lock(res):
                t.publish.fn(res, t.aggregate.fn(res))
            dirty = False

    if process:  # the suites built once, before the first unit's file (tasks.warm)
        from tasks.warm import warm

        warm(res.cat)
    try:
        watch_mod.watch(s, inbox_url=inbox, interval=interval, settle_seconds=settle, once=once, on_poll=show,
                        warm=process)
    except KeyboardInterrupt:
        ev.flush()
    finally:
        res.close()


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
    web_port: int = typer.Option(8000, "--web-port", help="Cổng trang web (0: không chạy) / web pages' port (0: no web)."),
) -> None:
    """Chạy hệ thống theo sự kiện trên máy này / run event-driven: Prefect server, work pool,
    deployments (prefect.yaml), a process worker and the inbox watcher, until Ctrl-C."""
    from cli.common import resolve_home

    s = settings(resolve_home(home, create=True))  # the demo's home after `make demo`, and says so
    s.home.mkdir(parents=True, exist_ok=True)
    logs = s.home / "logs"  # Prefect's own output (banner, advice, run-by-run lines): not the operator's console
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
            console.print(f"Khởi động máy chủ Prefect / starting Prefect server at {api_url}"
                          f" (nhật ký / log: {logs / 'prefect-server.log'})", soft_wrap=True)
            procs.append(start_server(host, port, ui=ui, log=logs / "prefect-server.log"))
            wait_healthy(api_url, proc=procs[-1])
        else:
            wait_healthy(api_url)
        ensure_pool_and_limit(api_url, cfg["pool"], cfg["limit"])
        console.print(f"Triển khai các luồng (prefect.yaml) vào work pool {cfg['pool']} / deploying the flows…")
        deploy(api_url)
        if run_worker:
            procs.append(
                start_worker(api_url, cfg["pool"], s.home, limit=worker_limit, poll_seconds=poll, prefetch_seconds=prefetch,
                             log=logs / "prefect-worker.log")
            )
            wait_worker(api_url, cfg["pool"])
        if watch_inbox:
            procs.append(start_watcher(api_url, s.home, interval, settle, process=fast, limit=cfg["limit"]))
        try:
            door = DoorConfig.from_env()  # SLACK_APP_TOKEN too: units' files and answers in Slack
        except ValueError as exc:
            door = None
            console.print(f"{exc}; Slack chỉ gửi thông báo / Slack sends notifications only")
        if door is not None:
            procs.append(start_listener(api_url, s.home, limit=cfg["limit"]))
        if not procs:  # --api-url … --no-worker --no-watch: pool, limit and deployments only
            console.print(f"Đã triển khai / deployed to {api_url}", soft_wrap=True)
            return
        if web_port:
            from cli.web import start_web

            procs += start_web(api_url, s.home, web_port, cfg["limit"], say=console.print)
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
