"""The operator's decisions on the command line: accept an overridable error, release a held
version, list what is held, reopen a cycle. Each is recorded with who, when (the resources'
clock) and why (`baocao.services.operator`).

Registered in cli/app.py with one line (`register(app, cycle_app)`)."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import HomeOpt, UserError, console, one_line, resources


def _fail(exc: ValueError) -> None:
    """A refused decision: one line in the operator's language (cli.app prints it), exit code 1."""
    raise UserError(one_line(str(exc), "vi"), one_line(str(exc), "en"), code=1) from None


def accept_error(unit: str = typer.Option(..., "--unit", help="Mã đơn vị / unit code"),
                 period: str = typer.Option(..., "--period", help="Kỳ báo cáo / period"),
                 rule: str = typer.Option(..., "--rule", help="Mã quy tắc được phép chấp nhận, ví dụ R03 / rule id"),
                 reason: str = typer.Option(..., "--reason", help="Lý do / reason"),
                 by: str = typer.Option(..., "--by", help="Người quyết định / who decides"),
                 home: Path = HomeOpt) -> None:
    """Chấp nhận một lỗi của quy tắc được phép (overridable) cho đơn vị và kỳ; đơn vị được tính vào tổng hợp /
    accept an overridable error for a unit and period; the unit then counts."""
    from baocao.services import operator

    with resources(home) as res:
        try:
            row = operator.accept_error(res, unit, period, rule, by, reason)
        except ValueError as exc:
            _fail(exc)
    if row["status"] == "accepted_by_override":
        console.print(f"Đã ghi nhận; {unit} {period} được tính vào tổng hợp / recorded; the unit now counts "
                      f"({row['rule_id']} {row['element_code']}, {row['decided_by']}: {row['reason']})", markup=False, highlight=False)
    else:
        console.print(f"Đã ghi nhận, nhưng bản báo cáo còn lỗi khác: {', '.join(row['errors_left'])} / recorded, "
                      "but the version has other errors", markup=False, highlight=False)


def release(submission: str = typer.Option(..., "--submission", help="Mã bản báo cáo đang giữ / held submission id"),
            reason: str = typer.Option(..., "--reason", help="Lý do / reason"),
            by: str = typer.Option(..., "--by", help="Người quyết định / who decides"),
            home: Path = HomeOpt) -> None:
    """Đưa một bản báo cáo đang giữ lại (gửi sau ngày đóng kỳ) vào tổng hợp / release a held version."""
    from baocao.services import operator

    with resources(home) as res:
        try:
            row = operator.release(res, submission, by, reason)
        except ValueError as exc:
            _fail(exc)
    console.print(f"{row['unit_code']} {row['period']} {row['dataset_code']}: {row['status']}", markup=False, highlight=False)


def held(period: str = typer.Option(None, "--period", help="Kỳ báo cáo / period"), home: Path = HomeOpt) -> None:
    """Các bản báo cáo đang giữ lại chờ quyết định / versions held for a decision."""
    from baocao.services import operator

    with resources(home) as res:  # read-only: the published snapshot when there is one (never waits for the writer)
        con = res.snapshot.con() if res.snapshot.exists else res.con()
        rows = operator.held(con, period)
    if not rows:
        console.print("Không có bản nào đang giữ / nothing held", markup=False)
    for sid, unit, per, ds, version, received in rows:
        console.print(f"{sid}  {unit}  {per}  {ds}  v{version}  {received:%d/%m/%Y %H:%M}  → baocao release --submission {sid}"
                      " --reason … --by …", markup=False, highlight=False)


def reopen(period: str = typer.Argument(..., help="Kỳ báo cáo / period"),
           dataset: str = typer.Option(..., "--dataset", help="Mã báo cáo / data set"),
           reason: str = typer.Option(..., "--reason", help="Lý do / reason"),
           by: str = typer.Option(..., "--by", help="Người quyết định / who decides"),
           days: int = typer.Option(7, "--days", help="Số ngày mở lại / days to stay open"),
           home: Path = HomeOpt) -> None:
    """Mở lại một kỳ đã đóng (được ghi lại) / reopen a closed cycle (recorded)."""
    from baocao.services import operator

    with resources(home) as res:
        try:
            row = operator.reopen(res, period, dataset, by, reason, days=days)
        except ValueError as exc:
            _fail(exc)
    console.print(f"{period} {dataset}: mở đến / open until {row['until']:%d/%m/%Y %H:%M}", markup=False, highlight=False)


def register(app: typer.Typer, cycle_app: typer.Typer) -> None:
    app.command("accept-error")(accept_error)
    app.command("release")(release)
    app.command("held")(held)
    cycle_app.command("reopen")(reopen)
