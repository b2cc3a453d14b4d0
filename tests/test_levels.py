"""Two provinces with different values, through the real pipeline (receive, parse, the committed
GX suites, load, marts) on a real DuckDB file, with a small two-province catalog of the test's own
(the reviewed catalog's data sets, indicators and plans; org units: Lâm Đồng and Đồng Nai, with
Xã Thống Nhất DNA.26299, the commune that issued KH-39-DU). The commune, province and country
values, their coverage, lineage and completeness are checked against an independent computation
from the submitted files (python-calamine, not intake.parse), and each plan's targets against its
own unit: KH-39-DU on its commune, the Lâm Đồng plans on LD, the Lai Châu department plan (LC,
not in this warehouse) as no data. A province's report shows its own plans and its communes'."""

from __future__ import annotations

import csv
import random
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

import catalog as catalog_mod
from baocao.resources import Resources
from baocao.services import cycles, process
from intake.store import store_file
from intake.template import build_template
from testing import demo
from tests.test_independent import read_xlsx

PERIOD = "2026H1"
HEADER = ["code", "name", "type", "parent_code", "former_province", "valid_from", "valid_to", "synthetic"]
# (code, name, type, parent, former province); names other than the provinces and Xã Thống Nhất are
# synthetic test units
UNITS = [
    ("LD", "Tỉnh Lâm Đồng", "province", "", ""),
    ("LD.SYT", "Sở Y tế", "department", "LD", ""),
    ("LD.24781", "Phường Mẫu Một", "ward", "LD", "Lâm Đồng"),
    ("LD.T24781", "Trạm Y tế Phường Mẫu Một", "station", "LD.24781", "Lâm Đồng"),
    ("LD.24787", "Xã Mẫu Hai", "commune", "LD", "Đắk Nông"),
    ("LD.T24787", "Trạm Y tế Xã Mẫu Hai", "station", "LD.24787", "Đắk Nông"),
    ("LD.24778", "Xã Mẫu Ba", "commune", "LD", "Bình Thuận"),
    ("LD.T24778", "Trạm Y tế Xã Mẫu Ba", "station", "LD.24778", "Bình Thuận"),
    ("DNA", "Tỉnh Đồng Nai", "province", "", ""),
    ("DNA.26299", "Xã Thống Nhất", "commune", "DNA", "Đồng Nai"),
    ("DNA.T26299", "Trạm Y tế xã Thống Nhất", "station", "DNA.26299", "Đồng Nai"),
    ("DNA.90001", "Xã Mẫu Đồng Nai", "commune", "DNA", "Bình Phước"),
    ("DNA.T90001", "Trạm Y tế Xã Mẫu Đồng Nai", "station", "DNA.90001", "Bình Phước"),
    ("DNA.90002", "Phường Mẫu Đồng Nai", "ward", "DNA", "Đồng Nai"),
    ("DNA.T90002", "Trạm Y tế Phường Mẫu Đồng Nai", "station", "DNA.90002", "Đồng Nai"),
]
PROVINCE = {u[0]: u[0].split(".")[0] for u in UNITS}
COMMUNES = [u[0] for u in UNITS if u[2] in ("commune", "ward")]
MISSING = "DNA.90002"  # expected, sends nothing
SCALE = {"LD": 1.0, "DNA": 1.7}  # Đồng Nai's communes have ~1.7 times the doctors and beds per head


