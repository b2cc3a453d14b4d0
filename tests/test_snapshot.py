"""Analysts read the published snapshot while the pipeline loads: a second process opens the
snapshot read-only in a loop while this process loads another period in batches and republishes
after each. Every read sees one consistent, published state — the old one or a new one, never a
mix — and the reader never opens the live warehouse."""

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

    snapshot, log_path, stop = sys.argv[1:4]
    opened = []
    with open(log_path, "a", encoding="utf-8") as log:
        while not os.path.exists(stop):
            opened.append(snapshot)  # the only file this reader ever opens
            try:
                con = duckdb.connect(snapshot, read_only=True)
            except duckdb.IOException:
                time.sleep(0.005)  # between the copy and the rename there is always a file; retry anyway
                continue
            try:
                con.execute("begin transaction")
                subs = con.execute("""select period, dataset_code, count(*), count(distinct unit_code)
                                      from raw.submission group by all order by all""").fetchall()
                current = con.execute("""select period, dataset_code, count(*) from core.current_submission
                                         group by all order by all""").fetchall()
                rate = con.execute("""select period, dataset_code, expected, received, accepted
                                      from marts.reporting_rate order by all""").fetchall()
                versions = con.execute("""select period, dataset_code, sum(n_versions)::bigint
                                          from marts.reporting_completeness group by all order by all""").fetchall()
                cycles = con.execute("select period, dataset_code from ops.cycle order by all").fetchall()
                con.execute("commit")
            finally:
                con.close()
            log.write(json.dumps({"subs": subs, "current": current, "rate": rate, "versions": versions,
                                  "cycles": cycles}) + "\\n")
            log.flush()
    print(json.dumps({"opened": sorted(set(opened)), "n": len(opened)}))
''')


def _signature(con) -> list:
    rows = con.execute("""select period, dataset_code, count(*), count(distinct unit_code)
                          from raw.submission group by all order by all""").fetchall()
    return json.loads(json.dumps(rows))


def _reads(log: Path) -> list[dict]:
    if not log.exists():
        return []
    lines = log.read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x.endswith("}")]


def _wait_for(log: Path, signature: list, proc, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(r["subs"] == signature for r in _reads(log)):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"the reader never saw the published state {signature}")


def _open_files(pid: int) -> set[str]:
    out = set()
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            out.add(os.path.realpath(os.readlink(fd)))
        except OSError:
            pass
    return out


def test_readers_see_whole_states_while_the_pipeline_republishes(demo_cycle, tmp_path):
    from baocao.resources import live
    from baocao.services import cycles, process
    from baocao.settings import settings
    from testing import demo

    source, _, _ = demo_cycle
    s = settings(tmp_path / "home")
    s.db_path.parent.mkdir(parents=True)
    shutil.copyfile(source.snapshot, s.db_path)  # a private warehouse: the demo's published state
    res = live(s)
    con = res.con()
    published = []
    try:
        process.publish_all(res)
        published.append(_signature(con))

        log, stop = tmp_path / "reads.jsonl", tmp_path / "stop"
        script = tmp_path / "reader.py"
        script.write_text(READER, encoding="utf-8")
        proc = subprocess.Popen([sys.executable, str(script), str(s.snapshot), str(log), str(stop)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        live = {os.path.realpath(s.db_path), os.path.realpath(s.db_path) + ".wal"}
        held: set[str] = set()
        try:
            _wait_for(log, published[0], proc)
            demo.generate(s.inbox, "2026H2", with_problems=False)
            cycles.open_cycle(res, "2026H2")
            files = process.collect(res)
            assert len(files) > 100
            # submissions trickle in: three batches, each loaded, aggregated and published (parse and
            # load without the Great Expectations run, which this test is not about and which is slow)
            for batch in (files[:20], files[20:60], files[60:]):
                process.load(res, process.parse(res, batch))
                process.aggregate(res)
                held |= _open_files(proc.pid)
                process.publish_all(res)
                published.append(_signature(con))
                _wait_for(log, published[-1], proc)
                held |= _open_files(proc.pid)
        finally:
            stop.touch()
            out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    finally:
        res.close()

    reader = json.loads(out.strip().splitlines()[-1])
    assert reader["opened"] == [str(s.snapshot)]
    assert not held & live, "the reader opened the live warehouse"
    reads = _reads(log)
    assert len(reads) >= len(published)
    seen = []
    for r in reads:
        assert r["subs"] in published, "a read saw a state that was never published"
        if r["subs"] not in seen:
            seen.append(r["subs"])
        subs = {(p, d): (n, units) for p, d, n, units in r["subs"]}
        current = {(p, d): n for p, d, n in r["current"]}
        versions = {(p, d): n for p, d, n in r["versions"]}
        rate = {(p, d): (e, rec, acc) for p, d, e, rec, acc in r["rate"]}
        assert set(rate) == {tuple(c) for c in r["cycles"]}, "marts cover exactly the open cycles"
        for key, (expected, received, accepted) in rate.items():
            n, units = subs.get(key, (0, 0))
            assert versions[key] == n, f"{key}: submissions in raw and in the mart differ"
            assert received == units, key
            assert accepted == current.get(key, 0), key
            assert accepted <= received <= expected, key
    assert seen == published, "every published state was read, in order"
