"""Checks catalog/plans.yaml and catalog/tasks.csv against the source documents.

Only stdlib + pyyaml. The source documents are the project's `shared/seeds/`, beside the clone
(`<repo>/../shared/seeds`), or the folder named by BAOCAO_SEEDS; the catalog directory can be
overridden with BAOCAO_CATALOG_DIR (used to check that the tests fail on a broken copy). Where the
documents are absent, the checks against their text skip and say why (they fail under CI=true,
tests/needs.py); the checks of the catalog alone always run.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import os
import re
import unicodedata
from pathlib import Path

import pytest
import yaml

import catalog as catalog_mod
from tests.needs import require

ROOT = Path(__file__).resolve().parents[1]
CATALOG = Path(os.environ.get("BAOCAO_CATALOG_DIR", ROOT / "catalog"))
SEEDS = Path(os.environ.get("BAOCAO_SEEDS") or ROOT.parent / "shared" / "seeds")

# --------------------------------------------------------------------------- expectations
# Number of targets per plan, counted from the documents (see each plan's comments in
# plans.yaml for the section of every target).
EXPECTED_TARGETS = {
    # 000, section II.2.1 "Đến năm 2030": 15 quantified bullets (beds, doctors, height, life
    # expectancy, healthy years, immunisation, physical activity, check-up from 2026, e-health
    # book, basic fee exemption, stations equipped, insured visits at stations, universal
    # insurance, insurance >95% by 2026, 4-5 doctors per station by 2027; the risk-factor and
    # "health-insurance types" bullets carry no target)
    # + III.2: >=1 specialised/geriatric hospital by 2030, 23 regional centres -> hospitals
    # + II.2.2 vision 2045: life expectancy > 80, healthy years > 71.
    "CTHD-72-LD": 15 + 2 + 2,
    # 001, II.2.1 (2025) and II.2.2 (2030): 20 figures each (life expectancy, healthy years,
    # insurance, out-of-pocket, immunisation %, number of vaccines, U5MR, IMR, stunting,
    # obesity, male height, female height, health-managed, NCD stations, beds, doctors,
    # pharmacists, nurses, private beds, satisfaction) + III.8: >= 35% budget to prevention.
    "KH-50-TU": 20 + 20 + 1,
    # 002, PHỤ LỤC (7 rows): row 1 both columns (2), row 2 one (1), row 3 life expectancy both
    # columns + healthy years (3), row 4 both (2), row 5 (1), row 6 stations + 4-5 doctors by
    # 2027 (2), row 7 (1) = 12; + II.2.a adds physical activity, e-health book, basic fee
    # exemption, insurance >95% by 2026, universal by 2030 (5); + II.2.b vision 2045 (2).
    # The 2021-2025 column (rows 1, 3, 4) is a baseline, not a target: 3 of the 12 retired.
    "KH-39-DU": 12 - 3 + 5 + 2,
    # 004, table 1.3 "Các chỉ tiêu chủ yếu": rows 1, 2, 4, 5 (row 3 lost in the scan) = 4;
    # + 2.2: stunting < 17%, IMR < 20‰, U5MR < 30‰ (3); + 2.7: 100% stations with doctor,
    # midwife, traditional-medicine staff (3); + 2.4: high-risk people checked yearly by
    # 2030 (1); + 2.5: new 100-bed traditional-medicine hospital 2025-2030 (1).
    "KH-243-SYT": 4 + 3 + 3 + 1 + 1,
}
SOURCES = {
    "CTHD-72-LD": "000_a08ca24390c89433.txt",
    "KH-50-TU": "001_062734a48ce2d906.txt",
    "KH-39-DU": "002_da0a84197d806a79.txt",
    "KH-243-SYT": "004_23050706023c0a9f.txt",
}
OCR_SOURCES = {"004_23050706023c0a9f.txt"}  # no diacritics: compare folded
# The issuing unit of each plan and the unit its targets are judged on (a department plan: its
# province). Codes of the unit-code scheme: province ABBR, commune ABBR.<ward code>, ABBR.SYT.
UNITS = {"CTHD-72-LD": ("LD", "LD"), "KH-50-TU": ("LD", "LD"), "KH-39-DU": ("DNA.26299", "DNA.26299"),
         "KH-243-SYT": ("LC.SYT", "LC")}
LEVELS = {"CTHD-72-LD": "province", "KH-50-TU": "province", "KH-39-DU": "commune",
          "KH-243-SYT": "department"}

# indicator code -> unit (None: milestone indicator without a unit)
INDICATORS = {
    "HI_COVERAGE": "pct", "DOCTORS_PER_10K": "per_10k", "BEDS_PER_10K": "per_10k",
    "NURSES_PER_10K": "per_10k", "PHARMACISTS_PER_10K": "per_10k", "PRIVATE_BEDS_PCT": "pct",
    "EPI_COVERAGE": "pct", "VACCINES_IN_EPI": "vaccines", "IMR": "permille", "U5MR": "permille",
    "STUNTING_U5": "pct", "ADULT_OBESITY": "pct", "HEALTH_MANAGED_PCT": "pct", "EHR_PCT": "pct",
    "CHECKUP_PCT": "pct", "STATION_INSURED_VISITS_PCT": "pct", "STATIONS_NCD_PCT": "pct",
    "STATIONS_STANDARD_PCT": "pct", "STATIONS_WITH_DOCTOR_PCT": "pct",
    "STATIONS_MIDWIFE_PCT": "pct", "STATIONS_TRAD_MED_PCT": "pct",
    "DOCTORS_PER_STATION": "count", "COMMUNES_NATIONAL_CRITERIA_PCT": "pct",
    "PHYSICAL_ACTIVITY_PCT": "pct", "LIFE_EXPECTANCY": "years", "HEALTHY_LIFE_YEARS": "years",
    "HEIGHT_MALE_18": "cm", "HEIGHT_FEMALE_18": "cm", "HEIGHT_1_18_MEAN": "cm",
    "OOP_PCT": "pct", "PREVENTIVE_BUDGET_PCT": "pct", "SATISFACTION_PCT": "pct",
    "SPECIALISED_HOSPITALS": "count",
}
# Codes this catalog introduces (listed in the header of plans.yaml).
NEW_INDICATORS = {
    "BASIC_FEE_EXEMPTION": None, "REGIONAL_GENERAL_HOSPITALS": "count",
    "HIGH_RISK_CHECKUP_PCT": "pct", "NEW_TRAD_MED_HOSPITAL": None,
}
ALL_INDICATORS = {**INDICATORS, **NEW_INDICATORS}

TARGET_KEYS = ["id", "indicator", "text", "op", "value", "low", "high", "increase_kind",
               "baseline", "unit", "year", "from_year", "note"]
VALUE_OPS = {"gt", "ge", "lt", "le", "about", "eq"}
OPS = VALUE_OPS | {"range", "increase", "milestone"}

TASK_HEADER = ["plan_code", "task_no", "title", "lead_agency", "lead_unit_code",
               "deadline_text", "deadline_date", "note", "lead_unit_now", "lead_agency_now"]
UNIT_CODES = {"LD.SYT", "LD.SNV", "LD.SCT", "LD.SVHTTDL", "LD.SGDDT", "LD.SLDTBXH",
              "LD.SNNPTNT", "LD.SXD", "LD.STC", "LD.SKHDT", "LD.STTTT", "LD.BHXH", "LD.BTG",
              "LD.BTC", "LD.UBND", "LD.MTTQ", "LD.CTK", "COMMUNE"}
# lead agency as written in 001's appendix -> unit code
AGENCY_CODES = {
    "Sở Y tế": "LD.SYT", "Sở Nội vụ": "LD.SNV", "Sở Công thương": "LD.SCT",
    "Sở Nông nghiệp và phát triển nông thôn": "LD.SNNPTNT",
    "Sở NN và Phát triển nông thôn": "LD.SNNPTNT",
    "Sở Văn hóa, Thể thao và Du lịch": "LD.SVHTTDL", "Sở Giáo dục và Đào tạo": "LD.SGDDT",
    "Sở Lao động - Thương binh và XH": "LD.SLDTBXH", "Sở Xây dựng": "LD.SXD",
}


# --------------------------------------------------------------------------- helpers
def squash(s: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", s)).strip()


def fold(s: str) -> str:
    """Case- and diacritic-insensitive form (for the OCR scan)."""
    s = unicodedata.normalize("NFD", squash(s))
    s = "".join(c for c in s if not unicodedata.combining(c))
    return s.replace("đ", "d").replace("Đ", "D").lower()


def numbers_in(text: str) -> set[float]:
    return {float(m.replace(",", ".")) for m in re.findall(r"\d+(?:,\d+)?", text)}


def is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@pytest.fixture(scope="module")
def plans() -> dict:
    data = yaml.safe_load((CATALOG / "plans.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("plans"), list)
    by_code = {p["code"]: p for p in data["plans"]}
    assert len(by_code) == len(data["plans"]), "duplicate plan codes"
    return by_code


@pytest.fixture(scope="module")
def tasks() -> list[dict]:
    with open(CATALOG / "tasks.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == TASK_HEADER
        return list(reader)


def source_text(name: str) -> str:
    path = SEEDS / name
    require(path.is_file(), f"source document {name} not found in {SEEDS} (the shared/ folder beside the "
                            "clone, or set BAOCAO_SEEDS to the folder of the source documents)")
    return path.read_text(encoding="utf-8")


def all_targets(plans):
    return [(p, t) for p in plans.values() for t in p["targets"]]


# --------------------------------------------------------------------------- plans
def test_every_source_document_is_there(plans):
    for p in plans.values():
        assert source_text(p["source"]).strip(), p["source"]


def test_plan_set_and_header_fields(plans):
    assert set(plans) == set(EXPECTED_TARGETS)
    for code, p in plans.items():
        assert p["source"] == SOURCES[code]
        assert p["level"] == LEVELS[code]
        assert (p["unit"], p["scope_unit"]) == UNITS[code]
        for k in ("title", "title_en", "issuer", "implements"):
            assert isinstance(p.get(k), str) and p[k].strip(), (code, k)
        assert p["issued_on"] is None or isinstance(p["issued_on"], dt.date), code
    assert plans["KH-50-TU"]["issued_on"] == dt.date(2018, 4, 16)
    assert plans["KH-39-DU"]["issued_on"] == dt.date(2025, 12, 31)
    assert plans["KH-243-SYT"]["issued_on"] == dt.date(2025, 11, 27)
    assert "Nghị quyết 72-NQ/TW" in plans["CTHD-72-LD"]["implements"]
    assert "20-NQ/TW" in plans["KH-50-TU"]["implements"]
    assert "29-KH/TU" in plans["KH-39-DU"]["implements"]
    assert "02-CTr/ĐU" in plans["KH-243-SYT"]["implements"]


@pytest.mark.parametrize("code", sorted(EXPECTED_TARGETS))
def test_target_count(plans, code):
    assert len(plans[code]["targets"]) == EXPECTED_TARGETS[code]


def test_target_ids_unique_and_sequential(plans):
    """Ids run T01, T02, … with no gap but the retired ones (never reused, each with its reason)."""
    seen = set()
    for code, p in plans.items():
        retired = {r["id"]: r["note"] for r in p.get("retired", [])}
        assert all(isinstance(n, str) and n.strip() for n in retired.values()), code
        ids = sorted([t["id"] for t in p["targets"]] + list(retired))
        assert ids == [f"{code}/T{i:02d}" for i in range(1, len(ids) + 1)], code
        for t in p["targets"]:
            assert t["id"] not in seen and t["id"] not in retired
            seen.add(t["id"])


def test_kh39_appendix_reads_baseline_and_2030_target(plans):
    """KH-39-DU's appendix: the 2021-2025 column (the plan is dated 31/12/2025) is the baseline of
    the 2030 target, and the target's text is the row as written, not the row's cells run together."""
    by_id = {t["id"]: t for t in plans["KH-39-DU"]["targets"]}
    expected = {"KH-39-DU/T02": (95, "gt", 95), "KH-39-DU/T05": (76, "ge", 77.67), "KH-39-DU/T08": (98, "gt", 98)}
    for tid, (base, op, value) in expected.items():
        t = by_id[tid]
        assert (t["baseline"], t["op"], t["value"], t["year"]) == ({"year": 2025, "value": base}, op, value, 2030), tid
    assert not any(t["year"] == 2025 for t in by_id.values()), "no 2025 target in a plan issued on 31/12/2025"
    for t in by_id.values():
        # cells run together: a unit column followed by figures ("% 95 >95", "năm 76 77,67", "% - 100")
        assert not re.search(r"\s(%|năm|cm)(\s+(-|[>≥]?\s?\d+(,\d+)?))+\s*$", t["text"]), (t["id"], t["text"])
    for garbled in ("Đạt bao phủ bảo hiểm y tế toàn dân % 95 >95", "năm năm 76 77,67"):
        assert re.search(r"\s(%|năm|cm)(\s+(-|[>≥]?\s?\d+(,\d+)?))+\s*$", garbled)  # the check can fail


def test_target_fields_match_op(plans):
    for _p, t in all_targets(plans):
        tid = t["id"]
        assert [k for k in t if k != "cells"] == TARGET_KEYS, tid
        assert t["indicator"] in ALL_INDICATORS, tid
        assert t["op"] in OPS, tid
        assert isinstance(t["text"], str) and t["text"].strip(), tid
        assert isinstance(t["year"], int) and 2018 <= t["year"] <= 2045, tid
        if t["from_year"] is not None:
            assert isinstance(t["from_year"], int) and t["from_year"] <= t["year"], tid
        assert t["note"] is None or (isinstance(t["note"], str) and t["note"].strip()), tid
        assert t["unit"] == ALL_INDICATORS[t["indicator"]], tid
        op = t["op"]
        if op in VALUE_OPS:
            assert is_num(t["value"]), tid
            assert t["low"] is None and t["high"] is None and t["increase_kind"] is None, tid
        elif op == "range":
            assert t["value"] is None and t["increase_kind"] is None, tid
            assert is_num(t["low"]) and is_num(t["high"]) and t["low"] < t["high"], tid
        elif op == "increase":
            assert is_num(t["value"]) and t["value"] > 0, tid
            assert t["increase_kind"] in {"absolute", "relative_pct"}, tid
            assert t["low"] is None and t["high"] is None, tid
        else:  # milestone
            assert t["value"] is None and t["low"] is None and t["high"] is None, tid
            assert t["increase_kind"] is None and t["unit"] is None, tid
        if t["unit"] == "pct":
            for v in (t["value"], t["low"], t["high"]):
                assert v is None or 0 <= v <= 100, tid
        if op == "eq" and t["unit"] == "pct":
            assert t["value"] == 100, tid
        b = t["baseline"]
        if b is not None:
            assert set(b) == {"year", "value"} and is_num(b["value"]), tid
            assert isinstance(b["year"], int) and b["year"] < t["year"], tid


def test_text_occurs_in_source(plans):
    missing = []
    for p in plans.values():
        src = source_text(p["source"])
        ocr = p["source"] in OCR_SOURCES
        hay = fold(src) if ocr else squash(src)
        for t in p["targets"]:
            needle = fold(t["text"]) if ocr else squash(t["text"])
            if needle not in hay:
                missing.append(t["id"])
    assert not missing, f"text not found verbatim in the source: {missing}"


def test_figures_appear_in_text(plans):
    """Every figure recorded must be written in the quoted text (catches swapped values).

    The only exception is 'eq 100' read from words ('toàn dân', 'người dân', 'hoàn thành'),
    which must then carry a note saying so."""
    for _p, t in all_targets(plans):
        nums = numbers_in(" ".join([t["text"], *map(str, (t.get("cells") or {}).values())]))
        figures = [t["value"], t["low"], t["high"]]
        if t["baseline"]:
            figures.append(t["baseline"]["value"])
        for v in figures:
            if v is None:
                continue
            if t["op"] == "eq" and v == 100 and 100 not in nums:
                assert t["note"] and "100%" in t["note"], t["id"]
                continue
            assert float(v) in nums, (t["id"], v, t["text"])


def test_table_cells_as_written(plans):
    """A target read from a table row keeps the row's cells: the title, the unit and each cell
    follow each other in the source, and what is shown names each cell's column."""
    n = 0
    for p, t in all_targets(plans):
        if not t.get("cells"):
            continue
        n += 1
        cells = dict(t["cells"])
        unit = cells.pop("unit")
        assert squash(" ".join([t["text"], unit, *cells.values()])) in squash(source_text(p["source"])), t["id"]
        shown = catalog_mod.target_wording(t)
        assert shown.startswith(t["text"] + " — ")
        for col, v in cells.items():
            assert f"{col}: {v}" in shown, (t["id"], shown)
    assert n >= 6
    t2 = {t["id"]: t for t in plans["KH-39-DU"]["targets"]}["KH-39-DU/T02"]
    assert catalog_mod.target_wording(t2) == "Đạt bao phủ bảo hiểm y tế toàn dân — 2021-2025: 95%; 2026-2030: >95%"


