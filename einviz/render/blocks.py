"""3-D blocks: small arrays drawn as stacks of cubes, and a matrix product's iteration space.

A 3-d array ``(depth, rows, columns)`` is drawn in an oblique 3-D view: rows go down and
columns right on the front face, as in the grids, and the leading axis recedes up and to the
right. Each cell is a cube face with its value: the front face shows the first slice, the top
face the first row of every slice, the right face the last column of every slice. A solid
block hides ``(depth-1)(rows-1)(columns-1)`` cells; when that is more than none, the slices
are drawn apart along the depth axis instead (3-D small multiples, every cell shown) and
:func:`array_view` says why.

:func:`cube_svg` draws the iteration space of ``out[i,k] = Σ_j A[i,j]·B[j,k]``: the
i×j×k cube with A on its right face, B on its top, the result on its front face; one step's
product is the small cube where A's row, B's column and the summed axis meet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .palette import INK, MUTED
from .svg import _Document, _Element, _n
from .text import format_value, sans_width

__all__ = ["ArrayView", "array_view", "blocks_svg", "cube_animated_svg", "cube_svg"]

_S = 38.0  # a cell's side
_DEPTH = 0.9  # a cell's depth on screen, as a share of its side
_VX = _S * _DEPTH * math.cos(math.radians(30))
_VY = -_S * _DEPTH * math.sin(math.radians(30))
_LIT = "#FFC233"
_MARGIN = 22.0
_FACE_FILL = {"front": "#FFFFFF", "top": "#EEF0F3", "right": "#E2E5EA"}


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


def _face(parent: _Element, kind: str, matrix: tuple[float, ...], cells: np.ndarray,
          lit: set[tuple[int, int]], data: Mapping[tuple[int, int], str], values: bool = True,
          opacity: float | None = None) -> None:
    """One face of a block: ``cells[w, u]`` drawn as unit squares mapped to the screen by
    ``matrix``; the values stay upright (skewed text on a receding face is hard to read)."""
    a, b, c, d, e, f = matrix
    group = parent.add(_Element("g", class_=f"einviz-face-{kind}"))
    shapes = group.add(_Element("g", transform="matrix(" + ",".join(f"{v:.3f}".rstrip("0").rstrip(".")
                                                                     for v in matrix) + ")"))
    size = 14 if kind == "front" else 10.5
    for (w, u), value in np.ndenumerate(cells):
        attributes = {"data-index": data[(w, u)]} if (w, u) in data else {}
        shapes.add(_Element("rect", x=u, y=w, width=1, height=1, stroke=INK, stroke_width=0.03,
                            fill=_LIT if (w, u) in lit else _FACE_FILL[kind], fill_opacity=opacity,
                            **attributes))
        if not values:
            continue
        x, y = a * (u + 0.5) + c * (w + 0.5) + e, b * (u + 0.5) + d * (w + 0.5) + f
        group.add(_Element("text", x=_n(x), y=_n(y + size * 0.36), font_size=size,
                           text_anchor="middle", fill=INK if kind == "front" else MUTED
                           )).add_text(format_value(value))


def _solid(parent: _Element, values: np.ndarray, x: float, y: float, lit: set[tuple[int, ...]],
           name: str, sides: bool = True, first: int = 0) -> None:
    """A solid block with its front top-left corner at (x, y): three faces, with values
    (on the top and right faces too when ``sides``); its slices are ``first``, ``first+1``, …
    of the array (in ``data-index`` and ``lit``)."""
    depth, rows, cols = values.shape
    group = parent.add(_Element("g", class_="einviz-block", **{"data-operand": name}))
    for kind in ("right", "top", "front"):
        if kind == "front":
            cells = values[0]
            matrix: tuple[float, ...] = (_S, 0, 0, _S, x, y)
            where = {(r, c): (first, r, c) for r in range(rows) for c in range(cols)}
        elif kind == "top":
            cells = values[:, 0, :]  # local rows: depth, from the front back
            cells = cells[::-1]
            matrix = (_S, 0, -_VX, -_VY, x + depth * _VX, y + depth * _VY)
            where = {(depth - 1 - d, c): (first + d, 0, c) for d in range(depth) for c in range(cols)}
        else:
            cells = values[:, :, cols - 1].T  # local rows: rows; columns: depth
            matrix = (_VX, _VY, 0, _S, x + cols * _S, y)
            where = {(r, d): (first + d, r, cols - 1) for d in range(depth) for r in range(rows)}
        _face(group, kind, matrix, cells, {k for k, v in where.items() if v in lit},
              {k: ",".join(str(i) for i in v) for k, v in where.items()}, sides or kind == "front")


def _axis(parent: _Element, start: tuple[float, float], end: tuple[float, float], label: str,
          colour: str, offset: tuple[float, float]) -> None:
    parent.add(_Element("path", d=f"M{_n(start[0])},{_n(start[1])} L{_n(end[0])},{_n(end[1])}",
                        stroke=colour, stroke_width=2, fill="none", class_="einviz-axis",
                        **{"data-label": label}))
    mid = ((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1])
    parent.add(_Element("text", x=_n(mid[0]), y=_n(mid[1] + 5), text_anchor="middle", font_size=15,
                        font_weight="bold", fill=colour)).add_text(label)


def _extent(view: ArrayView) -> tuple[float, float, float]:
    """(width, height, the rise of the depth axis) of an array's drawing, axes aside."""
    depth, rows, cols = view.values.shape
    if not view.apart:
        return cols * _S + depth * _VX, rows * _S - depth * _VY, -depth * _VY
    step = _apart_step(view)
    rise = (depth - 1) * step[1]
    return cols * _S + _VX + (depth - 1) * step[0], rows * _S - _VY - rise, -_VY - rise


