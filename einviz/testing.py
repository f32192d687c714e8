"""Hypothesis strategies for einsum problems, to test einviz or your own einsum.

Every problem these strategies draw is valid for :func:`numpy.einsum`, so a test can compare
any einsum against numpy's on it. Each feature of the notation is behind a keyword that is on
by default (complex dtypes are off), so the defaults exercise everything and a test can turn
off what the function under test does not support::

    from hypothesis import given
    import numpy as np
    from einviz.testing import einsum_problems

    @given(einsum_problems(ellipsis=False))
    def test_my_einsum(problem):
        subscripts, operands = problem
        np.testing.assert_allclose(my_einsum(subscripts, *operands),
                                   np.einsum(subscripts, *operands))

The strategies draw the labels first, then the equation, then one size per label (and the
``...`` dimensions with :func:`hypothesis.extra.numpy.mutually_broadcastable_shapes`), then the
values: small integers, so integer results are exact and float results nearly so.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .errors import ArgumentTypeError, EinvizError, install_hint

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as e:  # pragma: no cover - only without hypothesis
    raise ImportError(
        f"einviz.testing needs hypothesis: {install_hint('testing')}"
    ) from e

from .subscripts import ELLIPSIS, parse

__all__ = [
    "DEFAULT_DTYPES",
    "EinsumProblem",
    "einsum_operands",
    "einsum_problems",
    "subscripts",
]

#: The dtypes operands are drawn from unless ``dtypes=`` says otherwise.
DEFAULT_DTYPES: tuple[str, ...] = ("int64", "int32", "float64", "float32", "bool")
_COMPLEX_DTYPES = ("complex128", "complex64")

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ARROW = "->"


class EinsumProblem(NamedTuple):
    """An einsum problem: subscripts text and operands that fit it.

    It unpacks as ``subscripts, operands = problem``, and ``np.einsum(*problem.args)`` runs it.

    Attributes:
        subscripts: the subscripts text, e.g. ``"ij,jk->ik"``.
        operands: the operands, one numpy array per term.

    >>> import numpy as np
    >>> problem = EinsumProblem("ij->i", (np.arange(6).reshape(2, 3),))
    >>> subscripts, operands = problem
    >>> problem.shapes
    ((2, 3),)
    >>> np.einsum(*problem.args)
    array([ 3, 12])
    """

    subscripts: str
    operands: tuple[np.ndarray, ...]

    @property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        """The operands' shapes."""
        return tuple(a.shape for a in self.operands)

    @property
    def args(self) -> tuple[Any, ...]:
        """The positional arguments of an einsum call: ``(subscripts, *operands)``."""
        return (self.subscripts, *self.operands)


class _Named(st.SearchStrategy):
    """A strategy that draws from another and reads as the call that made it, so hypothesis's
    "Falsifying example" and a test's repr show ``einsum_problems(max_operands=2)`` rather than
    the inner machinery."""

    def __init__(self, inner: st.SearchStrategy[Any], call: str) -> None:
        super().__init__()
        self._inner = inner
        self._call = call

    def do_draw(self, data: Any) -> Any:
        return data.draw(self._inner)

    def __repr__(self) -> str:
        return self._call


def _named(inner: st.SearchStrategy[Any], function: Callable[..., Any],
           arguments: dict[str, Any]) -> st.SearchStrategy[Any]:
    """``inner``, read as ``function(...)`` with the arguments that are not the defaults."""
    parts = []
    for name, parameter in inspect.signature(function).parameters.items():
        value = arguments[name]
        if parameter.default is inspect.Parameter.empty:
            parts.append(repr(value))
        elif value is not parameter.default and value != parameter.default:
            parts.append(f"{name}={value!r}")
    return _Named(inner, f"{function.__name__}({', '.join(parts)})")


class _Equation(NamedTuple):
    """An equation as drawn, before it is written out: ``output`` is None in implicit mode."""

    terms: tuple[tuple[str, ...], ...]
    output: tuple[str, ...] | None


