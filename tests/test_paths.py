"""Contraction paths: the library's path, replayed step by step, and the FLOP conventions."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import opt_einsum
import pytest
from corpus import drawn_values, operands
from hypothesis import given, settings
from hypothesis import strategies as st

from einviz import EinvizError, LimitError, LoopPlan, ShapeError, SubscriptError, einsum, plan
from einviz.paths import CONVENTIONS, ContractionPath, PathStep, contraction_path, library_path
from einviz.testing import einsum_problems

DOCS = Path(__file__).resolve().parent.parent / "docs" / "paths.md"
SOURCES = ["opt_einsum", "numpy"]

#: id -> (subscripts, shapes): expressions whose path is worth laying out.
PATHS: dict[str, tuple[str, list[tuple[int, ...]]]] = {
    "one-operand": ("ij->i", [(2, 3)]),
    "scalar": ("->", [()]),
    "two-scalars": (",->", [(), ()]),
    "matmul": ("ij,jk->ik", [(2, 3), (3, 4)]),
    "hadamard": ("ij,ij->ij", [(2, 3), (2, 3)]),
    "chain-3": ("ij,jk,kl->il", [(2, 5), (5, 3), (3, 4)]),
    "four-operands": ("ab,bc,cd,de->ae", [(2, 3), (3, 4), (4, 5), (5, 6)]),
    "four-implicit": ("ab,bc,cd,de", [(2, 2), (2, 3), (3, 2), (2, 2)]),
    "bilinear": ("i,ij,j->", [(2,), (2, 3), (3,)]),
    "diagonal-in-chain": ("ii,ij,jk->k", [(3, 3), (3, 4), (4, 2)]),
    "outer-3": ("i,j,k->ijk", [(2,), (3,), (4,)]),
    "hadamard-3": ("ij,ij,ij->ij", [(2, 3), (2, 3), (2, 3)]),
    "tensor-network": ("ea,fb,abcd,gc,hd->efgh", [(2, 3), (2, 2), (3, 2, 2, 3), (2, 2), (3, 3)]),
    "summed-alone": ("abc,cd,de,ff->a", [(2, 3, 4), (4, 5), (5, 3), (3, 3)]),
    "broadcast-size-1": ("ij,j,jk->ik", [(2, 1), (1,), (3, 4)]),
    "zero-size": ("ij,jk,kl->il", [(2, 0), (0, 3), (3, 2)]),
    "uppercase": ("Ab,bC,CD->AD", [(2, 3), (3, 2), (2, 4)]),
    "ellipsis": ("...ij,...jk,k->...i", [(5, 2, 3), (3, 4), (4,)]),
    "ellipsis-broadcast": ("b...ij,b...jk,b...kl->b...il", [(2, 3, 2, 3), (2, 1, 3, 4), (2, 3, 4, 2)]),
    "ellipsis-implicit": ("...ij,...jk,...kl", [(2, 2, 3), (3, 4), (1, 4, 2)]),
}
IDS = list(PATHS)


def _replay(path: ContractionPath, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Run the steps by hand, by name, with einviz.einsum: the proof that a path is right."""
    values = dict(zip(path.names, arrays))
    for step in path.steps:
        values[step.output] = einsum(step.subscripts, *(values[name] for name in step.inputs))
    return values


# -- the path computes the einsum ---------------------------------------------------------------
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("case", IDS)
def test_steps_replayed_reproduce_numpy(case: str, source: str) -> None:
    subscripts, shapes = PATHS[case]
    arrays = operands(shapes)
    path = contraction_path(subscripts, *arrays, source=source)
    values = _replay(path, arrays)
    expected = np.einsum(subscripts, *arrays)
    np.testing.assert_array_equal(values["out"], expected)
    assert values["out"].shape == expected.shape
    np.testing.assert_array_equal(path.einsum(*arrays), expected)
    for step in path.steps:
        assert values[step.output].shape == step.shape
        assert step.size == math.prod(step.shape)
    assert path.steps[-1].output == "out"
    assert path.steps[-1].remaining == ("out",)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("case", IDS)
