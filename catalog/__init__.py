"""The catalog: reviewed data files describing plans, targets, data elements, indicators, org units,
data sets and assigned tasks. `load()` reads them into plain objects; warehouse/catalog.py loads
them into the warehouse."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Element:
    code: str
    name: str
    name_en: str
    unit: str
    value_type: str  # count | flag | percent | years | cm
    min: float | None = None
    max: float | None = None

    @property
    def bounds(self) -> tuple[float, float | None]:
        lo = {"flag": 0, "percent": 0}.get(self.value_type, 0)
        hi = {"flag": 1, "percent": 100}.get(self.value_type)
        return (self.min if self.min is not None else lo, self.max if self.max is not None else hi)

    @property
    def integer(self) -> bool:
        return self.value_type in ("count", "flag")


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    name_en: str
    kind: str  # ratio | unit_share | direct
    unit: str
    numerator: str | None = None
    denominator: str | None = None
    element: str | None = None
    factor: float = 1.0


@dataclass(frozen=True)
class OrgUnit:
    code: str
    name: str
    type: str
    parent_code: str
    former_province: str
    valid_from: str
    valid_to: str
    synthetic: bool

    def valid_on(self, day: str | None = None) -> bool:
        """Existed on `day` (ISO date); with no day: exists today (no end date)."""
        if day is None:
            return not self.valid_to
        return (not self.valid_from or self.valid_from <= day) and (not self.valid_to or day <= self.valid_to)


@dataclass(frozen=True)
class Dataset:
    code: str
    name: str
    name_en: str
    frequency: str  # H | Y
    assigned_to: tuple[str, ...]
    elements: tuple[str, ...]
    tasks: str  # lead | COMMUNE | none
    narrative: bool
    deadline: dict
    exclude: tuple[str, ...] = ()
    min_coverage: float = 0.8  # share of expected units below which a target is "insufficient data"


@dataclass(frozen=True)
class Task:
    plan_code: str
    task_no: int
    title: str
    lead_agency: str
    lead_unit_code: str
    deadline_text: str
    deadline_date: str
    note: str


@dataclass
class Catalog:
    elements: dict[str, Element]
    indicators: dict[str, Indicator]
    org_units: dict[str, OrgUnit]
    datasets: dict[str, Dataset]
    plans: list[dict]
    tasks: list[Task]
    rules: dict
    narrative_sections: list[dict]
    task_statuses: list[dict]
    recipients: dict[str, dict] = field(default_factory=dict)
    crosswalk: list[dict] = field(default_factory=list)
    folder: Path = HERE  # where it was read from (notifications read recipients.csv there)

    def expected_units(self, dataset_code: str, on: str | None = None) -> list[OrgUnit]:
        """Units that must report the data set, as they existed on a date (ISO; default: today's units)."""
        ds = self.datasets[dataset_code]
        return [u for u in self.org_units.values()
                if (u.type in ds.assigned_to or u.code in ds.assigned_to) and u.code not in ds.exclude
                and u.valid_on(on)]

    def assigned_units(self, dataset_code: str) -> list[OrgUnit]:
        """Every unit, past or present, whose type or code the data set is assigned to."""
        ds = self.datasets[dataset_code]
        return [u for u in self.org_units.values()
                if (u.type in ds.assigned_to or u.code in ds.assigned_to) and u.code not in ds.exclude]

    def datasets_for_unit(self, unit_code: str, frequency: str | None = None) -> list[Dataset]:
        u = self.org_units[unit_code]
        return [d for d in self.datasets.values()
                if (u.type in d.assigned_to or u.code in d.assigned_to) and u.code not in d.exclude
                and (frequency is None or d.frequency == frequency)]

    def tasks_for(self, dataset_code: str, unit_code: str) -> list[Task]:
        mode = self.datasets[dataset_code].tasks
        if mode == "lead":
            return [t for t in self.tasks if t.lead_unit_code == unit_code]
        if mode == "COMMUNE":
            return [t for t in self.tasks if t.lead_unit_code == "COMMUNE"]
        return []

    def targets(self) -> list[dict]:
        return [dict(t, plan_code=p["code"]) for p in self.plans for t in p.get("targets", [])]


def target_wording(t: dict) -> str:
    """The target as the plan words it: its text, and for a row of a table the row's cells as
    written, each with its column ("Đạt bao phủ bảo hiểm y tế toàn dân — 2021-2025: 95%;
    2026-2030: >95%"), never the cells run together."""
    text = str(t.get("text") or "").strip()
    cells = dict(t.get("cells") or {})
    unit = str(cells.pop("unit", "") or "").strip()
    if not cells:
        return text

    def cell(v) -> str:
        v = str(v).strip()
        if v in ("", "-") or not unit:
            return v or "-"
        return f"{v}{unit}" if unit == "%" else f"{v} {unit}"

    return f"{text} — " + "; ".join(f"{col}: {cell(v)}" for col, v in cells.items())


def _read_yaml(name: str, folder: Path) -> dict:
    path = folder / name
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _read_csv(name: str, folder: Path) -> list[dict]:
    path = folder / name
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@functools.lru_cache(maxsize=4)
def load(folder: Path = HERE) -> Catalog:
    els = _read_yaml("data_elements.yaml", folder)["elements"]
    inds = _read_yaml("indicators.yaml", folder)["indicators"]
    ds = _read_yaml("datasets.yaml", folder)
    plans = _read_yaml("plans.yaml", folder).get("plans", [])
    rules = _read_yaml("validation_rules.yaml", folder)
    cat = Catalog(
        elements={e["code"]: Element(**e) for e in els},
        indicators={i["code"]: Indicator(**i) for i in inds},
        org_units={r["code"]: OrgUnit(**{**r, "synthetic": r["synthetic"] == "true"})
                   for r in _read_csv("org_units.csv", folder)},
        datasets={d["code"]: Dataset(**{**d, "assigned_to": tuple(d["assigned_to"]),
                                        "elements": tuple(d["elements"]),
                                        "exclude": tuple(d.get("exclude", ()))})
                  for d in ds["datasets"]},
        plans=plans,
        tasks=[Task(**{**t, "task_no": int(t["task_no"])}) for t in _read_csv("tasks.csv", folder)],
        rules=rules,
        narrative_sections=ds["narrative_sections"],
        task_statuses=ds["task_statuses"],
        recipients={r["unit_code"]: r for r in _read_csv("recipients.csv", folder)},
        crosswalk=[{**r, "weight": float(r["weight"])} for r in _read_csv("crosswalk.csv", folder)],
        folder=Path(folder),
    )
    _check(cat)
    return cat


def _check(cat: Catalog) -> None:
    """Referential checks: a broken catalog fails loudly at load, naming the file and code."""
    for d in cat.datasets.values():
        for e in d.elements:
            if e not in cat.elements:
                raise ValueError(f"datasets.yaml: {d.code} lists unknown element {e}")
    for i in cat.indicators.values():
        for e in (i.numerator, i.denominator, i.element):
            if e and e not in cat.elements:
                raise ValueError(f"indicators.yaml: {i.code} uses unknown element {e}")
    for r in cat.rules.get("rules", []):
        for e in (r["left"], r["right"]):
            if e not in cat.elements:
                raise ValueError(f"validation_rules.yaml: {r['id']} uses unknown element {e}")
