"""Trace every multiply-add step of an einsum: the arithmetic the pictures show.

Step ``s`` is one pass through the innermost line of the loop code,
``out[i,k] += A[i,j] * B[j,k]``. Steps are numbered in loop order: output cells row-major,
summed labels innermost, so the steps of one output cell are contiguous: cell ``c`` owns
steps ``[c*S, (c+1)*S)`` where ``S`` is the product of the summed labels' sizes.

The columns (label values, indices, factors, product, output cell, running sum) are made
vectorised, a bounded chunk at a time, reading the operands where they lie (never a copy);
:class:`Step` records are a convenience view of those columns.
"""

from __future__ import annotations

import contextlib
import math
import operator
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, NamedTuple, overload

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .errors import ArgumentTypeError, EinvizError, StepIndexError
from .planning import LoopPlan, _operand_names, as_operand, plan
from .reference import compute_dtype, is_view, run, working_dtype
from .subscripts import parse_call

__all__ = ["Cell", "Step", "StepIndexError", "Trace", "trace"]

#: Default number of steps per chunk of columns. Small enough that the allocator reuses a
#: chunk's arrays for the next chunk rather than mapping fresh pages (with 2^16 steps a chunk,
#: benchmarks/bench_trace.py ran two to three times slower).
CHUNK_STEPS = 1 << 14


class Step(NamedTuple):
    """One multiply-add: ``out[out_index] += product`` where product = the factors multiplied.

    Attributes:
        number: the step's index in loop order.
        labels: the value of every loop label.
        indices: the index into each operand (a broadcast size-1 axis reads 0).
        factors: the operands' values at those indices.
        product: the factors multiplied.
        out_index: the output cell (``()`` for a scalar output).
        running_sum: that output cell's sum after this step.
    """

    number: int
    labels: dict[str, int]
    indices: tuple[tuple[int, ...], ...]
    factors: tuple[Any, ...]
    product: Any
    out_index: tuple[int, ...]
    running_sum: Any


class Cell(NamedTuple):
    """One output cell and the steps that add into it."""

    out_index: tuple[int, ...]
    steps: range
    value: Any


def _integer(value: Any, what: str) -> int:
    """``value`` as an int, by Python's own rule for indices (``operator.index``)."""
    try:
        return operator.index(value)
    except TypeError:
        raise ArgumentTypeError(
            f"{what}, not {type(value).__name__} ({value!r})",
            hint="give an int (or a numpy integer), as a Python sequence takes",
        ) from None


def _bound(value: Any, what: str) -> int | None:
    return None if value is None else _integer(value, f"{what} must be an integer or None")


