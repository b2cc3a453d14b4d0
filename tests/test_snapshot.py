"""Analysts read what the pipeline publishes while it loads and republishes: two reader processes
run in a loop the whole time (one opens the DuckDB snapshot read-only, one reads the Parquet export
through its `current` pointer), while this process loads another period in three batches, rebuilds
the marts and publishes after each. Any error in a reader fails the test (there is no retry: the
snapshot and the Parquet folder are swapped by a rename, so there is no moment at which they are
missing or half-written). Every read sees one consistent, published state, the old one or a new
one, never a mix; a connection held across a publish keeps its state; the reader never opens the
live warehouse; and reads really ran while the loads and the publishes did."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

READER = textwrap.dedent('''
    import json, os, sys, time
    import duckdb

    mode, target, log_path, stop = sys.argv[1:5]

    def open_files():
        """Regular files this process has open now (what DuckDB really opened)."""
        out = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                link = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if link.startswith("/") and not link.startswith(("/dev/", "/proc/")) and link != log_path:
                out.add(link)
        return sorted(out)

    STATE = {
        "subs": """select period, dataset_code, count(*), count(distinct unit_code) from raw.submission
                   group by all order by all""",
        "current": "select period, dataset_code, count(*) from core.current_submission group by all order by all",
        "rate": "select period, dataset_code, expected, received, accepted from marts.reporting_rate order by all",
        "versions": """select period, dataset_code, sum(n_versions)::bigint from marts.reporting_completeness
                       group by all order by all""",
        "cycles": "select period, dataset_code from ops.cycle order by all",
    }

    def read_snapshot(i):
        con = duckdb.connect(target, read_only=True)
        try:
            files = open_files()
            con.execute("begin transaction")
            state = {k: con.execute(q).fetchall() for k, q in STATE.items()}
            if i % 4 == 0:  # hold the connection across (likely) a publish: the state must not move
                time.sleep(0.25)
                again = con.execute(STATE["subs"]).fetchall()
                assert again == state["subs"], ("an open connection changed state", state["subs"], again)
            con.execute("commit")
        finally:
            con.close()
        return {**state, "files": files}

    def read_parquet(i):
        root = os.path.realpath(os.path.join(target, "current"))  # resolved once: one export
        con = duckdb.connect()
        try:
            def mart(name, cols, tail=""):
                return con.execute(f"""select {cols} from read_parquet('{root}/{name}/*/*.parquet',
                                       hive_partitioning = true, hive_types_autocast = false) {tail}
                                       order by all""").fetchall()
            rate = mart("reporting_rate", "period, dataset_code, expected, received, accepted")
            units = mart("reporting_completeness", """period, dataset_code, count(*), count(*) filter (is_received),
                         count(*) filter (is_accepted), sum(n_versions)::bigint""", "group by all")
            indicators = mart("indicator_value", "count(*)")
        finally:
            con.close()
        return {"version": os.path.basename(root), "rate": rate, "units": units, "n_indicators": indicators[0][0]}

    read = read_snapshot if mode == "snapshot" else read_parquet
    n = 0
    with open(log_path, "a", encoding="utf-8") as log:
        while not os.path.exists(stop):
            t0 = time.monotonic()
            entry = read(n)  # any exception ends this process with a traceback: the test fails
            entry.update(t0=t0, t1=time.monotonic())
            log.write(json.dumps(entry, default=str) + "\\n")
            log.flush()
            n += 1
    print(json.dumps({"reads": n}))
''')


def _signature(con) -> list:
    rows = con.execute("""select period, dataset_code, count(*), count(distinct unit_code)
                          from raw.submission group by all order by all""").fetchall()
    return json.loads(json.dumps(rows))


def _rate(con) -> list:
    rows = con.execute("""select period, dataset_code, expected, received, accepted from marts.reporting_rate
                          order by all""").fetchall()
    return json.loads(json.dumps(rows))


def _reads(log: Path) -> list[dict]:
    if not log.exists():
        return []
    lines = log.read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x.endswith("}")]


def _wait_for(log: Path, key: str, value, proc, timeout: float = 60) -> None:
    """Until the reader logs `value` under `key`; fails at once if the reader died."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(r[key] == value for r in _reads(log)):
            return
        assert proc.poll() is None, f"the reader stopped: {proc.communicate()}"
        time.sleep(0.02)
    raise AssertionError(f"the reader never saw the published state {value}")


