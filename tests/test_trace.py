"""The trace: every step, in loop-code order, with exact running sums."""

import numpy as np
import pytest
from corpus import CORPUS, IDS, operands
from hypothesis import given, settings

from einviz import ShapeError, plan, trace
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
    assert len(p.trace(np.ones((2, 3)))) == 6
    with pytest.raises(ShapeError, match="the operands' shapes differ from the planned shapes"):
        p.trace(np.ones((3, 3)))
