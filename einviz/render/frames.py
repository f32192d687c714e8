"""What each frame changes: the lit cells, the running sum, the caption and the lit code.

:class:`Frames` reads the :class:`~einviz.tracing.Trace` and the placed
:class:`~einviz.render.layout.Layout` and makes the :class:`Frame` records of a scene: the
opening frames that tell the narrative, one frame a multiply-add (``step``) or an output
cell's whole sum (``cell``, or a stated ``sample`` of cells), and the final frame. A frame
holds only changes to the scene's base, so a view draws the base once.

>>> Mark("A", 0, 0, None, (("j", range(6, 19)),), hidden=True).data_values
'j=6:18'
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .layout import VALUE_BASELINE, CodePanel, Layout
from .text import (
    Span,
    agreeing,
    format_factor,
    format_value,
    pack,
    prose_lines,
    ref_spans,
)

if TYPE_CHECKING:
    from ..explaining import Sentence
    from ..tracing import Step, Trace

__all__ = ["FRAME_MS", "MAX_OPENING_FRAMES", "Frame", "Frames", "Mark", "Running", "Sums"]

#: The most opening frames (the narrative), before the step or cell frames.
MAX_OPENING_FRAMES = 3
#: The opening frames' time together in an animated SVG or GIF, in seconds: the first
#: multiply shows within 4 s of the start (a player holds each one its reading time).
OPENING_SECONDS = 3.6
#: A running sum written out shows every term up to this many, else its first two and its
#: last two around "…".
SHOWN_TERMS = 5
#: The most lines of the final frame's caption.
FINAL_LINES = 6
#: How long a step, cell or sampled-cell frame shows by default, in milliseconds; the steps
#: ``auto`` teaches the first output cell with stay longer, to read their running sums.
FRAME_MS = {"step": 700, "cell": 1600, "sample": 1600, "teach": 1500}


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
    index: tuple[int, ...] | None  # type: ignore[assignment]  # shadows tuple.index: the data's word
    values: tuple[tuple[str, Sequence[int]], ...] = ()
    hidden: bool = False
    #: ``"lit"``: a cell of this frame's step (or cell); ``"term"``: a cell of the whole sum
    #: of the output cell being summed; ``"used"``: a term already added into it.
    role: str = "lit"

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

    index: tuple[int, ...]  # type: ignore[assignment]  # shadows tuple.index: the data's word
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
        hold: how long a reader needs for the frame's text, in seconds: a player pauses
            there that long, while an animated SVG or a GIF (which cannot pause) shows it
            ``duration`` seconds, so the first multiply comes soon.
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
    hold: float = 0.0

    @property
    def data_steps(self) -> str:
        """The steps covered, as ``"first-last"`` (``""`` when none)."""
        return f"{self.steps[0]}-{self.steps[-1]}" if len(self.steps) else ""

    def caption_text(self) -> list[str]:
        """The caption as plain lines."""
        return ["".join(span.text for span in line) for line in self.caption]



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
            # The ellipsis stands between two shown indices (it is never first or last but
            # for a one-slot axis): the run it hides lies between them.
            before, after = slots[0][position - 1], slots[0][position + 1:position + 2]
            low = before + 1 if position and before is not None else 0
            high = after[0] if after and after[0] is not None else low
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


def _fitted(spans: Sequence[Span], chars: int) -> tuple[Span, ...]:
    """Spans cut to ``chars`` characters (the last kept one ending in ``…``)."""
    kept: list[Span] = []
    left = chars
    for k, span in enumerate(spans):
        if len(span.text) > left or (len(span.text) == left and k < len(spans) - 1):
            kept.append(span._replace(text=span.text[:max(0, left - 1)] + "…"))
            break
        kept.append(span)
        left -= len(span.text)
    return tuple(kept)


def _runs(values: Sequence[int]) -> str:
    if isinstance(values, range) and values.step == 1 and len(values) > 1:
        return f"{values.start}:{values.stop - 1}"
    parts = []
    for _, group in itertools.groupby(enumerate(sorted(values)), lambda p: p[1] - p[0]):
        run = [v for _, v in group]
        parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}:{run[-1]}")
    return "+".join(parts)



# -- narrative -----------------------------------------------------------------------------------
#: The roles of the sentences that close the animation (what the pattern is) rather than open it.
CLOSING_ROLES = ("pattern", "numpy")


def frame_labels(sentences: Sequence[Sentence], order: Sequence[str]) -> tuple[str, ...]:
    """The labels an opening frame highlights: those its sentence on summing speaks of, else
    those its sentence on keeping speaks of, else every label its sentences speak of; each
    sentence's in ``order`` (the plan's loop order)."""
    def ordered(sentence: Sentence) -> list[str]:
        return [label for label in order if label in sentence.labels]

    for role in ("summed", "free"):
        for sentence in sentences:
            if sentence.role == role and sentence.labels:
                return tuple(ordered(sentence))
    return tuple(dict.fromkeys(label for sentence in sentences for label in ordered(sentence)))


# -- frames --------------------------------------------------------------------------------------
class Sums:
    """Writes out sums as the captions show them: a step's running sum, an output cell's whole
    sum. The frames use it, and so does the player for the cell under the pointer, so both
    write a sum the same way.

    >>> import numpy as np
    >>> from einviz.tracing import trace
    >>> lines = Sums(trace("ij->i", np.array([[1, -2], [3, 4]])), 60).cell_sum((0,))
    >>> ["".join(span.text for span in line) for line in lines]
    ['out[0] = Σ_j A[0,j]', '= 1 + (−2) = −1']
    """

    def __init__(self, trace: Trace, chars: int) -> None:
        self.trace = trace
        self.plan = trace.plan
        self.chars = chars
        self.broadcast = [
            [self.plan.is_broadcast(k, axis) for axis in range(len(term))]
            for k, term in enumerate(self.plan.terms)
        ]

    def cell_sum(self, out_index: tuple[int, ...]) -> list[tuple[Span, ...]]:
        """An output cell's whole sum, as its cell frame's caption writes it."""
        steps = self.trace.cell_steps(out_index)
        value = self.trace.result[out_index] if out_index else self.trace.result[()]
        return self.cell_caption(out_index, dict(zip(self.plan.output, out_index)), steps, value)

    def refs(self, step: Step) -> list[Span]:
        """``A[0,2] × B[2,0]``: the step's cells, each index in its label's colour."""
        spans: list[Span] = []
        for k, (name, index) in enumerate(zip(self.plan.names, step.indices)):
            if k:
                spans.append(Span(" × "))
            labels = [None if self.broadcast[k][a] else label for a, label in enumerate(self.plan.terms[k])]
            spans += ref_spans(name, index, labels)
        return spans

    def step_caption(self, step: Step, cell_steps: Sequence[Step]) -> list[tuple[Span, ...]]:
        """``out[0,0] += A[0,1] × B[1,0]`` over ``out[0,0] = 4×(−3) + 2×(−2) = −12 + (−4) = −16``:
        the step's cells, and its output cell's sum so far (a copy: one line)."""
        plan = self.plan
        out = ref_spans("out", step.out_index, plan.output)
        if not plan.summed:
            digits, _ = agreeing([step.factors], step.product)
            line = [*out, Span(" = "), *self.refs(step)]
            if plan.n_operands > 1:
                line.append(Span(" = " + " × ".join(format_factor(f, digits) for f in step.factors)))
            line.append(Span(" = " + format_value(step.product, digits)))
            return [_fitted(line, self.chars)]
        room = self.chars - len("".join(s.text for s in out)) - 1
        sum_line = [*out, Span(" "), *self.sum_spans(cell_steps, step.running_sum, room)]
        return [_fitted([*out, Span(" += "), *self.refs(step)], self.chars), _fitted(sum_line, self.chars)]

    def sum_spans(self, steps: Sequence[Step], total: object, room: int, current: bool = True,
                  count: int | None = None) -> list[Span]:
        """``= 4×(−3) + 2×(−2) = −12 + (−4) = −16``: a sum of products written out, as long
        as fits ``room`` characters (the middle terms elided with "…"), the last term bold.
        Floats take the digits that make the shown terms add up to the shown total (or ``≈``).
        ``count``: how many terms the sum has, when ``steps`` holds only its first three and
        last two."""
        many = len(steps[0].factors) > 1 if steps else False
        count = len(steps) if count is None else count
        digits, equal = agreeing([s.factors for s in steps], total) if count == len(steps) else (3, "=")
        if many and count == len(steps):
            more, also = agreeing([[s.product] for s in steps], total)
            digits, equal = max(digits, more), ("≈" if "≈" in (equal, also) else "=")

        def joined(texts: list[str], head: int) -> list[Span]:
            shown: list[str | None] = list(texts)
            if count > head + 3:
                shown = [*texts[:min(head, len(texts) - 2)], None, *texts[-2:]]
            spans: list[Span] = []
            for k, text in enumerate(shown):
                if k:
                    spans.append(Span(" + "))
                spans.append(Span("…") if text is None else
                             Span(text, tone="strong") if current and k == len(shown) - 1 and len(steps) > 1
                             else Span(text))
            return spans

        factors = ["×".join(format_factor(f, digits) for f in s.factors) for s in steps]
        products = [format_value(s.product, digits) if k == 0 else format_factor(s.product, digits)
                    for k, s in enumerate(steps)]
        end = [Span(f" {equal if count <= SHOWN_TERMS else '='} {format_value(total, digits)}")]
        options = []
        for head in (SHOWN_TERMS - 2, 2, 1):
            if many:
                options.append([Span("= "), *joined(factors, head), Span(" = "), *joined(products, head), *end])
            options.append([Span("= "), *joined(products if many else factors, head), *end])
        if count == 1:
            options.insert(0, [Span("= "), Span(factors[0]), *end] if many else [Span("= " + factors[0])])
        for spans in options:
            if len("".join(s.text for s in spans)) <= room:
                return spans
        return options[-1]

    def cell_caption(self, out_index, fixed, steps, value) -> list[tuple[Span, ...]]:
        plan, trace = self.plan, self.trace
        out = ref_spans("out", out_index, plan.output)
        head: list[Span] = [*out, Span(" = ")]
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
                        head.append(Span(str(fixed[label]), label=label))
                    else:
                        head.append(Span(label, label=label))
                head.append(Span("]"))
        # The sum written out with numbers, elided in the middle when long.
        if len(steps) <= 64:
            records = list(trace.steps(steps.start, steps.stop))
        else:
            records = [*trace.steps(steps.start, steps.start + 3), *trace.steps(steps.stop - 2, steps.stop)]
        if not records:
            empty = f"= {format_value(value)}  (an empty sum: a summed label has size 0)"
            return [_fitted(head, self.chars), _fitted([Span(empty)], self.chars)]
        line = self.sum_spans(records, value, self.chars, current=False, count=len(steps))
        return [_fitted(head, self.chars), _fitted(line, self.chars)]



class Frames(Sums):
    """Makes a scene's frames from its trace and its placed layout.

    The opening frames tell the explanation's sentences (all but the ``pattern`` and
    ``numpy`` ones, which close the final frame); then one frame a step, an output cell or a
    sampled cell, whichever ``granularity`` and ``max_frames`` allow; then the final frame.
    """

    def __init__(self, layout: Layout, code: CodePanel, chars: int, frame_ms: float | None) -> None:
        super().__init__(layout.trace, chars)
        self.layout = layout
        self.code = code
        self.frame_ms = frame_ms
        self.hidden_axes = any(None in slots for blk in [*layout.blocks, layout.out] for slots in blk.slots)
        # The slices of each array drawn as more than one.
        self.slices = {("out" if blk is layout.out else blk.name): boxes
                       for blk in [*layout.blocks, layout.out]
                       if len(boxes := blk.slice_boxes()) > 1}
        self.slice_index = {name: (sorted({x for x, _, _, _ in boxes}), sorted({y for _, y, _, _ in boxes}),
                                   {(x, y): (x, y, w, h) for x, y, w, h in boxes})
                            for name, boxes in self.slices.items()}

    def seconds(self, kind: str, chars: int = 0) -> float:
        base = self.frame_ms if self.frame_ms is not None else FRAME_MS.get(kind, 700)
        if kind == "intro":
            # Time to read: about 28 characters a second, at least 3 s.
            return round(max(3.0, chars / 28, base * 4 / 1000), 1)
        if kind == "final":
            return round(max(4.0, base * 4 / 1000), 1)
        return round(base / 1000, 3)

    # marks
    def operand_marks(self, k: int, values: Mapping[str, Sequence[int]]) -> list[Mark]:
        """Marks for every cell of operand k reached when each label takes the given values."""
        block = self.layout.blocks[k]
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
        x, y = self.layout.out.position(out_index)
        return Mark("out", x, y, out_index, hidden=not self.layout.out.visible(out_index))

    # captions
    def hidden_note(self, values: Mapping[str, Sequence[int]]) -> str:
        """Which of the frame's label values sit in ellipsis cells, e.g. ``"hidden in …: j 6–18"``."""
        if not self.hidden_axes:
            return ""
        hidden: dict[str, list[int]] = {}
        for blk in [*self.layout.blocks, self.layout.out]:
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

    def build(self, granularity: str, max_frames: int,
              sentences: Sequence[Sentence]) -> tuple[list[Frame], str]:
        """Every frame, and the granularity they resolve to (``"auto"`` picks)."""
        trace = self.trace
        opening = [s for s in sentences if s.role not in CLOSING_ROLES]
        self.closing = [s for s in sentences if s.role in CLOSING_ROLES]
        groups = pack(opening, self.chars, 3, min(MAX_OPENING_FRAMES, max(0, max_frames - 2)))
        budget = max(0, max_frames - len(groups) - 1)
        frames = self.opening_frames(groups)
        mode = self.mode(granularity, budget)
        done: set[tuple[int, ...]] = set()
        if mode == "step":
            frames += self.step_frames(min(len(trace), budget), len(frames), done)
        elif mode == "teach":
            # The first output cell step by step, then every other cell (or a sample) whole.
            per_cell = trace.steps_per_cell
            frames += self.step_frames(per_cell, len(frames), done, self.seconds("teach"))
            rest = budget - per_cell
            chosen = (list(range(1, trace.n_cells)) if trace.n_cells - 1 <= rest
                      else [c for c in self.sample(rest + 1) if c][:rest])
            frames += self.cell_frames(chosen, len(frames), done, trace.n_cells - 1 > rest)
        elif mode in ("cell", "sample"):
            chosen = list(range(trace.n_cells)) if mode == "cell" else self.sample(budget)
            frames += self.cell_frames(chosen, len(frames), done, mode == "sample")
        shown = sum(f.kind == "cell" for f in frames) + (mode == "teach")
        frames.append(self.final_frame(len(frames), done, mode, budget, shown))
        resolved = {"none": "step" if granularity == "auto" else granularity}.get(mode, mode)
        return frames, resolved

    def mode(self, granularity: str, budget: int) -> str:
        """What the frames show: ``"step"``, ``"cell"``, ``"sample"``, ``"teach"`` (the
        first output cell step by step, then a cell a frame: ``auto`` where each cell adds
        up several terms) or ``"none"`` (no steps)."""
        n_steps, n_cells, per_cell = len(self.trace), self.trace.n_cells, self.trace.steps_per_cell
        if n_steps == 0:
            return "none"
        if granularity == "auto":
            if n_steps <= budget and (per_cell == 1 or n_cells == 1):
                return "step"
            if n_cells > 1 and 1 < per_cell <= budget // 3:
                return "teach"
            return "step" if n_steps <= budget else ("cell" if n_cells <= budget else "sample")
        if granularity == "cell" and n_cells > budget:
            return "sample"
        return granularity

    def opening_frames(self, groups: Sequence[Sequence[Sentence]]) -> list[Frame]:
        """The narrative: each group of sentences a frame, together :data:`OPENING_SECONDS`
        long; one that says what is summed marks the first output cell's whole sum."""
        frames: list[Frame] = []
        share = OPENING_SECONDS / max(1, len(groups))
        for group in groups:
            length = len(" ".join(s.text for s in group))
            hold = self.seconds("intro", length)
            summing = self.plan.summed and any(s.role == "summed" and s.labels for s in group)
            marks = self.term_marks(self.first_cell()) if summing and len(self.trace) else []
            frames.append(Frame(len(frames), "intro", range(0), round(min(hold, share), 1),
                                marks=tuple(marks), caption=tuple(prose_lines(group, self.chars)),
                                labels=frame_labels(group, self.plan.labels), hold=hold,
                                spots=self.diagonals() if any(s.role == "repeated" for s in group) else ()))
        return frames

    def first_cell(self) -> tuple[int, ...]:
        return (0,) * len(self.plan.output)

    def term_marks(self, out_index: tuple[int, ...]) -> list[Mark]:
        """Every operand cell that feeds an output cell (its whole sum), and the output cell,
        as ``term`` marks."""
        values: dict[str, Sequence[int]] = {label: (v,) for label, v in zip(self.plan.output, out_index)}
        for label in self.plan.summed:
            values[label] = range(self.plan.sizes[label])
        marks = [m for k in range(self.plan.n_operands) for m in self.operand_marks(k, values)]
        marks.append(self.out_mark(out_index))
        return [m._replace(role="term") for m in marks]

    def outlines(self, marks: Sequence[Mark]) -> tuple[tuple[float, float, float, float], ...]:
        """The slices that hold the marks, where an array has several."""
        found = []
        for mark in marks:
            if mark.operand not in self.slice_index:
                continue
            xs, ys, boxes = self.slice_index[mark.operand]
            # Slices stand in rows and columns: the one holding a mark starts at the last
            # column start left of it and the last row start above it.
            column, row = bisect.bisect_right(xs, mark.x) - 1, bisect.bisect_right(ys, mark.y) - 1
            box = boxes.get((xs[column], ys[row])) if column >= 0 and row >= 0 else None
            if box is not None and box[0] <= mark.x < box[0] + box[2] and box[1] <= mark.y < box[1] + box[3]:
                found.append(box)
        return tuple(dict.fromkeys(found))

    def diagonals(self) -> tuple[tuple[float, float, float, float, str], ...]:
        """The drawn cells of every operand where a repeated label's axes agree."""
        spots = []
        for blk in self.layout.blocks:
            repeated = [label for label in dict.fromkeys(blk.labels) if blk.labels.count(label) > 1]
            if not repeated or blk.empty:
                continue
            drawn = [[v for v in slots if v is not None] for slots in blk.slots]
            for index in itertools.product(*drawn):
                if all(len({v for v, lab in zip(index, blk.labels) if lab == label}) == 1 for label in repeated):
                    x, y = blk.position(index)
                    spots.append((x, y, self.layout.cell_w, self.layout.cell_h, repeated[0]))
        return tuple(dict.fromkeys(spots))

    def sample(self, budget: int) -> list[int]:
        """Output cells to show, evenly spread over the drawn (not cut) cells, flat indices."""
        shape = self.plan.out_shape
        if budget <= 0:
            return []
        drawn = [[v for v in slots if v is not None] for slots in self.layout.out.slots]
        pool = sorted(int(np.ravel_multi_index(index, shape)) if shape else 0
                      for index in itertools.product(*drawn))
        if len(pool) <= budget:
            return pool
        picks = sorted({round(x) for x in np.linspace(0, len(pool) - 1, budget)})
        return [pool[p] for p in picks]

    def finish(self, flat_upto: int, done: set[tuple[int, ...]]) -> tuple[tuple[int, ...], ...]:
        """Visible output cells with flat index <= flat_upto not yet finished, in order."""
        newly = []
        for index in self.layout.finals:
            if index not in done and (self._flat(index) <= flat_upto):
                newly.append(index)
                done.add(index)
        return tuple(newly)

    def _flat(self, index: tuple[int, ...]) -> int:
        return int(np.ravel_multi_index(index, self.plan.out_shape)) if index else 0

    def step_frames(self, count: int, first: int, done: set, seconds: float | None = None) -> list[Frame]:
        """A frame a step: the output cell's whole sum marked (``term``), the terms added
        already marked ``used``, the step's cells lit, and the sum so far written out."""
        plan, trace = self.plan, self.trace
        per_cell = trace.steps_per_cell
        frames: list[Frame] = []
        terms: list[Mark] = []
        used: dict[tuple, Mark] = {}
        cell_steps: list = []
        for step in trace.steps(0, count):
            values = {label: (v,) for label, v in step.labels.items()}
            lit = [m for k in range(plan.n_operands) for m in self.operand_marks(k, values)]
            if step.number % per_cell == 0:
                # The operand cells of the whole sum (the output cell is lit, not a term).
                terms = self.term_marks(step.out_index)[:-1] if plan.summed and per_cell > 1 else []
                used, cell_steps = {}, []
            cell_steps.append(step)
            lit.append(self.out_mark(step.out_index))
            marks = [*terms, *used.values(), *lit]
            for mark in lit[:-1]:
                # One mark a drawn cell: the cells an ellipsis hides share one.
                used.setdefault((mark.operand, mark.x, mark.y), mark._replace(role="used"))
            note = self.hidden_note(values).lstrip(" ·")
            finished: tuple[tuple[int, ...], ...] = ()
            running = None
            if (step.number + 1) % per_cell == 0:
                finished = self.finish(step.number // per_cell, done)
            if step.out_index not in finished and self.layout.out.visible(step.out_index):
                x, y = self.layout.out.position(step.out_index)
                running = Running(step.out_index, format_value(step.running_sum),
                                  x + self.layout.cell_w / 2, y + VALUE_BASELINE)
            frames.append(Frame(
                first + len(frames), "step", range(step.number, step.number + 1),
                self.seconds("step") if seconds is None else seconds,
                marks=tuple(marks), outlines=self.outlines(lit), running=running, finished=finished,
                caption=tuple(self.step_caption(step, cell_steps)) + (((Span(note, tone="muted"),),) if note else ()),
                code_line=self.code.statement,
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
            plural = "s" * (len(trace) != 1)
            if plan.summed:
                what = f"addition{plural}" if plan.n_operands == 1 else f"multiply-add{plural}"
                lines.append((Span(f"Done: {len(trace):,} {what}, {per_cell:,} into {cells}."),))
            else:  # nothing is added up: each output cell is written once
                what = f"cop{'ies' if plural else 'y'}" if plan.n_operands == 1 else f"product{plural}"
                lines.append((Span(f"Done: {len(trace):,} {what}, one into {cells}."),))
            hero = self.hero_line()
            if hero:
                lines.append(hero)
            if mode == "step" and budget < len(trace):
                lines.append((Span(f"(Frames show the first {budget:,} steps; the rest are computed "
                                   f"the same way.)", tone="muted"),))
            elif mode == "sample":
                lines.append((Span(f"(Frames show {shown:,} of the {trace.n_cells:,} cells; every "
                                   "cell is computed.)", tone="muted"),))
        if self.hidden_axes:
            cut = sorted({f"{blk.labels[a]}" for blk in [*self.layout.blocks, self.layout.out]
                          for a in range(blk.ndim) if None in blk.slots[a]})
            lines.append((Span(f"Long axes ({', '.join(cut)}) are cut: … stands for the hidden "
                               "indices.", tone="muted"),))
        for sentence in self.closing:
            lines.extend(prose_lines([sentence], self.chars))
        while len(lines) > FINAL_LINES and any(span.tone == "muted" for line in lines for span in line):
            muted = max(k for k, line in enumerate(lines) if any(span.tone == "muted" for span in line))
            del lines[muted]  # the asides go first, the closing sentences stay
        marks = self.term_marks(self.first_cell()) if plan.summed and len(trace) else []
        return Frame(number, "final", range(0), self.seconds("final"), finished=finished,
                     marks=tuple(marks), caption=tuple(lines[:FINAL_LINES]),
                     spots=self.diagonals())  # the cells ii walked

    def hero_line(self) -> tuple[Span, ...]:
        """The first output cell's whole sum, written out (the final frame marks its terms)."""
        plan, trace = self.plan, self.trace
        if not plan.summed or not len(trace) or not 2 <= trace.steps_per_cell <= 4096:
            return ()
        out = ref_spans("out", self.first_cell(), plan.output)
        steps = list(trace.steps(0, trace.steps_per_cell))
        room = self.chars - len("".join(s.text for s in out)) - 1
        spans = self.sum_spans(steps, steps[-1].running_sum, room, current=False)
        return _fitted([*out, Span(" "), *spans], self.chars)

