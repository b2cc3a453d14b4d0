"""`baocao`: the operator's command line (Vietnamese first; English with --lang en).

Every command prints a table or a line a person can read, or JSON with --json; a failure the user
can fix is one line and a non-zero exit code (cli.common.UserError; --debug shows the traceback)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path

import click
import typer
from typer.core import TyperGroup

import cli.common
from baocao.settings import settings
from cli import decisions
from cli import serve as serve_mod
from cli import slack as slack_mod
from cli.common import STATE, HomeOpt, JsonOpt, UserError, console, err_console, lang, one_line, resources
from cli.outbox import app as outbox_app


def _pull_global_options(args: list[str]) -> list[str]:
    """--debug and --lang X may be written anywhere on the line (`baocao report 2026H1 --lang en`)."""
    STATE.lang, STATE.debug = "vi", False  # each command line starts afresh (tests run many in one process)
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a == "--":
            out.extend(args[i:])
            break
        if a == "--debug":
            STATE.debug = True
        elif a == "--lang" and i + 1 < len(args):
            STATE.lang = args[i + 1]
            i += 1
        elif a.startswith("--lang="):
            STATE.lang = a.split("=", 1)[1]
        else:
            out.append(a)
        i += 1
    return out


class Group(TyperGroup):
    """The root command: global options anywhere on the line, and one-line errors."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            args = _pull_global_options(list(args))
            if STATE.lang not in ("vi", "en"):
                bad, STATE.lang = STATE.lang, "vi"
                raise UserError(f"Ngôn ngữ không hỗ trợ: «{bad}»; dùng --lang vi hoặc --lang en",
                                f"unsupported language «{bad}»; use --lang vi or --lang en")
        return super().parse_args(ctx, args)

    def main(self, *args, **kwargs):
        try:
            return super().main(*args, **kwargs)
        except UserError as exc:  # raised while parsing (before invoke), outside click's own handling
            if STATE.debug:
                raise
            from baocao.escape import console_text

            err_console.print(console_text(exc.text()), style="red", markup=False, soft_wrap=True)
            sys.exit(exc.code)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort, click.ClickException, KeyboardInterrupt, SystemExit):
            raise
        except UserError as exc:
            if STATE.debug:
                raise
            _print_error(exc.text(), exc.code)
        except Exception as exc:  # a service's "vi / en" refusal, or something unexpected
            if STATE.debug:
                raise
            from warehouse.db import WarehouseBusy

            if isinstance(exc, ValueError | WarehouseBusy | FileNotFoundError | PermissionError):
                _print_error(one_line(str(exc)), 3 if isinstance(exc, WarehouseBusy) else 2)
            hint = "chạy lại với --debug để xem chi tiết" if lang() == "vi" else "run again with --debug for details"
            what = "Lỗi không lường trước" if lang() == "vi" else "Unexpected error"
            _print_error(f"{what}: {type(exc).__name__}: {one_line(str(exc))[:300]} ({hint})", 1)


def _print_error(text: str, code: int) -> None:
    from baocao.escape import console_text

    err_console.print(console_text(text), style="red", markup=False, soft_wrap=True)
    raise typer.Exit(code)


