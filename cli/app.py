"""`baocao`: the operator's command line (Vietnamese first; English after " / ")."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import typer

from baocao.settings import settings
from cli import decisions
from cli import serve as serve_mod
from cli import slack as slack_mod
from cli.common import HomeOpt, console, resources
from cli.outbox import app as outbox_app

app = typer.Typer(help="baocao — chu kỳ báo cáo 6 tháng và năm về y tế / health-plan reporting cycles.",
                  no_args_is_help=True, add_completion=False)
cycle_app = typer.Typer(help="Mở, đóng, xem tình hình một kỳ báo cáo / open, close, status of a cycle.",
                        no_args_is_help=True)
app.add_typer(cycle_app, name="cycle")
app.add_typer(outbox_app, name="outbox")
app.command()(serve_mod.watch)
app.command()(serve_mod.serve)
app.command("listen")(slack_mod.listen)
decisions.register(app, cycle_app)  # accept-error, release, held, cycle reopen


@contextlib.contextmanager
def _reader(home: Path | None):
    """A read-only connection for a command that only reads: the published snapshot (it never
    waits for, or blocks, a running `baocao serve`); the writer only before anything was published."""
    with resources(home) as res:
        if res.snapshot.exists:
            con = res.snapshot.con()
            try:
                yield con
            finally:
                con.close()
        else:
            yield res.con()


def _writer(res):
    """The warehouse's writer connection (a cursor), or one line (who holds the lock) and exit code 3."""
    from baocao.escape import console_text
    from warehouse.db import WarehouseBusy

    try:
        return res.con()
    except WarehouseBusy as exc:
        console.print(console_text(str(exc)), soft_wrap=True)
        raise typer.Exit(3) from None


@app.command()
def demo(home: Path = typer.Option(Path("var/demo"), help="Thư mục của bản chạy thử / demo folder (recreated)."),
         period: str = typer.Option("2026H1", help="Kỳ báo cáo / period.")) -> None:
    """Chạy trọn một kỳ báo cáo trên dữ liệu mẫu / run a full cycle on the embedded sample province."""
    from baocao import calendar
    from cli import summary
    from flows.cycle import reporting_cycle

    try:
        from testing import demo as demo_mod
    except ImportError:
        raise typer.BadParameter("Bản chạy thử cần mã nguồn (thư mục testing/) / the demo needs a source checkout"
                                 " (testing/ is not installed with the package)") from None

    home = home.resolve()
    shutil.rmtree(home, ignore_errors=True)
    os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    s = settings(home)
    for prev in demo_mod.HISTORY:
        console.print(f"Kỳ trước {prev}: sinh dữ liệu và chạy / earlier period {prev}: generating and running…"
                      + (" (đơn vị trước sáp nhập / pre-merger units)" if calendar.parse_period(prev).year < 2025 else ""))
        demo_mod.generate(s.inbox, prev, with_problems=False)
        reporting_cycle(prev, str(home))
    plan = demo_mod.generate(s.inbox, period)
    console.print(f"Kỳ {period}: đã sinh {len(plan.files)} tệp báo cáo, {len(plan.missing)} đơn vị không nộp"
                  f" / generated {len(plan.files)} files, {len(plan.missing)} units missing; running the cycle…")
    result = reporting_cycle(period, str(home))
    res = resources(home)
    con = res.con()
    summary.print_summary(con, period, console)
    console.rule("Thông báo (hộp thư đi) / Outbox: messages per unit")
    counts = con.execute("""select kind, status, count(*) from ops.outbox where period = ? group by all order by 1, 2""",
                         [period]).fetchall()
    console.print("  ".join(f"{k} ({st}): {n}" for k, st, n in counts))
    from rich.table import Table

    t = Table(title="Đơn vị cần xử lý / units with something to fix or chase (accepted feedback not shown)")
    for h in ("đơn vị", "gửi tới", "loại", "nội dung"):
        t.add_column(h)
    for u, rcpt, kind, stage, text in con.execute("""
            select o.unit_code || coalesce(' ' || ou.name, ''), recipient, kind, stage, text from ops.outbox o
            left join core.org_unit ou on ou.unit_code = o.unit_code
            where period = ? and o.unit_code <> 'OPERATOR'
              and not (kind = 'feedback' and text like '%được tiếp nhận:%')
            order by o.unit_code, created_at, kind""", [period]).fetchall():
        t.add_row(u, rcpt, kind if kind == stage or kind == "feedback" else f"{kind} ({stage})", text[:90])
    console.print(t)
    ops = con.execute("""select text from ops.outbox where kind = 'operator_summary' and period = ?
                         qualify row_number() over (partition by dataset_code order by created_at desc) = 1
                         order by dataset_code""", [period]).fetchall()
    if ops:
        console.rule("Tóm tắt gửi cán bộ tỉnh / Operator summary")
        for (text,) in ops:
            console.print(text)
    console.print(f"snapshot: {result['snapshot']}")
    res.close()


@app.command()
def template(period: str = typer.Argument(..., help="Kỳ báo cáo, ví dụ 2026H1 / period"),
             unit: str = typer.Option(None, "--unit", help="Mã đơn vị (bỏ trống: tất cả) / unit code (all if omitted)"),
             out: Path = typer.Option(None, "--out", help="Thư mục ghi mẫu biểu / output folder"),
             home: Path = HomeOpt) -> None:
    """Tạo mẫu biểu trống cho đơn vị / write blank report workbooks."""
    import catalog
    from baocao import calendar
    from intake.template import template_name, write_template

    cat = catalog.load()
    kind = calendar.parse_period(period).kind
    out = out or settings(home).templates / period
    units = [unit] if unit else [u.code for d in cat.datasets.values() if d.frequency == kind
                                  for u in cat.expected_units(d.code)]
    n = 0
    for code in units:
        if code not in cat.org_units:
            raise typer.BadParameter(f"Không có đơn vị {code} / unknown unit {code}")
        for d in cat.datasets_for_unit(code, kind):
            write_template(out / template_name(code, period, d.code), code, period, d.code, cat=cat)
            n += 1
    console.print(f"Đã ghi {n} mẫu biểu vào {out} / wrote {n} workbooks")