def test_step_flops_are_einviz_plan_flops(case: str, source: str) -> None:
    subscripts, shapes = PATHS[case]
    path = contraction_path(subscripts, shapes=shapes, source=source)
    for step in path.steps:
        assert step.flops == plan(step.subscripts, shapes=step.input_shapes).flops
        assert step.shape == plan(step.subscripts, shapes=step.input_shapes).out_shape
    assert path.flops == sum(step.flops for step in path.steps)
    assert path.naive_flops == plan(subscripts, shapes=shapes).flops
    assert path.largest_intermediate == max(step.size for step in path.steps)


@pytest.mark.parametrize("case", [c for c in IDS if "ellipsis" not in c])
def test_opt_einsum_path_and_steps_are_its_own(case: str) -> None:
    subscripts, shapes = PATHS[case]
    expected, info = opt_einsum.contract_path(subscripts, *shapes, shapes=True)
    path = contraction_path(subscripts, shapes=shapes)
    assert [list(p) for p in path.path] == [list(p) for p in expected]
    assert [step.subscripts for step in path.steps] == [c[2] for c in info.contraction_list]
    assert [step.blas for step in path.steps] == [c[4] for c in info.contraction_list]
    assert path.library_printout == str(info)


@pytest.mark.parametrize("case", [c for c in IDS if "ellipsis" not in c])
def test_numpy_path_and_steps_are_its_own(case: str) -> None:
    subscripts, shapes = PATHS[case]
    arrays = operands(shapes)
    expected, printout = np.einsum_path(subscripts, *arrays, optimize="greedy")
    path = contraction_path(subscripts, shapes=shapes, source="numpy")
    assert [list(p) for p in path.path] == [list(p) for p in expected[1:]]
    table = re.split(r"-{20,}", printout)[-1].split()
    assert [step.subscripts for step in path.steps] == table[1::3]
    assert path.library_printout == printout


def test_four_operand_example() -> None:
    path = contraction_path("ab,bc,cd,de->ae", shapes=[(2, 3), (3, 4), (4, 5), (5, 6)])
    assert [s.contraction() for s in path.steps] == ["T1 = B · A", "T2 = T1 · C", "out = T2 · D"]
    assert [s.subscripts for s in path.steps] == ["bc,ab->ca", "ca,cd->ad", "ad,de->ae"]
    assert [s.labels for s in path.steps] == ["ca", "ad", "ae"]
    assert [s.shape for s in path.steps] == [(4, 2), (2, 5), (2, 6)]
    assert [s.flops for s in path.steps] == [48, 80, 120]
    assert [s.summed for s in path.steps] == [("b",), ("c",), ("d",)]
    assert [s.blas for s in path.steps] == ["GEMM", "GEMM", "GEMM"]
    assert [s.pattern for s in path.steps] == [
        "transpose of a matrix multiplication", "matrix multiplication with a transpose",
        "matrix multiplication"]
    assert [s.remaining for s in path.steps] == [("C", "D", "T1"), ("D", "T2"), ("out",)]
    assert (path.naive_flops, path.flops, path.largest_intermediate) == (2880, 248, 12)
    assert path.speedup == pytest.approx(2880 / 248)
    assert path.strategy == "auto" and path.source == "opt_einsum"

    by_numpy = contraction_path("ab,bc,cd,de->ae", shapes=[(2, 3), (3, 4), (4, 5), (5, 6)],
                                source="numpy")
    assert [s.contraction() for s in by_numpy.steps] == ["T1 = D · C", "T2 = T1 · B", "out = T2 · A"]
    assert by_numpy.flops == 456 and by_numpy.library_flops == 457
    assert by_numpy.strategy == "greedy"


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("subscripts, shapes", [("ij->i", [(2, 3)]), ("ii->", [(3, 3)]),
                                                ("ij,jk->ik", [(2, 3), (3, 4)]),
                                                ("i,j->ij", [(2,), (3,)])])
def test_one_and_two_operands_are_one_step(subscripts: str, shapes: list, source: str) -> None:
    path = contraction_path(subscripts, shapes=shapes, source=source)
    (step,) = path.steps
    assert step.output == "out" and step.inputs == tuple(reversed(path.names))
    assert step.flops == path.naive_flops == path.flops
    assert path.speedup == 1.0


