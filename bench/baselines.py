"""The two reference points the cycle is compared with, on the same stored files.

floor — the fastest honest read of the same files into one table plus one insert: workbooks with
    python-calamine (every sheet read, the form's code/value columns kept; a thread per core),
    CSVs with DuckDB's read_csv (grouped by delimiter and encoding, which are sniffed from each
    file's bytes; Windows-1258 files are read as latin-1 — DuckDB has no cp1258 decoder offline —
    so their text is not transcoded, which only makes the floor cheaper), then a single
    `insert … select … union all …` into an on-disk DuckDB table. No validation, no findings, no
    lineage: the cost of touching every byte once.

naive — the per-file Great Expectations pattern of the GX docs: for each submission a fresh
    `ValidationDefinition` (same data source, same committed suites) is added to the context and
    run on that one file's frame — values suite and tasks suite, as baocao's batch run does. Only
    the GX part is timed (frames are built from the already parsed record), so the naive figure is
    a lower bound of a per-file pipeline.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pyarrow as pa
import python_calamine as pc

from intake import form

_KEEP = {  # sheet -> (key column, value column), 0-based, as in the form
    form.SHEET_META: (0, 1), form.SHEET_DATA: (0, form.DATA_VALUE_COL - 1),
    form.SHEET_TASKS: (0, form.TASK_STATUS_COL - 1), form.SHEET_TEXT: (0, form.TEXT_VALUE_COL - 1)}
_KIND = {form.SHEET_META: "meta", form.SHEET_DATA: "so_lieu", form.SHEET_TASKS: "nhiem_vu",
         form.SHEET_TEXT: "thuyet_minh"}


def _s(v) -> str | None:
    if v is None or v == "":
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_workbook(path: str) -> list[tuple[str, str, str | None, str | None]] | None:
    try:
        wb = pc.CalamineWorkbook.from_path(path)
        out = []
        for name in wb.sheet_names:
            kc, vc = _KEEP.get(name, (0, 1))
            kind = _KIND.get(name, name)
            for row in wb.get_sheet_by_name(name).to_python():
                if len(row) > kc and row[kc] not in (None, ""):
                    out.append((path, kind, _s(row[kc]), _s(row[vc]) if len(row) > vc else None))
        return out
    except Exception:  # a damaged file: read and skipped
        return None


def _csv_group(path: str) -> tuple[str, str]:
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8")
        enc = "utf-8"
    except UnicodeDecodeError:
        enc = "latin-1"
    first = data.split(b"\n", 1)[0]
    return (";" if first.count(b";") > first.count(b",") else ",", enc)


def floor(paths: list[Path], db_path: Path, threads: int | None = None) -> dict:
    """Read every file into one table with one insert; returns seconds and counts."""
    threads = threads or os.cpu_count() or 1
    db_path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    xl = [str(p) for p in paths if p.suffix.lower() != ".csv"]
    cs = [str(p) for p in paths if p.suffix.lower() == ".csv"]
    with ThreadPoolExecutor(threads) as ex:
        parts = list(ex.map(_read_workbook, xl))
    rows = [r for part in parts if part for r in part]
    xl_tbl = pa.table({"file": [r[0] for r in rows], "kind": [r[1] for r in rows], "code": [r[2] for r in rows],  # noqa: F841
                       "value": [r[3] for r in rows]}, schema=pa.schema([(c, pa.string()) for c in
                                                                         ("file", "kind", "code", "value")]))
    groups: dict[tuple[str, str], list[str]] = {}
    for p in cs:
        groups.setdefault(_csv_group(p), []).append(p)
    con = duckdb.connect(str(db_path))
    con.execute("create table floor_rows (file varchar, kind varchar, code varchar, value varchar)")
    selects = ["select file, kind, code, value from xl_tbl"]
    cols = "{'loai': 'VARCHAR', 'ma': 'VARCHAR', 'gia_tri': 'VARCHAR', 'ghi_chu': 'VARCHAR'}"
    for (delim, enc), files in sorted(groups.items()):
        listing = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
        selects.append(f"select filename, loai, ma, gia_tri from read_csv({listing}, delim='{delim}', header=true,"
                       f" quote='\"', escape='\"', auto_detect=false, columns={cols}, encoding='{enc}',"
                       f" filename=true, null_padding=true)")
    con.execute("insert into floor_rows " + " union all ".join(selects))
    n_rows = con.execute("select count(*) from floor_rows").fetchone()[0]
    con.close()
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": n_rows, "xlsx": len(xl), "csv": len(cs), "csv_groups": len(groups),
            "unreadable": sum(1 for p in parts if p is None), "threads": threads}


def _facts(con, submission_id: str) -> tuple[list[dict], list[dict]]:
    """A loaded submission's values and task statuses as the parser gave them (the cycle releases
    its records' parsed rows once they are in the warehouse)."""
    values = [dict(zip(("element_code", "value", "value_raw", "sheet", "cell"), row, strict=True))
              for row in con.execute("select element_code, value, value_raw, sheet, cell from core.data_value"
                                     " where submission_id = ?", [submission_id]).fetchall()]
    tasks = [dict(zip(("plan_code", "task_no", "status", "note"), row, strict=True))
             for row in con.execute("select plan_code, task_no, status, note from core.task_status"
                                    " where submission_id = ?", [submission_id]).fetchall()]
    return values, tasks


def naive(records: list, con, cat, n: int = 20) -> dict:
    """One fresh GX ValidationDefinition per submission (values + tasks suites) on a sample."""
    from baocao.services import process
    from expectations.validate import (
        BatchItem,
        _gx,
        load_suite,
        suite_exists,
        tasks_frame,
        values_frame,
    )

    ok = [r for r in records if r.n_errors == 0]
    if not ok:
        return {"per_file_s": float("nan"), "files": 0, "times": []}
    step = max(1, len(ok) // n)
    sample = ok[::step][:n]
    gx, ctx, batch_def = _gx()
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": ["row_id"]}
    previous = process.previous_values(con, sample[0].period, sample[0].dataset_code)
    times = []
    for i, r in enumerate(sample):
        values, tasks = (r.values, r.tasks) if r.values else _facts(con, r.submission_id)
        item = BatchItem(key=r.submission_id, unit_code=r.unit_code, values=values, tasks=tasks)
        ds = r.dataset_code
        t0 = time.perf_counter()
        if suite_exists(ds):
            vd = ctx.validation_definitions.add(gx.ValidationDefinition(
                name=f"naive_{i}_{r.submission_id}", data=batch_def, suite=load_suite(ds)))
            vd.run(batch_parameters={"dataframe": values_frame(ds, [item], previous, cat)}, result_format=result_format)
        if suite_exists(f"{ds}__tasks"):
            tdf, _ = tasks_frame(ds, [item], cat)
            vd = ctx.validation_definitions.add(gx.ValidationDefinition(
                name=f"naive_{i}_{r.submission_id}_tasks", data=batch_def, suite=load_suite(f"{ds}__tasks")))
            vd.run(batch_parameters={"dataframe": tdf}, result_format=result_format)
        times.append(time.perf_counter() - t0)
    return {"per_file_s": sum(times) / len(times), "files": len(times), "times": times,
            "formats": sorted({r.file_format for r in sample})}