app = typer.Typer(cls=Group, help="baocao — chu kỳ báo cáo 6 tháng và năm về y tế / health-plan reporting cycles.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
cycle_app = typer.Typer(help="Mở, đóng, xem tình hình một kỳ báo cáo / open, close, status of a cycle.",
                        no_args_is_help=True)
app.add_typer(cycle_app, name="cycle")
app.add_typer(outbox_app, name="outbox")
app.command()(serve_mod.watch)
app.command()(serve_mod.serve)
app.command("listen")(slack_mod.listen)
decisions.register(app, cycle_app)  # accept-error, release, held, cycle reopen


@app.callback()
def _root(lang_: str = typer.Option("vi", "--lang", help="vi (mặc định) hoặc en, ở bất kỳ vị trí nào trên dòng lệnh"
                                    " / output language, anywhere on the line"),
          debug: bool = typer.Option(False, "--debug", help="Khi lỗi, in toàn bộ traceback / show the traceback of"
                                     " an error")) -> None:
    """baocao — chu kỳ báo cáo 6 tháng và năm về y tế / health-plan reporting cycles."""


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
    from warehouse.db import WarehouseBusy

    try:
        return res.con()
    except WarehouseBusy as exc:
        raise UserError(one_line(str(exc), "vi"), one_line(str(exc), "en"), code=3) from None


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
    summary.print_summary(con, period, console, lang(), provinces=s.provinces)
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
             out: Path = typer.Option(None, "--out", help="Thư mục ghi mẫu biểu (mặc định <home>/templates/<kỳ>)"
                                      " / output folder"),
             home: Path = HomeOpt) -> None:
    """Tạo mẫu biểu trống cho đơn vị / write blank report workbooks."""
    import catalog
    from baocao import calendar
    from baocao.labels import period_text
    from cli.common import check_period, check_unit, resolve_home
    from intake.template import template_name, write_template

    period = check_period(period)
    cat = catalog.load()
    if unit:
        check_unit(unit, cat)
    kind = calendar.parse_period(period).kind
    out = out or settings(resolve_home(home)).templates / period
    units = [unit] if unit else [u.code for d in cat.datasets.values() if d.frequency == kind
                                  for u in cat.expected_units(d.code)]
    written = []
    with cli.common.progress(f"Đang ghi mẫu biểu {period_text(period)}…", f"Writing the forms for {period}…"):
        for code in units:
            for d in cat.datasets_for_unit(code, kind):
                written.append(write_template(out / template_name(code, period, d.code), code, period, d.code, cat=cat))
    if not written:
        raise UserError(f"{unit} không phải nộp báo cáo nào cho {period_text(period)}",
                        f"{unit} reports nothing for {period}")
    shown = out.resolve()
    if lang() == "en":
        console.print(f"Wrote {len(written)} blank form(s) for {period_text(period, 'en')} in {shown}:", markup=False)
    else:
        console.print(f"Đã ghi {len(written)} mẫu biểu trống kỳ {period_text(period)} vào {shown}:", markup=False)
    for p in written[:5]:
        console.print(f"  {p.name}", markup=False)
    if len(written) > 5:
        console.print(f"  … (+{len(written) - 5})", markup=False)


@app.command()
def submit(file: Path = typer.Argument(..., help="Tệp báo cáo (.xlsx hoặc .csv) / report file"),
           unit: str = typer.Option(..., "--unit", help="Mã đơn vị gửi / sending unit"),
           as_json: bool = JsonOpt, home: Path = HomeOpt) -> None:
    """Nộp một tệp cho đơn vị (lưu ngay, giờ nhận là giờ máy chủ) / submit a file for a unit (stored now, server time)."""
    from cli.submit import check_file, check_unit_code, submit_file

    check_unit_code(unit)  # before anything touches the disk, even the home folder
    check_file(file)
    with resources(home) as res:
        submit_file(res, file, unit, console, as_json=as_json)


@app.command()
def process(as_json: bool = JsonOpt, home: Path = HomeOpt) -> None:
    """Kiểm tra, nạp và trả lời mọi tệp đang chờ / validate, load and answer every pending file."""
    from cli import tables

    with resources(home) as res:
        _writer(res)  # waits for the warehouse, or says in one line who holds it
        from flows.cycle import process_submissions  # Prefect: only once the home is known to be right
        with cli.common.progress("Đang xử lý các tệp đang chờ (kiểm tra, nạp, trả lời)…",
                                 "Processing pending files (validate, load, answer)…"):
            result = process_submissions(str(res.settings.home), resources=res)
    if as_json:
        cli.common.print_json(result)
        return
    tables.process_result(result, console, lang())