def test_ellipsis_steps_keep_the_ellipsis() -> None:
    path = contraction_path("...ij,...jk,k->...i", shapes=[(5, 2, 3), (3, 4), (4,)])
    assert [s.subscripts for s in path.steps] == ["k,jk->j", "j,...ij->...i"]
    assert path.steps[-1].shape == (5, 2)
    by_numpy = contraction_path("b...ij,b...jk,b...kl->b...il",
                                shapes=[(2, 3, 2, 3), (2, 1, 3, 4), (2, 3, 4, 2)], source="numpy")
    assert all("..." in s.subscripts for s in by_numpy.steps)
    assert "written as the labels" not in str(by_numpy)


def test_ellipsis_that_cannot_be_kept_is_spelled_out() -> None:
    # numpy orders an intermediate's labels by size: the two '...' dimensions (sizes 5
    # and 2) come apart around 'j' (size 3), so that step cannot write '...'.
    path = contraction_path("...ij,...j,jk->...k", shapes=[(5, 2, 7, 3), (2, 3), (3, 4)],
                            source="numpy", optimize=[(0, 1), (0, 1)])
    arrays = operands(list(path.shapes))
    np.testing.assert_array_equal(path.einsum(*arrays), np.einsum("...ij,...j,jk->...k", *arrays))
    if all("..." in s.subscripts or not any(c in s.subscripts for c in "zy") for s in path.steps):
        pytest.skip("numpy kept the ellipsis dimensions together here")
    assert "'...' is written as the labels z, y" in str(path)


def test_sublist_form_and_names() -> None:
    a, b, c = operands([(2, 3), (3, 4), (4, 2)])
    path = contraction_path(a, [0, 1], b, [1, 2], c, [2, 3], [0, 3])
    assert path.subscripts == "ab,bc,cd->ad"
    named = contraction_path("ij,jk,kl->il", a, b, c, names=["T1", "T2", "W"])
    assert all(not s.output.startswith("T") for s in named.steps)
    np.testing.assert_array_equal(named.einsum(a, b, c), np.einsum("ij,jk,kl->il", a, b, c))


# -- strategies ------------------------------------------------------------------------------
@pytest.mark.parametrize("source, optimize", [("opt_einsum", "greedy"), ("opt_einsum", "optimal"),
                                              ("opt_einsum", "dp"), ("opt_einsum", "branch-2"),
                                              ("numpy", "optimal"), ("numpy", True),
                                              ("opt_einsum", False), ("numpy", False)])
def test_strategies(source: str, optimize: object) -> None:
    subscripts, shapes = PATHS["summed-alone"]
    arrays = operands(shapes)
    path = contraction_path(subscripts, *arrays, source=source, optimize=optimize)
    np.testing.assert_array_equal(path.einsum(*arrays), np.einsum(subscripts, *arrays))
    if optimize is False:
        assert len(path.steps) == 1 and path.strategy == "none"
        assert path.flops == path.naive_flops


def test_dp_makes_single_operand_steps() -> None:
    path = contraction_path("abc,cd,de,ff->a", shapes=[(2, 3, 4), (4, 5), (5, 6), (3, 3)],
                            optimize="dp")
    assert any(len(step.inputs) == 1 for step in path.steps)


@pytest.mark.parametrize("source", SOURCES)
def test_explicit_path(source: str) -> None:
    shapes = [(2, 30), (30, 4), (4, 50)]
    forced = contraction_path("ab,bc,cd->ad", shapes=shapes, source=source, optimize=[(1, 2), (0, 1)])
    assert forced.strategy == "explicit"
    assert [s.contraction() for s in forced.steps] == ["T1 = C · B", "out = T1 · A"]
    numpy_style = contraction_path("ab,bc,cd->ad", shapes=shapes, source=source,
                                   optimize=["einsum_path", (1, 2), (0, 1)])
    assert [s.subscripts for s in numpy_style.steps] == [s.subscripts for s in forced.steps]


