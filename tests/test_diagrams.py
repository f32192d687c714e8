"""The other views: contraction trees and their network replay, 3-D blocks, the iteration
cube, the figures' outputs, and the TikZ and DOT exports (compiled when LaTeX and Graphviz
are installed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest

import einviz
from einviz import diagrams

NS = "{http://www.w3.org/2000/svg}"
CHAIN = ("ab,bc,cd,de->ae", [(2, 3), (3, 4), (4, 5), (5, 6)])


def groups(svg: str, attribute: str) -> list[ElementTree.Element]:
    return [g for g in ElementTree.fromstring(svg).iter() if g.get(attribute) is not None]


def lightness(colour: str) -> int:
    return sum(int(colour[k:k + 2], 16) for k in (1, 3, 5))


# -- the contraction tree ------------------------------------------------------------------------
def test_tree_has_the_operands_as_leaves_and_each_step_above_its_inputs() -> None:
    tree = diagrams.contraction_tree(*CHAIN[:1], shapes=CHAIN[1])
    path = tree.path
    nodes = {g.get("data-node"): g for g in groups(tree.to_svg(), "data-node")}
    assert set(nodes) == set(path.names) | {s.output for s in path.steps}
    edges = {g.get("data-ends") for g in groups(tree.to_svg(), "data-ends")}
    assert edges == {f"{i},{s.output}" for s in path.steps for i in s.inputs}

    def y(name: str) -> float:
        return float(nodes[name].find(f"{NS}rect").get("y"))

    for step in path.steps:
        assert all(y(step.output) < y(i) for i in step.inputs)
        text = "".join(nodes[step.output].itertext())
        assert f"{step.flops:,} FLOPs" in text and str(step.blas) in text
        assert "(" + ", ".join(map(str, step.shape)) + ")" in text


def test_tree_fill_is_darker_for_costlier_steps() -> None:
    tree = diagrams.contraction_tree(*CHAIN[:1], shapes=CHAIN[1])
    nodes = {g.get("data-node"): g.find(f"{NS}rect").get("fill") for g in groups(tree.to_svg(), "data-node")}
    by_cost = sorted(tree.path.steps, key=lambda s: s.flops)
    assert by_cost[0].flops < by_cost[-1].flops
    assert lightness(nodes[by_cost[0].output]) > lightness(nodes[by_cost[-1].output])


def test_tree_takes_a_contraction_path_and_numpy_paths() -> None:
    path = einviz.contraction_path("ij,jk,kl->il", shapes=[(2, 3), (3, 4), (4, 5)], source="numpy")
    assert diagrams.contraction_tree(path).path is path
    single = diagrams.contraction_tree("ij,jk,kl->il", shapes=[(2, 3), (3, 4), (4, 5)], optimize=False)
    assert len(single.steps) == 1 and len(single.steps[0].inputs) == 3


def test_contraction_frames_merge_two_nodes_and_drop_their_bond() -> None:
    tree = diagrams.contraction_tree(*CHAIN[:1], shapes=CHAIN[1])
    assert tree.n_frames == len(tree.steps) + 1
    for k, step in enumerate(tree.steps):
        before, after = tree.frames[k][0], tree.frames[k + 1][0]
        names_before = {n.name for n in before.nodes}
        names_after = {n.name for n in after.nodes}
        merged = "result" if step.output == "out" else step.output
        assert set(step.inputs) <= names_before and not set(step.inputs) & names_after
        assert merged in names_after
        assert set(before.lit_nodes) == set(step.inputs)
        summed = {line.connection.label for line in before.lines if set(line.connection.ends) <= set(step.inputs)}
        assert summed == set(step.summed) and {line.connection.label for line in before.lines if line.lit} == summed
        assert not summed & {line.connection.label for line in after.lines}


def test_the_animated_contraction_shows_the_end_where_nothing_plays() -> None:
    tree = diagrams.contraction_tree(*CHAIN[:1], shapes=CHAIN[1])
    svg = tree.animated_svg()
    frames = groups(svg, "data-frame")
    assert [f.get("data-frame") for f in frames] == [str(k) for k in range(tree.n_frames)]
    assert [f.get("opacity") for f in frames] == ["0"] * (tree.n_frames - 1) + ["1"]
    assert svg.count("@keyframes") == tree.n_frames
    assert len(groups(tree.frame_svg(0), "data-frame")) == 1


# -- 3-D blocks ----------------------------------------------------------------------------------
def test_blocks_draw_every_cell_and_say_why_slices_stand_apart() -> None:
    a = np.arange(12).reshape(2, 2, 3)
    b = np.arange(12).reshape(2, 3, 2) - 5
    figure = diagrams.blocks("bij,bjk->bik", a, b)
    assert figure.notes[0] == "a solid block would hide 2 of A's 12 cells: its slices along 'b' are drawn apart"
    svg = figure.to_svg()
    for name, array in (("A", a), ("B", b), ("out", np.einsum("bij,bjk->bik", a, b))):
        (group,) = [g for g in groups(svg, "data-operand") if g.get("data-operand") == name
                    and g.get("data-apart") is not None]
        cells = {r.get("data-index") for r in group.iter(f"{NS}rect") if r.get("data-index")}
        assert cells == {",".join(map(str, i)) for i in np.ndindex(array.shape)}
        values = [t.text for t in group.iter(f"{NS}text") if t.text and t.text.lstrip("−-").isdigit()]
        assert sorted(values) == sorted(str(v).replace("-", "−") for v in array.ravel())


def test_a_block_with_an_axis_of_one_is_drawn_solid() -> None:
    figure = diagrams.blocks("aij->aij", shapes=[(1, 2, 3)])
    assert figure.notes == []
    assert {g.get("data-apart") for g in groups(figure.to_svg(), "data-apart")} == {"0"}


def test_blocks_light_the_cells_asked_for() -> None:
    svg = diagrams.blocks("ij,jk->ik", shapes=[(2, 3), (3, 2)], lit={"A": [(1, 2)]}).to_svg()
    lit = {r.get("data-index") for r in ElementTree.fromstring(svg).iter(f"{NS}rect") if r.get("fill") == "#FFC233"}
    assert lit == {"0,1,2"}


def test_blocks_refuse_what_they_cannot_show() -> None:
    with pytest.raises(einviz.EinvizError, match="up to 3 dimensions; A has 4"):
        diagrams.blocks("abcd->a", shapes=[(2, 2, 2, 2)])
    with pytest.raises(einviz.EinvizError, match=r"up to 8 cells; A has shape \(9, 2\)"):
        diagrams.blocks("ij->i", shapes=[(9, 2)])


def test_iteration_cube_lights_one_step_on_all_three_faces() -> None:
    a = np.array([[1, 2, 3], [4, 5, 6]])
    b = np.array([[1, -1], [2, 0], [0, 3]])
    cube = diagrams.iteration_cube("ij,jk->ik", a, b)
    assert cube.n_frames == 12 and cube.labels == ("i", "j", "k")
    svg = cube.frame_svg(5)  # loops i, k outside and j inside: step 5 is i=0, k=1, j=2
    lit = {(g.get("data-operand"), r.get("data-index")) for g in groups(svg, "data-operand")
           for r in g.iter(f"{NS}rect") if r.get("fill") == "#FFC233"}
    assert lit == {("out", "0,1"), ("B", "2,1"), ("A", "0,2")}
    assert [g.get("data-index") for g in groups(svg, "data-index") if g.tag == f"{NS}g"] == ["0,2,1"]
    caption = "".join(next(t for t in ElementTree.fromstring(svg).iter(f"{NS}text")
                           if t.get("class") == "einviz-caption").itertext())
    assert caption.startswith("out[i=0,k=1] += A[0,2] × B[2,1] = 3 × 3")
    front = [t.text for g in groups(svg, "data-operand") if g.get("data-operand") == "out"
             for t in g.iter(f"{NS}text")]
    assert front == [str(v).replace("-", "−") for v in (a @ b).ravel()]


def test_iteration_cube_refuses_what_is_not_a_matrix_product() -> None:
    with pytest.raises(einviz.EinvizError, match="a product of two matrices, like 'ij,jk->ik', not 'ij,ij->ij'"):
        diagrams.iteration_cube("ij,ij->ij", shapes=[(2, 3), (2, 3)])
    with pytest.raises(einviz.EinvizError, match="step 12 is out of range"):
        diagrams.iteration_cube("ij,jk->ik", shapes=[(2, 3), (3, 2)]).frame_svg(12)


# -- outputs -------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: diagrams.network("ij,jk->ik", shapes=[(2, 3), (3, 4)]),
    lambda: diagrams.contraction_tree(*CHAIN[:1], shapes=CHAIN[1]),
    lambda: diagrams.blocks("bij,bjk->bik", shapes=[(2, 2, 3), (2, 3, 2)]),
    lambda: diagrams.iteration_cube("ij,jk->ik", shapes=[(2, 3), (3, 2)]),
], ids=["network", "tree", "blocks", "cube"])
def test_every_figure_writes_svg_png_and_html(make, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    figure = make()
    ElementTree.fromstring(figure.to_svg())
    assert figure.to_png()[:8] == b"\x89PNG\r\n\x1a\n"
    assert figure.to_svg(tmp_path / "f.svg") is None and (tmp_path / "f.svg").read_text() == figure.to_svg()
    assert "<svg" in figure.to_html() and figure._repr_svg_() == figure.to_svg()


# -- exports -------------------------------------------------------------------------------------
EXPORTED = ["ij,jk->ik", "...ij,...jk->...ik", "ii,ij,jk->k", "ij->", "bhqd,bhkd->bhqk"]


def shapes_of(subscripts: str) -> list[tuple[int, ...]]:
    return [tuple(2 for _ in term.replace("...", "x")) for term in subscripts.split("->")[0].split(",")]


@pytest.mark.parametrize("subscripts", EXPORTED)
def test_tikz_compiles_with_pdflatex(subscripts: str, tmp_path: Path) -> None:
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base texlive-pictures)")
    tex = diagrams.network(subscripts, shapes=shapes_of(subscripts), names=["A_1", "B_2", "C_3"][:subscripts.count(",") + 1]
                           ).to_tikz()
    (tmp_path / "figure.tex").write_text(tex)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "figure.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "figure.pdf").read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize("subscripts", EXPORTED)
def test_dot_renders_with_graphviz(subscripts: str) -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed (apt-get install graphviz)")
    figure = diagrams.network(subscripts, shapes=shapes_of(subscripts))
    run = subprocess.run(["dot", "-Tsvg"], input=figure.to_dot(), capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and not run.stderr, run.stderr
    drawn = ElementTree.fromstring(run.stdout)
    titles = {t.text for t in drawn.iter(f"{NS}title")}
    assert {n.name for n in figure.geometry.nodes} <= titles


def test_tree_dot_renders_with_graphviz() -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed (apt-get install graphviz)")
    tree = diagrams.contraction_tree(*CHAIN[:1], shapes=CHAIN[1])
    run = subprocess.run(["dot", "-Tsvg"], input=tree.to_dot(), capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    titles = {t.text for t in ElementTree.fromstring(run.stdout).iter(f"{NS}title")}
    assert {f"{i}&#45;&gt;{s.output}" for s in tree.path.steps for i in s.inputs} <= titles or \
        {f"{i}->{s.output}" for s in tree.path.steps for i in s.inputs} <= titles


def test_the_animated_cube_lights_each_step_in_loop_order() -> None:
    cube = diagrams.iteration_cube("ij,jk->ik", shapes=[(2, 3), (3, 2)])
    root = ElementTree.fromstring(cube.animated_svg())
    frames = [g for g in root.iter(f"{NS}g") if g.get("class") == "einviz-frame"]
    assert len(frames) == cube.n_frames
    assert [f.get("opacity") for f in frames] == ["0"] * (cube.n_frames - 1) + ["1"]
    seen = []
    for frame in frames:
        (product,) = [g.get("data-index") for g in frame.iter(f"{NS}g") if g.get("class") == "einviz-product"]
        seen.append(tuple(int(v) for v in product.split(",")))
        assert {r.get("data-operand") for r in frame.iter(f"{NS}polygon") if r.get("data-operand")} == {"out", "A", "B"}
    # i and k outside, j inside: j moves fastest.
    assert seen == [(i, j, k) for i in range(2) for k in range(2) for j in range(3)]


def test_views_by_name_and_an_unknown_one() -> None:
    assert isinstance(diagrams.view("network", "ij,jk->ik", shapes=[(2, 3), (3, 4)]), diagrams.NetworkDiagram)
    assert isinstance(diagrams.view("blocks", "ij->i", shapes=[(2, 3)]), diagrams.BlocksDiagram)
    with pytest.raises(einviz.EinvizError, match="unknown view 'grid'"):
        diagrams.view("grid", "ij->i", shapes=[(2, 3)])


def test_the_network_svg_has_the_players_hook_and_its_own_prefix() -> None:
    svg = diagrams.NetworkDiagram(einviz.plan("ij,jk->ik", shapes=[(2, 3), (3, 4)]), prefix="p7").to_svg()
    root = ElementTree.fromstring(svg)
    assert root.get("id") == "p7" and "#p7 g.einviz-line.einviz-on>path" in svg


# -- the command: --view ---------------------------------------------------------------------
@pytest.mark.parametrize("view, subscripts, marker", [
    ("network", "ij,jk,kl->il", 'data-node="out"'),
    ("tree", "ij,jk,kl->il", "T1"),
    ("blocks", "bij,bjk->bik", "<svg"),
    ("cube", "ij,jk->ik", "<svg"),
])
def test_the_command_draws_each_view(tmp_path, capsys, view, subscripts, marker):
    from einviz.cli import main

    target = tmp_path / f"{view}.svg"
    assert main([subscripts, "--view", view, "-q", "-o", str(target)]) == 0
    assert marker in target.read_text(encoding="utf-8")


def test_the_command_refuses_a_view_it_cannot_draw(tmp_path, capsys):
    from einviz.cli import main

    assert main(["ij,jk,kl->il", "--view", "cube", "-o", str(tmp_path / "c.svg")]) == 2
    assert "the iteration cube draws a product of two matrices" in capsys.readouterr().err
    assert main(["ij,jk->ik", "--view", "network", "-o", str(tmp_path / "n.gif")]) == 2
    assert "the network view is drawn as .svg, .png or .html, not .gif" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_cubes_caption_writes_each_operands_cell_in_its_own_axes_order():
    # 'ji,kj->ik': A is indexed A[j,i] and B is B[k,j]; the cube itself stands i × j × k.
    a, b = np.arange(6).reshape(2, 3), np.arange(8).reshape(4, 2)   # j=2, i=3, k=4
    cube = diagrams.iteration_cube("ji,kj->ik", a, b)
    svg = cube.frame_svg(cube.n_frames - 1)   # i=2, k=3, j=1
    assert f"out[i=2,k=3] += A[1,2] × B[3,1] = {a[1, 2]} × {b[3, 1]}" in svg
