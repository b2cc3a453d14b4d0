"""The draft provincial report: both formats written for the demo period, and every figure in the
workbook and the HTML page equal to the marts' (no figure computed anywhere else)."""

from __future__ import annotations

import html
import re

import pytest

from baocao.text import fmt_number, fold
from reports import build, recommendations
from reports import labels as report_labels

# ------------------------------------------------------------------------- plain functions


def test_classifier_puts_each_demo_recommendation_in_its_theme():
    from testing.demo import THEMES

    for theme, sentences in THEMES.items():
        for s in sentences:
            assert recommendations.classify(s) == theme, s
            assert recommendations.classify(fold(s)) == theme, "unaccented text classifies the same"
    assert recommendations.classify("Đề nghị tăng cường công tác tuyên truyền phòng chống dịch.") == "khac"
    assert recommendations.classify("Đề nghị cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi.") == "bhyt"
    assert recommendations.classify("Kiến nghị bố trí ngân sách để nâng cấp phần mềm quản lý.") == "chuyen_doi_so"
    assert recommendations.classify("Đề nghị hỗ trợ kinh phí sửa chữa trạm y tế.") == "kinh_phi"
    assert recommendations.classify("De nghi ho tro may sieu am cho tram") == "co_so_vat_chat"


def test_sentences_and_grouping():
    assert recommendations.sentences("A là một. B là hai; Ba ba\n- D là bốn\n2) E") == ["A là một.", "B là hai;", "Ba ba",
                                                                          "D là bốn"]
    groups = recommendations.group_recommendations([
        {"unit_code": "U1", "unit_name": "Một", "text": "Đề nghị bố trí kinh phí. Thiếu bác sĩ tại trạm."},
        {"unit_code": "U2", "unit_name": "Hai", "text": "Đề nghị bố trí kinh phí."},
    ])
    by = {g["theme"]: g for g in groups}
    assert set(by) == {"kinh_phi", "nhan_luc"}
    assert by["kinh_phi"]["proposals"][0]["units"] == [("U1", "Một"), ("U2", "Hai")]
    assert by["nhan_luc"]["n_units"] == 1


def test_number_formats():
    assert fmt_number(1234.5, 2) == "1.234,50"
    assert fmt_number(1234.5, 2, "en") == "1,234.50"
    assert report_labels.fmt_value(95.355167, "pct") == "95,36%"
    assert report_labels.fmt_value(8.771605, "permille") == "8,77‰"
    assert report_labels.fmt_value(12.444317, "per_10k") == "12,44"
    assert report_labels.fmt_value(None, "pct") == "—"
    assert report_labels.fmt_rate(0.9355) == "93,55%"
    assert report_labels.title("2026H1") == "BÁO CÁO SƠ KẾT 6 THÁNG ĐẦU NĂM 2026"
    assert report_labels.title("2025H2") == "BÁO CÁO SƠ KẾT 6 THÁNG CUỐI NĂM 2025"
    assert report_labels.title("2026") == "BÁO CÁO TỔNG KẾT NĂM 2026"


# ------------------------------------------------------------------------------ the demo


@pytest.fixture(scope="module")
def report(demo_cycle, tmp_path_factory):
    from baocao.resources import live

    s, plan, _ = demo_cycle
    con = live(s).con()  # kept open for the module's tests
    xlsx, page = build.write_report(con, plan.period, tmp_path_factory.mktemp("report"))
    return con, plan.period, xlsx, page


def _marts(con, sql, params):
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _sheet(path, name, header_row=3):
    from openpyxl import load_workbook

    ws = load_workbook(path, read_only=True)[name]
    rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    head = rows[0]
    return [dict(zip(head, r, strict=False)) for r in rows[1:] if any(v is not None for v in r)]


def _section(page_html: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}"[^>]*>(.*?)</section>', page_html, re.S)
    assert m, sid
    return m.group(1)


