"""The Slack door end to end: the real slack_sdk clients (SocketModeClient, WebClient) against the
local two-way Slack server, a real DuckDB warehouse, the real process-submissions flow under
Prefect's test harness, the committed Great Expectations suites.

One module-scoped home: 2025H2 answered for LD.24781 and LD.24787 (the history the pre-filled form
shows), 2026H1 open; then units share files, write commands, and the tests read the threads."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from baocao.resources import FixedClock, live
from baocao.services import cycles, deliver
from baocao.settings import settings
from intake import form
from slackdoor import forms
from slackdoor.answer import sender_for
from slackdoor.config import DoorConfig
from slackdoor.listener import Door, Listener
from slackdoor.web import DoorClient
from testing import demo
from testing.slack_socket_server import from_recipients

X1, X2 = "LD.24781", "LD.24787"
CH1, CH2 = "bc-ld-24781", "bc-ld-24787"
DS = "XA_6T"
_SERVER: list = [None]
_RES: list = [None]


def _con():
    return _RES[0].con()


def _files_of(inbox: Path, period: str, tmp: Path) -> dict[str, bytes]:
    folder = tmp / f"gen-{period}"
    for seed in range(demo.SEED, demo.SEED + 20):  # the demo draws CSV for some units: these need workbooks
        shutil.rmtree(folder, ignore_errors=True)
        demo.generate(folder, period, with_problems=False, seed=seed)
        if all(p.suffix == ".xlsx" for unit in (X1, X2) for p in (folder / unit).iterdir()):
            break
    out = {}
    for unit in (X1, X2):
        (path,) = sorted((folder / unit).iterdir())
        out[unit] = path.read_bytes()
        if inbox is not None:
            (inbox / unit).mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, inbox / unit / path.name)
    shutil.rmtree(folder)
    return out


def _with_text_in_a_number_cell(xlsx: bytes) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(xlsx))
    ws = wb[form.SHEET_DATA]
    for r in range(form.HEADER_ROW + 1, ws.max_row + 1):
        if ws.cell(r, 1).value == "POP_INSURED":
            ws.cell(r, form.DATA_VALUE_COL, "khoảng 9 nghìn")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def door(tmp_path_factory, prefect_harness):
    tmp = tmp_path_factory.mktemp("slack")
    slack = from_recipients().start()
    env = {"SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.url, "SLACK_APP_TOKEN": slack.app_token}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    s = settings(tmp / "home")
    res = live(s)  # the listener's resources: live Slack sender, the real clock
    _RES[0] = res
    listener = None
    try:
        # history: 2025H2 answered for two communes (through the inbox, as before)
        from flows.cycle import process_submissions

        cycles.open_cycle(res, "2025H2")
        _files_of(s.inbox, "2025H2", tmp)
        process_submissions(str(s.home), refresh=False, resources=res)
        # opened before its deadline (10/07/2026), so the schedule starts with "cycle opened"
        cycles.open_cycle(res, "2026H1", now=datetime(2026, 7, 1, 1, 0, tzinfo=UTC))
        files = _files_of(None, "2026H1", tmp)
        files["bad"] = _with_text_in_a_number_cell(files[X1])  # saved once: openpyxl stamps the time
        cfg = DoorConfig.from_env()
        client = DoorClient(cfg.bot_token, cfg.api_url, timeout=10, backoff_factor=0.02)
        listener = Listener(res, cfg, door=Door(res, cfg, client=client), retry_wait=0.1, ping_interval=2,
                            release_warehouse=False).start()
        _SERVER[0] = slack
        yield s, slack, listener, files
    finally:
        if listener is not None:
            listener.stop()
        slack.stop()
        res.close()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _user(slack, unit: str) -> str:
    return slack.user_id(f"baocao.{unit.lower().replace('.', '-')}@example.vn")


def _settle(listener, timeout: float = 120) -> None:
    """Every envelope pushed so far is acknowledged (so spooled and queued), and done."""
    deadline = time.monotonic() + timeout
    while _SERVER[0].pending_envelopes and time.monotonic() < deadline:
        time.sleep(0.02)
    assert listener.wait_idle(max(deadline - time.monotonic(), 1)), "the listener did not finish in time"


def _submissions(s, unit: str) -> list[tuple]:
    return _con().execute(
        "select submission_id, status, source from raw.submission where unit_code = ? and period = '2026H1'"
        " order by version", [unit]).fetchall()


def _answers(slack, channel: str, ts: str) -> list[dict]:
    """The bot's replies in a thread that carry a baocao key."""
    return [m for m in slack.thread(channel, ts)
            if m.get("user") == slack.bot_user_id and (m.get("metadata") or {}).get("event_payload")]


