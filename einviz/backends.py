"""Run one einsum in numpy, opt_einsum, torch and jax, and compare each with the reference.

:func:`check` runs the expression in every installed backend (or those named), compares each
result with einviz's reference einsum with a tolerance that follows the dtypes compared, and
returns a :class:`CheckReport` that prints as a table::

    print(check("ij,jk->ik", A, B, warmup=True))   # A: int64 (2, 3), B: float64 (3, 4)
    check 'ij,jk->ik'   A (2, 3) int64   B (3, 4) float64
    reference  einviz 0.1.0   out (2, 4) float64   228.5 µs
    backend     version     status       dtype    max abs error  time      note
    numpy       2.4.6       ok           float64  0              5.7 µs
    opt_einsum  3.4.0       ok           float64  8.9e-16        73.2 µs
    torch       2.13.0+cpu  unsupported  -        -              -         torch.einsum needs all op…
    jax         0.10.2      ok           float32  3.5e-07        514.1 µs  jax returned float32 (r…
    ok: every installed backend agrees with the reference

torch and jax are imported here and only here, and only when a check asks for them: the
registry below names each backend's module, and :func:`get_einsum` imports it on first use
(``sys.modules`` keeps it). A library that is not installed shows as a ``not installed`` row;
naming it explicitly raises :class:`BackendNotInstalledError` with the ``pip install`` to run.
Your own einsum joins the check with :func:`register_backend`.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

import numpy as np

from .errors import ArgumentTypeError, EinvizError, install_hint
from .planning import LoopPlan, plan
from .reference import run
from .subscripts import Equation, parse_call

__all__ = [
    "BackendNotInstalledError",
    "CheckReport",
    "CheckRow",
    "Status",
    "backend_names",
    "check",
    "get_einsum",
    "installed_backends",
    "register_backend",
    "unregister_backend",
]

#: What a row says about a backend. ``ok``: agrees with the reference; ``mismatch``: a
#: different result; ``error``: raised on valid input; ``not installed``: its library is
#: missing; ``unsupported``: it refuses this input for a documented reason (e.g. torch and mixed
#: dtypes); ``known difference``: a different result for a documented reason (integer overflow
#: wrapping in another dtype, booleans summed as integers, float overflow in one precision).
Status = Literal["ok", "mismatch", "error", "not installed", "unsupported", "known difference"]

#: The statuses that make :attr:`CheckReport.ok` false.
_FAILING: tuple[Status, ...] = ("mismatch", "error")


class BackendNotInstalledError(EinvizError, ImportError):
    """A backend was asked for by name, but its library is not installed.

    The message names the ``pip install`` that adds it; the ``ImportError`` is chained.
    """


# --------------------------------------------------------------------------------------------
# Backends
# --------------------------------------------------------------------------------------------


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    line = text.splitlines()[0] if text else ""
    return f"{type(error).__name__}: {line}" if line else type(error).__name__


def _dtype_list(arrays: Sequence[np.ndarray]) -> str:
    return ", ".join(dict.fromkeys(str(a.dtype) for a in arrays))


class _Backend:
    """How :func:`check` runs einsum in one library; subclasses name the library."""

    name: str = ""
    #: Whether the result must also have the reference's dtype (numpy: the specification).
    exact_dtype: bool = False
    #: Whether it contracts two operands at a time, each intermediate in the dtype of its two
    #: operands (opt_einsum, torch), where numpy computes all in the operands' common dtype.
    pairwise: bool = False

    def installed(self) -> bool:
        return True

    def install_hint(self) -> str:
        return ""

    def version(self) -> str:
        return ""

    def einsum(self) -> Callable[..., Any]:
        raise NotImplementedError

    def refuses(self, arrays: Sequence[np.ndarray]) -> str | None:
        """A known difference found before running: why the backend cannot take these operands."""
        return None

    def prepare(self, subscripts: str, arrays: Sequence[np.ndarray]) -> Callable[[], Any]:
        """Convert the operands (not timed) and return the call to time; it waits for the result."""
        function = self.einsum()
        return lambda: function(subscripts, *arrays)

    def to_numpy(self, result: Any) -> np.ndarray:
        return np.asarray(result)

    def explain_error(self, error: Exception, arrays: Sequence[np.ndarray]) -> str | None:
        """A known difference behind an error the backend raised, or ``None`` (a real error)."""
        if isinstance(error, NotImplementedError):
            return f"{self.name} does not implement this einsum for {_dtype_list(arrays)} ({error})"
        return None

    def dtype_note(self, dtype: np.dtype, reference: np.dtype, operands: Sequence[np.dtype]) -> str:
        """What to say when the result's dtype differs from the reference's."""
        note = f"{self.name} returned {dtype} (reference {reference})"
        if len(operands) > 1:
            note += f"; {self.name} promotes mixed dtypes by its own rules"
        return note


class _LibraryBackend(_Backend):
    """A backend whose einsum lives in an optional library, imported only when asked."""

    #: The module that holds ``einsum`` (its top-level package is what gets installed).
    module: str = ""
    #: The function's name in that module.
    function: str = "einsum"
    #: What to run to install the library.
    install: str = ""

    @property
    def package(self) -> str:
        return self.module.partition(".")[0]

    def installed(self) -> bool:
        # Without importing: find_spec of a top-level name reads only the path. A module set to
        # None in sys.modules is the standard way to block an import, so it counts as missing.
        if self.package in sys.modules:
            return sys.modules[self.package] is not None
        try:
            return importlib.util.find_spec(self.package) is not None
        except (ImportError, ValueError):
            return False

    def install_hint(self) -> str:
        return self.install

    def load(self) -> ModuleType:
        """Import the backend's module (sys.modules keeps it: the next call is a dict lookup)."""
        try:
            importlib.import_module(self.package)
            return importlib.import_module(self.module)
        except ImportError as e:
            raise BackendNotInstalledError(
                f"backend {self.name!r} needs {self.package}, which is not installed",
                details=[f"import {self.module}: {e}"],
                hint=self.install,
            ) from e

    def einsum(self) -> Callable[..., Any]:
        function: Callable[..., Any] = getattr(self.load(), self.function)
        return function

    def version(self) -> str:
        self.load()
        return str(getattr(sys.modules[self.package], "__version__", ""))


