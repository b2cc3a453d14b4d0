"""Migrations are numbered, applied in order, recorded, and keep the data of an older warehouse."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import pytest

from warehouse import migrate

NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)
KEPT = ("raw.submission", "raw.finding", "core.data_value", "core.task_status", "core.narrative", "ops.cycle",
        "ops.warning_acceptance")


def _fill_v1(con):
    con.execute("""insert into raw.submission values ('s1', 'LD.24781', '2026H1', 'XA_6T', 1, 'a.xlsx', '/store/a',
                   'ab', 10, 'xlsx', ?, 'inbox', 'rejected', 1, 0, ?, false),
                   ('s2', 'LD.24781', '2026H1', 'XA_6T', 2, 'b.xlsx', '/store/b', 'cd', 12, 'xlsx', ?, 'inbox',
                   'accepted_with_warnings', 0, 1, ?, true)""", [NOW, NOW, NOW, NOW])
    con.execute("""insert into raw.finding values ('s1', 1, 'error', 'V01', 'Số liệu', 'D6', 'POP_INSURED',
                   'khoảng 9 nghìn', 'Ô số liệu chứa chữ', 'Text in a number cell', null, null)""")
    con.execute("""insert into core.data_value values ('s2', 'LD.24781', '2026H1', 'XA_6T', 'POP', 12000, '12.000',
                   'Số liệu', 'D5', false), ('s2', 'LD.24781', '2026H1', 'XA_6T', 'DOCTORS', 90, '90', 'Số liệu', 'D7',
                   true)""")
    con.execute("insert into core.task_status values ('s2', 'LD.24781', '2026H1', 'KH-39-DU', 1, 'hoan_thanh', 'xong')")
    con.execute("insert into core.narrative values ('s2', 'LD.24781', '2026H1', 'kien_nghi', 'Đề nghị bổ sung bác sĩ.')")
    con.execute("""insert into ops.cycle values ('2026H1', 'XA_6T', ?, ?, ?, ?, 'Thông tư 37/2019/TT-BYT', ?, null)""",
                [date(2026, 1, 1), date(2026, 6, 30), NOW, NOW, NOW])
    con.execute("""insert into ops.warning_acceptance values ('LD.24781', '2026H1', 'XA_6T', 'W01', 'DOCTORS',
                   'operator', 'confirmed by phone', ?)""", [NOW])


def _dump(con, like: dict | None = None):
    """Every kept table's rows; with `like`, only as many columns as `like` has (later migrations
    may add columns: the rows that were there keep their values, the new columns are empty)."""
    out = {t: con.execute(f"select * from {t} order by all").fetchall() for t in KEPT}
    if like is None:
        return out
    for t, rows in out.items():
        n = len(like[t][0]) if like[t] else 0
        assert all(all(v is None for v in r[n:]) for r in rows), t
        out[t] = [r[:n] for r in rows]
    return out


def test_upgrade_from_version_1_keeps_data_and_records_every_version(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    assert migrate.upgrade(con, target=1) == [1]
    assert migrate.applied(con) == [1]
    assert con.execute("select count(*) from duckdb_tables() where schema_name = 'ops' and table_name = 'outbox'"
                       ).fetchone()[0] == 0
    _fill_v1(con)
    before = _dump(con)
    assert all(before.values())

    head = [v for v, _, _ in migrate.available()]
    assert head[0] == 1 and head == sorted(head) and len(head) >= 3
    assert migrate.upgrade(con) == head[1:]
    assert _dump(con, like=before) == before
    recorded = con.execute("select version, name from ops.schema_migrations order by version").fetchall()
    assert recorded == [(v, n) for v, n, _ in migrate.available()]
    # later migrations took effect: the outbox exists, the tables carry comments
    assert con.execute("select count(*) from ops.outbox").fetchone()[0] == 0
    assert con.execute("select comment from duckdb_tables() where schema_name = 'raw' and table_name = 'submission'"
                       ).fetchone()[0]
    assert migrate.upgrade(con) == []
    con.close()

    con = duckdb.connect(str(path))  # and it is all on disk
    assert _dump(con, like=before) == before and migrate.applied(con) == head
    con.close()


def test_a_failing_migration_is_rolled_back_and_not_recorded(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    first = migrate.available()[0][2]
    (folder / first.name).write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "002_broken.sql").write_text("create table ops.half_done (a integer);\nselect * from no_such_table;\n",
                                           encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    with pytest.raises(duckdb.Error):
        migrate.upgrade(con, folder=folder)
    assert migrate.applied(con) == [1]
    assert con.execute("select count(*) from duckdb_tables() where table_name = 'half_done'").fetchone()[0] == 0
    con.close()


def test_migration_files_are_numbered_once(tmp_path):
    (tmp_path / "001_a.sql").write_text("select 1;", encoding="utf-8")
    (tmp_path / "001_b.sql").write_text("select 1;", encoding="utf-8")
    with pytest.raises(ValueError, match="share a number"):
        migrate.available(tmp_path)
