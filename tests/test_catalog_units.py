"""The catalog's units are the official ones (vietnam-provinces, pinned), its files are what the
generator writes, the departments merged away in 2025 hand their tasks to their successors, and a
deployment's scope (BAOCAO_PROVINCES) decides which units are expected."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from vietnam_provinces import Province, Ward

import catalog
from baocao.settings import Settings, provinces_in_scope
from catalog import build_org_units

CATALOG = Path(catalog.__file__).parent
COMMUNE_TYPES = {"commune", "ward", "special_zone"}
KIND = {"xã": "commune", "phường": "ward", "đặc khu": "special_zone"}


def rows(name: str) -> list[dict]:
    with open(CATALOG / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_committed_files_are_what_the_generator_writes(tmp_path):
    build_org_units.main(tmp_path)
    for name in ("provinces.csv", "org_units.csv", "recipients.csv", "crosswalk.csv"):
        assert (tmp_path / name).read_bytes() == (CATALOG / name).read_bytes(), \
            f"catalog/{name} differs from its generator: run `python -m catalog.build_org_units` and review the diff"


def test_units_are_the_official_ones():
    """Read straight from the package and from the committed CSV, not through the generator."""
    official = {int(p.code): p for p in Province.iter_all()}
    provinces = rows("provinces.csv")
    assert len(provinces) == len(official) == 34
    assert {int(p["official_code"]) for p in provinces} == set(official)
    for p in provinces:
        assert p["name"] == official[int(p["official_code"])].name
        assert p["division_type"] == official[int(p["official_code"])].division_type.value
    abbr = {int(p["official_code"]): p["abbr"] for p in provinces}
    assert abbr[68] == "LD" and abbr[75] == "DNA" and abbr[12] == "LC" and len(set(abbr.values())) == 34

    units = rows("org_units.csv")
    today = [u for u in units if u["type"] in COMMUNE_TYPES and not u["valid_to"]]
    wards = list(Ward.iter_all())
    assert len(today) == len(wards) == 3321
    # counts per province
    want = Counter(abbr[int(w.province_code)] for w in wards)
    assert Counter(u["province"] for u in today) == want
    # every code and name, every province (Lâm Đồng's 124 included), and the kind
    got = {u["code"]: u for u in today}
    for w in wards:
        code = f"{abbr[int(w.province_code)]}.{int(w.code):05d}"
        assert code in got, f"{w.name} ({code}) is missing from org_units.csv"
        assert got[code]["name"] == w.name, code
        assert got[code]["type"] == KIND[w.division_type.value], code
        assert got[code]["synthetic"] == "false", code
    ld = [u for u in today if u["province"] == "LD"]
    assert len(ld) == 124
    assert Counter(u["type"] for u in ld) == {"commune": 103, "ward": 20, "special_zone": 1}
    assert got["LD.24781"]["name"] == "Phường Xuân Hương - Đà Lạt"
    assert got["DNA.26299"]["name"] == "Xã Thống Nhất"
    # one health station per commune, named after it
    stations = {u["code"]: u for u in units if u["type"] == "station"}
    assert len(stations) == 3321
    for code, u in got.items():
        prov, n = code.split(".")
        st = stations[f"{prov}.T{n}"]
        assert (st["name"], st["parent_code"]) == (f"Trạm Y tế {u['name']}", code)
    # every province, its Sở Y tế and its statistics office; no unit twice
    codes = [u["code"] for u in units]
    assert len(codes) == len(set(codes))
    for a in abbr.values():
        assert {a, f"{a}.SYT", f"{a}.CTK"} <= set(codes), a
    assert "LC.SYT" in codes


def test_former_units_are_dated_and_the_synthetic_is_marked():
    units = {u["code"]: u for u in rows("org_units.csv")}
    old = [u for u in units.values() if u["valid_to"] == "2025-06-30"]
    assert {u["type"] for u in old} == {"former_province", "district", "commune"}
    assert all(u["synthetic"] == "true" for u in old if u["type"] in ("district", "commune"))
    assert units["DNO"]["synthetic"] == units["BTH"]["synthetic"] == "false"
    cross = rows("crosswalk.csv")
    assert {(r["old_code"], r["new_code"], r["synthetic"]) for r in cross if "." not in r["old_code"]} == \
        {("DNO", "LD", "false"), ("BTH", "LD", "false")}
    assert all(r["synthetic"] == "true" for r in cross if r["old_code"].startswith("LD.C"))
    for r in cross:  # onto today's units of Lâm Đồng only
        assert units[r["new_code"]]["province"] == "LD" and not units[r["new_code"]]["valid_to"], r
        assert units[r["old_code"]]["valid_to"], r
    # each old commune's weights add up to 1
    total = Counter()
    for r in cross:
        total[r["old_code"]] += float(r["weight"])
    assert all(abs(w - 1) < 1e-9 for w in total.values())
    # the former province of a new commune follows its official code's range
    assert units["LD.24781"]["former_province"] == "Lâm Đồng"
    assert units["LD.22933"]["former_province"] == "Bình Thuận"
    assert units["LD.24611"]["former_province"] == "Đắk Nông"


def test_recipients_channels_follow_the_codes():
    rec = {r["unit_code"]: r for r in rows("recipients.csv")}
    assert rec["LD.24781"]["slack_channel"] == "bc-ld-24781"
    assert rec["LD.24781"]["supervisor_code"] == "LD.SYT"
    assert rec["DNA.26299"]["slack_channel"] == "bc-dna-26299"
    assert rec["LD.SYT"]["supervisor_code"] == "LD.UBND"
    assert all(r["slack_channel"] == r["slack_channel"].lower() for r in rec.values())
    assert "LD.SLDTBXH" not in rec and "LD.T24781" not in rec  # merged away; stations report through the commune
    assert len({r["slack_channel"] for r in rec.values()}) == len(rec)


# ------------------------------------------------------------------------- departments since 2025
MERGED = {"LD.SLDTBXH": "LD.SNV", "LD.SNNPTNT": "LD.SNNMT", "LD.STNMT": "LD.SNNMT", "LD.SKHDT": "LD.STC",
          "LD.STTTT": "LD.SKHCN", "LD.SGTVT": "LD.SXD"}


def test_departments_merged_away_have_dated_successors():
    cat = catalog.load()
    for old, new in MERGED.items():
        u = cat.org_units[old]
        assert u.valid_to == "2025-02-28" and u.successor_code == new, old
        assert not u.valid_on("2026-06-30") and u.valid_on("2024-12-31"), old
        assert cat.org_units[new].valid_on("2026-06-30"), new
        assert cat.successor(old) == new
    expected = {u.code for u in cat.expected_units("SO_6T", on="2026-06-30")}
    assert {"LD.SNV", "LD.SNNMT", "LD.STC", "LD.SKHCN", "LD.SXD"} <= expected
    assert not expected & set(MERGED) and "LD.SYT" not in expected
    before = {u.code for u in cat.expected_units("SO_6T", on="2024-12-31")}
    assert set(MERGED) <= before and "LD.SNNMT" not in before  # formed on 1 March 2025


def test_a_task_of_a_merged_department_is_chased_at_its_successor():
    cat = catalog.load()
    task = {(t.plan_code, t.task_no): t for t in cat.tasks}
    t66, t67 = task[("KH-50-TU", 66)], task[("KH-50-TU", 67)]
    assert (t66.lead_agency, t66.lead_unit_code, t66.lead_unit_now) == \
        ("Sở Lao động - Thương binh và XH", "LD.SLDTBXH", "LD.SNV")
    assert t66.lead_agency_now == "Sở Lao động - Thương binh và XH (nay là Sở Nội vụ)"
    assert t67.lead_agency_now == "Sở NN và Phát triển nông thôn (nay là Sở Nông nghiệp và Môi trường)"
    assert ("KH-50-TU", 66) in {(t.plan_code, t.task_no) for t in cat.tasks_for("SO_6T", "LD.SNV")}
    assert {67, 68} <= {t.task_no for t in cat.tasks_for("SO_6T", "LD.SNNMT")}
    assert not cat.tasks_for("SO_6T", "LD.SLDTBXH")
    # every task's lead today exists today; tasks.csv says so as the catalog computes it
    for t in cat.tasks:
        if t.lead_unit_now != "COMMUNE":
            assert cat.org_units[t.lead_unit_now].valid_on("2026-06-30"), (t.plan_code, t.task_no)
    csv_rows = {(r["plan_code"], int(r["task_no"])): r for r in rows("tasks.csv")}
    assert csv_rows[("KH-50-TU", 66)]["lead_agency_now"].endswith("(nay là Sở Nội vụ)")


def test_tasks_csv_disagreeing_with_the_successors_fails_at_load(tmp_path):
    for p in CATALOG.iterdir():
        if p.suffix in (".csv", ".yaml"):
            (tmp_path / p.name).write_bytes(p.read_bytes())
    text = (tmp_path / "tasks.csv").read_text(encoding="utf-8")
    (tmp_path / "tasks.csv").write_text(text.replace("(nay là Sở Nội vụ)", "(nay là Sở Tài chính)"), encoding="utf-8")
    with pytest.raises(ValueError, match="66"):
        catalog.load(tmp_path, provinces=("LD",))


# ------------------------------------------------------------------------- scope
def test_a_deployment_serves_its_provinces():
    ld = catalog.load(provinces=("LD",))
    two = catalog.load(provinces=("LD", "LC"))
    xa_ld = ld.expected_units("XA_6T")
    xa_two = two.expected_units("XA_6T")
    assert len(xa_ld) == 124 and {u.province for u in xa_ld} == {"LD"}
    assert len(xa_two) == 124 + 38
    assert {u.code for u in two.expected_units("SYT_6T")} == {"LD.SYT", "LC.SYT"}
    assert {u.code for u in ld.expected_units("SYT_6T")} == {"LD.SYT"}
    assert {u.code for u in two.expected_units("TK_NAM")} == {"LD.CTK", "LC.CTK"}
    # a unit of another province is not asked for anything, and is not in the warehouse's assignments
    assert "DNA.26299" not in ld.org_units and "DNA.26299" in catalog.load(provinces=("LD", "DNA")).org_units
    assert [d.code for d in two.datasets_for_unit("LC.SYT")] == ["SYT_6T", "SYT_NAM"]
    assert all(u.province == "LD" for d in ld.datasets for u in ld.assigned_units(d))
    assert {u.province for u in ld.org_units.values()} == {"LD"} and len(ld.org_units) < 700
    lc = catalog.load(provinces=("LC",))  # a province with none of the 2018 plan's departments
    assert len(lc.expected_units("XA_6T")) == 38 and not lc.tasks_for("SO_6T", "LC.SYT")


def test_the_scope_is_read_from_baocao_provinces():
    assert provinces_in_scope({}) == ("LD",)
    assert provinces_in_scope({"BAOCAO_PROVINCES": "ld, lc LC"}) == ("LD", "LC")
    assert Settings.from_env({"BAOCAO_PROVINCES": "DNA"}).provinces == ("DNA",)
    with pytest.raises(ValueError, match="BAOCAO_PROVINCES"):
        provinces_in_scope({"BAOCAO_PROVINCES": "LD;../x"})
    with pytest.raises(ValueError, match="BAOCAO_PROVINCES: XX"):
        catalog.load(provinces=("XX",))


def test_the_warehouse_holds_the_units_in_scope(tmp_path):
    import duckdb

    from warehouse.catalog_load import load_catalog

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema core")
    load_catalog(con, catalog.load(provinces=("LD", "LC")))
    by_province = dict(con.execute("select province, count(*) from core.org_unit group by 1").fetchall())
    assert set(by_province) == {"LD", "LC"}
    assert con.execute("""select count(*) from core.dataset_assignment a join core.org_unit u using (unit_code)
                          where a.dataset_code = 'XA_6T' and u.valid_to is null""").fetchone()[0] == 124 + 38
    assert con.execute("""select lead_unit_now, lead_agency_now from core.task
                          where plan_code = 'KH-50-TU' and task_no = 66""").fetchone() == \
        ("LD.SNV", "Sở Lao động - Thương binh và XH (nay là Sở Nội vụ)")


def test_a_file_from_a_unit_of_another_province_is_refused_before_the_disk(tmp_path, monkeypatch):
    from datetime import UTC, datetime

    from intake.store import UnitRefused, receive

    monkeypatch.delenv("BAOCAO_PROVINCES", raising=False)
    store = tmp_path / "store"
    with pytest.raises(UnitRefused, match=r"DNA\.26299"):
        receive(store, "DNA.26299", b"x", "XA_6T_DNA.26299_2026H1.xlsx", source="submit",
                received_at=datetime(2026, 7, 1, tzinfo=UTC))
    assert not store.exists()
    monkeypatch.setenv("BAOCAO_PROVINCES", "LD,DNA")  # the deployment serves Đồng Nai too
    got = receive(store, "DNA.26299", b"x", "XA_6T_DNA.26299_2026H1.xlsx", source="submit",
                  received_at=datetime(2026, 7, 1, tzinfo=UTC))
    assert got.unit_code == "DNA.26299"