def find(plans, code, indicator, year, op=None):
    hits = [t for t in plans[code]["targets"] if t["indicator"] == indicator
            and t["year"] == year and (op is None or t["op"] == op)]
    assert len(hits) == 1, (code, indicator, year, op, len(hits))
    return hits[0]


def test_key_figures_and_recorded_inconsistencies(plans):
    # 000
    assert find(plans, "CTHD-72-LD", "BEDS_PER_10K", 2030)["value"] == 32
    assert find(plans, "CTHD-72-LD", "HI_COVERAGE", 2026)["op"] == "gt"
    assert find(plans, "CTHD-72-LD", "DOCTORS_PER_STATION", 2027)["value"] == 4
    assert find(plans, "CTHD-72-LD", "LIFE_EXPECTANCY", 2045)["value"] == 80
    assert find(plans, "CTHD-72-LD", "CHECKUP_PCT", 2030)["from_year"] == 2026
    h = find(plans, "CTHD-72-LD", "HEIGHT_1_18_MEAN", 2030)
    assert (h["op"], h["value"], h["increase_kind"]) == ("increase", 1.5, "absolute")
    # 001: both years of every table row, heights split, '%' written for ‰
    for ind in ("HEIGHT_MALE_18", "HEIGHT_FEMALE_18", "EPI_COVERAGE", "VACCINES_IN_EPI",
                "U5MR", "IMR", "BEDS_PER_10K", "NURSES_PER_10K", "SATISFACTION_PCT"):
        find(plans, "KH-50-TU", ind, 2025)
        find(plans, "KH-50-TU", ind, 2030)
    assert find(plans, "KH-50-TU", "VACCINES_IN_EPI", 2025)["value"] == 12
    assert find(plans, "KH-50-TU", "VACCINES_IN_EPI", 2030)["value"] == 14
    assert find(plans, "KH-50-TU", "HEIGHT_FEMALE_18", 2030)["value"] == 157.5
    b = find(plans, "KH-50-TU", "BEDS_PER_10K", 2025)
    assert (b["op"], b["low"], b["high"]) == ("range", 25, 27)
    for ind, v in (("U5MR", 18.5), ("IMR", 11)):
        t = find(plans, "KH-50-TU", ind, 2025)
        assert t["value"] == v and t["unit"] == "permille" and "‰" in t["note"]
    assert find(plans, "KH-50-TU", "PREVENTIVE_BUDGET_PCT", 2030)["value"] == 35
    # 002: life expectancy 76,5 (title) vs 77,67 (column, text)
    le = find(plans, "KH-39-DU", "LIFE_EXPECTANCY", 2030)
    assert le["value"] == 77.67 and "76,5" in le["note"]
    assert le["baseline"] == {"year": 2025, "value": 76}  # the 2021-2025 column: a baseline
    assert find(plans, "KH-39-DU", "HI_COVERAGE", 2030, "eq")["value"] == 100
    assert find(plans, "KH-39-DU", "HI_COVERAGE", 2026)["op"] == "gt"
    assert find(plans, "KH-39-DU", "DOCTORS_PER_STATION", 2027)["value"] == 4
    assert find(plans, "KH-39-DU", "HEALTHY_LIFE_YEARS", 2030)["value"] == 68
    # 004: table baselines, text targets, lost row 3
    d = find(plans, "KH-243-SYT", "DOCTORS_PER_10K", 2030)
    assert (d["op"], d["value"], d["baseline"]) == ("gt", 13.5, {"year": 2025, "value": 13.1})
    assert find(plans, "KH-243-SYT", "IMR", 2030)["value"] == 20
    assert find(plans, "KH-243-SYT", "U5MR", 2030)["value"] == 30
    assert find(plans, "KH-243-SYT", "STUNTING_U5", 2030)["value"] == 17
    assert "row 3" in plans["KH-243-SYT"]["note"]
    for ind in ("STATIONS_WITH_DOCTOR_PCT", "STATIONS_MIDWIFE_PCT", "STATIONS_TRAD_MED_PCT"):
        assert find(plans, "KH-243-SYT", ind, 2030)["value"] == 100


