"""The national benchmark runs end to end at scale 0.01 (about 15 s on an idle 2-core machine; the
timeout leaves room for a loaded one) and prints its machine-readable figures."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ["cycle_seconds", "floor_seconds", "cycle_over_floor", "naive_per_file_s", "baocao_per_file_s",
           "naive_over_baocao_per_file", "peak_rss_mb"]
STAGES = ["open", "collect", "pending", "parse", "validate", "load", "aggregate", "enqueue", "publish", "deliver"]


@pytest.mark.timeout(150)
def test_bench_smoke_scale_001(tmp_path):
    env = dict(os.environ, DO_NOT_TRACK="1", GX_ANALYTICS_ENABLED="false", PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_LOGGING_LEVEL="WARNING")
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--scale", "0.01", "--naive-files", "3",
                           "--workdir", str(tmp_path / "bench")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = dict(line.split("=", 1) for line in proc.stdout.splitlines()
                 if "=" in line and not line.startswith(("#", " ")) and " " not in line.split("=", 1)[0])
    for key in FIGURES + [f"stage_{s}_seconds" for s in STAGES]:
        assert key in lines, f"{key} missing from:\n{proc.stdout}"
        value = float(lines[key])
        assert math.isfinite(value) and value >= 0, (key, value)
    assert float(lines["cycle_seconds"]) > 0
    assert int(lines["files"]) == int(lines["communes"]) > 0
    assert not (tmp_path / "bench").exists()  # the generated folder is removed unless --keep
