"""The errors einviz raises for bad input, laid out so the culprit is easy to see.

Every message has the same shape: the problem in one sentence, the subscripts with a
caret under the culprit, what was expected against what was given, and a hint::

    label 'j' has size 3 in A (axis 1) but size 4 in B (axis 0)
        ij,jk->ik
         ^ ^
      A: shape (2, 3)   B: shape (4, 5)
      hint: the sizes of a shared label must match (or one of them must be 1)
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ArgumentTypeError",
    "EinvizError",
    "LimitError",
    "PathError",
    "ShapeError",
    "StepIndexError",
    "SubscriptError",
    "caret_line",
    "install_hint",
    "printable",
    "quoted",
]


def install_hint(extra: str) -> str:
    """The hint of every error about a missing optional dependency: the one ``pip install``
    of einviz's extra that adds it, quoted so that zsh does not read the brackets as a glob.

    >>> install_hint("torch")
    'pip install "einviz[torch]"'
    """
    return f'pip install "einviz[{extra}]"'


def caret_line(positions: Iterable[int]) -> str:
    """A line with ``^`` at each of ``positions`` (0-based columns), for marking a culprit.

    >>> caret_line([1, 3])
    ' ^ ^'
    """
    marks = sorted(set(positions))
    if not marks:
        return ""
    line = [" "] * (marks[-1] + 1)
    for column in marks:
        line[column] = "^"
    return "".join(line)


def printable(text: str) -> str:
    r"""``text`` with every character a terminal would act on written as an escape.

    Control characters (an ANSI escape, a tab, a carriage return) and other characters that
    do not print are shown the way ``repr`` shows them, so a message never changes the
    terminal it is printed on.

    >>> printable("ij\x1b[31m")
    'ij\\x1b[31m'
    """
    return "".join(_shown(char) for char in text)


def _shown(char: str) -> str:
    return char if char.isprintable() else repr(char)[1:-1]


def quoted(char: str) -> str:
    """A character quoted for a message; a mark that would join the quote before it (a
    combining mark) is named by its code point instead, e.g. ``U+0301``."""
    import unicodedata  # only for an error

    if _combining(char) or unicodedata.category(char) == "Mc":
        return f"U+{ord(char):04X} (a combining mark)"
    return repr(char)


def _combining(char: str) -> bool:
    """Whether a character draws on the one before it, taking no column of its own."""
    import unicodedata  # only when an error is laid out

    return bool(unicodedata.combining(char)) or unicodedata.category(char) == "Me"


def _width(shown: str) -> int:
    """The terminal columns a shown character takes: 2 if wide (CJK), 0 if combining."""
    import unicodedata  # only when an error is laid out

    if len(shown) != 1:  # an escape: plain ASCII
        return len(shown)
    if _combining(shown):
        return 0
    return 2 if unicodedata.east_asian_width(shown) in "WF" else 1


def _shown_with_positions(text: str, positions: Iterable[int]) -> tuple[str, list[int]]:
    """The text as :func:`printable` shows it, and the columns that mark the same characters.

    Columns are terminal cells: a wide character takes two (and gets two carets), a
    combining mark none (its caret goes under the character it marks).
    """
    starts, shown = [], []
    column = 0
    for char in text:
        starts.append(column)
        shown.append(_shown(char))
        column += _width(shown[-1])
    starts.append(column)
    marks: list[int] = []
    for position in positions:
        if 0 <= position < len(text):
            start, end = starts[position], starts[position + 1]
            marks.extend(range(start, end) if end > start else [max(start - 1, 0)])
        elif position >= len(text):  # past the end (a missing term): keep its distance
            marks.append(starts[-1] + position - len(text))
    return "".join(shown), marks


#: The most characters of the subscripts a message shows: a longer text is cut around the
#: first caret (laying out a million characters would take seconds and megabytes).
WINDOW = 100
_CUT = "[...]"


def _window(text: str, positions: tuple[int, ...]) -> tuple[str, list[int], str]:
    """The part of ``text`` a message shows, the positions moved to match, and a line that
    says what was cut (empty when nothing was)."""
    if len(text) <= WINDOW:
        return text, list(positions), ""
    first = max(min(positions, default=0), 0)
    start = max(0, min(first - WINDOW // 4, len(text) - WINDOW))
    end = start + WINDOW
    head = _CUT if start else ""
    tail = _CUT if end < len(text) else ""
    moved = [p - start + len(head) for p in positions
             if start <= p < end or (p >= len(text) and not tail)]
    said = (f"(the subscripts are {len(text):,} characters long: characters {start:,} to "
            f"{min(end, len(text)) - 1:,} are shown)")
    return head + text[start:end] + tail, moved, said


class EinvizError(ValueError):
    """The root of every error einviz raises for bad input.

    Attributes:
        problem: the problem in one sentence.
        subscripts: the subscripts text the carets refer to (or ``None``).
        positions: the columns of ``subscripts`` that are the culprit.
        details: lines saying what was expected against what was given.
        hint: how to fix it (or ``None``).

    >>> err = EinvizError("label 'j' is bad", subscripts="ij->j", positions=[1], hint="fix it")
    >>> print(err)
    label 'j' is bad
        ij->j
         ^
      hint: fix it
    """

    def __init__(
        self,
        problem: str,
        *,
        subscripts: str | None = None,
        positions: Iterable[int] = (),
        details: Iterable[str] = (),
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.subscripts = subscripts
        self.positions = tuple(positions)
        self.details = tuple(details)
        self.hint = hint
        super().__init__(self._layout())

    def _layout(self) -> str:
        # Every part is shown escaped where it does not print (an ANSI escape in the
        # subscripts must not recolour the terminal); the carets follow the escapes.
        lines = ["\n".join(printable(line) for line in self.problem.split("\n"))]
        cut = ""
        if self.subscripts:  # an empty text has nothing to point at
            text, positions, cut = _window(self.subscripts, self.positions)
            shown, columns = _shown_with_positions(text, positions)
            lines.append("    " + shown)
            carets = caret_line(columns)
            if carets:
                lines.append("    " + carets)
        lines.extend("  " + printable(detail) for detail in (*self.details, *[cut][:bool(cut)]))
        if self.hint:
            lines.append("  hint: " + printable(self.hint))
        return "\n".join(lines)


class SubscriptError(EinvizError):
    """The subscripts text (or sublist) is not valid einsum syntax."""


class ShapeError(EinvizError):
    """The operands do not fit the subscripts: their number, ranks or sizes."""


class LimitError(EinvizError):
    """The problem is larger than a limit; raise the limit with :func:`einviz.limits`."""


class ArgumentTypeError(EinvizError, TypeError):
    """An argument has the wrong type (numpy raises ``TypeError`` here, and so does einviz)."""


class PathError(EinvizError, RuntimeError):
    """An explicit ``optimize`` path does not contract the operands to one (numpy: RuntimeError)."""


class StepIndexError(EinvizError, IndexError):
    """A step number or an output cell out of a trace's range (an ``IndexError`` too, as a
    list's index would be)."""
