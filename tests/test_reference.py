"""The numpy drop-in (einviz.reference): values, keywords and numpy's rules for out=, dtype=,
order=, casting=, views, objects and optimize=, checked case by case and by a differential
fuzz against numpy.einsum (optimize=False, the path whose rules numpy documents; where its
optimize path differs, docs/api.md says so)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from corpus import CORPUS, IDS, assert_same, operands
from hypothesis import given
from hypothesis import strategies as st

import einviz
from einviz import ArgumentTypeError, EinvizError, ShapeError, einsum, plan, trace
from einviz.reference import compute_dtype, is_view, working_dtype
from einviz.testing import einsum_problems

#: Every dtype einsum computes in: bool, signed and unsigned integers, floats, complex, objects.
DTYPES = ["bool", "int8", "uint8", "int16", "int32", "int64", "uint64", "float16", "float32",
          "float64", "complex64", "complex128", "object"]
CASTINGS = ["no", "equiv", "safe", "same_kind", "unsafe"]
FIXED_WIDTH = [d for d in DTYPES if d != "object"]


def numpy_or_error(call: Any) -> tuple[Any, Exception | None]:
    """numpy's result, or what it raises: a TypeError refusing a cast, or a Python object's
    own error (an int too large for an integer out)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy's own casts may warn; einviz's must not
            return call(), None
    except (TypeError, OverflowError) as error:
        return None, error


@contextlib.contextmanager
def refused_alike(refused: Exception, *operands: Any, dtype: Any = None) -> Iterator[None]:
    """einviz raises what numpy raised: a cast refusal as an ArgumentTypeError (a TypeError)
    in einviz's words, and only a Python object's own error as it is."""
    with pytest.raises(type(refused)) as raised:
        yield
    if not isinstance(raised.value, EinvizError):
        assert "O" in [np.dtype(d).kind for d in [*(a.dtype for a in operands), dtype] if d is not None]


def assert_matches(result: Any, expected: Any) -> None:
    """Same type (scalar or array), dtype, shape and values (floats up to summation order)."""
    assert type(result) is type(expected)
    result, expected = np.asarray(result), np.asarray(expected)
    assert (result.dtype, result.shape) == (expected.dtype, expected.shape)
    if expected.dtype.kind in "fcO":
        # An object result holds Python numbers: compared as complex, as floats would be.
        actual = result.astype(complex) if expected.dtype.kind == "O" else result
        wanted = expected.astype(complex) if expected.dtype.kind == "O" else expected
        rtol = 1e-2 if expected.dtype.itemsize <= 4 and expected.dtype.kind != "O" else 1e-6
        np.testing.assert_allclose(actual, wanted, rtol=rtol, equal_nan=True)
    else:
        np.testing.assert_array_equal(result, expected)


def no_warnings(call: Any) -> Any:
    with warnings.catch_warnings():
        # numpy.einsum is silent about overflow: so is einviz (a complex to real cast gives
        # numpy's ComplexWarning in both).
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)  # a RuntimeWarning too
        return call()


# -- out= of another dtype ---------------------------------------------------------------------
def test_out_of_a_wider_dtype_computes_in_it_like_numpy():
    a = np.array([20, 30], np.uint8)
    expected = np.einsum("i,i->i", a, a, out=np.zeros(2, np.int32))
    result = einsum("i,i->i", a, a, out=np.zeros(2, np.int32))
    assert result.tolist() == expected.tolist() == [400, 900]
    ones = np.ones(3, bool)
    assert einsum("i->", ones, out=np.zeros((), np.int64)) == np.einsum(
        "i->", ones, out=np.zeros((), np.int64)) == 3


def test_out_decides_what_casts_numpy_accepts():
    out = np.zeros((), np.float16)
    einsum("i,i->", np.ones(3, np.int8), np.ones(3, np.uint8), out=out)
    assert out == np.einsum("i,i->", np.ones(3, np.int8), np.ones(3, np.uint8),
                            out=np.zeros((), np.float16)) == 3
    # numpy reads out as well as writes it: complex128 does not cast to float16 'safe'ly.
    for operand in (np.ones(3), np.ones(3, np.float16)):
        with pytest.raises(TypeError):
            np.einsum("i->", operand, dtype="float16", out=np.zeros((), np.complex128))
        with pytest.raises(ArgumentTypeError, match=r"cannot cast .* under casting='safe'"):
            einsum("i->", operand, dtype="float16", out=np.zeros((), np.complex128))
    with pytest.raises(ArgumentTypeError, match=r"cannot cast out's complex128 to float16, the "
                       r"dtype einsum computes in, under casting='safe'(.|\n)*cast both ways"):
        einsum("i->", np.ones(3, np.float16), dtype="float16", out=np.zeros((), np.complex128))


