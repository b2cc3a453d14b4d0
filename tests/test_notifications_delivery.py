"""Delivery (notifications/deliver.py) against the local Slack server with slack_sdk's real
WebClient, a real DuckDB warehouse file and the real SQLite delivery store; crashes are real
processes killed with SIGKILL, concurrency is real processes."""
# ruff: noqa: F811  (pytest fixtures imported from tests.slack_fixtures are test arguments)

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from notifications.deliver import deliver
from notifications.notify import enqueue_feedback, enqueue_schedule
from notifications.outbox import enqueue, recipient_for
from notifications.render import Message
from notifications.schedule import TZ as VN
from notifications.schedule import UnitStatus
from notifications.sender import EVENT_TYPE, SlackSender
from notifications.store import OutboxStore, handoff, path_of
from tests.slack_fixtures import slack_sender, slack_server, warehouse  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = datetime(2026, 7, 10, 23, 59, 59, tzinfo=VN)
OPENED = datetime(2026, 7, 1, 7, tzinfo=VN)
FAST = {"pace_s": 0.0, "deadline_s": 60}
COMMUNES = dict(enumerate(['LD.24781', 'LD.24787', 'LD.24778', 'LD.24805', 'LD.24846', 'LD.24823', 'LD.24820', 'LD.24841', 'LD.24829'], 1))  # the first Lâm Đồng wards of the catalog


def channel(unit: str) -> str:
    return "bc-" + unit.lower().replace(".", "-")


NOW = {"settle_s": 0.0}  # the test knows the earlier post is no longer in flight: look at once


def open_cycle(con, period="2026H1", dataset="XA_6T", closed_at=None):
    con.execute(
        "insert into ops.cycle values (?, ?, date '2026-01-01', date '2026-06-30', ?, ?, 'test', ?, ?)",
        [period, dataset, DEADLINE, DEADLINE + timedelta(days=30), OPENED, closed_at],
    )


def submit(con, unit, version, status, received_at, dataset="XA_6T", period="2026H1") -> str:
    sid = f"s{unit[-3:]}v{version}"
    con.execute(
        "insert into raw.submission (submission_id, unit_code, period, dataset_code, version, file_name,"
        " stored_path, sha256, size_bytes, file_format, received_at, source, status, n_errors, n_warnings,"
        " validated_at, is_late) values (?, ?, ?, ?, ?, 'bc.xlsx', '/x', 'h', 1, 'xlsx', ?, 'inbox', ?, ?, 0, ?, false)",
        [sid, unit, period, dataset, version, received_at, status, 1 if status == "rejected" else 0, received_at],
    )
    return sid


def feedback(con, unit, sid, version, status, received_at):
    assert enqueue_feedback(con, unit_code=unit, period="2026H1", dataset_code="XA_6T", submission_id=sid,
                            status=status, findings=[], version=version, received_at=received_at,
                            deadline=DEADLINE)
    return f"feedback:2026H1:XA_6T:{unit}:{sid}"


def keys_in(server, channel) -> list[str]:
    return [m["metadata"]["event_payload"]["key"] for m in server.messages(channel) if m.get("metadata")]


def add(con, unit="LD.24781", stage="d-7", recipient=None) -> str:
    assert enqueue(con, kind="reminder", period="2026H1", dataset_code="XA_6T", unit_code=unit, stage=stage,
                   recipient=recipient or recipient_for(unit).address,
                   message=Message(f"[baocao] {unit} {stage}", [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]))
    return f"reminder:2026H1:XA_6T:{unit}:{stage}"


@pytest.fixture
def store(warehouse):
    return OutboxStore(path_of(warehouse))


# ---------------------------------------------------------------------------------------------
# Messages that are still true when they arrive
# ---------------------------------------------------------------------------------------------


