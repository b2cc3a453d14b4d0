"""Generate the org units of the catalog from the official list (`vietnam-provinces`, pinned).

Writes, deterministically:
- `provinces.csv`: the 34 provinces and centrally-run cities since 1 July 2025 — official code,
  the abbreviation baocao uses in unit codes, name and division type;
- `org_units.csv`: for every province its code (`LD`), its Sở Y tế (`LD.SYT`) and statistics
  office (`LD.CTK`); every commune, ward and special zone with its official code and name
  (`LD.24781`, "Phường Xuân Hương - Đà Lạt"), each with its health station (`LD.T24781`,
  "Trạm Y tế Phường Xuân Hương - Đà Lạt"); Lâm Đồng's other departments as they are since the
  2025 restructuring, the departments merged away kept as dated units with their successor
  (`successor_code`); and Lâm Đồng's former units (before 1 July 2025);
- `recipients.csv`: a Slack channel (`bc-ld-24781`) and contacts per reporting unit;
- `crosswalk.csv`: former units onto today's ones.

What comes from where (`source` column; `synthetic` = true where the data is made up):
- provinces, communes, wards, special zones: vietnam-provinces (GSO codes), not synthetic;
- health stations: one per commune named after it (the 2025 model: one station per commune);
  the code scheme is baocao's, not synthetic;
- departments: the 2025 restructuring as widely reported (DOMAIN.md: KH&ĐT into Tài chính,
  GTVT into Xây dựng, TN&MT with NN&PTNT into Nông nghiệp và Môi trường, TT&TT into Khoa học và
  Công nghệ, LĐ-TB&XH into Nội vụ; effective 1 March 2025 in most provinces); not synthetic, but
  check the province's own decision before relying on the dates;
- the former provinces Đắk Nông and Bình Thuận and their merger into Lâm Đồng: real;
  the former districts and pre-2025 communes, and the old-to-new commune mapping: SYNTHETIC —
  the package lists only today's units, and no official old-to-new table was at hand. The former
  province of each new commune is derived from its official code (a new unit keeps the code of
  one of the communes it was formed from, and the three former provinces had disjoint code
  ranges).

Run `python -m catalog.build_org_units` to rewrite the CSVs; a test re-runs it and compares.
"""

from __future__ import annotations

import csv
from pathlib import Path

from vietnam_provinces import Province, VietNamDivisionType, Ward

HERE = Path(__file__).parent
SOURCE = "vietnam-provinces 2025.10.1"
HOME = "LD"  # the sample province: full departments, former units and crosswalk
REFORM_DATE = "2025-07-01"
LAST_DAY_BEFORE_REFORM = "2025-06-30"
DEPARTMENTS_MERGED_ON = "2025-03-01"
LAST_DAY_BEFORE_DEPARTMENTS_MERGED = "2025-02-28"
OLD_FROM = "2019-01-01"

# official province code -> abbreviation used in unit codes (COMMON.md)
ABBR = {1: "HN", 4: "CB", 8: "TQ", 11: "DB", 12: "LC", 14: "SL", 15: "LCA", 19: "TN", 20: "LS", 22: "QNI",
        24: "BN", 25: "PT", 31: "HP", 33: "HY", 37: "NB", 38: "TH", 40: "NA", 42: "HT", 44: "QT", 46: "HUE",
        48: "DNG", 51: "QNG", 52: "GL", 56: "KH", 66: "DLK", 68: "LD", 75: "DNA", 79: "HCM", 80: "TNI",
        82: "DT", 86: "VL", 91: "AG", 92: "CT", 96: "CM"}

WARD_TYPE = {VietNamDivisionType.XA: "commune", VietNamDivisionType.PHUONG: "ward",
             VietNamDivisionType.DAC_KHU: "special_zone"}

