"""The draft report's sections an office sends up, on plain data (no warehouse): the Decree 30
header and signature block, "Hạn chế, khó khăn và nguyên nhân" from the units' han_che grouped by
theme with the causes they named, "Kiến nghị, đề xuất", "Phương hướng, nhiệm vụ" from targets at
risk and overdue tasks; in HTML and in the workbook, every unit's text escaped."""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import datetime

import pytest
from openpyxl import load_workbook

import catalog as catalog_mod
from baocao import calendar
from reports import data as report_data
from reports.difficulties import group_difficulties, split_cause
from reports.html import render_html
from reports.next_steps import next_period_words, next_steps
from reports.recommendations import group_recommendations
from reports.xlsx import write_xlsx

HOSTILE = '<script>alert(1)</script> =HYPERLINK("http://x","y") thiếu bác sĩ do khó tuyển dụng'


@pytest.fixture(scope="module")
def units():
    cat = catalog_mod.load()
    return [(u.code, u.name) for u in cat.expected_units("XA_6T")[:4]]


def _target(code, name, status, trajectory=None, plan="KH-1", value=40.0, threshold=50.0):
    return {"plan_code": plan, "target_id": f"{plan}-{code}", "indicator_code": code, "indicator_name": name,
            "text": f"Đạt {threshold} %", "milestone_year": 2030, "from_year": None, "threshold": threshold,
            "low": None, "high": None, "op": "ge", "value": value, "value_period": "2026H1", "unit": "pct",
            "coverage": 1.0, "status": status, "trajectory": trajectory, "note": None, "judged_on": None}


@pytest.fixture(scope="module")
def data(units):
    (c1, n1), (c2, n2), (c3, n3), (c4, _n4) = units
    hard = [{"unit_code": c1, "unit_name": n1, "text": "Nhân lực trạm y tế còn thiếu do khó tuyển dụng bác sĩ."},
            {"unit_code": c2, "unit_name": n2, "text": unicodedata.normalize("NFD", "Nhân lực trạm y tế còn thiếu.")},
            {"unit_code": c3, "unit_name": n3, "text": "Địa bàn rộng, giao thông khó khăn vào mùa mưa."},
            {"unit_code": c4, "unit_name": "<b>Xã</b> & co", "text": HOSTILE}]
    recs = group_recommendations([{"unit_code": c1, "unit_name": n1, "text": "Đề nghị bố trí kinh phí sửa trạm."}])
    difficulties, causes = group_difficulties(hard)
    plans = [{"plan_code": "KH-1", "title": "Kế hoạch 1", "issuer": "UBND", "issued_on": None, "level": "province",
              "targets": [_target("IMM", "Tỷ lệ tiêm chủng", "not_yet_due", "at_risk"),
                          _target("BHYT", "Tỷ lệ bao phủ BHYT", "not_met"),
                          _target("OK", "Chỉ tiêu tốt", "not_yet_due", "on_track")],
              "counts": {k: 0 for k in ("met", "not_met", "on_track", "at_risk", "off_track", "no_data",
                                        "no_baseline")}}]
    overdue = [{"plan_code": "KH-39-DU", "task_no": 2, "title": "Hoàn thiện thể chế", "lead_agency": "UBND xã",
                "deadline_text": "2025", "deadline_date": None,
                "rows": [{"unit_code": c, "unit_name": n, "status": "dang_thuc_hien", "note": None}
                         for c, n in ((c1, n1), (c2, n2))]}]
    counts = {k: 0 for k in ("met", "not_met", "not_yet_due", "no_data", "no_baseline", "on_track", "at_risk",
                             "off_track", "n", "n_due", "expected", "received", "accepted", "on_time", "late",
                             "n_overdue")}
    counts.update(missing=3, expected=10, accepted=7)
    return report_data.ReportData(
        period="2026H1", lang="vi", province={"unit_code": "LD", "name": "Tỉnh Lâm Đồng"},
        generated_at=datetime(2026, 7, 20, 9, 0, tzinfo=calendar.TZ), reporting=[], units=[], plans=plans,
        trends=[], overdue=[], overdue_tasks=overdue, recommendations=recs, n_rec_units=1, counts=counts,
        difficulties=difficulties, causes=causes, n_dif_units=4,
        next_steps=next_steps(plans, overdue, counts, recs, "vi"),
        office={"superior": "UBND Tỉnh Lâm Đồng", "name": "Sở Y tế", "abbr": "SYT", "place": "Lâm Đồng"})


def test_a_difficulty_and_its_cause_are_told_apart():
    assert split_cause("Nhân lực còn thiếu do khó tuyển dụng bác sĩ.") == ("Nhân lực còn thiếu.", "Khó tuyển dụng bác sĩ.")
    assert split_cause("Nhan luc con thieu, vi kho tuyen dung") == ("Nhan luc con thieu.", "Kho tuyen dung.")
    assert split_cause("Nguyên nhân: kinh phí hạn hẹp") == ("", "Kinh phí hạn hẹp.")
    assert split_cause("Địa bàn rộng, giao thông khó khăn.") == ("Địa bàn rộng, giao thông khó khăn.", None)