@cycle_app.command("open")
def cycle_open(period: str, as_json: bool = JsonOpt,
               home: Path = typer.Option(None, "--home", help="Thư mục dữ liệu; nếu chưa có, lệnh này tạo mới (lần"
                                         " chạy đầu) / data folder; created if it does not exist (first run)")) -> None:
    """Mở kỳ báo cáo (lần đầu với --home: tạo thư mục dữ liệu) / open a period (first run with --home: creates it)."""
    from baocao.labels import period_text
    from baocao.services import cycles
    from baocao.text import fmt_date
    from cli.common import check_period, resolve_home

    period = check_period(period)
    home_path = resolve_home(home, create=home is not None or bool(os.environ.get("BAOCAO_HOME", "").strip()))
    new = not settings(home_path).db_path.exists()
    with resources(home_path, create=True) as res:
        rows = cycles.open_cycle(res, period)
    if as_json:
        cli.common.print_json({"home": home_path, "created": new, "opened": rows})
        return
    if new:
        err_console.print(f"Đã tạo thư mục dữ liệu mới: {home_path}" if lang() == "vi" else
                          f"Created a new home: {home_path}", markup=False)
    from rich.table import Table

    en = lang() == "en"
    t = Table(title=(f"Opened {period_text(period, 'en')} ({period})" if en else
                     f"Đã mở kỳ {period_text(period)} ({period})"))
    for h in (("data set", "deadline", "legal basis") if en else ("báo cáo", "hạn nộp", "căn cứ")):
        t.add_column(h)
    for row in rows:
        t.add_row(row["dataset_code"], fmt_date(row["deadline_at"]), row["legal_basis"] or "")
    console.print(t)


@cycle_app.command("close")
def cycle_close(period: str, as_json: bool = JsonOpt, home: Path = HomeOpt) -> None:
    """Đóng kỳ báo cáo (xử lý nốt tệp đang chờ) / close a period."""
    from cli import tables
    from cli.common import check_cycle, check_period

    period = check_period(period)
    with resources(home) as res:
        check_cycle(_writer(res), period, must_be_open=True)
        from flows.cycle import close_cycle  # Prefect: only once the home and the period are known to be right
        with cli.common.progress(f"Đang đóng kỳ {period}…", f"Closing {period}…"):
            result = close_cycle(period, str(res.settings.home), resources=res)
    if as_json:
        cli.common.print_json(result)
        return
    tables.close_result(result, console, lang())


@cycle_app.command("status")
def cycle_status(period: str, as_json: bool = JsonOpt, home: Path = HomeOpt) -> None:
    """Tình hình nộp báo cáo: phải nộp, đã nhận, hợp lệ, trễ, bị từ chối, chưa nộp, với tỷ lệ và tên đơn vị /
    expected, received, accepted, late, rejected, not sent, with percentages and who."""
    from baocao.services import process
    from cli import summary
    from cli.common import check_cycle, check_period

    period = check_period(period)
    with resources(home) as res:
        con = _writer(res)  # waits for the warehouse, or says in one line who holds it
        check_cycle(con, period)
        process.aggregate(res)
        if as_json:
            cli.common.print_json(summary.status_json(res.con(), period))
            return
        summary.print_status(res.con(), period, console, lang())