def _catalog(folder: Path) -> catalog_mod.Catalog:
    folder.mkdir(parents=True)
    for name in ("data_elements.yaml", "indicators.yaml", "datasets.yaml", "validation_rules.yaml", "plans.yaml"):
        shutil.copyfile(catalog_mod.HERE / name, folder / name)
    # the plans' tasks, less those led by a department this small catalog does not have
    known = {u[0] for u in UNITS}
    with (catalog_mod.HERE / "tasks.csv").open(encoding="utf-8", newline="") as src, \
            (folder / "tasks.csv").open("w", encoding="utf-8", newline="") as dst:
        rows = csv.DictReader(src)
        w = csv.DictWriter(dst, fieldnames=rows.fieldnames)
        w.writeheader()
        w.writerows(r for r in rows if all(not r.get(k) or r[k] in known for k in ("lead_unit_code", "lead_unit_now")))
    with (folder / "org_units.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for code, name, typ, parent, former in UNITS:
            w.writerow([code, name, typ, parent, former, "", "", "false" if code in ("LD", "DNA", "DNA.26299") else "true"])
    return catalog_mod.load(folder)


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    """(resources, files {unit: path}, catalog folder): the cycle XA_6T 2026H1 of two provinces, loaded."""
    tmp = tmp_path_factory.mktemp("levels")
    cat = _catalog(tmp / "catalog")
    res = Resources.fake(tmp / "home", catalog=cat)
    from warehouse import catalog_load, models

    con = res.con()  # the writer loads the reviewed catalog first; replace it with this one
    catalog_load.load_catalog(con, cat)
    models.build(con, layers=("core",))
    cycles.open_cycle(res, PERIOD, datasets=["XA_6T"])
    files = {}
    for unit in COMMUNES:
        if unit == MISSING:
            continue
        rng = random.Random(unit)
        values = demo.commune_values(rng, SCALE[PROVINCE[unit]])
        tasks = demo._tasks(rng, cat, "XA_6T", unit)
        path = tmp / "made" / f"XA_6T_{unit}_{PERIOD}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        build_template(unit, PERIOD, "XA_6T", cat=cat, values=values, tasks=tasks).save(path)
        files[unit] = path
    stored = [store_file(p, u, res.settings.store, move=False, cat=cat) for u, p in files.items()]
    records = process.parse(res, stored)
    process.validate(res, records)
    process.load(res, records)
    assert {r.unit_code: r.status for r in records} == {u: "accepted" for u in files}, \
        [(r.unit_code, r.status, [(f.rule_id, f.message_vi) for f in r.findings]) for r in records]
    process.aggregate(res)
    yield res, files, tmp / "catalog"
    res.close()


def _independent(files: dict[str, Path], catalog_dir: Path):
    """Every ratio indicator summed from the files themselves, per commune, province and country:
    {(level, org unit, indicator): (value, contributing units)}."""
    inds = yaml.safe_load((catalog_dir / "indicators.yaml").read_text(encoding="utf-8"))["indicators"]
    values = {}
    for unit, path in files.items():
        meta, vals = read_xlsx(path)
        assert meta["unit_code"] == unit and meta["period"] == PERIOD
        values[unit] = vals
    out = {}
    for ind in inds:
        if ind["kind"] != "ratio":
            continue
        groups = defaultdict(list)
        for unit in values:
            for key in (("commune", unit), ("province", PROVINCE[unit]), ("country", "VN")):
                groups[key].append(unit)
        for (level, code), units in groups.items():
            num = sum(values[u][ind["numerator"]] for u in units)
            den = sum(values[u][ind["denominator"]] for u in units)
            out[(level, code, ind["code"])] = (num / den * ind["factor"], len(units))
    return out, values


def test_commune_province_and_country_values_match_the_files(two):
    res, files, catalog_dir = two
    con = res.con()
    expected, _ = _independent(files, catalog_dir)
    got = {(lv, ou, ind): (v, n) for lv, ou, ind, v, n in con.execute(
        """select level, org_unit_code, indicator_code, value, units_contributing from marts.indicator_value
           where period = ? and level in ('commune', 'province', 'country')""", [PERIOD]).fetchall()}
    ratio_keys = {k for k in got if any(k[2] == e[2] for e in expected)}
    assert ratio_keys == set(expected)
    for key, (value, n) in expected.items():
        assert got[key][0] == pytest.approx(value, rel=1e-9), key
        assert got[key][1] == n, key
    # the two provinces differ (the test would not see a province swapped for the other otherwise)
    for ind in ("DOCTORS_PER_10K", "BEDS_PER_10K"):
        ld, dna = expected[("province", "LD", ind)][0], expected[("province", "DNA", ind)][0]
        assert dna > 1.3 * ld, ind
    # the country is not an average of the provinces: summed numerators over summed denominators
    ld, dna, vn = (expected[(lv, c, "DOCTORS_PER_10K")][0] for lv, c in
                   (("province", "LD"), ("province", "DNA"), ("country", "VN")))
    assert min(ld, dna) < vn < max(ld, dna) and vn != pytest.approx((ld + dna) / 2, rel=1e-6)


def test_coverage_and_lineage_at_every_level(two):
    res, files, _ = two
    con = res.con()
    sub = dict(con.execute("select submission_id, unit_code from raw.submission where period = ?", [PERIOD]).fetchall())
    rows = con.execute("""select level, org_unit_code, province_code, units_contributing, units_expected, coverage
                          from marts.indicator_value where period = ? and indicator_code = 'DOCTORS_PER_10K'""",
                       [PERIOD]).fetchall()
    by = {(r[0], r[1]): r for r in rows}
    assert {lv for lv, _ in by} == {"unit", "commune", "region", "province", "country"}
    lineage = {}
    for lv, ou, prov, sid in con.execute(
            """select level, org_unit_code, province_code, submission_id from marts.indicator_lineage
               where period = ? and indicator_code = 'DOCTORS_PER_10K'""", [PERIOD]).fetchall():
        assert prov == by[(lv, ou)][2], (lv, ou)
        lineage.setdefault((lv, ou), []).append(sid)
    assert set(lineage) == set(by)  # every figure has its lineage, and no lineage lacks a figure
    for key, sids in lineage.items():
        assert len(sids) == len(set(sids)), key
        if key[0] == "unit":  # a unit's own versions (no pre-merger unit reports here)
            assert {sub[s] for s in sids} == {key[1]}, key
    expect = {("province", "LD"): (3, 3), ("province", "DNA"): (2, 3), ("country", "VN"): (5, 6),
              ("commune", "DNA.26299"): (1, 1), ("commune", MISSING): None}
    for key, want in expect.items():
        if want is None:
            assert key not in by  # nothing reported there: no value, not zero
            continue
        _, code, prov, n, n_exp, cov = by[key]
        assert (n, n_exp) == want, key
        assert cov == pytest.approx(n / n_exp, abs=1e-4)
        # lineage: the submissions of exactly the units inside
        inside = {u for u in files if key[0] == "country" or PROVINCE[u] == code or u == code}
        assert {sub[s] for s in lineage[key]} == inside, key
        assert prov == (None if key[0] == "country" else PROVINCE[code])
    # a region (former province) stays inside today's province
    assert by[("region", "Bình Thuận")][2] == "LD" and by[("region", "Bình Thuận")][3] == 1
    assert len(lineage[("region", "Bình Thuận")]) == 1


def test_completeness_rolls_up_commune_province_country(two):
    res, files, _ = two
    con = res.con()
    rows = {(lv, ou): (e, a, m) for lv, ou, e, a, m in con.execute(
        """select level, org_unit_code, expected, accepted, missing from marts.reporting_coverage
           where period = ? and dataset_code = 'XA_6T'""", [PERIOD]).fetchall()}
    for c in COMMUNES:
        assert rows[("commune", c)] == ((1, 0, 1) if c == MISSING else (1, 1, 0)), c
    for prov in ("LD", "DNA"):
        communes = [rows[("commune", c)] for c in COMMUNES if PROVINCE[c] == prov]
        assert rows[("province", prov)] == tuple(map(sum, zip(*communes, strict=True))), prov
    assert rows[("province", "DNA")] == (3, 2, 1)
    assert rows[("country", "VN")] == tuple(map(sum, zip(rows[("province", "LD")], rows[("province", "DNA")], strict=True)))
    assert rows[("country", "VN")] == (len(COMMUNES), len(files), 1)


def test_each_plan_is_judged_on_its_own_unit(two):
    res, files, catalog_dir = two
    con = res.con()
    expected, values = _independent(files, catalog_dir)
    progress = {tid: (scope, value, status) for tid, scope, value, status in con.execute(
        "select target_id, scope_unit, value, status from marts.target_progress where period = ?", [PERIOD]).fetchall()}
    # the commune plan KH-39-DU: on Xã Thống Nhất alone, not on Đồng Nai nor on Lâm Đồng
    scope, value, status = progress["KH-39-DU/T08"]  # immunisation > 98% by 2030 (baseline >98 in 2021-2025)
    own = values["DNA.26299"]["EPI_FULL"] / values["DNA.26299"]["EPI_ELIGIBLE"] * 100
    assert scope == "DNA.26299" and value == pytest.approx(own, rel=1e-9)
    assert value != pytest.approx(expected[("province", "DNA", "EPI_COVERAGE")][0], rel=1e-6)
    assert status == "not_yet_due"
    scope, value, _ = progress["KH-39-DU/T02"]  # insurance > 95% by 2030
    v = values["DNA.26299"]
    assert value == pytest.approx(v["POP_INSURED"] / v["POP"] * 100, rel=1e-9)
    # a unit share judged on the commune: its one station
    scope, value, _ = progress["KH-39-DU/T10"]
    assert value == pytest.approx(100.0 * v["STATION_STANDARD"])
    # the province plans: on Lâm Đồng's aggregate
    scope, value, _ = progress["CTHD-72-LD/T02"]  # 11 doctors per 10,000 by 2030
    assert scope == "LD" and value == pytest.approx(expected[("province", "LD", "DOCTORS_PER_10K")][0], rel=1e-9)
    # the Lai Châu department's plan, judged on Lai Châu (not in this warehouse): no data, never
    # another province's values
    lc = [r for tid, r in progress.items() if tid.startswith("KH-243-SYT/")]
    assert lc and all(scope == "LC" and value is None and status == "no_data" for scope, value, status in lc)


def test_a_provinces_report_shows_its_plans_and_its_communes(two):
    from reports.data import collect
    from reports.labels import assessment

    res, files, catalog_dir = two
    con = res.con()
    expected, _ = _independent(files, catalog_dir)
    with pytest.raises(ValueError, match=r"DNA, LD"):
        collect(con, PERIOD)  # two provinces: the report names its province
    with pytest.raises(ValueError, match="'LC'"):
        collect(con, PERIOD, province="LC")
    ld = collect(con, PERIOD, province="LD")
    dna = collect(con, PERIOD, province="DNA")
    assert ld.province == {"unit_code": "LD", "name": "Tỉnh Lâm Đồng"}
    assert [p["plan_code"] for p in ld.plans] == ["CTHD-72-LD", "KH-50-TU"]
    assert [p["plan_code"] for p in dna.plans] == ["KH-39-DU"]
    t = next(t for p in dna.plans for t in p["targets"] if t["target_id"] == "KH-39-DU/T02")
    assert t["text"] == "Đạt bao phủ bảo hiểm y tế toàn dân — 2021-2025: 95%; 2026-2030: >95%"
    assert assessment(t)[0]  # judged (a status class), on the commune's value
    # each report reads its own province: reporting, units, indicator series
    assert [(r["expected"], r["accepted"]) for r in ld.reporting] == [(3, 3)]
    assert [(r["expected"], r["accepted"]) for r in dna.reporting] == [(3, 2)]
    assert {u["unit_code"] for u in dna.units} == {c for c in COMMUNES if PROVINCE[c] == "DNA"}
    for data, prov in ((ld, "LD"), (dna, "DNA")):
        tr = next(tr for tr in data.trends if tr["indicator_code"] == "DOCTORS_PER_10K")
        point = next(pt for pt in tr["points"] if pt["period"] == PERIOD)
        assert point["value"] == pytest.approx(expected[("province", prov, "DOCTORS_PER_10K")][0], rel=1e-9)


def test_the_report_command_names_the_province(two, tmp_path, capsys):
    from reports import build

    res, _, _ = two
    snap = process.publish_all(res)
    assert build.main(["--db", str(snap), "--period", PERIOD, "--out", str(tmp_path / "all")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "DNA, LD" in err and "Traceback" not in err
    assert not (tmp_path / "all").exists()
    assert build.main(["--db", str(snap), "--period", PERIOD, "--out", str(tmp_path / "dna"), "--province", "DNA"]) == 0
    html = next((tmp_path / "dna").glob("*.html")).read_text(encoding="utf-8")
    assert "KH-39-DU" in html and "CTHD-72-LD" not in html and "KH-243-SYT" not in html


def test_the_printout_and_operator_page_show_the_plans_of_the_provinces_served(two):
    """`baocao demo`'s printout and the operator's web page list the plans of the provinces the
    deployment serves (their own, their departments', their communes'), never another province's."""
    from dataclasses import replace
    from io import StringIO

    from rich.console import Console

    from cli import summary
    from web import read

    res, _, _ = two
    con = res.con()
    plans = {p for p, _s, _n in summary.target_counts(con, PERIOD, ("LD",))}
    assert plans == {"CTHD-72-LD", "KH-50-TU"}
    assert {p for p, _s, _n in summary.target_counts(con, PERIOD, ("DNA",))} == {"KH-39-DU"}
    assert {row[3] for row in summary.key_targets(con, PERIOD, "vi", ("DNA",))} <= {"KH-39-DU"}
    assert [r[0] for r in summary.indicators(con, PERIOD, ("LD",))] == sorted(
        r[0] for r in summary.indicators(con, PERIOD, ("LD",)))
    out = StringIO()
    summary.print_summary(con, PERIOD, Console(file=out, width=200), "vi", provinces=("LD",))
    text = out.getvalue()
    assert "CTHD-72-LD" in text and "KH-243-SYT" not in text and "KH-39-DU" not in text
    process.publish_all(res)
    for served, shown in ((("LD",), {"CTHD-72-LD", "KH-50-TU"}), (("LD", "DNA"), {"CTHD-72-LD", "KH-50-TU", "KH-39-DU"})):
        page = read.operator_status(replace(res.settings, provinces=served), PERIOD, {})
        assert {t["plan_code"] for t in page["targets"]} == shown, served


def test_the_marts_build_is_bounded_and_rebuilt_without_the_bound_when_it_cannot_fit(two, caplog):
    """The marts are built under the settings' marts_memory and the writer's limit is put back
    after; a bound too small for the build (1MB here) is not a failed cycle: the build is rolled
    back, run again without it, and a warning names the setting."""
    import logging
    from dataclasses import replace

    res, _, _ = two
    con = res.con()
    before = con.execute("select * from marts.indicator_value order by all").fetchall()
    default = con.execute("select current_setting('memory_limit')").fetchone()[0]
    saved = res.settings
    try:
        res.settings = replace(saved, marts_memory="256MB", duckdb_memory=None)
        process.aggregate(res)
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == default
        res.settings = replace(saved, marts_memory="1MB", duckdb_memory=None)
        with caplog.at_level(logging.WARNING, logger="baocao.services.process"):
            assert "marts/010_indicator_value.sql" in process.aggregate(res)
    finally:
        res.settings = saved
    assert any("BAOCAO_MARTS_MEMORY" in r.getMessage() for r in caplog.records)
    assert con.execute("select current_setting('memory_limit')").fetchone()[0] == default
    assert con.execute("select * from marts.indicator_value order by all").fetchall() == before