# -- the FLOP conventions, checked against the libraries' own figures ----------------------------
def _numpy_printed(printout: str) -> dict[str, float]:
    figures = {}
    for key in ("Naive FLOP count", "Optimized FLOP count", "Largest intermediate"):
        figures[key] = float(re.search(rf"{key}:\s*(\S+)", printout).group(1))
    return figures


def _documented_naive(subscripts: str, shapes: list) -> int:
    """The libraries' naive count as CONVENTIONS (1) derives it from einviz's figures."""
    p = plan(subscripts, shapes=shapes)
    if p.n_operands == 1:
        return p.flops
    distinct = [set(term) for term in p.terms]
    shared = sum(map(len, distinct)) > len(set().union(*distinct))
    return p.flops + p.n_steps * (int(shared) - int(bool(p.summed)))


def _documented_path(path: ContractionPath) -> int:
    """The libraries' path cost as CONVENTIONS (2, 3) derives it from einviz's steps."""
    total = sum(
        2 * step.flops if len(step.inputs) == 1 and step.summed else step.flops
        for step in path.steps
    )
    return total + (1 if path.source == "numpy" else 0)


def _broadcasts(subscripts: str, shapes: list) -> bool:
    """Whether some operand has a size-1 axis for a label that is larger elsewhere."""
    p = plan(subscripts, shapes=shapes)
    return any(p.is_broadcast(k, axis) for k in range(p.n_operands) for axis in range(len(p.terms[k])))


NO_BROADCAST = [c for c in IDS if not _broadcasts(*PATHS[c])]


@pytest.mark.parametrize("case", NO_BROADCAST)
def test_conventions_hold_for_opt_einsum(case: str) -> None:
    subscripts, shapes = PATHS[case]
    _, info = opt_einsum.contract_path(subscripts, *shapes, shapes=True)
    path = contraction_path(subscripts, shapes=shapes)
    assert int(info.naive_cost) == path.library_naive_flops == _documented_naive(subscripts, shapes)
    assert int(info.opt_cost) == path.library_flops == _documented_path(path)
    assert sum(s.library_flops for s in path.steps) == int(info.opt_cost)
    assert int(info.largest_intermediate) == path.largest_intermediate


@pytest.mark.parametrize("case", NO_BROADCAST)
def test_conventions_hold_for_numpy(case: str) -> None:
    subscripts, shapes = PATHS[case]
    _, printout = np.einsum_path(subscripts, *operands(shapes), optimize="greedy")
    printed = _numpy_printed(printout)
    path = contraction_path(subscripts, shapes=shapes, source="numpy")
    # numpy prints four significant digits.
    assert printed["Naive FLOP count"] == pytest.approx(_documented_naive(subscripts, shapes), rel=1e-3)
    assert printed["Naive FLOP count"] == pytest.approx(path.library_naive_flops, rel=1e-3)
    assert printed["Optimized FLOP count"] == pytest.approx(_documented_path(path), rel=1e-3)
    assert printed["Optimized FLOP count"] == pytest.approx(path.library_flops, rel=1e-3)
    assert printed["Largest intermediate"] == pytest.approx(path.largest_intermediate, rel=1e-3)


#: The measured table of docs/paths.md: expression, shapes, then einviz naive, einviz path,
#: opt_einsum naive, opt_einsum path, numpy path (einviz's count), numpy naive, numpy optimized.
DOCUMENTED = [
    ("ij,ij->ij", [(2, 3), (2, 3)], 6, 6, 12, 6, 6, 12, 7),
    ("ij,j->ij", [(2, 3), (3,)], 6, 6, 12, 6, 6, 12, 7),
    ("i,j->", [(2,), (3,)], 12, 12, 6, 12, 12, 6, 13),
    ("ij->i", [(2, 3)], 6, 6, 6, 12, 6, 6, 13),
    ("ii->", [(3, 3)], 3, 3, 3, 6, 3, 3, 7),
    ("ij,jk->ik", [(2, 3), (3, 4)], 48, 48, 48, 48, 48, 48, 49),
    ("i,j,k->ijk", [(2,), (3,), (4,)], 48, 30, 48, 30, 48, 48, 49),
    ("ab,bc,cd,de->ae", [(2, 3), (3, 4), (4, 5), (5, 6)], 2880, 248, 2880, 248, 456, 2880, 457),
]


