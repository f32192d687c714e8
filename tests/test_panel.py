"""The panels beside the grids (the network, 3-D blocks, the iteration cube), lit step by step,
and the combined SVG that plays them in the grids' frame times."""

from __future__ import annotations

import io
import re
from xml.etree import ElementTree

import numpy as np
import pytest

import einviz
from einviz.animation import animate, rasterise
from einviz.planning import plan
from einviz.render.network import loop_values
from einviz.render.panel import (
    MAX_PANEL_STEPS,
    choose_panel,
    combined_svg,
    frame_spans,
    lit_labels,
    make_panel,
    network_panel,
    panel_place,
)
from einviz.render.scene import build_scene
from einviz.render.text import format_value
from einviz.tracing import trace

NS = "{http://www.w3.org/2000/svg}"


def step_groups(svg: str) -> list[ElementTree.Element]:
    return [g for g in ElementTree.fromstring(svg).iter(f"{NS}g") if g.get("class", "").startswith("einviz-step")
            and g.get("data-step") is not None]


def matmul_trace() -> einviz.Trace:
    return trace("ij,jk->ik", np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4) - 4)


def bmm_trace() -> einviz.Trace:
    return trace("bij,bjk->bik", np.arange(12).reshape(2, 2, 3), np.arange(12).reshape(2, 3, 2) - 5)


# -- the network -----------------------------------------------------------------------------------
def test_the_network_lights_the_moving_loop_variable_one_group_a_step() -> None:
    p = plan("ij,jk->ik", shapes=[(2, 3), (3, 4)])
    panel = network_panel(p)
    groups = step_groups(panel.svg)
    assert [int(g.get("data-step")) for g in groups] == list(range(p.n_steps)) == list(panel.steps)
    lit = [sorted({line.get("data-label") for line in g.iter(f"{NS}g") if line.get("data-label")})
           for g in groups]
    # Step 0: nothing has moved yet, so the innermost loop (the one that moves next) is lit;
    # then j moves each step, k when j wraps, i when k wraps.
    assert lit[:5] == [["j"], ["j"], ["j"], ["k"], ["j"]]
    assert lit[12] == ["i"]
    caption = "".join(groups[5].find(f".//{NS}text[@class='einviz-caption']").itertext())
    assert caption == "i = 0, k = 1, j = 2"


def test_a_span_lights_every_loop_variable_that_moves_in_it() -> None:
    p = plan("ij,jk->ik", shapes=[(2, 3), (3, 4)])
    assert lit_labels(p, range(3, 6)) == ("k", "j")   # a cell frame: k moved in, j ran
    assert lit_labels(p, range(12, 15)) == ("i", "j")   # i moved in (k went back to 0), j ran
    panel = network_panel(p, [range(3, 6)])
    (group,) = step_groups(panel.svg)
    assert group.get("data-step") == "5"
    assert "".join(group.find(f".//{NS}text[@class='einviz-caption']").itertext()) == "i = 0, k = 1, j = 0…2"


def test_a_panel_refuses_more_steps_than_it_draws() -> None:
    with pytest.raises(einviz.EinvizError, match=f"a panel draws at most {MAX_PANEL_STEPS} steps"):
        network_panel(plan("ij,jk->ik", shapes=[(10, 10), (10, 10)]))
    with pytest.raises(einviz.EinvizError, match="frames' steps, not 600"):
        network_panel(plan("i->", shapes=[(600,)]), [range(t, t + 1) for t in range(600)])


def test_the_panel_hides_its_groups_until_they_are_lit() -> None:
    panel = network_panel(plan("i->", shapes=[(3,)]))
    assert f"#{panel.id} g.einviz-step{{visibility:hidden}}" in panel.svg
    assert f"#{panel.id} g.einviz-step.einviz-on{{visibility:visible}}" in panel.svg


# -- blocks and the cube ---------------------------------------------------------------------------
def lit_cells(group: ElementTree.Element) -> set[tuple[str, str]]:
    return {(p.get("data-operand"), p.get("data-index")) for p in group.iter(f"{NS}polygon")
            if p.get("data-operand")}


