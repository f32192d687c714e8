"""Where everything sits: each array as a grid (:class:`Block`), and the grids arranged.

A :class:`Block` is one array (an operand or the output) drawn as a grid, a row, a column or
small multiples of 2-d slices, its long axes cut with an ellipsis cell. A :class:`Layout`
makes the blocks of one traced einsum and arranges them: a tableau when the arrays line up
(for ``ij,jk->ik`` the output under B and beside A), 1-d operands stacked, else a row of
operands and an arrow to the output. :func:`fit` cuts the axes shorter until the grids fit
the figure. Drawing a block appends its :class:`Box` and :class:`~einviz.render.text.Text`
records to the layout; the scene keeps them.

>>> import numpy as np
>>> from einviz.tracing import trace
>>> layout, (x0, y0, x1, y1), corner = fit(trace("ij->i", np.ones((2, 30))), 8, 4)
>>> layout.blocks[0].slots[1]
[0, 1, 2, 3, 4, 5, None, 29]
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .palette import label_colours
from .text import Span, Text, format_value, mono_width, sans_width

if TYPE_CHECKING:
    from ..planning import LoopPlan
    from ..tracing import Trace

__all__ = ["Block", "Box", "CodePanel", "Layout", "fit", "smallest_cells"]

# -- metrics (px) --------------------------------------------------------------------------------
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
#: The room between a row axis' title (``j 3``) and its index ticks, so the two never read
#: as one run of numbers (``j 3 1``).
ROW_TITLE_GAP = 8
MAX_CHARS = 5  # characters a cell fits at full size
MIN_VALUE_SIZE = 9.5  # the smallest font a cell's number is drawn in, where the width allows
SMALLEST_VALUE_SIZE = 7.0  # ... and where it does not (the SVG writer's floor)
MAX_ROW_WIDTH = 640 - 2 * MARGIN  # the figure fits 640 px
MAX_GRIDS_HEIGHT = 1000

#: The grids' bounding box, ``(x0, y0, x1, y1)``.
Bounds = tuple[float, float, float, float]
#: A free rectangle beside the grids, ``(x, y, w, h)``, or ``None``.
Corner = tuple[float, float, float, float] | None


class Box(NamedTuple):
    """A rectangle: a grid cell (``operand`` and ``index`` set), a gap cell, or a panel."""

    x: float
    y: float
    w: float
    h: float
    role: str  # "cell", "out", "gap", "slice-gap", "panel", "band"
    operand: str | None = None
    index: tuple[int, ...] | None = None  # type: ignore[assignment]  # shadows tuple.index: the data's word
    text: str = ""

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2



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



def cut(size: int, limit: int) -> list[int | None]:
    """The slots of an axis: indices shown, ``None`` for the ellipsis that hides the rest."""
    if size <= limit:
        return list(range(size))
    head = max(1, limit - 2)
    return list(range(head)) + [None, size - 1]



class _Bands(NamedTuple):
    """An array's slices: their keys (leading slots), arrangement, places ``(row, column)``,
    the rows' heights and columns' widths, and where each starts (before the gaps)."""

    keys: list[tuple[int | None, ...]]
    rows: int
    columns: int
    places: dict[tuple[int | None, ...], tuple[int, int]]
    col_widths: list[float]
    row_heights: list[float]
    col_starts: list[float]
    row_starts: list[float]


# -- arrays as grids -----------------------------------------------------------------------------
class Block:
    """One array (an operand or the output) laid out as a grid, a row, a column or slices."""

    def __init__(
        self,
        layout: Layout,
        name: str,
        operand: int | None,
        labels: tuple[str, ...],
        shape: tuple[int, ...],
        values: np.ndarray,
        max_axis: int,
        max_slices: int,
    ) -> None:
        self.layout = layout
        self.name = name
        self.operand = operand
        self.labels = labels
        self.shape = shape
        self.values = values
        self.ndim = len(shape)
        self.cw, self.ch = layout.cell_w, layout.cell_h
        self.lead = list(range(max(0, self.ndim - 2)))
        self.orientation = "row"  # for 1-d: "row" or "column"
        self.slots = [
            cut(size, max_slices if axis in self.lead else max_axis)
            for axis, size in enumerate(shape)
        ]
        # Where each drawn side's decorations go; the arranger may switch them off.
        self.show_title = "top"
        self.col_ticks = True
        self.row_ticks = True
        self.col_title = True
        self.row_title = True
        self.origin = (0.0, 0.0)
        self._bands_cache: _Bands | None = None
        self._title_width_cache: float | None = None

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
        bands = self._bands()
        return bands.keys, bands.rows, bands.columns

    def _bands(self) -> _Bands:
        """The slices, where each sits, and the rows' and columns' sizes and starts.

        An array drawn as slices (3-d and up) keeps its slots and cell size once its layout
        is made, so this is computed once for it: a figure of many slices costs the work of
        its slices, not that times their number.
        """
        if self._bands_cache is not None:
            return self._bands_cache
        lead_slots = [self.slots[a] for a in self.lead]
        keys: list[tuple[int | None, ...]] = list(itertools.product(*lead_slots)) if self.lead else [()]
        if len(self.lead) <= 1:
            rows, columns = len(keys), 1
        else:
            columns = max(1, len(lead_slots[-1]))  # a zero-size leading axis has no slices
            rows = len(keys) // columns
        outer = [keys[r * columns][:-1] if columns > 1 else keys[r] for r in range(rows)]
        heights = [self.ch if None in part else self.slice_h for part in outer]
        widths = ([self.slice_w] if columns == 1
                  else [self.cw if key[-1] is None else self.slice_w for key in keys[:columns]])
        bands = _Bands(keys, rows, columns, {key: divmod(n, columns) for n, key in enumerate(keys)},
                       widths, heights, list(itertools.accumulate(widths, initial=0)),
                       list(itertools.accumulate(heights, initial=0)))
        if self.lead:  # a 1-d or 2-d array's bands follow its orientation: not kept
            self._bands_cache = bands
        return bands

    def _slice_gaps(self) -> tuple[float, float]:
        """Space between slices: for the next slice's row ticks and title (and col ticks)."""
        if not self.lead:
            return 0, 0
        hgap = max(self._tick_width() + 16, self._slice_title_width() - self.slice_w + 14)
        vgap = SLICE_H + (TICK_H if self.col_ticks else 0) + 8
        return hgap, vgap

    def _slice_title_width(self) -> float:
        """The widest slice title, e.g. ``b=0, h=1`` (it follows the slots alone: kept)."""
        if not self.lead:
            return 0.0
        if self._title_width_cache is None:
            chars = sum(len(self.labels[a]) + 1 + max((len(str(v)) if v is not None else 1
                                                       for v in self.slots[a]), default=1)
                        for a in self.lead)
            self._title_width_cache = mono_width("x" * (chars + 2 * (len(self.lead) - 1)), SLICE_SIZE)
        return self._title_width_cache

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
        return self._bands().row_heights

    def _col_widths(self) -> list[float]:
        return self._bands().col_widths

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
        plan = self.layout.plan
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
        return sans_width(self.name, TITLE_SIZE, True) + mono_width(
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
        bands = self._bands()
        row, column = bands.places[key]
        hgap, vgap = self._slice_gaps()
        return (self.origin[0] + bands.col_starts[column] + column * hgap,
                self.origin[1] + bands.row_starts[row] + row * vgap)

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
        band_row, band_column = self._bands().places[key]
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
        """Append the block's title, axis titles, slices, ticks and cells to the layout."""
        self._draw_title()
        self._draw_axis_titles()
        if self.empty:
            ox, oy = self.origin
            self.layout.boxes.append(Box(ox, oy, self.slice_w, self.slice_h, "gap"))
            self.layout.texts.append(Text(ox + self.slice_w / 2, oy + self.slice_h / 2 + 4,
                                         (Span("empty", tone="muted"),), 11, anchor="middle"))
            return
        keys = self._bands().keys
        for key in keys:
            sx, sy = self._slice_origin(key)
            if self.lead:
                self._draw_slice_title(key, sx, sy)
            if None in key:
                row, column = self._bands().places[key]
                self._draw_hidden_slice(key, sx, sy, self._col_widths()[column], self._row_heights()[row])
                continue
            self._draw_ticks(sx, sy)
            self._draw_cells(key, sx, sy)

    def _draw_title(self) -> None:
        """The array's name and shape: above, below or left of its cells."""
        ox, oy = self.origin
        title = self._title_spans()
        if self.show_title == "top":
            self.layout.texts.append(Text(ox + self.width / 2, oy - self.top + 15, title, TITLE_SIZE,
                                         anchor="middle", role="title"))
        elif self.show_title == "bottom":
            self.layout.texts.append(Text(ox + self.width / 2, oy + self.height + 19, title, TITLE_SIZE,
                                         anchor="middle", role="title"))
        elif self.show_title == "left":
            self.layout.texts.append(Text(ox - 10, oy + self.height / 2 + 5, title, TITLE_SIZE,
                                         anchor="end", role="title"))

    def _draw_axis_titles(self) -> None:
        """Each drawn axis' label and size (``j 3``), over the columns and left of the rows."""
        s = self.layout
        ox, oy = self.origin
        keys, _, columns = self._slice_grid()
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

    def _draw_slice_title(self, key: tuple[int | None, ...], sx: float, sy: float) -> None:
        """A slice's leading indices over it, ``b=0, h=1`` (``…`` for a hidden run)."""
        spans: list[Span] = []
        for axis, value in zip(self.lead, key):
            if spans:
                spans.append(Span(", ", tone="muted"))
            spans += [Span(self.labels[axis], label=self.labels[axis]),
                      Span(f"={'…' if value is None else value}", tone="muted")]
        y = sy - (TICK_H if self.col_ticks and self.col_axis is not None else 0) - 5
        self.layout.texts.append(Text(sx + self.slice_w / 2, y, tuple(spans), SLICE_SIZE,
                                     font="mono", anchor="middle", role="slice"))

    def _draw_hidden_slice(self, key: tuple[int | None, ...], sx: float, sy: float,
                           w: float, h: float) -> None:
        """The one band that stands for the slices a leading axis' ellipsis hides."""
        hidden = [f"{self.labels[a]} {self._hidden(a)[0]}–{self._hidden(a)[-1]}"
                  for a, v in zip(self.lead, key) if v is None]
        self.layout.boxes.append(Box(sx, sy, w, h, "slice-gap"))
        note = ", ".join(hidden) + " hidden"
        if mono_width(note, 10.5) > w - 8:
            note = "⋯"
        self.layout.texts.append(Text(sx + w / 2, sy + min(h, self.ch) / 2 + 4,
                                     (Span(note, tone="muted"),), 10.5, font="mono", anchor="middle"))

    def _draw_ticks(self, sx: float, sy: float) -> None:
        """The index of every drawn column above it and of every drawn row left of it."""
        s, colours = self.layout, self.layout.colours
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

    def _draw_cells(self, key: tuple[int | None, ...], sx: float, sy: float) -> None:
        """One slice's cells with their values (an output cell's value shows when finished),
        and the ellipsis cells of cut axes."""
        s = self.layout
        operand_name = "out" if self.operand is None else self.name
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
        self.layout.label_spots.setdefault(label, []).append((left - 2, y - AXIS_SIZE + 1, lead + 4, AXIS_SIZE + 3))



# -- the arrangement ------------------------------------------------------------------------------
class Layout:
    """The blocks of one traced einsum, their arrangement, and what drawing them makes.

    Attributes:
        blocks: the operands' blocks; ``out``: the output's.
        colours: label -> colour.
        boxes, texts, finals, label_spots: what :meth:`Block.draw` appends (see
            :class:`~einviz.render.scene.Scene`).
        cell_w, cell_h: the size of every grid cell.
        placed: the blocks :meth:`arrange` placed, in drawing order.
    """

    def __init__(self, trace: Trace, max_axis: int, max_slices: int,
                 colours: Mapping[str, str] | None = None,
                 smallest: float = MIN_VALUE_SIZE) -> None:
        self.trace = trace
        self.smallest = smallest  # the smallest font a cell's number may take
        self.plan = plan = trace.plan
        self.colours = label_colours(list(plan.equation.labels) + list(plan.ellipsis), colours)
        for label in plan.labels:  # a label that only the output names (never, by numpy's rules)
            self.colours.setdefault(label, "#555555")
        self.boxes: list[Box] = []
        self.texts: list[Text] = []
        self.finals: dict[tuple[int, ...], Text] = {}
        self.label_spots: dict[str, list[tuple[float, float, float, float]]] = {}
        self.cell_h = CELL_H
        self.cell_w = self._cell_width(max_axis)
        self.blocks = [
            Block(self, name, k, term, shape, trace.operands[k], max_axis, max_slices)
            for k, (name, term, shape) in enumerate(zip(plan.names, plan.terms, plan.shapes))
        ]
        self.out = Block(self, "out", None, plan.output, plan.out_shape,
                          np.asarray(trace.result), max_axis, max_slices)
        # A label cut in one array is cut the same in all: its fewest slots everywhere.
        axes = [(blk, axis) for blk in [*self.blocks, self.out] for axis in range(blk.ndim)]
        for label in plan.labels:
            mine = [(blk, axis) for blk, axis in axes
                    if blk.labels[axis] == label and blk.shape[axis] == plan.sizes[label]]
            fewest = min((blk.slots[axis] for blk, axis in mine), key=len, default=[])
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

    def _fits(self, block: Block, axis: int, label: str, against: Block) -> bool:
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
            slots: dict[str, Block] = {}
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

    def _place_tableau(self, centre: Block, slots: dict[str, Block]):
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
        line: list[Block] = []
        lines: list[list[Block]] = [line]
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



# -- fitting ----------------------------------------------------------------------------------------
def fit(
    trace: Trace,
    max_axis: int,
    max_slices: int,
    colours: Mapping[str, str] | None = None,
) -> tuple[Layout, Bounds, Corner]:
    """The arranged layout of a traced einsum whose grids fit the figure, and their bounds.

    Long axes are cut shorter until the grids fit a readable size (down to 4 slots an axis);
    then, for numbers too long even so, they may shrink below ``MIN_VALUE_SIZE``, and at the
    last below the SVG's floor (they may then spill over their cells). When nothing fits, the
    last try stands: the shortest cuts and the narrowest cells.

    Args:
        trace: the traced einsum.
        max_axis: the most slots an axis gets (a cut axis: its first cells, ``…``, its last).
        max_slices: the most slots a leading axis (of a 3-d or larger array) gets.
        colours: label colours to use instead of the palette's.

    Returns:
        The layout (its blocks placed), the grids' bounds and a free corner (or ``None``).
    """
    # Every limit from the longest axis up gives the same layout: start there, so the cost
    # follows what is drawn, not max_axis.
    start = max(3, min(max_axis, max(trace.plan.sizes.values(), default=0)))
    for smallest in (MIN_VALUE_SIZE, SMALLEST_VALUE_SIZE, 0.0):  # 0: the cells stay narrow
        for limit in range(start, min(start, 4) - 1, -1):
            for slices in sorted({max_slices, 3}, reverse=True):
                layout = Layout(trace, limit, slices, colours, smallest)
                x0, y0, x1, y1, corner = layout.arrange()
                if x1 - x0 <= MAX_ROW_WIDTH and y1 - y0 <= MAX_GRIDS_HEIGHT:
                    return layout, (x0, y0, x1, y1), corner
    return layout, (x0, y0, x1, y1), corner


def smallest_cells(plan: LoopPlan, max_axis: int) -> int:
    """The grid cells a figure of ``plan`` draws, every array together, with every axis cut
    as short as :func:`fit` may cut it (leading axes to 3 slots, the others to 4, or to
    ``max_axis`` when that is 3): the fewest it can draw, counted without drawing.

    >>> from einviz.planning import plan
    >>> smallest_cells(plan("ij,jk->ik", shapes=[(2, 30), (30, 3)]), 8)  # 2×4 + 4×3 + 2×3
    26
    """
    total = 0
    for shape in (*plan.shapes, plan.out_shape):
        lead = max(0, len(shape) - 2)
        cells = 1
        for axis, size in enumerate(shape):
            cells *= min(size, 3 if axis < lead else min(max_axis, 4))
        total += max(cells, 1)  # an empty array is drawn as one cell
    return total
