"""Generated hostile submissions (our own files, built from baocao's template): each class of file
that once crashed, aborted or hung intake, and the structural oddities, with the finding each must
end as. Used by tests/test_intake_hostile.py and the fuzz test."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import catalog as catalog_mod
from intake import form
from intake.parse import xmlscan
from intake.template import build_template

CAT = catalog_mod.load()
PERIOD = "2026H1"
DATASET = "XA_6T"


def resources(home, now):
    """Resources over a real warehouse in `home` with this catalog and a fixed server clock, with
    the period's cycle of the commune report open (close them: `res.close()`)."""
    from baocao.resources import FixedClock, Resources
    from baocao.services import cycles

    res = Resources.fake(home, clock=FixedClock(now), catalog=CAT)
    cycles.open_cycle(res, PERIOD, [DATASET], now=now)
    return res


def communes(n: int) -> list[str]:
    return [u.code for u in CAT.expected_units(DATASET, on="2026-06-30")][:n]


def values_for(unit: str) -> dict:
    """Plausible figures for every element of the commune form (a clean file)."""
    import random

    from testing import demo

    return demo.commune_values(random.Random(unit))


def workbook_bytes(unit: str, values: dict | None = None, tasks: dict | None = None, texts: dict | None = None,
                   **kw) -> bytes:
    import random

    from testing import demo

    rng = random.Random(unit)
    tasks = tasks if tasks is not None else demo._tasks(rng, CAT, DATASET, unit)
    texts = texts if texts is not None else (demo._texts(rng) if CAT.datasets[DATASET].narrative else {})
    wb = build_template(unit, PERIOD, DATASET, cat=CAT, values=values if values is not None else values_for(unit),
                        tasks=tasks, texts=texts)
    for sheet, cell, value in kw.get("cells", []):
        wb[sheet][cell] = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def pack(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return buf.getvalue()


def sheet_part(data: bytes, sheet: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return next(b.part for b in xmlscan.workbook_sheets(zf, 10**8) if b.name == sheet)


def rewrite(data: bytes, member: str, fn: Callable[[bytes], bytes]) -> bytes:
    parts = members(data)
    parts[member] = fn(parts[member])
    return pack(parts)


def value_row(code: str) -> int:
    return form.HEADER_ROW + 1 + CAT.datasets[DATASET].elements.index(code)


@dataclass
class Hostile:
    name: str           # what the class is
    file_name: str      # the name the unit sends
    data: bytes
    rule_id: str        # the finding it must end as
    severity: str = "error"
    sheet: str | None = None
    cell: str | None = None


def _data(unit: str) -> tuple[bytes, str]:
    data = workbook_bytes(unit)
    return data, sheet_part(data, form.SHEET_DATA)


def tab_before_attribute(unit: str) -> Hostile:
    """A cell tag whose attribute follows a tab, at the sheet's far corner (once: 512 GiB → SIGABRT)."""
    data, part = _data(unit)
    far = b'<row r="1048576"><c\tr="XFD1048576" t="n"><v>1</v></c></row></sheetData>'
    return Hostile("tab before the cell attribute", "tab.xlsx",
                   rewrite(data, part, lambda x: x.replace(b"</sheetData>", far)),
                   "P03", sheet=form.SHEET_DATA, cell="XFD1048576")


def prefixed_cell(unit: str) -> Hostile:
    """The far cell written with a namespace prefix on the tag and the attribute."""
    data, part = _data(unit)

    def fn(x: bytes) -> bytes:
        x = x.replace(b"<worksheet ", b'<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ', 1)
        return x.replace(b"</sheetData>", b'<x:row x:r="1048576"><x:c x:r="XFD1048576"><x:v>1</x:v></x:c></x:row>'
                                          b"</sheetData>")
    return Hostile("namespace-prefixed cell", "prefix.xlsx", rewrite(data, part, fn), "P03",
                   sheet=form.SHEET_DATA, cell="XFD1048576")


def entity_reference(unit: str) -> Hostile:
    """The far cell's reference written with character references (&#88;FD…)."""
    data, part = _data(unit)
    return Hostile("character references in the reference", "entity.xlsx",
                   rewrite(data, part, lambda x: x.replace(
                       b"</sheetData>", b'<row r="1048576"><c r="&#88;FD1048576"><v>1</v></c></row></sheetData>')),
                   "P03", sheet=form.SHEET_DATA, cell="XFD1048576")


def nonascii_row_number(unit: str) -> Hostile:
    """A row number written with Arabic-Indic digits (once: ValueError in the scan)."""
    data, part = _data(unit)
    return Hostile("non-ASCII digits in a row number", "digits.xlsx",
                   rewrite(data, part, lambda x: re.sub(rb'<row r="5"', '<row r="٥"'.encode(), x, count=1)),
                   "P02")


def identical_merges(unit: str, n: int = 40_000) -> Hostile:
    """Tens of thousands of identical merge ranges over a value cell (once: quadratic)."""
    data, part = _data(unit)
    row = value_row(CAT.datasets[DATASET].elements[0])
    merge = f'<mergeCell ref="D{row}:E{row}"/>'.encode()
    body = b'<mergeCells count="%d">' % n + merge * n + b"</mergeCells>"
    return Hostile("identical merge ranges", "merges.xlsx",
                   rewrite(data, part, lambda x: x.replace(b"</sheetData>", b"</sheetData>" + body, 1)),
                   "V04", sheet=form.SHEET_DATA, cell=f"D{row}")


def many_merges(unit: str, n: int = 30_000) -> Hostile:
    data, part = _data(unit)
    body = b'<mergeCells count="%d">' % n + b"".join(
        f'<mergeCell ref="G{i}:H{i}"/>'.encode() for i in range(1, n + 1)) + b"</mergeCells>"
    return Hostile("thousands of distinct merge ranges", "many_merges.xlsx",
                   rewrite(data, part, lambda x: x.replace(b"</sheetData>", b"</sheetData>" + body, 1)),
                   "P03", sheet=form.SHEET_DATA)


def unclosed_cells(unit: str, n: int = 300_000) -> Hostile:
    """Hundreds of thousands of cells never closed (once: the scan went quadratic)."""
    data, part = _data(unit)
    junk = b'<row r="60">' + b'<c r="A60"><v>1</v>' * n
    return Hostile("unclosed cells", "unclosed.xlsx",
                   rewrite(data, part, lambda x: x.replace(b"</sheetData>", junk + b"</sheetData>", 1)), "P02",
                   sheet=form.SHEET_DATA)


def entity_bomb(unit: str) -> Hostile:
    data, part = _data(unit)
    dtd = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
           b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>')
    return Hostile("entity expansion (DTD)", "bomb.xlsx",
                   rewrite(data, part, lambda x: dtd + x.split(b"?>", 1)[1] if x.startswith(b"<?xml") else dtd + x),
                   "P02", sheet=form.SHEET_DATA)


def hidden_value_sheet(unit: str) -> Hostile:
    """The sheet read is hidden; a visible decoy with other figures sits beside it."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(workbook_bytes(unit)))
    decoy = wb.copy_worksheet(wb[form.SHEET_DATA])
    decoy.title = "Số liệu (bản in)"
    wb[form.SHEET_DATA].sheet_state = "hidden"
    wb.active = wb.index(decoy)
    buf = io.BytesIO()
    wb.save(buf)
    return Hostile("hidden value sheet behind a visible decoy", "an.xlsx", buf.getvalue(), "S14",
                   sheet=form.SHEET_DATA)


def normalisation_twins(unit: str) -> Hostile:
    """Two value sheets whose names differ only by Unicode normalisation (NFC / NFD)."""
    import unicodedata

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(workbook_bytes(unit)))
    twin = wb.copy_worksheet(wb[form.SHEET_DATA])
    twin.title = unicodedata.normalize("NFD", form.SHEET_DATA)
    buf = io.BytesIO()
    wb.save(buf)
    return Hostile("two sheets equal after normalisation", "twins.xlsx", buf.getvalue(), "S13",
                   sheet=unicodedata.normalize("NFD", form.SHEET_DATA))


def with_macros(unit: str) -> Hostile:
    parts = members(workbook_bytes(unit))
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    return Hostile("macros (vbaProject.bin)", "macro.xlsm", pack(parts), "S15", severity="warning")


def external_link(unit: str) -> Hostile:
    parts = members(workbook_bytes(unit))
    parts["xl/externalLinks/externalLink1.xml"] = (
        b'<?xml version="1.0"?><externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<externalBook/></externalLink>")
    parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
        b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'externalLinkPath" Target="file:///C:/So%20lieu/huyen.xlsx" TargetMode="External"/></Relationships>')
    return Hostile("external link", "link.xlsx", pack(parts), "S16", severity="warning")


CLASSES = [tab_before_attribute, prefixed_cell, entity_reference, nonascii_row_number, identical_merges, many_merges,
           unclosed_cells, entity_bomb, hidden_value_sheet, normalisation_twins, with_macros, external_link]

LONG_NAME = ("Báo cáo sơ kết 6 tháng đầu năm 2026 của trạm y tế xã " * 5).encode()[:236].decode("utf-8", "ignore")
LONG_NAME = LONG_NAME + "x" * (236 - len(LONG_NAME.encode())) + ".xlsx"                    # 241 bytes in UTF-8
assert len(LONG_NAME.encode()) == 241
NON_UTF8_NAME = "b\xe1o_c\xe1o_x\xe3.xlsx".encode("latin-1")                                  # not UTF-8


# ------------------------------------------------------------- files that break a worker on purpose
# The real parser no longer crashes on any class above; to prove the isolation itself, the pool is
# given this parse function, which misbehaves when the file says so (a real abort, a real hang, a
# real allocation beyond the worker's memory limit, a real exception) and parses otherwise.

def misbehaving_parse(path, inbox_unit=None, cat=None, name=None):
    import os
    import time

    from intake.parse import parse_file

    head = open(path, "rb").read(16)
    if head.startswith(b"ABORT"):
        os.abort()
    if head.startswith(b"HANG"):
        while True:
            time.sleep(1)
    if head.startswith(b"HOG"):
        blocks = []
        while True:
            blocks.append(bytearray(256 * 1024 * 1024))
    if head.startswith(b"RAISE"):
        raise ValueError("invalid literal for int() with base 10: '٥'")
    return parse_file(path, inbox_unit=inbox_unit, cat=cat, name=name)
