"""An independent check of the province figures: read the demo's raw submission files straight
from the submission store (python-calamine for workbooks, the csv module for CSV; none of
intake.parse), drop the files the demo made bad, and recompute every ratio indicator at province
level with pandas — summed numerators over summed denominators — for 2026H1 and 2025H2. The
warehouse must agree to 1e-6. The generator's own record of the values (`plan.values`) is only a
cross-check of the reading."""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
import yaml
from python_calamine import CalamineWorkbook

ROOT = Path(__file__).resolve().parent.parent
PERIODS = ("2025H2", "2026H1")  # required; any other period the demo loads (2024) is checked too


def _nfc(s) -> str:
    return unicodedata.normalize("NFC", str(s)).strip()


def _vn_number(text: str) -> float | None:
    """'12.345' → 12345.0, '74,2' → 74.2 (the demo's CSVs write Vietnamese number formats)."""
    t = _nfc(text).replace(" ", "")
    if not t:
        return None
    return float(t.replace(".", "").replace(",", "."))


def read_csv(path: Path) -> tuple[dict, dict[str, float]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1258")  # legacy Vietnamese Windows encoding (tone marks combining)
    text = unicodedata.normalize("NFC", text)
    first = text.splitlines()[0]
    rows = list(csv.reader(io.StringIO(text), delimiter=";" if first.count(";") > first.count(",") else ","))
    meta, values = {}, {}
    for row in rows[1:]:
        if len(row) < 3:
            continue
        kind, code, value = _nfc(row[0]), _nfc(row[1]), row[2]
        if kind == "meta":
            meta[code] = _nfc(value)
        elif kind == "so_lieu":
            values[code] = _vn_number(value)
    return meta, values


META_LABELS = {"Mã đơn vị": "unit_code", "Kỳ báo cáo": "period", "Mã báo cáo": "dataset_code"}


def read_xlsx(path: Path) -> tuple[dict, dict[str, float]]:
    wb = CalamineWorkbook.from_path(str(path))
    meta = {}
    for row in wb.get_sheet_by_name("Thông tin").to_python():
        if len(row) >= 2 and isinstance(row[0], str):
            for label, key in META_LABELS.items():
                if _nfc(row[0]).startswith(label):
                    meta[key] = _nfc(row[1])
    rows = wb.get_sheet_by_name("Số liệu").to_python()
    head = next(i for i, r in enumerate(rows) if r and _nfc(r[0]) == "Mã")
    col = [_nfc(c) for c in rows[head]].index("Giá trị")
    values = {}
    for r in rows[head + 1:]:
        if r and _nfc(r[0]):
            v = r[col] if len(r) > col else None
            values[_nfc(r[0])] = None if v in ("", None) else float(v)
    return meta, values


def indicators_of(kind: str) -> dict[str, dict]:
    doc = yaml.safe_load((ROOT / "catalog" / "indicators.yaml").read_text(encoding="utf-8"))
    return {i["code"]: i for i in doc["indicators"] if i["kind"] == kind}


def ratio_indicators() -> dict[str, dict]:
    doc = yaml.safe_load((ROOT / "catalog" / "indicators.yaml").read_text(encoding="utf-8"))
    return {i["code"]: i for i in doc["indicators"] if i["kind"] == "ratio"}


@pytest.fixture(scope="module")
def independent(demo_cycle):
    """(values: DataFrame period, unit, element, value of the files that count, plan)."""
    s, plan, _ = demo_cycle
    plans = {**getattr(plan, "history", {}), plan.period: plan}
    bad = {(f["unit"], Path(f["path"]).name) for p in plans.values() for f in p.files
           if f["kind"] == "resubmit_first" or f["unit"] in p.bad}
    assert any(k == "resubmit_first" for k in (f["kind"] for f in plan.files)), "the demo has a resubmission"
    records, seen = [], set()
    for path in sorted(s.store.glob("*/*__*")):
        unit, name = path.parent.name, path.name.partition("__")[2]
        if (unit, name) in bad:
            continue  # rejected by design: bad units' files and the resubmitting unit's first file
        meta, values = read_csv(path) if path.suffix.lower() == ".csv" else read_xlsx(path)
        assert meta["unit_code"] == unit, path
        key = (meta["period"], unit, meta["dataset_code"])
        assert key not in seen, f"two files count for {key}"
        seen.add(key)
        records += [{"period": meta["period"], "unit_code": unit, "element": e, "value": v}
                    for e, v in values.items()]
    df = pd.DataFrame.from_records(records)
    assert set(PERIODS) <= set(df["period"])
    return df, plans


def test_reading_agrees_with_the_generator(independent):
    df, plans = independent
    assert set(PERIODS) <= set(plans)
    for period, plan in plans.items():
        got = df[df["period"] == period]
        assert set(got["unit_code"]) == {u for u, v in plan.values.items() if v}, period
        for unit, values in plan.values.items():
            mine = got[got["unit_code"] == unit].set_index("element")["value"].to_dict()
            assert mine == pytest.approx(values), (period, unit)


@pytest.mark.parametrize("period", ("2024",) + PERIODS)
def test_every_ratio_indicator_equals_the_warehouse(independent, demo_cycle, period, open_res):
    df, _ = independent
    assert period in set(df["period"]), f"the demo loads no {period}"
    s, _, _ = demo_cycle
    wide = df[df["period"] == period].pivot_table(index="unit_code", columns="element", values="value",
                                                  aggfunc="first")
    marts = dict(open_res(s).con().execute(
        "select indicator_code, value from marts.indicator_value where period = ? and level = 'province'",
        [period]).fetchall())
    units = dict(open_res(s).con().execute(
        "select indicator_code, units_contributing from marts.indicator_value where period = ? and level = 'province'",
        [period]).fetchall())
    checked = 0
    for code, ind in ratio_indicators().items():
        pair = wide[[ind["numerator"], ind["denominator"]]].dropna()
        if pair.empty:
            assert code not in marts
            continue
        value = pair[ind["numerator"]].sum() / pair[ind["denominator"]].sum() * ind["factor"]
        assert marts[code] == pytest.approx(value, abs=1e-6), code
        assert units[code] == len(pair), code
        checked += 1
    assert checked == len(ratio_indicators())


@pytest.mark.parametrize("period", PERIODS)
def test_unit_shares_and_direct_values_equal_the_warehouse(independent, demo_cycle, period, open_res):
    """Shares of stations (flags over contributing units, factor applied) and values reported once
    for the province (taken as reported), computed here from the raw files."""
    df, _ = independent
    s, _, _ = demo_cycle
    wide = df[df["period"] == period].pivot_table(index="unit_code", columns="element", values="value",
                                                  aggfunc="first")
    marts = dict(open_res(s).con().execute(
        "select indicator_code, value from marts.indicator_value where period = ? and level = 'province'",
        [period]).fetchall())
    checked = 0
    for code, ind in indicators_of("unit_share").items():
        col = wide[ind["numerator"]].dropna()
        assert marts[code] == pytest.approx(col.sum() / len(col) * ind["factor"], abs=1e-6), code
        checked += 1
    for code, ind in indicators_of("direct").items():
        if ind["element"] not in wide:
            assert code not in marts, code
            continue
        col = wide[ind["element"]].dropna()
        assert marts[code] == pytest.approx(col.mean(), abs=1e-6), code
        checked += 1
    assert checked >= len(indicators_of("unit_share")) + 5