def test_blocks_light_the_cells_each_step_reads_and_writes() -> None:
    t = bmm_trace()
    panel = make_panel("blocks", t)
    groups = step_groups(panel.svg)
    assert len(groups) == t.plan.n_steps
    for group in groups:
        step = t[int(group.get("data-step"))]
        expected = {(name, ",".join(map(str, index))) for name, index
                    in zip(("A", "B", "out"), (*step.indices, step.out_index))}
        assert lit_cells(group) == expected
    # One sentence for the three arrays drawn apart: 2 + 2 + 1 hidden cells of 12 + 12 + 8.
    assert panel.note == ("slices along 'b' are drawn apart (A's, B's and out's): "
                          "a solid block would hide 5 of their 32 cells")


def test_a_cell_frame_lights_its_whole_sum_on_the_blocks() -> None:
    t = trace("ij,jk->ik", np.ones((2, 3)), np.ones((3, 2)))
    (group,) = step_groups(make_panel("blocks", t, [t.cell_steps((1, 0))]).svg)
    # 2-d arrays are one-slice blocks: index (0, row, column).
    assert {index for name, index in lit_cells(group) if name == "A"} == {"0,1,0", "0,1,1", "0,1,2"}
    assert {index for name, index in lit_cells(group) if name == "B"} == {"0,0,0", "0,1,0", "0,2,0"}
    assert {index for name, index in lit_cells(group) if name == "out"} == {"0,1,0"}
    caption = group.find(f".//{NS}text[@class='einviz-caption']").text
    assert caption == "out[1,0] = Σ A[1,j] × B[j,0]  (3 products)"


def test_the_cube_lights_each_steps_product_and_its_three_cells() -> None:
    t = matmul_trace()
    panel = make_panel("cube", t)
    groups = step_groups(panel.svg)
    # Each step has a group under the see-through faces (its product's cube, inside) and
    # one over them (the three cells it joins, and the caption).
    assert len(groups) == 2 * t.plan.n_steps and panel.steps == tuple(range(t.plan.n_steps))
    for step in range(t.plan.n_steps):
        mine = [g for g in groups if g.get("data-step") == str(step)]
        v = loop_values(t.plan, step)
        products = [g.get("data-index") for group in mine for g in group.iter(f"{NS}g")
                    if g.get("class") == "einviz-product"]
        assert products == [f"{v['i']},{v['j']},{v['k']}"]
        assert set().union(*(lit_cells(g) for g in mine)) == {
            ("A", f"{v['i']},{v['j']}"), ("B", f"{v['j']},{v['k']}"), ("out", f"{v['i']},{v['k']}")}


def test_the_cube_panel_refuses_what_is_not_a_matrix_product() -> None:
    with pytest.raises(einviz.EinvizError, match="the iteration cube draws a product of two matrices"):
        make_panel("cube", bmm_trace())
    with pytest.raises(einviz.EinvizError, match="unknown panel 'tree'"):
        make_panel("tree", bmm_trace())


# -- the combined SVG ------------------------------------------------------------------------------
def keyframes(svg: str, outer: str) -> dict[int, list[tuple[float, int]]]:
    found = {}
    for step, body in re.findall(rf"@keyframes {re.escape(outer)}-s(\d+)\{{(.*?\}})\}}", svg):
        found[int(step)] = [(float(at), int(value)) for at, value in re.findall(r"([\d.]+)%\{opacity:(\d)\}", body)]
    return found


@pytest.mark.parametrize("kind", ["network", "cube", "blocks"])
def test_the_panels_groups_show_exactly_in_their_frames_time_slots(kind: str) -> None:
    t = matmul_trace()
    scene = build_scene(t)
    panel = make_panel(kind, t, frame_spans(scene), prefix="p")
    svg = combined_svg(scene, panel, "g")
    ElementTree.fromstring(svg)
    found = keyframes(svg, "g-with-" + kind)
    stepped = [(f, start) for f, start in zip(scene.frames, scene.starts()) if len(f.steps)]
    assert sorted(found) == sorted(f.steps[-1] for f, _ in stepped) == sorted(panel.steps)
    for frame, start in stepped:
        times = found[frame.steps[-1]]
        on = [at for at, value in times if value == 1]
        off = [at for at, value in times if value == 0 and at > 0]
        assert on == [pytest.approx(100 * start / scene.duration, abs=1e-3)]
        assert off == [pytest.approx(100 * (start + frame.duration) / scene.duration, abs=1e-3)]
    assert f"animation:{scene.duration:g}s step-end infinite" in svg.replace(".0s", "s")