def _apart_step(view: ArrayView) -> tuple[float, float]:
    """How far each slice stands behind the one before: up and right, clear of it."""
    _, rows, cols = view.values.shape
    along = min((cols * _S + _VX + 16) / math.cos(math.radians(30)),
                (rows * _S - _VY + 22) / math.sin(math.radians(30)))
    return along * math.cos(math.radians(30)), -along * math.sin(math.radians(30))


def _draw_view(parent: _Element, view: ArrayView, x: float, y: float,
               colours: Mapping[str, str], lit: set[tuple[int, ...]]) -> None:
    """An array with its front face's top-left corner at (x, y), and its axes."""
    depth, rows, cols = view.values.shape
    labels = ("",) * (3 - len(view.labels)) + tuple(view.labels)
    group = parent.add(_Element("g", class_="einviz-array", **{"data-operand": view.name,
                                                                "data-apart": "1" if view.apart else "0"}))
    if view.apart:
        dx, dy = _apart_step(view)
        for d in reversed(range(depth)):
            # A slab's top and right faces would repeat its first row and last column.
            _solid(group, view.values[d:d + 1], x + d * dx, y + d * dy, lit, view.name, sides=False, first=d)
            group.add(_Element("text", x=_n(x + d * dx + cols * _S + _VX + 6), y=_n(y + d * dy + _VY + 12),
                               font_size=12, fill=colours.get(labels[0], MUTED))).add_text(f"{labels[0]}={d}")
        back = (x + (depth - 1) * dx, y + (depth - 1) * dy)
    else:
        _solid(group, view.values, x, y, lit, view.name, sides=depth > 1)
        back = (x + depth * _VX, y + depth * _VY)
    if labels[2]:
        _axis(group, (x, y + rows * _S + 10), (x + cols * _S, y + rows * _S + 10), labels[2],
              colours.get(labels[2], INK), (0, 14))
    if labels[1]:
        _axis(group, (x - 10, y), (x - 10, y + rows * _S), labels[1], colours.get(labels[1], INK), (-12, 0))
    if labels[0] and depth > 1:
        _axis(group, (x - 12, y - 8), (back[0] - 12, back[1] - 8), labels[0],
              colours.get(labels[0], INK), (-12, -10))