class _NumpyBackend(_LibraryBackend):
    name = "numpy"
    module = "numpy"
    install = "pip install numpy"
    exact_dtype = True


class _OptEinsumBackend(_LibraryBackend):
    name = "opt_einsum"
    module = "opt_einsum"
    function = "contract"
    install = "pip install opt_einsum"
    pairwise = True


#: The numpy dtypes torch and jax have arrays for (torch.from_numpy's own list).
_TENSOR_DTYPES = frozenset(
    np.dtype(d) for d in ("bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16",
                          "int32", "int64", "float16", "float32", "float64", "complex64",
                          "complex128")
)


def _without_tensors(arrays: Sequence[np.ndarray]) -> str:
    """The operands' dtypes that torch and jax have no arrays for (object, str, longdouble…)."""
    return _dtype_list([a for a in arrays if a.dtype.newbyteorder("=") not in _TENSOR_DTYPES])


def _native(array: np.ndarray) -> np.ndarray:
    """The same values, C-contiguous in native byte order (what a tensor library can wrap)."""
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    # Not np.ascontiguousarray: it makes a 0-d array 1-d. A reversed view of one element is
    # "contiguous" to numpy, but torch refuses its negative stride.
    if array.flags.c_contiguous and all(stride >= 0 for stride in array.strides):
        return array
    return array.copy(order="C")


class _TorchBackend(_LibraryBackend):
    name = "torch"
    module = "torch"
    install = install_hint("torch")
    pairwise = True

    def refuses(self, arrays: Sequence[np.ndarray]) -> str | None:
        missing = _without_tensors(arrays)
        return f"torch has no tensors of dtype {missing}" if missing else None

    def prepare(self, subscripts: str, arrays: Sequence[np.ndarray]) -> Callable[[], Any]:
        torch = self.load()
        tensors = [torch.from_numpy(_native(a)) for a in arrays]
        return lambda: torch.einsum(subscripts, *tensors)

    def to_numpy(self, result: Any) -> np.ndarray:
        try:
            return np.asarray(result.numpy(force=True))
        except TypeError:  # torch before 1.13 has no force=
            return np.asarray(result.detach().cpu().resolve_conj().numpy())

    def explain_error(self, error: Exception, arrays: Sequence[np.ndarray]) -> str | None:
        dtypes = list(dict.fromkeys(a.dtype for a in arrays))
        if isinstance(error, RuntimeError) and re.search(r"scalar type|dtype|[Pp]romot", str(error)):
            if len(dtypes) > 1:
                return (f"torch.einsum needs all operands in one dtype (given "
                        f"{_dtype_list(arrays)}); numpy promotes them to {np.result_type(*dtypes)}")
            if dtypes[0].kind in "iu" and dtypes[0].itemsize < 8:
                return (f"torch sums {dtypes[0]} into int64 inside einsum, then refuses to multiply "
                        f"that with {dtypes[0]} (pytorch/pytorch#84530)")
        return super().explain_error(error, arrays)


