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
import math
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import catalog as catalog_mod
from baocao.findings import Finding
from expectations.build import SUITES
from expectations.context import robust_center

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


@functools.lru_cache(maxsize=64)
def _run_suite(name: str):
    """The suite as it runs: the committed expectations without their `meta` (the messages, the
    rule, the element). GX rebuilds each expectation's configuration, meta included, dozens of
    times per run; the meta is looked up again only for what failed (`_meta_of`)."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    gx, ctx, _ = _gx()
    data = json.loads((SUITES / f"{name}.json").read_text(encoding="utf-8"))
    suite = gx.ExpectationSuite(name=f"{data['name']}__run")
    for e in data["expectations"]:
        exp = ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"]).to_domain_obj()
        exp.severity = e.get("severity", "critical")
        suite.add_expectation(exp)
    return ctx.suites.add_or_update(suite)


@functools.lru_cache(maxsize=64)
def _metas(name: str) -> tuple[dict[str, tuple[str, ...]], dict[tuple, dict]]:
    """(kwargs names per expectation type, (type, kwargs) -> meta) of the committed suite; an
    expectation is identified by its type and arguments (unique in every generated suite)."""
    data = json.loads((SUITES / f"{name}.json").read_text(encoding="utf-8"))
    names: dict[str, set] = {}
    for e in data["expectations"]:
        names.setdefault(e["type"], set()).update(e["kwargs"])
    keys = {t: tuple(sorted(v)) for t, v in names.items()}
    metas = {_key(e["type"], e["kwargs"], keys[e["type"]]): e["meta"] for e in data["expectations"]}
    return keys, metas


def _key(kind: str, kwargs: dict, names: tuple[str, ...]) -> tuple:
    def norm(v):
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return v
        if isinstance(v, (int, float)):
            return float(v)
        if isinstance(v, (list, tuple, set)):
            return tuple(sorted((norm(x) for x in v), key=repr))
        return repr(v)

    return (kind, *(norm(kwargs.get(k)) for k in names))


@dataclass
class _Rule:
    """What a failing expectation contributes to a finding: its committed meta and severity."""
    meta: dict
    severity: str


def _meta_of(name: str, cfg) -> _Rule:
    keys, metas = _metas(name)
    return _Rule(metas[_key(cfg.type, cfg.kwargs, keys.get(cfg.type, ()))], str(getattr(cfg, "severity", "critical")))


def suite_exists(name: str) -> bool:
    return (SUITES / f"{name}.json").exists()


def peer_stats(dataset_code: str, items: list[BatchItem], cat,
               counted: dict[str, dict[str, float]] | None = None) -> dict[str, tuple[float, float, int]]:
    """Median, scaled MAD and number of units of each peer rate (per 10,000 population) over the
    cycle: every unit's value that counts in the warehouse (`counted`, unit -> element -> value)
    with the batch's units replacing their earlier versions. Computed once for the whole group,
    so a batch validated in chunks, or a run of one file, judges peers as the full batch would."""
    ds = cat.datasets[dataset_code]
    if "POP" not in ds.elements:
        return {}
    units: dict[str, dict[str, float]] = {u: dict(v) for u, v in (counted or {}).items()}
    for it in items:
        units[it.unit_code] = {v["element_code"]: v["value"] for v in it.values if v["value"] is not None}
    out = {}
    for code in cat.rules.get("peers", {}).get("rates", []):
        if code in ds.elements:
            out[code] = robust_center(_rate(v.get(code), v.get("POP")) for v in units.values())
    return out


def change_stats(dataset_code: str, items: list[BatchItem], cat, counted: dict[str, dict[str, float]] | None,
                 previous: dict) -> dict[str, tuple[float, float, int]]:
    """Median, scaled MAD and number of units of each element's change from the previous period
    (log of value / previous value) over the cycle (the warehouse's values that count, the batch's
    units replacing theirs): how much communes moved this half, so that a change is judged against
    how every unit changed (campaigns, seasons, a new rule) rather than a fixed band alone."""
    ds = cat.datasets[dataset_code]
    units: dict[str, dict[str, float]] = {u: dict(v) for u, v in (counted or {}).items()}
    for it in items:
        units[it.unit_code] = {v["element_code"]: v["value"] for v in it.values if v["value"] is not None}
    out = {}
    for code in ds.elements:
        if cat.elements[code].value_type == "flag":
            continue
        logs = []
        for unit, vals in units.items():
            x, series = vals.get(code), _series(previous.get((unit, code)))
            if x is not None and series and x > 0 and series[-1][1] > 0:
                logs.append(math.log(x / series[-1][1]))
        out[code] = robust_center(logs)
    return out


def _rate(x, pop) -> float | None:
    if x is None or pop is None or not pop or pop <= 0:
        return None
    return x / pop * 10000


def history_scores(values: np.ndarray, units: list[str], code: str, previous: dict, cat,
                   change: tuple[float, float, int] | None = None) -> np.ndarray:
    """How far each value is from its unit's own series, scaled so that |score| > 1 is implausible.

    With at least `history.min_series` earlier values: the modified z-score against their median
    (scale: the MAD, floored at the Poisson noise of a count and 2 % of the median), divided by
    `history.max_modified_z`. With fewer: the change from the latest earlier value over its
    tolerance (the element's band, at least `history.poisson_z` Poisson standard deviations),
    only when that value is at least `history.min_previous`, and — when `change` (the cycle's
    changes of this element, see `change_stats`) rests on at least `peers.min_peers` units — only
    when the change is also beyond `max_modified_z` robust deviations of how the cycle's units
    changed. NaN where there is no history."""
    hist = cat.rules.get("history", {})
    band = hist.get("bands", {}).get(code, hist.get("default_band", 0.5))
    min_prev, min_series = hist.get("min_previous", 0), hist.get("min_series", 4)
    max_z, pz = hist.get("max_modified_z", 3.5), hist.get("poisson_z", 3)
    count = cat.elements[code].value_type == "count"
    need = cat.rules.get("peers", {}).get("min_peers", 1)
    c_med, c_mad, c_n = change if change is not None else (math.nan, math.nan, 0)
    use_cycle = hist.get("cycle_changes", True) and c_n >= need
    c_scale = max(c_mad, hist.get("min_change_scale", 0.05)) if use_cycle else math.nan
    x = np.asarray(values, dtype=float)
    past = _series_matrix(units, code, previous)
    k = (~np.isnan(past)).sum(axis=1)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # rows without history: all-NaN medians
        med = np.nanmedian(past, axis=1)
        mad = np.nanmedian(np.abs(past - med[:, None]), axis=1) * 1.4826
        floor = np.sqrt(np.maximum(np.abs(med), 1.0)) if count else np.zeros(len(x))
        scale = np.maximum.reduce([mad, 0.02 * np.abs(med), floor, np.full(len(x), 1e-9)])
        series_score = (x - med) / scale / max_z
        prev = past[:, -1]  # right-aligned: the latest earlier value
        tol = np.maximum(band * prev, pz * np.sqrt(prev) if count else 0.0)
        prev_score = (x - prev) / tol
        if math.isfinite(c_scale):  # and unusual against how the cycle's units changed
            cycle = np.abs(np.log(x / prev) - c_med) / c_scale / max_z
            prev_score = np.where(x > 0, np.sign(prev_score) * np.minimum(np.abs(prev_score), cycle), prev_score)
    usable_prev = (k >= 1) & (prev >= min_prev) & (prev > 0)
    out = np.where(k >= min_series, series_score, np.where(usable_prev, prev_score, np.nan))
    out[~np.isfinite(x)] = np.nan
    return out


def _series_matrix(units: list[str], code: str, previous: dict) -> np.ndarray:
    """One row per unit: its earlier values of `code`, oldest first, right-aligned, NaN-padded."""
    rows = [[v for _, v in _series(previous.get((u, code)))] for u in units]
    width = max((len(r) for r in rows), default=0) or 1
    out = np.full((len(units), width), np.nan)
    for i, r in enumerate(rows):
        if r:
            out[i, width - len(r):] = r
    return out


def _series(v) -> list[tuple[str, float]]:
    """A unit's earlier values: a list of (period, value), or one previous value (float)."""
    if v is None:
        return []
    if isinstance(v, (int, float)):
        return [] if math.isnan(v) else [("", float(v))]
    return [(p, float(x)) for p, x in v if x is not None]


def values_frame(dataset_code: str, items: list[BatchItem], previous: dict, cat,
                 peers: dict[str, tuple] | None = None, changes: dict[str, tuple] | None = None) -> pd.DataFrame:
    """Wide frame: row_id, unit_code, one column per element, derived columns for the suites.
    `previous`: (unit, element) -> the unit's earlier values ([(period, value), …] or one float)."""
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
    units = list(df["unit_code"])
    for code in ds.elements:
        if cat.elements[code].value_type != "flag":
            df[f"hist__{code}"] = history_scores(df[code].to_numpy(), units, code, previous or {}, cat,
                                                 (changes or {}).get(code))
    if "POP" in ds.elements:
        min_peers = cat.rules.get("peers", {}).get("min_peers", 1)
        if peers is None:  # the frame alone (data docs): its own rows are the peers
            peers = peer_stats(dataset_code, items, cat)
        for code in cat.rules.get("peers", {}).get("rates", []):
            if code not in ds.elements or code not in peers:
                continue
            med, mad, n = peers[code]
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = df[code] / df["POP"] * 10000
            ok = n >= min_peers and mad and mad > 0
            df[f"peer__{code}"] = (rate - med) / mad if ok else np.nan
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
        gx.ValidationDefinition(name=f"v_{suite_name}", data=batch_def, suite=_run_suite(suite_name)))


