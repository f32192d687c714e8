"""Reading ``einviz``'s options: the parser, option values, names, shapes and label sizes.

Every bad value is an :class:`~einviz.errors.EinvizError` that shows the option as typed with
a caret under the culprit (``--shapes 2xa,3x4``), so the command exits 2 with a message, never
with a traceback.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from .errors import EinvizError
from .subscripts import ELLIPSIS, Equation

if TYPE_CHECKING:
    import argparse

__all__ = ["Exit", "count", "make_parser", "milliseconds", "optimize_option", "parse_names",
           "parse_shapes", "parse_sizes", "positive", "split_list"]

#: The most digits a size may have: past any memory, and short of the 4,300 digits past which
#: Python refuses to read a number (sizes from 20 digits are refused as too large to make).
MAX_DIGITS = 40


class Exit(Exception):
    """Leave the command with this status (argparse's --help, --version and usage errors)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def make_parser(prog: str, usage: str, description: str, epilog: str) -> argparse.ArgumentParser:
    """An argparse parser that raises :class:`Exit` instead of ending the process."""
    import argparse

    from .terminal import fit

    class Parser(argparse.ArgumentParser):
        # argparse ends the process itself; main() returns a status instead, so it can be
        # called in-process, and usage errors get einviz's "einviz: " prefix.
        def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
            if message:
                sys.stderr.write(fit(message, sys.stderr))
            raise Exit(status)

        def error(self, message: str) -> NoReturn:
            text = (f"einviz: {message}\nusage: {self.usage}\n"
                    f"see `{self.prog} --help` for every option\n")
            sys.stderr.write(fit(text, sys.stderr))
            raise Exit(2)

        def _print_message(self, message: str, file: Any = None) -> None:
            # --help and --version on a terminal that cannot show "…" or "—".
            if message:
                stream = sys.stdout if file is None else file
                stream.write(fit(message, stream))

    return Parser(prog=prog, usage=usage, description=description, epilog=epilog,
                  formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)


def count(text: str) -> int:
    """A non-negative integer option value; ``1e6`` and ``1_000_000`` are accepted."""
    import argparse

    value: float | int
    try:
        value = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not value.is_integer():
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        value = int(value)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def positive(text: str) -> int:
    """A positive integer option value (``1e6`` and ``1_000_000`` too)."""
    import argparse

    value = count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not positive")
    return value


def milliseconds(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of milliseconds") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of milliseconds")
    return value


def optimize_option(text: str) -> str | list[tuple[int, ...]]:
    """``--optimize``: a strategy name, or a path written as Python, e.g. ``[(0, 1), (0, 1)]``."""
    import argparse
    import ast

    if not text.lstrip().startswith(("[", "(")):
        return text
    try:
        path = ast.literal_eval(text)
        return [tuple(int(k) for k in pair) for pair in path]  # checked again by the path
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a path: write one as a list of tuples of operand positions, "
            "e.g. '[(0, 1), (0, 1)]'") from None


def split_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",")]


def parse_names(text: str) -> list[str]:
    names = split_list(text)
    if not all(names):
        raise _option_error(
            "--names", text, "--names has an empty name", _empty_items(text),
            hint="give one name per operand, separated by commas, e.g. --names Q,K",
        )
    return names


def _option_error(
    option: str, text: str, problem: str, positions: Any, *, details: Sequence[str] = (),
    hint: str | None = None,
) -> EinvizError:
    """An error in an option's value, shown as typed (``--shapes 2xa,3x4``), culprit marked."""
    shift = len(option) + 1
    return EinvizError(problem, subscripts=f"{option} {text}",
                       positions=[shift + p for p in positions], details=details, hint=hint)


def _empty_items(text: str) -> list[int]:
    """Where the empty items of a comma-separated list are (the comma after each)."""
    columns, start = [], 0
    for item in text.split(","):
        if not item.strip():
            columns.append(start)
        start += len(item) + 1
    return columns


# -- shapes and sizes --------------------------------------------------------------------------

_SHAPE_HINT = "write a shape as sizes joined by 'x', e.g. 2x3; 'scalar' for a 0-d operand"