# Lâm Đồng's departments and party/mass bodies since the 2025 restructuring (code, name).
DEPARTMENTS = [
    ("SYT", "Sở Y tế", "Department of Health"),
    ("SNV", "Sở Nội vụ", "Department of Home Affairs"),
    ("STC", "Sở Tài chính", "Department of Finance"),
    ("SXD", "Sở Xây dựng", "Department of Construction"),
    ("SCT", "Sở Công Thương", "Department of Industry and Trade"),
    ("SNNMT", "Sở Nông nghiệp và Môi trường", "Department of Agriculture and Environment"),
    ("SKHCN", "Sở Khoa học và Công nghệ", "Department of Science and Technology"),
    ("SGDDT", "Sở Giáo dục và Đào tạo", "Department of Education and Training"),
    ("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "Department of Culture, Sports and Tourism"),
    ("BHXH", "Bảo hiểm xã hội tỉnh", "Provincial Social Security"),
    ("BTG", "Ban Tuyên giáo và Dân vận Tỉnh ủy", "Provincial Party Commission for Propaganda and Mass Mobilisation"),
    ("BTC", "Ban Tổ chức Tỉnh ủy", "Provincial Party Organisation Commission"),
    ("UBND", "Ủy ban nhân dân tỉnh", "Provincial People's Committee"),
    ("MTTQ", "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "Provincial Fatherland Front"),
]
NEW_DEPARTMENTS = {"SNNMT", "SKHCN"}  # formed on 1 March 2025 (Khoa học và Công nghệ took over TT&TT)
# merged away in 2025: (code, name, successor code)
FORMER_DEPARTMENTS = [
    ("SLDTBXH", "Sở Lao động - Thương binh và Xã hội", "SNV"),
    ("SNNPTNT", "Sở Nông nghiệp và Phát triển nông thôn", "SNNMT"),
    ("STNMT", "Sở Tài nguyên và Môi trường", "SNNMT"),
    ("SKHDT", "Sở Kế hoạch và Đầu tư", "STC"),
    ("SGTVT", "Sở Giao thông vận tải", "SXD"),
    ("STTTT", "Sở Thông tin và Truyền thông", "SKHCN"),
]

# Lâm Đồng after 1 July 2025 = former Lâm Đồng + Đắk Nông + Bình Thuận. Official ward code ranges
# of the three (GSO): Bình Thuận 22915–23275, Đắk Nông 24610–24777, Lâm Đồng 24778–25200.
FORMER_PROVINCES = [("Bình Thuận", "BTH", 22915, 23275), ("Đắk Nông", "DNO", 24610, 24777),
                    ("Lâm Đồng", "LD", 24778, 25200)]
# former districts (real names), by former province; the communes' attribution to them is synthetic
FORMER_DISTRICTS = {
    "Lâm Đồng": ["Đà Lạt", "Bảo Lộc", "Di Linh", "Đức Trọng", "Lâm Hà", "Đơn Dương",
                 "Lạc Dương", "Đạ Huoai", "Đạ Tẻh", "Cát Tiên", "Bảo Lâm", "Đam Rông"],
    "Đắk Nông": ["Gia Nghĩa", "Đắk Mil", "Đắk Song", "Krông Nô", "Cư Jút", "Tuy Đức",
                 "Đắk R'lấp", "Đắk Glong"],
    "Bình Thuận": ["Phan Thiết", "La Gi", "Tuy Phong", "Bắc Bình", "Hàm Thuận Bắc",
                   "Hàm Thuận Nam", "Hàm Tân", "Đức Linh", "Tánh Linh", "Phú Quý"],
}
TOWNS = {"Đà Lạt", "Bảo Lộc", "Gia Nghĩa", "Phan Thiết", "La Gi"}  # "Thành phố"/"Thị xã", not "Huyện"

COLUMNS = ["code", "name", "type", "parent_code", "province", "former_province", "valid_from", "valid_to",
           "successor_code", "synthetic", "source"]


def provinces() -> list[dict]:
    out = []
    for p in Province.iter_all():
        code = int(p.code)
        out.append({"official_code": f"{code:02d}", "abbr": ABBR[code], "name": p.name,
                    "division_type": p.division_type.value, "codename": p.codename})
    return out


def full_name(p: dict) -> str:
    """'Tỉnh Lâm Đồng', 'Thành phố Hà Nội' (the package writes cities in full, provinces bare)."""
    return p["name"] if p["name"].startswith("Thành phố") else f"Tỉnh {p['name']}"


def wards(official_code: int) -> list:
    return [w for w in Ward.iter_all() if int(w.province_code) == official_code]


def former_province(ward_code: int) -> str:
    for name, _abbr, lo, hi in FORMER_PROVINCES:
        if lo <= ward_code <= hi:
            return name
    raise ValueError(f"ward {ward_code} is in no former province's code range")


def _unit(code, name, kind, parent, province, *, former="", valid_from="", valid_to="", successor="",
          synthetic=False, source=SOURCE) -> dict:
    return {"code": code, "name": name, "type": kind, "parent_code": parent, "province": province,
            "former_province": former, "valid_from": valid_from, "valid_to": valid_to,
            "successor_code": successor, "synthetic": "true" if synthetic else "false", "source": source}


def communes(p: dict) -> list[dict]:
    """Today's communes, wards and special zones of a province, in the package's order."""
    abbr = p["abbr"]
    out = []
    for w in wards(int(p["official_code"])):
        code = int(w.code)
        out.append(_unit(f"{abbr}.{code:05d}", w.name, WARD_TYPE[w.division_type], abbr, abbr,
                         former=former_province(code) if abbr == HOME else "", valid_from=REFORM_DATE))
    return out


def departments(p: dict) -> list[dict]:
    abbr = p["abbr"]
    reform = "Cơ cấu sở, ngành sau sắp xếp 2025 (theo DOMAIN.md)"
    if abbr != HOME:
        return [_unit(f"{abbr}.SYT", "Sở Y tế", "department", abbr, abbr, source=reform)]
    out = [_unit(f"{abbr}.{c}", n, "department", abbr, abbr, source=reform,
                 valid_from=DEPARTMENTS_MERGED_ON if c in NEW_DEPARTMENTS else "") for c, n, _en in DEPARTMENTS]
    out += [_unit(f"{abbr}.{c}", n, "department", abbr, abbr, valid_to=LAST_DAY_BEFORE_DEPARTMENTS_MERGED,
                  successor=f"{abbr}.{s}", source=reform)
            for c, n, s in FORMER_DEPARTMENTS]
    return out


def statistics_office(p: dict) -> dict:
    place = p["name"] if p["name"].startswith("Thành phố") else f"tỉnh {p['name']}"
    place = place.replace("Thành phố", "thành phố", 1)
    return _unit(f"{p['abbr']}.CTK", f"Thống kê {place}", "statistics_office", p["abbr"], p["abbr"],
                 source="Thống kê tỉnh/thành phố (Cục Thống kê, từ 03/2025)")


def old_units(news: list[dict]) -> tuple[list[dict], list[dict]]:
    """Lâm Đồng's former units (valid until 30 June 2025) and the crosswalk onto today's units.
    The former provinces and their merger are real; districts' membership, the pre-2025 communes
    and the commune mapping are synthetic."""
    base = {"valid_from": OLD_FROM, "valid_to": LAST_DAY_BEFORE_REFORM}
    units: list[dict] = []
    crosswalk: list[dict] = []
    for name, abbr, _lo, _hi in FORMER_PROVINCES:
        if abbr != HOME:
            units.append(_unit(abbr, f"Tỉnh {name} (trước 01/7/2025)", "former_province", "", HOME,
                               former=name, **base, source="Nghị quyết 202/2025/QH15 (hợp nhất tỉnh)"))
            crosswalk.append({"old_code": abbr, "new_code": HOME, "weight": "1", "effective_from": REFORM_DATE,
                              "basis": "Nghị quyết 202/2025/QH15: sắp xếp đơn vị hành chính cấp tỉnh",
                              "synthetic": "false"})
    districts: dict[str, str] = {}
    for prov, places in FORMER_DISTRICTS.items():
        parent = dict((n, a) for n, a, _l, _h in FORMER_PROVINCES)[prov]
        for place in places:
            code = f"{HOME}.H{len(districts) + 1:02d}"
            districts[place] = code
            kind = "Thành phố" if place in TOWNS else "Huyện"
            units.append(_unit(code, f"{kind} {place} (trước 01/7/2025)", "district", parent, HOME, former=prov,
                               **base, synthetic=True, source="synthetic (tên thật, phạm vi mẫu)"))

    def district_of(c: dict) -> str:
        for place in sorted(FORMER_DISTRICTS[c["former_province"]], key=len, reverse=True):
            if place in c["name"]:
                return districts[place]
        places = FORMER_DISTRICTS[c["former_province"]]
        return districts[places[int(c["code"].split(".")[1]) % len(places)]]

    n_old = 0
    for i, c in enumerate(news):
        for k in range(3 if i % 3 == 0 else 2):
            n_old += 1
            ocode = f"{HOME}.C{n_old:04d}"
            units.append(_unit(ocode, f"Xã cũ {n_old:03d} (mẫu, nay thuộc {c['name']})", "commune", district_of(c),
                               HOME, former=c["former_province"], **base, synthetic=True, source="synthetic"))
            row = {"effective_from": REFORM_DATE, "basis": "Sắp xếp đơn vị hành chính 2025 (dữ liệu mẫu / synthetic)",
                   "synthetic": "true"}
            if i % 10 == 9 and k == 1 and i + 1 < len(news):
                # divided: 60% of its people went to this commune, 40% to the next one
                crosswalk.append({"old_code": ocode, "new_code": c["code"], "weight": "0.6", **row})
                crosswalk.append({"old_code": ocode, "new_code": news[i + 1]["code"], "weight": "0.4", **row})
            else:
                crosswalk.append({"old_code": ocode, "new_code": c["code"], "weight": "1", **row})
    crosswalk = [{k: r[k] for k in ("old_code", "new_code", "weight", "effective_from", "basis", "synthetic")}
                 for r in crosswalk]
    return units, crosswalk


def build() -> dict[str, list[dict]]:
    provs = provinces()
    units: list[dict] = []
    home_communes: list[dict] = []
    for p in provs:
        units.append(_unit(p["abbr"], full_name(p), "province", "", p["abbr"]))
        units += departments(p)
        units.append(statistics_office(p))
        cs = communes(p)
        for c in cs:
            units.append(c)
            units.append({**c, "code": c["code"].replace(".", ".T", 1), "name": f"Trạm Y tế {c['name']}",
                          "type": "station", "parent_code": c["code"],
                          "source": "một trạm y tế mỗi xã, phường, đặc khu (tên theo đơn vị hành chính)"})
        if p["abbr"] == HOME:
            home_communes = cs
    old, crosswalk = old_units(home_communes)
    units += old
    return {"provinces.csv": provs, "org_units.csv": units, "recipients.csv": recipients(units),
            "crosswalk.csv": crosswalk}


def recipients(units: list[dict]) -> list[dict]:
    """Slack channel and contacts per reporting unit; supervisor for escalation."""
    codes = {u["code"] for u in units}
    out = []
    for u in units:
        if u["type"] in ("province", "station") or u["valid_to"]:
            continue
        slug = u["code"].lower().replace(".", "-")
        prov = u["province"]
        supervisor = f"{prov}.SYT" if u["type"] in ("commune", "ward", "special_zone") else f"{prov}.UBND"
        if supervisor == u["code"] or supervisor not in codes:
            supervisor = ""
        out.append({"unit_code": u["code"], "slack_channel": f"bc-{slug}", "emails": f"baocao.{slug}@example.vn",
                    "lang": "vi", "supervisor_code": supervisor})
    out.append({"unit_code": "OPERATOR", "slack_channel": "bc-operator", "emails": "",
                "lang": "vi", "supervisor_code": ""})
    return out


def render(rows: list[dict]) -> str:
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def write(path: Path, rows: list[dict]) -> None:
    Path(path).write_text(render(rows), encoding="utf-8", newline="")


def main(folder: Path = HERE) -> None:
    for name, rows in build().items():
        write(folder / name, rows)


if __name__ == "__main__":
    main()