COMPLETE = {"result_format": "COMPLETE", "unexpected_index_column_names": ["row_id"]}
# A frame of at most this many rows (the warm path's micro-batches: one unit's file, or the few
# that arrived together) is validated in two steps: the whole suite with BOOLEAN_ONLY, then only
# the expectations that failed with COMPLETE. Great Expectations' cost is per expectation, not per
# row, and most expectations pass; a cycle's batch (thousands of rows, most expectations failing
# somewhere) keeps the single COMPLETE run.
SMALL_FRAME = 50


def _run(suite_name: str, df: pd.DataFrame):
    return _definition(suite_name).run(batch_parameters={"dataframe": df}, result_format=COMPLETE)


def _unexpected_rows(suite_name: str, df: pd.DataFrame):
    """(expectation config, [row ids]) for every expectation that failed on the frame."""
    df = df.copy()  # consolidated blocks: GX copies and filters the frame once per metric
    if len(df) > SMALL_FRAME:
        for r in _run(suite_name, df).results:
            yield r.expectation_config, r.success, [int(h["row_id"]) for h in r.result.get("unexpected_index_list") or []]
        return
    quick = _definition(suite_name).run(batch_parameters={"dataframe": df}, result_format={"result_format": "BOOLEAN_ONLY"})
    failed = [r.expectation_config for r in quick.results if not r.success]
    for r in quick.results:
        if r.success:
            yield r.expectation_config, True, []
    if not failed:
        return
    from great_expectations.validator.v1_validator import Validator

    gx, _, batch_def = _gx()
    again = gx.ExpectationSuite(name=f"{suite_name}__failed", expectations=list(failed))
    for r in Validator(batch_def, COMPLETE, {"dataframe": df}).validate_expectation_suite(again).results:
        yield r.expectation_config, r.success, [int(h["row_id"]) for h in r.result.get("unexpected_index_list") or []]


