"""What each frame changes (einviz.render.frames): the cells it lights are exactly its steps'
cells, its captions read as arithmetic, and the narrative opens and closes the animation."""

from __future__ import annotations

import re

import numpy as np
import pytest
from figures import CASES, frames_of, lit_cells, make, parse, step_cells

from einviz.animation import animate
from einviz.render import format_value


# -- the SVG as data, for every corpus case and granularity ---------------------------------------
@pytest.mark.parametrize("granularity", ["step", "cell", "auto"])
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_frames_light_exactly_their_steps_cells(case: str, granularity: str) -> None:
    anim = make(case, granularity=granularity)
    root = parse(anim.to_svg())
    groups = frames_of(root)
    assert len(groups) == anim.n_frames == int(root.get("data-frames"))
    for number, group in enumerate(groups):
        assert int(group.get("data-frame")) == number
        steps = group.get("data-steps")
        lit = lit_cells(group, anim)
        if not steps:
            assert anim.frames[number].kind in ("intro", "final")
            assert lit == set()
            continue
        first, last = (int(s) for s in steps.split("-"))
        assert lit == step_cells(anim, first, last), f"frame {number} ({steps})"
        kind = anim.frames[number].kind
        if kind == "step":
            assert first == last
        else:
            per_cell = anim.trace.steps_per_cell
            assert first % per_cell == 0 and last - first + 1 == per_cell


# -- granularity ----------------------------------------------------------------------------------
def test_auto_picks_the_finest_that_fits() -> None:
    assert make("matmul", max_frames=5).granularity == "sample"
    assert make("dot", max_frames=100).granularity == "step"  # one output cell: every step
    assert make("transpose", max_frames=100).granularity == "step"  # nothing summed


def test_auto_teaches_the_first_cell_step_by_step_then_a_cell_a_frame() -> None:
    anim = make("matmul", max_frames=100)
    per_cell, n_cells = anim.trace.steps_per_cell, anim.trace.n_cells
    kinds = [f.kind for f in anim.frames if f.kind not in ("intro", "final")]
    assert anim.granularity == "teach"
    assert kinds == ["step"] * per_cell + ["cell"] * (n_cells - 1)
    covered = [s for f in anim.frames for s in f.steps]
    assert covered == list(range(len(anim.trace)))  # every step, once, in order
    anim = make("matmul", max_frames=8)
    assert anim.granularity == "sample" and anim.n_frames <= 8
    assert anim.frames[-1].kind == "final"
    assert "of 8 cells" in " ".join(anim.frames[-2].caption_text())


def test_explicit_step_over_budget_shows_the_first_steps_and_says_so() -> None:
    anim = make("matmul", granularity="step", max_frames=10)
    steps = [f for f in anim.frames if f.kind == "step"]
    assert anim.n_frames == 10 and [f.steps[0] for f in steps] == list(range(len(steps)))
    assert "first" in " ".join(anim.frames[-1].caption_text())


def test_zero_steps_make_an_opening_and_a_final_frame() -> None:
    anim = make("zero-size")
    assert [f.kind for f in anim.frames][-1] == "final"
    assert all(f.kind in ("intro", "final") for f in anim.frames)
    assert "size 0" in " ".join(anim.frames[-1].caption_text())


def test_opening_frames_tell_the_narrative() -> None:
    anim = make("matmul")
    intro = [f for f in anim.frames if f.kind == "intro"]
    assert intro and all(f.hold >= 3 for f in intro)  # a player holds each its reading time
    first_step = next(n for n, f in enumerate(anim.frames) if f.kind == "step")
    assert anim.scene.starts()[first_step] <= 4  # a README's <img> multiplies within 4 s
    text = " ".join(" ".join(f.caption_text()) for f in intro)
    assert "j" in text and "summed" in text