def blocks_svg(views: Sequence[ArrayView], colours: Mapping[str, str], title: str = "",
               lit: Mapping[str, set[tuple[int, ...]]] | None = None, prefix: str = "einviz-blocks") -> str:
    """The arrays as 3-D blocks side by side (the last after an arrow), each named with its
    labels and shape, the reasons for any slices drawn apart written underneath.

    >>> svg = blocks_svg([array_view("A", "ij", np.arange(6).reshape(2, 3))], {})
    >>> svg.count('data-operand="A"') > 0, svg.count("<text") >= 6
    (True, True)
    """
    lit = lit or {}
    extents = [_extent(view) for view in views]
    notes = [view.apart for view in views if view.apart]
    x = _MARGIN + 40
    top = _MARGIN + (30 if title else 0) + 26
    rise = max(e[2] for e in extents)
    tallest = max(e[1] for e in extents)
    body = _Element("g")
    for k, (view, (width, _, own_rise)) in enumerate(zip(views, extents)):
        if k and k == len(views) - 1:
            body.add(_Element("text", x=_n(x - 30), y=_n(top + rise + 30), font_size=24,
                              fill=MUTED, text_anchor="middle")).add_text("→")
        caption = body.add(_Element("text", x=_n(x), y=_n(top + rise - own_rise - 14), font_size=13, fill=INK))
        caption.add(_Element("tspan", font_weight="bold")).add_text(view.name + "  ")
        for label in view.labels:
            caption.add(_Element("tspan", fill=colours.get(label, INK), font_weight="bold")).add_text(label)
        caption.add(_Element("tspan", fill=MUTED)).add_text("  " + str(tuple(np.shape(view.values))[3 - len(view.labels):]))
        _draw_view(body, view, x, top + rise, colours, lit.get(view.name, set()))
        x += max(width, sans_width(view.name + "  " + "".join(view.labels), 13) + 60) + 70
    width = max(x - 40, sans_width(title, 15, True) + 2 * _MARGIN,
                *(sans_width(n, 11) + 2 * _MARGIN for n in notes))
    height = top + rise + tallest - rise + 40 + 16 * len(notes) + _MARGIN
    doc = _Document(_n(width), _n(height))
    doc.attribs.update({"id": prefix, "font-family": "'DejaVu Sans', sans-serif"})
    doc.add(_Element("rect", width="100%", height="100%", fill="#FFFFFF"))
    if title:
        heading = doc.add(_Element("text", x=_n(_MARGIN), y=_n(_MARGIN + 12), font_size=15, fill=INK))
        for char in title:
            heading.add(_Element("tspan", fill=colours.get(char, INK),
                                 font_weight="bold" if char in colours else None)).add_text(char)
    doc.add(body)
    for k, note in enumerate(notes):
        doc.add(_Element("text", x=_n(_MARGIN), y=_n(height - _MARGIN - 16 * (len(notes) - 1 - k)),
                         font_size=11, fill=MUTED, class_="einviz-note")).add_text(note)
    return doc.tostring()


def _at(origin: tuple[float, float], col: float, row: float, depth: float) -> tuple[float, float]:
    return (origin[0] + col * _S + depth * _VX, origin[1] + row * _S + depth * _VY)


def _inner_cube(parent: _Element, origin: tuple[float, float], step: tuple[int, int, int],
                cols: int, colours: Sequence[str], opacity: float | None = None) -> None:
    """The step's product: the small cube at (i, j, k), lit, with dashed lines to the A cell
    (along k), the B cell (along i) and the output cell (along j, the summed axis)."""
    i, j, k = step
    group = parent.add(_Element("g", class_="einviz-product", **{"data-index": f"{i},{j},{k}"}))
    corners = {(c, r, d): _at(origin, k + c, i + r, j + d) for c in (0, 1) for r in (0, 1) for d in (0, 1)}
    for face in (((0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)), ((0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)),
                 ((1, 0, 0), (1, 0, 1), (1, 1, 1), (1, 1, 0))):
        points = " ".join(f"{_n(corners[p][0])},{_n(corners[p][1])}" for p in face)
        group.add(_Element("polygon", points=points, fill=_LIT, fill_opacity=opacity, stroke="#8A5A00",
                           stroke_width=1.4))
    centre = _at(origin, k + 0.5, i + 0.5, j + 0.5)
    targets = ((_at(origin, cols, i + 0.5, j + 0.5), colours[2]), (_at(origin, k + 0.5, 0, j + 0.5), colours[0]),
               (_at(origin, k + 0.5, i + 0.5, 0), colours[1]))
    for (x, y), colour in targets:
        group.add(_Element("path", d=f"M{_n(centre[0])},{_n(centre[1])} L{_n(x)},{_n(y)}", stroke=colour,
                           stroke_width=2.5, stroke_dasharray="5 3", fill="none"))
        group.add(_Element("circle", cx=_n(x), cy=_n(y), r=3, fill=colour))


