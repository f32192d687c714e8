"""Swapping the array libraries' einsum entry points for recorders, and back.

The machinery under :func:`einviz.capture`: which attributes are patched (:data:`_ENTRY_POINTS`),
opening and closing (:func:`_open`, :func:`_close`, and the ``with`` statement's
:class:`_Capture`), the import hook that patches a library imported inside a block, and the
recorder every wrapped call goes through (:func:`_record`), which appends one row per call to
each open :class:`~einviz.Calls`.

Entering and leaving survive a ``KeyboardInterrupt`` raised at any moment; the comment above
:class:`_Lease` says how.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import inspect
import math
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .errors import EinvizError
from .subscripts import parse, parse_sublists

if TYPE_CHECKING:
    from .recording import Calls

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
    pattern_last: bool = False  # einops.einsum(a, b, "i j, j k -> i k"): in einops' notation


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
    _EntryPoint("einops", "einops.einsum", "einops", (("einops", "einsum"), ("einops.einops", "einsum")),
                pattern_last=True),
)
_HOOKED_MODULES = {entry.module: entry for entry in _ENTRY_POINTS}

# Frames inside these packages are library internals, never a call site.
_INTERNAL_PACKAGES = ("numpy", "opt_einsum", "torch", "jax", "jaxlib", "einops", "einviz")


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


# Entering and leaving survive a KeyboardInterrupt raised at any moment (Ctrl-C, a signal
# handler, PyThreadState_SetAsyncExc). Python can deliver one at every function entry and
# after every call, so three things hold:
# - every step of _open is undone by _close, whatever step it stopped at, and _close can run
#   again and again (each step checks what is there, not what it remembers);
# - _close runs to its end: an interrupt in the middle is kept, the rest is done, then it is
#   raised;
# - a `with` statement keeps only the bound __exit__ while its block runs. Here that is an
#   _Exit, made fresh for each block, which closes the capture when it is dropped: when an
#   interrupt arrives as Python enters __enter__ or __exit__, before their first line, the
#   statement drops its _Exit as the interrupt passes, and that closes the capture.


class _Lease:
    """What the exit of one ``with capture()`` block works on: the calls, and (weakly) the
    :class:`_Exit` the ``with`` statement holds."""

    __slots__ = ("armed", "calls", "exit")

    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.exit: Callable[[], Any] = lambda: None
        # Set by __enter__: only the exit the with statement looked up, just before entering,
        # closes when dropped (not one made by a debugger looking at the object meanwhile).
        self.armed = False


class _ExitCall(functools.partial):
    """An exit that has run: dropping it does nothing (it runs no Python code, so a Ctrl-C
    arriving at that moment is not lost)."""

    __slots__ = ()


class _Exit(_ExitCall):
    """The bound ``__exit__`` of one ``with capture()`` block: ``_leave(lease, ...)``, which
    closes the capture; and when it is dropped without having run, its ``__del__`` closes it."""

    __slots__ = ()

    def __del__(self) -> None:
        if not self.args[0].armed or not isinstance(_recorders, tuple):  # or shutting down
            return
        _close(self.args[0].calls)


def _leave(lease: _Lease, *exc_info: Any) -> bool:
    try:
        _close(lease.calls)  # an interrupt it raises comes after its work
    finally:
        # Unless an interrupt came before _close began: then the _Exit's __del__ closes, as
        # the interrupt passes the with statement (no call here: none can come in between).
        if lease.calls not in _recorders and (_recorders or not _patches):
            done = lease.exit()
            if done is not None:
                done.__class__ = _ExitCall
    return False


class _ExitDescriptor:
    """``__exit__``: a fresh :class:`_Exit` for each ``with`` statement (a plain function
    when looked up on the class, as ``contextlib.ExitStack`` does)."""

    def __get__(self, instance: _Capture | None, owner: type) -> Callable[..., bool]:
        if instance is None:
            return lambda capture, *exc_info: _leave(_Lease(capture.calls), *exc_info)
        lease = _Lease(instance.calls)
        exit_ = _Exit(_leave, lease)
        lease.exit = weakref.ref(exit_)
        instance.lease = lease
        return exit_


class _Capture(contextlib.AbstractContextManager):
    """What :func:`capture` returns: ``with`` it to record; ``as`` gives the :class:`Calls`."""

    __slots__ = ("calls", "lease")

    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.lease: _Lease | None = None  # that of the exit looked up last

    def __enter__(self) -> Calls:
        # A with statement looks __exit__ up, then calls __enter__: that exit is this block's.
        if self.lease is not None:
            self.lease.armed = True
        _open(self.calls)
        return self.calls

    __exit__ = _ExitDescriptor()

    def __repr__(self) -> str:
        return f"<einviz.capture: {self.calls!r}>"


def _open(calls: Calls) -> None:
    global _recorders, _copy_limit
    try:
        with _state_lock:
            if calls in _recorders:
                raise EinvizError("this capture is already open",
                                  hint="use a new capture() for each with block")
            # The recorder list first: everything below is undone by _close from it.
            _recorders = (*_recorders, calls)
            _copy_limit = max(recorder.max_elements for recorder in _recorders)
            for entry in _ENTRY_POINTS:
                if entry.module in sys.modules:
                    _patch(entry)
            _refresh_internal()
            if not any(isinstance(finder, _ImportHook) for finder in sys.meta_path):
                sys.meta_path.insert(0, _ImportHook())
    except BaseException:
        _close(calls)
        raise


def _close(calls: Calls) -> None:
    """Close ``calls`` and, when no capture is left open, put everything back."""
    interrupted: BaseException | None = None
    attempts = 0
    while attempts < 3:  # a bug that fails every time is raised after the third try
        attempts += 1
        try:
            _close_once(calls)
        except BaseException as exc:  # an interrupt in the middle: finish, then raise it
            interrupted = exc
        else:
            break
    if interrupted is not None:
        raise interrupted


def _close_once(calls: Calls) -> None:
    global _recorders, _copy_limit
    with _state_lock:
        _recorders = tuple(recorder for recorder in _recorders if recorder is not calls)
        _copy_limit = max((recorder.max_elements for recorder in _recorders), default=0)
        if _recorders:
            return
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _ImportHook)]
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
        # Noted before it is done, so that _close undoes it even if an interrupt comes between.
        _patches.append(_Patch(owner, attribute, current, wrapper, in_dict))
        setattr(owner, attribute, wrapper)


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
    compiling = _torch_compiling() if entry.library == "torch" else None

    if compiling is None:
        @functools.wraps(original)
        def einsum(*args: Any, **kwargs: Any) -> Any:
            if not _recorders or _local.busy:
                return original(*args, **kwargs)
            return _record(original, entry, args, kwargs, default)
    else:
        @functools.wraps(original)
        def einsum(*args: Any, **kwargs: Any) -> Any:
            # While torch.compile traces, is_compiling() is a constant True to it: the wrapper
            # folds away to the real einsum (no graph break, no warning, nothing recorded).
            if compiling() or not _recorders or _local.busy:
                return original(*args, **kwargs)
            return _record(original, entry, args, kwargs, default)

    _wrappers[id(original)] = (original, einsum)
    _originals[id(einsum)] = original
    return einsum


def _torch_compiling() -> Callable[[], bool] | None:
    """torch's "is torch.compile tracing now?" test, from the torch the program imported."""
    compiler = getattr(sys.modules.get("torch"), "compiler", None)
    test = getattr(compiler, "is_compiling", None)
    return test if callable(test) else None


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
        if entry.pattern_last:
            subscripts, operands = _read_einops_arguments(args)
        else:
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
    try:
        # Set inside the try and cleared first in the finally (no call in between, so no
        # interrupt either): an interrupt cannot leave the thread marked busy.
        _local.busy = True
        return original(*args, **kwargs)
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        _local.busy = False
        seconds = time.perf_counter() - start
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


def _read_einops_arguments(args: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """``einops.einsum(*tensors, pattern)``: the pattern (einops' notation) comes last."""
    if not args or not isinstance(args[-1], str):
        return "(unreadable arguments)", args
    return _canonical_einops(args[-1]), args[:-1]


@functools.lru_cache(maxsize=1024)
def _canonical_einops(text: str) -> str:
    try:
        return str(parse(text, notation="einops"))
    except Exception:  # einops decides whether it is valid
        return " ".join(text.split())


@functools.lru_cache(maxsize=1024)
def _canonical(text: str) -> str:
    try:
        return str(parse(text, notation="numpy"))  # the libraries read numpy's notation
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
    return name.removeprefix("torch.")


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
