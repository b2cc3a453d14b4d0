"""Shared fixtures: a real DuckDB warehouse per test, the demo cycle run once per session under
Prefect's test harness."""

from __future__ import annotations

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import pytest

from tests.needs import pytest_runtest_makereport  # noqa: F401  (under CI=true a skip fails)


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def home(tmp_path):
    from baocao.settings import Settings

    return Settings(home=(tmp_path / "home").resolve())


@pytest.fixture
def res(home):
    """Live resources on the test's home folder (a real DuckDB warehouse), closed afterwards."""
    from baocao.resources import live

    with live(home) as r:
        yield r


@pytest.fixture
def open_res():
    """Opens live resources on a given Settings (`open_res(s)`); all closed after the test."""
    from baocao.resources import live

    opened = []

    def _open(s, **override):
        r = live(s, **override)
        opened.append(r)
        return r

    yield _open
    for r in opened:
        r.close()


@pytest.fixture(scope="session")
def demo_cycle(tmp_path_factory, prefect_harness):
    """The demo: 2024 (annual, reported by pre-merger communes) and 2025H2 (clean history), then
    2026H1 (late, missing and bad files), through the real flow. Returns (settings, plan of 2026H1,
    flow result); plan.history holds the earlier periods' plans."""
    from baocao.settings import settings
    from flows.cycle import reporting_cycle
    from testing import demo

    s = settings(tmp_path_factory.mktemp("demo"))
    history = {}
    for period in demo.HISTORY:
        history[period] = demo.generate(s.inbox, period, with_problems=False)
        reporting_cycle(period, str(s.home))
    plan = demo.generate(s.inbox, "2026H1")
    plan.history = history
    result = reporting_cycle("2026H1", str(s.home))
    yield s, plan, result
