"""What every part of the parser shares: the result type, the limits, a file-level failure and
the cell-to-text helpers."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from baocao.findings import Finding, error
from intake.numbers import nfc

MAX_FILE_BYTES = 5 * 1024 * 1024        # a filled form is ~20 KB; 5 MB leaves room for logos
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024   # beyond this an xlsx is treated as a zip bomb
MAX_ZIP_MEMBERS = 2000                  # a form has about 15 parts
MAX_SHEET_CELLS = 1_000_000             # rows x columns of a sheet's used area (a form: ~300)
_DATE_TEXT = re.compile(r"^\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\s*$")
_CODE_LIKE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_YES = {"co", "x", "yes", "y", "dat", "1"}
_NO = {"khong", "no", "n", "chua", "chua dat", "0"}
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_XLSX_NAMES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
# what reading a zip member can raise on hostile input (CRC, deflate, encryption, method, missing)
_ZIP_ERRORS = (KeyError, zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError,
               RuntimeError)
_REDO_VI, _REDO_EN = "mở lại bằng Excel, lưu dạng .xlsx rồi gửi lại", "open it in Excel, save as .xlsx and send it again"


@dataclass
class ParsedSubmission:
    path: Path
    file_format: str                      # xlsx | csv | unknown
    unit_code: str | None = None          # as the file states it
    period: str | None = None
    dataset_code: str | None = None
    template_version: str | None = None
    values: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)
    texts: list[dict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    failure: str | None = None            # set by intake.isolate when the file broke its worker

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


def _fail(path, fmt, rule, vi, en, exp_vi, exp_en, value_raw=None) -> ParsedSubmission:
    p = ParsedSubmission(path=Path(path), file_format=fmt)
    p.findings.append(error(rule, vi, en, sheet=None, cell=None, value_raw=value_raw or Path(path).name,
                            expected_vi=exp_vi, expected_en=exp_en))
    return p


def _s(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return nfc(str(v))


def _date_text(v) -> str:
    if isinstance(v, dt.datetime):
        return v.strftime("%d/%m/%Y %H:%M") if (v.hour, v.minute) != (0, 0) else v.strftime("%d/%m/%Y")
    if isinstance(v, dt.date):
        return v.strftime("%d/%m/%Y")
    return _s(v)


def _code(v) -> str:
    return nfc(_s(v)).strip().upper()


def _text(v) -> str | None:
    t = nfc(_s(v)).strip()
    return t or None
