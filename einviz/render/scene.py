"""The scene: an einsum's picture laid out once, in plain coordinates, that every view draws.

A :class:`Scene` is format-independent. It holds what never changes during an animation
(the call, the formula, every array as a grid of cells with labelled axes, the loop code)
and a list of :class:`Frame` records, each one a small set of *changes* to that base: which
cells light up (:class:`Mark`), the output cell's running sum, the output cells whose final
value appears, the caption, the lit code line and the loop variables' values.

Every view is drawn from this one source: the animated SVG toggles each frame's changes on
and off with CSS, a GIF can rasterise the base once and each frame's changes on top, and an
HTML player can toggle the same elements with classes (see :mod:`einviz.render.svg`). No
view computes einsum: the numbers all come from the :class:`~einviz.tracing.Trace`.

:func:`build_scene` makes one from the stages below it: :mod:`.text` (numbers, widths,
coloured lines), :mod:`.layout` (the grids and their arrangement) and :mod:`.frames` (what
each frame changes). The element types live with the stage that makes them and are
re-exported here, so ``from einviz.render.scene import Frame, Span`` keeps working.

>>> import numpy as np
>>> from einviz.tracing import trace
>>> scene = build_scene(trace("ij->i", np.array([[1, 2], [3, 4]])), granularity="step")
>>> [f.kind for f in scene.frames][-5:]
['step', 'step', 'step', 'step', 'final']
>>> scene.frames[-2].caption_text()
['out[1] += A[1,1]', 'out[1] = 3 + 4 = 7']
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import ArgumentTypeError, EinvizError, LimitError
from ..explaining import Explanation, explain
from ..planning import get_limits
from .frames import MAX_OPENING_FRAMES, Frame, Frames, Mark, Running
from .layout import (
    CELL_H,
    CELL_MIN_W,
    CODE_LINE,
    CODE_SIZE,
    MARGIN,
    MAX_ROW_WIDTH,
    VALUE_BASELINE,
    Bounds,
    Box,
    CodePanel,
    Corner,
    Layout,
    fit,
    smallest_cells,
)
from .product import product_parts
from .text import (
    MONO_EM,
    Span,
    Text,
    call_spans,
    code_lines,
    format_factor,
    format_value,
    formula_spans,
    legend_spans,
    line_width,
    mono_width,
)

if TYPE_CHECKING:
    from ..planning import LoopPlan
    from ..tracing import Trace

__all__ = [
    "CAPTION_LINE",
    "CAPTION_SIZE",
    "CODE_LINE",
    "CODE_SIZE",
    "VALUE_BASELINE",
    "Box",
    "CodePanel",
    "Frame",
    "Mark",
    "Running",
    "Scene",
    "Span",
    "Text",
    "build_scene",
    "check_figure",
    "format_factor",
    "format_value",
    "mono_width",
]

#: What a frame may show: ``"auto"`` picks the finest whose frames fit.
GRANULARITIES = ("auto", "step", "cell")
#: The pictures of an einsum: its loops, or its product over every label, then the sum.
VIEWS = ("grid", "product")
HEADER_SIZE = 15
FORMULA_SIZE = 13.5
LEGEND_SIZE = 12
CAPTION_SIZE = 13
CAPTION_LINE = 19
MIN_WIDTH = 560
MAX_CAPTION_CHARS = 96


@dataclass
class Scene:
    """The laid-out picture of one traced einsum, and its frames.

    Attributes:
        plan: the loop plan.
        width, height: the canvas size in px.
        colours: label -> colour.
        boxes: static rectangles (cells, gaps, panels); grid cells carry operand and index.
        texts: static text (call, formula, legend, titles, axes, ticks, cell values).
        finals: visible output cell -> the text of its final value.
        code: the loop code panel.
        caption_x, caption_y: the first caption line's baseline start.
        label_spots: label -> rectangles to light when a frame highlights that label.
        frames: the frames, in order.
        granularity: ``"step"``, ``"cell"`` or ``"sample"`` (a stated sample of cells).
        cell_w, cell_h: the size of every grid cell.
    """

    plan: LoopPlan
    width: float
    height: float
    colours: dict[str, str]
    boxes: list[Box]
    texts: list[Text]
    finals: dict[tuple[int, ...], Text]
    code: CodePanel
    caption_x: float
    caption_y: float
    label_spots: dict[str, list[tuple[float, float, float, float]]]
    frames: list[Frame] = field(default_factory=list)
    granularity: str = "step"
    cell_w: float = CELL_MIN_W
    cell_h: float = CELL_H

    @property
    def n_frames(self) -> int:
        return len(self.frames)

    @property
    def duration(self) -> float:
        """One loop of the animation, in seconds."""
        return sum(frame.duration for frame in self.frames)

    def starts(self) -> list[float]:
        """When each frame starts, in seconds from the loop's start."""
        return list(itertools.accumulate((f.duration for f in self.frames), initial=0.0))[:-1]

    def finished_by(self, number: int) -> list[tuple[int, ...]]:
        """Output cells whose final value shows at frame ``number``."""
        done: list[tuple[int, ...]] = []
        for frame in self.frames[: number + 1]:
            done.extend(frame.finished)
        return done

    def frame_table(self) -> list[dict[str, Any]]:
        """The frames as JSON-ready dicts (for players that drive the SVG's elements)."""
        return [
            {
                "frame": f.number,
                "kind": f.kind,
                "steps": [f.steps[0], f.steps[-1]] if len(f.steps) else None,
                "duration": f.duration,
                "hold": f.hold,
                "lit": [
                    {"operand": m.operand, "index": list(m.index) if m.index is not None else None,
                     "values": {label: list(v) for label, v in m.values}, "role": m.role}
                    for m in f.marks
                ],
                "running": None if f.running is None else
                {"index": list(f.running.index), "text": f.running.text},
                "finished": [list(index) for index in f.finished],
                "caption": f.caption_text(),
                "code_line": f.code_line,
                "loop_values": dict(f.loop_values),
                "labels": list(f.labels),
            }
            for f in self.frames
        ]


