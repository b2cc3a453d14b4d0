"""Parsing a batch on the process pool gives exactly what parsing in-process gives, in order,
hostile files included; a pool whose worker dies costs time, not files."""

from __future__ import annotations

import os
import signal

import pytest

import catalog
from intake import batch
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
    pooled = batch.parse_many(items, cat, n_workers=2, min_files=10, while_waiting=lambda: waited.append(os.getpid()))
    alone = batch.parse_many(items, cat, n_workers=1)
    assert waited == [os.getpid()]  # the pool ran (in-process parsing does not wait)
    assert [p.path for p in pooled] == [p for p, _ in items]
    assert [_key(p) for p in pooled] == [_key(p) for p in alone]
    assert any(p.findings for p in pooled) and any(not p.has_errors for p in pooled)


def test_a_dead_worker_loses_no_file(items):
    cat = catalog.load()

    def kill_a_worker():
        import multiprocessing

        kids = multiprocessing.active_children()
        assert kids, "the pool has workers"
        os.kill(kids[0].pid, signal.SIGKILL)

    out = batch.parse_many(items, cat, n_workers=2, min_files=10, while_waiting=kill_a_worker)
    assert [p.path for p in out] == [p for p, _ in items]
    assert [_key(p) for p in out] == [_key(p) for p in batch.parse_many(items, cat, n_workers=1)]