@pytest.mark.parametrize("row", DOCUMENTED, ids=[row[0] for row in DOCUMENTED])
def test_documented_figures(row: tuple) -> None:
    subscripts, shapes, *figures = row
    _, info = opt_einsum.contract_path(subscripts, *shapes, shapes=True)
    _, printout = np.einsum_path(subscripts, *operands(shapes), optimize="greedy")
    printed = _numpy_printed(printout)
    ours = contraction_path(subscripts, shapes=shapes)
    by_numpy = contraction_path(subscripts, shapes=shapes, source="numpy")
    measured = [ours.naive_flops, ours.flops, int(info.naive_cost), int(info.opt_cost),
                by_numpy.flops, round(printed["Naive FLOP count"]), round(printed["Optimized FLOP count"])]
    assert measured == figures
    cells = re.escape(f"`{subscripts}`")
    assert re.search(rf"^\| {cells}", DOCS.read_text(), re.M), "the docs table lists the row"


def test_conventions_text_states_the_numbers() -> None:
    for fact in ("ij,ij->ij on 2x3 is 12 for them, 6 for einviz", "i,j-> on 2 and 3 is 6 for them",
                 "naive 48, optimized 49", "12 against 7", "speed-up of 0.5"):
        assert fact in CONVENTIONS
    assert contraction_path("ij,jk->ik", shapes=[(2, 3), (3, 4)]).conventions == CONVENTIONS
    assert "n_steps * max(n_operands - 1" in LoopPlan.flops.__doc__


def test_libraries_price_broadcast_labels_at_full_size() -> None:
    shapes = [(2, 1), (1,), (3, 4)]
    path = contraction_path("ij,j,jk->ik", shapes=shapes, optimize=[(0, 1), (0, 1)])
    _, info = opt_einsum.contract_path("ij,j,jk->ik", *shapes, shapes=True, optimize=[(0, 1), (0, 1)])
    assert [s.flops for s in path.steps] == [2, 48]       # j has size 1 in both A and B
    assert [s.library_flops for s in path.steps] == [6, 48]  # j priced at 3
    assert int(info.opt_cost) == 54 == path.library_flops
    _, printout = np.einsum_path("ij,j,jk->ik", *operands(shapes), optimize=["einsum_path", (0, 1), (0, 1)])
    assert _numpy_printed(printout)["Optimized FLOP count"] == 55


def test_numpy_makes_one_step_when_nothing_is_summed() -> None:
    assert len(contraction_path("i,j,k->ijk", shapes=[(2,), (3,), (4,)], source="numpy").steps) == 1
    assert len(contraction_path("i,j,k->ijk", shapes=[(2,), (3,), (4,)]).steps) == 2


@settings(max_examples=40)
@given(einsum_problems(min_operands=1, max_operands=5, dtypes=[np.int64], mixed_dtypes=False,
                       max_steps=2048),
       st.sampled_from(SOURCES))
def test_any_einsum(problem, source: str) -> None:
    path = contraction_path(problem.subscripts, *problem.operands, source=source)
    np.testing.assert_array_equal(path.einsum(*problem.operands), np.einsum(*problem.args))
    for step in path.steps:
        assert step.flops == plan(step.subscripts, shapes=step.input_shapes).flops
    if source == "opt_einsum" and not _broadcasts(problem.subscripts, list(problem.shapes)):
        assert path.library_flops == _documented_path(path)
        assert path.library_naive_flops == _documented_naive(problem.subscripts, list(problem.shapes))


