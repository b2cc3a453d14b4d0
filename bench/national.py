"""The national cycle on the real country: 34 provinces and 3,321 communes, wards and special zones
(× scale), 20 departments per province.

Scale 1 is the official list of `vietnam-provinces` (pinned in pyproject.toml): every province
and every commune/ward/special zone with its official code, under the unit-code scheme of the
catalog — commune `<ABBR>.<ward code, 5 digits>` (LD.24781), its health station `<ABBR>.T<code>`,
departments `<ABBR>.SYT` …, the province `<ABBR>`. `country_units(scale)` is the one conversion.
Scale N > 1 keeps every real unit and adds (N − 1) × as many synthetic ones per province, coded
`<ABBR>.9xxxx` (official ward codes stop at 32,248) and named «… giả lập thử tải» with
`synthetic=true`; scale < 1 keeps the first units of each province in official order, the total
split by the provinces' real sizes.

The reviewed catalog in catalog/ describes one province (LD). The benchmark writes a *catalog
folder* under its temp dir — the reviewed YAML files and tasks.csv copied as they are,
org_units.csv and recipients.csv generated from the country — and loads it with
`catalog.load(folder)`. The folder is needed (not just a `Catalog` object) because the
notification code reads org_units.csv and recipients.csv from a folder (see bench/README.md).

Everything is deterministic for a seed and a scale. Submissions are written like testing/demo.py
writes them (`commune_values`, `write_csv`, `build_template`): 80% xlsx, 20% CSV (NFD text,
Windows-1258 and `;` variants), a few percent with errors (corrupt workbook, text in a number
cell, a broken cross-element rule, an unknown unit, another unit's file) and warnings (peer outlier,
jump from the previous period), a few percent late.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

import catalog as catalog_mod
from baocao import calendar
from catalog import build_org_units
from intake import form
from intake.template import build_template, template_name
from testing import demo

SEED = 20260630
N_PROVINCES = 34
N_COMMUNES = 3321           # after the 1 July 2025 reform
DATASET = "XA_6T"
PERIOD = "2026H1"
# every province's departments as Lâm Đồng's catalog has them: the 14 since the 2025
# restructuring and the 6 merged away (dated, with their successor): 20
DEPARTMENTS = ([(c, n, "", "") for c, n, _en in build_org_units.DEPARTMENTS]
               + [(c, n, build_org_units.LAST_DAY_BEFORE_DEPARTMENTS_MERGED, s)
                  for c, n, s in build_org_units.FORMER_DEPARTMENTS])
# problem kinds, by cumulative probability per commune (the rest is "ok")
PROBLEMS = [(0.010, "corrupt"), (0.020, "text_value"), (0.030, "rule"), (0.035, "unknown_unit"),
            (0.040, "other_unit"), (0.050, "outlier"), (0.060, "jump")]
EXPECTED_RULE = {"corrupt": "P02", "text_value": "V01", "rule": "R01", "unknown_unit": "S04",
                 "other_unit": "S03", "outlier": "warning", "jump": "warning"}
P_LATE = 0.03
P_CSV = 0.20


def n_communes(scale: float) -> int:
    return max(1, round(N_COMMUNES * scale))


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Largest-remainder split of `total` by `weights` (deterministic)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))[: total - sum(out)]:
        out[i] += 1
    return out


# official province code → the abbreviation that starts its units' codes (LD.24781, LD.T24781, LD.SYT)
ABBR = {1: "HN", 4: "CB", 8: "TQ", 11: "DB", 12: "LC", 14: "SL", 15: "LCA", 19: "TN", 20: "LS", 22: "QNI",
        24: "BN", 25: "PT", 31: "HP", 33: "HY", 37: "NB", 38: "TH", 40: "NA", 42: "HT", 44: "QT", 46: "HUE",
        48: "DNG", 51: "QNG", 52: "GL", 56: "KH", 66: "DLK", 68: "LD", 75: "DNA", 79: "HCM", 80: "TNI", 82: "DT",
        86: "VL", 91: "AG", 92: "CT", 96: "CM"}
SYNTHETIC_BASE = 90000       # synthetic extra units: <ABBR>.9xxxx, above every official ward code
_KIND = {"xã": ("commune", "Xã"), "phường": ("ward", "Phường"), "đặc khu": ("special_zone", "Đặc khu")}


def country() -> list[dict]:
    """The official country as plain rows, one per province, with its communes/wards/special zones
    in official order: {"code", "abbr", "name", "units": [{"ward_code", "name", "type"}]}.

    The one place that reads `vietnam-provinces`; the catalog's own generator (catalog/) can
    replace this body once it offers the same rows."""
    from vietnam_provinces import Province, Ward

    out = []
    for p in sorted(Province.iter_all(), key=lambda p: int(p.code)):
        code = int(p.code)
        wards = sorted(Ward.iter_by_province(p.code), key=lambda w: int(w.code))
        out.append({"code": code, "abbr": ABBR[code], "name": p.name,
                    "units": [{"ward_code": int(w.code), "name": w.name,
                               "type": _KIND[str(w.division_type.value)][0]} for w in wards]})
    return out


def org_units(scale: float, seed: int = SEED) -> list[dict]:
    """Org units of the bench's country at `scale` (see the module's docstring). `seed` is kept
    for callers; the country itself does not depend on it."""
    provinces = country()
    sizes = [len(p["units"]) for p in provinces]
    per_province = _apportion(n_communes(scale), sizes) if scale != 1 else sizes
    unit, since = build_org_units._unit, build_org_units.REFORM_DATE
    out = []
    for prov, n in zip(provinces, per_province, strict=True):
        abbr = prov["abbr"]
        name = prov["name"] if prov["name"].startswith("Thành phố") else f"Tỉnh {prov['name']}"
        out.append(unit(abbr, name, "province", "", abbr, valid_from=since))
        for code, dname, until, successor in DEPARTMENTS:
            out.append(unit(f"{abbr}.{code}", dname, "department", abbr, abbr, valid_to=until,
                            successor=f"{abbr}.{successor}" if successor else ""))
        for i in range(n):
            if i < len(prov["units"]):
                u = prov["units"][i]
                num, cname, kind, synthetic = u["ward_code"], u["name"], u["type"], False
            else:  # an extra unit of scale > 1: clearly not a real one
                k = i - len(prov["units"]) + 1
                kind, prefix = ("ward", "Phường") if k % 6 == 1 else ("commune", "Xã")
                num, cname, synthetic = SYNTHETIC_BASE + k, f"{prefix} giả lập thử tải {k} ({prov['name']})", True
            code = f"{abbr}.{num:05d}"
            out.append(unit(code, cname, kind, abbr, abbr, valid_from=since, synthetic=synthetic))
            out.append(unit(f"{abbr}.T{num:05d}", f"Trạm Y tế {cname}", "station", code, abbr, valid_from=since,
                            synthetic=synthetic))
    return out


def recipients(units: list[dict]) -> list[dict]:
    out = []
    for u in units:
        if u["type"] in ("province", "station"):
            continue
        prov = u["code"].split(".")[0]
        slug = u["code"].lower().replace(".", "-")
        supervisor = f"{prov}.SYT" if u["type"] in ("commune", "ward", "special_zone") else f"{prov}.UBND"
        out.append({"unit_code": u["code"], "slack_channel": f"bc-{slug}", "emails": f"baocao.{slug}@example.vn",
                    "lang": "vi", "supervisor_code": "" if u["code"] == supervisor else supervisor})
    out.append({"unit_code": "OPERATOR", "slack_channel": "bc-operator", "emails": "", "lang": "vi",
                "supervisor_code": ""})
    return out


def write_catalog(folder: Path, scale: float, seed: int = SEED) -> catalog_mod.Catalog:
    """Write the national catalog folder and load it (the reviewed files are copied unchanged)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("data_elements.yaml", "indicators.yaml", "datasets.yaml", "plans.yaml", "validation_rules.yaml",
                 "tasks.csv"):
        shutil.copyfile(catalog_mod.HERE / name, folder / name)
    units = org_units(scale, seed)
    build_org_units.write(folder / "org_units.csv", units)
    build_org_units.write(folder / "recipients.csv", recipients(units))
    return catalog_mod.load(folder)


