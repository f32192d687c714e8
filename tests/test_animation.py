"""The Animation API (einviz.animation): what animate takes, the options it checks, the files
it writes, and the limits it keeps before allocating anything."""

from __future__ import annotations

import numpy as np
import pytest
from figures import make, parse

from einviz.animation import animate
from einviz.errors import ArgumentTypeError, EinvizError, LimitError, ShapeError
from einviz.operands import default_operands


# -- API --------------------------------------------------------------------------------------------
def test_animate_without_operands_takes_shapes_or_sizes() -> None:
    assert [a.shape for a in default_operands("ij,jk->ik")] == [(2, 3), (3, 4)]
    anim = animate("ij,jk->ik", shapes={"A": (2, 2), "B": (2, 5)})
    assert anim.trace.plan.shapes == ((2, 2), (2, 5))
    anim = animate("ij,jk->ik", sizes={"i": 1, "j": 2, "k": 3}, names=["P", "Q"])
    assert anim.trace.plan.shapes == ((1, 2), (2, 3)) and anim.trace.plan.names == ("P", "Q")
    anim = animate("...i->...", sizes={"...": (2, 2), "i": 3})
    assert anim.trace.plan.shapes == ((2, 2, 3),)


def test_animate_rejects_bad_input_with_einviz_errors() -> None:
    with pytest.raises(EinvizError, match="granularity must be one of"):
        make("matmul", granularity="pixel")
    with pytest.raises(EinvizError, match="max_frames must be at least 1"):
        make("matmul", max_frames=0)
    with pytest.raises(EinvizError, match="either operands or shapes"):
        animate("ij->i", np.ones((2, 2)), shapes=[(2, 2)])
    with pytest.raises(ShapeError, match="label 'j' has size"):
        animate("ij,jk->ik", shapes=[(2, 3), (4, 5)])


@pytest.mark.parametrize("options, error, message", [
    ({"frame_ms": -100}, EinvizError, r"frame_ms must be a positive number of milliseconds, not -100"),
    ({"frame_ms": 0}, EinvizError, r"frame_ms must be a positive number .*, not 0"),
    ({"frame_ms": float("nan")}, EinvizError, r"frame_ms must be a positive number .*, not nan"),
    ({"frame_ms": "700"}, ArgumentTypeError, r"frame_ms must be a positive number .*, not '700'"),
    ({"max_frames": 2.5}, ArgumentTypeError, r"max_frames must be an integer, not 2\.5"),
    ({"max_frames": True}, ArgumentTypeError, r"max_frames must be an integer, not True"),
    ({"max_axis": 4.0}, ArgumentTypeError, r"max_axis must be an integer, not 4\.0"),
    ({"seed": -1}, EinvizError, r"seed must be a whole number, 0 or more, not -1"),
    ({"seed": "x"}, ArgumentTypeError, r"seed must be a whole number, 0 or more, not 'x'"),
    ({"sizes": {"z": 5}}, ShapeError,
     r"sizes= gives a size to 'z', which is not a label of the subscripts\n    ij,jk->ik\n  labels: i, j, k"),
    ({"sizes": {"j": "3"}}, ArgumentTypeError,
     r"sizes= gives 'j' the size '3', not a whole number\n    ij,jk->ik\n     \^ \^\n"),
    ({"sizes": {"i": -1}}, ShapeError, r"sizes= gives 'i' the size -1, below 0"),
    ({"sizes": {"...": 2}}, ShapeError, r"sizes= gives a size to '\.\.\.', which is not a label"),
    ({"sizes": [2, 3]}, ArgumentTypeError, r"sizes must be a dict from label to size, not list"),
], ids=lambda value: None if isinstance(value, (dict, type)) else value[:20])
def test_animate_checks_its_options_as_the_command_does(options, error, message) -> None:
    with pytest.raises(error, match=message):
        animate("ij,jk->ik", **options)