def validate_batch(dataset_code: str, items: list[BatchItem], previous: dict | None = None,
                   cat=None, peers: dict | None = None, changes: dict | None = None) -> tuple[dict[int, list[Finding]], dict]:
    """Validate all items of one data set together. Returns findings per item index and stats."""
    cat = cat or catalog_mod.load()
    previous = previous or {}
    findings: dict[int, list[Finding]] = {i: [] for i in range(len(items))}
    stats = {"rows": 0, "expectations": 0, "unexpected": 0}
    if not items:
        return findings, stats
    cells = [{v["element_code"]: v for v in it.values} for it in items]
    if suite_exists(dataset_code):
        if peers is None:
            peers = peer_stats(dataset_code, items, cat)
        if changes is None:
            changes = change_stats(dataset_code, items, cat, {}, previous)
        df = values_frame(dataset_code, items, previous, cat, peers=peers, changes=changes)
        for cfg, row_id in _failures(dataset_code, df, stats):
            code = cfg.meta.get("element_code")
            context = {"series": _series(previous.get((items[row_id].unit_code, code))),
                       "peers": peers.get(code), "change": changes.get(code)}
            findings[row_id].append(_value_finding(cfg.meta, cfg, cells[row_id], df.iloc[row_id], cat, context))
        stats["peer_check"] = _peer_check(peers, cat)
    if suite_exists(f"{dataset_code}__tasks"):
        tdf, where = tasks_frame(dataset_code, items, cat)
        if len(tdf):
            for cfg, row_id in _failures(f"{dataset_code}__tasks", tdf, stats):
                i, info = where[row_id]
                findings[i].append(_task_finding(cfg.meta, cfg, info))
    return {i: _dedupe(fs) for i, fs in findings.items()}, stats


def _failures(suite_name: str, df: pd.DataFrame, stats: dict):
    """Run a suite over a frame; yield (expectation config, row id) for every unexpected row."""
    stats["rows"] += len(df)
    for cfg, success, rows in _unexpected_rows(suite_name, df):
        stats["expectations"] += 1
        if success:
            continue
        rule = _meta_of(suite_name, cfg) if rows else None
        for row_id in rows:
            stats["unexpected"] += 1
            yield rule, row_id


