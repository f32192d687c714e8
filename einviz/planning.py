"""Bind an :class:`Equation` to shapes: the :class:`LoopPlan`, and the limits.

A loop plan is everything about an einsum that does not depend on the values: the size of
every label, which labels are free (kept in the output) and which are summed, the order of
the loops, how many multiply-adds they make, and the loop code a person would write. The
:class:`Limits` are checked here, before any work. Running a plan is the next stages' job:
:func:`einviz.einsum` (``einviz.reference``) computes it, :func:`einviz.trace` traces it.
"""

from __future__ import annotations

import contextlib
import contextvars
import keyword
import math
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

import numpy as np

from .errors import ArgumentTypeError, EinvizError, LimitError, ShapeError
from .subscripts import ELLIPSIS, Equation, parse_call

__all__ = ["Limits", "LoopPlan", "as_operand", "bind", "default_names", "get_limits", "limits",
           "plan"]

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
#: The names the loop code uses itself: no operand may take them.
_LOOP_CODE_NAMES = ("out", "np", "range")


@dataclass(frozen=True)
class Limits:
    """How large a problem einviz accepts before refusing it, up front.

    The defaults keep one call to about a minute and about 2 GB at most: 10¹⁰ multiply-adds
    take the reference einsum some tens of seconds, and an output of 2²⁷ elements is 2 GiB
    in the widest common dtype (complex128, 16 bytes), 1 GiB in float64. The chunks of
    products the reference multiplies are small (:data:`einviz.reference.CHUNK_ELEMENTS`) and not counted.

    Attributes:
        max_steps: the most multiply-adds (the product of all label sizes) to compute
            (default 10¹⁰).
        max_elements: the most elements of any array einviz allocates: the output
            (default 2²⁷ = 134,217,728).
        max_frames: the most frames one figure may have (default 10,000): a figure's
            size and drawing time grow with its frames.
        max_drawn_cells: the most grid cells one figure draws, every array together,
            after long axes are cut (default 10,000).
        max_drawn_dims: the most dimensions one array in a figure may have (default 16).
    """

    max_steps: int = 10**10
    max_elements: int = 2**27
    max_frames: int = 10_000
    max_drawn_cells: int = 10_000
    max_drawn_dims: int = 16


