"""3-D blocks: small arrays drawn as stacks of cubes, and a matrix product's iteration space.

Both are drawn in a true isometric projection: the three axes 120° apart on screen, each at
30° from the horizontal or vertical, and a cell's edge the same length along every axis. A
3-d array ``(depth, rows, columns)`` has its rows going down, its columns going right (and
down, at 30°) and its leading axis receding back (right and up, at 30°), so the block shows
three faces: the front face is the first slice, the top face the first row of every slice,
the right face the last column of every slice. Each cell is a cube face with its value
written upright.

A solid block hides ``(depth-1)(rows-1)(columns-1)`` cells; when that is more than none, the
slices are drawn apart along the depth axis instead (an exploded view: every cell shown) and
:func:`array_view` says why.

:func:`cube_svg` draws the iteration space of ``out[i,k] = Σ_j A[i,j]·B[j,k]``: the
i×j×k cube with A on its right face, B on its top, the result on its front face; one step's
product is the small cube where A's row, B's column and the summed axis meet.

Both drawings can carry *step groups* (``<g class="einviz-step" data-step="t">``): the cells
one step lights, drawn over the faces with their values, for :mod:`einviz.render.panel`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import EinvizError
from .palette import INK, MUTED
from .svg import _Document, _Element, _n
from .text import format_value, sans_width

if TYPE_CHECKING:
    from ..planning import LoopPlan

__all__ = ["MAX_BLOCK_SIDE", "ArrayView", "CubeStep", "StepCells", "apart_note", "array_view", "blocks_document",
           "blocks_svg", "check_blocks", "cube_animated_svg", "cube_arrays", "cube_document",
           "cube_svg"]

#: The largest size of any axis drawn as blocks.
MAX_BLOCK_SIDE = 8
_L = 40.0  # a cell's edge on screen, along every axis (isometric: no foreshortening between axes)
_CX = _L * math.cos(math.radians(30))
_SY = _L * math.sin(math.radians(30))
#: The screen vectors of one cell along the columns, the rows and the depth.
_COL = (_CX, _SY)
_ROW = (0.0, _L)
_DEPTH = (_CX, -_SY)
_LIT = "#FFC233"
_LIT_STROKE = "#8A5A00"
_OUT_FILL = "#56B4E9"
_OUT_STROKE = "#1F2328"
_MARGIN = 22.0
_FACE_FILL = {"front": "#FFFFFF", "top": "#EEF0F3", "right": "#E2E5EA"}
_FONT = {"front": 13.0, "top": 11.0, "right": 11.0}

Point = tuple[float, float]


def _at(origin: Point, col: float, row: float, depth: float) -> Point:
    """The screen point of (column, row, depth), in cells, from a block's front-top-left corner."""
    return (origin[0] + col * _COL[0] + depth * _DEPTH[0],
            origin[1] + col * _COL[1] + row * _ROW[1] + depth * _DEPTH[1])


@dataclass(frozen=True)
class ArrayView:
    """One array as 3-D blocks: name, labels (depth, rows, columns; fewer for fewer dims),
    values padded to 3-d, and the reason it is drawn apart (``""``: a solid block)."""

    name: str
    labels: tuple[str, ...]
    values: np.ndarray
    apart: str


def array_view(name: str, labels: Sequence[str], values: np.ndarray) -> ArrayView:
    """Pad an array of up to 3 dims to 3-d and decide: a solid block, or slices apart.

    >>> array_view("A", "bij", np.zeros((2, 2, 3))).apart
    "a solid block would hide 2 of A's 12 cells: its slices along 'b' are drawn apart"
    >>> array_view("A", "ij", np.zeros((2, 3))).apart
    ''
    """
    shape: tuple[int, ...] = (1,) * (3 - np.ndim(values)) + tuple(np.shape(values))
    padded = np.asarray(values).reshape(shape)
    depth, rows, cols = shape
    hidden = max(depth - 1, 0) * max(rows - 1, 0) * max(cols - 1, 0)
    apart = ""
    if hidden:
        apart = (f"a solid block would hide {hidden} of {name}'s {padded.size} cells: "
                 f"its slices along '{labels[0]}' are drawn apart")
    return ArrayView(name, tuple(labels), padded, apart)


