"""The loop plan: binding, sizes, loop code, formulas, limits and their errors (the reference
einsum that runs a plan is tested in test_reference.py)."""

import numpy as np
import pytest
from corpus import CORPUS, IDS, assert_same, operands
from hypothesis import given
from hypothesis import strategies as st

import einviz
from einviz import EinvizError, LimitError, ShapeError, einsum, plan
from einviz.errors import ArgumentTypeError
from einviz.testing import einsum_problems


@pytest.mark.parametrize("name", IDS)
def test_loop_code_runs(name):
    subscripts, shapes = CORPUS[name]
    ops = operands(shapes)
    p = plan(subscripts, *ops)
    namespace = {"np": np, **dict(zip(p.names, ops))}
    exec(p.loop_code(), namespace)
    assert_same(namespace["out"], np.einsum(subscripts, *ops))


@given(einsum_problems(max_operands=3))
def test_loop_code_equals_numpy_and_counts_steps(problem):
    subscripts, ops = problem
    p = plan(subscripts, *ops)
    assert p.n_steps == int(np.prod([p.sizes[label] for label in p.labels]))
    namespace = {"np": np, **dict(zip(p.names, ops))}
    exec(p.loop_code(), namespace)
    expected = np.einsum(subscripts, *ops)
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(namespace["out"], expected)
    else:
        np.testing.assert_allclose(namespace["out"], expected, rtol=1e-6, atol=1e-9)


@given(
    st.sampled_from(["ij,jk->ik", "ii->i", "...i,...i", "ij", "i,->i", "ab...,b->a..."]),
    st.lists(st.lists(st.integers(0, 3), max_size=4).map(tuple), max_size=3),
)
def test_arbitrary_shapes_raise_only_einviz_errors(subscripts, shapes):
    try:
        p = plan(subscripts, shapes=shapes)
    except EinvizError:
        return
    ops = [np.ones(s) for s in shapes]
    assert_same(einsum(subscripts, *ops), np.einsum(subscripts, *ops))
    assert p.out_shape == np.einsum(subscripts, *ops).shape


def test_plan_table_and_formulas():
    p = plan("ij,jk->ik", shapes=[(2, 3), (3, 4)])
    text = repr(p)
    assert "LoopPlan  ij,jk->ik" in text
    assert "j          3  summed  A1 B0" in text
    assert "steps 24   flops 48" in text
    assert p.formula() == "out[i,k] = Σ_j A[i,j]·B[j,k]"
    assert p.latex() == r"\mathrm{out}_{ik} = \sum_{j} A_{ij} B_{jk}"
    assert plan("ij,kl->", shapes=[(2, 2), (2, 2)]).formula() == "out = Σ_{i,j,k,l} A[i,j]·B[k,l]"


def test_ellipsis_dimensions_are_named_and_say_where_they_came_from():
    p = plan("...ij,...jk", shapes=[(2, 1, 2, 3), (4, 3, 2)])
    assert p.ellipsis == ("α", "β")
    assert p.terms == (("α", "β", "i", "j"), ("β", "j", "k"))
    assert p.origin("α") == "..." and p.origin("i") == "i"
    assert "A[α, 0, i, j]" in p.loop_code()
    assert "β          4  free    A1 B0 out1       ..." in repr(p)


def test_flops_follow_opt_einsum():
    opt_einsum = pytest.importorskip("opt_einsum")
    for subscripts, shapes in CORPUS.values():
        if "..." in subscripts or 0 in [d for s in shapes for d in s]:
            continue
        ops = operands(shapes)
        info = opt_einsum.contract_path(subscripts, *ops, optimize="optimal")[1]
        p = plan(subscripts, *ops)
        terms = [set(t) for t in p.terms]
        shared = sum(map(len, terms)) > len(set().union(*terms))
        # opt_einsum adds an addition per step whenever inputs share a label, summed or not.
        extra = p.n_steps if shared and not p.summed else 0
        assert p.flops + extra == info.naive_cost, subscripts


def test_loop_variables_never_clash_with_operand_names():
    p = plan("Ab,bB->AB", shapes=[(2, 2), (2, 2)], names=["A", "B"])
    assert "for A_ in range(2):" in p.loop_code()
    ops = operands([(2, 2), (2, 2)])
    namespace = {"np": np, "A": ops[0], "B": ops[1]}
    exec(p.loop_code(), namespace)
    assert_same(namespace["out"], np.einsum("Ab,bB->AB", *ops))
    # A renamed variable that would meet another operand's name takes one more '_'.
    p = plan("Ab,bB->AB", shapes=[(2, 2), (2, 2)], names=["A", "A_"])
    assert "for A__ in range(2):" in p.loop_code()
    namespace = {"np": np, "A": ops[0], "A_": ops[1]}
    exec(p.loop_code(), namespace)
    assert_same(namespace["out"], np.einsum("Ab,bB->AB", *ops))


