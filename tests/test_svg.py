"""The SVG as data: every cell carries its operand and index, the values shown equal numpy's,
every mode parses, and the animated SVG plays alone (einviz.render.svg)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from corpus import IDS, drawn_values, operands
from figures import CASES, SVG, frames_of, make, parse

from einviz.animation import animate
from einviz.render import format_value
from einviz.render.svg import render


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


@pytest.mark.parametrize("mode", ["animated", "frame", "base", "overlay"])
def test_every_mode_parses_as_xml(mode: str) -> None:
    anim = make("matmul")
    svg = render(anim.scene, mode, 5 if mode in ("frame", "overlay") else None, prefix="t1")
    root = parse(svg)
    assert root.get("id") == "t1"
    shown = frames_of(root)
    assert len(shown) == {"animated": anim.n_frames, "base": 0}.get(mode, 1)


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
    shown = [re.search(r'<svg[^>]* id="([^"]+)"', one.player_html()).group(1) for _ in range(2)]
    ids = {parse(one.to_svg()).get("id"), parse(two.to_svg()).get("id"), *shown}
    assert len(ids) == 4
    html = one._repr_html_()
    assert html.startswith("<div") and "<img" in html and "<svg" not in html
    # every id and animation in a document carries its prefix
    svg = one.to_svg()
    prefix = parse(svg).get("id")
    assert all(i.startswith(prefix) for i in re.findall(r'id="([^"]+)"', svg))
    assert all(n.startswith(prefix) for n in re.findall(r"@keyframes ([\w-]+)", svg))


def test_step_frames_cost_what_they_change_for_8x8_matmul() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.integers(-3, 6, (8, 8)), rng.integers(-3, 6, (8, 8))
    anim = animate("ij,jk->ik", a, b, granularity="step", max_frames=1000)
    assert sum(f.kind == "step" for f in anim.frames) == 512
    # A frame carries what it changes: its step's three cells, its two caption lines (their
    # indices coloured) and loop values. The marks that stay over an output cell's frames (a
    # row of A and a column of B, and the terms added already) are drawn once for all of
    # them; drawn in every frame they cost over 2,500 bytes a frame.
    assert len(anim.to_svg().encode()) / 512 <= 1400


@pytest.mark.parametrize("case", IDS[:3], ids=IDS[:3])
def test_corpus_ids_still_render(case: str) -> None:
    assert make(case).frame_svg(0).startswith("<svg")


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


@pytest.mark.parametrize("case", ["matmul", "batched-matmul", "diagonal"])
def test_where_animation_does_not_run_the_animated_svg_shows_the_final_frame(case: str) -> None:
    Image = pytest.importorskip("PIL.Image")
    import io

    from einviz.animation import rasterise

    anim = make(case, granularity="step")
    still, final = (np.asarray(Image.open(io.BytesIO(rasterise(svg))).convert("RGB"), dtype=int)
                    for svg in (anim.to_svg(), anim.frame_svg(-1)))
    assert np.abs(still - final).max() <= 8


def test_a_step_frame_carries_its_sums_terms_and_its_lit_cells_as_data() -> None:
    anim = animate("ij,jk->ik", shapes=[(2, 3), (3, 2)], granularity="step")
    root = ET.fromstring(anim.to_svg())
    groups = [g for g in root.iter(f"{SVG}g") if "einviz-frame" in g.get("class", "").split()]
    # Term marks held over several frames are drawn once, in g.einviz-runs, for frames
    # data-first to data-last: they count as each of those frames' marks.
    (runs,) = [g for g in root.iter(f"{SVG}g") if "einviz-runs" in g.get("class", "").split()]
    held = [(int(g.get("data-first")), int(g.get("data-last")), g) for g in runs.findall(f"{SVG}g")]
    assert held
    per_cell = anim.trace.steps_per_cell
    for group, frame in zip(groups, anim.frames):
        if frame.kind != "step":
            continue
        step = anim.trace[frame.steps[0]]
        roles: dict[str, set] = {}
        mine = [group, *(g for first, last, g in held if first <= frame.number <= last)]
        for use in (use for g in mine for use in g.iter(f"{SVG}use")):
            roles.setdefault(use.get("data-role"), set()).add((use.get("data-operand"), use.get("data-index")))
        i, k = step.out_index
        assert roles["term"] == {("A", f"{i},{j}") for j in range(3)} | {("B", f"{j},{k}") for j in range(3)}
        j = step.labels["j"]
        assert roles["lit"] == {("A", f"{i},{j}"), ("B", f"{j},{k}"), ("out", f"{i},{k}")}
        used = {("A", f"{i},{x}") for x in range(j)} | {("B", f"{x},{k}") for x in range(j)}
        assert roles.get("used", set()) == used
        assert step.number % per_cell == j


def test_the_cells_of_one_array_share_one_font_size() -> None:
    a = np.array([[1, 2], [3, 123456789]])  # one wide number: every cell of A takes its size
    anim = animate("ij->ij", a, granularity="step")
    root = ET.fromstring(anim.frame_svg(-1))
    sizes = {}
    values = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "v")
    for text in values.iter(f"{SVG}text"):
        sizes.setdefault(text.get("style"), []).append(text.text)
    assert len([s for s in sizes if s]) == 1  # A's cells and out's values: one smaller size
    assert sorted(sizes[next(s for s in sizes if s)]) == sorted(["1", "2", "3", "123456789"])
