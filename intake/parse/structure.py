"""Structural oddities of a workbook, each a located finding with its fix.

* S13 (error): two sheets whose names are the same once normalised (NFC/NFD, case, tone marks):
  which one holds the figures is ambiguous, so neither is read.
* S14 (error): the sheet baocao reads is hidden (or "very hidden"), perhaps behind a visible decoy:
  what the officer sees is not what would be recorded.
* S15 (warning): macros (an .xlsm, a vbaProject part): baocao never runs them; the values are read.
* S16 (warning): links to other workbooks: the cached values may be stale.
* P03 (error): more merged ranges than a form could have (a built file).
"""

from __future__ import annotations

import zipfile

from baocao.findings import error, warning
from intake import form
from intake.numbers import fold, nfc
from intake.parse import xmlscan
from intake.parse.common import MAX_UNZIPPED_BYTES, ParsedSubmission

_FORM_KEYS = {fold(s): s for s in (form.SHEET_META, form.SHEET_DATA, form.SHEET_TASKS, form.SHEET_TEXT)}


def sheet_map(p: ParsedSubmission, sheet_names: list[str]) -> dict[str, str]:
    """Folded name → the sheet's real name; S13 for two sheets of the form folding to one name."""
    out: dict[str, str] = {}
    for name in sheet_names:
        key = fold(nfc(name))
        if key in out and key in _FORM_KEYS:
            first = out[key]
            same = nfc(first) == nfc(name)
            why_vi = "chỉ khác nhau ở cách mã hóa Unicode (NFC/NFD)" if same else "chỉ khác nhau ở chữ hoa/thường hoặc dấu"
            why_en = "differ only in their Unicode normalisation (NFC/NFD)" if same else "differ only in case or tone marks"
            p.findings.append(error(
                "S13", f"Có hai trang tính «{first}» và «{name}» {why_vi}: không biết trang nào chứa số liệu",
                f"Two sheets «{first}» and «{name}» {why_en}: which one holds the figures is ambiguous",
                sheet=name, value_raw=f"{first} | {name}",
                expected_vi=f"giữ một trang «{_FORM_KEYS[key]}» duy nhất: xóa hoặc đổi tên trang kia rồi gửi lại",
                expected_en=f"keep a single «{_FORM_KEYS[key]}» sheet: delete or rename the other and send it again"))
            continue
        out.setdefault(key, name)
    return out


def hidden_sheet(p: ParsedSubmission, label: str, real: str, state: str, sheet_names: list[str],
                 hidden: dict[str, str]) -> None:
    decoys = [s for s in sheet_names if nfc(s) not in hidden and fold(nfc(s)) != fold(label)
              and fold(label) in fold(nfc(s))]
    very = state == "veryHidden"
    vi = f"Trang tính «{real}» mà baocao đọc số liệu đang bị ẩn{' sâu (chỉ bỏ ẩn được bằng VBA)' if very else ''}"
    en = f"The sheet «{real}» baocao reads is hidden{' (very hidden: only VBA can unhide it)' if very else ''}"
    if decoys:
        vi += f"; trang hiện ra «{decoys[0]}» không phải trang được đọc"
        en += f"; the visible sheet «{decoys[0]}» is not the one read"
    p.findings.append(error(
        "S14", vi, en, sheet=real, value_raw=", ".join(sheet_names),
        expected_vi="bỏ ẩn trang (chuột phải vào tên trang > Bỏ ẩn), kiểm tra số liệu, xóa trang thừa rồi gửi lại; "
                    "hoặc điền lại vào mẫu biểu gốc",
        expected_en="unhide the sheet (right-click a sheet tab > Unhide), check its figures, delete the extra sheet "
                    "and send it again; or fill in the original form"))


def macros_and_links(p: ParsedSubmission, zf: zipfile.ZipFile, names: set[str], ext: str) -> None:
    vba = sorted(n for n in names if n.lower().endswith("vbaproject.bin"))
    if vba or ext == ".xlsm":
        p.findings.append(warning(
            "S15", "Tệp có macro (VBA); baocao không chạy macro, chỉ đọc giá trị đã lưu",
            "The workbook contains macros (VBA); baocao never runs them and reads only the saved values",
            value_raw=vba[0] if vba else ext,
            expected_vi="lưu thành Excel Workbook (.xlsx, không macro) rồi gửi lại",
            expected_en="save it as an Excel Workbook (.xlsx, no macros) and send that"))
    try:
        links = xmlscan.external_links(zf, MAX_UNZIPPED_BYTES)
    except Exception:
        links = []
    if links:
        p.findings.append(warning(
            "S16", f"Tệp liên kết tới {len(links)} tệp khác («{links[0]}»): giá trị có thể chưa cập nhật",
            f"The workbook links to {len(links)} other file(s) («{links[0]}»): values may be stale",
            value_raw=" | ".join(links)[:500],
            expected_vi="Dữ liệu > Sửa liên kết > Ngắt liên kết, kiểm tra số liệu rồi lưu và gửi lại",
            expected_en="Data > Edit Links > Break Link, check the figures, then save and send it again"))


def too_many_merges(p: ParsedSubmission, label: str, scan: xmlscan.SheetScan) -> None:
    n = xmlscan.MAX_MERGES + scan.too_many_merges
    p.findings.append(error(
        "P03", f"Trang tính có quá nhiều vùng gộp ô (hơn {xmlscan.MAX_MERGES}: {n})",
        f"The sheet has too many merged ranges (more than {xmlscan.MAX_MERGES}: {n})",
        sheet=label, value_raw=str(n),
        expected_vi="bỏ gộp ô (chọn cả trang > Bỏ gộp ô) hoặc dùng lại mẫu biểu gốc",
        expected_en="unmerge the cells (select the sheet > Unmerge Cells) or reuse the original form"))
