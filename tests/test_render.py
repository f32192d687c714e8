"""The pictures: scene layout, frames, the SVG as data, and the Animation API.

The SVG is read back as data, the way the HTML player and any program would: every frame's
lit cells (``data-operand``/``data-index`` inside ``g.einviz-frame``) must be exactly the
cells its trace steps touch, and the output values shown must equal ``numpy.einsum``.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from einviz.animation import Animation, animate, default_operands
from einviz.errors import ArgumentTypeError, EinvizError, ShapeError
from einviz.render import format_factor, format_value, label_colours
from einviz.render.palette import INK, PALETTE
from einviz.render.svg import render

from corpus import CORPUS, IDS, drawn_values, operands

SVG = "{http://www.w3.org/2000/svg}"

#: Cases beyond the shared corpus: cut axes (summed, free, leading) and a sampled output.
EXTRA = {
    "cut-summed-axis": ("ij,jk->ik", [(3, 20), (20, 2)]),
    "cut-free-axes": ("ij,jk->ik", [(12, 3), (3, 10)]),
    "cut-leading-axis": ("bij->bj", [(7, 2, 3)]),
    "cut-trace": ("ii->", [(11, 11)]),
    "cut-diagonal": ("ii->i", [(11, 11)]),
    "broadcast-cut": ("ij,jk->ik", [(2, 1), (12, 2)]),
}
CASES = {**CORPUS, **EXTRA}


def make(case: str, **options) -> Animation:
    subscripts, shapes = CASES[case]
    return animate(subscripts, *operands(shapes), **options)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def frames_of(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if "einviz-frame" in g.get("class", "").split()]


def lit_cells(group: ET.Element, anim: Animation) -> set[tuple[str, tuple[int, ...]]]:
    """The cells a frame group marks, expanded (a mark may stand for several hidden cells)."""
    plan = anim.trace.plan
    cells = set()
    for element in group.iter():
        operand = element.get("data-operand")
        if operand is None:
            continue
        if element.get("data-index") is not None:
            text = element.get("data-index")
            cells.add((operand, tuple(int(i) for i in text.split(",")) if text else ()))
            continue
        k = plan.names.index(operand)
        values = {}
        for part in element.get("data-values").split(";"):
            label, runs = part.split("=")
            vals = []
            for run in runs.split("+"):
                first, _, last = run.partition(":")
                vals.extend(range(int(first), int(last or first) + 1))
            values[label] = vals
        term = plan.terms[k]
        names = list(values)
        for combo in itertools.product(*values.values()):
            value = dict(zip(names, combo))
            cells.add((operand, tuple(0 if plan.is_broadcast(k, a) else value[label]
                                      for a, label in enumerate(term))))
    return cells


def step_cells(anim: Animation, first: int, last: int) -> set[tuple[str, tuple[int, ...]]]:
    plan = anim.trace.plan
    cells = set()
    for step in anim.trace.steps(first, last + 1):
        for name, index in zip(plan.names, step.indices):
            if 0 not in plan.shapes[plan.names.index(name)]:
                cells.add((name, index))
        cells.add(("out", step.out_index))
    return cells


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


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_output_values_shown_equal_numpy(case: str) -> None:
    subscripts, shapes = CASES[case]
    arrays = operands(shapes)
    anim = animate(subscripts, *arrays)
    expected = np.einsum(subscripts, *arrays)
    root = parse(anim.to_svg())
    out_cells = {el.get("data-index") for el in root.iter(f"{SVG}use")
                 if el.get("data-operand") == "out" and not _in_frame(root, el)}
    finals = {}
    for el in root.iter(f"{SVG}text"):
        if el.get("data-from") is not None:
            finals[el.get("data-index")] = el.text
    assert set(finals) == out_cells, "every drawn output cell gets its final value"
    for text, shown in finals.items():
        index = tuple(int(i) for i in text.split(",")) if text else ()
        assert shown == format_value(expected[index])


def _in_frame(root: ET.Element, target: ET.Element) -> bool:
    return any(target in list(group.iter()) for group in frames_of(root))


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_every_grid_cell_carries_its_operand_and_index(case: str) -> None:
    subscripts, shapes = CASES[case]
    arrays = operands(shapes)
    anim = animate(subscripts, *arrays)
    plan = anim.trace.plan
    svg = anim.frame_svg(-1)
    children = list(parse(svg).find(f".//{SVG}g[@class='einviz-cells']"))
    values = drawn_values(svg)
    seen = set()
    for el in children:
        operand, index = el.get("data-operand"), el.get("data-index")
        if operand is None:
            continue
        shape = plan.out_shape if operand == "out" else plan.shapes[plan.names.index(operand)]
        parsed = tuple(int(i) for i in index.split(",")) if index else ()
        assert len(parsed) == len(shape) and all(0 <= i < n for i, n in zip(parsed, shape))
        seen.add((operand, parsed))
        if operand != "out":  # an input cell shows its value
            assert values[operand, index] == format_value(arrays[plan.names.index(operand)][parsed])
    assert len(seen) == sum(el.get("data-operand") is not None for el in children)
    if all(0 not in s for s in (*plan.shapes, plan.out_shape)):
        assert {o for o, _ in seen} == {*plan.names, "out"}


@pytest.mark.parametrize("mode", ["animated", "frame", "base", "overlay", "player"])
def test_every_mode_parses_as_xml(mode: str) -> None:
    anim = make("matmul")
    svg = render(anim.scene, mode, 5 if mode in ("frame", "overlay") else None, prefix="t1")
    root = parse(svg)
    assert root.get("id") == "t1"
    shown = frames_of(root)
    assert len(shown) == {"animated": anim.n_frames, "player": anim.n_frames, "base": 0}.get(mode, 1)


def test_frame_svg_shows_one_frame_and_the_values_done_by_then() -> None:
    anim = make("matmul", granularity="step")
    k = next(f.number for f in anim.frames if f.kind == "step") + 4  # step 4: cell 1 done
    root = parse(anim.frame_svg(k))
    (group,) = frames_of(root)
    assert group.get("data-steps") == "4-4"
    finals = [el.get("data-index") for el in root.iter(f"{SVG}text") if el.get("data-from")]
    assert finals == ["0,0"]
    assert root.find(f".//{SVG}g[@class='einviz-codeline']") is not None


def test_animated_svg_is_self_contained_and_loops() -> None:
    svg = make("matmul").to_svg()
    assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org", "")
    assert "@keyframes" in svg and "infinite" in svg
    assert "DejaVu Sans" in svg


def test_id_prefixes_are_distinct_per_figure() -> None:
    one, two = make("matmul"), make("matmul")
    ids = {parse(one.to_svg()).get("id"), parse(two.to_svg()).get("id"),
           parse(one._repr_svg_()).get("id"), parse(one._repr_svg_()).get("id")}
    assert len(ids) == 4
    html = one._repr_html_()
    assert html.startswith("<div") and "<svg" in html
    # every id and animation in a document carries its prefix
    svg = one.to_svg()
    prefix = parse(svg).get("id")
    assert all(i.startswith(prefix) for i in re.findall(r'id="([^"]+)"', svg))
    assert all(n.startswith(prefix) for n in re.findall(r"@keyframes ([\w-]+)", svg))


def test_step_frames_at_most_600_bytes_each_for_8x8_matmul() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.integers(-3, 6, (8, 8)), rng.integers(-3, 6, (8, 8))
    anim = animate("ij,jk->ik", a, b, granularity="step", max_frames=1000)
    assert sum(f.kind == "step" for f in anim.frames) == 512
    assert len(anim.to_svg().encode()) / 512 <= 600


# -- granularity ----------------------------------------------------------------------------------
def test_auto_picks_the_finest_that_fits() -> None:
    assert make("matmul", max_frames=100).granularity == "step"
    assert make("matmul", max_frames=15).granularity == "cell"
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
    assert intro and all(f.duration >= 3 for f in intro)
    text = " ".join(" ".join(f.caption_text()) for f in intro)
    assert "j" in text and "summed" in text


def test_step_caption_reads_as_arithmetic() -> None:
    a = np.array([[1, 2, 3], [4, 5, 6]])
    b = np.array([[1, 0], [0, 1], [-1, 2]])
    anim = animate("ij,jk->ik", a, b, granularity="step")
    step = next(f for f in anim.frames if f.kind == "step" and f.steps[0] == 4)  # out[0,1], j=1
    assert step.caption_text()[0] == "out[0,1] += A[0,1] × B[1,1] = 2 × 1 = 2  →  2"
    step = next(f for f in anim.frames if f.kind == "step" and f.steps[0] == 2)
    assert step.caption_text()[0] == "out[0,0] += A[0,2] × B[2,0] = 3 × (−1) = −3  →  −2"


@pytest.mark.parametrize("subscripts, operands", [
    ("ab,bc,cd,de->ae", [np.full((2, 2), -3)] * 4),
    ("ij,jk->ik", [np.array([[123456, 987654], [-555555, 1]]), np.array([[123456, 2], [3, 999999]])]),
], ids=["four-operands", "large-integers"])
def test_a_long_step_caption_wraps_between_its_parts_and_keeps_every_number(subscripts, operands) -> None:
    anim = animate(subscripts, *operands, granularity="step")
    wrapped = 0
    for frame in (f for f in anim.frames if f.kind == "step"):
        lines = frame.caption_text()
        text = " ".join(line.strip() for line in lines)
        step = anim.trace[frame.steps[0]]
        assert "…" not in text and len(lines) <= 2  # wrapped, not cut
        wrapped += len(lines) == 2
        assert text.endswith(f"→  {format_value(step.running_sum)}")
        assert f"= {format_value(step.product)}" in text
    assert wrapped


def test_the_final_caption_keeps_its_closing_sentences_before_asides() -> None:
    anim = animate("ij,jk->ik", shapes=[(14, 10), (10, 12)])  # sampled, with cut axes
    caption = anim.frames[-1].caption_text()
    assert len(caption) <= 5 and caption[-1] == "In plain numpy: A @ B"


def test_cell_caption_writes_the_whole_sum() -> None:
    a = np.array([[1, 2, 3]])
    b = np.array([[1], [-1], [2]])
    anim = animate("ij,jk->ik", a, b, granularity="cell")
    cell = next(f for f in anim.frames if f.kind == "cell")
    assert cell.caption_text()[:2] == ["out[0,0] = Σ_j A[0,j] × B[j,0]",
                                       "= 1 × 1 + 2 × (−1) + 3 × 2 = 5"]


def test_layout_aligns_matmul_rows_and_columns() -> None:
    anim = make("matmul")
    scene = anim.scene
    where = {(b.operand, b.index): (b.x, b.y) for b in scene.boxes if b.index is not None}
    for i, j, k in itertools.product(range(2), range(3), range(4)):
        assert where[("out", (i, k))][1] == where[("A", (i, j))][1]  # rows line up with A's
        assert where[("out", (i, k))][0] == where[("B", (j, k))][0]  # columns with B's
    row_sums = make("row-sums").scene
    where = {(b.operand, b.index): (b.x, b.y) for b in row_sums.boxes if b.index is not None}
    assert where[("out", (1,))][1] == where[("A", (1, 0))][1]
    assert where[("out", (1,))][0] > where[("A", (1, 2))][0]
    column_sums = make("column-sums").scene
    where = {(b.operand, b.index): (b.x, b.y) for b in column_sums.boxes if b.index is not None}
    assert where[("out", (2,))][0] == where[("A", (1, 2))][0]
    assert where[("out", (2,))][1] > where[("A", (1, 2))][1]


def test_long_axes_are_cut_and_steps_still_counted() -> None:
    anim = make("cut-summed-axis", granularity="cell")
    drawn = {b.index for b in anim.scene.boxes if b.operand == "A"}
    assert (0, 19) in drawn and (0, 10) not in drawn
    assert any(b.role == "gap" for b in anim.scene.boxes)
    assert len(anim.trace) == 3 * 20 * 2
    assert "hidden" in " ".join(anim.frames[-1].caption_text()) or \
        any("hidden" in " ".join(f.caption_text()) for f in anim.frames)


def test_slices_titled_by_leading_indices() -> None:
    anim = make("batched-matmul")
    titles = [t.plain for t in anim.scene.texts if t.role == "slice"]
    assert "b=0" in titles and "b=1" in titles


def test_ellipsis_and_broadcast_axes_say_so() -> None:
    axes = " ".join(t.plain for t in make("ellipsis-broadcast").scene.texts if t.role == "axis")
    legend = " ".join(t.plain for t in make("ellipsis-broadcast").scene.texts if t.role == "legend")
    assert "(…)" in legend
    broadcast = " ".join(t.plain for t in make("broadcast-size-1").scene.texts if t.role == "axis")
    assert "reused" in broadcast
    assert axes


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


def test_frame_table_is_json_ready() -> None:
    import json

    table = make("matmul").scene.frame_table()
    assert json.loads(json.dumps(table))[5]["kind"] in ("intro", "step")


# -- numbers and colours -----------------------------------------------------------------------------
@pytest.mark.parametrize("value, text", [
    (3, "3"), (-12, "−12"), (np.int8(-5), "−5"), (0.5, "0.5"), (2 / 3, "0.667"),
    (123456.0, "1.23e5"), (-1e-7, "−1e−7"), (0.0, "0"), (True, "1"), (float("nan"), "nan"),
    (1254.3, "1254"), (-98765.0, "−98765"), (12345.6, "12346"), (4.567e-4, "4.57e−4"),
    (float("-inf"), "−∞"), (1 + 2j, "1+2j"), (np.float32(1.5), "1.5"),
])
def test_numbers_are_compact(value, text) -> None:
    assert format_value(value) == text


def test_long_numbers_widen_their_cells_rather_than_shrink_past_reading() -> None:
    a = np.array([[123456, 987654], [-555555, 1]])
    b = np.array([[123456, 2], [3, 999999]])
    anim = animate("ij,jk->ik", a, b)  # results of 12 characters: −68586598077
    sizes = [float(size) for svg in (anim.frame_svg(-1), anim.frame_svg(5), anim.to_svg())
             for size in re.findall(r"font-size:([\d.]+)px", svg)]
    assert sizes and min(sizes) >= 9.5 and anim.scene.width <= 640
    small = animate("ij,jk->ik", np.ones((2, 2), int), np.ones((2, 2), int))
    assert small.scene.cell_w < anim.scene.cell_w  # short numbers keep narrow cells


def test_negative_factors_take_parentheses() -> None:
    assert format_factor(-1) == "(−1)" and format_factor(4) == "4"


def test_label_colours_are_stable_and_distinct() -> None:
    colours = label_colours("ijk")
    assert list(colours.values()) == list(PALETTE[:3])
    assert label_colours("kji")["k"] == PALETTE[0]
    assert len(set(label_colours("abcdefgh").values())) == 8
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in PALETTE)


#: Machado, Oliveira and Fernandes (2009) at full severity, on linear RGB.
DEFICIENCIES = {
    "normal": np.eye(3),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
}


def _lab(colour: str, seen_by: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of a '#rrggbb' colour as an eye with the given deficiency sees it."""
    srgb = np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)]) / 255
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    linear = np.clip(seen_by @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ linear / np.array([0.9505, 1.0, 1.089])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("eye", list(DEFICIENCIES))
def test_the_first_six_label_colours_stay_apart_for_colour_blind_eyes(eye: str) -> None:
    labs = [_lab(colour, DEFICIENCIES[eye]) for colour in PALETTE[:6]]
    closest = min(np.linalg.norm(a - b) for a, b in itertools.combinations(labs, 2))
    assert closest > 10, f"two of the first six colours are {closest:.1f} apart (delta E) for {eye}"


def test_every_label_colour_is_a_colour_not_a_grey_like_the_text() -> None:
    chroma = {colour: float(np.hypot(*_lab(colour, np.eye(3))[1:])) for colour in PALETTE}
    assert min(chroma.values()) > 30, chroma  # grey has none; the text is grey
    assert np.hypot(*_lab(INK, np.eye(3))[1:]) < 1


def test_label_colours_read_on_white() -> None:
    def luminance(colour: str) -> float:
        srgb = np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)]) / 255
        linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
        return float(linear @ [0.2126, 0.7152, 0.0722])

    assert min(1.05 / (luminance(colour) + 0.05) for colour in PALETTE) >= 3.4


