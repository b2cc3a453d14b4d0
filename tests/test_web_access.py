"""Every route of the web door × every kind of caller: no session, unit A, unit B, the operator, a
session whose link has expired, a session whose link was revoked. Unit A never reads or writes
unit B's data; 401 without a (valid) session, 403 for someone else's data or a missing CSRF token.
Also: the upload's checks before anything is stored, the rate limit, the audit trail."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import web_fixtures as wf

A, B = wf.UNIT_A, wf.UNIT_B


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from fastapi.testclient import TestClient

    from web.app import create_app

    home = wf.make_home(tmp_path_factory.mktemp("web") / "home")
    app = create_app(home, refresh=False)
    ctx = app.state.ctx
    clients = {}
    with TestClient(app) as anon:
        clients["none"] = anon
        tokens = {}
        for actor, (role, unit) in {"A": ("unit", A), "B": ("unit", B), "operator": ("operator", None),
                                    "expired": ("unit", A), "revoked": ("unit", A)}.items():
            c = TestClient(app)  # the app's lifespan (the answerer) runs once, under `anon`
            tokens[actor] = ctx.access.issue(role, unit, f"{actor} label", datetime.now(UTC), 1)
            r = c.get(f"/a/{tokens[actor]}", follow_redirects=False)
            assert r.status_code == 303, actor
            clients[actor] = c
        csrf = {k: _csrf(clients[k]) for k in ("A", "B", "operator", "expired", "revoked")}
        # one answered submission each for A (a warning) and B (an error), sent while every session was valid
        ctx.answerer.ready.wait(300)
        sid = {}
        for actor, unit, data in (("A", A, wf.workbook(A, warn=True)), ("B", B, wf.workbook(B, overridable=True))):
            r = clients[actor].post(f"/u/{unit}/upload", content=data,
                                    headers={"X-CSRF-Token": csrf[actor], "X-File-Name": f"{unit}.xlsx"})
            assert r.status_code == 201, r.text
            sid[actor] = r.json()["submission_id"]
        for actor, unit in (("A", A), ("B", B)):
            _wait(clients[actor], f"/u/{unit}/s/{sid[actor]}.json")
        # the link behind "expired" runs out; the one behind "revoked" is revoked
        with sqlite3.connect(home / "web" / "access.sqlite") as db:
            from web.access import token_hash

            db.execute("update link set expires_at = ? where token_hash = ?",
                       ((datetime.now(UTC) - timedelta(minutes=1)).isoformat(), token_hash(tokens["expired"])))
        assert ctx.access.revoke(datetime.now(UTC), token=tokens["revoked"]) == 1
        yield {"app": app, "ctx": ctx, "clients": clients, "csrf": csrf, "sid": sid, "tokens": tokens, "home": home}


def _csrf(client) -> str:
    r = client.get("/")
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', r.text)
    assert m, r.text[:500]
    return m.group(1)


def _wait(client, url: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(url).json()
        if body.get("ready"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"no answer for {url}")


ACTORS = ("none", "A", "B", "operator", "expired", "revoked")


def _expect(none, a, b, op):
    return {"none": none, "A": a, "B": b, "operator": op, "expired": none, "revoked": none}


def routes(site):
    sa, sb = site["sid"]["A"], site["sid"]["B"]
    ds = wf.dataset_of(A)
    read_a = _expect(401, 200, 403, 200)
    return [
        ("GET", "/", None, _expect(401, 303, 303, 303)),
        ("GET", f"/u/{A}", None, read_a),
        ("GET", f"/u/{B}", None, _expect(401, 403, 200, 200)),
        ("GET", f"/u/{A}/form/{wf.PERIOD}/{ds}.xlsx", None, read_a),
        ("GET", f"/u/{A}/form/{wf.PERIOD}/{ds}.xlsx?prefilled=1", None, read_a),
        ("GET", f"/u/{A}/s/{sa}", None, read_a),
        ("GET", f"/u/{A}/s/{sa}.json", None, read_a),
        ("GET", f"/u/{B}/s/{sb}/annotated.xlsx", None, _expect(401, 403, 200, 200)),
        ("GET", f"/u/{A}/s/{sb}", None, _expect(401, 404, 403, 404)),  # B's submission under A's address
        ("GET", f"/u/{A}/s/{sb}/annotated.xlsx", None, _expect(401, 404, 403, 404)),
        ("POST", f"/u/{A}/upload", "upload", _expect(401, 201, 403, 403)),
        ("POST", f"/u/{A}/s/{sa}/explain", "explain", _expect(401, 200, 403, 403)),
        ("GET", "/op", None, _expect(401, 403, 403, 200)),
        ("GET", "/op/status.json", None, _expect(401, 403, 403, 200)),
        ("GET", "/op/report", None, _expect(401, 403, 403, 200)),
        ("POST", "/op/accept", "accept", _expect(401, 403, 403, 303)),
        ("POST", "/op/remind", "remind", _expect(401, 403, 403, 303)),
        ("POST", "/op/override", "override", _expect(401, 403, 403, 303)),  # B's R03, accepted once
        ("GET", "/lang/en?next=/", None, _expect(303, 303, 303, 303)),
    ]


def _request(site, actor, method, path, kind):
    c = site["clients"][actor]
    token = site["csrf"].get(actor, "")
    if method == "GET":
        return c.get(path, follow_redirects=False)
    if kind == "upload":
        return c.post(path, content=wf.workbook(A, warn=True), follow_redirects=False,
                      headers={"X-CSRF-Token": token, "X-File-Name": "a.xlsx"})
    forms = {
        "explain": {"rule": "W01", "element": "ADULTS_SCREENED", "text": "Năm nay tổ chức khám sàng lọc diện rộng"},
        "accept": {"unit": A, "period": wf.PERIOD, "element": "ADULTS_SCREENED", "rule": "W01",
                   "reason": "Đơn vị đã giải thích"},
        "remind": {"unit": B, "period": wf.PERIOD, "dataset": wf.dataset_of(B)},
        "override": {"unit": B, "period": wf.PERIOD, "rule": "R03", "reason": "Đã xác minh với trạm"},
    }
    return c.post(path, data={**forms[kind], "csrf": token}, follow_redirects=False)


def test_every_route_for_every_caller(site):
    seen = []
    for method, path, kind, expected in routes(site):
        for actor in ACTORS:
            r = _request(site, actor, method, path, kind)
            seen.append((method, path, actor, r.status_code, expected[actor]))
            if actor in ("A", "none", "expired", "revoked") and r.status_code < 400:
                assert site["sid"]["B"] not in r.text, (path, actor)  # nothing of B's reaches A
    wrong = [x for x in seen if x[3] != x[4]]
    assert not wrong, "\n".join(f"{m} {p} as {a}: {got}, expected {exp}" for m, p, a, got, exp in wrong)


def test_links_that_no_longer_open(site):
    c = site["clients"]["none"]
    for actor in ("expired", "revoked"):
        r = c.get(f"/a/{site['tokens'][actor]}", follow_redirects=False)
        assert r.status_code == 401 and "baocao_session" not in r.headers.get("set-cookie", "")
    assert c.get("/a/not-a-token", follow_redirects=False).status_code == 401
    # a forged cookie (a session id without the server's signature) is no session
    c.cookies.set("baocao_session", "abc.def")
    assert c.get(f"/u/{A}", follow_redirects=False).status_code == 401
    c.cookies.clear()


def test_writes_need_this_sessions_csrf_token_and_this_site(site):
    a = site["clients"]["A"]
    path = f"/u/{A}/upload"
    data = wf.workbook(A, warn=True)
    assert a.post(path, content=data, headers={"X-File-Name": "a.xlsx"}).status_code == 403  # no token
    assert a.post(path, content=data, headers={"X-CSRF-Token": site["csrf"]["B"]}).status_code == 403  # B's token
    assert a.post(path, content=data, headers={"X-CSRF-Token": site["csrf"]["A"],
                                               "Origin": "http://evil.example"}).status_code == 403
    r = site["clients"]["operator"].post("/op/remind", data={"unit": B, "period": wf.PERIOD, "dataset": "XA_6T"})
    assert r.status_code == 403


def test_upload_is_checked_before_anything_is_stored(site):
    from web.upload import MAX_BYTES

    a, s = site["clients"]["A"], site["ctx"].s
    before = sorted(p.name for p in (s.store / A).iterdir())
    head = {"X-CSRF-Token": site["csrf"]["A"], "X-File-Name": "..%2F..%2Fetc%2Fpasswd"}
    cases = {
        b"": ("empty", 415),
        b"%PDF-1.7\n" + b"x" * 100: ("not_workbook", 415),
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600: ("old_excel", 415),
        b"PK\x03\x04" + b"\x00" * 100: ("not_workbook", 415),
        b"x" * (MAX_BYTES + 1): ("too_large", 413),
    }
    for data, (key, status) in cases.items():
        r = a.post(f"/u/{A}/upload", content=data, headers=head)
        assert (r.status_code, r.json()["error"]) == (status, key)
        assert r.json()["message"]  # one line telling the officer what to do
    assert "xlsx" in a.post(f"/u/{A}/upload", content=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
                            headers=head).json()["message"]
    assert sorted(p.name for p in (s.store / A).iterdir()) == before
    # a file that passes is stored under the server's name; the unit's name is only data
    r = a.post(f"/u/{A}/upload", content=wf.workbook(A, pop=12346), headers=head)
    assert r.status_code == 201
    sid = r.json()["submission_id"]
    stored = [p.name for p in (s.store / A).iterdir() if p.name.startswith(sid)]
    assert sorted(stored) == [f"{sid}.bin", f"{sid}.json"]  # the content (the unit's name has no usable type) and the store's record
    assert not any("passwd" in p.name for p in s.home.rglob("*"))
    rec = site["ctx"].access.audit("upload", unit_code=A)[-1]
    assert rec["detail"]["name"] == "../../etc/passwd" and rec["ip"] and rec["who"] == "A label" and rec["at"]
    refused = site["ctx"].access.audit("upload_refused", unit_code=A)
    assert {x["detail"]["reason"] for x in refused} >= {"empty", "not_workbook", "old_excel", "too_large"}


def test_rate_limit_per_session(site):
    ctx = site["ctx"]
    a = site["clients"]["A"]
    head = {"X-CSRF-Token": site["csrf"]["A"], "X-File-Name": "a.xlsx"}
    old = ctx.uploads_per_minute
    recent = ctx.access.count_recent(_session_id(site, "A"), "upload", datetime.now(UTC) - timedelta(minutes=1))
    ctx.uploads_per_minute = recent + 1  # one more upload this minute, then no more
    try:
        assert a.post(f"/u/{A}/upload", content=wf.workbook(A, pop=12347), headers=head).status_code == 201
        r = a.post(f"/u/{A}/upload", content=wf.workbook(A, pop=12348), headers=head)
        assert r.status_code == 429 and r.json()["error"] == "rate_limited"
        # another session (unit B) is not limited by A's uploads
        rb = site["clients"]["B"].post(f"/u/{B}/upload", content=wf.workbook(B),
                                       headers={"X-CSRF-Token": site["csrf"]["B"], "X-File-Name": "b.xlsx"})
        assert rb.status_code == 201
    finally:
        ctx.uploads_per_minute = old


def _session_id(site, actor) -> str:
    from web import auth

    return auth.unsign(site["ctx"].secret, site["clients"][actor].cookies.get("baocao_session"))


def test_decisions_are_recorded_with_who_when_where(site):
    ctx = site["ctx"]
    acc = ctx.access.audit("accept_warning", unit_code=A)
    assert acc and acc[-1]["who"] == "operator label" and acc[-1]["role"] == "operator" and acc[-1]["ip"]
    assert acc[-1]["detail"]["rule_id"] == "W01" and acc[-1]["detail"]["reason"] == "Đơn vị đã giải thích"
    # the same record as `baocao accept-warning`, in the warehouse
    rows = ctx.answerer.call(lambda res: res.con().execute(
        "select accepted_by, reason from ops.warning_acceptance where unit_code = ? and rule_id = 'W01'", [A]).fetchall())
    assert rows == [("operator label (web)", "Đơn vị đã giải thích")]
    ex = ctx.access.audit("explain", unit_code=A)
    assert ex and ex[-1]["who"] == "A label"
    assert ctx.access.audit("remind", unit_code=B)[-1]["detail"]["keys"]
    ov = ctx.access.audit("override_error", unit_code=B)
    assert len(ov) == 1 and ov[0]["who"] == "operator label" and ov[0]["detail"]["rule_id"] == "R03"


def test_signing_out_ends_the_session(site):
    c = site["clients"]["B"]
    cookie = c.cookies.get("baocao_session")
    assert c.post("/signout", data={"csrf": site["csrf"]["B"]}).status_code == 200
    c.cookies.set("baocao_session", cookie)  # the old cookie, replayed, opens nothing
    assert c.get(f"/u/{B}", follow_redirects=False).status_code == 401


def test_pages_escape_what_units_wrote(site):
    """A unit's explanation and file name are text on every page, never markup."""
    a = site["clients"]["A"]
    sid = site["sid"]["A"]
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    a.post(f"/u/{A}/s/{sid}/explain", data={"rule": "W01", "element": "ADULTS_SCREENED", "text": evil,
                                            "csrf": site["csrf"]["A"]})
    page = a.get(f"/u/{A}/s/{sid}").text
    assert evil not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_signing_secret_is_private(site):
    secret = Path(site["home"]) / "web" / "secret"
    assert secret.exists() and (secret.stat().st_mode & 0o077) == 0