def _stored(s, unit: str) -> list[Path]:
    folder = s.store / unit
    return sorted(p for p in folder.iterdir() if p.is_file() and "__" in p.name) if folder.exists() else []


def test_the_cycle_opened_message_carries_the_prefilled_form_once_per_unit_and_period(door):
    """First in the module: LD.24781 has sent nothing for 2026H1 yet, so "cycle opened" and the
    reminder are still true when delivered (at the clock of the day each was due)."""
    from notifications.notify import enqueue_schedule
    from tasks.cycle import warehouse_lock

    s, slack, _listener, _files = door
    res = _RES[0]
    with warehouse_lock(res):
        con = res.con()
        opened_at, deadline = con.execute(
            "select opened_at, deadline_at from ops.cycle where period = '2026H1' and dataset_code = ?", [DS]).fetchone()
        units = [{"unit_code": X1, "accepted": False, "received": False}]
        enqueue_schedule(con, dataset_code=DS, period="2026H1", units=units, deadline=deadline,
                         now=opened_at + timedelta(minutes=1), opened_at=opened_at)
        at_open = dataclasses.replace(res, clock=FixedClock(opened_at + timedelta(minutes=2)))
        report = deliver.dispatch(at_open, sender_for(at_open))
        assert any(k.startswith("cycle_opened:2026H1:XA_6T:LD.24781") for k in report.sent), report
        # a reminder later links to the same file; nothing is uploaded again
        enqueue_schedule(con, dataset_code=DS, period="2026H1", units=units, deadline=deadline,
                         now=deadline - timedelta(days=2, hours=1), opened_at=opened_at)
        before_deadline = dataclasses.replace(res, clock=FixedClock(deadline - timedelta(days=2)))
        deliver.dispatch(before_deadline, sender_for(before_deadline))
    (opened,) = [m for m in slack.messages(CH1) if "cycle_opened" in json.dumps(m.get("metadata") or {})]
    (f,) = slack.files_in(CH1, opened["ts"])
    assert f["name"] == "XA_6T_LD.24781_2026H1.xlsx"
    _check_prefilled(s, f["data"], X1)
    assert "baocao template" not in json.dumps(opened["blocks"], ensure_ascii=False)
    assert "luồng tin nhắn" in json.dumps(opened["blocks"], ensure_ascii=False)  # "the form is in this thread"
    forms_shared = [x for x in slack.files_in(CH1) if x["name"] == "XA_6T_LD.24781_2026H1.xlsx"]
    assert len(forms_shared) == 1
    reminders = [m for m in slack.messages(CH1) if "reminder:" in json.dumps(m.get("metadata") or {})]
    for m in reminders:
        assert f["permalink"] in json.dumps(m["blocks"])


