"""The limits ``einviz SUBSCRIPTS`` checks before making its operands, and the making.

The command makes whole arrays (8-byte integers), so it refuses, before allocating anything,
operands and a result that would not fit in memory, arrays numpy cannot make, and an einsum or
a figure over the limits. The einsum limits are :meth:`einviz.LoopPlan.check_limits`'s (the
library's, set from ``--max-steps``) and the figure limits
:func:`einviz.render.scene.check_figure`'s: the same rules for the library and the command,
whose hints name the command's options. The operands themselves come from
:mod:`einviz.operands`, as everywhere else.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .errors import LimitError
from .operands import fill
from .planning import LoopPlan, get_limits, limits

__all__ = ["DEFAULT_MAX_STEPS", "MAX_BYTES", "check_figure", "check_memory", "check_size",
           "make_operands"]

#: The most multiply-adds (and elements in any one array) the command makes: --max-steps.
DEFAULT_MAX_STEPS = 10**7
#: The most memory the operands and the result the command makes may take together. They are
#: whole arrays in memory (8-byte integers), so an einsum past this is refused before any of
#: them is made, whatever --max-steps says.
MAX_BYTES = 2 * 10**9
#: The size of one element of the operands the command makes (int64).
ITEM_BYTES = 8
#: The most bytes numpy can count in one array, empty or not (``numpy.intp``'s largest value):
#: it multiplies the sizes other than 0 and the item size, and refuses past this.
MAX_DIMENSION = int(np.iinfo(np.intp).max)
#: The most dimensions numpy gives an array (``NPY_MAXDIMS``).
MAX_DIMS = 64


def _arrays(loop_plan: LoopPlan) -> list[tuple[str, tuple[int, ...]]]:
    return list(zip(loop_plan.names, loop_plan.shapes)) + [("out", loop_plan.out_shape)]


def _sizes_detail(loop_plan: LoopPlan) -> str:
    return "sizes: " + ", ".join(f"{label}={loop_plan.sizes[label]}" for label in loop_plan.labels)


def check_memory(loop_plan: LoopPlan) -> None:
    """Refuse, before allocating anything, operands and a result too large to make in memory,
    or that numpy cannot make at all (a dimension or a rank past numpy's own bounds).

    Checked before --max-steps, whose hint would otherwise lead to this refusal.
    """
    arrays = _arrays(loop_plan)
    text = loop_plan.equation.text_for_carets()
    needed = sum(math.prod(shape) for _, shape in arrays) * ITEM_BYTES
    if needed > MAX_BYTES:
        raise LimitError(
            f"the operands and the result would take {_bytes(needed)}, more than the "
            f"{_bytes(MAX_BYTES)} the command makes in memory",
            subscripts=text,
            details=[*(f"{name}: shape {shape}, {_bytes(math.prod(shape) * ITEM_BYTES)}"
                       for name, shape in arrays), _sizes_detail(loop_plan)],
            hint="give smaller sizes with --shapes or --sizes (--max-steps does not raise this "
            "limit)",
        )
    for name, shape in arrays:  # empty arrays get here, whatever their other sizes
        _check_numpy_can_make(name, shape, text, loop_plan)


def _check_numpy_can_make(name: str, shape: tuple[int, ...], text: str, loop_plan: LoopPlan) -> None:
    """Refuse an (empty) array numpy refuses to make: too many dimensions, or sizes whose
    product, zeros left out, is past what numpy can count in bytes."""
    if len(shape) > MAX_DIMS:
        problem = f"numpy cannot make {name}: it has {len(shape)} dimensions, numpy makes at most {MAX_DIMS}"
    elif math.prod(size for size in shape if size) * ITEM_BYTES > MAX_DIMENSION:
        problem = (f"numpy cannot make {name}: its sizes multiply to more than numpy counts "
                   f"({MAX_DIMENSION:,} bytes), even with a size 0 among them")
    else:
        return
    raise LimitError(
        problem, subscripts=text, details=[f"{name}: shape {shape}", _sizes_detail(loop_plan)],
        hint="give smaller sizes with --shapes or --sizes",
    )


def _bytes(count: int) -> str:
    """A byte count, exact and for people: ``24,000,000,008 bytes (24.0 GB)``, ``88 bytes``."""
    for unit, scale in (("EB", 10**18), ("PB", 10**15), ("TB", 10**12), ("GB", 10**9),
                        ("MB", 10**6)):
        if count >= scale:
            return f"{count:,} bytes ({count / scale:,.{0 if count >= 100 * scale else 1}f} {unit})"
    return f"{count:,} bytes"


def check_size(loop_plan: LoopPlan, max_steps: int) -> None:
    """Refuse, before allocating anything, an einsum larger than --max-steps.

    The steps and the output are the library's limits (:meth:`LoopPlan.check_limits`, with
    ``max_steps`` and ``max_elements`` both --max-steps); the operands, which the library is
    given and the command makes, are checked here. Each hint names the option to raise.
    """
    with limits(max_steps=max_steps, max_elements=max_steps):
        try:
            loop_plan.check_limits()
        except LimitError as error:
            steps = loop_plan.n_steps
            over = steps if steps > max_steps else math.prod(loop_plan.out_shape)
            sizes = _sizes_detail(loop_plan)
            raise LimitError(
                error.problem, subscripts=error.subscripts, positions=error.positions,
                details=[*error.details, *([sizes] if sizes not in error.details else [])],
                hint=f"raise the limit with --max-steps {over}, or give smaller sizes",
            ) from None
    for name, shape in zip(loop_plan.names, loop_plan.shapes):
        elements = math.prod(shape)
        if elements > max_steps:
            raise LimitError(
                f"{name} would have {elements:,} elements, more than the limit of {max_steps:,}",
                subscripts=loop_plan.equation.text_for_carets(),
                details=[f"{name}: shape {shape}", _sizes_detail(loop_plan)],
                hint=f"raise the limit with --max-steps {elements}, or give smaller sizes",
            )


def check_figure(loop_plan: LoopPlan, max_frames: int) -> None:
    """Refuse a figure over the figure limits before any work, by the library's rule
    (:func:`einviz.render.scene.check_figure`: dimensions, drawn cells, frames) in the
    library's words; only the hint names the command's options."""
    from .render.scene import check_figure as library_check

    try:
        library_check(loop_plan, max_frames=max_frames)
    except LimitError as error:
        raise LimitError(
            error.problem, subscripts=error.subscripts, positions=error.positions,
            details=error.details,
            hint=f"give --max-frames {get_limits().max_frames} or less, fewer or smaller "
                 "dimensions (--shapes, --sizes), or --no-figure for the text alone",
        ) from None


def make_operands(
    shapes: Sequence[tuple[int, ...]], values: str, seed: int
) -> list[np.ndarray]:
    """The operands, made by :func:`einviz.operands.fill` (the library's and the playground's
    rule): ``arange`` (1, 2, 3, … each), ``random`` (-3 to 5, from ``seed``) or ``ones``.

    Called after :func:`check_memory` and :func:`check_size`, whose limits (``MAX_BYTES``,
    --max-steps) are the command's, so the library's element limit is lifted to them here.
    """
    with limits(max_elements=MAX_BYTES // ITEM_BYTES):
        return fill(shapes, values, seed)