def test_backlog_v1_rejected_v2_accepted_sends_only_what_is_still_true_in_order(warehouse, store, slack_server,
                                                                                   slack_sender):
    con = warehouse
    open_cycle(con)
    units = [UnitStatus("LD.24781", False, False), UnitStatus("LD.24787", False, False)]
    # what the queue held when Slack came back: opened, reminder d-1 (both queued before anything arrived)
    enqueue_schedule(con, dataset_code="XA_6T", period="2026H1", units=units, deadline=DEADLINE,
                     now=datetime(2026, 7, 1, 8, tzinfo=VN), opened_at=OPENED)
    enqueue_schedule(con, dataset_code="XA_6T", period="2026H1", units=units, deadline=DEADLINE,
                     now=datetime(2026, 7, 9, 8, tzinfo=VN), opened_at=OPENED)
    # LD.24781: v2 (accepted) was processed before v1's feedback went out; feedback queued v2 first
    t1, t2 = datetime(2026, 7, 3, 9, tzinfo=VN), datetime(2026, 7, 6, 9, tzinfo=VN)
    v2 = feedback(con, "LD.24781", submit(con, "LD.24781", 2, "accepted", t2), 2, "accepted", t2)
    v1 = feedback(con, "LD.24781", submit(con, "LD.24781", 1, "rejected", t1), 1, "rejected", t1)
    # LD.24787: only v1, rejected, queued after its reminder
    t3 = datetime(2026, 7, 5, 9, tzinfo=VN)
    x2 = feedback(con, "LD.24787", submit(con, "LD.24787", 1, "rejected", t3), 1, "rejected", t3)
    assert handoff(con, store) == 7

    now = datetime(2026, 7, 9, 10, tzinfo=VN)  # the day before the deadline
    report = deliver(store, slack_sender, now=now, **FAST)
    assert not report.failed and not report.pending
    # LD.24781: only "accepted (v2)"; everything about its missing or rejected report is gone
    assert keys_in(slack_server, "bc-ld-24781") == [v2]
    assert report.superseded[v1].startswith("later_version v2")
    assert report.superseded["reminder:2026H1:XA_6T:LD.24781:d-1"].startswith("accepted")
    assert report.superseded["cycle_opened:2026H1:XA_6T:LD.24781:opened"].startswith("received")
    # LD.24787: the rejection, then the reminder — in the order of the events, not of the queue
    assert keys_in(slack_server, "bc-ld-24787") == [x2, "reminder:2026H1:XA_6T:LD.24787:d-1"]
    reminder = slack_server.messages("bc-ld-24787")[1]
    assert "Còn *1 ngày* đến hạn nộp (10/07/2026)" in json.dumps(reminder["blocks"], ensure_ascii=False)
    # queued when nothing had arrived; sent after the rejection: it says what is true now
    assert "Báo cáo đã gửi chưa được tiếp nhận (có lỗi)" in json.dumps(reminder["blocks"], ensure_ascii=False)
    rows = {r["key"]: r for r in store.rows()}
    assert {k: r["status"] for k, r in rows.items() if r["status"] != "sent"} == {
        v1: "superseded", "reminder:2026H1:XA_6T:LD.24781:d-1": "superseded",
        "cycle_opened:2026H1:XA_6T:LD.24781:opened": "superseded",
        "cycle_opened:2026H1:XA_6T:LD.24787:opened": "superseded",
    }
    # the mirror in the warehouse says the same
    handoff(con, store)
    assert con.execute("select status, error from ops.outbox where key = ?", [v1]).fetchone()[0] == "superseded"
    assert deliver(store, slack_sender, now=now, **FAST).sent == []


def test_dates_in_a_message_are_computed_when_it_is_sent(warehouse, store, slack_server, slack_sender):
    open_cycle(warehouse)
    t = datetime(2026, 7, 5, 9, tzinfo=VN)
    key = feedback(warehouse, "LD.24787", submit(warehouse, "LD.24787", 1, "rejected", t), 1, "rejected", t)
    queued = warehouse.execute("select blocks_json from ops.outbox where key = ?", [key]).fetchone()[0]
    assert "trước hạn 10/07/2026" in queued  # true when it was queued
    handoff(warehouse, store)
    late = datetime(2026, 11, 30, 9, tzinfo=VN)  # 145 days later, the cycle still open
    assert deliver(store, slack_sender, now=late, **FAST).sent == [key]
    (msg,) = slack_server.messages("bc-ld-24787")
    body = json.dumps(msg["blocks"], ensure_ascii=False)
    assert "Hạn đã qua ngày 10/07/2026 — vui lòng sửa các lỗi và gửi lại ngay" in body
    assert "trước hạn" not in body


