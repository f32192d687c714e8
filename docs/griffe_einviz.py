"""A griffe extension for the API reference: einviz's public names, and its docstrings as Markdown.

1. ``einviz/__init__.py`` loads some names lazily (a module ``__getattr__``), which reading the
   source cannot see. Each name of ``einviz.__all__`` that the static tree lacks becomes an alias
   of the object the running package gives for it, wherever its code lives, so the reference
   pages can say ``::: einviz.animate`` and survive modules being moved.
2. The docstrings are Google style with bare ``>>>`` examples and Sphinx roles
   (``:func:`plan```). Markdown would read an example as a quote and its output's brackets as
   links, so each run of ``>>>`` lines with its output becomes a fenced ``pycon`` block, and a
   role becomes inline code, a link when it names one of ``einviz.__all__``.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
from pathlib import Path
from typing import Any

import griffe

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "einviz"
ROLE = re.compile(r":(?:func|class|meth|attr|data|mod|obj|exc):`~?([^`]+)`")
PROMPT = re.compile(r"^(\s*)>>>( |$)")
FENCE = re.compile(r"^\s*(```|~~~)")


def _runtime_package() -> Any:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(PACKAGE)


def fence_examples(text: str) -> str:
    """Wrap each run of ``>>>`` lines (and the output under them) in a ``pycon`` fence.

    >>> fence_examples("Add.\\n>>> 1 + 1\\n2").splitlines()
    ['Add.', '', '```pycon', '>>> 1 + 1', '2', '```']
    """
    out: list[str] = []
    lines = text.splitlines()
    k = 0
    in_fence = False
    while k < len(lines):
        line = lines[k]
        if FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else PROMPT.match(line)
        if match is None:
            out.append(line)
            k += 1
            continue
        indent = match.group(1)
        if out and out[-1].strip():
            out.append("")
        out.append(f"{indent}```pycon")
        while k < len(lines) and lines[k].strip():
            out.append(lines[k])
            k += 1
        out.append(f"{indent}```")  # the run ended at a blank line or at the end
    return "\n".join(out)


def documented_path(name: str) -> str:
    """Where the reference documents the public name ``einviz.<name>``.

    Its own path, unless a submodule has the same name (``einviz.plan`` the function and
    ``einviz.plan`` the module): reading the source, ``einviz.plan`` is then the module, so
    the function is documented where its code lives (under the heading ``einviz.plan``).
    """
    value = getattr(_runtime_package(), name)
    if not inspect.ismodule(value) and importlib.util.find_spec(f"{PACKAGE}.{name}") is not None:
        return f"{value.__module__}.{value.__qualname__}"
    return f"{PACKAGE}.{name}"


def _roles(text: str, public: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1).removeprefix(f"{PACKAGE}.")
        if name in public:
            return f"[`{name}`][{public[name]}]"
        return f"`{name}`"

    return ROLE.sub(replace, text)


def _objects(obj: griffe.Object) -> Any:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)  # type: ignore[arg-type]


class EinvizReference(griffe.Extension):
    """Adds the lazily loaded public names and makes the docstrings read as Markdown."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if pkg.name != PACKAGE:
            return
        runtime = _runtime_package()
        public = {name: documented_path(name) for name in runtime.__all__}
        for name in runtime.__all__:
            if name in pkg.members:
                continue
            value = getattr(runtime, name)
            module = getattr(value, "__module__", None)
            if module is None:  # data without a home module: its page then says it is not found
                continue
            target = f"{module}.{getattr(value, '__qualname__', name)}"
            pkg.set_member(name, griffe.Alias(name, target, parent=pkg))
        for obj in _objects(pkg):
            if obj.docstring is not None:
                obj.docstring.value = _roles(fence_examples(obj.docstring.value), public)
