"""Run the committed suites once per data set over all of a cycle's submissions, and attribute
every failing row back to its unit, sheet and cell.

One Great Expectations validation over the whole batch (not one per file): the suites run on a
wide frame with one row per submission (row ids on a fresh index), and unexpected rows come back
with their row id, which maps to the submission and to the cell the value was read from.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import catalog as catalog_mod
from baocao.findings import Finding
from expectations.build import SUITES

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
for _name in ("great_expectations", "great_expectations.data_context.types.base"):
    logging.getLogger(_name).setLevel(logging.WARNING)


@dataclass
class BatchItem:
    """One submission entering validation: its parsed rows and its unit."""
    key: str                    # submission id
    unit_code: str
    values: list[dict]          # from ParsedSubmission.values
    tasks: list[dict]


_GX_LOCK = threading.Lock()


def _gx():
    """(gx module, ephemeral context, batch definition), made once per process; thread-safe, so
    `warm()` may run it in a background thread while the caller is busy elsewhere."""
    with _GX_LOCK:
        return _make_gx()


def warm() -> None:
    """Import Great Expectations and build the context now (~2.5 s, once per process)."""
    _gx()


@functools.lru_cache(maxsize=1)
def _make_gx():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)  # Prefect's logging set-up may have reset it
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    ds = ctx.data_sources.add_pandas("baocao_batches")
    asset = ds.add_dataframe_asset("cycle_batch")
    return gx, ctx, asset.add_batch_definition_whole_dataframe("whole_batch")


@functools.lru_cache(maxsize=64)
def load_suite(name: str):
    """The committed suite as a GX ExpectationSuite (cached per process)."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    gx, ctx, _ = _gx()
    data = json.loads((SUITES / f"{name}.json").read_text(encoding="utf-8"))
    suite = gx.ExpectationSuite(name=data["name"], meta=data.get("meta", {}))
    for e in data["expectations"]:
        exp = ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e["meta"]).to_domain_obj()
        exp.severity = e.get("severity", "critical")
        suite.add_expectation(exp)
    return ctx.suites.add_or_update(suite)


def suite_exists(name: str) -> bool:
    return (SUITES / f"{name}.json").exists()


def peer_stats(dataset_code: str, items: list[BatchItem], cat) -> dict[str, tuple[float, float]]:
    """Median and scaled MAD of each peer rate (per 10,000 population) over the whole batch, so
    that a batch validated in chunks (on several workers) judges peers exactly as in one piece."""
    ds = cat.datasets[dataset_code]
    if "POP" not in ds.elements:
        return {}
    df = values_frame(dataset_code, items, {}, cat, peers={})
    out = {}
    for code in cat.rules.get("peers", {}).get("rates", []):
        if code in ds.elements:
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = df[code] / df["POP"] * 10000
            med = float(np.nanmedian(rate)) if rate.notna().any() else float("nan")
            mad = float(np.nanmedian(np.abs(rate - med)) * 1.4826) if rate.notna().any() else float("nan")
            out[code] = (med, mad)
    return out


def values_frame(dataset_code: str, items: list[BatchItem], previous: dict[tuple[str, str], float], cat,
                 peers: dict[str, tuple[float, float]] | None = None) -> pd.DataFrame:
    """Wide frame: row_id, unit_code, one column per element, derived columns for the suites."""
    ds = cat.datasets[dataset_code]
    cols = {c: np.full(len(items), np.nan) for c in ds.elements}
    for i, it in enumerate(items):
        for v in it.values:
            if v["element_code"] in cols and v["value"] is not None:
                cols[v["element_code"]][i] = v["value"]
    df = pd.DataFrame({"row_id": np.arange(len(items)), "unit_code": [it.unit_code for it in items], **cols})
    for code in ds.elements:
        if cat.elements[code].integer:
            df[f"frac__{code}"] = df[code] - np.floor(df[code])
    for r in cat.rules.get("rules", []):
        if r["left"] in ds.elements and r["right"] in ds.elements:
            df[f"rhs__{r['id']}"] = df[r["right"]] * r.get("right_factor", 1)
    hist = cat.rules.get("history", {})
    min_prev = hist.get("min_previous", 0)
    for code in ds.elements:
        prev = np.array([previous.get((u, code), np.nan) for u in df["unit_code"]], dtype=float)
        prev[prev < min_prev] = np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            df[f"hist__{code}"] = df[code] / prev - 1
    if "POP" in ds.elements:
        for code in cat.rules.get("peers", {}).get("rates", []):
            if code not in ds.elements:
                continue
            if peers is not None and code not in peers:
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = df[code] / df["POP"] * 10000
            if peers is not None:
                med, mad = peers[code]
            else:
                med = np.nanmedian(rate) if rate.notna().any() else np.nan
                mad = np.nanmedian(np.abs(rate - med)) * 1.4826 if rate.notna().any() else np.nan
            df[f"peer__{code}"] = (rate - med) / mad if mad and mad > 0 else np.nan
    return df


