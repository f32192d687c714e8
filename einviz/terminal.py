"""What the ``einviz`` command does to text before a terminal sees it: colour, escapes, encoding.

Three rules, one home each:

- :func:`printable` (the one in :mod:`einviz.errors`, which lays out error messages): text a
  program supplied (a script's subscripts, a path) never acts on the terminal: control
  characters (ESC, NUL, DEL, C1, a newline) and the bidirectional overrides and isolates,
  which do not print, are written as escapes (``\\x1b``, ``\\n``, ``\\u202e``).
- :func:`fit`: text the output's encoding cannot hold is written with ASCII stand-ins
  (``—`` → ``--``, ``×`` → ``x``, ``Σ`` → ``sum``, ``…`` → ``...``) and any other character
  as a Python escape (``α`` → ``\\u03b1``), so valid input works on an ASCII terminal.
- :class:`Painter`: each label in its colour (24-bit ANSI, bold), only when colour is on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any, TextIO

from .errors import printable

__all__ = ["ASCII_STAND_INS", "Painter", "fit", "is_terminal", "printable", "say", "use_colour"]

#: What an output that cannot encode a character gets instead of it; any other character
#: it cannot encode is written as a Python escape (``\\u03b1``).
ASCII_STAND_INS = {
    "—": "--", "–": "-", "−": "-", "×": "x", "Σ": "sum", "…": "...", "·": "*", "→": "->",
    "←": "<-", "µ": "u", "∞": "inf", "≤": "<=", "≥": ">=", "≠": "!=", "≈": "~", "±": "+/-",
    "²": "^2", "³": "^3", "‘": "'", "’": "'", "“": '"', "”": '"', "✓": "ok", "✗": "x",
}


def fit(text: str, stream: Any) -> str:
    """``text`` as ``stream``'s encoding can write it: stand-ins first, then escapes.

    >>> import io
    >>> fit("ij->i  —  row sums, Σ_j", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    'ij->i  --  row sums, sum_j'
    >>> fit("αβ->α", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    '\\\\u03b1\\\\u03b2->\\\\u03b1'
    """
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        pass
    except LookupError:  # an encoding Python does not know: leave the text to the stream
        return text
    for char, stand_in in ASCII_STAND_INS.items():
        if char in text and not _encodes(char, encoding):
            text = text.replace(char, stand_in)
    return text.encode(encoding, errors="backslashreplace").decode(encoding)


def _encodes(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def say(*parts: str, stream: TextIO | None = None, sep: str = " ") -> None:
    """Print ``parts`` to ``stream`` (stdout by default), fitted to its encoding.

    >>> say("einviz", "—", "ok")
    einviz — ok
    """
    import sys

    out = sys.stdout if stream is None else stream
    print(fit(sep.join(parts), out), file=out)


def use_colour(choice: str, stream: Any) -> bool:
    """--color always/never win; auto is on for a terminal unless NO_COLOR or TERM=dumb."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(stream)


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (``False`` for a closed stream or none at all)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Painter:
    """Colours labels for a terminal (24-bit ANSI, bold), or leaves text alone."""

    RESET = "\x1b[0m"

    def __init__(self, colours: dict[str, str]) -> None:
        self.codes = {
            label: "\x1b[1;38;2;{};{};{}m".format(*(int(c[k : k + 2], 16) for k in (1, 3, 5)))
            for label, c in colours.items()
        }

    @classmethod
    def for_labels(cls, labels: Iterable[str], on: bool) -> Painter:
        """A painter for these labels (in the figure's colours), or a plain one when off."""
        if not on:
            return cls({})
        from .render.palette import label_colours

        return cls(label_colours(tuple(labels)))

    def label(self, text: str, label: str) -> str:
        """``text`` in ``label``'s colour."""
        code = self.codes.get(label)
        return f"{code}{text}{self.RESET}" if code else text

    def letters(self, text: str) -> str:
        """Colour every character of ``text`` that is a label (subscripts, index lists)."""
        if not self.codes:
            return text
        return "".join(self.label(char, char) for char in text)

    def formula(self, text: str) -> str:
        """Colour the labels inside ``[...]`` and after ``Σ_``, not the operands' names (a word
        label, in einops' notation, whole)."""
        if not self.codes:
            return text

        def word(match: re.Match[str]) -> str:
            text = match.group()
            return self.label(text, text) if text in self.codes else self.letters(text)

        def paint(match: re.Match[str]) -> str:
            return re.sub(r"\w+", word, match.group())

        return re.sub(r"\[[^\]]*\]|(?<=Σ_)\S+", paint, text)

    def code(self, text: str, variables: dict[str, str]) -> str:
        """Colour the loop variables (``for i in``, and inside ``[...]``) by their labels."""
        if not self.codes:
            return text
        labels = {variable: label for label, variable in variables.items()}

        def paint(match: re.Match[str]) -> str:
            word = match.group(0)
            return self.label(word, labels[word]) if word in labels else word

        def index(match: re.Match[str]) -> str:
            return "[" + re.sub(r"\w+", paint, match.group(1)) + "]"

        lines = []
        for line in text.splitlines():
            if re.match(r"\s*for \w+ in ", line):
                line = re.sub(r"(?<=for )\w+", paint, line, count=1)
            else:
                line = re.sub(r"\[([^\]]*)\]", index, line)
            lines.append(line)
        return "\n".join(lines)
