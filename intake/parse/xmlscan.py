"""The cheap pre-checks of a workbook, read with a real streaming XML parser (expat) under limits.

What calamine does not say is read here before calamine loads a sheet: the used area (calamine
allocates rows x columns, so one cell at XFD1048576, or a `<dimension>` that claims it, would
exhaust memory), formulas without a cached value and error values (both read as blank), merged
ranges; and from the workbook: sheet names, their visibility and their parts.

A real parser, not patterns over the bytes: a tab before an attribute, a namespace prefix on a tag
or an attribute (`<x:c x:r="…">`), a character reference (`r="&#65;1"`) are read as Excel reads
them. Limits: the XML is fed in chunks and never held whole; a document type declaration (the
door to entity expansion) is refused; at most `MAX_MERGES` distinct merged ranges are kept; row and
column numbers are ASCII digits and letters only (`int()` of another script's digit is never
called); cell texts kept are cut to 255 characters. Nothing is quadratic: each element is seen once.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from xml.parsers import expat

from intake import form

CHUNK = 64 * 1024
MAX_MERGES = 2_000           # a form has a handful; thousands are a built file
MAX_TEXT = 255
_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
_RANGE = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})(?::\$?([A-Z]{1,3})\$?([0-9]{1,7}))?")
_DIGITS = re.compile(r"[0-9]{1,7}")


class XmlRefused(Exception):
    """The XML is not something Excel writes (malformed, a DTD, beyond a limit)."""

    def __init__(self, why_vi: str, why_en: str):
        super().__init__(why_en)
        self.why_vi, self.why_en = why_vi, why_en


def col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _local(name: str) -> str:
    """`prefix:local` → local (the prefix, whatever it is, does not change what a tag is)."""
    return name[name.rfind(":") + 1:] if ":" in name else name


def _attr(attrs: dict, key: str) -> str | None:
    """An attribute by its local name, with or without a prefix."""
    v = attrs.get(key)
    if v is None:
        for k, val in attrs.items():
            if ":" in k and k[k.rfind(":") + 1:] == key:
                return val
    return v


def _attrs(attrs: dict) -> dict[str, str]:
    return {_local(k): v for k, v in attrs.items()}


_COLS: dict[str, int] = {}


def _col(letters: str) -> int:
    n = _COLS.get(letters)
    if n is None:
        n = _COLS[letters] = col_number(letters)
    return n


def _parser(start, end=None, text=None) -> expat.XMLParserType:
    p = expat.ParserCreate()
    p.buffer_text = True

    def no_dtd(*_a):
        raise XmlRefused("tệp khai báo DTD/thực thể (Excel không bao giờ ghi)",
                         "it declares a DTD/entities (Excel never writes one)")

    p.StartDoctypeDeclHandler = no_dtd
    p.EntityDeclHandler = no_dtd
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.StartElementHandler = start
    if end:
        p.EndElementHandler = end
    if text:
        p.CharacterDataHandler = text
    return p


def feed(zf: zipfile.ZipFile, member: str, parser: expat.XMLParserType, budget: int) -> None:
    """Stream one zip member through `parser`, at most `budget` bytes."""
    n = 0
    try:
        with zf.open(member) as fh:
            while chunk := fh.read(CHUNK):
                n += len(chunk)
                if n > budget:
                    raise XmlRefused(f"phần «{member}» quá lớn", f"part «{member}» is too large")
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise XmlRefused(f"XML của phần «{member}» không hợp lệ (dòng {exc.lineno})",
                         f"the XML of part «{member}» is malformed (line {exc.lineno})") from None


# ------------------------------------------------------------------------------------ workbook

@dataclass
class SheetInfo:
    name: str
    part: str | None
    state: str   # visible | hidden | veryHidden


def workbook_sheets(zf: zipfile.ZipFile, budget: int) -> list[SheetInfo]:
    """Sheets in workbook order with their part and visibility (workbook.xml + its relationships)."""
    targets: dict[str, str] = {}

    def rel(name, attrs):
        if _local(name) == "Relationship":
            a = _attrs(attrs)
            if "Id" in a and "Target" in a:
                t = a["Target"]
                targets[a["Id"]] = t.lstrip("/") if t.startswith("/") else f"xl/{t}"

    if "xl/_rels/workbook.xml.rels" in zf.NameToInfo:
        feed(zf, "xl/_rels/workbook.xml.rels", _parser(rel), budget)
    sheets: list[tuple[str, str | None, str]] = []

    def sheet(name, attrs):
        if _local(name) == "sheet":
            a = _attrs(attrs)  # r:id, whatever the prefix, is "id" once local
            sheets.append((a.get("name", ""), a.get("id"), a.get("state", "visible")))

    feed(zf, "xl/workbook.xml", _parser(sheet), budget)
    return [SheetInfo(n, targets.get(rid) if rid else None, st) for n, rid, st in sheets]


# --------------------------------------------------------------------------------------- sheet

@dataclass
class SheetScan:
    rows: int = 0
    cols: int = 0
    far_cell: str = "A1"
    formulas: dict[str, str] = field(default_factory=dict)     # cell -> formula text, no cached value
    errors: dict[str, str] = field(default_factory=dict)       # cell -> #DIV/0! ...
    merges: list[tuple[int, int, int, int, str]] = field(default_factory=list)  # c0, r0, c1, r1, "A1:B2"
    too_many_merges: int = 0   # distinct ranges beyond MAX_MERGES (then none is trusted)

    def merged_at(self, col: int, row: int) -> str | None:
        for c0, r0, c1, r1, rng in self.merges:
            if c0 <= col <= c1 and r0 <= row <= r1:
                return rng
        return None


_REFS: dict[str, tuple[int, int] | None] = {}


def _ref(r: str) -> tuple[int, int] | None:
    """(column, row) of an ASCII cell reference such as "D12"; None otherwise. Memoised: the
    same references recur in every form."""
    hit = _REFS.get(r, False)
    if hit is False:
        m = _REF.fullmatch(r.strip())
        hit = (col_number(m.group(1)), int(m.group(2))) if m else None
        if len(_REFS) > 200_000:
            _REFS.clear()
        _REFS[r] = hit
    return hit


def _oattr(attrs: list, key: str) -> str | None:
    """An attribute from expat's ordered list [k1, v1, k2, v2, …], by local name."""
    for i in range(0, len(attrs), 2):
        k = attrs[i]
        if k == key or (":" in k and k[k.rfind(":") + 1:] == key):
            return attrs[i + 1]
    return None


