"""`baocao outbox …`: what the operator sees and does with notifications.

    baocao outbox [--status failed] [--unit LD.24781] [--period 2026H1]   # a readable table
    baocao outbox retry --failed [--unit LD.24781]  |  baocao outbox retry KEY…   # requeue
    baocao outbox send [--deadline 240]                                   # deliver now, summary

Reads the delivery store (notifications/store.py) through `baocao.services.deliver`. When the
warehouse is free, new rows are handed off first (the writer is held for milliseconds and closed
before anything is sent); when another process holds it, the store is shown as it is (and `send`
still delivers: it never needs the warehouse).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from baocao.labels import KIND, OUTBOX_STATE, label, word
from baocao.resources import Resources
from baocao.services import deliver
from cli.common import HomeOpt, JsonOpt, console, fail, lang, print_json, resources
from notifications.schedule import TZ

app = typer.Typer(help="Hộp thư đi: xem, gửi lại, gửi ngay / the outbox: list, requeue, send now.",
                  invoke_without_command=True)
STATE_LABEL = OUTBOX_STATE["vi"]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@contextlib.contextmanager
def _resources(home: Path | None) -> Iterator[Resources]:
    """The live resources of `home`, after a hand-off from the warehouse if it is free (the
    writer is opened for milliseconds, never while Slack is being talked to)."""
    with resources(home) as res:
        _sync(res)
        yield res


def _sync(res: Resources) -> None:
    """Hand new rows over and mirror the delivery states, if the warehouse is free; otherwise the
    store is shown and used as it is."""
    import duckdb

    if not res.warehouse.path.exists():
        return
    try:
        deliver.handoff(res)
    except duckdb.IOException:
        console.print(Text("Kho dữ liệu đang bận (một tiến trình khác đang ghi): hiển thị hộp thư đi như hiện có."
                           if lang() == "vi" else
                           "The warehouse is busy (another process writes it): showing the outbox as it is.",
                           style="yellow"), soft_wrap=True)
    finally:
        res.warehouse.close()  # never hold the warehouse while talking to Slack


def _local(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).astimezone(TZ).strftime("%d/%m/%Y %H:%M") if ts else ""


def _plain(value: object, limit: int) -> Text:
    """Unit-supplied text, shown as text (never as console markup), on one line."""
    s = _CONTROL.sub(" ", str(value or "")).strip()
    return Text(s if len(s) <= limit else s[: limit - 1] + "…")


@app.callback()
def show(
    ctx: typer.Context,
    status: str = typer.Option(None, "--status", help="pending | sent | failed | superseded | digested"),
    unit: str = typer.Option(None, "--unit", help="Mã đơn vị / unit code"),
    period: str = typer.Option(None, "--period", help="Kỳ báo cáo / period"),
    limit: int = typer.Option(200, "--limit", help="Số dòng tối đa / most rows shown"),
    as_json: bool = JsonOpt,
    home: Path = HomeOpt,
) -> None:
    """Thông báo trong hộp thư đi / notifications in the outbox (text, state, error, attempts)."""
    if ctx.invoked_subcommand:
        return
    if status and status not in STATE_LABEL:
        fail(f"Trạng thái không hợp lệ: {status}; dùng một trong {', '.join(STATE_LABEL)}",
             f"unknown state {status}; use one of {', '.join(STATE_LABEL)}")
    if period:
        from cli.common import check_period

        period = check_period(period)
    if unit:
        from cli.common import check_unit

        check_unit(unit)
    with _resources(home) as res:
        if as_json:
            print_json({"rows": res.outbox().rows(status=status, unit=unit, period=period, limit=limit),
                        "counts": res.outbox().counts()})
            return
        _table(res.outbox(), status, unit, period, limit)


def _table(store, status: str | None, unit: str | None, period: str | None, limit: int) -> None:
    rows = store.rows(status=status, unit=unit, period=period, limit=limit)
    lg = lang()
    t = Table(title=word("t_outbox", lg) + (f" — {period}" if period else ""), show_lines=False)
    for h in ("time", "state", "unit", "kind", "to", "tries", "error"):
        t.add_column(word(h, lg), no_wrap=h in ("time", "unit", "tries"))
    t.add_column(word("text", lg), min_width=40, overflow="fold")
    for r in rows:
        when = _local(r["sent_at"] or r["created_at"])
        kind = label(KIND, r["kind"], lg) + ("" if r["kind"] == "feedback" or r["stage"] in (r["kind"], None, "") else f" ({r['stage']})")
        t.add_row(Text(when), Text(label(OUTBOX_STATE, r["status"], lg)), _plain(r["unit_code"], 20),
                  _plain(kind, 34), _plain(r["recipient"], 28), Text(str(r["attempts"])),
                  _plain(r["error"], 40), _plain(r["text"], 110))
    if rows:
        console.print(t)
    else:
        console.print(Text("Hộp thư đi không có thông báo nào khớp." if lg == "vi" else "No notification matches."))
    counts = store.counts()
    console.print(Text(" · ".join(f"{label(OUTBOX_STATE, k, lg)}: {counts.get(k, 0)}" for k in STATE_LABEL)))
    if len(rows) == limit:
        console.print(Text(f"(chỉ hiện {limit} dòng đầu; --limit để xem thêm)" if lg == "vi" else
                           f"(first {limit} rows; --limit shows more)"))
    for n in reversed(store.notices(3)):
        console.print(Text(f"{_local(n['at'])}  {n['text']}", style="yellow"))


@app.command()
def retry(
    keys: list[str] = typer.Argument(None, help="Khóa thông báo / notification keys"),
    failed: bool = typer.Option(False, "--failed", help="Mọi thông báo lỗi / every failed notification"),
    unit: list[str] = typer.Option(None, "--unit", help="Chỉ của đơn vị này (lặp lại được) / only this unit (repeatable)"),
    home: Path = HomeOpt,
) -> None:
    """Đưa thông báo lỗi về hàng chờ / put failed notifications back in the queue (after a fix)."""
    if not keys and not failed:
        console.print(Text("Nêu khóa thông báo hoặc --failed / name notification keys or --failed", style="red"))
        raise typer.Exit(2)
    with _resources(home) as res:
        n = deliver.requeue(res, keys=list(keys) if keys else None, unit=list(unit) if unit else None)
        console.print(Text(f"Đã đưa {n} thông báo về hàng chờ / {n} notifications requeued"))
        _sync(res)  # mirror into the warehouse when it is free


@app.command()
def send(
    deadline: float = typer.Option(None, "--deadline", help="Giây tối đa của lượt gửi (mặc định BAOCAO_DELIVERY_DEADLINE"
                                   " hoặc 240) / seconds the run may take (default $BAOCAO_DELIVERY_DEADLINE or 240)"),
    home: Path = HomeOpt,
) -> None:
    """Gửi ngay những gì đang chờ / deliver what is pending now, and print a summary."""
    with _resources(home) as res:
        if res.sender is None:
            console.print(Text("Chưa đặt SLACK_BOT_TOKEN: thông báo ở lại hàng chờ / SLACK_BOT_TOKEN is not set: "
                               "notifications stay queued", style="yellow"))
        report = deliver.deliver(res, deadline_s=deadline)  # the delivery store only: no warehouse
        _report(report)
        _sync(res)
    if report.auth_error or report.breaker_open:
        raise typer.Exit(1)


def _report(report) -> None:
    """A delivery pass in words: sent, failed (with why), still pending, not sent, in a digest."""
    lg = lang()
    counts = (("sent", len(report.sent) + len(report.recovered)), ("failed", len(report.failed)),
              ("pending", len(report.pending)), ("superseded", len(report.superseded)),
              ("digested", len(report.digested)))
    head = "Lượt gửi" if lg == "vi" else "Delivery pass"
    console.print(Text(f"{head}: " + " · ".join(f"{label(OUTBOX_STATE, k, lg)}: {n}" for k, n in counts)))
    for key, why in sorted(report.failed.items()):
        console.print(Text(f"  {label(OUTBOX_STATE, 'failed', lg)}: {key}: {why}"))
    if report.auth_error:
        console.print(Text(f"Slack từ chối token (SLACK_BOT_TOKEN): {report.auth_error}" if lg == "vi" else
                           f"Slack rejected the token (SLACK_BOT_TOKEN): {report.auth_error}", style="red"))
    if report.breaker_open:
        console.print(Text("Slack không trả lời: tạm dừng, thử lại sau (baocao outbox send)" if lg == "vi" else
                           "Slack does not answer: paused, try later (baocao outbox send)", style="red"))
    if report.deadline_reached:
        console.print(Text("Hết thời gian của lượt gửi; phần còn lại vẫn chờ" if lg == "vi" else
                           "The pass reached its deadline; the rest stays pending"))