def _check_count(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < low:
        raise EinvizError(f"{name} must be at least {low}, not {value}")


def _check_bounds(name_low: str, low: int, name_high: str, high: int) -> None:
    if low > high:
        raise EinvizError(f"{name_low}={low} is more than {name_high}={high}")


@st.composite
def _equations(
    draw: st.DrawFn,
    *,
    min_operands: int,
    max_operands: int,
    max_rank: int,
    max_labels: int,
    implicit: bool,
    ellipsis: bool,
    repeated: bool,
    scalars: bool,
    uppercase: bool,
) -> _Equation:
    pool = _LOWER + _UPPER if uppercase else _LOWER
    labels = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=max_labels, unique=True))
    n_operands = draw(st.integers(min_operands, max_operands))
    uses_ellipsis = ellipsis and draw(st.booleans())
    terms = []
    for _ in range(n_operands):
        # A 0-d operand now and then, not as often as short lists would come by themselves.
        if max_rank == 0 or (scalars and draw(st.integers(0, 5)) == 0):
            term = []
        elif repeated:
            term = draw(st.lists(st.sampled_from(labels), min_size=1, max_size=max_rank))
        else:
            term = draw(st.lists(st.sampled_from(labels), min_size=1,
                                 max_size=min(max_rank, len(labels)), unique=True))
        if uses_ellipsis and draw(st.booleans()):
            term.insert(draw(st.integers(0, len(term))), ELLIPSIS)
        terms.append(tuple(term))
    if implicit and draw(st.booleans()):
        return _Equation(tuple(terms), None)
    seen = list(dict.fromkeys(label for term in terms for label in term if label != ELLIPSIS))
    output = draw(st.lists(st.sampled_from(seen), unique=True, max_size=len(seen))) if seen else []
    # numpy refuses an explicit output that drops the '...' dimensions, so it names '...'
    # whenever an input has it; it may also name it when none has (zero dimensions).
    if any(ELLIPSIS in term for term in terms) or (uses_ellipsis and draw(st.booleans())):
        output.insert(draw(st.integers(0, len(output))), ELLIPSIS)
    return _Equation(tuple(terms), tuple(output))


@st.composite
def _written(draw: st.DrawFn, equation: _Equation, spaces: bool) -> str:
    """Write an equation as subscripts text, with spaces between tokens when ``spaces``."""
    tokens: list[str] = []
    for k, term in enumerate(equation.terms):
        if k:
            tokens.append(",")
        tokens.extend(term)
    if equation.output is not None:
        tokens.append(_ARROW)
        tokens.extend(equation.output)
    if not spaces or not draw(st.booleans()):
        return "".join(tokens)
    gaps = draw(st.lists(st.sampled_from(["", "", " ", "  "]),
                         min_size=len(tokens) + 1, max_size=len(tokens) + 1))
    return gaps[0] + "".join(token + gap for token, gap in zip(tokens, gaps[1:]))


def _equation_strategy(
    min_operands: int,
    max_operands: int,
    max_rank: int,
    max_labels: int,
    implicit: bool,
    ellipsis: bool,
    repeated: bool,
    scalars: bool,
    uppercase: bool,
) -> st.SearchStrategy[_Equation]:
    _check_count("min_operands", min_operands, 1)
    _check_count("max_operands", max_operands, 1)
    _check_bounds("min_operands", min_operands, "max_operands", max_operands)
    _check_count("max_rank", max_rank, 0 if scalars else 1)
    _check_count("max_labels", max_labels, 1)
    if max_labels > 52 or (max_labels > 26 and not uppercase):
        raise EinvizError(f"max_labels={max_labels} is more labels than the letters "
                         f"{'a-z and A-Z' if uppercase else 'a-z'}")
    return _equations(
        min_operands=min_operands, max_operands=max_operands, max_rank=max_rank,
        max_labels=max_labels, implicit=implicit, ellipsis=ellipsis, repeated=repeated,
        scalars=scalars, uppercase=uppercase,
    )


