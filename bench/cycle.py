"""The real cycle stages of baocao/pipeline.py, in-process, on the national catalog, measured.

Non-bench code loads the one-province catalog by itself in three places; the benchmark works
around them without changing them (bench/README.md, "Catalog work-arounds"):

1. `warehouse.db.connect` (via `pipeline.connection`) loads catalog/ into the core dimension tables.
   The open stage then replaces them with the national catalog through the public
   `warehouse.catalog_load.load_catalog(con, cat)` and rebuilds the core models, in one transaction.
2. `pipeline.enqueue_feedback` / `enqueue_schedule` filter units by `catalog_mod.load().recipients`
   (the default catalog): every national unit would be skipped. `national_catalog()` makes
   `baocao.pipeline`'s own reference `catalog_mod` answer `load()` with the national catalog.
3. They call `notifications.notify` without `catalog_dir`, so names and recipients would come from
   catalog/ (a national unit has no recipient there). `national_catalog()` points the keyword-only
   `catalog_dir` default of those notify functions at the national folder.
Both patches live only for the duration of `run_cycle` and are restored afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from baocao import calendar, pipeline
from baocao.settings import Settings
from bench import national
from bench.measure import Meter

ROOT = Path(__file__).resolve().parents[1]


class _CatalogModule:
    """Stands in for `catalog` inside baocao.pipeline: `load()` → the national catalog."""

    def __init__(self, module, cat):
        self._module, self._cat = module, cat

    def load(self, folder=None):
        return self._cat if folder is None else self._module.load(folder)

    def __getattr__(self, name):
        return getattr(self._module, name)


@contextmanager
def national_catalog(cat, folder: Path):
    from notifications import notify

    fns = [notify.enqueue_feedback, notify.render_due, notify.enqueue_due, notify.enqueue_schedule,
           notify.enqueue_operator_summary]
    saved = [dict(f.__kwdefaults__ or {}) for f in fns]
    module = pipeline.catalog_mod
    for f in fns:
        f.__kwdefaults__["catalog_dir"] = Path(folder)
    pipeline.catalog_mod = _CatalogModule(module, cat)
    try:
        yield
    finally:
        pipeline.catalog_mod = module
        for f, kw in zip(fns, saved, strict=True):
            f.__kwdefaults__.clear()
            f.__kwdefaults__.update(kw)


@contextmanager
def slack_server(recipients_csv: Path):
    """The local Slack-compatible server as a child process (so its work is not this process's)."""
    proc = subprocess.Popen([sys.executable, "-m", "notifications.slack_server", "--port", "0",
                             "--recipients", str(recipients_csv)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    env = {}
    try:
        while len(env) < 2:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("the local Slack server did not start")
            k, _, v = line.strip().partition("=")
            if k in ("SLACK_API_URL", "SLACK_BOT_TOKEN"):
                env[k] = v
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield env
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _deadline(cat, period: str):
    per = calendar.parse_period(period)
    return calendar.deadline(per, calendar.DeadlineRule.from_dict(cat.datasets[national.DATASET].deadline))


def run_cycle(s: Settings, cat, catalog_dir: Path, period: str = national.PERIOD, notify: bool = True) -> dict:
    """open → collect → pending → parse → validate → load → aggregate → notify → publish."""
    with national_catalog(cat, catalog_dir):
        return _run_cycle(s, cat, catalog_dir, period, notify)


def _run_cycle(s: Settings, cat, catalog_dir: Path, period: str, notify: bool) -> dict:
    from warehouse import catalog_load, models

    meter = Meter()
    deadline = _deadline(cat, period)
    opened_at, now = deadline - timedelta(days=20), deadline + timedelta(days=4)
    out: dict = {"meter": meter}

    with meter.stage("open", "org units loaded") as st:
        con = pipeline.connection(s)
        con.execute("begin transaction")
        catalog_load.load_catalog(con, cat)
        models.build(con, layers=("core",))
        con.execute("commit")
        pipeline.open_cycle(con, period, datasets=[national.DATASET], now=opened_at, cat=cat)
        st.rows = len(cat.org_units)
    out["history_rows"] = national.seed_history(con, cat, period)   # set-up between stages, not timed

    with meter.stage("collect", "files") as st:
        st.rows = len(pipeline.collect(s))
    with meter.stage("pending", "files") as st:
        files = pipeline.pending(con, s)
        st.rows = len(files)
    with meter.stage("parse", "values+tasks+texts") as st:
        records = pipeline.parse(files, con, cat)
        st.rows = sum(len(r.values) + len(r.tasks) + len(r.texts) for r in records)
        st.note = f"{len(records)} files"
    parsed_ok = [r for r in records if not any(f.severity == "error" for f in r.findings)]
    with meter.stage("validate", "values+tasks") as st:
        vstats = pipeline.validate(records, con, cat)
        st.rows = sum(len(r.values) + len(r.tasks) for r in parsed_ok)
        st.note = f"{vstats['batches']} GX batch(es), {vstats['rows']} frame rows"
    with meter.stage("load", "rows inserted") as st:
        counts = pipeline.load(con, records)
        st.rows = counts["submissions"] + counts["values"] + counts["findings"]
        st.note = f"{counts['submissions']} submissions, {counts['values']} values, {counts['findings']} findings"
    with meter.stage("aggregate", "mart rows") as agg:
        built = pipeline.aggregate(con)
    agg.rows = sum(con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in   # counted untimed
                   ("indicator_value", "target_progress", "reporting_completeness", "reporting_rate", "task_progress"))
    agg.note = f"{len(built)} models"
    if notify:
        with meter.stage("enqueue", "messages") as st:
            n_feedback = pipeline.enqueue_feedback(con, s, records)
            n_schedule = pipeline.enqueue_schedule(con, period, now)
            st.rows = n_feedback + n_schedule
            st.note = f"{n_feedback} feedback + {n_schedule} scheduled into the outbox"
    with meter.stage("publish", "mart rows exported") as st:
        snap = pipeline.publish_all(con, s)
        st.rows = agg.rows
        st.note = f"snapshot {snap.stat().st_size / 1048576:.0f} MB + parquet"
    if notify:
        # delivery comes after publishing: analysts and the operator do not wait for Slack
        with slack_server(catalog_dir / "recipients.csv"):
            with meter.stage("deliver", "messages") as st:
                t0 = time.perf_counter()
                n_files = pipeline.write_feedback_files(s, records)
                t1 = time.perf_counter()
                report = pipeline.dispatch(con)
                st.rows = len(report.sent)
                st.extra = {"annotate_s": t1 - t0, "dispatch_s": time.perf_counter() - t1}
                st.note = (f"{n_files} annotated workbooks in {t1 - t0:.1f}s; "
                           f"sent {len(report.sent)}, failed {len(report.failed)}, pending {len(report.pending)}")
                out["notify_failed"] = len(report.failed)

    statuses = {}
    for r in records:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    out.update(records=records, statuses=statuses, files=len(records), con=con)
    return out
