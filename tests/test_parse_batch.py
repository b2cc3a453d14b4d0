"""Parsing a batch on the bounded worker pool (intake.isolate) gives exactly what parsing
in-process gives, in order, hostile files included; a worker killed from outside costs time, not
files."""

from __future__ import annotations

import os
import signal

import pytest

import catalog
from intake import batch, isolate
from intake.parse import parse_file
from testing import demo
from tests import corpus


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    """The demo's 2026H1 inbox (valid, late and broken files) plus the hostile corpus."""
    root = tmp_path_factory.mktemp("batch")
    demo.generate(root / "inbox", "2026H1")
    out = [(p, p.parent.name) for p in sorted((root / "inbox").glob("*/*")) if p.is_file()]
    for path, exp in corpus.write_corpus(root / "corpus").values():
        out.append((path, exp["inbox_unit"]))
    return out


def _key(p):
    return (p.file_format, p.unit_code, p.period, p.dataset_code, p.values, p.tasks, p.texts,
            [(f.rule_id, f.sheet, f.cell, f.message_vi) for f in p.findings])


def test_pool_equals_in_process(items):
    cat = catalog.load()
    waited = []
    pooled = batch.parse_many(items, cat, n_workers=2, while_waiting=lambda: waited.append(os.getpid()))
    alone = [parse_file(p, inbox_unit=u, cat=cat) for p, u in items]
    assert waited == [os.getpid()]
    assert [p.path for p in pooled] == [p for p, _ in items]
    assert [_key(p) for p in pooled] == [_key(p) for p in alone]
    assert any(p.findings for p in pooled) and any(not p.has_errors for p in pooled)
    # the batch's rows share their short strings: one "sheet" object for every file's rows
    sheets = {id(v["sheet"]) for p in pooled for v in p.values}
    assert len(sheets) == len({v["sheet"] for p in pooled for v in p.values}) > 0
    codes = {id(v["element_code"]) for p in pooled for v in p.values}
    assert len(codes) == len({v["element_code"] for p in pooled for v in p.values})


def test_a_dead_worker_loses_no_file(items):
    cat = catalog.load()

    pool = isolate.pool(cat, 2)
    before = pool.replaced

    def kill_a_worker():
        import time

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # a worker that has taken a file, killed mid-batch
            busy = [w for w in pool.live if w.job is not None]
            if busy:
                os.kill(busy[0].proc.pid, signal.SIGKILL)
                return
            time.sleep(0.0005)
        raise AssertionError("no parse worker ever took a file")

    out = batch.parse_many(items, cat, n_workers=2, while_waiting=kill_a_worker)
    assert pool.replaced == before + 1
    assert [p.path for p in out] == [p for p, _ in items]
    assert [_key(p) for p in out] == [_key(parse_file(p, inbox_unit=u, cat=cat)) for p, u in items]
