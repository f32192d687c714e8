"""The tensor-network diagram: its lines from the terms, its layout, and its SVG data contract."""

from __future__ import annotations

import itertools
from xml.etree import ElementTree

import pytest
from corpus import CORPUS, IDS

import einviz
from einviz.diagrams import network
from einviz.render import network as net

NS = "{http://www.w3.org/2000/svg}"


def contract(svg: str) -> tuple[set[str], list[dict[str, str]]]:
    """The nodes (``data-node``) and the lines (their ``data-*``) an SVG declares."""
    root = ElementTree.fromstring(svg)
    nodes = {g.get("data-node") for g in root.iter(f"{NS}g") if g.get("data-node")}
    lines = [{k[5:]: v for k, v in g.attrib.items() if k.startswith("data-")}
             for g in root.iter(f"{NS}g") if g.get("data-kind")]
    return nodes, lines


@pytest.mark.parametrize("case", IDS)
def test_svg_contract_holds_for_the_corpus(case: str) -> None:
    subscripts, shapes = CORPUS[case]
    loop_plan = einviz.plan(subscripts, shapes=shapes)
    nodes, lines = contract(network(subscripts, shapes=shapes).to_svg())
    operands = set(loop_plan.names)
    assert operands <= nodes <= operands | {"out"}
    assert ("out" in nodes) == bool(loop_plan.output)
    for line in lines:
        ends = line["ends"].split(",")
        assert line["kind"] in net.KINDS and set(ends) <= nodes
        assert ("out" in ends) == (line["kind"] == "free" or (line["kind"] == "hyper" and "out" in ends))
        if line["kind"] == "loop":
            assert len(ends) == 2 and ends[0] == ends[1]
        if line["kind"] == "hyper":
            assert len(ends) >= 3
        if line["label"] != "...":
            holders = {n for n, term in zip(loop_plan.names, loop_plan.equation.terms) if line["label"] in term}
            assert set(ends) - {"out"} == holders
    drawn = {line["label"] for line in lines}
    assert set(loop_plan.equation.labels) <= drawn
    assert ("..." in drawn) == bool(loop_plan.ellipsis)


@pytest.mark.parametrize(("subscripts", "shapes", "expected"), [
    ("ij,jk->ik", [(2, 3), (3, 4)], {("i", "free", "A,out"), ("j", "summed", "A,B"), ("k", "free", "B,out")}),
    ("ij,ij->ij", [(2, 3), (2, 3)], {("i", "hyper", "A,B,out"), ("j", "hyper", "A,B,out")}),
    ("ii->", [(3, 3)], {("i", "loop", "A,A")}),
    ("ii->i", [(3, 3)], {("i", "loop", "A,A"), ("i", "free", "A,out")}),
    ("ij->", [(2, 3)], {("i", "summed", "A"), ("j", "summed", "A")}),
    ("...ij,...jk->...ik", [(5, 2, 3), (5, 3, 4)],
     {("...", "hyper", "A,B,out"), ("i", "free", "A,out"), ("j", "summed", "A,B"), ("k", "free", "B,out")}),
])
def test_each_kind_of_line(subscripts: str, shapes: list[tuple[int, ...]], expected: set[tuple[str, str, str]]) -> None:
    _, lines = contract(network(subscripts, shapes=shapes).to_svg())
    assert {(line["label"], line["kind"], line["ends"]) for line in lines} == expected


def test_sizes_are_written_on_the_lines() -> None:
    figure = network("...ij,...jk->...ik", shapes=[(5, 2, 3), (5, 3, 4)])
    assert {c.label: c.size for c in figure.connections} == {"...": "5", "i": "2", "j": "3", "k": "4"}
    assert "=3" in figure.to_svg()


def crossings(figure: einviz.diagrams.NetworkDiagram) -> int:
    at = {node.name: (node.x, node.y) for node in figure.geometry.nodes}
    links = [line.connection.ends for line in figure.geometry.lines if len(set(line.connection.ends)) > 1]
    return net._score(links, at)[0]