def subscripts(
    *,
    min_operands: int = 1,
    max_operands: int = 4,
    max_rank: int = 4,
    max_labels: int = 6,
    implicit: bool = True,
    ellipsis: bool = True,
    repeated: bool = True,
    scalars: bool = True,
    uppercase: bool = True,
    spaces: bool = True,
) -> st.SearchStrategy[str]:
    """Valid einsum subscripts text, without operands.

    The text is valid syntax for :func:`numpy.einsum`; with operands from
    :func:`einsum_operands` it is a valid call.

    Args:
        min_operands: the fewest comma-separated terms.
        max_operands: the most comma-separated terms.
        max_rank: the most labels in one term (a ``...`` comes on top).
        max_labels: the most distinct labels in the equation.
        implicit: whether the output may be left implicit (no ``->``).
        ellipsis: whether terms may have ``...``.
        repeated: whether a label may repeat inside one term (a diagonal: ``ii->i``).
        scalars: whether a term may be empty (a 0-d operand).
        uppercase: whether labels may be upper-case letters as well as lower-case.
        spaces: whether spaces may stand between the tokens.

    Returns:
        A strategy for subscripts text.

    >>> from hypothesis import Phase, find, settings
    >>> drawn = settings(phases=[Phase.generate], database=None, derandomize=True)
    >>> text = find(subscripts(), lambda text: "->" in text and "," in text, settings=drawn)
    >>> "->" in text and "," in text
    True
    >>> subscripts(max_operands=2, spaces=False)
    subscripts(max_operands=2, spaces=False)
    """
    arguments = dict(locals())
    equations = _equation_strategy(min_operands, max_operands, max_rank, max_labels,
                                   implicit, ellipsis, repeated, scalars, uppercase)
    return _named(equations.flatmap(lambda eq: _written(eq, spaces)), subscripts, arguments)


