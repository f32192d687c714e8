"""Writing the files einviz makes, with einviz's errors instead of the system's.

Every ``path=`` of the library and every ``-o`` of the command writes through
:func:`write_file`, so a folder given for a file, a folder that is missing or a file that may
not be written is told in one sentence, not with an ``OSError`` traceback. A ``path=`` may
also be an open file (anything with ``write``: ``open(name, "wb")``, ``io.BytesIO``,
``sys.stdout``), as with matplotlib's ``savefig``.
"""

from __future__ import annotations

import io
import os
from typing import IO, Any, Union, cast

from .errors import ArgumentTypeError, EinvizError

__all__ = ["Target", "check_target", "is_file_object", "write_file"]

#: Where a figure goes: a file name, or a file opened for writing (text or binary).
Target = Union[str, "os.PathLike[str]", IO[Any]]


def is_file_object(target: Any) -> bool:
    """Whether ``target`` is an open file to write to, rather than a file name."""
    return callable(getattr(target, "write", None)) and not isinstance(target, (str, bytes, os.PathLike))


def write_file(path: Target, data: str | bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` (text as UTF-8) to ``path``.

    Args:
        path: a file name (``str`` or path-like; an ``int`` file descriptor is refused), or
            a file object: text goes into a text file as it is and into a binary one as
            UTF-8; bytes go into a binary file (or a text file's ``buffer``, as
            ``sys.stdout``'s). The file is written to, not closed.
        data: the text or bytes.
        exclusive: write only a new file (``FileExistsError`` otherwise, for the caller to
            decide on: try the next name, or refuse); a file object is already open.

    Raises:
        EinvizError: the path is a folder, its folder is missing, the system refuses, or
            bytes were given a text file that has no binary buffer.
        ArgumentTypeError: ``path`` is not a file name.

    >>> import io
    >>> handle = io.BytesIO()
    >>> write_file(handle, "<svg/>")
    >>> handle.getvalue()
    b'<svg/>'
    """
    if is_file_object(path):
        _write_to(cast("IO[Any]", path), data)
        return
    name = check_target(path)
    path = cast("str | os.PathLike[str]", path)
    binary = isinstance(data, bytes)
    mode = ("x" if exclusive else "w") + ("b" if binary else "")
    try:
        with open(path, mode, encoding=None if binary else "utf-8") as handle:
            handle.write(data)
    except FileExistsError:  # only when exclusive: the caller decides
        raise
    except OSError as error:
        raise EinvizError(f"cannot write {name!r}: {error.strerror or error}",
                          hint="check the path and its permissions") from None


def _write_to(handle: IO[Any], data: str | bytes) -> None:
    """Write into an open file, text or binary, as :func:`write_file` says."""
    name = check_target(handle)
    try:
        if isinstance(data, str) and not isinstance(handle, io.TextIOBase):
            try:
                handle.write(data.encode("utf-8"))
            except TypeError:  # a duck-typed text file
                handle.write(data)
        elif isinstance(data, bytes) and isinstance(handle, io.TextIOBase):
            buffer = getattr(handle, "buffer", None)
            if buffer is None:
                raise EinvizError(f"cannot write {name!r}: it is a text file, and this output is "
                                  "binary (PNG or GIF)",
                                  hint="open the file in binary mode, e.g. open('figure.png', 'wb'), "
                                       "or use io.BytesIO")
            handle.flush()  # what was written as text comes first
            buffer.write(data)
            buffer.flush()
        else:
            handle.write(data)
    except (OSError, ValueError) as error:
        if isinstance(error, EinvizError):
            raise
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise EinvizError(f"cannot write {name!r}: {reason}",
                          hint="give a file opened for writing, or a file name") from None


def check_target(path: Target) -> str:
    """Check, before any work, that ``path`` names a file that can be made; its name as text.

    A file object is taken as it is (its name: ``name`` when it has one).

    Raises:
        EinvizError: the path is a folder, or its folder is missing.
        ArgumentTypeError: ``path`` is not a file name.
    """
    if is_file_object(path):
        name = getattr(path, "name", None)
        return name if isinstance(name, str) else f"<{type(path).__name__}>"
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise ArgumentTypeError(f"path must be a file name, not {type(path).__name__} ({path!r})",
                                hint="give a str or a pathlib.Path, e.g. 'figure.svg'")
    name = os.fsdecode(path)
    if os.path.isdir(name):
        raise EinvizError(f"cannot write {name!r}: it is a folder",
                          hint="give a file name, e.g. a path inside that folder")
    folder = os.path.dirname(name) or "."
    if not os.path.isdir(folder):
        raise EinvizError(f"cannot write {name!r}: there is no folder {folder!r}",
                          hint="create the folder first, or choose another path")
    return name