def test_size_clash_names_label_operands_axes_and_sizes_the_right_way_round():
    with pytest.raises(ShapeError, match=r"label 'j' has size 3 in A \(axis 1\) but size 4 in B \(axis 0\)") as info:
        einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 5)))
    assert str(info.value).splitlines()[1:] == [
        "    ij,jk->ik",
        "     ^ ^",
        "  A: shape (2, 3)   B: shape (4, 5)",
        "  hint: the sizes of a shared label must match (or one of them must be 1)",
    ]


@pytest.mark.parametrize(
    "subscripts, shapes, message",
    [
        ("ij,jk->ik", [(2, 3)], r"the subscripts name 2 operands but 1 was given"),
        ("ij", [(2, 3), (3,)], r"the subscripts name 1 operand but 2 were given"),
        ("ijk", [(2, 3)], r"term 'ijk' has 3 labels but A has 2 dimensions"),
        ("i", [()], r"term 'i' has 1 label but A has 0 dimensions"),
        ("...ij", [(2,)], r"term '...ij' needs at least 2 dimensions but A has 1"),
        ("ii", [(2, 3)], r"label 'i' has size 2 in A \(axis 0\) but size 3 in A \(axis 1\)"),
        ("ii->i", [(1, 3)], r"label 'i' has size 1 in A \(axis 0\) but size 3 in A \(axis 1\)"),
        ("...i,...i", [(2, 3), (4, 3)], r"a '\.\.\.' dimension has size 2 in A \(axis 0\) but size 4 in B \(axis 0\)"),
        ("...i->i", [(2, 3)], r"'\.\.\.' stands for 1 dimension\(s\) that the output does not keep"),
        ("ij", [(2, -1)], r"shape 0 is \(2, -1\), with a negative size"),
    ],
)
def test_shape_errors(subscripts, shapes, message):
    with pytest.raises(ShapeError, match=message):
        plan(subscripts, shapes=shapes)


@pytest.mark.parametrize(
    "shapes, message",
    [
        ([("a", 2)], r"shape 0 is \('a', 2\): its size 'a' is not a whole number"),
        ([(2, 3), (3, 1.5)], r"shape 1 is \(3, 1\.5\): its size 1\.5 is not a whole number"),
        ([(2, 3), (3, "4")], r"shape 1 is \(3, '4'\): its size '4' is not a whole number"),
        ([(2, 3), (3, True)], r"shape 1 is \(3, True\): its size True is not a whole number"),
        ([(2, 3), None], r"shape 1 is None, not a tuple of sizes"),
        ([(2, 3), "34"], r"shape 1 is '34', not a tuple of sizes"),
        (5, r"shapes= must be a list of shapes, one per operand, not int"),
        ("ij", r"shapes= must be a list of shapes, one per operand, not str"),
    ],
    ids=["text", "float", "text-size", "bool", "none", "text-shape", "int", "str"],
)
def test_shapes_must_be_whole_numbers(shapes, message):
    # A size of the wrong type is an ArgumentTypeError (a TypeError, as numpy's).
    with pytest.raises(ArgumentTypeError, match=message):
        plan("ij,jk->ik", shapes=shapes)


def test_shapes_take_numpy_integers():
    p = plan("ij,jk->ik", shapes=[(np.int64(2), np.uint8(3)), np.array([3, 4])])
    assert p.sizes == {"i": 2, "k": 4, "j": 3}
    assert all(type(d) is int for shape in p.shapes for d in shape)
    assert plan("i->", shapes=[np.int32(5)]).shapes == ((5,),)


def test_einsum_argument_errors():
    with pytest.raises(ShapeError, match="einsum needs the subscripts and at least one operand"):
        einsum()
    with pytest.raises(ShapeError, match="einsum needs at least one operand"):
        einsum("ij")
    with pytest.raises(ShapeError) as empty:
        einsum("", np.ones(2))
    assert str(empty.value).splitlines()[:2] == [
        "term '' has 0 labels but A has 1 dimension", "  expected: 0 dimensions"]  # no blank line
    with pytest.raises(ArgumentTypeError, match="cannot cast operand 0 from float64 to int64"):
        einsum("i->", np.ones(3), dtype=np.int64)  # "i->i" is a view: numpy ignores dtype=
    with pytest.raises(ArgumentTypeError, match="out must be a numpy array, not list"):
        einsum("i->i", np.ones(3), out=[0, 0, 0])
    with pytest.raises(ShapeError, match=r"out has shape \(2,\) but the result has shape \(3,\)"):
        einsum("i->i", np.ones(3), out=np.ones(2))
    with pytest.raises(EinvizError, match="order must be one of 'C', 'F', 'A' or 'K', not 'X'"):
        einsum("i->i", np.ones(3), order="X")
    with pytest.raises(EinvizError, match="give either operands or shapes=, not both"):
        plan("i", np.ones(3), shapes=[(3,)])
    with pytest.raises(EinvizError, match="names must be 2 distinct Python identifiers"):
        plan("i,i", shapes=[(3,), (3,)], names=["x", "x"])