# -- output ------------------------------------------------------------------------------------
def test_str_is_a_table() -> None:
    text = str(contraction_path("ab,bc,cd,de->ae", shapes=[(2, 3), (3, 4), (4, 5), (5, 6)]))
    lines = text.splitlines()
    assert lines[0] == "Contraction path  ab,bc,cd,de->ae   (opt_einsum, auto)"
    assert "naive single loop  2,880 FLOPs   path  248 FLOPs   speed-up  11.6×" in lines[2]
    assert lines[4].split() == ["step", "contraction", "subscripts", "shape", "size", "FLOPs", "BLAS",
                                "pattern"]
    assert lines[5].split()[:9] == ["1", "T1", "=", "B", "·", "A", "bc,ab->ca", "(4,", "2)"]
    assert "counts differently" not in text  # opt_einsum agrees here: no second count
    hadamard = str(contraction_path("ij,ij->ij", shapes=[(2, 3), (2, 3)]))
    assert "opt_einsum counts differently: naive 12, path 6" in hadamard  # einviz: 6 and 6
    assert text in DOCS.read_text()
    assert repr(contraction_path("ij,jk->ik", shapes=[(2, 3), (3, 4)])) == (
        "<ContractionPath ij,jk->ik: 1 step (opt_einsum, auto), 48 FLOPs against 48 naive>")


def test_html_fragment(tmp_path: Path) -> None:
    path = contraction_path("ij,jk,kl->il", shapes=[(2, 10), (10, 3), (3, 2)], names=["P", "Q", "R"])
    fragment = path.to_html()
    assert fragment.startswith('<section class="einviz-path" id="einviz-path-')
    assert fragment.count("<figure>") == len(path.steps) == fragment.count("<svg")
    assert "cut to at most 3 cells" in fragment and "small integer operands" in fragment
    assert "<script" not in fragment and "http" not in fragment.replace("http://www.w3.org", "")
    for svg in re.findall(r"<svg.*?</svg>", fragment, re.S):
        ElementTree.fromstring(svg)
    ids = re.findall(r'<section class="einviz-path" id="([^"]+)"', fragment + path._repr_html_())
    assert len(set(ids)) == 2
    light = path.to_html(figures=False)
    assert "<svg" not in light and "<table>" in light
    target = tmp_path / "path.html"
    assert path.to_html(target, figures=False) is None
    assert "T1 = Q · P" in target.read_text()
    with pytest.raises(EinvizError, match=r"cannot write '.*': it is a folder"):
        path.to_html(tmp_path)


def test_a_letter_keeps_its_colour_in_the_table_and_every_step_figure() -> None:
    from einviz.render import label_colours

    path = contraction_path("ab,bc,cd,de->ae", shapes=[(2, 3), (3, 4), (4, 2), (2, 3)])
    colours = label_colours("abcde")
    html = path.to_html()
    assert set(re.findall(r'color:(#\w+);font-weight:bold">(\w)<', html)) >= {
        (colours[c], c) for c in "abcde"}
    for step in path.steps:
        letters = set(step.subscripts) - set(",->")
        used = set(re.findall(r"\.l\d+\{fill:(#\w+)", path.figure_svg(step.index)))
        assert used == {colours[c] for c in letters}, step.subscripts


def test_html_escapes_and_uses_given_operands() -> None:
    a, b, c = operands([(2, 2), (2, 2), (2, 2)])
    path = contraction_path("ij,jk,kl->il", a, b, c)
    fragment = path.to_html()
    assert "your operands" in fragment and "cut to" not in fragment
    assert "-&gt;" in fragment and "->" not in re.sub(r"<svg.*?</svg>", "", fragment, flags=re.S)


def test_figures_chain_the_steps() -> None:
    path = contraction_path("ab,bc,cd->ad", shapes=[(2, 3), (3, 2), (2, 2)])
    arrays, kept = path.figure_operands()
    assert kept == 3 and [a.shape for a in arrays] == list(path.shapes)
    t1 = _replay(path, arrays)["T1"]
    assert t1.shape == path.steps[0].shape
    # The second figure draws T1 with the values the first step made.
    drawn = {index: value for (operand, index), value in drawn_values(path.figure_svg(2)).items()
             if operand == "T1"}
    assert len(drawn) == t1.size
    for index, value in drawn.items():
        assert int(value.replace("\u2212", "-")) == t1[tuple(int(i) for i in index.split(","))]
    with pytest.raises(EinvizError, match="step must be from 1 to 2, not 3"):
        path.figure_svg(3)