def check_out_like_numpy(subscripts: str, operands: tuple[np.ndarray, ...], out_dtype: str,
                         casting: str) -> None:
    shape = plan(subscripts, *operands).out_shape
    expected, refused = numpy_or_error(lambda: np.einsum(
        subscripts, *operands, out=np.zeros(shape, out_dtype), casting=casting))
    out = np.zeros(shape, out_dtype)
    if refused is not None:
        with refused_alike(refused, *operands, out):
            einsum(subscripts, *operands, out=out, casting=casting)
        return
    assert no_warnings(lambda: einsum(subscripts, *operands, out=out, casting=casting)) is out
    assert_matches(out, expected)


@pytest.mark.parametrize("out_dtype", DTYPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_out_of_every_dtype_pair_like_numpy(dtype, out_dtype):
    a = np.array([20, 30, 1]).astype(dtype)
    b = np.array([20, 30, 3]).astype(dtype)
    for casting in CASTINGS:
        check_out_like_numpy("i,i->i", (a, b), out_dtype, casting)
        check_out_like_numpy("i,i->", (a, b), out_dtype, casting)
        check_out_like_numpy("i->", (a,), out_dtype, casting)


@pytest.mark.parametrize("out_dtype", DTYPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_trace_with_out_computes_in_the_same_dtype_as_einsum(dtype, out_dtype):
    a = np.array([20, 30, 1]).astype(dtype)
    expected, refused = numpy_or_error(
        lambda: np.einsum("i,i->", a, a, out=np.zeros((), out_dtype)))
    if refused is not None:
        with refused_alike(refused, a, np.zeros((), out_dtype)):
            trace("i,i->", a, a, out=np.zeros((), out_dtype))
        return
    t = no_warnings(lambda: trace("i,i->", a, a, out=np.zeros((), out_dtype)))
    steps = list(t)
    assert t.dtype == working_dtype(compute_dtype([a, a], out=np.zeros((), out_dtype)))
    assert_matches(np.asarray(steps[-1].running_sum).astype(out_dtype)[()], expected[()])
    assert_matches(t.result, expected)


def test_a_trace_of_uint8_with_an_int32_out_shows_the_products_numpy_adds():
    a = np.array([20, 30], np.uint8)
    t = trace("i,i->i", a, a, out=np.zeros(2, np.int32))
    assert [int(s.product) for s in t] == [400, 900] and t.result.tolist() == [400, 900]
    assert trace("i,i->i", a, a).result.tolist() == np.einsum("i,i->i", a, a).tolist()  # wraps


@given(st.sampled_from(DTYPES), st.sampled_from(DTYPES), st.sampled_from([None, *DTYPES]),
       st.sampled_from([None, *DTYPES]), st.sampled_from(CASTINGS), st.sampled_from("CFAK"),
       st.sampled_from([False, True, "greedy"]),
       einsum_problems(min_operands=2, max_operands=2, min_value=-60, max_value=60,
                       dtypes=["int64"], zero_size=False))
def test_out_dtype_casting_and_order_with_mixed_operand_dtypes_like_numpy(
        first, second, out_dtype, dtype, casting, order, optimize, problem):
    subscripts, (a, b) = problem
    a, b = a.astype(first), b.astype(second)
    shape = plan(subscripts, a, b).out_shape

    def call(function: Any, **keywords: Any) -> Any:
        out = None if out_dtype is None else np.zeros(shape, out_dtype)
        return function(subscripts, a, b, out=out, dtype=dtype, casting=casting, order=order,
                        **keywords)

    # numpy's optimize=False rules, whatever optimize einviz is given (docs/api.md).
    expected, refused = numpy_or_error(lambda: call(np.einsum))
    if refused is not None:
        with refused_alike(refused, a, b, *([] if out_dtype is None else [np.zeros(1, out_dtype)]),
                           dtype=dtype):
            call(einsum, optimize=optimize)
        return
    assert_matches(no_warnings(lambda: call(einsum, optimize=optimize)), expected)


# -- order= and 0-d results --------------------------------------------------------------------
@pytest.mark.parametrize("order", ["C", "F", "A", "K"])
@pytest.mark.parametrize("subscripts, shapes", [
    ("i->", [(3,)]), ("i,i->", [(3,), (3,)]), ("->", [()]), ("ij->", [(2, 3)]),
    ("ij,ij", [(2, 3), (2, 3)]), (",->", [(), ()]),
])
def test_a_0d_result_has_shape_0d_under_every_order_like_numpy(order, subscripts, shapes):
    operands = [np.arange(float(np.prod(s))).reshape(s) for s in shapes]
    expected = np.einsum(subscripts, *operands, order=order)
    result = einsum(subscripts, *operands, order=order)
    assert np.shape(result) == () and type(result) is type(expected)
    assert_matches(result, expected)


@given(einsum_problems(), st.sampled_from(["C", "F", "A", "K"]))
def test_order_gives_numpy_shapes_types_and_layouts(problem, order):
    subscripts, operands = problem
    expected = np.einsum(subscripts, *operands, order=order)
    result = einsum(subscripts, *operands, order=order)
    assert_matches(result, expected)
    if isinstance(expected, np.ndarray) and order in "CF":
        assert (result.flags.c_contiguous, result.flags.f_contiguous) == (
            expected.flags.c_contiguous, expected.flags.f_contiguous)


# -- one operand, nothing summed: a view, as numpy returns ----------------------------------------
@pytest.mark.parametrize("subscripts, operand, keywords", [
    ("i", np.arange(3, dtype=np.float32), {"dtype": np.float64}),
    ("i->i", np.arange(3, dtype=np.float32), {"dtype": np.float64}),
    ("ij->ji", np.arange(6.0).reshape(2, 3), {"dtype": "int8"}),
    ("ij->ji", np.arange(6.0).reshape(2, 3), {"dtype": "int8", "casting": "no"}),
    ("ij->ji", np.arange(6.0).reshape(2, 3), {"dtype": "U3"}),
    ("ij->ji", np.arange(6.0).reshape(2, 3), {"order": "C"}),
    ("ij->ji", np.arange(6.0).reshape(2, 3), {"order": "F"}),
    ("ij->ji", np.arange(6.0).reshape(2, 3), {"order": "A"}),
    ("ij->ij", np.arange(6.0).reshape(2, 3), {"order": "F"}),
    ("ii->i", np.arange(9.0).reshape(3, 3), {"order": "C", "dtype": np.float32}),
    ("...->...", np.arange(3, dtype=np.int8), {"dtype": np.float64}),
], ids=["i-dtype", "i->i-dtype", "transpose-int8", "transpose-int8-no", "transpose-text",
        "transpose-C", "transpose-F", "transpose-A", "copy-F", "diagonal-C-float32", "ellipsis"])
def test_a_view_ignores_dtype_and_order_like_numpy(subscripts, operand, keywords):
    expected = np.einsum(subscripts, operand, **keywords)
    result = einsum(subscripts, operand, **keywords)
    assert np.shares_memory(expected, operand) and np.shares_memory(result, operand)
    assert_matches(result, expected)
    assert result.strides == expected.strides


def test_a_view_still_reads_dtype_as_numpy_does():
    with pytest.raises(TypeError):
        np.einsum("ij->ji", np.ones((2, 2)), dtype="bogus")
    with pytest.raises(ArgumentTypeError, match="dtype='bogus' is not a numpy dtype"):
        einsum("ij->ji", np.ones((2, 2)), dtype="bogus")


def test_is_view_is_numpys_rule():
    assert is_view(plan("ii->i", shapes=[(3, 3)]))
    assert not is_view(plan("ii->i", shapes=[(3, 3)]), out=np.zeros(3))
    assert not is_view(plan("ij->i", shapes=[(3, 3)]))
    assert not is_view(plan("i,i->i", shapes=[(3,), (3,)]))


def test_with_out_a_one_operand_copy_is_cast_to_dtype_like_numpy():
    a = np.arange(3, dtype=np.float32)
    out = np.zeros(3)
    assert einsum("i->i", a, dtype=np.float64, out=out) is out
    np.testing.assert_array_equal(out, np.einsum("i->i", a, dtype=np.float64, out=np.zeros(3)))


# -- objects mixed with fixed-width dtypes ---------------------------------------------------------
def test_a_trace_of_objects_and_uint8_multiplies_in_python_numbers():
    operands = (np.array([200], np.uint8), np.array([2], np.uint8), np.array([1], object))
    t = no_warnings(lambda: trace("i,i,i->i", *operands))
    (step,) = list(t)
    assert step.product == step.running_sum == 400 == np.einsum("i,i,i->i", *operands)[0]
    assert t.result.tolist() == [400]


def test_a_trace_of_a_huge_python_int_does_not_overflow():
    operands = (np.array([3, 4], np.uint8), np.array([10**30, 1], object))
    t = no_warnings(lambda: trace("i,i->", *operands))
    assert [s.product for s in t] == [3 * 10**30, 4]
    assert t[-1].running_sum == t.result == np.einsum("i,i->", *operands) == 3 * 10**30 + 4


def test_a_trace_of_float16_and_objects_matches_numpy():
    operands = (np.array([-65504.0], np.float16), np.array([3.08e56], object))
    expected = np.einsum("i,i->i", *operands)
    t = no_warnings(lambda: trace("i,i->i", *operands))
    assert t[0].product == t[0].running_sum == expected[0] == t.result[0]
    assert np.isfinite(float(t[0].product))


@given(einsum_problems(max_operands=3, min_value=-200, max_value=200, dtypes=["int64"],
                       zero_size=False),
       st.lists(st.sampled_from(FIXED_WIDTH), min_size=3, max_size=3), st.data())
def test_objects_mixed_with_fixed_width_like_numpy_in_einsum_and_trace(problem, dtypes, data):
    subscripts, operands = problem
    operands = [a.astype(d) for a, d in zip(operands, dtypes)]
    k = data.draw(st.integers(0, len(operands) - 1), label="object operand")
    operands[k] = operands[k].astype(object)
    expected = np.einsum(subscripts, *operands)
    assert_matches(no_warnings(lambda: einsum(subscripts, *operands)), expected)
    t = no_warnings(lambda: trace(subscripts, *operands))
    assert t.dtype == object
    for cell in t.cells():
        if cell.steps:
            assert t[cell.steps[-1]].running_sum == np.asarray(expected)[cell.out_index]


# -- the stages hand on their objects ----------------------------------------------------------------
def test_einsum_takes_a_plan_and_binds_nothing_again():
    p = plan("ij,jk->ik", shapes=[(2, 3), (3, 2)])
    a, b = np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2)
    assert_matches(einsum(p, a, b), np.einsum("ij,jk->ik", a, b))
    with pytest.raises(ShapeError, match=r"but the plan was made for shape|the plan is for"):
        einsum(p, a, b.T)


def test_plan_takes_an_equation():
    equation = einviz.parse("ij,jk->ik")
    assert plan(equation, shapes=[(2, 3), (3, 4)]).equation is equation


# -- the drop-in against numpy: values, keywords, objects, optimize ---------------------------------
class Text:
    """A string that numpy's einsum can sum: 0 + t is t; t * n repeats it; + concatenates."""

    def __init__(self, text):
        self.text = text

    def __add__(self, other):
        return Text(self.text + other.text) if isinstance(other, Text) else NotImplemented

    def __radd__(self, other):
        return self if other == 0 else NotImplemented

    def __mul__(self, other):
        return Text(self.text * other) if isinstance(other, int) else NotImplemented

    def __eq__(self, other):
        return isinstance(other, Text) and other.text == self.text

    def __repr__(self):
        return f"Text({self.text!r})"


# -- operands einsum cannot multiply or add --------------------------------------------------
NOT_NUMBERS = {
    "str": (np.array([["a", "b"], ["c", "d"]]), r"<U1 \(text\)"),
    "bytes": (np.array([[b"a", b"b"], [b"c", b"d"]]), r"\|S1 \(bytes\)"),
    "datetime64": (np.array([["2020-01-01"] * 2] * 2, dtype="M8[D]"), r"datetime64\[D\] \(dates\)"),
    "timedelta64": (np.ones((2, 2), dtype="m8[s]"), r"timedelta64\[s\] \(time spans\)"),
    "structured": (np.zeros((2, 2), dtype=[("x", int)]), r"\[\('x', '<i8'\)\] \(raw or structured records\)"),
    "list-of-str": ([["a", "b"], ["c", "d"]], r"<U1 \(text\)"),
}


@pytest.mark.parametrize("name", list(NOT_NUMBERS))
@pytest.mark.parametrize("call", [
    lambda a: einsum("ij->j", a),
    lambda a: einsum("ij,j->i", np.ones((2, 2)), a[0]),
    lambda a: einviz.trace("ij->j", a),
    lambda a: einviz.trace(plan("ij->ji", a), a),  # the trace adds running sums even for a transpose
    lambda a: einviz.check("ij->j", a),
], ids=["einsum", "einsum-second", "trace", "trace-of-plan", "check"])
def test_operands_that_are_not_numbers_are_refused_like_numpy(name, call):
    array, dtype = NOT_NUMBERS[name]
    with pytest.raises(ArgumentTypeError, match=rf"operand \d has dtype {dtype}, which einsum cannot multiply or add"):
        call(array)
    with pytest.raises(TypeError):  # numpy refuses it too, with a TypeError
        np.einsum("ij->j", array)


@pytest.mark.parametrize("name", IDS)
@pytest.mark.parametrize("dtype", ["int64", "float64", "int8", "bool", "complex128"])
def test_corpus_matches_numpy(name, dtype):
    subscripts, shapes = CORPUS[name]
    ops = operands(shapes, dtype)
    assert_same(einsum(subscripts, *ops), np.einsum(subscripts, *ops))


@given(einsum_problems())
def test_reference_equals_numpy(problem):
    subscripts, ops = problem
    assert_same(einsum(subscripts, *ops), np.einsum(subscripts, *ops))


def test_sublist_form_matches_numpy():
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    assert_same(einsum(a, [0, 1], b, [1, 2], [0, 2]), np.einsum(a, [0, 1], b, [1, 2], [0, 2]))
    assert_same(einsum(a, [0, 1], b, [1, 2]), np.einsum(a, [0, 1], b, [1, 2]))
    x = np.ones((2, 3, 4))
    assert_same(einsum(x, [Ellipsis, 0]), np.einsum(x, [Ellipsis, 0]))


def test_keywords_like_numpy():
    a = np.arange(6.0).reshape(2, 3)
    out = np.zeros(2)
    assert einsum("ij->i", a, out=out) is out
    np.testing.assert_array_equal(out, [3.0, 12.0])
    assert einsum("ij->i", a, dtype=np.float32, casting="same_kind").dtype == np.float32
    assert einsum("ij->i", a, dtype=np.int64, casting="unsafe").dtype == np.int64
    assert einsum("ij,jk->ik", a, a.T, order="F").flags.f_contiguous
    assert einsum("ij,jk->ik", a, a.T, optimize="greedy").shape == (2, 2)


@pytest.mark.parametrize("casting", ["no", "equiv", "safe", "same_kind", "unsafe"])
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("int32", "float64"), ("<f8", ">f8"),
                                    ("float64", "float64")], ids=str)