def test_limits_refuse_before_allocating():
    with einviz.limits(max_steps=100), pytest.raises(
            LimitError, match=r"the einsum needs 1,000,000 steps \(multiply-adds\), more than the limit of 100"):
        plan("ij,jk->ik", shapes=[(100, 100), (100, 100)]).check_limits()
    with pytest.raises(LimitError, match=r"the output would have 10,000,000,000 elements"):
        plan("i,j->ij", shapes=[(10**5,), (10**5,)]).check_limits()
    # A huge broadcast operand costs no memory of its own: the refusal comes first.
    huge = np.broadcast_to(np.ones(1), (10**6,))
    with einviz.limits(max_steps=10**13), pytest.raises(LimitError, match="elements"):
        einsum("i,j->ij", huge, huge)
    assert einviz.get_limits().max_steps == einviz.Limits().max_steps


@pytest.mark.parametrize("call", [
    lambda: einviz.einsum("ij->i", [[1], [2, 3]]),
    lambda: einviz.plan("ij->i", [[1], [2, 3]]),
], ids=["einsum", "plan"])
def test_a_ragged_nested_list_is_refused_with_einviz_words(call):
    with pytest.raises(einviz.ShapeError, match=r"operand 0 is not an array: its nested lists"):
        call()


@pytest.mark.parametrize(("changes", "error", "message"), [
    ({"foo": 1}, einviz.errors.ArgumentTypeError, r"limits\(\) has no limit 'foo'"),
    ({"max_steps": "x"}, einviz.EinvizError, r"limits\(max_steps=...\) must be a positive whole"),
    ({"max_elements": -5}, einviz.EinvizError, r"limits\(max_elements=...\) must be a positive"),
], ids=["unknown", "text", "negative"])
def test_limits_checks_its_arguments(changes, error, message):
    with pytest.raises(error, match=message), einviz.limits(**changes):
        pass


def test_one_operand_is_counted_in_the_singular():
    with pytest.raises(einviz.ShapeError, match=r"expected: 1 operand\n"):
        einviz.einsum("ij->i", np.ones((2, 2)), np.ones((2, 2)))


# -- Python objects: their own arithmetic, summed as numpy sums them --------------------------


# -- the subscripts forgotten -----------------------------------------------------------------
@pytest.mark.parametrize("args", [
    (np.array(1.0),), (np.ones(3),), ([0, 1],), (np.ones((2, 2)),),
], ids=["0-d", "1-d", "list", "2-d"])
@pytest.mark.parametrize("call", [einsum, einviz.trace, einviz.explain, plan], ids=lambda f: f.__name__)
def test_forgotten_subscripts_are_named(args, call):
    with pytest.raises(einviz.SubscriptError, match=r"^the subscripts are missing\n  given: .* alone\n"
                                                    r"  hint: the first argument is the subscripts text"):
        call(*args)


def test_too_many_ellipsis_dimensions_to_name():
    with pytest.raises(LimitError, match=r"'\.\.\.' stands for 70 dimensions; einviz names at most 63"):
        plan("...->...", shapes=[(1,) * 70])


# -- names ------------------------------------------------------------------------------------
@pytest.mark.parametrize("names, detail", [
    (["A", "for"], r"'for' is a Python keyword"),
    (["range", "Z"], r"'range' is used by the loop code"),
    (["np", "Z"], r"'np' is used by the loop code"),
    (["out", "Z"], r"'out' is used by the loop code"),
    (["A", "1x"], r"'1x' is not a Python identifier"),
    (["A", "A"], r"'A' is given more than once"),
    (["A"], r"1 given for 2 operands"),
], ids=["keyword", "range", "np", "out", "not-identifier", "twice", "count"])
def test_names_the_loop_code_cannot_use_are_refused(names, detail):
    message = (r"names must be 2 distinct Python identifiers \(not a keyword, nor 'out', 'np' or "
               r"'range', which the loop code uses\)\n  given: .*\n(.*\n)*  " + detail)
    with pytest.raises(EinvizError, match=message):
        plan("ij,jk->ik", shapes=[(2, 3), (3, 4)], names=names)
    with pytest.raises(ArgumentTypeError, match=r"names must be a list of names, not str"):
        plan("ij,jk->ik", shapes=[(2, 3), (3, 4)], names="AB")


