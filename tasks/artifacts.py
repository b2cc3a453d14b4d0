"""What a flow run leaves in the Prefect UI: task-run names that say what a task did with how
much, a markdown artifact per cycle run (completeness with percentages, the units without an
accepted version and why), a table artifact of the reminders a pass queued, and a log line per
unit reminded. Thin: the words come from `baocao.labels`, the figures from
`baocao.services.status`."""

from __future__ import annotations

from collections import Counter

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from baocao.labels import KIND, STATE, fmt_pct, label, period_text
from baocao.resources import Resources
from baocao.services import status

REMINDER_KINDS = ("reminder", "overdue", "escalation")


def _records_by_dataset(records) -> str:
    counts = Counter(getattr(r, "dataset_code", None) or "?" for r in records or [])
    return ", ".join(f"{ds} {n}" for ds, n in sorted(counts.items())) or "0"


def named(make):
    """A task_run_name callable: `make(parameters)` names the run by what it works on; a name
    that cannot be made falls back to Prefect's own."""
    def task_run_name(parameters: dict) -> str:
        try:
            return make(parameters)
        except Exception:  # naming never fails a task
            return "task"
    return task_run_name


def _n(records) -> int:
    return len(records or [])


def artifact_key(kind: str, period: str) -> str:
    """Prefect artifact keys: lowercase letters, digits and dashes."""
    return f"{kind}-{period}".lower()


def completeness_markdown(con, period: str) -> str:
    rows = status.status_rows(con, period)
    lines = [f"# Tình hình nộp báo cáo — {period_text(period)} ({period})", "",
             "| báo cáo | phải nộp | đã nhận | hợp lệ | đúng hạn | trễ hạn | bị từ chối | chưa nộp |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        e = r["expected"]
        cell = [f"{r[k]} ({fmt_pct(r[k] / e)})" if e and r[k] else str(r[k])
                for k in ("received", "accepted", "on_time", "late", "rejected", "not_received")]
        lines.append(f"| {r['dataset_code']} | {e} | " + " | ".join(cell) + " |")
    failing = [u for u in status.unit_states(con, period) if u["state"] in ("rejected", "not_received")]
    lines += ["", f"## Đơn vị chưa có bản hợp lệ ({len(failing)})", ""]
    if failing:
        lines += ["| đơn vị báo cáo | báo cáo | tình trạng | phát hiện đầu tiên |", "|---|---|---|---|"]
        for u in failing:
            finding = " ".join(x for x in (u["rule_id"], u["element_code"], u["message_vi"]) if x)
            text = _md(f"{u['unit_code']} {u['unit_name'] or ''}".strip())
            lines.append(f"| {text} | {u['dataset_code']} | {label(STATE, u['state'])} | {_md(finding)[:160]} |")
    else:
        lines.append("Mọi đơn vị đã có bản hợp lệ.")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Unit-supplied text inside a markdown table cell: no markup, no row breaks."""
    out = " ".join(str(text).split())
    for ch in "\\`*_[]<>|#!":
        out = out.replace(ch, "\\" + ch)
    return out


@task(name="completeness-artifact", cache_policy=NO_CACHE,
      task_run_name=named(lambda p: f"completeness artifact {p['period']}"))
def completeness_artifact(r: Resources, period: str) -> str:
    """The run's markdown artifact: completeness with percentages and the failing units."""
    return str(create_markdown_artifact(completeness_markdown(r.con(), period), key=artifact_key("completeness", period),
                                        description=f"Tình hình nộp báo cáo {period_text(period)}"))


def reminder_keys(r: Resources) -> list[str]:
    """Keys of every reminder, overdue notice and escalation in the outbox (before a pass)."""
    return [k for (k,) in r.con().execute("select key from ops.outbox where list_contains(?, kind)",
                                          [list(REMINDER_KINDS)]).fetchall()]


def reminders_since(con, period: str, before: list[str]) -> list[dict]:
    """The reminders of `period` queued since the outbox held the keys `before`."""
    cols = ("unit_code", "dataset_code", "kind", "stage", "recipient", "created_at")
    rows = con.execute("""select unit_code, dataset_code, kind, stage, recipient, created_at from ops.outbox
                          where period = ? and list_contains(?, kind) and not list_contains(?, key)
                          order by kind, unit_code""", [period, list(REMINDER_KINDS), before]).fetchall()
    return [dict(zip(cols, row, strict=True)) for row in rows]


@task(name="reminders-artifact", cache_policy=NO_CACHE,
      task_run_name=named(lambda p: f"reminders artifact {p['period']}"))
def reminders_artifact(r: Resources, period: str, before: list[str]) -> int:
    """Log who was reminded (one line per unit) and leave a table artifact of the reminders,
    overdue notices and escalations this pass queued."""
    logger = get_run_logger()
    rows = reminders_since(r.con(), period, before)
    for row in rows:
        logger.info("%s: %s %s (%s) → %s", label(KIND, row["kind"]), row["unit_code"], row["dataset_code"],
                    row["stage"], row["recipient"])
    if not rows:
        logger.info("Không có nhắc hạn mới cho %s / no new reminders", period)
    table = [{"đơn vị báo cáo": row["unit_code"], "báo cáo": row["dataset_code"], "loại": label(KIND, row["kind"]),
              "mốc": row["stage"], "gửi tới": row["recipient"]} for row in rows]
    create_table_artifact(table or [{"đơn vị báo cáo": "—", "báo cáo": "—", "loại": "không có nhắc hạn mới",
                                     "mốc": "—", "gửi tới": "—"}],
                          key=artifact_key("reminders", period),
                          description=f"Nhắc hạn đã xếp hàng gửi — {period_text(period)}: {len(rows)}")
    return len(rows)