@app.command()
def submit(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Tệp báo cáo / report file"),
           unit: str = typer.Option(..., "--unit", help="Mã đơn vị gửi / sending unit"),
           home: Path = HomeOpt) -> None:
    """Nộp một tệp cho đơn vị (lưu ngay, giờ nhận là giờ máy chủ) / submit a file for a unit (stored now, server time)."""
    from cli.submit import submit_file

    with resources(home) as res:
        submit_file(res, file, unit, console)


@app.command()
def process(home: Path = HomeOpt) -> None:
    """Xử lý mọi tệp đang chờ / process every pending submission now."""
    from flows.cycle import process_submissions

    with resources(home) as res:
        _writer(res)  # waits for the warehouse, or says in one line who holds it
        result = process_submissions(str(res.settings.home), resources=res)
    console.print(result)


@cycle_app.command("open")
def cycle_open(period: str, home: Path = HomeOpt) -> None:
    """Mở kỳ báo cáo / open a period."""
    from baocao.services import cycles

    with resources(home) as res:
        rows = cycles.open_cycle(res, period)
    for row in rows:
        console.print(f"{row['dataset_code']}: hạn {row['deadline_at']:%d/%m/%Y} ({row['legal_basis']})")


@cycle_app.command("close")
def cycle_close(period: str, home: Path = HomeOpt) -> None:
    """Đóng kỳ báo cáo (xử lý nốt tệp đang chờ) / close a period."""
    from flows.cycle import close_cycle

    console.print(close_cycle(period, str(settings(home).home)))


@cycle_app.command("status")
def cycle_status(period: str, home: Path = HomeOpt) -> None:
    """Tình hình nộp báo cáo theo từng báo cáo / expected, received, accepted, late, missing and who."""
    from baocao.services import process
    from cli import summary

    with resources(home) as res:
        _writer(res)  # waits for the warehouse, or says in one line who holds it
        process.aggregate(res)
        summary.print_summary(res.con(), period, console)


@app.command("accept-warning")
def accept_warning(unit: str = typer.Option(..., "--unit", help="Mã đơn vị / unit code"),
                   period: str = typer.Option(..., "--period", help="Kỳ báo cáo / period"),
                   element: str = typer.Option(..., "--element", help="Mã chỉ tiêu / element code"),
                   rule: str = typer.Option(..., "--rule", help="Mã quy tắc cảnh báo, ví dụ W01 / warning rule id"),
                   by: str = typer.Option(..., "--by", help="Người quyết định / who decides"),
                   reason: str = typer.Option("", "--reason", help="Lý do / reason"),
                   home: Path = HomeOpt) -> None:
    """Chấp nhận một cảnh báo cho đơn vị và kỳ (được ghi lại) / accept a warning for a unit and period."""
    from baocao.services import operator

    with resources(home) as res:
        row = operator.accept_warning(res, unit, period, element, rule, by, reason)
    console.print(f"Đã ghi nhận: {row} / recorded")


@app.command()
def history(unit: str = typer.Option(..., "--unit", help="Mã đơn vị / unit code"),
            period: str = typer.Option(None, "--period", help="Kỳ báo cáo / period"),
            home: Path = HomeOpt) -> None:
    """Các lần nộp của một đơn vị và kết quả kiểm tra / a unit's submission versions and results."""
    from baocao.services import operator
    from slackdoor.receive import audit

    store = settings(home).store
    with _reader(home) as con:
        for row in operator.versions(con, unit, period):
            side = audit(store, unit, row[-1]) or {}
            trail = " ".join(f"{k}={v}" for k, v in (side.get("meta") or {}).items() if k in ("user", "channel", "ts"))
            console.print("  ".join("" if x is None else str(x) for x in row)
                          + (f"  [{side.get('source')}: {trail}]" if trail else ""), markup=False)


@app.command()
def report(period: str = typer.Argument(..., help="Kỳ báo cáo, ví dụ 2026H1 / period"),
           lang: str = typer.Option("vi", "--lang", help="vi hoặc en / language"),
           out: Path = typer.Option(None, "--out", help="Thư mục ghi báo cáo / output folder"),
           home: Path = HomeOpt) -> None:
    """Dự thảo báo cáo sơ kết/tổng kết của tỉnh (Excel và HTML) / the draft provincial report."""
    from baocao.services import process
    from reports import write_report

    with resources(home) as res:
        process.aggregate(res)
        xlsx, html = write_report(res.con(), period, out or res.settings.reports, lang=lang, generated_at=res.now())
    console.print(f"Excel: {xlsx}\nHTML: {html}")


@app.command()
def datadocs(period: str = typer.Argument(..., help="Kỳ báo cáo / period"), home: Path = HomeOpt) -> None:
    """Trang kết quả kiểm tra của Great Expectations cho kỳ (đọc được khi không có mạng) / offline GX data docs."""
    from baocao.services import operator

    with resources(home) as res:
        path = operator.build_data_docs(res, period)
    console.print(f"data docs: {path}")


if __name__ == "__main__":
    app()
from cli.web import access_app, web  # noqa: E402

app.command()(web)
app.add_typer(access_app, name="access")