# ------------------------------------------------------------------------------ submissions

@dataclass
class Plan:
    period: str
    files: list[dict] = field(default_factory=list)   # unit, path, kind, format, late
    seconds: float = 0.0

    def count(self, key: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.files:
            out[f[key]] = out.get(f[key], 0) + 1
        return out


def _values(code: str, period: str, seed: int) -> dict[str, float]:
    """A commune's figures: stable per unit, drifting a little per period (as testing/demo.py)."""
    per = calendar.parse_period(period)
    values = demo.commune_values(random.Random(f"{seed}:{code}"))
    drift = 1 + (per.year - 2025) * 0.02 + (per.half or 2) * 0.005
    return {k: (round(v * drift) if k not in demo._FLAGS else v) for k, v in values.items()}


def _problem(r: float) -> str:
    for p, kind in PROBLEMS:
        if r < p:
            return kind
    return "ok"


def _write_unit(code: str, inbox: Path, cat, period: str, deadline: datetime, seed: int,
                neighbour: str) -> dict:
    urng = random.Random(f"{seed}:{period}:{code}")
    kind = _problem(urng.random())
    late = urng.random() < P_LATE
    as_csv = urng.random() < P_CSV
    values = _values(code, period, seed)
    if kind == "text_value":
        values["POP_INSURED"] = "khoảng 9 nghìn"
    elif kind == "rule":
        values["EPI_FULL"] = values["EPI_ELIGIBLE"] + 25
    elif kind == "outlier":
        values["DOCTORS"] = values["DOCTORS"] * 9
    elif kind == "jump":
        values["POP"] = round(values["POP"] * 1.3)
    tasks = demo._tasks(urng, cat, DATASET, code)
    texts = demo._texts(urng)
    stated = {"unknown_unit": code.split(".", maxsplit=1)[0] + ".00000", "other_unit": neighbour}.get(kind, code)
    folder = inbox / code
    folder.mkdir(parents=True, exist_ok=True)
    name = template_name(code, period, DATASET)
    if as_csv:
        path = folder / name.replace(".xlsx", ".csv")
        variant = urng.random()
        demo.write_csv(path, stated, period, DATASET, values, tasks, texts, vn_numbers=True, nfd=variant < 0.3,
                       encoding="cp1258" if 0.3 <= variant < 0.45 else "utf-8", delimiter=";" if variant > 0.8 else ",")
    else:
        path = folder / name
        wb = build_template(code, period, DATASET, cat=cat, values=values, tasks=tasks, texts=texts)
        if stated != code:
            wb[form.SHEET_META]["B4"] = stated
        wb.save(path)
    if kind == "corrupt":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    on_time = deadline - timedelta(days=urng.randint(0, 6), hours=urng.randint(1, 8))
    on_time = max(on_time, calendar.open_at(calendar.parse_period(period), calendar.DeadlineRule.from_dict(
        cat.datasets[DATASET].deadline)) + timedelta(hours=urng.randint(8, 16)))  # not before the period ends
    received = deadline + timedelta(days=urng.randint(1, 4)) if late else on_time
    demo.arrive(inbox, code, path, received, cat)
    return {"unit": code, "path": str(path), "kind": kind, "format": "csv" if as_csv else "xlsx", "late": late}


def _write_chunk(args) -> list[dict]:
    catalog_dir, inbox, period, seed, chunk = args
    cat = catalog_mod.load(Path(catalog_dir))
    per = calendar.parse_period(period)
    deadline = calendar.deadline(per, calendar.DeadlineRule.from_dict(cat.datasets[DATASET].deadline))
    return [_write_unit(code, Path(inbox), cat, period, deadline, seed, neighbour) for code, neighbour in chunk]


def communes(cat) -> list[str]:
    return [u.code for u in cat.expected_units(DATASET)]


def generate(inbox: Path, catalog_dir: Path, cat, period: str = PERIOD, seed: int = SEED, jobs: int = 2) -> Plan:
    """Write one submission per commune into `inbox/<unit>/` using `jobs` processes."""
    import time

    t0 = time.perf_counter()
    codes = communes(cat)
    pairs = [(c, codes[(i + 1) % len(codes)]) for i, c in enumerate(codes)]
    size = max(1, min(200, len(pairs) // (jobs * 4) or 1))
    chunks = [(str(catalog_dir), str(inbox), period, seed, pairs[i:i + size]) for i in range(0, len(pairs), size)]
    if jobs > 1 and len(chunks) > 1:
        with mp.get_context("fork").Pool(jobs) as pool:
            parts = pool.map(_write_chunk, chunks)
    else:
        parts = [_write_chunk(c) for c in chunks]
    plan = Plan(period=period, files=[f for part in parts for f in part])
    plan.seconds = time.perf_counter() - t0
    return plan


def seed_history_apart(db_path: Path, catalog_dir: Path, period: str = PERIOD) -> int:
    """`seed_history` in a process of its own, before the measured process opens the warehouse:
    the previous period is already on disk in a real warehouse, so building its ~400,000 rows in
    Python must not count in the cycle's memory."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
        return ex.submit(_seed_child, str(db_path), str(catalog_dir), period).result()


def _seed_child(db_path: str, catalog_dir: str, period: str) -> int:
    from warehouse import db

    con = db.connect(Path(db_path))
    try:
        return seed_history(con, catalog_mod.load(Path(catalog_dir)), period)
    finally:
        con.close()


def seed_history(con, cat, period: str = PERIOD, seed: int = SEED) -> int:
    """The previous period's accepted values, inserted directly (set-up, not a measured stage), so
    validation's history checks and the marts see a warehouse with a past, as a real one has."""
    prev = calendar.parse_period(period).previous().code
    codes = communes(cat)
    at = datetime(2026, 1, 5, tzinfo=UTC)
    sids = [f"hist{i:016d}" for i in range(len(codes))]
    sub = pa.table({  # noqa: F841 (read by duckdb by name)
        "submission_id": sids, "unit_code": codes, "period": [prev] * len(codes),
        "dataset_code": [DATASET] * len(codes), "version": pa.array([1] * len(codes), pa.int32()),
        "file_name": [f"{c}.xlsx" for c in codes], "stored_path": [""] * len(codes), "sha256": [""] * len(codes),
        "size_bytes": pa.array([0] * len(codes), pa.int64()), "file_format": ["xlsx"] * len(codes),
        "received_at": pa.array([at] * len(codes), pa.timestamp("us", tz="UTC")), "source": ["bench"] * len(codes),
        "status": ["accepted"] * len(codes), "n_errors": pa.array([0] * len(codes), pa.int32()),
        "n_warnings": pa.array([0] * len(codes), pa.int32()), "validated_at": pa.array([at] * len(codes),
                                                                                      pa.timestamp("us", tz="UTC")),
        "is_late": [False] * len(codes)})
    rows = [(sid, c, k, float(v)) for sid, c in zip(sids, codes, strict=True) for k, v in _values(c, prev, seed).items()]
    val = pa.table({  # noqa: F841
        "submission_id": [r[0] for r in rows], "unit_code": [r[1] for r in rows], "period": [prev] * len(rows),
        "dataset_code": [DATASET] * len(rows), "element_code": [r[2] for r in rows],
        "value": pa.array([r[3] for r in rows], pa.float64()), "value_raw": [str(r[3]) for r in rows],
        "sheet": ["Số liệu"] * len(rows), "cell": [""] * len(rows), "is_flagged": [False] * len(rows)})
    con.execute("begin transaction")
    con.execute("insert into raw.submission by name select * from sub")
    con.execute("insert into core.data_value select * from val")
    con.execute("commit")
    return len(rows)
