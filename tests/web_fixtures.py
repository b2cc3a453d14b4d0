"""A small real home for the web tests: a warehouse with 2025H2 (accepted reports from two communes,
the previous period's values) and an open 2026H1, its snapshot published; workbooks that pass and
that fail. No Prefect server: the answerer runs the stage functions in-process (no events are sent)."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

UNIT_A = "LD.24781"
UNIT_B = "LD.24787"
PERIOD = "2026H1"
PREVIOUS = "2025H2"


def _ctx(unit: str, period: str, cat):
    from tests.corpus import Ctx

    ds = cat.datasets_for_unit(unit, "H")[0]
    return Ctx(folder=Path("."), unit=unit, period=period, ds=ds, cat=cat)


def workbook(unit: str, period: str = PERIOD, cat=None, bad: bool = False, pop: float | None = None,
             warn: bool = False, overridable: bool = False) -> bytes:
    """The unit's filled form; `bad`: text in the population cell (an error with its sheet and cell);
    `warn`: adults screened doubled since the previous period (warning W01, accepted with warnings);
    `overridable`: deaths under 5 above a fifth of live births (error R03, which the operator may
    accept)."""
    import catalog

    cat = cat or catalog.load()
    c = _ctx(unit, period, cat)
    values = c.values()
    if pop is not None:
        values["POP"] = pop
    if warn:
        values["ADULTS_SCREENED"] = 2 * values["ADULTS_SCREENED"]
    if bad:
        values["POP"] = "khoảng mười hai nghìn"
    if overridable:
        values["DEATHS_U5"] = values["LIVE_BIRTHS"] * 0.2 + 5
    buf = io.BytesIO()
    c.workbook(values=values).save(buf)
    return buf.getvalue()


def dataset_of(unit: str, cat=None) -> str:
    import catalog

    return (cat or catalog.load()).datasets_for_unit(unit, "H")[0].code


def make_home(home: Path, units: tuple[str, ...] = (UNIT_A, UNIT_B)) -> Path:
    """Open 2025H2 and 2026H1, load accepted 2025H2 reports of `units`, publish the snapshot."""
    import catalog
    from baocao.resources import live
    from baocao.services import cycles, process
    from baocao.settings import settings
    from intake import store as store_mod

    cat = catalog.load()
    s = settings(home)
    res = live(s)
    try:
        now = datetime(2026, 7, 1, 8, tzinfo=UTC)
        for period in (PREVIOUS, PERIOD):
            cycles.open_cycle(res, period, [dataset_of(units[0], cat)], now=now)
        src = home / "seed"
        src.mkdir(parents=True, exist_ok=True)
        for u in units:
            p = src / f"{u}.xlsx"
            p.write_bytes(workbook(u, PREVIOUS, cat))
            store_mod.store_file(p, u, s.store, received_at=datetime(2026, 1, 5, tzinfo=UTC))
        process.process(res)
        cycles.close_cycle(res, PREVIOUS, now=datetime(2026, 2, 1, tzinfo=UTC))
        process.aggregate(res)
        process.publish_all(res)
    finally:
        res.close()
    return home


class Server:
    """The app served by uvicorn on 127.0.0.1 in a thread (for the browser tests and the bench)."""

    def __init__(self, app, port: int):
        import uvicorn

        self.port = port
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the web server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)
