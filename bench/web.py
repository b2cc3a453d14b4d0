"""The web door's answer time: a unit uploads → the page shows the findings.

    python -m bench.web                         # `baocao web` alone (no Prefect server)
    python -m bench.web --mode serve            # inside `baocao serve`, Prefect server on SQLite
    python -m bench.web --mode serve-pg         # inside `baocao serve`, Prefect server on PostgreSQL
    python -m bench.web --n 50 --burst 124 --window 60

The web process is a real `baocao web` (or `baocao serve`'s) subprocess on 127.0.0.1; every unit
signs in with its own link, like a browser: open the link, read the CSRF token from the page,
upload, poll the submission's JSON, then fetch the result page.

1. Isolated uploads: `--n` units one after the other, each a workbook with an error (so findings
   are shown); latency = POST sent → result page with the findings received. p50, p95, max.
2. A burst: `--burst` units (all the province's communes by default) upload a correct workbook at
   random moments within `--window` seconds; each waits for its answer. Reported: answered, lost,
   p50/p95/max, the time from the first upload to the last answer, and — after the refresh — the
   submissions the published snapshot holds (none may be missing).

Timings depend on the machine's load: the script prints the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026H1"


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


def summary(xs: list[float]) -> str:
    if not xs:
        return "none"
    return f"p50 {statistics.median(xs):.2f} s, p95 {pct(xs, 0.95):.2f} s, max {max(xs):.2f} s (n={len(xs)})"


class Unit:
    """One unit's browser session."""

    def __init__(self, base: str, code: str, token: str):
        import httpx

        self.code = code
        self.http = httpx.Client(base_url=base, timeout=120, follow_redirects=True)
        page = self.http.get(f"/a/{token}")
        page.raise_for_status()
        self.csrf = re.search(r'data-csrf="([0-9a-f]+)"', page.text).group(1)

    def send(self, data: bytes, name: str) -> tuple[float, str, str]:
        """(seconds from upload to the result page, status, submission id)."""
        t0 = time.perf_counter()
        r = self.http.post(f"/u/{self.code}/upload", content=data,
                           headers={"X-CSRF-Token": self.csrf, "X-File-Name": name})
        r.raise_for_status()
        url = r.json()["url"]
        while True:
            st = self.http.get(url + ".json").json()
            if st.get("ready"):
                break
            time.sleep(0.4)  # as the page polls
        page = self.http.get(url)
        status = re.search(r'data-status="([a-z_]+)"', page.text).group(1)
        return time.perf_counter() - t0, status, url.rsplit("/", 1)[-1]


def start(mode: str, home: Path, tmp: Path, env_extra: dict) -> tuple[subprocess.Popen, str]:
    from cli.procs import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(tmp / "prefect"), "BAOCAO_HOME": str(home), "PREFECT_LOGGING_LEVEL": "WARNING",
                "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false",
                **env_extra})
    if mode == "web":
        args = ["web", "--home", str(home), "--port", str(port)]
    else:
        args = ["serve", "--home", str(home), "--port", str(free_port()), "--no-ui", "--web-port", str(port)]
    log = open(tmp / f"{mode}.log", "w")  # kept open for the child's life
    proc = subprocess.Popen([sys.executable, "-c", "from cli.app import app; app()", *args], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}"


def wait_up(base: str, proc: subprocess.Popen, timeout: float = 600) -> float:
    import httpx

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the web process exited ({proc.returncode})")
        try:
            if httpx.get(base + "/", timeout=2).status_code == 401:
                return time.monotonic() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError("the web pages did not come up")


