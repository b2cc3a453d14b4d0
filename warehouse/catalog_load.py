"""Load the reviewed catalog into the warehouse's core dimension tables (create or replace)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pyarrow as pa

import catalog as catalog_mod

if TYPE_CHECKING:  # a cursor is handed in; DuckDB is imported by whoever opens it
    import duckdb


def _replace(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict], schema: pa.Schema) -> None:
    tbl = pa.Table.from_pylist(rows, schema=schema)  # noqa: F841 (read by duckdb by name)
    con.execute(f"create or replace table {table} as select * from tbl")


def load_catalog(con: duckdb.DuckDBPyConnection, cat=None) -> None:
    cat = cat or catalog_mod.load()
    s, i, d, b = pa.string(), pa.int32(), pa.float64(), pa.bool_()
    _replace(con, "core.org_unit", [
        {"unit_code": u.code, "name": u.name, "unit_type": u.type, "parent_code": u.parent_code or None,
         "former_province": u.former_province or None, "valid_from": u.valid_from or None,
         "valid_to": u.valid_to or None, "is_synthetic": u.synthetic, "province": u.province or None,
         "successor_code": u.successor_code or None}
        for u in cat.org_units.values() if cat.in_scope(u)],  # the units of the provinces this deployment serves
        pa.schema([("unit_code", s), ("name", s), ("unit_type", s), ("parent_code", s), ("former_province", s),
                   ("valid_from", s), ("valid_to", s), ("is_synthetic", b), ("province", s), ("successor_code", s)]))
    _replace(con, "core.data_element", [
        {"element_code": e.code, "name": e.name, "name_en": e.name_en, "unit": e.unit, "value_type": e.value_type,
         "min_value": e.bounds[0], "max_value": e.bounds[1]} for e in cat.elements.values()],
        pa.schema([("element_code", s), ("name", s), ("name_en", s), ("unit", s), ("value_type", s),
                   ("min_value", d), ("max_value", d)]))
    _replace(con, "core.indicator", [
        {"indicator_code": x.code, "name": x.name, "name_en": x.name_en, "kind": x.kind, "unit": x.unit,
         "numerator": x.numerator or x.element, "denominator": x.denominator, "factor": float(x.factor)}
        for x in cat.indicators.values()],
        pa.schema([("indicator_code", s), ("name", s), ("name_en", s), ("kind", s), ("unit", s),
                   ("numerator", s), ("denominator", s), ("factor", d)]))
    _replace(con, "core.plan", [
        {"plan_code": p["code"], "title": p.get("title"), "title_en": p.get("title_en"), "issuer": p.get("issuer"),
         "issued_on": str(p["issued_on"]) if p.get("issued_on") else None, "implements": p.get("implements"),
         "level": p.get("level"), "unit_code": p.get("unit"), "scope_unit": p.get("scope_unit"), "source": p.get("source"), "note": p.get("note")}
        for p in cat.plans],
        pa.schema([("plan_code", s), ("title", s), ("title_en", s), ("issuer", s), ("issued_on", s),
                   ("implements", s), ("level", s), ("unit_code", s), ("scope_unit", s), ("source", s), ("note", s)]))
    _replace(con, "core.target", [
        {"target_id": t["id"], "plan_code": t["plan_code"], "indicator_code": t["indicator"],
         "text": catalog_mod.target_wording(t),
         "op": t["op"], "target_value": _f(t.get("value")), "low": _f(t.get("low")), "high": _f(t.get("high")),
         "increase_kind": t.get("increase_kind"),
         "baseline_year": (t.get("baseline") or {}).get("year"), "baseline_value": _f((t.get("baseline") or {}).get("value")),
         "unit": t.get("unit"), "milestone_year": t.get("year"), "from_year": t.get("from_year"), "note": t.get("note")}
        for t in cat.targets()],
        pa.schema([("target_id", s), ("plan_code", s), ("indicator_code", s), ("text", s), ("op", s),
                   ("target_value", d), ("low", d), ("high", d), ("increase_kind", s), ("baseline_year", i),
                   ("baseline_value", d), ("unit", s), ("milestone_year", i), ("from_year", i), ("note", s)]))
    _replace(con, "core.dataset", [
        {"dataset_code": x.code, "name": x.name, "name_en": x.name_en, "frequency": x.frequency,
         "deadline_rule": json.dumps(x.deadline, ensure_ascii=False), "min_coverage": float(x.min_coverage)}
         for x in cat.datasets.values()],
        pa.schema([("dataset_code", s), ("name", s), ("name_en", s), ("frequency", s), ("deadline_rule", s),
                   ("min_coverage", pa.float64())]))
    _replace(con, "core.dataset_element", [
        {"dataset_code": x.code, "element_code": e, "position": n} for x in cat.datasets.values()
        for n, e in enumerate(x.elements, 1)],
        pa.schema([("dataset_code", s), ("element_code", s), ("position", i)]))
    _replace(con, "core.dataset_assignment", [
        {"dataset_code": x.code, "unit_code": u.code, "valid_from": u.valid_from or None, "valid_to": u.valid_to or None}
        for x in cat.datasets.values() for u in cat.assigned_units(x.code)],
        pa.schema([("dataset_code", s), ("unit_code", s), ("valid_from", s), ("valid_to", s)]))
    _replace(con, "core.crosswalk", [
        {"old_code": r["old_code"], "new_code": r["new_code"], "weight": r["weight"],
         "effective_from": r["effective_from"], "basis": r["basis"], "is_synthetic": r.get("synthetic") == "true"}
        for r in cat.crosswalk],
        pa.schema([("old_code", s), ("new_code", s), ("weight", d), ("effective_from", s), ("basis", s),
                   ("is_synthetic", b)]))
    _replace(con, "core.task", [
        {"plan_code": t.plan_code, "task_no": t.task_no, "title": t.title, "lead_agency": t.lead_agency,
         "lead_unit_code": t.lead_unit_code, "deadline_text": t.deadline_text,
         "deadline_date": t.deadline_date or None, "note": t.note or None,
         "lead_unit_now": t.lead_unit_now or None, "lead_agency_now": t.lead_agency_now or None} for t in cat.tasks],
        pa.schema([("plan_code", s), ("task_no", i), ("title", s), ("lead_agency", s), ("lead_unit_code", s),
                   ("deadline_text", s), ("deadline_date", s), ("note", s), ("lead_unit_now", s),
                   ("lead_agency_now", s)]))


def _f(v):
    return None if v is None else float(v)