def test_a_frame_of_the_combined_svg_lights_its_last_step() -> None:
    t = matmul_trace()
    scene = build_scene(t)
    panel = make_panel("network", t, frame_spans(scene))
    number = next(k for k, f in enumerate(scene.frames) if f.kind == "cell")
    svg = combined_svg(scene, panel, "g", frame=number)
    on = [g.get("data-step") for g in step_groups(svg) if "einviz-on" in g.get("class")]
    assert on == [str(scene.frames[number].steps[-1])]
    assert not [g for g in step_groups(combined_svg(scene, panel, "g", frame=-1)) if "einviz-on" in g.get("class")]


def test_resvg_draws_the_combined_svg_as_its_final_frame() -> None:
    Image = pytest.importorskip("PIL.Image")
    anim = animate("ij,jk->ik", np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4), panel="cube")
    still, final = (np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
                    for png in (rasterise(anim.to_svg()), anim.to_png()))
    assert still.shape == final.shape
    x, y, scale = panel_place(anim.scene, anim.panel)
    assert 0.8 <= scale <= 1.5
    assert still.shape[:2] == (round(max(anim.scene.height, y + anim.panel.height * scale)),
                               round(max(anim.scene.width, x + anim.panel.width * scale)))
    assert np.abs(still - final).max() <= 8
    # The panel is drawn (not white), and a step frame lights something the final frame does not.
    panel = final[int(y) + 6:, int(x) + 6:] if y else final[:, int(x) + 6:]
    assert (panel < 200).any()
    step = next(k for k, f in enumerate(anim.frames) if f.kind == "step")
    lit = np.asarray(Image.open(io.BytesIO(anim.to_png(frame=step))).convert("RGB"), dtype=int)
    assert np.abs(lit[int(y) + 6:, int(x) + 6:] - panel).max() > 100


# -- layout and panel in animate -------------------------------------------------------------------
@pytest.mark.parametrize(("subscripts", "shapes", "expected"), [
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)], "blocks"),      # a small 3-d operand
    ("ijk->k", [(2, 2, 2)], "blocks"),
    ("bij,bjk->bik", [(2, 2, 5), (2, 5, 2)], None),          # an axis over 4 cells
    ("bhqd,bhkd->bhqk", [(1, 2, 2, 2), (1, 2, 2, 2)], None),  # 4-d
    ("ij,jk->ik", [(2, 3), (3, 4)], None),                    # 2-d: the gallery's grids stay
    ("ijk,ijk,ijk,ijk->", [(2, 2, 2)] * 4, None),             # four operands
    ("bij,bjk->bik", [(2, 0, 3), (2, 3, 2)], None),           # an empty axis
])
def test_auto_draws_blocks_only_where_a_3d_operand_is_small(subscripts, shapes, expected) -> None:  # type: ignore[no-untyped-def]
    assert choose_panel(plan(subscripts, shapes=shapes)) == expected
    panel = animate(subscripts, shapes=shapes).panel
    assert (panel.kind if panel else None) == expected


def test_layout_3d_is_the_cube_for_two_matrices_else_blocks() -> None:
    assert animate("ij,jk->ik", shapes=[(2, 3), (3, 4)], layout="3d").panel.kind == "cube"
    assert animate("ij,kj->ki", shapes=[(2, 3), (4, 3)], layout="3d").panel.kind == "cube"
    assert animate("bij,bjk->bik", shapes=[(2, 2, 5), (2, 5, 2)], layout="3d").panel.kind == "blocks"
    assert animate("bij,bjk->bik", shapes=[(2, 2, 3), (2, 3, 2)], layout="grid").panel is None
    assert animate("ij,jk->ik", shapes=[(2, 3), (3, 4)], panel="network").panel.kind == "network"