def check_blocks(loop_plan: LoopPlan, what: str) -> None:
    """Refuse arrays that blocks cannot show: over 3 dimensions, an empty axis, or an axis
    over :data:`MAX_BLOCK_SIDE` cells (``what`` names the figure in the message)."""
    for name, shape in zip((*loop_plan.names, "out"), (*loop_plan.shapes, loop_plan.out_shape)):
        if len(shape) > 3:
            raise EinvizError(
                f"{what} draws arrays of up to 3 dimensions; {name} has {len(shape)}",
                hint="einviz.animate draws any number of dimensions as small multiples of grids",
            )
        if 0 in shape:
            raise EinvizError(f"{what} draws no empty array; {name} has shape {shape}",
                              hint="an axis of size 0 has no cells to draw: einviz.animate shows it")
        if any(side > MAX_BLOCK_SIDE for side in shape):
            raise EinvizError(
                f"{what} draws axes of up to {MAX_BLOCK_SIDE} cells; {name} has shape {shape}",
                hint="give smaller shapes (shapes=, or --shapes): the picture is for seeing, the sizes do not matter",
            )


# -- faces -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Spot:
    """Where one array cell shows on one face: its outline, its centre, its value's font."""

    points: str
    centre: Point
    size: float
    text: str
    shown: bool


@dataclass
class _Canvas:
    """What a drawing collects while its faces are drawn: every spot of every array cell."""

    spots: dict[tuple[str, tuple[int, ...]], list[_Spot]] = field(default_factory=dict)


def _map(matrix: tuple[float, ...], u: float, w: float) -> Point:
    a, b, c, d, e, f = matrix
    return (a * u + c * w + e, b * u + d * w + f)


def _font(text: str, size: float) -> float:
    """``size``, smaller where the text would overflow a cell (about ``_CX`` px wide)."""
    return min(size, (_CX - 6) / max(sans_width(text, 1.0), 1e-9))


def _face(parent: _Element, kind: str, matrix: tuple[float, ...], cells: np.ndarray,
          lit: set[tuple[int, int]], where: Mapping[tuple[int, int], tuple[int, ...]], name: str,
          canvas: _Canvas | None, values: bool = True, opacity: float | None = None,
          done: Mapping[tuple[int, ...], int] | None = None) -> None:
    """One face of a block: ``cells[w, u]`` drawn as unit squares mapped to the screen by
    ``matrix``; the values stay upright (skewed text on a receding face is hard to read).
    ``done``: the step after which each cell's value is final; its value is then drawn in a
    ``g.einviz-done`` group with that ``data-step``, which a player shows from that step on."""
    group = parent.add(_Element("g", class_=f"einviz-face-{kind}"))
    shapes = group.add(_Element("g", transform="matrix(" + ",".join(f"{v:.3f}".rstrip("0").rstrip(".")
                                                                     for v in matrix) + ")"))
    for (w, u), value in np.ndenumerate(cells):
        index = where[(w, u)]
        shapes.add(_Element("rect", x=u, y=w, width=1, height=1, stroke=INK, stroke_width=0.03,
                            fill=_LIT if (w, u) in lit else _FACE_FILL[kind], fill_opacity=opacity,
                            **{"data-index": ",".join(str(i) for i in index)}))
        text = format_value(value)
        size = _font(text, _FONT[kind])
        x, y = _map(matrix, u + 0.5, w + 0.5)
        if canvas is not None:
            corners = [_map(matrix, u + du, w + dw) for du, dw in ((0, 0), (1, 0), (1, 1), (0, 1))]
            canvas.spots.setdefault((name, index), []).append(
                _Spot(" ".join(f"{_n(px)},{_n(py)}" for px, py in corners), (x, y), size, text, values))
        if values:
            into = group
            if done is not None and index in done:
                into = group.add(_Element("g", class_="einviz-done", **{"data-step": str(done[index])}))
            into.add(_Element("text", x=_n(x), y=_n(y + size * 0.36), font_size=_n(size),
                              text_anchor="middle", fill=INK if kind == "front" else MUTED
                              )).add_text(text)


def _face_matrices(origin: Point, depth: int, cols: int) -> dict[str, tuple[float, ...]]:
    """Each visible face's matrix from its cells' (column or depth, row or depth) grid to the
    screen: the front face (u: column, w: row), the top face (u: column, w: depth counted
    from the back, so its rows read top to bottom), the right face (u: depth, w: row)."""
    back = _at(origin, 0, 0, depth)
    right = _at(origin, cols, 0, 0)
    return {"front": (*_COL, *_ROW, *origin),
            "top": (*_COL, -_DEPTH[0], -_DEPTH[1], *back),
            "right": (*_DEPTH, *_ROW, *right)}


