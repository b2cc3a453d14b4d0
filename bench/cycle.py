"""The real cycle stages of baocao.services, in-process, on the national catalog, measured.

The national catalog is handed in as the resources' catalog (`FixedCatalog`), and a fixed clock
four days after the deadline. One place still loads the one-province catalog by itself
(bench/README.md, "Catalog work-arounds"): `warehouse.db.connect` (when the Warehouse resource
first opens) loads catalog/ into the core dimension tables. The open stage then
replaces them with the national catalog through the public `warehouse.catalog_load.load_catalog(con,
cat)` and rebuilds the core models, in one transaction.
"""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from baocao import calendar
from baocao.resources import FixedCatalog, FixedClock, Resources, live
from baocao.services import answer, cycles, deliver, process
from baocao.settings import Settings
from bench import national
from bench.measure import Meter

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def slack_server(recipients_csv: Path):
    """The local Slack-compatible server as a child process (so its work is not this process's)."""
    proc = subprocess.Popen([sys.executable, "-m", "testing.slack_server", "--port", "0",
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
        yield env
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _deadline(cat, period: str):
    per = calendar.parse_period(period)
    return calendar.deadline(per, calendar.DeadlineRule.from_dict(cat.datasets[national.DATASET].deadline))


def resources(s: Settings, cat, period: str = national.PERIOD) -> Resources:
    """The live resources of the bench's home with the national catalog and a clock set four days
    after the deadline (no sender until the local Slack server runs)."""
    return live(s, catalog=FixedCatalog(cat), clock=FixedClock(_deadline(cat, period) + timedelta(days=4)), sender=None)


def run_cycle(res: Resources, catalog_dir: Path, period: str = national.PERIOD, notify: bool = True,
              trace: bool = False) -> dict:
    """open → collect → pending → parse → validate → load → aggregate → notify → publish."""
    meter = Meter(trace=trace)
    try:
        return _stages(res, catalog_dir, period, notify, meter)
    except BaseException as exc:
        exc.meter = meter  # bench.run prints the stages measured before the failure
        raise


def _stages(res: Resources, catalog_dir: Path, period: str, notify: bool, meter: Meter) -> dict:
    from warehouse import catalog_load, models
    from warehouse import load as load_mod

    cat = res.cat
    opened_at = _deadline(cat, period) - timedelta(days=20)
    out: dict = {"meter": meter}

    # set-up, before the warehouse opens here, in another process (not timed, not in this RSS)
    out["history_rows"] = national.seed_history_apart(res.warehouse.path, catalog_dir, period)
    with meter.stage("open", "org units loaded") as st:
        con = res.con()
        con.execute("begin transaction")
        catalog_load.load_catalog(con, cat)
        models.build(con, layers=("core",))
        con.execute("commit")
        cycles.open_cycle(res, period, datasets=[national.DATASET], now=opened_at)
        st.rows = len(cat.org_units)

    with meter.stage("collect", "files") as st:
        st.rows = len(process.collect(res))
    with meter.stage("pending", "files") as st:
        files = process.pending(res)
        st.rows = len(files)
    with meter.stage("parse", "values+tasks+texts") as st:
        records = process.parse(res, files)
        st.rows = sum(len(r.values) + len(r.tasks) + len(r.texts) for r in records)
        st.note = f"{len(records)} files"
    parsed_ok = [r for r in records if not any(f.severity == "error" for f in r.findings)]
    with meter.stage("validate", "values+tasks") as st:
        vstats = process.validate(res, records)
        st.rows = sum(len(r.values) + len(r.tasks) for r in parsed_ok)
        st.note = f"{vstats['batches']} GX batch(es), {vstats['rows']} frame rows"
    with meter.stage("load", "rows inserted") as st:
        counts = process.load(res, records)
        load_mod.release_facts(records)  # the parsed rows are in the warehouse now
        st.rows = counts["submissions"] + counts["values"] + counts["findings"]
        st.note = f"{counts['submissions']} submissions, {counts['values']} values, {counts['findings']} findings"
    with meter.stage("aggregate", "mart rows") as agg:
        built = process.aggregate(res)
    agg.rows = sum(con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in   # counted untimed
                   ("indicator_value", "target_progress", "reporting_completeness", "reporting_rate", "task_progress"))
    agg.note = f"{len(built)} models"
    if notify:
        with meter.stage("enqueue", "messages") as st:
            n_feedback = answer.enqueue_feedback(res, records)
            n_schedule = answer.enqueue_schedule(res, period)
            st.rows = n_feedback + n_schedule
            st.note = f"{n_feedback} feedback + {n_schedule} scheduled into the outbox"
    with meter.stage("publish", "mart rows exported") as st:
        snap = process.publish_all(res)
        st.rows = agg.rows
        st.note = f"snapshot {snap.stat().st_size / 1048576:.0f} MB + parquet"
    if notify:
        # delivery comes after publishing: analysts and the operator do not wait for Slack
        with slack_server(catalog_dir / "recipients.csv") as env:
            from notifications.sender import SlackSender

            sender = SlackSender(env["SLACK_BOT_TOKEN"], base_url=env["SLACK_API_URL"])
            with meter.stage("deliver", "messages") as st:
                t0 = time.perf_counter()
                n_files = answer.write_feedback_files(res, records)
                t1 = time.perf_counter()
                report = deliver.dispatch(res, sender)
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