def _cube_faces(a: np.ndarray, b: np.ndarray, out: np.ndarray, names: tuple[str, str],
                origin: tuple[float, float], step: tuple[int, int, int]) -> list[tuple]:
    """Each face of the cube: kind, matrix, cells, the cell lit at ``step``, array, index."""
    depth = a.shape[1]
    cols = b.shape[1]
    i, j, k = step
    x, y = origin
    return [("front", (_S, 0, 0, _S, x, y), out, {(i, k)}, "out", lambda w, u: f"{w},{u}"),
            ("top", (_S, 0, -_VX, -_VY, x + depth * _VX, y + depth * _VY), b[::-1], {(depth - 1 - j, k)},
             names[1], lambda w, u: f"{depth - 1 - w},{u}"),
            ("right", (_VX, _VY, 0, _S, x + cols * _S, y), a, {(i, j)}, names[0], lambda w, u: f"{w},{u}")]


def _cube_document(shape: tuple[int, int, int], labels: tuple[str, str, str], names: tuple[str, str],
                   colours: Mapping[str, str], title: str, captions: Sequence[str], prefix: str
                   ) -> tuple[_Document, tuple[float, float], float]:
    """The canvas, title, axes and face names of the cube; its origin and height."""
    rows, depth, cols = shape
    origin = (_MARGIN + 60.0, _MARGIN + (30 if title else 0) + 30 - depth * _VY)
    width = max(origin[0] + cols * _S + depth * _VX + 70 + _MARGIN, sans_width(title, 15, True) + 2 * _MARGIN,
                *(sans_width(caption, 13) + 2 * _MARGIN for caption in captions))
    height = origin[1] + rows * _S + 80 + _MARGIN
    doc = _Document(_n(width), _n(height))
    doc.attribs.update({"id": prefix, "font-family": "'DejaVu Sans', sans-serif"})
    doc.add(_Element("rect", width="100%", height="100%", fill="#FFFFFF"))
    if title:
        heading = doc.add(_Element("text", x=_n(_MARGIN), y=_n(_MARGIN + 12), font_size=15, fill=INK))
        for char in title:
            heading.add(_Element("tspan", fill=colours.get(char, INK),
                                 font_weight="bold" if char in colours else None)).add_text(char)
    return doc, origin, height


def _cube_labels(doc: _Element, origin: tuple[float, float], shape: tuple[int, int, int],
                 labels: tuple[str, str, str], names: tuple[str, str], colours: Mapping[str, str]) -> None:
    rows, depth, cols = shape
    colour = [colours.get(label, INK) for label in labels]
    _axis(doc, _at(origin, 0, rows, 0), _at(origin, cols, rows, 0), labels[2], colour[2], (0, 22))
    _axis(doc, _at(origin, 0, 0, 0), _at(origin, 0, rows, 0), labels[0], colour[0], (-14, 0))
    _axis(doc, _at(origin, 0, 0, 0), _at(origin, 0, 0, depth), labels[1], colour[1], (-14, -8))
    for text, (tx, ty), anchor in ((names[1], _at(origin, cols / 2, 0, depth), "middle"),
                                   (names[0], _at(origin, cols, rows / 2, depth), "start"),
                                   ("out", _at(origin, cols / 2, rows, 0), "middle")):
        dy = -10 if text == names[1] else 44 if text == "out" else 4
        doc.add(_Element("text", x=_n(tx + (10 if anchor == "start" else 0)), y=_n(ty + dy), font_size=14,
                         font_weight="bold", fill=INK, text_anchor=anchor)).add_text(text)


