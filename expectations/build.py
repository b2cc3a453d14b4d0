"""Generate the Great Expectations suites (1.x JSON) from the catalog.

One suite per data set over the *wide* batch frame (one row per submission, one column per element,
plus derived columns), and one per data set over the tasks frame (one row per expected task).
`python -m expectations.build` rewrites expectations/suites/*.json; a test regenerates them and
fails on any difference, so the committed suites are the reviewed ones.

Derived columns (computed in expectations/frames.py):
  frac__<E>      fractional part of E (integer elements must have 0)
  rhs__<RULE>    right-hand side of a cross-element rule (right element × factor)
  hist__<E>      E against the unit's own series, scaled so that |x| > 1 is implausible: modified
                 z over the last periods where there are enough, else the change from the previous
                 value over the element's band (expectations/validate.py: history_scores)
  peer__<E>      robust z-score of E per 10,000 population against the cycle's peers (warning)
"""

from __future__ import annotations

import json
from pathlib import Path

import catalog as catalog_mod
from baocao.text import fmt_number

SUITES = Path(__file__).parent / "suites"
OPS = {"le": ("không được lớn hơn", "must not exceed"), "ge": ("không được nhỏ hơn", "must not be less than")}


def _exp(type_: str, kwargs: dict, severity: str, **meta) -> dict:
    return {"type": type_, "kwargs": kwargs, "meta": meta, "severity": "critical" if severity == "error" else "warning"}


def values_suite(ds, cat) -> dict:
    out = []
    for code in ds.elements:
        el = cat.elements[code]
        out.append(_exp("expect_column_values_to_not_be_null", {"column": code}, "error",
                        rule_id="C01", kind="completeness", element_code=code,
                        vi="Chưa nhập số liệu (ô trống)", en="No value (the cell is blank)",
                        expected_vi="nhập số liệu; nếu bằng không thì ghi 0", expected_en="enter the figure; write 0 if it is zero"))
        lo, hi = el.bounds
        kw = {"column": code, "min_value": lo}
        if hi is not None:
            kw["max_value"] = hi
        rng_vi = f"từ {lo:g} đến {hi:g}" if hi is not None else f"từ {lo:g} trở lên"
        rng_en = f"between {lo:g} and {hi:g}" if hi is not None else f"at least {lo:g}"
        if el.value_type == "flag":
            out.append(_exp("expect_column_values_to_be_in_set", {"column": code, "value_set": [0, 1]}, "error",
                            rule_id="D03", kind="domain", element_code=code,
                            vi="Chỉ nhận 1 (có) hoặc 0 (không)", en="Only 1 (yes) or 0 (no) is accepted",
                            expected_vi="1 hoặc 0", expected_en="1 or 0"))
            continue
        out.append(_exp("expect_column_values_to_be_between", kw, "error",
                        rule_id="D01", kind="domain", element_code=code,
                        vi=f"Giá trị ngoài khoảng hợp lý của chỉ tiêu ({rng_vi})",
                        en=f"Value outside the element's plausible range ({rng_en})",
                        expected_vi=f"một số {rng_vi}", expected_en=f"a number {rng_en}"))
        if el.integer:
            out.append(_exp("expect_column_values_to_be_between", {"column": f"frac__{code}", "min_value": 0, "max_value": 0},
                            "error", rule_id="D02", kind="integer", element_code=code,
                            vi="Số lượng phải là số nguyên", en="A count must be a whole number",
                            expected_vi="số nguyên không âm, không có phần thập phân",
                            expected_en="a non-negative whole number"))
    for r in cat.rules.get("rules", []):
        if r["left"] not in ds.elements or r["right"] not in ds.elements:
            continue
        factor = r.get("right_factor", 1)
        rhs = f"rhs__{r['id']}"
        out.append(_exp("expect_column_pair_values_a_to_be_greater_than_b",
                        {"column_A": rhs, "column_B": r["left"], "or_equal": r["op"] == "le",
                         "ignore_row_if": "either_value_is_missing"},
                        r["severity"], rule_id=r["id"], kind="rule", element_code=r["left"], right=r["right"],
                        right_factor=factor, vi=r["vi"], en=r["en"], overridable=bool(r.get("overridable")),
                        expected_vi=f"{r['left']} ≤ {r['right']}" + (f" × {fmt_number(factor)}" if factor != 1 else "")
                        + ("; nếu số liệu đúng, báo tỉnh xác nhận để được chấp nhận" if r.get("overridable") else ""),
                        expected_en=f"{r['left']} ≤ {r['right']}" + (f" × {factor:g}" if factor != 1 else "")
                        + ("; if the figures are right, ask the province to accept them" if r.get("overridable") else "")))
    hist = cat.rules.get("history", {})
    for code in ds.elements:
        if cat.elements[code].value_type in ("flag",):
            continue
        band = hist.get("bands", {}).get(code, hist.get("default_band", 0.5))
        out.append(_exp("expect_column_values_to_be_between", {"column": f"hist__{code}", "min_value": -1, "max_value": 1},
                        "warning", rule_id="W01", kind="history", element_code=code, band=band,
                        max_modified_z=hist.get("max_modified_z", 3.5), min_series=hist.get("min_series", 4),
                        vi=f"Khác thường so với các kỳ trước của đơn vị (thay đổi hơn {band:.0%})".replace("%", " %"),
                        en=f"Unusual against the unit's earlier periods (changed by more than {band:.0%})",
                        expected_vi="kiểm tra lại; nếu đúng, xác nhận với tỉnh", expected_en="check it; if correct, confirm with the province"))
    peers = cat.rules.get("peers", {})
    for code in peers.get("rates", []):
        if code in ds.elements and "POP" in ds.elements:
            z = peers.get("max_robust_z", 6)
            out.append(_exp("expect_column_values_to_be_between", {"column": f"peer__{code}", "min_value": -z, "max_value": z},
                            "warning", rule_id="W02", kind="peer", element_code=code, max_z=z,
                            vi="Tỷ lệ trên 10.000 dân khác thường so với các đơn vị cùng loại",
                            en="Rate per 10,000 population far from comparable units",
                            expected_vi="kiểm tra lại; nếu đúng, xác nhận với tỉnh", expected_en="check it; if correct, confirm with the province"))
    return {"name": ds.code, "meta": {"generated_by": "expectations/build.py", "dataset": ds.code}, "expectations": out}