@pytest.mark.parametrize("case", IDS[:3], ids=IDS[:3])
def test_corpus_ids_still_render(case: str) -> None:
    assert make(case).frame_svg(0).startswith("<svg")


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


def test_base_overlay_and_top_make_the_frame_pixel_for_pixel() -> None:
    Image = pytest.importorskip("PIL.Image")
    import io

    from einviz.animation import rasterise

    def picture(mode: str, k: int | None = None):
        return Image.open(io.BytesIO(rasterise(render(anim.scene, mode, k, prefix="x")))).convert("RGBA")

    anim = make("matmul", granularity="step")
    base, top = picture("base"), picture("top")
    for k in (0, 1, 8):
        full = np.asarray(picture("frame", k), dtype=int)
        layered = Image.alpha_composite(Image.alpha_composite(base, picture("overlay", k)), top)
        assert np.abs(np.asarray(layered, dtype=int) - full).max() <= 8
        # the lit cells' values are drawn over their marks: darker than the marks' fill
        if k == 8:
            frame = anim.frames[k]
            for mark in frame.marks:
                x, y = round(mark.x + anim.scene.cell_w / 2), round(mark.y + anim.scene.cell_h / 2)
                patch = full[y - 6:y + 6, x - 8:x + 8, :3].sum(axis=2)
                assert patch.min() < 200, (mark, patch.min())