def cube_svg(a: np.ndarray, b: np.ndarray, out: np.ndarray, labels: tuple[str, str, str],
             names: tuple[str, str], colours: Mapping[str, str], step: tuple[int, int, int] | None = None,
             caption: str = "", title: str = "", prefix: str = "einviz-cube") -> str:
    """The iteration space of ``out[i,k] = Σ_j a[i,j]·b[j,k]`` (``labels`` = (i, j, k)): the
    result on the front face, ``b`` on the top, ``a`` on the right, ``step`` = (i, j, k) lit.

    >>> svg = cube_svg(np.ones((2, 3)), np.ones((3, 2)), np.full((2, 2), 3.0), ("i", "j", "k"),
    ...                ("A", "B"), {}, step=(0, 1, 1))
    >>> svg.count('class="einviz-product"')
    1
    """
    shape = (a.shape[0], a.shape[1], b.shape[1])
    doc, origin, height = _cube_document(shape, labels, names, colours, title, [caption], prefix)
    if step is not None:
        # Drawn first: the faces, translucent, show it inside the cube.
        _inner_cube(doc, origin, step, shape[2], [colours.get(label, INK) for label in labels])
    for kind, matrix, cells, lit, name, index in _cube_faces(a, b, out, names, origin, step or (-1, -1, -1)):
        group = doc.add(_Element("g", class_="einviz-block", **{"data-operand": name}))
        _face(group, kind, matrix, cells, lit if step is not None else set(),
              {(w, u): index(w, u) for (w, u), _ in np.ndenumerate(cells)}, opacity=0.5)
    _cube_labels(doc, origin, shape, labels, names, colours)
    if caption:
        doc.add(_Element("text", x=_n(_MARGIN), y=_n(height - _MARGIN), font_size=13,
                         fill=INK, class_="einviz-caption")).add_text(caption)
    return doc.tostring()


def cube_animated_svg(a: np.ndarray, b: np.ndarray, out: np.ndarray, labels: tuple[str, str, str],
                      names: tuple[str, str], colours: Mapping[str, str],
                      frames: Sequence[tuple[tuple[int, int, int], str]], title: str = "",
                      seconds: float = 0.9, prefix: str = "einviz-cube") -> str:
    """The cube with its steps lit in turn (CSS, no script): the faces drawn once, each frame
    a group of changes (the three lit cells, the product's cube, the caption). Where nothing
    animates the last frame shows."""
    shape = (a.shape[0], a.shape[1], b.shape[1])
    doc, origin, height = _cube_document(shape, labels, names, colours, title, [c for _, c in frames], prefix)
    doc.defs.add(doc.style(""))
    for kind, matrix, cells, _, name, index in _cube_faces(a, b, out, names, origin, (-1, -1, -1)):
        group = doc.add(_Element("g", class_="einviz-block", **{"data-operand": name}))
        _face(group, kind, matrix, cells, set(), {(w, u): index(w, u) for (w, u), _ in np.ndenumerate(cells)})
    css = [f"#{prefix} .einviz-frame{{animation:{seconds * len(frames):.2f}s step-end infinite}}"]
    for k, (step, caption) in enumerate(frames):
        last = k == len(frames) - 1
        keys = f"0%{{opacity:{1 if k == 0 else 0}}}{100 * k / len(frames):.2f}%{{opacity:1}}"
        keys += "" if last else f"{100 * (k + 1) / len(frames):.2f}%{{opacity:0}}"
        css += [f"@keyframes {prefix}-f{k}{{{keys}}}",
                f"#{prefix} .einviz-frame[data-frame='{k}']{{animation-name:{prefix}-f{k}}}"]
        group = doc.add(_Element("g", class_="einviz-frame", opacity=1 if last else 0, **{"data-frame": str(k)}))
        for _, (ma, mb, mc, md, me, mf), _, lit, name, _ in _cube_faces(a, b, out, names, origin, step):
            (w, u), = lit
            group.add(_Element("rect", x=u, y=w, width=1, height=1, fill=_LIT, fill_opacity=0.6,
                               transform=f"matrix({ma:.3f},{mb:.3f},{mc:.3f},{md:.3f},{me:.3f},{mf:.3f})",
                               **{"data-operand": name}))
        # Over the faces here (they are drawn once, under every frame): see-through.
        _inner_cube(group, origin, step, shape[2], [colours.get(label, INK) for label in labels], 0.4)
        group.add(_Element("text", x=_n(_MARGIN), y=_n(height - _MARGIN), font_size=13, fill=INK,
                           class_="einviz-caption")).add_text(caption)
    _cube_labels(doc, origin, shape, labels, names, colours)
    doc.css = "\n".join(css)
    return doc.tostring()