# -- building ------------------------------------------------------------------------------------
def build_scene(
    trace: Trace,
    granularity: str = "auto",
    max_frames: int = 120,
    frame_ms: float | None = None,
    max_axis: int = 8,
    max_slices: int = 4,
    explanation: Explanation | None = None,
    colours: Mapping[str, str] | None = None,
    view: str = "grid",
) -> Scene:
    """Lay out the picture of a traced einsum and make its frames.

    Args:
        trace: the traced einsum.
        granularity: ``"step"``, ``"cell"`` or ``"auto"`` (the finest whose frames fit
            ``max_frames``; when even the cells do not fit, a stated sample of cells).
        max_frames: the most frames, opening and final frames included.
        frame_ms: how long a step or cell frame shows (opening and final frames hold
            longer); default 700 ms a step, 1.6 s a cell.
        max_axis: axes longer than this are cut with an ellipsis cell.
        max_slices: leading axes (of 3-d and larger arrays) longer than this are cut.
        explanation: the trace's :class:`~einviz.explaining.Explanation`, whose sentences open
            the animation and close it (default: made here from the trace's plan; pass one
            already made so the einsum is explained once).
        colours: label colours to use instead of the palette's (a contraction path's step
            figures take the whole expression's, so a letter keeps its colour in every one).
        view: ``"grid"`` (the loops' multiply-adds, as ``granularity`` says) or
            ``"product"`` (product, then sum: see :mod:`einviz.render.product`).

    Returns:
        The :class:`Scene`.

    Raises:
        LimitError: the figure would be over a limit of :func:`einviz.get_limits` (see
            :func:`check_figure`).
    """
    max_frames, frame_ms, max_axis, max_slices = _checked(
        granularity, max_frames, frame_ms, max_axis, max_slices)
    if view not in VIEWS:
        raise EinvizError(f"view must be one of {', '.join(map(repr, VIEWS))}, not {view!r}",
                          hint="'grid' shows the loops' multiply-adds, 'product' the product "
                               "over every label, then the sum")
    if explanation is None:
        explanation = explain(trace.plan)
    if view == "product":
        picture, make, code = product_parts(trace, max_frames, explanation)
        return build_scene_from(picture, trace.plan, make, code, max_frames, max_axis, max_slices,
                                colours, "product")
    resolved = ""

    def frames(layout: Layout, code: CodePanel, chars: int) -> list[Frame]:
        nonlocal resolved
        made, resolved = Frames(layout, code, chars, frame_ms).build(
            granularity, max_frames, explanation.sentences)
        return made

    scene = build_scene_from(trace, trace.plan, frames, code_lines(trace.plan), max_frames, max_axis,
                             max_slices, colours, "")
    scene.granularity = resolved
    return scene


