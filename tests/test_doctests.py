"""Every ``>>>`` example in einviz's docstrings runs and prints what it says."""

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import einviz

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(einviz.__path__, "einviz.")
    if name not in ("einviz.__main__",)
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with np.printoptions(legacy=False):
        failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failed == 0, f"{failed} docstring example(s) failed in {name}"