def test_figures_stay_small() -> None:
    # Five labels of 5: cut to 3 a label, a step draws 3**5 + 3**2 + 3**5 cells (under 600).
    five = contraction_path("abcde,ef,fg->abcdg", shapes=[(5,) * 5, (5, 5), (5, 5)])
    assert five.figure_operands()[1] == 3
    # Ten labels: even at 2 a label the big step would draw 2**10 * 2 + 4 cells, so it gets a
    # note instead of a figure, and the small step keeps 3 cells a label.
    ten = contraction_path("abcdefghij,jk,kl->abcdefghil", shapes=[(5,) * 10, (5, 5), (5, 5)])
    fragment = ten.to_html()
    assert fragment.count("<svg") == 1
    too_many = "2,052 cells even cut to 2 along each label, more than the 600"
    assert f"no figure: its arrays would have {too_many}" in fragment
    assert ten.figure_operands()[1] == 3
    with pytest.raises(LimitError, match=f"step 2 would draw {too_many}"):
        ten.figure_svg(2)
    # Seven labels of 3 in one step: 3 a label is too many (2,187 + …), 2 fits (128 + …).
    seven = contraction_path("abcdefg,gh,hi->abcdefi", shapes=[(3,) * 7, (3, 3), (3, 3)])
    assert seven.figure_operands()[1] == 2
    assert "cut to at most 2 cells" in seven.to_html()


def test_to_dict_is_json() -> None:
    d = contraction_path("ab,bc,cd,de->ae", shapes=[(2, 3), (3, 4), (4, 5), (5, 6)]).to_dict()
    assert json.loads(json.dumps(d))["steps"][0]["subscripts"] == "bc,ab->ca"
    assert d["library"]["flops"] == 248 and d["conventions"] == CONVENTIONS
    assert set(d["steps"][0]) >= {"inputs", "subscripts", "labels", "shape", "size", "flops", "blas",
                                  "pattern"}


def test_step_plan_and_scaling() -> None:
    step = contraction_path("ab,bc,cd,de->ae", shapes=[(2, 3), (3, 4), (4, 5), (5, 6)]).steps[0]
    assert isinstance(step, PathStep)
    assert step.plan().names == ("B", "A") and step.scaling == 3


# -- errors ------------------------------------------------------------------------------------
def test_unknown_source() -> None:
    with pytest.raises(EinvizError, match=r"source must be 'opt_einsum' or 'numpy', not 'torch'"):
        contraction_path("ij,jk->ik", shapes=[(2, 3), (3, 4)], source="torch")


@pytest.mark.parametrize("source, optimize, known", [
    ("opt_einsum", "fastest", "'greedy'"), ("numpy", "dp", "'greedy', 'optimal'")])
def test_unknown_strategy(source: str, optimize: str, known: str) -> None:
    with pytest.raises(EinvizError, match=rf"optimize='{optimize}' is not a strategy {source} knows") as err:
        contraction_path("ij,jk->ik", shapes=[(2, 3), (3, 4)], optimize=optimize, source=source)
    assert known in str(err.value)


def test_bad_optimize_type() -> None:
    with pytest.raises(EinvizError, match="optimize must be True, False, a strategy name or a path, not 3"):
        contraction_path("ij,jk->ik", shapes=[(2, 3), (3, 4)], optimize=3)


@pytest.mark.parametrize("optimize, message", [
    ([(0, 1)], "the path leaves 2 operands, not one"),
    ([], "the path is empty"),
    (["einsum_path"], "the path is empty"),
    ([(0, 5), (0, 1)], r"contraction 1 of the path names operand 5, but the operands are numbered 0 to 2"),
    ([(0, 0), (0, 1)], r"contraction 1 of the path names operand 0 more than once"),
    ([("a", 1), (0, 1)], r"contraction 1 of the path holds 'a', which is not an operand index"),
])
def test_bad_explicit_path(optimize: list, message: str) -> None:
    with pytest.raises(EinvizError, match=message):
        contraction_path("ij,jk,kl->il", shapes=[(2, 3), (3, 4), (4, 5)], optimize=optimize)