def _solid(parent: _Element, values: np.ndarray, origin: Point, lit: set[tuple[int, ...]],
           name: str, canvas: _Canvas | None, sides: bool = True, first: int = 0,
           done: Mapping[tuple[int, ...], int] | None = None) -> None:
    """A solid block with its front-top-left corner at ``origin``: three faces, with values
    (on the top and right faces too when ``sides``); its slices are ``first``, ``first+1``, …
    of the array (in ``data-index`` and ``lit``)."""
    depth, rows, cols = values.shape
    group = parent.add(_Element("g", class_="einviz-block", **{"data-operand": name}))
    matrices = _face_matrices(origin, depth, cols)
    faces: list[tuple[str, np.ndarray, dict[tuple[int, int], tuple[int, ...]]]] = [
        ("right", values[:, :, cols - 1].T,
         {(r, d): (first + d, r, cols - 1) for d in range(depth) for r in range(rows)}),
        ("top", values[::-1, 0, :],
         {(depth - 1 - d, c): (first + d, 0, c) for d in range(depth) for c in range(cols)}),
        ("front", values[0], {(r, c): (first, r, c) for r in range(rows) for c in range(cols)}),
    ]
    for kind, cells, where in faces:
        _face(group, kind, matrices[kind], cells, {k for k, v in where.items() if v in lit}, where,
              name, canvas, sides or kind == "front", done=done)


def _axis(parent: _Element, start: Point, end: Point, label: str, colour: str, away: Point,
          text: float = 16.0) -> None:
    """An axis beside an edge: a line ``away`` from it with an arrowhead at the far end, and
    its letter in its colour beyond the line's middle."""
    s = (start[0] + away[0] * 9, start[1] + away[1] * 9)
    e = (end[0] + away[0] * 9, end[1] + away[1] * 9)
    length = math.dist(s, e) or 1.0
    d = ((e[0] - s[0]) / length, (e[1] - s[1]) / length)
    tip = (e[0] - d[0] * 2, e[1] - d[1] * 2)
    base = (tip[0] - d[0] * 8, tip[1] - d[1] * 8)
    wing = (-d[1] * 4, d[0] * 4)
    parent.add(_Element("path", d=f"M{_n(s[0])},{_n(s[1])} L{_n(base[0])},{_n(base[1])}",
                        stroke=colour, stroke_width=2, fill="none", class_="einviz-axis",
                        **{"data-label": label}))
    parent.add(_Element("polygon", fill=colour, points=" ".join(
        f"{_n(x)},{_n(y)}" for x, y in (tip, (base[0] + wing[0], base[1] + wing[1]),
                                        (base[0] - wing[0], base[1] - wing[1])))))
    mid = ((s[0] + e[0]) / 2 + away[0] * text, (s[1] + e[1]) / 2 + away[1] * text)
    parent.add(_Element("text", x=_n(mid[0]), y=_n(mid[1] + 5), text_anchor="middle", font_size=15,
                        font_weight="bold", fill=colour)).add_text(label)


#: Directions away from a block's edges: below the column edge, left of the row edge, and
#: above-left of the depth edge (each perpendicular to its edge on screen).
_BELOW = (-0.5, math.sqrt(3) / 2)
_LEFT = (-1.0, 0.0)
_ABOVE = (-0.5, -math.sqrt(3) / 2)


# -- arrays as blocks ------------------------------------------------------------------------------
def _apart_step(view: ArrayView) -> float:
    """How many cells along the depth each slice stands behind the one before: the least
    that keeps two one-cell-thick slabs from overlapping on screen, and a gap."""
    _, rows, cols = view.values.shape
    return 1 + min(rows, cols) + 0.6


def _slab_origins(view: ArrayView) -> list[tuple[float, int, int]]:
    """(depth offset in cells, thickness, first slice) of each slab drawn, back to front."""
    depth = view.values.shape[0]
    if not view.apart:
        return [(0.0, depth, 0)]
    step = _apart_step(view)
    return [(d * step, 1, d) for d in reversed(range(depth))]


def _corners(view: ArrayView) -> list[Point]:
    """Every corner of every slab, from a front-top-left corner at (0, 0)."""
    _, rows, cols = view.values.shape
    return [_at((0.0, 0.0), c, r, offset + d) for offset, thick, _ in _slab_origins(view)
            for c in (0, cols) for r in (0, rows) for d in (0, thick)]


def _extent(view: ArrayView) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of an array's drawing around its corner (0, 0), axes in."""
    xs, ys = zip(*_corners(view))
    slice_label = 40.0 if view.apart else 0.0
    return min(xs) - 40, min(ys) - 26, max(xs) + 12 + slice_label, max(ys) + 40


