"""Every query in docs/analyst-queries.md runs on the demo's published snapshot, opened read-only
as an analyst opens it, and returns rows."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "analyst-queries.md"
TEXT = DOC.read_text(encoding="utf-8")
QUERIES = re.findall(r"^```sql\n(.*?)^```", TEXT, re.S | re.M)
TITLES = [t.strip() for t in re.findall(r"^## (.+)$", TEXT, re.M)]


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
