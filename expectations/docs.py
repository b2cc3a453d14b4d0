"""Great Expectations data docs for a cycle, readable without internet.

`build_data_docs(out_dir, batches)` runs the committed suites (expectations/suites/*.json) over the
frames that were validated (suite name -> the wide frame from expectations.validate.values_frame /
tasks_frame) in a private, in-memory GX context whose only data docs site is a local folder. The
validation results are stored in that context, so the site shows one validation page per suite
plus the suite pages and the index.

GX's pages load Bootstrap, jQuery, bootstrap-table, Font Awesome, Vega and the GX logo from CDNs.
Offline they would be unstyled, and the index (whose tables bootstrap-table builds in the browser)
would be empty. So:
  * the index page view renders its tables as plain HTML tables with links (no JS);
  * after the build every page is rewritten: each external <link>/<script>/<img> is dropped (an
    image is pointed to GX's local copy when there is one), external url(...) in inline styles
    become `none`, inline scripts that need jQuery and the onclick handlers calling them are
    removed, the GX newsletter footer is dropped, and one local stylesheet
    (expectations/docs_assets/, copied to static/baocao/) is linked instead. Icons are CSS
    characters, collapsed blocks are always open, and "Failed only" works with CSS alone.
The site is built next to `out_dir` and swapped in, so readers never see half a site.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from expectations.build import SUITES

if TYPE_CHECKING:
    import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "docs_assets"
SITE_NAME = "baocao"
MARKER = ".baocao-data-docs"       # marks a folder this module owns (and may replace)
ASSET_DIR = "static/baocao"        # where docs_assets/ is copied inside the site


# ----------------------------------------------------------------------------------- the build

def build_data_docs(out_dir: Path, batches: dict[str, pd.DataFrame], *, run_name: str | None = None,
                    run_time: datetime | None = None) -> Path:
    """Validate each frame with its committed suite and write an offline data docs site to
    `out_dir` (replacing an earlier build there). Returns the path of index.html.

    `batches`: suite name (e.g. "XA_6T", "XA_6T__tasks") -> the frame that was validated.
    `run_name` (e.g. the period "2026H1") and `run_time` label the run on the pages."""
    out_dir = Path(out_dir).resolve()
    unknown = sorted(n for n in batches if not (SUITES / f"{n}.json").exists())
    if unknown:
        raise ValueError(f"no committed suite for: {', '.join(unknown)}")
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        _build_site(stage, batches, run_name, run_time)
        offline_site(stage)
        (stage / MARKER).write_text("Great Expectations data docs built by expectations/docs.py\n", encoding="utf-8")
        _swap_in(stage, out_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return out_dir / "index.html"


def _build_site(site_dir: Path, batches: dict[str, pd.DataFrame], run_name: str | None,
                run_time: datetime | None) -> None:
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context import EphemeralDataContext
    from great_expectations.data_context.data_context.context_factory import project_manager
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.exceptions import DataContextRequiredError

    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    view = {"module_name": __name__, "class_name": "OfflineIndexPageView"}
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "view": view},
    }
    ctx = EphemeralDataContext(project_config=DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites={SITE_NAME: site}, analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False)))
    # GX resolves unbound suites and definitions through a process-wide "current project": make it
    # this private context while building, then give expectations.validate's context back.
    try:
        previous = project_manager.get_current_project()
    except DataContextRequiredError:
        previous = None
    project_manager.set_project(ctx)
    try:
        source = ctx.data_sources.add_pandas(SITE_NAME)
        run_id = RunIdentifier(run_name=run_name, run_time=run_time or datetime.now(UTC))
        for name, df in sorted(batches.items()):
            asset = source.add_dataframe_asset(name)
            definition = ctx.validation_definitions.add(gx.ValidationDefinition(
                name=f"v_{name}", data=asset.add_batch_definition_whole_dataframe("whole_batch"),
                suite=ctx.suites.add(_suite(gx, name))))
            index_cols = [c for c in ("row_id", "unit_code") if c in df.columns]
            fmt = {"result_format": "COMPLETE", **({"unexpected_index_column_names": index_cols} if index_cols else {})}
            definition.run(batch_parameters={"dataframe": df}, result_format=fmt, run_id=run_id)
        ctx.build_data_docs(site_names=[SITE_NAME])
    finally:
        project_manager.set_project(previous)


def _suite(gx, name: str):
    """The committed suite, with each expectation's Vietnamese/English explanation as its notes
    (shown on the suite page)."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    data = json.loads((SUITES / f"{name}.json").read_text(encoding="utf-8"))
    suite = gx.ExpectationSuite(name=data["name"], meta=data.get("meta", {}))
    for e in data["expectations"]:
        exp = ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e["meta"]).to_domain_obj()
        exp.severity = e.get("severity", "critical")
        exp.notes = _notes(e["meta"], exp.severity)
        suite.add_expectation(exp)
    return suite