def test_an_escalation_for_a_unit_accepted_meanwhile_is_superseded_not_sent(warehouse, store, slack_server,
                                                                            slack_sender):
    open_cycle(warehouse)
    late = datetime(2026, 7, 14, 8, tzinfo=VN)
    units = [UnitStatus("LD.24781", False, False), UnitStatus("LD.24787", False, False)]
    added = enqueue_schedule(warehouse, dataset_code="XA_6T", period="2026H1", units=units, deadline=DEADLINE,
                             now=late)
    assert len(added) == 6  # overdue, escalation to the supervisor and to the operator, for each
    submit(warehouse, "LD.24781", 1, "accepted", late + timedelta(hours=1))  # accepted meanwhile
    handoff(warehouse, store)
    report = deliver(store, slack_sender, now=late + timedelta(hours=2), **FAST)
    gone = {k for k in added if ":LD.24781:" in k}
    assert set(report.superseded) == gone
    assert all(r.startswith("accepted") for r in report.superseded.values())
    assert keys_in(slack_server, "bc-ld-24781") == []
    assert keys_in(slack_server, "bc-ld-syt") == ["escalation:2026H1:XA_6T:LD.24787:escalation"]
    (digest,) = slack_server.messages("bc-operator")  # one digest, about LD.24787 only
    body = json.dumps(digest["blocks"], ensure_ascii=False)
    assert "LD.24787" in body and "LD.24781" not in body and "*1* đơn vị quá hạn" in body
    assert report.digested == {"escalation:2026H1:XA_6T:LD.24787:escalation-operator":
                               digest["metadata"]["event_payload"]["key"]}


def test_closed_cycles_and_older_summaries_are_not_sent(warehouse, store, slack_server, slack_sender):
    open_cycle(warehouse, closed_at=datetime(2026, 8, 10, tzinfo=VN))
    overdue = enqueue_schedule(warehouse, dataset_code="XA_6T", period="2026H1",
                               units=[UnitStatus("LD.24778", False, False)], deadline=DEADLINE,
                               now=datetime(2026, 7, 11, 8, tzinfo=VN))
    handoff(warehouse, store)
    report = deliver(store, slack_sender, now=datetime(2026, 8, 20, tzinfo=VN), **FAST)
    assert set(report.superseded) == set(overdue)
    assert all(r.startswith("cycle_closed") for r in report.superseded.values())
    assert slack_server.messages("bc-ld-24778") == []


# ---------------------------------------------------------------------------------------------
# Exactly once, without holes
# ---------------------------------------------------------------------------------------------


def test_a_drop_buried_under_1500_later_posts_is_found_not_reposted(warehouse, store, slack_server, slack_sender):
    key = add(warehouse)
    handoff(warehouse, store)
    slack_server.drop_after_accept_next(1)
    first = deliver(store, slack_sender, **FAST)  # lost answer: it may still be in flight, wait
    assert first.pending == {key: "connection_error"}
    assert deliver(store, slack_sender, **FAST).pending == {key: "connection_error"}  # settling
    assert slack_server.calls("conversations.history") == []
    slack_server.inject("bc-ld-24781", 1500)  # people talk in the channel meanwhile
    second = deliver(store, slack_sender, **FAST, **NOW)
    assert second.recovered == [key] and not second.sent
    assert len(slack_server.calls("chat.postMessage")) == 1
    assert keys_in(slack_server, "bc-ld-24781") == [key]
    pages = slack_server.calls("conversations.history")
    assert len(pages) >= 8 and all(float(p["oldest"]) > 0 for _, p in pages)  # from the claim, every page
    assert store.row(key)["slack_ts"] == slack_server.messages("bc-ld-24781")[0]["ts"]


def test_a_5xx_after_slack_accepted_the_post_is_not_reposted(warehouse, store, slack_server, slack_sender):
    key = add(warehouse)
    handoff(warehouse, store)
    slack_server.fail_after_accept_next(1, status=500)
    report = deliver(store, slack_sender, **FAST)
    assert report.recovered == [key] and not report.sent
    assert len(slack_server.calls("chat.postMessage")) == 1  # the client did not retry the 500
    assert keys_in(slack_server, "bc-ld-24781") == [key]
    assert (store.row(key)["status"], store.row(key)["attempts"]) == ("sent", 1)