def run(mode: str, n: int, burst: int, window: float, seed: int = 7) -> dict:
    import catalog
    from cli.procs import stop_serve_group
    from tests import web_fixtures as wf
    from web.access import AccessStore

    cat = catalog.load()
    communes = [u.code for u in cat.expected_units(wf.dataset_of(wf.UNIT_A, cat))]
    tmp = Path(tempfile.mkdtemp(prefix="baocao-bench-web-"))
    home = wf.make_home(tmp / "home")
    env_extra: dict = {}
    pg_ctx = None
    if mode == "serve-pg":
        from testing import pg

        pg_ctx = pg.cluster()
        env_extra["PREFECT_API_DATABASE_CONNECTION_URL"] = pg_ctx.__enter__()
    proc, base = start(mode, home, tmp, env_extra)
    out: dict = {"mode": mode, "load_before": os.getloadavg()}
    try:
        out["startup_s"] = wait_up(base, proc)
        access = AccessStore(home / "web" / "access.sqlite")
        now = datetime.now(UTC)
        units = {c: Unit(base, c, access.issue("unit", c, c, now, 1)) for c in communes[: max(n, burst)]}
        time.sleep(5)  # let the answerer finish warming (it does before the first answer anyway)

        # 1. isolated uploads: alternately a workbook with an error (found while reading it) and a
        #    correct one (which goes through every Great Expectations suite)
        lat: dict[str, list[float]] = {"error": [], "full": []}
        statuses = []
        first = None
        for i, code in enumerate(list(units)[: n + 1]):
            kind = "error" if i % 2 else "full"
            secs, status, _ = units[code].send(wf.workbook(code, cat=cat, bad=kind == "error"), f"{code}.xlsx")
            if i == 0:
                first = secs  # the first answer of the process, reported apart
                continue
            lat[kind].append(secs)
            statuses.append(status)
        both = lat["error"] + lat["full"]
        out.update(first_s=first, isolated=both, isolated_by_kind=lat, isolated_statuses=sorted(set(statuses)))
        print(f"# isolated uploads ({mode}): first {first:.2f} s; all: {summary(both)}", flush=True)
        print(f"#   with an error: {summary(lat['error'])}; correct (full validation): {summary(lat['full'])}",
              flush=True)

        # 2. the burst: every unit sends its corrected workbook within the window
        rng = random.Random(seed)
        codes = list(units)[:burst]
        offsets = sorted(rng.uniform(0, window) for _ in codes)
        results: dict[str, tuple] = {}
        errors: dict[str, str] = {}
        t0 = time.perf_counter()
        payloads = {c: wf.workbook(c, cat=cat, pop=12346) for c in codes}  # new content for every unit

        def one(code: str, at: float) -> None:
            time.sleep(max(0.0, t0 + at - time.perf_counter()))
            try:
                results[code] = units[code].send(payloads[code], f"{code}.xlsx")
            except Exception as exc:
                errors[code] = f"{type(exc).__name__}: {exc}"

        threads = [threading.Thread(target=one, args=(c, at)) for c, at in zip(codes, offsets, strict=True)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(900)
        span = time.perf_counter() - t0
        blat = [r[0] for r in results.values()]
        ok = sum(r[1] in ("accepted", "accepted_with_warnings") for r in results.values())
        out.update(burst=blat, burst_answered=len(results), burst_accepted=ok, burst_errors=errors, burst_span_s=span)
        print(f"# burst ({mode}): {len(codes)} units within {window:.0f} s: answered {len(results)}, accepted {ok},"
              f" errors {len(errors)}; {summary(blat)}; last answer {span:.1f} s after the start", flush=True)

        # none lost: after the refresh, the snapshot holds every burst submission
        import duckdb

        want = {r[2] for r in results.values()}
        held: set = set()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                con = duckdb.connect(str(home / "snapshot" / "baocao.duckdb"), read_only=True)
                held = {x for (x,) in con.execute("select submission_id from raw.submission").fetchall()} & want
                con.close()
            except duckdb.Error:
                pass
            if held == want:
                break
            time.sleep(2)
        out["burst_in_snapshot"] = len(held)
        print(f"# burst ({mode}): {len(held)}/{len(want)} answered submissions in the published snapshot", flush=True)
    finally:
        out["load_after"] = os.getloadavg()
        stop_serve_group(proc)
        if pg_ctx is not None:
            pg_ctx.__exit__(None, None, None)
    print(f"# load average before {out['load_before']}, after {out['load_after']}; startup {out.get('startup_s', 0):.0f} s;"
          f" files under {tmp}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("web", "serve", "serve-pg"), default="web")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--burst", type=int, default=124)
    ap.add_argument("--window", type=float, default=60.0)
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    run(a.mode, a.n, a.burst, a.window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
