"""Deterministic sample submissions for the real units of Lâm Đồng (the figures are synthetic).

Writes, into an inbox, one report per expected unit for a period — as xlsx (most) or CSV (some,
with Vietnamese number formats, NFD text and legacy encodings) — each received by the store on
its simulated arrival day (`arrive`): most on time, some late, a few units missing, and a handful of bad files that
a real cycle meets: a corrupt workbook, an unknown unit code, a unit reporting for another unit,
text in a number cell, a rule broken across elements, an implausible value (warning), and a unit
that is rejected and then resubmits a corrected file.
"""

from __future__ import annotations

import csv
import io
import os
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import catalog as catalog_mod
from baocao import calendar
from intake import form
from intake.template import build_template, template_name

SEED = 20260630

THEMES = {
    "nhan_luc": ("Thiếu bác sĩ tại trạm y tế, đề nghị tỉnh có chính sách thu hút bác sĩ về xã.",
                 "Đề nghị đào tạo thêm điều dưỡng, hộ sinh cho trạm y tế."),
    "co_so_vat_chat": ("Đề nghị đầu tư sửa chữa trạm y tế đã xuống cấp.",
                       "Đề nghị bổ sung trang thiết bị siêu âm, xét nghiệm cơ bản cho trạm."),
    "bhyt": ("Đề nghị hỗ trợ mua thẻ BHYT cho hộ cận nghèo để đạt bao phủ toàn dân.",),
    "chuyen_doi_so": ("Đề nghị hỗ trợ đường truyền và máy tính để cập nhật sổ sức khỏe điện tử.",),
    "kinh_phi": ("Đề nghị bố trí kinh phí khám sức khỏe định kỳ miễn phí cho người dân.",),
}
RESULTS = ("Hoàn thành cơ bản các chỉ tiêu 6 tháng đầu năm.", "Tỷ lệ tiêm chủng đạt kế hoạch.",
           "Triển khai khám sàng lọc bệnh không lây nhiễm tại trạm.")
DIFFICULTIES = ("Địa bàn rộng, giao thông khó khăn vào mùa mưa.", "Nhân lực trạm y tế còn thiếu.",
                "Người dân chưa quen sử dụng sổ sức khỏe điện tử.")


@dataclass
class DemoPlan:
    """What the generator did, so the demo and the tests can check the pipeline against it."""
    period: str
    files: list[dict] = field(default_factory=list)   # unit, path, kind, received_at
    missing: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    bad: dict[str, str] = field(default_factory=dict)  # unit -> expected rule id
    values: dict[str, dict[str, float]] = field(default_factory=dict)  # unit -> element -> value (accepted files)
    history: dict[str, DemoPlan] = field(default_factory=dict)  # earlier periods generated before this one


_FLAGS = {"STATION_NCD", "STATION_STANDARD", "STATION_HAS_DOCTOR", "STATION_HAS_MIDWIFE", "STATION_HAS_TRAD_MED",
          "COMMUNE_NATIONAL_CRITERIA", "DOCTORS_STATION", "MIDWIVES_STATION"}


def commune_values(rng: random.Random, scale: float = 1.0) -> dict[str, float]:
    pop = rng.randint(8000, 60000)
    births = round(pop * rng.uniform(0.006, 0.008))
    doctors = max(2, round(pop * rng.uniform(8.5, 13.5) / 10000 * scale))
    d_station = min(doctors, rng.choice([1, 1, 2, 2, 3, 4]))
    beds = round(pop * rng.uniform(24, 34) / 10000 * scale)
    measured = round(pop * rng.uniform(0.06, 0.08))
    screened = round(pop * rng.uniform(0.25, 0.35))
    visits = round(pop * rng.uniform(1.0, 1.4))
    deaths_u5 = round(births * rng.uniform(0.010, 0.020))
    return {
        "POP": pop, "POP_INSURED": round(pop * rng.uniform(0.92, 0.985)),
        "DOCTORS": doctors, "DOCTORS_STATION": d_station,
        "NURSES": round(pop * rng.uniform(15, 21) / 10000), "MIDWIVES_STATION": rng.randint(0, 2),
        "PHARMACISTS_UNIV": round(pop * rng.uniform(1.0, 1.5) / 10000), "BEDS": beds,
        "BEDS_PRIVATE": round(beds * rng.uniform(0.04, 0.09)), "LIVE_BIRTHS": births,
        "DEATHS_U1": min(deaths_u5, round(births * rng.uniform(0.006, 0.012))), "DEATHS_U5": deaths_u5,
        "EPI_ELIGIBLE": births, "EPI_FULL": round(births * rng.uniform(0.93, 0.995)),
        "CHILDREN_U5_MEASURED": measured, "CHILDREN_U5_STUNTED": round(measured * rng.uniform(0.13, 0.20)),
        "ADULTS_SCREENED": screened, "ADULTS_OBESE": round(screened * rng.uniform(0.07, 0.12)),
        "PEOPLE_HEALTH_MANAGED": round(pop * rng.uniform(0.86, 0.97)), "PEOPLE_EHR": round(pop * rng.uniform(0.55, 0.9)),
        "PEOPLE_CHECKUP": round(pop * rng.uniform(0.3, 0.6)), "PEOPLE_ACTIVE": round(pop * rng.uniform(0.3, 0.4)),
        "INSURED_VISITS_TOTAL": visits, "INSURED_VISITS_STATION": round(visits * rng.uniform(0.14, 0.26)),
        "STATION_NCD": 1 if rng.random() < 0.9 else 0, "STATION_STANDARD": 1 if rng.random() < 0.7 else 0,
        "STATION_HAS_DOCTOR": 1 if d_station > 0 else 0, "STATION_HAS_MIDWIFE": 1 if rng.random() < 0.85 else 0,
        "STATION_HAS_TRAD_MED": 1 if rng.random() < 0.6 else 0,
        "COMMUNE_NATIONAL_CRITERIA": 1 if rng.random() < 0.8 else 0,
    }


