"""A cycle through the real flow under Prefect's test harness, with every resource handed in: a
temporary warehouse and store, a recording sender, recording events and a fixed clock. No
environment variable is set and nothing is patched: what the run did is read back from the
resources it was given."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime

from baocao import events as ev
from baocao.resources import FixedClock, RecordingEvents, Resources
from notifications.sender import RecordingSender
from testing import demo

KEEP = 6  # communes whose files are kept (the rest of the province is missing)


def test_a_cycle_on_resources_handed_in(tmp_path, prefect_harness, monkeypatch):
    for k in [k for k in os.environ if k.startswith(("BAOCAO_", "SLACK_"))]:
        monkeypatch.delenv(k)  # the suite's own switches (BAOCAO_SKIP_SERVER_TESTS, …): none may reach the run
    from flows.cycle import reporting_cycle

    at = datetime(2026, 7, 20, 3, 0, tzinfo=UTC)
    clock, sender, events = FixedClock(at), RecordingSender(), RecordingEvents()
    res = Resources.fake(tmp_path / "home", clock=clock, sender=sender, events=events)
    plan = demo.generate(tmp_path / "generated", "2026H1", with_problems=False)
    kept = sorted({f["unit"] for f in plan.files if f["dataset"] == "XA_6T"})[:KEEP]
    for unit in kept:
        shutil.copytree(tmp_path / "generated" / unit, res.store.inbox / unit)

    with res:
        result = reporting_cycle("2026H1", resources=res)
        con = res.con()  # the flow did not close what it was handed
        assert result["collected"] == KEEP
        assert sorted(u for u, _, _ in result["statuses"]) == kept
        assert {st for _, _, st in result["statuses"]} <= {"accepted", "accepted_with_warnings"}
        # the clock handed in is the only time the run used
        assert con.execute("select distinct validated_at from raw.submission").fetchall() == [(at,)]
        assert {r[0] for r in con.execute("select opened_at from ops.cycle where period = '2026H1'").fetchall()} == {at}
        sent = con.execute("select unit_code, recipient, sent_at from ops.outbox where kind = 'feedback' "
                           "and status = 'sent' order by unit_code").fetchall()
        assert [u for u, _, _ in sent] == kept and {t for _, _, t in sent} == {at}
        # the recording sender got exactly what the outbox says was sent
        posted = con.execute("select key from ops.outbox where status = 'sent' order by key").fetchall()
        assert sorted(m.key for m in sender.sent) == [k for (k,) in posted]
        assert result["notified"]["dispatch"].sent and not result["notified"]["dispatch"].failed
    # the events went to the recorder, one per submission and stage
    names = events.names()
    assert names.count(ev.SUBMISSION_LOADED) == KEEP and names.count(ev.SUBMISSION_VALIDATED) == KEEP
    assert ev.CYCLE_OPENED in names and names[-1] == ev.AGGREGATES_PUBLISHED
    # everything was written under the temporary home, the snapshot included
    assert result["snapshot"] == str(res.snapshot.path) and res.snapshot.exists
    assert res.settings.db_path.is_relative_to(tmp_path) and res.settings.db_path.exists()
    assert not res.warehouse.is_open  # closed by `with res`