class _Reader:
    """Reads one operand's values at the steps' label values, where the operand lies.

    Nothing is copied, whatever the operand (a broadcast view of 10^8 elements costs
    nothing): each value's flat offset is a sum of label values times element strides,
    read from a 1-d view of the operand's memory that starts at its lowest address.
    """

    def __init__(self, array: np.ndarray, axes: tuple[str | None, ...], dtype: np.dtype) -> None:
        self.array = array
        self.axes = axes
        self.is_constant = False
        self.constant: Any = None
        self.flat: np.ndarray | None = None
        strides: dict[str, int] = {}  # label -> bytes to step its value by one
        for axis, label in enumerate(axes):
            if label is not None:
                strides[label] = strides.get(label, 0) + array.strides[axis]
        strides = {label: stride for label, stride in strides.items() if stride}
        if array.size == 0:  # then some label has size 0, and there are no steps to read
            return
        if not strides:  # one value for every step: a 0-d operand, or all axes read at 0
            # Cast as einsum casts it: a number computed with objects becomes a Python
            # number (so uint8 200 * 2 is 400, not a wrapped numpy uint8).
            constant = np.asarray(array[(0,) * array.ndim])
            self.is_constant, self.constant = True, constant.astype(dtype)[()]
            return
        itemsize = array.itemsize
        if itemsize and all(stride % itemsize == 0 for stride in array.strides):
            pairs = list(zip(array.shape, array.strides))
            low = sum((n - 1) * stride for n, stride in pairs if stride < 0)
            high = sum((n - 1) * stride for n, stride in pairs if stride > 0)
            corner = array[tuple(slice(n - 1, n) if stride < 0 else slice(0, 1)
                                 for n, stride in pairs)]
            self.flat = as_strided(corner, shape=((high - low) // itemsize + 1,),
                                   strides=(itemsize,), writeable=False)
            self.base = -low // itemsize
            self.coefficients = [(label, stride // itemsize) for label, stride in strides.items()]
        # else (a field of a structured array, strides not in whole items): fancy indexing.

    def read(self, columns: dict[str, Any]) -> Any:
        if self.is_constant:
            return self.constant
        if self.flat is None:
            return self.array[tuple(0 if label is None else columns[label] for label in self.axes)]
        (label, coefficient), *rest = self.coefficients
        offset = columns[label] * coefficient
        for label, coefficient in rest:
            offset += columns[label] * coefficient
        if self.base:
            offset += self.base
        return self.flat[offset]


class Trace:
    """Every step of an einsum on given operands; ``len(trace) == plan.n_steps``.

    The operands are kept as given (``numpy.asarray``: views, never copies, so a broadcast
    view of 10^8 elements costs nothing) and read a chunk of steps at a time; their values
    are cast to the trace's ``dtype`` as they are read. So leave them unchanged while the
    trace is in use: ``result`` was computed when the trace was made, the steps are read
    when asked for.

    Steps are indexed as a Python sequence: ``t[k]`` (negative ``k`` from the end) is a
    :class:`Step`, ``t[a:b:c]`` a list of them.

    Args:
        loop_plan: the plan (its shapes must be the operands' shapes).
        operands: the operands.
        dtype: as :func:`einviz.einsum`'s ``dtype=``.
        casting: as :func:`einviz.einsum`'s ``casting=``.
        out: as :func:`einviz.einsum`'s ``out=``: the result is written into it, and the
            steps compute in a dtype that includes its dtype, as numpy's einsum does.

    Attributes:
        dtype: the dtype every factor, product and running sum is in: the dtype
            :func:`einviz.einsum` multiplies and adds in for the same call (see
            :func:`einviz.reference.compute_dtype`; float32 for a float16 result, as in
            numpy's loops).

    Raises:
        ShapeError: the operands' shapes are not the planned ones.
        ArgumentTypeError: ``loop_plan`` is not a :class:`~einviz.LoopPlan`, or a dtype or
            cast einsum would refuse.

    >>> import numpy as np
    >>> t = trace("ij->i", np.array([[1, 2], [3, 4]]))
    >>> len(t), t.steps_per_cell
    (4, 2)
    >>> [(s.out_index, int(s.product), int(s.running_sum)) for s in t]
    [((0,), 1, 1), ((0,), 2, 3), ((1,), 3, 3), ((1,), 4, 7)]
    >>> [s.number for s in t[::-2]]
    [3, 1]
    """

    def __init__(
        self,
        loop_plan: LoopPlan,
        operands: tuple[Any, ...] | list[Any],
        *,
        dtype: Any = None,
        casting: str = "safe",
        out: np.ndarray | None = None,
    ) -> None:
        if not isinstance(loop_plan, LoopPlan):
            raise ArgumentTypeError(
                f"loop_plan must be a LoopPlan, not {type(loop_plan).__name__} ({loop_plan!r})",
                hint="make one with einviz.plan(), or call einviz.trace(subscripts, *operands)",
            )
        arrays = [as_operand(a, k) for k, a in enumerate(operands)]
        loop_plan.check_operands([a.shape for a in arrays])
        loop_plan.check_limits()
        self.plan = loop_plan
        # The steps compute in the dtype einsum computes in: numpy's rule with dtype= and
        # out=, which numpy ignores for a view (one operand, nothing summed).
        view = is_view(loop_plan, out)
        self.dtype = working_dtype(compute_dtype(arrays, None if view else dtype, casting, out))
        self.operands = tuple(arrays)
        self.result = np.asarray(run(loop_plan, arrays, out=out, dtype=dtype, casting=casting))
        sizes = [loop_plan.sizes[label] for label in loop_plan.labels]
        # Steps are a mixed-radix number over the loop labels, innermost fastest.
        self._radix = [math.prod(sizes[k + 1 :]) for k in range(len(sizes))]
        self._sizes = sizes
        self.steps_per_cell = math.prod(loop_plan.sizes[label] for label in loop_plan.summed)
        self.n_cells = math.prod(loop_plan.out_shape)
        # Each operand's axis reads its label's value, or 0 where it is broadcast (size 1):
        # the label of every axis, or None for an axis read at 0.
        self._axes = [
            tuple(None if array.shape[axis] == 1 else label
                  for axis, label in enumerate(loop_plan.terms[k]))
            for k, array in enumerate(arrays)
        ]
        # Where each operand's index columns come from: rows of the label values, the last
        # row (zeros) for an axis read at 0.
        row_of = {label: k for k, label in enumerate(loop_plan.labels)}
        self._rows = [[len(sizes) if label is None else row_of[label] for label in axes]
                      for axes in self._axes]
        self._out_rows = [row_of[label] for label in loop_plan.output]
        self._readers = [_Reader(array, axes, self.dtype) for array, axes in zip(arrays, self._axes)]

    def __len__(self) -> int:
        return self.plan.n_steps

    def __repr__(self) -> str:
        return (f"<Trace {self.plan.equation}: {len(self):,} steps over {self.n_cells:,} "
                f"output cells, {self.steps_per_cell:,} steps each>")

    #: How many steps a trace's notebook display shows.
    _HTML_ROWS = 12

    def _repr_html_(self) -> str:
        """The first steps as a table, for a notebook (every text escaped)."""
        from ._reprs import table_html

        labels = self.plan.labels
        names = self.plan.names
        rows = [[step.number, *(step.labels[label] for label in labels),
                 "out" + (str(list(step.out_index)) if step.out_index else ""),
                 " × ".join(f"{name}{list(index) if index else ''}={value}"
                            for name, index, value in zip(names, step.indices, step.factors)),
                 step.product, step.running_sum]
                for step in self[: self._HTML_ROWS]]
        shown = min(len(self), self._HTML_ROWS)
        notes = [f"the first {shown:,} of {len(self):,} steps; trace[k] is step k, "
                 "trace.chunks() reads them all as columns"] if len(self) > shown else []
        caption = repr(self).strip("<>")
        return table_html("einviz-trace", caption,
                          ["step", *labels, "cell", "factors", "product", "running sum"],
                          rows, notes, numeric=[0, *range(1, len(labels) + 1), len(labels) + 3,
                                                len(labels) + 4])

    # -- columns ---------------------------------------------------------------------------
    def chunks(
        self, size: int = CHUNK_STEPS, start: int | None = 0, stop: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """The steps ``[start, stop)`` as columns, ``size`` steps at a time.

        Each chunk is a dict of columns, one row per step, the same columns as the
        :class:`Step` records:

        - ``"step"``: the step numbers, shape ``(n,)``;
        - one key per loop label (``"i"``, ``"j"``, …): its values, ``(n,)``;
        - ``"indices"``: a tuple with one ``(n, ndim)`` int array per operand, the index read
          in it (a broadcast size-1 axis reads 0);
        - ``"factors"``: ``(n, operands)``, the values read, in the trace's ``dtype``;
        - ``"product"``: ``(n,)``;
        - ``"out_index"``: ``(n, out_ndim)``, the output cell (``(n, 0)`` for a scalar output);
        - ``"cell"``: ``(n,)``, that cell's flat row-major number;
        - ``"running_sum"``: ``(n,)``, the cell's sum after the step.

        ``start`` and ``stop`` are read as in a slice (negative from the end; past the end
        stops there). Memory is bounded by ``size``, whatever the operands' size.

        Raises:
            EinvizError: ``size`` is less than 1.
            ArgumentTypeError: ``size``, ``start`` or ``stop`` is not an integer.

        >>> import numpy as np
        >>> t = trace("i,i->", np.array([1, 2, 3]), np.array([4, 5, 6]))
        >>> columns = next(t.chunks())
        >>> columns["running_sum"]
        array([ 4, 14, 32])
        >>> columns["indices"][0][:, 0], columns["out_index"].shape
        (array([0, 1, 2]), (3, 0))
        """
        size = _integer(size, "chunk size must be an integer")
        if size < 1:
            raise EinvizError(
                f"chunk size must be at least 1, not {size}",
                hint=f"size is the number of steps in each chunk (default {CHUNK_STEPS:,})",
            )
        return self._chunks(size, self._range(start, stop))

    def _range(self, start: Any, stop: Any) -> range:
        """The steps ``[start:stop]`` of the trace, as a slice would read them."""
        return range(len(self))[slice(_bound(start, "start"), _bound(stop, "stop"))]

    def _chunks(self, size: int, steps: range) -> Iterator[dict[str, Any]]:
        start, stop = steps.start, steps.stop
        if start >= stop:
            return
        per_cell = self.steps_per_cell
        # A chunk that starts inside a cell needs that cell's sum so far: walk from its start.
        position = start - start % per_cell
        carry = np.zeros((), dtype=self.dtype)[()]
        while position < start:
            end = min(start, position + size)
            with self._quiet():
                carry = self._running(self._products(position, end)[3], position, carry)[-1]
            position = end
        while position < stop:
            end = min(stop, position + size)
            columns = self._columns(position, end, carry)
            if end % per_cell:
                carry = columns["running_sum"][-1]
            yield columns
            position = end

    def _products(
        self, first: int, end: int
    ) -> tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray]:
        """Steps ``[first, end)``: their columns so far (step, labels), the label values as
        rows, the factors and the products."""
        step = np.arange(first, end, dtype=np.int64)
        # One row per loop label, then a row of zeros (for axes read at 0): an operand's
        # index columns are a few of these rows, taken at once.
        values = np.empty((len(self._sizes) + 1, len(step)), dtype=np.int64)
        values[-1] = 0
        for k, (radix, size) in enumerate(zip(self._radix, self._sizes)):
            np.floor_divide(step, radix, out=values[k])
            if k:  # the outermost label needs no wrap: step < n_steps
                np.remainder(values[k], size, out=values[k])
        columns: dict[str, Any] = {"step": step}
        columns.update(zip(self.plan.labels, values))
        factors = np.empty((len(step), len(self.operands)), dtype=self.dtype)
        for k, reader in enumerate(self._readers):
            factors[:, k] = reader.read(columns)
        product = factors[:, 0].copy()
        for k in range(1, len(self.operands)):
            product = np.multiply(product, factors[:, k], dtype=self.dtype)
        return columns, values, factors, product

    def _quiet(self) -> contextlib.AbstractContextManager[Any]:
        """As numpy.einsum, silent about inf * 0 and overflow (objects' own errors still rise)."""
        return np.errstate(all="ignore") if self.dtype != object else contextlib.nullcontext()

    def _columns(self, first: int, end: int, carry: Any) -> dict[str, Any]:
        with self._quiet():
            return self._columns_of(first, end, carry)

    def _columns_of(self, first: int, end: int, carry: Any) -> dict[str, Any]:
        columns, values, factors, product = self._products(first, end)
        # (n, ndim) views of (ndim, n) blocks: each index column is contiguous and made by
        # one block copy (none for the output's, whose labels come first in loop order).
        columns["indices"] = tuple(self._take_rows(values, rows) for rows in self._rows)
        columns["factors"] = factors
        columns["product"] = product
        columns["out_index"] = self._take_rows(values, self._out_rows)
        columns["cell"] = columns["step"] // self.steps_per_cell
        columns["running_sum"] = self._running(product, first, carry)
        return columns

    @staticmethod
    def _take_rows(values: np.ndarray, rows: list[int]) -> np.ndarray:
        if rows == list(range(len(rows))):
            return values[: len(rows)].T
        return values.take(rows, axis=0).T

    def _running(self, product: np.ndarray, first: int, carry: Any) -> np.ndarray:
        """Sums of each cell's products so far, accumulated in loop order (as the loop code)."""
        per_cell = self.steps_per_cell
        running = np.empty_like(product)
        n = len(product)
        done = 0
        if first % per_cell:
            head = min(n, per_cell - first % per_cell)
            seeded = np.concatenate([np.asarray([carry], dtype=self.dtype), product[:head]])
            running[:head] = np.add.accumulate(seeded, dtype=self.dtype)[1:]
            done = head
        whole = (n - done) // per_cell
        if whole:
            block = product[done : done + whole * per_cell].reshape(whole, per_cell)
            running[done : done + whole * per_cell] = np.add.accumulate(
                block, axis=1, dtype=self.dtype).reshape(-1)
            done += whole * per_cell
        if done < n:
            running[done:] = np.add.accumulate(product[done:], dtype=self.dtype)
        return running

    # -- records ---------------------------------------------------------------------------
    def steps(self, start: int | None = 0, stop: int | None = None) -> Iterator[Step]:
        """The steps ``[start, stop)`` as :class:`Step` records, read as a slice would
        (``t.steps(-3)`` is the last three steps).

        Raises:
            ArgumentTypeError: ``start`` or ``stop`` is not an integer (or None).

        >>> import numpy as np
        >>> [s.number for s in trace("ij->i", np.ones((2, 3))).steps(-2)]
        [4, 5]
        """
        return self._steps(self._range(start, stop))

    def _steps(self, steps: range) -> Iterator[Step]:
        for columns in self._chunks(CHUNK_STEPS, steps):
            yield from self._records(columns, range(len(columns["step"])))

    def __iter__(self) -> Iterator[Step]:
        return self._steps(range(len(self)))

    @overload
    def __getitem__(self, key: int) -> Step: ...

    @overload
    def __getitem__(self, key: slice) -> list[Step]: ...

    def __getitem__(self, key: int | slice) -> Step | list[Step]:
        if isinstance(key, slice):
            return self._slice(key)
        number = self._step_number(key, "step numbers must be integers or slices")
        return next(self._steps(range(number, number + 1)))

    def _step_number(self, value: Any, what: str) -> int:
        """A step number in ``[0, len)``, a negative one counted from the end."""
        number = _integer(value, what)
        n = len(self)
        if not -n <= number < n:
            raise StepIndexError(
                f"step {number} is out of range: the trace has {n:,} steps",
                hint=f"steps are numbered 0 to {n - 1:,}, or {-n:,} to -1 from the end" if n
                else "this trace has no steps: a label has size 0",
            )
        return number % n

    def _slice(self, key: slice) -> list[Step]:
        try:
            wanted = range(len(self))[key]
        except TypeError:
            raise ArgumentTypeError(
                f"slice bounds must be integers or None, not {key!r}",
                hint="Python's rule for slices: ints (or numpy integers) or None",
            ) from None
        except ValueError:
            raise EinvizError(
                f"slice step cannot be zero: {key!r}",
                hint="a step of 1 takes every step; -1 takes them backwards",
            ) from None
        if not wanted:
            return []
        stride = abs(wanted.step)
        first, last = min(wanted[0], wanted[-1]), max(wanted[0], wanted[-1])
        records: list[Step] = []
        for columns in self._chunks(CHUNK_STEPS, range(first, last + 1)):
            offset = (first - int(columns["step"][0])) % stride
            records.extend(self._records(columns, range(offset, len(columns["step"]), stride)))
        return records if wanted.step > 0 else records[::-1]

    def _records(self, columns: dict[str, Any], rows: range) -> Iterator[Step]:
        labels = self.plan.labels
        values = [columns[label][rows.start : rows.stop : rows.step].tolist() for label in labels]
        indices = [a[rows.start : rows.stop : rows.step].tolist() for a in columns["indices"]]
        out_index = columns["out_index"][rows.start : rows.stop : rows.step].tolist()
        for j, row in enumerate(rows):
            yield Step(
                number=int(columns["step"][row]),
                labels={label: column[j] for label, column in zip(labels, values)},
                indices=tuple(tuple(operand[j]) for operand in indices),
                factors=tuple(columns["factors"][row]),
                product=columns["product"][row],
                out_index=tuple(out_index[j]),
                running_sum=columns["running_sum"][row],
            )

    # -- cells -----------------------------------------------------------------------------
    def cell_steps(self, out_index: tuple[int, ...] | int) -> range:
        """The steps that add into one output cell (a negative index counts from the end,
        as in numpy; one integer will do for a 1-d output).

        Raises:
            StepIndexError: an index is out of range, or their number is not the output's.
            ArgumentTypeError: the index is not a tuple of integers.

        >>> import numpy as np
        >>> trace("ij->i", np.ones((2, 3))).cell_steps((-1,))
        range(3, 6)
        """
        flat = self._flat_cell(out_index)
        return range(flat * self.steps_per_cell, (flat + 1) * self.steps_per_cell)

    def _flat_cell(self, out_index: Any) -> int:
        shape = self.plan.out_shape
        try:
            if isinstance(out_index, (tuple, list)) or (
                    isinstance(out_index, np.ndarray) and out_index.ndim == 1):
                index = tuple(operator.index(i) for i in out_index)
            else:
                index = (operator.index(out_index),)
        except TypeError:
            raise ArgumentTypeError(
                f"a cell index must be a tuple of integers, not {out_index!r}",
                hint=f"the output has shape {shape}: give one integer per axis",
            ) from None
        subscripts = str(self.plan.equation)
        carets = [i for i in self.plan.equation.output_positions if i >= 0]
        if len(index) != len(shape):
            raise StepIndexError(
                f"cell {index} has {len(index)} {'index' if len(index) == 1 else 'indices'} but "
                f"the output has {len(shape)} {'axis' if len(shape) == 1 else 'axes'} "
                f"(shape {shape})",
                subscripts=subscripts, positions=carets,
                hint="give one index per output axis; () for a scalar output",
            )
        bad = [(axis, i, n) for axis, (i, n) in enumerate(zip(index, shape)) if not -n <= i < n]
        if bad:
            raise StepIndexError(
                f"cell {index} is out of range: the output has shape {shape}",
                subscripts=subscripts, positions=carets,
                details=[f"axis {axis}: index {i}, size {n}" for axis, i, n in bad],
                hint="indices on an axis of size n run from 0 to n-1, or -n to -1 from the end",
            )
        flat = 0
        for i, n in zip(index, shape):
            flat = flat * n + i % n
        return flat

    def cell_of_step(self, number: int) -> tuple[int, ...]:
        """The output cell a step adds into (a negative step number counts from the end).

        Raises:
            StepIndexError: the step is out of range.
            ArgumentTypeError: the step number is not an integer.

        >>> import numpy as np
        >>> trace("ij->i", np.ones((2, 3))).cell_of_step(4)
        (1,)
        """
        number = self._step_number(number, "a step number must be an integer")
        flat = number // self.steps_per_cell
        shape = self.plan.out_shape
        return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()

    def cells(self) -> Iterator[Cell]:
        """Every output cell, row-major, with its steps and final value (grouped by cell)."""
        shape = self.plan.out_shape
        for flat in range(self.n_cells):
            index = tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()
            yield Cell(index, range(flat * self.steps_per_cell, (flat + 1) * self.steps_per_cell),
                       self.result[index])


def trace(
    subscripts: Any,
    *operands: Any,
    names: list[str] | None = None,
    dtype: Any = None,
    casting: str = "safe",
    out: np.ndarray | None = None,
) -> Trace:
    """Trace every multiply-add step of an einsum.

    Args:
        subscripts: the subscripts, an :class:`~einviz.Equation`, a
            :class:`~einviz.LoopPlan` (its shapes must be the operands': it is not bound
            again), or the first operand in the sublist form.
        *operands: the operands.
        names: the operands' names (default: :func:`einviz.planning.default_names`, or the
            plan's names).
        dtype: as :func:`einviz.einsum`'s ``dtype=``.
        casting: as :func:`einviz.einsum`'s ``casting=``.
        out: as :func:`einviz.einsum`'s ``out=`` (the steps compute in numpy's dtype for it).

    Returns:
        The :class:`Trace`; ``len(trace)`` is the plan's ``n_steps``.

    Raises:
        ShapeError: with a plan, operands whose shapes are not the plan's.

    >>> import numpy as np
    >>> t = trace("ij,jk->ik", np.eye(2), np.array([[1, 2], [3, 4]]))
    >>> t[1]
    Step(number=1, labels={'i': 0, 'k': 0, 'j': 1}, indices=((0, 1), (1, 0)), factors=(np.float64(0.0), np.float64(3.0)), product=np.float64(0.0), out_index=(0, 0), running_sum=np.float64(1.0))
    >>> p = plan("i,i->", shapes=[(3,), (3,)])
    >>> int(trace(p, np.arange(3), np.arange(3)).result)
    5
    """
    keywords = {"dtype": dtype, "casting": casting, "out": out}
    if isinstance(subscripts, LoopPlan):
        loop_plan = subscripts
        if names is not None:
            loop_plan = replace(loop_plan, names=_operand_names(
                names, loop_plan.n_operands, loop_plan.equation))
        return Trace(loop_plan, operands, **keywords)
    equation, operands_list = parse_call((subscripts, *operands))  # either form of call
    return Trace(plan(equation, *operands_list, names=names), tuple(operands_list), **keywords)
