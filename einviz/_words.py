"""Small words shared by a capture's summary, its report and the command that prints them.

Durations, shapes and call sites are written the same way in :meth:`einviz.Calls.summary_lines`
and in the HTML report; :func:`printable` makes text taken from a program (subscripts, file
names) safe to print to a terminal.
"""

from __future__ import annotations

import os
import unicodedata

__all__ = ["duration", "optimize_text", "printable", "shapes_text", "short_path"]

# Characters that turn text around on screen (bidirectional embeddings, overrides and isolates)
# although Unicode files them as formatting ("Cf"), like harmless joiners.
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: object) -> str:
    """``text`` as one line that is safe to print to a terminal.

    Control characters (ESC and the terminal sequences it starts, NUL, carriage return, line
    feed, tab, DEL, the C1 controls), bidirectional overrides and other invisible formatting
    characters, lone surrogates and the line and paragraph separators are written as Python
    escapes (``\\x1b``, ``\\n``, ``\\u202e``); a backslash is doubled so the escapes cannot be
    confused with the text. Everything else, accented and non-Latin letters included, is kept.

    Args:
        text: the text (anything else is turned into text with ``str``).

    Returns:
        The safe text.

    >>> printable("ij->i")
    'ij->i'
    >>> printable("evil\\x1b]0;title\\x07\\nnext\\u202eline")
    'evil\\\\x1b]0;title\\\\x07\\\\nnext\\\\u202eline'
    >>> printable("café/Σ.py")
    'café/Σ.py'
    """
    value = str(text)
    if value.isprintable() and "\\" not in value:  # the common case, in C
        return value
    return "".join(_escape(char) for char in value)


def _escape(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char == " " or (char.isprintable() and char not in _BIDI):
        return char
    if char in _NAMED:
        return _NAMED[char]
    if unicodedata.category(char) == "Co":  # private use: printable, shown as is
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def shapes_text(shapes: tuple[tuple[int, ...], ...]) -> str:
    """The operands' shapes in one line, ``"()"`` for no operand.

    >>> shapes_text(((2, 3), (3,)))
    '(2, 3) (3,)'
    """
    return " ".join(str(shape) for shape in shapes) or "()"


def duration(seconds: float) -> str:
    """A duration as people read it: microseconds, milliseconds or seconds.

    >>> duration(0.00002), duration(0.25), duration(3)
    ('20.0 us', '250.00 ms', '3.00 s')
    """
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def short_path(where: str) -> str:
    """``file:line`` with the file relative to the working folder when it is inside it.

    >>> import os
    >>> short_path(os.path.join(os.getcwd(), "model.py") + ":3")
    'model.py:3'
    """
    try:
        relative = os.path.relpath(where)
    except ValueError:  # another drive on Windows
        return where
    return where if relative.startswith("..") else relative


def optimize_text(library: str, optimize: object) -> str:
    """How a call set ``optimize``, in words (torch's einsum takes no such argument).

    >>> optimize_text("numpy", "greedy"), optimize_text("torch", None)
    ("optimize='greedy'", 'no optimize argument')
    """
    if optimize is None and library == "torch":
        return "no optimize argument"
    return f"optimize={optimize!r}"
