"""One escaper per output kind: a unit's text (a name, a note, a code, a cell as typed) is data
wherever baocao writes it, never a formula, markup or a command.

* xlsx (`xlsx_put`, `xlsx_text`): openpyxl's value setter turns any text starting with "=" into a
  formula; `xlsx_put` stores text as a string cell (data type "s") whatever it starts with, so
  `=HYPERLINK(…)`, `=cmd|' /C calc'!A0`, `+…`, `-…`, `@…` are shown as typed and never evaluated.
  Characters XML cannot carry are dropped and the text is cut to Excel's 32,767 characters.
* HTML (`html_text`): &, <, >, quotes escaped (templates use autoescape; this is for the rest).
* Slack mrkdwn (`slack_text`): &, <, > escaped, so `<!channel>`, `<@U123>` and `<http://x|y>`
  written by a unit are shown, not acted on; `*`, `_`, `~`, `` ` `` are left (harmless styling).
* console (`console_text`): Rich markup escaped, so a code such as `[/]` or `[bold]` prints as is.
* CSV/Parquet exports keep the raw text (they are data); the report says how to open them safely.
"""

from __future__ import annotations

import html
import re

from rich.markup import escape as _rich_escape

XLSX_TEXT_MAX = 32_767
_XML_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037\ud800-\udfff\ufffe\uffff]")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def xlsx_text(value: str) -> str:
    """The text as it can be stored in a cell (no XML-illegal characters, Excel's length)."""
    return _XML_ILLEGAL.sub("", str(value))[:XLSX_TEXT_MAX]


def xlsx_put(cell, value):
    """Set a cell to `value`; text is always a string cell, never a formula. Returns the cell."""
    if isinstance(value, str):
        text = xlsx_text(value)
        cell.value = text
        if cell.data_type == "f":  # the setter read "=…" as a formula: it is the unit's text
            cell.data_type = "s"
        if text.startswith(FORMULA_PREFIXES) and cell.data_type == "s":
            cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
    else:
        cell.value = value
    return cell


def html_text(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


_MENTION = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_SCHEME = re.compile(r"\b(https?|ftp|mailto|file|slack|tel)(:)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ZWSP = "\u200b"


def slack_text(value) -> str:
    """Slack mrkdwn: `&`, `<`, `>` → `&amp;`, `&lt;`, `&gt;` (Slack's own escaping, so `<!here>`,
    `<@U123>`, `<http://x|y>` stay text); bare `@channel`, `@here`, `@everyone` and URL schemes
    (`https:`) get a zero-width space so Slack neither notifies nor links them."""
    if value is None:
        return ""
    s = _CONTROL.sub(" ", str(value))
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MENTION.sub("@" + _ZWSP, s)
    return _SCHEME.sub(lambda m: m.group(1) + _ZWSP + m.group(2), s)


def console_text(value) -> str:
    """Rich console markup escaped (`[/]`, `[bold]`, `[link=…]` print as typed)."""
    return _rich_escape("" if value is None else str(value))


def xlsx_guard(wb) -> int:
    """Before saving a workbook baocao wrote: any cell still holding a formula (a unit's text set
    through a path that missed `xlsx_put`) becomes the text it was. baocao's own workbooks carry
    no formulas, so this changes nothing else. Returns how many cells it turned into text."""
    n = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    v = c.value
                    c._value = xlsx_text(v if isinstance(v, str) else getattr(v, "text", None) or str(v))
                    c.data_type = "s"
                    n += 1
    return n
