"""Console tables of the commands that report what they did (process, cycle close,
accept-warning, history). Words from `baocao.labels`; every unit-supplied text as text
(console_text, rich Text: never markup); times in Asia/Ho_Chi_Minh without microseconds."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from baocao.escape import console_text
from baocao.labels import STATUS, label, period_text, word
from baocao.text import TZ


def _t(value) -> Text:
    return Text(console_text("" if value is None else value))


def local_time(value, seconds: bool = True) -> str:
    """'HH:MM:SS dd/mm/yyyy' in Vietnam (no microseconds; without `seconds`: 'HH:MM dd/mm/yyyy')."""
    if value is None:
        return ""
    if getattr(value, "tzinfo", None) is not None:
        value = value.astimezone(TZ)
    return value.strftime("%H:%M:%S %d/%m/%Y" if seconds else "%H:%M %d/%m/%Y")


def files_table(files: list[dict], c: Console, lang: str) -> None:
    t = Table(title=word("t_process", lang))
    for key in ("unit", "dataset", "period", "file", "result", "errors", "warnings", "where", "first_finding"):
        t.add_column(word(key, lang), overflow="fold", no_wrap=key in ("unit", "dataset", "period", "errors"),
                     min_width=40 if key == "first_finding" else None, max_width=30 if key == "file" else None,
                     justify="right" if key in ("errors", "warnings") else "left")
    for f in files:
        msg = f["finding_en"] if lang == "en" else f["finding_vi"]
        t.add_row(_t(f["unit_code"]), _t(f["dataset_code"]), _t(f["period"]), _t(f["file_name"][:48]),
                  _t(label(STATUS, f["status"], lang)), _t(f["n_errors"]), _t(f["n_warnings"]),
                  _t(f["where_en"] if lang == "en" else f["where"]),
                  _t(f"{f['rule_id'] or ''} {msg or ''}".strip()[:140]))
    c.print(t)


def process_result(result: dict, c: Console, lang: str) -> None:
    files = result.get("files") or []
    if not files:
        c.print(word("nothing_pending", lang))
        return
    files_table(files, c, lang)
    n_ok = sum(f["status"] != "rejected" for f in files)
    c.print(word("processed", lang, n=len(files), accepted=n_ok, rejected=len(files) - n_ok))
    handed = ((result.get("notified") or {}).get("dispatch") or {}).get("handed_off")
    if handed:
        c.print(f"Đã chuyển {handed} thông báo sang hộp thư đi (baocao outbox)" if lang == "vi" else
                f"{handed} notifications handed to the outbox (baocao outbox)")


def close_result(result: dict, c: Console, lang: str) -> None:
    closed = result.get("closed") or []
    if not closed:
        c.print("Không có báo cáo nào đang mở để đóng." if lang == "vi" else "Nothing open to close.")
        return
    processed = result.get("processed") or {}
    if processed.get("files"):
        files_table(processed["files"], c, lang)
    for period, ds in closed:
        c.print(f"Đã đóng {ds} kỳ {period_text(period)} ({period})" if lang == "vi" else
                f"Closed {ds} for {period_text(period, 'en')} ({period})", markup=False)


def warning_accepted(row: dict, c: Console, lang: str) -> None:
    what = f"{row['rule_id']} {row['element_code']} — {row['unit_code']} {row['dataset_code']} {row['period']}"
    when = local_time(row.get("accepted_at"))
    if row.get("already"):
        text = (f"Cảnh báo {what} đã chấp nhận trước đó ({row['accepted_by']}, {when}); không ghi lại" if lang == "vi"
                else f"Warning {what} was already accepted ({row['accepted_by']}, {when}); nothing changed")
    else:
        text = (f"Đã chấp nhận cảnh báo {what} ({row['accepted_by']}, {when}); các bản sau không bị cảnh báo lại"
                if lang == "vi" else
                f"Accepted warning {what} ({row['accepted_by']}, {when}); later versions are not warned again")
    c.print(_t(text), soft_wrap=True)


def history(unit: str, period: str | None, rows: list[tuple], c: Console, lang: str) -> None:
    if not rows:
        c.print(_t(word("no_history", lang, unit=unit,
                        period=(f" cho {period_text(period)}" if lang == "vi" else f" for {period}") if period else "")))
        return
    t = Table(title=word("t_history", lang, unit=unit))
    for key in ("period", "dataset", "version", "file", "received_at", "result", "errors_warnings", "counts",
                "source", "submission"):
        t.add_column(word(key, lang), overflow="fold", no_wrap=key in ("received_at", "submission", "period"),
                     min_width=18 if key == "file" else None,
                     justify="right" if key in ("version", "errors_warnings") else "left")
    trails = []
    for per, ds, version, name, received, status, ne, nw, counts, sid, side in rows:
        meta = side.get("meta") or {}
        trail = " ".join(f"{k}={v}" for k, v in meta.items() if k in ("user", "channel", "ts"))
        if trail:
            trails.append(f"  {per} {ds} v{version} — {side.get('source')}: {trail}")
        t.add_row(_t(per), _t(ds), _t(version), _t(name), _t(local_time(received, seconds=False)),
                  _t(label(STATUS, status, lang)), _t(f"{ne} / {nw}"),
                  _t(word("yes", lang) if counts else word("no", lang)), _t(side.get("source")), _t(sid))
    c.print(t)
    for line in trails:  # the audit trail of a version that came through Slack or the web, unbroken
        c.print(_t(line), soft_wrap=True)