def test_step_caption_reads_as_arithmetic() -> None:
    a = np.array([[1, 2, 3], [4, 5, 6]])
    b = np.array([[1, 0], [0, 1], [-1, 2]])
    anim = animate("ij,jk->ik", a, b, granularity="step")
    step = next(f for f in anim.frames if f.kind == "step" and f.steps[0] == 4)  # out[0,1], j=1
    assert step.caption_text() == ["out[0,1] += A[0,1] × B[1,1]", "out[0,1] = 1×0 + 2×1 = 0 + 2 = 2"]
    step = next(f for f in anim.frames if f.kind == "step" and f.steps[0] == 2)
    assert step.caption_text() == ["out[0,0] += A[0,2] × B[2,0]",
                                   "out[0,0] = 1×1 + 2×0 + 3×(−1) = 1 + 0 + (−3) = −2"]
    # the indices in their labels' colours, the term just added in bold
    spans = step.caption[1]
    assert [s.label for s in spans if s.text == "0"][:2] == ["i", "k"]
    assert [s.text for s in spans if s.tone == "strong"] == ["3×(−1)", "(−3)"]


def test_a_long_running_sum_elides_its_middle() -> None:
    anim = animate("i,i->", np.arange(1, 10), np.ones(9, dtype=int), granularity="step")
    last = [f for f in anim.frames if f.kind == "step"][-1]
    assert last.caption_text()[1] == "out = 1×1 + 2×1 + 3×1 + … + 8×1 + 9×1 = 1 + 2 + 3 + … + 8 + 9 = 45"


def test_a_float_sum_adds_up_as_shown() -> None:
    anim = animate("i->", np.array([0.1125, -0.3684]), granularity="step")
    line = [f for f in anim.frames if f.kind == "step"][-1].caption_text()[1]
    terms, total = line.removeprefix("out = ").split(" = ")
    shown = sum(float(t.strip("()").replace("−", "-")) for t in terms.split(" + "))
    assert format_value(shown, 6) == format_value(float(total.replace("−", "-")), 6), line


def test_a_sum_no_digits_can_show_is_written_approximately() -> None:
    anim = animate("i->", np.array([1 / 3] * 3 + [1e-9]), granularity="step")
    line = [f for f in anim.frames if f.kind == "step"][-1].caption_text()[1]
    assert " ≈ " in line


def test_the_terms_of_the_sum_stay_marked_and_the_added_ones_look_used() -> None:
    anim = make("matmul", granularity="step")
    plan = anim.trace.plan
    for frame in (f for f in anim.frames if f.kind == "step"):
        step = anim.trace[frame.steps[0]]
        first = step.number - step.number % anim.trace.steps_per_cell
        whole = step_cells(anim, first, first + anim.trace.steps_per_cell - 1)
        roles: dict[str, set] = {}
        for mark in frame.marks:
            roles.setdefault(mark.role, set()).add((mark.operand, mark.index))
        assert roles["term"] == {c for c in whole if c[0] != "out"}  # the row of A, the column of B
        assert roles["lit"] == step_cells(anim, step.number, step.number)
        before = step_cells(anim, first, step.number - 1) if step.number > first else set()
        assert roles.get("used", set()) == {c for c in before if c[0] != "out"}
    assert plan.summed


def test_a_copy_is_written_once_not_added() -> None:
    anim = animate("ij->ji", np.arange(6).reshape(2, 3), granularity="step")
    steps = [f for f in anim.frames if f.kind == "step"]
    step = anim.trace[1]
    out, a = (",".join(map(str, index)) for index in (step.out_index, step.indices[0]))
    assert steps[1].caption_text() == [f"out[{out}] = A[{a}] = {step.product}"]
    assert all(m.role == "lit" for f in steps for m in f.marks)
    assert "multiply-add" not in " ".join(anim.frames[-1].caption_text())
    assert "out[j, i] = A[i, j]" in "".join(s.text for s in anim.scene.code.lines[-1])


@pytest.mark.parametrize("subscripts, operands", [
    ("ab,bc,cd,de->ae", [np.full((2, 2), -3)] * 4),
    ("ij,jk->ik", [np.array([[123456, 987654], [-555555, 1]]), np.array([[123456, 2], [3, 999999]])]),
], ids=["four-operands", "large-integers"])
def test_a_long_step_caption_wraps_between_its_parts_and_keeps_every_number(subscripts, operands) -> None:
    anim = animate(subscripts, *operands, granularity="step")
    for frame in (f for f in anim.frames if f.kind == "step"):
        lines = frame.caption_text()
        text = " ".join(line.strip() for line in lines)
        step = anim.trace[frame.steps[0]]
        assert "…" not in lines[0] and len(lines) <= 2  # the step's cells: never cut
        assert text.endswith(f"= {format_value(step.running_sum)}")
        assert format_value(step.product) in text