# --------------------------------------------------------------------------- tasks
def appendix_rows_001() -> dict[int, tuple[str, str, str]]:
    src = source_text(SOURCES["KH-50-TU"])
    app = src[src.index("## PHỤ LỤC"):]
    rows = {}
    for line in app.splitlines():
        parts = [x.strip() for x in line.split("\t")]
        if len(parts) == 4 and parts[0].isdigit():
            rows[int(parts[0])] = (parts[1], parts[2], parts[3])
    return rows


def last_day(deadline_text: str) -> str:
    m = re.fullmatch(r"Quý (I|II|III|IV)/(\d{4})", deadline_text)
    if m:
        month = {"I": 3, "II": 6, "III": 9, "IV": 12}[m[1]]
        year = int(m[2])
        return dt.date(year, month, calendar.monthrange(year, month)[1]).isoformat()
    if re.fullmatch(r"\d{4}", deadline_text):
        return f"{deadline_text}-12-31"
    return ""


def test_tasks_50_tu(tasks):
    rows = [r for r in tasks if r["plan_code"] == "KH-50-TU"]
    numbers = [int(r["task_no"]) for r in rows]
    assert len(rows) == 68
    assert len(set(numbers)) == len(numbers)
    assert set(numbers) == set(range(1, 70)) - {12}
    src_rows = appendix_rows_001()
    assert set(src_rows) == set(numbers)
    for r in rows:
        no = int(r["task_no"])
        title, lead, deadline = src_rows[no]
        assert squash(r["title"]) == squash(title), no
        assert r["lead_agency"] == lead, no
        assert r["deadline_text"] == deadline, no
        assert r["deadline_date"] == last_day(deadline), no
        if not r["deadline_date"]:
            assert r["note"].strip(), f"task {no}: empty deadline_date needs a note"
        assert r["lead_unit_code"] in UNIT_CODES, no
        agencies = [lead] if lead in AGENCY_CODES else [a.strip() for a in lead.split(",")]
        assert r["lead_unit_code"] == AGENCY_CODES[agencies[0]], no
        for co in agencies[1:]:
            assert AGENCY_CODES[co] in r["note"], f"task {no}: co-lead {co} not in note"


def test_tasks_39_du(tasks):
    rows = [r for r in tasks if r["plan_code"] == "KH-39-DU"]
    assert [int(r["task_no"]) for r in rows] == [1, 2, 3, 4, 5, 6]  # IV.1-IV.6
    src = squash(source_text(SOURCES["KH-39-DU"]))
    sec = src[src.index("IV- NHIỆM VỤ VÀ GIẢI PHÁP"):src.index("V- TỔ CHỨC THỰC HIỆN")]
    for r in rows:
        assert f"{r['task_no']}. {squash(r['title'])}" in sec, r["task_no"]
        assert r["lead_unit_code"] == "COMMUNE"
        assert r["deadline_date"] == "" and r["note"].strip()


def test_tasks_belong_to_known_plans(tasks, plans):
    assert {r["plan_code"] for r in tasks} <= set(plans)
    keys = [(r["plan_code"], r["task_no"]) for r in tasks]
    assert len(keys) == len(set(keys))
    for r in tasks:
        assert r["deadline_date"] == "" or dt.date.fromisoformat(r["deadline_date"])