def test_layout_3d_and_panel_refuse_what_they_cannot_draw() -> None:
    with pytest.raises(einviz.EinvizError, match="layout='3d' draws arrays of up to 3 dimensions; A has 4"):
        animate("bhqd,bhkd->bhqk", shapes=[(1, 2, 2, 2), (1, 2, 2, 2)], layout="3d")
    with pytest.raises(einviz.EinvizError, match=r"layout='3d' draws axes of up to 8 cells; A has shape \(2, 9\)"):
        animate("ij,jk->ik", shapes=[(2, 9), (9, 2)], layout="3d")
    with pytest.raises(einviz.EinvizError, match="layout must be one of 'grid', '3d', 'auto', not 'flat'"):
        animate("ij->i", shapes=[(2, 3)], layout="flat")
    with pytest.raises(einviz.EinvizError, match="panel must be one of 'network', 'blocks', 'cube' or None"):
        animate("ij->i", shapes=[(2, 3)], panel="tree")
    with pytest.raises(einviz.EinvizError, match="layout='3d' draws the cube panel beside the grids; "
                                                 "panel='network' asks for another"):
        animate("ij,jk->ik", shapes=[(2, 3), (3, 4)], layout="3d", panel="network")
    with pytest.raises(einviz.EinvizError, match="view='product' has none"):
        animate("ij,jk->ik", shapes=[(2, 3), (3, 4)], view="product", panel="network")
    # auto leaves the product view alone
    assert animate("bij,bjk->bik", shapes=[(2, 2, 3), (2, 3, 2)], view="product").panel is None


def test_the_animations_svg_and_png_carry_the_panel(tmp_path) -> None:  # type: ignore[no-untyped-def]
    anim = animate("ij,jk->ik", shapes=[(2, 3), (3, 2)], panel="network")
    svg = anim.to_svg()
    assert svg.count("<svg") == 3 and f'id="{anim.id}-with-network"' in svg
    root = ElementTree.fromstring(svg)
    assert (root.get("data-frames"), root.get("data-panel")) == (str(anim.n_frames), "network")
    assert len(step_groups(svg)) == len(frame_spans(anim.scene))
    anim.save(tmp_path / "a.svg")
    assert (tmp_path / "a.svg").read_text() == svg
    assert anim.to_png(scale=0.5)[:4] == b"\x89PNG"
    with pytest.raises(einviz.EinvizError, match="frame 99 is out of range"):
        anim.to_png(frame=99)


def test_custom_colours_reach_the_panel() -> None:
    anim = animate("ij,jk->ik", shapes=[(2, 3), (3, 2)], panel="network", colours={"j": "#123456"})
    assert 'stroke="#123456"' in anim.panel.svg


def test_the_cube_reads_a_broadcast_axis_again_for_every_index() -> None:
    t = trace("ij,jk->ik", np.array([[2], [3]]), np.arange(12).reshape(3, 4))
    panel = make_panel("cube", t)
    assert panel.steps == tuple(range(24))
    (caption,) = [g.find(f".//{NS}text[@class='einviz-caption']").text for g in step_groups(panel.svg)
                  if g.get("data-step") == "23" and g.find(f".//{NS}text[@class='einviz-caption']") is not None]
    assert caption == "out[i=1,k=3] += A[1,0] × B[2,3] = 3 × 11"  # A's one column, read again


@pytest.mark.browser
def test_in_a_browser_the_panel_lights_the_step_the_grids_show() -> None:
    import shutil
    from pathlib import Path

    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists() and shutil.which("chromium") is None:
        pytest.skip(f"no Chromium at {chromium} (apt-get install chromium)")
    anim = animate("ij,jk->ik", shapes=[(2, 3), (3, 2)], layout="3d")
    starts = anim.scene.starts()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        page.set_content(anim.to_svg())
        for number, frame in enumerate(anim.frames):
            # Every animation paused at the same moment: 0.2 s into this frame.
            at = (starts[number] + 0.2) * 1000
            page.evaluate(f"document.getAnimations().forEach(a => {{ a.pause(); a.currentTime = {at}; }})")
            shown = page.evaluate(
                "[...document.querySelectorAll('g.einviz-frame')].filter("
                "g => getComputedStyle(g).opacity === '1').map(g => g.dataset.frame)")
            lit = page.evaluate(
                "[...new Set([...document.querySelectorAll('g.einviz-step')].filter("
                "g => getComputedStyle(g).opacity === '1').map(g => g.dataset.step))]")
            assert shown == [str(number)]
            assert lit == ([str(frame.steps[-1])] if len(frame.steps) else [])
        browser.close()


