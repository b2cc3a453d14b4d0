"""Bounded fuzzing of intake: valid workbooks and CSVs mutated at random (bytes, sheet XML, zip
entries) and parsed by the real parser in its bounded workers. Every file must end accepted or
with a finding (never an exception, never past its limit), and a sample goes through `process`
on a real warehouse. BAOCAO_FUZZ_SECONDS (default 60) lengthens the run, BAOCAO_FUZZ_SEED
repeats one; the counts are printed (pytest -s) for the record."""

from __future__ import annotations

import collections
import io
import os
import random
import re
import time
from datetime import UTC, datetime

from baocao.services import process
from baocao.settings import settings
from intake import isolate
from intake import store as store_mod
from testing import demo
from tests import hostile

CAT = hostile.CAT
SECONDS = float(os.environ.get("BAOCAO_FUZZ_SECONDS", "60"))
SEED = int(os.environ.get("BAOCAO_FUZZ_SEED", str(int(time.time()) % 100_000)))
NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


def _csv(unit: str) -> bytes:
    buf = io.BytesIO()
    path = f"/tmp/fuzz-{os.getpid()}-{unit}.csv"
    demo.write_csv(__import__("pathlib").Path(path), unit, hostile.PERIOD, hostile.DATASET, hostile.values_for(unit),
                   demo._tasks(random.Random(unit), CAT, hostile.DATASET, unit), {})
    with open(path, "rb") as fh:
        buf.write(fh.read())
    os.unlink(path)
    return buf.getvalue()


def _bytes(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        i = rng.randrange(max(1, len(b)))
        if op < 0.4 and b:
            b[i] = rng.randrange(256)
        elif op < 0.6:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op < 0.8 and b:
            del b[i:i + rng.randint(1, 64)]
        else:
            b = b[: rng.randrange(max(1, len(b)))]
    return bytes(b)


_XML_EDITS = [
    lambda rng, x: x.replace(b"<c ", b"<c\t", rng.randint(1, 50)),
    lambda rng, x: re.sub(rb'r="([A-Z]+)(\d+)"', lambda m: b'r="XFD%d"' % rng.choice([1048576, 99999, 70000]), x, count=1),
    lambda rng, x: re.sub(rb"<v>[^<]*</v>", lambda m: b"<v>" + rng.choice([b"1e308", b"-0", b"NaN", b"\xd9\xa5",
                                                                              b"=1+1", b"#DIV/0!", b""]) + b"</v>", x, count=3),
    lambda rng, x: x.replace(b"</c>", b"", rng.randint(1, 200)),
    lambda rng, x: x.replace(b"</sheetData>", b"</sheetData><mergeCells>" + b'<mergeCell ref="A1:Z9"/>' * rng.randint(1, 5000)
                                                + b"</mergeCells>", 1),
    lambda rng, x: x.replace(b'<row r="5"', b'<row r="\xd9\xa5"', 1),
    lambda rng, x: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]>' + x.split(b"?>", 1)[-1],
    lambda rng, x: x.replace(b't="n"', b't="e"', 3).replace(b'<c r="D', b'<c t="e" r="D', 2),
    lambda rng, x: x.replace(b"<v>", b"<f>1/0</f><v>", rng.randint(1, 5)),
]


def _xml(rng: random.Random, data: bytes) -> bytes:
    parts = hostile.members(data)
    name = rng.choice([n for n in parts if n.endswith(".xml")])
    for _ in range(rng.randint(1, 3)):
        parts[name] = rng.choice(_XML_EDITS)(rng, parts[name])
    return hostile.pack(parts)


def _zip(rng: random.Random, data: bytes) -> bytes:
    parts = hostile.members(data)
    names = list(parts)
    op = rng.random()
    victim = rng.choice(names)
    if op < 0.3:
        del parts[victim]
    elif op < 0.5:
        parts[victim.replace("xl/", "xl/x")] = parts.pop(victim)
    elif op < 0.7:
        parts["xl/vbaProject.bin"] = os.urandom(rng.randint(0, 4096))
    elif op < 0.85:
        parts[victim] = b""
    else:
        parts[f"xl/worksheets/sheet{rng.randint(5, 9)}.xml"] = parts[victim]
    return hostile.pack(parts)


def test_fuzzed_files_end_accepted_or_with_a_finding(tmp_path, capsys):
    rng = random.Random(SEED)
    units = hostile.communes(4)
    seeds = {u: (hostile.workbook_bytes(u), _csv(u)) for u in units}
    pool = isolate.Pool(CAT, seconds=10)
    counts: collections.Counter = collections.Counter()
    sample: list[tuple[str, bytes, str]] = []
    deadline = time.monotonic() + SECONDS
    n = 0
    try:
        while time.monotonic() < deadline:
            batch = []
            for _ in range(16):
                unit = rng.choice(units)
                xlsx, csv_ = seeds[unit]
                how = rng.choice(["bytes", "xml", "zip", "csv"])
                mutate = {"bytes": _bytes, "xml": _xml, "zip": _zip, "csv": _bytes}[how]
                data = mutate(rng, csv_ if how == "csv" else xlsx)
                name = "bao_cao.csv" if how == "csv" else "bao_cao.xlsx"
                p = tmp_path / f"m{n}.{name.rsplit('.', 1)[1]}"
                p.write_bytes(data)
                n += 1
                batch.append((p, unit, name, how))
                if len(sample) < 24 and rng.random() < 0.2:
                    sample.append((unit, data, name))
            started = time.monotonic()
            out = pool.parse([(p, u, name) for p, u, name, _ in batch])
            assert time.monotonic() - started < 16 * (pool.seconds + 5)  # nothing ran past its limit unseen
            for (_p, _u, _n, how), res in zip(batch, out, strict=True):
                counts[how] += 1
                if res.has_errors or res.findings:
                    rules = sorted({f.rule_id for f in res.findings if f.severity == "error"}) or ["warnings"]
                    counts["finding " + rules[0]] += 1
                    for f in res.findings:
                        assert f.rule_id and f.message_vi and f.message_en, f
                else:
                    counts["accepted"] += 1  # (validation then judges what it holds)
    finally:
        pool.close()
    assert n >= 16 and sum(v for k, v in counts.items() if k.startswith(("finding", "accepted"))) == n
    # a sample through the whole run on a real warehouse: the run itself never fails
    s = settings(tmp_path / "home")
    res = hostile.resources(s.home, NOW)
    for unit, data, name in sample:
        store_mod.receive(s.store, unit, data, name, source="inbox", received_at=NOW, cat=CAT)
    records = process.process(res)
    assert len(records) == len({(u, d) for u, d, _ in sample}) and process.process(res) == []
    res.close()
    with capsys.disabled():
        print(f"\nfuzz seed={SEED} seconds={SECONDS:g} files={n} " + " ".join(f"{k}={v}" for k, v in sorted(counts.items())))
