"""Bind an :class:`Equation` to shapes: the :class:`LoopPlan`, and the reference einsum.

A loop plan is everything about an einsum that does not depend on the values: the size of
every label, which labels are free (kept in the output) and which are summed, the order of
the loops, how many multiply-adds they make, and the loop code a person would write. Running
it (:meth:`LoopPlan.einsum`) is the reference einsum every backend is checked against: it
multiplies broadcast views of the operands and sums them, a bounded chunk at a time.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .errors import ArgumentTypeError, EinvizError, LimitError, PathError, ShapeError
from .subscripts import ELLIPSIS, Equation, parse, parse_sublists

__all__ = ["Limits", "LoopPlan", "einsum", "get_limits", "limits", "plan"]

#: Names for the dimensions an ellipsis stands for: letters no subscripts text can use.
_ELLIPSIS_NAMES = "αβγδεζηθκλμξπρστυφχψωΓΔΘΛΞΠΦΨΩбгджзилпфцчшщыэюяБГДЖЗИЛПФЦЧШЩЭЮЯ"
_LATEX_GREEK = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\epsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "κ": r"\kappa", "λ": r"\lambda",
    "μ": r"\mu", "ξ": r"\xi", "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma", "τ": r"\tau",
    "υ": r"\upsilon", "φ": r"\phi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega",
    "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda", "Ξ": r"\Xi",
    "Π": r"\Pi", "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega",
}
_DEFAULT_NAMES = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

_CASTINGS = ("no", "equiv", "safe", "same_kind", "unsafe")

#: How many products the reference einsum holds in memory at once (per chunk).
CHUNK_ELEMENTS = 1 << 16


@dataclass(frozen=True)
class Limits:
    """How large a problem einviz accepts before refusing it, up front.

    Attributes:
        max_steps: the most multiply-adds (the product of all label sizes) to compute.
        max_elements: the most elements of any array einviz allocates (the output).
    """

    max_steps: int = 10**11
    max_elements: int = 2**31


_LIMITS: contextvars.ContextVar[Limits] = contextvars.ContextVar("einviz_limits", default=Limits())


def get_limits() -> Limits:
    """The limits in force.

    >>> get_limits().max_steps >= 10**9
    True
    """
    return _LIMITS.get()


@contextlib.contextmanager
def limits(**changes: int) -> Iterator[Limits]:
    """Raise (or lower) the limits inside a ``with`` block.

    Args:
        **changes: fields of :class:`Limits` to change, e.g. ``max_steps=10**12``.

    >>> with limits(max_steps=10):
    ...     plan("ij,jk->ik", shapes=[(3, 3), (3, 3)]).check_limits()
    Traceback (most recent call last):
    ...
    einviz.errors.LimitError: the einsum needs 27 steps (multiply-adds), more than the limit of 10
    ...
    """
    known = Limits.__dataclass_fields__
    for name, value in changes.items():
        if name not in known:
            raise ArgumentTypeError(f"limits() has no limit {name!r}",
                                    hint=f"the limits are {', '.join(known)}")
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise EinvizError(f"limits({name}=...) must be a positive whole number, not {value!r}",
                              hint=f"e.g. limits({name}=10**12)")
    token = _LIMITS.set(replace(_LIMITS.get(), **{k: int(v) for k, v in changes.items()}))
    try:
        yield _LIMITS.get()
    finally:
        _LIMITS.reset(token)


@dataclass(frozen=True, repr=False)
class LoopPlan:
    """An einsum bound to shapes: labels, sizes, loop order and cost; printable and runnable.

    Attributes:
        equation: the parsed subscripts.
        names: the operands' names (``A``, ``B``, … unless given).
        shapes: the operands' shapes.
        terms: the labels of every axis of every operand, the ellipsis replaced by named
            dimensions (Greek letters, listed in ``ellipsis``).
        output: the labels of the output's axes, the ellipsis expanded the same way.
        labels: every label in loop order: free labels (output order) outer, summed inner.
        sizes: the size of every label.
        free: the labels kept in the output.
        summed: the labels summed over.
        ellipsis: the names given to the dimensions that came from ``...``.

    >>> p = plan("ij,jk->ik", shapes=[(2, 3), (3, 4)])
    >>> p.labels, p.free, p.summed, p.n_steps
    (('i', 'k', 'j'), ('i', 'k'), ('j',), 24)
    >>> print(p.formula())
    out[i,k] = Σ_j A[i,j]·B[j,k]
    """

    equation: Equation
    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    terms: tuple[tuple[str, ...], ...]
    output: tuple[str, ...]
    labels: tuple[str, ...]
    sizes: dict[str, int] = field(hash=False)
    free: tuple[str, ...]
    summed: tuple[str, ...]
    ellipsis: tuple[str, ...]

    # -- figures -------------------------------------------------------------------------
    @property
    def n_operands(self) -> int:
        """The number of operands."""
        return len(self.terms)

    @property
    def out_shape(self) -> tuple[int, ...]:
        """The shape of the result."""
        return tuple(self.sizes[label] for label in self.output)

    @property
    def n_steps(self) -> int:
        """The number of multiply-adds the loops make: the product of every label's size."""
        return math.prod(self.sizes[label] for label in self.labels)

    @property
    def flops(self) -> int:
        """Floating-point operations of the single nested loop.

        Each step makes ``n_operands - 1`` multiplications, plus one addition when some
        label is summed; a step with neither (a copy or transpose) counts as one operation:
        ``flops = n_steps * max(n_operands - 1 + (1 if summed else 0), 1)``. This is the
        naive count of ``opt_einsum.contract_path`` and ``numpy.einsum_path``, with one
        difference: they also count an addition per step when the inputs merely share a
        label with nothing summed (a Hadamard product ``ij,ij->ij``: they print
        ``2 * n_steps``, einviz counts ``n_steps``, the multiplications alone).
        """
        per_step = max(self.n_operands - 1 + (1 if self.summed else 0), 1)
        return self.n_steps * per_step

    def is_broadcast(self, operand: int, axis: int) -> bool:
        """Whether that axis has size 1 against a larger label size (its one cell is reused)."""
        label = self.terms[operand][axis]
        return self.shapes[operand][axis] == 1 and self.sizes[label] != 1

    def origin(self, label: str) -> str:
        """Where a label came from: ``"..."`` for an ellipsis dimension, else the label."""
        return ELLIPSIS if label in self.ellipsis else label

    # -- text ----------------------------------------------------------------------------
    def variables(self) -> dict[str, str]:
        """The Python variable each label is in the loop code (the label itself, unless
        it would clash with an operand's name, ``np`` or ``out``)."""
        taken = set(self.names) | {"np", "out"}
        return {label: label + "_" if label in taken else label for label in self.labels}

    def index_expression(self, operand: int | None) -> str:
        """How the loop code indexes an operand (``None``: the output), e.g. ``A[i, j]``."""
        names = self.variables()
        if operand is None:
            name, parts = "out", [names[label] for label in self.output]
        else:
            name = self.names[operand]
            parts = [
                "0" if self.is_broadcast(operand, axis) else names[label]
                for axis, label in enumerate(self.terms[operand])
            ]
        return f"{name}[{', '.join(parts) if parts else '()'}]"

    def loop_code(self) -> str:
        """Runnable Python: the nested loops a person would write for this einsum.

        It needs ``np`` and the operands (by their names) in scope and leaves the result
        in ``out``. Its steps come in the order einviz traces them.

        >>> print(plan("ij->i", shapes=[(2, 3)]).loop_code())
        out = np.zeros((2,), dtype=A.dtype)
        for i in range(2):
            for j in range(3):
                out[i] += A[i, j]
        """
        names = self.variables()
        dtype = (
            f"{self.names[0]}.dtype" if self.n_operands == 1
            else f"np.result_type({', '.join(self.names)})"
        )
        lines = [f"out = np.zeros({self.out_shape!r}, dtype={dtype})"]
        indent = ""
        for label in self.labels:
            lines.append(f"{indent}for {names[label]} in range({self.sizes[label]}):")
            indent += "    "
        factors = " * ".join(self.index_expression(k) for k in range(self.n_operands))
        lines.append(f"{indent}{self.index_expression(None)} += {factors}")
        return "\n".join(lines)

    def formula(self) -> str:
        """The einsum as a formula in unicode, e.g. ``out[i,k] = Σ_j A[i,j]·B[j,k]``."""
        def indexed(name: str, labels: Sequence[str]) -> str:
            return f"{name}[{','.join(labels)}]" if labels else name

        factors = "·".join(indexed(n, t) for n, t in zip(self.names, self.terms))
        total = ""
        if len(self.summed) == 1:
            total = f"Σ_{self.summed[0]} "
        elif self.summed:
            total = f"Σ_{{{','.join(self.summed)}}} "
        return f"{indexed('out', self.output)} = {total}{factors}"

    def latex(self) -> str:
        r"""The einsum as a LaTeX formula, e.g. ``\mathrm{out}_{ik} = \sum_{j} A_{ij} B_{jk}``."""
        def tex(label: str) -> str:
            if label in _LATEX_GREEK:
                return _LATEX_GREEK[label] + " "
            return label if label.isascii() else rf"\text{{{label}}}"

        def indexed(name: str, labels: Sequence[str]) -> str:
            name = name if len(name) == 1 else rf"\mathrm{{{name}}}"
            return f"{name}_{{{''.join(tex(x) for x in labels).strip()}}}" if labels else name

        total = rf"\sum_{{{','.join(tex(x).strip() for x in self.summed)}}} " if self.summed else ""
        factors = " ".join(indexed(n, t) for n, t in zip(self.names, self.terms))
        head = indexed("out", self.output)
        return f"{head} = {total}{factors}"

    def __repr__(self) -> str:
        where: dict[str, list[str]] = {label: [] for label in self.labels}
        for name, term in zip(self.names, self.terms):
            for axis, label in enumerate(term):
                where[label].append(f"{name}{axis}")
        for axis, label in enumerate(self.output):
            where[label].append(f"out{axis}")
        operands = "   ".join(f"{n} {s}" for n, s in zip(self.names, self.shapes))
        rows = [
            f"LoopPlan  {self.equation}",
            f"  operands  {operands}  ->  out {self.out_shape}",
            f"  {'label':<6} {'size':>5}  {'role':<7} {'axes':<16} from",
        ]
        for label in self.labels:
            role = "free" if label in self.free else "summed"
            rows.append(
                f"  {label:<6} {self.sizes[label]:>5}  {role:<7} {' '.join(where[label]):<16} "
                f"{self.origin(label)}"
            )
        rows.append(f"  steps {self.n_steps:,}   flops {self.flops:,}   out shape {self.out_shape}")
        return "\n".join(rows)

    # -- running -------------------------------------------------------------------------
    def trace(self, *operands: Any) -> Any:
        """Trace every step of this plan on operands: see :class:`einviz.trace.Trace`."""
        from .trace import Trace

        return Trace(self, operands)

    def check_limits(self) -> None:
        """Refuse the problem, before allocating anything, when it is over a limit."""
        bounds = get_limits()
        if self.n_steps > bounds.max_steps:
            raise LimitError(
                f"the einsum needs {self.n_steps:,} steps (multiply-adds), more than the limit of "
                f"{bounds.max_steps:,}",
                subscripts=str(self.equation),
                details=[_sizes_line(self)],
                hint="raise it with `with einviz.limits(max_steps=...)`, or use smaller operands",
            )
        size = math.prod(self.out_shape)
        if size > bounds.max_elements:
            raise LimitError(
                f"the output would have {size:,} elements, more than the limit of "
                f"{bounds.max_elements:,}",
                subscripts=str(self.equation),
                details=[f"out: shape {self.out_shape}"],
                hint="raise it with `with einviz.limits(max_elements=...)`, or use smaller operands",
            )

    def loop_view(self, operand: int, array: np.ndarray) -> np.ndarray:
        """A zero-copy view of an operand with one axis per loop label, in loop order.

        Repeated labels become the diagonal; labels the operand lacks get size 1 (stride 0).
        """
        shape = [1] * len(self.labels)
        strides = [0] * len(self.labels)
        position = {label: k for k, label in enumerate(self.labels)}
        for label, size, stride in zip(self.terms[operand], array.shape, array.strides):
            k = position[label]
            shape[k] = size
            strides[k] += stride
        return as_strided(array, shape=tuple(shape), strides=tuple(strides))

    def output_view(self, array: np.ndarray) -> np.ndarray:
        """For one operand with nothing summed: the result as a view of it (like numpy).

        Diagonals come from :func:`numpy.diagonal` and the order from a transpose, so the
        view's ``base`` is the operand's and it is writeable when the operand is.
        """
        labels = list(self.terms[0])
        view = array
        while len(set(labels)) < len(labels):
            first = next(k for k, label in enumerate(labels) if label in labels[k + 1 :])
            second = labels.index(labels[first], first + 1)
            view = np.diagonal(view, 0, first, second)
            labels = [x for k, x in enumerate(labels) if k not in (first, second)] + [labels[first]]
        view = view.transpose([labels.index(label) for label in self.output])
        if array.flags.writeable and not view.flags.writeable:
            view.flags.writeable = True
        return view

    def einsum(
        self,
        *operands: Any,
        out: np.ndarray | None = None,
        dtype: Any = None,
        order: str = "K",
        casting: str = "safe",
    ) -> Any:
        """Run the plan: the reference einsum on operands of the planned shapes.

        >>> p = plan("ij,jk->ik", shapes=[(2, 2), (2, 2)])
        >>> p.einsum(np.eye(2), np.array([[1, 2], [3, 4]]))
        array([[1., 2.],
               [3., 4.]])
        """
        arrays = [np.asarray(a) for a in operands]
        shapes = tuple(a.shape for a in arrays)
        if shapes != self.shapes:
            raise ShapeError(
                "the operands' shapes differ from the planned shapes",
                subscripts=str(self.equation),
                details=[f"planned: {self.shapes}", f"given:   {shapes}"],
                hint="make a new plan for these operands",
            )
        self.check_limits()
        order = "K" if order is None else order
        if not isinstance(order, str) or order.upper() not in ("C", "F", "A", "K"):
            raise EinvizError(
                f"order must be one of 'C', 'F', 'A' or 'K', not {order!r}",
                hint="order sets the memory layout of the result, as in numpy",
            )
        order = order.upper()
        if casting not in _CASTINGS:
            raise EinvizError(
                f"casting must be one of {', '.join(map(repr, _CASTINGS))}, not {casting!r}",
                hint="casting is numpy's rule for dtype= and out=",
            )
        result_dtype = _result_dtype(arrays, dtype, casting)
        if out is not None:
            _check_out(self, out, result_dtype, casting)
        if (
            out is None and self.n_operands == 1 and not self.summed
            and arrays[0].dtype == result_dtype and len(set(self.terms[0])) == len(self.output)
        ):
            # One operand and nothing summed: like numpy, return a view (transpose/diagonal).
            view = self.output_view(arrays[0])
            return view if order == "K" else _ordered(view, order, arrays)
        result = _compute(self, [a.astype(result_dtype, copy=False) for a in arrays], result_dtype)
        if out is not None:
            np.copyto(out, result, casting=casting)
            return out
        return _ordered(result, order, arrays)


