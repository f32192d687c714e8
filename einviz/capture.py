"""Record the einsum calls a running program makes, and report on them.

``with capture() as calls:`` swaps the einsum entry points of the array libraries the program
uses for thin recorders, runs the block, and puts the very same function objects back on
exit (also when the block raises). Every call made inside the block, from any thread, becomes
a :class:`Call`: library, subscripts, shapes, dtypes, call site, duration, and a copy of the
operands while they are small. :meth:`Calls.report` writes one HTML page with a section per
distinct einsum; :func:`run_script` runs a whole script under capture, as
``python -m cProfile script.py`` does.

The entry points covered (each only when its library is imported; a capture imports none):

========================  ======================================================
library                   patched attributes
========================  ======================================================
numpy                     ``numpy.einsum``
opt_einsum                ``opt_einsum.contract``
torch                     ``torch.einsum`` and ``torch.functional.einsum``
jax                       ``jax.numpy.einsum`` (``jnp`` is the same module)
========================  ======================================================

A library imported while a capture is open is patched as soon as its import finishes.
A name bound before the block with ``from numpy import einsum`` still holds the original
function, so its calls are not seen.

>>> import numpy as np
>>> A, B = np.ones((2, 3)), np.ones((3, 4))
>>> with capture() as calls:
...     C = np.einsum("ij,jk->ik", A, B)
>>> len(calls), calls[0].subscripts, calls[0].shapes
(1, 'ij,jk->ik', ((2, 3), (3, 4)))
"""

from __future__ import annotations

import base64
import contextlib
import functools
import importlib
import importlib.util
import inspect
import linecache
import math
import os
import runpy
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import FrameType, ModuleType
from typing import Any, NamedTuple, overload

import numpy as np

from ._files import check_target, write_file
from .errors import ArgumentTypeError, EinvizError
from .plan import default_names
from .subscripts import parse, parse_sublists

__all__ = ["Call", "CallGroup", "Calls", "capture", "run_script"]

#: Default for ``capture(max_elements=...)``: operands are copied while a call's operands hold
#: at most this many elements in total.
MAX_ELEMENTS = 10_000

#: Default for ``capture(max_copies=...)``: copies kept per distinct (subscripts, shapes).
MAX_COPIES = 10


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


class Call:
    """One recorded einsum call.

    Attributes:
        library: ``"numpy"``, ``"opt_einsum"``, ``"torch"`` or ``"jax"``.
        function: the entry point that was called, e.g. ``"torch.einsum"``.
        subscripts: the subscripts as canonical text (the sublist form is turned into text,
            spaces are dropped; text einviz cannot parse is kept as written).
        shapes: the shape of each operand.
        filename: the file of the call site: the innermost frame that is not inside einviz
            or an array library (so a call numpy makes for the program counts as the
            program's own line).
        lineno: the line of the call site.
        caller: the name of the function that holds the call site (``"<module>"`` at top level).
        seconds: wall-clock duration of the call. Libraries that run asynchronously (jax,
            torch on a GPU) return before the work is done, so this is the dispatch time.
        operands: NumPy copies of the operands taken just before the call, or ``None`` when
            they were not copied (see :attr:`note`).
        note: why the operands were not copied (or how they were converted), else ``None``.
        error: ``"TypeName: message"`` when the call raised (the exception still reaches
            the program), else ``None``.
        thread: the ``threading.get_ident()`` of the calling thread.
        optimize: the ``optimize=`` argument of the call, or the entry point's default when
            the call gave none (``False`` for ``numpy.einsum``, which then runs one loop
            over all the operands; ``True`` for ``opt_einsum.contract``; ``"auto"`` for
            ``jax.numpy.einsum``); ``None`` for ``torch.einsum``, which takes no such
            argument.

    >>> import numpy as np
    >>> with capture() as calls:
    ...     _ = np.einsum("ii->", np.eye(3, dtype=np.float32))
    >>> call = calls[0]
    >>> call.library, call.subscripts, call.shapes, call.dtypes, call.optimize
    ('numpy', 'ii->', ((3, 3),), ('float32',), False)
    >>> call.operands[0].sum()
    np.float32(3.0)
    """

    __slots__ = (
        "library",
        "function",
        "subscripts",
        "shapes",
        "_dtypes",
        "filename",
        "lineno",
        "caller",
        "seconds",
        "operands",
        "note",
        "error",
        "thread",
        "optimize",
    )

    def __init__(
        self,
        library: str,
        function: str,
        subscripts: str,
        shapes: tuple[tuple[int, ...], ...],
        dtypes: tuple[Any, ...],
        filename: str,
        lineno: int,
        caller: str,
        seconds: float,
        operands: tuple[np.ndarray, ...] | None,
        note: str | None,
        error: str | None = None,
        thread: int = 0,
        optimize: Any = None,
    ) -> None:
        self.library = library
        self.function = function
        self.subscripts = subscripts
        self.shapes = shapes
        # Kept as the libraries' own dtype objects; turned into names only when asked for,
        # which keeps the recorder cheap.
        self._dtypes = dtypes
        self.filename = filename
        self.lineno = lineno
        self.caller = caller
        self.seconds = seconds
        self.operands = operands
        self.note = note
        self.error = error
        self.thread = thread
        self.optimize = optimize

    @property
    def dtypes(self) -> tuple[str, ...]:
        """The dtype of each operand by name, the same words for every library (``"float32"``)."""
        return tuple(_dtype_name(dtype) for dtype in self._dtypes)

    @property
    def where(self) -> str:
        """The call site as ``file:line``."""
        return f"{self.filename}:{self.lineno}"

    @property
    def elements(self) -> int:
        """The number of elements of all the operands together."""
        return sum(math.prod(shape) for shape in self.shapes)

    def describe(self) -> str:
        """The operands in one line: name, dtype and shape of each.

        >>> import numpy as np
        >>> with capture() as calls:
        ...     _ = np.einsum("i,i->", np.ones(3), np.ones(3))
        >>> calls[0].describe()
        'A: float64 (3,), B: float64 (3,)'
        """
        return ", ".join(
            f"{name}: {dtype} {shape}"
            for name, dtype, shape in zip(_operand_names(self.subscripts, len(self.shapes)),
                                          self.dtypes, self.shapes)
        )

    def __repr__(self) -> str:
        shapes = " ".join(str(shape) for shape in self.shapes)
        failed = ", failed" if self.error else ""
        return (
            f"<Call {self.function}({self.subscripts!r}) {shapes} at {self.where}, "
            f"{_duration(self.seconds)}{failed}>"
        )