#: The dtype jax uses for a 64-bit one when jax_enable_x64 is off.
_32_BITS = {np.dtype(wide): np.dtype(narrow) for wide, narrow in (
    ("int64", "int32"), ("uint64", "uint32"), ("float64", "float32"), ("complex128", "complex64"))}


class _JaxBackend(_LibraryBackend):
    name = "jax"
    module = "jax.numpy"
    install = install_hint("jax")

    def refuses(self, arrays: Sequence[np.ndarray]) -> str | None:
        missing = _without_tensors(arrays)
        return f"jax has no arrays of dtype {missing}" if missing else None

    def x64(self) -> bool:
        """Whether jax computes in 64 bits (``jax_enable_x64``)."""
        config = sys.modules["jax"].config
        try:
            return bool(config.read("jax_enable_x64"))
        except (AttributeError, KeyError):  # older jax: an attribute only
            return bool(getattr(config, "jax_enable_x64", False))

    def prepare(self, subscripts: str, arrays: Sequence[np.ndarray]) -> Callable[[], Any]:
        jnp = self.load()
        converted = [jnp.asarray(_native(a)) for a in arrays]
        # jax dispatches asynchronously: wait for the result, or the time is the dispatch only.
        return lambda: jnp.einsum(subscripts, *converted).block_until_ready()

    def explain_error(self, error: Exception, arrays: Sequence[np.ndarray]) -> str | None:
        dtypes = dict.fromkeys(a.dtype for a in arrays)
        if len(dtypes) > 1 and isinstance(error, TypeError) and "preferred_element_type" in str(error):
            # jax lowers a mixed-dtype contraction to dot_general with the promoted result type
            # (jax-ml/jax#16733), which refuses one narrower than an integer pair's own type.
            return (f"jax.numpy.einsum cannot mix these dtypes (given {_dtype_list(arrays)}): its "
                    "result type is narrower than one contraction's")
        return super().explain_error(error, arrays)

    def dtype_note(self, dtype: np.dtype, reference: np.dtype, operands: Sequence[np.dtype]) -> str:
        if _32_BITS.get(reference) == dtype and not self.x64():
            return (f"jax returned {dtype} (reference {reference}); jax_enable_x64 is off, so jax "
                    "computes in 32 bits")
        return super().dtype_note(dtype, reference, operands)


class _FunctionBackend(_Backend):
    """A backend registered with :func:`register_backend`: any ``einsum(subscripts, *arrays)``."""

    def __init__(self, name: str, function: Callable[..., Any], version: str) -> None:
        self.name = name
        self._function = function
        self._version = version

    def einsum(self) -> Callable[..., Any]:
        return self._function

    def version(self) -> str:
        return self._version


_REGISTRY: dict[str, _Backend] = {
    backend.name: backend
    for backend in (_NumpyBackend(), _OptEinsumBackend(), _TorchBackend(), _JaxBackend())
}


def backend_names() -> tuple[str, ...]:
    """The names of the registered backends, in the order :func:`check` runs them.

    >>> backend_names()[:4]
    ('numpy', 'opt_einsum', 'torch', 'jax')
    """
    return tuple(_REGISTRY)


def installed_backends() -> tuple[str, ...]:
    """The registered backends whose library is installed, found without importing any.

    >>> "numpy" in installed_backends()
    True
    """
    return tuple(name for name, backend in _REGISTRY.items() if backend.installed())


def _lookup(name: Any) -> _Backend:
    if isinstance(name, str) and name in _REGISTRY:
        return _REGISTRY[name]
    close = [known for known in _REGISTRY if isinstance(name, str) and name.lower() == known.lower()]
    raise EinvizError(
        f"unknown backend {name!r}",
        details=[f"backends: {', '.join(_REGISTRY)}"],
        hint=(f"did you mean {close[0]!r}?" if close else
              "add your own with einviz.backends.register_backend(name, einsum)"),
    )


def get_einsum(name: str) -> Callable[..., Any]:
    """The einsum function of a backend, importing its library on first use.

    Args:
        name: a backend name, e.g. ``"torch"`` (see :func:`backend_names`).

    Returns:
        The function :func:`check` calls: ``numpy.einsum``, ``opt_einsum.contract``,
        ``torch.einsum``, ``jax.numpy.einsum``, or the one registered under ``name``.

    Raises:
        EinvizError: ``name`` is not a registered backend (the message lists them).
        BackendNotInstalledError: the backend's library is not installed (the message says
            what to ``pip install``).

    >>> import numpy as np
    >>> get_einsum("numpy") is np.einsum
    True
    """
    return _lookup(name).einsum()


