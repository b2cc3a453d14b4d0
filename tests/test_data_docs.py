"""Great Expectations data docs for a cycle, readable offline (expectations/docs.py)."""

from __future__ import annotations

import random
import re

import pytest

import catalog as catalog_mod
from expectations import docs
from expectations.validate import BatchItem, values_frame
from testing.demo import commune_values

DATASET = "XA_6T"
TAG = re.compile(r"<(link|script|img)\b[^>]*>", re.I)
URL_ATTR = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]*)""", re.I)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Docs for 3 submissions, one with a negative bed count."""
    cat = catalog_mod.load()
    units = [u.code for u in cat.expected_units(DATASET)[:3]]
    items = []
    for i, unit in enumerate(units):
        values = commune_values(random.Random(i))
        if i == 1:
            values["BEDS"] = -5
        items.append(BatchItem(key=f"s{i}", unit_code=unit, tasks=[],
                               values=[{"element_code": k, "value": float(v)} for k, v in values.items()]))
    frame = values_frame(DATASET, items, {}, cat)
    out = tmp_path_factory.mktemp("docs") / "data_docs"
    index = docs.build_data_docs(out, {DATASET: frame}, run_name="2026H1")
    return out, index, units


def test_index_links_the_validation_page_without_javascript(site):
    out, index, _units = site
    assert index == out / "index.html" and index.is_file()
    page = index.read_text(encoding="utf-8")
    assert "bootstrapTable" not in page
    assert re.search(r'href="validations/XA_6T/2026H1/[^"]+/baocao-XA_6T\.html"', page), "a plain link to the result"
    assert 'href="expectations/XA_6T.html"' in page
    assert (out / "static" / "baocao" / "baocao.css").is_file()
    assert 'href="static/baocao/baocao.css"' in page


def test_no_page_loads_anything_from_the_internet(site):
    out = site[0]
    pages = sorted(out.rglob("*.html"))
    assert len(pages) >= 3  # index, suite, validation result
    for page in pages:
        text = page.read_text(encoding="utf-8")
        external = [u for tag in TAG.finditer(text) for u in URL_ATTR.findall(tag.group(0))]
        assert external == [], f"{page.relative_to(out)} loads {external}"
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), page
        css = re.findall(r'<link rel="stylesheet" href="([^"]+)">', text)
        assert css and all((page.parent / h).resolve().is_file() for h in css), (page, css)


def test_validation_page_names_the_failing_expectation_and_column(site):
    out, _index, units = site
    [page] = out.glob("validations/XA_6T/2026H1/*/baocao-XA_6T.html")
    text = page.read_text(encoding="utf-8")
    assert "Failed" in text
    sections = re.split(r'<div id="section-\d+" class="ge-section', text)
    [beds] = [s for s in sections if re.search(r"<h5[^>]*>\s*BEDS\s*</h5>", s)]
    assert beds.count("fa-times") == 1, "one failing expectation in the BEDS section"
    words = " ".join(re.sub(r"<[^>]+>", " ", beds).split())
    assert "values must be greater than or equal to 0.0 and less than or equal to 20000.0" in words
    assert "1 unexpected values found" in words
    assert f"-5.0 1 1 {units[1]}" in words, "unexpected value, count, row_id, unit_code"


def test_rebuild_replaces_only_its_own_site(site, tmp_path):
    from great_expectations.data_context.data_context.context_factory import project_manager

    out = site[0]
    cat = catalog_mod.load()
    unit = cat.expected_units("TK_NAM")[0].code
    item = BatchItem(key="t", unit_code=unit, tasks=[], values=[{"element_code": "LIFE_EXPECTANCY", "value": 74.2}])
    small = values_frame("TK_NAM", [item], {}, cat)
    before = project_manager._ProjectManager__project  # the process-wide GX project
    docs.build_data_docs(out, {"TK_NAM": small}, run_name="2026")
    assert project_manager._ProjectManager__project is before, "the docs context is not left as GX's project"
    pages = sorted(p.relative_to(out).as_posix() for p in out.glob("validations/**/*.html"))
    assert len(pages) == 1 and pages[0].startswith("validations/TK_NAM/2026/"), "the earlier build was replaced"
    assert not (out / "expectations" / "XA_6T.html").exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".data_docs.")], "no staging folder left"

    foreign = tmp_path / "reports"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x")
    with pytest.raises(ValueError, match="refusing"):
        docs.build_data_docs(foreign, {"TK_NAM": small})
    assert (foreign / "keep.txt").exists()
    with pytest.raises(ValueError, match="no committed suite"):
        docs.build_data_docs(tmp_path / "x", {"NOPE": small})