def tasks_frame(dataset_code: str, items: list[BatchItem], cat) -> tuple[pd.DataFrame, list[tuple[int, dict]]]:
    """One row per expected task per submission; `where` maps row id -> (item index, task info)."""
    rows, where = [], []
    for i, it in enumerate(items):
        got = {(t["plan_code"], t["task_no"]): t for t in it.tasks}
        for t in cat.tasks_for(dataset_code, it.unit_code):
            rep = got.get((t.plan_code, t.task_no))
            rows.append({"row_id": len(rows), "status": rep["status"] if rep else None})
            where.append((i, {"task": t, "reported": rep}))
    return pd.DataFrame(rows, columns=["row_id", "status"]), where


@functools.lru_cache(maxsize=64)
def _definition(suite_name: str):
    gx, ctx, batch_def = _gx()
    return ctx.validation_definitions.add(
        gx.ValidationDefinition(name=f"v_{suite_name}", data=batch_def, suite=load_suite(suite_name)))


def _run(suite_name: str, df: pd.DataFrame):
    return _definition(suite_name).run(batch_parameters={"dataframe": df},
                  result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["row_id"]})


def validate_batch(dataset_code: str, items: list[BatchItem], previous: dict | None = None,
                   cat=None, peers: dict | None = None) -> tuple[dict[int, list[Finding]], dict]:
    """Validate all items of one data set together. Returns findings per item index and stats."""
    cat = cat or catalog_mod.load()
    previous = previous or {}
    findings: dict[int, list[Finding]] = {i: [] for i in range(len(items))}
    stats = {"rows": 0, "expectations": 0, "unexpected": 0}
    if not items:
        return findings, stats
    cells = [{v["element_code"]: v for v in it.values} for it in items]
    if suite_exists(dataset_code):
        df = values_frame(dataset_code, items, previous, cat, peers=peers)
        for cfg, row_id in _failures(dataset_code, df, stats):
            findings[row_id].append(_value_finding(cfg.meta, cfg, cells[row_id], df.iloc[row_id], cat))
    if suite_exists(f"{dataset_code}__tasks"):
        tdf, where = tasks_frame(dataset_code, items, cat)
        if len(tdf):
            for cfg, row_id in _failures(f"{dataset_code}__tasks", tdf, stats):
                i, info = where[row_id]
                findings[i].append(_task_finding(cfg.meta, cfg, info))
    return {i: _dedupe(fs) for i, fs in findings.items()}, stats


def _failures(suite_name: str, df: pd.DataFrame, stats: dict):
    """Run a suite over a frame; yield (expectation config, row id) for every unexpected row."""
    res = _run(suite_name, df)
    stats["rows"] += len(df)
    for r in res.results:
        stats["expectations"] += 1
        if r.success:
            continue
        for hit in r.result.get("unexpected_index_list") or []:
            stats["unexpected"] += 1
            yield r.expectation_config, int(hit["row_id"])


def _severity(cfg) -> str:
    return "warning" if str(getattr(cfg, "severity", "critical")).lower().endswith("warning") else "error"


def _value_finding(meta: dict, cfg, cells: dict, row, cat) -> Finding:
    code = meta.get("element_code")
    loc = cells.get(code) or {}
    el = cat.elements.get(code)
    vi, en = meta["vi"], meta["en"]
    if meta.get("kind") == "rule":
        right = meta["right"]
        rv = row.get(right)
        vi += f" ({code} = {_fmt(row.get(code))}, {right} = {_fmt(rv)})"
        en += f" ({code} = {_fmt(row.get(code))}, {right} = {_fmt(rv)})"
    return Finding(
        severity=_severity(cfg), rule_id=meta["rule_id"], message_vi=vi, message_en=en,
        sheet=loc.get("sheet"), cell=loc.get("cell"), element_code=code, element_name=el.name if el else None,
        value_raw=loc.get("value_raw"), expected_vi=meta.get("expected_vi"), expected_en=meta.get("expected_en"))


def _task_finding(meta: dict, cfg, info: dict) -> Finding:
    t, rep = info["task"], info["reported"]
    return Finding(
        severity=_severity(cfg), rule_id=meta["rule_id"],
        message_vi=f"{meta['vi']}: nhiệm vụ {t.task_no} «{t.title[:80]}»",
        message_en=f"{meta['en']}: task {t.task_no}",
        sheet=rep["sheet"] if rep else "Nhiệm vụ", cell=rep["cell"] if rep else None,
        element_code=f"{t.plan_code}/{t.task_no}", value_raw=rep.get("status_raw") if rep else None,
        expected_vi=meta.get("expected_vi"), expected_en=meta.get("expected_en"))


def _fmt(v) -> str:
    from intake.numbers import format_vn
    try:
        return "trống" if v is None or pd.isna(v) else format_vn(float(v))
    except (TypeError, ValueError):
        return str(v)


def _dedupe(fs: list[Finding]) -> list[Finding]:
    seen, out = set(), []
    for f in sorted(fs, key=lambda f: (f.severity != "error", f.sheet or "", _cell_key(f.cell), f.rule_id)):
        k = (f.rule_id, f.element_code, f.cell)
        if k not in seen:
            seen.add(k)
            out.append(f)
    return out


def _cell_key(cell: str | None) -> tuple:
    import re
    if not cell:
        return (0, "")
    m = re.search(r"(\d+)", cell)
    return (int(m.group(1)) if m else 0, cell)


def suite_paths() -> list[Path]:
    return sorted(SUITES.glob("*.json"))