def test_names_that_are_soft_keywords_or_builtins_the_code_does_not_use_run():
    p = plan("ij,jk->ik", shapes=[(2, 3), (3, 4)], names=["match", "sum"])
    ops = operands(p.shapes)
    namespace = {"np": np, "match": ops[0], "sum": ops[1]}
    exec(p.loop_code(), namespace)
    assert_same(namespace["out"], np.einsum("ij,jk->ik", *ops))


@pytest.mark.parametrize("subscripts, shapes, names, formula", [
    ("AbC->C", [(2, 2, 2)], ("B",), "out[C] = Σ_{A,b} B[A,b,C]"),
    ("Ab,bC->AC", [(2, 3), (3, 2)], ("B", "D"), "out[A,C] = Σ_b B[A,b]·D[b,C]"),
    ("ij,jk->ik", [(2, 3), (3, 4)], ("A", "B"), "out[i,k] = Σ_j A[i,j]·B[j,k]"),
    ("ABCDEFGHIJKLMNOPQRSTUVWXY,Z->", [(1,) * 25, (1,)], ("A0", "A1"), None),
])
def test_default_names_clash_with_no_label(subscripts, shapes, names, formula):
    p = plan(subscripts, shapes=shapes)
    assert p.names == names
    if formula:
        assert p.formula() == formula
    assert not set(p.names) & set(p.labels)
    assert "A and b appear in A" not in str(einviz.explain(subscripts, shapes=shapes))


# -- the default limits ------------------------------------------------------------------------
def test_default_limits_keep_a_call_to_about_a_minute_and_2_gb():
    assert einviz.Limits() == einviz.Limits(max_steps=10**10, max_elements=2**27)
    # A 3000³ matmul takes minutes; a float64 output of 16 GB would not fit many machines.
    with pytest.raises(LimitError, match=r"the einsum needs 27,000,000,000 steps \(multiply-adds\), more than "
                                         r"the limit of 10,000,000,000"):
        plan("ij,jk->ik", shapes=[(3000, 3000), (3000, 3000)]).check_limits()
    with pytest.raises(LimitError, match=r"the output would have 1,000,000,000 elements, more than "
                                         r"the limit of 134,217,728"):
        plan("i,j->ij", shapes=[(10**4,), (10**5,)]).check_limits()
    assert np.dtype(np.complex128).itemsize * einviz.Limits().max_elements <= 2**31
    plan("ij,jk->ik", shapes=[(100, 1000), (1000, 1000)]).check_limits()  # bench_trace: 10^8 steps
    with einviz.limits(max_steps=10**11, max_elements=2**31):
        plan("ij,jk->ik", shapes=[(3000, 3000), (3000, 3000)]).check_limits()




# -- copies and totals read as such (issue 13) -------------------------------------------------
@pytest.mark.parametrize("subscripts, shapes, statement", [
    ("ij->ji", [(2, 3)], "out[j, i] = A[i, j]"),
    ("ii->i", [(3, 3)], "out[i] = A[i, i]"),
    ("i->i", [(3,)], "out[i] = A[i]"),
    ("ij,ij->ij", [(2, 2), (2, 2)], "out[i, j] = A[i, j] * B[i, j]"),
])
def test_an_einsum_that_sums_nothing_writes_each_cell_once(subscripts, shapes, statement):
    code = plan(subscripts, shapes=shapes).loop_code()
    assert code.splitlines()[-1].strip() == statement and "+=" not in code


@pytest.mark.parametrize("subscripts, shapes, last", [
    ("ii->", [(3, 3)], "out += A[i, i]"),
    ("i,i->", [(3,), (3,)], "out += A[i] * B[i]"),
])
def test_a_scalar_output_is_a_running_total(subscripts, shapes, last):
    code = plan(subscripts, shapes=shapes).loop_code().splitlines()
    assert code[0] == "out = 0" and code[-1].strip() == last
    assert not any("np.zeros(()" in line or "out[()]" in line for line in code)


def test_the_formula_indexes_a_broadcast_axis_as_the_loop_code_does():
    p = plan("ij,jk->ik", shapes=[(2, 3), (1, 4)])  # B's j axis: size 1, reused for j=0..2
    assert p.formula() == "out[i,k] = Σ_j A[i,j]·B[0,k]"
    assert "B[0, k]" in p.loop_code()