def tasks_suite(ds, cat) -> dict:
    codes = [s["code"] for s in cat.task_statuses]
    return {"name": f"{ds.code}__tasks", "meta": {"generated_by": "expectations/build.py", "dataset": ds.code},
            "expectations": [
                _exp("expect_column_values_to_not_be_null", {"column": "status"}, "error", rule_id="T01", kind="task",
                     vi="Nhiệm vụ chưa có tình trạng thực hiện", en="The task has no status",
                     expected_vi="chọn một trong: " + "; ".join(s["name"] for s in cat.task_statuses),
                     expected_en="choose one of: " + "; ".join(s["name_en"] for s in cat.task_statuses)),
                _exp("expect_column_values_to_be_in_set", {"column": "status", "value_set": codes}, "error", rule_id="T02",
                     kind="task", vi="Tình trạng nhiệm vụ không hợp lệ", en="Unknown task status",
                     expected_vi="; ".join(s["name"] for s in cat.task_statuses),
                     expected_en="; ".join(s["name_en"] for s in cat.task_statuses)),
            ]}


def build_all(cat=None) -> dict[str, dict]:
    cat = cat or catalog_mod.load()
    out = {}
    for ds in cat.datasets.values():
        if ds.elements:
            out[ds.code] = values_suite(ds, cat)
        if ds.tasks != "none":
            out[f"{ds.code}__tasks"] = tasks_suite(ds, cat)
    return out


def render(suite: dict) -> str:
    return json.dumps(suite, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def main() -> None:
    SUITES.mkdir(exist_ok=True)
    suites = build_all()
    for name, suite in suites.items():
        (SUITES / f"{name}.json").write_text(render(suite), encoding="utf-8")
    for stale in SUITES.glob("*.json"):
        if stale.stem not in suites:
            stale.unlink()
    print(f"wrote {len(suites)} suites to {SUITES}")


if __name__ == "__main__":
    main()