def test_a_wrong_token_fails_once_with_one_message(warehouse, store, slack_server):
    keys = [add(warehouse, COMMUNES[i]) for i in range(1, 6)]
    handoff(warehouse, store)
    wrong = SlackSender("xoxb-sai", slack_server.url)
    for _ in range(3):
        report = deliver(store, wrong, **FAST)
        assert report.auth_error == "invalid_auth" and set(report.pending) == set(keys)
    assert [m for m, _ in slack_server.calls()] == ["auth.test"] * 3  # nothing else was tried
    notices = store.notices()
    assert len(notices) == 1 and notices[0]["code"] == "auth" and "invalid_auth" in notices[0]["text"]
    assert {(r["status"], r["attempts"]) for r in store.rows()} == {("pending", 0)}  # no row burnt
    # fixed: everything goes, and the operator sees that it resumed
    assert sorted(deliver(store, SlackSender(slack_server.token, slack_server.url), **FAST).sent) == sorted(keys)
    assert store.notices(1)[0]["code"] == "resumed"


def test_a_transient_resolve_error_ends_as_failed_after_the_limit(warehouse, store, slack_server, slack_sender):
    a = add(warehouse, "LD.24781", "d-7")
    b = add(warehouse, "LD.24781", "d-1")
    handoff(warehouse, store)
    slack_server.error_next(100, code="internal_error", method="conversations.list")
    for run in range(1, 4):
        report = deliver(store, slack_sender, max_attempts=3, **FAST)
        # one look-up per run, however many messages share the recipient (the failure is cached)
        assert len(slack_server.calls("conversations.list")) == run
        if run < 3:
            assert report.pending == {a: "internal_error", b: "internal_error"}
    assert report.failed == {a: "too_many_attempts: internal_error", b: "too_many_attempts: internal_error"}
    assert {(r["status"], r["attempts"]) for r in store.rows()} == {("failed", 3)}
    assert slack_server.messages() == []


def test_circuit_breaker_and_deadline_with_a_stalling_slack(warehouse, store, slack_server, slack_sender):
    keys = [add(warehouse, COMMUNES[i]) for i in range(1, 10)]
    handoff(warehouse, store)
    slack_server.stall(3.0, method="chat.postMessage")  # each post hangs 3 s, then is stored
    started = time.monotonic()
    report = deliver(store, slack_sender, deadline_s=8, request_timeout_s=1, breaker_after=3, workers=3,
                     pace_s=0.0, settle_s=5)
    took = time.monotonic() - started
    assert took < 8 + 1.5  # ends by its deadline (plus the last request's timeout)
    assert report.breaker_open and not report.failed and not report.sent
    assert set(report.pending) == set(keys)
    assert [n["code"] for n in store.notices()] == ["breaker_open"]
    again = deliver(store, slack_sender, deadline_s=3, request_timeout_s=1, breaker_after=3, workers=3,
                    pace_s=0.0, settle_s=5)  # the hung posts are still in flight: none posted again
    assert [n["code"] for n in store.notices()] == ["breaker_open"]  # one notice per outage
    time.sleep(5.5)  # the stalled posts land in Slack after the client gave up on them; settled
    slack_server.stall(None)
    final = deliver(store, slack_sender, **FAST, settle_s=5)
    delivered = again.sent + again.recovered + final.sent + final.recovered
    assert sorted(delivered) == sorted(keys)
    assert final.recovered  # posts that hung but were stored are found, not posted again
    for i in range(1, 10):
        assert len(keys_in(slack_server, channel(COMMUNES[i]))) == 1  # nothing lost, nothing twice