def build_scene_from(picture: Any, plan: LoopPlan,
                     make_frames: Callable[[Layout, CodePanel, int], list[Frame]],
                     code: tuple[list[tuple[Span, ...]], int, dict[str, int]], max_frames: int,
                     max_axis: int, max_slices: int, colours: Mapping[str, str] | None,
                     granularity: str) -> Scene:
    """A scene of ``plan`` (its header) drawing the arrays of ``picture`` (anything with a
    ``plan``, ``operands`` and a ``result``, as a trace has), with ``code`` in its panel and
    the frames ``make_frames`` makes from the placed layout, the panel and the caption's
    characters a line."""
    check_figure(picture.plan, max_axis, max_frames)
    layout, bounds, corner = fit(picture, max_axis, max_slices, colours)
    width, panel, grids_bottom = _place(layout, bounds, corner, plan, code)
    # Captions: as many characters as fit the width.
    chars = min(MAX_CAPTION_CHARS, int((width - 2 * MARGIN) / (MONO_EM * CAPTION_SIZE)))
    frames = make_frames(layout, panel, chars)
    n_lines = max((len(f.caption) for f in frames), default=1)
    caption_y = round(grids_bottom + 30 + CAPTION_SIZE)
    height = math.ceil(caption_y + CAPTION_LINE * (max(n_lines, 2) - 1) + MARGIN + 4)
    return Scene(
        plan=plan, width=width, height=height, colours=layout.colours, boxes=layout.boxes,
        texts=layout.texts, finals=layout.finals, code=panel, caption_x=MARGIN, caption_y=caption_y,
        label_spots=layout.label_spots, frames=frames, granularity=granularity,
        cell_w=layout.cell_w, cell_h=layout.cell_h,
    )


def check_figure(plan: LoopPlan, max_axis: int = 8, max_frames: int = 120) -> None:
    """Refuse, from the plan alone and before anything is drawn or allocated, a figure over
    the limits of :func:`einviz.get_limits`.

    * ``max_drawn_dims``: an array with more dimensions is not drawn.
    * ``max_drawn_cells``: the grid cells drawn, every array together, with every axis cut
      as short as the layout may cut it (see :func:`~einviz.render.layout.smallest_cells`).
    * ``max_frames``: the frames the figure may have: one a step (or an output cell), plus
      the opening and final frames, at most the ``max_frames`` asked for. An ``auto``
      figure that needs more frames than ``max_frames`` shows cells or a sample instead, so
      a smaller ``max_frames`` always fits.

    Args:
        plan: the plan to draw.
        max_axis: the figure's ``max_axis`` (axes longer than this are cut).
        max_frames: the figure's ``max_frames``.

    Raises:
        LimitError: over a limit; the message gives the numbers.

    >>> from einviz.planning import plan
    >>> check_figure(plan("ij,jk->ik", shapes=[(64, 64), (64, 64)]), max_frames=10**12)
    Traceback (most recent call last):
    ...
    einviz.errors.LimitError: max_frames=1,000,000,000,000 lets the figure have 262,148 frames, more than the limit of 10,000
    ...
    """
    bounds = get_limits()
    text = plan.equation.text_for_carets()
    for name, shape in (*zip(plan.names, plan.shapes), ("out", plan.out_shape)):
        if len(shape) > bounds.max_drawn_dims:
            raise LimitError(
                f"{name} has {len(shape)} dimensions, more than the {bounds.max_drawn_dims} a figure "
                "draws", subscripts=text, details=[f"{name}: shape {shape}"],
                hint="raise it with `with einviz.limits(max_drawn_dims=...)`; einviz.einsum and "
                     "einviz.trace have no such limit")
    cells = smallest_cells(plan, max_axis)
    if cells > bounds.max_drawn_cells:
        shapes = "   ".join(f"{name}: {shape}" for name, shape in zip(plan.names, plan.shapes))
        raise LimitError(
            f"the figure would draw {cells:,} grid cells even with its axes cut short, more than "
            f"the limit of {bounds.max_drawn_cells:,}", subscripts=text,
            details=[f"{shapes}   out: {plan.out_shape}"],
            hint="raise it with `with einviz.limits(max_drawn_cells=...)`, or use fewer or smaller "
                 "dimensions")
    n_cells = math.prod(plan.out_shape)
    possible = min(max_frames, max(plan.n_steps, n_cells) + MAX_OPENING_FRAMES + 1)
    if possible > bounds.max_frames:
        raise LimitError(
            f"max_frames={max_frames:,} lets the figure have {possible:,} frames, more than the limit "
            f"of {bounds.max_frames:,}", subscripts=text,
            details=[(f"the einsum has {plan.n_steps:,} steps and {n_cells:,} output cells, up to "
                      "a frame each, and the opening and final frames")],
            hint=f"give max_frames={bounds.max_frames:,} or less (granularity='auto' then shows cells "
                 "or a sample of them), or raise the limit with `with einviz.limits(max_frames=...)`")