def test_animate_takes_numpy_numbers_for_its_options() -> None:
    anim = animate("...j,jk->...k", sizes={"j": np.int64(2), "...": (np.int32(2),)}, seed=np.int64(1),
                   max_frames=np.int64(40), frame_ms=np.float32(300))
    assert anim.n_frames <= 40 and anim.scene.frames[-2].duration == pytest.approx(0.3)


@pytest.mark.parametrize("method", ["to_svg", "to_png", "to_gif", "to_html"])
def test_a_path_that_cannot_be_written_is_refused_before_drawing(tmp_path, method) -> None:
    anim = make("row-sums")
    write = getattr(anim, method)
    with pytest.raises(EinvizError, match=r"cannot write '.*': it is a folder\n  hint: give a file name"):
        write(tmp_path)
    with pytest.raises(EinvizError, match=r"cannot write '.*x\.out': there is no folder '.*nothing'"):
        write(tmp_path / "nothing" / "x.out")
    with pytest.raises(ArgumentTypeError, match=r"path must be a file name, not int \(3\)"):
        write(3)  # not a file descriptor
    assert list(tmp_path.iterdir()) == []


def test_to_svg_and_to_png_write_files(tmp_path) -> None:
    anim = make("row-sums")
    assert anim.to_svg(tmp_path / "a.svg") is None
    parse((tmp_path / "a.svg").read_text(encoding="utf-8"))
    png = anim.to_png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert anim.to_png(tmp_path / "a.png", frame=3) is None
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"


# -- each stage's object taken as it is -----------------------------------------------------------
def test_animate_takes_a_plan_or_a_trace_and_the_explanation_made_already() -> None:
    from einviz.explaining import explain
    from einviz.planning import plan
    from einviz.tracing import trace

    loop_plan = plan("ij,jk->ik", shapes=[(2, 3), (3, 4)], names=["X", "Y"])
    made = animate(loop_plan)
    assert made.trace.plan is loop_plan
    assert [a.shape for a in made.trace.operands] == [(2, 3), (3, 4)]
    assert animate(loop_plan, np.ones((2, 3)), np.ones((3, 4))).trace.plan is loop_plan
    traced = trace("ij->i", np.arange(6).reshape(2, 3))
    given = explain(traced.plan)
    anim = animate(traced, explanation=given)
    assert anim.trace is traced and anim.explanation is given
    with pytest.raises(EinvizError, match="a plan already has its shapes and names: give it alone"):
        animate(loop_plan, names=["P", "Q"])
    with pytest.raises(EinvizError, match="a trace already has its operands and names: give it alone"):
        animate(traced, np.ones(3))
    with pytest.raises(ShapeError, match=r"but the plan was made for shape|the plan is for"):
        animate(loop_plan, np.ones((3, 3)), np.ones((3, 4)))


# -- limits: refused up front, with the numbers ----------------------------------------------------
@pytest.mark.parametrize("call, message", [
    (lambda: animate("a" * 14), r"would draw 16,385 grid cells .* more than the limit of 10,000"),
    (lambda: animate("a" * 16), r"would draw 65,537 grid cells"),
    (lambda: animate("a" * 27), r"A has 27 dimensions, more than the 16 a figure draws"),
    (lambda: animate("...->...", np.ones((1,) * 33)), r"A has 33 dimensions"),
    (lambda: animate("ij->i", sizes={"i": 2 * 10**8, "j": 2}),
     r"the output would have 200,000,000 elements, more than the limit of 134,217,728"),
    (lambda: animate("ij,jk->ik", shapes=[(10**6, 10**6)] * 2),
     r"needs 1,000,000,000,000,000,000 steps \(multiply-adds\), more than the limit"),
    (lambda: animate("ij,jk->ik", np.ones((64, 64)), np.ones((64, 64)), max_frames=10**12),
     r"max_frames=1,000,000,000,000 lets the figure have 262,148 frames, more than the limit of 10,000"),
], ids=["a*14", "a*16", "a*27", "33-dims", "huge-sizes", "huge-shapes", "max-frames"])
def test_a_figure_over_a_limit_is_refused_before_anything_is_allocated(call, message) -> None:
    with pytest.raises(LimitError, match=message):
        call()


