"""The numpy drop-in: :func:`einsum`, run on einviz's own loop plan, with numpy's rules.

numpy is the specification here. This module owns its rules for ``dtype=``, ``casting=``,
``out=``, ``order=`` and ``optimize=`` and the chunked compute: the loop plan's operands,
viewed with one axis per loop label, multiplied a bounded chunk at a time and summed over
the summed labels. :func:`compute_dtype` is numpy's rule for the dtype einsum multiplies
and adds in; the trace uses it too, so its steps show the arithmetic einsum does.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any, Literal, cast

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .errors import ArgumentTypeError, EinvizError, PathError, ShapeError
from .planning import LoopPlan, _is_size, as_operand, bind
from .subscripts import parse_call

__all__ = ["CHUNK_ELEMENTS", "check_path", "compute_dtype", "einsum", "is_view", "run", "working_dtype"]

#: How many products the reference einsum holds in memory at once (per chunk).
CHUNK_ELEMENTS = 1 << 16

_CASTINGS = ("no", "equiv", "safe", "same_kind", "unsafe")
_Casting = Literal["no", "equiv", "safe", "same_kind", "unsafe"]

#: The dtype kinds einsum multiplies and adds in: bool, integers, floats, complex, objects.
_NUMERIC_KINDS = "biufcO"
_KIND_WORDS = {"U": "text", "S": "bytes", "T": "text", "M": "dates", "m": "time spans",
               "V": "raw or structured records"}
_DTYPE_HINT = ("einsum multiplies and adds booleans, integers, floats, complex numbers and "
               "Python objects; convert the operand first, e.g. with .astype(float)")

#: numpy's strategies for ``optimize=`` (``True`` means ``"greedy"``).
_STRATEGIES = ("greedy", "optimal")


def einsum(
    *operands: Any,
    out: np.ndarray | None = None,
    dtype: Any = None,
    order: str = "K",
    casting: str = "safe",
    optimize: Any = False,
) -> Any:
    """A drop-in for :func:`numpy.einsum`, computed by einviz's own loop plan.

    Called as ``einsum(subscripts, *operands, ...)``, in the sublist form
    ``einsum(A, [0, 1], B, [1, 2], [0, 2])``, or with a :class:`~einviz.LoopPlan` in place
    of the subscripts (``einsum(p, A, B)``: the plan's shapes, bound once). The result has
    numpy's values, shape and dtype. ``optimize`` is accepted for compatibility and does
    not change the result.

    Args:
        *operands: the subscripts (or a loop plan) then the operands, or the sublist form.
        out: an array to write the result into. As in numpy (``optimize=False``), the
            computation is in a dtype that includes out's: ``np.result_type`` of the
            operands and ``out`` (see :func:`compute_dtype`).
        dtype: the dtype to compute in (operands are cast under ``casting``). Ignored, as
            numpy ignores it, when the result is a view (one operand, nothing summed).
        order: the memory layout of the result: ``"C"``, ``"F"``, ``"A"`` or ``"K"``
            (a view keeps the operand's layout, as in numpy).
        casting: numpy's casting rule for ``dtype`` and ``out``.
        optimize: checked as numpy checks it (``True``, ``False``, ``'greedy'``,
            ``'optimal'``, ``('greedy', memory_limit)`` or ``['einsum_path', (0, 1), ...]``),
            then ignored: the reference einsum always runs one nested loop. A strategy
            name is checked even for one or two operands, where numpy skips the check.

    Returns:
        The result array (a view of the operand when numpy returns one, e.g. ``"ii->i"``),
        or a numpy scalar for a 0-d result without ``out``.
        Like numpy, floats overflow to ``inf`` and ``inf * 0`` is ``nan`` without a warning,
        and Python objects are summed from ``0``: ``0 + p0 + p1 + ...``.

    Raises:
        EinvizError: bad subscripts, operands, sizes, or a limit (with the culprit marked).
        ArgumentTypeError: an argument of the wrong type, e.g. an operand of text that
            would be multiplied or added, or a cast ``casting`` forbids (numpy raises
            ``TypeError`` too).
        PathError: an ``optimize`` path that does not contract the operands to one.

    >>> einsum("ij,jk->ik", np.array([[1, 2], [3, 4]]), np.array([[1, 0], [0, 1]]))
    array([[1, 2],
           [3, 4]])
    >>> einsum(np.arange(3), [0], np.arange(3), [0])
    np.int64(5)
    >>> einsum("i,i->i", np.array([20, 30], np.uint8), np.array([20, 30], np.uint8),
    ...        out=np.zeros(2, np.int32))
    array([400, 900], dtype=int32)
    """
    if not operands:
        raise ShapeError(
            "einsum needs the subscripts and at least one operand",
            hint="e.g. einsum('ij->i', A)",
        )
    if isinstance(operands[0], LoopPlan):
        loop_plan, arrays = operands[0], [as_operand(a, k) for k, a in enumerate(operands[1:])]
    else:
        equation, given = parse_call(operands)
        if not given:
            raise ShapeError(
                "einsum needs at least one operand",
                subscripts=equation.text_for_carets(),
                hint="e.g. einsum('ij->i', A)",
            )
        arrays = [as_operand(a, k) for k, a in enumerate(given)]
        loop_plan = bind(equation, tuple(a.shape for a in arrays))
    _check_optimize(optimize, len(arrays))
    result = run(loop_plan, arrays, out=out, dtype=dtype, order=order, casting=casting)
    if out is None and isinstance(result, np.ndarray) and result.ndim == 0:
        return result[()]
    return result


def is_view(p: LoopPlan, out: Any = None) -> bool:
    """Whether numpy's einsum returns a view of the operand: one operand, nothing summed and
    no ``out`` (then ``dtype=`` and ``order=`` are ignored, as numpy ignores them).

    >>> from einviz import plan
    >>> is_view(plan("ij->ji", shapes=[(2, 3)])), is_view(plan("ij->i", shapes=[(2, 3)]))
    (True, False)
    """
    return out is None and p.n_operands == 1 and not p.summed


def run(
    p: LoopPlan,
    operands: list[Any] | tuple[Any, ...],
    *,
    out: np.ndarray | None = None,
    dtype: Any = None,
    order: str = "K",
    casting: str = "safe",
) -> Any:
    """Run a plan: the reference einsum on operands of the planned shapes (no 0-d unwrapping).

    Raises:
        ShapeError: the operands' shapes are not the plan's.

    >>> from einviz import plan
    >>> run(plan("ij,jk->ik", shapes=[(2, 2), (2, 2)]), [np.eye(2), np.array([[1, 2], [3, 4]])])
    array([[1., 2.],
           [3., 4.]])
    """
    arrays = [np.asarray(a) for a in operands]
    p.check_operands([a.shape for a in arrays])
    p.check_limits()
    order = _check_order(order)
    casting = _check_casting(casting)
    if is_view(p, out):
        if dtype is not None:
            _as_dtype(dtype)  # numpy reads dtype= (an unknown name is a TypeError), then ignores it
        return output_view(p, arrays[0])
    if out is not None:
        _check_out_array(out)
    result_dtype = compute_dtype(arrays, dtype, casting, out)
    if out is not None:
        _check_out_fits(p, out, result_dtype, casting)
    # Numbers are cast chunk by chunk as they are multiplied (a broadcast view is never
    # copied whole); objects and text are converted up front, where conversion may fail:
    # only the values numpy reads (a repeated label's diagonal; none when there is no step).
    operands = [_diagonal(term, a) for term, a in zip(p.terms, arrays)]
    operands = [(labels, a if p.n_steps == 0 or (
                    a.dtype.kind in _NUMERIC_KINDS and "O" not in (a.dtype.kind, result_dtype.kind))
                 else _cast(a, k, result_dtype)) for k, (labels, a) in enumerate(operands)]
    # Python objects do their own arithmetic, under the caller's rules. numpy.einsum never
    # warns about a float overflow, inf * 0 or a cast into out (but for complex to real,
    # its ComplexWarning): nor does einviz.
    quiet = np.errstate(all="ignore") if result_dtype.kind != "O" else contextlib.nullcontext()
    with quiet:
        result = _compute(p, operands, working_dtype(result_dtype))
        result = result.astype(result_dtype, copy=False)
        if out is not None:
            np.copyto(out, result, casting=casting)
            return out
    return _ordered(result, order, arrays)


def compute_dtype(
    arrays: list[np.ndarray], dtype: Any = None, casting: str = "safe", out: Any = None
) -> np.dtype:
    """The dtype einsum multiplies and adds in, by numpy's rule (``optimize=False``).

    ``dtype`` when given, else ``np.result_type`` of the operands and ``out`` (its dtype
    counts: uint8 operands with an int32 ``out`` are multiplied in int32). Every operand
    must cast to it under ``casting``, and ``out`` both ways (numpy reads ``out`` as well as
    writes it). Refused when it is not a dtype einsum can multiply and add in.

    Raises:
        ArgumentTypeError: an operand (or ``dtype``) that is not a number, or a cast that
            ``casting`` forbids (numpy raises ``TypeError``).

    >>> u8 = np.ones(2, np.uint8)
    >>> compute_dtype([u8, u8]), compute_dtype([u8, u8], out=np.zeros(2, np.int32))
    (dtype('uint8'), dtype('int32'))
    """
    if dtype is None:
        for k, array in enumerate(arrays):
            if array.dtype.kind not in _NUMERIC_KINDS:
                raise ArgumentTypeError(
                    f"operand {k} has dtype {_kind(array.dtype)}, which einsum cannot multiply "
                    "or add",
                    details=[f"operand dtypes: {', '.join(str(a.dtype) for a in arrays)}"]
                    if len(arrays) > 1 else [],
                    hint=_DTYPE_HINT,
                )
        extra = [out.dtype] if isinstance(out, np.ndarray) else []
        wanted = np.result_type(*arrays, *extra) if arrays else np.dtype(float)
    else:
        wanted = _as_dtype(dtype)
        if wanted.kind not in _NUMERIC_KINDS:
            raise ArgumentTypeError(
                f"dtype={_kind(wanted)} is not a dtype einsum can multiply or add in",
                hint="einsum computes in booleans, integers, floats, complex numbers or Python "
                     "objects, e.g. dtype=np.float64",
            )
    # As numpy, also without dtype=: casting='no' or 'equiv' refuses promoting mixed operands.
    rule = _check_casting(casting)
    for k, array in enumerate(arrays):
        if not np.can_cast(array.dtype, wanted, casting=rule):
            raise ArgumentTypeError(
                f"cannot cast operand {k} from {array.dtype} to {wanted} under casting={casting!r}",
                hint="pass casting='unsafe' (or 'same_kind') to allow it, as in numpy"
                if dtype is not None else
                f"the operands' common dtype is {wanted}; pass casting='safe' (numpy's default) "
                "to let einsum promote them",
            )
    return wanted


def working_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype numpy's loops multiply and add in for a result of ``dtype``: the same, but
    for half floats, which they multiply and add in single precision (rounding only what they
    store; a float16 product is not rounded before it is added).

    >>> working_dtype(np.dtype(np.float16)), working_dtype(np.dtype(np.int8))
    (dtype('float32'), dtype('int8'))
    """
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def _check_order(order: Any) -> Literal["C", "F", "A", "K"]:
    order = "K" if order is None else order
    if not isinstance(order, str) or order.upper() not in ("C", "F", "A", "K"):
        raise EinvizError(
            f"order must be one of 'C', 'F', 'A' or 'K', not {order!r}",
            hint="order sets the memory layout of the result, as in numpy",
        )
    return cast(Literal["C", "F", "A", "K"], order.upper())


def _check_casting(casting: Any) -> _Casting:
    if not isinstance(casting, str) or casting not in _CASTINGS:
        raise EinvizError(
            f"casting must be one of {', '.join(map(repr, _CASTINGS))}, not {casting!r}",
            hint="casting is numpy's rule for dtype= and out=",
        )
    return cast(_Casting, casting)


def _ordered(
    result: np.ndarray, order: Literal["C", "F", "A", "K"], arrays: list[np.ndarray]
) -> np.ndarray:
    """The result in the memory layout ``order`` asks for (a 0-d result stays 0-d)."""
    if order == "A":
        fortran = bool(arrays) and all(a.flags.f_contiguous and not a.flags.c_contiguous for a in arrays)
        order = "F" if fortran else "C"
    if order == "K":
        return result
    # np.asarray keeps the number of dimensions (np.ascontiguousarray makes a 0-d array 1-d).
    return np.asarray(result, order=order)


def _check_out_array(out: Any) -> None:
    if not isinstance(out, np.ndarray):
        raise ArgumentTypeError(
            f"out must be a numpy array, not {type(out).__name__}",
            hint="pass out=np.empty(shape, dtype) or leave it out",
        )
    if not out.flags.writeable:
        raise EinvizError(
            "out is read-only: einsum cannot write the result into it",
            details=[f"out: shape {out.shape}, dtype {out.dtype}, writeable False"],
            hint="pass a writeable array (such as out.copy()), or no out= at all",
        )
    if out.dtype.kind not in _NUMERIC_KINDS:
        raise ArgumentTypeError(
            f"out has dtype {_kind(out.dtype)}, which einsum cannot write a result into",
            hint="pass out= an array of booleans, integers, floats, complex numbers or objects",
        )


def _check_out_fits(
    p: LoopPlan, out: np.ndarray, result_dtype: np.dtype, casting: _Casting
) -> None:
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
    if not np.can_cast(out.dtype, result_dtype, casting=casting):
        # numpy's einsum reads out as well as writes it (its iterator's out is read-write).
        raise ArgumentTypeError(
            f"cannot cast out's {out.dtype} to {result_dtype}, the dtype einsum computes in, "
            f"under casting={casting!r}",
            details=["numpy reads out= as well as writes it: its dtype must cast both ways"],
            hint="pass casting='unsafe' (or 'same_kind') to allow it, as in numpy, or an out "
                 "of the computing dtype",
        )


def loop_view(p: LoopPlan, labels: tuple[str, ...], array: np.ndarray) -> np.ndarray:
    """A zero-copy view of an operand (whose axes carry ``labels``) with one axis per loop
    label, in loop order.

    Repeated labels become the diagonal; labels the operand lacks get size 1 (stride 0).
    """
    shape = [1] * len(p.labels)
    strides = [0] * len(p.labels)
    position = {label: k for k, label in enumerate(p.labels)}
    for label, size, stride in zip(labels, array.shape, array.strides):
        k = position[label]
        shape[k] = size
        strides[k] += stride
    return as_strided(array, shape=tuple(shape), strides=tuple(strides))


def _diagonal(labels: tuple[str, ...], array: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """The operand with every repeated label taken along its diagonal (a view, as numpy's
    einsum takes it before reading a value), and the labels of its axes."""
    left = list(labels)
    view = array
    while len(set(left)) < len(left):
        first = next(k for k, label in enumerate(left) if label in left[k + 1 :])
        second = left.index(left[first], first + 1)
        view = np.diagonal(view, 0, first, second)
        left = [x for k, x in enumerate(left) if k not in (first, second)] + [left[first]]
    return tuple(left), view


def output_view(p: LoopPlan, array: np.ndarray) -> np.ndarray:
    """For one operand with nothing summed: the result as a view of it (like numpy).

    Diagonals come from :func:`numpy.diagonal` and the order from a transpose, so the
    view's ``base`` is the operand's and it is writeable when the operand is.
    """
    labels, view = _diagonal(p.terms[0], array)
    view = view.transpose([labels.index(label) for label in p.output])
    if array.flags.writeable and not view.flags.writeable:
        view.flags.writeable = True
    return view


def _as_dtype(dtype: Any) -> np.dtype:
    """``dtype=`` as a numpy dtype; a name numpy does not know is refused in einviz's words."""
    try:
        return np.dtype(dtype)
    except (TypeError, ValueError):
        raise ArgumentTypeError(
            f"dtype={dtype!r} is not a numpy dtype",
            hint="e.g. dtype=np.float64, dtype='float32' or dtype=int",
        ) from None


def _kind(dtype: np.dtype) -> str:
    words = _KIND_WORDS.get(dtype.kind, "not numbers")
    return f"{dtype} ({words})"


def _cast(array: np.ndarray, k: int, dtype: np.dtype) -> np.ndarray:
    """An operand in the dtype einsum computes in (text that is no number is refused)."""
    if array.dtype.kind in _NUMERIC_KINDS:
        # A numeric cast cannot fail; an object's own conversion error passes through.
        return array.astype(dtype, copy=False)
    try:
        return array.astype(dtype, copy=False)
    except (TypeError, ValueError) as e:
        raise EinvizError(
            f"cannot convert operand {k} from {_kind(array.dtype)} to {dtype}",
            details=[str(e).splitlines()[0] if str(e) else type(e).__name__],
            hint=_DTYPE_HINT,
        ) from None


def _compute(
    p: LoopPlan, operands: list[tuple[tuple[str, ...], np.ndarray]], dtype: np.dtype
) -> np.ndarray:
    """Multiply broadcast loop views and sum the summed (innermost) axes, chunk by chunk.

    Python objects are summed as numpy's einsum sums them: each output cell starts at ``0``
    and adds its products one at a time, in loop order, even when nothing is summed
    (``0 + a*b``); so ``"i->"`` on strings raises their own ``TypeError``, as in numpy.
    """
    n_free = len(p.free)
    full = [p.sizes[label] for label in p.labels]
    result = np.zeros(p.out_shape, dtype=dtype)
    if p.n_steps == 0:
        return result
    views = [loop_view(p, labels, a) for labels, a in operands]
    # Split the loop axes at `split`: the axes from there on fit in a chunk; the axis
    # before it is cut in blocks and the ones before that are walked one index at a time.
    tail = 1
    split = len(full)
    while split > 0 and tail * full[split - 1] <= CHUNK_ELEMENTS:
        split -= 1
        tail *= full[split]
    if split == 0:
        product = _product(views, (), dtype)
        if dtype.kind != "O":
            # One chunk: its sums keep the operands' memory layout (numpy's order='K'). Added
            # to zero like numpy's cells (so -0.0 comes out 0.0), and never a view of an operand.
            return np.asarray(np.add(_reduce(product, n_free, dtype), np.zeros((), dtype), dtype=dtype))
        _add_into(result[...], product, dtype)
        return result
    axis = split - 1
    block = max(1, CHUNK_ELEMENTS // tail)
    for outer in np.ndindex(*full[:axis]):
        for start in range(0, full[axis], block):
            piece = slice(start, start + block)
            chunk = _product(views, outer + (piece,), dtype)
            # The chunk covers whole sums (its cells are finished), or it is part of the sum
            # of the cell `outer[:n_free]`: either way its sums add into those cells. (A view
            # through Ellipsis even for one cell: its sum wraps silently like numpy's.)
            cells = outer + (piece,) if axis < n_free else outer[:n_free]
            _add_into(result[cells + (Ellipsis,)], chunk, dtype)
    return result


def _add_into(cells: np.ndarray, chunk: np.ndarray, dtype: np.dtype) -> None:
    """Add the sums of ``chunk`` over its axes after ``cells.ndim`` into ``cells`` (a view)."""
    kept = cells.ndim
    if dtype.kind != "O":
        cells += _reduce(chunk, kept, dtype)
        return
    # Objects: cell + p0 + p1 + ..., left to right in loop order, as numpy's einsum does.
    flat = chunk.reshape(chunk.shape[:kept] + (-1,))
    np.add.reduce(np.concatenate([cells[..., np.newaxis], flat], axis=-1), axis=-1, out=cells)


def _product(views: list[np.ndarray], index: tuple, dtype: np.dtype) -> np.ndarray:
    def take(view: np.ndarray) -> np.ndarray:
        # A size-1 axis (absent or broadcast label) is read at 0 whatever the loop index.
        key = tuple(
            (0 if isinstance(i, int) else slice(None)) if size == 1 else i
            for i, size in zip(index, view.shape)
        )
        # Ellipsis keeps a 0-d array an array: a Python object read out of one would be
        # multiplied by numpy's rules for its type (a str by numpy's string multiply).
        return view[key + (Ellipsis,)]

    product = take(views[0])
    if product.dtype != dtype:
        product = product.astype(dtype)
    for view in views[1:]:
        # The casts were checked against the caller's casting rule up front.
        product = np.multiply(product, take(view), dtype=dtype, casting="unsafe")
        if not isinstance(product, np.ndarray):  # a ufunc returns a 0-d result unwrapped
            cell = np.empty((), dtype=dtype)
            cell[()] = product
            product = cell
    return product


def _reduce(chunk: np.ndarray, n_kept: int, dtype: np.dtype) -> np.ndarray:
    """Sum every axis of ``chunk`` after the first ``n_kept``."""
    axes = tuple(range(n_kept, chunk.ndim))
    if not axes:
        return chunk
    return np.add.reduce(chunk, axis=axes, dtype=dtype)



_OPTIMIZE_HINT = "e.g. optimize='greedy', ('greedy', 10**6), or the path that numpy.einsum_path returns"
_OPTIMIZE_KINDS = "a bool, a strategy name, a (strategy, memory limit) pair or an einsum path"


def _check_optimize(optimize: Any, n_operands: int) -> None:
    """Accept what numpy accepts for ``optimize``; an explicit path must contract to one.

    numpy takes ``True``/``False``/``None``, a strategy (``'greedy'``, ``'optimal'``), a
    strategy with a memory limit (``('greedy', 10**6)``), or ``['einsum_path', (0, 1), …]``.
    (numpy looks the strategy up only for three operands or more; einviz always does.)
    """
    if isinstance(optimize, bool) or optimize is None:
        return
    if isinstance(optimize, str):
        _check_strategy(optimize)
        return
    if not isinstance(optimize, (list, tuple)) or not optimize or not isinstance(optimize[0], str):
        raise ArgumentTypeError(
            f"optimize must be {_OPTIMIZE_KINDS}, not {optimize!r}", hint=_OPTIMIZE_HINT,
        )
    if optimize[0] != "einsum_path":
        limit = optimize[1] if len(optimize) == 2 else None
        if not isinstance(limit, (int, float, np.integer, np.floating)) or isinstance(limit, bool):
            raise ArgumentTypeError(
                f"optimize must be {_OPTIMIZE_KINDS}, not {optimize!r}",
                details=["a strategy with a memory limit is a pair: (name, number of elements)"],
                hint=_OPTIMIZE_HINT,
            )
        _check_strategy(optimize[0])
        if not math.isfinite(limit):
            raise EinvizError(
                f"the memory limit of optimize={optimize!r} must be a finite number, not {limit}",
                hint="the limit is the largest intermediate, in elements, e.g. ('greedy', 10**6)",
            )
        return
    check_path(optimize, n_operands)


def check_path(path: Sequence[Any], n_operands: int) -> list[tuple[int, ...]]:
    """An explicit contraction path, checked: the one rule (and wording) for
    ``einsum(..., optimize=path)`` and :func:`einviz.contraction_path`'s ``optimize=path``.

    Args:
        path: the contractions, numpy's way (``['einsum_path', (0, 1), …]``) or without the
            leading ``'einsum_path'``; each contraction removes its operands and appends its
            result last.
        n_operands: the operands the path starts from.

    Returns:
        Each contraction as a tuple of operand indices.

    Raises:
        ArgumentTypeError: a contraction that is not a tuple of whole numbers.
        PathError: an index out of range or repeated, or a path that does not leave one.

    >>> check_path(["einsum_path", (0, 1), (0, 1)], 3)
    [(0, 1), (0, 1)]
    """
    contractions = list(path[1:] if len(path) and path[0] == "einsum_path" else path)
    remaining, checked = n_operands, []
    for number, contraction in enumerate(contractions, start=1):
        remaining = _check_contraction(path, number, contraction, remaining)
        checked.append(tuple(int(index) for index in contraction))
    if remaining != 1:
        raise PathError(
            f"the path leaves {remaining} operands, not one",
            details=[f"path: {list(path)}"],
            hint="each contraction (i, j, ...) joins its operands into one; the last leaves one",
        )
    return checked


def _check_strategy(name: str) -> None:
    if name not in _STRATEGIES:
        raise EinvizError(
            f"optimize={name!r} is not a strategy numpy knows",
            details=[f"numpy knows: {', '.join(map(repr, _STRATEGIES))}"],
            hint="or pass True (greedy), False, or the path that numpy.einsum_path returns",
        )


def _check_contraction(path: Any, number: int, contraction: Any, remaining: int) -> int:
    """Check contraction ``number`` (from 1) of an einsum path; return the operands left after."""
    where = f"contraction {number} of the path"
    if not isinstance(contraction, (list, tuple)):
        raise ArgumentTypeError(
            f"{where} is {contraction!r}, not a tuple of operand indices",
            details=[f"path: {list(path)}"],
            hint="write each contraction as a tuple such as (0, 1)",
        )
    for index in contraction:
        if not _is_size(index):
            raise ArgumentTypeError(
                f"{where} holds {index!r}, which is not an operand index",
                details=[f"path: {list(path)}"],
                hint="operand indices are whole numbers from 0",
            )
    if not contraction:
        raise PathError(
            f"{where} names no operand",
            details=[f"path: {list(path)}"],
            hint="each contraction names the operands it joins, e.g. (0, 1)",
        )
    for index in contraction:
        if not 0 <= index < remaining:
            raise PathError(
                f"{where} names operand {index}, but the operands are numbered 0 to "
                f"{remaining - 1} there",
                details=[f"path: {list(path)}",
                         f"operands left before it: {remaining}"],
                hint="each contraction removes its operands and appends the result last; "
                     "count from 0",
            )
    repeated = [index for index in dict.fromkeys(contraction) if list(contraction).count(index) > 1]
    if repeated:
        raise PathError(
            f"{where} names operand {repeated[0]} more than once",
            details=[f"path: {list(path)}"],
            hint="each contraction names distinct operands",
        )
    return remaining - len(contraction) + 1

