"""The cycle-opened Slack message carries the unit's own access link (web/links.py): minted when the
message is sent, one per unit and cycle, stored hashed, expiring at the deadline plus the grace,
never the operator's; the message is sent once, and a retried rendering reuses the same link.
Real parts: a DuckDB warehouse, the SQLite delivery and access stores, slack_sdk's WebClient
against the local Slack-compatible server."""
# ruff: noqa: F811  (pytest fixtures imported from tests.slack_fixtures are test arguments)

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.slack_fixtures import slack_sender, slack_server  # noqa: F401

PERIOD, DS = "2026H1", "XA_6T"
BASE = "https://baocao.example.vn/"
LINK = re.compile(r"https://baocao\.example\.vn/a/([A-Za-z0-9_-]{20,})")


def _home(tmp_path, web_url: str | None):
    from baocao.resources import Resources
    from baocao.services import answer, cycles, process

    res = Resources.fake(tmp_path / "home")
    res = replace(res, settings=replace(res.settings, web_url=web_url, dispatch_workers=4))
    cycles.open_cycle(res, PERIOD, [DS], now=res.now())
    process.aggregate(res)
    assert answer.enqueue_schedule(res, PERIOD) > 0  # "cycle opened" for every expected unit, the summary
    return res


def _send(res, sender):
    from baocao.services import deliver

    sent = []
    for _ in range(3):  # a post whose answer was lost (the local server resets a connection under load) goes next pass
        report = deliver.dispatch(res, sender=sender, pace_s=0.0, deadline_s=120, settle_s=0.0)
        sent += report.sent
        if not report.pending:
            break
    assert not report.failed and not report.pending, report.as_dict()
    report.sent = sent
    return report


def _text(server, channel: str) -> str:
    msgs = [m for m in server.messages(channel) if "cycle_opened" in ((m.get("metadata") or {}).get("event_payload")
                                                                         or {}).get("key", "")]
    assert len(msgs) == 1, msgs  # sent once
    m = msgs[0]
    return m.get("text", "") + "\n" + repr(m.get("blocks"))


def test_each_unit_gets_its_own_link_hashed_expiring_and_sent_once(tmp_path, slack_server, slack_sender):
    from web.access import AccessStore, token_hash
    from web.links import GRACE_DAYS

    res = _home(tmp_path, BASE)
    # queued: the outbox holds no token, only the promise of one
    queued = res.con().execute("select text, blocks_json from ops.outbox where kind = 'cycle_opened'").fetchall()
    assert queued and not any("/a/" in (t + b) for t, b in queued)
    report = _send(res, slack_sender)
    store = AccessStore(res.settings.home / "web" / "access.sqlite")

    tokens = {}
    for unit, channel in (("LD.24781", "bc-ld-24781"), ("LD.24787", "bc-ld-24787")):
        found = set(LINK.findall(_text(slack_server, channel)))
        assert len(found) == 1, found
        tokens[unit] = found.pop()
    assert tokens["LD.24781"] != tokens["LD.24787"]

    # the link opens a session for that unit only, never the operator's
    now = res.now()
    s1 = store.open_session(tokens["LD.24781"], now, "127.0.0.1", "test")
    assert s1 is not None and (s1.role, s1.unit_code) == ("unit", "LD.24781")
    # stored hashed: the token itself is in no file baocao wrote
    for path in (res.settings.home / "web" / "access.sqlite", res.settings.outbox_store, res.settings.db_path):
        assert tokens["LD.24781"].encode() not in path.read_bytes(), path
    links = {r["message_key"]: r for r in store.message_links()}
    key1 = f"cycle_opened:{PERIOD}:{DS}:LD.24781:opened"
    assert links[key1]["token_hash"] == token_hash(tokens["LD.24781"]) and links[key1]["role"] == "unit"
    # one link per unit and cycle; none for the operator's messages
    sent_opened = [k for k in report.sent if k.startswith("cycle_opened:")]
    assert sorted(links) == sorted(sent_opened)
    assert len({r["token_hash"] for r in links.values()}) == len(links)
    op_texts = [repr(m) for m in slack_server.messages("bc-operator")]
    assert op_texts and not any("/a/" in t for t in op_texts)
    # expires at the deadline plus the grace
    from datetime import datetime

    deadline = res.con().execute("select deadline_at from ops.cycle where period = ? and dataset_code = ?",
                                 [PERIOD, DS]).fetchone()[0]
    assert datetime.fromisoformat(links[key1]["expires_at"]) == deadline + timedelta(days=GRACE_DAYS)
    later = deadline + timedelta(days=GRACE_DAYS, seconds=1)
    assert store.open_session(tokens["LD.24781"], later, None, None) is None

    # delivered again: nothing is sent twice, no new link
    n_before, n_links = len(slack_server.messages()), len(store.links())
    report2 = _send(res, slack_sender)
    assert not report2.sent and len(slack_server.messages()) == n_before and len(store.links()) == n_links


def test_a_retried_rendering_reuses_the_link_and_a_revoked_one_is_never_sent(tmp_path):
    from notifications import truth
    from notifications.store import OutboxStore
    from web.access import AccessStore
    from web.links import for_delivery

    res = _home(tmp_path, BASE)
    from baocao.services import deliver

    deliver.handoff(res)
    out = OutboxStore(res.settings.outbox_store)
    row = out.row(f"cycle_opened:{PERIOD}:{DS}:LD.24781:opened")
    links = for_delivery(res.settings)
    first = truth.render_now(row, out, res.now(), links)
    again = truth.render_now(row, out, res.now() + timedelta(minutes=5), links)  # a retry after a lost answer
    t1, t2 = LINK.findall(first.text), LINK.findall(again.text)
    assert t1 and t1 == t2
    store = AccessStore(res.settings.home / "web" / "access.sqlite")
    assert len(store.links()) == 1
    # the unit's links revoked before the message goes out: it carries no dead link
    assert store.revoke(res.now(), unit_code="LD.24781") == 1
    revoked = truth.render_now(row, out, res.now() + timedelta(minutes=10), links)
    assert not LINK.findall(revoked.text + repr(revoked.blocks))
    assert "cấp đường dẫn truy cập riêng" in repr(revoked.blocks)
    assert store.open_session(t1[0], res.now(), None, None) is None


def test_without_a_web_address_the_message_says_how_to_get_a_link(tmp_path, slack_server, slack_sender):
    res = _home(tmp_path, None)
    _send(res, slack_sender)
    text = _text(slack_server, "bc-ld-24781")
    assert "/a/" not in text and "None" not in text.split("\n")[0]
    assert "đề nghị cán bộ phụ trách báo cáo của tỉnh (Sở Y tế) cấp đường dẫn truy cập riêng" in text
    assert not (res.settings.home / "web" / "access.sqlite").exists()  # nothing minted


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_rendered_link_is_the_units_own_words(lang):
    from datetime import date

    from notifications import render

    msg = render.cycle_opened(unit_code="LD.24781", unit_name="Xã A", dataset_code=DS, dataset_name=None,
                              period=PERIOD, deadline=date(2026, 7, 10), web_link=BASE + "a/tok",
                              web_link_until=date(2026, 7, 24), lang=lang)
    blocks = repr(msg.blocks)
    assert "<https://baocao.example.vn/a/tok|" in blocks and "24/07/2026" in blocks
    assert BASE + "a/tok" in msg.text