def register_backend(name: str, einsum: Callable[..., Any], *, version: str = "") -> None:
    """Add an einsum of your own to :func:`check`, after the built-in backends.

    Args:
        name: the name its row shows (not one already registered).
        einsum: called as ``einsum(subscripts, *operands)`` with numpy arrays and numpy's
            subscripts text; returns anything :func:`numpy.asarray` reads.
        version: the version its row shows.

    Raises:
        EinvizError: ``name`` is taken or not a non-empty string.
        ArgumentTypeError: ``einsum`` is not callable.

    >>> import numpy as np
    >>> register_backend("doubled", lambda s, *ops: 2 * np.einsum(s, *ops))
    >>> check("i->", np.ones(3), backends=["doubled"]).row("doubled").status
    'mismatch'
    >>> unregister_backend("doubled")
    """
    if not isinstance(name, str) or not name.strip():
        raise EinvizError(
            f"a backend name must be a non-empty string, not {name!r}",
            hint="e.g. register_backend('mylib', mylib.einsum)",
        )
    if name in _REGISTRY:
        raise EinvizError(
            f"backend {name!r} is already registered",
            details=[f"backends: {', '.join(_REGISTRY)}"],
            hint=f"choose another name, or unregister_backend({name!r}) first",
        )
    if not callable(einsum):
        raise ArgumentTypeError(
            f"einsum must be callable, not {type(einsum).__name__}",
            hint="pass a function called as einsum(subscripts, *operands)",
        )
    _REGISTRY[name] = _FunctionBackend(name, einsum, str(version))


