"""The warehouse's questions and writes that the services ask, beside the migrations and models
they run against (ops.cycle, raw.submission, raw.finding, core.current_value,
ops.warning_acceptance, marts.reporting_completeness). Each is a plain function over a cursor
of the writer (`baocao.resources.Warehouse.con()`) or of a read-only snapshot; the services
decide what to do with the answers. No DuckDB import: a cursor is handed in."""

from __future__ import annotations

from datetime import datetime

# ------------------------------------------------------------------------------------ ops.cycle


def insert_cycle(con, row: dict) -> None:
    """One period × data set opened (a second opening changes nothing)."""
    con.execute("""insert into ops.cycle (period, dataset_code, window_start, window_end, deadline_at, close_at,
                   legal_basis, opened_at) values ($period, $dataset_code, $window_start, $window_end, $deadline_at,
                   $close_at, $legal_basis, $opened_at) on conflict do nothing""", row)


def close_period(con, period: str, now: datetime) -> int:
    """Close every data set of `period` still open; how many were."""
    return len(con.execute("update ops.cycle set closed_at = ? where period = ? and closed_at is null returning 1",
                           [now, period]).fetchall())


def close_one(con, period: str, dataset_code: str, now: datetime) -> bool:
    """Close one data set's cycle; False when it was already closed."""
    return bool(con.execute("""update ops.cycle set closed_at = ? where period = ? and dataset_code = ?
                               and closed_at is null returning 1""", [now, period, dataset_code]).fetchall())


def cycles(con) -> dict[tuple[str, str], dict]:
    """(period, data set) → deadline_at, close_at, closed_at of every cycle ever opened."""
    rows = con.execute("select period, dataset_code, deadline_at, close_at, closed_at from ops.cycle").fetchall()
    return {(p, d): {"deadline_at": dl, "close_at": ca, "closed_at": cl} for p, d, dl, ca, cl in rows}


def cycle_rows(con) -> list[tuple]:
    """(period, dataset_code, deadline_at, close_at, opened_at, closed_at), ordered."""
    return con.execute("""select period, dataset_code, deadline_at, close_at, opened_at, closed_at
                          from ops.cycle order by period, dataset_code""").fetchall()


def cycles_of_period(con, period: str) -> list[tuple]:
    """(dataset_code, deadline_at, opened_at, close_at) of each data set opened for `period`."""
    return con.execute("select dataset_code, deadline_at, opened_at, close_at from ops.cycle where period = ?",
                       [period]).fetchall()


def datasets_of_period(con, period: str) -> list[str]:
    return [d for (d,) in con.execute("select dataset_code from ops.cycle where period = ? order by 1",
                                      [period]).fetchall()]


# ------------------------------------------------------------------------------ raw / core


def previous_values(con, period: str, dataset_code: str) -> dict[tuple[str, str], float]:
    """(unit, element) → the value that counts in `period` (the previous period, for the caller)."""
    rows = con.execute("""select unit_code, element_code, value from core.current_value
                          where period = ? and dataset_code = ? and value is not null""",
                       [period, dataset_code]).fetchall()
    return {(u, e): v for u, e, v in rows}


def findings(con, submission_id: str) -> list[tuple]:
    """raw.finding of one submission in order: severity, rule_id, message_vi, message_en, sheet,
    cell, element_code, value_raw, expected_vi, expected_en."""
    return con.execute("""select severity, rule_id, message_vi, message_en, sheet, cell, element_code, value_raw,
                          expected_vi, expected_en from raw.finding where submission_id = ? order by seq""",
                       [submission_id]).fetchall()


def submission_versions(con, submission_ids: list[str]) -> dict[str, int]:
    """raw.submission's version of each given submission that is recorded."""
    if not submission_ids:
        return {}
    marks = ", ".join("?" * len(submission_ids))
    return dict(con.execute(f"select submission_id, version from raw.submission where submission_id in ({marks})",
                            submission_ids).fetchall())


def unit_history(con, unit: str, period: str | None = None) -> list[tuple]:
    """A unit's every version: period, dataset_code, version, file_name, received_at, status,
    n_errors, n_warnings, counts (is the version that counts), submission_id."""
    return con.execute("""
        select s.period, s.dataset_code, s.version, s.file_name, s.received_at, s.status, s.n_errors, s.n_warnings,
               cs.submission_id is not null as counts, s.submission_id
        from raw.submission s
        left join core.current_submission cs using (submission_id)
        where s.unit_code = ? and (? is null or s.period = ?)
        order by s.period, s.dataset_code, s.version""", [unit, period, period]).fetchall()


def latest_files(con, period: str, dataset_code: str) -> list[tuple[str, str]]:
    """(unit_code, stored_path) of each unit's latest version of a data set in a period."""
    return con.execute("""select unit_code, stored_path from raw.submission where period = ? and dataset_code = ?
                          qualify row_number() over (partition by unit_code order by version desc) = 1
                          order by unit_code""", [period, dataset_code]).fetchall()


# ------------------------------------------------------------------------- operator decisions


def accepted_warnings(con, period: str) -> set[tuple[str, str, str]]:
    """(unit, data set, element) whose warnings an operator accepted for `period`."""
    return {(u, d, e) for u, d, e in con.execute(
        "select unit_code, dataset_code, element_code from ops.warning_acceptance where period = ?",
        [period]).fetchall()}


def warning_dataset(con, unit: str, period: str, element: str, rule: str) -> str | None:
    """The data set in which `unit` got warning `rule` on `element` in `period`, if it did."""
    found = con.execute("""select s.dataset_code from raw.finding f join raw.submission s using (submission_id)
                           where s.unit_code = ? and s.period = ? and f.element_code = ? and f.rule_id = ?
                             and f.severity = 'warning' limit 1""", [unit, period, element, rule]).fetchone()
    return found[0] if found else None


def warning_acceptance(con, unit: str, period: str, dataset: str, element: str, rule: str) -> tuple | None:
    """(accepted_by, accepted_at, reason) of an earlier decision to accept this warning, if any."""
    return con.execute("""select accepted_by, accepted_at, reason from ops.warning_acceptance
                          where unit_code = ? and period = ? and dataset_code = ? and element_code = ? and rule_id = ?""",
                       [unit, period, dataset, element, rule]).fetchone()


def accept_warning(con, row: dict) -> None:
    con.execute("""insert or replace into ops.warning_acceptance (unit_code, period, dataset_code, rule_id, element_code,
                   accepted_by, reason) values ($unit_code, $period, $dataset_code, $rule_id, $element_code,
                   $accepted_by, $reason)""", row)


# ------------------------------------------------------------------------------------- marts


def completeness(con, period: str, dataset_code: str) -> list[tuple]:
    """(unit_code, is_accepted, is_received, last_status) of every expected unit."""
    return con.execute("""select unit_code, is_accepted, is_received, last_status
                          from marts.reporting_completeness where period = ? and dataset_code = ?""",
                       [period, dataset_code]).fetchall()
