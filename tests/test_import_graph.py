"""Rooms and doors, read from the source (every import, including those inside functions):
no import cycle between app modules, app/ never imports Qt, ui/ never imports the ML
runtimes, engines/ knows no cameras or windows."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _modules(package: str) -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _graph(package: str) -> dict[str, set[str]]:
    mods = _modules(package)
    graph = {}
    for name, path in mods.items():
        deps = set()
        for imp in _imports(path):
            # "from app import bench" names the module app.bench; a plain package import
            # (app.mapping) is the package's __init__.
            while imp and imp not in mods:
                imp = imp.rpartition(".")[0]
            if imp and imp != name and imp != package:
                deps.add(imp)
        graph[name] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
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
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_app_modules():
    graph = _graph("app")
    assert "app.cli" in graph and "app.build" in graph["app.cli"]  # the graph is read
    assert _cycles(graph) == []


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for name, path in _modules(package).items():
        for imp in _imports(path):
            if imp.split(".")[0] in forbidden:
                bad.append(f"{name} imports {imp}")
    return bad


def test_app_never_imports_qt():
    assert _offenders("app", ("PySide6", "PyQt5", "PyQt6", "shiboken6")) == []


def test_ui_never_imports_the_ml_runtimes():
    assert _offenders("ui", ("torch", "onnxruntime", "mediapipe")) == []


def test_engines_know_no_cameras_or_windows():
    assert _offenders("engines", ("PySide6", "PyQt5", "PyQt6", "mediapipe", "pyvirtualcam")) == []
    assert not [m for m, deps in _graph("engines").items() for d in deps if d.startswith("app")]