def unregister_backend(name: str) -> None:
    """Remove a backend that :func:`register_backend` added.

    Raises:
        EinvizError: ``name`` is not registered, or is a built-in backend.

    >>> register_backend("mine", lambda s, *ops: 0)
    >>> unregister_backend("mine")
    >>> "mine" in backend_names()
    False
    """
    backend = _lookup(name)
    if not isinstance(backend, _FunctionBackend):
        raise EinvizError(
            f"backend {name!r} is built in and cannot be unregistered",
            hint="choose the backends of one check with check(..., backends=[...])",
        )
    del _REGISTRY[name]


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckRow:
    """What one backend did with the einsum.

    Attributes:
        backend: the backend's name.
        version: its library's version (``""`` when not known or not installed).
        status: see :data:`Status`.
        dtype: the dtype of its result (``None`` when it made none).
        max_abs_error: the largest absolute difference from the reference over the cells
            where both are finite (``inf`` where one overflowed; ``None``: no result).
        seconds: the time of one call, operands already converted to the library's arrays
            (``None``: no result).
        note: why a row is not plain ``ok``: the explanation of a known difference, the
            error's first line, or how the result was compared.
        error: the first line of the exception the backend raised, if it raised.

    >>> CheckRow("numpy", "2.4.6", "ok").ok
    True
    """

    backend: str
    version: str
    status: Status
    dtype: str | None = None
    max_abs_error: float | None = None
    seconds: float | None = None
    note: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether this row lets the report pass (any status but mismatch and error)."""
        return self.status not in _FAILING


def _format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def _format_error(error: float | None) -> str:
    if error is None:
        return "-"
    return "0" if error == 0 else f"{error:.2g}"


_COLUMNS = ("backend", "version", "status", "dtype", "max abs error", "time", "note")


@dataclass(frozen=True, repr=False)
class CheckReport:
    """The result of :func:`check`: one :class:`CheckRow` per backend, printable as a table.

    Attributes:
        subscripts: the subscripts text the backends ran (the sublist form written as text).
        names: the operands' names (``A``, ``B``, …).
        shapes: the operands' shapes.
        dtypes: the operands' dtypes.
        reference_version: the version of einviz that computed the reference.
        reference_shape: the shape of the reference result.
        reference_dtype: the dtype of the reference result.
        reference_seconds: the time the reference took.
        rows: one row per backend, in the order they ran.

    >>> import numpy as np
    >>> report = check("ij->i", np.ones((2, 3)), backends=["numpy"])
    >>> report.ok, len(report), report.row("numpy").status
    (True, 1, 'ok')
    """

    subscripts: str
    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    dtypes: tuple[str, ...]
    reference_version: str
    reference_shape: tuple[int, ...]
    reference_dtype: str
    reference_seconds: float
    rows: tuple[CheckRow, ...]

    @property
    def ok(self) -> bool:
        """Whether every installed backend agrees with the reference (known differences allowed)."""
        return all(row.ok for row in self.rows)

    @property
    def failures(self) -> tuple[CheckRow, ...]:
        """The rows that make the report fail: mismatches and errors."""
        return tuple(row for row in self.rows if not row.ok)

    def __iter__(self) -> Iterator[CheckRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def row(self, backend: str) -> CheckRow:
        """The row of one backend.

        Raises:
            EinvizError: the report has no row for ``backend``.

        >>> import numpy as np
        >>> check("i->", np.ones(2), backends=["numpy"]).row("numpy").dtype
        'float64'
        """
        for row in self.rows:
            if row.backend == backend:
                return row
        raise EinvizError(
            f"the report has no row for backend {backend!r}",
            details=[f"rows: {', '.join(row.backend for row in self.rows) or '(none)'}"],
            hint="check(..., backends=None) runs every registered backend",
        )

    def _header(self) -> tuple[str, str]:
        operands = "   ".join(
            f"{n} {s} {d}" for n, s, d in zip(self.names, self.shapes, self.dtypes)
        )
        reference = (f"reference  einviz {self.reference_version}   out {self.reference_shape} "
                     f"{self.reference_dtype}   {_format_seconds(self.reference_seconds)}")
        return f"check {self.subscripts!r}   {operands}", reference

    def _cells(self) -> list[tuple[str, ...]]:
        return [
            (row.backend, row.version or "-", row.status, row.dtype or "-",
             _format_error(row.max_abs_error), _format_seconds(row.seconds), row.note)
            for row in self.rows
        ]

    def _verdict(self) -> str:
        if self.ok:
            return "ok: every installed backend agrees with the reference"
        failing = ", ".join(f"{row.backend} ({row.status})" for row in self.failures)
        return f"FAILED: {failing}"

    def __str__(self) -> str:
        table = [_COLUMNS, *self._cells()]
        widths = [max(len(line[k]) for line in table) for k in range(len(_COLUMNS) - 1)]
        lines = list(self._header())
        for line in table:
            cells = [cell.ljust(width) for cell, width in zip(line, widths)] + [line[-1]]
            lines.append("  ".join(cells).rstrip())
        lines.append(self._verdict())
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html
        escape = html.escape
        head = "".join(f"<th>{escape(column)}</th>" for column in _COLUMNS)
        body = []
        for row, cells in zip(self.rows, self._cells()):
            style = "" if row.ok else ' style="color:#b2182b;font-weight:bold"'
            tds = [f"<td>{escape(cell)}</td>" for cell in cells]
            tds[2] = f"<td{style}>{escape(cells[2])}</td>"
            body.append(f"<tr>{''.join(tds)}</tr>")
        check_line, reference = self._header()
        caption = f"{escape(check_line)}<br>{escape(reference)}"
        return (
            '<table class="einviz-check">'
            f'<caption style="text-align:left">{caption}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            f"<tfoot><tr><td colspan=\"{len(_COLUMNS)}\">{escape(self._verdict())}</td></tr></tfoot>"
            "</table>"
        )


# --------------------------------------------------------------------------------------------
# Comparing with the reference
# --------------------------------------------------------------------------------------------


class _Comparison:
    """Compares backend results with the reference, with a tolerance from the dtypes compared.

    Integers and booleans must be equal. For floats, a sum of ``n`` products of ``k``
    factors computed in precision ``eps`` is within ``(n + k) * eps * Σ|products|`` of the
    exact value (the classic bound for recursive summation); two computations are within
    twice that of each other. The tolerance is that bound, cell by cell, with ``eps`` of the
    least precise dtype compared: float32 when jax runs without x64, float16 for float16.
    """

    def __init__(self, loop_plan: LoopPlan, arrays: Sequence[np.ndarray], reference: np.ndarray):
        self.plan = loop_plan
        self.arrays = arrays
        self.reference = reference
        self.n_products = math.prod(loop_plan.sizes[label] for label in loop_plan.summed)
        self.operand_dtypes = tuple(dict.fromkeys(a.dtype for a in arrays))
        self._magnitude: np.ndarray | None = None
        self._reach: float | None = None

    def _absolute(self) -> list[np.ndarray]:
        return [np.abs(a.astype(np.result_type(a.dtype, np.float64))) for a in self.arrays]

    def magnitude(self) -> np.ndarray:
        """``Σ|products|`` of every output cell, in float64 (or wider)."""
        if self._magnitude is None:
            self._magnitude = np.asarray(run(self.plan, self._absolute()))
        return self._magnitude

    def reach(self) -> float:
        """A bound on every partial product and partial sum, whatever the contraction order.

        An intermediate of two operands sums over labels no other operand has, so it is at
        most ``Σ`` of products of ``max(|x|, 1)``: each factor left out counts as at least 1.
        (``Σ|products|`` alone is no bound: an intermediate that overflows to inf and is then
        multiplied by zeros turns into nan where the exact value is 0.)
        """
        if self._reach is None:
            loose = np.asarray(run(self.plan, [np.maximum(a, 1) for a in self._absolute()]))
            self._reach = float(np.max(loose)) if loose.size else 0.0
        return self._reach

    def compare(self, result: np.ndarray, backend: _Backend) -> tuple[Status, float | None, str]:
        reference = self.reference
        if result.shape != reference.shape:
            return "mismatch", None, f"shape {result.shape}, reference {reference.shape}"
        if reference.dtype.kind == "O" and result.ndim == 0 and result.dtype.kind != "O":
            # numpy.einsum returns a 0-d sum of objects as the Python object itself, which
            # reads back as a number: it is still a sum of objects.
            result = result.astype(object)
        notes = []
        if result.dtype != reference.dtype:
            notes.append(backend.dtype_note(result.dtype, reference.dtype, self.operand_dtypes))
        if "O" in (result.dtype.kind, reference.dtype.kind) or not {
            result.dtype.kind, reference.dtype.kind
        } <= set("biufc"):
            # Objects, and the text or dates that a transpose or diagonal merely moves: equal
            # or not.
            status, error = self._compare_objects(result)
        elif reference.dtype.kind == "b" and result.dtype.kind != "b":
            status, error, note = self._compare_booleans(result, backend)
            notes.append(note)
        elif result.dtype.kind in "biu" and reference.dtype.kind in "biu":
            status, error, note = self._compare_integers(result)
            notes.append(note)
        else:
            status, error, note = self._compare_floats(result, backend)
            notes.append(note)
        if backend.exact_dtype and result.dtype != reference.dtype:
            status = "mismatch"
        elif status == "mismatch" and backend.pairwise:
            narrow = self._intermediate_overflow()
            if narrow is not None:
                status = "known difference"
                notes.append(
                    f"{backend.name} contracts two operands at a time, keeping each intermediate "
                    f"in their dtype: one in {narrow} overflows"
                    + (" (a bool sum is a logical or)" if narrow.kind == "b" else "")
                )
        return status, error, "; ".join(note for note in notes if note)

    def _compare_objects(self, result: np.ndarray) -> tuple[Status, float | None]:
        equal = bool(np.all(result == self.reference))
        error: float | None
        try:
            error = _max_abs(result.astype(np.float64), self.reference.astype(np.float64))
        except (TypeError, ValueError):
            error = 0.0 if equal else None
        return ("ok" if equal else "mismatch"), error

    def _compare_booleans(self, result: np.ndarray, backend: _Backend) -> tuple[Status, float, str]:
        reference = self.reference
        error = _max_abs(result.astype(np.float64), reference.astype(np.float64))
        if np.array_equal(result, reference):
            return "ok", error, ""
        if np.array_equal(result != 0, reference):
            return "known difference", error, (
                f"{backend.name} sums booleans as integers (numpy's einsum takes their logical "
                "or); the nonzero cells agree"
            )
        return "mismatch", error, ""

    def _compare_integers(self, result: np.ndarray) -> tuple[Status, float, str]:
        reference = self.reference
        error = _max_abs(result.astype(np.float64), reference.astype(np.float64))
        if np.array_equal(result, reference):
            return "ok", error, ""
        if (result.dtype != reference.dtype and "b" not in (result.dtype.kind, reference.dtype.kind)
                and (np.array_equal(result.astype(reference.dtype), reference)
                     or np.array_equal(reference.astype(result.dtype), result))):
            narrow = min(result.dtype, reference.dtype, key=lambda d: d.itemsize)
            return "known difference", error, (
                f"the exact values overflow {narrow}; they wrap around in {narrow} and agree there"
            )
        return "mismatch", error, ""

    def _intermediate_overflow(self) -> np.dtype | None:
        """The narrowest operand dtype, if a pairwise intermediate in it can overflow."""
        limit = _largest(self.reference.dtype)
        narrower = [d for d in self.operand_dtypes if _largest(d) < limit]
        if not narrower:
            return None
        narrow = min(narrower, key=_largest)
        return narrow if self.reach() >= _largest(narrow) else None

    def _compare_floats(self, result: np.ndarray, backend: _Backend) -> tuple[Status, float, str]:
        reference = self.reference
        inexact = [d for d in (result.dtype, reference.dtype) if d.kind in "fc"]
        compared = np.finfo(max(inexact, key=lambda d: np.finfo(d).eps))
        if backend.pairwise:
            # Its intermediates keep the operands' precision (a float16 operand: float16).
            inexact += [d for d in self.operand_dtypes if d.kind in "fc"]
        narrow = np.finfo(max(inexact, key=lambda d: np.finfo(d).eps))
        work = np.result_type(result.dtype, reference.dtype, np.float64)
        got, want = result.astype(work), reference.astype(work)
        factor = self.n_products + self.plan.n_operands + 2
        magnitude = self.magnitude()
        bound = factor * float(narrow.eps) * magnitude + (self.n_products + 1) * float(narrow.smallest_normal)
        same = (got == want) | (np.isnan(got) & np.isnan(want))
        finite = np.isfinite(got) & np.isfinite(want)
        with np.errstate(invalid="ignore", over="ignore"):
            difference = np.where(finite, np.abs(got - want), 0)
        bad = ~same & ~(finite & (difference <= bound))
        error = float(np.max(difference)) if difference.size else 0.0
        if np.any(~same & ~finite):
            error = math.inf
        own = np.finfo(reference.dtype if reference.dtype.kind in "fc" else work)
        note = f"compared at {narrow.dtype} precision" if narrow.dtype != own.dtype else ""
        if narrow.dtype != compared.dtype:
            note = (f"{backend.name} keeps intermediates in their operands' dtypes: compared at "
                    f"{narrow.dtype} precision")
        if not bad.any():
            return "ok", error, note
        # A computation that can reach the narrower dtype's largest value may overflow to inf
        # (or nan) in one library and not in the other: a float16 sum, float64 values in jax's
        # float32. Only the cells that are not finite are explained so.
        may_overflow = self.reach() * (1 + factor * float(narrow.eps)) >= float(narrow.max)
        if may_overflow and not np.any(bad & finite):
            return "known difference", error, (
                f"the sum overflows {narrow.dtype} in one computation and not in the other"
            )
        return "mismatch", error, note


def _largest(dtype: np.dtype) -> float:
    """The largest value a dtype holds (a bool sum holds 1: it is a logical or)."""
    if dtype.kind == "b":
        return 1.0
    if dtype.kind in "iu":
        return float(np.iinfo(dtype).max)
    if dtype.kind in "fc":
        return float(np.finfo(dtype).max)
    return math.inf


def _max_abs(got: np.ndarray, want: np.ndarray) -> float:
    if not got.size:
        return 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        return float(np.max(np.abs(got - want)))


# --------------------------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------------------------


def _choose(backends: str | Iterable[str] | None) -> list[_Backend]:
    if backends is None:
        return list(_REGISTRY.values())
    if isinstance(backends, str):
        names: list[Any] = [backends]
    elif isinstance(backends, Iterable):
        names = list(backends)
    else:
        raise EinvizError(
            f"backends= must be a list of backend names, not {type(backends).__name__}",
            details=[f"backends: {', '.join(_REGISTRY)}"],
            hint="e.g. backends=['numpy', 'torch']",
        )
    if not names:
        raise EinvizError(
            "backends= names no backend",
            details=[f"backends: {', '.join(_REGISTRY)}"],
            hint="leave backends=None to run every installed backend",
        )
    chosen = list(dict.fromkeys(_lookup(name) for name in names))
    for backend in chosen:
        # Asked for by name: a missing library is an error that says what to install, not
        # a "not installed" row (which would let `assert check(...).ok` pass without it).
        if isinstance(backend, _LibraryBackend) and not backend.installed():
            backend.load()
    return chosen


def _prepare(
    subscripts: Any, operands: Sequence[Any], backends: str | Iterable[str] | None
) -> tuple[LoopPlan, str, list[_Backend], list[np.ndarray]]:
    """The plan, the text every backend gets, the backends and the operands as arrays."""
    if isinstance(subscripts, LoopPlan):  # planned already: no second parse or bind
        chosen = _choose(backends)
        arrays = _as_arrays(operands)
        subscripts.check_operands([array.shape for array in arrays])
        return subscripts, _library_text(subscripts.equation), chosen, arrays
    equation, given = parse_call((subscripts, *operands))
    chosen = _choose(backends)
    arrays = _as_arrays(given)
    return plan(equation, *arrays), _library_text(equation), chosen, arrays


def _library_text(equation: Equation) -> str:
    """The subscripts every backend gets: as written in numpy's notation (so each library reads
    what the user wrote), or in letters when the text was einops' words."""
    if equation.notation == "einops":
        return equation.numpy_text()
    return equation.source or str(equation)


