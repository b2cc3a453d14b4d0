"""What validation needs from the warehouse besides the batch: the values that count for the
cycle (the peers) and each unit's own series (its history).

Both are read from `core.current_value` (the versions that count), so a run of one file judges
it against exactly what a run of the whole batch would: the cycle, not the run.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from baocao import calendar


def earlier_periods(period: str, n: int) -> list[str]:
    """The n periods of the same kind before `period`, oldest first."""
    out, p = [], calendar.parse_period(period)
    for _ in range(max(n, 0)):
        p = p.previous()
        out.append(p.code)
    return out[::-1]


def unit_series(con, period: str, dataset_code: str, n: int, units: set[str] | None = None
                ) -> dict[tuple[str, str], list[tuple[str, float]]]:
    """(unit, element) -> [(period, value), …] over the last `n` periods before `period`, oldest
    first, from the versions that count."""
    periods = earlier_periods(period, n)
    if not periods:
        return {}
    rows = con.execute("""select unit_code, element_code, period, value from core.current_value
                          where dataset_code = ? and period in (select unnest(?::varchar[])) and value is not null
                          order by unit_code, element_code, period""", [dataset_code, periods]).fetchall()
    out: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for unit, element, per, value in rows:
        if units is None or unit in units:
            out[(unit, element)].append((per, float(value)))
    return dict(out)


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
