"""`python -m bench.run --scale 0.1 [--growth] [--latency]`: the national-scale benchmark.

Generates a national cycle into a temp folder, runs the real cycle stages in-process, then the
floor and the naive per-file baseline on the same stored files, and ends with one
`name=value` line per figure (see bench/README.md).
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _k, _v in (("DO_NOT_TRACK", "1"), ("GX_ANALYTICS_ENABLED", "false"), ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
               ("PREFECT_LOGGING_LEVEL", "WARNING")):
    os.environ.setdefault(_k, _v)

ROOT = Path(__file__).resolve().parents[1]
GROWTH_SCALES = (1.0, 2.0, 4.0)
# the settings a national deployment runs with (docs/operations.md): the batch path's memory bounds
NATIONAL = {"validation_chunk": 2000, "load_chunk": 500, "duckdb_memory": ""}
PYCACHE = Path(tempfile.gettempdir()) / "baocao-bench-pycache"
WARM_IMPORTS = ("great_expectations, pandas, numpy, duckdb, pyarrow, python_calamine, openpyxl, slack_sdk, yaml, "
                "baocao.services, expectations.validate, notifications.notify, notifications.outbox, "
                "notifications.sender, testing.slack_server, bench.cycle, bench.baselines")


def use_bytecode_cache() -> str:
    """A deployed venv has compiled bytecode; a sandbox with PYTHONDONTWRITEBYTECODE=1 recompiles
    every module in every process (Great Expectations alone: ~6 s). Keep bytecode in a cache
    outside the repository (sys.pycache_prefix) and fill it in a throw-away process first, so the
    timed process imports like a deployed one — cold process, warm bytecode."""
    if not sys.dont_write_bytecode and not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return "bytecode: the interpreter's default (.pyc next to the sources)"
    sys.dont_write_bytecode = False
    sys.pycache_prefix = str(PYCACHE)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    subprocess.run([sys.executable, "-c", f"import {WARM_IMPORTS}"], cwd=ROOT, check=True)
    return f"bytecode: PYTHONDONTWRITEBYTECODE was set; cached in {PYCACHE} and warmed before timing"


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "NA"
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 100 else f"{v:.1f}"
    return str(v)


def parse_lines(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep and k and " " not in k and not k.startswith("#"):
            out[k] = v.strip()
    return out


def run_scale(scale: float, workdir: Path, *, jobs: int, naive_files: int, cycle_only: bool,
              profile: Path | None, notify: bool = True, trace: bool = False, files_from: Path | None = None,
              generate_only: bool = False, bounds: dict | None = None) -> dict:
    from baocao.settings import Settings
    from bench import baselines, national
    from bench.cycle import resources, run_cycle
    from bench.measure import maxrss_mb

    catalog_dir = workdir / "catalog"
    s = Settings(workdir / "home", **(bounds or {}))
    print(f"# batch memory bounds: validation_chunk={s.validation_chunk} load_chunk={s.load_chunk} "
          f"duckdb_memory={s.duckdb_memory or 'DuckDB default'} "
          f"marts_memory={(s.marts_memory or 'none') if not s.duckdb_memory else '(duckdb_memory)'}")
    if files_from:  # the catalog and inbox of an earlier --generate-only, copied (not measured)
        shutil.copytree(files_from / "catalog", catalog_dir)
        shutil.copytree(files_from / "home", workdir / "home")
        cat = national.catalog_mod.load(catalog_dir)
        print(f"# {len(national.communes(cat))} communes' submissions copied from {files_from} — not measured")
    else:
        cat = national.write_catalog(catalog_dir, scale)
        plan = national.generate(s.inbox, catalog_dir, cat, jobs=jobs)
        kinds, fmts = plan.count("kind"), plan.count("format")
        print(f"# generated {len(plan.files)} submissions from {len(national.communes(cat))} communes of "
              f"{national.N_PROVINCES} provinces ({len(cat.org_units)} org units) in {plan.seconds:.1f}s "
              f"with {jobs} process(es) — not measured")
        print(f"#   formats {fmts}; problems {dict(sorted(kinds.items()))}; late {sum(f['late'] for f in plan.files)}")
    print(f"#   workdir {workdir}")
    if generate_only:
        return {}

    prof = None
    if profile:
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    resources_ = resources(s, cat)
    try:
        res = run_cycle(resources_, catalog_dir, notify=notify, trace=trace)
    except BaseException as exc:  # the stages measured so far, then the error
        meter = getattr(exc, "meter", None)
        if meter is not None:
            print(f"Cycle stopped in a stage ({type(exc).__name__}); stages so far:\n{meter.table()}", flush=True)
        raise
    if prof:
        prof.disable()
        prof.dump_stats(str(profile))
        print(f"# cProfile of the cycle written to {profile}")
    meter = res["meter"]
    print()
    print(f"Cycle (real stages, in-process; peak RSS by {meter.hwm_method}):")
    print(meter.table())
    print(f"# statuses {res['statuses']}; previous-period values seeded (not timed): {res['history_rows']}")

    if not notify:
        print("# --no-notify: the notify stage was skipped; cycle figures exclude it")
    cycle = sum(st.seconds for st in meter.stages if st.name != "deliver")  # collect → publish
    out = {"scale": scale, "communes": len(national.communes(cat)), "files": res["files"],
           "cycle_seconds": cycle, "peak_rss_mb": meter.peak_rss_mb, "workers_pss_mb": meter.workers_pss_mb,
           "cycle_without_notify_seconds": sum(st.seconds for st in meter.stages if st.name not in ("enqueue", "deliver")),
           "cycle_with_delivery_seconds": meter.seconds,
           "stages": {st.name: st.seconds for st in meter.stages},
           "baocao_per_file_s": cycle / max(res["files"], 1)}
    if not cycle_only:
        paths = [Path(r.stored_path) for r in res["records"]]
        fl = baselines.floor(paths, workdir / "floor.duckdb")
        print()
        print(f"Floor: {fl['xlsx']} workbooks (python-calamine, {fl['threads']} threads) + {fl['csv']} CSVs "
              f"(DuckDB read_csv, {fl['csv_groups']} delimiter/encoding groups) → {fl['rows']} rows, one insert: "
              f"{fl['seconds']:.2f}s ({fl['rows'] / fl['seconds']:,.0f} rows/s; {fl['unreadable']} unreadable)")
        nv = baselines.naive(res["records"], res["con"], cat, naive_files)
        print(f"Naive: one fresh GX ValidationDefinition per file (values + tasks suites), {nv['files']} files "
              f"({', '.join(nv.get('formats', []))}):")
        print("  per file s: " + " ".join(f"{t:.3f}" for t in nv["times"]))
        print(f"  mean {nv['per_file_s']:.3f}s/file vs baocao {out['baocao_per_file_s'] * 1000:.2f} ms/file "
              f"(collect→publish / files; validate stage alone "
              f"{out['stages']['validate'] / max(res['files'], 1) * 1000:.2f} ms/file)")
        out.update(floor_seconds=fl["seconds"], cycle_over_floor=cycle / fl["seconds"],
                   naive_per_file_s=nv["per_file_s"],
                   naive_over_baocao_per_file=nv["per_file_s"] / out["baocao_per_file_s"])
    out["process_maxrss_mb"] = maxrss_mb()
    resources_.close()
    return out


def growth(jobs: int, keep: bool, scales: tuple[float, ...] = GROWTH_SCALES, notify: bool = True) -> dict:
    """The cycle at scale 1, 2 and 4, each in a fresh process, one after the other."""
    per_unit, rows = {}, []
    for sc in scales:
        cmd = [sys.executable, "-m", "bench.run", "--scale", str(sc), "--cycle-only", "--jobs", str(jobs)]
        if not notify:
            cmd.append("--no-notify")
        if not sys.pycache_prefix and sys.dont_write_bytecode:
            cmd.append("--no-bytecode-cache")
        if keep:
            cmd.append("--keep")
        print(f"\n# growth: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        for line in proc.stdout.splitlines():
            print("  | " + line)
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"growth run at scale {sc} failed ({proc.returncode})")
        got = parse_lines(proc.stdout)
        units = int(got["communes"])
        per_unit[sc] = float(got["cycle_seconds"]) / units
        rows.append((sc, units, float(got["cycle_seconds"]), per_unit[sc], float(got["peak_rss_mb"]),
                     time.perf_counter() - t0))
    print("\nGrowth (cycle seconds per commune):")
    print(f"{'scale':>6} {'communes':>9} {'cycle s':>9} {'ms/unit':>9} {'peak RSS MB':>12} {'run incl. gen s':>16}")
    for sc, units, secs, pu, rss, wall in rows:
        print(f"{sc:>6g} {units:>9} {secs:>9.2f} {pu * 1000:>9.2f} {rss:>12.0f} {wall:>16.0f}")
    out = {}
    pairs = list(itertools.pairwise(scales))
    if len(scales) > 2:
        pairs.append((scales[0], scales[-1]))
    for a, b in pairs:
        out[f"growth_per_unit_{a:g}_to_{b:g}"] = per_unit[b] / per_unit[a]
    out.update({f"growth_cycle_seconds_scale_{x:g}": r[2] for x, r in zip(scales, rows, strict=True)})
    out.update({f"growth_peak_rss_mb_scale_{x:g}": r[4] for x, r in zip(scales, rows, strict=True)})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="baocao national-scale benchmark")
    ap.add_argument("--scale", type=float, default=0.1, help="× 3,321 communes (default 0.1)")
    ap.add_argument("--growth", action="store_true", help="also run the cycle at scale 1, 2 and 4")
    ap.add_argument("--latency", action="store_true", help="event-driven feedback latency (local Prefect)")
    ap.add_argument("--latency-files", type=int, default=50, help="isolated drops measured by --latency")
    ap.add_argument("--latency-db", default="postgresql,sqlite",
                    help="Prefect server databases to measure latency on, in turn (the first that runs gives feedback_p50_s)")
    ap.add_argument("--cycle-only", action="store_true", help="skip floor and naive (used by --growth)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes generating the files")
    ap.add_argument("--naive-files", type=int, default=20, help="files in the naive per-file GX sample")
    ap.add_argument("--workdir", type=Path, help="folder to generate into (default: a new temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the generated folder")
    ap.add_argument("--profile", type=Path, help="write a cProfile of the cycle stages to this file")
    ap.add_argument("--no-notify", action="store_true",
                    help="skip the notify stage (Slack); for growth runs of the processing stages alone")
    ap.add_argument("--growth-scales", default="1,2,4", help="scales of --growth (default 1,2,4)")
    ap.add_argument("--no-bytecode-cache", action="store_true",
                    help="keep PYTHONDONTWRITEBYTECODE as set (every import compiles from source)")
    ap.add_argument("--delivery", action="store_true",
                    help="also measure delivery of a national cycle's notifications (bench/delivery.py)")
    ap.add_argument("--delivery-only", action="store_true", help="only the delivery measurement, at --scale")
    ap.add_argument("--generate-only", action="store_true",
                    help="write the catalog and the submissions into --workdir and stop (for --files-from)")
    ap.add_argument("--files-from", type=Path,
                    help="copy the catalog and submissions of an earlier --generate-only folder instead of generating")
    ap.add_argument("--validation-chunk", type=int, default=NATIONAL["validation_chunk"],
                    help=f"units per Great Expectations run (BAOCAO_VALIDATION_CHUNK; default {NATIONAL['validation_chunk']}, 0: whole batch)")
    ap.add_argument("--load-chunk", type=int, default=NATIONAL["load_chunk"],
                    help=f"units per insert of the load (BAOCAO_LOAD_CHUNK; default {NATIONAL['load_chunk']}, 0: whole batch)")
    ap.add_argument("--duckdb-memory", default=NATIONAL["duckdb_memory"],
                    help=f"DuckDB memory_limit of the writer (BAOCAO_DUCKDB_MEMORY; default {NATIONAL['duckdb_memory']}, '' for DuckDB's)")
    ap.add_argument("--marts-memory", default="256MB",
                    help="DuckDB memory_limit while the marts are built (BAOCAO_MARTS_MEMORY; default 256MB, 'off' for none)")
    ap.add_argument("--trace-memory", action="store_true",
                    help="also follow Python's heap per stage with tracemalloc (slow: for finding where memory goes)")
    args = ap.parse_args(argv)
    print("# load average at start: {:.2f} {:.2f} {:.2f} on {} cores".format(*os.getloadavg(), os.cpu_count()))
    if args.delivery_only:
        from bench import delivery

        for k, v in delivery.measure(scale=args.scale, keep=args.keep).items():
            print(f"{k}={_fmt(v)}")
        print("# load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        return 0
    if args.no_bytecode_cache:
        print("# bytecode: as the environment says (PYTHONDONTWRITEBYTECODE honoured)")
    else:
        print("# " + use_bytecode_cache())

    if args.generate_only and not args.workdir:
        ap.error("--generate-only needs --workdir")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="baocao-bench-"))
    if args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
    try:
        res = run_scale(args.scale, workdir, jobs=args.jobs, naive_files=args.naive_files,
                        cycle_only=args.cycle_only, profile=args.profile, notify=not args.no_notify,
                        trace=args.trace_memory, files_from=args.files_from, generate_only=args.generate_only,
                        bounds={"validation_chunk": args.validation_chunk, "load_chunk": args.load_chunk,
                                "duckdb_memory": args.duckdb_memory or None,
                                "marts_memory": None if args.marts_memory.lower() in ("off", "none", "0", "")
                                else args.marts_memory})
    finally:
        if not args.keep and not args.generate_only:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.generate_only:
        return 0
    scales = tuple(float(x) for x in args.growth_scales.split(","))
    extra = growth(args.jobs, args.keep, scales, notify=not args.no_notify) if args.growth else {}
    lats = {}
    if args.latency:
        from bench import latency
        for db in args.latency_db.split(","):
            print(f"\n# latency ({db}): starting baocao serve (local Prefect server on {db}, worker, watcher) …",
                  flush=True)
            lat = lats[db] = latency.measure(n=args.latency_files, keep=args.keep, db=db)
            if lat.get("startup_s") is not None:
                print(f"# latency ({db}): serve ready in {lat['startup_s']:.0f}s; warm-up drop "
                      f"{_fmt(lat.get('warmup'))}s; drops (s): " + " ".join(f"{x:.1f}" for x in lat["latencies"]))
            if lat.get("phases"):
                print(f"# latency ({db}): median split of the triggered deployment runs (the watcher answers first"
                      " and these runs find nothing; the split describes the backstop path) — "
                      + ", ".join(f"{k} {v:.1f}s" for k, v in lat["phases"].items()))
            print(f"# latency ({db}): {lat.get('reason', '')}")

    lines = {"scale": args.scale, "communes": res["communes"], "files": res["files"],
             "cycle_seconds": res["cycle_seconds"]}
    if not args.cycle_only:
        lines.update({k: res[k] for k in ("floor_seconds", "cycle_over_floor", "naive_per_file_s")})
    lines["baocao_per_file_s"] = res["baocao_per_file_s"]
    if not args.cycle_only:
        lines["naive_over_baocao_per_file"] = res["naive_over_baocao_per_file"]
    lines["peak_rss_mb"] = res["peak_rss_mb"]
    lines["workers_pss_mb"] = res["workers_pss_mb"]
    lines["cycle_without_notify_seconds"] = res["cycle_without_notify_seconds"]
    lines["cycle_with_delivery_seconds"] = res["cycle_with_delivery_seconds"]
    lines.update({f"stage_{k}_seconds": v for k, v in res["stages"].items()})
    lines.update(extra)
    if lats:
        # the first of --latency-db that could run (PostgreSQL, the production set-up, when installed)
        first = next((lat for lat in lats.values() if lat["p50"] is not None), next(iter(lats.values())))
        lines["feedback_p50_s"] = first["p50"]
        lines["feedback_p95_s"] = first["p95"]
        for db, lat in lats.items():
            lines[f"feedback_{db}_p50_s"] = lat["p50"]
            lines[f"feedback_{db}_p95_s"] = lat["p95"]
            lines[f"feedback_{db}_max_s"] = max(lat["latencies"]) if lat["latencies"] else None
    if args.delivery:
        from bench import delivery

        lines.update(delivery.measure(scale=args.scale, keep=args.keep))
    print("# load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print()
    for k, v in lines.items():
        print(f"{k}={_fmt(v)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