_DEFAULT_LIMITS = Limits()  # frozen: one instance can be every context's default
_LIMITS: contextvars.ContextVar[Limits] = contextvars.ContextVar("einviz_limits",
                                                                default=_DEFAULT_LIMITS)


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
        names: the operands' names: as given, else ``A``, ``B``, … skipping capital letters
            that are labels (see :func:`default_names`).
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
        """The Python variable each label is in the loop code: the label itself, unless it
        would clash with an operand's name or a name the loop code uses (then ``_`` is
        added until it does not)."""
        taken = set(self.names) | set(_LOOP_CODE_NAMES)
        variables = {}
        for label in self.labels:
            name = label
            while name in taken:
                name += "_"
            variables[label] = name
        return variables

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
        # A scalar output is a running total (`out = 0`); an einsum that sums nothing writes
        # each output cell once, a copy or a product: `=`, not `+=`.
        lines = ([f"out = np.zeros({self.out_shape!r}, dtype={dtype})"] if self.output
                 else ["out = 0"] if self.summed else [])
        indent = ""
        for label in self.labels:
            lines.append(f"{indent}for {names[label]} in range({self.sizes[label]}):")
            indent += "    "
        factors = " * ".join(self.index_expression(k) for k in range(self.n_operands))
        target = self.index_expression(None) if self.output else "out"
        lines.append(f"{indent}{target} {'+=' if self.summed else '='} {factors}")
        return "\n".join(lines)

    def formula(self) -> str:
        """The einsum as a formula in unicode, e.g. ``out[i,k] = Σ_j A[i,j]·B[j,k]``."""
        def indexed(name: str, labels: Sequence[str]) -> str:
            return f"{name}[{','.join(labels)}]" if labels else name

        # A broadcast axis (size 1 against a larger size) is indexed 0, as in the loop code.
        factors = "·".join(
            indexed(name, ["0" if self.is_broadcast(k, axis) else label
                           for axis, label in enumerate(term)])
            for k, (name, term) in enumerate(zip(self.names, self.terms)))
        total = ""
        if len(self.summed) == 1:
            total = f"Σ_{self.summed[0]} "
        elif self.summed:
            total = f"Σ_{{{','.join(self.summed)}}} "
        return f"{indexed('out', self.output)} = {total}{factors}"

    def latex(self) -> str:
        r"""The einsum as a LaTeX formula, e.g. ``\mathrm{out}_{ik} = \sum_{j} A_{ij} B_{jk}``;
        word labels (einops' notation) upright and apart: ``A_{\mathrm{batch}\,\mathrm{seq}}``.

        >>> print(plan("batch seq, seq dim -> batch dim", shapes=[(2, 3), (3, 4)]).latex())
        \mathrm{out}_{\mathrm{batch}\,\mathrm{dim}} = \sum_{\mathrm{seq}} A_{\mathrm{batch}\,\mathrm{seq}} B_{\mathrm{seq}\,\mathrm{dim}}
        """
        underscore = "\\_"

        def tex(label: str) -> str:
            if label in _LATEX_GREEK:
                return _LATEX_GREEK[label] + " "
            if len(label) > 1:
                return rf"\mathrm{{{label.replace('_', underscore)}}}"
            return label if label.isascii() else rf"\text{{{label}}}"

        # Letters run together (A_{ij}); words need a thin space between them.
        apart = "\\," if any(len(x) > 1 and x not in _LATEX_GREEK for x in self.labels) else ""

        def indexed(name: str, labels: Sequence[str]) -> str:
            name = name if len(name) == 1 else rf"\mathrm{{{name}}}"
            index = apart.join(tex(x).strip() for x in labels) if apart else "".join(map(tex, labels))
            return f"{name}_{{{index.strip()}}}" if labels else name

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

    def _repr_html_(self) -> str:
        """The text repr's table as HTML, for a notebook (every text escaped)."""
        from ._reprs import table_html

        where: dict[str, list[str]] = {label: [] for label in self.labels}
        for name, term in zip((*self.names, "out"), (*self.terms, self.output)):
            for axis, label in enumerate(term):
                where[label].append(f"{name}{axis}")
        rows = [[label, self.sizes[label], "free" if label in self.free else "summed",
                 " ".join(where[label]), self.origin(label)] for label in self.labels]
        operands = "   ".join(f"{n} {s}" for n, s in zip(self.names, self.shapes))
        notes = [f"operands  {operands}  ->  out {self.out_shape}",
                 f"steps {self.n_steps:,}   flops {self.flops:,}", self.formula()]
        return table_html("einviz-plan", f"LoopPlan  {self.equation}",
                          ["label", "size", "role", "axes", "from"], rows, notes, numeric=[1])

    # -- limits --------------------------------------------------------------------------
    def check_operands(self, shapes: Sequence[tuple[int, ...]]) -> None:
        """Refuse operands whose shapes are not the ones this plan was made for (a plan binds
        shapes once: every stage that takes a plan checks its operands here).

        Raises:
            ShapeError: another count of operands, or an operand of another shape.

        >>> plan("ij,jk->ik", shapes=[(2, 3), (3, 4)]).check_operands([(2, 3), (3, 5)])
        Traceback (most recent call last):
        ...
        einviz.errors.ShapeError: operand 1 (B) has shape (3, 5), but the plan was made for shape (3, 4)
        ...
        """
        shapes = tuple(tuple(shape) for shape in shapes)
        if shapes == self.shapes:
            return
        if len(shapes) != self.n_operands:
            problem = (f"the plan is for {self.n_operands} operand"
                       f"{'s' * (self.n_operands != 1)}, but {len(shapes)} were given")
        else:
            k = next(k for k, shape in enumerate(shapes) if shape != self.shapes[k])
            problem = (f"operand {k} ({self.names[k]}) has shape {shapes[k]}, but the plan "
                       f"was made for shape {self.shapes[k]}")
        raise ShapeError(
            problem, subscripts=self.equation.text_for_carets(),
            details=[f"plan: {', '.join(map(str, self.shapes)) or '(no operands)'}",
                     f"given: {', '.join(map(str, shapes)) or '(no operands)'}"],
            hint="give the operands the plan was made for, or pass the subscripts instead",
        )

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


def _sizes_line(p: LoopPlan) -> str:
    return "sizes: " + ", ".join(f"{label}={p.sizes[label]}" for label in p.labels)


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
        shapes: the operands' shapes, instead of operands: one tuple of non-negative
            integers per operand.
        names: the operands' names (default: see :func:`default_names`).

    Returns:
        The :class:`LoopPlan`.

    Raises:
        SubscriptError: the subscripts are not valid.
        ShapeError: the number of operands, a rank or a size does not fit the subscripts.
        ArgumentTypeError: ``shapes`` is not a list of tuples of whole numbers.

    >>> plan("bij,bjk->bik", shapes=[(8, 2, 3), (8, 3, 4)]).sizes
    {'b': 8, 'i': 2, 'k': 4, 'j': 3}
    """
    if shapes is None or isinstance(subscripts, (str, bytes, Equation)):
        # Shapes alone choose between numpy's and einops' reading as operands would.
        stand_ins = () if shapes is None or operands else tuple(
            SimpleNamespace(shape=shape) for shape in _as_shapes(shapes))
        equation, operand_list = parse_call((subscripts,) + (operands or stand_ins))
        operands = tuple(operand_list) if not stand_ins else ()
    else:
        raise ArgumentTypeError(
            f"with shapes= the subscripts must be a string, not {type(subscripts).__name__}",
            hint="e.g. plan('ij,jk->ik', shapes=[(2, 3), (3, 4)]); the sublist form needs operands",
        )
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


_SHAPES_HINT = "write shapes as tuples of non-negative integers, e.g. shapes=[(2, 3), (3, 4)]"


def _is_size(value: Any) -> bool:
    """Whether a value is a whole number of Python's or numpy's (bool is not a size)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _as_shapes(shapes: Any) -> tuple[tuple[int, ...], ...]:
    if isinstance(shapes, (str, bytes, Mapping)) or not hasattr(shapes, "__iter__"):
        raise ArgumentTypeError(
            f"shapes= must be a list of shapes, one per operand, not {type(shapes).__name__}",
            hint=_SHAPES_HINT,
        )
    result = []
    for k, shape in enumerate(shapes):
        if _is_size(shape):
            dims: tuple[Any, ...] = (shape,)
        elif isinstance(shape, (str, bytes, Mapping)) or not hasattr(shape, "__iter__"):
            raise ArgumentTypeError(
                f"shape {k} is {shape!r}, not a tuple of sizes", hint=_SHAPES_HINT,
            )
        else:
            dims = tuple(shape)
        bad = [d for d in dims if not _is_size(d)]
        if bad:
            raise ArgumentTypeError(
                f"shape {k} is {shape!r}: its size {bad[0]!r} is not a whole number",
                hint=_SHAPES_HINT,
            )
        sizes = tuple(operator.index(d) for d in dims)
        if any(d < 0 for d in sizes):
            raise ShapeError(
                f"shape {k} is {sizes}, with a negative size",
                hint="sizes are non-negative integers",
            )
        result.append(sizes)
    return tuple(result)


