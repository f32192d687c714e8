"""The "product, then sum" view: every einsum as one elementwise product, then a sum.

Any einsum multiplies its operands wherever their labels meet, making the product tensor
``P`` with an axis for every label, then adds ``P`` up along the summed labels. This view
draws exactly that, with the real values: the operands, ``P`` (its slices titled by the
summed labels, ``j=0``, ``j=1``, ...) and the output, and its frames walk the two beats:

1. *multiply*: a frame a value of the summed labels: the operand cells that meet there and
   the slice of ``P`` they fill (every free label at once);
2. *sum*: a frame an output cell: the fibre of ``P`` along the summed labels lit and added
   up with a Σ into the cell.

Every number comes from a trace: ``P`` is the result of the einsum that keeps every label
(``ij,jk->jik``), the output the result of the einsum itself.

>>> import numpy as np
>>> from einviz.tracing import trace
>>> from einviz.render.scene import build_scene
>>> scene = build_scene(trace("ij,jk->ik", np.ones((2, 3)), np.ones((3, 2))), view="product")
>>> [f.kind for f in scene.frames][:5], scene.granularity
(['intro', 'multiply', 'multiply', 'multiply', 'sum'], 'product')
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import EinvizError
from ..explaining import Sentence
from ..planning import plan as make_plan
from ..tracing import Trace
from .frames import CLOSING_ROLES, FINAL_LINES, Frame, Frames, Mark, _fitted
from .layout import CodePanel
from .text import Span, agreeing, format_factor, format_value, prose_lines, ref_spans

if TYPE_CHECKING:
    from ..explaining import Explanation
    from ..planning import LoopPlan

__all__ = ["PRODUCT", "product_code", "product_parts"]

#: The product tensor's name in the figure.
PRODUCT = "P"
#: How long a multiply and a sum frame show by default, in seconds.
MULTIPLY_SECONDS, SUM_SECONDS = 2.4, 1.8


class _Picture(NamedTuple):
    """What the layout draws: the operands and ``P`` as operands of ``plan``, and the
    einsum's own result (read from the traces; nothing is computed here)."""

    plan: LoopPlan
    operands: tuple[Any, ...]
    result: Any


def product_labels(plan: LoopPlan) -> tuple[str, ...]:
    """The product tensor's labels: the summed ones first (its slices are titled by them),
    then the output's; a 1-d or 2-d product (one grid, no slices) keeps them as the operands
    name them, so ``ij->i``'s P is A itself, not its transpose."""
    labels = (*plan.summed, *plan.output)
    if len(labels) <= 2:
        labels = tuple(dict.fromkeys(label for term in plan.terms for label in term))
    return labels


def _picture(trace: Trace) -> tuple[_Picture, Trace]:
    plan = trace.plan
    if plan.equation.has_ellipsis:
        raise EinvizError("the product view does not draw '...' yet",
                          subscripts=plan.equation.text_for_carets(),
                          hint="write the labels '...' stands for out, or use view='grid'")
    terms = ",".join("".join(term) for term in plan.terms)
    labels = "".join(product_labels(plan))
    names = [*plan.names, PRODUCT]
    product = Trace(make_plan(f"{terms}->{labels}", *trace.operands, names=plan.names), trace.operands)
    drawn = make_plan(f"{terms},{labels}->{''.join(plan.output)}", *trace.operands, product.result,
                      names=names)
    return _Picture(drawn, (*trace.operands, product.result), trace.result), product


def product_code(plan: LoopPlan) -> tuple[list[tuple[Span, ...]], int, dict[str, int]]:
    """The two beats as code: the product over every label, then the sum over the summed
    axes; with the multiply's line and no loop lines (as :func:`~.text.code_lines` gives)."""
    names = plan.variables()
    labels = product_labels(plan)

    def coloured(text: str) -> tuple[Span, ...]:
        spans: list[Span] = []
        word = ""
        for char in text + " ":
            if char.isalnum() or char == "_":
                word += char
                continue
            label = next((k for k, v in names.items() if v == word), None) if word else None
            spans.append(Span(word, label=label) if label else Span(word))
            spans.append(Span(char))
            word = ""
        return tuple(s for s in spans[:-1] if s.text)

    shape = tuple(plan.sizes[label] for label in labels)
    index = ", ".join(names[label] for label in labels) or "()"
    factors = " * ".join(plan.index_expression(k) for k in range(plan.n_operands))
    lines = [(Span(f"{PRODUCT} = np.empty({shape!r})"),),
             coloured(f"for {index} in np.ndindex({PRODUCT}.shape):") if labels else (Span("if True:"),),
             coloured(f"    {PRODUCT}[{index}] = {factors}")]
    if plan.summed:
        axes = tuple(labels.index(label) for label in plan.summed)
        lines.append((Span(f"out = {PRODUCT}.sum(axis={axes[0] if len(axes) == 1 else axes})  # Σ over "),
                      *coloured(", ".join(names[label] for label in plan.summed))))
    else:
        lines.append((Span(f"out = {PRODUCT}  # nothing to add up"),))
    return lines, 2, {}