def _draw_view(parent: _Element, view: ArrayView, origin: Point, colours: Mapping[str, str],
               lit: set[tuple[int, ...]], canvas: _Canvas | None,
               done: Mapping[tuple[int, ...], int] | None = None) -> None:
    """An array with its front face's top-left corner at ``origin``, and its axes (``done``:
    see :func:`_face`)."""
    _, rows, cols = view.values.shape
    labels = ("",) * (3 - len(view.labels)) + tuple(view.labels)
    group = parent.add(_Element("g", class_="einviz-array", **{"data-operand": view.name,
                                                                "data-apart": "1" if view.apart else "0"}))
    for offset, thick, first in _slab_origins(view):
        corner = _at(origin, 0, 0, offset)
        # A slab's top and right faces would repeat its first row and last column.
        _solid(group, view.values[first:first + thick], corner, lit, view.name, canvas,
               sides=thick > 1, first=first, done=done)
        if view.apart:
            # Under the slab's right face: the slab behind stands up and to the right.
            x, y = _at(corner, cols, rows, 1)
            group.add(_Element("text", x=_n(x + 4), y=_n(y + 14), font_size=12, font_weight="bold",
                               fill=colours.get(labels[0], MUTED))).add_text(f"{labels[0]}={first}")
    if labels[2]:
        _axis(group, _at(origin, 0, rows, 0), _at(origin, cols, rows, 0), labels[2],
              colours.get(labels[2], INK), _BELOW)
    if labels[1]:
        _axis(group, _at(origin, 0, 0, 0), _at(origin, 0, rows, 0), labels[1],
              colours.get(labels[1], INK), _LEFT)
    if labels[0]:
        far = _slab_origins(view)[0]
        _axis(group, origin, _at(origin, 0, 0, far[0] + far[1]), labels[0],
              colours.get(labels[0], INK), _ABOVE)


@dataclass(frozen=True)
class StepCells:
    """What one step lights in a drawing: ``cells`` by array name (3-d indices), a caption."""

    step: int
    cells: Mapping[str, Sequence[tuple[int, ...]]]
    caption: str = ""
    out_text: str = ""  # the output cell's sum so far, written on it (else its final value)


def _heading(doc: _Document, title: str, colours: Mapping[str, str]) -> None:
    heading = doc.add(_Element("text", x=_n(_MARGIN), y=_n(_MARGIN + 12), font_size=15, fill=INK))
    for char in title:
        heading.add(_Element("tspan", fill=colours.get(char, INK),
                             font_weight="bold" if char in colours else None)).add_text(char)


def _lit_spot(group: _Element, spot: _Spot, name: str, cell: tuple[int, ...], text: str = "") -> None:
    """One lit cell over the faces, as the grids light it (an operand's cell amber, the
    output's cell blue, outlined), its value (or ``text``: an output cell's sum so far)
    written again on top."""
    output = name == "out"
    group.add(_Element("polygon", points=spot.points, fill=_OUT_FILL if output else _LIT,
                       **{"data-operand": name, "data-index": ",".join(map(str, cell))},
                       fill_opacity=0.35 if output else 0.6, stroke=_OUT_STROKE if output else _LIT_STROKE,
                       stroke_width=2.2 if output else 1.8, stroke_linejoin="round"))
    if spot.shown:  # a face that repeats another's cells shows no values, lit or not
        group.add(_Element("text", x=_n(spot.centre[0]), y=_n(spot.centre[1] + spot.size * 0.36),
                           font_size=_n(spot.size), text_anchor="middle", fill=INK,
                           font_weight="bold")).add_text(text or spot.text)


def _step_groups(doc: _Element, canvas: _Canvas, steps: Sequence[StepCells], caption_at: Point) -> None:
    """Each step's lit cells (every face a cell shows on) and caption, in its own group."""
    layer = doc.add(_Element("g", class_="einviz-steps"))
    for step in steps:
        group = layer.add(_Element("g", class_="einviz-step", **{"data-step": str(step.step)}))
        for name, cells in step.cells.items():
            for cell in cells:
                for spot in canvas.spots.get((name, tuple(cell)), ()):
                    _lit_spot(group, spot, name, tuple(cell), step.out_text if name == "out" else "")
        if step.caption:
            group.add(_Element("text", x=_n(caption_at[0]), y=_n(caption_at[1]), font_size=13,
                               fill=INK, class_="einviz-caption")).add_text(step.caption)


def _caption(parent: _Element, view: ArrayView, x: float, y: float, colours: Mapping[str, str]) -> None:
    caption = parent.add(_Element("text", x=_n(x), y=_n(y), font_size=13, fill=INK))
    caption.add(_Element("tspan", font_weight="bold")).add_text(view.name + "  ")
    for label in view.labels:
        caption.add(_Element("tspan", fill=colours.get(label, INK), font_weight="bold")).add_text(label)
    caption.add(_Element("tspan", fill=MUTED)).add_text(
        "  " + str(tuple(np.shape(view.values))[3 - len(view.labels):]))