def test_casting_governs_promotion_without_dtype_like_numpy(casting, dtypes):
    a, b = np.ones((2, 3), dtypes[0]), np.ones((3, 2), dtypes[1])
    try:
        expected = np.einsum("ij,jk->ik", a, b, casting=casting)
    except TypeError:
        with pytest.raises(ArgumentTypeError, match=rf"cannot cast operand \d from .* under "
                                                    rf"casting='{casting}'\n.*hint: the operands' common dtype"):
            einsum("ij,jk->ik", a, b, casting=casting)
    else:
        result = einsum("ij,jk->ik", a, b, casting=casting)
        assert result.dtype == expected.dtype and np.array_equal(result, expected)


def test_single_operand_without_sums_is_a_view_like_numpy():
    a = np.arange(9).reshape(3, 3)
    diagonal = einsum("ii->i", a)
    assert np.shares_memory(diagonal, a)
    np.testing.assert_array_equal(diagonal, np.einsum("ii->i", a))


def test_object_arrays_pass_their_own_errors_through():
    class Boom:
        def __mul__(self, other):
            raise ZeroDivisionError("boom")

        __rmul__ = __mul__

    a = np.array([Boom(), Boom()], dtype=object)
    with pytest.raises(ZeroDivisionError, match="boom"):
        einsum("i,i->", a, a)