def scan_sheet(zf: zipfile.ZipFile, member: str | None, budget: int) -> SheetScan:
    scan = SheetScan()
    if member is None or member not in zf.NameToInfo:
        return scan
    row = col = rows = cols = 0
    cell: tuple[int, int] | None = None
    ctype: str | None = None
    inside: str | None = None
    vtext: list[str] = []
    ftext: list[str] | None = None
    deep = False
    seen_merges: set[str] = set()

    def start(name, attrs):
        nonlocal row, col, rows, cols, cell, ctype, inside, vtext, ftext
        if ":" in name:
            name = name[name.rfind(":") + 1:]
        if name == "c":
            r = attrs[1] if attrs and attrs[0] == "r" else _oattr(attrs, "r")
            hit = _ref(r) if r else None
            if hit:
                col, row = hit
            else:
                col += 1
            if row > rows:
                rows = row
            if col > cols:
                cols = col
            ctype = _oattr(attrs, "t") if len(attrs) > 2 else None
            cell, vtext, ftext = (col, row), [], None
            if ctype == "e" and not deep:
                go_deep()
        elif name == "v":
            inside = "v"
        elif name == "row":
            r = (_oattr(attrs, "r") or "").strip()
            row = int(r) if _DIGITS.fullmatch(r) else row + 1
            col = 0
            if row > rows:
                rows = row
        elif name == "f":
            if cell:
                inside, ftext = "f", []
                if not deep:
                    go_deep()
        elif name == "dimension":
            m = _RANGE.fullmatch((_oattr(attrs, "ref") or "").strip())
            if m and m.group(3):
                rows = max(rows, int(m.group(4)))
                cols = max(cols, col_number(m.group(3)))
        elif name == "mergeCell":
            merge((_oattr(attrs, "ref") or "").strip())

    def merge(ref: str) -> None:
        m = _RANGE.fullmatch(ref)
        if not m or not m.group(3) or ref in seen_merges:
            return
        if len(seen_merges) >= MAX_MERGES:
            scan.too_many_merges += 1
            return
        seen_merges.add(ref)
        c0, r0, c1, r1 = col_number(m.group(1)), int(m.group(2)), col_number(m.group(3)), int(m.group(4))
        if (c0, r0) != (c1, r1):
            scan.merges.append((min(c0, c1), min(r0, r1), max(c0, c1), max(r0, r1),
                                f"{m.group(1)}{m.group(2)}:{m.group(3)}{m.group(4)}"))

    def text(data):
        if inside == "v":
            if len(vtext) < 8:
                vtext.append(data)
        elif inside == "f" and ftext is not None and len(ftext) < 8:
            ftext.append(data)

    def end(name):
        nonlocal cell, inside
        if ":" in name:
            name = name[name.rfind(":") + 1:]
        if name == "c":
            if cell and (ctype == "e" or ftext is not None):
                value = "".join(vtext).strip()[:MAX_TEXT]
                ref = f"{form.col_letter(cell[0])}{cell[1]}"
                if ctype == "e":
                    scan.errors[ref] = value or "#ERROR"
                elif not value:
                    scan.formulas[ref] = "".join(ftext or [])[:MAX_TEXT]
            cell = None
        elif name == "v" or name == "f":
            inside = None

    # the common sheet (values only) needs only the start of each element; the cell's end and its
    # text are followed from the first formula or error value on (handlers can change mid-parse)
    parser = _parser(start)
    parser.ordered_attributes = True

    def go_deep():
        nonlocal deep
        deep = True
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text

    feed(zf, member, parser, budget)
    scan.rows, scan.cols = rows, cols
    scan.far_cell = f"{form.col_letter(max(cols, 1))}{max(rows, 1)}"
    return scan


def external_links(zf: zipfile.ZipFile, budget: int) -> list[str]:
    """Targets of the workbook's external links (xl/externalLinks/_rels/*.rels), or the parts' names."""
    out: list[str] = []
    parts = sorted(n for n in zf.NameToInfo if n.startswith("xl/externalLinks/") and n.endswith(".xml"))
    for part in parts[:20]:
        rels = part.replace("xl/externalLinks/", "xl/externalLinks/_rels/") + ".rels"
        found: list[str] = []

        def rel(name, attrs, found=found):
            if _local(name) == "Relationship":
                t = _attrs(attrs).get("Target")
                if t:
                    found.append(t[:200])

        if rels in zf.NameToInfo:
            try:
                feed(zf, rels, _parser(rel), budget)
            except XmlRefused:
                pass
        out.append(found[0] if found else part)
    return out
