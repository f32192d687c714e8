"""numpy's own einsum tests, run against ``einviz.einsum``.

numpy ships its einsum tests as ``numpy/_core/tests/test_einsum.py`` (``numpy/core/...``
before numpy 2). This module reads that file from the installed numpy, points every
``np.einsum`` in it at ``einviz.einsum`` (``np.einsum_path`` stays numpy's), runs the
rewritten text and hands its test classes and functions to pytest. Each numpy case is then
collected and reported here as a test of its own::

    pytest tests/test_numpy_suite.py
    tests/test_numpy_suite.py::TestEinsum::test_einsum_views PASSED

numpy itself is never patched, so einviz stays free to use numpy internally. The rewrite
keeps every line where it was, and tracebacks show the rewritten line.

A case that tests numpy's internals rather than einsum's behaviour is expected to fail: it is
listed in ``XFAIL`` with its reason in one line. Everything else must pass.
"""

from __future__ import annotations

import linecache
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import einviz
from einviz import einsum as einviz_einsum

#: numpy cases that test numpy's internals rather than einsum's behaviour: name -> reason.
XFAIL: dict[str, str] = {
    "TestEinsum::test_einsum_0d_out": (
        "numpy's optimize path casts its BLAS result into an int64 out unsafely, which "
        "optimize=False refuses under casting='safe'; einviz follows optimize=False for every "
        "optimize (docs/api.md; test_0d_out)"
    ),
}

#: ``np.einsum`` (or ``numpy.einsum``) but not ``np.einsum_path``: ``\b`` ends the name.
NUMPY_EINSUM = re.compile(r"\b(?:np|numpy)\.einsum\b")
REPLACEMENT = "einviz_einsum"


def numpy_test_file() -> Path | None:
    """The installed numpy's einsum test module, or ``None`` if numpy does not ship it."""
    root = Path(np.__file__).parent
    for package in ("_core", "core"):
        path = root / package / "tests" / "test_einsum.py"
        if path.is_file():
            return path
    return None


def rewrite(source: str) -> str:
    """numpy's test source with its ``np.einsum`` pointed at ``einviz_einsum``, line for line."""
    return NUMPY_EINSUM.sub(REPLACEMENT, source)


NUMPY_TEST_FILE = numpy_test_file()
if NUMPY_TEST_FILE is None:
    pytest.skip(
        f"numpy {np.__version__} does not ship its einsum tests (numpy/_core/tests/test_einsum.py)",
        allow_module_level=True,
    )

SOURCE = NUMPY_TEST_FILE.read_text(encoding="utf-8")
REWRITTEN = rewrite(SOURCE)
# The name tracebacks show; registered with linecache so they can print the rewritten lines.
REWRITTEN_NAME = f"{NUMPY_TEST_FILE} [np.einsum -> einviz.einsum]"
linecache.cache[REWRITTEN_NAME] = (
    len(REWRITTEN), None, REWRITTEN.splitlines(keepends=True), REWRITTEN_NAME
)

NUMPY_CASES: dict[str, Any] = {"__name__": f"{__name__}.numpy", REPLACEMENT: einviz_einsum}
exec(compile(REWRITTEN, REWRITTEN_NAME, "exec", dont_inherit=True), NUMPY_CASES)


def _mark_expected_failures() -> list[str]:
    """Mark every ``XFAIL`` case strict xfail; return the names that match no numpy case."""
    unknown = []
    for name, reason in XFAIL.items():
        owner, _, attribute = name.rpartition("::")
        holder = NUMPY_CASES.get(owner) if owner else None
        case = getattr(holder, attribute, None) if owner else NUMPY_CASES.get(attribute)
        if case is None:
            unknown.append(name)
        else:
            pytest.mark.xfail(reason=reason, strict=True)(case)
    return unknown


UNKNOWN_XFAIL = _mark_expected_failures()

# Hand numpy's test classes and functions to pytest, as if they were written here.
_collected: dict[str, Any] = {
    name: case for name, case in NUMPY_CASES.items() if name.startswith(("Test", "test_"))
}
assert not set(_collected) & set(globals()), "a numpy case shadows a name of this module"
globals().update(_collected)


# -- the harness itself ----------------------------------------------------------------------
def test_rewrite_points_every_einsum_call_at_einviz() -> None:
    assert NUMPY_CASES[REPLACEMENT] is einviz.einsum
    assert REWRITTEN.count(REPLACEMENT) == len(NUMPY_EINSUM.findall(SOURCE)) > 0
    assert NUMPY_EINSUM.search(REWRITTEN) is None
    assert REWRITTEN.count("np.einsum_path(") == SOURCE.count("np.einsum_path(")
    assert REWRITTEN.count("\n") == SOURCE.count("\n")


def test_every_xfail_names_a_numpy_case() -> None:
    assert UNKNOWN_XFAIL == [], f"XFAIL names cases numpy {np.__version__} lacks: {UNKNOWN_XFAIL}"


# -- what XFAIL leaves out of numpy's cases --------------------------------------------------
@pytest.mark.parametrize("optimize", [False, True, "greedy", "optimal"])
def test_0d_out(optimize: object) -> None:
    """numpy's test_einsum_0d_out (gh-31350) with an out that the result may be cast to."""
    a = np.ones(7)
    out = np.array(0.0)
    assert einviz_einsum("i,i->", a, a, out=out, optimize=optimize) is out
    assert out == 7