@pytest.mark.parametrize("width", range(8, 40))
def test_a_word_a_at_a_line_break_is_not_taken_for_a_label(width):
    from einviz.plan import plan
    from einviz.render.text import prose_lines as _prose_lines

    sentence = "each output cell is a column of T1 times a row, summed over b and a"
    lines = _prose_lines(sentence, plan("ab,bc->ac", shapes=[(2, 2), (2, 2)]), width)
    assert " ".join("".join(span.text for span in line) for line in lines) == sentence
    coloured = [span.text for line in lines for span in line if span.label]
    assert coloured == ["b", "a"]


@pytest.mark.parametrize("case", ["matmul", "batched-matmul", "diagonal"])
def test_where_animation_does_not_run_the_animated_svg_shows_the_final_frame(case: str) -> None:
    Image = pytest.importorskip("PIL.Image")
    import io

    from einviz.animation import rasterise

    anim = make(case, granularity="step")
    still, final = (np.asarray(Image.open(io.BytesIO(rasterise(svg))).convert("RGB"), dtype=int)
                    for svg in (anim.to_svg(), anim.frame_svg(-1)))
    assert np.abs(still - final).max() <= 8


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
        assert len(frame.outlines) == len(frame.marks) == 3  # A's, B's and out's slice
        for mark, (x, y, w, h) in zip(frame.marks, frame.outlines):
            assert x <= mark.x < x + w and y <= mark.y < y + h
    assert all(f.outlines == () for f in make("matmul", granularity="step").frames)


