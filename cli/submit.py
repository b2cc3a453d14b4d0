"""`baocao submit`: a file handed over on the server's command line goes through the one intake
path (`intake.store.receive`), like the inbox, Slack and the web. The unit code is checked before
anything touches the disk; a refusal is one line (Vietnamese, then English) and exit code 2."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import typer

from baocao.escape import console_text
from baocao.resources import Resources
from intake import store as store_mod


def submit_file(res: Resources, file: Path, unit: str, console, now: datetime | None = None) -> store_mod.StoredFile:
    """Store `file` for `unit`, received at `now` (default: the resources' clock, the server's time)."""
    try:
        store_mod.check_unit(unit)
    except store_mod.UnitRefused as exc:
        console.print(console_text(str(exc)), soft_wrap=True)
        raise typer.Exit(2) from None
    f = store_mod.receive(res.store.root, unit, file, os.fsencode(file.name), source="submit",
                          received_at=now or res.now(), move=False)
    at = f.received_at.astimezone().strftime("%d/%m/%Y %H:%M:%S")
    if f.duplicate:
        console.print(console_text(f"Tệp «{f.file_name}» của {unit} đã có (nhận lúc {at}), không lưu lại"
                                   f" / already received at {at}: {f.submission_id}"), soft_wrap=True)
    else:
        console.print(console_text(f"Đã nhận «{f.file_name}» từ {unit} lúc {at} / received: {f.submission_id}"),
                      soft_wrap=True)
    return f