@pytest.mark.parametrize("subscripts", [
    "ab,bc,cd,de->ae",                       # a chain
    "ab,bc,cd,de,ef,fg,gh,ha->",             # a ring of eight
    "ij,jk,ki,il->l",                        # a triangle with a tail
    "abc,ade,bdf,cef->",                     # K4: only a node at the hub draws it uncrossed
    "bhqd,bhkd,bhkv->bhqv",                  # attention, hyperedges
])
def test_no_crossing_where_one_exists(subscripts: str) -> None:
    shapes = [(2,) * len(term) for term in subscripts.split("->")[0].split(",")]
    assert crossings(network(subscripts, shapes=shapes)) == 0


def test_the_search_finds_fewer_crossings_than_the_operands_order() -> None:
    # In the given order on a ring, A-C and B-D cross; the search reorders them.
    links = [("A", "C"), ("B", "D"), ("A", "B"), ("C", "D")]
    ring = dict(zip("ABCD", net._ring(4, 100)))
    assert net._score(links, ring)[0] == 1
    assert net._score(links, net.place(list("ABCD"), links))[0] == 0


@pytest.mark.parametrize("count", range(1, 9))
def test_nodes_never_overlap_up_to_eight_operands(count: int) -> None:
    letters = "abcdefghijklmnop"
    # Every operand bonded to the next and to the one after (a dense band), one free leg.
    terms = [letters[k] + letters[k + 1] + letters[(k + 2) % 16] for k in range(count)]
    subscripts = ",".join(terms) + "->a"
    figure = network(subscripts, shapes=[(2, 2, 2)] * count)
    boxes = [(n.x - n.width / 2, n.y - 20, n.x + n.width / 2, n.y + 20) for n in figure.geometry.nodes]
    for a, b in itertools.combinations(boxes, 2):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_a_lit_label_is_marked_and_drawn_on_top() -> None:
    root = ElementTree.fromstring(network("ij,jk->ik", shapes=[(2, 3), (3, 4)], lit="j").to_svg())
    groups = [g for g in root.iter(f"{NS}g") if g.get("data-kind")]
    assert [g.get("data-label") for g in groups if "einviz-lit" in g.get("class", "")] == ["j"]
    assert groups[-1].get("data-label") == "j"


def test_the_colours_are_the_grids_colours() -> None:
    from einviz.render.palette import label_colours

    figure = network("bij,bjk->bik", shapes=[(2, 2, 3), (2, 3, 2)])
    assert figure.geometry.colours == label_colours("bijk")


def test_too_many_operands_are_refused() -> None:
    subscripts = ",".join("a" for _ in range(13)) + "->a"
    with pytest.raises(einviz.EinvizError, match="at most 12 operands, not 13"):
        network(subscripts, shapes=[(2,)] * 13)


def test_bad_subscripts_raise_einviz_errors() -> None:
    with pytest.raises(einviz.SubscriptError):
        network("ij,jk->iq", shapes=[(2, 3), (3, 4)])
    with pytest.raises(einviz.ShapeError, match="label 'j'"):
        network("ij,jk->ik", shapes=[(2, 3), (4, 4)])


def test_the_moving_loop_variable_is_the_outermost_that_changed() -> None:
    from einviz.diagrams import loop_values, moving_label

    loop_plan = einviz.plan("ij,jk->ik", shapes=[(2, 3), (3, 2)])
    steps = [loop_values(loop_plan, t) for t in range(loop_plan.n_steps)]
    assert steps[0] == {"i": 0, "k": 0, "j": 0} and steps[-1] == {"i": 1, "k": 1, "j": 2}
    assert len({tuple(s.values()) for s in steps}) == loop_plan.n_steps
    for t in range(1, loop_plan.n_steps):
        changed = [label for label in loop_plan.labels if steps[t][label] != steps[t - 1][label]]
        assert moving_label(loop_plan, t) == changed[0]
    assert [moving_label(loop_plan, t) for t in (1, 3, 6)] == ["j", "k", "i"]


def test_the_animated_network_lights_the_moving_line_in_each_frame() -> None:
    from einviz.diagrams import moving_label

    figure = network("ij,jk->ik", shapes=[(2, 3), (3, 2)])
    root = ElementTree.fromstring(figure.animated_svg(max_frames=7))
    frames = [g for g in root.iter(f"{NS}g") if g.get("class") == "einviz-frame"]
    assert len(frames) == 7
    for t, frame in enumerate(frames):
        lit = [g.get("data-label") for g in frame.iter(f"{NS}g") if "einviz-lit" in g.get("class", "")
               and g.get("data-label")]
        assert lit == ([moving_label(figure.plan, t)] if t else [])