class _ProductFrames(Frames):
    """The product view's frames, made with :class:`Frames`' marks and outlines."""

    def __init__(self, *args: Any, einsum: LoopPlan, product: Trace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.einsum = einsum
        self.product = product
        self.p = len(einsum.names)  # P's position among the drawn operands

    def values(self, fixed: Mapping[str, int]) -> dict[str, Sequence[int]]:
        return {label: (fixed[label],) if label in fixed else range(self.plan.sizes[label])
                for label in self.plan.labels}

    def marks(self, fixed: Mapping[str, int], operands: Sequence[int]) -> list[Mark]:
        values = self.values(fixed)
        return [m for k in operands for m in self.operand_marks(k, values)]

    def opening(self) -> Frame:
        e = self.einsum
        labels = product_labels(e)
        size = " × ".join(str(e.sizes[label]) for label in labels) or "1"
        text = (f"Product, then sum. First einsum multiplies {', '.join(e.names)} wherever their "
                f"labels meet: {PRODUCT} has one cell for each {', '.join(labels) or 'nothing'} "
                f"({size} = {math.prod(e.sizes[x] for x in labels):,} products). ")
        text += (f"Then it adds {PRODUCT} up along {', '.join(e.summed)}, the labels the output lacks."
                 if e.summed else "Nothing is summed: the output is P itself.")
        coloured = tuple(sorted(
            (k, k + len(label)) for label in e.labels for k in range(len(text))
            if text.startswith(label, k) and (k == 0 or not text[k - 1].isalnum())
            and (k + len(label) == len(text) or not text[k + len(label)].isalnum())))
        sentence = Sentence(text, labels, "intro", coloured)
        lines = prose_lines([sentence], self.chars)
        hold = self.seconds("intro", len(text))
        return Frame(0, "intro", range(0), min(hold, 3.6), caption=tuple(lines), labels=labels, hold=hold)

    def multiply_frames(self, first: int, budget: int) -> list[Frame]:
        """A frame a value of the summed labels (those drawn): its operand cells and P's slice."""
        e = self.einsum
        axes = [product_labels(e).index(label) for label in e.summed]
        drawn = [[v for v in self.layout.blocks[self.p].slots[a] if v is not None] for a in axes]
        combos = list(itertools.product(*drawn))[:max(1, budget)]
        frames: list[Frame] = []
        for combo in combos:
            fixed = dict(zip(e.summed, combo))
            marks = self.marks(fixed, range(self.p + 1))
            # One operand multiplies nothing: its cells are only lined up over every label.
            head: list[Span] = [Span("multiply: " if e.n_operands > 1 else "line up: ")]
            head += self.indexed(PRODUCT, product_labels(e), fixed)
            head.append(Span(" = "))
            for k, (name, term) in enumerate(zip(e.names, e.terms)):
                head += [Span(" × ")] * bool(k) + self.indexed(name, term, fixed)
            example = self.example(fixed)
            frames.append(Frame(first + len(frames), "multiply", range(0), MULTIPLY_SECONDS,
                                marks=tuple(marks), outlines=self.outlines(marks),
                                caption=(_fitted(head, self.chars), _fitted(example, self.chars)),
                                code_line=2, labels=tuple(e.summed)))
        return frames

    def indexed(self, name: str, term: Sequence[str], fixed: Mapping[str, int]) -> list[Span]:
        """``A[i,0]``: the fixed labels' values, the others' letters, each in its colour."""
        if not term:
            return [Span(name)]
        spans = [Span(name + "[")]
        for a, label in enumerate(term):
            spans += [Span(",")] * bool(a) + [Span(str(fixed[label]) if label in fixed else label, label=label)]
        return [*spans, Span("]")]

    def example(self, fixed: Mapping[str, int]) -> list[Span]:
        """One product of the slice written out: ``e.g. P[0,0,0] = 4 × (−3) = −12``."""
        e = self.einsum
        values = {label: fixed.get(label, 0) for label in e.labels}
        number = int(np.ravel_multi_index([values[x] for x in product_labels(e)],
                                          [e.sizes[x] for x in product_labels(e)])) if e.labels else 0
        step = self.product[number] if len(self.product) else None
        if step is None:
            return [Span("(no products: a label has size 0)", tone="muted")]
        spans = [Span("e.g. ", tone="muted"),
                 *ref_spans(PRODUCT, [values[x] for x in product_labels(e)], product_labels(e)), Span(" = ")]
        if len(step.factors) > 1:
            spans.append(Span(" × ".join(format_factor(f) for f in step.factors) + " = "))
        return [*spans, Span(format_value(step.product))]

    def sum_frames(self, first: int, chosen: Sequence[int], done: set) -> list[Frame]:
        """A frame an output cell: P's fibre along the summed labels, added up into it."""
        e = self.einsum
        frames: list[Frame] = []
        product = np.asarray(self.product.result)
        for flat in chosen:
            out_index = tuple(int(i) for i in np.unravel_index(flat, e.out_shape)) if e.out_shape else ()
            fixed = dict(zip(e.output, out_index))
            marks = [*self.marks(fixed, [self.p]), self.out_mark(out_index)]
            head: list[Span] = [Span("sum: "), *ref_spans("out", out_index, e.output), Span(" = Σ_")]
            head += [s for k, label in enumerate(e.summed) for s in [Span(",")] * bool(k) + [Span(label, label=label)]]
            head += [Span(" "), *self.indexed(PRODUCT, product_labels(e), fixed)]
            # The fibre of P along the summed labels: every other axis fixed at this cell.
            fibre = product[tuple(fixed.get(label, slice(None)) for label in product_labels(e))]
            terms = [[v] for v in np.ravel(fibre)]
            total = self.trace.result[out_index] if out_index else self.trace.result[()]
            digits, equal = agreeing(terms, total)
            texts = [format_value(t[0], digits) if k == 0 else format_factor(t[0], digits)
                     for k, t in enumerate(terms)]
            if len(texts) > 5:
                texts = [*texts[:3], "…", *texts[-2:]]
                equal = "="
            line = [Span("= " + " + ".join(texts) + f" {equal} {format_value(total, digits)}")]
            frames.append(Frame(first + len(frames), "sum", range(0), SUM_SECONDS, marks=tuple(marks),
                                outlines=self.outlines(marks), finished=self.finish(flat, done),
                                caption=(_fitted(head, self.chars), _fitted(line, self.chars)),
                                code_line=3, labels=tuple(e.summed)))
        return frames

    def build_product(self, max_frames: int, sentences: Sequence[Sentence]) -> list[Frame]:
        e = self.einsum
        frames = [self.opening()]
        budget = max(2, max_frames - 2)
        frames += self.multiply_frames(len(frames), min(budget // 2, 8))
        n_cells = math.prod(e.out_shape)
        left = max(1, max_frames - len(frames) - 1)
        chosen = list(range(n_cells)) if n_cells <= left else self.sample(left)
        if not e.summed:  # nothing to add up: out is P, shown whole in the final frame
            chosen = []
        done: set[tuple[int, ...]] = set()
        frames += self.sum_frames(len(frames), chosen, done)
        lines: list[tuple[Span, ...]] = [(Span(
            f"Done: {PRODUCT} holds {len(self.product):,} product{'s' * (len(self.product) != 1)}"
            + (f"; adding along {', '.join(e.summed)} leaves out, shape {e.out_shape}." if e.summed
               else f", and out is {PRODUCT} itself."), label=None),)]
        for sentence in (s for s in sentences if s.role in CLOSING_ROLES):
            lines.extend(prose_lines([sentence], self.chars))
        marks = self.marks(dict(zip(e.output, (0,) * len(e.output))), [self.p]) if e.summed else []
        frames.append(Frame(len(frames), "final", range(0), self.seconds("final"),
                            finished=self.finish(n_cells, done),
                            marks=tuple(m._replace(role="term") for m in marks),
                            caption=tuple(lines[:FINAL_LINES])))
        return frames


def product_parts(trace: Trace, max_frames: int, explanation: Explanation) -> tuple[
        _Picture, Callable[[Any, CodePanel, int], list[Frame]], tuple[list[tuple[Span, ...]], int, dict[str, int]]]:
    """What :func:`~einviz.render.scene.build_scene` needs to draw the product view: the
    arrays to lay out (the operands, ``P`` and the output), the maker of the frames from the
    placed layout, and the code panel's lines.

    Raises:
        EinvizError: the subscripts hold ``...``.
    """
    picture, product = _picture(trace)

    def frames(layout: Any, code: CodePanel, chars: int) -> list[Frame]:
        maker = _ProductFrames(layout, code, chars, None, einsum=trace.plan, product=product)
        return maker.build_product(max_frames, explanation.sentences)

    return picture, frames, product_code(trace.plan)