def department_values(rng: random.Random) -> dict[str, float]:
    return {"OOP_PCT": round(rng.uniform(36, 42), 1), "PREVENTIVE_BUDGET_PCT": round(rng.uniform(28, 34), 1),
            "SATISFACTION_PCT": round(rng.uniform(82, 90), 1), "SPECIALISED_HOSPITALS": 1,
            "VACCINES_IN_EPI": 12, "REGIONAL_GENERAL_HOSPITALS": 3, "HIGH_RISK_CHECKUP_PCT": round(rng.uniform(40, 60), 1),
            "BASIC_FEE_EXEMPTION": 0, "NEW_TRAD_MED_HOSPITAL": 0}


def _texts(rng: random.Random) -> dict[str, str]:
    recs = [rng.choice(v) for k, v in sorted(THEMES.items()) if rng.random() < 0.5] or [THEMES["nhan_luc"][0]]
    return {"ket_qua": " ".join(rng.sample(RESULTS, 2)), "han_che": rng.choice(DIFFICULTIES), "kien_nghi": " ".join(recs)}


def _tasks(rng, cat, ds_code, unit_code) -> dict:
    names = {s["code"]: s["name"] for s in cat.task_statuses}
    return {(t.plan_code, t.task_no): names[rng.choice(["hoan_thanh", "dang_thuc_hien", "dang_thuc_hien", "chua_thuc_hien"])]
            for t in cat.tasks_for(ds_code, unit_code)}


def write_csv(path: Path, unit_code: str, period: str, ds_code: str, values: dict, tasks: dict, texts: dict,
              vn_numbers: bool = True, nfd: bool = False, encoding: str = "utf-8", delimiter: str = ",") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(form.CSV_COLUMNS)
    for k, v in (("template_version", form.TEMPLATE_VERSION), ("unit_code", unit_code), ("period", period),
                 ("dataset_code", ds_code)):
        w.writerow(["meta", k, v, ""])
    for code, v in values.items():
        if isinstance(v, (int, float)) and vn_numbers:
            v = f"{v:,}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        w.writerow(["so_lieu", code, v, ""])
    for (plan, no), st in tasks.items():
        w.writerow(["nhiem_vu", f"{plan}/{no}", st, ""])
    for sec, text in texts.items():
        w.writerow(["thuyet_minh", sec, text, ""])
    text = buf.getvalue()
    if nfd:
        text = unicodedata.normalize("NFD", text)
    path.write_bytes(encode_cp1258(text) if encoding == "cp1258" else text.encode(encoding))
    return path


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def encode_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese legacy software writes it: precomposed base letters (ư, ơ, â, …)
    followed by a combining tone mark."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
            tones = "".join(c for c in parts if c in _TONES)
            out.append((base + tones).encode("cp1258"))
    return b"".join(out)


