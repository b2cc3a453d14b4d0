"""The operator's decisions from the page, on a real home (DuckDB warehouse, snapshot, access and
delivery stores): an error overridden with a reason (the same record as `baocao accept-error`), a
warning accepted (the same record as `baocao accept-warning`), a reminder (re)sent through the
outbox exactly once and checked again when it is sent. Units never reach these routes."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest

from tests import web_fixtures as wf

A, B = wf.UNIT_A, wf.UNIT_B


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from fastapi.testclient import TestClient

    from web.app import create_app

    home = wf.make_home(tmp_path_factory.mktemp("webdec") / "home")
    app = create_app(home, refresh=True)
    ctx = app.state.ctx
    with TestClient(app) as anon:
        clients, csrf = {"none": anon}, {}
        for actor, (role, unit) in {"A": ("unit", A), "B": ("unit", B), "operator": ("operator", None)}.items():
            c = TestClient(app)
            token = ctx.access.issue(role, unit, f"{actor} label", datetime.now(UTC), 1)
            assert c.get(f"/a/{token}", follow_redirects=False).status_code == 303
            clients[actor] = c
            csrf[actor] = re.search(r'name="csrf" value="([0-9a-f]+)"', c.get("/").text).group(1)
        ctx.answerer.ready.wait(300)
        # A sends a report refused only for R03 (which the province may accept), with a warning too
        r = clients["A"].post(f"/u/{A}/upload", content=wf.workbook(A, overridable=True, warn=True),
                              headers={"X-CSRF-Token": csrf["A"], "X-File-Name": "a.xlsx"})
        assert r.status_code == 201, r.text
        sid = r.json()["submission_id"]
        _wait(lambda: (clients["A"].get(f"/u/{A}/s/{sid}.json").json()).get("ready"))
        _wait(lambda: any(u["unit_code"] == A and u["state"] == "rejected"
                          for u in clients["operator"].get("/op/status.json").json()["units"]))
        yield {"app": app, "ctx": ctx, "clients": clients, "csrf": csrf, "sid": sid, "home": home}


def _wait(cond, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def _post(site, actor, path, form, csrf=True):
    c = site["clients"][actor]
    data = {**form, **({"csrf": site["csrf"].get(actor, "")} if csrf else {})}
    return c.post(path, data=data, follow_redirects=False)


def test_the_operator_overrides_an_error_with_a_reason(site):
    ctx, op = site["ctx"], site["clients"]["operator"]
    page = op.get("/op").text
    assert 'action="/op/override"' in page and f'data-unit="{A}" data-rule="R03"' in page
    form = {"unit": A, "period": wf.PERIOD, "rule": "R03", "reason": "Đã xác minh với trạm: dịch sởi"}
    # the unit itself, someone without a session, a post without CSRF, a post without a reason: refused
    assert _post(site, "A", "/op/override", form).status_code == 403
    assert _post(site, "B", "/op/override", form).status_code == 403
    assert _post(site, "none", "/op/override", form, csrf=False).status_code == 401
    assert _post(site, "operator", "/op/override", form, csrf=False).status_code == 403
    assert _post(site, "operator", "/op/override", {**form, "reason": "  "}).status_code == 400
    def r03_errors() -> int:
        return sum(r["n"] for r in op.get("/op/status.json").json()["rules"]
                   if r["rule_id"] == "R03" and r["severity"] == "error")

    before = r03_errors()
    assert before >= 1
    # a rule that is not overridable is refused with no record
    r = _post(site, "operator", "/op/override", {**form, "rule": "R01"})
    assert r.status_code == 400 and "R01" in r.text and "overridable" in r.text  # says why, in one line
    r = _post(site, "operator", "/op/override", form)
    assert r.status_code == 303 and r.headers["location"].endswith("notice=overridden")
    # the same record as `baocao accept-error`
    rows = ctx.answerer.call(lambda res: res.con().execute(
        """select rule_id, element_code, submission_id, decided_by, reason from ops.error_override
           where unit_code = ? and period = ?""", [A, wf.PERIOD]).fetchall())
    assert rows == [("R03", "DEATHS_U5", site["sid"], "operator label (web)", form["reason"])]
    status = ctx.answerer.call(lambda res: res.con().execute(
        "select status from raw.submission where submission_id = ?", [site["sid"]]).fetchone()[0])
    assert status == "accepted_by_override"
    # who, when and from where
    rec = ctx.access.audit("override_error", unit_code=A)[-1]
    assert rec["who"] == "operator label" and rec["role"] == "operator" and rec["ip"] and rec["at"]
    assert rec["detail"]["rule_id"] == "R03" and rec["detail"]["reason"] == form["reason"]
    # the unit's page and the operator's page show the state that counts now, at once
    a = site["clients"]["A"]
    assert a.get(f"/u/{A}/s/{site['sid']}.json").json()["status"] == "accepted_by_override"
    assert 'data-status="accepted_by_override"' in a.get(f"/u/{A}/s/{site['sid']}").text
    st = op.get("/op/status.json").json()
    assert [u["state"] for u in st["units"] if u["unit_code"] == A] in (["accepted"], ["accepted_late"])
    assert not [e for e in st["errors"] if e["unit_code"] == A]
    assert f'data-unit="{A}" data-rule="R03"' not in op.get("/op").text
    assert r03_errors() == before - 1  # findings by rule no longer count the error the operator accepted


def test_the_operator_accepts_a_warning_the_unit_explained(site):
    ctx, a = site["ctx"], site["clients"]["A"]
    r = _post(site, "A", f"/u/{A}/s/{site['sid']}/explain",
              {"rule": "W01", "element": "ADULTS_SCREENED", "text": "Năm nay khám sàng lọc toàn xã"})
    assert r.status_code == 200
    _wait(lambda: any(w["unit_code"] == A for w in site["clients"]["operator"].get("/op/status.json").json()["warnings"]))
    page = site["clients"]["operator"].get("/op").text
    assert "Năm nay khám sàng lọc toàn xã" in page  # the unit's explanation beside the decision
    form = {"unit": A, "period": wf.PERIOD, "element": "ADULTS_SCREENED", "rule": "W01", "reason": "Đã giải thích"}
    assert _post(site, "A", "/op/accept", form).status_code == 403
    assert _post(site, "operator", "/op/accept", {**form, "rule": "W99"}).status_code == 400  # no such warning
    assert _post(site, "operator", "/op/accept", form).status_code == 303
    rows = ctx.answerer.call(lambda res: res.con().execute(
        "select accepted_by, reason from ops.warning_acceptance where unit_code = ? and rule_id = 'W01'",
        [A]).fetchall())
    assert rows == [("operator label (web)", "Đã giải thích")]
    assert ctx.access.audit("accept_warning", unit_code=A)[-1]["ip"]
    assert a.get(f"/u/{A}").status_code == 200


def test_a_reminder_goes_through_the_outbox_once_and_only_while_true(site):
    from baocao.services import deliver
    from testing.sender import RecordingSender

    ctx = site["ctx"]
    ds = wf.dataset_of(B)
    form = {"unit": B, "period": wf.PERIOD, "dataset": ds, "nonce": "n-1"}
    assert _post(site, "B", "/op/remind", form).status_code == 403  # a unit cannot remind anyone
    assert _post(site, "operator", "/op/remind", form, csrf=False).status_code == 403
    assert _post(site, "operator", "/op/remind", form).status_code == 303
    assert _post(site, "operator", "/op/remind", form).status_code == 303  # the same form again (double click)
    recs = ctx.access.audit("remind", unit_code=B)
    assert len(recs) == 1 and recs[0]["who"] == "operator label" and recs[0]["ip"]
    keys = recs[0]["detail"]["keys"]
    assert len(keys) == 1 and f":{B}:web-" in keys[0]
    deadline = ctx.answerer.call(lambda res: res.con().execute(
        "select deadline_at from ops.cycle where period = ? and dataset_code = ?", [wf.PERIOD, ds]).fetchone()[0])
    assert keys[0].startswith("overdue:" if datetime.now(UTC) > deadline else "reminder:")
    # a reminder to A, whose report now counts (overridden above, or accepted): not sent when its time comes
    _wait(lambda: any(u["unit_code"] == A and u["state"].startswith("accepted")
                      for u in site["clients"]["operator"].get("/op/status.json").json()["units"]))
    assert _post(site, "operator", "/op/remind", {**form, "unit": A, "nonce": "n-2"}).status_code == 303
    key_a = ctx.access.audit("remind", unit_code=A)[-1]["detail"]["keys"][0]

    sender = RecordingSender()
    report = ctx.answerer.call(lambda res: deliver.deliver(res, sender=sender, pace_s=0.0, deadline_s=60))
    assert keys[0] in report.sent
    assert [m.key for m in sender.sent].count(keys[0]) == 1
    assert key_a in report.superseded and report.superseded[key_a].startswith("accepted")
    assert key_a not in [m.key for m in sender.sent]
    # delivered again: nothing twice
    again = ctx.answerer.call(lambda res: deliver.deliver(res, sender=sender, pace_s=0.0, deadline_s=60))
    assert keys[0] not in again.sent and [m.key for m in sender.sent].count(keys[0]) == 1
    # a later press of the button is a new reminder (a re-send), once
    time.sleep(1.1)  # the stage is the second it was asked
    assert _post(site, "operator", "/op/remind", {**form, "nonce": "n-3"}).status_code == 303
    later = ctx.access.audit("remind", unit_code=B)[-1]["detail"]["keys"]
    assert later and later != keys