@app.command("accept-warning")
def accept_warning(unit: str = typer.Option(..., "--unit", help="Mã đơn vị / unit code"),
                   period: str = typer.Option(..., "--period", help="Kỳ báo cáo / period"),
                   element: str = typer.Option(..., "--element", help="Mã chỉ tiêu / element code"),
                   rule: str = typer.Option(..., "--rule", help="Mã quy tắc cảnh báo, ví dụ W01 / warning rule id"),
                   by: str = typer.Option(..., "--by", help="Người quyết định / who decides"),
                   reason: str = typer.Option("", "--reason", help="Lý do / reason"),
                   as_json: bool = JsonOpt, home: Path = HomeOpt) -> None:
    """Chấp nhận một cảnh báo cho đơn vị và kỳ (được ghi lại) / accept a warning for a unit and period."""
    from baocao.services import operator
    from cli import tables
    from cli.common import check_cycle, check_period, check_unit

    period = check_period(period)
    check_unit(unit)
    with resources(home) as res:
        check_cycle(_writer(res), period)
        row = operator.accept_warning(res, unit, period, element, rule, by, reason)
    if as_json:
        cli.common.print_json(row)
        return
    tables.warning_accepted(row, console, lang())


@app.command()
def history(unit: str = typer.Option(..., "--unit", help="Mã đơn vị / unit code"),
            period: str = typer.Option(None, "--period", help="Kỳ báo cáo / period"),
            as_json: bool = JsonOpt, home: Path = HomeOpt) -> None:
    """Các lần nộp của một đơn vị và kết quả kiểm tra / a unit's submission versions and results."""
    from baocao.services import operator
    from cli import tables
    from cli.common import check_period, check_unit
    from slackdoor.receive import audit

    check_unit(unit)
    period = check_period(period) if period else None
    store = settings(cli.common.resolve_home(home, quiet=True)).store
    with _reader(home) as con:
        rows = [(*row, audit(store, unit, row[-1]) or {}) for row in operator.versions(con, unit, period)]
    if as_json:
        keys = ("period", "dataset_code", "version", "file_name", "received_at", "status", "n_errors", "n_warnings",
                "counts", "submission_id")
        cli.common.print_json([{**dict(zip(keys, r[:-1], strict=True)), "source": r[-1].get("source"),
                                "meta": r[-1].get("meta")} for r in rows])
        return
    tables.history(unit, period, rows, console, lang())


@app.command()
def report(period: str = typer.Argument(..., help="Kỳ báo cáo, ví dụ 2026H1 / period"),
           out: Path = typer.Option(None, "--out", help="Thư mục ghi báo cáo / output folder"),
           as_json: bool = JsonOpt, home: Path = HomeOpt) -> None:
    """Dự thảo báo cáo sơ kết/tổng kết của tỉnh (Excel và HTML; --lang en: tiếng Anh) / the draft provincial
    report (--lang en: in English)."""
    from baocao.services import process
    from cli.common import check_cycle, check_period
    from reports import write_report

    period = check_period(period)
    with resources(home) as res:
        check_cycle(_writer(res), period)
        with cli.common.progress(f"Đang lập dự thảo báo cáo {period}…", f"Writing the draft report for {period}…"):
            process.aggregate(res)
            xlsx, html = write_report(res.con(), period, out or res.settings.reports, lang=lang(),
                                      generated_at=res.now())
    if as_json:
        cli.common.print_json({"xlsx": xlsx, "html": html})
        return
    console.print(f"Excel: {xlsx}\nHTML:  {html}", markup=False)


@app.command()
def datadocs(period: str = typer.Argument(..., help="Kỳ báo cáo / period"), as_json: bool = JsonOpt,
             home: Path = HomeOpt) -> None:
    """Trang kết quả kiểm tra của Great Expectations cho kỳ (đọc được khi không có mạng) / offline GX data docs."""
    from baocao.services import operator
    from cli.common import check_cycle, check_period

    period = check_period(period)
    with resources(home) as res:
        check_cycle(_writer(res), period)
        with cli.common.progress(f"Đang lập trang Great Expectations cho {period}…", f"Building data docs for {period}…"):
            path = operator.build_data_docs(res, period)
    if as_json:
        cli.common.print_json({"datadocs": path})
        return
    console.print(f"Great Expectations data docs: {path}", markup=False)


if __name__ == "__main__":
    app()
from cli.web import access_app, web  # noqa: E402

app.command()(web)
app.add_typer(access_app, name="access")