@dataclass(frozen=True)
class CallGroup:
    """The calls of one distinct einsum: the same subscripts on the same shapes.

    Attributes:
        subscripts: the canonical subscripts text.
        shapes: the operand shapes.
        calls: the calls, in the order they were made.

    >>> import numpy as np
    >>> with capture() as calls:
    ...     for n in (2, 2, 3):
    ...         _ = np.einsum("ij->i", np.ones((n, n)))
    >>> [(group.shapes, group.count) for group in calls.distinct()]
    [(((2, 2),), 2), (((3, 3),), 1)]
    """

    subscripts: str
    shapes: tuple[tuple[int, ...], ...]
    calls: tuple[Call, ...]

    @property
    def count(self) -> int:
        """How many times this einsum was called."""
        return len(self.calls)

    @property
    def seconds(self) -> float:
        """The total duration of the calls."""
        return sum(call.seconds for call in self.calls)

    @property
    def sites(self) -> dict[str, int]:
        """Each call site (``file:line``) with its number of calls, in order of first call."""
        sites: dict[str, int] = {}
        for call in self.calls:
            sites[call.where] = sites.get(call.where, 0) + 1
        return sites

    @property
    def functions(self) -> tuple[str, ...]:
        """The entry points used (``"numpy.einsum"``, ``"torch.einsum"``, …), in order of use."""
        return tuple(dict.fromkeys(call.function for call in self.calls))

    @property
    def dtypes(self) -> tuple[str, ...]:
        """Every dtype seen in any operand of any call, by name, in order of first appearance."""
        return tuple(dict.fromkeys(dtype for call in self.calls for dtype in call.dtypes))

    @property
    def failures(self) -> tuple[Call, ...]:
        """The calls that raised."""
        return tuple(call for call in self.calls if call.error is not None)

    @property
    def example(self) -> Call | None:
        """The first call that succeeded and kept copies of its operands (or ``None``)."""
        for call in self.calls:
            if call.operands is not None and call.error is None:
                return call
        return None


class Calls(Sequence[Call]):
    """The einsum calls recorded by one :func:`capture` block: a read-only list of :class:`Call`.

    While the block runs the list grows; after it, it no longer changes.

    Attributes:
        max_elements: operands of a call were copied only when they held at most this many
            elements together.
        max_copies: at most this many calls of each distinct (subscripts, shapes) kept copies
            (``None``: no limit).
        exit_status: for :func:`run_script`, the status the script exited with (``0`` when
            it ran to its end); ``None`` for a ``with capture()`` block.
        error: for :func:`run_script`, the exception that ended the script (``None`` when
            it ended normally).

    >>> import numpy as np
    >>> with capture() as calls:
    ...     _ = np.einsum("i->", np.ones(4))
    ...     _ = np.einsum("i->", np.ones(4))
    >>> len(calls), len(calls.distinct()), [call.library for call in calls]
    (2, 1, ['numpy', 'numpy'])
    """

    def __init__(
        self,
        *,
        max_elements: int = MAX_ELEMENTS,
        max_copies: int | None = MAX_COPIES,
        internal: tuple[str, ...] = (),
    ) -> None:
        self.max_elements = max_elements
        self.max_copies = max_copies
        self.internal = internal
        self.exit_status: int | None = None
        self.error: BaseException | None = None
        # The recorder appends plain tuples (the arguments of Call), which the garbage
        # collector stops tracking after one pass; Call objects are made when first asked
        # for, so a long capture does not slow every later collection.
        self._rows: list[tuple[Any, ...]] = []
        self._calls: list[Call] = []
        self._calls_lock = threading.Lock()
        self._copies: dict[tuple[str, tuple[tuple[int, ...], ...]], int] = {}

    def _all_calls(self) -> list[Call]:
        """Every call so far, as :class:`Call` objects (made once each)."""
        with self._calls_lock:
            done = len(self._calls)
            rows = self._rows[done:]
            self._calls.extend(Call(*row) for row in rows)
            return self._calls

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Call: ...

    @overload
    def __getitem__(self, index: slice) -> list[Call]: ...

    def __getitem__(self, index: int | slice) -> Call | list[Call]:
        return self._all_calls()[index]

    def __iter__(self) -> Iterator[Call]:
        return iter(list(self._all_calls()))

    def __repr__(self) -> str:
        return f"<Calls: {len(self)} einsum calls, {len(self.distinct())} distinct>"

    def _wants_copy(self, key: tuple[str, tuple[tuple[int, ...], ...]], elements: int) -> bool:
        # Called under _record_lock.
        if elements > self.max_elements:
            return False
        if self.max_copies is not None:
            kept = self._copies.get(key, 0)
            if kept >= self.max_copies:
                return False
            self._copies[key] = kept + 1
        return True

    def distinct(self) -> list[CallGroup]:
        """Group the calls by (subscripts, shapes), in order of first call.

        Returns:
            One :class:`CallGroup` per distinct einsum.

        >>> import numpy as np
        >>> with capture() as calls:
        ...     _ = np.einsum("ij->ji", np.ones((2, 3)))
        ...     _ = np.einsum(np.ones((2, 3)), [0, 1], [1, 0])
        >>> [(group.subscripts, group.count) for group in calls.distinct()]
        [('ij->ji', 1), ('ab->ba', 1)]
        """
        groups: dict[tuple[str, tuple[tuple[int, ...], ...]], list[Call]] = {}
        for call in list(self._all_calls()):
            groups.setdefault((call.subscripts, call.shapes), []).append(call)
        return [CallGroup(*key, tuple(group)) for key, group in groups.items()]

    def summary_lines(self) -> list[str]:
        """One line per distinct einsum: count, subscripts, shapes, dtypes, entry points,
        for three or more operands the ``optimize`` settings (they choose the contraction
        path), total time and call sites.

        Returns:
            The lines, without line ends, in order of first call.

        >>> import numpy as np
        >>> with capture() as calls:
        ...     _ = np.einsum("ij->i", np.ones((2, 3)))
        >>> print(calls.summary_lines()[0])  # doctest: +ELLIPSIS
            1x  ij->i  (2, 3)  float64  numpy.einsum  ...  <doctest ...>:2
        """
        lines = []
        for group in self.distinct():
            sites = list(group.sites)
            where = _short_path(sites[0])
            if len(sites) > 1:
                where += f" (+{len(sites) - 1} more)"
            failed = f"  {len(group.failures)} failed" if group.failures else ""
            fields = [
                f"{group.count:>5}x",
                group.subscripts,
                _shapes_text(group.shapes),
                "/".join(group.dtypes) or "-",
                "/".join(group.functions),
                *_optimize_field(group),
                _duration(group.seconds),
                where + failed,
            ]
            lines.append("  ".join(fields))
        return lines

    def report(
        self, path: str | os.PathLike[str] | None = None, *, title: str = "einviz capture report"
    ) -> str:
        """Write one self-contained HTML page about the recorded calls.

        One section per distinct (subscripts, shapes): the number of calls, where they came
        from (with the source line), what the einsum does (:func:`einviz.explain.explain`),
        for three or more operands the contraction path each entry point and ``optimize``
        setting used takes (:func:`einviz.paths.contraction_path`), a figure
        (:func:`einviz.animation.animate`) and the backend check table
        (:func:`einviz.backends.check`). The figure and the check use the recorded operands
        whenever they were copied (the figure draws axes longer than 8 cells cut, with an
        ellipsis cell); only operands that need more than 10**7 multiply-adds are cut to their
        first 3 cells per axis for the figure. When no copy was kept, both use operands of
        the recorded shapes cut the same way and filled with small integers. Each caption
        says which. A part whose module is not available is left out and the page says which.
        Everything taken from the program is HTML-escaped; the page loads nothing from the
        network, and it fits a narrow screen (wide tables scroll inside their box).

        Args:
            path: where to write the page; ``None`` only returns it.
            title: the page title.

        Returns:
            The HTML text.

        >>> import numpy as np
        >>> with capture() as calls:
        ...     _ = np.einsum("ij->i", np.arange(6).reshape(2, 3))
        >>> page = calls.report()
        >>> page.startswith("<!DOCTYPE html>"), "ij-&gt;i" in page
        (True, True)
        """
        if path is not None:
            check_target(path)  # before the report's work
        text = _report_html(self, title)
        if path is not None:
            write_file(path, text)
        return text


