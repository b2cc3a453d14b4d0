""""Phương hướng, nhiệm vụ" (next steps) for the coming period, drawn from what the report found,
grouped as an office writes them: one item for the targets not met, one for those off track, one
for those at risk (each indicator listed under it with its result, its goal and its plans), one
per lead agency for the overdue tasks (each task listed), one for the units with no accepted
report, and one per theme units asked for. The officer edits the wording; every item says what
it rests on."""

from __future__ import annotations

from baocao.labels import next_period_text
from reports.labels import OP_SYMBOL, fmt_value, target_unit
from reports.recommendations import THEME_NAMES

_ORDER = ("not_met", "off_track", "at_risk")

_T = {
    "vi": {
        "not_met": "Tập trung chỉ đạo, có giải pháp cụ thể đối với {n} chỉ tiêu không đạt mục tiêu",
        "off_track": "Đẩy nhanh tiến độ thực hiện {n} chỉ tiêu chậm tiến độ",
        "at_risk": "Theo dõi sát, có giải pháp phòng ngừa đối với {n} chỉ tiêu có nguy cơ chậm tiến độ",
        "target": "{name}: kết quả {value}, mục tiêu {goal} ({plans})",
        "year": "năm {y}",
        "tasks": "Đôn đốc {lead} hoàn thành {n} nhiệm vụ quá hạn",
        "task": "{plan}/{no}: {title} (thời hạn {deadline}{units})", "units": "; {n} đơn vị chưa hoàn thành",
        "reports": "Đôn đốc {n} đơn vị chưa có báo cáo hợp lệ kỳ này hoàn thành, gửi lại báo cáo",
        "theme": "Tổng hợp, trình cấp có thẩm quyền xem xét kiến nghị về {theme} ({n} đơn vị đề xuất)",
        "lead": "cơ quan chủ trì", "no_deadline": "chưa xác định",
        "b_targets": "mục II", "b_tasks": "mục IV", "b_reports": "mục I", "b_recs": "mục VI",
    },
    "en": {
        "not_met": "Act with specific measures on the {n} targets not met",
        "off_track": "Speed up the {n} targets off track",
        "at_risk": "Watch closely and act early on the {n} targets at risk",
        "target": "{name}: result {value}, target {goal} ({plans})",
        "year": "by {y}",
        "tasks": "Have {lead} finish {n} overdue tasks",
        "task": "{plan}/{no}: {title} (due {deadline}{units})", "units": "; {n} units not done",
        "reports": "Follow up the {n} units with no accepted report this period",
        "theme": "Put the units' requests on {theme} to the competent authority ({n} units)",
        "lead": "the lead agency", "no_deadline": "not set",
        "b_targets": "section II", "b_tasks": "section IV", "b_reports": "section I", "b_recs": "section VI",
    },
}


next_period_words = next_period_text  # the next period, as officials write it


def _value(v, unit, lang: str) -> str:
    text = fmt_value(v, unit, lang)
    return text[:1].lower() + text[1:] if unit == "milestone" else text


def next_steps(plans: list[dict], overdue_tasks: list[dict], counts: dict, recommendations: list[dict],
               lang: str = "vi") -> list[dict]:
    """[{kind, text, details: [str], basis}] in the order an office writes them: targets, tasks,
    reporting, requests."""
    T = _T[lang]
    out: list[dict] = []
    worst: dict[str, dict] = {}  # indicator -> {state, t, plans}: its most urgent state over the plans
    for p in plans:
        for t in p["targets"]:
            state = t["status"] if t["status"] == "not_met" else t.get("trajectory")
            if state not in _ORDER:
                continue
            g = worst.setdefault(t["indicator_code"], {"state": state, "t": t, "plans": []})
            if _ORDER.index(state) < _ORDER.index(g["state"]):
                g.update(state=state, t=t)
            if t["plan_code"] not in g["plans"]:
                g["plans"].append(t["plan_code"])
    for state in _ORDER:
        rows = [g for _, g in sorted(worst.items()) if g["state"] == state]
        if not rows:
            continue
        details = []
        for g in rows:
            t, unit = g["t"], target_unit(g["t"])
            goal = (OP_SYMBOL.get(t["op"], "") + " " + _value(t["threshold"], unit, lang)).strip()
            if t.get("milestone_year"):
                goal += " " + T["year"].format(y=t["milestone_year"])
            details.append(T["target"].format(name=t.get("indicator_name") or t["indicator_code"],
                                              value=_value(t["value"], unit, lang), goal=goal,
                                              plans=", ".join(g["plans"])))
        out.append({"kind": state, "text": T[state].format(n=len(rows)), "details": details, "basis": T["b_targets"]})
    by_lead: dict[str, list[dict]] = {}
    for task in overdue_tasks:
        by_lead.setdefault(task.get("lead_agency") or T["lead"], []).append(task)
    for lead, tasks in sorted(by_lead.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        out.append({"kind": "tasks", "text": T["tasks"].format(lead=lead, n=len(tasks)), "basis": T["b_tasks"],
                    "details": [T["task"].format(plan=t["plan_code"], no=t["task_no"], title=t["title"].rstrip(" ."),
                                                 deadline=t.get("deadline_text") or T["no_deadline"],
                                                 units=T["units"].format(n=len(t["rows"])) if len(t["rows"]) > 1 else "")
                                for t in tasks]})
    if counts.get("missing"):
        out.append({"kind": "reports", "text": T["reports"].format(n=counts["missing"]), "details": [],
                    "basis": T["b_reports"]})
    for g in sorted(recommendations, key=lambda g: -g["n_units"]):
        if g["theme"] != "khac":
            out.append({"kind": "request", "details": [], "basis": T["b_recs"],
                        "text": T["theme"].format(theme=THEME_NAMES[lang][g["theme"]].lower(), n=g["n_units"])})
    return out