def _check_values(min_value: int, max_value: int, min_size: int, max_size: int) -> None:
    for name, value in (("min_value", min_value), ("max_value", max_value)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ArgumentTypeError(f"{name} must be an int, not {type(value).__name__}")
    _check_bounds("min_value", min_value, "max_value", max_value)
    _check_count("min_size", min_size, 0)
    _check_count("max_size", max_size, 0)
    _check_bounds("min_size", min_size, "max_size", max_size)


def _as_dtype(value: Any) -> np.dtype:
    try:
        return np.dtype(value)
    except (TypeError, ValueError):
        raise ArgumentTypeError(
            f"dtypes holds {value!r}, which is not a numpy dtype",
            hint="name dtypes as numpy does, e.g. dtypes=['int64', 'float32', np.bool_]",
        ) from None


def _dtype_list(dtypes: Sequence[Any] | None, complex_dtypes: bool) -> list[np.dtype]:
    if dtypes is not None and (isinstance(dtypes, (str, np.dtype, type))
                               or not hasattr(dtypes, "__iter__")):
        raise ArgumentTypeError(
            f"dtypes must be a list of dtypes, not {type(dtypes).__name__}",
            hint="a list even for one dtype, e.g. dtypes=['float64']",
        )
    chosen = [_as_dtype(d) for d in (DEFAULT_DTYPES if dtypes is None else dtypes)]
    if complex_dtypes:
        chosen += [np.dtype(d) for d in _COMPLEX_DTYPES if np.dtype(d) not in chosen]
    if not chosen:
        raise EinvizError("dtypes must name at least one dtype")
    for dtype in chosen:
        if dtype.kind not in "biufc":
            raise EinvizError(f"dtype {dtype} is not a bool, integer, float or complex dtype")
    return list(dict.fromkeys(chosen))


def _elements(dtype: np.dtype, min_value: int, max_value: int) -> st.SearchStrategy[Any]:
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind == "u":
        min_value, max_value = max(min_value, 0), max(max_value, 0)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        min_value, max_value = max(min_value, int(info.min)), min(max_value, int(info.max))
    integers = st.integers(min_value, max_value)
    if dtype.kind == "f":
        return integers.map(float)
    if dtype.kind == "c":
        return st.builds(complex, integers, integers)
    return integers


@st.composite
def _array(
    draw: st.DrawFn,
    dtype: np.dtype,
    shape: tuple[int, ...],
    min_value: int,
    max_value: int,
    noncontiguous: bool,
) -> np.ndarray:
    elements = _elements(dtype, min_value, max_value)
    layout = draw(st.sampled_from(["C", "F", "reversed", "strided"])) if noncontiguous and shape else "C"
    if layout == "strided":
        # Every other element of a larger array: strides that are not the itemsize.
        base = draw(hnp.arrays(dtype, shape + (2,), elements=elements))
        return base[..., 0]
    array = draw(hnp.arrays(dtype, shape, elements=elements))
    if layout == "F":
        return np.asfortranarray(array)
    if layout == "reversed":
        return np.flip(array)  # negative strides on every axis
    return array


@st.composite
def _operands(
    draw: st.DrawFn,
    equation: _Equation,
    *,
    min_size: int,
    max_size: int,
    max_steps: int,
    max_ellipsis_dims: int,
    broadcast: bool,
    zero_size: bool,
    dtypes: list[np.dtype],
    mixed_dtypes: bool,
    min_value: int,
    max_value: int,
    noncontiguous: bool,
) -> tuple[np.ndarray, ...]:
    terms = equation.terms
    budget = max_steps
    # The '...' dimensions first: shapes that broadcast against each other.
    with_ellipsis = [k for k, term in enumerate(terms) if ELLIPSIS in term]
    ellipsis_shapes: dict[int, tuple[int, ...]] = {}
    output_drops_ellipsis = equation.output is not None and ELLIPSIS not in equation.output
    if with_ellipsis and max_ellipsis_dims > 0 and not output_drops_ellipsis:
        side = max(1, min_size)
        drawn = draw(hnp.mutually_broadcastable_shapes(
            num_shapes=len(with_ellipsis), min_dims=0, max_dims=max_ellipsis_dims,
            min_side=side, max_side=max(side, max_size),
        ))
        ellipsis_shapes = dict(zip(with_ellipsis, drawn.input_shapes))
        budget //= max(1, math.prod(drawn.result_shape))
    # Then one size per label, capped so the loops stay within max_steps.
    labels = list(dict.fromkeys(label for term in terms for label in term if label != ELLIPSIS))
    sizes: dict[str, int] = {}
    for label in labels:
        cap = min(max_size, max(budget, min_size, 1))
        sizes[label] = draw(st.integers(min(min_size, cap), cap))
        budget //= max(sizes[label], 1)
    if zero_size and labels and draw(st.integers(0, 7)) == 7:
        sizes[draw(st.sampled_from(labels))] = 0
    # A label shared by several operands may have size 1 in some of them (not all).
    ones: set[tuple[int, str]] = set()
    if broadcast and draw(st.booleans()):
        for label in labels:
            holders = [k for k, term in enumerate(terms) if label in term]
            if len(holders) < 2 or sizes[label] == 1:
                continue
            chosen = {k for k in holders if draw(st.booleans())}
            if chosen != set(holders):
                ones.update((k, label) for k in chosen)
    shared_dtype = draw(st.sampled_from(dtypes))
    operands = []
    for k, term in enumerate(terms):
        shape: list[int] = []
        for label in term:
            if label == ELLIPSIS:
                shape.extend(ellipsis_shapes.get(k, ()))
            else:
                shape.append(1 if (k, label) in ones else sizes[label])
        dtype = draw(st.sampled_from(dtypes)) if mixed_dtypes else shared_dtype
        operands.append(draw(_array(dtype, tuple(shape), min_value, max_value, noncontiguous)))
    return tuple(operands)


def einsum_operands(
    subscripts: str,
    *,
    min_size: int = 1,
    max_size: int = 4,
    max_steps: int = 4096,
    max_ellipsis_dims: int = 2,
    broadcast: bool = True,
    zero_size: bool = True,
    dtypes: Sequence[Any] | None = None,
    complex_dtypes: bool = False,
    mixed_dtypes: bool = True,
    min_value: int = -3,
    max_value: int = 3,
    noncontiguous: bool = True,
    notation: str = "numpy",
) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    """Operands that fit given subscripts, as a tuple of numpy arrays.

    Use it to test one expression you care about on many shapes and values. The keywords
    are those of :func:`einsum_problems`.

    Args:
        subscripts: the subscripts text (numpy's syntax).
        min_size: the smallest size of a label.
        max_size: the largest size of a label (and of a ``...`` dimension).
        max_steps: the most multiply-adds (the product of all sizes); sizes are drawn
            smaller as needed to stay under it.
        max_ellipsis_dims: the most dimensions a ``...`` stands for.
        broadcast: whether a label shared by several operands may have size 1 in some.
        zero_size: whether a label may (now and then) have size 0.
        dtypes: the dtypes to draw from (default :data:`DEFAULT_DTYPES`).
        complex_dtypes: whether to add ``complex128`` and ``complex64`` to them.
        mixed_dtypes: whether operands may have different dtypes (else one for all).
        min_value: the smallest value of an element (integers; floats hold integer values).
        max_value: the largest value of an element.
        noncontiguous: whether operands may be Fortran-ordered, reversed or strided views.
        notation: how to read ``subscripts``: ``"numpy"`` (default, as :func:`subscripts`
            writes them), ``"einops"`` (``"batch seq, seq dim -> batch dim"``) or ``"auto"``
            (see :func:`einviz.parse`).

    Returns:
        A strategy for tuples of arrays, one per term of ``subscripts``.

    Raises:
        einviz.SubscriptError: the subscripts are not valid.

    >>> from hypothesis import Phase, find, settings
    >>> drawn = settings(phases=[Phase.generate], database=None, derandomize=True)
    >>> a, b = find(einsum_operands("ij,jk->ik", dtypes=["int64"]), lambda ops: ops[0].shape[0] > 1,
    ...             settings=drawn)
    >>> a.shape[1] == b.shape[0] or 1 in (a.shape[1], b.shape[0])
    True
    >>> einsum_operands("ij->i", max_size=2)
    einsum_operands('ij->i', max_size=2)
    >>> a, b = find(einsum_operands("batch seq, seq -> batch", notation="einops"), lambda ops: True,
    ...             settings=drawn)
    >>> a.ndim, b.ndim
    (2, 1)
    """
    arguments = dict(locals())
    _check_values(min_value, max_value, min_size, max_size)
    _check_count("max_steps", max_steps, 1)
    _check_count("max_ellipsis_dims", max_ellipsis_dims, 0)
    parsed = parse(subscripts, notation)
    equation = _Equation(parsed.terms, parsed.output if parsed.explicit else None)
    operands = _operands(
        equation, min_size=min_size, max_size=max_size, max_steps=max_steps,
        max_ellipsis_dims=max_ellipsis_dims, broadcast=broadcast, zero_size=zero_size,
        dtypes=_dtype_list(dtypes, complex_dtypes), mixed_dtypes=mixed_dtypes,
        min_value=min_value, max_value=max_value, noncontiguous=noncontiguous,
    )
    return _named(operands, einsum_operands, arguments)


def einsum_problems(
    *,
    min_operands: int = 1,
    max_operands: int = 4,
    max_rank: int = 4,
    max_labels: int = 6,
    min_size: int = 1,
    max_size: int = 4,
    max_steps: int = 4096,
    max_ellipsis_dims: int = 2,
    implicit: bool = True,
    ellipsis: bool = True,
    repeated: bool = True,
    broadcast: bool = True,
    zero_size: bool = True,
    scalars: bool = True,
    uppercase: bool = True,
    spaces: bool = True,
    dtypes: Sequence[Any] | None = None,
    complex_dtypes: bool = False,
    mixed_dtypes: bool = True,
    min_value: int = -3,
    max_value: int = 3,
    noncontiguous: bool = True,
) -> st.SearchStrategy[EinsumProblem]:
    """Einsum problems: subscripts text with operands that fit it, valid for numpy.einsum.

    Every feature is on by default except complex dtypes; turn off what your einsum does not
    support. Values are small integers (floats and complex numbers hold integer values), so
    integer results are exact and float results exact up to rounding of the sums.

    Args:
        min_operands: the fewest operands.
        max_operands: the most operands.
        max_rank: the most labels in one term (a ``...`` adds its dimensions on top).
        max_labels: the most distinct labels in the equation.
        min_size: the smallest size of a label.
        max_size: the largest size of a label (and of a ``...`` dimension).
        max_steps: the most multiply-adds (the product of all sizes); sizes are drawn
            smaller as needed to stay under it, so a loop-by-loop einsum stays fast.
        max_ellipsis_dims: the most dimensions a ``...`` stands for.
        implicit: whether the output may be left implicit (``ij,jk``, no ``->``).
        ellipsis: whether terms may have ``...``; its dimensions broadcast between operands.
        repeated: whether a label may repeat inside one term (diagonals: ``ii->i``, ``iij->j``).
        broadcast: whether a label shared by several operands may have size 1 in some.
        zero_size: whether a label may (now and then) have size 0.
        scalars: whether an operand may be 0-d (an empty term).
        uppercase: whether labels may be upper-case letters as well as lower-case.
        spaces: whether spaces may stand between the tokens of the text.
        dtypes: the dtypes to draw from (default :data:`DEFAULT_DTYPES`: ints, floats, bool).
        complex_dtypes: whether to add ``complex128`` and ``complex64`` to them.
        mixed_dtypes: whether operands may have different dtypes (else one for all).
        min_value: the smallest value of an element.
        max_value: the largest value of an element.
        noncontiguous: whether operands may be Fortran-ordered, reversed or strided views.

    Returns:
        A strategy for :class:`EinsumProblem`.

    >>> import numpy as np
    >>> from hypothesis import Phase, find, settings
    >>> drawn = settings(phases=[Phase.generate], database=None, derandomize=True)
    >>> problem = find(einsum_problems(), lambda p: len(p.operands) == 2 and "->" in p.subscripts,
    ...                settings=drawn)
    >>> len(problem.operands), "->" in problem.subscripts
    (2, True)
    >>> np.einsum(*problem.args) is not None   # every problem drawn is valid for numpy
    True
    >>> einsum_problems(max_operands=2)
    einsum_problems(max_operands=2)

    With einviz installed, ``st.from_type(EinsumProblem)`` draws from ``einsum_problems()``
    (einviz registers it through hypothesis's entry point).
    """
    arguments = dict(locals())
    _check_values(min_value, max_value, min_size, max_size)
    _check_count("max_steps", max_steps, 1)
    _check_count("max_ellipsis_dims", max_ellipsis_dims, 0)
    dtype_list = _dtype_list(dtypes, complex_dtypes)
    equations = _equation_strategy(min_operands, max_operands, max_rank, max_labels,
                                   implicit, ellipsis, repeated, scalars, uppercase)

    @st.composite
    def problems(draw: st.DrawFn) -> EinsumProblem:
        equation = draw(equations)
        text = draw(_written(equation, spaces))
        operands = draw(_operands(
            equation, min_size=min_size, max_size=max_size, max_steps=max_steps,
            max_ellipsis_dims=max_ellipsis_dims, broadcast=broadcast, zero_size=zero_size,
            dtypes=dtype_list, mixed_dtypes=mixed_dtypes, min_value=min_value,
            max_value=max_value, noncontiguous=noncontiguous,
        ))
        return EinsumProblem(text, operands)

    return _named(problems(), einsum_problems, arguments)


def _hypothesis_setup_hook() -> None:
    """Register :class:`EinsumProblem` with hypothesis: ``st.from_type(EinsumProblem)`` then
    draws valid problems. Hypothesis calls it through the ``hypothesis`` entry point in
    einviz's ``pyproject.toml``, once, when it is imported.

    >>> from hypothesis import strategies as st
    >>> _hypothesis_setup_hook()
    >>> st.from_type(EinsumProblem)
    einsum_problems()
    """
    st.register_type_strategy(EinsumProblem, einsum_problems())
