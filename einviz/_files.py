"""Writing the files einviz makes, with einviz's errors instead of the system's.

Every ``path=`` of the library and every ``-o`` of the command writes through
:func:`write_file`, so a folder given for a file, a folder that is missing or a file that may
not be written is told in one sentence, not with an ``OSError`` traceback.
"""

from __future__ import annotations

import os

from .errors import ArgumentTypeError, EinvizError

__all__ = ["check_target", "write_file"]


def write_file(path: str | os.PathLike[str], data: str | bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` (text as UTF-8) to ``path``.

    Args:
        path: a file name (``str`` or path-like; an ``int`` file descriptor is refused).
        data: the text or bytes.
        exclusive: write only a new file (``FileExistsError`` otherwise, for the caller to
            decide on: try the next name, or refuse).

    Raises:
        EinvizError: the path is a folder, its folder is missing, or the system refuses.
        ArgumentTypeError: ``path`` is not a file name.
    """
    name = check_target(path)
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


def check_target(path: str | os.PathLike[str]) -> str:
    """Check, before any work, that ``path`` names a file that can be made; its name as text.

    Raises:
        EinvizError: the path is a folder, or its folder is missing.
        ArgumentTypeError: ``path`` is not a file name.
    """
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
