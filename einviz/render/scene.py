"""Lay out an einsum's picture once, in plain coordinates: the scene every view draws.

A :class:`Scene` is format-independent. It holds what never changes during an animation
(the call, the formula, every array as a grid of cells with labelled axes, the loop code)
and a list of :class:`Frame` records, each one a small set of *changes* to that base: which
cells light up (:class:`Mark`), the output cell's running sum, the output cells whose final
value appears, the caption, the lit code line and the loop variables' values.

Every view is drawn from this one source: the animated SVG toggles each frame's changes on
and off with CSS, a GIF can rasterise the base once and each frame's changes on top, and an
HTML player can toggle the same elements with classes (see :mod:`einviz.render.svg`). No
view computes einsum: the numbers all come from the :class:`~einviz.trace.Trace`.

>>> import numpy as np
>>> from einviz.trace import trace
>>> scene = build_scene(trace("ij->i", np.array([[1, 2], [3, 4]])), granularity="step")
>>> [f.kind for f in scene.frames][-5:]
['step', 'step', 'step', 'step', 'final']
>>> scene.frames[-2].caption_text()[0]
'out[1] += A[1,1] = 4  →  7'
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..errors import ArgumentTypeError, EinvizError
from ..plan import LoopPlan
from ..trace import Trace
from .palette import label_colours

__all__ = [
    "Box",
    "CodePanel",
    "Frame",
    "Mark",
    "Running",
    "Scene",
    "Span",
    "Text",
    "build_scene",
    "format_factor",
    "format_value",
]

GRANULARITIES = ("auto", "step", "cell")

# -- metrics (px). DejaVu Sans Mono advances 0.602 em per character; DejaVu Sans varies.
MONO_EM = 0.602
MARGIN = 18
CELL_H = 26
CELL_MIN_W = 30
VALUE_SIZE = 13
VALUE_BASELINE = 18  # from a cell's top to its value's baseline
TICK_SIZE = 10
TICK_H = 13
AXIS_SIZE = 12
AXIS_H = 16
TITLE_SIZE = 15
TITLE_H = 21
SLICE_SIZE = 11.5
SLICE_H = 16
CODE_SIZE = 12.5
CODE_LINE = 18
CAPTION_SIZE = 13
CAPTION_LINE = 19
#: The room between a row axis' title (``j 3``) and its index ticks, so the two never read
#: as one run of numbers (``j 3 1``).
ROW_TITLE_GAP = 8
HEADER_SIZE = 15
FORMULA_SIZE = 13.5
LEGEND_SIZE = 12
MIN_WIDTH = 560
MAX_CHARS = 5  # characters a cell fits at full size
MIN_VALUE_SIZE = 9.5  # the smallest font a cell's number is drawn in, where the width allows
SMALLEST_VALUE_SIZE = 7.0  # ... and where it does not (the SVG writer's floor)
MAX_CAPTION_CHARS = 96
MAX_ROW_WIDTH = 640 - 2 * MARGIN  # the figure fits 640 px
MAX_GRIDS_HEIGHT = 1000
FRAME_MS = {"step": 700, "cell": 1600, "sample": 1600}


# -- numbers ---------------------------------------------------------------------------------
def format_value(value: Any) -> str:
    """A number written compactly: integers as integers, floats to 3 significant digits
    (from 1000 to 99999, to the nearest whole number).

    Negative numbers take a true minus sign.

    >>> [format_value(v) for v in (3, -12, 0.5, 2/3, -1234.4, 4.567e-4, 2.5e6, True, float("inf"))]
    ['3', '−12', '0.5', '0.667', '−1234', '4.57e−4', '2.5e6', '1', '∞']
    """
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value)).replace("-", "−")
    if isinstance(value, (complex, np.complexfloating)):
        real, imag = format_value(value.real), format_value(abs(value.imag))
        sign = "−" if value.imag < 0 else "+"
        return f"{real}{sign}{imag}j".replace("−", "-", 0)
    number = float(value)
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    if number == 0:
        return "0"
    if 1e3 <= abs(number) < 1e5:
        # Thousands read better whole than as 1.25e3; rounded to 3 significant digits
        # (12300 for 12345.6) they would look exact and wrong, so to the nearest whole.
        return str(int(round(number))).replace("-", "−")
    text = f"{number:.3g}"
    if abs(number) < 1e-3:
        text = f"{number:.2e}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        text = f"{mantissa}e{int(exponent)}"
    return text.replace("-", "−")


def format_factor(value: Any) -> str:
    """A number as a factor inside a product: negatives in parentheses.

    >>> format_factor(-1), format_factor(2.5)
    ('(−1)', '2.5')
    """
    text = format_value(value)
    return f"({text})" if text.startswith("−") or "+" in text.lstrip("−") else text


# -- drawing primitives ------------------------------------------------------------------------
class Span(NamedTuple):
    """A run of text: coloured (and bold) as ``label`` when given, else in ``tone``."""

    text: str
    label: str | None = None
    tone: str | None = None  # None (ink), "muted", "strong"


class Text(NamedTuple):
    """A line of text; ``x, y`` is its anchor on the baseline."""

    x: float
    y: float
    spans: tuple[Span, ...]
    size: float = 12.0
    font: str = "sans"  # "sans" | "mono"
    anchor: str = "start"  # "start" | "middle" | "end"
    weight: str = "normal"
    tone: str | None = None
    role: str = ""

    @property
    def plain(self) -> str:
        return "".join(span.text for span in self.spans)


class Box(NamedTuple):
    """A rectangle: a grid cell (``operand`` and ``index`` set), a gap cell, or a panel."""

    x: float
    y: float
    w: float
    h: float
    role: str  # "cell", "out", "gap", "slice-gap", "panel", "band"
    operand: str | None = None
    index: tuple[int, ...] | None = None
    text: str = ""

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2


class Mark(NamedTuple):
    """A lit cell in a frame, drawn over the cell at ``x, y``.

    A mark stands for exactly one cell (``index``), or, where an axis is cut, for several
    hidden cells drawn on one ellipsis cell: then ``index`` is ``None`` and ``values`` gives,
    for each label that varies, the values it takes (the cells are every combination,
    read through the operand's term; a broadcast axis always reads 0).
    """

    operand: str
    x: float
    y: float
    index: tuple[int, ...] | None
    values: tuple[tuple[str, tuple[int, ...]], ...] = ()
    hidden: bool = False

    def cells(self, term: Sequence[str], broadcast: Sequence[bool]) -> set[tuple[int, ...]]:
        """The cells this mark stands for, given the operand's term and broadcast axes."""
        if self.index is not None:
            return {self.index}
        names = [label for label, _ in self.values]
        result = set()
        for combo in itertools.product(*(vals for _, vals in self.values)):
            value = dict(zip(names, combo))
            result.add(tuple(0 if b else value[label] for label, b in zip(term, broadcast)))
        return result

    @property
    def data_values(self) -> str:
        """``values`` written as ``"i=0;j=6:18"`` (runs as ``a:b``, inclusive; joined by ``+``)."""
        return ";".join(f"{label}={_runs(vals)}" for label, vals in self.values)


class Running(NamedTuple):
    """An output cell's running sum, shown during a frame."""

    index: tuple[int, ...]
    text: str
    x: float
    y: float


class Frame(NamedTuple):
    """One picture of the animation, as changes to the scene's base.

    Attributes:
        number: the frame's position (0-based).
        kind: ``"intro"`` (narrative), ``"step"`` (one multiply-add), ``"cell"`` (one output
            cell's whole sum) or ``"final"`` (everything done).
        steps: the trace steps the frame covers (empty for intro and final frames).
        duration: how long it shows, in seconds.
        marks: the lit cells, inputs and output.
        running: the output cell's running sum (``None`` when its final value shows).
        finished: output cells whose final value appears at this frame and stays.
        caption: lines of text, each a tuple of spans.
        code_line: the lit line of the scene's code panel (``None``: none).
        loop_values: ``(label, text)`` shown beside each loop's line.
        labels: labels whose axes and letters are highlighted (intro frames).
        outlines: the slices (of arrays drawn as several 2-d slices) that hold a lit cell,
            ``(x, y, w, h)``, outlined so the eye finds the lit cell.
        spots: cells tinted in a label's colour to point at them, not lit: ``(x, y, w, h,
            label)``; the diagonal a repeated label walks, in the opening frame that says so
            and in the final frame.
    """

    number: int
    kind: str
    steps: range
    duration: float
    marks: tuple[Mark, ...] = ()
    running: Running | None = None
    finished: tuple[tuple[int, ...], ...] = ()
    caption: tuple[tuple[Span, ...], ...] = ()
    code_line: int | None = None
    loop_values: tuple[tuple[str, str], ...] = ()
    labels: tuple[str, ...] = ()
    outlines: tuple[tuple[float, float, float, float], ...] = ()
    spots: tuple[tuple[float, float, float, float, str], ...] = ()

    @property
    def data_steps(self) -> str:
        """The steps covered, as ``"first-last"`` (``""`` when none)."""
        return f"{self.steps[0]}-{self.steps[-1]}" if len(self.steps) else ""

    def caption_text(self) -> list[str]:
        """The caption as plain lines."""
        return ["".join(span.text for span in line) for line in self.caption]


class CodePanel(NamedTuple):
    """The loop code, with where each loop's value is shown."""

    x: float
    y: float
    w: float
    h: float
    lines: tuple[tuple[Span, ...], ...]
    statement: int  # index of the line with the multiply-add
    label_lines: dict[str, int]  # label -> its for-line
    value_x: float

    def line_y(self, line: int) -> float:
        """The baseline of a line."""
        return self.y + 20 + CODE_LINE * line

    def line_box(self, line: int) -> Box:
        """The band behind a line, for lighting it."""
        top = self.y + 7 + CODE_LINE * line
        return Box(self.x + 3, top, self.w - 6, CODE_LINE, "codeline")


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
                "lit": [
                    {"operand": m.operand, "index": list(m.index) if m.index is not None else None,
                     "values": {label: list(v) for label, v in m.values}}
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


# -- helpers -------------------------------------------------------------------------------------
def _by_place(values: Sequence[int], slots: list[list[int | None]]) -> list[Sequence[int]]:
    """A label's values grouped by the cell they are drawn in, on every axis it names: each
    shown value alone, the values an ellipsis hides together (in order of first value).

    A long run of values (a summed label's whole range) is split by arithmetic, not value by
    value: a label's axes are cut alike, so a cut hides one run of indices.
    """
    if isinstance(values, range) and values.step == 1 and len({tuple(s) for s in slots}) == 1:
        shown = [v for v in slots[0] if v is not None]
        hidden = range(0)
        if None in slots[0]:
            position = slots[0].index(None)
            low = slots[0][position - 1] + 1 if position else 0
            high = slots[0][position + 1] if position + 1 < len(slots[0]) else low
            hidden = range(max(values.start, low), min(values.stop, high))
        groups: list[Sequence[int]] = [(v,) for v in shown if v in values and v < hidden.start]
        if len(hidden):
            groups.append(hidden)
        groups += [(v,) for v in shown if v in values and v >= hidden.start and (v,) not in groups]
        return groups
    by_place: dict[tuple, list[int]] = {}
    for v in values:
        place = tuple(v if v in axis else None for axis in slots)
        by_place.setdefault(place, []).append(v)
    return [tuple(vals) for vals in by_place.values()]


def _runs(values: Sequence[int]) -> str:
    if isinstance(values, range) and values.step == 1 and len(values) > 1:
        return f"{values.start}:{values.stop - 1}"
    parts = []
    for _, group in itertools.groupby(enumerate(sorted(values)), lambda p: p[1] - p[0]):
        run = [v for _, v in group]
        parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}:{run[-1]}")
    return "+".join(parts)


def mono_width(text: str, size: float) -> float:
    """The width of text in DejaVu Sans Mono at ``size`` px."""
    return len(text) * MONO_EM * size


def _sans_width(text: str, size: float, bold: bool = False) -> float:
    total = 0.0
    for char in text:
        if char.isdigit():
            total += 0.636
        elif char == " ":
            total += 0.318
        elif char.isupper():
            total += 0.70
        elif char.islower():
            total += 0.58
        else:
            total += 0.5
    return total * size * (1.07 if bold else 1.0)


def _integer(value: Any, what: str) -> int:
    """An option that counts something: an int (or numpy integer), never a bool or float."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ArgumentTypeError(f"{what} must be an integer, not {value!r}",
                                hint=f"e.g. {what}=120")
    return int(value)


def _cut(size: int, limit: int) -> list[int | None]:
    """The slots of an axis: indices shown, ``None`` for the ellipsis that hides the rest."""
    if size <= limit:
        return list(range(size))
    head = max(1, limit - 2)
    return list(range(head)) + [None, size - 1]


def _ref(name: str, index: Sequence[Any]) -> str:
    return f"{name}[{','.join(str(i) for i in index)}]" if len(index) else name


def _wrap(text: str, width: int) -> list[str]:
    """Words filled into lines of ``width`` characters; a short group in parentheses, like
    ``(2, 4)`` or ``(i: 2, j: 3)``, is never broken."""
    words: list[str] = []
    for word in text.split(" "):
        if words and words[-1].startswith("(") and ")" not in words[-1] \
                and len(words[-1]) + 1 + len(word) <= 24:
            words[-1] += " " + word
        else:
            words.append(word)
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines


# -- arrays as grids -----------------------------------------------------------------------------
class _Block:
    """One array (an operand or the output) laid out as a grid, a row, a column or slices."""

    def __init__(
        self,
        scene: _Builder,
        name: str,
        operand: int | None,
        labels: tuple[str, ...],
        shape: tuple[int, ...],
        values: np.ndarray,
        max_axis: int,
        max_slices: int,
    ) -> None:
        self.scene = scene
        self.name = name
        self.operand = operand
        self.labels = labels
        self.shape = shape
        self.values = values
        self.ndim = len(shape)
        self.cw, self.ch = scene.cell_w, scene.cell_h
        self.lead = list(range(max(0, self.ndim - 2)))
        self.orientation = "row"  # for 1-d: "row" or "column"
        self.slots = [
            _cut(size, max_slices if axis in self.lead else max_axis)
            for axis, size in enumerate(shape)
        ]
        # Where each drawn side's decorations go; the arranger may switch them off.
        self.show_title = "top"
        self.col_ticks = True
        self.row_ticks = True
        self.col_title = True
        self.row_title = True
        self.origin = (0.0, 0.0)

    # axes by role
    @property
    def row_axis(self) -> int | None:
        if self.ndim >= 2:
            return self.ndim - 2
        if self.ndim == 1 and self.orientation == "column":
            return 0
        return None

    @property
    def col_axis(self) -> int | None:
        if self.ndim >= 2:
            return self.ndim - 1
        if self.ndim == 1 and self.orientation == "row":
            return 0
        return None

    def _n(self, axis: int | None) -> int:
        return 1 if axis is None else len(self.slots[axis])

    @property
    def empty(self) -> bool:
        return 0 in self.shape

    # slices (leading axes)
    def _slice_grid(self) -> tuple[list[tuple[int | None, ...]], int, int]:
        """Every slice's leading slots, and the slices' arrangement (rows, columns)."""
        lead_slots = [self.slots[a] for a in self.lead]
        keys = list(itertools.product(*lead_slots)) if self.lead else [()]
        if len(self.lead) <= 1:
            return keys, len(keys), 1
        columns = max(1, len(lead_slots[-1]))  # a zero-size leading axis has no slices
        return keys, len(keys) // columns, columns

    def _slice_gaps(self) -> tuple[float, float]:
        """Space between slices: for the next slice's row ticks and title (and col ticks)."""
        if not self.lead:
            return 0, 0
        hgap = max(self._tick_width() + 16, self._slice_title_width() - self.slice_w + 14)
        vgap = SLICE_H + (TICK_H if self.col_ticks else 0) + 8
        return hgap, vgap

    def _slice_title_width(self) -> float:
        """The widest slice title, e.g. ``b=0, h=1``."""
        if not self.lead:
            return 0.0
        chars = sum(len(self.labels[a]) + 1 + max((len(str(v)) if v is not None else 1
                                                   for v in self.slots[a]), default=1)
                    for a in self.lead)
        return mono_width("x" * (chars + 2 * (len(self.lead) - 1)), SLICE_SIZE)

    def _tick_width(self) -> float:
        if self.row_axis is None or not self.row_ticks:
            return 0
        widest = max((len(str(s)) for s in self.slots[self.row_axis] if s is not None), default=1)
        return mono_width("0" * widest, TICK_SIZE) + 6

    @property
    def slice_w(self) -> float:
        return self._n(self.col_axis) * self.cw if not self.empty else self.cw * 2

    @property
    def slice_h(self) -> float:
        return self._n(self.row_axis) * self.ch if not self.empty else self.ch

    def _row_heights(self) -> list[float]:
        """Each row of slices: a full slice high, or one cell where its slices are hidden."""
        keys, rows, columns = self._slice_grid()
        outer = [keys[r * columns][:-1] if columns > 1 else keys[r] for r in range(rows)]
        return [self.ch if None in part else self.slice_h for part in outer]

    def _col_widths(self) -> list[float]:
        keys, _, columns = self._slice_grid()
        if columns == 1:
            return [self.slice_w]
        return [self.cw if key[-1] is None else self.slice_w for key in keys[:columns]]

    @property
    def width(self) -> float:
        hgap, _ = self._slice_gaps()
        widths = self._col_widths()
        return sum(widths) + (len(widths) - 1) * hgap

    @property
    def height(self) -> float:
        _, vgap = self._slice_gaps()
        heights = self._row_heights()
        return sum(heights) + (len(heights) - 1) * vgap

    # decorations around the cell area
    def _axis_title(self, axis: int) -> tuple[Span, ...]:
        plan = self.scene.plan
        label = self.labels[axis]
        size = self.shape[axis]
        spans = [Span(label, label=label)]
        if label in plan.ellipsis:
            spans.append(Span(" (…)", tone="muted"))
        if self.operand is not None and plan.is_broadcast(self.operand, axis):
            spans.append(Span(f" 1, reused ×{plan.sizes[label]}", tone="muted"))
        else:
            spans.append(Span(f" {size}", tone="muted"))
        return tuple(spans)

    def _row_title_width(self) -> float:
        if self.row_axis is None or not self.row_title:
            return 0
        text = "".join(s.text for s in self._axis_title(self.row_axis))
        return mono_width(text, AXIS_SIZE) + 8 + ROW_TITLE_GAP

    def _title_spans(self) -> tuple[Span, ...]:
        shape = "×".join(str(s) for s in self.shape) if self.shape else "scalar"
        return (Span(self.name, tone="strong"), Span(f"  {shape}", tone="muted"))

    def _title_width(self) -> float:
        return _sans_width(self.name, TITLE_SIZE, True) + mono_width(
            "  " + ("×".join(map(str, self.shape)) or "scalar"), 11)

    @property
    def top(self) -> float:
        """How far decorations reach above the cell area."""
        extent = 0.0
        if self.lead:
            extent += SLICE_H
        if self.col_axis is not None and self.col_ticks and not self.empty:
            extent += TICK_H
        if self.col_axis is not None and self.col_title:
            extent += AXIS_H
        if self.show_title == "top":
            extent += TITLE_H
        return extent

    @property
    def left(self) -> float:
        extent = self._tick_width() + self._row_title_width()
        if self.show_title == "left":
            extent = max(extent, self._title_width() + 10)
        return max(extent, self.right)  # titles wider than the grid overhang both sides

    @property
    def bottom(self) -> float:
        return TITLE_H + 4 if self.show_title == "bottom" else 0.0

    @property
    def right(self) -> float:
        overhang = 0.0
        if self.show_title in ("top", "bottom"):
            overhang = max(0.0, self._title_width() - self.width) / 2
        if self.col_axis is not None and self.col_title:
            text = "".join(s.text for s in self._axis_title(self.col_axis))
            overhang = max(overhang, (mono_width(text, AXIS_SIZE) - self.width) / 2)
        return max(overhang, (self._slice_title_width() - self.slice_w) / 2)

    # positions
    def _slice_origin(self, key: tuple[int | None, ...]) -> tuple[float, float]:
        keys, _, columns = self._slice_grid()
        row, column = divmod(keys.index(key), columns)
        hgap, vgap = self._slice_gaps()
        return (self.origin[0] + sum(self._col_widths()[:column]) + column * hgap,
                self.origin[1] + sum(self._row_heights()[:row]) + row * vgap)

    def slice_boxes(self) -> list[tuple[float, float, float, float]]:
        """Each drawn 2-d slice's area, ``(x, y, w, h)`` (none for arrays of at most 2-d)."""
        if not self.lead or self.empty:
            return []
        keys, _, columns = self._slice_grid()
        boxes = []
        for number, key in enumerate(keys):
            x, y = self._slice_origin(key)
            row, column = divmod(number, columns)
            boxes.append((x, y, self._col_widths()[column], self._row_heights()[row]))
        return boxes

    def _display(self, axis: int, value: int) -> int | None:
        """The slot's entry for an index: the index itself, or ``None`` (in the ellipsis)."""
        return value if value in self.slots[axis] else None

    def position(self, index: Sequence[int]) -> tuple[float, float]:
        """The top-left corner of the cell (or ellipsis cell) an index is drawn in."""
        key = tuple(self._display(a, index[a]) for a in self.lead)
        sx, sy = self._slice_origin(key)
        keys, _, columns = self._slice_grid()
        band_row, band_column = divmod(keys.index(key), columns)
        column = row = 0
        # A hidden slice is drawn as one ellipsis row (or column): cells keep the other place.
        if self.col_axis is not None and self._col_widths()[band_column] == self.slice_w:
            column = self.slots[self.col_axis].index(self._display(self.col_axis, index[self.col_axis]))
        if self.row_axis is not None and self._row_heights()[band_row] == self.slice_h:
            row = self.slots[self.row_axis].index(self._display(self.row_axis, index[self.row_axis]))
        return sx + column * self.cw, sy + row * self.ch

    def _hidden(self, axis: int) -> list[int]:
        """The indices of an axis that its ellipsis cell stands for."""
        shown = set(self.slots[axis])
        return [v for v in range(self.shape[axis]) if v not in shown]

    def visible(self, index: Sequence[int]) -> bool:
        return all(index[a] in self.slots[a] for a in range(self.ndim))

    # drawing
    def draw(self) -> None:
        s = self.scene
        ox, oy = self.origin
        colours = s.colours
        keys, _, columns = self._slice_grid()
        operand_name = "out" if self.operand is None else self.name
        # title
        title = self._title_spans()
        if self.show_title == "top":
            s.texts.append(Text(ox + self.width / 2, oy - self.top + 15, title, TITLE_SIZE,
                                anchor="middle", role="title"))
        elif self.show_title == "bottom":
            s.texts.append(Text(ox + self.width / 2, oy + self.height + 19, title, TITLE_SIZE,
                                anchor="middle", role="title"))
        elif self.show_title == "left":
            s.texts.append(Text(ox - 10, oy + self.height / 2 + 5, title, TITLE_SIZE,
                                anchor="end", role="title"))
        # axis titles
        if self.col_axis is not None and self.col_title:
            y = oy - (SLICE_H if self.lead else 0) - (TICK_H if self.col_ticks and not self.empty else 0) - 4
            spans = self._axis_title(self.col_axis)
            x = ox + (self.slice_w if columns == 1 else self.width) / 2
            s.texts.append(Text(x, y, spans, AXIS_SIZE, font="mono", anchor="middle", role="axis"))
            self._spot(self.labels[self.col_axis], x, y, spans, "middle")
        if self.row_axis is not None and self.row_title:
            spans = self._axis_title(self.row_axis)
            x = ox - self._tick_width() - 6 - ROW_TITLE_GAP
            y = oy + (self.slice_h if len(keys) > 1 else self.height) / 2 + 4
            s.texts.append(Text(x, y, spans, AXIS_SIZE, font="mono", anchor="end", role="axis"))
            self._spot(self.labels[self.row_axis], x, y, spans, "end")
        if self.empty:
            s.boxes.append(Box(ox, oy, self.slice_w, self.slice_h, "gap"))
            s.texts.append(Text(ox + self.slice_w / 2, oy + self.slice_h / 2 + 4,
                                (Span("empty", tone="muted"),), 11, anchor="middle"))
            return
        for key in keys:
            sx, sy = self._slice_origin(key)
            if self.lead:
                spans: list[Span] = []
                for axis, value in zip(self.lead, key):
                    if spans:
                        spans.append(Span(", ", tone="muted"))
                    spans += [Span(self.labels[axis], label=self.labels[axis]),
                              Span(f"={'…' if value is None else value}", tone="muted")]
                y = sy - (TICK_H if self.col_ticks and self.col_axis is not None else 0) - 5
                s.texts.append(Text(sx + self.slice_w / 2, y, tuple(spans), SLICE_SIZE,
                                    font="mono", anchor="middle", role="slice"))
            gap_slice = None in key
            if gap_slice:
                hidden = [f"{self.labels[a]} {self._hidden(a)[0]}–{self._hidden(a)[-1]}"
                          for a, v in zip(self.lead, key) if v is None]
                row, column = divmod(keys.index(key), columns)
                w, h = self._col_widths()[column], self._row_heights()[row]
                s.boxes.append(Box(sx, sy, w, h, "slice-gap"))
                note = ", ".join(hidden) + " hidden"
                if mono_width(note, 10.5) > w - 8:
                    note = "⋯"
                s.texts.append(Text(sx + w / 2, sy + min(h, self.ch) / 2 + 4,
                                    (Span(note, tone="muted"),), 10.5, font="mono", anchor="middle"))
                continue
            # ticks
            if self.col_axis is not None and self.col_ticks:
                axis = self.col_axis
                for c, value in enumerate(self.slots[axis]):
                    if value is not None:
                        s.texts.append(Text(sx + (c + 0.5) * self.cw, sy - 4, (Span(str(value)),),
                                            TICK_SIZE, font="mono", anchor="middle",
                                            tone=colours[self.labels[axis]], role="tick"))
            if self.row_axis is not None and self.row_ticks:
                axis = self.row_axis
                for r, value in enumerate(self.slots[axis]):
                    if value is not None:
                        s.texts.append(Text(sx - 4, sy + (r + 0.5) * self.ch + 3.5, (Span(str(value)),),
                                            TICK_SIZE, font="mono", anchor="end",
                                            tone=colours[self.labels[axis]], role="tick"))
            rows = self.slots[self.row_axis] if self.row_axis is not None else [0]
            cols = self.slots[self.col_axis] if self.col_axis is not None else [0]
            for r, row in enumerate(rows):
                for c, col in enumerate(cols):
                    x, y = sx + c * self.cw, sy + r * self.ch
                    if row is None or col is None:
                        symbol = "⋱" if row is None and col is None else ("⋮" if row is None else "…")
                        s.boxes.append(Box(x, y, self.cw, self.ch, "gap", text=symbol))
                        continue
                    index = [0] * self.ndim
                    for axis, value in zip(self.lead, key):
                        index[axis] = value  # type: ignore[assignment]
                    if self.row_axis is not None:
                        index[self.row_axis] = row
                    if self.col_axis is not None:
                        index[self.col_axis] = col
                    where = tuple(index)
                    text = format_value(self.values[where])
                    if self.operand is None:
                        s.boxes.append(Box(x, y, self.cw, self.ch, "out", "out", where))
                        s.finals[where] = Text(x + self.cw / 2, y + VALUE_BASELINE,
                                               (Span(text),), VALUE_SIZE, anchor="middle",
                                               role="final")
                    else:
                        s.boxes.append(Box(x, y, self.cw, self.ch, "cell", operand_name, where, text))

    def _spot(self, label: str, x: float, y: float, spans: Sequence[Span], anchor: str) -> None:
        width = mono_width("".join(sp.text for sp in spans), AXIS_SIZE)
        left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        lead = mono_width(spans[0].text, AXIS_SIZE)
        self.scene.label_spots.setdefault(label, []).append((left - 2, y - AXIS_SIZE + 1, lead + 4, AXIS_SIZE + 3))


# -- the builder -----------------------------------------------------------------------------------
class _Builder:
    def __init__(self, trace: Trace, max_axis: int, max_slices: int,
                 colours: Mapping[str, str] | None = None,
                 smallest: float = MIN_VALUE_SIZE) -> None:
        self.trace = trace
        self.smallest = smallest  # the smallest font a cell's number may take
        self.plan = plan = trace.plan
        self.colours = label_colours(list(plan.equation.labels) + list(plan.ellipsis))
        if colours is not None:
            self.colours.update((label, colours[label]) for label in self.colours if label in colours)
        for label in plan.labels:  # a label that only the output names (never, by numpy's rules)
            self.colours.setdefault(label, "#555555")
        self.boxes: list[Box] = []
        self.texts: list[Text] = []
        self.finals: dict[tuple[int, ...], Text] = {}
        self.label_spots: dict[str, list[tuple[float, float, float, float]]] = {}
        self.cell_h = CELL_H
        self.cell_w = self._cell_width(max_axis)
        self.blocks = [
            _Block(self, name, k, term, shape, trace.operands[k], max_axis, max_slices)
            for k, (name, term, shape) in enumerate(zip(plan.names, plan.terms, plan.shapes))
        ]
        self.out = _Block(self, "out", None, plan.output, plan.out_shape,
                          np.asarray(trace.result), max_axis, max_slices)
        # A label cut in one array is cut the same in all: its fewest slots everywhere.
        axes = [(blk, axis) for blk in [*self.blocks, self.out] for axis in range(blk.ndim)]
        for label in plan.labels:
            mine = [(blk, axis) for blk, axis in axes
                    if blk.labels[axis] == label and blk.shape[axis] == plan.sizes[label]]
            fewest = min((blk.slots[axis] for blk, axis in mine), key=len, default=None)
            for blk, axis in mine:
                blk.slots[axis] = list(fewest)

    def _cell_width(self, max_axis: int) -> float:
        longest = 1
        for array in (*self.trace.operands, np.asarray(self.trace.result)):
            if array.size == 0:
                continue
            # The widest number is among the extremes (and a few others, for floats); read
            # in place, since a broadcast operand may stand for far more than it holds.
            if array.dtype.kind not in "iuf":  # no order to take extremes by
                sample = array.flat[:256]
            else:
                sample = np.concatenate([array.flat[:64], array.flat[max(0, array.size - 64):],
                                         [array.min(), array.max()]])
            longest = max(longest, max(len(format_value(v)) for v in sample))
        # Wider numbers than MAX_CHARS are drawn smaller rather than widening every cell, but
        # never below MIN_VALUE_SIZE (bold, as a running sum is): past that the cells widen.
        full = min(longest, MAX_CHARS) * VALUE_SIZE * 0.64 + 12
        least = longest * self.smallest * 0.64 * 1.07 + 6
        width = max(CELL_MIN_W, round(max(full, least)))
        return width + width % 2  # even: cell centres fall on whole pixels

    # -- arrangement ------------------------------------------------------------------------------
    def arrange(self) -> tuple[float, float, float, float, tuple[float, float, float, float] | None]:
        """Place every block; return the grids' bounding box and a free corner (if any)."""
        tableau = self._tableau() or self._stack()
        self.tableau = tableau is not None
        if tableau is not None:
            return tableau
        return self._row()

    def _stack(self):
        """1-d operands over one label (``i,i->``, ``i,i->i``): rows stacked, columns aligned."""
        ops, out = self.blocks, self.out
        first = ops[0]
        if len(ops) > 4 or any(b.ndim != 1 or b.empty or b.labels != first.labels
                               or b.shape != first.shape for b in ops):
            return None
        if out.ndim == 1 and (out.labels != first.labels or out.shape != first.shape):
            return None
        if out.ndim > 1:
            return None
        y = 0.0
        for k, block in enumerate([*ops, out] if out.ndim == 1 else ops):
            block.orientation = "row"
            block.show_title = "left"
            block.col_ticks = block.col_title = k == 0
            block.origin = (0.0, y + (14 if block is out else 0))
            y = block.origin[1] + block.height + 8
        placed = [*ops, out]
        if out.ndim == 0:
            out.origin = (first.width + 36, (y - 8 - out.height) / 2)
        x0 = min(b.origin[0] - b.left for b in placed)
        y0 = min(b.origin[1] - b.top for b in placed)
        x1 = max(b.origin[0] + b.width + b.right for b in placed)
        y1 = max(b.origin[1] + b.height + b.bottom for b in placed)
        self.placed = placed
        return x0, y0, x1, y1, None

    def _fits(self, block: _Block, axis: int, label: str, against: _Block) -> bool:
        """Whether a block's axis can line up with ``label`` of ``against`` (same slots)."""
        if block.labels[axis] != label or block.empty or against.empty:
            return False
        if block.operand is not None and self.plan.is_broadcast(block.operand, axis):
            return False
        other = against.labels.index(label)
        return block.shape[axis] == against.shape[other]

    def _tableau(self) -> tuple[float, float, float, float, tuple | None] | None:
        arrays = [*self.blocks, self.out]
        if any(b.ndim > 2 for b in arrays) or len(arrays) > 5:
            return None
        for centre in [self.out, *self.blocks]:
            if centre.ndim != 2:
                continue
            r, c = centre.labels
            slots: dict[str, _Block] = {}
            ok = True
            for block in arrays:
                if block is centre:
                    continue
                options = []
                if block is self.out:
                    if block.ndim == 0:
                        options = ["right"]
                    elif block.ndim == 1:
                        if self._fits(block, 0, r, centre):
                            options.append("right")
                        if self._fits(block, 0, c, centre):
                            options.append("bottom")
                elif block.ndim == 1:
                    if self._fits(block, 0, c, centre):
                        options.append("top")
                    if self._fits(block, 0, r, centre):
                        options.append("left")
                elif block.ndim == 2:
                    if self._fits(block, 1, c, centre) and block.labels[0] not in centre.labels:
                        options.append("top")
                    if self._fits(block, 0, r, centre) and block.labels[1] not in centre.labels:
                        options.append("left")
                free = [o for o in options if o not in slots]
                if not free:
                    ok = False
                    break
                slots[free[0]] = block
            if ok and (centre is self.out or slots):
                return self._place_tableau(centre, slots)
        return None

    def _place_tableau(self, centre: _Block, slots: dict[str, _Block]):
        top, left, right, bottom = (slots.get(k) for k in ("top", "left", "right", "bottom"))
        if top is not None and top.ndim == 1:
            top.orientation = "row"
        if left is not None and left.ndim == 1:
            left.orientation = "column"
        if right is not None and right.ndim == 1:
            right.orientation = "column"
        if bottom is not None and bottom.ndim == 1:
            bottom.orientation = "row"
        # Shared axes are labelled once, on the outer array.
        if top is not None:
            centre.col_ticks = centre.col_title = False
        if left is not None:
            centre.row_ticks = centre.row_title = False
        if top is not None:
            centre.show_title = "bottom" if bottom is None else "left"
        for block in (right, bottom):
            if block is not None:
                block.row_ticks = block.col_ticks = block.row_title = block.col_title = False
        if bottom is not None:
            bottom.show_title = "left"
        if right is not None and right.ndim == 0:
            right.show_title = "top"
        cw, ch = centre.width, centre.height
        gap = 14.0
        centre.origin = (0.0, 0.0)
        gap_h = max(gap + 6, (top.left + 8 + left.right) if top is not None and left is not None else 0.0,
                    centre.left + 10 + (left.right if left is not None else 0.0))
        if left is not None:
            left.origin = (-gap_h - left.width, 0.0)
        if top is not None:
            gap_v = max(gap, centre.top + 8)
            top.origin = (0.0, -gap_v - top.height)
        if right is not None:
            y = 0.0 if right.ndim else (ch - right.height) / 2
            right.origin = (cw + 26 + centre.right + right.left, y)
        if bottom is not None:
            bottom.origin = (0.0, ch + 16 + centre.bottom)
        blocks = [b for b in (centre, top, left, right, bottom) if b is not None]
        x0 = min(b.origin[0] - b.left for b in blocks)
        y0 = min(b.origin[1] - b.top for b in blocks)
        x1 = max(b.origin[0] + b.width + b.right for b in blocks)
        y1 = max(b.origin[1] + b.height + b.bottom for b in blocks)
        corner = None
        if top is not None and left is not None:
            # The space above the left block and left of the top block.
            corner = (x0, y0, (top.origin[0] - top.left) - x0 - 8, (left.origin[1] - left.top) - y0 - 8)
        self.placed = blocks
        return x0, y0, x1, y1, corner

    def _row(self):
        arrays = [*self.blocks, self.out]
        for block in arrays:
            if block.ndim == 1:
                block.orientation = "row"
        x, y = 0.0, 0.0
        line: list[_Block] = []
        lines: list[list[_Block]] = [line]
        for block in arrays:
            extra = 34 if block is self.out else 0  # room for the arrow
            span = block.left + block.width + block.right
            if line and x + extra + span > MAX_ROW_WIDTH:
                line = []
                lines.append(line)
                x = 0.0
            x += extra
            block.origin = (x + block.left, 0.0)
            x += span + 30
            line.append(block)
        # Each line: cell areas top-aligned, so equal-height grids line up row for row.
        y = 0.0
        for line in lines:
            top = max(b.top for b in line)
            for block in line:
                block.origin = (block.origin[0], y + top)
            y += top + max(b.height + b.bottom for b in line) + 28
        self.placed = arrays
        x0 = min(b.origin[0] - b.left for b in arrays)
        y0 = min(b.origin[1] - b.top for b in arrays)
        x1 = max(b.origin[0] + b.width + b.right for b in arrays)
        y1 = max(b.origin[1] + b.height + b.bottom for b in arrays)
        return x0, y0, x1, y1, None

    def shift(self, dx: float, dy: float) -> None:
        # Whole pixels: crisp grid lines, and short coordinates in the SVG.
        for block in self.placed:
            block.origin = (round(block.origin[0] + dx), round(block.origin[1] + dy))

    # -- the arrow to the output (row layout) ---------------------------------------------------
    def arrow(self) -> None:
        if self.tableau:
            return
        block = self.out
        x = block.origin[0] - block.left - 22
        y = block.origin[1] + min(block.height, block.slice_h) / 2 + 6
        self.texts.append(Text(x, y, (Span("→", tone="muted"),), 20, anchor="middle", role="arrow"))


# -- text lines ----------------------------------------------------------------------------------
def _label_spans(text: str, labels: Iterable[str]) -> tuple[Span, ...]:
    """Text with every label letter coloured (runs of other characters kept together)."""
    known = set(labels)
    spans: list[Span] = []
    for char in text:
        if char in known:
            spans.append(Span(char, label=char))
        elif spans and spans[-1].label is None and spans[-1].tone is None:
            spans[-1] = Span(spans[-1].text + char)
        else:
            spans.append(Span(char))
    return tuple(spans)


def _prose_spans(text: str, plan: LoopPlan) -> tuple[Span, ...]:
    """A sentence with its labels coloured: letters standing alone, and quoted subscripts."""
    labels = set(plan.labels)
    subscripts_chars = set(plan.equation.labels) | set(",->. ")
    coloured = [False] * len(text)
    for k, char in enumerate(text):
        if char not in labels or char in plan.names:
            continue
        before = text[k - 1] if k else " "
        after = text[k + 1] if k + 1 < len(text) else " "
        if not before.isalnum() and not after.isalnum() and before not in "'_" and after not in "'_":
            # "a", "A" and "I" are words too: only a listed label ("a, b", "a: 2", "a and e").
            rest = text[k + 1 :].lstrip()
            if char in "aAI" and rest and rest[0].isalpha() and not rest.startswith(("and ", "or ")):
                continue
            coloured[k] = True
    for quote in ("'", '"', "`"):
        start = text.find(quote)
        while start != -1:
            end = text.find(quote, start + 1)
            if end == -1:
                break
            inner = text[start + 1 : end]
            if inner and set(inner) <= subscripts_chars:
                for k in range(start + 1, end):
                    coloured[k] = text[k] in labels
            start = text.find(quote, end + 1)
    spans: list[Span] = []
    for char, colour in zip(text, coloured):
        if colour:
            spans.append(Span(char, label=char))
        elif spans and spans[-1].label is None:
            spans[-1] = Span(spans[-1].text + char)
        else:
            spans.append(Span(char))
    return tuple(spans)


def _prose_lines(text: str, plan: LoopPlan, width: int) -> list[tuple[Span, ...]]:
    """A sentence wrapped to ``width`` characters, its labels coloured as in the whole sentence
    (a word at a line's end is read with the words after it)."""
    spans = list(_prose_spans(text, plan))
    lines: list[tuple[Span, ...]] = []
    for line in _wrap(text, width):
        taken: list[Span] = []
        left = len(line)
        while left > 0:
            span = spans.pop(0)
            if len(span.text) > left:
                spans.insert(0, span._replace(text=span.text[left:]))
                span = span._replace(text=span.text[:left])
            taken.append(span)
            left -= len(span.text)
        lines.append(tuple(taken))
        if spans:  # the space the line was broken at
            spans[0] = spans[0]._replace(text=spans[0].text[1:])
            if not spans[0].text:
                spans.pop(0)
    return lines


def _call_spans(plan: LoopPlan) -> tuple[Span, ...]:
    source = plan.equation.source.strip() if plan.equation.source else str(plan.equation)
    spans = [Span("np.einsum(\"")]
    body = _label_spans(source, plan.equation.labels)
    spans += list(body)  # as written: the call can be copied and run
    spans.append(Span("\", " + ", ".join(plan.names) + ")"))
    return tuple(spans)


def _formula_spans(plan: LoopPlan) -> tuple[Span, ...]:
    spans: list[Span] = []

    def indexed(name: str, labels: Sequence[str]) -> None:
        spans.append(Span(name))
        if labels:
            spans.append(Span("["))
            for k, label in enumerate(labels):
                if k:
                    spans.append(Span(","))
                spans.append(Span(label, label=label))
            spans.append(Span("]"))

    indexed("out", plan.output)
    spans.append(Span(" = "))
    if plan.summed:
        spans.append(Span("Σ_" + ("{" if len(plan.summed) > 1 else "")))
        for k, label in enumerate(plan.summed):
            if k:
                spans.append(Span(","))
            spans.append(Span(label, label=label))
        spans.append(Span(("}" if len(plan.summed) > 1 else "") + " "))
    for k, (name, term) in enumerate(zip(plan.names, plan.terms)):
        if k:
            spans.append(Span(" · "))
        indexed(name, term)
    return tuple(s for s in spans if s.text)


def _legend_spans(plan: LoopPlan) -> tuple[Span, ...]:
    spans: list[Span] = []

    def group(title: str, labels: Sequence[str]) -> None:
        if not labels:
            return
        if spans:
            spans.append(Span("    "))
        spans.append(Span(title, tone="muted"))
        for label in labels:
            spans.append(Span(" "))
            spans.append(Span(label, label=label))
            note = " (…)" if label in plan.ellipsis else ""
            spans.append(Span(f"={plan.sizes[label]}{note}", tone="muted"))

    group("kept:", plan.free)
    group("summed:", plan.summed)
    if not spans:
        spans.append(Span("no labels: a product of scalars", tone="muted"))
    return tuple(spans)


def _code_lines(plan: LoopPlan) -> tuple[list[tuple[Span, ...]], int, dict[str, int]]:
    names = plan.variables()
    lines: list[tuple[Span, ...]] = [(Span(f"out = np.zeros({plan.out_shape!r})"),)]
    label_lines: dict[str, int] = {}
    indent = ""
    for label in plan.labels:
        label_lines[label] = len(lines)
        lines.append((Span(f"{indent}for "), Span(names[label], label=label),
                      Span(f" in range({plan.sizes[label]}):")))
        indent += "    "
    variable_labels = {v: k for k, v in names.items()}
    statement = indent + plan.index_expression(None) + " += " + " * ".join(
        plan.index_expression(k) for k in range(plan.n_operands))
    spans: list[Span] = []
    for token in _tokens(statement):
        if token in variable_labels:
            spans.append(Span(token, label=variable_labels[token]))
        elif spans and spans[-1].label is None:
            spans[-1] = Span(spans[-1].text + token)
        else:
            spans.append(Span(token))
    lines.append(tuple(spans))
    return lines, len(lines) - 1, label_lines


def _tokens(text: str) -> list[str]:
    tokens, word = [], ""
    for char in text:
        if char.isalnum() or char == "_":
            word += char
        else:
            if word:
                tokens.append(word)
                word = ""
            tokens.append(char)
    if word:
        tokens.append(word)
    return tokens


def _line_width(spans: Sequence[Span], size: float) -> float:
    return mono_width("".join(s.text for s in spans), size)


# -- narrative -----------------------------------------------------------------------------------
def _narrative(plan: LoopPlan, operands: Sequence[np.ndarray]) -> list[str]:
    """The opening sentences: from :func:`einviz.explain` when it is there."""
    try:
        from ..explain import explain
    except ImportError:
        explain = None
    if explain is not None:
        text = plan.equation.source if plan.equation.source else str(plan.equation)
        sentences = list(explain(text, *operands, names=list(plan.names)).sentences)
        if sentences:
            return sentences
    dims = "; ".join(
        f"{name} has {len(term)} dimension{'s' * (len(term) != 1)}"
        + (f" ({', '.join(term)})" if term else "")
        for name, term in zip(plan.names, plan.terms)
    )
    sentences = [f"{dims}."]
    letters = list(plan.labels)
    sentences.append(f"The subscripts use {len(letters)} unique letter{'s' * (len(letters) != 1)}"
                     + (f": {', '.join(letters)}." if letters else "."))
    if plan.summed:
        kept = ", ".join(plan.free) or "none"
        one = len(plan.summed) == 1
        sentences.append(f"{', '.join(plan.summed)} {'is' if one else 'are'} missing from the output, "
                         f"so {'it is' if one else 'they are'} summed; the output keeps {kept}.")
    else:
        sentences.append("Every letter appears in the output, so nothing is summed: each output "
                         "cell is one product.")
    return sentences


def _split_narrative(sentences: Sequence[str]) -> tuple[list[str], list[str]]:
    """Opening sentences, and the closing ones (what the pattern is) for the final frame."""
    closing = [s for s in sentences if s.startswith(("This is", "In plain numpy"))]
    return [s for s in sentences if s not in closing], closing


def _pack(sentences: Sequence[str], chars: int, lines: int, frames: int) -> list[list[str]]:
    """Sentences grouped into at most ``frames`` captions of at most ``lines`` wrapped lines."""
    groups: list[list[str]] = []
    for sentence in sentences:
        if groups and len(_wrap(" ".join(groups[-1] + [sentence]), chars)) <= lines:
            groups[-1].append(sentence)
        else:
            groups.append([sentence])
    if frames < 1:
        return []
    while len(groups) > frames:
        # Merge the pair of neighbours that makes the shortest caption.
        k = min(range(len(groups) - 1), key=lambda i: len(" ".join(groups[i] + groups[i + 1])))
        groups[k : k + 2] = [groups[k] + groups[k + 1]]
    return groups


def _mentioned(sentence: str, plan: LoopPlan) -> tuple[str, ...]:
    """The labels a sentence names: quoted, or standing alone as a word (not an operand name;
    ``a``, ``A`` and ``I`` only where no English word can be meant: before ``,:;)`` or a verb)."""
    found = []
    for label in plan.labels:
        quoted = any(q + label + q in sentence for q in ("'", '"', "`"))
        alone = False
        if label not in plan.names:
            for k, char in enumerate(sentence):
                if char == label:
                    before = sentence[k - 1] if k else " "
                    after = sentence[k + 1] if k + 1 < len(sentence) else " "
                    if before.isalnum() or after.isalnum() or before in "[_" or after in "]_(":
                        continue
                    if label in ("a", "A", "I") and not (
                            after in ",:;)" or sentence[k + 1:].startswith((" is ", " are ", " appears "))):
                        continue
                    alone = True
                    break
        if quoted or alone:
            found.append(label)
    return tuple(found)


def _frame_labels(sentences: Sequence[str], plan: LoopPlan) -> tuple[str, ...]:
    """The labels an opening frame boxes: those its sentence on summing names, else those its
    sentence on keeping names, else every label its sentences name."""
    for word in ("summed", "kept"):
        for sentence in sentences:
            if re.search(rf"\bso \w+ (is|are) {word}\b", sentence):
                return _mentioned(sentence, plan)
    return tuple(dict.fromkeys(label for sentence in sentences for label in _mentioned(sentence, plan)))


# -- frames --------------------------------------------------------------------------------------
class _Frames:
    def __init__(self, b: _Builder, code: CodePanel, chars: int, frame_ms: float | None) -> None:
        self.b = b
        self.plan = b.plan
        self.trace = b.trace
        self.code = code
        self.chars = chars
        self.frame_ms = frame_ms
        self.broadcast = [
            [self.plan.is_broadcast(k, axis) for axis in range(len(term))]
            for k, term in enumerate(self.plan.terms)
        ]
        self.hidden_axes = any(None in slots for blk in [*b.blocks, b.out] for slots in blk.slots)
        # The slices of each array drawn as more than one.
        self.slices = {("out" if blk is b.out else blk.name): boxes for blk in [*b.blocks, b.out]
                       if len(boxes := blk.slice_boxes()) > 1}

    def seconds(self, kind: str, chars: int = 0) -> float:
        base = self.frame_ms if self.frame_ms is not None else FRAME_MS.get(kind, 700)
        if kind == "intro":
            # Time to read: about 28 characters a second, at least 3 s.
            return round(max(3.0, chars / 28, base * 4 / 1000), 1)
        if kind == "final":
            return round(max(4.0, base * 4 / 1000), 1)
        return round(base / 1000, 3)

    # marks
    def operand_marks(self, k: int, values: dict[str, Sequence[int]]) -> list[Mark]:
        """Marks for every cell of operand k reached when each label takes the given values."""
        block = self.b.blocks[k]
        term = self.plan.terms[k]
        if block.empty:
            return []
        varying = [label for label in dict.fromkeys(term)
                   if any(lab == label and not self.broadcast[k][a] for a, lab in enumerate(term))]
        # Group each label's values by where they are drawn (their slot on each of its axes).
        groups: list[list[Sequence[int]]] = []
        for label in varying:
            axes = [a for a, lab in enumerate(term) if lab == label and not self.broadcast[k][a]]
            groups.append(_by_place(values[label], [block.slots[a] for a in axes]))
        marks = []
        for combo in itertools.product(*groups):
            first = {label: vals[0] for label, vals in zip(varying, combo)}
            index = tuple(0 if self.broadcast[k][a] else first[label] for a, label in enumerate(term))
            x, y = block.position(index)
            single = all(len(vals) == 1 for vals in combo)
            hidden = not block.visible(index)
            if single:
                marks.append(Mark(self.plan.names[k], x, y, index, hidden=hidden))
            else:
                spread = tuple((label, vals) for label, vals in zip(varying, combo))
                marks.append(Mark(self.plan.names[k], x, y, None, spread, hidden=True))
        return marks

    def out_mark(self, out_index: tuple[int, ...]) -> Mark:
        x, y = self.b.out.position(out_index)
        return Mark("out", x, y, out_index, hidden=not self.b.out.visible(out_index))

    # captions
    def hidden_note(self, values: dict[str, Sequence[int]]) -> str:
        """Which of the frame's label values sit in ellipsis cells, e.g. ``"hidden in …: j 6–18"``."""
        if not self.hidden_axes:
            return ""
        hidden: dict[str, list[int]] = {}
        for blk in [*self.b.blocks, self.b.out]:
            for axis, label in enumerate(blk.labels):
                if None in blk.slots[axis]:
                    places = _by_place(values.get(label, ()), [blk.slots[axis]])
                    gone = [v for group in places if group[0] not in blk.slots[axis]
                            for v in dict.fromkeys((group[0], group[-1]))]
                    if gone:
                        hidden.setdefault(label, gone)
        if not hidden:
            return ""
        parts = [f"{label}={vals[0]}" if len(vals) == 1 else f"{label} {vals[0]}–{vals[-1]}"
                 for label, vals in hidden.items()]
        return " · hidden in …: " + ", ".join(parts)

    def build(self, granularity: str, max_frames: int, narrative: list[str]) -> tuple[list[Frame], str]:
        plan, trace = self.plan, self.trace
        frames: list[Frame] = []
        opening, self.closing = _split_narrative(narrative)
        groups = _pack(opening, self.chars, 3, min(3, max(0, max_frames - 2)))
        n_intro = len(groups)
        budget = max(0, max_frames - n_intro - 1)
        n_steps, n_cells = len(trace), trace.n_cells
        for group in groups:
            text = " ".join(group)
            frames.append(Frame(len(frames), "intro", range(0), self.seconds("intro", len(text)),
                                caption=tuple(_prose_lines(text, plan, self.chars)),
                                labels=_frame_labels(group, plan),
                                spots=self.diagonals() if "diagonal" in text else ()))
        mode = granularity
        if n_steps == 0:
            mode = "none"
        elif granularity == "auto":
            mode = "step" if n_steps <= budget else ("cell" if n_cells <= budget else "sample")
        elif granularity == "cell" and n_cells > budget:
            mode = "sample"
        done: set[tuple[int, ...]] = set()
        if mode == "step":
            frames += self.step_frames(min(n_steps, budget), len(frames), done)
        elif mode in ("cell", "sample"):
            if mode == "cell":
                chosen = list(range(n_cells))
            else:
                chosen = self.sample(budget)
            frames += self.cell_frames(chosen, len(frames), done, mode == "sample")
        shown = sum(f.kind == "cell" for f in frames)
        frames.append(self.final_frame(len(frames), done, mode, budget, shown))
        resolved = {"none": "step" if granularity == "auto" else granularity}.get(mode, mode)
        return frames, resolved

    def outlines(self, marks: Sequence[Mark]) -> tuple[tuple[float, float, float, float], ...]:
        """The slices that hold the marks, where an array has several."""
        found = []
        for mark in marks:
            for x, y, w, h in self.slices.get(mark.operand, ()):
                if x <= mark.x < x + w and y <= mark.y < y + h:
                    found.append((x, y, w, h))
        return tuple(dict.fromkeys(found))

    def diagonals(self) -> tuple[tuple[float, float, float, float, str], ...]:
        """The drawn cells of every operand where a repeated label's axes agree."""
        spots = []
        for blk in self.b.blocks:
            repeated = [label for label in dict.fromkeys(blk.labels) if blk.labels.count(label) > 1]
            if not repeated or blk.empty:
                continue
            drawn = [[v for v in slots if v is not None] for slots in blk.slots]
            for index in itertools.product(*drawn):
                if all(len({v for v, l in zip(index, blk.labels) if l == label}) == 1 for label in repeated):
                    x, y = blk.position(index)
                    spots.append((x, y, self.b.cell_w, self.b.cell_h, repeated[0]))
        return tuple(dict.fromkeys(spots))

    def sample(self, budget: int) -> list[int]:
        """Output cells to show, evenly spread over the drawn (not cut) cells, flat indices."""
        shape = self.plan.out_shape
        if budget <= 0:
            return []
        drawn = [[v for v in slots if v is not None] for slots in self.b.out.slots]
        pool = sorted(int(np.ravel_multi_index(index, shape)) if shape else 0
                      for index in itertools.product(*drawn))
        if len(pool) <= budget:
            return pool
        picks = sorted({int(round(x)) for x in np.linspace(0, len(pool) - 1, budget)})
        return [pool[p] for p in picks]

    def finish(self, flat_upto: int, done: set[tuple[int, ...]]) -> tuple[tuple[int, ...], ...]:
        """Visible output cells with flat index <= flat_upto not yet finished, in order."""
        newly = []
        for index in self.b.finals:
            if index not in done and (self._flat(index) <= flat_upto):
                newly.append(index)
                done.add(index)
        return tuple(newly)

    def _flat(self, index: tuple[int, ...]) -> int:
        return int(np.ravel_multi_index(index, self.plan.out_shape)) if index else 0

    def step_frames(self, count: int, first: int, done: set) -> list[Frame]:
        plan, trace = self.plan, self.trace
        per_cell = trace.steps_per_cell
        frames = []
        code = self.code
        for step in trace.steps(0, count):
            values = {label: (v,) for label, v in step.labels.items()}
            marks = [m for k in range(plan.n_operands) for m in self.operand_marks(k, values)]
            marks.append(self.out_mark(step.out_index))
            last = (step.number + 1) % per_cell == 0
            refs = [_ref(name, index) for name, index in zip(plan.names, step.indices)]
            factors = ([format_factor(f) for f in step.factors] if len(step.factors) > 1
                       else [format_value(f) for f in step.factors])
            parts = [f"{_ref('out', step.out_index)} += {' × '.join(refs)}", f" = {' × '.join(factors)}"]
            if len(factors) > 1:
                parts.append(f" = {format_value(step.product)}")
            parts.append(f"  →  {format_value(step.running_sum)}")
            note = self.hidden_note(values).lstrip(" ·")
            finished: tuple[tuple[int, ...], ...] = ()
            running = None
            if last:
                finished = self.finish(step.number // per_cell, done)
            if step.out_index not in finished and self.b.out.visible(step.out_index):
                x, y = self.b.out.position(step.out_index)
                running = Running(step.out_index, format_value(step.running_sum),
                                  x + self.b.cell_w / 2, y + VALUE_BASELINE)
            frames.append(Frame(
                first + len(frames), "step", range(step.number, step.number + 1), self.seconds("step"),
                marks=tuple(marks), outlines=self.outlines(marks), running=running, finished=finished,
                caption=_packed(parts, self.chars) + (((Span(note, tone="muted"),),) if note else ()),
                code_line=code.statement,
                loop_values=tuple((label, str(v)) for label, v in step.labels.items()),
            ))
        return frames

    def cell_frames(self, chosen: list[int], first: int, done: set, sampled: bool) -> list[Frame]:
        plan, trace = self.plan, self.trace
        per_cell = trace.steps_per_cell
        frames = []
        shape = plan.out_shape
        summed = plan.summed
        for position, flat in enumerate(chosen):
            out_index = tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()
            steps = range(flat * per_cell, (flat + 1) * per_cell)
            fixed = dict(zip(plan.output, out_index))
            values: dict[str, Sequence[int]] = {label: (v,) for label, v in fixed.items()}
            for label in summed:
                values[label] = range(plan.sizes[label])
            marks = [m for k in range(plan.n_operands) for m in self.operand_marks(k, values)]
            marks.append(self.out_mark(out_index))
            value = trace.result[out_index] if shape else trace.result[()]
            caption = self.cell_caption(out_index, fixed, steps, value)
            note = (f"cell {flat + 1:,} of {trace.n_cells:,}" if trace.n_cells > 1 else "the one output cell")
            note += f" · {per_cell} term{'s' * (per_cell != 1)}"
            if sampled:
                note += f" · showing {len(chosen):,} of {trace.n_cells:,} cells"
            note += self.hidden_note(values)
            caption.append((Span(note, tone="muted"),))
            finished = self.finish(flat, done)
            loop_values = tuple(
                (label, str(fixed[label]) if label in fixed else f"0–{plan.sizes[label] - 1}")
                for label in plan.labels)
            frames.append(Frame(first + position, "cell", steps, self.seconds("sample" if sampled else "cell"),
                                marks=tuple(marks), outlines=self.outlines(marks), finished=finished,
                                caption=tuple(caption),
                                code_line=self.code.statement, loop_values=loop_values))
        return frames

    def cell_caption(self, out_index, fixed, steps, value) -> list[tuple[Span, ...]]:
        plan, trace = self.plan, self.trace
        head: list[Span] = [Span(_ref("out", out_index) + " = ")]
        if plan.summed:  # as in the formula: Σ_j, Σ_{j,k}
            several = len(plan.summed) > 1
            head.append(Span("Σ_{" if several else "Σ_"))
            for k, label in enumerate(plan.summed):
                if k:
                    head.append(Span(","))
                head.append(Span(label, label=label))
            head.append(Span("} " if several else " "))
        for k, (name, term) in enumerate(zip(plan.names, plan.terms)):
            if k:
                head.append(Span(" × "))
            head.append(Span(name))
            if term:
                head.append(Span("["))
                for a, label in enumerate(term):
                    if a:
                        head.append(Span(","))
                    if self.broadcast[k][a]:
                        head.append(Span("0"))
                    elif label in fixed:
                        head.append(Span(str(fixed[label])))
                    else:
                        head.append(Span(label, label=label))
                head.append(Span("]"))
        # The sum written out with numbers, elided in the middle when long.
        total = format_value(value)
        shown = min(len(steps), 6)
        records = list(trace.steps(steps.start, steps.start + shown))
        if len(steps) > shown:
            records_tail = [trace[steps.stop - 1]]
        else:
            records_tail = []
        def term_text(step) -> str:
            return " × ".join(format_factor(f) for f in step.factors)
        terms = [term_text(s) for s in records]
        tail = [term_text(s) for s in records_tail]
        for keep in range(len(terms), 0, -1):
            parts = terms[:keep] + (["…"] + tail if tail or keep < len(terms) else [])
            if keep < len(terms) and not tail:
                parts = terms[:keep] + ["…"]
            line = "= " + " + ".join(parts) + f" = {total}"
            if len(line) <= self.chars:
                break
        if not plan.summed:
            line = "= " + " × ".join(format_factor(f) for f in records[0].factors) + f" = {total}" \
                if records else f"= {total}"
        return [tuple(head), _fit(line, self.chars)]

    def final_frame(self, number: int, done: set, mode: str, budget: int, shown: int) -> Frame:
        plan, trace = self.plan, self.trace
        finished = self.finish(trace.n_cells, done)
        per_cell = trace.steps_per_cell
        lines: list[tuple[Span, ...]] = []
        if len(trace) == 0:
            empty = [label for label in plan.labels if plan.sizes[label] == 0]
            lines.append((Span(f"No steps: {', '.join(empty)} ha{'s' if len(empty) == 1 else 've'} "
                               "size 0."),))
            if trace.n_cells:
                lines.append((Span("Every output cell is an empty sum: 0."),))
        else:
            cells = "the output" if trace.n_cells == 1 else f"each of the {trace.n_cells:,} output cells"
            lines.append((Span(f"Done: {len(trace):,} multiply-add{'s' * (len(trace) != 1)}, "
                               f"{per_cell:,} into {cells}."),))
            if mode == "step" and budget < len(trace):
                lines.append((Span(f"(Frames show the first {budget:,} steps; the rest are computed "
                                   f"the same way.)", tone="muted"),))
            elif mode == "sample":
                lines.append((Span(f"(Frames show {shown:,} of the {trace.n_cells:,} cells; every "
                                   "cell is computed.)", tone="muted"),))
        if self.hidden_axes:
            cut = sorted({f"{blk.labels[a]}" for blk in [*self.b.blocks, self.b.out]
                          for a in range(blk.ndim) if None in blk.slots[a]})
            lines.append((Span(f"Long axes ({', '.join(cut)}) are cut: … stands for the hidden "
                               "indices.", tone="muted"),))
        for sentence in self.closing:
            lines.extend(_prose_lines(sentence, plan, self.chars))
        while len(lines) > 5 and any(span.tone == "muted" for line in lines for span in line):
            muted = max(k for k, line in enumerate(lines) if any(span.tone == "muted" for span in line))
            del lines[muted]  # the asides go first, the closing sentences stay
        return Frame(number, "final", range(0), self.seconds("final"), finished=finished,
                     caption=tuple(lines[:5]), spots=self.diagonals())  # the cells ii walked


def _packed(parts: Sequence[str], chars: int, most: int = 2) -> tuple[tuple[Span, ...], ...]:
    """Caption lines of ``parts`` (each starting with its separator): one line when they fit,
    else the first part then the rest (the arithmetic together) when that fits, else wrapped
    between parts, never inside a number; a line past ``most`` is cut (``…``)."""
    whole, rest = "".join(parts), "    " + "".join(parts[1:]).lstrip()
    if len(whole) <= chars:
        return (_fit(whole, chars),)
    if len(parts[0]) <= chars and len(rest) <= chars:
        return (_fit(parts[0], chars), _fit(rest, chars))
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + len(part) <= chars:
            lines[-1] += part
        else:
            lines.append("    " + part.lstrip())
    if len(lines) > most:
        lines[most - 1:] = [" ".join(line.strip() for line in lines[most - 1:])]
        lines[most - 1] = "    " + lines[most - 1]
    return tuple(_fit(line, chars) for line in lines)


def _fit(text: str, chars: int) -> tuple[Span, ...]:
    if len(text) > chars:
        text = text[: chars - 1] + "…"
    return (Span(text),)


# -- building --------------------------------------------------------------------------------------
def build_scene(
    trace: Trace,
    granularity: str = "auto",
    max_frames: int = 120,
    frame_ms: float | None = None,
    max_axis: int = 8,
    max_slices: int = 4,
    narrative: Sequence[str] | None = None,
    colours: Mapping[str, str] | None = None,
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
        narrative: the opening sentences (default: :func:`einviz.explain`'s).
        colours: label colours to use instead of the palette's (a contraction path's step
            figures take the whole expression's, so a letter keeps its colour in every one).

    Returns:
        The :class:`Scene`.
    """
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
    plan = trace.plan
    # Cut long axes shorter until the grids fit a readable size (down to 4 slots an axis);
    # then, for numbers too long even so, let them shrink below MIN_VALUE_SIZE, and at the
    # last below the SVG's floor (they may then spill over their cells).
    fitted = False
    for smallest in (MIN_VALUE_SIZE, SMALLEST_VALUE_SIZE, 0.0):  # 0: the cells stay narrow
        for limit in range(max_axis, 3, -1):
            for slices in sorted({max_slices, 3}, reverse=True):
                b = _Builder(trace, limit, slices, colours, smallest)
                x0, y0, x1, y1, corner = b.arrange()
                if x1 - x0 <= MAX_ROW_WIDTH and y1 - y0 <= MAX_GRIDS_HEIGHT:
                    fitted = True
                    break
            if fitted:
                break
        if fitted:
            break
    grids_w, grids_h = x1 - x0, y1 - y0

    # Header: the call, the formula, the legend.
    header = [
        (Text(0, 0, _call_spans(plan), HEADER_SIZE, font="mono", weight="bold", role="call"), HEADER_SIZE),
        (Text(0, 0, _formula_spans(plan), FORMULA_SIZE, font="mono", role="formula"), FORMULA_SIZE),
        (Text(0, 0, _legend_spans(plan), LEGEND_SIZE, font="mono", role="legend"), LEGEND_SIZE),
    ]
    header_w = max(_line_width(t.spans, size) for t, size in header)

    # Code panel.
    lines, statement, label_lines = _code_lines(plan)
    for_chars = max((len("".join(s.text for s in lines[i])) for i in label_lines.values()), default=0)
    value_chars = max((len(f"{label} = 0–{plan.sizes[label] - 1}") for label in plan.labels), default=0)
    chars = max(max(len("".join(s.text for s in line)) for line in lines), for_chars + 3 + value_chars)
    code_w = mono_width("x" * chars, CODE_SIZE) + 24
    code_h = CODE_LINE * len(lines) + 16

    # Where the code goes: the free corner of a tableau, beside the grids, or under them.
    code_place = "below"
    if corner is not None and corner[2] >= code_w and corner[3] >= code_h:
        code_place = "corner"
    elif grids_w + 30 + code_w <= MAX_ROW_WIDTH:
        code_place = "right"
    if code_place == "right" and grids_h < code_h:
        grids_h_eff = code_h
    else:
        grids_h_eff = grids_h

    body_w = grids_w + (30 + code_w if code_place == "right" else 0)
    width = max(MIN_WIDTH, body_w, header_w, code_w) + 2 * MARGIN
    width = math.ceil(width)

    # Vertical positions.
    y = MARGIN + HEADER_SIZE
    header_y = []
    for _, size in header:
        header_y.append(y)
        y += size + 9
    top = y + 12
    grids_left = MARGIN + (width - 2 * MARGIN - body_w) / 2
    b.shift(grids_left - x0, top - y0)
    grids_bottom = top + grids_h_eff
    if code_place == "corner":
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

    for (text, _), hy in zip(header, header_y):
        b.texts.append(Text(MARGIN, hy, text.spans, text.size, font=text.font, weight=text.weight,
                            role=text.role))
        # spots for the header's labels (mono: exact)
        offset = 0
        for span in text.spans:
            if span.label is not None:
                x = MARGIN + mono_width("x" * offset, text.size)
                b.label_spots.setdefault(span.label, []).append(
                    (x + 0.5, hy - text.size + 1, mono_width(span.text, text.size) - 1, text.size + 4))
            offset += len(span.text)
    for block in b.placed:
        block.draw()
    b.arrow()
    for label, line in label_lines.items():
        spans = lines[line]
        offset = len(spans[0].text)
        x = cx + 12 + mono_width("x" * offset, CODE_SIZE)
        b.label_spots.setdefault(label, []).append(
            (x - 1.5, code.line_y(line) - CODE_SIZE + 1, mono_width(spans[1].text, CODE_SIZE) + 3, CODE_SIZE + 4))

    # Captions: as many characters as fit the width.
    chars_fit = min(MAX_CAPTION_CHARS, int((width - 2 * MARGIN) / (MONO_EM * CAPTION_SIZE)))
    framer = _Frames(b, code, chars_fit, frame_ms)
    sentences = list(narrative) if narrative is not None else _narrative(plan, trace.operands)
    frames, resolved = framer.build(granularity, max_frames, sentences)
    n_lines = max((len(f.caption) for f in frames), default=1)
    caption_y = round(grids_bottom + 30 + CAPTION_SIZE)
    height = math.ceil(caption_y + CAPTION_LINE * (max(n_lines, 2) - 1) + MARGIN + 4)
    return Scene(
        plan=plan, width=width, height=height, colours=b.colours, boxes=b.boxes, texts=b.texts,
        finals=b.finals, code=code, caption_x=MARGIN, caption_y=caption_y,
        label_spots=b.label_spots, frames=frames, granularity=resolved,
        cell_w=b.cell_w, cell_h=b.cell_h,
    )
