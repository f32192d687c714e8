"""The shape of the codebase that docs/architecture.md promises a newcomer.

These read einviz's source as text (``ast``): file and function sizes, the import graph with
the imports made inside functions counted, and no submodule hidden by a function.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import einviz

PACKAGE = Path(einviz.__file__).parent
MAX_MODULE_LINES = 1000
MAX_FUNCTION_LINES = 80


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_block(node: ast.AST) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, (ast.Name, ast.Attribute))
            and "TYPE_CHECKING" in ast.unparse(node.test))


def _imports(module: str, tree: ast.AST) -> set[str]:
    """The einviz modules ``module`` imports anywhere, inside functions too, but not the imports
    under ``if TYPE_CHECKING:``, which never run."""
    package = module if SOURCES[module].name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking_block(node):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and ast.unparse(node.func).endswith("import_module")
              and node.args and isinstance(node.args[0], ast.Constant)):
            found.add(str(node.args[0].value))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if name in SOURCES and name != module}


def _graph() -> dict[str, set[str]]:
    graph = {}
    for module, path in SOURCES.items():
        graph[module] = _imports(module, ast.parse(path.read_text(encoding="utf-8")))
    # A package's __init__ re-exports; importing a submodule runs it, so it does not count as
    # an edge back (einviz.render.layout importing einviz.render.text runs einviz.render first).
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt == "einviz" or (SOURCES[nxt].name == "__init__.py" and node.startswith(nxt + ".")):
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := walk(node)):
            return found
    return None


def test_no_import_cycle_counting_imports_inside_functions():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle():
    graph = {"einviz.planning": {"einviz.tracing"}, "einviz.tracing": {"einviz.planning"}}
    saved = dict(SOURCES)
    try:
        SOURCES.update({name: PACKAGE / "planning.py" for name in graph})
        assert _cycle(graph) == ["einviz.planning", "einviz.tracing", "einviz.planning"]
    finally:
        SOURCES.clear()
        SOURCES.update(saved)


def test_imports_inside_functions_count():
    tree = ast.parse("def f():\n    from .tracing import Trace\n")
    assert _imports("einviz.planning", tree) == {"einviz.tracing"}
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .tracing import Trace\n")
    assert _imports("einviz.planning", tree) == set()


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_no_module_is_over_1000_lines(module):
    lines = SOURCES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines: split it by its jobs"


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """A function's lines from ``def`` to its end, less its docstring (prose, not code)."""
    lines = (node.end_lineno or node.lineno) - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(
            first.value.value, str):
        lines -= (first.end_lineno or first.lineno) - first.lineno + 1
    return lines


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_no_function_is_over_80_lines(module):
    tree = ast.parse(SOURCES[module].read_text(encoding="utf-8"))
    long = [f"{node.name} ({_code_lines(node)} lines)" for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and _code_lines(node) > MAX_FUNCTION_LINES]
    assert not long, f"{module}: " + ", ".join(long)


def test_no_submodule_is_hidden_by_a_function():
    # `import einviz.planning as p` must give the module, not the function einviz.plan.
    for info in pkgutil.iter_modules(einviz.__path__):
        exported = getattr(einviz, info.name, None)
        if exported is not None and info.name in einviz.__all__:
            importlib.import_module(f"einviz.{info.name}")
            assert not callable(exported) or isinstance(exported, type(einviz)), (
                f"einviz.{info.name} is both a submodule and a public function")


def test_renderers_never_import_the_figure_objects_or_the_analyses_that_use_them():
    graph = _graph()
    forbidden = {"einviz.animation", "einviz.paths", "einviz.recording", "einviz.backends",
                 "einviz.cli"}
    for module, imported in graph.items():
        if module.startswith("einviz.render"):
            assert not imported & forbidden, f"{module} imports {sorted(imported & forbidden)}"