def apart_note(views: Sequence[ArrayView]) -> str:
    """One sentence for all the arrays drawn apart (the same reason, said once).

    >>> views = [array_view(n, "bij", np.zeros((2, 2, 3))) for n in ("A", "B")]
    >>> apart_note(views)
    "slices along 'b' are drawn apart (A's and B's): a solid block would hide 4 of their 24 cells"
    """
    apart = [view for view in views if view.apart]
    if len(apart) < 2:
        return apart[0].apart if apart else ""
    axes = ", ".join(f"'{axis}'" for axis in dict.fromkeys(view.labels[0] for view in apart))
    owners = [f"{view.name}'s" for view in apart]
    whose = ", ".join(owners[:-1]) + " and " + owners[-1]
    hidden = sum((d - 1) * (r - 1) * (c - 1) for d, r, c in (view.values.shape for view in apart))
    cells = sum(view.values.size for view in apart)
    return (f"slices along {axes} are drawn apart ({whose}): a solid block would hide "
            f"{hidden} of their {cells} cells")


def blocks_document(views: Sequence[ArrayView], colours: Mapping[str, str], title: str = "",
                    lit: Mapping[str, set[tuple[int, ...]]] | None = None, prefix: str = "einviz-blocks",
                    steps: Sequence[StepCells] = (), per_row: int | None = None,
                    done: Mapping[tuple[int, ...], int] | None = None) -> _Document:
    """The arrays as 3-D blocks side by side (``per_row`` a row; the last after an arrow when
    it shares a row), each named with its labels and shape, the reasons for any slices drawn
    apart written underneath; ``steps`` adds a hidden group of lit cells (and a caption) for
    each step; ``done`` gives the step after which each output cell is final (see :func:`_face`)."""
    lit = lit or {}
    notes = [note] if (note := apart_note(views)) else []
    per_row = per_row or len(views)
    body = _Element("g")
    canvas = _Canvas()
    y = _MARGIN + (30 if title else 0) + 22
    widest = 0.0
    for first in range(0, len(views), per_row):
        row = list(range(first, min(first + per_row, len(views))))
        extents = {k: _extent(views[k]) for k in row}
        rise = max(-e[1] for e in extents.values())
        x = _MARGIN
        for k in row:
            left, _, right, _ = extents[k]
            if k == len(views) - 1 and k != row[0]:
                body.add(_Element("text", x=_n(x - 8), y=_n(y + rise + 2 * _L), font_size=26,
                                  fill=MUTED, text_anchor="middle")).add_text("→")
                x += 16
            _caption(body, views[k], x, y - 8, colours)
            _draw_view(body, views[k], (x - left, y + rise), colours, lit.get(views[k].name, set()), canvas,
                       done if views[k].name == "out" else None)
            caption_w = sans_width(views[k].name + "  " + "".join(views[k].labels) + "  (8, 8, 8)", 13)
            x += max(right - left, caption_w) + 34
        widest = max(widest, x - 34)
        y += rise + max(e[3] for e in extents.values()) + 34
    bottom = y - 34
    captions = [s.caption for s in steps if s.caption]
    width = max(widest + _MARGIN, sans_width(title, 15, True) + 2 * _MARGIN,
                *(sans_width(n, 11) + 2 * _MARGIN for n in notes),
                *(sans_width(c, 13) + 2 * _MARGIN for c in captions))
    height = bottom + (24 if captions else 0) + 16 * len(notes) + _MARGIN
    doc = _Document(_n(width), _n(height))
    doc.attribs.update({"id": prefix, "font-family": "'DejaVu Sans', sans-serif"})
    doc.add(_Element("rect", width="100%", height="100%", fill="#FFFFFF"))
    if title:
        _heading(doc, title, colours)
    doc.add(body)
    if steps:
        _step_groups(doc, canvas, steps, (_MARGIN, bottom + 14))
    for k, note in enumerate(notes):
        doc.add(_Element("text", x=_n(_MARGIN), y=_n(height - _MARGIN - 16 * (len(notes) - 1 - k)),
                         font_size=11, fill=MUTED, class_="einviz-note")).add_text(note)
    return doc


def blocks_svg(views: Sequence[ArrayView], colours: Mapping[str, str], title: str = "",
               lit: Mapping[str, set[tuple[int, ...]]] | None = None, prefix: str = "einviz-blocks") -> str:
    """The arrays as 3-D blocks side by side (see :func:`blocks_document`), as SVG text.

    >>> svg = blocks_svg([array_view("A", "ij", np.arange(6).reshape(2, 3))], {})
    >>> svg.count('data-operand="A"') > 0, svg.count("<text") >= 6
    (True, True)
    """
    return blocks_document(views, colours, title, lit, prefix).tostring()