def test_difficulties_are_grouped_by_theme_across_unicode_forms(data, units):
    by = {g["theme"]: g for g in data.difficulties}
    assert set(by) >= {"nhan_luc", "dia_ban"}
    (staff,) = [p for p in by["nhan_luc"]["proposals"] if p["text"] == "Nhân lực trạm y tế còn thiếu."]
    assert [c for c, _ in staff["units"]] == [units[0][0], units[1][0]], "NFC and NFD text are one difficulty"
    causes = {p["text"] for g in data.causes for p in g["proposals"]}
    assert causes == {"Khó tuyển dụng bác sĩ.", "Khó tuyển dụng."}


def test_next_steps_come_from_targets_at_risk_and_overdue_tasks(data):
    steps = data.next_steps
    assert [s["kind"] for s in steps] == ["not_met", "at_risk", "tasks", "reports", "request"]
    assert steps[0]["text"].startswith("Tập trung chỉ đạo") and "1 chỉ tiêu không đạt" in steps[0]["text"]
    assert steps[0]["details"] == ["Tỷ lệ bao phủ BHYT: kết quả 40,00%, mục tiêu ≥ 50,00% năm 2030 (KH-1)"]
    assert "nguy cơ chậm" in steps[1]["text"] and "Tỷ lệ tiêm chủng" in steps[1]["details"][0]
    assert not any("Chỉ tiêu tốt" in x for s in steps for x in s["details"]), "a target on track needs no step"
    assert steps[2]["text"] == "Đôn đốc UBND xã hoàn thành 1 nhiệm vụ quá hạn"
    assert steps[2]["details"] == ["KH-39-DU/2: Hoàn thiện thể chế (thời hạn 2025; 2 đơn vị chưa hoàn thành)"]
    assert "3 đơn vị" in steps[3]["text"] and "kinh phí" in steps[4]["text"]
    assert next_period_words("2026H1") == "6 tháng cuối năm 2026"
    assert next_period_words("2026H2") == "6 tháng đầu năm 2027" and next_period_words("2026") == "năm 2027"


def _section(page: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}"[^>]*>(.*?)</section>', page, re.S)
    assert m, sid
    return m.group(1)


def test_html_has_the_administrative_layout_and_every_section(data):
    page = render_html(data)
    head = _section(page.replace("<header", "<section").replace("</header>", "</section>"), "doc-head")
    assert "UBND Tỉnh Lâm Đồng" in head and "Sở Y tế" in head and "Số: ……/BC-SYT" in head
    assert "Lâm Đồng, ngày …… tháng …… năm 2026" in head and "Độc lập - Tự do - Hạnh phúc" in head
    order = [page.index(f'<section id="{s}"') for s in ("targets", "difficulties", "recommendations", "next-steps",
                                                          "signature")]
    assert order == sorted(order)
    dif = _section(page, "difficulties")
    assert "V. Hạn chế, khó khăn và nguyên nhân" in dif and "2. Nguyên nhân" in dif
    assert "Nhân lực trạm y tế còn thiếu." in dif and "Khó tuyển dụng bác sĩ." in dif
    assert 'data-theme="dia_ban"' in dif and "Địa bàn, giao thông" in dif
    assert "VI. Kiến nghị, đề xuất" in _section(page, "recommendations")
    nxt = _section(page, "next-steps")
    assert "VII. Phương hướng, nhiệm vụ 6 tháng cuối năm 2026" in nxt
    assert len(re.findall(r'<li data-kind="', nxt)) == 5 and "Hoàn thiện thể chế" in nxt
    sign = _section(page, "signature")
    assert "Nơi nhận:" in sign and "KT. GIÁM ĐỐC" in sign and "PHÓ GIÁM ĐỐC" in sign and "Lưu: VT" in sign


def test_units_texts_are_escaped_in_html(data):
    page = render_html(data)
    assert "<script>alert(1)</script>" not in page and "<b>Xã</b>" not in page
    assert html.escape("<script>alert(1)</script>", quote=False) in page
    assert "&lt;b&gt;Xã&lt;/b&gt; &amp; co" in page
    assert "<script" not in page.lower()


def test_workbook_has_the_header_sections_and_signature_and_no_formula(data, tmp_path):
    path = write_xlsx(data, tmp_path / "r.xlsx")
    wb = load_workbook(path)
    summary = wb["Tổng hợp"]
    cells = [str(c.value) for row in summary.iter_rows() for c in row if c.value is not None]
    for want in ("SỞ Y TẾ", "Số: ……/BC-SYT", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                 "Lâm Đồng, ngày …… tháng …… năm 2026", "Nơi nhận:", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"):
        assert want in cells, want
    dif = wb["Hạn chế, khó khăn"]
    rows = [[c.value for c in r] for r in dif.iter_rows(min_row=4) if r[0].value is not None]
    assert ["Hạn chế, khó khăn", "Nhân lực", "Nhân lực trạm y tế còn thiếu."] == rows[0][:3]
    assert any(r[0] == "Nguyên nhân" and r[2] == "Khó tuyển dụng bác sĩ." for r in rows)
    hostile = [c for r in dif.iter_rows() for c in r if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert hostile and all(c.data_type == "s" for c in hostile), "a unit's text is never a formula"
    rows = list(wb["Phương hướng"].iter_rows(min_row=4, values_only=True))
    assert [r[0] for r in rows if r[0] is not None] == [1, 2, 3, 4, 5]
    assert "chỉ tiêu không đạt" in rows[0][1] and "Tỷ lệ bao phủ BHYT" in rows[1][1]
    assert not any(c.data_type == "f" for ws in wb.worksheets for r in ws.iter_rows() for c in r)
