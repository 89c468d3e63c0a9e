"""The package's import graph has no cycles: each module's imports are read with ast, so a cycle
is found without importing anything (an import cycle often works until the order changes)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted name -> file of every module of ``package`` under ``root`` (a package is its __init__)."""
    names = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _imports(tree: ast.AST, top_level: bool) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of ``tree``; ``top_level``: only those that run when the module is
    imported (not inside functions, nor under ``if TYPE_CHECKING:``)."""
    found, todo = [], [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        if top_level and (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) or (
                isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test))):
            continue
        todo.extend(ast.iter_child_nodes(node))
    return found


def import_graph(root: Path, package: str, top_level: bool) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports. ``from X import Y`` counts as importing
    X.Y when that is a module, else X; a relative import is resolved against the module's package."""
    modules = _module_names(root, package)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        targets = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8")), top_level):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
                continue
            base = node.module or ""
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, ..., a], or None (depth-first search, in sorted order)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_the_checker_finds_and_names_a_cycle_and_resolves_imports(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "from pkg.a import f\n",
        "pkg/a.py": "from pkg.sub import b\ndef f():\n    from pkg import c\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/b.py": "from ..c import g\nimport os\n",
        "pkg/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\nfrom . import sub\n",
    })
    top = import_graph(tmp_path, "pkg", top_level=True)
    assert top == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.sub.b"}, "pkg.sub": set(), "pkg.sub.b": {"pkg.c"},
                   "pkg.c": {"pkg.sub"}}
    assert find_cycle(top) is None
    every = import_graph(tmp_path, "pkg", top_level=False)  # the import inside f() and under TYPE_CHECKING count
    assert every["pkg.a"] == {"pkg.sub.b", "pkg.c"} and every["pkg.c"] == {"pkg.sub", "pkg.a"}
    assert find_cycle(every) == ["pkg.a", "pkg.c", "pkg.a"]


@pytest.mark.parametrize("top_level", [True, False], ids=["module-level", "also-inside-functions"])
def test_no_module_of_the_package_imports_itself_back(top_level):
    """Module-level imports: no cycle at all. Imports inside functions too (they load lazily, so a
    cycle there works, but two modules that need each other should share a third)."""
    graph = import_graph(ROOT, "sasr_lite", top_level)
    assert len(graph) > 50 and "sasr_lite.config" in graph["sasr_lite.train"]  # the graph was read
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