def _parse_shape(option: str, text: str, start: int, end: int) -> tuple[int, ...]:
    """Read the shape written in ``text[start:end]``: ``2x3``, ``5`` or ``scalar`` (0-d)."""
    item = text[start:end]
    if item.strip().lower() == "scalar":
        return ()
    if not item.strip():
        raise _option_error(
            option, text, f"{option} has an empty shape", [start],
            details=["expected: sizes joined by 'x' (e.g. 2x3), or 'scalar' for a 0-d operand"],
            hint=_SHAPE_HINT,
        )
    dims = []
    position = start
    for part in re.split(r"[xX×]", item):
        number = part.strip()
        if not (number.isdigit() and number.isascii()):
            culprit = range(position, position + len(part)) if part else [position]
            raise _option_error(
                option, text,
                f"{option}: {number!r} is not a size" if number else f"{option}: a size is missing",
                culprit,
                details=[f"expected: whole numbers joined by 'x', e.g. 2x3; given: {item.strip()!r}"],
                hint=_SHAPE_HINT,
            )
        dims.append(_size(option, text, number, position + len(part) - len(part.lstrip())))
        position += len(part) + 1
    return tuple(dims)


def _size(option: str, text: str, number: str, column: int) -> int:
    """A size's digits as a number, refusing a number too long to be one."""
    if len(number) > MAX_DIGITS:
        raise _option_error(
            option, text, f"{option}: a size of {len(number):,} digits is far past any memory",
            range(column, column + len(number)),
            hint="give smaller sizes",
        )
    return int(number)


def parse_shapes(text: str) -> list[tuple[int, ...]]:
    """``--shapes 2x3,3x4`` → ``[(2, 3), (3, 4)]``; ``scalar`` is a 0-d operand."""
    shapes, start = [], 0
    for item in text.split(","):
        shapes.append(_parse_shape("--shapes", text, start, start + len(item)))
        start += len(item) + 1
    return shapes


def parse_sizes(
    text: str, equation: Equation
) -> tuple[dict[str, int], tuple[int, ...] | None]:
    """``--sizes i=2,j=3`` → ``{"i": 2, "j": 3}``, and the dims of ``...=2x3`` (or ``None``)."""
    option = "--sizes"
    subscripts = f"subscripts: {equation.text_for_carets()}"
    sizes: dict[str, int] = {}
    where: dict[str, int] = {}
    ellipsis: tuple[int, ...] | None = None
    start = 0
    for item in text.split(","):
        end = start + len(item)
        label, equals, value = item.partition("=")
        column = start + len(label) - len(label.lstrip())
        label = label.strip()
        if not equals or not label:
            raise _option_error(
                option, text, f"{option}: {item.strip()!r} is not label=size",
                range(start, max(end, start + 1)),
                details=["expected: label=size items separated by commas, e.g. i=2,j=3"],
                hint="give a label, '=' and its size; ...=2x3 sets the dimensions of '...'",
            )
        value_start = start + len(item.partition("=")[0]) + 1
        if label in where:
            raise _option_error(
                option, text, f"{option} gives {label!r} a size twice", [where[label], column],
                hint="give each label one size",
            )
        where[label] = column
        if label == ELLIPSIS:
            if not equation.has_ellipsis:
                raise _option_error(
                    option, text, f"{option} sizes '...' but the subscripts have no '...'",
                    range(column, column + 3), details=[subscripts], hint="drop the ...= item",
                )
            ellipsis = _parse_shape(option, text, value_start, end)
        elif label not in equation.labels:
            raise _option_error(
                option, text,
                f"{option} gives a size to {label!r}, which is not a label of the subscripts",
                range(column, column + len(label)),
                details=[f"{subscripts}   labels: {', '.join(equation.labels) or '(none)'}"],
                hint="give sizes to the labels of the subscripts only",
            )
        else:
            number = value.strip()
            if not (number.isdigit() and number.isascii()):
                raise _option_error(
                    option, text,
                    f"{option}: the size of {label!r} is {number!r}, not a whole number",
                    range(value_start, max(end, value_start + 1)),
                    details=["expected: a size such as i=2"],
                    hint="sizes are whole numbers (0 and up)",
                )
            sizes[label] = _size(option, text, number, value_start + len(value) - len(value.lstrip()))
        start = end + 1
    return sizes, ellipsis
