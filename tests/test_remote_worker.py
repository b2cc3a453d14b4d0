"""Workers on another host, for real: a Linux network namespace stands in for the second machine.

The namespace (tests/netns.py) has its own network stack joined to this one by a veth pair
(10.a.b.1 here, 10.a.b.2 inside): processes inside cannot reach this host's 127.0.0.1, only its
veth address. Files are shared (the "code at the same path" a real second host needs).

1. Process worker: a Prefect server (sqlite, temporary PREFECT_HOME) and the local Slack server
   listen on this host's veth address; the work pool, the concurrency limit and
   `prefect --no-prompt deploy --all` are made from here with the commands of docs/operations.md.
   Inside the namespace run `prefect worker start --pool baocao --type process` and `baocao
   watch`, with the worker host's own BAOCAO_HOME (inbox, store, DuckDB warehouse). Two workbooks
   are dropped into that inbox; the triggered `process-submission` runs must complete on that
   worker, answer both units in Slack and load the warehouse on the worker host.
2. Dask: a scheduler here, a `dask worker` inside; the reporting cycle runs here with
   BAOCAO_TASK_RUNNER=dask and BAOCAO_DASK_ADDRESS, and every validation chunk must have run on the
   worker at the namespace's address, in the namespace's network stack.

Needs root (or CAP_SYS_ADMIN + CAP_NET_ADMIN) and iproute2; skipped with the reason otherwise, and
failed under CI=true (tests/needs.py). Any other set-up failure (server, worker) fails the test.
Select with `pytest -m prefect_server` (or the file); skip with BAOCAO_SKIP_SERVER_TESTS=1.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from baocao import events as ev
from cli.procs import QUIET_ENV, free_port, prefect_cmd, project_config, wait_healthy
from intake.watch import copy_into_inbox, journal_path
from tests.needs import missing
from tests.netns import Netns, NetnsUnavailable, spawn, stop_group, tail
from tests.test_deployments import ROOT, workbook
from tests.test_prefect_server import TERMINAL, Api, _feedback, emitting_runs

pytestmark = [
    pytest.mark.prefect_server,
    pytest.mark.timeout(600),  # only catches a hang
    pytest.mark.skipif(os.environ.get("BAOCAO_SKIP_SERVER_TESTS") == "1", reason="BAOCAO_SKIP_SERVER_TESTS=1"),
]

BAOCAO = "from cli.app import app; app()"
DASK = str(Path(sys.executable).parent / "dask")


def _env(**extra) -> dict[str, str]:
    """This process's environment without Prefect/baocao/Slack settings, plus `extra`: every
    process states its API, home and Slack itself. No ephemeral server as a fallback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BAOCAO_", "SLACK_"))}
    env.update(QUIET_ENV)
    env.update({"PREFECT_LOGGING_LEVEL": "INFO", "PREFECT_SERVER_EPHEMERAL_ENABLED": "false"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _wait(what: str, check, timeout: float, interval: float = 0.5, logs: tuple[Path, ...] = ()):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(interval)
    shown = "\n".join(f"--- {p.name}\n{tail(p)}" for p in logs)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{shown}")


# ------------------------------------------------------------------------------ module fixtures


@pytest.fixture(scope="module")
def netns():
    try:
        ns = Netns.create()
    except NetnsUnavailable as exc:
        missing(f"no network namespace for a second host: {exc}")
    try:
        yield ns
    finally:
        left = ns.delete()
        assert not left, f"left behind: {left}"


@pytest.fixture(scope="module")
def server(netns, tmp_path_factory):
    """`prefect server start` on this host's veth address (not 127.0.0.1)."""
    d = tmp_path_factory.mktemp("server-host")
    port = free_port(netns.host_addr)
    api_url = f"http://{netns.host_addr}:{port}/api"
    log = d / "server.log"
    env = _env(PREFECT_HOME=d / "prefect", PREFECT_LOGGING_LEVEL="WARNING")
    cmd = prefect_cmd("server", "start", "--host", netns.host_addr, "--port", str(port), "--no-ui")
    started = time.monotonic()
    proc = spawn(cmd, log, env, cwd=d)
    try:
        try:
            wait_healthy(api_url, timeout=180, proc=proc)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(f"{exc}\n{tail(log)}")
        print(f"\nPrefect server on {api_url} in {time.monotonic() - started:.1f} s")
        yield SimpleNamespace(api_url=api_url, port=port, api=Api(api_url), log=log, dir=d)
    finally:
        stop_group(proc, grace=10)


@pytest.fixture(scope="module")
def slack(netns):
    from testing.slack_server import from_recipients

    server = from_recipients(host=netns.host_addr).start()
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------------ 1. a process worker


@pytest.fixture
def worker_host(netns, server, slack, tmp_path):
    """Pool, limit and deployments made from here; worker and watcher started in the namespace
    with the worker host's BAOCAO_HOME. Everything started is killed after the test."""
    from baocao.resources import live
    from baocao.services import cycles
    from baocao.settings import settings

    s = settings(tmp_path / "worker-host")
    with live(s) as res:
        cycles.open_cycle(res, "2026H1")  # the operator opens the cycle

    # from a checkout "anywhere" (here: the server's host), the by-hand commands of the docs
    cfg = project_config()
    t = time.monotonic()
    here = _env(PREFECT_API_URL=server.api_url, PREFECT_HOME=tmp_path / "operator-prefect")
    setup = [
        subprocess.Popen(prefect_cmd(*args), env=here, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for args in (
            ("work-pool", "create", cfg["pool"], "--type", "process"),
            ("gcl", "create", cfg["limit"], "--limit", "1"),
        )
    ]
    for p in setup:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0, out.decode(errors="replace")
    deployed = subprocess.run(
        prefect_cmd("--no-prompt", "deploy", "--all"), cwd=ROOT, env=here, capture_output=True, text=True, timeout=180
    )
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    print(f"pool, limit and deployments in {time.monotonic() - t:.1f} s")

    # the worker host reaches the server and Slack through the veth only
    reach = netns.connect([(h, p) for h in ("127.0.0.1", netns.host_addr) for p in (server.port, slack.port)])
    for port in (server.port, slack.port):
        assert reach[f"{netns.host_addr}:{port}"] == "ok", reach
        assert reach[f"127.0.0.1:{port}"].startswith("ConnectionRefusedError"), reach

    name = f"worker-host-{netns.name}"
    inside = _env(
        PREFECT_API_URL=server.api_url,
        PREFECT_HOME=tmp_path / "worker-prefect",
        PREFECT_WORKER_QUERY_SECONDS=1,  # as `baocao serve --poll 1`
        BAOCAO_HOME=s.home,
        SLACK_BOT_TOKEN=slack.token,
        SLACK_API_URL=slack.url,
    )
    worker_log, watch_log = tmp_path / "worker.log", tmp_path / "watch.log"
    pool_args = f"--pool {cfg['pool']} --type process --limit 1 --prefetch-seconds 10 --name {name}"
    worker_cmd = prefect_cmd("--no-prompt", "worker", "start", *pool_args.split())
    watch_args = f"watch --home {s.home} --interval 1 --settle 0.5 --no-process"
    watch_cmd = [sys.executable, "-c", BAOCAO, *watch_args.split()]
    procs = [spawn(netns.exec(*worker_cmd), worker_log, inside, cwd=tmp_path)]
    try:
        procs.append(spawn(netns.exec(*watch_cmd), watch_log, inside, cwd=tmp_path))
        logs = (worker_log, watch_log)

        def polling():
            if any(p.poll() is not None for p in procs):
                pytest.fail(f"worker or watcher exited\n{tail(worker_log)}\n{tail(watch_log)}")
            return [w for w in server.api.post(f"/work_pools/{cfg['pool']}/workers/filter", {}) if w["name"] == name]

        _wait("the worker in the namespace to poll the pool", polling, 120, logs=logs)
        _wait("the watcher's first poll", lambda: journal_path(s).exists(), 60, logs=logs)
        assert {p.pid for p in procs} <= set(netns.pids())
        yield SimpleNamespace(settings=s, name=name, procs=procs, logs=logs)
    finally:
        for p in reversed(procs):
            stop_group(p)
        netns.kill_all()  # flow-run processes make their own session


def test_worker_on_another_host_processes_dropped_workbooks(worker_host, server, slack):
    s, api = worker_host.settings, server.api
    drafts = {}
    for unit, bad in (("LD.24781", False), ("LD.24787", True)):
        drafts[unit] = s.home / "drafts" / f"XA_6T_{unit}_2026H1.xlsx"
        drafts[unit].parent.mkdir(parents=True, exist_ok=True)
        workbook(unit, bad=bad).save(drafts[unit])
    t0 = time.monotonic()
    for unit, src in drafts.items():
        copy_into_inbox(src, unit, s)  # what a unit's upload does, on the worker host

    seen: dict[str, float] = {}

    def both_answered():
        for unit in drafts:
            if unit not in seen and _feedback(slack, unit):
                seen[unit] = time.monotonic() - t0
        return len(seen) == 2

    _wait("Slack feedback to both units", both_answered, 150, logs=worker_host.logs)
    print(
        f"latency drop → Slack feedback (worker in the namespace): "
        f"LD.24781 {seen['LD.24781']:.1f} s, LD.24787 {seen['LD.24787']:.1f} s"
    )

    # each received event made a run; all ran on the worker in the namespace and completed
    def settled():
        runs = api.runs("process-submission")
        return runs if len(runs) == 2 and all(r["state_type"] in TERMINAL for r in runs) else None

    runs = _wait("both process-submission runs to finish", settled, 120, logs=worker_host.logs)
    assert [r["state_type"] for r in runs] == ["COMPLETED", "COMPLETED"]
    for r in runs:
        assert r["work_pool_name"] == "baocao"
        assert r["labels"]["prefect.worker.name"] == worker_host.name
    workers = api.post("/work_pools/baocao/workers/filter", {})
    assert [w["name"] for w in workers] == [worker_host.name]  # no other worker could have taken them

    def persisted():
        found = api.events()
        return found if sum(e["event"] == ev.SUBMISSION_LOADED for e in found) == 2 else None

    events = _wait("the loaded events", persisted, 30, interval=1)
    by_unit = {
        e["resource"]["baocao.unit"]: e["event"]
        for e in events
        if e["event"] in (ev.SUBMISSION_VALIDATED, ev.SUBMISSION_REJECTED)
    }
    assert by_unit == {"LD.24781": ev.SUBMISSION_VALIDATED, "LD.24787": ev.SUBMISSION_REJECTED}
    assert sum(e["event"] == ev.SUBMISSION_RECEIVED for e in events) == 2
    loaders = emitting_runs(events, ev.SUBMISSION_LOADED)
    assert loaders and loaders <= {f"prefect.flow-run.{r['id']}" for r in runs}
    submitted = api.post(
        "/events/filter", {"filter": {"event": {"name": ["prefect.worker.submitted-flow-run"]}}, "limit": 50}
    )["events"]
    by_worker = {
        rel["prefect.resource.id"]: e["resource"]["prefect.resource.name"]
        for e in submitted
        for rel in e["related"]
        if rel.get("prefect.resource.role") == "flow-run"
    }
    for r in runs:
        assert by_worker.get(f"prefect.flow-run.{r['id']}") == worker_host.name, by_worker

    # Slack: one answer per unit; the rejected one names the cell
    ok, bad = _feedback(slack, "LD.24781"), _feedback(slack, "LD.24787")
    assert len(ok) == 1 and len(bad) == 1

    # the warehouse lives on the worker host; read it once everything there has stopped. (The
    # debounced refresh-aggregates run, due 20 s after the load, is not awaited: if the worker has
    # already started it, it is killed with the worker; DuckDB's WAL keeps the file consistent.)
    for p in reversed(worker_host.procs):
        stop_group(p)
    import duckdb

    con = duckdb.connect(str(s.db_path), read_only=True)
    try:
        status = dict(con.execute("select unit_code, status from raw.submission").fetchall())
        values = dict(con.execute("select unit_code, count(*) from core.data_value group by all").fetchall())
        cells = [
            c
            for (c,) in con.execute(
                "select f.cell from raw.finding f join raw.submission s using (submission_id)"
                " where s.unit_code = 'LD.24787' and f.severity = 'error' and f.cell is not null"
            ).fetchall()
        ]
    finally:
        con.close()
    assert status == {"LD.24781": "accepted", "LD.24787": "rejected"}
    assert values.get("LD.24781", 0) > 0 and "LD.24787" not in values
    text = json.dumps(bad, ensure_ascii=False)
    assert cells and all(re.search(rf"\b(ô|cell) {c}\b", text) for c in cells), (cells, text)
    print(f"cells named to LD.24787: {cells}; total {time.monotonic() - t0:.1f} s after the drop")


# ---------------------------------------------------------------------------- 2. a Dask worker


@pytest.fixture
def dask_cluster(netns, tmp_path):
    """A Dask scheduler on this host's veth address, one `dask worker` in the namespace."""
    from distributed import Client

    port = free_port(netns.host_addr)
    address = f"tcp://{netns.host_addr}:{port}"
    sched_log, worker_log = tmp_path / "dask-scheduler.log", tmp_path / "dask-worker.log"
    env = _env(PREFECT_HOME=tmp_path / "dask-prefect")
    scheduler = f"scheduler --host {netns.host_addr} --port {port} --no-dashboard"
    worker = (
        f"worker {address} --host {netns.ns_addr} --nthreads 1 --no-nanny --no-dashboard --name dask-{netns.name}"
        f" --local-directory {tmp_path / 'dask-worker'}"
    )
    procs = [spawn([DASK, *scheduler.split()], sched_log, env, cwd=tmp_path)]
    client = None
    try:
        procs.append(spawn(netns.exec(DASK, *worker.split()), worker_log, env, cwd=tmp_path))
        try:
            client = Client(address, timeout=60)
            client.wait_for_workers(1, timeout=120)
        except (OSError, TimeoutError) as exc:
            pytest.fail(f"Dask worker in the namespace did not join: {exc}\n{tail(sched_log)}\n{tail(worker_log)}")
        yield SimpleNamespace(client=client, address=address, logs=(sched_log, worker_log))
    finally:
        if client is not None:
            client.close()
        for p in reversed(procs):
            stop_group(p)


def test_validation_chunks_run_on_a_dask_worker_on_another_host(netns, server, slack, dask_cluster, tmp_path):
    from baocao.settings import settings

    client = dask_cluster.client
    (worker_address,) = client.scheduler_info()["workers"]
    assert worker_address.startswith(f"tcp://{netns.ns_addr}:"), worker_address
    client.get_task_stream()  # starts the scheduler's task-stream record

    s = settings(tmp_path / "cycle-host")
    units = ["LD.24781", "LD.24787", "LD.24778", "LD.24805", "LD.24846", "LD.24823"]
    for unit in units:
        src = s.home / "drafts" / f"XA_6T_{unit}_2026H1.xlsx"
        src.parent.mkdir(parents=True, exist_ok=True)
        workbook(unit).save(src)
        copy_into_inbox(src, unit, s)

    code = (
        "import json, sys\n"
        "from flows.cycle import reporting_cycle\n"
        "from baocao import runners\n"
        "from baocao.settings import settings\n"
        "runner = runners.task_runner(settings())  # the runner the flow builds for this run\n"
        "state = reporting_cycle(sys.argv[1], sys.argv[2], return_state=True)\n"
        "result = state.result()\n"
        "print(json.dumps({'runner': type(runner).__name__, 'address': runner.address,\n"
        "                  'flow_run_id': str(state.state_details.flow_run_id),\n"
        "                  'validation': result['validation'], 'statuses': result['statuses']}))\n"
    )
    env = _env(
        PREFECT_API_URL=server.api_url,
        PREFECT_HOME=tmp_path / "cycle-prefect",
        PREFECT_LOGGING_LEVEL="WARNING",
        BAOCAO_HOME=s.home,
        BAOCAO_TASK_RUNNER="dask",
        BAOCAO_DASK_ADDRESS=dask_cluster.address,
        BAOCAO_VALIDATION_CHUNK=2,
        SLACK_BOT_TOKEN=slack.token,
        SLACK_API_URL=slack.url,
    )
    t = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-c", code, "2026H1", str(s.home)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    if run.returncode != 0:
        logs = "\n".join(f"--- {p.name}\n{tail(p)}" for p in dask_cluster.logs)
        pytest.fail(f"reporting cycle failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}\n{logs}")
    out = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"reporting cycle with the Dask worker in the namespace: {time.monotonic() - t:.1f} s, {out['validation']}")
    assert out["runner"] == "DaskTaskRunner" and out["address"] == dask_cluster.address
    assert out["validation"]["chunks"] == 3  # 6 units, chunks of 2
    assert sorted(u for u, _, _ in out["statuses"]) == sorted(units)
    assert all(st != "rejected" for _, _, st in out["statuses"]), out["statuses"]

    # every chunk ran on the worker at the namespace's address, in the namespace's network stack
    stream = [t for t in client.get_task_stream() if "validate" in str(t["key"])]
    assert len(stream) == 3, stream
    assert {t["worker"] for t in stream} == {worker_address}
    where = client.run(lambda: os.readlink("/proc/self/ns/net"))
    assert where == {worker_address: f"net:[{netns.inode()}]"}
    assert os.readlink("/proc/self/ns/net") != where[worker_address]

    # the chunks' task runs reported to the Prefect server through the veth
    def reported():
        # the task is `validate-chunk` (its function validate_chunk); its runs are named by what they did
        body = {"flow_runs": {"id": {"any_": [out["flow_run_id"]]}}}
        found = [r for r in server.api.post("/task_runs/filter", body)
                 if str(r.get("task_key", "")).startswith("validate_chunk")]
        return found if len(found) == 3 and all(r["state_type"] == "COMPLETED" for r in found) else None

    _wait("the validate-chunk task runs on the server", reported, 30, interval=1)
