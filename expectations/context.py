"""What validation needs from the warehouse besides the batch: the values that count for the
cycle (the peers) and each unit's own series (its history).

Both are read from `core.current_value` (the versions that count), so a run of one file judges
it against exactly what a run of the whole batch would: the cycle, not the run.
"""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import groupby

import numpy as np

from baocao import calendar


def earlier_periods(period: str, n: int) -> list[str]:
    """The n periods of the same kind before `period`, oldest first."""
    out, p = [], calendar.parse_period(period)
    for _ in range(max(n, 0)):
        p = p.previous()
        out.append(p.code)
    return out[::-1]


HISTORY = "validation_history"  # a connection's temporary copy of one group's history (`stage_history`)


def stage_history(con, period: str, dataset_code: str, n: int) -> str:
    """Copy the values that count in the last `n` periods before `period` into a temporary table
    of this connection (a few MB in DuckDB even for a national batch), so that reading each
    chunk's series (`unit_series(..., units=...)`) does not re-evaluate core.current_value."""
    con.execute(f"""create or replace temp table {HISTORY} as
                    select unit_code, element_code, period, value from core.current_value
                    where dataset_code = ? and period in (select unnest(?::varchar[])) and value is not null""",
                [dataset_code, earlier_periods(period, n)])
    return HISTORY


def unit_series(con, staged: str, units: set[str] | list[str] | None = None
                ) -> dict[tuple[str, str], tuple[tuple[str, float], ...]]:
    """(unit, element) -> ((period, value), …), oldest first, from `stage_history`'s table (the
    last n periods' values that count); of `units` only when given (a chunk's units: a national
    batch's whole history is ~400,000 series)."""
    only = "" if units is None else "where unit_code in (select unnest(?::varchar[]))"
    rows = con.execute(f"select unit_code, element_code, period, value from {staged} {only} "
                       "order by unit_code, element_code, period", [] if units is None else [sorted(units)]).fetchall()
    shared: dict[str, str] = {}
    out: dict[tuple[str, str], tuple[tuple[str, float], ...]] = {}
    for (unit, element), series in groupby(rows, key=lambda r: (r[0], r[1])):
        out[(unit, shared.setdefault(element, element))] = tuple(
            (shared.setdefault(per, per), float(v)) for _u, _e, per, v in series)
    return out


def last_values(con, staged: str) -> dict[str, dict[str, float]]:
    """unit -> element -> its latest earlier value (the last item of its `unit_series`, all the
    cycle's change statistics need), from `stage_history`'s table, in nested dicts that share the
    element codes."""
    rows = con.execute(f"""select unit_code, element_code, arg_max(value, period) from {staged}
                           group by unit_code, element_code""").fetchall()
    shared: dict[str, str] = {}
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for unit, element, value in rows:
        out[unit][shared.setdefault(element, element)] = float(value)
    return dict(out)


class Latest:
    """`last_values` read as `unit_series` is: .get((unit, element)) -> the previous value."""

    def __init__(self, nested: dict[str, dict[str, float]]):
        self.nested = nested

    def get(self, key: tuple[str, str], default=None):
        return self.nested.get(key[0], {}).get(key[1], default)


def counted_values(con, period: str, dataset_code: str, elements: list[str]) -> dict[str, dict[str, float]]:
    """unit -> element -> value for the versions that count in the cycle (the peers in the warehouse)."""
    if not elements:
        return {}
    rows = con.execute("""select unit_code, element_code, value from core.current_value
                          where period = ? and dataset_code = ? and element_code in (select unnest(?::varchar[]))
                            and value is not null""", [period, dataset_code, elements]).fetchall()
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for unit, element, value in rows:
        out[unit][element] = float(value)
    return dict(out)


def robust_center(values) -> tuple[float, float, int]:
    """(median, scaled MAD, n) of the finite values (MAD × 1.4826 estimates σ for a normal)."""
    arr = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if not len(arr):
        return (math.nan, math.nan, 0)
    med = float(np.median(arr))
    return (med, float(np.median(np.abs(arr - med)) * 1.4826), len(arr))
