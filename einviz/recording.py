"""Record the einsum calls a running program makes, and report on them.

``with capture() as calls:`` swaps the einsum entry points of the array libraries the program
uses for thin recorders, runs the block, and puts the very same function objects back on
exit (also when the block raises). Every call made inside the block, from any thread, becomes
a :class:`Call`: library, subscripts, shapes, dtypes, call site, duration, and a copy of the
operands while they are small. :meth:`Calls.report` writes one HTML page with a section per
distinct einsum; :func:`run_script` runs a whole script under capture, as
``python -m cProfile script.py`` does.

This module holds the records and the entry points; the patching and the recorder are in
``einviz._patching``, what a report shows is found by ``einviz._report_parts`` and drawn by
:mod:`einviz.render.reports`, both loaded only when a report is made.

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

import contextlib
import math
import os
import runpy
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from ._files import check_target, write_file
from ._patching import _Capture, _dtype_name
from ._words import duration as _duration
from ._words import optimize_text, printable
from ._words import shapes_text as _shapes_text
from ._words import short_path as _short_path
from .errors import ArgumentTypeError, EinvizError
from .planning import default_names
from .subscripts import parse

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
        "_dtypes",
        "caller",
        "error",
        "filename",
        "function",
        "library",
        "lineno",
        "note",
        "operands",
        "optimize",
        "seconds",
        "shapes",
        "subscripts",
        "thread",
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

    def _repr_html_(self) -> str:
        """The summary as a table, for a notebook, and the way to the full report (every
        text taken from the program is escaped)."""
        from ._reprs import table_html

        rows = []
        for group in self.distinct():
            sites = list(group.sites)
            where = _short_path(sites[0]) + (f" (+{len(sites) - 1} more)" if len(sites) > 1 else "")
            rows.append([group.count, printable(group.subscripts), _shapes_text(group.shapes),
                         "/".join(group.dtypes) or "-", "/".join(group.functions),
                         _duration(group.seconds),
                         printable(where) + (f", {len(group.failures)} failed" if group.failures else "")])
        notes = ["calls.report('einsums.html') writes the full report: for each einsum what it "
                 "does, a figure, the contraction path and the backend check"] if rows else []
        return table_html("einviz-calls", repr(self).strip("<>"),
                          ["calls", "subscripts", "shapes", "dtypes", "entry points", "time", "where"],
                          rows, notes, numeric=[0])

    def _wants_copy(self, key: tuple[str, tuple[tuple[int, ...], ...]], elements: int) -> bool:
        # Called under _patching._record_lock.
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
        path), total time and call sites. Text taken from the program (subscripts, file
        names, optimize settings) goes through :func:`einviz._words.printable`: control
        characters, terminal escape sequences and bidirectional overrides are written as
        escapes, so the lines are safe to print to a terminal.

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
            lines.append(printable("  ".join(fields)))
        return lines

    def report(
        self, path: str | os.PathLike[str] | None = None, *, title: str = "einviz capture report"
    ) -> str:
        """Write one self-contained HTML page about the recorded calls.

        One section per distinct (subscripts, shapes): the number of calls, where they came
        from (with the source line), what the einsum does (:func:`einviz.explaining.explain`),
        for three or more operands the contraction path each entry point and ``optimize``
        setting used takes (:func:`einviz.paths.contraction_path`), a figure
        (:func:`einviz.animation.animate`) and the backend check table
        (:func:`einviz.backends.check`). The figure and the check use the recorded operands
        whenever they were copied (the figure draws axes longer than 8 cells cut, with an
        ellipsis cell); only operands that need more than 10**7 multiply-adds are cut to their
        first 3 cells per axis for the figure. When no copy was kept, both use operands of
        the recorded shapes cut the same way and filled with 1, 2, 3, … in each operand
        (:func:`einviz.operands.fill`, as every made-up operand is). Each caption says which. A part whose module is not available is left out and the page says which.
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
        # Loaded here, not with einviz: the report's code costs nothing until a report is made.
        from ._report_parts import report_parts
        from .render.reports import report_html

        sections, missing = report_parts(self)
        text = report_html(self, title, sections, missing)
        if path is not None:
            write_file(path, text)
        return text


def capture(
    *,
    max_elements: int = MAX_ELEMENTS,
    max_copies: int | None = MAX_COPIES,
    internal: Iterable[str] = (),
) -> contextlib.AbstractContextManager[Calls]:
    """Record every einsum call made while the block runs, from any thread.

    The wrapped entry points call the originals with the same arguments and return their
    results unchanged. On exit the module attributes hold the very same function objects as
    before, whether the block ends normally or raises, and also when a ``KeyboardInterrupt``
    (Ctrl-C) arrives at any moment of entering, running or leaving the block. Captures nest:
    each records the calls made while it is open. Only libraries already imported (or
    imported inside the block) are touched; a capture never imports one.

    Args:
        max_elements: copy a call's operands only when they hold at most this many elements
            together (``0``: never copy). Larger operands are described by shape and dtype.
        max_copies: keep copies for at most this many calls of each distinct (subscripts,
            shapes), so a loop does not fill the memory; ``None``: no limit.
        internal: names of further packages whose frames are not call sites (say
            ``["einops"]`` to see the line that called ``einops.einsum``, not einops' own).

    Returns:
        A context manager whose ``with ... as calls`` gives the :class:`Calls`, filled as the
        block runs.

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
    return _Capture(Calls(max_elements=max_elements, max_copies=max_copies, internal=extra))


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
    return run_as_main(lambda: runpy.run_path(script, run_name="__main__"), [script, *argv],
                       os.path.dirname(os.path.abspath(script)), report_path,
                       " ".join(["einviz run", script, *argv]), catch, **options)


def run_as_main(
    run: Callable[[], Any],
    argv: list[str],
    path_entry: str,
    report_path: str | os.PathLike[str] | None,
    title: str,
    catch: bool = True,
    **options: Any,
) -> Calls:
    """Run a program as ``__main__`` under :func:`capture`: ``sys.argv`` set to ``argv`` and
    ``path_entry`` first on ``sys.path`` (both put back afterwards); ``sys.exit`` gives the
    exit status, the program's own exception is kept in ``calls.error`` (status 1) and raised
    again unless ``catch``; the report is written to ``report_path`` however it stopped.
    ``einviz run SCRIPT`` and ``einviz run -m MODULE`` both run through here."""
    saved_argv, saved_path = sys.argv, sys.path[:]
    calls: Calls | None = None
    try:
        sys.argv = list(argv)
        sys.path.insert(0, path_entry)
        with capture(**options) as calls:
            status = 0
            try:
                run()
            except SystemExit as stop:
                status = _exit_status(stop.code)
            except Exception as error:  # the program's own error, kept when asked
                calls.error = error  # the report says how the program stopped, either way
                if not catch:
                    calls.exit_status = 1
                    raise
                status = 1
            calls.exit_status = status
    finally:
        sys.argv = saved_argv
        sys.path[:] = saved_path
        if report_path is not None and calls is not None:
            calls.report(report_path, title=title)
    assert calls is not None  # capture() always yields its Calls
    return calls


def _exit_status(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


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


def _optimize_field(group: CallGroup) -> list[str]:
    """The summary's optimize settings, for an einsum whose path they choose (3+ operands)."""
    if len(group.shapes) < 3:
        return []
    return [" / ".join(dict.fromkeys(optimize_text(call.library, call.optimize) for call in group.calls))]