def _severity(cfg) -> str:
    return "warning" if str(getattr(cfg, "severity", "critical")).lower().endswith("warning") else "error"


def _peer_check(peers: dict, cat) -> dict[str, str]:
    """Per rate: "ran on n units", or "not run: n units, fewer than min_peers" (said, not silent)."""
    need = cat.rules.get("peers", {}).get("min_peers", 1)
    return {code: (f"ran on {n} units" if n >= need else f"not run: {n} units with a value, fewer than {need}")
            for code, (_, _, n) in peers.items()}


def _value_finding(meta: dict, cfg, cells: dict, row, cat, context: dict | None = None) -> Finding:
    code = meta.get("element_code")
    loc = cells.get(code) or {}
    el = cat.elements.get(code)
    vi, en = meta["vi"], meta["en"]
    context = context or {}
    if meta.get("kind") == "history" and context.get("series"):
        vi, en = _history_text(vi, en, code, cells, row, context["series"], cat, context.get("change"))
    if meta.get("kind") == "peer" and context.get("peers"):
        med, mad, n = context["peers"]
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = row.get(code) / row.get("POP") * 10000 if row.get("POP") else float("nan")
        z = (rate - med) / mad if mad else float("nan")
        vi += (f": {_fmt(rate, 1)} trên 10.000 dân, trung vị của {n} đơn vị trong kỳ là {_fmt(med, 1)}"
               f" (z vững = {_fmt(z, 1)})")
        en += f": {rate:,.1f} per 10,000 against a median of {med:,.1f} over {n} units in the cycle (robust z = {z:.1f})"
    expected_vi, expected_en = meta.get("expected_vi"), meta.get("expected_en")
    if meta.get("kind") in ("history", "peer"):
        expected_vi, expected_en = _expected_range(meta, code, row, cat, context, expected_vi, expected_en)
    if meta.get("kind") == "rule":
        right = meta["right"]
        shown = f" ({code} = {_typed(cells, code, row)}, {right} = {_typed(cells, right, row)})"
        vi += shown
        en += shown
    return Finding(
        severity=_severity(cfg), rule_id=meta["rule_id"], message_vi=vi, message_en=en,
        sheet=loc.get("sheet"), cell=loc.get("cell"), element_code=code, element_name=el.name if el else None,
        value_raw=loc.get("value_raw"), expected_vi=expected_vi, expected_en=expected_en)


def plausible_range(kind: str, code: str, cat, series: list | None = None, change: tuple | None = None,
                    peers: tuple | None = None, pop: float | None = None) -> tuple[float, float] | None:
    """The values a warning of `kind` ("history" or "peer") would not have flagged, from the same
    bounds `history_scores` and the peer check use: the unit's own median ± max_modified_z
    scaled deviations (a long series), the previous value ± its tolerance widened to how the
    cycle's units changed (a short one), or the peers' median rate ± max_robust_z deviations
    times the population. None when there is nothing to compare with."""
    el = cat.elements.get(code)
    floor = el.bounds[0] if el else 0.0
    if kind == "peer":
        if not peers or not pop or not peers[1]:
            return None
        med, mad, _ = peers
        z = cat.rules.get("peers", {}).get("max_robust_z", 6)
        return max(floor, (med - z * mad) * pop / 10000), (med + z * mad) * pop / 10000
    past = [v for _, v in series or []]
    if not past:
        return None
    hist = cat.rules.get("history", {})
    max_z, pz = hist.get("max_modified_z", 3.5), hist.get("poisson_z", 3)
    count = bool(el) and el.value_type == "count"
    if len(past) >= hist.get("min_series", 4):
        med = float(np.median(past))
        mad = float(np.median(np.abs(np.array(past) - med))) * 1.4826
        scale = max(mad, 0.02 * abs(med), math.sqrt(max(abs(med), 1.0)) if count else 0.0, 1e-9)
        return max(floor, med - max_z * scale), med + max_z * scale
    prev = past[-1]
    band = hist.get("bands", {}).get(code, hist.get("default_band", 0.5))
    tol = max(band * prev, pz * math.sqrt(prev) if count and prev > 0 else 0.0)
    lo, hi = prev - tol, prev + tol
    need = cat.rules.get("peers", {}).get("min_peers", 1)
    if hist.get("cycle_changes", True) and change is not None and change[2] >= need and prev > 0:
        c_scale = max(change[1], hist.get("min_change_scale", 0.05))  # as in history_scores
        c_lo, c_hi = prev * math.exp(change[0] - max_z * c_scale), prev * math.exp(change[0] + max_z * c_scale)
        if c_lo <= hi and c_hi >= lo:  # a value inside either band passes: their union, when it is one
            lo, hi = min(lo, c_lo), max(hi, c_hi)
    return max(floor, lo), hi