def _as_arrays(operands: Sequence[Any]) -> list[np.ndarray]:
    arrays = []
    for k, operand in enumerate(operands):
        try:
            arrays.append(np.asarray(operand))
        except Exception as e:  # any library's conversion error
            raise ArgumentTypeError(
                f"operand {k} ({type(operand).__name__}) cannot be read as a numpy array",
                details=[_first_line(e)],
                hint="pass numpy arrays, or anything numpy.asarray reads (detach tensors first)",
            ) from e
    return arrays


def _run(
    backend: _Backend,
    subscripts: str,
    arrays: Sequence[np.ndarray],
    comparison: _Comparison,
    warmup: bool,
) -> CheckRow:
    name = backend.name
    if not backend.installed():
        return CheckRow(name, "", "not installed", note=backend.install_hint())
    try:
        version = backend.version()
    except Exception as e:  # a broken install is a row, not a crash
        return CheckRow(name, "", "error", note=f"import failed: {_first_line(e)}", error=_first_line(e))
    reason = backend.refuses(arrays)
    if reason:
        return CheckRow(name, version, "unsupported", note=reason)
    try:
        with warnings.catch_warnings():
            # The row's note says what a warning would (a cast to 32 bits, an overflow).
            warnings.simplefilter("ignore")
            call = backend.prepare(subscripts, arrays)
            if warmup:
                call()
            start = time.perf_counter()
            raw = call()
            seconds = time.perf_counter() - start
            result = backend.to_numpy(raw)
    except Exception as e:  # whatever a backend raises becomes its row
        known = backend.explain_error(e, arrays)
        return CheckRow(name, version, "unsupported" if known else "error",
                        note=known or _first_line(e), error=_first_line(e))
    status, error, note = comparison.compare(result, backend)
    return CheckRow(name, version, status, str(result.dtype), error, seconds, note)


