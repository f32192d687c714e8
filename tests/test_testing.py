"""The public hypothesis strategies: every problem is valid, every knob is kept, every feature occurs."""

from __future__ import annotations

import ast
import doctest
import inspect
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import einviz.testing
from einviz import parse, plan
from einviz.subscripts import ELLIPSIS
from einviz.testing import (
    DEFAULT_DTYPES,
    EinsumProblem,
    einsum_operands,
    einsum_problems,
    subscripts,
)


def labelled_terms(text: str) -> list[tuple[str, ...]]:
    """The labels of each term, without the ellipsis."""
    return [tuple(label for label in term if label != ELLIPSIS) for term in parse(text).terms]


def broadcast_axes(problem: EinsumProblem) -> list[str]:
    """The labels (or ellipsis names) that some operand holds at size 1 against a larger size."""
    p = plan(*problem.args)
    return [
        p.terms[k][axis]
        for k, a in enumerate(problem.operands)
        for axis in range(a.ndim)
        if p.is_broadcast(k, axis)
    ]


def ellipsis_broadcasts(problem: EinsumProblem) -> bool:
    """Whether the '...' dimensions differ between operands (in rank or by size-1 axes)."""
    p = plan(*problem.args)
    if not p.ellipsis:
        return False
    held = [tuple(x for x in term if x in p.ellipsis) for term, source in
            zip(p.terms, p.equation.terms) if ELLIPSIS in source]
    return len(set(held)) > 1 or any(label in p.ellipsis for label in broadcast_axes(problem))


def occurs(strategy: st.SearchStrategy, condition: Callable[[object], bool]) -> object:
    """An example with the condition, found deterministically (or NoSuchExample)."""
    quick = settings(derandomize=True, database=None, max_examples=2000, phases=[Phase.generate])
    return find(strategy, condition, settings=quick)


# -- every drawn problem is valid ------------------------------------------------------------
@given(einsum_problems(complex_dtypes=True))
def test_every_problem_runs_in_numpy_einsum(problem):
    subscripts_text, operands = problem
    assert isinstance(problem, EinsumProblem)
    assert isinstance(operands, tuple)
    result = np.einsum(subscripts_text, *operands)
    assert np.shape(result) == plan(subscripts_text, *operands).out_shape


@given(st.data(), subscripts())
def test_subscripts_with_drawn_operands_run_in_numpy_einsum(data, text):
    operands = data.draw(einsum_operands(text))
    assert len(operands) == parse(text).n_operands
    np.einsum(text, *operands)


@pytest.mark.parametrize(
    "text",
    ["ij,jk->ik", "ii->i", "iij->j", "...ij,...jk", "...ij,...jk->ik", "i->...i", "->", ",i", " Ab , b "],
)
@settings(max_examples=15)
@given(data=st.data())
def test_operands_for_given_subscripts_run_in_numpy_einsum(text, data):
    operands = data.draw(einsum_operands(text, complex_dtypes=True))
    np.einsum(text, *operands)


# -- knobs are kept ------------------------------------------------------------------------
@given(einsum_problems(ellipsis=False, implicit=False, repeated=False, uppercase=False,
                       spaces=False, scalars=False))
def test_features_turned_off_never_occur(problem):
    text, operands = problem
    assert "..." not in text
    assert "->" in text
    assert " " not in text
    assert text == text.lower()
    assert all(len(set(term)) == len(term) for term in labelled_terms(text))
    assert all(a.ndim > 0 for a in operands)


@given(einsum_problems(broadcast=False, zero_size=False, noncontiguous=False, ellipsis=False))
def test_sizes_are_shared_exactly_when_broadcasting_is_off(problem):
    assert broadcast_axes(problem) == []
    assert all(0 not in a.shape for a in problem.operands)
    assert all(a.flags.c_contiguous for a in problem.operands)


@given(einsum_problems(min_operands=2, max_operands=3, max_rank=2, max_labels=3,
                       min_size=2, max_size=3, max_ellipsis_dims=1, broadcast=False,
                       zero_size=False))
def test_counts_and_sizes_stay_within_bounds(problem):
    text, operands = problem
    terms = labelled_terms(text)
    assert 2 <= len(operands) <= 3
    assert all(len(term) <= 2 for term in terms)
    assert len({label for term in terms for label in term}) <= 3
    p = plan(text, *operands)
    assert len(p.ellipsis) <= 1
    assert all(2 <= p.sizes[label] <= 3 for label in p.sizes if label not in p.ellipsis)
    assert all(1 <= p.sizes[label] <= 3 for label in p.ellipsis)