# -- the iteration cube ----------------------------------------------------------------------------
def cube_arrays(loop_plan: LoopPlan, arrays: Sequence[Any]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, str, str], tuple[str, str]]:
    """A product of two matrices as the cube draws it: ``a[i,j]``, ``b[j,k]``, ``out[i,k]``,
    the labels (row, summed, column) and the two operands' names (a's, then b's).

    Raises:
        EinvizError: the einsum is not a product of two matrices with one summed label.

    >>> from einviz import plan
    >>> a, b, out, labels, names = cube_arrays(plan("ij,kj->ki", shapes=[(2, 3), (4, 3)]),
    ...                                        [np.ones((2, 3)), np.ones((4, 3))])
    >>> a.shape, b.shape, labels, names
    ((4, 3), (3, 2), ('k', 'j', 'i'), ('B', 'A'))
    """
    if (loop_plan.n_operands != 2 or len(loop_plan.output) != 2 or len(loop_plan.summed) != 1
            or loop_plan.ellipsis or any(len(set(t)) != 2 or len(t) != 2 for t in loop_plan.terms)):
        raise EinvizError(
            f"the iteration cube draws a product of two matrices, like 'ij,jk->ik', not "
            f"'{loop_plan.equation}'",
            hint="the blocks (diagrams.blocks, --view blocks, panel='blocks') draw any arrays of up to 3 dimensions",
        )
    row, col = loop_plan.output
    summed = loop_plan.summed[0]
    first = 0 if row in loop_plan.terms[0] else 1
    if row not in loop_plan.terms[first] or col not in loop_plan.terms[1 - first]:
        raise EinvizError(
            f"the iteration cube needs one matrix per output label; '{loop_plan.equation}' "
            "takes both from one operand",
            hint="the blocks (diagrams.blocks, --view blocks, panel='blocks') draw any arrays of up to 3 dimensions",
        )
    a_term, b_term = "".join(loop_plan.terms[first]), "".join(loop_plan.terms[1 - first])
    sizes = loop_plan.sizes
    # A size-1 axis broadcast against a longer one is read again for every index, as the loops do.
    a = np.broadcast_to(np.einsum(f"{a_term}->{row}{summed}", np.asarray(arrays[first])),
                        (sizes[row], sizes[summed]))
    b = np.broadcast_to(np.einsum(f"{b_term}->{summed}{col}", np.asarray(arrays[1 - first])),
                        (sizes[summed], sizes[col]))
    out = np.einsum(f"{row}{summed},{summed}{col}->{row}{col}", a, b)
    return a, b, out, (row, summed, col), (loop_plan.names[first], loop_plan.names[1 - first])


def _inner_cube(parent: _Element, origin: Point, step: tuple[int, int, int], cols: int,
                colours: Sequence[str], opacity: float | None = None) -> None:
    """The step's product: the small cube at (i, j, k), lit, with dashed lines to the A cell
    (along k), the B cell (along i) and the output cell (along j, the summed axis)."""
    i, j, k = step
    group = parent.add(_Element("g", class_="einviz-product", **{"data-index": f"{i},{j},{k}"}))
    corners = {(c, r, d): _at(origin, k + c, i + r, j + d) for c in (0, 1) for r in (0, 1) for d in (0, 1)}
    for face in (((0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)), ((0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)),
                 ((1, 0, 0), (1, 0, 1), (1, 1, 1), (1, 1, 0))):
        points = " ".join(f"{_n(corners[p][0])},{_n(corners[p][1])}" for p in face)
        group.add(_Element("polygon", points=points, fill=_LIT, fill_opacity=opacity, stroke=_LIT_STROKE,
                           stroke_width=1.4, stroke_linejoin="round"))
    centre = _at(origin, k + 0.5, i + 0.5, j + 0.5)
    targets = ((_at(origin, cols, i + 0.5, j + 0.5), colours[2]), (_at(origin, k + 0.5, 0, j + 0.5), colours[0]),
               (_at(origin, k + 0.5, i + 0.5, 0), colours[1]))
    for (x, y), colour in targets:
        group.add(_Element("path", d=f"M{_n(centre[0])},{_n(centre[1])} L{_n(x)},{_n(y)}", stroke=colour,
                           stroke_width=2.5, stroke_dasharray="5 3", fill="none"))
        group.add(_Element("circle", cx=_n(x), cy=_n(y), r=3, fill=colour))