def _sizes_line(p: LoopPlan) -> str:
    return "sizes: " + ", ".join(f"{label}={p.sizes[label]}" for label in p.labels)


def _ordered(result: np.ndarray, order: str, arrays: list[np.ndarray]) -> np.ndarray:
    if order == "A":
        fortran = bool(arrays) and all(a.flags.f_contiguous and not a.flags.c_contiguous for a in arrays)
        order = "F" if fortran else "C"
    if order == "C":
        return np.ascontiguousarray(result)
    if order == "F":
        return np.asfortranarray(result)
    return result


def _result_dtype(arrays: list[np.ndarray], dtype: Any, casting: str) -> np.dtype:
    if dtype is None:
        return np.result_type(*arrays) if arrays else np.dtype(float)
    wanted = np.dtype(dtype)
    for k, array in enumerate(arrays):
        if not np.can_cast(array.dtype, wanted, casting=casting):
            raise ArgumentTypeError(
                f"cannot cast operand {k} from {array.dtype} to {wanted} under casting={casting!r}",
                hint="pass casting='unsafe' (or 'same_kind') to allow it, as in numpy",
            )
    return wanted


def _check_out(p: LoopPlan, out: Any, result_dtype: np.dtype, casting: str) -> None:
    if not isinstance(out, np.ndarray):
        raise ArgumentTypeError(
            f"out must be a numpy array, not {type(out).__name__}",
            hint="pass out=np.empty(shape, dtype) or leave it out",
        )
    if out.shape != p.out_shape:
        raise ShapeError(
            f"out has shape {out.shape} but the result has shape {p.out_shape}",
            subscripts=str(p.equation),
            positions=[i for i in p.equation.output_positions if i >= 0],
            hint="allocate out with the result's shape",
        )
    if not np.can_cast(result_dtype, out.dtype, casting=casting):
        raise ArgumentTypeError(
            f"cannot cast the result from {result_dtype} to out's {out.dtype} under "
            f"casting={casting!r}",
            hint="pass casting='unsafe' (or 'same_kind') to allow it, as in numpy",
        )


