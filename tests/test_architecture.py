"""The shape of the project: a core that imports no framework, no import circles, a wheel
without test fakes."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("prefect", "duckdb", "typer", "slack_sdk")
PACKAGES = ("baocao", "cli", "catalog", "intake", "expectations", "warehouse", "notifications", "reports", "tasks",
            "flows", "testing", "bench")


def _modules(package: str) -> list[str]:
    base = ROOT / package
    out = []
    for p in sorted(base.rglob("*.py")):
        parts = p.relative_to(ROOT).with_suffix("").parts
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


CORE = _modules("baocao")


def test_the_core_imports_no_framework():
    """Each module of baocao/ (the core: calendar, findings, events, settings, resources, text,
    runners, services) imported alone in a fresh interpreter pulls in none of the frameworks."""
    code = f"""
import importlib, json, sys
out = {{}}
for name in {CORE!r}:
    before = set(sys.modules)
    importlib.import_module(name)
    out[name] = sorted({{m.split('.')[0] for m in set(sys.modules) - before}} & set({FRAMEWORKS!r}))
print(json.dumps(out))
"""
    # one interpreter per module: what one imports must not hide what another would
    found = {}
    for name in CORE:
        proc = subprocess.run([sys.executable, "-c", code.replace(repr(CORE), repr([name]))], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        found.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert set(found) == set(CORE) and len(CORE) >= 10
    assert {m: fw for m, fw in found.items() if fw} == {}


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """Project modules `module` imports at module level (not inside functions: those are deferred
    on purpose and cannot form an import-time circle)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    for node in tree.body:
        stmts = [node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Try):
            stmts = node.body
        for stmt in stmts:
            if isinstance(stmt, ast.Import):
                out |= {m for a in stmt.names if (m := resolve(a.name))}
            elif isinstance(stmt, ast.ImportFrom):
                base = stmt.module or ""
                if stmt.level:
                    up = package.split(".")[: len(package.split(".")) - (stmt.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                for a in stmt.names:
                    m = resolve(f"{base}.{a.name}") if f"{base}.{a.name}" in known else resolve(base)
                    if m:
                        out.add(m)
    out.discard(module)
    return out


def import_graph() -> dict[str, set[str]]:
    paths = {}
    for pkg in PACKAGES:
        for p in sorted((ROOT / pkg).rglob("*.py")):
            parts = p.relative_to(ROOT).with_suffix("").parts
            paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    known = set(paths)
    return {m: _imports(m, p, known) for m, p in paths.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    graph = import_graph()
    assert len(graph) > 60
    assert graph["flows.cycle"] >= {"tasks.cycle"}  # the walk sees real edges
    assert circles(graph) == []


def test_cli_and_core_stay_apart():
    graph = import_graph()
    assert not any(m.startswith("cli") for m in graph["testing.pg"])
    for m, deps in graph.items():
        if m.startswith(("baocao", "intake", "warehouse", "expectations", "notifications", "reports", "catalog")):
            assert not {d for d in deps if d.startswith(("cli", "testing", "tests", "bench", "flows", "tasks"))}, m


@pytest.mark.timeout(900)
def test_the_wheel_ships_no_test_fake(tmp_path):
    uv = ROOT / ".venv" / "bin" / "uv"
    cmd = [str(uv), "build", "--wheel", "--out-dir", str(tmp_path)] if uv.exists() else \
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(ROOT)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=850)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = tmp_path.glob("baocao-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "baocao/services/process.py" in names and "cli/app.py" in names and "reports/xlsx.py" in names
    tops = {n.split("/")[0] for n in names if "/" in n and ".dist-info" not in n}
    assert tops == {"baocao", "cli", "catalog", "intake", "expectations", "warehouse", "notifications", "reports",
                    "tasks", "flows"}, tops
    assert not [n for n in names if "slack_server" in n or n.startswith(("testing/", "tests/", "bench/"))]
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "baocao = cli.app:app" in entry
