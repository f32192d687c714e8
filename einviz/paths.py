"""Contraction paths: the order in which opt_einsum or numpy really contracts an einsum.

An einsum of three or more operands is rarely run as one nested loop. opt_einsum
(``opt_einsum.contract``) and numpy (``numpy.einsum(..., optimize=True)``) first pick a
*path*: a sequence of small contractions, each of one or two operands, whose results
(intermediates, named ``T1``, ``T2``, … here) take part in later steps, until one array is
left. :func:`contraction_path` asks the library for its path and lays it out as a
:class:`ContractionPath`: every :class:`PathStep` with its operands, its own subscripts, the
intermediate's labels, shape and size, its FLOPs, the BLAS kind of the step and the name of
its pattern; the naive single-loop cost beside the path's cost.

FLOPs are einviz's own count (:attr:`einviz.LoopPlan.flops`), and :data:`CONVENTIONS`
says exactly where numpy's and opt_einsum's own printouts count differently.

>>> p = contraction_path("ab,bc,cd->ad", shapes=[(2, 30), (30, 4), (4, 50)])
>>> [step.subscripts for step in p.steps]
['bc,ab->ca', 'ca,cd->ad']
>>> p.naive_flops, p.flops
(36000, 1280)
"""

from __future__ import annotations

import itertools
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np

from ._files import write_file
from .errors import EinvizError, LimitError, PathError, ShapeError
from .explaining import explain
from .operands import default_operands
from .planning import LoopPlan, plan
from .reference import check_path
from .subscripts import ELLIPSIS, Equation, parse_call

__all__ = [
    "CONVENTIONS",
    "SOURCES",
    "ContractionPath",
    "LibraryPath",
    "PathStep",
    "contraction_path",
    "library_path",
]

#: The libraries a path can come from.
SOURCES = ("opt_einsum", "numpy")

#: What ``optimize=True`` means for each source: the strategy the library's own einsum uses
#: when asked to optimize (``opt_einsum.contract`` by default, ``numpy.einsum(optimize=True)``).
DEFAULT_STRATEGY = {"opt_einsum": "auto", "numpy": "greedy"}

_NUMPY_STRATEGIES = ("greedy", "optimal")

#: How einviz counts FLOPs, and where numpy's and opt_einsum's printouts count differently.
CONVENTIONS = """\
How einviz counts FLOPs
  One step of a nested loop is one multiply-add over one combination of the labels' values,
  so a loop makes n_steps = (the product of the sizes of its labels) steps. Each step makes
  (operands - 1) multiplications, plus one addition when some label is summed; a step with
  neither (a copy, a transpose, a diagonal) counts as one operation:
      flops = n_steps * max(operands - 1 + (1 if a label is summed else 0), 1)
  The naive cost is the whole einsum as one loop (einviz.plan(...).flops). A path's cost is
  the sum over its steps, each step counted the same way on its own operands' shapes.

Where numpy.einsum_path and opt_einsum.contract_path count differently
  Both count size * (max(1, operands - 1) + inner), size being the product of the sizes of
  the labels involved, but:
  1. Naive cost: `inner` is "some label appears in two or more inputs", not "some label is
     summed". When inputs share a label and nothing is summed (Hadamard ij,ij->ij,
     broadcasting ij,j->ij, ij,ij,ij->ij) they count one more operation per step than
     einviz: ij,ij->ij on 2x3 is 12 for them, 6 for einviz. When something is summed but no
     label is shared (i,j->, ij,k->k) they count one fewer: i,j-> on 2 and 3 is 6 for them,
     12 for einviz. With one operand the counts agree.
  2. Path steps: `inner` is "some label is summed in this step", as in einviz, so steps of
     two or more operands agree; but a one-operand step that sums (ij->i, ii->, the
     single-operand reductions of opt_einsum's 'dp' paths) counts 2 * size for them and
     size for einviz. So for ij->i alone both libraries print an optimized count twice
     their naive one (a speed-up of 0.5).
  3. numpy adds 1 to its "Optimized FLOP count" (the sum of its steps + 1): a one-step path
     never shows a speed-up of exactly 1 (ij,jk->ik on 2x3, 3x4: naive 48, optimized 49),
     and a Hadamard product, one step either way, shows 12 against 7.
  4. Sizes: the libraries price every label at its largest size over all operands, also in
     a step whose operands have it only as a broadcast size-1 axis; einviz counts each step
     on its operands' real shapes. The intermediates' sizes (and the largest intermediate)
     differ the same way.
  5. Both libraries count the final result among the intermediates when they report the
     largest one; so does einviz.
  Where the paths differ: numpy makes one step of all the operands when there are one or
  two, or when nothing is summed (i,j,k->ijk); opt_einsum only when there are one or two.
  The BLAS column is opt_einsum's can_blas classification of the step ('GEMM', 'TDOT',
  'DOT', 'GEMV/EINSUM', 'OUTER/EINSUM', or none); for source='numpy' it says what kind of
  BLAS call the step is, not how numpy runs it."""

_MIN_CELLS = 2
#: The most grid cells one step figure draws (its inputs and its result together).
FIGURE_MAX_CELLS = 600
#: Numbers the step figures' id prefixes, so several on one page never collide.
_figures = itertools.count(1)