def test_channels_are_paced_and_run_in_parallel(warehouse, store, slack_server, slack_sender):
    slack_server.pace_channels(1.0, burst=2)  # like Slack: ~1 post per second per channel
    keys = [add(warehouse, u, f"d-{i}") for u in ("LD.24781", "LD.24787", "LD.24778") for i in range(5)]
    handoff(warehouse, store)
    report = deliver(store, slack_sender, pace_s=1.0, deadline_s=60)
    assert sorted(report.sent) == sorted(keys)
    assert slack_server.rejected_by_pace == 0 and not slack_server.calls("chat.postMessage")[15:]
    firsts, lasts = [], []
    for ch in ("bc-ld-24781", "bc-ld-24787", "bc-ld-24778"):
        ts = [float(m["ts"]) for m in slack_server.messages(ch)]
        assert all(b - a >= 0.75 for a, b in itertools.pairwise(ts))  # paced within a channel
        firsts.append(ts[0])
        lasts.append(ts[-1])
    assert max(firsts) < min(lasts)  # channels side by side, not one after the other


# ---------------------------------------------------------------------------------------------
# Real processes: the warehouse held elsewhere, SIGKILL, two dispatchers
# ---------------------------------------------------------------------------------------------

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _child(code: str, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


HOLD_WRITER = """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("begin transaction")
    con.execute("update ops.outbox set text = text")
    print("holding", flush=True)
    time.sleep(120)
"""


def test_delivery_runs_while_another_process_holds_the_warehouse_writer(warehouse, store, slack_server,
                                                                        slack_sender, tmp_path):
    key = add(warehouse)
    handoff(warehouse, store)
    db_file = str(tmp_path / "warehouse.duckdb")
    warehouse.close()
    holder = _child(HOLD_WRITER, db_file)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(duckdb.IOException):  # the warehouse is really taken
            duckdb.connect(db_file)
        report = deliver(OutboxStore(store.path), slack_sender, **FAST)
        assert report.sent == [key] and keys_in(slack_server, "bc-ld-24781") == [key]
    finally:
        holder.kill()
        holder.wait()


DIES_AFTER_ACCEPT = """
    import os, sys, time
    from notifications.deliver import deliver
    from notifications.sender import SlackSender
    from notifications.store import OutboxStore

    class Dies(SlackSender):
        def post(self, channel, text, blocks, key):
            posted = super().post(channel, text, blocks, key)   # Slack accepted it
            print("accepted", posted.ts, flush=True)
            time.sleep(120)                                       # killed here, before the record
            return posted

    deliver(OutboxStore(sys.argv[1]), Dies(sys.argv[2], sys.argv[3]), pace_s=0, deadline_s=300)
"""

DELIVER = """
    import json, sys
    from notifications.deliver import deliver
    from notifications.sender import SlackSender
    from notifications.store import OutboxStore

    pace = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    settle = float(sys.argv[5]) if len(sys.argv) > 5 else 120.0
    r = deliver(OutboxStore(sys.argv[1]), SlackSender(sys.argv[2], sys.argv[3]), pace_s=pace, deadline_s=120,
                settle_s=settle)
    print(json.dumps(r.as_dict()), flush=True)
"""


def test_sigkill_between_slack_accept_and_the_record_is_not_resent(warehouse, store, slack_server):
    key = add(warehouse)
    handoff(warehouse, store)
    args = (str(store.path), slack_server.token, slack_server.url)
    dying = _child(DIES_AFTER_ACCEPT, *args)
    try:
        line = dying.stdout.readline().split()
        assert line[0] == "accepted", dying.stderr.read()
    finally:
        os.kill(dying.pid, signal.SIGKILL)
        dying.wait()
    assert dying.returncode == -signal.SIGKILL
    row = OutboxStore(store.path).row(key)
    assert (row["status"], row["attempts"]) == ("pending", 1)  # the record never happened
    # a new process with the default settle time leaves it alone (it might still be in flight)…
    waiting = _child(DELIVER, *args, "0", "120")
    out, err = waiting.communicate(timeout=120)
    assert json.loads(out.strip().splitlines()[-1])["pending"] == {key: "settling"}, err
    # … and once settled, finds it in the channel instead of posting it again
    fresh = _child(DELIVER, *args, "0", "0")
    out, err = fresh.communicate(timeout=120)
    assert fresh.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["recovered"] == [key] and report["sent"] == [] and report["busy"] == []
    assert keys_in(slack_server, "bc-ld-24781") == [key]
    assert len(slack_server.calls("chat.postMessage")) == 1
    assert OutboxStore(store.path).row(key)["slack_ts"] == line[1]


def test_two_dispatchers_at_once_send_each_message_once(warehouse, store, slack_server):
    keys = [add(warehouse, COMMUNES[u], f"d-{i}") for u in range(1, 7) for i in range(4)]
    keys += [add(warehouse, COMMUNES[u], "d-9", recipient=f"baocao.{channel(COMMUNES[u])[3:]}@example.vn") for u in range(1, 4)]
    handoff(warehouse, store)
    # settle 0 and posts that take 0.2 s: the leases alone keep one dispatcher off the other's
    # in-flight posts (without them this test posts duplicates)
    slack_server.stall(0.2, method="chat.postMessage")
    args = (str(store.path), slack_server.token, slack_server.url, "0.05", "0")
    procs = [_child(DELIVER, *args) for _ in range(2)]
    reports = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    posted = [m["metadata"]["event_payload"]["key"] for m in slack_server.messages() if m.get("metadata")]
    assert sorted(posted) == sorted(keys)  # each message once
    assert sorted(reports[0]["sent"] + reports[1]["sent"]) == sorted(keys)
    assert {r["status"] for r in OutboxStore(store.path).rows()} == {"sent"}
    for m in slack_server.messages():
        assert m["metadata"]["event_type"] == EVENT_TYPE
    # and in order per recipient: d-0 … d-3 as enqueued (same event time, then by enqueue time)
    for u in range(1, 7):
        got = keys_in(slack_server, channel(COMMUNES[u]))
        assert got == [f"reminder:2026H1:XA_6T:{COMMUNES[u]}:d-{i}" for i in range(4)]


def test_handoff_is_idempotent_and_mirrors_the_state(warehouse, store, slack_sender, slack_server):
    key = add(warehouse)
    assert handoff(warehouse, store) == 1 and handoff(warehouse, store) == 0
    deliver(store, slack_sender, **FAST)
    handoff(warehouse, store)
    status, ts, sent_at = warehouse.execute(
        "select status, slack_ts, sent_at from ops.outbox where key = ?", [key]).fetchone()
    assert status == "sent" and ts == slack_server.messages("bc-ld-24781")[0]["ts"]
    assert abs((sent_at - datetime.now(UTC)).total_seconds()) < 60


def test_a_message_left_pending_holds_back_the_later_ones_of_its_recipient(warehouse, store, slack_server,
                                                                         slack_sender):
    first, later = add(warehouse, "LD.24781", "d-7"), add(warehouse, "LD.24781", "d-1")
    handoff(warehouse, store)
    slack_server.fail_next(2, status=503, method="chat.postMessage")
    report = deliver(store, slack_sender, **FAST)
    assert report.pending == {first: "internal_error", later: "after_earlier"} and not report.sent
    assert keys_in(slack_server, "bc-ld-24781") == []
    assert store.row(later)["attempts"] == 0  # never tried: it must not overtake the earlier one
    assert deliver(store, slack_sender, **FAST).sent == [first, later]
    assert keys_in(slack_server, "bc-ld-24781") == [first, later]


def test_the_deliver_flow_sends_while_the_warehouse_is_held(prefect_harness, tmp_path, slack_server, monkeypatch):
    """The deliver-notifications flow (real Prefect, test harness) after a warehouse run handed off
    (tasks.cycle.dispatch): it needs nothing from the warehouse, which another process holds."""
    from baocao.resources import live
    from baocao.settings import settings
    from flows.deliver import deliver_notifications
    from tasks import cycle as t

    s = settings(tmp_path / "home")
    with live(s) as res:
        key = add(res.con())
        assert t.dispatch.fn(res) == {"handed_off": 1}
    holder = _child(HOLD_WRITER, str(s.db_path))
    try:
        assert holder.stdout.readline().strip() == "holding"
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack_server.token)
        monkeypatch.setenv("SLACK_API_URL", slack_server.url)
        out = deliver_notifications(home=str(s.home), deadline_s=60, reason="test")
        assert out["sent"] == [key] and keys_in(slack_server, "bc-ld-24781") == [key]
    finally:
        holder.kill()
        holder.wait()
