"""Every query in docs/analyst-queries.md and in the README runs on the demo's published snapshot,
opened read-only as an analyst opens it, and returns rows."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "analyst-queries.md"
TEXT = DOC.read_text(encoding="utf-8")
README = DOC.parent.parent / "README.md"
QUERIES = re.findall(r"^```sql\n(.*?)^```", TEXT, re.S | re.M)
TITLES = [t.strip() for t in re.findall(r"^## (.+)$", TEXT, re.M)]
README_QUERIES = re.findall(r"^```sql\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)


def test_the_page_has_at_least_five_queries():
    assert len(QUERIES) >= 5
    python = re.findall(r"^```python\n(.*?)^```", TEXT, re.S | re.M)
    for block in python:
        compile(block, str(DOC), "exec")


@pytest.fixture(scope="module")
def snapshot(demo_cycle):
    s, _, _ = demo_cycle
    con = duckdb.connect(str(s.snapshot), read_only=True)
    con.execute("set timezone = 'Asia/Ho_Chi_Minh'")
    yield con
    con.close()


@pytest.mark.parametrize("sql", QUERIES, ids=[t.split(".")[0] for t in TITLES[: len(QUERIES)]])
def test_query_runs_on_the_snapshot(snapshot, sql):
    rows = snapshot.execute(sql).fetchall()
    assert rows, f"no rows:\n{sql}"


def test_the_readme_shows_five_queries():
    assert len(README_QUERIES) >= 5


@pytest.mark.parametrize("sql", README_QUERIES, ids=[f"readme-{i + 1}" for i in range(len(README_QUERIES))])
def test_readme_query_runs_on_the_snapshot(snapshot, sql):
    assert snapshot.execute(sql).fetchall(), f"no rows:\n{sql}"
