"""`baocao submit`: a file handed over on the server's command line goes through the one intake
path (`intake.store.receive`), like the inbox, Slack and the web. Before anything touches the
disk: the unit is a catalog unit, the file exists and is a form baocao reads (.xlsx, .csv), and
its period (from the form's name, else any) is open. A refusal is one line and exit code 2."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from baocao.escape import console_text
from baocao.resources import Resources
from baocao.text import TZ
from cli.common import check_cycle, fail, lang, print_json
from intake import store as store_mod

SUFFIXES = (".xlsx", ".csv")
_PERIOD_IN_NAME = re.compile(r"_(\d{4}(?:H[12])?)\.[A-Za-z]+$")


def check_unit_code(unit: str, cat=None) -> None:
    try:
        store_mod.check_unit(unit, cat)
    except store_mod.UnitRefused as exc:
        fail(exc.message_vi + ": không nhận tệp; dùng mã trong danh mục, ví dụ LD.24781",
             exc.message_en + ": nothing stored; use a catalog code, e.g. LD.24781")


def check_file(file: Path) -> None:
    if not file.is_file():
        fail(f"Không tìm thấy tệp {file}", f"no such file: {file}")
    if file.suffix.lower() not in SUFFIXES:
        fail(f"Tệp {file.name}: chỉ nhận mẫu biểu Excel (.xlsx) hoặc .csv của baocao; lưu lại bằng Excel"
             " (Lưu thành > Excel Workbook) rồi gửi",
             f"{file.name}: only baocao's Excel form (.xlsx) or a .csv is taken; Save As > Excel Workbook and send that")


def check_open(con, file: Path) -> None:
    """The period named in the form's name (XA_6T_LD.24781_2026H1.xlsx) must be open; a file named
    otherwise needs some open cycle."""
    m = _PERIOD_IN_NAME.search(file.name)
    if m:
        check_cycle(con, m.group(1), must_be_open=True)
        return
    if not con.execute("select 1 from ops.cycle where closed_at is null limit 1").fetchone():
        fail("Chưa có kỳ báo cáo nào đang mở: mở kỳ bằng baocao cycle open <kỳ>",
             "no reporting cycle is open: open one with baocao cycle open <period>")


def submit_file(res: Resources, file: Path, unit: str, console, now: datetime | None = None,
                as_json: bool = False) -> store_mod.StoredFile:
    """Store `file` for `unit`, received at `now` (default: the resources' clock, the server's time)."""
    check_unit_code(unit, res.cat)
    check_file(file)
    check_open(res.con(), file)
    f = store_mod.receive(res.store.root, unit, file, os.fsencode(file.name), source="submit",
                          received_at=now or res.now(), move=False)
    if as_json:
        print_json({"submission_id": f.submission_id, "unit_code": unit, "file_name": f.file_name,
                    "received_at": f.received_at, "duplicate": f.duplicate})
        return f
    at = f.received_at.astimezone(TZ).strftime("%H:%M:%S %d/%m/%Y")
    if lang() == "en":
        text = (f"«{f.file_name}» from {unit} was already received ({at}); not stored again" if f.duplicate else
                f"Received «{f.file_name}» from {unit} at {at} (submission {f.submission_id});"
                " `baocao process` checks it")
    else:
        text = (f"Tệp «{f.file_name}» của {unit} đã nhận trước đó (lúc {at}), không lưu lại" if f.duplicate else
                f"Đã nhận «{f.file_name}» từ {unit} lúc {at} (mã {f.submission_id}); `baocao process` sẽ kiểm tra")
    console.print(console_text(text), soft_wrap=True, markup=False)
    return f