def _expected_range(meta: dict, code: str, row, cat, context: dict, vi: str | None, en: str | None):
    """A plausibility warning's "what would pass": the expected range and the previous value."""
    series = context.get("series") or []
    rng = plausible_range(meta.get("kind"), code, cat, series, context.get("change"), context.get("peers"),
                          row.get("POP") if "POP" in row else None)
    head_vi, head_en = [], []
    if rng is not None:
        digits = 0 if cat.elements.get(code) is not None and cat.elements[code].integer else 2
        lo, hi = (math.ceil(rng[0]), math.floor(rng[1])) if digits == 0 else rng
        head_vi.append(f"khoảng dự kiến {_fmt(lo, digits)} – {_fmt(hi, digits)}")
        head_en.append(f"expected range {lo:,.{digits}f} – {hi:,.{digits}f}")
    if series:
        p, v = series[-1]
        head_vi.append(f"kỳ trước{' ' + p if p else ''}: {_fmt(v)}")
        head_en.append(f"previous period{' ' + p if p else ''}: {v:,.10g}")
    if not head_vi:
        return vi, en
    return ("; ".join(head_vi + ([vi] if vi else [])), "; ".join(head_en + ([en] if en else [])))


def _task_finding(meta: dict, cfg, info: dict) -> Finding:
    t, rep = info["task"], info["reported"]
    return Finding(
        severity=_severity(cfg), rule_id=meta["rule_id"],
        message_vi=f"{meta['vi']}: nhiệm vụ {t.task_no} «{t.title[:80]}»",
        message_en=f"{meta['en']}: task {t.task_no}",
        sheet=rep["sheet"] if rep else "Nhiệm vụ", cell=rep["cell"] if rep else None,
        element_code=f"{t.plan_code}/{t.task_no}", value_raw=rep.get("status_raw") if rep else None,
        expected_vi=meta.get("expected_vi"), expected_en=meta.get("expected_en"))


def _history_text(vi: str, en: str, code: str, cells: dict, row, series: list, cat,
                  change: tuple | None = None) -> tuple[str, str]:
    """The message of a history warning with the unit's own series in it."""
    hist = cat.rules.get("history", {})
    now = _typed(cells, code, row)
    past_vi = ", ".join(f"{p}: {_fmt(v)}" if p else _fmt(v) for p, v in series)
    past_en = ", ".join(f"{p}: {v:,.10g}" if p else f"{v:,.10g}" for p, v in series)
    if len(series) >= hist.get("min_series", 4):
        med = float(np.median([v for _, v in series]))
        return (f"Khác thường so với chuỗi số liệu của chính đơn vị: {code} = {now}; các kỳ trước {past_vi}"
                f" (trung vị {_fmt(med)})",
                f"Unusual against the unit's own series: {code} = {now}; earlier periods {past_en} (median {med:,.10g})")
    prev = series[-1][1]
    rel = (row.get(code) / prev - 1) if prev else float("nan")
    moved = change is not None and change[2] >= cat.rules.get("peers", {}).get("min_peers", 1)
    typical = math.exp(change[0]) - 1 if moved else None
    return ((f"Thay đổi {rel:+.0%} so với kỳ trước: {code} = {now}; các kỳ trước {past_vi}"
             + (f"; các đơn vị trong kỳ thay đổi trung vị {typical:+.0%}" if moved else "")).replace("%", " %"),
            f"Changed by {rel:+.0%} from the previous period: {code} = {now}; earlier periods {past_en}"
            + (f"; the cycle's units changed by a median {typical:+.0%}" if moved else ""))


def _typed(cells: dict, code: str, row) -> str:
    """A value as the unit typed it (the cell's text), else the number read."""
    raw = (cells.get(code) or {}).get("value_raw")
    return f"«{raw}»" if raw not in (None, "") else _fmt(row.get(code))


def _fmt(v, decimals: int = 2) -> str:
    """A number the Vietnamese way, with up to `decimals` decimals (no trailing zeros)."""
    from intake.numbers import format_vn
    try:
        if v is None or pd.isna(v):
            return "trống"
        x = round(float(v), decimals)
    except (TypeError, ValueError):
        return str(v)
    if x.is_integer():
        return format_vn(x)
    return format_vn(x, decimals=decimals).rstrip("0").rstrip(",")


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