def test_a_file_in_the_units_channel_is_stored_processed_and_answered_in_its_thread(door):
    s, slack, listener, files = door
    user = _user(slack, X1)
    event = slack.share_file(CH1, user, "Báo cáo 6 tháng <xã> #1.xlsx", files["bad"])
    _settle(listener)

    (sid, status, _), = _submissions(s, X1)
    assert status == "rejected"
    side = json.loads((s.store / X1 / f"{sid}.json").read_text(encoding="utf-8"))  # the store's record of it
    assert side["source"] == "slack"
    assert side["original_name"] == "Báo cáo 6 tháng <xã> #1.xlsx"
    assert {k: side["meta"][k] for k in ("user", "channel", "ts")} == {
        "user": user, "channel": slack.channel_id(CH1), "ts": event["ts"]}

    answers = _answers(slack, CH1, event["ts"])
    assert len(answers) == 1
    text = json.dumps(answers[0]["blocks"], ensure_ascii=False)
    assert "Báo cáo bị từ chối" in answers[0]["text"] or "từ chối" in text
    assert "V01" in text and "POP_INSURED" in text and "ô D" in text  # the finding, with its cell
    (annotated,) = slack.files_in(CH1, event["ts"])
    assert annotated["name"].endswith(f"_kiem_tra_{sid[:8]}.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(annotated["data"]))
    assert form.SHEET_DATA in wb.sheetnames  # the unit's own workbook, marked up
    # nothing was posted at the top of the channel for this submission
    assert not [m for m in slack.messages(CH1) if sid in json.dumps(m.get("metadata") or {}) and "thread_ts" not in m]

    # the audit trail is shown in `baocao history`
    from typer.testing import CliRunner

    from cli.app import app

    out = CliRunner().invoke(app, ["history", "--unit", X1, "--period", "2026H1", "--home", str(s.home)])
    assert out.exit_code == 0, out.output
    assert f"channel={slack.channel_id(CH1)}" in out.output and f"user={user}" in out.output
    assert f"ts={event['ts']}" in out.output


def test_the_same_event_twice_stores_one_submission_and_answers_once(door):
    s, slack, listener, files = door
    before = len(_submissions(s, X1))
    acked = len(slack.acked)
    slack.deliver_twice_next()
    event = slack.share_file(CH1, _user(slack, X1), "XA_6T_LD.24781_2026H1.xlsx", files[X1])
    deadline = time.monotonic() + 60
    while len(slack.acked) < acked + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    _settle(listener)
    assert len(slack.acked) == acked + 2  # the redelivery (retry_attempt 1) was acknowledged too
    rows = _submissions(s, X1)
    assert len(rows) == before + 1 and rows[-1][1] in ("accepted", "accepted_with_warnings")
    assert len(_answers(slack, CH1, event["ts"])) == 1


def test_another_units_workbook_is_rejected_with_the_reason(door):
    s, slack, listener, files = door
    event = slack.share_file(CH2, _user(slack, X2), "bao_cao.xlsx", files[X1])
    _settle(listener)
    (_sid, status, _), = _submissions(s, X2)
    assert status == "rejected"
    (answer,) = _answers(slack, CH2, event["ts"])
    text = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "S03" in text and X1 in text  # names the other unit's code found in the file


@pytest.mark.parametrize("where", ["no_unit", "operator", "stranger_dm"])
def test_a_share_outside_a_units_conversation_is_refused_in_thread_and_not_stored(door, where):
    s, slack, listener, files = door
    stored_before = {u: _stored(s, u) for u in (X1, X2)}
    n_before = _con().execute("select count(*) from raw.submission").fetchone()[0]
    if where == "no_unit":
        channel, user = slack.add_channel("chat-chung"), _user(slack, X1)
        expect = "không phải kênh báo cáo của đơn vị nào"
    elif where == "operator":
        channel, user = slack.channel_id("bc-operator"), _user(slack, X1)
        expect = "kênh của cán bộ tỉnh"
    else:
        user = slack.add_user("nguoi.la@example.com")
        channel = slack.dm(user)
        expect = "không có trong danh sách người liên hệ"
    event = slack.share_file(channel, user, "XA_6T_LD.24781_2026H1.xlsx", files[X1])
    _settle(listener)
    replies = [m for m in slack.thread(channel, event["ts"]) if m.get("user") == slack.bot_user_id]
    assert len(replies) == 1 and expect in replies[0]["text"]
    # where to send: the sender's own unit's channel when the sender is a listed contact
    assert ("#bc-ld-24781" in replies[0]["text"]) == (where != "stranger_dm")
    assert {u: _stored(s, u) for u in (X1, X2)} == stored_before
    assert _con().execute("select count(*) from raw.submission").fetchone()[0] == n_before
    assert all(c[1]["file"] != event["files"][0]["id"] for c in slack.calls("files.download"))


def test_a_file_too_large_is_refused_before_downloading(door):
    _s, slack, listener, _files = door
    big = 6 * 1024 * 1024
    event = slack.share_file(CH1, _user(slack, X1), "anh_chup.xlsx", b"PK" + b"\0" * 10, size=big)
    _settle(listener)
    (reply,) = [m for m in slack.thread(CH1, event["ts"]) if m.get("user") == slack.bot_user_id]
    assert "quá lớn" in reply["text"] and "tối đa 5 MB" in reply["text"]
    assert all(c[1]["file"] != event["files"][0]["id"] for c in slack.calls("files.download"))
    # a file whose stated size lies is cut off at the cap while downloading
    event = slack.share_file(CH1, _user(slack, X1), "noi_dung_lon.xlsx", b"x" * (5 * 1024 * 1024 + 10), size=1000)
    _settle(listener)
    (reply,) = [m for m in slack.thread(CH1, event["ts"]) if m.get("user") == slack.bot_user_id]
    assert "quá lớn" in reply["text"]


def test_a_dropped_socket_reconnects_and_loses_nothing(door):
    s, slack, listener, files = door
    opened = slack.connections_opened
    slack.drop_socket_next()
    e1 = slack.say(CH2, _user(slack, X2), "trạng thái")
    e2 = slack.share_file(CH2, _user(slack, X2), "XA_6T_LD.24787_2026H1.xlsx", files[X2])
    deadline = time.monotonic() + 60
    while (slack.pending_envelopes or slack.connections_opened == opened) and time.monotonic() < deadline:
        time.sleep(0.05)
    _settle(listener)
    assert slack.connections_opened > opened
    assert slack.pending_envelopes == 0
    (status,) = [m for m in slack.thread(CH2, e1["ts"]) if m.get("user") == slack.bot_user_id]
    assert "Tình hình báo cáo" in status["text"]
    assert len(_answers(slack, CH2, e2["ts"])) == 1
    assert [r[1] for r in _submissions(s, X2)][-1] in ("accepted", "accepted_with_warnings")


def test_status_shows_only_the_units_own_state(door):
    s, slack, listener, _files = door
    event = slack.say(CH1, _user(slack, X1), "Trạng thái")
    _settle(listener)
    (reply,) = [m for m in slack.thread(CH1, event["ts"]) if m.get("user") == slack.bot_user_id]
    text = reply["text"]
    assert "XA_6T" in text and "6 tháng đầu năm 2026" in text and "ngày làm việc" in text
    n = len(_submissions(s, X1))
    assert f"lần gửi {n}" in text or "đã tiếp nhận" in text
    assert X2 not in text and _unit_name(X2) not in text and _unit_name(X1) in text


def _unit_name(code: str) -> str:
    import catalog

    return catalog.load().org_units[code].name


def _check_prefilled(s, data: bytes, unit: str) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[form.SHEET_DATA]
    assert ws.cell(form.HEADER_ROW, forms.REFERENCE_COL).value == "Kỳ trước 2025H2 (tham khảo)"
    want = dict(_con().execute(
        "select element_code, value from core.current_value where unit_code = ? and period = '2025H2'"
        " and dataset_code = ? and value is not null", [unit, DS]).fetchall())
    got = {ws.cell(r, 1).value: ws.cell(r, forms.REFERENCE_COL).value
           for r in range(form.HEADER_ROW + 1, ws.max_row + 1) if ws.cell(r, 1).value}
    assert want and {k: v for k, v in got.items() if v is not None} == pytest.approx(want)
    assert all(ws.cell(r, form.DATA_VALUE_COL).value is None for r in range(form.HEADER_ROW + 1, ws.max_row + 1))
    assert wb[form.SHEET_META]["B4"].value == unit


def test_the_reminders_button_sends_the_form_again_for_the_channels_unit_only(door):
    _s, slack, listener, _files = door
    (reminder,) = [m for m in slack.messages(CH1) if "reminder:" in json.dumps(m.get("metadata") or {})]
    (button,) = [e for b in reminder["blocks"] if b["type"] == "actions" for e in b["elements"]]
    # the value names a unit, but the channel decides: a forged value gets LD.24781's form all the same
    slack.click(CH1, _user(slack, X1), button["action_id"], "LD.24787:2026H1", reminder["ts"])
    _settle(listener)
    names = sorted(f["name"] for f in slack.files_in(CH1, reminder["ts"]))
    assert names == ["XA_6T_LD.24781_2025H2.xlsx", "XA_6T_LD.24781_2026H1.xlsx"]


def test_form_command_sends_the_units_own_prefilled_form(door):
    s, slack, listener, _files = door
    event = slack.say(CH2, _user(slack, X2), "biểu mẫu")
    _settle(listener)
    shared = slack.files_in(CH2, event["ts"])  # one per open period (2025H2 was never closed here)
    assert sorted(f["name"] for f in shared) == ["XA_6T_LD.24787_2025H2.xlsx", "XA_6T_LD.24787_2026H1.xlsx"]
    (f,) = [f for f in shared if f["name"].endswith("2026H1.xlsx")]
    _check_prefilled(s, f["data"], X2)


def test_an_upload_that_fails_once_or_loses_its_answer_is_completed_once(door):
    _s, slack, listener, files = door
    slack.fail_upload_next()
    event = slack.share_file(CH1, _user(slack, X1), "sua_lan_2.xlsx", files["bad"])
    _settle(listener)
    # identical bytes to the first test's file: a duplicate, told so, not processed again
    (dup,) = [m for m in slack.thread(CH1, event["ts"]) if m.get("user") == slack.bot_user_id]
    assert "giống hệt" in dup["text"]

    # a new rejected version: the annotated workbook's upload fails once, then completes
    wb = openpyxl.load_workbook(io.BytesIO(_with_text_in_a_number_cell(files[X1])))
    wb[form.SHEET_META]["B9"] = "Nguyễn Văn B"
    buf = io.BytesIO()
    wb.save(buf)
    uploads = len(slack.calls("files.upload"))
    event = slack.share_file(CH1, _user(slack, X1), "sua_lan_3.xlsx", buf.getvalue())
    _settle(listener)
    assert len(_answers(slack, CH1, event["ts"])) == 1
    assert len(slack.files_in(CH1, event["ts"])) == 1
    assert len(slack.calls("files.upload")) == uploads + 2  # failed once, then done

    # Slack completes the upload but the answer is lost: found again by its name, not repeated
    slack.drop_after_accept_next(method="files.completeUploadExternal")
    wb[form.SHEET_META]["B9"] = "Nguyễn Văn C"
    buf = io.BytesIO()
    wb.save(buf)
    event = slack.share_file(CH1, _user(slack, X1), "sua_lan_4.xlsx", buf.getvalue())
    _settle(listener)
    assert len(_answers(slack, CH1, event["ts"])) == 1
    assert len(slack.files_in(CH1, event["ts"])) == 1
    pending = _con().execute(
        "select count(*) from ops.outbox where kind = 'feedback' and status <> 'sent' and unit_code = ?", [X1]).fetchone()
    assert pending == (0,)