def test_default_operands_over_max_elements_are_refused_before_they_are_made() -> None:
    import einviz

    with einviz.limits(max_elements=10), pytest.raises(
            LimitError, match=r"A would have 16 elements, more than the limit of 10"):
        animate("ij->", shapes=[(4, 4)])


def test_a_max_axis_past_the_longest_axis_draws_the_axis_and_costs_no_more(monkeypatch) -> None:
    from einviz.render import layout

    made = []
    original = layout.Layout.__init__
    monkeypatch.setattr(layout.Layout, "__init__",
                        lambda self, *args, **kwargs: made.append(1) or original(self, *args, **kwargs))
    a = np.arange(900).reshape(30, 30)
    huge = animate("ij->i", a, max_axis=10**6)
    tries = len(made)
    exact = animate("ij->i", a, max_axis=30)
    assert huge.scene.boxes == exact.scene.boxes and huge.scene.texts == exact.scene.texts
    assert tries == len(made) - tries <= 2 * 3 * 27  # the same tries: from 30 slots down to 4


def test_max_axis_3_is_honoured() -> None:
    anim = animate("ij->i", np.arange(20).reshape(2, 10), max_axis=3)
    assert [b.text for b in anim.scene.boxes if b.role == "gap"] == ["…", "…"]


def test_an_object_array_of_strings_is_refused_as_not_numbers() -> None:
    strings = np.array(["a", "b"], dtype=object)
    for subscripts in ("i->i", "i->"):
        with pytest.raises(ArgumentTypeError, match=r"A holds 'a' \(str\), not a number"):
            animate(subscripts, strings)


def test_colours_override_the_palette_and_the_animation_tells_them() -> None:
    plain = animate("ij,jk->ik", shapes=[(2, 3), (3, 2)])
    assert set(plain.colours) == {"i", "j", "k"}
    assert len(set(plain.colours.values())) == 3
    chosen = animate("ij,jk->ik", shapes=[(2, 3), (3, 2)], colours={"j": "tomato"})
    assert chosen.colours["j"] == "#FF6347"
    assert chosen.colours["j"] != plain.colours["j"]
    assert {k: v for k, v in chosen.colours.items() if k != "j"} == {
        k: v for k, v in plain.colours.items() if k != "j"}
    assert "#FF6347" in chosen.to_svg() and "#FF6347" not in plain.to_svg()
    chosen.colours["j"] = "#000000"  # a copy: the figure keeps its colours
    assert chosen.colours["j"] == "#FF6347"
    product = animate("ij,jk->ik", shapes=[(2, 3), (3, 2)], view="product", colours={"i": "#123456"})
    assert product.colours["i"] == "#123456" and "#123456" in product.to_svg()


@pytest.mark.parametrize(("colours", "error", "message"), [
    (["i"], ArgumentTypeError, "colours must be a dict"),
    ({"x": "red"}, EinvizError, "label 'x', which ij->i does not have"),
    ({"i": 'red" onload="alert(1)'}, EinvizError, r"colours\['i'\] is not a CSS colour"),
    ({"i": 3}, EinvizError, r"colours\['i'\] is not a CSS colour: 3"),
])
def test_bad_colours_are_refused(colours, error, message) -> None:
    with pytest.raises(error, match=message):
        animate("ij->i", shapes=[(2, 3)], colours=colours)


def test_the_repr_counts_every_kind_of_frame() -> None:
    product = animate("ij,jk->ik", shapes=[(2, 3), (3, 2)], view="product")
    kinds = [f.kind for f in product.frames]
    text = repr(product)
    for kind in ("multiply", "sum"):
        assert kinds.count(kind) and f"{kinds.count(kind)} {kind}" in text
    grid = animate("ij,jk->ik", shapes=[(2, 3), (3, 2)], granularity="step")
    assert f"{[f.kind for f in grid.frames].count('step')} step" in repr(grid)
