"""Made-up operands: the default sizes and values every entry point shows.

When only subscripts (and maybe some shapes or label sizes) are known, ``einviz SUBSCRIPTS``,
:func:`einviz.animate`, :func:`einviz.explain`, the playground and the capture report all
make their operands here, so the same call shows the same numbers wherever it comes from:

* sizes: labels not given a size get 2, 3, 4, 2, 3, 4, … in order of first appearance;
  ``...`` gets :attr:`~einviz.Equation.example_ellipsis` unless a size is given for it;
* values: ``arange`` (1, 2, 3, … in each operand, the default), ``random`` (integers from
  -3 to 5 drawn from one generator seeded with ``seed``) or ``ones``.

Every operand is checked against the limits of :func:`einviz.get_limits` (the plan's steps
and output, then each operand's element count) before anything is allocated.

>>> [a.tolist() for a in default_operands("ij,jk->ik")][0]
[[1, 2, 3], [4, 5, 6]]
>>> default_shapes(parse("ij,jk,kl,lm->im"))
[(2, 3), (3, 4), (4, 2), (2, 3)]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ArgumentTypeError, EinvizError, LimitError, ShapeError
from .planning import LoopPlan, default_names, get_limits
from .planning import plan as make_plan
from .subscripts import ELLIPSIS, Equation, parse

__all__ = ["DEFAULT_SIZES", "VALUES", "default_operands", "default_shapes", "fill", "made_up"]

#: Sizes given to the labels nothing sizes, in order of first appearance, cycling.
DEFAULT_SIZES = (2, 3, 4)
#: What made-up operands can be filled with (the first is the default).
VALUES = ("arange", "random", "ones")

Shapes = Sequence[Sequence[int]] | Mapping[str, Sequence[int]]


def default_shapes(
    equation: Equation, sizes: Mapping[str, Any] | None = None
) -> list[tuple[int, ...]]:
    """Each operand's shape: the sizes given, and 2, 3, 4, 2, … for the labels not given.

    Args:
        equation: the parsed subscripts.
        sizes: the size of some labels (``{"i": 2}``); ``"..."`` may map to the ellipsis'
            sizes (a number or a tuple). Checked: unknown labels and bad sizes are refused.

    Returns:
        One shape per operand.

    Raises:
        ShapeError: a size for a label the subscripts do not have, or below 0.
        ArgumentTypeError: a size that is not a whole number.

    >>> default_shapes(parse("...ij,jkl->...il"), {"j": 5})
    [(2, 2, 5), (5, 3, 4)]
    """
    given = _checked_sizes(sizes, equation)
    dots = given.pop(ELLIPSIS, equation.example_ellipsis)
    others = [label for label in equation.labels if label not in given]
    chosen = {label: DEFAULT_SIZES[k % len(DEFAULT_SIZES)] for k, label in enumerate(others)}
    chosen.update(given)
    return [tuple(d for label in term for d in (dots if label == ELLIPSIS else (chosen[label],)))
            for term in equation.terms]


def fill(
    shapes: Sequence[Sequence[int]],
    values: str = "arange",
    seed: int = 0,
    names: Sequence[str] | None = None,
    subscripts: str | None = None,
) -> list[np.ndarray]:
    """Small integer operands of these shapes (int64), each refused over ``max_elements``
    before any is allocated.

    Args:
        shapes: the operands' shapes.
        values: ``"arange"`` (1, 2, 3, … each; from 1 so no product of a first row is a bare
            0), ``"random"`` (-3 to 5, one generator seeded with ``seed``) or ``"ones"``.
        seed: the seed of ``"random"``.
        names: the operands' names, for messages (default A, B, C, …).
        subscripts: the subscripts, for the carets of a message.

    Raises:
        LimitError: an operand with more elements than ``einviz.get_limits().max_elements``.
        EinvizError: an unknown ``values`` or a seed below 0.

    >>> [a.tolist() for a in fill([(2,), (2,)], "ones")]
    [[1, 1], [1, 1]]
    """
    if values not in VALUES:
        raise EinvizError(f"values must be one of {', '.join(VALUES)}, not {values!r}",
                          hint='e.g. values="arange" (1, 2, 3, … in each operand)')
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise (EinvizError if isinstance(seed, (int, np.integer)) else ArgumentTypeError)(
            f"seed must be a whole number, 0 or more, not {seed!r}",
            hint="the seed picks the example operands' values, e.g. seed=0")
    shapes = [tuple(int(d) for d in shape) for shape in shapes]
    names = list(names) if names is not None else list(default_names(len(shapes), ()))
    bound = get_limits().max_elements
    for name, shape in zip(names, shapes):
        elements = math.prod(shape)
        if elements > bound:
            raise LimitError(
                f"{name} would have {elements:,} elements, more than the limit of {bound:,}",
                subscripts=subscripts, details=[f"{name}: shape {shape}"],
                hint="raise it with `with einviz.limits(max_elements=...)`, or give smaller sizes")
    if values == "random":
        rng = np.random.default_rng(seed)
        return [rng.integers(-3, 6, size=shape, dtype=np.int64) for shape in shapes]
    if values == "ones":
        return [np.ones(shape, dtype=np.int64) for shape in shapes]
    return [np.arange(1, math.prod(shape) + 1, dtype=np.int64).reshape(shape) for shape in shapes]


def made_up(loop_plan: LoopPlan, values: str = "arange", seed: int = 0) -> list[np.ndarray]:
    """Operands for a plan made without any: its limits checked first, then :func:`fill`.

    >>> made_up(make_plan("i,i->", shapes=[(3,), (3,)]))[1].tolist()
    [1, 2, 3]
    """
    loop_plan.check_limits()
    return fill(loop_plan.shapes, values, seed, loop_plan.names,
                loop_plan.equation.text_for_carets())


def default_operands(
    subscripts: str | Equation,
    shapes: Shapes | None = None,
    sizes: Mapping[str, int | Sequence[int]] | None = None,
    names: Sequence[str] | None = None,
    values: str = "arange",
    seed: int = 0,
) -> list[np.ndarray]:
    """Small integer operands for subscripts, when only shapes or label sizes are known.

    Args:
        subscripts: the subscripts.
        shapes: the operands' shapes, as a list or as a dict from operand name to shape.
        sizes: the size of some labels (``{"i": 2}``); ``"..."`` may map to the ellipsis'
            sizes. Labels not given get 2, 3, 4, 2, … in order of first appearance.
        names: the operands' names (for ``shapes`` given as a dict).
        values: ``"arange"`` (1, 2, 3, … in each operand), ``"random"`` or ``"ones"``.
        seed: the seed of ``"random"``.

    Returns:
        One int64 array per operand.

    Raises:
        LimitError: the operands, or the einsum on them, would be over a limit of
            :func:`einviz.get_limits` (checked before anything is allocated).

    >>> [a.shape for a in default_operands("ij,jk->ik")]
    [(2, 3), (3, 4)]
    >>> [a.shape for a in default_operands("ij,jk->ik", sizes={"j": 5})]
    [(2, 5), (5, 3)]
    """
    return default_call(subscripts, shapes, sizes, names, values, seed)[1]


def default_call(
    subscripts: str | Equation,
    shapes: Shapes | None,
    sizes: Mapping[str, Any] | None,
    names: Sequence[str] | None,
    values: str,
    seed: int,
    check: Callable[[LoopPlan], None] | None = None,
) -> tuple[LoopPlan, list[np.ndarray]]:
    """The plan of the subscripts on the shapes asked for, and operands made for it: checked
    against the limits (and by ``check``) before the operands are allocated."""
    equation = subscripts if isinstance(subscripts, Equation) else parse(subscripts)
    if shapes is None:
        shape_list = default_shapes(equation, sizes)
    elif isinstance(shapes, Mapping):
        order = list(names) if names is not None else list(default_names(equation.n_operands,
                                                                          equation.labels))
        if any(name not in shapes for name in order) or len(shapes) != equation.n_operands:
            raise ShapeError(f"shapes= names {sorted(shapes)} but the operands are {order}",
                             subscripts=str(equation),
                             hint="give one shape per operand, keyed by the operands' names")
        shape_list = [tuple(shapes[name]) for name in order]
    else:
        shape_list = [tuple(s) if not isinstance(s, int) else (s,) for s in shapes]
    loop_plan = make_plan(equation, shapes=shape_list, names=names)  # checks the shapes
    loop_plan.check_limits()
    if check is not None:
        check(loop_plan)
    return loop_plan, made_up(loop_plan, values, seed)


def _checked_sizes(sizes: Any, equation: Equation) -> dict[str, Any]:
    """``sizes=`` checked against the subscripts: known labels to whole numbers, and ``"..."``
    (when the subscripts have one) to a number or a tuple of them."""
    if sizes is None:
        return {}
    if not isinstance(sizes, Mapping):
        raise ArgumentTypeError(f"sizes must be a dict from label to size, not {type(sizes).__name__}",
                                hint='e.g. sizes={"i": 2, "j": 5}')
    checked: dict[str, Any] = {}
    for label, size in sizes.items():
        if label == ELLIPSIS and equation.has_ellipsis:
            dims = (size,) if not isinstance(size, (tuple, list)) else tuple(size)
            checked[label] = tuple(_size(label, dim, equation) for dim in dims)
        elif label in equation.labels:
            checked[label] = _size(label, size, equation)
        else:
            raise ShapeError(
                f"sizes= gives a size to {label!r}, which is not a label of the subscripts",
                subscripts=equation.text_for_carets(),
                details=[f"labels: {', '.join(equation.labels) or '(none)'}"
                         + (", ..." if equation.has_ellipsis else "")],
                hint="give sizes to the labels of the subscripts only",
            )
    return checked


def _size(label: str, size: Any, equation: Equation) -> int:
    where: dict[str, Any] = {"subscripts": equation.text_for_carets(),
             "positions": [column for term, columns in zip(equation.terms, equation.term_positions)
                           for name, column in zip(term, columns) if name == label]}
    if label == ELLIPSIS:  # carets under all three dots
        where["positions"] = [c + k for c in where["positions"] for k in range(3)]
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise ArgumentTypeError(f"sizes= gives {label!r} the size {size!r}, not a whole number",
                                **where, hint='sizes are ints, e.g. sizes={"i": 2}')
    if size < 0:
        raise ShapeError(f"sizes= gives {label!r} the size {size}, below 0", **where,
                         hint="sizes are 0 and up")
    return int(size)