def _notes(meta: dict, severity) -> list[str] | None:
    if "vi" not in meta:
        return None
    level = "cảnh báo / warning" if str(severity).lower().endswith("warning") else "lỗi / error"
    notes = [f"**{meta.get('rule_id', '')}** ({level}): {meta['vi']}", f"_{meta.get('en', '')}_"]
    vi, en = meta.get("expected_vi"), meta.get("expected_en")
    if vi or en:
        notes.append("Cần / expected: " + " / ".join(dict.fromkeys(x for x in (vi, en) if x)))
    return notes


def _check_replaceable(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / MARKER).exists())):
        raise ValueError(f"{out_dir} is not empty and was not built by expectations.docs; refusing to replace it")


def _swap_in(stage: Path, out_dir: Path) -> None:
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out_dir, old)
    os.replace(stage, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------------ static index tables

def __getattr__(name: str):
    # GX instantiates the index view by module and class name; building the class lazily keeps
    # `import expectations.docs` free of the (slow) Great Expectations import.
    if name == "OfflineIndexPageView":
        return _offline_index_view()
    raise AttributeError(name)


@functools.cache
def _offline_index_view():
    from great_expectations.render.view.view import DefaultJinjaIndexPageView
    from jinja2 import pass_context

    class OfflineIndexPageView(DefaultJinjaIndexPageView):
        """GX's index page view, with its bootstrap-table blocks (built by JavaScript from CDNs in
        the browser) rendered as plain HTML tables whose rows link to the pages."""

        @pass_context
        def render_content_block(self, jinja_context, content_block, index=None, content_block_id=None,
                                 render_to_markdown: bool = False):
            if isinstance(content_block, dict) and content_block.get("content_block_type") == "bootstrap_table":
                return _static_table(self, jinja_context, content_block, content_block_id)
            return super().render_content_block(jinja_context, content_block, index, content_block_id,
                                                render_to_markdown)

    OfflineIndexPageView.__module__ = __name__
    return OfflineIndexPageView


def _static_table(view, jinja_context, block: dict, block_id) -> str:
    columns = [c for c in block.get("table_columns") or [] if not str(c.get("field", "")).startswith("_")]
    rows = list(block.get("table_data") or [])
    options = block.get("table_options") or {}
    sort = options.get("sortName")
    if sort:
        key = next((c.get("sortName", sort) for c in columns if c.get("field") == sort), sort)
        rows.sort(key=lambda r: str(r.get(key) or ""), reverse=options.get("sortOrder") == "desc")
    classes = ["table", "table-sm", "baocao-static-table",
               *((block.get("styling") or {}).get("body") or {}).get("classes", [])]
    out = [f'<table class="{html.escape(" ".join(dict.fromkeys(classes)))}">', "<thead><tr>"]
    out += [f"<th>{html.escape(str(c.get('title', c.get('field', ''))))}</th>" for c in columns]
    out.append("</tr></thead><tbody>")
    for row in rows:
        link = row.get("_table_row_link_path")
        out.append("<tr>")
        for c in columns:
            cell = view.render_content_block(jinja_context, row.get(c["field"]), content_block_id=block_id)
            cell = "" if cell is None else str(cell)
            if link and "<a " not in cell:  # GX renders these cells as HTML (bootstrap-table does too)
                cell = f'<a class="baocao-row-link" href="{html.escape(str(link), quote=True)}">{cell}</a>'
            out.append(f"<td>{cell}</td>")
        out.append("</tr>")
    if not rows:
        out.append(f'<tr><td colspan="{max(len(columns), 1)}">—</td></tr>')
    out.append("</tbody></table>")
    return "\n".join(out)


# ------------------------------------------------------------------------------ offline rewrite

_EXTERNAL = r"""\s*(?:https?:)?//"""
_EXT_LINK = re.compile(r"""<link\b[^>]*?\bhref\s*=\s*["']""" + _EXTERNAL + r"""[^>]*>""", re.IGNORECASE)
_EXT_SCRIPT = re.compile(r"""<script\b[^>]*?\bsrc\s*=\s*["']""" + _EXTERNAL + r"""[^>]*>\s*</script\s*>""", re.IGNORECASE)
_EXT_IMG = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["'](""" + _EXTERNAL + r"""[^"']*)["'][^>]*>""", re.IGNORECASE)
_EXT_URL = re.compile(r"""url\(\s*["']?""" + _EXTERNAL + r"""[^)]*\)""", re.IGNORECASE)
_INLINE_SCRIPT = re.compile(r"""<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>""", re.IGNORECASE | re.DOTALL)
_NEEDS_JQUERY = re.compile(r"""\$\(|\$`|jQuery|bootstrapTable""")
_JQ_ONCLICK = re.compile(r"""\s+onclick\s*=\s*["'](?:showAllValidations|hideSucceededValidations|clearTableFilters)\b[^"']*["']""", re.IGNORECASE)
_GX_FOOTER = re.compile(r"""<footer\b[^>]*>(?:(?!</footer>).)*greatexpectations\.io(?:(?!</footer>).)*</footer\s*>""", re.IGNORECASE | re.DOTALL)
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)


