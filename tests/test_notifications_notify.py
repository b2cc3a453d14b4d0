"""notifications.notify: what the pipeline calls — render for the right recipient, enqueue,
dispatch to the local Slack server."""
# ruff: noqa: F811  (pytest fixtures imported from tests.slack_fixtures are test arguments)

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

from notifications.notify import (
    enqueue_feedback,
    enqueue_operator_summary,
    enqueue_schedule,
)
from notifications.outbox import dispatch
from notifications.schedule import TZ as VN
from notifications.schedule import UnitStatus
from tests.slack_fixtures import slack_sender, slack_server, warehouse  # noqa: F401

CATALOG = Path(__file__).resolve().parents[1] / "catalog"
DEADLINE = datetime(2026, 7, 10, 23, 59, 59, tzinfo=VN)
FINDING = {
    "severity": "error",
    "rule_id": "R06",
    "sheet": "ChiTieu",
    "cell": "D9",
    "element_code": "POP_INSURED",
    "element_name": "Số người có thẻ BHYT",
    "value_raw": "12500",
    "message_vi": "Số người có thẻ BHYT không được lớn hơn dân số",
    "message_en": "Insured people cannot exceed the population",
    "expected_vi": None,
    "expected_en": None,
}


def catalog_with_english_unit(tmp_path: Path, unit: str) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir()
    for name in ("org_units.csv", "datasets.yaml"):
        shutil.copy(CATALOG / name, folder / name)
    lines = (CATALOG / "recipients.csv").read_text(encoding="utf-8").splitlines()
    out = [ln.replace(",vi,", ",en,") if ln.startswith(unit + ",") else ln for ln in lines]
    (folder / "recipients.csv").write_text("\n".join(out) + "\n", encoding="utf-8")
    return folder


def outbox(con) -> list[tuple]:
    return con.execute(
        "select key, recipient, lang, status from ops.outbox order by key"
    ).fetchall()


def test_feedback_in_vietnamese_by_default_and_english_per_recipient(warehouse, tmp_path):
    cat = catalog_with_english_unit(tmp_path, "LD.24787")
    for unit in ("LD.24781", "LD.24787"):
        assert enqueue_feedback(
            warehouse,
            unit_code=unit,
            period="2026H1",
            dataset_code="XA_6T",
            submission_id="a1b2c3d4e5f60718",
            status="rejected",
            findings=[FINDING],
            full_list="/srv/baocao/findings.xlsx",
            catalog_dir=cat,
        )
    assert not enqueue_feedback(
        warehouse,
        unit_code="LD.24781",
        period="2026H1",
        dataset_code="XA_6T",
        submission_id="a1b2c3d4e5f60718",
        status="rejected",
        findings=[],
        catalog_dir=cat,
    )
    assert outbox(warehouse) == [
        ("feedback:2026H1:XA_6T:LD.24781:a1b2c3d4e5f60718", "bc-ld-24781", "vi", "pending"),
        ("feedback:2026H1:XA_6T:LD.24787:a1b2c3d4e5f60718", "bc-ld-24787", "en", "pending"),
    ]
    vi, en = [
        json.loads(b)
        for (b,) in warehouse.execute("select blocks_json from ops.outbox order by key").fetchall()
    ]
    assert vi[0]["text"]["text"] == ":x: Báo cáo bị từ chối"
    assert "Phường Xuân Hương - Đà Lạt (LD.24781)" in vi[1]["text"]["text"]
    assert (
        "Báo cáo 6 tháng của xã, phường, đặc khu về công tác y tế (XA_6T)" in vi[1]["text"]["text"]
    )
    assert en[0]["text"]["text"] == ":x: Report rejected"
    assert "Commune six-monthly health report (XA_6T)" in en[1]["text"]["text"]


def test_schedule_to_slack_reminders_then_escalations(warehouse, slack_server, slack_sender):
    units = [
        UnitStatus("LD.24781", accepted=False, received=False),
        UnitStatus("LD.24787", accepted=False, received=True),
        UnitStatus("LD.24778", accepted=True, received=True),
    ]
    args = {"dataset_code": "XA_6T", "period": "2026H1", "units": units, "deadline": DEADLINE}
    d1 = datetime(2026, 7, 9, 8, tzinfo=VN)
    added = enqueue_schedule(warehouse, **args, now=d1)
    assert added == ["reminder:2026H1:XA_6T:LD.24781:d-1", "reminder:2026H1:XA_6T:LD.24787:d-1"]
    assert enqueue_schedule(warehouse, **args, now=d1) == []  # hourly runs add nothing
    assert sorted(dispatch(warehouse, slack_sender, now=d1).sent) == added
    reminder = slack_server.messages("bc-ld-24781")[0]
    assert "Còn *1 ngày* đến hạn nộp (10/07/2026)" in reminder["blocks"][1]["text"]["text"]

    d5 = datetime(2026, 7, 14, 8, tzinfo=VN)
    later = enqueue_schedule(warehouse, **args, now=d5)
    assert len(later) == 6
    report = dispatch(warehouse, slack_sender, now=d5)
    # 2 overdue + 2 to the supervisor, and the 2 operator escalations in one digest
    assert len(report.sent) == 5 and not report.failed
    assert sorted(report.digested) == [k for k in later if k.endswith("escalation-operator")]
    assert len(slack_server.messages("bc-ld-syt")) == 2  # the communes' supervisor
    (digest,) = slack_server.messages("bc-operator")
    body = json.dumps(digest["blocks"], ensure_ascii=False)
    assert "*2* đơn vị quá hạn" in body and "LD.24781" in body and "LD.24787" in body
    assert "đơn vị quản lý: Sở Y tế" in body and "quá hạn 4 ngày" in body
    assert slack_server.messages("bc-ld-24778") == []


def test_operator_summary(warehouse, slack_server, slack_sender):
    units = [("LD.24781", "accepted"), ("LD.24787", "rejected"), ("LD.24778", "missing")]
    assert enqueue_operator_summary(
        warehouse,
        dataset_code="XA_6T",
        period="2026H1",
        units=units,
        stage="2026-07-11",
        deadline=DEADLINE,
    )
    assert dispatch(warehouse, slack_sender).sent == [
        "operator_summary:2026H1:XA_6T:OPERATOR:2026-07-11"
    ]
    (msg,) = slack_server.messages("bc-operator")
    assert (
        msg["text"] == "[baocao] Tổng hợp XA_6T 2026H1: 1/3 đã tiếp nhận, 1 bị từ chối, 1 chưa nộp."
    )
