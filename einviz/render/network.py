"""The tensor-network (Penrose) diagram of an einsum: geometry as data, then SVG.

Each operand is a node and each label a line in its colour: a label two arrays share is a
bond between them (summed when the output lacks it), a free label is an open leg to the
output node ``out``, a label in three or more arrays is a hyperedge (a dot joining its legs),
a label repeated inside one term is a loop on its node, and a label summed inside a single
operand is a short capped stub. The dimensions that ``...`` stands for travel together as one
bundle (a double line) labelled ``...``.

:func:`connections` finds the lines from the terms alone, :func:`place` finds node positions
(a brute-force search of the orders on a ring, and of one node at the hub, for the fewest
crossings and then the shortest lines), :func:`draw` turns both into :class:`Network`
geometry, and :func:`network_svg` writes it. The SVG carries its data: every node is a
``<g data-node="A">`` and every line a ``<g data-label="j" data-kind="summed"
data-ends="A,B">`` (kinds: ``summed``, ``free``, ``hyper``, ``loop``). :func:`network_document`
can add, for each step of an animation, a hidden ``<g class="einviz-step">`` of the lines it
lights (:class:`NetworkStep`), for :mod:`einviz.render.panel`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .palette import INK, MUTED, label_colours
from .svg import _Document, _Element, _n
from .text import sans_width

__all__ = ["KINDS", "Connection", "Line", "Network", "NetworkStep", "Node", "connections", "draw", "loop_values",
           "moving_label", "network_body", "network_document", "network_geometry", "network_parts", "network_svg", "place",
           "plan_colours", "term_text"]

if TYPE_CHECKING:
    from ..planning import LoopPlan

#: The kinds of line, as ``data-kind`` names them.
KINDS = ("summed", "free", "hyper", "loop")
#: The name of the output node.
OUT = "out"
#: The label standing for every dimension of ``...``.
BUNDLE = "..."
_SANS = "'DejaVu Sans', sans-serif"
_NODE_H = 40.0
_REACH = 24.0  # how far from a node's centre its loops and stubs start
_SPREAD = 26.0  # the gap between parallel lines at their middle
_MOST_ORDERS = 6000  # layouts tried exhaustively; beyond, pairwise swaps improve one order


@dataclass(frozen=True)
class Connection:
    """One line of the diagram before it is placed: a label and the nodes it joins.

    Attributes:
        label: the label (``"..."`` for the bundle of the ellipsis' dimensions).
        kind: ``summed``, ``free``, ``hyper`` or ``loop``.
        ends: the names of the nodes it joins (one name for a loop or a stub).
        size: the label's size as text (``"2×3"`` for a bundle).
    """

    label: str
    kind: str
    ends: tuple[str, ...]
    size: str


@dataclass(frozen=True)
class Node:
    """A node of the drawing: an operand or the output, a box centred on ``(x, y)``."""

    name: str
    x: float
    y: float
    width: float
    shape: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Line:
    """A drawn line: its connection, its SVG path(s), where its label sits, a junction dot."""

    connection: Connection
    paths: tuple[str, ...]
    text_at: tuple[float, float]
    dot: tuple[float, float] | None = None
    lit: bool = False


@dataclass(frozen=True)
class Network:
    """The diagram's geometry: nodes and lines, inside ``(left, top, width, height)``."""

    nodes: tuple[Node, ...]
    lines: tuple[Line, ...]
    colours: Mapping[str, str]
    box: tuple[float, float, float, float]
    lit_nodes: tuple[str, ...] = ()


def _size_text(labels: Sequence[str], sizes: Mapping[str, int]) -> str:
    return "×".join(str(sizes[label]) for label in labels) if labels else "1"


def connections(
    terms: Sequence[Sequence[str]],
    names: Sequence[str],
    output: Sequence[str],
    sizes: Mapping[str, int],
    ellipsis: Sequence[str] = (),
) -> list[Connection]:
    """The lines of the diagram, from the terms (the ellipsis' labels listed in ``ellipsis``).

    >>> [(c.label, c.kind, c.ends) for c in connections(
    ...     [("i", "j"), ("j", "k")], ["A", "B"], ("i", "k"), {"i": 2, "j": 3, "k": 4})]
    [('i', 'free', ('A', 'out')), ('j', 'summed', ('A', 'B')), ('k', 'free', ('B', 'out'))]
    """
    bundle = set(ellipsis)

    def shown(label: str) -> str:
        return BUNDLE if label in bundle else label

    order = list(dict.fromkeys(shown(label) for term in terms for label in term))
    kept = {shown(label) for label in output}
    found: list[Connection] = []
    for label in order:
        members = list(ellipsis) if label == BUNDLE else [label]
        size = _size_text(members, sizes)
        counts = [max((list(term).count(m) for m in members), default=0) for term in terms]
        holders = [names[k] for k, count in enumerate(counts) if count]
        found += [Connection(label, "loop", (names[k], names[k]), size)
                  for k, count in enumerate(counts) if count >= 2 and label != BUNDLE]
        ends = tuple(holders) + ((OUT,) if label in kept else ())
        if len(ends) == 1 and counts[names.index(ends[0])] == 1:
            found.append(Connection(label, "summed", ends, size))
        elif len(ends) == 2:
            found.append(Connection(label, "free" if OUT in ends else "summed", ends, size))
        elif len(ends) > 2:
            found.append(Connection(label, "hyper", ends, size))
    return found


# -- from a plan -------------------------------------------------------------------------------
def plan_colours(loop_plan: LoopPlan) -> dict[str, str]:
    """The grids' colours (the equation's labels, then the ellipsis' dims); ``...`` takes the
    colour of its first dimension."""
    colours = label_colours(loop_plan.equation.labels + loop_plan.ellipsis)
    if loop_plan.ellipsis:
        colours[BUNDLE] = colours[loop_plan.ellipsis[0]]
    return colours


def term_text(term: Sequence[str]) -> str:
    return "".join(term) if term else "()"


def network_geometry(loop_plan: LoopPlan, lit: Sequence[str] = ()) -> Network:
    """The network diagram's geometry for a plan (the labels in ``lit`` drawn lit).

    >>> from einviz import plan
    >>> g = network_geometry(plan("ii->", shapes=[(3, 3)]))
    >>> [(line.connection.kind, line.connection.ends) for line in g.lines]
    [('loop', ('A', 'A'))]
    """
    conns, nodes, at = network_parts(loop_plan)
    return draw(conns, nodes, at, plan_colours(loop_plan), lit)


def network_parts(loop_plan: LoopPlan) -> tuple[list[Connection], dict[str, tuple[str, tuple[str, ...]]],
                                                  dict[str, tuple[float, float]]]:
    """The network's lines, nodes (name -> (term text, labels)) and node positions."""
    conns = connections(loop_plan.terms, loop_plan.names, loop_plan.output, loop_plan.sizes,
                            loop_plan.ellipsis)
    nodes = {name: (term_text(term), tuple(term))
             for name, term in zip(loop_plan.names, loop_plan.equation.terms)}
    if any(OUT in c.ends for c in conns):
        nodes[OUT] = (term_text(loop_plan.equation.output), loop_plan.equation.output)
    return conns, nodes, place(list(nodes), [c.ends for c in conns])


def loop_values(loop_plan: LoopPlan, step: int) -> dict[str, int]:
    """The loop variables' values at a step (the loops run in ``plan.labels`` order, the
    last label innermost).

    >>> from einviz import plan
    >>> loop_values(plan("ij,jk->ik", shapes=[(2, 3), (3, 4)]), 5)
    {'i': 0, 'k': 1, 'j': 2}
    """
    values: dict[str, int] = {}
    for label in reversed(loop_plan.labels):
        step, values[label] = divmod(step, loop_plan.sizes[label])
    return {label: values[label] for label in loop_plan.labels}


def moving_label(loop_plan: LoopPlan, step: int) -> str | None:
    """The loop variable that moves into ``step``: the outermost whose value changed since
    the step before (``None`` at step 0). Its line is the one the network view lights.

    >>> from einviz import plan
    >>> p = plan("ij,jk->ik", shapes=[(2, 3), (3, 4)])
    >>> [moving_label(p, t) for t in range(5)]
    [None, 'j', 'j', 'k', 'j']
    """
    if step <= 0:
        return None
    before, now = loop_values(loop_plan, step - 1), loop_values(loop_plan, step)
    return next(label for label in loop_plan.labels if before[label] != now[label])


# -- placing the nodes -------------------------------------------------------------------------
def _cross(p: tuple[float, float], q: tuple[float, float],
           r: tuple[float, float], s: tuple[float, float]) -> bool:
    """Whether segments pq and rs cross at a point inside both (touching ends do not count)."""
    def side(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    d1, d2, d3, d4 = side(r, s, p), side(r, s, q), side(p, q, r), side(p, q, s)
    return d1 * d2 < -1e-9 and d3 * d4 < -1e-9


def _segments(links: Sequence[tuple[str, ...]], at: Mapping[str, tuple[float, float]]
              ) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    segments = []
    for ends in links:
        if len(ends) == 2:
            segments.append((at[ends[0]], at[ends[1]]))
        else:
            centre = _centroid([at[e] for e in ends])
            segments += [(centre, at[e]) for e in ends]
    return segments


def _score(links: Sequence[tuple[str, ...]], at: Mapping[str, tuple[float, float]]) -> tuple[int, float]:
    """(crossings, total length) of the straight lines between the placed nodes."""
    segments = _segments(links, at)
    crossings = sum(_cross(*a, *b) for a, b in itertools.combinations(segments, 2))
    # Rounded, so mirror images tie and the first order tried (the operands' own) wins.
    return crossings, round(sum(math.dist(p, q) for p, q in segments))


def _centroid(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _ring(count: int, radius: float) -> list[tuple[float, float]]:
    """``count`` slots on a circle, the first at the bottom, going clockwise."""
    return [(radius * math.sin(-2 * math.pi * k / count), radius * math.cos(2 * math.pi * k / count))
            for k in range(count)]


def place(nodes: Sequence[str], links: Sequence[tuple[str, ...]]) -> dict[str, tuple[float, float]]:
    """Positions for the nodes: no crossing where the search finds one, then short lines.

    The output (if among ``nodes``) sits at the bottom of a ring; the others take every
    order around the ring, and every choice of one node at the hub (for networks, such as
    three arrays bonded in a triangle that all feed the output, no ring draws uncrossed).

    >>> at = place(["A", "B", "out"], [("A", "B"), ("A", "out"), ("B", "out")])
    >>> sorted(at) == ["A", "B", "out"] and at["out"][1] > at["A"][1]
    True
    """
    nodes = list(nodes)
    if len(nodes) == 1:
        return {nodes[0]: (0.0, 0.0)}
    if len(nodes) == 2:
        return {nodes[0]: (-110.0, 0.0), nodes[1]: (110.0, 0.0)}
    links = [ends for ends in links if len(set(ends)) > 1]
    fixed = [OUT] if OUT in nodes else []
    others = [n for n in nodes if n not in fixed]
    best: tuple[tuple[int, bool, float], dict[str, tuple[float, float]]] | None = None
    hubs = [None, *others] if len(nodes) >= 4 else [None]
    for hub in hubs:
        rest = [n for n in others if n != hub]
        slots = _ring(len(fixed) + len(rest), _radius(len(fixed) + len(rest)))
        for order in _orders(rest, fixed, slots, links, hub, _MOST_ORDERS // len(hubs)):
            at = dict(zip(fixed + list(order), slots))
            if hub is not None:
                at[hub] = (0.0, 0.0)
            crossings, length = _score(links, at)
            # A node at the hub crowds the middle: only worth it when it saves a crossing.
            score = (crossings, hub is not None, length)
            if best is None or score < best[0]:
                best = (score, at)
    assert best is not None
    return best[1]


def _orders(rest: list[str], fixed: list[str], slots: list[tuple[float, float]],
            links: Sequence[tuple[str, ...]], hub: str | None, budget: int) -> list[tuple[str, ...]]:
    """Every order of ``rest`` on the ring, or, when there are more than ``budget``, one
    order improved by swapping pairs while that removes crossings or shortens lines."""
    if math.factorial(len(rest)) <= budget:
        return list(itertools.permutations(rest))
    order = list(rest)

    def score(candidate: list[str]) -> tuple[int, float]:
        at = dict(zip(fixed + candidate, slots))
        if hub is not None:
            at[hub] = (0.0, 0.0)
        return _score(links, at)

    current = score(order)
    improved = True
    while improved:
        improved = False
        for a, b in itertools.combinations(range(len(order)), 2):
            order[a], order[b] = order[b], order[a]
            trial = score(order)
            if trial < current:
                current, improved = trial, True
            else:
                order[a], order[b] = order[b], order[a]
    return [tuple(order)]


def _radius(count: int) -> float:
    # Neighbours on the ring stay far enough apart for two boxes and a label between them.
    return max(105.0, 125.0 / (2 * math.sin(math.pi / count)))


# -- drawing -----------------------------------------------------------------------------------
def _unit(angle: float) -> tuple[float, float]:
    return (math.cos(angle), math.sin(angle))


def _plus(p: tuple[float, float], d: tuple[float, float], k: float) -> tuple[float, float]:
    return (p[0] + k * d[0], p[1] + k * d[1])


def _free_directions(here: tuple[float, float], towards: Sequence[tuple[float, float]],
                     count: int) -> list[float]:
    """Angles for ``count`` loops or stubs at a node: spread in the widest gap between the
    directions its other lines leave in."""
    angles = sorted(math.atan2(p[1] - here[1], p[0] - here[0]) for p in towards
                    if math.dist(p, here) > 1e-6)
    if not angles:
        middle, gap = -math.pi / 2, 2 * math.pi
    else:
        gaps = [((angles[(k + 1) % len(angles)] - a) % (2 * math.pi) or 2 * math.pi, a)
                for k, a in enumerate(angles)]
        gap, start = max(gaps)
        middle = start + gap / 2
    step = min(gap / (count + 1), math.radians(55))
    return [middle + (k - (count - 1) / 2) * step for k in range(count)]


def _pair_line(c: Connection, p: tuple[float, float], q: tuple[float, float],
               k: int, m: int) -> tuple[str, tuple[float, float]]:
    """A bond or leg between two nodes: straight when alone, else the k-th of m arcs."""
    offset = (k - (m - 1) / 2) * _SPREAD * 2
    length = math.dist(p, q) or 1.0
    normal = ((q[1] - p[1]) / length, -(q[0] - p[0]) / length)
    mid = ((p[0] + q[0]) / 2, (p[1] + q[1]) / 2)
    if offset == 0:
        return f"M{_n(p[0])},{_n(p[1])} L{_n(q[0])},{_n(q[1])}", mid
    control = _plus(mid, normal, offset)
    path = f"M{_n(p[0])},{_n(p[1])} Q{_n(control[0])},{_n(control[1])} {_n(q[0])},{_n(q[1])}"
    return path, _plus(mid, normal, offset / 2)


def _loop_path(at: tuple[float, float], angle: float) -> tuple[str, tuple[float, float]]:
    a, b = _plus(at, _unit(angle - 0.35), _REACH), _plus(at, _unit(angle + 0.35), _REACH)
    c1, c2 = _plus(at, _unit(angle - 0.6), _REACH + 62), _plus(at, _unit(angle + 0.6), _REACH + 62)
    path = (f"M{_n(a[0])},{_n(a[1])} C{_n(c1[0])},{_n(c1[1])} {_n(c2[0])},{_n(c2[1])} "
            f"{_n(b[0])},{_n(b[1])}")
    return path, _plus(at, _unit(angle), _REACH + 60)


def _stub_path(at: tuple[float, float], angle: float) -> tuple[str, tuple[float, float]]:
    """A label summed inside one operand: a short leg capped by a bar (summed against ones)."""
    d = _unit(angle)
    end = _plus(at, d, _REACH + 30)
    across = (-d[1], d[0])
    b1, b2 = _plus(end, across, 7), _plus(end, across, -7)
    path = (f"M{_n(at[0])},{_n(at[1])} L{_n(end[0])},{_n(end[1])} "
            f"M{_n(b1[0])},{_n(b1[1])} L{_n(b2[0])},{_n(b2[1])}")
    return path, _plus(at, d, _REACH + 46)


def _hub_dots(conns: Sequence[Connection], at: Mapping[str, tuple[float, float]]
              ) -> dict[int, tuple[float, float]]:
    """Where each hyperedge's dot sits: its ends' centroid, pushed clear of the nodes; dots
    of hyperedges with the same ends side by side."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for k, c in enumerate(conns):
        if c.kind == "hyper":
            groups.setdefault(tuple(sorted(c.ends)), []).append(k)
    dots: dict[int, tuple[float, float]] = {}
    for ends, members in groups.items():
        centre = _centroid([at[e] for e in ends])
        nearest = min(at.values(), key=lambda p: math.dist(p, centre))
        if math.dist(nearest, centre) < 40:
            away = (centre[0] - nearest[0], centre[1] - nearest[1])
            norm = math.hypot(*away)
            direction = (away[0] / norm, away[1] / norm) if norm > 1e-6 else (0.0, -1.0)
            centre = _plus(nearest, direction, 48)
        for j, k in enumerate(members):
            dots[k] = (centre[0] + (j - (len(members) - 1) / 2) * 44, centre[1])
    return dots


def draw(
    conns: Sequence[Connection],
    nodes: Mapping[str, tuple[str, tuple[str, ...]]],
    at: Mapping[str, tuple[float, float]],
    colours: Mapping[str, str],
    lit: Sequence[str] = (),
) -> Network:
    """The diagram's geometry from its connections, its nodes (name -> (shape text, labels))
    and their positions; the labels in ``lit`` are drawn lit."""
    dots = _hub_dots(conns, at)
    pairs: dict[frozenset[str], list[int]] = {}
    for k, c in enumerate(conns):
        if len(c.ends) == 2 and c.kind != "loop":
            pairs.setdefault(frozenset(c.ends), []).append(k)
    neighbours: dict[str, list[tuple[float, float]]] = {name: [] for name in nodes}
    for k, c in enumerate(conns):
        if c.kind == "hyper":
            for e in c.ends:
                neighbours[e].append(dots[k])
        elif len(c.ends) == 2 and c.kind != "loop":
            neighbours[c.ends[0]].append(at[c.ends[1]])
            neighbours[c.ends[1]].append(at[c.ends[0]])
    own = {name: [k for k, c in enumerate(conns) if len(set(c.ends)) == 1 and c.ends[0] == name]
           for name in nodes}
    spots: dict[int, float] = {}
    for name, ks in own.items():
        spots.update(zip(ks, _free_directions(at[name], neighbours[name], len(ks))))
    lines = []
    for k, c in enumerate(conns):
        if c.kind == "hyper":
            continue
        if k in spots:
            maker = _loop_path if c.kind == "loop" else _stub_path
            path, text_at = maker(at[c.ends[0]], spots[k])
            lines.append(Line(c, (path,), text_at, None, c.label in lit))
        else:
            group = pairs[frozenset(c.ends)]
            path, text_at = _pair_line(c, at[c.ends[0]], at[c.ends[1]], group.index(k), len(group))
            lines.append(Line(c, (path,), text_at, None, c.label in lit))
    boxes = tuple(Node(name, *at[name], _node_width(name, shape), shape, labels)
                  for name, (shape, labels) in nodes.items())
    taken = [_label_box(line.connection, line.text_at) for line in lines]
    taken += [(b.x - b.width / 2, b.y - _NODE_H / 2, b.x + b.width / 2, b.y + _NODE_H / 2) for b in boxes]
    for k, c in enumerate(conns):
        if c.kind == "hyper":
            dot = dots[k]
            paths = tuple(f"M{_n(dot[0])},{_n(dot[1])} L{_n(at[e][0])},{_n(at[e][1])}" for e in c.ends)
            text_at = _dot_label(c, dot, [at[e] for e in c.ends], taken)
            taken.append(_label_box(c, text_at))
            lines.append(Line(c, paths, text_at, dot, c.label in lit))
    return Network(boxes, tuple(lines), dict(colours), _bounds(boxes, lines))


def _label_box(c: Connection, at: tuple[float, float]) -> tuple[float, float, float, float]:
    half = _label_width(c) / 2
    return (at[0] - half, at[1] - 9, at[0] + half, at[1] + 8)


def _dot_label(c: Connection, dot: tuple[float, float], ends: Sequence[tuple[float, float]],
               taken: Sequence[tuple[float, float, float, float]]) -> tuple[float, float]:
    """Where a hyperedge's label goes: in the widest gap between its legs, turned further
    round (and out) until it overlaps no label or node already placed."""
    (angle,) = _free_directions(dot, ends, 1)
    tries = [(angle + turn * math.radians(22), reach) for reach in (22.0, 34.0)
             for turn in (0, 1, -1, 2, -2, 3, -3)]
    for a, reach in tries:
        spot = _plus(dot, _unit(a), reach)
        box = _label_box(c, spot)
        if not any(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3] for t in taken):
            return spot
    return _plus(dot, _unit(angle), 22)


def _node_width(name: str, shape: str) -> float:
    return max(46.0, sans_width(name, 15, True) + 20, sans_width(shape, 11) + 14)


def _label_width(c: Connection) -> float:
    return sans_width(c.label, 14, True) + sans_width("=" + c.size, 11) + 6


def _bounds(nodes: Sequence[Node], lines: Sequence[Line]) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []
    for node in nodes:
        xs += [node.x - node.width / 2, node.x + node.width / 2]
        ys += [node.y - _NODE_H / 2, node.y + _NODE_H / 2]
    for line in lines:
        half = _label_width(line.connection) / 2
        xs += [line.text_at[0] - half, line.text_at[0] + half]
        ys += [line.text_at[1] - 12, line.text_at[1] + 8]
        for path in line.paths:
            numbers = [float(v) for v in path.replace("M", " ").replace("L", " ").replace("Q", " ")
                       .replace("C", " ").replace(",", " ").split()]
            xs += numbers[0::2]
            ys += numbers[1::2]
    return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


# -- SVG -----------------------------------------------------------------------------------------
_MARGIN = 18.0
_TITLE = 30.0
_LEGEND = 26.0
_WORDS = {"summed": "bond: summed", "stub": "bar: summed in one array", "free": "leg to out: free",
          "hyper": "dot: in 3+ arrays",
          "loop": "loop: repeated in a term"}


def _coloured(parent: _Element, text: str, colours: Mapping[str, str]) -> None:
    """Add ``text`` to ``parent`` with each label letter (and ``...``) in its colour, bold."""
    k = 0
    while k < len(text):
        token = BUNDLE if text.startswith(BUNDLE, k) else text[k]
        if token in colours:
            parent.add(_Element("tspan", fill=colours[token], font_weight="bold")).add_text(token)
        else:
            parent.add(_Element("tspan")).add_text(token)
        k += len(token)


def _line_group(line: Line, colour: str) -> _Element:
    c = line.connection
    group = _Element("g", class_="einviz-line" + (" einviz-lit" if line.lit else ""),
                     **{"data-label": c.label, "data-kind": c.kind, "data-ends": ",".join(c.ends)})
    width = 2.4 if c.label != BUNDLE else 6.5
    for path in line.paths:
        if line.lit:
            group.add(_Element("path", d=path, fill="none", stroke="#FFC233", stroke_width=width + 7,
                               stroke_linecap="round"))
        group.add(_Element("path", d=path, fill="none", stroke=colour,
                           stroke_width=width + (1.6 if line.lit else 0), stroke_linecap="round"))
        if c.label == BUNDLE:
            group.add(_Element("path", d=path, fill="none", stroke="#FFFFFF", stroke_width=2.2))
    if line.dot is not None:
        group.add(_Element("circle", cx=_n(line.dot[0]), cy=_n(line.dot[1]), r=5.5, fill=colour,
                           stroke="#FFFFFF", stroke_width=1.5))
    text = group.add(_Element("text", x=_n(line.text_at[0]), y=_n(line.text_at[1] + 5),
                              text_anchor="middle", font_size=14, stroke="#FFFFFF",
                              stroke_width=4, paint_order="stroke", stroke_linejoin="round"))
    text.add(_Element("tspan", fill=colour, font_weight="bold")).add_text(c.label)
    text.add(_Element("tspan", fill=MUTED, font_size=11)).add_text("=" + c.size)
    return group


def _node_group(node: Node, colours: Mapping[str, str], lit: bool) -> _Element:
    group = _Element("g", class_="einviz-node" + (" einviz-lit" if lit else ""), **{"data-node": node.name})
    output = node.name == OUT
    group.add(_Element("rect", x=_n(node.x - node.width / 2), y=_n(node.y - _NODE_H / 2),
                       width=_n(node.width), height=_n(_NODE_H), rx=9,
                       fill="#FFE3A3" if lit else "#F3F4F6" if output else "#FFFFFF",
                       stroke=INK, stroke_width=2.4 if lit else 1.6,
                       stroke_dasharray="5 3" if output else None))
    group.add(_Element("text", x=_n(node.x), y=_n(node.y - 1), text_anchor="middle",
                       font_size=15, font_weight="bold", fill=INK)).add_text(node.name)
    shape = group.add(_Element("text", x=_n(node.x), y=_n(node.y + 14), text_anchor="middle",
                               font_size=11, fill=MUTED))
    _coloured(shape, node.shape, colours)
    return group


@dataclass(frozen=True)
class NetworkStep:
    """What one step lights on the diagram: the lines of ``labels``, and a caption (the loop
    variables' values); its group is ``<g class="einviz-step" data-step="step">``."""

    step: int
    labels: tuple[str, ...]
    caption: tuple[tuple[str, str], ...] = ()


def network_body(network: Network, transform: str | None = None, steps: Sequence[NetworkStep] = (),
                 caption_at: tuple[float, float] = (0.0, 0.0)) -> _Element:
    """The drawing's ``<g>``: lines (lit ones last, on top), each step's lit lines (hidden
    groups, see :class:`NetworkStep`), then the nodes over them."""
    body = _Element("g", class_="einviz-network", transform=transform)
    lines = body.add(_Element("g", class_="einviz-lines"))
    for line in sorted(network.lines, key=lambda item: item.lit):
        lines.add(_line_group(line, network.colours.get(line.connection.label, INK)))
    if steps:
        layer = body.add(_Element("g", class_="einviz-steps"))
        for step in steps:
            group = layer.add(_Element("g", class_="einviz-step", **{"data-step": str(step.step)}))
            for line in network.lines:
                if line.connection.label in step.labels:
                    group.add(_line_group(replace(line, lit=True),
                                          network.colours.get(line.connection.label, INK)))
            if step.caption:
                text = group.add(_Element("text", x=_n(caption_at[0]), y=_n(caption_at[1]), font_size=13,
                                          fill=INK, class_="einviz-caption"))
                for k, (label, value) in enumerate(step.caption):
                    text.add(_Element("tspan", fill=MUTED)).add_text(", " if k else "")
                    text.add(_Element("tspan", fill=network.colours.get(label, INK),
                                      font_weight="bold")).add_text(label)
                    text.add(_Element("tspan")).add_text(f" = {value}")
    nodes = body.add(_Element("g", class_="einviz-nodes"))
    for node in network.nodes:
        nodes.add(_node_group(node, network.colours, node.name in network.lit_nodes))
    return body


def network_svg(network: Network, title: str = "", prefix: str = "einviz-net",
                legend: bool = True) -> str:
    """The diagram as a self-contained SVG: lines under nodes, a coloured title, a legend.

    >>> conns = connections([("i", "j"), ("j",)], ["A", "B"], ("i",), {"i": 2, "j": 3})
    >>> at = place(["A", "B", "out"], [c.ends for c in conns])
    >>> svg = network_svg(draw(conns, {"A": ("ij", ()), "B": ("j", ()), "out": ("i", ())},
    ...                        at, {"i": "#0072B2", "j": "#D55E00"}), "ij,j->i")
    >>> svg.count("data-node="), svg.count("data-kind=")
    (3, 2)
    """
    return network_document(network, title, prefix, legend).tostring()


def network_document(network: Network, title: str = "", prefix: str = "einviz-net",
                     legend: bool = True, steps: Sequence[NetworkStep] = ()) -> _Document:
    """The diagram as an SVG document (see :func:`network_svg`); ``steps`` adds, for each
    step, a hidden group of the lines it lights and a caption line under the diagram."""
    left, top, width, height = network.box
    shown = {"stub" if len(line.connection.ends) == 1 else line.connection.kind for line in network.lines}
    kinds = [k for k in _WORDS if k in shown]
    captions = [", ".join(f"{label} = {value}" for label, value in step.caption) for step in steps]
    text_width = max(sans_width(title, 16, True),
                     sans_width("   ·   ".join(_WORDS[k] for k in kinds), 11) if legend else 0.0,
                     *(sans_width(c, 13) for c in captions))
    caption_h = 24.0 if any(captions) else 0.0
    total_w = max(width, text_width) + 2 * _MARGIN
    total_h = (height + 2 * _MARGIN + (_TITLE if title else 0) + (_LEGEND if legend and kinds else 0)
               + caption_h)
    doc = _Document(_n(total_w), _n(total_h))
    doc.attribs["id"] = prefix
    doc.attribs["font-family"] = _SANS
    # A player lights the moving loop variable's line by giving its group the class einviz-on.
    doc.defs.add(doc.style(f"#{prefix} g.einviz-line.einviz-on>path{{stroke-width:5.5px}}"))
    doc.add(_Element("rect", width="100%", height="100%", fill="#FFFFFF"))
    if title:
        heading = doc.add(_Element("text", x=_n(_MARGIN), y=_n(_MARGIN + 12), font_size=16,
                                   fill=INK, class_="einviz-title"))
        _coloured(heading, title, network.colours)
    dx = _MARGIN - left + (total_w - 2 * _MARGIN - width) / 2
    dy = _MARGIN - top + (_TITLE if title else 0)
    # The caption sits under the drawing, at the left margin (in the body's coordinates).
    caption_at = (_MARGIN - dx, top + height + 22)
    doc.add(network_body(network, f"translate({_n(dx)},{_n(dy)})", steps, caption_at))
    if legend and kinds:
        doc.add(_Element("text", x=_n(_MARGIN), y=_n(total_h - _MARGIN + 4), font_size=11,
                         fill=MUTED, class_="einviz-legend")).add_text("   ·   ".join(_WORDS[k] for k in kinds))
    return doc
