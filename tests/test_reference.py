"""The numpy drop-in (einviz.reference): numpy's rules for out=, dtype=, order= and views,
checked case by case and by a differential fuzz against numpy.einsum (optimize=False, the
path whose rules numpy documents; where its optimize path differs, docs/api.md says so)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import einviz
from einviz import ArgumentTypeError, EinvizError, ShapeError, einsum, plan, trace
from einviz.reference import compute_dtype, is_view
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
    assert t.dtype == compute_dtype([a, a], out=np.zeros((), out_dtype))
    assert_matches(np.asarray(steps[-1].running_sum).astype(out_dtype)[()], expected[()])
    assert_matches(t.result, expected)


def test_a_trace_of_uint8_with_an_int32_out_shows_the_products_numpy_adds():
    a = np.array([20, 30], np.uint8)
    t = trace("i,i->i", a, a, out=np.zeros(2, np.int32))
    assert [int(s.product) for s in t] == [400, 900] and t.result.tolist() == [400, 900]
    assert trace("i,i->i", a, a).result.tolist() == np.einsum("i,i->i", a, a).tolist()  # wraps


@given(st.sampled_from(DTYPES), st.sampled_from(DTYPES), st.sampled_from([None, *DTYPES]),
       st.sampled_from([None, *DTYPES]), st.sampled_from(CASTINGS), st.sampled_from("CFAK"),
       einsum_problems(min_operands=2, max_operands=2, min_value=-60, max_value=60,
                       dtypes=["int64"], zero_size=False))
def test_out_dtype_casting_and_order_with_mixed_operand_dtypes_like_numpy(
        first, second, out_dtype, dtype, casting, order, problem):
    subscripts, (a, b) = problem
    a, b = a.astype(first), b.astype(second)
    shape = plan(subscripts, a, b).out_shape

    def call(function: Any) -> Any:
        out = None if out_dtype is None else np.zeros(shape, out_dtype)
        return function(subscripts, a, b, out=out, dtype=dtype, casting=casting, order=order)

    expected, refused = numpy_or_error(lambda: call(np.einsum))
    if refused is not None:
        with refused_alike(refused, a, b, *([] if out_dtype is None else [np.zeros(1, out_dtype)]),
                           dtype=dtype):
            call(einsum)
        return
    assert_matches(no_warnings(lambda: call(einsum)), expected)


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
    with pytest.raises(ShapeError, match="the operands' shapes differ from the planned shapes"):
        einsum(p, a, b.T)


def test_plan_takes_an_equation():
    equation = einviz.parse("ij,jk->ik")
    assert plan(equation, shapes=[(2, 3), (3, 4)]).equation is equation