def offline_site(site_dir: Path) -> int:
    """Make every HTML page under `site_dir` load only local files. Returns the pages rewritten."""
    site_dir = Path(site_dir)
    assets = site_dir / ASSET_DIR
    assets.mkdir(parents=True, exist_ok=True)
    for f in ASSETS.iterdir():
        if f.is_file():
            shutil.copyfile(f, assets / f.name)
    n = 0
    for page in sorted(site_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        new = offline_html(text, Path(os.path.relpath(site_dir, page.parent)).as_posix(), site_dir)
        if new != text:
            page.write_text(new, encoding="utf-8")
            n += 1
    return n


def offline_html(text: str, root: str, site_dir: Path | None = None) -> str:
    """One page: `root` is the relative path from the page's folder to the site's root."""
    prefix = "" if root in ("", ".") else root.rstrip("/") + "/"

    def img(m: re.Match) -> str:
        name = m.group(1).split("?")[0].split("#")[0].rstrip("/").rsplit("/", 1)[-1]
        if site_dir is not None and name and (site_dir / "static" / "images" / name).is_file():
            return m.group(0).replace(m.group(1), f"{prefix}static/images/{name}")
        return ""

    text = _EXT_LINK.sub("", text)
    text = _EXT_SCRIPT.sub("", text)
    text = _EXT_IMG.sub(img, text)
    text = _EXT_URL.sub("none", text)
    text = _INLINE_SCRIPT.sub(lambda m: "" if _NEEDS_JQUERY.search(m.group(1)) else m.group(0), text)
    text = _JQ_ONCLICK.sub("", text)
    text = _GX_FOOTER.sub("", text)
    css = f'<link rel="stylesheet" href="{prefix}{ASSET_DIR}/baocao.css">'
    if css not in text:
        m = _HEAD_END.search(text)
        text = text[: m.start()] + css + "\n" + text[m.start():] if m else css + "\n" + text
    return text


def external_refs(text: str) -> list[str]:
    """External URLs still loaded by a page (<link href>, <script src>, <img src>): [] when offline."""
    tags = re.findall(r"<(?:link|script|img)\b[^>]*>", text, re.IGNORECASE)
    return [u for t in tags for u in re.findall(r"""\b(?:src|href)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""", t, re.IGNORECASE)]
