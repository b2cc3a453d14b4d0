"""Nothing a unit writes runs anywhere: units send texts that a spreadsheet would evaluate
(`=HYPERLINK(…)`, `=cmd|' /C calc'!A0`, `+…`, `-…`, `@…`) as recommendations, task notes, the
preparer's name, a value cell and CSV lines; no cell of any workbook baocao then writes (the
provincial report, annotated workbooks, findings-only workbooks, templates) holds a formula,
and the texts are there, as text."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from baocao.services import answer, process
from baocao.settings import settings
from intake import form
from intake import store as store_mod
from intake.template import write_template
from reports.build import write_report
from testing import demo
from tests import hostile

CAT = hostile.CAT
NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)
PAYLOADS = ['=HYPERLINK("http://evil.example/x","Bấm vào đây")', "=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"]
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _formulas(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return [n for n in zf.namelist() if n.startswith("xl/worksheets/") and _FORMULA.search(zf.read(n))]


def _texts_in(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return "".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist()
                       if n.startswith(("xl/worksheets/", "xl/sharedStrings", "xl/comments")))


def test_no_workbook_baocao_writes_holds_a_formula_from_a_unit(tmp_path):
    import html

    s = settings(tmp_path / "home")
    res = hostile.resources(s.home, NOW)
    units = hostile.communes(4)
    first_task = CAT.tasks_for(hostile.DATASET, units[0])[0]
    status_todo = next(st["name"] for st in CAT.task_statuses if st["code"] == "chua_thuc_hien")
    import random

    for i, unit in enumerate(units[:3]):
        payload = PAYLOADS[i]
        tasks = demo._tasks(random.Random(unit), CAT, hostile.DATASET, unit)
        tasks[(first_task.plan_code, first_task.task_no)] = (status_todo, payload)
        texts = {"ket_qua": payload, "han_che": PAYLOADS[3], "kien_nghi": f"{payload}\n{PAYLOADS[4]}"}
        values = hostile.values_for(unit)
        cells = [(form.SHEET_META, "B9", PAYLOADS[4])]  # «Người lập biểu»
        if i == 2:
            values = dict(values, POP=PAYLOADS[4])  # text in a number cell: rejected, shown in the findings
        data = hostile.workbook_bytes(unit, values=values, tasks=tasks, texts=texts, cells=cells)
        store_mod.receive(s.store, unit, data, f"{unit}.xlsx", source="inbox", received_at=NOW, cat=CAT)
    # a CSV unit: its bad line's text lands in a findings-only workbook
    csv_path = tmp_path / "u.csv"
    demo.write_csv(csv_path, units[3], hostile.PERIOD, hostile.DATASET, dict(hostile.values_for(units[3]),
                   POP=PAYLOADS[1]), {}, {"kien_nghi": PAYLOADS[0]})
    store_mod.receive(s.store, units[3], csv_path, "u.csv", source="inbox", received_at=NOW, cat=CAT)

    records = process.process(res)
    assert {r.unit_code for r in records if r.status == "rejected"} >= {units[2], units[3]}
    process.aggregate(res)
    answer.write_feedback_files(res, records)
    xlsx, html_path = write_report(res.con(), hostile.PERIOD, s.reports, generated_at=res.now())
    for r in records:  # every unit gets its annotated workbook (or findings-only workbook)
        answer.write_findings_file(res, r) if r.findings else None
    write_template(s.templates / "t.xlsx", units[0], hostile.PERIOD, hostile.DATASET, cat=CAT,
                   values=dict(hostile.values_for(units[0]), POP=PAYLOADS[0]),
                   tasks={(first_task.plan_code, first_task.task_no): (status_todo, PAYLOADS[1])},
                   texts={"kien_nghi": PAYLOADS[2]})
    res.close()

    written = sorted(s.home.rglob("*.xlsx"))
    feedback = [p for p in written if s.feedback in p.parents]
    assert xlsx in written and (s.templates / "t.xlsx") in written and len(feedback) >= 2
    for path in written:
        if s.store in path.parents:
            continue  # the units' own files
        assert _formulas(path) == [], path
    # and the texts are there, as the units wrote them
    report_text = html.unescape(_texts_in(xlsx))
    assert "=cmd|' /C calc'!A0" in report_text and '=HYPERLINK("http://evil.example/x"' in report_text
    annotated = html.unescape(" ".join(_texts_in(p) for p in feedback))
    assert PAYLOADS[4] in annotated and PAYLOADS[1] in annotated
    assert PAYLOADS[0] in html.unescape(_texts_in(s.templates / "t.xlsx"))
    # the HTML report shows them as text, not markup
    page = html_path.read_text(encoding="utf-8")
    assert 'href="http://evil.example' not in page
