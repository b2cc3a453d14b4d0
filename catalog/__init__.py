"""The catalog: reviewed data files describing plans, targets, data elements, indicators, org units,
data sets and assigned tasks. `load()` reads them into plain objects; warehouse/catalog.py loads
them into the warehouse."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field, replace
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
    province: str = ""  # the province's abbreviation (LD); a deployment serves the units of its provinces
    successor_code: str = ""  # a unit merged away: the unit that carries its work today
    source: str = ""  # where the row comes from (vietnam-provinces, the 2025 restructuring, synthetic)

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
    # `*.SYT` entries of assigned_to / exclude (that unit in every province served), worked out at load
    assigned_any: frozenset[str] = frozenset()
    exclude_any: frozenset[str] = frozenset()


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
    lead_unit_now: str = ""  # where the task is chased today: the lead unit, or its successor since 2025
    lead_agency_now: str = ""  # as worded, with "(nay là Sở …)" when the lead unit was merged away


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
    provinces: tuple[str, ...] = ("LD",)  # the deployment's scope (BAOCAO_PROVINCES)
    provinces_all: dict[str, dict] = field(default_factory=dict)  # provinces.csv by abbreviation

    def in_scope(self, u: OrgUnit) -> bool:
        """The unit belongs to one of the provinces this deployment serves."""
        return (u.province or u.code.split(".", 1)[0]) in self.provinces

    def _assigned(self, u: OrgUnit, ds: Dataset) -> bool:
        """Assigned the data set and in scope. An entry of `assigned_to` or `exclude` is a unit type
        (commune), a unit code (LD.CTK) or `*.SYT`: that code in every province served."""
        if ds.assigned_any or ds.exclude_any:
            tail = u.code.partition(".")[2]
            hit = u.type in ds.assigned_to or u.code in ds.assigned_to or tail in ds.assigned_any
            out = u.type in ds.exclude or u.code in ds.exclude or tail in ds.exclude_any
        else:
            hit = u.type in ds.assigned_to or u.code in ds.assigned_to
            out = u.code in ds.exclude or u.type in ds.exclude
        return hit and not out and (u.province or u.code.partition(".")[0]) in self.provinces

    def expected_units(self, dataset_code: str, on: str | None = None) -> list[OrgUnit]:
        """Units in scope that must report the data set, as they existed on a date (ISO; default:
        today's units)."""
        ds = self.datasets[dataset_code]
        if ds.assigned_any or ds.exclude_any:
            return [u for u in self.org_units.values() if self._assigned(u, ds) and u.valid_on(on)]
        a, x, p = ds.assigned_to, ds.exclude, self.provinces  # the common case, inline (a list of ~600)
        return [u for u in self.org_units.values()
                if (u.type in a or u.code in a) and u.code not in x and u.type not in x
                and (u.province or u.code.partition(".")[0]) in p and u.valid_on(on)]

    def assigned_units(self, dataset_code: str) -> list[OrgUnit]:
        """Every unit in scope, past or present, whose type or code the data set is assigned to."""
        ds = self.datasets[dataset_code]
        return [u for u in self.org_units.values() if self._assigned(u, ds)]

    def datasets_for_unit(self, unit_code: str, frequency: str | None = None) -> list[Dataset]:
        u = self.org_units[unit_code]
        return [d for d in self.datasets.values()
                if (frequency is None or d.frequency == frequency) and self._assigned(u, d)]

    def successor(self, unit_code: str) -> str:
        """The unit that carries a unit's work today (itself, or its successor's successor …)."""
        seen = set()
        while unit_code in self.org_units and self.org_units[unit_code].successor_code and unit_code not in seen:
            seen.add(unit_code)
            unit_code = self.org_units[unit_code].successor_code
        return unit_code

    def tasks_for(self, dataset_code: str, unit_code: str) -> list[Task]:
        mode = self.datasets[dataset_code].tasks
        if mode == "lead":
            return [t for t in self.tasks if (t.lead_unit_now or t.lead_unit_code) == unit_code]
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
def _any(entries) -> frozenset[str]:
    return frozenset(e[2:] for e in entries if e.startswith("*."))


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


def load(folder: Path = HERE, provinces: tuple[str, ...] | None = None) -> Catalog:
    """The catalog in `folder`, for the provinces a deployment serves (default: BAOCAO_PROVINCES,
    `LD` when unset). Read once per folder and scope."""
    if provinces is None:
        from baocao.settings import provinces_in_scope

        provinces = provinces_in_scope()
    return _load(Path(folder), tuple(provinces))


@functools.lru_cache(maxsize=8)
def _load(folder: Path, provinces: tuple[str, ...]) -> Catalog:
    if not (folder / "provinces.csv").exists():
        # a catalog folder without the province list (a generated one): every province in it is served
        provinces = tuple(dict.fromkeys(r.get("province") or r["code"].split(".", 1)[0]
                                        for r in _read_csv("org_units.csv", folder) if r["type"] == "province"))
    els = _read_yaml("data_elements.yaml", folder)["elements"]
    inds = _read_yaml("indicators.yaml", folder)["indicators"]
    ds = _read_yaml("datasets.yaml", folder)
    plans = _read_yaml("plans.yaml", folder).get("plans", [])
    rules = _read_yaml("validation_rules.yaml", folder)
    cat = Catalog(
        elements={e["code"]: Element(**e) for e in els},
        indicators={i["code"]: Indicator(**i) for i in inds},
        # only the units of the provinces served: org_units.csv holds the country (~7,000 rows), a
        # deployment usually one province (~600); the catalog is handed to every parse worker
        org_units={r["code"]: OrgUnit(**{**r, "synthetic": r["synthetic"] == "true"})
                   for r in _read_csv("org_units.csv", folder)
                   if (r.get("province") or r["code"].split(".", 1)[0]) in provinces},
        provinces=provinces,
        provinces_all={r["abbr"]: r for r in _read_csv("provinces.csv", folder)},
        datasets={d["code"]: Dataset(**{**d, "assigned_to": tuple(d["assigned_to"]),
                                        "elements": tuple(d["elements"]),
                                        "exclude": tuple(d.get("exclude", ())),
                                        "assigned_any": _any(d["assigned_to"]),
                                        "exclude_any": _any(d.get("exclude", ()))})
                  for d in ds["datasets"]},
        plans=plans,
        tasks=[Task(**{**t, "task_no": int(t["task_no"])}) for t in _read_csv("tasks.csv", folder)],
        rules=rules,
        narrative_sections=ds["narrative_sections"],
        task_statuses=ds["task_statuses"],
        recipients={r["unit_code"]: r for r in _read_csv("recipients.csv", folder)
                    if r["unit_code"] == "OPERATOR" or r["unit_code"].split(".", 1)[0] in provinces},
        crosswalk=[{**r, "weight": float(r["weight"])} for r in _read_csv("crosswalk.csv", folder)
                   if r["new_code"].split(".", 1)[0] in provinces],
        folder=Path(folder),
    )
    _check(cat)
    _resolve_tasks(cat)
    return cat


def _resolve_tasks(cat: Catalog) -> None:
    """Each task is chased today at its lead unit or, for a unit merged away, at its successor;
    tasks.csv says so (`lead_unit_now`, `lead_agency_now` "… (nay là Sở …)") and must agree with
    org_units.csv. Rows without the columns (an older catalog) get them here."""
    for i, t in enumerate(cat.tasks):
        if t.lead_unit_code.split(".", 1)[0] not in cat.provinces:
            continue  # another province's task (COMMUNE: every commune's), as tasks.csv words it
        now = cat.successor(t.lead_unit_code)
        wording = t.lead_agency if now == t.lead_unit_code else f"{t.lead_agency} (nay là {cat.org_units[now].name})"
        if not t.lead_unit_now:
            cat.tasks[i] = t = replace(t, lead_unit_now=now, lead_agency_now=t.lead_agency_now or wording)
        if t.lead_unit_now != now or t.lead_agency_now != wording:
            raise ValueError(f"tasks.csv: {t.plan_code}/{t.task_no}: lead today is {now} ({wording!r}), "
                             f"not {t.lead_unit_now} ({t.lead_agency_now!r}); see org_units.csv successor_code")


def _check(cat: Catalog) -> None:
    """Referential checks: a broken catalog fails loudly at load, naming the file and code."""
    if cat.provinces_all:
        unknown = [p for p in cat.provinces if p not in cat.provinces_all]
        if unknown:
            raise ValueError(f"BAOCAO_PROVINCES: {', '.join(unknown)} không phải mã tỉnh / is no province "
                             f"abbreviation (catalog/provinces.csv: {', '.join(sorted(cat.provinces_all))})")
    for t in cat.tasks:
        for code in (t.lead_unit_code, t.lead_unit_now):
            if code and code.split(".", 1)[0] in cat.provinces and code not in cat.org_units:
                raise ValueError(f"tasks.csv: {t.plan_code}/{t.task_no} names unknown unit {code}")
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
