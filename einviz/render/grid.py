"""One array drawn as a grid: a :class:`Block` (a grid, a row, a column or small multiples of
2-d slices, its long axes cut with an ellipsis cell), the shapes it draws (:class:`Box`) and
the page's metrics. :mod:`einviz.render.layout` arranges the blocks.

>>> cut(30, 8)
[0, 1, 2, 3, 4, 5, None, 29]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .text import Span, Text, format_value, mono_width, sans_width

if TYPE_CHECKING:
    from .layout import Layout

__all__ = ["Block", "Box", "CodePanel", "cut"]

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
BATCH_SIZE = 13  # a batch's title, over its tableau
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
        self.max_axis, self.max_slices = max_axis, max_slices
        self.orientation = "row"  # for 1-d: "row" or "column"
        self.grid: tuple[int | None, int | None] | None = None  # (row axis, column axis) when not the last two
        #: Where the arranger put each slice, ``key -> (dx, dy, w, h)`` from the origin (none:
        #: the slices' own arrangement), and whether every slice is titled (else the arranger
        #: titles them).
        self.placements: dict[tuple[int | None, ...], tuple[float, float, float, float]] | None = None
        self.slice_titles = True
        self.lead = list(range(max(0, self.ndim - 2)))
        self.slots = self._cut_slots()
        # Where each drawn side's decorations go; the arranger may switch them off.
        self.show_title = "top"
        self.col_ticks = True
        self.row_ticks = True
        self.col_title = True
        self.row_title = True
        self.origin = (0.0, 0.0)
        self._bands_cache: _Bands | None = None
        self._title_width_cache: float | None = None

    def _cut_slots(self) -> list[list[int | None]]:
        return [cut(size, self.max_slices if axis in self.lead else self.max_axis)
                for axis, size in enumerate(self.shape)]

    def set_grid(self, row: int | None, column: int | None) -> None:
        """Draw axis ``row`` down and ``column`` across (the others lead, as slices); with
        one of them ``None``, each slice is a single column (or row).

        Called before the layout unifies a label's slots across its arrays.
        """
        if (row, column) == (self.ndim - 2, self.ndim - 1):
            return
        self.grid = (row, column)
        self.lead = [a for a in range(self.ndim) if a not in (row, column)]
        self.slots = self._cut_slots()
        self._bands_cache = self._title_width_cache = None

    # axes by role
    @property
    def row_axis(self) -> int | None:
        if self.grid is not None:
            return self.grid[0]
        if self.ndim >= 2:
            return self.ndim - 2
        if self.ndim == 1 and self.orientation == "column":
            return 0
        return None

    @property
    def col_axis(self) -> int | None:
        if self.grid is not None:
            return self.grid[1]
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
        if self.placements is not None:  # the arranger spreads the slices: one is measured
            return self.slice_w
        hgap, _ = self._slice_gaps()
        widths = self._col_widths()
        return sum(widths) + (len(widths) - 1) * hgap

    @property
    def height(self) -> float:
        if self.placements is not None:
            return self.slice_h
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
        # As drawn (see _title_spans): the name bold, the shape plain, both at TITLE_SIZE.
        return sans_width(self.name, TITLE_SIZE, True) + sans_width(
            "  " + ("×".join(map(str, self.shape)) or "scalar"), TITLE_SIZE)

    @property
    def top(self) -> float:
        """How far decorations reach above the cell area."""
        extent = 0.0
        if self.lead and self.slice_titles:
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
            overhang = max(overhang, (mono_width(text, AXIS_SIZE) - self.slice_w) / 2)
        if not self.slice_titles:
            return overhang
        return max(overhang, (self._slice_title_width() - self.slice_w) / 2)

    # positions
    def _slice_rect(self, key: tuple[int | None, ...]) -> tuple[float, float, float, float]:
        """A slice's area ``(x, y, w, h)``: a whole slice, or one cell across (or down) where
        it stands for the slices an ellipsis hides."""
        if self.placements is not None:
            dx, dy, w, h = self.placements[key]
            return self.origin[0] + dx, self.origin[1] + dy, w, h
        bands = self._bands()
        row, column = bands.places[key]
        hgap, vgap = self._slice_gaps()
        return (self.origin[0] + bands.col_starts[column] + column * hgap,
                self.origin[1] + bands.row_starts[row] + row * vgap,
                bands.col_widths[column], bands.row_heights[row])

    def _slice_origin(self, key: tuple[int | None, ...]) -> tuple[float, float]:
        return self._slice_rect(key)[:2]

    def slice_boxes(self) -> list[tuple[float, float, float, float]]:
        """Each drawn 2-d slice's area, ``(x, y, w, h)`` (none for arrays of at most 2-d)."""
        if not self.lead or self.empty:
            return []
        return [self._slice_rect(key) for key in self._bands().keys]

    def _display(self, axis: int, value: int) -> int | None:
        """The slot's entry for an index: the index itself, or ``None`` (in the ellipsis)."""
        return value if value in self.slots[axis] else None

    def position(self, index: Sequence[int]) -> tuple[float, float]:
        """The top-left corner of the cell (or ellipsis cell) an index is drawn in."""
        key = tuple(self._display(a, index[a]) for a in self.lead)
        sx, sy, w, h = self._slice_rect(key)
        column = row = 0
        # A hidden slice is drawn as one ellipsis row (or column): cells keep the other place.
        if self.col_axis is not None and w == self.slice_w:
            column = self.slots[self.col_axis].index(self._display(self.col_axis, index[self.col_axis]))
        if self.row_axis is not None and h == self.slice_h:
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
            sx, sy, w, h = self._slice_rect(key)
            if self.lead and self.slice_titles:
                self._draw_slice_title(key, sx, sy)
            if None in key:
                self._draw_hidden_slice(key, sx, sy, w, h)
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
        keys, _, _ = self._slice_grid()
        if self.col_axis is not None and self.col_title:
            y = oy - (SLICE_H if self.lead and self.slice_titles else 0) - (TICK_H if self.col_ticks and not self.empty else 0) - 4
            spans = self._axis_title(self.col_axis)
            # Over the first slice's columns, beside its ticks (the others repeat them).
            x = ox + self.slice_w / 2
            s.texts.append(Text(x, y, spans, AXIS_SIZE, font="mono", anchor="middle", role="axis"))
            self._spot(self.labels[self.col_axis], x, y, spans, "middle")
        if self.row_axis is not None and self.row_title:
            spans = self._axis_title(self.row_axis)
            x = ox - self._tick_width() - 6 - ROW_TITLE_GAP
            y = oy + (self.slice_h if len(keys) > 1 or self.placements else self.height) / 2 + 4
            s.texts.append(Text(x, y, spans, AXIS_SIZE, font="mono", anchor="end", role="axis"))
            self._spot(self.labels[self.row_axis], x, y, spans, "end")

    def _draw_slice_title(self, key: tuple[int | None, ...], sx: float, sy: float) -> None:
        """A slice's leading indices over it, ``b=0, h=1`` (``…`` for a hidden run).

        In a table of slices each leading label is written once a row or column: the last
        one over the top row's slices, the others over the first column's, and an arrow after
        the last title of each says which way the label runs.
        """
        bands = self._bands()
        row, column = bands.places[key]
        across = [self.lead[-1]] if bands.columns > 1 else []
        down = [a for a in self.lead if a not in across]
        axes = (down if column == 0 else []) + (across if row == 0 else [])
        if not axes:
            return
        spans: list[Span] = []
        for axis in sorted(axes):
            value = key[self.lead.index(axis)]
            if spans:
                spans.append(Span(", ", tone="muted"))
            spans += [Span(self.labels[axis], label=self.labels[axis]),
                      Span(f"={'…' if value is None else value}", tone="muted")]
        if across and row == 0 and column == bands.columns - 1 and column > 0:
            spans.append(Span(" →", tone="muted"))
        elif down and column == 0 and row == bands.rows - 1 and row > 0:
            spans.append(Span(" ↓", tone="muted"))
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
