"""Generate org_units.csv and recipients.csv for the sample province (synthetic, deterministic).

The sample province is modelled on Lâm Đồng after the 1 July 2025 reform (merged with Đắk Nông
and Bình Thuận; about 124 communes, wards and special zones; no districts). Real unit codes and the
full list of new names were not at hand, so names and codes here are SYNTHETIC (marked so in the
`synthetic` column): names are built from place names of the three former provinces.

Units before the reform are kept with their validity dates (valid_to 2025-06-30): the former
provinces Đắk Nông and Bình Thuận, their districts, and about 290 pre-merger communes, with a
crosswalk (crosswalk.csv) from each old commune to the new one(s) that replaced it — a weight below
1 where an old commune was divided between two new ones — so that reports from before July 2025
are re-aggregated onto today's units. Also synthetic.

Run `python -m catalog.build_org_units` to rewrite the CSVs; the files are reviewed data and a test
checks they match this generator.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).parent
PROVINCE = "LD"
REFORM_DATE = "2025-07-01"
LAST_DAY_BEFORE_REFORM = "2025-06-30"
OLD_FROM = "2019-01-01"
FORMER_PROVINCES = {"Lâm Đồng": "LD", "Đắk Nông": "DNO", "Bình Thuận": "BTH"}

# (former province, place names) — real place names, synthetic units.
PLACES = [
    ("Lâm Đồng", ["Đà Lạt", "Bảo Lộc", "Di Linh", "Đức Trọng", "Lâm Hà", "Đơn Dương",
                  "Lạc Dương", "Đạ Huoai", "Đạ Tẻh", "Cát Tiên", "Bảo Lâm", "Đam Rông"]),
    ("Đắk Nông", ["Gia Nghĩa", "Đắk Mil", "Đắk Song", "Krông Nô", "Cư Jút", "Tuy Đức",
                  "Đắk R'lấp", "Đắk Glong"]),
    ("Bình Thuận", ["Phan Thiết", "La Gi", "Tuy Phong", "Bắc Bình", "Hàm Thuận Bắc",
                    "Hàm Thuận Nam", "Hàm Tân", "Đức Linh", "Tánh Linh", "Phú Quý"]),
]
N_COMMUNES = 124

DEPARTMENTS = [
    ("SYT", "Sở Y tế", "Department of Health"),
    ("SNV", "Sở Nội vụ", "Department of Home Affairs"),
    ("SCT", "Sở Công Thương", "Department of Industry and Trade"),
    ("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "Department of Culture, Sports and Tourism"),
    ("SGDDT", "Sở Giáo dục và Đào tạo", "Department of Education and Training"),
    ("SLDTBXH", "Sở Lao động - Thương binh và Xã hội", "Department of Labour, Invalids and Social Affairs"),
    ("SNNPTNT", "Sở Nông nghiệp và Phát triển nông thôn", "Department of Agriculture and Rural Development"),
    ("SXD", "Sở Xây dựng", "Department of Construction"),
    ("STC", "Sở Tài chính", "Department of Finance"),
    ("SKHDT", "Sở Kế hoạch và Đầu tư", "Department of Planning and Investment"),
    ("STTTT", "Sở Thông tin và Truyền thông", "Department of Information and Communications"),
    ("BHXH", "Bảo hiểm xã hội tỉnh", "Provincial Social Security"),
    ("BTG", "Ban Tuyên giáo Tỉnh ủy", "Provincial Party Propaganda Commission"),
    ("BTC", "Ban Tổ chức Tỉnh ủy", "Provincial Party Organisation Commission"),
    ("UBND", "Ủy ban nhân dân tỉnh", "Provincial People's Committee"),
    ("MTTQ", "Ủy ban Mặt trận Tổ quốc tỉnh", "Provincial Fatherland Front"),
]


def communes() -> list[dict]:
    rows: list[dict] = []
    names = [(prov, place) for prov, places in PLACES for place in places]
    i = 0
    suffix = 1
    while len(rows) < N_COMMUNES:
        prov, place = names[i % len(names)]
        n = len(rows) + 1
        if place == "Phú Quý":
            kind, prefix = "special_zone", "Đặc khu"
        elif place in ("Đà Lạt", "Bảo Lộc", "Gia Nghĩa", "Phan Thiết", "La Gi"):
            kind, prefix = "ward", "Phường"
        else:
            kind, prefix = "commune", "Xã"
        label = place if suffix == 1 else f"{place} {suffix}"
        if kind == "special_zone" and suffix > 1:
            kind, prefix, label = "commune", "Xã", f"Phú Quý {suffix}"
        rows.append({
            "code": f"{PROVINCE}.X{n:03d}", "name": f"{prefix} {label}", "type": kind,
            "parent_code": PROVINCE, "former_province": prov,
        })
        i += 1
        if i % len(names) == 0:
            suffix += 1
    return rows


def old_units() -> tuple[list[dict], list[dict]]:
    """Pre-merger districts and communes (valid until 30 June 2025) and the crosswalk."""
    base = {"valid_from": OLD_FROM, "valid_to": LAST_DAY_BEFORE_REFORM, "synthetic": "true"}
    units: list[dict] = []
    for prov, code in FORMER_PROVINCES.items():
        if code != PROVINCE:
            units.append({"code": code, "name": f"Tỉnh {prov} (trước 01/7/2025)", "type": "former_province",
                          "parent_code": "", "former_province": prov, **base})
    districts: dict[str, str] = {}
    crosswalk: list[dict] = []
    n_old = 0
    news = communes()
    for i, c in enumerate(news):
        place = c["name"].split(" ", 1)[1].rsplit(" ", 1)[0] if c["name"][-1].isdigit() else c["name"].split(" ", 1)[1]
        prov = c["former_province"]
        if place not in districts:
            dcode = f"{PROVINCE}.H{len(districts) + 1:02d}"
            districts[place] = dcode
            units.append({"code": dcode, "name": f"Huyện {place} (trước 01/7/2025)", "type": "district",
                          "parent_code": FORMER_PROVINCES[prov], "former_province": prov, **base})
        for k in range(3 if i % 3 == 0 else 2):
            n_old += 1
            ocode = f"{PROVINCE}.C{n_old:04d}"
            units.append({"code": ocode, "name": f"Xã {place} {i + 1}{chr(65 + k)} (cũ)", "type": "commune",
                          "parent_code": districts[place], "former_province": prov, **base})
            if i % 10 == 9 and k == 1 and i + 1 < len(news):
                # divided: 60% of its people went to this commune, 40% to the next one
                crosswalk.append({"old_code": ocode, "new_code": c["code"], "weight": "0.6"})
                crosswalk.append({"old_code": ocode, "new_code": news[i + 1]["code"], "weight": "0.4"})
            else:
                crosswalk.append({"old_code": ocode, "new_code": c["code"], "weight": "1"})
    for code in FORMER_PROVINCES.values():
        if code != PROVINCE:
            crosswalk.append({"old_code": code, "new_code": PROVINCE, "weight": "1"})
    for row in crosswalk:
        row["effective_from"] = REFORM_DATE
        row["basis"] = "Sắp xếp đơn vị hành chính 2025 (dữ liệu mẫu / synthetic)"
    return units, crosswalk


def org_units() -> list[dict]:
    base = {"valid_from": REFORM_DATE, "valid_to": "", "synthetic": "true"}
    out = [{"code": PROVINCE, "name": "Tỉnh Lâm Đồng", "type": "province", "parent_code": "",
            "former_province": "", **base, "valid_from": "", "synthetic": "false"}]
    for code, name, _en in DEPARTMENTS:
        out.append({"code": f"{PROVINCE}.{code}", "name": name, "type": "department",
                    "parent_code": PROVINCE, "former_province": "", **base, "valid_from": "", "synthetic": "false"})
    out.append({"code": f"{PROVINCE}.CTK", "name": "Thống kê tỉnh Lâm Đồng", "type": "statistics_office",
                "parent_code": PROVINCE, "former_province": "", **base, "valid_from": "", "synthetic": "false"})
    for c in communes():
        out.append({**c, **base})
        out.append({"code": c["code"].replace(".X", ".T"), "name": f"Trạm Y tế {c['name']}",
                    "type": "station", "parent_code": c["code"],
                    "former_province": c["former_province"], **base})
    out += old_units()[0]
    return out


def recipients(units: list[dict]) -> list[dict]:
    """Slack channel and contacts per reporting unit; supervisor for escalation."""
    out = []
    for u in units:
        if u["type"] in ("province", "station") or u["valid_to"]:
            continue
        slug = u["code"].lower().replace(".", "-")
        supervisor = "LD.SYT" if u["type"] in ("commune", "ward", "special_zone") else "LD.UBND"
        out.append({
            "unit_code": u["code"], "slack_channel": f"bc-{slug}",
            "emails": f"baocao.{slug}@example.vn", "lang": "vi",
            "supervisor_code": "" if u["code"] == supervisor else supervisor,
        })
    out.append({"unit_code": "OPERATOR", "slack_channel": "bc-operator", "emails": "",
                "lang": "vi", "supervisor_code": ""})
    return out


def write(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main() -> None:
    units = org_units()
    write(HERE / "org_units.csv", units)
    write(HERE / "recipients.csv", recipients(units))
    write(HERE / "crosswalk.csv", old_units()[1])


if __name__ == "__main__":
    main()