# --------------------------------------------------------------------------------------------
# What is patched
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _EntryPoint:
    """One einsum entry point of a library: where it lives and how it is called."""

    library: str
    function: str  # the name people call
    module: str  # the module whose import makes it available
    attributes: tuple[tuple[str, str], ...]  # (module, attribute) pairs that hold it
    operand_list: bool = False  # torch.einsum("ij,jk", [a, b]) also takes one list


_ENTRY_POINTS = (
    _EntryPoint("numpy", "numpy.einsum", "numpy", (("numpy", "einsum"),)),
    _EntryPoint("opt_einsum", "opt_einsum.contract", "opt_einsum", (("opt_einsum", "contract"),)),
    _EntryPoint(
        "torch",
        "torch.einsum",
        "torch",
        (("torch", "einsum"), ("torch.functional", "einsum")),
        operand_list=True,
    ),
    _EntryPoint("jax", "jax.numpy.einsum", "jax.numpy", (("jax.numpy", "einsum"),)),
)
_HOOKED_MODULES = {entry.module: entry for entry in _ENTRY_POINTS}

# Frames inside these packages are library internals, never a call site.
_INTERNAL_PACKAGES = ("numpy", "opt_einsum", "torch", "jax", "jaxlib", "einviz")


class _Patch(NamedTuple):
    owner: ModuleType
    attribute: str
    original: Callable[..., Any]
    wrapper: Callable[..., Any]
    in_dict: bool  # False when the module served the attribute through __getattr__


class _Local(threading.local):
    busy = False  # inside a recorded call: calls the library makes for it are not the program's


_local = _Local()
_state_lock = threading.RLock()  # guards the fields below; re-entrant because getattr may import
_record_lock = threading.Lock()  # guards appending records and counting copies
# The open captures, oldest first. A tuple replaced whole under _state_lock, so the recorder
# reads a consistent snapshot without taking a lock.
_recorders: tuple[Calls, ...] = ()
_copy_limit = 0  # the largest max_elements of the open captures
_patches: list[_Patch] = []
_wrappers: dict[int, tuple[Callable[..., Any], Callable[..., Any]]] = {}  # id(original) -> both
_originals: dict[int, Callable[..., Any]] = {}  # id(wrapper) -> original
_internal_prefixes: tuple[str, ...] = ()
_hook: _ImportHook | None = None


@contextlib.contextmanager
def capture(
    *,
    max_elements: int = MAX_ELEMENTS,
    max_copies: int | None = MAX_COPIES,
    internal: Iterable[str] = (),
) -> Iterator[Calls]:
    """Record every einsum call made while the block runs, from any thread.

    The wrapped entry points call the originals with the same arguments and return their
    results unchanged. On exit the module attributes hold the very same function objects as
    before, whether the block ends normally or raises. Captures nest: each records the calls
    made while it is open. Only libraries already imported (or imported inside the block) are
    touched; a capture never imports one.

    Args:
        max_elements: copy a call's operands only when they hold at most this many elements
            together (``0``: never copy). Larger operands are described by shape and dtype.
        max_copies: keep copies for at most this many calls of each distinct (subscripts,
            shapes), so a loop does not fill the memory; ``None``: no limit.
        internal: names of further packages whose frames are not call sites (say
            ``["einops"]`` to see the line that called ``einops.einsum``, not einops' own).

    Yields:
        The :class:`Calls`, filled as the block runs.

    Raises:
        EinvizError: an option is out of range.

    >>> import numpy as np
    >>> original = np.einsum
    >>> with capture(max_elements=4) as calls:
    ...     _ = np.einsum("i->", np.ones(3))
    ...     _ = np.einsum("i->", np.ones(5))
    >>> [call.operands is None for call in calls]
    [False, True]
    >>> np.einsum is original
    True
    """
    _check_count("max_elements", max_elements, allow_none=False)
    _check_count("max_copies", max_copies, allow_none=True)
    extra = (internal,) if isinstance(internal, str) else tuple(internal)
    for name in extra:
        if not isinstance(name, str) or not name:
            raise ArgumentTypeError(
                f"capture(internal=...) holds {name!r}, which is not a package name",
                hint='give names of packages, such as internal=["einops"]',
            )
    calls = Calls(max_elements=max_elements, max_copies=max_copies, internal=extra)
    _open(calls)
    try:
        yield calls
    finally:
        _close(calls)


