"""What every command shares: the Prefect and analytics defaults (set before anything imports
Prefect), the console, the language and --debug, which home folder a command works on, and the
one-line errors a user can cause.

Home folder: `--home`, else $BAOCAO_HOME, else `./var` if it holds a warehouse, else `./var/demo`
if `make demo` made one (the command then says, on stderr, which home it uses and how to choose
another). A home without a warehouse is an error, except for `cycle open --home X` (the first
run: it creates X and says so) and the commands that write no warehouse (`template --out`, `demo`).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

# Prefect reads its settings when it is imported: the CLI's own defaults come first, and the
# environment still wins (the Makefile, a deployment's worker, an operator's shell).
PREFECT_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    # a temporary Prefect server starts in a subprocess; on a busy 2-core machine it takes a while
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    # the operator's console shows baocao's tables, not Prefect's run-by-run INFO lines; the runs'
    # INFO logs (who was reminded, what a run did) still reach the API and the UI
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
}
for _k, _v in PREFECT_DEFAULTS.items():
    os.environ.setdefault(_k, _v)

import typer  # noqa: E402
from rich.console import Console  # noqa: E402

from baocao.labels import lang_of  # noqa: E402
from baocao.resources import Resources, live  # noqa: E402
from baocao.settings import settings  # noqa: E402


def _width() -> int | None:
    """$COLUMNS, else the terminal's width, else 160 (a pipe or a test gets wide tables, not 80 columns)."""
    if (os.environ.get("COLUMNS") or "").isdigit():
        return int(os.environ["COLUMNS"])
    return None if sys.stdout.isatty() else 160


console = Console(width=_width(), highlight=False)
err_console = Console(stderr=True, width=console.width, highlight=False)

HomeOpt = typer.Option(None, "--home", help="Thư mục dữ liệu (mặc định $BAOCAO_HOME, ./var, hoặc ./var/demo sau"
                       " `make demo`) / data folder.")
JsonOpt = typer.Option(False, "--json", help="In JSON cho kịch bản / print JSON for scripts.")


@dataclass
class State:
    """Options every command honours, wherever they are written on the line (cli.app.Group)."""

    lang: str = "vi"
    debug: bool = False


STATE = State()


def lang() -> str:
    return lang_of(STATE.lang)


class UserError(Exception):
    """A failure the user caused and can fix: printed as one line (no traceback), exit code `code`."""

    def __init__(self, vi: str, en: str | None = None, code: int = 2):
        super().__init__(f"{vi} / {en}" if en else vi)
        self.vi, self.en, self.code = vi, en or vi, code

    def text(self, language: str | None = None) -> str:
        return self.en if (language or lang()) == "en" else self.vi


def one_line(message: str, language: str | None = None) -> str:
    """A service's "Vietnamese / English" message in one language, on one line."""
    text = " ".join(str(message).split())
    if " / " in text:
        vi, en = text.split(" / ", 1)
        return en if (language or lang()) == "en" else vi
    return text


def fail(vi: str, en: str, code: int = 2) -> None:
    raise UserError(vi, en, code)


def _has_warehouse(home: Path) -> bool:
    return settings(home).db_path.exists()


