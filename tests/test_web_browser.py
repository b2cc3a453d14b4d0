"""The web door in a real headless Chromium (Debian's `chromium` + `chromium-driver`, driven by
Selenium): a unit opens its link, downloads its form, sends a failing workbook, sees the findings
with sheet and cell, downloads the annotated copy, sends a fixed workbook and sees it accepted;
meanwhile the operator's page shows the unit move from rejected to accepted without a reload.

Skipped with a reason when chromium or chromedriver is missing — except under CI=true, where a
missing browser fails the test. Screenshots (390 px and 1280 px wide) go to $BAOCAO_SCREENSHOTS
when it is set."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests import web_fixtures as wf

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _need_browser():
    missing = [p for p in (CHROMIUM, DRIVER) if not os.path.exists(p)]
    if missing:
        msg = f"no headless browser here ({', '.join(missing)} missing: apt-get install chromium chromium-driver)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)


def browser(tmp: Path, downloads: Path, width: int = 1280):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
              f"--user-data-dir={tmp}", f"--window-size={width},900"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


def wait_for(fn, timeout: float = 120, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as exc:  # the page is changing under us; try again
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def downloaded(folder: Path, suffix: str, before: set[str]) -> Path:
    def done():
        new = [p for p in folder.glob(f"*{suffix}") if p.name not in before]
        return new[0] if new else None

    return wait_for(done, 60, f"a {suffix} download")


def shoot(driver, name: str) -> None:
    folder = os.environ.get("BAOCAO_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in (390, 1280):
        driver.set_window_size(width, 900)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(max(height, 700), 4000))
        time.sleep(0.3)
        driver.save_screenshot(str(Path(folder) / f"{name}-{width}.png"))
    driver.set_window_size(1280, 900)


def row_state(op, unit: str) -> str | None:
    rows = op.find_elements("css selector", f'table.units tr[data-unit="{unit}"]')
    return rows[0].get_attribute("data-state") if rows else None


def op_wait(op, ctx, unit: str, ok, what: str) -> None:
    """Wait for the operator's page to show `unit` in a state `ok` accepts; on a timeout say what the
    page, its JSON and the answerer showed."""
    try:
        wait_for(lambda: ok(row_state(op, unit) or ""), 120, what)
    except AssertionError as exc:
        js = op.execute_script("return fetch('/op/status.json').then(r => r.json())")
        mine = [u for u in js.get("units", []) if u["unit_code"] == unit]
        raise AssertionError(f"{exc}; page row {row_state(op, unit)!r}; JSON {mine}; published {js.get('published_at')};"
                             f" answerer {ctx.answerer.timings[-3:]} {ctx.answerer.last_error};"
                             f" console {op.get_log('browser')}") from None


def test_unit_fixes_its_report_while_the_operator_watches(tmp_path):
    _need_browser()
    from datetime import UTC, datetime

    import openpyxl
    from selenium.webdriver.common.by import By

    from cli.procs import free_port
    from web.app import create_app

    home = wf.make_home(tmp_path / "home")
    app = create_app(home)
    ctx = app.state.ctx
    now = datetime.now(UTC)
    unit_link = ctx.access.issue("unit", wf.UNIT_A, "Phường Xuân Hương - Đà Lạt", now, 1)
    op_link = ctx.access.issue("operator", None, "Cán bộ tỉnh", now, 1)
    bad = tmp_path / "báo cáo sai.xlsx"
    bad.write_bytes(wf.workbook(wf.UNIT_A, bad=True))
    good = tmp_path / "báo cáo đã sửa.xlsx"
    good.write_bytes(wf.workbook(wf.UNIT_A))
    downloads = tmp_path / "downloads"
    downloads.mkdir()

    with wf.Server(app, free_port()) as srv:
        assert ctx.answerer.ready.wait(300)
        unit = browser(tmp_path / "unit-profile", downloads)
        op = browser(tmp_path / "op-profile", tmp_path / "op-downloads")
        try:
            # the unit opens its link and lands on its own page, in Vietnamese
            unit.get(f"{srv.url}/a/{unit_link}")
            assert unit.current_url.endswith(f"/u/{wf.UNIT_A}")
            assert "Hạn nộp" in unit.page_source and "ngày" in unit.page_source

            # it downloads its form (a real workbook for its unit and period)
            unit.find_element(By.PARTIAL_LINK_TEXT, "Tải mẫu biểu trống").click()
            form = downloaded(downloads, ".xlsx", set())
            wb = openpyxl.load_workbook(form)
            assert wf.UNIT_A in [c.value for row in wb["Thông tin"].iter_rows() for c in row]

            # the operator opens the live page
            op.get(f"{srv.url}/a/{op_link}")
            assert op.current_url.endswith("/op")
            assert row_state(op, wf.UNIT_A) == "not_received"
            op.execute_script("window.__notReloaded = true")

            # the unit sends a failing workbook and sees the findings with sheet and cell
            unit.find_element(By.CSS_SELECTOR, ".drop input[type=file]").send_keys(str(bad))
            wait_for(lambda: unit.find_elements(By.CSS_SELECTOR, ".result[data-status]"), 120, "the first answer")
            result = unit.find_element(By.CSS_SELECTOR, ".result")
            assert result.get_attribute("data-status") == "rejected"
            finding = unit.find_element(By.CSS_SELECTOR, ".finding.error")
            assert "Số liệu" in finding.text and "D5" in finding.text and "V01" in finding.text
            assert "Để đạt" in finding.text  # what would pass
            assert "báo cáo sai.xlsx" in unit.page_source  # the unit's own file name, as text
            shoot(unit, "unit-rejected")

            # and downloads the annotated copy: the failing cell commented
            before = {p.name for p in downloads.iterdir()}
            unit.find_element(By.ID, "annotated").click()
            annotated = downloaded(downloads, ".xlsx", before)
            wb = openpyxl.load_workbook(annotated)
            assert wb["Số liệu"]["D5"].comment is not None

            # the operator's page shows it rejected, without a reload
            op_wait(op, ctx, wf.UNIT_A, lambda st: st == "rejected", "rejected on the operator's page")
            assert op.execute_script("return window.__notReloaded === true")

            # the unit sends the fixed workbook and sees it accepted
            unit.get(f"{srv.url}/u/{wf.UNIT_A}")
            shoot(unit, "unit-page")
            unit.find_element(By.CSS_SELECTOR, ".drop input[type=file]").send_keys(str(good))
            wait_for(lambda: unit.find_elements(By.CSS_SELECTOR, ".result[data-status]"), 120, "the second answer")
            status = unit.find_element(By.CSS_SELECTOR, ".result").get_attribute("data-status")
            assert status in ("accepted", "accepted_with_warnings"), status
            assert "Đã tiếp nhận" in unit.page_source
            unit.get(f"{srv.url}/u/{wf.UNIT_A}")
            assert len(unit.find_elements(By.CSS_SELECTOR, "table.versions tbody tr")) >= 2  # every version sent

            # the operator sees the unit move to accepted, still without a reload
            op_wait(op, ctx, wf.UNIT_A, lambda st: st.startswith("accepted"), "accepted on the operator's page")
            assert op.execute_script("return window.__notReloaded === true")
            op.get(f"{srv.url}/op")
            op.find_element(By.CSS_SELECTOR, ".show-all").click()
            shoot(op, "operator")
            op.get(f"{srv.url}/lang/en?next=/op")  # (after a screenshot's resize the page may still be loading)
            wait_for(lambda: "Reporting rate" in op.page_source, 30, "the operator's page in English")
        finally:
            unit.quit()
            op.quit()


def test_operator_overrides_an_error_and_reminds_a_unit_from_the_page(tmp_path):
    """The operator's decisions are page behaviour: B's report refused only for R03 is listed with a
    reason box; accepting it moves B to accepted on the page; the remind button queues one reminder."""
    _need_browser()
    from datetime import UTC, datetime

    from selenium.webdriver.common.by import By

    from cli.procs import free_port
    from web.app import create_app

    home = wf.make_home(tmp_path / "home")
    app = create_app(home)
    ctx = app.state.ctx
    now = datetime.now(UTC)
    b_link = ctx.access.issue("unit", wf.UNIT_B, "Phường B", now, 1)
    op_link = ctx.access.issue("operator", None, "Cán bộ tỉnh", now, 1)
    r03 = tmp_path / "bc.xlsx"
    r03.write_bytes(wf.workbook(wf.UNIT_B, overridable=True))

    with wf.Server(app, free_port()) as srv:
        assert ctx.answerer.ready.wait(300)
        unit = browser(tmp_path / "unit-profile", tmp_path / "dl")
        op = browser(tmp_path / "op-profile", tmp_path / "op-dl")
        try:
            unit.get(f"{srv.url}/a/{b_link}")
            unit.find_element(By.CSS_SELECTOR, ".drop input[type=file]").send_keys(str(r03))
            wait_for(lambda: unit.find_elements(By.CSS_SELECTOR, ".result[data-status]"), 120, "the answer")
            assert unit.find_element(By.CSS_SELECTOR, ".result").get_attribute("data-status") == "rejected"

            op.get(f"{srv.url}/a/{op_link}")
            op_wait(op, ctx, wf.UNIT_B, lambda st: st == "rejected", "B rejected on the operator's page")
            op.get(f"{srv.url}/op")  # the decisions are listed when the page is opened
            item = wait_for(lambda: op.find_elements(By.CSS_SELECTOR, f'li[data-unit="{wf.UNIT_B}"][data-rule="R03"]'),
                            30, "R03 listed for a decision")[0]
            shoot(op, "operator-decide")
            # a reason is required: the browser does not send the form without one
            item.find_element(By.CSS_SELECTOR, "form.accept button").click()
            assert "notice=" not in op.current_url
            item.find_element(By.CSS_SELECTOR, "input[name=reason]").send_keys("Đã xác minh với trạm y tế")
            item.find_element(By.CSS_SELECTOR, "form.accept button").click()
            wait_for(lambda: "notice=overridden" in op.current_url, 60, "the decision recorded")
            assert "Đã chấp nhận lỗi" in op.page_source
            assert not op.find_elements(By.CSS_SELECTOR, f'li[data-unit="{wf.UNIT_B}"][data-rule="R03"]')
            op.find_element(By.CSS_SELECTOR, ".show-all").click()
            assert row_state(op, wf.UNIT_B).startswith("accepted")
            rec = ctx.access.audit("override_error", unit_code=wf.UNIT_B)
            assert len(rec) == 1 and rec[0]["who"] == "Cán bộ tỉnh" and rec[0]["ip"] == "127.0.0.1"
            # the unit sees its version counting now
            unit.get(f"{srv.url}/u/{wf.UNIT_B}")
            assert "Đã tiếp nhận theo quyết định của tỉnh" in unit.page_source

            # the remind button next to a unit that has not reported: one reminder queued
            row = op.find_element(By.CSS_SELECTOR, f'table.units tr[data-unit="{wf.UNIT_A}"]')
            row.find_element(By.CSS_SELECTOR, "form.inline button").click()
            wait_for(lambda: "notice=reminded" in op.current_url, 60, "the reminder queued")
            assert "Đã gửi nhắc nhở" in op.page_source
            recs = ctx.access.audit("remind", unit_code=wf.UNIT_A)
            assert len(recs) == 1 and len(recs[0]["detail"]["keys"]) == 1
        finally:
            unit.quit()
            op.quit()