def _open_files(pid: int) -> set[str]:
    out = set()
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            out.add(os.path.realpath(os.readlink(fd)))
        except OSError:
            pass
    return out


def _overlaps(reads: list[dict], start: float, end: float) -> bool:
    return any(r["t0"] < end and r["t1"] > start for r in reads)


def test_readers_see_whole_states_while_the_pipeline_loads_and_republishes(demo_cycle, tmp_path):
    from baocao.resources import live
    from baocao.services import cycles, process
    from baocao.settings import settings
    from testing import demo
    from warehouse import publish

    source, _, _ = demo_cycle
    s = settings(tmp_path / "home")
    s.db_path.parent.mkdir(parents=True)
    shutil.copyfile(source.snapshot, s.db_path)  # a private warehouse: the demo's published state
    res = live(s)
    con = res.con()
    published, rates, versions, windows, publishes = [], [], [], [], []

    def publish_now():
        t0 = time.monotonic()
        process.publish_all(res)
        publishes.append((t0, time.monotonic()))
        published.append(_signature(con))
        rates.append(_rate(con))
        versions.append(publish.resolve(s.parquet).name)
        for mart in publish.MARTS_EXPORTED:  # every pointer names the same, complete export
            assert publish.resolve(s.parquet, mart) == publish.resolve(s.parquet) / mart

    logs = {m: tmp_path / f"{m}.jsonl" for m in ("snapshot", "parquet")}
    stop = tmp_path / "stop"
    script = tmp_path / "reader.py"
    script.write_text(READER, encoding="utf-8")
    procs = {}
    live = {os.path.realpath(s.db_path), os.path.realpath(s.db_path) + ".wal"}
    held: set[str] = set()
    try:
        publish_now()
        for mode, target in (("snapshot", s.snapshot), ("parquet", s.parquet)):
            procs[mode] = subprocess.Popen([sys.executable, str(script), mode, str(target), str(logs[mode]), str(stop)],
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for(logs["snapshot"], "subs", published[0], procs["snapshot"])
        _wait_for(logs["parquet"], "version", versions[0], procs["parquet"])
        demo.generate(s.inbox, "2026H2", with_problems=False)
        cycles.open_cycle(res, "2026H2")
        files = process.collect(res)
        assert len(files) > 100
        # submissions trickle in: three batches, each loaded, aggregated and published while both
        # readers keep reading (parse and load without the Great Expectations run, which this test
        # is not about and which is slow)
        for batch in (files[:20], files[20:60], files[60:]):
            t0 = time.monotonic()
            process.load(res, process.parse(res, batch))
            process.aggregate(res)
            held |= _open_files(procs["snapshot"].pid)
            publish_now()
            windows.append((t0, time.monotonic()))
            held |= _open_files(procs["snapshot"].pid)
            _wait_for(logs["snapshot"], "subs", published[-1], procs["snapshot"])
            _wait_for(logs["parquet"], "version", versions[-1], procs["parquet"])
    finally:
        stop.touch()
        outs = {m: p.communicate(timeout=120) for m, p in procs.items()}
        res.close()
    for mode, p in procs.items():
        assert p.returncode == 0, f"the {mode} reader failed:\n{outs[mode][1]}"

    # ---- the snapshot reader
    reads = _reads(logs["snapshot"])
    assert json.loads(outs["snapshot"][0].strip().splitlines()[-1])["reads"] == len(reads)
    opened = {f.removesuffix(" (deleted)") for r in reads for f in r["files"]}
    assert opened == {os.path.realpath(s.snapshot)}, f"the reader opened {opened}"
    assert not held & live, "the reader opened the live warehouse"
    for start, end in windows:
        assert _overlaps(reads, start, end), "no snapshot read ran while a batch was loaded and published"
    assert all(_overlaps(reads, a, b) for a, b in publishes[1:]), "no read ran during a publish"
    seen = []
    for r in reads:
        assert r["subs"] in published, "a read saw a state that was never published"
        if r["subs"] not in seen:
            seen.append(r["subs"])
        subs = {(p, d): (n, units) for p, d, n, units in r["subs"]}
        current = {(p, d): n for p, d, n in r["current"]}
        n_versions = {(p, d): n for p, d, n in r["versions"]}
        rate = {(p, d): (e, rec, acc) for p, d, e, rec, acc in r["rate"]}
        assert set(rate) == {tuple(c) for c in r["cycles"]}, "marts cover exactly the open cycles"
        for key, (expected, received, accepted) in rate.items():
            n, units = subs.get(key, (0, 0))
            assert n_versions[key] == n, f"{key}: submissions in raw and in the mart differ"
            assert received == units, key
            assert accepted == current.get(key, 0), key
            assert accepted <= received <= expected, key
    assert seen == published, "every published state was read, in order"

    # ---- the Parquet reader
    preads = _reads(logs["parquet"])
    for start, end in windows:
        assert _overlaps(preads, start, end), "no Parquet read ran while a batch was loaded and published"
    seen = []
    for r in preads:
        assert r["version"] in versions, f"a read saw export {r['version']}, never published"
        i = versions.index(r["version"])
        assert r["rate"] == rates[i], "a Parquet read differs from what was published with it"
        units = {(p, d): (n, rec, acc, nv) for p, d, n, rec, acc, nv in r["units"]}
        for p, d, expected, received, accepted in r["rate"]:
            assert units[(p, d)][:3] == (expected, received, accepted), (p, d, "the marts of one read disagree")
        assert r["n_indicators"] > 0
        if r["version"] not in seen:
            seen.append(r["version"])
    assert seen == versions, "every published export was read, in order"
    # what is left on disk: the pointers, the last exports, nothing half-written
    kept = sorted(p.name for p in (s.parquet / publish.VERSIONS).iterdir())
    assert kept == versions[-publish.KEEP:]


def test_parquet_export_swaps_whole_exports_and_keeps_the_last_few(tmp_path):
    """Pointers name one complete export; an old-layout folder is taken over; older exports are
    pruned to KEEP; nothing half-written is left."""
    import duckdb

    from warehouse import publish

    con = duckdb.connect()
    con.execute("create schema marts")
    folder = tmp_path / "parquet"
    (folder / "reporting_rate" / "period=2025H2").mkdir(parents=True)  # the layout before pointers
    names = []
    for n in range(publish.KEEP + 2):
        for mart in publish.MARTS_EXPORTED:
            con.execute(f"create or replace table marts.{mart} as select '2026H1' as period, {n} as n, i from range(3) t(i)")
        publish.export_parquet(con, folder)
        current = publish.resolve(folder)
        names.append(current.name)
        for mart in publish.MARTS_EXPORTED:
            assert (folder / mart).is_symlink() and publish.resolve(folder, mart) == current / mart
            assert con.execute(f"select distinct n from read_parquet('{folder / mart}/*/*.parquet')").fetchall() == [(n,)]
    assert len(set(names)) == len(names) and names == sorted(names)
    assert sorted(p.name for p in (folder / publish.VERSIONS).iterdir()) == names[-publish.KEEP:]
    assert sorted(p.name for p in folder.iterdir()) == sorted([publish.VERSIONS, publish.CURRENT, *publish.MARTS_EXPORTED])
