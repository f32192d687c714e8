"""The explanation: pattern names, the narrative, and equivalents checked against numpy.einsum."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from corpus import CORPUS, IDS, operands
from hypothesis import given
from hypothesis import strategies as st

from einviz import EinvizError, ShapeError, SubscriptError, plan
from einviz.explaining import PATTERNS, Explanation, explain
from einviz.testing import einsum_problems

DOCS = Path(__file__).resolve().parent.parent / "docs" / "explain.md"

#: id -> (subscripts, shapes or None for explain's own small sizes, expected pattern)
PATTERN_CASES: dict[str, tuple[str, list[tuple[int, ...]] | None, str | None]] = {
    "identity": ("ij->ij", None, "identity"),
    "identity-0d": ("->", [()], "identity"),
    "total-sum": ("ijk->", None, "total sum"),
    "row-sums": ("ij->i", None, "row sums"),
    "column-sums": ("ij->j", None, "column sums"),
    "sum-over-axis": ("ijk->ik", None, "sum over axes"),
    "sum-over-axes-reordered": ("ijk->ki", None, "sum over axes"),
    "sum-ellipsis": ("i...->...", [(2, 3, 2)], "sum over axes"),
    "transpose": ("ij->ji", None, "transpose"),
    "transpose-implicit": ("ba", None, "transpose"),
    "axis-permutation": ("ijk->kij", None, "axis permutation"),
    "axis-reversal": ("ijk->kji", None, "axis permutation"),
    "trace": ("ii->", None, "trace"),
    "batched-trace": ("bii->b", None, "batched trace"),
    "partial-trace": ("iij->j", None, "partial trace"),
    "diagonal": ("ii->i", None, "diagonal"),
    "batched-diagonal": ("bii->bi", None, "batched diagonal"),
    "diagonal-over-two-axes": ("iij->ji", None, "diagonal over two axes"),
    "diagonal-reordered": ("bii->ib", None, "diagonal over two axes"),
    "product-of-scalars": (",->", [(), ()], "product of scalars"),
    "scaling": (",ij->ij", None, "scaling by a scalar"),
    "hadamard": ("ij,ij->ij", None, "Hadamard product"),
    "hadamard-3": ("ijk,ijk,ijk->ijk", None, "Hadamard product"),
    "hadamard-broadcast": ("ij,ij->ij", [(2, 3), (1, 3)], "Hadamard product"),
    "hadamard-transpose": ("ij,ji->ij", None, "Hadamard product with a transpose"),
    "outer": ("i,j->ij", None, "outer product"),
    "outer-swapped": ("i,j->ji", None, "outer product"),
    "outer-tensor": ("ij,kl->ijkl", None, "outer product"),
    "outer-3": ("i,j,k->ijk", None, "outer product"),
    "scale-rows": ("ij,i->ij", None, "broadcasting multiply"),
    "scale-columns": ("ij,j->ij", None, "broadcasting multiply"),
    "dot": ("i,i->", None, "dot product"),
    "batched-dot": ("bi,bi->b", None, "batched dot product"),
    "row-wise-dot": ("ij,ij->i", None, "batched dot product"),
    "inner": ("ij,ij->", None, "inner product"),
    "trace-of-product": ("ij,ji->", None, "trace of a matrix product"),
    "matvec": ("ij,j->i", None, "matrix-vector product"),
    "vecmat": ("i,ij->j", None, "vector-matrix product"),
    "matmul": ("ij,jk->ik", None, "matrix multiplication"),
    "matmul-implicit": ("ij,jk", None, "matrix multiplication"),
    "matmul-swapped": ("jk,ij->ik", None, "matrix multiplication"),
    "matmul-broadcast": ("ij,jk->ik", [(2, 1), (3, 4)], "matrix multiplication"),
    "matmul-zero": ("ij,jk->ik", [(2, 0), (0, 3)], "matrix multiplication"),
    "matmul-uppercase": ("Ab,bC->AC", None, "matrix multiplication"),
    "matmul-b-transposed": ("ij,kj->ik", None, "matrix multiplication with a transpose"),
    "matmul-a-transposed": ("ji,jk->ik", None, "matrix multiplication with a transpose"),
    "attention-2d": ("qd,kd->qk", None, "matrix multiplication with a transpose"),
    "matmul-transposed": ("ij,jk->ki", None, "transpose of a matrix multiplication"),
    "matmul-both-transposed": ("ji,kj->ik", None, "transpose of a matrix multiplication"),
    "batched-matmul": ("bij,bjk->bik", None, "batched matmul"),
    "batched-matmul-broadcast": ("bij,jk->bik", None, "batched matmul"),
    "batched-matmul-ellipsis": ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 2)], "batched matmul"),
    "batched-matmul-ellipsis-broadcast": ("...ij,...jk", [(2, 1, 2, 3), (4, 3, 2)], "batched matmul"),
    "batched-matmul-transpose": ("bji,bjk->bik", None, "batched matmul with a transpose"),
    "transposed-batched-matmul": ("bij,bjk->bki", None, "transpose of a batched matmul"),
    "attention": ("bhqd,bhkd->bhqk", None, "attention scores"),
    "attention-single-head": ("bqd,bkd->bqk", None, "attention scores"),
    "batched-matvec": ("bij,bj->bi", None, "batched matrix-vector product"),
    "stack-times-vector": ("bij,j->bi", None, "batched matrix-vector product"),
    "batched-vecmat": ("bi,bij->bj", None, "batched vector-matrix product"),
    "bilinear": ("i,ij,j->", None, "bilinear form"),
    "bilinear-reversed": ("j,ij,i->", None, "bilinear form"),
    "chain-3": ("ij,jk,kl->il", None, "matrix chain product"),
    "chain-4": ("ab,bc,cd,de->ae", None, "matrix chain product"),
    "chain-with-transpose": ("ij,jk,lk->il", None, "matrix chain product"),
    "chain-vector-end": ("ij,jk,k->i", None, "matrix chain product"),
    "chain-transposed": ("ij,jk,kl->li", None, "transpose of a matrix chain product"),
    "tensordot": ("ijk,jkl->il", None, "tensor contraction"),
    "tensordot-reordered": ("ijk,jkl->li", None, "tensor contraction"),
    "column-wise-dot": ("ij,ij->j", None, "tensor contraction"),
    "three-way-contraction": ("ij,jk,ki->", None, "tensor contraction"),
    # near misses: each looks like a known pattern but is not it
    "near-matmul-keeps-j": ("ij,jk->ijk", None, "broadcasting multiply"),
    "near-matvec-diagonal": ("ii,ij->j", None, None),
    "near-trace-3": ("iii->", None, None),
    "near-hadamard-diagonal": ("ii,i->i", None, None),
    "near-diagonal-summed": ("iijk->j", None, None),
}
CASE_IDS = list(PATTERN_CASES)


def case_operands(e: Explanation, seed: int = 0, dtype: str = "int64") -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-3, 4, size=shape).astype(dtype) for shape in e.plan.shapes]


def run_equivalent(e: Explanation, ops: list[np.ndarray]) -> np.ndarray:
    """Evaluate the equivalent with the operands bound to their names."""
    assert e.equivalent is not None
    assert "einsum" not in e.equivalent
    return np.asarray(eval(e.equivalent, {"np": np, **dict(zip(e.plan.names, ops))}))


def assert_equivalent(e: Explanation, ops: list[np.ndarray]) -> None:
    expected = np.asarray(np.einsum(str(e.plan.equation), *ops))
    result = run_equivalent(e, ops)
    assert result.shape == expected.shape, (e.subscripts, e.equivalent)
    np.testing.assert_allclose(result, expected, err_msg=f"{e.subscripts}: {e.equivalent}")


def explain_case(case_id: str, names: list[str] | None = None) -> Explanation:
    subscripts, shapes, _ = PATTERN_CASES[case_id]
    return explain(subscripts, shapes=shapes, names=names)


# -- pattern names ---------------------------------------------------------------------------
@pytest.mark.parametrize("case_id", CASE_IDS)
def test_pattern(case_id):
    e = explain_case(case_id)
    assert e.pattern == PATTERN_CASES[case_id][2]
    assert e.pattern is None or e.pattern in PATTERNS
    assert (e.equivalent is None) == (e.pattern is None)
    assert e.title == ("general einsum" if e.pattern is None else e.title)


def test_every_pattern_has_a_case():
    assert set(PATTERNS) <= {pattern for _, _, pattern in PATTERN_CASES.values()}


@pytest.mark.parametrize(
    ("subscripts", "not_this"),
    [
        ("ij,jk->ki", "matrix multiplication"),
        ("ij,jk->ijk", "matrix multiplication"),
        ("ii,ij->j", "matrix-vector product"),
        ("ij,kj->ik", "matrix multiplication"),
        ("ij,ij->j", "batched dot product"),
        ("ij,ji->", "inner product"),
        ("ij,kl->ikjl", "outer product"),
        ("i,j,k->", "bilinear form"),
        ("bij,bjk->bki", "batched matmul"),
        ("bqd,bkd->qbk", "attention scores"),
        ("ijk->ki", "column sums"),
    ],
)
def test_no_false_positive(subscripts, not_this):
    assert explain(subscripts).pattern != not_this


def test_transpose_of_matmul_is_said_honestly():
    e = explain("ij,jk->ki")
    assert e.equivalent == "(A @ B).T"
    assert any("transpose" in s or "swapped" in s for s in e.narrative)


# -- equivalents -----------------------------------------------------------------------------
@pytest.mark.parametrize("case_id", [c for c in CASE_IDS if PATTERN_CASES[c][2] is not None])
@pytest.mark.parametrize("dtype", ["int64", "float64"])
def test_equivalent_equals_einsum(case_id, dtype):
    e = explain_case(case_id)
    assert_equivalent(e, case_operands(e, dtype=dtype))


@pytest.mark.parametrize("name", IDS)
def test_corpus_equivalents_equal_einsum(name):
    subscripts, shapes = CORPUS[name]
    ops = operands(shapes)
    e = explain(subscripts, *ops)
    if e.equivalent is not None:
        assert_equivalent(e, ops)


@pytest.mark.parametrize(
    ("subscripts", "names", "equivalent"),
    [
        ("ij->i", ["M"], "M.sum(axis=1)"),
        ("ij,jk->ik", ["X", "W"], "X @ W"),
        ("ij,kj->ik", ["A", "B"], "A @ B.T"),
        ("ii->", ["A"], "np.trace(A)"),
        ("ii->i", ["A"], "np.diagonal(A)"),
        ("i,j->ij", ["u", "v"], "np.outer(u, v)"),
        ("ij,ij->ij", ["A", "B"], "A * B"),
        ("ij->ji", ["A"], "A.T"),
        ("ijk->kij", ["A"], "np.transpose(A, (2, 0, 1))"),
        ("bij,bjk->bik", ["A", "B"], "np.matmul(A, B)"),
        ("i,i->", ["a", "b"], "a @ b"),
        ("i,ij,j->", ["x", "A", "y"], "x @ A @ y"),
        ("bhqd,bhkd->bhqk", ["Q", "K"], "np.matmul(Q, K.swapaxes(-1, -2))"),
        ("ijk,jkl->il", ["A", "B"], "np.tensordot(A, B, axes=([1, 2], [0, 1]))"),
    ],
)
def test_equivalent_code(subscripts, names, equivalent):
    assert explain(subscripts, names=names).equivalent == equivalent


def test_size_one_axis_is_broadcast_in_the_equivalent():
    e = explain("ij,jk->ik", shapes=[(2, 1), (3, 4)])
    assert e.equivalent == "np.broadcast_to(A, (2, 3)) @ B"
    assert_equivalent(e, case_operands(e))


@st.composite
def relabelled_cases(draw):
    """A pattern case with fresh letters, operands in a new order, new sizes and names."""
    case_id = draw(st.sampled_from([c for c in CASE_IDS if "..." not in PATTERN_CASES[c][0]]))
    subscripts, shapes, pattern = PATTERN_CASES[case_id]
    base = explain(subscripts, shapes=shapes)
    eq = base.plan.equation
    letters = draw(st.permutations("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    rename = dict(zip(eq.labels, letters))
    order = draw(st.permutations(range(eq.n_operands)))
    terms = ["".join(rename[x] for x in eq.terms[k]) for k in order]
    text = ",".join(terms) + "->" + "".join(rename[x] for x in eq.output)
    if shapes is None:
        sizes = {x: draw(st.integers(0, 4)) for x in eq.labels}
        new_shapes = [tuple(sizes[x] for x in eq.terms[k]) for k in order]
    else:
        new_shapes = [base.plan.shapes[k] for k in order]
    names = draw(st.permutations(["x", "W", "Q", "K", "v2", "M"]))[: eq.n_operands]
    return case_id, pattern, explain(text, shapes=new_shapes, names=names)


@given(relabelled_cases(), st.integers(0, 2**16))
def test_pattern_survives_relabelling_and_reordering(case, seed):
    case_id, pattern, e = case
    assert e.pattern == pattern, (case_id, e.subscripts)
    if e.equivalent is not None:
        assert_equivalent(e, case_operands(e, seed=seed, dtype="float64"))


@given(einsum_problems(dtypes=["int64", "float64"], mixed_dtypes=False, max_operands=3))
def test_any_equivalent_equals_einsum(problem):
    subscripts, ops = problem
    e = explain(subscripts, *ops)
    if e.equivalent is not None:
        assert_equivalent(e, list(ops))


# -- the narrative ---------------------------------------------------------------------------
@given(einsum_problems(max_operands=3))
def test_narrative_names_every_summed_and_free_label(problem):
    subscripts, ops = problem
    e = explain(subscripts, *ops)
    text = " ".join(e.narrative)
    summed = next(s for s in e.narrative if "summed" in s)
    for label in e.plan.summed:
        assert re.search(rf"\b{label}\b", summed), (label, summed)
    for label in e.plan.output:
        assert re.search(rf"\b{label}\b.* in the output", text), label
    for name in e.plan.names:
        assert f"{name} has" in text
    assert all(isinstance(s, str) and s and "\n" not in s for s in e.narrative)


def test_narrative_of_matmul():
    e = explain("ij,jk->ik", shapes=[(2, 3), (3, 4)])
    assert e.narrative[:7] == [
        "The subscripts 'ij,jk->ik' tell einsum what to do with two arrays: A and B.",
        "einsum sees that A has two dimensions (i: 2, j: 3).",
        "B has two dimensions (j: 3, k: 4).",
        "The subscripts have three unique letters: i, j, k.",
        "j appears in A and B but not in the output, so it is summed: each output cell adds up "
        "the products along j.",
        "i and k are in the output, so they are kept: the output has shape (2, 4).",
        "The loops run over i, k and j: 2 × 4 × 3 = 24 steps.",
    ]
    assert e.narrative[-1] == "In plain numpy: A @ B"


@pytest.mark.parametrize(
    ("subscripts", "shapes", "phrase"),
    [
        ("ij,jk", None, "No '->' is given, so the output is the letters that appear once, "
                        "in alphabetical order: ik."),
        ("aB,c", None, "in alphabetical order (capitals first): Bac."),
        ("ii->i", None, "i appears twice in A, so einsum walks A's diagonal"),
        ("iii->", None, "i appears three times in A"),
        ("...ij,...jk->...ik", [(5, 2, 3), (5, 3, 4)], "'...' stands for the broadcast dimension α (α: 5)."),
        ("...ij,...jk", [(2, 1, 2, 3), (4, 3, 2)], "In B, '...' covers only β, so B is reused for every α."),
        ("...i->...i", [(3,)], "'...' stands for no dimensions here"),
        ("bij,bjk->bik", [(1, 2, 3), (4, 3, 2)], "A's axis 0 has size 1, so its one cell is reused for every b"),
        ("ij->", None, "the single output number adds up all the values along i and j."),
        ("ij,jk,kl->il", None, "j appears in A and B, and k appears in B and C, but neither is in the "
                               "output, so both are summed"),
        ("i,j->ij", None, "No letter is summed, so each output cell is a single product"),
        ("ij->ji", None, "The output lists them as j, i"),
        ("ij,jk->ik", [(2, 0), (0, 3)], "0 steps, so every output cell stays 0."),
        (",->", [(), ()], "A has no dimensions: it is a single number."),
        ("ij->i", None, "No arrays were given, so einviz picks small sizes: i: 2, j: 3."),
    ],
)
def test_narrative_phrases(subscripts, shapes, phrase):
    assert phrase in " ".join(explain(subscripts, shapes=shapes).narrative)


# -- rendering, inputs and errors ------------------------------------------------------------
def test_str_has_title_narrative_formula_loops_and_equivalent():
    text = str(explain("ij->i", shapes=[(2, 3)]))
    lines = text.splitlines()
    assert lines[0] == "ij->i  —  row sums"
    for part in ("einsum sees that A has two dimensions", "out[i] = Σ_j A[i,j]",
                 "for j in range(3):", "equivalent:  A.sum(axis=1)"):
        assert part in text
    assert text.index("formula:") < text.index("loop code:") < text.index("equivalent:")


def test_markdown_escapes_and_has_latex():
    md = explain("ij,jk->ik", names=["x_1", "W"])._repr_markdown_()
    assert md.startswith("**matrix multiplication**")
    assert r"x\_1" in md
    assert "$$\\mathrm{out}_{ik} = \\sum_{j}" in md
    assert "```python\nx_1 @ W\n```" in md


def test_repr_is_short():
    assert repr(explain("ii->")) == "Explanation('ii->', pattern='trace', equivalent='np.trace(A)')"


def test_to_dict():
    data = explain("i,i->", shapes=[(3,), (3,)]).to_dict()
    assert data["pattern"] == "dot product"
    assert data["shapes"] == [[3], [3]]
    assert data["names"] == ["A", "B"]


def test_loop_code_and_formula_come_from_the_plan():
    p = plan("bij,bjk->bik", shapes=[(2, 2, 3), (2, 3, 4)])
    e = explain(p)
    assert e.plan is p
    assert (e.formula, e.latex, e.loop_code) == (p.formula(), p.latex(), p.loop_code())


def test_operands_and_sublist_form():
    a, b = np.ones((2, 3)), np.ones((3, 4))
    assert explain("ij,jk->ik", a, b).plan.shapes == ((2, 3), (3, 4))
    assert explain(a, [0, 1], b, [1, 2], [0, 2]).pattern == "matrix multiplication"


def test_plan_with_more_arguments_is_refused():
    p = plan("ij->i", shapes=[(2, 3)])
    with pytest.raises(EinvizError, match="a plan already has its shapes and names: give it alone"):
        explain(p, names=["M"])


def test_bad_input_raises_einviz_errors():
    with pytest.raises(SubscriptError, match="is not a valid label"):
        explain("i1->i")
    with pytest.raises(ShapeError, match="label 'j' has size 3 in A"):
        explain("ij,jk->ik", shapes=[(2, 3), (4, 5)])
    with pytest.raises(ShapeError, match="but 1 was given"):
        explain("ij,jk->ik", np.ones((2, 3)))


# -- the docs --------------------------------------------------------------------------------
def doc_rows() -> list[tuple[str, str, str]]:
    rows = re.findall(r"^\| ([^|`]+?) +\| `([^`]+)` +\| `([^`]+)` +\|$", DOCS.read_text(), re.M)
    assert rows, "docs/explain.md has no pattern table"
    return rows


def test_docs_list_every_pattern_with_a_true_example():
    rows = doc_rows()
    assert sorted(pattern for pattern, _, _ in rows) == sorted(PATTERNS)
    for pattern, subscripts, equivalent in rows:
        e = explain(subscripts)
        assert (e.pattern, e.equivalent) == (pattern, equivalent), subscripts
        assert_equivalent(e, case_operands(e))


# -- the sentences as data ---------------------------------------------------------------------------
@given(einsum_problems(max_operands=3))
def test_every_sentence_says_what_it_is_and_which_labels_it_speaks_of(problem):
    from einviz.explaining import ROLES

    subscripts, ops = problem
    e = explain(subscripts, *ops)
    p = e.plan
    roles = [s.role for s in e.sentences]
    assert roles[0] == "intro" and all(role in ROLES for role in roles)
    order = list(ROLES)
    assert [order.index(r) for r in roles] == sorted(order.index(r) for r in roles)
    assert e.narrative == [s.text for s in e.sentences] == [str(s) for s in e.sentences]
    for sentence in e.sentences:
        # Each coloured stretch is a label: one standing as a word of its own, or (where the
        # sentence quotes subscripts) one of the subscripts' letters.
        for start, end in sentence.coloured:
            assert sentence.text[start:end] in p.labels
            around = sentence.text[start - 1 : start] + sentence.text[end : end + 1]
            if sentence.role not in ("intro", "implicit"):
                assert not any(char.isalnum() for char in around), (sentence.text, start)
        assert set(sentence.labels) <= {sentence.text[a:b] for a, b in sentence.coloured}
    summed = next(s for s in e.sentences if s.role == "summed")
    assert set(summed.labels) == set(p.summed)
    free = next(s for s in e.sentences if s.role == "free")
    assert set(free.labels) == set(p.output)


def test_a_label_that_is_also_a_word_is_marked_only_where_it_is_the_label():
    e = explain("ab,bc->ac", shapes=[(2, 2), (2, 2)])
    pattern = next(s for s in e.sentences if s.role == "pattern")
    assert " a row of A" in pattern.text and pattern.coloured == ()
    free = next(s for s in e.sentences if s.role == "free")
    assert free.text.startswith("a and c are in the output") and free.labels == ("a", "c")
    assert e.to_dict()["roles"][0] == "intro" and e.to_dict()["sentences"] == e.narrative


def test_an_equation_or_a_plan_is_explained_without_parsing_or_binding_again(monkeypatch):
    import importlib

    from einviz.subscripts import parse

    equation = parse("ij,jk->ik")
    loop_plan = plan(equation, shapes=[(2, 3), (3, 4)])
    subscripts = importlib.import_module("einviz.subscripts")
    plans = importlib.import_module("einviz.planning")
    made = []
    for cls in (subscripts.Equation, plans.LoopPlan):
        monkeypatch.setattr(cls, "__init__", lambda self, *a, __init=cls.__init__, **k:
                            made.append(type(self).__name__) or __init(self, *a, **k))
    assert explain(loop_plan).plan is loop_plan
    assert made == []
    assert explain(equation, shapes=[(2, 3), (3, 4)]).pattern == "matrix multiplication"
    assert made == ["LoopPlan"]


@pytest.mark.parametrize("subscripts, shapes", [("ij->ji", [(2, 3)]), ("ii->i", [(3, 3)]), ("i->i", [(3,)])])
def test_a_copy_is_told_as_a_copy_not_as_multiply_adds(subscripts, shapes) -> None:
    sentences = explain(subscripts, shapes=shapes).sentences
    text = " ".join(s.text for s in sentences)
    assert "multipl" not in text and " add" not in text
    steps = next(s for s in sentences if s.role == "steps")
    assert "copying one cell of A" in steps.text


def test_a_product_with_nothing_summed_writes_each_product_once() -> None:
    steps = next(s for s in explain("i,j->ij", shapes=[(2,), (3,)]).sentences if s.role == "steps")
    assert steps.text.endswith("6 steps, each writing one product.")


def test_word_labels_are_marked_whole_in_every_sentence():
    e = explain("batch seq, seq dim -> batch dim", shapes=[(2, 3), (3, 4)])
    intro = e.sentences[0]
    assert [intro.text[a:b] for a, b in intro.coloured] == ["batch", "seq", "seq", "dim", "batch", "dim"]
    for sentence in e.sentences:
        marked = [sentence.text[a:b] for a, b in sentence.coloured]
        assert set(marked) <= {"batch", "seq", "dim"}
        assert set(sentence.labels) <= set(marked)
    summed = next(s for s in e.sentences if s.role == "summed")
    assert summed.labels == ("seq",) and len(summed.coloured) == 2


def test_einops_text_is_written_back_as_it_was_read_and_the_reading_is_said():
    e = explain("batch seq, seq dim -> batch dim", shapes=[(2, 3), (3, 4)])
    assert e.subscripts == "batch seq, seq dim -> batch dim"
    assert str(e).startswith("batch seq, seq dim -> batch dim  —  matrix multiplication")
    assert [s.role for s in e.sentences][:2] == ["intro", "notation"]
    assert "einops' notation" in e.sentences[1].text and e.sentences[1].labels == ()
    numpy_text = explain("ij,jk", shapes=[(2, 3), (3, 4)])
    assert numpy_text.subscripts == "ij,jk->ik"
    assert "notation" not in [s.role for s in numpy_text.sentences]
