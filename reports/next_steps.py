""""Phương hướng, nhiệm vụ" (next steps) for the coming period, drawn from what the report found:
targets not met, off track or at risk (one item per indicator, naming its plans), overdue tasks
(one per plan task, naming the lead agency and how many units have not finished it), units with
no accepted report, and the themes units asked for most. The officer edits the wording; every
item says what it rests on."""

from __future__ import annotations

from baocao import calendar
from reports.labels import OP_SYMBOL, STATUS, TRAJECTORY, fmt_value, target_unit
from reports.recommendations import THEME_NAMES

_ORDER = {"not_met": 0, "off_track": 1, "at_risk": 2}

_T = {
    "vi": {
        "target": "Tập trung chỉ đạo, có giải pháp cụ thể để đạt chỉ tiêu «{name}»: kết quả {value}, mục tiêu {goal}",
        "task": "Đôn đốc {lead} hoàn thành nhiệm vụ «{title}» ({plan}, thời hạn {deadline}; {n} lượt đơn vị chưa hoàn thành)",
        "reports": "Đôn đốc {n} đơn vị chưa có báo cáo hợp lệ kỳ này hoàn thành, gửi lại báo cáo",
        "theme": "Tổng hợp, trình cấp có thẩm quyền xem xét kiến nghị về {theme} ({n} đơn vị đề xuất)",
        "year": "năm {y}", "lead": "cơ quan chủ trì", "no_deadline": "chưa xác định",
    },
    "en": {
        "target": "Act on «{name}» with specific measures: result {value}, target {goal}",
        "task": "Have {lead} finish «{title}» ({plan}, due {deadline}; {n} unit reports not done)",
        "reports": "Follow up the {n} units with no accepted report this period",
        "theme": "Put the units' requests on {theme} to the competent authority ({n} units)",
        "year": "by {y}", "lead": "the lead agency", "no_deadline": "not set",
    },
}


def next_period_words(period: str, lang: str = "vi") -> str:
    """The period after `period`, as officials write it: 2026H1 → "6 tháng cuối năm 2026"."""
    per = calendar.parse_period(period)
    year, half = (per.year + 1, None) if per.half is None else (per.year, 2) if per.half == 1 else (per.year + 1, 1)
    if lang == "en":
        return {None: f"year {year}", 1: f"first half of {year}", 2: f"second half of {year}"}[half]
    return {None: f"năm {year}", 1: f"6 tháng đầu năm {year}", 2: f"6 tháng cuối năm {year}"}[half]


def next_steps(plans: list[dict], overdue_tasks: list[dict], counts: dict, recommendations: list[dict],
               lang: str = "vi") -> list[dict]:
    """[{kind, text, basis}] in the order an office would write them: targets, tasks, reporting, requests."""
    T = _T[lang]
    out: list[dict] = []
    by_indicator: dict[str, dict] = {}
    for p in plans:
        for t in p["targets"]:
            state = t["status"] if t["status"] == "not_met" else t.get("trajectory")
            if state not in _ORDER:
                continue
            key = t["indicator_code"]
            cur = by_indicator.get(key)
            if cur is None or _ORDER[state] < _ORDER[cur["state"]]:
                by_indicator[key] = {"state": state, "t": t, "plans": (cur or {}).get("plans", [])}
            if t["plan_code"] not in by_indicator[key]["plans"]:
                by_indicator[key]["plans"].append(t["plan_code"])
    for key, g in sorted(by_indicator.items(), key=lambda kv: (_ORDER[kv[1]["state"]], kv[0])):
        t, unit = g["t"], target_unit(g["t"])
        goal = (OP_SYMBOL.get(t["op"], "") + " " + fmt_value(t["threshold"], unit, lang)).strip()
        if t.get("milestone_year"):
            goal += " " + T["year"].format(y=t["milestone_year"])
        label = STATUS[lang].get(g["state"]) or TRAJECTORY[lang][g["state"]]
        out.append({"kind": "target", "text": T["target"].format(name=t.get("indicator_name") or key,
                                                                  value=fmt_value(t["value"], unit, lang), goal=goal),
                    "basis": f"{label} — {', '.join(g['plans'])}"})
    for task in overdue_tasks:
        out.append({"kind": "task", "text": T["task"].format(
            lead=task.get("lead_agency") or T["lead"], title=task["title"], plan=f"{task['plan_code']}/{task['task_no']}",
            deadline=task.get("deadline_text") or T["no_deadline"], n=len(task["rows"])),
            "basis": f"{task['plan_code']}/{task['task_no']}"})
    if counts.get("missing"):
        out.append({"kind": "reports", "text": T["reports"].format(n=counts["missing"]), "basis": ""})
    for g in sorted(recommendations, key=lambda g: -g["n_units"]):
        if g["theme"] != "khac":
            out.append({"kind": "request", "text": T["theme"].format(theme=THEME_NAMES[lang][g["theme"]].lower(),
                                                                      n=g["n_units"]), "basis": ""})
    return out