def check(
    subscripts: Any,
    *operands: Any,
    backends: str | Iterable[str] | None = None,
    warmup: bool = False,
) -> CheckReport:
    """Run an einsum in every installed backend and compare each with the reference.

    The reference is einviz's own einsum (:func:`einviz.einsum`). Each backend gets the same
    subscripts text and the operands as its own arrays (converted before the clock starts),
    and its result is compared cell by cell: integers and booleans exactly, floats within
    the rounding error the compared dtypes allow (see ``docs/check.md``). A backend that
    refuses the input or differs for a documented reason gets an ``unsupported`` or
    ``known difference`` row with the explanation; these do not fail the report.

    Args:
        subscripts: the subscripts text, or, in the sublist form, the first operand
            (``check(A, [0, 1], B, [1, 2])``; the backends get it written as text), or a
            :class:`~einviz.LoopPlan` made for the operands' shapes (it is not parsed or
            bound again; its operand names name the rows).
        *operands: the operands (anything :func:`numpy.asarray` reads).
        backends: the backends to run, in this order (default: every registered backend,
            those not installed shown as ``not installed``).
        warmup: call each backend once before the timed call (jax compiles on its first
            call for each expression and shapes; without a warm-up its time includes that).

    Returns:
        The :class:`CheckReport`; ``report.ok`` is true when no backend mismatches or errs.

    Raises:
        EinvizError: the subscripts or operands are not valid (the same message as
            :func:`einviz.einsum`), or ``backends`` names an unknown backend.
        ShapeError: a plan is given with operands of other shapes than it was made for.
        ArgumentTypeError: an operand einsum cannot multiply or add (text, bytes, dates,
            records) where the einsum would multiply or add it: there is no reference.
        BackendNotInstalledError: ``backends`` names a backend that is not installed.

    >>> import numpy as np
    >>> A, B = np.arange(6).reshape(2, 3), np.ones((3, 4))
    >>> report = check("ij,jk->ik", A, B, backends=["numpy", "opt_einsum"])
    >>> report.ok
    True
    >>> [(row.backend, row.status, row.max_abs_error) for row in report]
    [('numpy', 'ok', 0.0), ('opt_einsum', 'ok', 0.0)]
    >>> from einviz import plan
    >>> check(plan("ij,jk->ik", A, B), A, B, backends=["numpy"]).ok
    True
    """
    loop_plan, text, chosen, arrays = _prepare(subscripts, operands, backends)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        # A copy: the reference may be a view of an operand, and a backend might write to it.
        reference = np.array(run(loop_plan, arrays), copy=True)
        reference_seconds = time.perf_counter() - start
    comparison = _Comparison(loop_plan, arrays, reference)
    rows = tuple(_run(backend, text, arrays, comparison, warmup) for backend in chosen)
    from . import __version__

    return CheckReport(
        subscripts=text,
        names=loop_plan.names,
        shapes=loop_plan.shapes,
        dtypes=tuple(str(a.dtype) for a in arrays),
        reference_version=__version__,
        reference_shape=reference.shape,
        reference_dtype=str(reference.dtype),
        reference_seconds=reference_seconds,
        rows=rows,
    )
