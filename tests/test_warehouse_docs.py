"""The data dictionary (docs/warehouse.md) is generated from the schema's comments and kept in
step with it; the marts, the analysts' contract, carry a comment on every table and column."""

from __future__ import annotations

import pytest

from warehouse import docs


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    con = docs.fresh_warehouse(tmp_path_factory.mktemp("docs"))
    yield con
    con.close()


def test_docs_equal_a_fresh_generation(fresh):
    committed = docs.DOCS_PATH.read_text(encoding="utf-8")
    assert committed == docs.render(fresh), "docs/warehouse.md is stale: run `python -m warehouse.docs`"
    assert docs.generate() == committed


def test_every_mart_table_and_column_has_a_comment(fresh):
    tables = fresh.execute("select table_name, comment from duckdb_tables() where schema_name = 'marts'").fetchall()
    assert {t for t, _ in tables} >= {"indicator_value", "target_progress", "reporting_completeness",
                                      "reporting_rate", "task_progress"}
    assert [t for t, c in tables if not c] == []
    missing = fresh.execute("""select table_name || '.' || column_name from duckdb_columns()
                               where schema_name = 'marts' and coalesce(comment, '') = ''""").fetchall()
    assert missing == []


def test_tables_created_by_migrations_have_comments(fresh):
    """raw, ops and the core facts are commented by migrations (003); every column too."""
    rows = fresh.execute("""
        select t.schema_name || '.' || t.table_name, t.comment is not null,
               count(*) filter (where c.comment is null) as columns_without
        from duckdb_tables() t join duckdb_columns() c using (database_name, schema_name, table_name)
        where t.schema_name in ('raw', 'ops')
           or (t.schema_name = 'core' and t.table_name in ('data_value', 'task_status', 'narrative'))
        group by all order by 1""").fetchall()
    assert len(rows) >= 9
    assert [r for r in rows if not r[1] or r[2]] == []


def test_dictionary_lists_every_object_with_its_columns(fresh):
    text = docs.render(fresh)
    objs = docs.objects(fresh)
    assert {o["schema"] for o in objs} == set(docs.SCHEMAS)
    for o in objs:
        assert f"### {o['schema']}.{o['name']}\n" in text
        for c in o["columns"]:
            assert f"| `{c['name']}` | {c['type']}" in text
    assert "One row per period, indicator and org unit" in text