def test_the_final_caption_keeps_its_closing_sentences_before_asides() -> None:
    anim = animate("ij,jk->ik", shapes=[(14, 10), (10, 12)])  # sampled, with cut axes
    caption = anim.frames[-1].caption_text()
    assert len(caption) <= 6 and caption[-1] == "In plain numpy: A @ B"


def test_cell_caption_writes_the_whole_sum() -> None:
    a = np.array([[1, 2, 3]])
    b = np.array([[1], [-1], [2]])
    anim = animate("ij,jk->ik", a, b, granularity="cell")
    cell = next(f for f in anim.frames if f.kind == "cell")
    assert cell.caption_text()[:2] == ["out[0,0] = Σ_j A[0,j] × B[j,0]",
                                       "= 1×1 + 2×(−1) + 3×2 = 1 + (−2) + 6 = 5"]


def test_frame_table_is_json_ready() -> None:
    import json

    table = make("matmul").scene.frame_table()
    assert json.loads(json.dumps(table))[5]["kind"] in ("intro", "step")


def test_each_frame_shows_for_exactly_its_duration() -> None:
    anim = make("matmul")
    svg = anim.to_svg()
    prefix = parse(svg).get("id")
    share = {name: float(pct) for name, pct in
             re.findall(rf"@keyframes {prefix}-(\w+)\{{0%\{{opacity:1\}}([\d.]+)%", svg)}
    total = anim.duration
    for group, frame in zip(frames_of(parse(svg)), anim.frames):
        names = [c for c in group.get("class").split() if re.fullmatch(r"t\d+", c)]
        shown = share[names[0] if names else "s"] / 100 * total
        assert abs(shown - frame.duration) < 0.01 * total / 100 + 1e-3
    # and each starts when the previous one ends
    delays = [float(g.get("style").removeprefix("--d:").removesuffix("s")) for g in frames_of(parse(svg))]
    assert [round(d + total, 3) for d in delays] == [round(t, 3) for t in anim.scene.starts()]


@pytest.mark.parametrize("subscripts", ["ii->i", "ii->", "iij->j"])
def test_the_final_frame_keeps_the_diagonal_a_repeated_label_walks(subscripts) -> None:
    anim = animate(subscripts)
    sizes = anim.scene.plan.sizes
    spots = anim.frames[-1].spots
    assert len(spots) == sizes["i"] * sizes.get("j", 1)  # the cells where both i axes agree
    assert {spot[4] for spot in spots} == {"i"}


def test_a_lit_cell_in_an_array_of_slices_outlines_its_slice() -> None:
    anim = make("batched-matmul", granularity="step")  # 3-d operands: two 2-d slices each
    for frame in anim.frames:
        if frame.kind != "step":
            assert frame.outlines == ()
            continue
        lit = [m for m in frame.marks if m.role == "lit"]
        assert len(frame.outlines) == len(lit) == 3  # A's, B's and out's slice
        for mark, (x, y, w, h) in zip(lit, frame.outlines):
            assert x <= mark.x < x + w and y <= mark.y < y + h
    assert all(f.outlines == () for f in make("matmul", granularity="step").frames)


def test_the_opening_frames_highlight_what_their_sentences_speak_of() -> None:
    # "a" is a label: the sentence on keeping it ("a and c are in the output") highlights it.
    anim = animate("ab,bc->ac", np.ones((2, 2)), np.ones((2, 2)))
    intro = [f for f in anim.frames if f.kind == "intro"]
    summed = next(f for f in intro if any("so it is summed" in line for line in f.caption_text()))
    assert summed.labels == ("b",)
    from einviz.render.frames import frame_labels

    sentences = anim.explanation.sentences
    free = [s for s in sentences if s.role == "free"]
    assert frame_labels(free, anim.trace.plan.labels) == ("a", "c")
    dims = [s for s in sentences if s.role == "dims"]
    assert frame_labels(dims, anim.trace.plan.labels) == ("a", "b", "c")