def test_a_label_cut_in_one_array_is_cut_the_same_in_all() -> None:
    anim = animate("bij->b", sizes=dict(b=20, i=2, j=2))  # b: slices in A, a row in out
    shown = {}
    for box in anim.scene.boxes:
        if box.role in ("cell", "out"):
            shown.setdefault(box.operand, set()).add(box.index[0])
    assert shown["A"] == shown["out"] == {0, 1, 19}


def test_a_broadcast_operand_is_drawn_without_copying_it() -> None:
    import tracemalloc

    a = np.broadcast_to(np.arange(4000.0), (4000, 4000))  # 128 MB it does not hold
    tracemalloc.start()
    try:
        animate("ij->i", a, max_frames=12).to_svg()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < a.nbytes / 10


def test_a_long_summed_axis_costs_memory_by_its_drawn_cells_not_its_length() -> None:
    import tracemalloc

    a = np.arange(2_000_000).reshape(-1, 1)  # one output cell, two million terms
    tracemalloc.start()
    try:
        anim = animate("ij->", a, granularity="cell")
        svg = anim.to_svg()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6  # a list of the hidden indices alone would take 56 MB
    # The ellipsis cell stands for the hidden run of i, kept as a range, not a list.
    spread = next(m for f in anim.frames for m in f.marks if m.index is None)
    hidden = dict(spread.values)["i"]
    assert isinstance(hidden, range) and hidden.stop == 1_999_999  # the last row is drawn
    assert f'data-values="i={hidden.start}:1999998;j=0"' in svg


def test_an_object_array_of_unorderable_numbers_is_drawn() -> None:
    values = np.array([1j, 2], dtype=object)
    svg = animate("i->", values).to_svg()
    assert np.einsum("i->", values) == 2 + 1j
    assert "2+1j" in svg  # the final sum, as its cell shows it