def _integer(value: Any, what: str) -> int:
    """An option that counts something: an int (or numpy integer), never a bool or float."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ArgumentTypeError(f"{what} must be an integer, not {value!r}",
                                hint=f"e.g. {what}=120")
    return int(value)


def _checked(granularity: str, max_frames: Any, frame_ms: Any, max_axis: Any,
             max_slices: Any) -> tuple[int, float | None, int, int]:
    """build_scene's options checked: ``max_frames``, ``frame_ms``, ``max_axis``, ``max_slices``."""
    if granularity not in GRANULARITIES:
        raise EinvizError(
            f"granularity must be one of {', '.join(map(repr, GRANULARITIES))}, not {granularity!r}",
            hint="'step' shows each multiply-add, 'cell' each output cell, 'auto' picks",
        )
    max_frames = _integer(max_frames, "max_frames")
    if max_frames < 1:
        raise EinvizError(f"max_frames must be at least 1, not {max_frames!r}",
                          hint="the final picture alone is one frame")
    if frame_ms is not None:
        number = not isinstance(frame_ms, bool) and isinstance(frame_ms, (int, float, np.number))
        if not number or not 0 < frame_ms < math.inf:
            raise (EinvizError if number else ArgumentTypeError)(
                f"frame_ms must be a positive number of milliseconds, not {frame_ms!r}",
                hint="e.g. frame_ms=700 shows each step frame for 0.7 s; None: the default")
        frame_ms = float(frame_ms)
    max_axis, max_slices = _integer(max_axis, "max_axis"), _integer(max_slices, "max_slices")
    if max_axis < 3 or max_slices < 3:
        raise EinvizError("max_axis and max_slices must be at least 3",
                          hint="a cut axis shows its first cells, an ellipsis and its last cell")
    return max_frames, frame_ms, max_axis, max_slices