def _fields(section: str) -> dict[str, dict[str, tuple[str, str]]]:
    """{data-key: {data-field: (data-raw, shown text)}} for the rows of a section."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for key, body in re.findall(r'<tr data-key="([^"]+)"[^>]*>(.*?)</tr>', section, re.S):
        cells = re.findall(r'data-field="(\w+)" data-raw="([^"]*)"[^>]*>(.*?)</td>', body, re.S)
        out[html.unescape(key)] = {f: (html.unescape(raw), html.unescape(re.sub(r"<[^>]+>", "", text)).strip())
                                   for f, raw, text in cells}
    return out


def _cell(v):
    """A mart figure as a workbook holds it: 16 significant digits (Excel itself keeps 15)."""
    return float(f"{v:.16g}") if isinstance(v, float) else v


def _raw(v) -> str:
    return "" if v is None else repr(float(v)) if isinstance(v, float) else str(v)


def test_both_formats_written(report):
    _, period, xlsx, page = report
    assert xlsx.exists() and xlsx.suffix == ".xlsx" and period in xlsx.name
    assert page.exists() and page.suffix == ".html" and xlsx.stem == page.stem
    text = page.read_text(encoding="utf-8")
    assert "BÁO CÁO SƠ KẾT 6 THÁNG ĐẦU NĂM 2026" in text and 'lang="vi"' in text
    # self-contained: no script, no stylesheet or image fetched from anywhere
    assert "<script" not in text.lower() and "<link" not in text.lower() and "@import" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text) and "url(" not in text
    assert text.count("<svg") > 10


def test_targets_equal_marts(report):
    con, period, xlsx, page = report
    # the province's report shows its own plans and its communes' (each judged on its own unit),
    # not a Đồng Nai commune's plan nor a Lai Châu department's
    marts = {r["target_id"]: r for r in _marts(con, """select tp.* from marts.target_progress tp
        join core.unit_area ua on ua.unit_code = tp.scope_unit where tp.period = ? and ua.province_code = 'LD'""",
        [period])}
    assert marts and {t.split("/")[0] for t in marts} == {"CTHD-72-LD", "KH-50-TU"}
    rows = {r["Mã mục tiêu"]: r for r in _sheet(xlsx, "Mục tiêu")}
    assert set(rows) == set(marts)
    shown = _fields(_section(page.read_text(encoding="utf-8"), "targets"))
    assert set(shown) == set(marts)
    for tid, m in marts.items():
        x = rows[tid]
        assert (x["Ngưỡng"], x["Kết quả"], x["Độ bao phủ"]) == tuple(
            _cell(m[f]) for f in ("threshold", "value", "coverage")), tid
        if "value_period" in m:
            assert x["Kỳ số liệu"] == m["value_period"], tid
        assert x["Tình trạng"] == report_labels.STATUS["vi"][m["status"]]
        assert x["Tiến độ"] == (report_labels.TRAJECTORY["vi"][m["trajectory"]] if m["trajectory"] else None)
        h = shown[tid]
        unit = report_labels.target_unit(m)
        assert h["threshold"] == (_raw(m["threshold"]), report_labels.fmt_value(m["threshold"], unit)), tid
        assert h["value"][0] == _raw(m["value"]) and h["value"][1].startswith(report_labels.fmt_value(m["value"], unit)), tid
        assert h["coverage"] == (_raw(m["coverage"]), report_labels.fmt_rate(m["coverage"]))
        assert h["status"][0] == m["status"]


def test_trends_equal_marts(report):
    con, period, xlsx, page = report
    marts = _marts(con, "select indicator_code, period, value from marts.indicator_value where level = 'province'", [])
    current = {r["indicator_code"] for r in marts if r["period"] == period}
    sheet = {r["Mã chỉ tiêu"]: r for r in _sheet(xlsx, "Xu hướng")}
    assert set(sheet) == current
    section = _section(page.read_text(encoding="utf-8"), "trends")
    figures = dict(re.findall(r'<figure data-key="([^"]+)">(.*?)</figure>', section, re.S))
    assert set(figures) == current
    for r in marts:
        if r["indicator_code"] not in current:
            continue
        assert sheet[r["indicator_code"]][r["period"]] == _cell(r["value"])
        points = dict(re.findall(r'<li data-period="([^"]+)" data-raw="([^"]*)">', figures[r["indicator_code"]]))
        assert points[r["period"]] == _raw(r["value"])
        assert f'data-period="{r["period"]}"' in figures[r["indicator_code"]]


def test_reporting_equals_marts(report):
    con, period, xlsx, page = report
    marts = {r["dataset_code"]: r for r in _marts(con, "select * from marts.reporting_rate where period = ?", [period])}
    sheet = {r["Báo cáo"]: r for r in _sheet(xlsx, "Tình hình báo cáo")}
    page_html = page.read_text(encoding="utf-8")
    shown = _fields(_section(page_html, "reporting"))
    labels = {"expected": "Phải nộp", "received": "Đã nhận", "accepted": "Hợp lệ", "on_time": "Đúng hạn",
              "late": "Trễ hạn", "missing": "Thiếu", "reporting_rate": "Tỷ lệ báo cáo",
              "timeliness_rate": "Tỷ lệ đúng hạn"}
    assert set(sheet) == set(marts)
    for ds, m in marts.items():
        for f, label in labels.items():
            assert sheet[ds][label] == _cell(m[f]), (ds, f)
            assert shown[ds][f][0] == _raw(m[f]), (ds, f)
        assert shown[ds]["reporting_rate"][1] == report_labels.fmt_rate(m["reporting_rate"])
    # per unit: every expected unit, its state from the mart's flags
    units = _marts(con, "select * from marts.reporting_completeness where period = ?", [period])
    rows = _sheet(xlsx, "Đơn vị")
    assert len(rows) == len(units)
    for u in units:
        key = f"{u['dataset_code']}/{u['unit_code']}"
        state, n = shown[key]["state"][0], shown[key]["n_versions"][0]
        assert n == str(u["n_versions"])
        assert (state == "on_time") == u["is_on_time"] and (state == "late") == u["is_late"]
        assert (state in ("rejected", "not_received", "missing")) == u["is_missing"]
    summary = re.search(r'<div class="big">(\d+)/(\d+)</div>', page_html)
    assert summary.groups() == (str(sum(m["accepted"] for m in marts.values())),
                                str(sum(m["expected"] for m in marts.values())))


def test_overdue_tasks_equal_marts(report):
    con, period, xlsx, page = report
    marts = _marts(con, "select plan_code, task_no, unit_code from marts.task_progress where period = ? and is_overdue",
                   [period])
    assert marts, "the demo has overdue tasks"
    sheet = _sheet(xlsx, "Nhiệm vụ quá hạn")
    assert sorted((r["Kế hoạch"], r["STT"], r["Mã đơn vị"]) for r in sheet) == \
        sorted((m["plan_code"], m["task_no"], m["unit_code"]) for m in marts)
    section = _section(page.read_text(encoding="utf-8"), "tasks")
    shown = dict(re.findall(r'<tr data-key="([^"]+)" data-units="(\d+)"', section))
    expected: dict[str, int] = {}
    for m in marts:
        expected[f"{m['plan_code']}/{m['task_no']}"] = expected.get(f"{m['plan_code']}/{m['task_no']}", 0) + 1
    assert {k: int(v) for k, v in shown.items()} == expected


def test_a_task_of_a_merged_department_is_reported_at_its_successor(report):
    con, period, xlsx, page = report
    rows = _marts(con, """select unit_code, lead_agency, is_overdue from marts.task_progress
                          where period = ? and plan_code = 'KH-50-TU' and task_no = 66""", [period])
    assert [(r["unit_code"], r["lead_agency"]) for r in rows] == \
        [("LD.SNV", "Sở Lao động - Thương binh và XH (nay là Sở Nội vụ)")]
    sheet = [r for r in _sheet(xlsx, "Nhiệm vụ quá hạn") if r["Kế hoạch"] == "KH-50-TU" and r["STT"] in (66, 67, 68)]
    assert sheet, "the demo's merged departments have overdue tasks (deadline 2020, not done)"
    for r in sheet:
        assert "(nay là Sở " in r["Cơ quan chủ trì"] and r["Mã đơn vị"] in ("LD.SNV", "LD.SNNMT"), r
    assert rows[0]["is_overdue"]  # the demo's Sở Nội vụ has not finished it (deterministic seed)
    assert "Sở Lao động - Thương binh và XH (nay là Sở Nội vụ)" in \
        html.unescape(_section(page.read_text(encoding="utf-8"), "tasks"))


def test_recommendations_grouped_by_theme(report):
    con, period, xlsx, page = report
    units = {r[0] for r in con.execute("""
        select cs.unit_code from core.narrative n join core.current_submission cs using (submission_id)
        where cs.period = ? and n.section = 'kien_nghi' and n.text is not null""", [period]).fetchall()}
    rows = _sheet(xlsx, "Kiến nghị")
    assert {u for r in rows for u in r["Đơn vị kiến nghị"].split(", ")} == units
    themes = {r["Nhóm vấn đề"] for r in rows}
    assert themes <= set(recommendations.THEME_NAMES["vi"].values())
    assert {"Nhân lực", "Bảo hiểm y tế", "Chuyển đổi số", "Kinh phí", "Cơ sở vật chất, trang thiết bị"} <= themes
    section = _section(page.read_text(encoding="utf-8"), "recommendations")
    assert len(re.findall(r'data-theme="', section)) == len(themes)


def test_english_and_empty_period(report, tmp_path):
    con, period, _, _ = report
    xlsx, page = build.write_report(con, period, tmp_path, lang="en")
    assert "SIX-MONTH REVIEW, FIRST HALF OF 2026" in page.read_text(encoding="utf-8") and xlsx.exists()
    _, page = build.write_report(con, "2031", tmp_path)
    assert "BÁO CÁO TỔNG KẾT NĂM 2031" in page.read_text(encoding="utf-8")


def test_difficulties_next_steps_and_the_signature_on_the_demo(report):
    """The sections a provincial office sends up, from the demo's own data: every difficulty a unit
    wrote (han_che of the versions that count) is in "Hạn chế, khó khăn", with its units; the next
    steps name the targets not met and the overdue tasks; the header and signature block are there."""
    from reports.difficulties import split_cause

    con, period, xlsx, page = report
    texts = con.execute("""
        select cs.unit_code, n.text from core.narrative n join core.current_submission cs using (submission_id)
        where cs.period = ? and n.section = 'han_che' and n.text is not null""", [period]).fetchall()
    assert texts, "the demo's units fill han_che"
    wanted = {split_cause(s)[0] for _, t in texts for s in recommendations.sentences(t)} - {""}
    page_html = page.read_text(encoding="utf-8")
    section = html.unescape(_section(page_html, "difficulties"))
    assert "V. Hạn chế, khó khăn và nguyên nhân" in section
    assert all(w in section for w in wanted), wanted
    rows = [r for r in _sheet(xlsx, "Hạn chế, khó khăn") if r["Đơn vị nêu"]]  # not the note below the table
    assert {r["Hạn chế, khó khăn"] for r in rows if r["Loại"] == "Hạn chế, khó khăn"} == wanted
    assert {u for r in rows for u in r["Đơn vị nêu"].split(", ")} == {u for u, _ in texts}

    steps = html.unescape(_section(page_html, "next-steps"))
    not_met = {r[0] for r in con.execute("""
        select i.name from marts.target_progress tp join core.indicator i using (indicator_code)
        where tp.period = ? and tp.status = 'not_met'""", [period]).fetchall()}
    assert not_met and all(n in steps for n in not_met)
    overdue = con.execute("select count(distinct plan_code || '/' || task_no) from marts.task_progress "
                          "where period = ? and is_overdue", [period]).fetchone()[0]
    assert overdue and len(re.findall(r"<li>[A-Z0-9-]+/\d+: ", _section(page_html, "next-steps"))) == overdue
    assert "Số: ……/BC-SYT" in page_html and "KT. GIÁM ĐỐC" in _section(page_html, "signature")