def resolve_home(home: Path | None, *, create: bool = False, quiet: bool = False) -> Path:
    """The home folder a command works on (see the module's docstring); UserError if it has no
    warehouse (unless `create`)."""
    if home is not None or os.environ.get("BAOCAO_HOME", "").strip():
        chosen = settings(home).home
        if create or _has_warehouse(chosen):
            return chosen
        how = "--home" if home is not None else "BAOCAO_HOME"
        fail(f"Không có kho dữ liệu ở {chosen} ({how}); kiểm tra đường dẫn, hoặc mở kỳ đầu tiên để tạo:"
             f" baocao cycle open <kỳ> --home {chosen}",
             f"no warehouse in {chosen} ({how}); check the path, or open a first cycle to create one:"
             f" baocao cycle open <period> --home {chosen}")
    for candidate, why_vi, why_en in ((Path("var"), "", ""), (Path("var/demo"), " (bản chạy thử của make demo)",
                                                              " (the make demo home)")):
        if _has_warehouse(candidate):
            if candidate != Path("var") and not quiet:
                err_console.print(f"Dùng thư mục dữ liệu {candidate}{why_vi}; chọn thư mục khác bằng --home hoặc"
                                  f" BAOCAO_HOME." if lang() == "vi" else
                                  f"Using the home {candidate}{why_en}; choose another with --home or BAOCAO_HOME.",
                                  markup=False, soft_wrap=True)
            return candidate.resolve()
    if create:
        return settings(None).home
    fail("Chưa có kho dữ liệu ở ./var hay ./var/demo: chạy `make demo`, hoặc chỉ rõ --home (BAOCAO_HOME), hoặc mở kỳ"
         " đầu tiên: baocao cycle open <kỳ> --home <thư mục>",
         "no warehouse in ./var or ./var/demo: run `make demo`, name one with --home (BAOCAO_HOME), or open a first"
         " cycle: baocao cycle open <period> --home <folder>")


def resources(home: Path | None, *, create: bool = False) -> Resources:
    """The live resources of the home folder (close them: `with resources(home) as res:`)."""
    return live(settings(resolve_home(home, create=create)))


def check_period(code: str) -> str:
    """The canonical period code, or a one-line error with the accepted forms."""
    from baocao import calendar

    try:
        return calendar.parse_period(code).code
    except (ValueError, TypeError):
        fail(f"Kỳ báo cáo không hợp lệ: «{code}»; viết 2026H1 (6 tháng đầu năm), 2026H2 (6 tháng cuối năm) hoặc 2026"
             " (cả năm)",
             f"invalid period «{code}»; write 2026H1 (first half), 2026H2 (second half) or 2026 (year)")


def check_unit(code: str, cat=None) -> str:
    import catalog

    cat = cat or catalog.load()
    if code not in cat.org_units:
        fail(f"Không có đơn vị {code} trong danh mục; mã đơn vị viết như LD.24781 (xem catalog/org_units)",
             f"unknown unit {code}; unit codes are written like LD.24781 (see catalog/org_units)")
    return code


def check_cycle(con, period: str, *, must_be_open: bool = False) -> None:
    """UserError unless `period` was opened in this warehouse (and, with `must_be_open`, is open now)."""
    rows = con.execute("select dataset_code, closed_at from ops.cycle where period = ?", [period]).fetchall()
    if not rows:
        opened = [r[0] for r in con.execute("select distinct period from ops.cycle order by 1").fetchall()]
        fail(f"Kỳ {period} chưa được mở trong kho dữ liệu này (đã mở: {', '.join(opened) or 'chưa có kỳ nào'});"
             f" mở bằng: baocao cycle open {period}",
             f"period {period} is not open in this warehouse (opened: {', '.join(opened) or 'none'});"
             f" open it with: baocao cycle open {period}")
    if must_be_open and all(closed is not None for _, closed in rows):
        fail(f"Kỳ {period} đã đóng; mở lại bằng: baocao cycle reopen {period} --dataset <báo cáo> --reason … --by …",
             f"period {period} is closed; reopen it with: baocao cycle reopen {period} --dataset <ds> --reason … --by …")


def print_json(data) -> None:
    """JSON for scripts on stdout (dates as ISO 8601, everything else as text)."""
    import json
    from datetime import date, datetime

    def default(o):
        if isinstance(o, datetime | date):
            return o.isoformat()
        if isinstance(o, Path):
            return str(o)
        return str(o)

    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=default) + "\n")
    sys.stdout.flush()


def progress(what_vi: str, what_en: str):
    """A spinner with the elapsed time for a step that can take more than a second or two (on
    stderr, so --json output stays clean; nothing when stderr is not a terminal)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    p = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console,
                 transient=True)
    p.add_task(what_en if lang() == "en" else what_vi, total=None)
    return p
