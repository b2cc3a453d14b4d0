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
        cell.data_type = "s"  # after the setter: "=…" must not stay a formula
    else:
        cell.value = value
    return cell


def html_text(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def slack_text(value) -> str:
    """Slack mrkdwn: the three characters Slack's control sequences use, escaped as Slack documents."""
    return ("" if value is None else str(value)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def console_text(value) -> str:
    """Rich console markup escaped (`[/]`, `[bold]`, `[link=…]` print as typed)."""
    return _rich_escape("" if value is None else str(value))
