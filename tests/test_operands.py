"""One home for made-up operands: the library, the command, the playground and the capture
report show the same numbers for the same call."""

import re

import numpy as np
import pytest

import einviz
from einviz import cli, operands
from einviz.errors import ArgumentTypeError, EinvizError, LimitError, ShapeError
from einviz.operands import default_operands, default_shapes, fill
from einviz.serve.payload import update
from einviz.serve.state import State, make_operands, shapes_for

CALLS = [("ij,jk->ik", ""), ("ij->i", ""), ("bij,bjk->bik", "b=2,j=5"),
         ("...ij,jkl->...il", ""), ("...ij->...ji", "...=2x3,i=1"), ("i,i->", ""),
         ("abcde->e", "")]


def _sizes(text: str) -> dict:
    """The Sizes box's text as the library's ``sizes=``."""
    sizes: dict = {}
    for item in filter(None, text.split(",")):
        label, _, value = item.partition("=")
        dims = tuple(int(d) for d in value.split("x"))
        sizes[label] = dims if label == "..." else dims[0]
    return sizes


def _cli_operands(capsys, subscripts: str, sizes: str, values: str = "arange") -> list[np.ndarray]:
    made: list = []
    real = cli.operands_module.make_operands

    def spy(*args):
        made.extend(real(*args))
        return made

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli.operands_module, "make_operands", spy)
        args = [subscripts, "--no-figure", "--values", values, "--seed", "3"]
        assert cli.main(args + (["--sizes", sizes] if sizes else [])) == 0
    capsys.readouterr()
    return made


@pytest.mark.parametrize("values", ["arange", "random", "ones"])
@pytest.mark.parametrize("subscripts, sizes", CALLS, ids=[c[0] for c in CALLS])
def test_the_library_the_command_and_the_playground_make_the_same_operands(capsys, subscripts, sizes,
                                                                           values):
    library = default_operands(subscripts, sizes=_sizes(sizes), values=values, seed=3)
    animated = einviz.animate(subscripts, sizes=_sizes(sizes), values=values, seed=3).trace.operands
    command = _cli_operands(capsys, subscripts, sizes, values)
    state = State(subscripts, sizes=sizes, values=values, seed=3)
    served = make_operands(shapes_for(state, einviz.parse(subscripts)), values, 3)
    for made in (animated, command, served):
        assert len(made) == len(library)
        for a, b in zip(made, library):
            np.testing.assert_array_equal(np.asarray(a), b)
            assert np.asarray(a).shape == b.shape


def test_the_playground_page_shows_the_librarys_numbers():
    payload = update(State("ij,jk->ik"))
    result = einviz.einsum("ij,jk->ik", *default_operands("ij,jk->ik"))
    # every output cell's sum in the player is the library's result on the same operands
    for index, value in np.ndenumerate(result):
        assert re.search(rf"out\[{index[0]},{index[1]}\] = .*?= {value}\b", payload["player"], re.S)


def test_arange_starts_at_1_in_each_operand_and_sizes_cycle_2_3_4():
    a, b = default_operands("ij,jk->ik")
    assert a.tolist() == [[1, 2, 3], [4, 5, 6]] and b[0].tolist() == [1, 2, 3, 4]
    assert default_shapes(einviz.parse("abcde->")) == [(2, 3, 4, 2, 3)]


def test_explain_makes_up_the_same_shapes():
    assert einviz.explain("ij,jk,kl,lm->im").plan.shapes == tuple(
        default_shapes(einviz.parse("ij,jk,kl,lm->im")))


def test_the_limits_are_checked_before_anything_is_allocated(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("allocated")

    monkeypatch.setattr(operands.np, "arange", never)
    with pytest.raises(LimitError, match=r"steps \(multiply-adds\), more than the limit"):
        default_operands("ij,jk->ik", sizes={"i": 10**6, "j": 10**6, "k": 10**6})
    with einviz.limits(max_elements=10), pytest.raises(
            LimitError, match=r"B would have 12 elements, more than the limit of 10"):
        default_operands("i,jk->", sizes={"i": 2, "j": 3, "k": 4})
    with einviz.limits(max_elements=10), pytest.raises(
            LimitError, match=r"the output would have 16 elements"):
        default_operands("i,j->ij", sizes={"i": 4, "j": 4})


def test_bad_values_seeds_and_sizes_are_refused():
    with pytest.raises(EinvizError, match=r"values must be one of arange, random, ones, not 'zeros'"):
        fill([(2,)], "zeros")
    with pytest.raises(EinvizError, match=r"seed must be a whole number, 0 or more, not -1"):
        fill([(2,)], "random", -1)
    with pytest.raises(ArgumentTypeError, match=r"seed must be a whole number, 0 or more, not 1.5"):
        default_operands("i->", seed=1.5)
    with pytest.raises(ShapeError, match=r"sizes= gives a size to 'z', which is not a label"):
        default_shapes(einviz.parse("ij->i"), {"z": 2})
    with pytest.raises(ShapeError, match=r"sizes= gives 'i' the size -1, below 0"):
        default_shapes(einviz.parse("ij->i"), {"i": -1})


def test_the_capture_reports_made_up_operands_follow_the_same_rule():
    from einviz import _report_parts

    with einviz.capture(max_elements=0) as calls:  # nothing copied: the report makes operands up
        np.einsum("ij,jk->ik", np.ones((5, 6)), np.ones((6, 2)))
    made, why = _report_parts._made_up_operands(calls.distinct()[0])
    assert [a.tolist() for a in made] == [a.tolist() for a in fill([(3, 3), (3, 2)])]
    assert "filled with 1, 2, 3, …" in why