def test_binding_errors_have_carets() -> None:
    with pytest.raises(ShapeError, match=r"label 'j' has size 3 in A \(axis 1\) but size 4 in B \(axis 0\)") as err:
        contraction_path("ij,jk,kl->il", shapes=[(2, 3), (4, 5), (5, 6)])
    assert "\n     ^ ^" in str(err.value)
    with pytest.raises(SubscriptError, match="'!' is not a valid label"):
        contraction_path("ij,j!->i", shapes=[(2, 3), (3, 4)])
    with pytest.raises(ShapeError, match="the operands' shapes differ from the path's shapes"):
        contraction_path("ij,jk->ik", shapes=[(2, 3), (3, 4)]).einsum(np.ones((2, 3)), np.ones((3, 5)))


def test_docs_snippets_run() -> None:
    for block in re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.S):
        exec(compile(block, str(DOCS), "exec"), {})


# --------------------------------------------------------------------------------------------
# Which path a library takes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("library", "optimize", "rule", "asked", "detail"),
    [
        ("numpy", False, "numpy-one-loop", True, "numpy's default"),
        ("numpy", None, "numpy-one-loop", True, "numpy reads None as False"),
        ("numpy", "optimal", "numpy", "optimal", None),
        ("numpy", ("greedy", 1e6), "numpy", "greedy", "1000000.0"),
        ("numpy", ["einsum_path", (0, 1), (0, 1)], "numpy", ["einsum_path", (0, 1), (0, 1)], None),
        ("jax", True, "jax", "optimal", None),
        ("jax", False, "jax", [(0, 1), (0, 1)], None),
        ("jax", "greedy", "jax", "greedy", None),
        ("opt_einsum", True, "opt_einsum", True, None),
    ],
)
def test_library_path_rules(library, optimize, rule, asked, detail):
    found = library_path(library, f"{library}.einsum", optimize, 3)
    assert (found.rule, found.optimize, found.detail) == (rule, asked, detail)
    assert found.source == ("numpy" if library == "numpy" else "opt_einsum")
    # and the path it asks for is one contraction_path can find
    contraction_path("ab,bc,cd->ad", shapes=[(2, 3), (3, 4), (4, 5)],
                     optimize=found.optimize, source=found.source)


def test_library_path_of_torch_follows_its_opt_einsum_backend(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.backends.opt_einsum, "enabled", True)
    monkeypatch.setattr(torch.backends.opt_einsum, "strategy", "greedy")
    found = library_path("torch", "torch.einsum", None, 4)
    assert (found.rule, found.optimize, found.detail) == ("torch-opt-einsum", "greedy", "'greedy'")
    monkeypatch.setattr(torch.backends.opt_einsum, "enabled", False)
    found = library_path("torch", "torch.einsum", None, 4)
    assert (found.rule, found.optimize) == ("torch-left-to-right", [(0, 1)] * 3)


def test_to_html_is_drawn_by_the_report_renderer_with_the_figures_made_here():
    p = contraction_path("ij,jk,kl->il", shapes=[(2, 10), (10, 3), (3, 2)])
    fragment = p.to_html()
    assert fragment.count("<figure><svg") == len(p.steps)
    assert "cut to at most 3 cells along each label" in fragment
    assert p.to_html(figures=False).count("<figure>") == 0


@pytest.mark.parametrize("path", [[(0, 5), (0, 1)], [(0, 0), (0, 1)], [(0, 1)], [("a", 1), (0, 1)]])
def test_a_bad_path_reads_the_same_from_einsum_and_contraction_path(path: list) -> None:
    arrays = [np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 5))]
    with pytest.raises(EinvizError) as by_einsum:
        einsum("ij,jk,kl->il", *arrays, optimize=["einsum_path", *path])
    with pytest.raises(EinvizError) as by_paths:
        contraction_path("ij,jk,kl->il", *arrays, optimize=path)
    assert type(by_einsum.value) is type(by_paths.value)
    assert by_einsum.value.problem == by_paths.value.problem