@given(einsum_problems(max_steps=50, zero_size=False))
def test_steps_stay_under_max_steps(problem):
    assert plan(*problem.args).n_steps <= 50


@given(einsum_problems(dtypes=["int8", "uint16"], min_value=-2, max_value=5))
def test_dtypes_and_values_are_kept(problem):
    for a in problem.operands:
        assert a.dtype in (np.dtype("int8"), np.dtype("uint16"))
        low = 0 if a.dtype.kind == "u" else -2
        assert a.size == 0 or (a.min() >= low and a.max() <= 5)


@given(einsum_problems(mixed_dtypes=False, complex_dtypes=True))
def test_one_dtype_for_all_operands_unless_mixed(problem):
    assert len({a.dtype for a in problem.operands}) == 1


@given(einsum_problems())
def test_no_complex_unless_asked(problem):
    assert all(a.dtype.kind != "c" for a in problem.operands)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_operands": 0}, "max_operands must be at least 1, not 0"),
        ({"min_operands": 3, "max_operands": 2}, "min_operands=3 is more than max_operands=2"),
        ({"min_size": 3, "max_size": 2}, "min_size=3 is more than max_size=2"),
        ({"max_labels": 27, "uppercase": False}, "max_labels=27 is more labels than the letters a-z"),
        ({"max_labels": 53}, "max_labels=53 is more labels than the letters a-z and A-Z"),
        ({"max_steps": 0}, "max_steps must be at least 1, not 0"),
        ({"dtypes": []}, "dtypes must name at least one dtype"),
        ({"dtypes": ["U3"]}, "dtype <U3 is not a bool, integer, float or complex dtype"),
        ({"dtypes": ["foo"]}, "dtypes holds 'foo', which is not a numpy dtype"),
        ({"dtypes": "float64"}, "dtypes must be a list of dtypes, not str"),
        ({"dtypes": 5}, "dtypes must be a list of dtypes, not int"),
        ({"max_operands": 2.5}, "max_operands must be an int, not float"),
        ({"min_value": 1.5}, "min_value must be an int, not float"),
    ],
    ids=lambda value: ",".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else "",
)
def test_bad_knobs_raise_at_once(kwargs, message):
    # An EinvizError (a ValueError), or for a wrong type one that is also a TypeError.
    wrong_type = ("must be an int", "not a numpy dtype", "must be a list of dtypes")
    error = einviz.errors.ArgumentTypeError if any(w in message for w in wrong_type) else einviz.EinvizError
    with pytest.raises(error, match=re.escape(message)):
        einsum_problems(**kwargs)


def test_einsum_operands_rejects_bad_subscripts():
    with pytest.raises(einviz.EinvizError):
        einsum_operands("ij->k")


# -- every feature occurs ------------------------------------------------------------------
FEATURES: dict[str, Callable[[EinsumProblem], bool]] = {
    "implicit output": lambda p: "->" not in p.subscripts,
    "explicit output": lambda p: "->" in p.subscripts,
    "ellipsis": lambda p: "..." in p.subscripts,
    "ellipsis that broadcasts": ellipsis_broadcasts,
    "ellipsis in the output only": lambda p: p.subscripts.count("...") == 1
    and "..." in p.subscripts.split("->")[-1] and "->" in p.subscripts,
    "repeated label in a term": lambda p: any(len(set(t)) < len(t) for t in labelled_terms(p.subscripts)),
    "label repeated beside another": lambda p: any(
        len(set(t)) < len(t) and len(set(t)) > 1 for t in labelled_terms(p.subscripts)
    ),
    "size-1 label broadcast": lambda p: any(
        label not in plan(*p.args).ellipsis for label in broadcast_axes(p)
    ),
    "zero-size dimension": lambda p: any(0 in a.shape for a in p.operands),
    "0-d operand": lambda p: any(a.ndim == 0 for a in p.operands),
    "upper-case label": lambda p: any(c.isupper() for c in p.subscripts),
    "spaces": lambda p: " " in p.subscripts,
    "four operands": lambda p: len(p.operands) == 4,
    "summed and free labels": lambda p: bool(plan(*p.args).summed) and bool(plan(*p.args).free),
    "mixed dtypes": lambda p: len({a.dtype for a in p.operands}) > 1,
    "Fortran order": lambda p: any(a.ndim > 1 and a.flags.f_contiguous and not a.flags.c_contiguous
                                   and min(a.shape) > 1 for a in p.operands),
    "negative strides": lambda p: any(s < 0 for a in p.operands for s in a.strides),
    "strided view": lambda p: any(not a.flags.c_contiguous and not a.flags.f_contiguous
                                  for a in p.operands),
    "negative values": lambda p: any(a.dtype.kind != "b" and a.size and a.min() < 0 for a in p.operands),
    **{
        f"dtype {dtype}": (lambda p, dtype=dtype: any(a.dtype == np.dtype(dtype) for a in p.operands))
        for dtype in DEFAULT_DTYPES
    },
}


