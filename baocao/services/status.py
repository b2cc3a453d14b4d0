"""A cycle's reporting state, the way an operator reads it: per data set the counts and rates
(expected, received, accepted, on time, late, rejected, not sent) and per expected unit the state
that counts now — the version that counts (on time or late), else its latest version (rejected),
else nothing (not sent) — with that version's first finding. Read from the marts (a writer's
cursor or the snapshot's connection); the CLI, the flows' artifacts and the pages share it."""

from __future__ import annotations

STATES = ("on_time", "late", "rejected", "not_received")


def completeness(con, period: str) -> list[tuple]:
    return con.execute("""select dataset_code, expected, received, accepted, on_time, late, missing
                          from marts.reporting_rate where period = ? order by dataset_code""", [period]).fetchall()


def unit_states(con, period: str) -> list[dict]:
    """Every expected unit of the period's open data sets, with its state now and the version
    behind it (the one that counts, else the latest) and that version's first finding."""
    cols = ("dataset_code", "unit_code", "unit_name", "state", "version", "file_name", "status", "n_errors",
            "n_warnings", "sheet", "cell", "element_code", "rule_id", "message_vi", "message_en", "n_versions")
    rows = con.execute("""
        with latest as (
            select * from raw.submission where period = $p
            qualify row_number() over (partition by unit_code, dataset_code order by version desc) = 1
        ), chosen as (
            select rc.*, coalesce(rc.accepted_submission_id, l.submission_id) as shown_id
            from marts.reporting_completeness rc
            left join latest l on l.unit_code = rc.unit_code and l.dataset_code = rc.dataset_code
            where rc.period = $p
        )
        select c.dataset_code, c.unit_code, c.unit_name,
               case when c.is_on_time then 'on_time' when c.is_late then 'late'
                    when c.is_received then 'rejected' else 'not_received' end,
               s.version, s.file_name, s.status, s.n_errors, s.n_warnings,
               f.sheet, f.cell, f.element_code, f.rule_id, f.message_vi, f.message_en, c.n_versions
        from chosen c
        left join raw.submission s on s.submission_id = c.shown_id
        left join raw.finding f on f.submission_id = c.shown_id and f.seq = 1
        order by c.dataset_code, c.unit_code""", {"p": period}).fetchall()
    return [dict(zip(cols, r, strict=True)) for r in rows]


def status_rows(con, period: str) -> list[dict]:
    """Per data set: expected, received, accepted, on time, late, rejected, not sent, and the rates."""
    out = []
    states = unit_states(con, period)
    for ds, expected, received, accepted, on_time, late, _missing in completeness(con, period):
        mine = [u for u in states if u["dataset_code"] == ds]
        n = {s: sum(u["state"] == s for u in mine) for s in STATES}
        out.append({"dataset_code": ds, "expected": expected, "received": received, "accepted": accepted,
                    "on_time": on_time, "late": late, "rejected": n["rejected"], "not_received": n["not_received"],
                    "reporting_rate": accepted / expected if expected else None,
                    "timeliness_rate": on_time / expected if expected else None,
                    "units": {s: [u["unit_code"] for u in mine if u["state"] == s] for s in ("late", "rejected",
                                                                                           "not_received")}})
    return out


def status_json(con, period: str) -> dict:
    return {"period": period, "datasets": status_rows(con, period),
            "units": [{k: v for k, v in u.items()} for u in unit_states(con, period)]}
