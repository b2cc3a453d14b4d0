"""The web answerer on a real home: a pass that fails (here: the first one, as when the Prefect API
refuses the warehouse slot under load) is tried again by itself, so an upload whose request was
already taken is still answered without another upload coming (the burst "stall")."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tests import web_fixtures as wf

pytestmark = pytest.mark.timeout(600)


def test_a_failed_pass_is_tried_again_without_a_new_request(tmp_path):
    from baocao.settings import settings
    from intake import store as store_mod
    from web.answer import Answerer, read_result

    class FirstPassFails(Answerer):
        """The real answerer whose first answer pass raises, as a refused slot does."""

        failed = 0

        def _answer(self, res, asked):
            if not self.failed:
                self.failed += 1
                raise ConnectionError("the Prefect API refused the slot (503)")
            return super()._answer(res, asked)

    home = wf.make_home(tmp_path / "home")
    s = settings(home)
    answerer = FirstPassFails(s, refresh=False).start()
    try:
        assert answerer.ready.wait(300)
        stored = store_mod.receive(s.store, wf.UNIT_A, wf.workbook(wf.UNIT_A), "a.xlsx", source="web",
                                   received_at=datetime.now(UTC))
        answerer.request(stored.submission_id)  # the only request: nothing else wakes the answerer
        deadline = time.monotonic() + 120
        while read_result(s, wf.UNIT_A, stored.submission_id) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        result = read_result(s, wf.UNIT_A, stored.submission_id)
        assert answerer.failed == 1 and "503" in (answerer.last_error or "")
        assert result is not None, "the failed pass was never tried again"
        assert result["status"] == "accepted" and result["unit_code"] == wf.UNIT_A
        assert answerer.passes == 1  # the one successful pass answered it
    finally:
        answerer.stop()