def _cube_faces(a: np.ndarray, b: np.ndarray, out: np.ndarray, names: tuple[str, str],
                origin: Point) -> list[tuple[str, tuple[float, ...], np.ndarray, str,
                                             dict[tuple[int, int], tuple[int, ...]]]]:
    """Each face of the cube: kind, matrix, cells, array, each local cell's index there."""
    depth, cols = a.shape[1], b.shape[1]
    matrices = _face_matrices(origin, depth, cols)
    return [("right", matrices["right"], a, names[0], {(w, u): (w, u) for w, u in np.ndindex(a.shape)}),
            ("top", matrices["top"], b[::-1], names[1], {(w, u): (depth - 1 - w, u) for w, u in np.ndindex(b.shape)}),
            ("front", matrices["front"], out, "out", {(w, u): (w, u) for w, u in np.ndindex(out.shape)})]


def _step_cells(step: tuple[int, int, int], names: tuple[str, str]) -> dict[str, tuple[int, int]]:
    i, j, k = step
    return {"out": (i, k), names[1]: (j, k), names[0]: (i, j)}


def _cube_frame(shape: tuple[int, int, int], title: str, captions: Sequence[str], prefix: str
                ) -> tuple[_Document, Point, float]:
    """The canvas of the cube: its origin (the front face's top-left corner) and height."""
    rows, depth, cols = shape
    origin = (_MARGIN + 54.0, _MARGIN + (30 if title else 0) + 34 + depth * _SY)
    right = _at(origin, cols, 0, depth)[0]
    width = max(right + 70 + _MARGIN, sans_width(title, 15, True) + 2 * _MARGIN,
                *(sans_width(caption, 13) + 2 * _MARGIN for caption in captions))
    height = _at(origin, cols, rows, 0)[1] + 64 + (22 if any(captions) else 0) + _MARGIN
    doc = _Document(_n(width), _n(height))
    doc.attribs.update({"id": prefix, "font-family": "'DejaVu Sans', sans-serif"})
    doc.add(_Element("rect", width="100%", height="100%", fill="#FFFFFF"))
    return doc, origin, height


def _cube_labels(doc: _Element, origin: Point, shape: tuple[int, int, int],
                 labels: tuple[str, str, str], names: tuple[str, str], colours: Mapping[str, str]) -> None:
    rows, depth, cols = shape
    colour = [colours.get(label, INK) for label in labels]
    _axis(doc, _at(origin, 0, rows, 0), _at(origin, cols, rows, 0), labels[2], colour[2], _BELOW)
    _axis(doc, _at(origin, 0, 0, 0), _at(origin, 0, rows, 0), labels[0], colour[0], _LEFT)
    _axis(doc, _at(origin, 0, 0, 0), _at(origin, 0, 0, depth), labels[1], colour[1], _ABOVE)
    spots = ((names[1], _at(origin, cols, 0, depth), (8, -6), "start"),
             (names[0], _at(origin, cols, rows, depth / 2), (12, 4), "start"),
             ("out", _at(origin, cols / 2, rows, 0), (18, 44), "middle"))
    for text, (tx, ty), (dx, dy), anchor in spots:
        doc.add(_Element("text", x=_n(tx + dx), y=_n(ty + dy), font_size=14, font_weight="bold",
                         fill=INK, text_anchor=anchor)).add_text(text)


@dataclass(frozen=True)
class CubeStep:
    """What one step (or a run of steps) lights on the cube: (i, j, k) of each product, a
    caption; its group is ``data-step`` = ``step``."""

    step: int
    where: Sequence[tuple[int, int, int]]
    caption: str = ""
    out_text: str = ""  # the output cell's sum so far, written on it (else its final value)