def generate(inbox: Path, period: str = "2026H1", cat=None, seed: int = SEED, scale: float = 1.0,
             with_problems: bool = True) -> DemoPlan:
    """Write one period's submissions into `inbox/<unit>/`. Deterministic for a seed."""
    cat = cat or catalog_mod.load()
    per = calendar.parse_period(period)
    plan = DemoPlan(period=per.code)
    datasets = [d for d in cat.datasets.values() if d.frequency == per.kind]
    on = per.calendar_window()[1].isoformat()
    units = [(d, u) for d in datasets for u in cat.expected_units(d.code, on=on)]
    deadline = {d.code: calendar.deadline(per, calendar.DeadlineRule.from_dict(d.deadline)) for d in datasets}
    opens = {d.code: calendar.open_at(per, calendar.DeadlineRule.from_dict(d.deadline)) for d in datasets}
    problems = {}
    communes = [u.code for d, u in units if d.code.startswith("XA_")]
    if with_problems and len(communes) > 20:
        problems = {communes[3]: "corrupt", communes[7]: "unknown_unit", communes[11]: "other_unit",
                    communes[15]: "text_value", communes[19]: "rule", communes[5]: "outlier", communes[9]: "resubmit"}
        plan.missing = [communes[-1], communes[-4], communes[-9]]
        late = [communes[-2], communes[-6], communes[20], communes[30]]
    else:
        late = []
    for d, u in units:
        urng = random.Random(f"{seed}:{period}:{u.code}")
        if u.code in plan.missing:
            continue
        if d.code.startswith("XA_"):
            # a unit's figures are stable across periods (seeded by the unit), drifting a little
            values = commune_values(random.Random(f"{seed}:{u.code}"), scale=scale)
            drift = 1 + (per.year - 2025) * 0.02 + (per.half or 2) * 0.005
            values = {k: (round(v * drift) if k not in _FLAGS else v) for k, v in values.items()}
        elif d.elements:
            values = {k: v for k, v in department_values(urng).items() if k in d.elements}
        else:
            values = {}
        if "LIFE_EXPECTANCY" in d.elements:
            values = {"LIFE_EXPECTANCY": 74.2, "HEALTHY_LIFE_YEARS": 66.1, "HEIGHT_MALE_18": 167.4,
                      "HEIGHT_FEMALE_18": 156.3, "HEIGHT_1_18_MEAN": 139.8}
        tasks = _tasks(urng, cat, d.code, u.code)
        texts = _texts(urng) if d.narrative else {}
        folder = inbox / u.code
        folder.mkdir(parents=True, exist_ok=True)
        on_time = deadline[d.code] - timedelta(days=urng.randint(0, 6), hours=urng.randint(1, 8))
        on_time = max(on_time, opens[d.code] + timedelta(hours=urng.randint(8, 16)))  # not before the period ends
        received = deadline[d.code] + timedelta(days=urng.randint(1, 4)) if u.code in late else on_time
        kind = problems.get(u.code, "ok")
        as_csv = d.code.startswith("XA_") and urng.random() < 0.2 and kind == "ok"
        name = template_name(u.code, per.code, d.code)
        if kind == "text_value":
            values = dict(values, POP_INSURED="khoảng 9 nghìn")
            plan.bad[u.code] = "V01"
        elif kind == "rule":
            values = dict(values, EPI_FULL=values["EPI_ELIGIBLE"] + 25)
            plan.bad[u.code] = "R01"
        elif kind == "outlier":
            values = dict(values, DOCTORS=values["DOCTORS"] * 9)
        stated_unit = {"unknown_unit": "LD.99999", "other_unit": communes[12]}.get(kind, u.code)
        if kind in ("unknown_unit", "other_unit"):
            plan.bad[u.code] = "S04" if kind == "unknown_unit" else "S03"
        if as_csv:
            path = folder / name.replace(".xlsx", ".csv")
            variant = urng.random()
            write_csv(path, u.code, per.code, d.code, values, tasks, texts, vn_numbers=True, nfd=variant < 0.3,
                      encoding="cp1258" if 0.3 <= variant < 0.45 else "utf-8",
                      delimiter=";" if variant > 0.8 else ",")
        else:
            wb = build_template(u.code, per.code, d.code, cat=cat, values=values, tasks=tasks, texts=texts)
            if stated_unit != u.code:
                wb[form.SHEET_META]["B4"] = stated_unit
            path = folder / name
            wb.save(path)
        if kind == "corrupt":
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 3])
            plan.bad[u.code] = "P02"
        if kind == "resubmit":
            # first version rejected (text in a cell), then corrected two days later
            bad = build_template(u.code, per.code, d.code, cat=cat, values=dict(values, BEDS="chưa có"), tasks=tasks, texts=texts)
            first = folder / ("lan1_" + name)
            bad.save(first)
            t1 = received - timedelta(days=2)
            arrive(inbox, u.code, first, t1, cat)
            plan.files.append({"unit": u.code, "dataset": d.code, "path": str(first), "kind": "resubmit_first",
                               "received_at": t1})
        arrive(inbox, u.code, path, received, cat)
        plan.files.append({"unit": u.code, "dataset": d.code, "path": str(path), "kind": kind, "received_at": received})
        if u.code in late:
            plan.late.append(u.code)
        if kind in ("ok", "outlier", "resubmit"):
            plan.values[u.code] = {k: float(v) for k, v in values.items() if isinstance(v, (int, float))}
    return plan


def arrive(inbox: Path, unit: str, path: Path, at: datetime, cat=None) -> None:
    """The simulated arrival of `path` at `at`: the server receives it then (into the store beside
    the inbox, `intake.store.receive`), as it would have on that day. The copy left in the inbox is
    what a late re-upload of the same bytes looks like: collecting it stores nothing new."""
    from intake import store as store_mod

    os.utime(path, (at.timestamp(), at.timestamp()))
    store_mod.receive(Path(inbox).parent / "store", unit, path, os.fsencode(path.name), source="demo",
                      received_at=at, cat=cat)


HISTORY = ("2024", "2025H2")  # the year before the merger (pre-merger communes), then the previous half


def now_after_close(period: str, cat=None) -> datetime:
    cat = cat or catalog_mod.load()
    per = calendar.parse_period(period)
    return max(calendar.close_at(per, calendar.DeadlineRule.from_dict(d.deadline))
               for d in cat.datasets.values() if d.frequency == per.kind) + timedelta(hours=1)