def _compute(p: LoopPlan, arrays: list[np.ndarray], dtype: np.dtype) -> np.ndarray:
    """Multiply broadcast loop views and sum the summed (innermost) axes, chunk by chunk."""
    n_free = len(p.free)
    full = [p.sizes[label] for label in p.labels]
    if p.n_steps == 0:
        return np.zeros(p.out_shape, dtype=dtype)
    views = [p.loop_view(k, a) for k, a in enumerate(arrays)]
    # Split the loop axes at `split`: the axes from there on fit in a chunk; the axis
    # before it is cut in blocks and the ones before that are walked one index at a time.
    tail = 1
    split = len(full)
    while split > 0 and tail * full[split - 1] <= CHUNK_ELEMENTS:
        split -= 1
        tail *= full[split]
    if split == 0:
        return _reduce(_product(views, (), dtype), n_free, dtype)
    axis = split - 1
    block = max(1, CHUNK_ELEMENTS // tail)
    result = np.zeros(p.out_shape, dtype=dtype)
    for outer in np.ndindex(*full[:axis]):
        for start in range(0, full[axis], block):
            piece = slice(start, start + block)
            chunk = _product(views, outer + (piece,), dtype)
            if axis < n_free:
                # The chunk covers whole sums: its reduced values are finished cells.
                result[outer + (piece,)] = _reduce(chunk, n_free - axis, dtype)
            else:
                # The chunk is part of the sum of the cell `outer[:n_free]`: accumulate.
                # (Indexing with Ellipsis adds on a 0-d array: it wraps silently like numpy.)
                result[outer[:n_free] + (Ellipsis,)] += _reduce(chunk, 0, dtype)
    return result


def _product(views: list[np.ndarray], index: tuple, dtype: np.dtype) -> np.ndarray:
    def take(view: np.ndarray) -> np.ndarray:
        # A size-1 axis (absent or broadcast label) is read at 0 whatever the loop index.
        key = tuple(
            (0 if isinstance(i, int) else slice(None)) if size == 1 else i
            for i, size in zip(index, view.shape)
        )
        return view[key]

    product = take(views[0])
    for view in views[1:]:
        product = np.multiply(product, take(view), dtype=dtype)
    return product


def _reduce(chunk: np.ndarray, n_kept: int, dtype: np.dtype) -> np.ndarray:
    """Sum every axis of ``chunk`` after the first ``n_kept``."""
    axes = tuple(range(n_kept, chunk.ndim))
    if not axes:
        return chunk
    return np.add.reduce(chunk, axis=axes, dtype=dtype)


# -- binding --------------------------------------------------------------------------------
def plan(
    subscripts: Any,
    *operands: Any,
    shapes: Sequence[Sequence[int]] | None = None,
    names: Sequence[str] | None = None,
) -> LoopPlan:
    """Bind subscripts to the operands' shapes (or to ``shapes`` alone): the loop plan.

    Args:
        subscripts: the subscripts text, an :class:`Equation`, or, in the sublist form, the
            first operand (``plan(A, [0, 1], B, [1, 2])``).
        *operands: the operands (only their shapes are read).
        shapes: the operands' shapes, instead of operands.
        names: the operands' names (default ``A``, ``B``, …).

    Returns:
        The :class:`LoopPlan`.

    Raises:
        SubscriptError: the subscripts are not valid.
        ShapeError: the number of operands, a rank or a size does not fit the subscripts.

    >>> plan("bij,bjk->bik", shapes=[(8, 2, 3), (8, 3, 4)]).sizes
    {'b': 8, 'i': 2, 'k': 4, 'j': 3}
    """
    if isinstance(subscripts, Equation):
        equation = subscripts
    elif isinstance(subscripts, str):
        equation = parse(subscripts)
    elif shapes is None:
        equation, operand_list = parse_sublists((subscripts,) + operands)
        operands = tuple(operand_list)
    else:
        equation = parse(subscripts)
    if shapes is not None and operands:
        raise EinvizError(
            "give either operands or shapes=, not both",
            hint="shapes= is for planning without arrays",
        )
    given = tuple(as_operand(a, k).shape for k, a in enumerate(operands)) if shapes is None \
        else _as_shapes(shapes)
    return bind(equation, given, names)


def as_operand(value: Any, position: int) -> np.ndarray:
    """An operand as an array; a ragged nested list is refused with einviz's words, not numpy's.

    >>> as_operand([[1, 2], [3]], 0)
    Traceback (most recent call last):
    ...
    einviz.errors.ShapeError: operand 0 is not an array: its nested lists have different lengths
      hint: give each operand as an array, or as nested lists of equal lengths
    """
    try:
        return np.asarray(value)
    except ValueError:
        raise ShapeError(
            f"operand {position} is not an array: its nested lists have different lengths",
            hint="give each operand as an array, or as nested lists of equal lengths",
        ) from None


def _as_shapes(shapes: Any) -> tuple[tuple[int, ...], ...]:
    result = []
    for k, shape in enumerate(shapes):
        try:
            dims = tuple(int(d) for d in shape) if not isinstance(shape, (int, np.integer)) else (int(shape),)
        except (TypeError, ValueError):
            raise ShapeError(
                f"shape {k} is {shape!r}, not a tuple of sizes",
                hint="write shapes as tuples of non-negative integers, e.g. shapes=[(2, 3), (3, 4)]",
            ) from None
        if any(d < 0 for d in dims):
            raise ShapeError(
                f"shape {k} is {dims}, with a negative size",
                hint="sizes are non-negative integers",
            )
        result.append(dims)
    return tuple(result)


def bind(
    equation: Equation,
    shapes: tuple[tuple[int, ...], ...],
    names: Sequence[str] | None = None,
) -> LoopPlan:
    """Bind a parsed equation to shapes: the checking and sizing behind :func:`plan`."""
    text = equation.text_for_carets()
    operand_names = _operand_names(names, len(shapes))
    if len(shapes) != equation.n_operands:
        _raise_count(equation, shapes, operand_names)
    n_ellipsis = 0
    for k, (term, shape) in enumerate(zip(equation.terms, shapes)):
        n_ellipsis = max(n_ellipsis, _check_rank(equation, k, term, shape, operand_names))
    if n_ellipsis > len(_ELLIPSIS_NAMES):
        raise LimitError(
            f"'...' stands for {n_ellipsis} dimensions; einviz names at most {len(_ELLIPSIS_NAMES)}",
            subscripts=text,
        )
    ellipsis = tuple(_ELLIPSIS_NAMES[:n_ellipsis])
    terms = []
    for term, shape in zip(equation.terms, shapes):
        own = len(shape) - (len(term) - 1) if ELLIPSIS in term else 0
        expanded: list[str] = []
        for label in term:
            expanded.extend(ellipsis[n_ellipsis - own :] if label == ELLIPSIS else [label])
        terms.append(tuple(expanded))
    sizes = _label_sizes(equation, terms, shapes, operand_names, ellipsis)
    output: list[str] = []
    for label in equation.output:
        output.extend(ellipsis if label == ELLIPSIS else [label])
    if ellipsis and ELLIPSIS not in equation.output:
        raise ShapeError(
            f"'...' stands for {n_ellipsis} dimension(s) that the output does not keep",
            subscripts=text,
            positions=[p + d for t, ps in zip(equation.terms, equation.term_positions)
                       for label, p in zip(t, ps) if label == ELLIPSIS for d in range(3)],
            details=[f"{n}: shape {s}" for n, s in zip(operand_names, shapes)],
            hint="put '...' in the output too (numpy does not sum over ellipsis dimensions)",
        )
    for label in ellipsis:
        sizes.setdefault(label, 1)
    free = tuple(output)
    seen = dict.fromkeys(label for term in terms for label in term)
    summed = tuple(label for label in seen if label not in free)
    return LoopPlan(
        equation=equation,
        names=operand_names,
        shapes=tuple(shapes),
        terms=tuple(terms),
        output=free,
        labels=free + summed,
        sizes={label: sizes[label] for label in free + summed},
        free=free,
        summed=summed,
        ellipsis=ellipsis,
    )


def _operand_names(names: Sequence[str] | None, count: int) -> tuple[str, ...]:
    if names is None:
        if count <= len(_DEFAULT_NAMES):
            return _DEFAULT_NAMES[:count]
        return tuple(f"A{k}" for k in range(count))
    result = tuple(names)
    bad = [n for n in result if not (isinstance(n, str) and n.isidentifier()) or n in ("out", "np")]
    if len(result) != count or bad or len(set(result)) != len(result):
        raise EinvizError(
            (f"names must be {count} distinct Python identifiers (not 'out' or 'np')" if count != 1
             else "names must be one Python identifier (not 'out' or 'np')"),
            details=[f"given: {', '.join(map(repr, result))}"],
            hint="e.g. names=['Q', 'K']",
        )
    return result


def _raise_count(equation: Equation, shapes: tuple, names: tuple[str, ...]) -> None:
    text = equation.text_for_carets()
    n_terms, n_given = equation.n_operands, len(shapes)
    missing = equation.term_positions[n_given:] if n_given < n_terms else ()
    given = ", ".join(f"{n} {s}" for n, s in zip(names, shapes)) or "(none)"
    raise ShapeError(
        f"the subscripts name {n_terms} operand{'s' * (n_terms != 1)} but "
        f"{n_given} {'were' if n_given != 1 else 'was'} given",
        subscripts=text,
        positions=[p for term in missing for p in term],
        details=[f"expected: {n_terms} operand{'s' * (n_terms != 1)}", f"given:    {given}"],
        hint="give one operand per comma-separated term",
    )


def _term_columns(equation: Equation, k: int) -> tuple[int, ...]:
    positions = equation.term_positions[k] if equation.term_positions else ()
    return tuple(p for label, p in zip(equation.terms[k], positions)
                 for p in ([p, p + 1, p + 2] if label == ELLIPSIS else [p]))


def _check_rank(
    equation: Equation, k: int, term: tuple[str, ...], shape: tuple[int, ...], names: tuple[str, ...]
) -> int:
    """Check one operand's rank against its term; return how many dims its '...' covers."""
    n_labels = len(term) - (1 if ELLIPSIS in term else 0)
    ndim = len(shape)
    if ELLIPSIS in term and ndim >= n_labels:
        return ndim - n_labels
    if ELLIPSIS not in term and ndim == n_labels:
        return 0
    shown = "".join(term)
    if ELLIPSIS in term:
        problem = f"term {shown!r} needs at least {n_labels} dimensions but {names[k]} has {ndim}"
        hint = f"give {names[k]} at least {n_labels} dimensions, or drop labels from the term"
    else:
        problem = f"term {shown!r} has {n_labels} label{'s' * (n_labels != 1)} but {names[k]} has {ndim} dimension{'s' * (ndim != 1)}"
        hint = "one label per dimension; write '...' to stand for any number of dimensions"
    raise ShapeError(
        problem,
        subscripts=equation.text_for_carets(),
        positions=_term_columns(equation, k),
        details=[f"expected: {n_labels}{'+' if ELLIPSIS in term else ''} dimensions",
                 f"given:    {names[k]} with shape {shape}"],
        hint=hint,
    )


def _label_sizes(
    equation: Equation,
    terms: list[tuple[str, ...]],
    shapes: tuple[tuple[int, ...], ...],
    names: tuple[str, ...],
    ellipsis: tuple[str, ...],
) -> dict[str, int]:
    text = equation.text_for_carets()
    sizes: dict[str, int] = {}
    seen_at: dict[str, tuple[int, int]] = {}

    def column(k: int, axis: int) -> list[int]:
        # The source column of an axis: its label, or the '...' it came from.
        if not equation.term_positions:
            return []
        term, positions = equation.terms[k], equation.term_positions[k]
        labels = terms[k]
        if labels[axis] in ellipsis:
            return [positions[term.index(ELLIPSIS)] + d for d in range(3)]
        return [positions[term.index(labels[axis]) if labels[axis] in term else 0]]

    def clash(label: str, first: tuple[int, int], second: tuple[int, int], hint: str) -> None:
        (k1, a1), (k2, a2) = first, second
        what = "a '...' dimension" if label in ellipsis else f"label {label!r}"
        positions = column(k1, a1) + column(k2, a2)
        if k1 == k2 and label not in ellipsis:
            term, cols = equation.terms[k1], equation.term_positions[k1] if equation.term_positions else ()
            positions = [p for lab, p in zip(term, cols) if lab == label]
        raise ShapeError(
            f"{what} has size {shapes[k1][a1]} in {names[k1]} (axis {a1}) but size "
            f"{shapes[k2][a2]} in {names[k2]} (axis {a2})",
            subscripts=text,
            positions=positions,
            details=["   ".join(f"{n}: shape {s}" for n, s in
                               dict.fromkeys([(names[k1], shapes[k1]), (names[k2], shapes[k2])]))],
            hint=hint,
        )

    for k, (labels, shape) in enumerate(zip(terms, shapes)):
        own: dict[str, int] = {}
        for axis, (label, size) in enumerate(zip(labels, shape)):
            if label in own:
                if shape[own[label]] != size:
                    clash(label, (k, own[label]), (k, axis),
                          "a label repeated in one term takes a diagonal: those axes must have equal sizes")
                continue
            own[label] = axis
            if label not in sizes or sizes[label] == 1:
                if label not in sizes or size != 1:
                    sizes[label] = size
                    seen_at[label] = (k, axis)
            elif size not in (1, sizes[label]):
                clash(label, seen_at[label], (k, axis),
                      "the '...' dimensions must broadcast (equal sizes, or one of them 1)"
                      if label in ellipsis else
                      "the sizes of a shared label must match (or one of them must be 1)")
    return sizes


# -- the drop-in ----------------------------------------------------------------------------
def einsum(
    *operands: Any,
    out: np.ndarray | None = None,
    dtype: Any = None,
    order: str = "K",
    casting: str = "safe",
    optimize: Any = False,
) -> Any:
    """A drop-in for :func:`numpy.einsum`, computed by einviz's own loop plan.

    Called as ``einsum(subscripts, *operands, ...)`` or in the sublist form
    ``einsum(A, [0, 1], B, [1, 2], [0, 2])``. The result has numpy's values, shape and
    dtype. ``optimize`` is accepted for compatibility and does not change the result.

    Args:
        *operands: the subscripts then the operands, or the sublist form.
        out: an array to write the result into.
        dtype: the dtype to compute in (operands are cast under ``casting``).
        order: the memory layout of the result: ``"C"``, ``"F"``, ``"A"`` or ``"K"``.
        casting: numpy's casting rule for ``dtype`` and ``out``.
        optimize: accepted and ignored: the reference einsum always runs one nested loop.

    Returns:
        The result array (a view of the operand when numpy returns one, e.g. ``"ii->i"``).

    Raises:
        EinvizError: bad subscripts, operands, sizes, or a limit (with the culprit marked).

    >>> einsum("ij,jk->ik", np.array([[1, 2], [3, 4]]), np.array([[1, 0], [0, 1]]))
    array([[1, 2],
           [3, 4]])
    >>> einsum(np.arange(3), [0], np.arange(3), [0])
    np.int64(5)
    """
    if not operands:
        raise ShapeError(
            "einsum needs the subscripts and at least one operand",
            hint="e.g. einsum('ij->i', A)",
        )
    if isinstance(operands[0], str):
        equation, arrays = parse(operands[0]), list(operands[1:])
    else:
        equation, arrays = parse_sublists(operands)
    if not arrays:
        raise ShapeError(
            "einsum needs at least one operand",
            subscripts=equation.text_for_carets(),
            hint="e.g. einsum('ij->i', A)",
        )
    arrays = [as_operand(a, k) for k, a in enumerate(arrays)]
    _check_optimize(optimize, len(arrays))
    loop_plan = bind(equation, tuple(a.shape for a in arrays))
    result = loop_plan.einsum(*arrays, out=out, dtype=dtype, order=order, casting=casting)
    if out is None and isinstance(result, np.ndarray) and result.ndim == 0:
        return result[()]
    return result


def _check_optimize(optimize: Any, n_operands: int) -> None:
    """Accept what numpy accepts for ``optimize``; an explicit path must contract to one."""
    if isinstance(optimize, (bool, str)) or optimize is None:
        return
    if not isinstance(optimize, (list, tuple)) or not optimize or optimize[0] != "einsum_path":
        raise ArgumentTypeError(
            f"optimize must be a bool, a strategy name or an einsum path, not {optimize!r}",
            hint="e.g. optimize='greedy', or the path that numpy.einsum_path returns",
        )
    remaining = n_operands
    for contraction in optimize[1:]:
        remaining -= len(contraction) - 1
    if remaining != 1:
        raise PathError(
            f"the einsum path leaves {remaining} operands, not one",
            details=[f"path: {list(optimize)}"],
            hint="each contraction (i, j, ...) joins its operands into one; the last leaves one",
        )