def cube_document(a: np.ndarray, b: np.ndarray, out: np.ndarray, labels: tuple[str, str, str],
                  names: tuple[str, str], colours: Mapping[str, str], step: tuple[int, int, int] | None = None,
                  caption: str = "", title: str = "", prefix: str = "einviz-cube",
                  steps: Sequence[CubeStep] = (), inside: bool = True,
                  done: Mapping[tuple[int, ...], int] | None = None) -> _Document:
    """The iteration space of ``out[i,k] = Σ_j a[i,j]·b[j,k]`` (``labels`` = (i, j, k)): the
    result on the front face, ``b`` on the top, ``a`` on the right, ``step`` = (i, j, k) lit.

    ``steps`` adds hidden groups for each: the products' small cubes (``inside``: in a group
    under the faces, which are then see-through, so a cube reads as inside the block; else
    over them) and, over the faces, the cells of A, B and the result they join, and a caption.
    """
    shape = (a.shape[0], a.shape[1], b.shape[1])
    doc, origin, height = _cube_frame(shape, title, [caption, *(s.caption for s in steps)], prefix)
    if title:
        _heading(doc, title, colours)
    axis_colours = [colours.get(label, INK) for label in labels]
    if step is not None:
        # Drawn first: the faces, translucent, show it inside the cube.
        _inner_cube(doc, origin, step, shape[2], axis_colours)
    if steps and inside:
        under = doc.add(_Element("g", class_="einviz-steps einviz-inside"))
        for run in steps:
            group = under.add(_Element("g", class_="einviz-step", **{"data-step": str(run.step)}))
            for product in run.where:
                _inner_cube(group, origin, product, shape[2], axis_colours)
    lit = _step_cells(step, names) if step is not None else {}
    canvas = _Canvas()
    see_through = 0.5 if step is not None else 0.6 if steps and inside else None
    for kind, matrix, cells, name, where in _cube_faces(a, b, out, names, origin):
        group = doc.add(_Element("g", class_="einviz-block", **{"data-operand": name}))
        _face(group, kind, matrix, cells, {k for k, v in where.items() if v == lit.get(name)}, where,
              name, canvas, opacity=see_through, done=done if name == "out" else None)
    _cube_labels(doc, origin, shape, labels, names, colours)
    if caption:
        doc.add(_Element("text", x=_n(_MARGIN), y=_n(height - _MARGIN), font_size=13,
                         fill=INK, class_="einviz-caption")).add_text(caption)
    layer = doc.add(_Element("g", class_="einviz-steps")) if steps else None
    for run in steps:
        assert layer is not None
        group = layer.add(_Element("g", class_="einviz-step", **{"data-step": str(run.step)}))
        for product in run.where:
            for name, cell in _step_cells(product, names).items():
                for spot in canvas.spots.get((name, cell), ()):
                    _lit_spot(group, spot, name, tuple(cell), run.out_text if name == "out" else "")
        if not inside:
            for product in run.where:
                # Over the faces (drawn once, under every step): see-through.
                _inner_cube(group, origin, product, shape[2], axis_colours, 0.45)
        if run.caption:
            group.add(_Element("text", x=_n(_MARGIN), y=_n(height - _MARGIN), font_size=13, fill=INK,
                               class_="einviz-caption")).add_text(run.caption)
    return doc


def cube_svg(a: np.ndarray, b: np.ndarray, out: np.ndarray, labels: tuple[str, str, str],
             names: tuple[str, str], colours: Mapping[str, str], step: tuple[int, int, int] | None = None,
             caption: str = "", title: str = "", prefix: str = "einviz-cube") -> str:
    """The iteration space as SVG text (see :func:`cube_document`).

    >>> svg = cube_svg(np.ones((2, 3)), np.ones((3, 2)), np.full((2, 2), 3.0), ("i", "j", "k"),
    ...                ("A", "B"), {}, step=(0, 1, 1))
    >>> svg.count('class="einviz-product"')
    1
    """
    return cube_document(a, b, out, labels, names, colours, step, caption, title, prefix).tostring()


def cube_animated_svg(a: np.ndarray, b: np.ndarray, out: np.ndarray, labels: tuple[str, str, str],
                      names: tuple[str, str], colours: Mapping[str, str],
                      frames: Sequence[tuple[tuple[int, int, int], str]], title: str = "",
                      seconds: float = 0.9, prefix: str = "einviz-cube") -> str:
    """The cube with its steps lit in turn (CSS, no script): the faces drawn once, each frame
    a group of changes (the three lit cells, the product's cube, the caption). Where nothing
    animates the last frame shows."""
    doc = cube_document(a, b, out, labels, names, colours, title=title, prefix=prefix,
                        steps=[CubeStep(k, [where], caption) for k, (where, caption) in enumerate(frames)],
                        inside=False)
    css = [f"#{prefix} .einviz-frame{{animation:{seconds * len(frames):.2f}s step-end infinite}}"]
    for element in doc.parts:
        if isinstance(element, _Element) and element.attribs.get("class") == "einviz-steps":
            for k, group in enumerate(p for p in element.parts if isinstance(p, _Element)):
                last = k == len(frames) - 1
                group.attribs.update({"class": "einviz-frame", "opacity": 1 if last else 0,
                                      "data-frame": str(k)})
                del group.attribs["data-step"]
                keys = f"0%{{opacity:{1 if k == 0 else 0}}}{100 * k / len(frames):.2f}%{{opacity:1}}"
                keys += "" if last else f"{100 * (k + 1) / len(frames):.2f}%{{opacity:0}}"
                css += [f"@keyframes {prefix}-f{k}{{{keys}}}",
                        f"#{prefix} .einviz-frame[data-frame='{k}']{{animation-name:{prefix}-f{k}}}"]
    doc.defs.add(doc.style("\n".join(css)))
    return doc.tostring()
