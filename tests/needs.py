"""The one rule for a test whose dependency is missing (source documents, root and iproute2 for a
network namespace, PostgreSQL, a browser): locally it skips and says why; under `CI=true` it fails,
so a CI run that could not test something is red, never green with a skip.

    from tests.needs import require
    require(SEEDS.is_dir(), f"source documents not found in {SEEDS} (set BAOCAO_SEEDS)")

`conftest.py` also imports `pytest_runtest_makereport` from here: under CI any skip that still
happens (a `skipif` marker, a skip inside a library) is reported as a failure with its reason.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def missing(reason: str) -> NoReturn:
    """Skip with `reason` here; fail with it under CI."""
    if in_ci():
        pytest.fail(f"missing under CI=true, where every test must run: {reason}", pytrace=False)
    pytest.skip(reason)


def require(condition: object, reason: str) -> None:
    """Nothing if `condition` holds; otherwise `missing(reason)`."""
    if not condition:
        missing(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which must test everything: {reason}"
