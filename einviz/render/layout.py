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
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from .grid import (
    BATCH_SIZE,
    CELL_H,
    CELL_MIN_W,
    CODE_LINE,
    CODE_SIZE,
    MARGIN,
    MAX_CHARS,
    MAX_GRIDS_HEIGHT,
    MAX_ROW_WIDTH,
    MIN_VALUE_SIZE,
    SMALLEST_VALUE_SIZE,
    TICK_H,
    VALUE_BASELINE,
    VALUE_SIZE,
    Block,
    Bounds,
    Box,
    CodePanel,
    Corner,
    cut,
)
from .palette import label_colours
from .text import Span, Text, format_value, mono_width

#: The most batch slices drawn in full before the batch labels are cut to first, "…", last.
MAX_BATCHES = 4

if TYPE_CHECKING:
    from ..planning import LoopPlan
    from ..tracing import Trace

__all__ = ["CELL_H", "CELL_MIN_W", "CODE_LINE", "CODE_SIZE", "MARGIN", "MAX_ROW_WIDTH",
           "VALUE_BASELINE", "Block", "Bounds", "Box", "CodePanel", "Corner", "Layout", "cut",
           "fit", "smallest_cells"]

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
        self.arrow_to_out = True
        self.extras: list[Box | Text] = []  # what the arranger draws itself (batch titles, ghosts)
        self._unify_slots()

    def _unify_slots(self) -> None:
        """A label cut in one array is cut the same in all: its fewest slots everywhere."""
        plan = self.plan
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
        tableau = self._tableau() or self._batched() or self._stack()
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

    # -- batches: the 2-d tableau repeated for every batch slice --------------------------------
    def _batch_roles(self) -> dict[str, tuple[Block, int | None, int | None]] | None:
        """For an output of 3-d and more whose last two axes make a tableau with the operands'
        other axes: each operand's place ("top" or "left") and the axes it draws down and
        across; its remaining axes must be the output's leading (batch) labels."""
        out, plan = self.out, self.plan
        if out.ndim < 3 or out.empty or len(set(out.labels)) != out.ndim or not 1 <= len(self.blocks) <= 2:
            return None
        batch, (r, c) = out.labels[:-2], out.labels[-2:]
        roles: dict[str, tuple[Block, int | None, int | None]] = {}
        for blk in self.blocks:
            if blk.empty or len(set(blk.labels)) != blk.ndim:
                return None
            rest = [a for a, label in enumerate(blk.labels) if label not in batch]
            names = [blk.labels[a] for a in rest]
            role: tuple[str, int | None, int | None] | None = None
            if len(rest) == 2 and c in names and r not in names:
                role = ("top", rest[1 - names.index(c)], rest[names.index(c)])
            elif len(rest) == 2 and r in names and c not in names:
                role = ("left", rest[names.index(r)], rest[1 - names.index(r)])
            elif names == [c]:
                role = ("top", None, rest[0])
            elif names == [r]:
                role = ("left", rest[0], None)
            if role is None or role[0] in roles:
                return None
            shared = role[2] if role[0] == "top" else role[1]
            assert shared is not None
            if plan.is_broadcast(blk.operand or 0, shared):
                return None  # a size-1 axis cannot line up with the output's
            roles[role[0]] = (blk, role[1], role[2])
        return roles

    def _batched(self):
        """Batched matmul and attention: for every batch slice, the matmul tableau (A left,
        B above, out under B and beside A), the tableaux side by side, each titled once."""
        roles = self._batch_roles()
        if roles is None:
            return None
        out = self.out
        top, left = (roles[k][0] if k in roles else None for k in ("top", "left"))
        for blk, row, column in roles.values():
            if blk.ndim == 1:
                blk.orientation = "row" if row is None else "column"
            else:
                blk.set_grid(row, column)
        if math.prod(len(out.slots[a]) for a in out.lead) > MAX_BATCHES:
            # Repeating the tableau costs a whole tableau a batch: cut batch labels shorter.
            for blk in [out, *self.blocks]:
                blk.slots = [cut(size, 3) if axis in blk.lead else slots
                             for axis, (size, slots) in enumerate(zip(blk.shape, blk.slots))]
        self._unify_slots()
        for blk in [out, *self.blocks]:
            blk.slice_titles = False
            blk.show_title = "top"
        out.show_title = "bottom"
        out.col_ticks = out.col_title = top is None
        out.row_ticks = out.row_title = left is None
        if top is not None and left is not None and top.row_axis is not None:
            top.row_title = False  # the summed label is named once, over the left operand
        return self._place_batches(top, left)

    def _place_batches(self, top: Block | None, left: Block | None):
        out, cw = self.out, self.cell_w
        for blk in [out, *self.blocks]:
            blk.placements = {}  # from here on a block measures one slice
        gap_v = 14.0 if top is not None else 0.0
        gap_h = max(20.0, top.left + 8 + left.right) if top is not None and left is not None else 20.0
        th = top.slice_h if top is not None else 0.0
        lw = left.slice_w if left is not None else 0.0
        above = BATCH_SIZE + 10 + (top.top + th + gap_v if top is not None else out.top)
        # Past the first line of batches no block or axis title is drawn: ticks only.
        ticks_h = TICK_H + 2 if (top if top is not None else out).col_ticks else 0
        above_later = BATCH_SIZE + 10 + ticks_h + (th + gap_v if top is not None else 0.0)
        # Only the first batch carries the row axis' title: the others need room for ticks.
        ticks = left._tick_width() if left is not None else out._tick_width()
        first_before = (left.left + lw + gap_h) if left is not None else out.left
        after = max(out.right, top.right if top is not None else 0.0)
        keys = list(itertools.product(*(out.slots[a] for a in out.lead)))
        x, y, row_h = 0.0, 0.0, 0.0
        firsts: dict[int, tuple[int | None, ...]] = {}
        for number, key in enumerate(keys):
            hidden = None in key
            ow = cw if hidden else out.slice_w
            before = first_before if number == 0 else ticks + (lw + gap_h if left is not None else 0)
            if hidden:  # the batches an ellipsis hides: one narrow column of "⋯" cells
                before = cw + 6 if left is not None else 0.0
            width = before + ow + after
            if x > 0 and x + width > MAX_ROW_WIDTH:
                x, y = 0.0, y + row_h + 24
                above = above_later
            ox, oy = x + before, y + above  # this batch's output slice
            row_h = above + out.slice_h + out.bottom
            self._place_slice(out, key, key, ox, oy, ow, out.slice_h, firsts, number)
            for side, dx, dy in ((top, 0.0, -gap_v - th), (left, -before if hidden else -gap_h - lw, 0.0)):
                if side is not None:
                    self._place_slice(side, self._key_in(side, key), key, ox + dx, oy + dy,
                                      cw if hidden else side.slice_w, side.slice_h, firsts, number)
            spans = self._batch_title(key, number == len(keys) - 1 and number > 0)
            self.extras.append(Text(x, y + BATCH_SIZE, spans, BATCH_SIZE, font="mono", role="slice"))
            x += width + 32
        for blk in [out, *self.blocks]:
            assert blk.placements is not None
            first = blk.placements[firsts[id(blk)]]
            blk.origin = (first[0], first[1])
            blk.placements = {k: (px - first[0], py - first[1], w, h)
                              for k, (px, py, w, h) in blk.placements.items()}
        if y + row_h > MAX_GRIDS_HEIGHT:  # too many batches to repeat the tableau for
            self._unbatch()
            return None
        self.placed = [out, *self.blocks]
        self.tableau = True
        x1 = max(b.origin[0] + dx + w for b in self.placed
                 for dx, _, w, _ in (b.placements or {}).values()) + after
        return 0.0, 0.0, x1, y + row_h, None

    def _unbatch(self) -> None:
        """Undo what :meth:`_batched` set, for the arrangements tried after it."""
        self.extras.clear()
        for blk in [self.out, *self.blocks]:
            blk.placements = None
            blk.slice_titles = True
            blk.show_title = "top"
            blk.col_ticks = blk.row_ticks = blk.col_title = blk.row_title = True
            if blk.grid is not None:
                blk.grid = None
                blk.lead = list(range(max(0, blk.ndim - 2)))
                blk.slots = blk._cut_slots()
                blk._bands_cache = blk._title_width_cache = None
        self._unify_slots()

    def _key_in(self, blk: Block, key: tuple[int | None, ...]) -> tuple[int | None, ...]:
        """An operand's slice for a batch slice: a broadcast (size-1) label's one index."""
        out = self.out
        values = {out.labels[a]: v for a, v in zip(out.lead, key)}
        return tuple(0 if blk.operand is not None and self.plan.is_broadcast(blk.operand, a)
                     else values[blk.labels[a]] for a in blk.lead)

    def _place_slice(self, blk: Block, key: tuple[int | None, ...], batch: tuple[int | None, ...],
                     x: float, y: float, w: float, h: float,
                     firsts: dict[int, tuple[int | None, ...]], number: int) -> None:
        """Put a block's slice at ``(x, y)``, or, where an earlier batch already drew that
        slice (a broadcast label reuses it), a ghost of it that says so."""
        assert blk.placements is not None
        firsts.setdefault(id(blk), key)
        x, y = round(x), round(y)  # whole pixels: slices line up across blocks
        if key not in blk.placements:
            blk.placements[key] = (x, y, w, h)
            return
        self.extras.append(Box(x, y, w, h, "slice-gap"))
        reused = [blk.labels[a] for a in blk.lead if self.plan.is_broadcast(blk.operand or 0, a)]
        reused += [label for label in self.out.labels[:len(batch)] if label not in blk.labels]
        spans: tuple[Span, ...] = (Span(blk.name, tone="strong"), Span(" reused", tone="muted"))
        if reused:
            spans += (Span(" for ", tone="muted"), Span(reused[0], label=reused[0]))
        text = "".join(s.text for s in spans)
        size = 11.0 if mono_width(text, 11) < w - 6 else 9.5
        if mono_width(text, size) > w - 4:  # a hidden batch's narrow column: the box says it
            return
        self.extras.append(Text(x + w / 2, y + min(h, 3 * self.cell_h) / 2 + 4, spans, size,
                                font="mono", anchor="middle", role="ghost"))

    def _batch_title(self, key: tuple[int | None, ...], last: bool) -> tuple[Span, ...]:
        """A batch slice's title, ``b=0, h=1`` (``b=…`` for the hidden ones), ``→`` on the last."""
        spans: list[Span] = []
        for axis, value in zip(self.out.lead, key):
            label = self.out.labels[axis]
            if spans:
                spans.append(Span(", ", tone="muted"))
            spans += [Span(label, label=label), Span(f"={'…' if value is None else value}", tone="muted")]
        if last:
            spans.append(Span(" →", tone="muted"))
        return tuple(spans)

    def _keep_orientation(self) -> None:
        """A label drawn across (or down) in the output is drawn the same way in an operand
        that sums over its other grid axis (``bhkd`` shows ``d`` down, ``k`` across, as
        ``bhqk`` shows ``k``); a copy (transpose) keeps its own order, which is its point."""
        out = self.out
        if out.row_axis is None or out.col_axis is None:
            return
        down, across = out.labels[out.row_axis], out.labels[out.col_axis]
        changed = False
        for blk in self.blocks:
            if blk.ndim < 2 or blk.row_axis is None or blk.col_axis is None:
                continue
            row, col = blk.labels[blk.row_axis], blk.labels[blk.col_axis]
            summed = {row, col} - set(self.plan.output)
            if summed and (row == across or col == down) and row != col:
                blk.set_grid(blk.col_axis, blk.row_axis)
                changed = True
        if changed:
            self._unify_slots()

    def _row(self):
        arrays = [*self.blocks, self.out]
        self._keep_orientation()
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
        # An output that opens a line of its own has no operand before it to point from.
        self.arrow_to_out = lines[-1][0] is not self.out
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
        self.extras = [item._replace(x=item.x + dx, y=item.y + dy) for item in self.extras]

    # -- the arrow to the output (row layout) ---------------------------------------------------
    def arrow(self) -> None:
        """Draw what the arrangement adds (batch titles, ghosts) and the arrow to the output."""
        for item in self.extras:
            if isinstance(item, Box):
                self.boxes.append(item)
            else:
                self.texts.append(item)
        if self.tableau or not self.arrow_to_out:
            return
        block = self.out
        if block.show_title == "top" and (block.row_axis is not None or block.lead):
            # Pointing at the output's title ("→ out 3×2"), never at its row label ("→ e 3").
            title_left = block.origin[0] + block.width / 2 - block._title_width() / 2
            x, y = title_left - 16, block.origin[1] - block.top + 20
        else:
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
