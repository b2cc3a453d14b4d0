"""Reports by units that no longer exist (pre-merger communes, 2024) are re-aggregated onto
today's units through the crosswalk and compared with today's targets."""

from __future__ import annotations

from collections import defaultdict

import duckdb
import pytest

import catalog


def test_2024_reports_by_old_communes_land_on_todays_units(demo_cycle):
    s, plan, _ = demo_cycle
    old = plan.history["2024"]
    cat = catalog.load()
    weights = defaultdict(list)
    for x in cat.crosswalk:
        weights[x["old_code"]].append((x["new_code"], x["weight"]))
    num, den = defaultdict(float), defaultdict(float)
    for unit, v in old.values.items():
        if "DOCTORS" not in v:
            continue
        for new, w in weights[unit]:
            num[new] += v["DOCTORS"] * w
            den[new] += v["POP"] * w
    assert all(cat.org_units[u].valid_to for u in old.values if u.startswith("LD.C0"))
    with duckdb.connect(str(s.snapshot), read_only=True) as con:
        rows = dict(con.execute("""select org_unit_code, value from marts.indicator_value
            where period = '2024' and indicator_code = 'DOCTORS_PER_10K' and level = 'unit'""").fetchall())
        province, n, expected = con.execute("""select value, units_contributing, units_expected from marts.indicator_value
            where period = '2024' and indicator_code = 'DOCTORS_PER_10K' and level = 'province'""").fetchone()
        lineage = con.execute("""select distinct s.unit_code from marts.indicator_lineage l
            join raw.submission s using (submission_id)
            where l.period = '2024' and l.indicator_code = 'DOCTORS_PER_10K' and l.level = 'unit'
              and l.org_unit_code = 'LD.24848'""").fetchall()
        status = con.execute("""select count(*) from marts.target_progress
            where period = '2024' and indicator_code = 'DOCTORS_PER_10K' and status in ('met', 'not_met', 'not_yet_due')""").fetchone()[0]
    assert set(rows) == set(num), "every value lands on a unit that exists today"
    assert all(cat.org_units[u].type in ("commune", "ward", "special_zone") and cat.org_units[u].valid_on() for u in rows)
    for unit, value in rows.items():
        assert value == pytest.approx(num[unit] / den[unit] * 10000, rel=1e-9), unit
    assert province == pytest.approx(sum(num.values()) / sum(den.values()) * 10000, rel=1e-9)
    assert n == expected == len([u for u in old.values if u.startswith("LD.C0")])
    # LD.24848 was formed from old communes, one of them divided with LD.24931: lineage names them
    assert {u for (u,) in lineage} == {x["old_code"] for x in cat.crosswalk if x["new_code"] == "LD.24848"}
    assert status >= 2  # compared with today's targets
