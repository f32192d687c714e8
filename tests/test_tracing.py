"""The trace: every step, in loop-code order, with exact running sums."""

import re
import tracemalloc
import warnings

import numpy as np
import pytest
from corpus import CORPUS, IDS, operands
from hypothesis import given, settings

from einviz import (
    ArgumentTypeError,
    EinvizError,
    LimitError,
    ShapeError,
    Trace,
    limits,
    plan,
    trace,
)
from einviz.testing import einsum_problems


def close(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if b.dtype.kind in "biuO":
        return np.array_equal(a, b)
    return np.allclose(a, b, rtol=1e-6, atol=1e-9)


def cell_totals(t):
    """The last running sum of every output cell, read from the chunk columns."""
    totals = np.zeros(t.plan.out_shape, dtype=t.dtype)
    for columns in t.chunks(size=7):
        flat = totals.reshape(-1)
        flat[columns["cell"]] = columns["running_sum"]
    return totals


@pytest.mark.parametrize("name", IDS)
def test_cells_sum_to_numpy(name):
    subscripts, shapes = CORPUS[name]
    ops = operands(shapes)
    t = trace(subscripts, *ops)
    assert len(t) == plan(subscripts, *ops).n_steps
    assert close(cell_totals(t), np.einsum(subscripts, *ops))


@given(einsum_problems())
@settings(max_examples=40)
def test_products_of_each_cell_sum_to_its_value(problem):
    subscripts, ops = problem
    t = trace(subscripts, *ops)
    p = t.plan
    assert len(t) == int(np.prod([p.sizes[label] for label in p.labels]))
    expected = np.einsum(subscripts, *ops)
    assert close(cell_totals(t), expected)
    for cell in t.cells():
        products = [s.product for s in t.steps(cell.steps.start, cell.steps.stop)]
        assert close(np.sum(np.asarray(products, dtype=t.dtype), dtype=t.dtype) if products else 0,
                     expected[cell.out_index])


@given(einsum_problems(max_operands=3))
@settings(max_examples=30)
def test_step_order_matches_loop_code(problem):
    subscripts, ops = problem
    p = plan(subscripts, *ops)
    code = p.loop_code().splitlines()
    variables = p.variables()
    record = "seen.append((" + "".join(f"{variables[label]}, " for label in p.labels) + "))"
    body = code[-1]
    code[-1] = body[: len(body) - len(body.lstrip())] + record
    namespace = {"np": np, "seen": [], **dict(zip(p.names, ops))}
    exec("\n".join(code), namespace)
    t = trace(subscripts, *ops)
    assert namespace["seen"] == [tuple(s.labels[label] for label in p.labels) for s in t]


def test_step_records():
    a = np.array([[1, 2, 3], [4, 5, 6]])
    b = np.array([[1, -1], [2, 0], [0, 3]])
    t = trace("ij,jk->ik", a, b)
    step = t[5]
    assert step.number == 5
    assert step.labels == {"i": 0, "k": 1, "j": 2}
    assert step.indices == ((0, 2), (2, 1))
    assert step.factors == (3, 3) and step.product == 9
    assert step.out_index == (0, 1) and step.running_sum == 8
    assert t[-1].number == len(t) - 1
    assert t.cell_steps((1, 0)) == range(6, 9)
    assert t.cell_of_step(7) == (1, 0)
    with pytest.raises(IndexError):
        t[len(t)]


def test_chunks_agree_whatever_the_chunk_size_and_start():
    ops = operands([(3, 4), (4, 5)], "float64")
    t = trace("ij,jk->ik", *ops)
    whole = next(t.chunks(size=len(t)))
    for size in (1, 3, 4, 7, 64):
        for start in (0, 1, 4, 9):
            pieces = list(t.chunks(size=size, start=start, stop=start + 25))
            assert all(len(c["step"]) <= size for c in pieces)
            for key in ("step", "i", "j", "k", "product", "cell", "running_sum", "factors"):
                joined = np.concatenate([c[key] for c in pieces])
                np.testing.assert_array_equal(joined, whole[key][start : start + 25])


def test_diagonal_and_broadcast_indices():
    t = trace("ii->i", np.arange(9).reshape(3, 3))
    assert [s.indices for s in t] == [((0, 0),), ((1, 1),), ((2, 2),)]
    t = trace("ij,jk->ik", np.ones((2, 1)), np.ones((3, 2)))
    assert {s.indices[0] for s in t} == {(0, 0), (1, 0)}


def test_running_sums_of_bools_are_logical_or():
    t = trace("i,i->", np.array([True, False, True]), np.array([False, False, True]))
    assert [bool(s.running_sum) for s in t] == [False, False, True]


def test_trace_from_plan_checks_shapes():
    p = plan("ij->i", shapes=[(2, 3)])
    assert len(trace(p, np.ones((2, 3)))) == 6
    assert trace(p, np.ones((2, 3))).plan is p  # bound once: the plan itself, not a new one
    with pytest.raises(ShapeError, match=r"but the plan was made for shape|the plan is for"):
        trace(p, np.ones((3, 3)))
    with pytest.raises(ShapeError, match=r"but the plan was made for shape|the plan is for"):
        trace(p, np.ones((2, 3)), np.ones(3))


# -- operands are read through views, never copied --------------------------------------------
def test_a_broadcast_view_is_read_in_place_not_copied():
    # 10^4 x 10^4 float64 read through a broadcast view: 800 MB if it were materialised.
    view = np.broadcast_to(np.arange(1.0, 3.0).reshape(2, 1), (2, 10**4))
    big = np.broadcast_to(np.ones(1), (10**4, 10**4))
    tracemalloc.start()
    try:
        t = trace("ij->i", big)
        assert len(t) == 10**8
        last = t[-1]
        first = next(t.chunks(size=1000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < big.nbytes / 50, f"peak {peak / 2**20:.1f} MB for an operand of {big.nbytes / 2**20:.0f} MB"
    assert last.running_sum == 10**4 and last.indices == ((10**4 - 1, 10**4 - 1),)
    assert first["factors"].shape == (1000, 1) and np.all(first["factors"] == 1)
    assert t.operands[0] is big or np.shares_memory(t.operands[0], big)
    # A view with a broadcast axis and a stride-0 column reads the right values.
    t = trace("ij->i", view)
    assert [int(s.running_sum) for s in t.steps(10**4 - 1, 10**4 + 1)] == [10**4, 2]


@pytest.mark.parametrize("layout", ["transposed", "reversed", "strided", "fortran"])
def test_noncontiguous_views_give_the_same_steps_as_a_copy(layout):
    base = np.arange(24).reshape(4, 6) - 7
    view = {"transposed": base.T, "reversed": base[::-1, ::-2], "strided": base[::2, 1::3],
            "fortran": np.asfortranarray(base)}[layout]
    other = np.arange(view.shape[1] * 2).reshape(view.shape[1], 2)
    ours = list(trace("ij,jk->ik", view, other))
    copied = list(trace("ij,jk->ik", np.array(view, order="C"), other))
    assert ours == copied


def test_a_reversed_diagonal_and_a_structured_field_are_read_in_place():
    base = np.arange(16).reshape(4, 4)
    t = trace("ii->i", base[::-1, ::-1])
    assert [s.factors[0] for s in t] == [15, 10, 5, 0]
    # A field of a structured array: strides (9 bytes) that are not a whole number of items.
    record = np.zeros(3, dtype=[("flag", "i1"), ("value", "f8")])
    record["value"] = [1.5, 2.5, 3.5]
    t = trace("i,i->", record["value"], np.array([2.0, 0.0, 1.0]))
    assert [float(s.factors[0]) for s in t] == [1.5, 2.5, 3.5]
    assert float(t[-1].running_sum) == np.einsum("i,i->", record["value"], [2.0, 0.0, 1.0])


def test_mixed_dtypes_give_factors_in_the_result_dtype():
    t = trace("i,i->i", np.array([1, 2], dtype=np.int8), np.array([0.5, 1.5]))
    assert t.dtype == np.float64
    assert t.operands[0].dtype == np.int8  # the operand as given
    columns = next(t.chunks())
    assert columns["factors"].dtype == np.float64
    np.testing.assert_array_equal(columns["factors"], [[1.0, 0.5], [2.0, 1.5]])
    assert t[1].product == 3.0


# -- chunk columns are the Step records' columns ----------------------------------------------
def assert_chunks_match_steps(t, size=5):
    p = t.plan
    steps = list(t)
    chunks = list(t.chunks(size=size))
    assert sum(len(c["step"]) for c in chunks) == len(steps) == len(t)
    rows = iter(steps)
    for columns in chunks:
        n = len(columns["step"])
        assert set(columns) == {"step", *p.labels, "indices", "factors", "product", "out_index",
                                "cell", "running_sum"}
        assert isinstance(columns["indices"], tuple) and len(columns["indices"]) == len(p.terms)
        for k, term in enumerate(p.terms):
            assert columns["indices"][k].shape == (n, len(term))
        assert columns["out_index"].shape == (n, len(p.output))
        assert columns["factors"].shape == (n, len(p.terms))
        for row in range(n):
            s = next(rows)
            assert s.number == columns["step"][row]
            assert s.labels == {label: columns[label][row] for label in p.labels}
            assert s.indices == tuple(tuple(int(i) for i in columns["indices"][k][row])
                                      for k in range(len(p.terms)))
            assert s.out_index == tuple(int(i) for i in columns["out_index"][row])
            assert s.out_index == t.cell_of_step(s.number)
            assert np.ravel_multi_index(s.out_index, p.out_shape) == columns["cell"][row] \
                if p.out_shape else columns["cell"][row] == 0
            assert s.factors == tuple(columns["factors"][row])
            assert s.product == columns["product"][row] or s.product != s.product  # nan
            assert s.running_sum == columns["running_sum"][row] or s.running_sum != s.running_sum
            # Each index reads the factor it says it reads.
            for k, array in enumerate(t.operands):
                assert array[s.indices[k]] == s.factors[k] or s.factors[k] != s.factors[k]


@pytest.mark.parametrize("name", IDS)
def test_chunk_columns_are_the_step_records(name):
    subscripts, shapes = CORPUS[name]
    assert_chunks_match_steps(trace(subscripts, *operands(shapes)))


def test_chunk_indices_keep_broadcast_and_repeated_axes():
    t = trace("ij,jk->ik", np.array([[1], [2]]), np.ones((3, 2), dtype=int))
    columns = next(t.chunks())
    np.testing.assert_array_equal(columns["indices"][0][:, 1], 0)  # broadcast axis reads 0
    np.testing.assert_array_equal(columns["indices"][1][:, 0], columns["j"])
    np.testing.assert_array_equal(columns["out_index"], np.stack([columns["i"], columns["k"]], 1))
    columns = next(trace("iij->j", np.arange(12).reshape(2, 2, 3)).chunks())
    np.testing.assert_array_equal(columns["indices"][0][:, 0], columns["indices"][0][:, 1])
    columns = next(trace(",i->i", np.array(2), np.arange(3)).chunks())
    assert columns["indices"][0].shape == (3, 0) and columns["out_index"].shape == (3, 1)
    columns = next(trace("i->", np.arange(3)).chunks())
    assert columns["out_index"].shape == (3, 0)
    assert list(trace("ij->i", np.ones((2, 0))).chunks()) == []


@given(einsum_problems(max_operands=3, max_steps=64))
@settings(max_examples=40)
def test_chunk_columns_are_the_step_records_for_any_problem(problem):
    subscripts, ops = problem
    assert_chunks_match_steps(trace(subscripts, *ops), size=7)


# -- accessors: Python's rules, einviz's messages -----------------------------------------
@pytest.fixture
def t6():
    return trace("ij->i", np.arange(6).reshape(2, 3))


def test_slices_give_lists_of_steps(t6):
    every = list(t6)
    assert t6[1:3] == every[1:3]
    assert t6[::2] == every[::2]
    assert t6[::-1] == every[::-1]
    assert t6[-2:] == every[-2:]
    assert t6[4:1:-2] == every[4:1:-2]
    assert t6[5:2] == [] and t6[10:] == []
    assert t6[np.int64(2)] == every[2] and t6[-6] == every[0]


def test_negative_starts_and_stops_count_from_the_end(t6):
    every = list(t6)
    assert list(t6.steps(-3)) == every[-3:]
    assert list(t6.steps(-4, -1)) == every[-4:-1]
    assert list(t6.steps(-100, 2)) == every[:2]
    assert list(t6.steps(4, 100)) == every[4:]
    assert [int(c["step"][0]) for c in t6.chunks(2, start=-3)] == [3, 5]
    assert t6.cell_of_step(-1) == (1,)
    assert t6.cell_steps((-1,)) == range(3, 6)
    assert t6.cell_steps(1) == range(3, 6)  # one integer for a 1-d output, as numpy indexes
    assert t6.cell_steps([1]) == t6.cell_steps(np.array([1])) == range(3, 6)


@pytest.mark.parametrize("number", [6, -7, 100])
def test_a_step_out_of_range_is_named_with_the_range(t6, number):
    with pytest.raises(EinvizError, match=rf"step {number} is out of range: the trace has 6 steps"
                       rf"(.|\n)*steps are numbered 0 to 5, or -6 to -1 from the end"):
        t6[number]
    with pytest.raises(IndexError):  # and it is an IndexError, as for a Python sequence
        t6[number]
    with pytest.raises(EinvizError, match=rf"step {number} is out of range: the trace has 6 steps"):
        t6.cell_of_step(number)


def test_an_empty_trace_has_no_step_to_index():
    t = trace("ij->i", np.ones((2, 0)))
    with pytest.raises(EinvizError, match=r"step 0 is out of range: the trace has 0 steps"
                       r"(.|\n)*hint: this trace has no steps: a label has size 0"):
        t[0]


@pytest.mark.parametrize("key", [2.0, "1", (0,), None])
def test_a_step_number_must_be_an_integer(t6, key):
    shown = re.escape(f"{type(key).__name__} ({key!r})")
    with pytest.raises(ArgumentTypeError, match=rf"step numbers must be integers or slices, not {shown}"):
        t6[key]
    with pytest.raises(TypeError):
        t6[key]


def test_slice_bounds_must_be_integers(t6):
    with pytest.raises(ArgumentTypeError, match=r"slice bounds must be integers or None, not "
                       r"slice\(0.5, 2, None\)"):
        t6[0.5:2]
    with pytest.raises(EinvizError, match=r"slice step cannot be zero"):
        t6[::0]


def test_cell_out_of_range(t6):
    with pytest.raises(EinvizError, match=r"cell \(5,\) is out of range: the output has shape \(2,\)"
                       r"(.|\n)*axis 0: index 5, size 2(.|\n)*hint: indices on an axis of size n run"
                       r" from 0 to n-1, or -n to -1 from the end"):
        t6.cell_steps((5,))
    with pytest.raises(IndexError):
        t6.cell_steps((-3,))


def test_a_cell_needs_one_index_per_output_axis(t6):
    with pytest.raises(EinvizError, match=r"cell \(0, 0\) has 2 indices but the output has 1 axis "
                       r"\(shape \(2,\)\)(.|\n)*hint: give one index per output axis; \(\) for a "
                       r"scalar output"):
        t6.cell_steps((0, 0))
    scalar = trace("ij->", np.ones((2, 3)))
    assert scalar.cell_steps(()) == range(6)
    with pytest.raises(EinvizError, match=r"cell \(0,\) has 1 index but the output has 0 axes"):
        scalar.cell_steps((0,))


@pytest.mark.parametrize("index, shown", [((0.5,), r"\(0.5,\)"), ("0", "'0'"), (None, "None")])
def test_a_cell_index_must_be_integers(t6, index, shown):
    with pytest.raises(ArgumentTypeError, match=rf"a cell index must be a tuple of integers, not "
                       rf"{shown}"):
        t6.cell_steps(index)


@pytest.mark.parametrize("size, message", [
    (0, r"chunk size must be at least 1, not 0"),
    (-5, r"chunk size must be at least 1, not -5"),
])
def test_chunk_size_must_be_positive(t6, size, message):
    with pytest.raises(EinvizError, match=message):
        t6.chunks(size)  # refused when called, not when first iterated


@pytest.mark.parametrize("size", [1.5, "4", None])
def test_chunk_size_must_be_an_integer(t6, size):
    with pytest.raises(ArgumentTypeError, match=rf"chunk size must be an integer, not "
                       rf"{type(size).__name__} \({size!r}\)"):
        t6.chunks(size)


@pytest.mark.parametrize("call", ["steps", "chunks"])
def test_start_and_stop_must_be_integers(t6, call):
    method = getattr(t6, call)
    with pytest.raises(ArgumentTypeError, match=r"start must be an integer or None, not float \(1.5\)"):
        method(start=1.5)
    with pytest.raises(ArgumentTypeError, match=r"stop must be an integer or None, not str \('3'\)"):
        method(start=0, stop="3")


def test_a_trace_needs_a_plan():
    with pytest.raises(ArgumentTypeError, match=r"loop_plan must be a LoopPlan, not str \('ij->i'\)"
                       r"(.|\n)*hint: make one with einviz.plan\(\), or call einviz.trace"):
        Trace("ij->i", [np.ones((2, 3))])


def test_a_ragged_operand_is_refused_in_einviz_words():
    p = plan("ij->i", shapes=[(2, 2)])
    with pytest.raises(ShapeError, match=r"operand 0 is not an array: its nested lists have "
                       r"different lengths"):
        trace(p, [[1, 2], [3]])


def test_a_step_number_for_cell_of_step_must_be_an_integer(t6):
    with pytest.raises(ArgumentTypeError, match=r"a step number must be an integer, not float "
                       r"\(1.5\)(.|\n)*hint: give an int \(or a numpy integer\), as a Python "
                       r"sequence takes"):
        t6.cell_of_step(1.5)


def test_a_trace_over_the_step_limit_is_refused_before_it_is_made():
    with limits(max_steps=5), pytest.raises(LimitError, match=r"the einsum needs 6 steps "
                                            r"\(multiply-adds\), more than the limit of 5"):
        trace("ij->i", np.ones((2, 3)))


def test_steps_of_inf_times_zero_are_silent_like_numpy():
    t = trace("i,i->", np.array([1.0, np.inf, 2.0]), np.array([1.0, 0.0, 1.0]))
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        later = t[2]  # reached by a catch-up walk over the inf * 0 step
        steps = t[0:3]
    assert np.isnan(later.running_sum) and np.isnan(steps[1].product)


def test_a_trace_of_a_plan_takes_new_names_without_binding_again():
    p = plan("ij,j->i", shapes=[(2, 3), (3,)])
    t = trace(p, np.ones((2, 3)), np.ones(3), names=["M", "v"])
    assert t.plan.names == ("M", "v") and t.plan.sizes == p.sizes and p.names == ("A", "B")
    with pytest.raises(EinvizError, match="names must be 2 distinct Python identifiers"):
        trace(p, np.ones((2, 3)), np.ones(3), names=["M"])


def test_a_trace_computes_in_the_dtype_einsum_computes_in():
    a = np.array([100, 3], np.int8)
    assert trace("i,i->", a, a).dtype == np.int8
    assert trace("i,i->", a, a, dtype=np.int64)[0].product == 10_000
    assert trace("i,i->", a, a, out=np.zeros((), np.float64))[0].product == 10_000.0
    # A view (one operand, nothing summed) ignores dtype=, as numpy's einsum does.
    assert trace("ij->ji", np.ones((2, 2), np.float32), dtype=np.float64).dtype == np.float32
    with pytest.raises(ArgumentTypeError, match="cannot cast operand 0 from int8 to uint8"):
        trace("i,i->", a, a, dtype=np.uint8)