@dataclass(frozen=True)
class PathStep:
    """One contraction of a path: one or more operands in, one array out.

    Attributes:
        index: the step's number, from 1.
        positions: the library's own numbers for the operands it contracts: their positions
            in the list of arrays left (each result is appended at the end of that list).
        inputs: the names of the arrays contracted (operands, or intermediates ``T1``, …),
            in the order of ``subscripts``.
        input_shapes: their shapes.
        subscripts: the step as an einsum, e.g. ``"bc,ab->ca"``: the library's own (input
            order and intermediate label order are its choice).
        output: the name of the result: ``T1``, ``T2``, … or ``out`` for the last step.
        labels: the labels of the result (the output term of ``subscripts``).
        shape: the result's shape.
        summed: the labels this step sums over.
        flops: the step's FLOPs by einviz's convention (:data:`CONVENTIONS`).
        library_flops: the same step as the library prices it.
        blas: the BLAS kind of the step (``"GEMM"``, ``"TDOT"``, ``"DOT"``,
            ``"GEMV/EINSUM"``, …) or ``False``.
        pattern: the pattern's short name from :func:`einviz.explain` (or ``None``).
        title: the pattern named with its labels, e.g. ``"tensor contraction over b"``.
        remaining: the names of the arrays left after this step.

    >>> step = contraction_path("ij,jk->ik", shapes=[(2, 3), (3, 4)]).steps[0]
    >>> step.inputs, step.subscripts, step.shape, step.flops, step.blas
    (('B', 'A'), 'jk,ij->ik', (2, 4), 48, 'GEMM')
    """

    index: int
    positions: tuple[int, ...]
    inputs: tuple[str, ...]
    input_shapes: tuple[tuple[int, ...], ...]
    subscripts: str
    output: str
    labels: str
    shape: tuple[int, ...]
    summed: tuple[str, ...]
    flops: int
    library_flops: int
    blas: str | bool
    pattern: str | None
    title: str
    remaining: tuple[str, ...]

    @property
    def size(self) -> int:
        """The number of elements of the result."""
        return math.prod(self.shape)

    @property
    def scaling(self) -> int:
        """How many distinct labels the step loops over (the libraries' "scaling")."""
        return len(self.plan().labels)

    def plan(self) -> LoopPlan:
        """The step's own :class:`~einviz.LoopPlan` (its inputs named as in the path).

        >>> contraction_path("i,i->", shapes=[(3,), (3,)]).steps[0].plan().n_steps
        3
        """
        return plan(self.subscripts, shapes=self.input_shapes, names=self.inputs)

    def contraction(self) -> str:
        """The step in words of names: ``"T1 = B · A"``."""
        return f"{self.output} = {' · '.join(self.inputs)}"

    def to_dict(self) -> dict[str, Any]:
        """The step as plain data (JSON-ready).

        >>> contraction_path("i,i->", shapes=[(3,), (3,)]).steps[0].to_dict()["flops"]
        6
        """
        return {
            "index": self.index,
            "positions": list(self.positions),
            "inputs": list(self.inputs),
            "input_shapes": [list(s) for s in self.input_shapes],
            "subscripts": self.subscripts,
            "output": self.output,
            "labels": self.labels,
            "shape": list(self.shape),
            "size": self.size,
            "summed": list(self.summed),
            "flops": self.flops,
            "library_flops": self.library_flops,
            "blas": self.blas,
            "pattern": self.pattern,
            "title": self.title,
            "remaining": list(self.remaining),
        }


