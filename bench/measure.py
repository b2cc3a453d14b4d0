"""Per-stage wall time, CPU time and peak resident memory.

Peak RSS per stage comes from the kernel's high-water mark (VmHWM in /proc/self/status), reset at
the start of each stage by writing 5 to /proc/self/clear_refs (Linux ≥ 4.0). Where that is not
allowed, a 10 ms sampling thread is used instead. Both count the whole process (DuckDB's and
calamine's native memory included), which tracemalloc would not. `Meter(trace=True)`
(`bench.run --trace-memory`) also follows Python's own allocations with tracemalloc: the heap
held at the end of each stage, its peak during the stage and the lines that hold the most; it
slows Python allocation down several-fold, so its run is for finding where memory goes, not for
the figures.
"""

from __future__ import annotations

import resource
import threading
import time
import tracemalloc
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR = Path("/proc/self/clear_refs")


def rss_mb() -> float:
    """Current resident set size (MB)."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _hwm_mb() -> float | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_hwm() -> bool:
    try:
        _CLEAR.write_text("5")
        return True
    except OSError:
        return False


def children_pss_mb() -> float:
    """Proportional set size of this process's descendants (the parse workers and their forkserver;
    shared pages counted once across them): the memory the cycle holds outside this process."""
    import os

    me, parent = str(os.getpid()), {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                parent[d] = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1]
            except (OSError, IndexError):
                pass
    mine, todo = set(), [me]
    while todo:
        p = todo.pop()
        for c, pp in parent.items():
            if pp == p and c not in mine:
                mine.add(c)
                todo.append(c)
    total = 0
    for d in mine:
        try:
            for line in Path(f"/proc/{d}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def maxrss_mb() -> float:
    """getrusage's lifetime peak of this process (MB; ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Sampler:
    def __init__(self, interval: float = 0.01):
        self.interval, self.peak, self._stop = interval, 0.0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            self._stop.wait(self.interval)

    def __enter__(self):
        self.peak = rss_mb()
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss_mb())


@dataclass
class Stage:
    name: str
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    rows: int = 0
    unit: str = "rows"
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")


class Meter:
    def __init__(self, trace: bool = False) -> None:
        self.stages: list[Stage] = []
        self.hwm_method = "VmHWM reset" if _reset_hwm() and _hwm_mb() is not None else "10 ms sampling"
        self.trace = trace
        if trace and not tracemalloc.is_tracing():
            tracemalloc.start(1)

    @contextmanager
    def stage(self, name: str, unit: str = "rows"):
        st = Stage(name, unit=unit)
        use_hwm = self.hwm_method == "VmHWM reset" and _reset_hwm()
        sampler = None if use_hwm else _Sampler().__enter__()
        if self.trace:
            tracemalloc.reset_peak()
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            yield st
        finally:
            st.seconds = time.perf_counter() - t0
            st.cpu_seconds = time.process_time() - c0
            if sampler is not None:
                sampler.__exit__(None, None, None)
                st.peak_rss_mb = sampler.peak
            else:
                st.peak_rss_mb = _hwm_mb() or rss_mb()
            st.extra["rss_end_mb"] = rss_mb()
            st.extra["children_pss_mb"] = children_pss_mb()
            if self.trace:
                cur, peak = tracemalloc.get_traced_memory()
                st.extra.update(py_held_mb=cur / 1048576, py_peak_mb=peak / 1048576,
                                py_top=tracemalloc.take_snapshot().statistics("lineno")[:6])
            self.stages.append(st)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.stages)

    @property
    def workers_pss_mb(self) -> float:
        return max((s.extra.get("children_pss_mb", 0.0) for s in self.stages), default=0.0)

    @property
    def peak_rss_mb(self) -> float:
        return max((s.peak_rss_mb for s in self.stages), default=0.0)

    def table(self) -> str:
        head = (f"{'stage':<10} {'wall s':>8} {'cpu s':>8} {'rows':>9} {'rows/s':>11} {'peak RSS MB':>12}"
                f" {'RSS at end':>10} {'workers':>8}  what")
        lines = [head, "-" * len(head)]
        for s in self.stages:
            lines.append(f"{s.name:<10} {s.seconds:>8.2f} {s.cpu_seconds:>8.2f} {s.rows:>9} {s.rate:>11,.0f}"
                         f" {s.peak_rss_mb:>12.0f} {s.extra.get('rss_end_mb', 0):>10.0f}"
                         f" {s.extra.get('children_pss_mb', 0):>8.0f}"
                         f"  {s.unit}{'; ' + s.note if s.note else ''}")
        lines.append(f"{'total':<10} {self.seconds:>8.2f} {sum(s.cpu_seconds for s in self.stages):>8.2f}"
                     f" {'':>9} {'':>11} {self.peak_rss_mb:>12.0f} {'':>10} {self.workers_pss_mb:>8.0f}")
        lines.append("peak RSS: this process (VmHWM); workers: PSS of its child processes (parse workers, forkserver)"
                     " at the end of the stage")
        if self.trace:
            lines.append("Python heap (tracemalloc): held at the end of each stage / peak during it, and the lines holding most")
            for s in self.stages:
                lines.append(f"  {s.name:<10} held {s.extra['py_held_mb']:>7.0f} MB  peak {s.extra['py_peak_mb']:>7.0f} MB"
                             f"  RSS at end {s.extra['rss_end_mb']:>6.0f} MB")
                for stat in s.extra["py_top"]:
                    fr = stat.traceback[0]
                    lines.append(f"      {stat.size / 1048576:>7.1f} MB  {fr.filename.split('/site-packages/')[-1]}:{fr.lineno}")
        return "\n".join(lines)
