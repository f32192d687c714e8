"""Trace every multiply-add step of an einsum: the arithmetic the pictures show.

Step ``s`` is one pass through the innermost line of the loop code,
``out[i,k] += A[i,j] * B[j,k]``. Steps are numbered in loop order: output cells row-major,
summed labels innermost, so the steps of one output cell are contiguous: cell ``c`` owns
steps ``[c*S, (c+1)*S)`` where ``S`` is the product of the summed labels' sizes.

The columns (label values, factors, product, output cell, running sum) are made vectorised,
a bounded chunk at a time; :class:`Step` records are a convenience view of those columns.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from .errors import ShapeError
from .plan import LoopPlan, _result_dtype, plan

__all__ = ["Cell", "Step", "Trace", "trace"]

#: Default number of steps per chunk of columns.
CHUNK_STEPS = 1 << 16


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


class Trace:
    """Every step of an einsum on given operands; ``len(trace) == plan.n_steps``.

    Args:
        loop_plan: the plan (its shapes must be the operands' shapes).
        operands: the operands.

    >>> import numpy as np
    >>> t = trace("ij->i", np.array([[1, 2], [3, 4]]))
    >>> len(t), t.steps_per_cell
    (4, 2)
    >>> [(s.out_index, int(s.product), int(s.running_sum)) for s in t]
    [((0,), 1, 1), ((0,), 2, 3), ((1,), 3, 3), ((1,), 4, 7)]
    """

    def __init__(self, loop_plan: LoopPlan, operands: tuple[Any, ...] | list[Any]) -> None:
        arrays = [np.asarray(a) for a in operands]
        if tuple(a.shape for a in arrays) != loop_plan.shapes:
            raise ShapeError(
                "the operands' shapes differ from the planned shapes",
                subscripts=str(loop_plan.equation),
                details=[f"planned: {loop_plan.shapes}",
                         f"given:   {tuple(a.shape for a in arrays)}"],
                hint="make a new plan for these operands",
            )
        loop_plan.check_limits()
        self.plan = loop_plan
        self.dtype = _result_dtype(arrays, None, "safe")
        self.operands = tuple(np.array(a, dtype=self.dtype, order="C") for a in arrays)
        self.result = np.asarray(loop_plan.einsum(*self.operands))
        sizes = [loop_plan.sizes[label] for label in loop_plan.labels]
        # Steps are a mixed-radix number over the loop labels, innermost fastest.
        self._radix = [math.prod(sizes[k + 1 :]) for k in range(len(sizes))]
        self._sizes = sizes
        self.steps_per_cell = math.prod(loop_plan.sizes[label] for label in loop_plan.summed)
        self.n_cells = math.prod(loop_plan.out_shape)
        # Each operand's flat element offset is a sum over loop labels of value * coefficient.
        self._coefficients = [self._operand_coefficients(k) for k in range(len(arrays))]

    def _operand_coefficients(self, k: int) -> dict[str, int]:
        array = self.operands[k]
        element_strides = [s // array.itemsize for s in array.strides] if array.itemsize else []
        coefficients: dict[str, int] = {}
        for axis, label in enumerate(self.plan.terms[k]):
            if not self.plan.is_broadcast(k, axis) and array.shape[axis] > 1:
                coefficients[label] = coefficients.get(label, 0) + element_strides[axis]
        return coefficients

    def __len__(self) -> int:
        return self.plan.n_steps

    def __repr__(self) -> str:
        return (f"<Trace {self.plan.equation}: {len(self):,} steps over {self.n_cells:,} "
                f"output cells, {self.steps_per_cell:,} steps each>")

    # -- columns ---------------------------------------------------------------------------
    def chunks(
        self, size: int = CHUNK_STEPS, start: int = 0, stop: int | None = None
    ) -> Iterator[dict[str, np.ndarray]]:
        """The steps ``[start, stop)`` as columns, ``size`` steps at a time.

        Each chunk is a dict of equal-length arrays: ``"step"``; one entry per label (its
        value); ``"factors"`` (steps × operands); ``"product"``; ``"cell"`` (the output
        cell's flat row-major index); ``"running_sum"``. Memory is bounded by ``size``.

        >>> import numpy as np
        >>> t = trace("i,i->", np.array([1, 2, 3]), np.array([4, 5, 6]))
        >>> next(t.chunks())["running_sum"]
        array([ 4, 14, 32])
        """
        if size < 1:
            raise ValueError("size must be at least 1")
        stop = len(self) if stop is None else min(stop, len(self))
        start = max(0, start)
        if start >= stop:
            return
        per_cell = self.steps_per_cell
        # A chunk that starts inside a cell needs that cell's sum so far: walk from its start.
        position = start - start % per_cell
        carry = np.zeros((), dtype=self.dtype)[()]
        while position < stop:
            end = min(stop, position + size)
            if position < start:
                end = min(end, start)
            columns = self._columns(position, end, carry)
            if end % per_cell:
                carry = columns["running_sum"][-1]
            if position >= start:
                yield columns
            position = end

    def _columns(self, first: int, end: int, carry: Any) -> dict[str, np.ndarray]:
        step = np.arange(first, end, dtype=np.int64)
        columns: dict[str, np.ndarray] = {"step": step}
        for label, radix, size in zip(self.plan.labels, self._radix, self._sizes):
            columns[label] = (step // radix) % size
        factors = np.empty((len(step), len(self.operands)), dtype=self.dtype)
        for k, (array, coefficients) in enumerate(zip(self.operands, self._coefficients)):
            offset = np.zeros(len(step), dtype=np.int64)
            for label, coefficient in coefficients.items():
                offset += columns[label] * coefficient
            factors[:, k] = array.reshape(-1)[offset] if array.size else 0
        product = factors[:, 0].copy()
        for k in range(1, len(self.operands)):
            product = np.multiply(product, factors[:, k], dtype=self.dtype)
        columns["factors"] = factors
        columns["product"] = product
        columns["cell"] = step // self.steps_per_cell
        columns["running_sum"] = self._running(product, first, carry)
        return columns

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
    def steps(self, start: int = 0, stop: int | None = None) -> Iterator[Step]:
        """The steps ``[start, stop)`` as :class:`Step` records."""
        for columns in self.chunks(start=start, stop=stop):
            yield from self._records(columns)

    def __iter__(self) -> Iterator[Step]:
        return self.steps()

    def __getitem__(self, number: int) -> Step:
        if number < 0:
            number += len(self)
        if not 0 <= number < len(self):
            raise IndexError(f"step {number} is out of range for a trace of {len(self)} steps")
        return next(self.steps(number, number + 1))

    def _records(self, columns: dict[str, np.ndarray]) -> Iterator[Step]:
        p = self.plan
        labels = p.labels
        for row in range(len(columns["step"])):
            values = {label: int(columns[label][row]) for label in labels}
            indices = tuple(
                tuple(0 if p.is_broadcast(k, axis) else values[label]
                      for axis, label in enumerate(term))
                for k, term in enumerate(p.terms)
            )
            yield Step(
                number=int(columns["step"][row]),
                labels=values,
                indices=indices,
                factors=tuple(columns["factors"][row]),
                product=columns["product"][row],
                out_index=tuple(values[label] for label in p.output),
                running_sum=columns["running_sum"][row],
            )

    # -- cells -----------------------------------------------------------------------------
    def cell_steps(self, out_index: tuple[int, ...]) -> range:
        """The steps that add into one output cell."""
        flat = int(np.ravel_multi_index(out_index, self.plan.out_shape)) if out_index else 0
        return range(flat * self.steps_per_cell, (flat + 1) * self.steps_per_cell)

    def cell_of_step(self, number: int) -> tuple[int, ...]:
        """The output cell a step adds into."""
        flat = number // self.steps_per_cell
        return tuple(int(i) for i in np.unravel_index(flat, self.plan.out_shape)) if self.plan.out_shape else ()

    def cells(self) -> Iterator[Cell]:
        """Every output cell, row-major, with its steps and final value (grouped by cell)."""
        shape = self.plan.out_shape
        for flat in range(self.n_cells):
            index = tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()
            yield Cell(index, range(flat * self.steps_per_cell, (flat + 1) * self.steps_per_cell),
                       self.result[index])


def trace(subscripts: Any, *operands: Any, names: list[str] | None = None) -> Trace:
    """Trace every multiply-add step of an einsum.

    Args:
        subscripts: the subscripts (or the first operand, in the sublist form).
        *operands: the operands.
        names: the operands' names (default ``A``, ``B``, …).

    Returns:
        The :class:`Trace`; ``len(trace)`` is the plan's ``n_steps``.

    >>> import numpy as np
    >>> t = trace("ij,jk->ik", np.eye(2), np.array([[1, 2], [3, 4]]))
    >>> t[1]
    Step(number=1, labels={'i': 0, 'k': 0, 'j': 1}, indices=((0, 1), (1, 0)), factors=(np.float64(0.0), np.float64(3.0)), product=np.float64(0.0), out_index=(0, 0), running_sum=np.float64(1.0))
    """
    loop_plan = plan(subscripts, *operands, names=names)
    if not isinstance(subscripts, str):
        from .subscripts import parse_sublists

        _, operands_list = parse_sublists((subscripts,) + operands)
        operands = tuple(operands_list)
    return Trace(loop_plan, operands)
