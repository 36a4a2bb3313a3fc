"""The package's shape (issue #15): no module reads another's private attributes, no import
cycle, no module far over 400 lines. Checked on the source text (``ast``), so every import and
attribute counts, those under ``TYPE_CHECKING`` and inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Import prefix -> source folder.
PACKAGES = {"carbon_cpn": "carbon_cpn"}
MAX_LINES = 420  # "about 400"
#: Private attributes of third-party objects read on purpose, with the reason.
ALLOWED_PRIVATE = {
    ("carbon_cpn/optim/grid.py", "_pd2ppc_lookups"): "pandapower's bus -> matrix-row lookup has no public accessor",
}


def _modules() -> dict[str, Path]:
    out = {}
    for prefix, folder in PACKAGES.items():
        base = ROOT / folder
        for p in base.rglob("*.py"):
            rel = p.relative_to(base).with_suffix("")
            parts = [x for x in rel.parts if x != "__init__"]
            out[".".join([prefix, *parts])] = p
    return out


MODULES = _modules()


def _resolve(module: str, level: int, name: str | None, here: str, is_pkg: bool) -> str:
    if level == 0:
        return module
    base = here.split(".")
    base = base if is_pkg else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _imports(mod: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node.module or "", node.level, None, mod, is_pkg)
            names = [target] + [f"{target}.{a.name}" for a in node.names]
        else:
            continue
        for n in names:
            # The longest known module that ``n`` names (``a.b.c`` may be a name in ``a.b``).
            while n and n not in MODULES:
                n = n.rpartition(".")[0]
            if n and n != mod and not mod.startswith(n + "."):
                out.add(n)
    return out


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


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    # Package __init__ modules re-export their children; an edge from a child to its own
    # package's __init__ is the normal "from the package import the public name" and counts.
    graph = {m: _imports(m, p) for m, p in MODULES.items()}
    assert _cycles(graph) == []


def _private_reads(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    own = set()  # private names this module defines itself (functions, classes, attributes)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            own.add(node.attr)
    rel = path.relative_to(ROOT).as_posix()
    bad = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
            continue
        v = node.value
        if isinstance(v, ast.Name) and v.id in ("self", "cls"):
            continue
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "super":
            continue  # a subclass extending its base's hook
        if node.attr in own or (rel, node.attr) in ALLOWED_PRIVATE:
            continue
        bad.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    return bad


def test_private_reads_are_found() -> None:
    src = ROOT / "tests" / "architecture" / "_probe.py"
    try:
        src.write_text("def f(x):\n    return x._hidden\n")
        assert _private_reads(src) == ["tests/architecture/_probe.py:2: x._hidden"]
    finally:
        src.unlink()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_reads_another_modules_private_attributes(module: str) -> None:
    assert _private_reads(MODULES[module]) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_small(module: str) -> None:
    n = len(MODULES[module].read_text().splitlines())
    assert n <= MAX_LINES, f"{MODULES[module].relative_to(ROOT)}: {n} lines (about 400 at most)"
