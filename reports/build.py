"""The draft provincial report for a period, from the marts.

`write_report(con, period, out_dir)` writes the "báo cáo sơ kết 6 tháng" (a half-year) or the
"báo cáo tổng kết năm" (a year) twice: an Excel workbook the operator edits, and a self-contained
HTML page (inline CSS, inline SVG charts drawn here; no script, no external resource) to read and
print. Every figure comes from the marts (marts.target_progress, marts.indicator_value,
marts.reporting_rate, marts.reporting_completeness, marts.task_progress) as stored, so the report
and the snapshot agree; the only other inputs are names from the catalog and the units' own
words (core.narrative of the versions that count: kien_nghi, the recommendations, and han_che,
the difficulties and their causes), grouped by theme with a keyword classifier. The sections follow
a provincial report: I reporting, II results against targets, III trends, IV overdue tasks,
V «Hạn chế, khó khăn và nguyên nhân», VI «Kiến nghị, đề xuất», VII «Phương hướng, nhiệm vụ» for the
next period, under a Decree 30/2020 header (issuing office, document number, place and date) and
above the «Nơi nhận» and signature block; places the officer fills are dotted.

    python -m reports.build --db var/demo/snapshot/baocao.duckdb --period 2026H1 --out var/demo/reports
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from reports.data import collect
from reports.html import render_html
from reports.labels import LABELS, file_stem
from reports.xlsx import write_xlsx

# ------------------------------------------------------------------------------------- entry


def write_report(con, period: str, out_dir: Path, lang: str = "vi",
                 generated_at: datetime | None = None, province: str | None = None) -> tuple[Path, Path]:
    """Write the draft report of `period` into `out_dir`: (workbook path, HTML path). `con`: a
    cursor on the warehouse or a read-only snapshot; `generated_at`: the clock's now (default: now)."""
    if lang not in LABELS:
        raise ValueError(f"Ngôn ngữ không hỗ trợ: {lang!r} (vi, en) / unsupported language")
    data = collect(con, period, lang, generated_at, province)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(data.period) + ("" if lang == "vi" else f".{lang}")
    xlsx = write_xlsx(data, out_dir / f"{stem}.xlsx")
    html = out_dir / f"{stem}.html"
    tmp = html.with_name(f".{html.name}.tmp")
    tmp.write_text(render_html(data), encoding="utf-8")
    tmp.replace(html)
    return xlsx, html


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write the draft provincial report (xlsx + HTML) for a period.")
    ap.add_argument("--db", type=Path, required=True, help="warehouse file (the published snapshot)")
    ap.add_argument("--period", required=True)
    ap.add_argument("--out", type=Path, default=Path("reports-out"))
    ap.add_argument("--lang", default="vi", choices=sorted(LABELS))
    ap.add_argument("--province", default=None,
                    help="province code (e.g. LD); needed when the warehouse holds several provinces")
    args = ap.parse_args(argv)
    import duckdb

    con = duckdb.connect(str(args.db), read_only=True)
    try:
        for p in write_report(con, args.period, args.out, args.lang, province=args.province):
            print(p)
    except ValueError as exc:  # an unknown province, or several and none named: one line, no traceback
        print(exc, file=sys.stderr)
        return 2
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