def test_reference_never_calls_numpy_einsum(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the reference einsum must not call numpy.einsum")

    monkeypatch.setattr(np, "einsum", forbidden)
    a = np.arange(6).reshape(2, 3)
    assert einsum("ij,jk->ik", a, a.T).tolist() == (a @ a.T).tolist()


@pytest.mark.parametrize("name", ["str", "datetime64", "timedelta64", "structured"])
def test_a_transpose_or_diagonal_of_any_dtype_is_a_view_like_numpy(name):
    array, _ = NOT_NUMBERS[name]
    for subscripts in ("ij->ji", "ii->i"):
        result = einsum(subscripts, array)
        expected = np.einsum(subscripts, array)
        assert result.dtype == expected.dtype and np.shares_memory(result, array)
        np.testing.assert_array_equal(result, expected)


def test_dtypes_that_are_not_numbers():
    text = np.array(["1", "2"])
    assert einsum("i->", text, dtype=float, casting="unsafe") == np.einsum("i->", text, dtype=float, casting="unsafe")
    with pytest.raises(EinvizError, match=r"cannot convert operand 0 from <U1 \(text\) to float64\n"
                                          r"  could not convert string to float"):
        einsum("i->", np.array(["a", "2"]), dtype=float, casting="unsafe")
    with pytest.raises(ArgumentTypeError, match=r"dtype='foo' is not a numpy dtype"):
        einsum("i->", np.ones(2), dtype="foo")
    with pytest.raises(ArgumentTypeError, match=r"dtype=<U3 \(text\) is not a dtype einsum can multiply or add in"):
        einsum("i->", np.ones(2), dtype="U3")
    with pytest.raises(ArgumentTypeError, match=r"out has dtype <U3 \(text\), which einsum cannot write a result into"):
        einsum("i->", np.ones(2), out=np.empty((), "U3"), casting="unsafe")
    with pytest.raises(ArgumentTypeError, match=r"operand 1 has dtype datetime64\[D\] \(dates\)") as info:
        einsum("i,i->i", np.ones(1), np.array(["2020-01-01"], dtype="M8[D]"))
    assert "  operand dtypes: float64, datetime64[D]" in str(info.value)


@pytest.mark.parametrize("subscripts, shapes", [
    ("i->", [(4,)]), ("ij->i", [(2, 3)]), ("ij->j", [(2, 3)]), ("ij->", [(2, 3)]),
    ("i,i->", [(3,), (3,)]), ("i,i->i", [(3,), (3,)]), ("ij,j->i", [(2, 3), (3,)]),
    ("i->", [(100_000,)]), ("ij->i", [(3, 40_000)]),
], ids=str)
def test_objects_are_summed_from_zero_in_order_like_numpy(subscripts, shapes):
    letters = iter("abcdefghijklmnopqrstuvwxyz" * 10_000)
    ops = []
    for k, shape in enumerate(shapes):
        cells = np.empty(shape, dtype=object)
        flat = cells.reshape(-1)
        for n in range(flat.size):
            flat[n] = Text(next(letters)) if k == 0 else n % 3 + 1
        ops.append(cells)
    result, expected = einsum(subscripts, *ops), np.einsum(subscripts, *ops)
    assert np.shape(result) == np.shape(expected)
    assert np.all(np.asarray(result == expected)) if np.ndim(expected) else result == expected


@pytest.mark.parametrize("subscripts, ops", [
    ("i->", [np.array(["a", "b"], dtype=object)]),
    ("i,i->i", [np.array(["a", "b"], dtype=object), np.array([2, 3], dtype=object)]),
    (",->", [np.array("a", dtype=object), np.array(2, dtype=object)]),
], ids=["sum", "no-sum", "0-d"])
def test_object_arithmetic_errors_pass_through_like_numpy(subscripts, ops):
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+: 'int' and 'str'"):
        np.einsum(subscripts, *ops)
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+: 'int' and 'str'") as info:
        einsum(subscripts, *ops)
    assert not isinstance(info.value, EinvizError)


def test_object_results_like_numpy():
    # One operand, nothing summed: a view, no arithmetic at all (so no 0 + 'a').
    text = np.array(["a", "b"], dtype=object)
    assert einsum("i->i", text).tolist() == np.einsum("i->i", text).tolist() == ["a", "b"]
    assert einsum("->", np.array("a", dtype=object)) == "a"
    ints = np.array([1, 2, 3], dtype=object)
    assert einsum("i->", ints) == 6 and type(einsum("i->", ints)) is int
    assert einsum("i->", np.array([], dtype=object)) == np.einsum("i->", np.array([], dtype=object)) == 0
    np.testing.assert_array_equal(einsum("i,i->i", ints, ints), np.einsum("i,i->i", ints, ints))


# -- floats: no warnings, as numpy.einsum gives none ------------------------------------------
@pytest.mark.parametrize("subscripts, ops", [
    ("i,i->", [np.array([np.inf]), np.array([0.0])]),
    ("i,i->i", [np.array([np.inf]), np.array([0.0])]),
    ("i->", [np.full(3, 60000, np.float16)]),
    ("i,i->", [np.array([1e300]), np.array([1e300])]),
    ("ij->i", [np.full((2, 70_000), 60000, np.float16)]),
    ("i,i->", [np.array([1.0]), np.array([0.0])]),
], ids=["inf*0", "inf*0-no-sum", "float16-overflow", "float64-overflow", "chunked", "plain"])
def test_no_float_warnings_like_numpy(subscripts, ops):
    with np.errstate(all="raise"):  # even a caller's 'raise' does not reach inside, as in numpy
        expected = np.einsum(subscripts, *ops)
        result = einsum(subscripts, *ops)
    np.testing.assert_array_equal(result, expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(einsum(subscripts, *ops), expected)


def test_a_negative_zero_is_added_to_zero_like_numpy():
    z, one = np.array([-0.0]), np.array([1.0])
    for subscripts, ops in [("i,i->i", (z, one)), ("i->", (z,)), ("ij->i", (z.reshape(1, 1),))]:
        assert np.signbit(einsum(subscripts, *ops)).tolist() == np.signbit(np.einsum(subscripts, *ops)).tolist()


# -- out= ----------------------------------------------------------------------------------
def test_a_read_only_out_is_refused_up_front():
    out = np.zeros(2)
    out.flags.writeable = False
    with pytest.raises(ValueError):  # numpy's own: a ValueError
        np.einsum("ij->j", np.ones((2, 2)), out=out)
    with pytest.raises(EinvizError, match=r"out is read-only: einsum cannot write the result into it"):
        einsum("ij->j", np.ones((2, 2)), out=out)


def test_out_dtype_and_casting_messages():
    with pytest.raises(ArgumentTypeError, match=r"cannot cast the result from float64 to out's int64 "
                                                r"under casting='safe'"):
        einsum("ij->j", np.ones((2, 2)), out=np.zeros(2, dtype=np.int64))
    with pytest.raises(EinvizError, match=r"casting must be one of 'no', 'equiv', 'safe', 'same_kind', "
                                          r"'unsafe', not 'sometimes'"):
        einsum("ij->j", np.ones((2, 2)), casting="sometimes")
    with pytest.raises(EinvizError, match=r"casting must be one of .*, not None"):
        einsum("ij->j", np.ones((2, 2)), casting=None)


# -- optimize= ------------------------------------------------------------------------------
@pytest.mark.parametrize("optimize", [
    False, True, None, "greedy", "optimal", ("greedy", 10), ["optimal", 10.5],
    ["einsum_path", (0, 1)], ("einsum_path", [0, 1]), ["einsum_path", (np.int64(1), 0)],
], ids=repr)
def test_optimize_takes_what_numpy_takes(optimize):
    a = np.arange(4.0).reshape(2, 2)
    np.testing.assert_array_equal(einsum("ij,jk->ik", a, a, optimize=optimize),
                                  np.einsum("ij,jk->ik", a, a, optimize=optimize))
    # A numpy integer as the memory limit too (numpy itself wants a Python int or float).
    assert einsum("ij,jk->ik", a, a, optimize=("greedy", np.int64(3))).shape == (2, 2)


@pytest.mark.parametrize("optimize, error, message", [
    (1, ArgumentTypeError, (r"optimize must be a bool, a strategy name, a \(strategy, memory limit\) pair "
                            r"or an einsum path, not 1")),
    (np.True_, ArgumentTypeError, r"optimize must be a bool, .*, not np\.True_"),
    ([], ArgumentTypeError, r"optimize must be a bool, .*, not \[\]"),
    (("greedy",), ArgumentTypeError, (r"optimize must be a bool, .*, not \('greedy',\)\n"
                                      r"  a strategy with a memory limit is a pair")),
    (("greedy", "x"), ArgumentTypeError, r"not \('greedy', 'x'\)"),
    ("bogus", EinvizError, r"optimize='bogus' is not a strategy numpy knows\n  numpy knows: 'greedy', 'optimal'"),
    (("bogus", 10), EinvizError, r"optimize='bogus' is not a strategy numpy knows"),
    (("greedy", float("nan")), EinvizError, r"the memory limit of optimize=\('greedy', nan\) must be a finite number"),
    (["einsum_path", (0, 5)], einviz.PathError,
     r"contraction 1 of the path names operand 5, but the operands are numbered 0 to 1 there"),
    (["einsum_path", (-1, 0)], einviz.PathError,
     r"contraction 1 of the path names operand -1, but the operands are numbered 0 to 1 there"),
    (["einsum_path", (0, 1), (0, 1)], einviz.PathError,
     r"contraction 2 of the path names operand 1, but the operands are numbered 0 to 0 there"),
    (["einsum_path", (1.5, 0)], ArgumentTypeError, r"contraction 1 of the path holds 1\.5, which is not an operand index"),
    (["einsum_path", (True, 0)], ArgumentTypeError, r"contraction 1 of the path holds True"),
    (["einsum_path", 0], ArgumentTypeError, r"contraction 1 of the path is 0, not a tuple of operand indices"),
    (["einsum_path", ()], einviz.PathError, r"contraction 1 of the path names no operand"),
    (["einsum_path", (0, 0)], einviz.PathError, r"contraction 1 of the path names operand 0 more than once"),
    (["einsum_path"], einviz.PathError, r"the path leaves 2 operands, not one\n  path: \['einsum_path'\]"),
], ids=lambda value: repr(value) if not isinstance(value, (str, type)) or value == "bogus" else "")
def test_optimize_errors(optimize, error, message):
    a = np.ones((2, 2))
    with pytest.raises(error, match=message):
        einsum("ij,jk->ik", a, a, optimize=optimize)


def test_an_operand_cast_to_the_result_dtype_is_cast_chunk_by_chunk() -> None:
    import tracemalloc

    a = np.broadcast_to(np.arange(3000, dtype=np.float32), (3000, 3000))  # 36 MB as float64
    v = np.ones(3000)
    tracemalloc.start()
    try:
        result = einsum("ij,j->i", a, v)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < a.size * 8 / 10
    np.testing.assert_allclose(result, np.einsum("ij,j->i", a, v))


def test_with_no_step_to_make_nothing_is_converted_like_numpy():
    # A size-0 label: numpy multiplies nothing, so an object it could not convert is never read.
    ops = (np.ones((0,), bool), np.array([[-1, -1]], object))
    expected = np.einsum("a,ab->b", *ops, dtype="uint8", casting="unsafe")
    assert_matches(einsum("a,ab->b", *ops, dtype="uint8", casting="unsafe"), expected)


def test_only_the_values_numpy_reads_are_converted_like_numpy():
    # "aa": numpy reads the diagonal alone; the -1 off it never meets the uint8 cast.
    square = np.array([[0, -1], [0, 2]], object)
    expected = np.einsum("aa,->", square, np.array(True), dtype="uint8", casting="unsafe")
    assert_matches(einsum("aa,->", square, np.array(True), dtype="uint8", casting="unsafe"),
                   expected)
    words = np.array([["1.5", "x"], ["y", "2"]])
    assert_matches(einsum("ii", words, dtype=float, casting="unsafe"),
                   np.einsum("ii", words, dtype=float, casting="unsafe"))


def test_half_floats_are_multiplied_and_added_in_single_precision_like_numpy():
    # 53 * -39 = -2067 is no float16 (it would round to -2068 before the 53 is added).
    ops = (np.array([[53], [53]], np.int8), np.array(True), np.array([[-39], [1]], np.int8))
    keywords = {"dtype": "float16", "casting": "unsafe"}
    assert_matches(einsum("...ba,,bc", *ops, **keywords), np.einsum("...ba,,bc", *ops, **keywords))
    assert einsum("...ba,,bc", *ops, **keywords)[0, 0] == -2014


def test_a_trace_of_half_floats_adds_in_single_precision_as_einsum_does():
    ops = (np.array([53, 53], np.float16), np.array([-39, 1], np.float16))
    t = trace("i,i->", *ops)
    assert t.dtype == np.float32 and t.result.dtype == np.float16
    assert [float(s.product) for s in t] == [-2067.0, 53.0]  # -2067 is no float16
    assert np.float16(t[-1].running_sum) == t.result == np.einsum("i,i->", *ops) == -2014