def test_a_panel_too_wide_to_stand_beside_the_grids_goes_under_them() -> None:
    from einviz.render import panel as panels

    anim = animate("i->", shapes=[(3,)], panel="network")
    small = panels.Panel("network", anim.panel.svg, 12.0, 20.0, id=anim.panel.id)
    x, y, scale = panels.panel_place(anim.scene, small)
    assert (x, y) == (anim.scene.width + 24, 0.0)  # beside: the pair fits the grids' 640 px
    drawn = ElementTree.fromstring(combined_svg(anim.scene, small, "g"))
    _, beside = drawn.findall("{http://www.w3.org/2000/svg}svg")
    assert (float(beside.get("x")), float(beside.get("y"))) == (x, 0.0)
    # A cube beside the grids of a matmul would make the figure wider than a page reads it.
    anim = animate("ij,jk->ik", shapes=[(2, 3), (3, 4)], panel="cube")
    x, y, scale = panels.panel_place(anim.scene, anim.panel)
    assert y == anim.scene.height and scale <= 1.2
    assert x == pytest.approx((anim.scene.width - anim.panel.width * scale) / 2)
    root = ElementTree.fromstring(combined_svg(anim.scene, anim.panel, "g"))
    assert float(root.get("width")) == anim.scene.width <= panels.MAX_SIDE_BY_SIDE
    assert float(root.get("height")) == pytest.approx(anim.scene.height + anim.panel.height * scale, abs=0.1)


# -- output values appear as their cells are done, as on the grids ---------------------------------
def done_groups(svg: str) -> dict[int, ElementTree.Element]:
    return {int(g.get("data-step")): g for g in ElementTree.fromstring(svg).iter(f"{NS}g")
            if g.get("class") == "einviz-done"}


@pytest.mark.parametrize("kind", ["blocks", "cube"])
def test_each_output_value_waits_for_its_cells_last_step(kind) -> None:
    t = bmm_trace() if kind == "blocks" else matmul_trace()
    panel = make_panel(kind, t)
    cells = list(np.ndindex(*t.plan.out_shape))
    assert panel.done == tuple(sorted(t.cell_steps(index).stop - 1 for index in cells))
    groups = done_groups(panel.svg)
    for index in cells:
        text = "".join(groups[t.cell_steps(index).stop - 1].itertext())
        assert text == format_value(t.result[index])


@pytest.mark.parametrize("kind", ["blocks", "cube"])
def test_a_frame_shows_the_values_of_the_cells_done_by_then(kind) -> None:
    anim = animate(*(("bij,bjk->bik", np.arange(12).reshape(2, 2, 3), np.arange(12).reshape(2, 3, 2))
                     if kind == "blocks" else ("ij,jk->ik", np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4))),
                   granularity="step", panel=kind)
    for number, frame in enumerate(anim.scene.frames):
        shown = {step for step, g in done_groups(anim.frame_svg(number)).items() if g.get("visibility") != "hidden"}
        if frame.kind == "final":
            assert shown == set(anim.panel.done)
        else:
            reached = max((f.steps[-1] for f in anim.scene.frames[:number + 1] if len(f.steps)), default=-1)
            assert shown == {step for step in anim.panel.done if step <= reached}, number
    # Animated: each value's keyframes turn it on at the start of the frame that finishes its cell.
    svg, starts, total = anim.to_svg(), anim.scene.starts(), anim.scene.duration
    for step in anim.panel.done:
        first = next(k for k, f in enumerate(anim.scene.frames) if len(f.steps) and f.steps[-1] >= step)
        after = svg.split(f"g.einviz-done[data-step='{step}']", 1)[1]
        name = re.search(r"\{animation:([-\w]+) ", after).group(1)
        keyframes = re.search(rf"@keyframes {name}\{{0%\{{opacity:0\}}([\d.]+)%", svg)
        assert float(keyframes.group(1)) == pytest.approx(100 * starts[first] / total, abs=0.01)
