"""Reading a workbook: zip checks, a strict streaming pre-scan of each sheet's XML (intake.parse.
xmlscan), then calamine for the values."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import python_calamine as pc

from baocao.findings import error
from intake import form
from intake.numbers import fold, nfc
from intake.parse import structure, xmlscan
from intake.parse.common import (
    _CODE_LIKE,
    _REDO_EN,
    _REDO_VI,
    _ZIP_ERRORS,
    MAX_SHEET_CELLS,
    MAX_UNZIPPED_BYTES,
    MAX_ZIP_MEMBERS,
    ParsedSubmission,
    _code,
    _fail,
    _s,
    _text,
)
from intake.parse.rules import _add_task, _add_value, _check_header, _check_meta, _element
from intake.parse.sniff import _not_a_workbook

# ---------------------------------------------------------------------------------------- xlsx

def _parse_xlsx(path: Path, data: bytes, inbox_unit, cat, ext: str) -> ParsedSubmission:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (*_ZIP_ERRORS, zipfile.LargeZipFile):
        if b"PK\x05\x06" not in data[-66000:]:
            return _fail(path, "xlsx", "P02", "Tệp Excel bị cắt cụt (thiếu phần cuối của tệp), không mở được",
                         "The Excel file is truncated (its end is missing) and cannot be opened",
                         "gửi lại tệp gốc; nếu tệp tải về hoặc chép bị dừng giữa chừng, tải hoặc đính kèm lại",
                         "send the original again; if a download or copy stopped halfway, attach it again")
        return _fail(path, "xlsx", "P02", "Tệp Excel bị hỏng (mục lục của tệp nén không đọc được)",
                     "The Excel file is damaged (its zip directory cannot be read)", _REDO_VI, _REDO_EN)
    unzipped = sum(i.file_size for i in infos)
    if len(infos) > MAX_ZIP_MEMBERS or unzipped > MAX_UNZIPPED_BYTES:
        big = max(infos, key=lambda i: i.file_size)
        mb, lim = unzipped / 1048576, MAX_UNZIPPED_BYTES // 1048576
        return _fail(path, "xlsx", "P03",
                     f"Tệp Excel giải nén ra lớn bất thường ({mb:.0f} MB > {lim} MB, {len(infos)} phần): "
                     "có thể là «bom nén» hoặc chứa dữ liệu thừa",
                     f"The workbook decompresses to an abnormal size ({mb:.0f} MB > {lim} MB, {len(infos)} parts): "
                     "a zip bomb or extra content",
                     "dùng mẫu biểu gốc của baocao, không chèn ảnh hay dữ liệu thừa",
                     "use baocao's template without images or extra content",
                     value_raw=f"{big.filename} ({big.file_size / 1048576:.0f} MB)")
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        kind = _zip_kind(zf, names)
        if kind.startswith("zip:"):
            inner = kind[4:]
            return _fail(path, "unknown", "P02", f"Tệp là tệp nén ZIP chứa «{inner}», không phải bảng tính",
                         f"The file is a zip archive holding «{inner}», not a workbook",
                         f"giải nén rồi gửi riêng tệp «{inner}»", f"extract it and send «{inner}» itself", value_raw=inner)
        return _not_a_workbook(path, kind, ext)
    try:
        book = xmlscan.workbook_sheets(zf, MAX_UNZIPPED_BYTES)
    except (xmlscan.XmlRefused, *_ZIP_ERRORS) as exc:
        return _refused_xml(path, exc)
    parts = {nfc(b.name): b.part for b in book}
    hidden = {nfc(b.name): b.state for b in book if b.state != "visible"}
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet_names = list(wb.sheet_names)
    except pc.PasswordError:
        return _fail(path, "xlsx", "P05", "Tệp Excel có mật khẩu", "The workbook is password-protected",
                     "bỏ mật khẩu rồi gửi lại", "remove the password and send it again")
    except BaseException as exc:
        return _damaged(path, exc)
    p = ParsedSubmission(path=path, file_format="xlsx")
    sheets = structure.sheet_map(p, sheet_names)
    structure.macros_and_links(p, zf, names, ext)
    if p.has_errors:
        return p
    missing = [s for s in form.REQUIRED_SHEETS if fold(s) not in sheets]
    if missing:
        p.findings.append(error(
            "S01", f"Thiếu trang tính «{', '.join(missing)}»: tệp không phải mẫu biểu baocao",
            f"Missing sheet(s) «{', '.join(missing)}»: this is not a baocao form",
            value_raw=", ".join(sheet_names),
            expected_vi="tải mẫu biểu bằng lệnh `baocao template` và điền vào đó (các trang: "
                        + ", ".join(form.REQUIRED_SHEETS) + ")",
            expected_en="download the form with `baocao template` and fill it in (sheets: "
                        + ", ".join(form.REQUIRED_SHEETS) + ")"))
        return p

    grids: dict[str, list[list]] = {}
    scans: dict[str, xmlscan.SheetScan] = {}
    for label in (form.SHEET_META, form.SHEET_DATA, form.SHEET_TASKS, form.SHEET_TEXT):
        real = sheets.get(fold(label))
        if real is None:
            continue
        if nfc(real) in hidden:
            structure.hidden_sheet(p, label, real, hidden[nfc(real)], sheet_names, hidden)
            return p
        try:
            scan = xmlscan.scan_sheet(zf, parts.get(nfc(real)), MAX_UNZIPPED_BYTES)
        except (xmlscan.XmlRefused, *_ZIP_ERRORS) as exc:
            return _refused_xml(path, exc, sheet=label)
        if scan.too_many_merges:
            structure.too_many_merges(p, label, scan)
            return p
        if scan.rows * scan.cols > MAX_SHEET_CELLS:
            p.findings.append(error(
                "P03", f"Trang tính có vùng dữ liệu khổng lồ (đến ô {scan.far_cell}, {scan.rows} dòng × {scan.cols} cột)",
                f"The sheet's used area is enormous (up to cell {scan.far_cell}, {scan.rows} rows × {scan.cols} columns)",
                sheet=label, cell=scan.far_cell, value_raw=path.name,
                expected_vi=f"xóa các ô thừa ngoài bảng (đến {scan.far_cell}) hoặc dùng lại mẫu biểu gốc",
                expected_en=f"clear the stray cells outside the table (up to {scan.far_cell}) or reuse the original form"))
            return p
        try:
            grids[label] = wb.get_sheet_by_name(real).to_python(skip_empty_area=False)
        except BaseException as exc:
            return _damaged(path, exc)
        scans[label] = scan

    mgrid = grids[form.SHEET_META]
    meta, cells = _read_meta(mgrid)
    _check_meta(p, meta, form.SHEET_META, cells, inbox_unit, cat)
    if p.has_errors:
        return p
    ds = cat.datasets[p.dataset_code]

    drows, dscan = grids[form.SHEET_DATA], scans[form.SHEET_DATA]
    hdr = _check_header(p, drows, form.SHEET_DATA, form.DATA_COLUMNS)
    if hdr is None:
        return p
    vcol = form.col_letter(form.DATA_VALUE_COL)
    seen: dict[str, str] = {}
    for r in range(hdr + 1, len(drows)):
        row = drows[r]
        code = _code(row[0] if row else None)
        raw = row[form.DATA_VALUE_COL - 1] if len(row) >= form.DATA_VALUE_COL else None
        if not code or (not _CODE_LIKE.match(code) and raw in (None, "")):
            continue  # blank line, or a note typed below the table
        cell = f"{vcol}{r + 1}"
        el = _element(p, cat, ds, code, raw, form.SHEET_DATA, f"A{r + 1}", cell, seen)
        if el is None:
            continue
        where = {"sheet": form.SHEET_DATA, "cell": cell, "element_code": code, "element_name": el.name}
        if cell in dscan.errors:
            p.findings.append(error(
                "V05", f"Ô chứa công thức bị lỗi ({dscan.errors[cell]})",
                f"The cell holds a formula that failed ({dscan.errors[cell]})", value_raw=dscan.errors[cell], **where,
                expected_vi="sửa công thức (thường là chia cho 0 hoặc ô tham chiếu bị xóa) hoặc nhập số trực tiếp",
                expected_en="fix the formula (often a division by zero or a deleted reference) or type the number"))
        elif cell in dscan.formulas:
            p.findings.append(error(
                "V02", "Ô chứa công thức nhưng không có giá trị đã tính", "The cell holds a formula without a computed value",
                value_raw="=" + dscan.formulas[cell], **where,
                expected_vi="mở tệp bằng Excel để tính lại rồi lưu, hoặc nhập số trực tiếp",
                expected_en="open the file in Excel so it recalculates and save it, or type the number"))
        elif rng := dscan.merged_at(form.DATA_VALUE_COL, r + 1):
            p.findings.append(error(
                "V04", f"Ô giá trị bị gộp (merge) với ô khác (vùng {rng})",
                f"The value cell is merged with other cells (range {rng})", value_raw=_s(raw), **where,
                expected_vi="bỏ gộp ô (Unmerge) và nhập mỗi chỉ tiêu một giá trị",
                expected_en="unmerge the cells and give each element its own value"))
        else:
            _add_value(p, el, raw, where)

    if cat.tasks_for(ds.code, p.unit_code):
        if form.SHEET_TASKS not in grids:
            p.findings.append(error("S01", f"Thiếu trang tính «{form.SHEET_TASKS}»", f"Missing sheet «{form.SHEET_TASKS}»",
                                    sheet=form.SHEET_TASKS, value_raw=", ".join(sheet_names),
                                    expected_vi="dùng mẫu biểu của kỳ này", expected_en="use this period's form"))
        else:
            trows = grids[form.SHEET_TASKS]
            thdr = _check_header(p, trows, form.SHEET_TASKS, form.TASK_COLUMNS)
            if thdr is not None:
                scol = form.col_letter(form.TASK_STATUS_COL)
                for r in range(thdr + 1, len(trows)):
                    row = list(trows[r]) + [None] * 6
                    if row[0] in (None, "") and row[1] in (None, ""):
                        continue
                    _add_task(p, cat, row[0], row[1], row[form.TASK_STATUS_COL - 1], row[5],
                              form.SHEET_TASKS, f"{scol}{r + 1}")
    if ds.narrative and form.SHEET_TEXT in grids:
        xrows = grids[form.SHEET_TEXT]
        xhdr = _check_header(p, xrows, form.SHEET_TEXT, form.TEXT_COLUMNS)
        if xhdr is not None:
            for r in range(xhdr + 1, len(xrows)):
                row = list(xrows[r]) + [None] * 3
                if row[0] not in (None, ""):
                    p.texts.append({"section": nfc(_s(row[0])).strip(), "text": _text(row[form.TEXT_VALUE_COL - 1])})
    return p


def _refused_xml(path: Path, exc: BaseException, sheet: str | None = None) -> ParsedSubmission:
    why_vi, why_en = (exc.why_vi, exc.why_en) if isinstance(exc, xmlscan.XmlRefused) else \
        ("một phần của tệp nén không đọc được", "a part of the zip cannot be read")
    p = ParsedSubmission(path=Path(path), file_format="xlsx")
    where = f"trang «{sheet}»: " if sheet else ""
    where_en = f"sheet «{sheet}»: " if sheet else ""
    p.findings.append(error("P02", f"Tệp Excel bị hỏng ({where}{why_vi})", f"The Excel file is damaged ({where_en}{why_en})",
                            sheet=sheet, value_raw=Path(path).name, expected_vi=_REDO_VI, expected_en=_REDO_EN))
    return p


def _damaged(path: Path, exc: BaseException) -> ParsedSubmission:
    if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
        raise exc  # KeyboardInterrupt, SystemExit
    return _fail(path, "xlsx", "P02", f"Tệp Excel bị hỏng, nội dung bên trong không đọc được ({type(exc).__name__})",
                 f"The Excel file is damaged: its content cannot be read ({type(exc).__name__})", _REDO_VI, _REDO_EN)


def _zip_kind(zf: zipfile.ZipFile, names: set[str]) -> str:
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "mimetype" in names:
        try:
            with zf.open("mimetype") as f:
                if f.read(100).startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
                    return "ods"
        except _ZIP_ERRORS:
            pass
    inner = sorted(n for n in names if n.lower().endswith((".xlsx", ".xls", ".csv")))
    return f"zip:{inner[0]}" if inner else "zip"


def _read_meta(grid: list[list]) -> tuple[dict, dict]:
    """Meta values by their label in column A (so an inserted row does not shift them), falling
    back to the fixed rows of the form."""
    labels = {}
    for key, label in form.META_ROWS:
        for part in (label, *label.split(" / ")):
            labels[fold(part)] = key
    found: dict[str, int] = {}
    for r, row in enumerate(grid[:60]):
        key = labels.get(fold(_s(row[0]))) if row else None
        if key and key not in found:
            found[key] = r
    meta, cells = {}, {}
    for i, (key, _label) in enumerate(form.META_ROWS):
        r = found.get(key, form.META_FIRST_ROW - 1 + i)
        meta[key] = grid[r][1] if r < len(grid) and len(grid[r]) > 1 else None
        cells[key] = f"B{r + 1}"
    return meta, cells