def bind(
    equation: Equation,
    shapes: tuple[tuple[int, ...], ...],
    names: Sequence[str] | None = None,
) -> LoopPlan:
    """Bind a parsed equation to shapes: the checking and sizing behind :func:`plan`."""
    text = equation.text_for_carets()
    operand_names = _operand_names(names, len(shapes), equation)
    if len(shapes) != equation.n_operands:
        _raise_count(equation, shapes, operand_names)
    n_ellipsis = 0
    for k, (term, shape) in enumerate(zip(equation.terms, shapes)):
        n_ellipsis = max(n_ellipsis, _check_rank(equation, k, term, shape, operand_names))
    if n_ellipsis > len(_ELLIPSIS_NAMES):
        raise LimitError(
            f"'...' stands for {n_ellipsis} dimensions; einviz names at most {len(_ELLIPSIS_NAMES)}",
            subscripts=text,
            positions=_ellipsis_positions(equation),
            details=[f"{n}: {len(s)} dimensions" for n, s in zip(operand_names, shapes)],
            hint="give some of those dimensions labels of their own",
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
            positions=_ellipsis_positions(equation),
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


def default_names(count: int, labels: Sequence[str] = ()) -> tuple[str, ...]:
    """The names operands get when the caller names none.

    The capital letters ``A``, ``B``, ``C``, … in order, skipping every letter that is a
    label of the subscripts, so that a formula never reads ``A[A,b]``: for ``"AbC->C"`` the
    one operand is ``B``, for ``"Ab,bC->AC"`` they are ``B`` and ``D``. When too few letters
    are left (more than 26 operands, or many capital labels), ``A0``, ``A1``, … instead
    (no label has two characters).

    >>> default_names(2), default_names(2, ["A", "b", "C"])
    (('A', 'B'), ('B', 'D'))
    """
    taken = set(labels)
    free = [name for name in _DEFAULT_NAMES if name not in taken]
    if count <= len(free):
        return tuple(free[:count])
    return tuple(f"A{k}" for k in range(count))


def _operand_names(
    names: Sequence[str] | None, count: int, equation: Equation | None = None
) -> tuple[str, ...]:
    if names is None:
        return default_names(count, equation.labels if equation is not None else ())
    if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
        raise ArgumentTypeError(
            f"names must be a list of names, not {type(names).__name__}",
            hint="e.g. names=['Q', 'K']",
        )
    result = tuple(names)
    problems = []
    for name in result:
        if not (isinstance(name, str) and name.isidentifier()):
            problems.append(f"{name!r} is not a Python identifier")
        elif keyword.iskeyword(name):
            problems.append(f"{name!r} is a Python keyword")
        elif name in _LOOP_CODE_NAMES:
            problems.append(f"{name!r} is used by the loop code")
    repeated = sorted({name for name in result if result.count(name) > 1}, key=result.index)
    problems.extend(f"{name!r} is given more than once" for name in repeated)
    if len(result) != count or problems:
        if len(result) != count:
            problems.insert(0, f"{len(result)} given for {count} operand{'s' * (count != 1)}")
        reserved = "not a keyword, nor 'out', 'np' or 'range', which the loop code uses"
        raise EinvizError(
            (f"names must be {count} distinct Python identifiers ({reserved})" if count != 1
             else f"names must be one Python identifier ({reserved})"),
            details=[f"given: {', '.join(map(repr, result))}", *problems],
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


def _ellipsis_positions(equation: Equation) -> list[int]:
    """Where every '...' of the terms stands in the text, its three dots each."""
    return [p + d for t, ps in zip(equation.terms, equation.term_positions)
            for label, p in zip(t, ps) if label == ELLIPSIS for d in range(3)]


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