class _Header(NamedTuple):
    """The lines over the grids: the call, the formula, the legend (each with its font size)."""

    lines: list[tuple[Text, float]]

    @classmethod
    def of(cls, plan: LoopPlan) -> _Header:
        return cls([
            (Text(0, 0, call_spans(plan), HEADER_SIZE, font="mono", weight="bold", role="call"), HEADER_SIZE),
            (Text(0, 0, formula_spans(plan), FORMULA_SIZE, font="mono", role="formula"), FORMULA_SIZE),
            (Text(0, 0, legend_spans(plan), LEGEND_SIZE, font="mono", role="legend"), LEGEND_SIZE),
        ])

    @property
    def width(self) -> float:
        return max(line_width(t.spans, size) for t, size in self.lines)

    def draw(self, layout: Layout, ys: Sequence[float]) -> None:
        """The header's texts, and a spot behind each of its labels (mono: exact)."""
        for (text, _), hy in zip(self.lines, ys):
            layout.texts.append(Text(MARGIN, hy, text.spans, text.size, font=text.font,
                                     weight=text.weight, role=text.role))
            offset = 0
            for span in text.spans:
                if span.label is not None:
                    x = MARGIN + mono_width("x" * offset, text.size)
                    layout.label_spots.setdefault(span.label, []).append(
                        (x + 0.5, hy - text.size + 1, mono_width(span.text, text.size) - 1, text.size + 4))
                offset += len(span.text)


def _place(layout: Layout, bounds: Bounds, corner: Corner, plan: LoopPlan,
           code_text: tuple[list[tuple[Span, ...]], int, dict[str, int]]) -> tuple[int, CodePanel, float]:
    """Place the header (of ``plan``), the grids and the code panel (in the tableau's free
    corner, beside the grids or under them), and draw them; return the width, the code panel
    and where the body ends."""
    x0, y0, x1, y1 = bounds
    grids_w, grids_h = x1 - x0, y1 - y0
    header = _Header.of(plan)
    lines, statement, label_lines = code_text
    for_chars = max((len("".join(s.text for s in lines[i])) for i in label_lines.values()), default=0)
    value_chars = max((len(f"{label} = 0–{plan.sizes[label] - 1}") for label in plan.labels), default=0)
    chars = max(max(len("".join(s.text for s in line)) for line in lines), for_chars + 3 + value_chars)
    code_w = mono_width("x" * chars, CODE_SIZE) + 24
    code_h = CODE_LINE * len(lines) + 16
    code_place = "below"
    if corner is not None and corner[2] >= code_w and corner[3] >= code_h:
        code_place = "corner"
    elif grids_w + 30 + code_w <= MAX_ROW_WIDTH:
        code_place = "right"
    body_w = grids_w + (30 + code_w if code_place == "right" else 0)
    width = math.ceil(max(MIN_WIDTH, body_w, header.width, code_w) + 2 * MARGIN)
    y: float = MARGIN + HEADER_SIZE
    header_y = []
    for _, size in header.lines:
        header_y.append(y)
        y += size + 9
    top = y + 12
    grids_left = MARGIN + (width - 2 * MARGIN - body_w) / 2
    layout.shift(grids_left - x0, top - y0)
    grids_bottom = top + (code_h if code_place == "right" and grids_h < code_h else grids_h)
    if code_place == "corner":
        assert corner is not None
        cx = grids_left + max(0.0, (corner[2] - code_w) / 2)
        cy = top + max(0.0, (corner[3] - code_h) / 2)
    elif code_place == "right":
        cx = grids_left + grids_w + 30
        cy = top + max(0.0, (grids_h - code_h) / 2) if grids_h > code_h else top
    else:
        cx = MARGIN + (width - 2 * MARGIN - code_w) / 2
        cy = grids_bottom + 22
        grids_bottom = cy + code_h
    cx, cy = round(cx), round(cy)
    value_x = round(cx + 12 + mono_width("x" * (for_chars + 3), CODE_SIZE))
    code = CodePanel(cx, cy, code_w, code_h, tuple(lines), statement, label_lines, value_x)
    header.draw(layout, header_y)
    for block in layout.placed:
        block.draw()
    layout.arrow()
    _code_spots(layout, code)
    return width, code, grids_bottom


def _code_spots(layout: Layout, code: CodePanel) -> None:
    """A spot behind each loop variable in its ``for`` line, to light with its label."""
    for label, line in code.label_lines.items():
        spans = code.lines[line]
        offset = len(spans[0].text)
        x = code.x + 12 + mono_width("x" * offset, CODE_SIZE)
        layout.label_spots.setdefault(label, []).append(
            (x - 1.5, code.line_y(line) - CODE_SIZE + 1, mono_width(spans[1].text, CODE_SIZE) + 3,
             CODE_SIZE + 4))