@dataclass(frozen=True, eq=False, repr=False)
class ContractionPath:
    """The path a library takes through a multi-operand einsum, step by step, with its costs.

    ``str(path)`` is a table (one row a step) under the naive and path costs; ``to_html()``
    is a self-contained HTML fragment with a small figure per step; ``to_dict()`` is the
    same as plain data.

    Attributes:
        subscripts: the whole einsum, explicit (``"ab,bc->ac"``).
        names: the operands' names.
        shapes: the operands' shapes.
        source: ``"opt_einsum"`` or ``"numpy"``.
        strategy: how the path was found: a strategy name (``"auto"``, ``"greedy"``,
            ``"optimal"``, …), ``"explicit"`` (a path given) or ``"none"`` (one step).
        path: the library's path: which positions each step contracts.
        steps: the :class:`PathStep` of each contraction.
        plan: the :class:`~einviz.LoopPlan` of the whole einsum (the naive single loop).
        library_naive_flops: the library's own naive FLOP count ("Naive FLOP count").
        library_flops: the library's own path cost ("Optimized FLOP count").
        library_printout: the library's own printout of the path.

    >>> p = contraction_path("ab,bc,cd,de->ae", shapes=[(2, 3), (3, 4), (4, 5), (5, 6)])
    >>> [step.contraction() for step in p.steps]
    ['T1 = B · A', 'T2 = T1 · C', 'out = T2 · D']
    >>> p.naive_flops, p.flops, round(p.speedup, 2), p.largest_intermediate
    (2880, 248, 11.61, 12)
    """

    subscripts: str
    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    source: str
    strategy: str
    path: tuple[tuple[int, ...], ...]
    steps: tuple[PathStep, ...]
    plan: LoopPlan
    library_naive_flops: int
    library_flops: int
    library_printout: str
    _operands: tuple[Any, ...] | None = field(default=None, repr=False)
    _ascii: tuple[str, ...] = field(default=(), repr=False)
    _folded: bool = field(default=True, repr=False)
    _ellipsis_letters: str = field(default="", repr=False)

    # -- figures ---------------------------------------------------------------------------
    @property
    def naive_flops(self) -> int:
        """The FLOPs of the whole einsum as one nested loop (``plan.flops``)."""
        return self.plan.flops

    @property
    def flops(self) -> int:
        """The FLOPs of the path: the sum of its steps' FLOPs."""
        return sum(step.flops for step in self.steps)

    @property
    def speedup(self) -> float:
        """How many times fewer FLOPs the path makes than the naive loop."""
        if self.flops == 0:
            return 1.0 if self.naive_flops == 0 else math.inf
        return self.naive_flops / self.flops

    @property
    def largest_intermediate(self) -> int:
        """The most elements of any array a step makes (the final result included)."""
        return max((step.size for step in self.steps), default=0)

    @property
    def conventions(self) -> str:
        """How einviz counts FLOPs and where numpy and opt_einsum count differently."""
        return CONVENTIONS

    # -- running ---------------------------------------------------------------------------
    def einsum(self, *operands: Any) -> Any:
        """Run the path step by step with einviz's reference einsum; return the result.

        Args:
            *operands: the operands, of the planned shapes.

        Returns:
            The result, equal to ``numpy.einsum`` of the whole expression.

        Raises:
            ShapeError: the operands' number or shapes differ from the path's.

        >>> p = contraction_path("i,ij,j->", shapes=[(2,), (2, 3), (3,)])
        >>> int(p.einsum(np.ones(2), np.ones((2, 3)), np.ones(3)))
        6
        """
        arrays = [np.asarray(a) for a in operands]
        given = tuple(a.shape for a in arrays)
        if given != self.shapes:
            raise ShapeError(
                "the operands' shapes differ from the path's shapes",
                subscripts=self.subscripts,
                details=[f"path:  {self.shapes}", f"given: {given}"],
                hint="make a new path for these operands",
            )
        return self._replay(arrays)[self.steps[-1].output]

    def _replay(self, arrays: Sequence[Any]) -> dict[str, Any]:
        """Every array of the path by name: the operands, then each step's result."""
        from .reference import einsum

        values: dict[str, Any] = dict(zip(self.names, arrays))
        for step in self.steps:
            values[step.output] = einsum(step.subscripts, *(values[name] for name in step.inputs))
        return values

    # -- pictures ----------------------------------------------------------------------------
    def figure_operands(self, cells: int = 3) -> tuple[list[np.ndarray], int]:
        """The operands the step figures are drawn on, and how many cells a label keeps.

        The operands given to :func:`contraction_path` when there were some, else small
        integers; either way cut to the first few indices of every label (size-1 axes stay
        1): ``cells`` of them, fewer when a step would draw more than
        :data:`FIGURE_MAX_CELLS` cells, but never fewer than 2.

        Args:
            cells: the most cells along any label (at least 2).

        Returns:
            The operands, and the most cells a label keeps in them.

        >>> p = contraction_path("ij,jk,kl->il", shapes=[(2, 10), (10, 3), (3, 2)])
        >>> ops, kept = p.figure_operands()
        >>> [a.shape for a in ops], kept
        ([(2, 3), (3, 3), (3, 2)], 3)
        """
        kept = self._figure_cells(cells)
        small = [tuple(min(d, kept) for d in shape) for shape in self.shapes]
        if self._operands is not None:
            arrays = [np.asarray(a)[tuple(slice(0, d) for d in shape)]
                      for a, shape in zip(self._operands, small)]
        else:
            arrays = default_operands(self._ascii_equation(), shapes=small)
        return arrays, kept

    def _figure_cells(self, cells: int) -> int:
        """The most cells per label that keeps every drawable step under the budget."""
        kept = max(int(cells), _MIN_CELLS)
        drawable = [s for s in self.steps if _drawn_cells(s, _MIN_CELLS) <= FIGURE_MAX_CELLS]
        while kept > _MIN_CELLS and any(_drawn_cells(s, kept) > FIGURE_MAX_CELLS for s in drawable):
            kept -= 1
        return kept

    def figure_svg(self, step: int, cells: int = 3) -> str:
        """The small figure of one step: its inputs and its result at the final state (SVG).

        Drawn by :func:`einviz.animate` on :meth:`figure_operands` and the intermediates they
        give, so the result of one step is the input of the next; the result is titled
        ``out`` in the figure.

        Args:
            step: the step's index (from 1, as in :attr:`PathStep.index`).
            cells: the most cells along any label.

        Returns:
            The SVG text.

        Raises:
            LimitError: the step's arrays have too many cells to draw, even cut to 2 a label.

        >>> p = contraction_path("ij,jk,kl->il", shapes=[(2, 3), (3, 3), (3, 2)])
        >>> p.figure_svg(1).startswith("<svg")
        True
        """
        if not 1 <= step <= len(self.steps):
            raise EinvizError(
                f"step must be from 1 to {len(self.steps)}, not {step!r}",
                hint="steps are numbered from 1, as in the table",
            )
        chosen = self.steps[step - 1]
        arrays, _ = self.figure_operands(cells)
        least = _drawn_cells(chosen, _MIN_CELLS)
        if least > FIGURE_MAX_CELLS:
            raise LimitError(
                f"step {step} would draw {least:,} cells even cut to {_MIN_CELLS} along each "
                f"label, more than the {FIGURE_MAX_CELLS} a step figure draws",
                subscripts=chosen.subscripts,
                details=[f"{name}: shape {shape}" for name, shape in
                         zip(chosen.inputs + (chosen.output,), chosen.input_shapes + (chosen.shape,))],
                hint="the table and to_dict() still describe the step",
            )
        values = self._replay(arrays)
        return _draw_step(chosen, [values[name] for name in chosen.inputs], self._colours())

    def _colours(self) -> dict[str, str]:
        """The colour of each letter: the expression's, in the table and in every figure."""
        from .render.palette import label_colours

        return label_colours(list(self.plan.equation.labels) + list(self._ellipsis_letters))

    # -- text ------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (f"<ContractionPath {self.subscripts}: {len(self.steps)} step"
                f"{'s' * (len(self.steps) != 1)} ({self.source}, {self.strategy}), "
                f"{self.flops:,} FLOPs against {self.naive_flops:,} naive>")

    def _table(self) -> tuple[list[str], list[list[str]]]:
        head = ["step", "contraction", "subscripts", "shape", "size", "FLOPs", "BLAS", "pattern"]
        rows = [
            [str(s.index), s.contraction(), s.subscripts, _shape(s.shape), f"{s.size:,}",
             f"{s.flops:,}", str(s.blas) if s.blas else "—", s.title]
            for s in self.steps
        ]
        return head, rows

    def __str__(self) -> str:
        operands = "   ".join(f"{n} {_shape(s)}" for n, s in zip(self.names, self.shapes))
        lines = [
            f"Contraction path  {self.subscripts}   ({self.source}, {self.strategy})",
            f"  operands  {operands}  ->  out {_shape(self.plan.out_shape)}",
            f"  naive single loop  {self.naive_flops:,} FLOPs   path  {self.flops:,} FLOPs   "
            f"speed-up  {_times(self.speedup)}   largest intermediate  "
            f"{self.largest_intermediate:,} elements",
            "",
        ]
        head, rows = self._table()
        numeric = {"step", "size", "FLOPs"}
        widths = [max(len(r[k]) for r in rows + [head]) for k in range(len(head))]

        def line(cells: list[str]) -> str:
            parts = [c.rjust(w) if h in numeric else c.ljust(w) for c, w, h in zip(cells, widths, head)]
            return ("  " + "  ".join(parts)).rstrip()

        lines.append(line(head))
        lines.extend(line(row) for row in rows)
        lines.append("")
        lines.append("  FLOPs: one multiplication per extra operand and one addition when a label is "
                     "summed, per step")
        if (self.library_naive_flops, self.library_flops) != (self.naive_flops, self.flops):
            lines.append(
                f"  {self.source} counts differently: naive {self.library_naive_flops:,}, path "
                f"{self.library_flops:,} (docs/paths.md; .conventions() says why)"
            )
        if not self._folded:
            letters = ", ".join(self._ellipsis_letters)
            lines.append(f"  '...' is written as the labels {letters} where a step cannot keep it")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The path as plain data (JSON-ready), for an HTML player or a report.

        >>> d = contraction_path("ij,jk,kl->il", shapes=[(2, 3), (3, 4), (4, 5)]).to_dict()
        >>> d["naive_flops"], d["flops"], len(d["steps"])
        (360, 128, 2)
        """
        return {
            "subscripts": self.subscripts,
            "names": list(self.names),
            "shapes": [list(s) for s in self.shapes],
            "out_shape": list(self.plan.out_shape),
            "source": self.source,
            "strategy": self.strategy,
            "path": [list(p) for p in self.path],
            "naive_flops": self.naive_flops,
            "flops": self.flops,
            "speedup": self.speedup,
            "largest_intermediate": self.largest_intermediate,
            "library": {
                "naive_flops": self.library_naive_flops,
                "flops": self.library_flops,
                "printout": self.library_printout,
            },
            "steps": [step.to_dict() for step in self.steps],
            "conventions": CONVENTIONS,
        }

    # -- HTML ------------------------------------------------------------------------------
    @overload
    def to_html(self, path: None = None, figures: bool = True, cells: int = 3) -> str: ...
    @overload
    def to_html(self, path: str | os.PathLike[str], figures: bool = True, cells: int = 3) -> None: ...
    def to_html(
        self,
        path: str | os.PathLike[str] | None = None,
        figures: bool = True,
        cells: int = 3,
    ) -> str | None:
        """A self-contained HTML fragment: the costs, the table, a small figure per step.

        No script and no external resource; the styles are scoped to the fragment's own id,
        so several fragments can share a page. Every text taken from the input is escaped.

        Args:
            path: where to write it; without a path the text is returned.
            figures: whether to draw a figure per step (see :meth:`figure_svg`).
            cells: the most cells along any label in the figures.

        Returns:
            The HTML text, or ``None`` when it was written to ``path``.

        >>> p = contraction_path("ij,jk,kl->il", shapes=[(2, 3), (3, 4), (4, 5)])
        >>> p.to_html(figures=False).startswith('<section class="einviz-path"')
        True
        """
        text = self._html(figures, cells)
        if path is None:
            return text
        write_file(path, text)
        return None

    def _repr_html_(self) -> str:
        return self._html(True, 3)

    def _html(self, figures: bool, cells: int) -> str:
        """The fragment, drawn by :func:`einviz.render.reports.path_html` from what is found here."""
        from .render.reports import StepFigure, path_html

        drawn: list[StepFigure] | None = None
        given, cut_to = "small integer operands", None
        if figures:
            arrays, kept = self.figure_operands(cells)
            values = self._replay(arrays)
            colours = self._colours()
            if any(d > kept for shape in self.shapes for d in shape):
                cut_to = kept
            if self._operands is not None:
                given = "your operands"
            drawn = []
            for step in self.steps:
                least = _drawn_cells(step, _MIN_CELLS)
                if least > FIGURE_MAX_CELLS:
                    drawn.append(StepFigure(step, None, (
                        f"no figure: its arrays would have {least:,} cells even cut to {_MIN_CELLS} "
                        f"along each label, more than the {FIGURE_MAX_CELLS} a step figure draws")))
                else:
                    svg = _draw_step(step, [values[name] for name in step.inputs], colours)
                    drawn.append(StepFigure(step, svg))
        return path_html(self, colours=self._colours(), table=self._table(),
                         speedup=_times(self.speedup), figures=drawn, operands=given,
                         cut_to=cut_to)

    def _ascii_equation(self) -> str:
        return ",".join(self._ascii[:-1]) + "->" + self._ascii[-1]


# -- entry point ------------------------------------------------------------------------------
def contraction_path(
    subscripts: Any,
    *operands: Any,
    shapes: Sequence[Sequence[int]] | None = None,
    names: Sequence[str] | None = None,
    optimize: Any = True,
    source: str = "opt_einsum",
) -> ContractionPath:
    """The order in which opt_einsum (or numpy) contracts an einsum, step by step.

    Args:
        subscripts: the subscripts text (``"ab,bc,cd->ad"``), an :class:`~einviz.Equation`,
            a :class:`~einviz.LoopPlan` already bound (nothing is parsed or bound again),
            or, in numpy's sublist form, the first operand.
        *operands: the operands (their shapes choose the path; their values are drawn in
            the figures).
        shapes: the operands' shapes, instead of operands.
        names: the operands' names (default: :func:`einviz.planning.default_names`);
            intermediates are ``T1``, ``T2``, … and the last result is ``out``.
        optimize: how the library finds the path: ``True`` (its default: ``"auto"`` for
            opt_einsum, ``"greedy"`` for numpy), a strategy name (opt_einsum: ``"greedy"``,
            ``"optimal"``, ``"dp"``, ``"branch-2"``, …; numpy: ``"greedy"`` or
            ``"optimal"``), ``False`` (no path: one step of all operands), or an explicit
            path such as ``[(0, 1), (0, 1)]`` (numpy's ``["einsum_path", ...]`` too).
        source: ``"opt_einsum"`` (``opt_einsum.contract_path``) or ``"numpy"``
            (``numpy.einsum_path``).

    Returns:
        The :class:`ContractionPath`.

    Raises:
        SubscriptError: the subscripts are not valid.
        ShapeError: the operands or shapes do not fit the subscripts.
        PathError: an explicit path does not contract the operands to one.
        EinvizError: an unknown source or strategy.

    >>> p = contraction_path("ij,jk,kl->il", shapes=[(2, 3), (3, 4), (4, 5)])
    >>> [(s.inputs, s.subscripts, s.shape) for s in p.steps]
    [(('B', 'A'), 'jk,ij->ki', (4, 2)), (('T1', 'C'), 'ki,kl->il', (2, 5))]
    >>> contraction_path("ij,jk,kl->il", shapes=[(2, 3), (3, 4), (4, 5)], source="numpy").strategy
    'greedy'
    """
    if not isinstance(source, str) or source not in SOURCES:
        raise EinvizError(
            f"source must be 'opt_einsum' or 'numpy', not {source!r}",
            hint="source='opt_einsum' asks opt_einsum.contract_path, 'numpy' numpy.einsum_path",
        )
    loop_plan = _bound(subscripts, operands, shapes, names)
    strategy, explicit = _strategy(optimize, source, loop_plan.n_operands)

    ascii_terms, letters = _ascii_terms(loop_plan)
    text = ",".join(ascii_terms[:-1]) + "->" + ascii_terms[-1]
    sizes = {letters.get(label, label): size for label, size in loop_plan.sizes.items()}
    ask = _ask_opt_einsum if source == "opt_einsum" else _ask_numpy
    path, step_texts, blas_kinds, printout, library_naive = ask(text, loop_plan.shapes, strategy, explicit)
    if library_naive is None:
        library_naive = _library_naive(ascii_terms[:-1], sizes)
    steps, folded_all = _steps(loop_plan, ascii_terms, letters, sizes, path, step_texts, blas_kinds)
    library_flops = sum(step.library_flops for step in steps) + (1 if source == "numpy" else 0)
    return ContractionPath(
        subscripts=_explicit(loop_plan.equation),
        names=loop_plan.names,
        shapes=loop_plan.shapes,
        source=source,
        strategy=strategy,
        path=tuple(tuple(int(i) for i in p) for p in path),
        steps=tuple(steps),
        plan=loop_plan,
        library_naive_flops=library_naive,
        library_flops=library_flops,
        library_printout=printout,
        _operands=tuple(operands) if operands else None,
        _ascii=tuple(ascii_terms),
        _folded=folded_all,
        _ellipsis_letters="".join(letters[label] for label in loop_plan.ellipsis),
    )


def _bound(subscripts: Any, operands: tuple[Any, ...], shapes: Any, names: Any) -> LoopPlan:
    """The plan to find a path for: the caller's own (nothing parsed or bound again), or one
    bound from the subscripts and the operands or shapes."""
    if isinstance(subscripts, LoopPlan):
        if operands:
            subscripts.check_operands([np.shape(operand) for operand in operands])
        return subscripts
    if shapes is None:
        subscripts, operand_list = parse_call((subscripts, *operands))  # either form of call
        operands = tuple(operand_list)
    return plan(subscripts, *operands, shapes=shapes, names=names)


def _steps(
    loop_plan: LoopPlan,
    ascii_terms: list[str],
    letters: dict[str, str],
    sizes: dict[str, int],
    path: list[tuple[int, ...]],
    step_texts: list[str],
    blas_kinds: list[str | bool] | None,
) -> tuple[list[PathStep], bool]:
    """Each step of the library's path, replayed on names, shapes and terms; and whether every
    step could write its '...' letters back as '...'."""
    from opt_einsum.blas import can_blas

    names_left = list(loop_plan.names)
    shapes_left = list(loop_plan.shapes)
    terms_left = list(ascii_terms[:-1])
    prefix = _intermediate_prefix(loop_plan.names, len(path))
    steps: list[PathStep] = []
    folded_all = True
    for k, contract in enumerate(path):
        positions = tuple(sorted(contract, reverse=True))
        inputs = tuple(names_left.pop(i) for i in positions)
        input_shapes = tuple(shapes_left.pop(i) for i in positions)
        input_terms = tuple(terms_left.pop(i) for i in positions)
        step_text = step_texts[k]
        result_term = step_text.split("->")[1]
        if tuple(step_text.split("->")[0].split(",")) != input_terms:
            raise AssertionError(f"einviz lost track of the path at {step_text!r}: {input_terms}")
        last = k == len(path) - 1
        output = "out" if last else f"{prefix}{k + 1}"
        step_plan = plan(step_text, shapes=input_shapes)
        summed = set(step_plan.summed)
        if blas_kinds is not None:
            blas = blas_kinds[k]
        else:
            blas = can_blas(list(input_terms), result_term, summed, list(input_shapes))
        folded = _fold_step(step_text, letters)
        folded_all = folded_all and folded is not None
        shown = folded if folded is not None else step_text
        shown_plan = plan(shown, shapes=input_shapes, names=inputs)
        pattern, title = _pattern(shown_plan)
        names_left.append(output)
        shapes_left.append(step_plan.out_shape)
        terms_left.append(result_term)
        steps.append(PathStep(
            index=k + 1,
            positions=positions,
            inputs=inputs,
            input_shapes=input_shapes,
            subscripts=shown,
            output=output,
            labels=shown.split("->")[1],
            shape=step_plan.out_shape,
            summed=tuple(step_plan.summed),
            flops=step_plan.flops,
            library_flops=_library_step_flops(input_terms, summed, sizes),
            blas=blas,
            pattern=pattern,
            title=title,
            remaining=tuple(names_left),
        ))
    return steps, folded_all


@dataclass(frozen=True)
class LibraryPath:
    """How one einsum entry point, called with one ``optimize`` setting, orders the pairwise
    contractions of three or more operands: the rule, and what to ask :func:`contraction_path`.

    Attributes:
        function: the entry point (``"numpy.einsum"``, ``"torch.einsum"``, …).
        rule: ``"numpy-one-loop"`` (numpy without ``optimize``: one loop over all operands;
            the path shown is the one ``optimize=True`` would take), ``"numpy"``, ``"jax"``,
            ``"torch-opt-einsum"``, ``"torch-left-to-right"`` or ``"opt_einsum"``.
        optimize: the ``optimize=`` that gives the library's path to :func:`contraction_path`.
        source: the ``source=`` for :func:`contraction_path`.
        detail: for ``"numpy-one-loop"`` why there is no path, for ``"numpy"`` the memory limit
            left out, for ``"torch-opt-einsum"`` torch's strategy; else ``None``.

    >>> library_path("jax", "jax.numpy.einsum", True, 3).optimize
    'optimal'
    """

    function: str
    rule: str
    optimize: Any
    source: str
    detail: str | None = None


def library_path(library: str, function: str, optimize: Any, n_operands: int) -> LibraryPath:
    """The rule by which ``library`` orders an einsum of ``n_operands`` operands.

    numpy's default (``optimize=False``, and ``None``, which numpy reads as ``False``) runs one
    loop over all the operands; jax asks opt_einsum, reading ``True`` as ``'optimal'`` and
    ``False`` as left to right; torch asks opt_einsum with ``torch.backends.opt_einsum.strategy``
    when that backend is available and enabled, else contracts left to right (torch is looked
    at only when the program has imported it); opt_einsum follows its ``optimize``.

    Args:
        library: ``"numpy"``, ``"opt_einsum"``, ``"torch"`` or ``"jax"``.
        function: the entry point called.
        optimize: the ``optimize=`` of the call (its entry point's default when it gave none).
        n_operands: the number of operands.

    Returns:
        The :class:`LibraryPath`.

    >>> rule = library_path("numpy", "numpy.einsum", False, 3)
    >>> rule.rule, rule.optimize, rule.source
    ('numpy-one-loop', True, 'numpy')
    """
    left_to_right = [(0, 1)] * (n_operands - 1)
    if library == "numpy":
        if optimize is False or optimize is None:
            why = "numpy's default" if optimize is False else "numpy reads None as False"
            return LibraryPath(function, "numpy-one-loop", True, "numpy", why)
        limit = None
        if (isinstance(optimize, (list, tuple)) and len(optimize) == 2
                and isinstance(optimize[0], str) and optimize[0] != "einsum_path"):
            limit, optimize = str(optimize[1]), optimize[0]  # (strategy, memory limit)
        return LibraryPath(function, "numpy", optimize, "numpy", limit)
    if library == "jax":
        if optimize is True:
            optimize = "optimal"
        elif optimize is False:
            optimize = left_to_right
        return LibraryPath(function, "jax", optimize, "opt_einsum")
    if library == "torch":
        backend: Any = getattr(getattr(sys.modules.get("torch"), "backends", None), "opt_einsum", None)
        try:
            uses_opt_einsum = bool(backend.is_available() and backend.enabled)
        except AttributeError:
            uses_opt_einsum = False
        if uses_opt_einsum:
            strategy = backend.strategy or True
            return LibraryPath(function, "torch-opt-einsum", strategy, "opt_einsum", repr(strategy))
        return LibraryPath(function, "torch-left-to-right", left_to_right, "opt_einsum")
    return LibraryPath(function, "opt_einsum", optimize, "opt_einsum")


def _strategy(optimize: Any, source: str, n_operands: int) -> tuple[str, list[tuple[int, ...]] | None]:
    """The strategy's name, and the explicit path when one was given (checked)."""
    if optimize is True or optimize is None:
        return DEFAULT_STRATEGY[source], None
    if optimize is False:
        return "none", [tuple(range(n_operands))]
    if isinstance(optimize, str):
        known = _strategies(source)
        if optimize not in known:
            raise EinvizError(
                f"optimize={optimize!r} is not a strategy {source} knows",
                details=[f"{source} knows: {', '.join(map(repr, known))}"],
                hint="or pass True (the library's default), False (one step), or a path "
                     "such as [(0, 1), (0, 1)]",
            )
        return optimize, None
    if isinstance(optimize, (list, tuple)):
        contractions = list(optimize[1:] if optimize and optimize[0] == "einsum_path" else optimize)
        return "explicit", _check_path(contractions, n_operands, optimize)
    raise EinvizError(
        f"optimize must be True, False, a strategy name or a path, not {optimize!r}",
        hint="e.g. optimize='greedy', or optimize=[(0, 1), (0, 1)]",
    )


def _strategies(source: str) -> tuple[str, ...]:
    if source == "numpy":
        return _NUMPY_STRATEGIES
    from opt_einsum import paths as oe_paths

    options = getattr(oe_paths, "_PATH_OPTIONS", None)
    if options:
        return tuple(sorted(options))
    return ("auto", "auto-hq", "branch-1", "branch-2", "branch-all", "dp", "greedy", "optimal",
            "random-greedy", "random-greedy-128")


def _check_path(contractions: list[Any], n_operands: int, given: Any) -> list[tuple[int, ...]]:
    """An explicit path checked by :func:`einviz.reference.check_path` (einsum's own rule),
    and not empty: a contraction path has at least one step to show."""
    if not contractions:
        raise PathError(
            "the path is empty",
            details=[f"path: {list(given)}"],
            hint="a path lists at least one contraction, e.g. [(0,)] for one operand",
        )
    return check_path(given, n_operands)


#: What a library says about a path: the path, each step's subscripts, each step's BLAS kind
#: (or None: not said), its printout, and its naive FLOP count (or None: only printed, rounded).
_Answer = tuple[list[tuple[int, ...]], list[str], list[str | bool] | None, str, int | None]


def _ask_opt_einsum(
    text: str, shapes: tuple[tuple[int, ...], ...], strategy: str, explicit: list | None,
) -> _Answer:
    import opt_einsum

    optimize: Any = explicit if explicit is not None else strategy
    path, info = opt_einsum.contract_path(text, *shapes, shapes=True, optimize=optimize)
    steps = [contraction[2] for contraction in info.contraction_list]
    blas = [contraction[4] for contraction in info.contraction_list]
    return [tuple(p) for p in path], steps, blas, str(info), int(info.naive_cost)


def _ask_numpy(
    text: str, shapes: tuple[tuple[int, ...], ...], strategy: str, explicit: list | None,
) -> _Answer:
    # numpy reads only the shapes: zero-strided stand-ins cost no memory.
    stand_ins = [np.broadcast_to(np.zeros((), dtype=np.int8), shape) for shape in shapes]
    if explicit is not None:
        optimize: Any = ["einsum_path", *explicit]
    else:
        optimize = False if strategy == "none" else strategy
    path, printout = np.einsum_path(text, *stand_ins, optimize=optimize)
    rule = re.compile(r"^-{20,}$")
    lines = printout.splitlines()
    table = max(k for k, line in enumerate(lines) if rule.match(line.strip()))
    steps = [line.split()[1] for line in lines[table + 1:] if line.strip()]
    return [tuple(p) for p in path[1:]], steps, None, printout, None


def _library_naive(terms: Sequence[str], sizes: dict[str, int]) -> int:
    """The naive cost by the rule numpy and opt_einsum share (see CONVENTIONS, 1)."""
    labels = {label for term in terms for label in term}
    shared = sum(len(set(term)) for term in terms) - len(labels) > 0
    return math.prod(sizes[label] for label in labels) * (max(1, len(terms) - 1) + shared)


def _library_step_flops(terms: Sequence[str], summed: set[str], sizes: dict[str, int]) -> int:
    """A step's cost by the rule numpy and opt_einsum share (see CONVENTIONS, 2 and 4)."""
    labels = {label for term in terms for label in term}
    return math.prod(sizes[label] for label in labels) * (max(1, len(terms) - 1) + bool(summed))


# -- labels ---------------------------------------------------------------------------------
_SPARE_LETTERS = "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"


def _ascii_terms(p: LoopPlan) -> tuple[list[str], dict[str, str]]:
    """The terms (and output, last) with each '...' dimension as a letter of its own.

    Both libraries read these explicit letters the way they read the ellipsis (a size-1
    axis broadcasts either way), and every step's subscripts stay plain text.
    """
    used = {label for label in p.labels if label not in p.ellipsis}
    spare = [c for c in _SPARE_LETTERS if c not in used]
    if len(p.ellipsis) > len(spare):
        raise LimitError(
            f"'...' stands for {len(p.ellipsis)} dimensions but only {len(spare)} letters are free",
            subscripts=p.equation.text_for_carets(),
            hint="einsum has 52 labels in all (a-z, A-Z)",
        )
    letters = dict(zip(p.ellipsis, spare))
    terms = ["".join(letters.get(label, label) for label in term) for term in p.terms]
    terms.append("".join(letters.get(label, label) for label in p.output))
    return terms, letters


def _fold_step(text: str, letters: dict[str, str]) -> str | None:
    """Write a step's '...' letters back as '...' when every term holds a trailing run of them.

    '...' covers the last dimensions of the ellipsis (numpy aligns it from the right), so
    a term can show '...' only where its ellipsis letters are, in order, the last ones.
    """
    if not letters:
        return text
    order = "".join(letters.values())
    parts = []
    inputs, output = text.split("->")
    for term in inputs.split(",") + [output]:
        places = [k for k, c in enumerate(term) if c in order]
        if not places:
            parts.append(term)
            continue
        start, stop = places[0], places[-1] + 1
        run = term[start:stop]
        if stop - start != len(places) or not order.endswith(run):
            return None
        parts.append(term[:start] + ELLIPSIS + term[stop:])
    return ",".join(parts[:-1]) + "->" + parts[-1]


def _explicit(equation: Equation) -> str:
    inputs = ",".join("".join(term) for term in equation.terms)
    return f"{inputs}->{''.join(equation.output)}"


def _intermediate_prefix(names: Sequence[str], n_steps: int) -> str:
    for prefix in ("T", "I", "X", "tmp"):
        if not any(f"{prefix}{k}" in names for k in range(1, n_steps + 1)):
            return prefix
    return "tmp_"


def _pattern(step_plan: LoopPlan) -> tuple[str | None, str]:
    explanation = explain(step_plan)
    return explanation.pattern, explanation.title


# -- pictures -------------------------------------------------------------------------------
def _draw_step(step: PathStep, arrays: Sequence[Any], colours: Mapping[str, str]) -> str:
    """The final-state figure of one step on these operands: the one place a figure is made.
    Its letters take ``colours``, the whole expression's, as the table and the other steps do."""
    from .render.scene import build_scene
    from .render.svg import render
    from .tracing import trace

    traced = trace(step.subscripts, *arrays, names=list(step.inputs))
    scene = build_scene(traced, granularity="cell", colours=colours)
    return render(scene, "frame", -1, prefix=f"path{next(_figures)}")


def _drawn_cells(step: PathStep, cells: int) -> int:
    """How many grid cells the step's figure draws with each label cut to ``cells``."""
    return sum(math.prod(min(d, cells) for d in shape) for shape in step.input_shapes + (step.shape,))


def _shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _times(factor: float) -> str:
    if math.isinf(factor):
        return "∞×"
    return f"{factor:,.1f}×" if factor >= 10 else f"{factor:.2f}×"