def _check_count(name: str, value: Any, *, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    wrong_type = isinstance(value, bool) or not isinstance(value, int)
    if wrong_type or value < 0:
        expected = "a whole number >= 0" + (" or None" if allow_none else "")
        example = MAX_ELEMENTS if name == "max_elements" else MAX_COPIES
        error = ArgumentTypeError if wrong_type else EinvizError
        raise error(
            f"capture({name}=...) must be {expected}, not {value!r}",
            hint=f"for example capture({name}={example})",
        )


def _open(calls: Calls) -> None:
    global _hook, _recorders, _copy_limit
    with _state_lock:
        _recorders = (*_recorders, calls)
        _copy_limit = max(recorder.max_elements for recorder in _recorders)
        for entry in _ENTRY_POINTS:
            if entry.module in sys.modules:
                _patch(entry)
        _refresh_internal()
        if _hook is None:
            _hook = _ImportHook()
            sys.meta_path.insert(0, _hook)


def _close(calls: Calls) -> None:
    global _hook, _recorders, _copy_limit
    with _state_lock:
        _recorders = tuple(recorder for recorder in _recorders if recorder is not calls)
        _copy_limit = max((recorder.max_elements for recorder in _recorders), default=0)
        if _recorders:
            return
        if _hook is not None:
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(_hook)
            _hook = None
        for patch in reversed(_patches):
            # Something else rebound the name inside the block: leave its choice alone.
            if patch.owner.__dict__.get(patch.attribute) is not patch.wrapper:
                continue
            if patch.in_dict:
                setattr(patch.owner, patch.attribute, patch.original)
            else:
                delattr(patch.owner, patch.attribute)
        _patches.clear()
        _forget_cached_wrappers()


def _patch(entry: _EntryPoint) -> None:
    for module_name, attribute in entry.attributes:
        owner = sys.modules.get(module_name)
        if owner is None:
            continue
        if any(p.owner is owner and p.attribute == attribute for p in _patches):
            continue
        in_dict = attribute in owner.__dict__
        current = owner.__dict__[attribute] if in_dict else getattr(owner, attribute, None)
        if not callable(current) or id(current) in _originals:
            continue
        wrapper = _wrapper_for(current, entry)
        setattr(owner, attribute, wrapper)
        _patches.append(_Patch(owner, attribute, current, wrapper, in_dict))


def _forget_cached_wrappers() -> None:
    # opt_einsum caches the backend functions it looks up: imported inside a block, it would
    # keep numpy's wrapper for good.
    dispatch = sys.modules.get("opt_einsum.backends.dispatch")
    cache = getattr(dispatch, "_cached_funcs", None)
    if isinstance(cache, dict):
        for key, value in list(cache.items()):
            original = _originals.get(id(value))
            if original is not None and _wrappers.get(id(original), (None, None))[1] is value:
                cache[key] = original


def _refresh_internal() -> None:
    global _internal_prefixes
    names = dict.fromkeys(_INTERNAL_PACKAGES)
    for recorder in _recorders:
        names.update(dict.fromkeys(recorder.internal))
    prefixes: list[str] = []
    for name in names:
        prefixes.extend(_package_prefixes(name.partition(".")[0]))
    _internal_prefixes = tuple(dict.fromkeys(prefixes))


def _package_prefixes(name: str) -> list[str]:
    module = sys.modules.get(name)
    if module is not None:
        locations = list(getattr(module, "__path__", None) or [])
        origin = getattr(module, "__file__", None)
    elif name in _INTERNAL_PACKAGES:
        return []  # not imported: no frames of it to skip yet
    else:
        try:
            spec = importlib.util.find_spec(name)  # a top-level name: finds, does not import
        except (ImportError, ValueError):
            return []
        if spec is None:
            return []
        locations = list(spec.submodule_search_locations or [])
        origin = spec.origin
    if locations:
        return [os.path.join(location, "") for location in locations]
    return [origin] if origin else []


class _ImportHook:
    """Patches a library the moment the program finishes importing it inside a block."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in _HOOKED_MODULES:
            return None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader = _PatchingLoader(spec.loader, fullname)
        return spec


class _PatchingLoader:
    """Runs the real loader, puts it back on the module, then patches the library."""

    def __init__(self, loader: Any, name: str) -> None:
        self._loader = loader
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._loader, attribute)

    def create_module(self, spec: Any) -> Any:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        try:
            self._loader.exec_module(module)
        finally:
            if getattr(module, "__loader__", None) is self:
                module.__loader__ = self._loader
            spec = getattr(module, "__spec__", None)
            if spec is not None and spec.loader is self:
                spec.loader = self._loader
        with _state_lock:
            if _recorders:
                _patch(_HOOKED_MODULES[self._name])
                _refresh_internal()


# --------------------------------------------------------------------------------------------
# The recorder
# --------------------------------------------------------------------------------------------


def _wrapper_for(original: Callable[..., Any], entry: _EntryPoint) -> Callable[..., Any]:
    known = _wrappers.get(id(original))
    if known is not None and known[0] is original:
        return known[1]

    default = _optimize_default(original)

    @functools.wraps(original)
    def einsum(*args: Any, **kwargs: Any) -> Any:
        if not _recorders or _local.busy:
            return original(*args, **kwargs)
        return _record(original, entry, args, kwargs, default)

    _wrappers[id(original)] = (original, einsum)
    _originals[id(einsum)] = original
    return einsum


def _optimize_default(function: Callable[..., Any]) -> Any:
    """The default of the function's ``optimize`` parameter; ``None`` when it has none."""
    try:
        parameter = inspect.signature(function).parameters.get("optimize")
    except (TypeError, ValueError):  # a builtin without a signature
        return None
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return None
    return parameter.default


_KEPT_ENOUGH = (
    "not copied: earlier calls with the same subscripts and shapes kept copies (max_copies)"
)


def _record(
    original: Callable[..., Any],
    entry: _EntryPoint,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    optimize: Any,
) -> Any:
    # The hot path: every recorded call pays for this function, so it avoids generators,
    # locks and string formatting wherever the common case allows.
    recorders = _recorders
    try:
        subscripts, operands = _read_arguments(args, entry.operand_list)
        shapes, dtypes, elements = _describe(operands)
    except Exception:  # the library itself will say what is wrong with these arguments
        subscripts, operands, shapes, dtypes, elements = "(unreadable arguments)", (), (), (), 0

    frame: FrameType | None = sys._getframe(2)
    internal = _internal_prefixes
    while frame is not None and frame.f_code.co_filename.startswith(internal):
        frame = frame.f_back
    if frame is None:
        filename, lineno, caller = "<unknown>", 0, "<unknown>"
    else:
        filename, lineno, caller = frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name
    del frame

    copies: tuple[np.ndarray, ...] | None = None
    if elements > _copy_limit:
        note: str | None = f"not copied: {elements:,} elements, more than max_elements"
    else:
        note = _KEPT_ENOUGH
        key = (subscripts, shapes)
        for recorder in recorders:  # a cheap look first, so the steady state takes no lock
            if elements <= recorder.max_elements and (
                recorder.max_copies is None or recorder._copies.get(key, 0) < recorder.max_copies
            ):
                keep = False
                with _record_lock:
                    for wanting in recorders:
                        keep = wanting._wants_copy(key, elements) or keep
                if keep:  # copied before the call: an ``out=`` may overwrite an input
                    copies, note = _copy_operands(operands)
                break

    if kwargs:
        optimize = kwargs.get("optimize", optimize)
    error = None
    start = time.perf_counter()
    _local.busy = True
    try:
        return original(*args, **kwargs)
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        seconds = time.perf_counter() - start
        _local.busy = False
        row = (
            entry.library, entry.function, subscripts, shapes, dtypes, filename, lineno, caller,
            seconds, copies, note, error, threading.get_ident(), optimize,
        )
        # list.append is atomic (under the GIL, and with the per-list lock of free-threaded
        # builds), so records from many threads need no lock of ours.
        for recorder in recorders:
            recorder._rows.append(row)


def _read_arguments(args: tuple[Any, ...], operand_list: bool) -> tuple[str, tuple[Any, ...]]:
    if not args:
        return "", ()
    if isinstance(args[0], str):
        operands = args[1:]
        if operand_list and len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
        return _canonical(args[0]), operands
    equation, operands_list = parse_sublists(args)
    return str(equation), tuple(operands_list)


@functools.lru_cache(maxsize=1024)
def _canonical(text: str) -> str:
    try:
        return str(parse(text))
    except Exception:  # not einviz's to judge here: the library decides whether it is valid
        return "".join(text.split())


def _describe(
    operands: tuple[Any, ...],
) -> tuple[tuple[tuple[int, ...], ...], tuple[Any, ...], int]:
    """The shapes, dtypes (the libraries' own objects) and total element count of the operands."""
    shapes = []
    dtypes = []
    elements = 0
    for operand in operands:
        try:
            shape = tuple(operand.shape)
            dtype = operand.dtype
        except AttributeError:  # a Python number or list, as numpy accepts
            array = np.asarray(operand)
            shape, dtype = array.shape, array.dtype
        shapes.append(shape)
        dtypes.append(dtype)
        elements += math.prod(shape)
    return tuple(shapes), tuple(dtypes), elements


def _dtype_name(dtype: Any) -> str:
    name = str(dtype)
    return name[len("torch."):] if name.startswith("torch.") else name


def _copy_operands(operands: tuple[Any, ...]) -> tuple[tuple[np.ndarray, ...] | None, str | None]:
    copies = []
    note = None
    try:
        for operand in operands:
            if isinstance(operand, np.ndarray):
                copies.append(np.array(operand))
            elif hasattr(operand, "detach") and hasattr(operand, "numpy"):  # a torch tensor
                try:
                    copies.append(np.array(operand.numpy(force=True)))
                except TypeError:  # bfloat16 and friends have no numpy dtype
                    copies.append(np.array(operand.detach().float().numpy(force=True)))
                    note = "copied as float32: numpy has no such dtype"
            else:
                copies.append(np.array(operand))
    except Exception as exc:  # a jax tracer under jit, a meta tensor, …
        return None, f"not copied: {type(exc).__name__}"
    return tuple(copies), note


# --------------------------------------------------------------------------------------------
# Running a script
# --------------------------------------------------------------------------------------------


def run_script(
    path: str | os.PathLike[str],
    argv: Sequence[str] = (),
    report_path: str | os.PathLike[str] | None = None,
    *,
    catch: bool = False,
    **options: Any,
) -> Calls:
    """Run a Python script under :func:`capture`, as ``python -m cProfile script.py`` does.

    The script runs as ``__main__`` with ``sys.argv == [path, *argv]`` and its folder first on
    ``sys.path``; both are put back afterwards. ``sys.exit()`` in the script ends it normally:
    its status is kept in :attr:`Calls.exit_status` (a message given to ``sys.exit`` is
    printed to stderr, as Python does, and counts as status 1). Any other exception from the
    script propagates after the report is written, unless ``catch`` is true: then it is kept
    in :attr:`Calls.error`, the status is 1, and the calls made before it are returned.

    Args:
        path: the script.
        argv: the script's arguments.
        report_path: where to write :meth:`Calls.report`, if anywhere.
        catch: keep an exception the script raises instead of raising it.
        **options: passed to :func:`capture` (``max_elements``, ``max_copies``, ``internal``).

    Returns:
        The recorded calls.

    Raises:
        EinvizError: the script does not exist.

    >>> import pathlib, tempfile
    >>> script = pathlib.Path(tempfile.mkdtemp()) / "demo.py"
    >>> _ = script.write_text("import numpy as np\\nnp.einsum('ii->', np.eye(3))\\n")
    >>> calls = run_script(script)
    >>> calls[0].subscripts, calls[0].lineno, calls.exit_status
    ('ii->', 2, 0)
    """
    script = os.fspath(path)
    if not os.path.exists(script):
        raise EinvizError(
            f"cannot run {script!r}: there is no such file",
            hint="give the path of a Python script, then its arguments",
        )
    saved_argv, saved_path = sys.argv, sys.path[:]
    calls: Calls | None = None
    try:
        sys.argv = [script, *argv]
        sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
        with capture(**options) as calls:
            status = 0
            try:
                runpy.run_path(script, run_name="__main__")
            except SystemExit as stop:
                status = _exit_status(stop.code)
            except Exception as error:  # noqa: BLE001 - the script's own error, kept when asked
                calls.error = error  # the report says how the script stopped, either way
                if not catch:
                    calls.exit_status = 1
                    raise
                status = 1
            calls.exit_status = status
    finally:
        sys.argv = saved_argv
        sys.path[:] = saved_path
        if report_path is not None and calls is not None:
            calls.report(report_path, title=" ".join(["einviz run", script, *argv]))
    return calls


def _exit_status(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------

_FIGURE_MAX_AXIS = 8  # the figure draws longer axes cut, with an ellipsis cell
# A figure traces every multiply-add; above this many (about half a second) the recorded
# operands are cut instead, so one odd call cannot hold the whole report up.
_FIGURE_MAX_STEPS = 10**7
_FIGURE_CUT = 3  # operands that cannot be drawn whole are cut to their first cells per axis
_MAX_PATH_SETTINGS = 3  # paths drawn per section, one per distinct (entry point, optimize)

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;margin:0 auto;
max-width:64rem;padding:1rem clamp(.75rem,4vw,1.5rem) 4rem}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
pre{background:#f6f8fa;border-radius:.4rem;padding:.75rem 1rem;overflow-x:auto;white-space:pre-wrap}
h1,h2{overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border-bottom:1px solid #d0d7de;padding:.3rem .7rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.n{text-align:right;font-variant-numeric:tabular-nums}
td code{white-space:nowrap}
section{border-top:2px solid #d0d7de;margin-top:2.5rem;padding-top:.5rem}
h2 code{font-size:1.1em}
.shapes{color:#57606a;font-weight:normal}
.note{color:#57606a;font-style:italic}
.error{color:#b3261e}
.pattern{background:#ddf4ff;border-radius:.3rem;padding:.1rem .5rem}
figure{margin:1rem 0}
figure img{max-width:100%;height:auto;border:1px solid #d0d7de;border-radius:.4rem}
"""


def _e(value: Any) -> str:
    import html
    return html.escape(str(value), quote=True)


def _optional(module: str, name: str) -> tuple[Callable[..., Any] | None, str | None]:
    """The function ``module.name`` if this einviz has it, else why not."""
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError as exc:
        return None, f"{module} could not be imported ({exc})"
    if found is None:
        return None, f"{module} has no {name}()"
    return found, None


def _report_html(calls: Calls, title: str) -> str:
    explain, no_explain = _optional("einviz.explain", "explain")
    animate, no_animate = _optional("einviz.animation", "animate")
    check, no_check = _optional("einviz.backends", "check")
    absent = (("explanations", no_explain), ("figures", no_animate), ("backend checks", no_check))
    missing = [f"{what} left out: {why}" for what, why in absent if why]
    groups = calls.distinct()
    total = sum(call.seconds for call in calls)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{_e(title)}</h1>",
        f"<p>{len(calls)} einsum call{'s' if len(calls) != 1 else ''}, {len(groups)} distinct "
        f"(subscripts, shapes), {_e(_duration(total))} in einsum.</p>",
    ]
    if calls.error is not None:
        stopped = "".join(traceback.format_exception_only(type(calls.error), calls.error)).strip()
        parts.append(f'<p class="error">The script stopped with an error: {_e(stopped)}</p>')
    elif calls.exit_status:
        parts.append(f'<p class="error">The script exited with status {calls.exit_status}.</p>')
    parts.extend(f'<p class="note">{_e(line)}</p>' for line in missing)
    parts.append("</header>")
    if groups:
        parts.append(_contents_table(groups))
    else:
        parts.append(
            '<p class="note">No einsum call was recorded. Calls made in child processes '
            "(multiprocessing, a process pool, a DataLoader's workers) are not seen: only "
            "the process that runs the capture is recorded.</p>"
        )
    for number, group in enumerate(groups, 1):
        parts.append(_section(number, group, explain, animate, check))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _contents_table(groups: list[CallGroup]) -> str:
    rows = [
        '<nav class="scroll"><table><thead><tr><th>#</th><th>subscripts</th><th>shapes</th>'
        "<th>dtypes</th><th>calls</th><th>time</th><th>first call site</th></tr></thead><tbody>"
    ]
    for number, group in enumerate(groups, 1):
        rows.append(
            f'<tr><td class="n"><a href="#einsum-{number}">{number}</a></td>'
            f"<td><code>{_e(group.subscripts)}</code></td><td>{_e(_shapes_text(group.shapes))}</td>"
            f"<td>{_e(', '.join(group.dtypes))}</td><td class=\"n\">{group.count}</td>"
            f'<td class="n">{_e(_duration(group.seconds))}</td>'
            f"<td><code>{_e(_short_path(next(iter(group.sites))))}</code></td></tr>"
        )
    rows.append("</tbody></table></nav>")
    return "\n".join(rows)


def _section(
    number: int,
    group: CallGroup,
    explain: Callable[..., Any] | None,
    animate: Callable[..., Any] | None,
    check: Callable[..., Any] | None,
) -> str:
    parts = [
        f'<section id="einsum-{number}">',
        f'<h2>{number}. <code>{_e(group.subscripts)}</code> <span class="shapes">'
        f"{_e(_shapes_text(group.shapes))}</span></h2>",
        f"<p>{group.count} call{'s' if group.count != 1 else ''} through "
        f"{_e(', '.join(group.functions))}; dtypes {_e(', '.join(group.dtypes) or '-')}; "
        f"{_e(_duration(group.seconds))} in all, "
        f"{_e(_duration(group.seconds / group.count))} each.</p>",
        _sites_table(group),
    ]
    if group.failures:
        parts.append(
            f'<p class="error">{len(group.failures)} of these calls raised:</p>'
            f"<pre class=\"error\">{_e(group.failures[0].error)}</pre>"
        )
    succeeded = len(group.failures) < group.count
    operands, operands_note = _real_operands(group)
    if explain is not None:
        parts.append("<h3>What it does</h3>")
        parts.append(_explanation(explain, group, operands))
    if len(group.shapes) >= 3:
        parts.append("<h3>Contraction path</h3>")
        parts.append(_paths(group))
    if succeeded and animate is not None:
        parts.append("<h3>Figure</h3>")
        parts.append(_figure(animate, group))
    if succeeded and check is not None:
        parts.append("<h3>Backend check</h3>")
        if operands is None:
            operands, operands_note = _made_up_operands(group)
        parts.append(_check(check, group.subscripts, operands, operands_note))
    parts.append("</section>")
    return "\n".join(parts)


def _sites_table(group: CallGroup) -> str:
    callers: dict[str, tuple[str, int, str]] = {}
    for call in group.calls:
        callers.setdefault(call.where, (call.filename, call.lineno, call.caller))
    rows = [
        '<div class="scroll"><table><thead><tr><th>call site</th><th>in</th><th>calls</th>'
        "<th>source</th></tr></thead><tbody>"
    ]
    for where, count in group.sites.items():
        filename, lineno, caller = callers[where]
        source = linecache.getline(filename, lineno).strip()
        rows.append(
            f'<tr><td><code title="{_e(where)}">{_e(_short_path(where))}</code></td>'
            f"<td><code>{_e(caller)}</code></td>"
            f'<td class="n">{count}</td><td><code>{_e(source)}</code></td></tr>'
        )
    rows.append("</tbody></table></div>")
    return "\n".join(rows)


def _real_operands(group: CallGroup) -> tuple[list[np.ndarray] | None, str | None]:
    example = group.example
    if example is None or example.operands is None:
        return None, None
    return list(example.operands), f"Checked on the operands recorded at {_short_path(example.where)}."


def _explanation(
    explain: Callable[..., Any], group: CallGroup, operands: list[np.ndarray] | None
) -> str:
    try:
        if operands is not None:
            result = explain(group.subscripts, *operands)
        else:
            result = explain(group.subscripts, shapes=group.shapes)
    except Exception as exc:
        return f'<pre class="error">{_e(exc)}</pre>'
    pattern = getattr(result, "pattern", None)
    badge = f'<p>Pattern: <span class="pattern">{_e(pattern)}</span></p>' if pattern else ""
    return f"{badge}<pre>{_e(result)}</pre>"


def _made_up_operands(group: CallGroup) -> tuple[list[np.ndarray], str]:
    """Small integer operands of the recorded shapes cut short, and a sentence saying so."""
    shapes = [tuple(min(size, _FIGURE_CUT) for size in shape) for shape in group.shapes]
    made_up = [
        ((np.arange(math.prod(shape)) + k) % 5 + 1).reshape(shape) for k, shape in enumerate(shapes)
    ]
    why = group.calls[0].note or "not copied"
    return made_up, (
        f"The operands were not kept ({why}): shown on operands of the recorded shapes cut to at "
        f"most {_FIGURE_CUT} cells per axis, filled with small integers."
    )


def _cut(operands: Sequence[np.ndarray]) -> list[np.ndarray]:
    # Cutting every axis to its first cells keeps shared labels the same size and broadcast
    # axes at size 1, so the cut problem is still a valid einsum.
    return [operand[tuple(slice(0, _FIGURE_CUT) for _ in operand.shape)] for operand in operands]


def _figure(animate: Callable[..., Any], group: CallGroup) -> str:
    """The figure of a section: on the recorded operands whenever they were kept."""
    from .errors import LimitError
    from .plan import limits

    example = group.example
    if example is None or example.operands is None:
        tries = [_made_up_operands(group)]
    else:
        where = _short_path(example.where)
        long_axis = any(size > _FIGURE_MAX_AXIS for shape in group.shapes for size in shape)
        cut_long = f"; axes longer than {_FIGURE_MAX_AXIS} cells are drawn cut, with an ellipsis cell"
        tries = [
            (list(example.operands), f"The recorded operands (from {where}){cut_long * long_axis}."),
            (_cut(example.operands), (
                f"The recorded operands (from {where}) need more than {_FIGURE_MAX_STEPS:,} "
                "multiply-adds, too many to animate in a report: shown cut to their first "
                f"{_FIGURE_CUT} cells along every axis."
            )),
        ]
    for k, (operands, note) in enumerate(tries):
        try:
            with limits(max_steps=_FIGURE_MAX_STEPS):
                animation = animate(group.subscripts, *operands, max_axis=_FIGURE_MAX_AXIS)
        except LimitError as exc:
            if k + 1 < len(tries):
                continue
            return _no_figure(exc)
        except Exception as exc:
            return _no_figure(exc)
        return _figure_html(animation, group.subscripts, note)
    raise AssertionError("unreachable: the last try returns")


def _no_figure(exc: Exception) -> str:
    return f'<p class="note">No figure: {_e(type(exc).__name__)}: {_e(exc)}</p>'


def _figure_html(animation: Any, subscripts: str, note: str) -> str:
    try:
        if hasattr(animation, "player_html"):
            # The interactive player; the section above already explains the einsum.
            player = animation.player_html(details=False)
            return (
                f'<figure class="scroll">{player}<figcaption class="note">{_e(note)}'
                "</figcaption></figure>"
            )
        svg = animation.to_svg()
    except Exception as exc:
        return _no_figure(exc)
    if isinstance(svg, bytes):
        svg = svg.decode("utf-8")
    # An <img> keeps each figure's ids and styles to itself, and still plays SVG animation.
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (
        f'<figure><img src="data:image/svg+xml;base64,{data}" alt="{_e(subscripts)}">'
        f'<figcaption class="note">{_e(note)}</figcaption></figure>'
    )


def _optimize_field(group: CallGroup) -> list[str]:
    """The summary's optimize settings, for an einsum whose path they choose (3+ operands)."""
    if len(group.shapes) < 3:
        return []
    return [" / ".join(dict.fromkeys(_optimize_text(call) for call in group.calls))]


def _optimize_text(call: Call) -> str:
    if call.optimize is None and call.library == "torch":
        return "no optimize argument"
    return f"optimize={call.optimize!r}"


def _paths(group: CallGroup) -> str:
    """The contraction path of each way the group's calls were made, as a fragment.

    The order depends on the entry point and its ``optimize`` setting, so the calls are
    split by (entry point, optimize) and each way gets the path its library takes.
    """
    ways: dict[tuple[str, str], list[Call]] = {}
    for call in group.calls:
        ways.setdefault((call.function, _optimize_text(call)), []).append(call)
    used = "; ".join(
        f"{function} with {setting} ({len(calls)} call{'s' * (len(calls) != 1)})"
        for (function, setting), calls in ways.items()
    )
    parts = [
        (
            "<p>The order of the pairwise contractions depends on the library and its "
            f"<code>optimize</code> setting. Used here: {_e(used)}.</p>"
        )
    ]
    for calls in list(ways.values())[:_MAX_PATH_SETTINGS]:
        parts.append(_path(group, calls[0]))
    if len(ways) > _MAX_PATH_SETTINGS:
        parts.append(
            f'<p class="note">The paths of the other {len(ways) - _MAX_PATH_SETTINGS} settings '
            "are not shown.</p>"
        )
    return "\n".join(parts)


def _path(group: CallGroup, call: Call) -> str:
    """What the library of ``call`` does with three or more operands: a sentence and a path."""
    from .paths import contraction_path

    n = len(group.shapes)
    left_to_right = [(0, 1)] * (n - 1)
    optimize = call.optimize
    setting = _e(_optimize_text(call))
    source = "opt_einsum"
    if call.library == "numpy":
        source = "numpy"
        if optimize is False or optimize is None:
            # numpy's default: c_einsum runs all the operands as one nested loop.
            why = "numpy's default" if optimize is False else "numpy reads None as False"
            intro = (
                f"<b>numpy.einsum with {setting}</b> ({why}) ran it as one loop over all {n} "
                "operands, with no pairwise path: the naive single loop below. With "
                "<code>optimize=True</code> numpy would contract it in this order "
                "(<code>numpy.einsum_path</code>):"
            )
            optimize = True
        else:
            limit = ""
            if (
                isinstance(optimize, (list, tuple))
                and len(optimize) == 2
                and isinstance(optimize[0], str)
                and optimize[0] != "einsum_path"
            ):
                limit = f" (shown without its memory limit, {_e(optimize[1])})"
                optimize = optimize[0]
            intro = (f"<b>numpy.einsum with {setting}</b> contracts it in this order "
                     f"(<code>numpy.einsum_path</code>){limit}:")
    elif call.library == "jax":
        # jax reads True as 'optimal' and False as left to right, one pair at a time.
        if optimize is True:
            optimize = "optimal"
        elif optimize is False:
            optimize = left_to_right
        intro = (f"<b>jax.numpy.einsum with {setting}</b> asks opt_einsum for its order "
                 "(jax reads <code>True</code> as <code>'optimal'</code> and "
                 "<code>False</code> as left to right):")
    elif call.library == "torch":
        torch_backends = getattr(sys.modules.get("torch"), "backends", None)
        backend: Any = getattr(torch_backends, "opt_einsum", None)
        try:
            uses_opt_einsum = bool(backend.is_available() and backend.enabled)
        except AttributeError:
            uses_opt_einsum = False
        if uses_opt_einsum:
            optimize = backend.strategy or True
            intro = ("<b>torch.einsum</b> asks opt_einsum for its order, with the strategy in "
                     f"<code>torch.backends.opt_einsum.strategy</code> (now {_e(repr(optimize))}):")
        else:
            optimize = left_to_right
            intro = ("<b>torch.einsum</b> contracts left to right, one pair at a time: opt_einsum "
                     "is not available to torch here, or "
                     "<code>torch.backends.opt_einsum.enabled</code> is false:")
    else:
        intro = f"<b>{_e(call.function)} with {setting}</b> contracts it in this order:"
    example = group.example
    try:
        if example is not None and example.operands is not None:  # the figures draw their values
            found = contraction_path(
                group.subscripts, *example.operands, optimize=optimize, source=source
            )
        else:
            found = contraction_path(
                group.subscripts, shapes=group.shapes, optimize=optimize, source=source
            )
        fragment = found.to_html()
    except Exception as exc:
        fragment = f'<pre class="error">{_e(type(exc).__name__)}: {_e(exc)}</pre>'
    return f'<p>{intro}</p>\n<div class="scroll">{fragment}</div>'


def _check(
    check: Callable[..., Any], subscripts: str, operands: list[np.ndarray], note: str | None
) -> str:
    try:
        table = check(subscripts, *operands)
        # einviz's own HTML: whatever it shows of the program it escapes itself.
        if hasattr(table, "_repr_html_"):
            table_html = table._repr_html_()
        else:
            table_html = f"<pre>{_e(table)}</pre>"
    except Exception as exc:
        return f'<p class="note">No backend check: {_e(type(exc).__name__)}: {_e(exc)}</p>'
    caption = f'<p class="note">{_e(note)}</p>' if note else ""
    return f'{caption}<div class="scroll">{table_html}</div>'


# --------------------------------------------------------------------------------------------
# Small words
# --------------------------------------------------------------------------------------------


def _operand_names(subscripts: str, count: int) -> tuple[str, ...]:
    """The names the plan, the explanation and the figure give the operands."""
    try:
        labels = parse(subscripts).labels
    except EinvizError:  # a call that numpy refused may hold any text
        labels = ()
    return default_names(count, labels)


def _shapes_text(shapes: tuple[tuple[int, ...], ...]) -> str:
    return " ".join(str(shape) for shape in shapes) or "()"


def _duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _short_path(where: str) -> str:
    """``file:line`` with the file relative to the working folder when it is inside it."""
    try:
        relative = os.path.relpath(where)
    except ValueError:  # another drive on Windows
        return where
    return where if relative.startswith("..") else relative