@pytest.mark.parametrize("subscripts, shapes, closing", [
    ("ij->i", [(2, 3)], "These are the row sums"),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 2, 2)], "These are attention scores"),
    ("ij,jk->ik", [(2, 3), (3, 2)], "This is matrix multiplication"),
])
def test_the_pattern_closes_the_animation_and_never_opens_it(subscripts, shapes, closing) -> None:
    anim = animate(subscripts, shapes=shapes)
    opening = " ".join(" ".join(f.caption_text()) for f in anim.frames if f.kind == "intro")
    final = " ".join(anim.frames[-1].caption_text())
    assert closing not in opening and closing in final
    assert final.endswith(anim.explanation.equivalent)


# -- product, then sum ------------------------------------------------------------------------------
def test_the_product_view_multiplies_over_every_label_then_sums() -> None:
    a, b = np.array([[4, 2, 1], [-1, -1, -3]]), np.array([[-3, -3], [-2, 4], [2, 5]])
    anim = animate("ij,jk->ik", a, b, view="product")
    kinds = [f.kind for f in anim.frames]
    assert anim.granularity == "product"
    assert kinds == ["intro"] + ["multiply"] * 3 + ["sum"] * 4 + ["final"]
    p_box = {box.index: box.text for box in anim.scene.boxes if box.operand == "P"}
    for j in range(3):  # P's slice j holds A's column j times B's row j, as drawn
        for i in range(2):
            for k in range(2):
                assert p_box[(j, i, k)] == format_value(a[i, j] * b[j, k])
    for j, frame in enumerate(f for f in anim.frames if f.kind == "multiply"):
        lit = {(m.operand, m.index) for m in frame.marks}
        assert {index for name, index in lit if name == "A"} == {(0, j), (1, j)}
        assert {index for name, index in lit if name == "B"} == {(j, 0), (j, 1)}
        assert {index for name, index in lit if name == "P"} == {(j, i, k) for i in range(2) for k in range(2)}
    total = a @ b
    for cell, frame in zip(np.ndindex(2, 2), (f for f in anim.frames if f.kind == "sum")):
        assert {m.index for m in frame.marks if m.operand == "P"} == {(j, *cell) for j in range(3)}
        assert frame.caption_text()[0] == f"sum: out[{cell[0]},{cell[1]}] = Σ_j P[j,{cell[0]},{cell[1]}]"
        assert frame.caption_text()[1].endswith(f"= {format_value(total[cell])}")
        assert cell in frame.finished
    assert "Σ" in "".join(s.text for s in anim.scene.code.lines[-1])


def test_the_product_view_draws_p_in_the_svg_data_and_refuses_the_ellipsis() -> None:
    anim = animate("bij,bjk->bik", shapes=[(2, 2, 3), (2, 3, 2)], view="product")
    root = parse(anim.to_svg())
    assert {u.get("data-operand") for u in root.iter() if u.get("data-operand")} >= {"A", "B", "P", "out"}
    with pytest.raises(Exception, match=r"product view does not draw '\.\.\.'"):
        animate("...ij,...jk->...ik", shapes=[(2, 2, 3), (2, 3, 2)], view="product")
    with pytest.raises(Exception, match="view must be one of"):
        animate("ij->i", shapes=[(2, 3)], view="sideways")


def test_the_opening_frame_on_summing_lights_the_first_cells_whole_sum_and_so_does_the_hero() -> None:
    anim = make("matmul")
    summed = next(f for f in anim.frames if f.kind == "intro" and "summed" in " ".join(f.caption_text()))
    per_cell = anim.trace.steps_per_cell
    whole = step_cells(anim, 0, per_cell - 1)  # a row of A, a column of B, out[0,0]
    assert {(m.operand, m.index) for m in summed.marks} == whole
    final = anim.frames[-1]
    assert {(m.operand, m.index) for m in final.marks} == whole
    assert any(line.startswith("out[0,0] = ") for line in final.caption_text())
    assert animate("ij->ji", shapes=[(2, 3)]).frames[-1].marks == ()  # a copy sums nothing