def test_prefilled_form_shows_last_period_beside_the_value_column(site):
    import io

    import openpyxl

    from intake import form

    a = site["clients"]["A"]
    ds = wf.dataset_of(A)
    wb = openpyxl.load_workbook(io.BytesIO(a.get(f"/u/{A}/form/{wf.PERIOD}/{ds}.xlsx?prefilled=1").content))
    ws = wb[form.SHEET_DATA]
    rows = {ws.cell(r, 1).value: r for r in range(form.HEADER_ROW + 1, ws.max_row + 1)}
    pop = rows["POP"]
    assert ws.cell(pop, form.DATA_VALUE_COL).value is None  # the unit types this period's value itself
    assert ws.cell(pop, form.DATA_VALUE_COL + 2).value == 12345  # last period's, for reference
    assert wf.PREVIOUS in ws.cell(form.HEADER_ROW, form.DATA_VALUE_COL + 2).value
    blank = openpyxl.load_workbook(io.BytesIO(a.get(f"/u/{A}/form/{wf.PERIOD}/{ds}.xlsx").content))
    assert blank[form.SHEET_DATA].cell(pop, form.DATA_VALUE_COL + 2).value is None
    # a form for a period that is not open (or another unit's data set) is not offered
    assert a.get(f"/u/{A}/form/2030H1/{ds}.xlsx").status_code == 404


def test_the_web_secret_is_created_once_when_threads_race(tmp_path):
    """The delivery thread (minting a unit's link) and the pages can create the secret at once."""
    from concurrent.futures import ThreadPoolExecutor

    from web.auth import load_secret

    for attempt in range(5):
        folder = tmp_path / f"web{attempt}"
        with ThreadPoolExecutor(16) as pool:
            got = list(pool.map(load_secret, [folder] * 32))
        assert len(set(got)) == 1 and len(got[0]) == 32
        assert [p.name for p in folder.iterdir()] == ["secret"]  # no temporary file left behind