@pytest.mark.parametrize("feature", list(FEATURES))
def test_each_feature_occurs_by_default(feature):
    problem = occurs(einsum_problems(), FEATURES[feature])
    np.einsum(*problem.args)


def test_complex_occurs_when_asked():
    occurs(einsum_problems(complex_dtypes=True), lambda p: any(a.dtype.kind == "c" for a in p.operands))


def test_subscripts_draw_every_feature():
    for condition in (
        lambda text: "->" not in text,
        lambda text: "..." in text,
        lambda text: " " in text,
        lambda text: any(c.isupper() for c in text),
        lambda text: any(len(set(t)) < len(t) for t in labelled_terms(text)),
        lambda text: parse(text).n_operands == 4,
        lambda text: any(len(term) == 0 for term in parse(text).terms),
    ):
        occurs(subscripts(), condition)


# -- the module's names ----------------------------------------------------------------------
def test_all_lists_exactly_the_public_names():
    tree = ast.parse(inspect.getsource(einviz.testing))
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.add(node.target.id)
    public = {name for name in defined if not name.startswith("_")}
    assert set(einviz.testing.__all__) == public
    assert len(einviz.testing.__all__) == len(public)
    assert all(hasattr(einviz.testing, name) for name in einviz.testing.__all__)


# -- the docs ------------------------------------------------------------------------------------
def test_docs_examples_run():
    docs = Path(__file__).resolve().parents[1] / "docs" / "testing.md"
    blocks = re.findall(r"```python\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 4
    for number, block in enumerate(blocks):
        namespace: dict[str, object] = {"__name__": "docs_example"}
        # Not the page's own path: its line numbers are the block's, and a reader of the source
        # (hypothesis reads it) would find other lines of the page there.
        exec(compile(block, f"<docs/testing.md, python block {number}>", "exec"), namespace)
        tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
        assert tests
        for test in tests:
            test()


def test_module_doctests_pass():
    failures, tried = doctest.testmod(einviz.testing, optionflags=doctest.ELLIPSIS)
    assert tried > 0
    assert failures == 0


# -- the hypothesis integration ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (lambda: einviz.testing.einsum_problems(max_operands=2), "einsum_problems(max_operands=2)"),
        (lambda: einviz.testing.einsum_problems(), "einsum_problems()"),
        (lambda: einviz.testing.einsum_problems(dtypes=["int64"], spaces=False),
         "einsum_problems(spaces=False, dtypes=['int64'])"),
        (lambda: einviz.testing.subscripts(uppercase=False), "subscripts(uppercase=False)"),
        (lambda: einviz.testing.einsum_operands("ij->i", max_size=2),
         "einsum_operands('ij->i', max_size=2)"),
    ],
)
def test_strategies_read_as_their_calls(strategy, expected):
    assert repr(strategy()) == expected
    assert repr(strategy().map(len)) == expected + ".map(len)"


def test_named_strategies_still_draw():
    # The name wrapper hands drawing to the strategy it names: a two-operand problem is found
    # among the problems it draws (generation only: a shrink's length is hypothesis's business
    # and was seen to run for minutes inside the whole suite).
    problem = find(einviz.testing.einsum_problems(max_operands=2, dtypes=["int64"]),
                   lambda p: len(p.operands) == 2,
                   settings=settings(database=None, max_examples=200, deadline=None,
                                     phases=[Phase.generate]))
    assert len(problem.operands) == 2
    assert np.einsum(problem.subscripts, *problem.operands) is not None


def test_setup_hook_makes_from_type_draw_valid_problems():
    einviz.testing._hypothesis_setup_hook()
    seen = []

    @settings(max_examples=30, database=None)
    @given(st.from_type(einviz.testing.EinsumProblem))
    def check(problem):
        seen.append(problem)
        np.einsum(*problem.args)
        assert len(problem.operands) == parse(problem.subscripts).n_operands

    check()
    assert len(seen) >= 10
    assert any(problem.operands for problem in seen)


def test_pyproject_declares_the_hypothesis_entry_point():
    tomllib = pytest.importorskip("tomllib")
    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    hook = pyproject["project"]["entry-points"]["hypothesis"]["einviz"]
    module, _, name = hook.partition(":")
    assert module == "einviz.testing" and callable(getattr(einviz.testing, name))
