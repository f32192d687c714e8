"""The ``einviz`` command: explain an einsum in the terminal, draw it to a file.

``einviz SUBSCRIPTS`` makes small example operands (or operands of the shapes or label sizes
given), prints what the einsum does — the narrative, the sizes, the formula, the loop code,
the operands and the result, each label in its colour on a terminal — and writes an animated
SVG of every multiply-add to a new file. ``einviz run SCRIPT.py [ARGS...]`` runs a script
under :func:`einviz.capture` and writes an HTML report of the einsums it made. Every option
is described in ``docs/cli.md``.

Exit status: 0 when all went well; 1 when ``--check`` finds a backend that disagrees (for
``einviz run``: the script's own status); 2 for bad input — subscripts, shapes, option values,
an output file that exists — with einviz's message on stderr, the culprit marked with a caret,
never a traceback.

The command imports what a run needs and nothing more: the renderer only when a
figure is written, the backend check only with ``--check``, and torch and jax only when that
check runs them.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from . import __version__
from ._files import check_target, write_file
from .errors import EinvizError, LimitError
from .plan import LoopPlan, limits, plan
from .subscripts import ELLIPSIS, Equation, parse

if TYPE_CHECKING:
    import argparse

    from .explain import Explanation

__all__ = ["figure_name", "main"]

#: Sizes given to the labels no option sizes, in order of first appearance, cycling.
DEFAULT_SIZES = (2, 3, 4)
#: The most multiply-adds (and elements in any one array) the command makes: --max-steps.
DEFAULT_MAX_STEPS = 10**7
#: The most memory the operands and the result the command makes may take together. They are
#: whole arrays in memory (8-byte integers), so an einsum past this is refused before any of
#: them is made, whatever --max-steps says.
MAX_BYTES = 2 * 10**9
#: The size of one element of the operands the command makes (int64).
ITEM_BYTES = 8
#: The most frames a figure may have: each costs about 0.2 ms and 11 kB while it is drawn
#: (100 000 frames: some 20 s, 1 GB and a 50 MB SVG), so a --max-frames that would let the
#: einsum fill more is refused.
MAX_FRAMES = 100_000
#: More than the opening and final frames a figure adds to its step or cell frames.
_EXTRA_FRAMES = 16
#: What ``--values`` can fill the operands with.
VALUES = ("arange", "random", "ones")
#: What a figure file can be, by suffix.
FIGURES = {
    ".svg": "animated SVG",
    ".png": "PNG (the final state)",
    ".gif": "animated GIF",
    ".html": "HTML player",
}
#: ``einviz run``'s own options, so it can tell its script argument from its options.
_RUN_VALUED = ("-o", "--output")
_RUN_FLAGS = ("--force", "--no-report", "-q", "--quiet")

USAGE = """\
einviz SUBSCRIPTS [--shapes S | --sizes S] [--values V] [options]
       einviz run [-o REPORT.html] SCRIPT.py [ARGS ...]"""

DESCRIPTION = """\
See what an einsum does. einviz makes small example operands (label sizes 2, 3, 4 in order
of first appearance; a '...' stands for one dimension of size 2, or none when the output
drops it; values 1, 2, 3, …), prints the narrative, the sizes, the formula, the loop code,
the operands and the result, and writes an animated SVG of every multiply-add to a new file
in the current folder (never over an existing file)."""

EXAMPLES = """\
examples:
  einviz "ij,jk->ik"                        matrix multiplication of 2x3 by 3x4
  einviz "ij->i" --shapes 3x5               row sums of a 3x5 matrix
  einviz "bij,bjk->bik" --sizes b=2,j=5     batched matmul: b=2, j=5, the other labels 2, 3, 4
  einviz "...ij->...ji" --sizes ...=2x3     the '...' stands for two dimensions, 2 and 3
  einviz ",ij->ij" --shapes scalar,2x2      a 0-d operand is written 'scalar'
  einviz "ii->" --values random --seed 7    the trace of a random integer matrix
  einviz "ij,jk->ik" --check                compare numpy, opt_einsum, torch and jax
  einviz "ij,jk->ik" --code | python        the loops as a runnable script
  einviz "ab,bc,cd->ad" --path              the pairwise steps opt_einsum really takes
  einviz "ij,jk->ik" -o matmul.gif          a GIF (or .svg, .png, .html), by suffix
  einviz "ij,jk->ik" --no-figure            the text alone, no file written
  einviz run model.py --epochs 1            the einsums a script makes, in an HTML report

exit status: 0 ok, 1 a backend disagrees (--check), 2 bad input (with the reason on stderr)"""

RUN_DESCRIPTION = """\
Run a Python script under einviz.capture, as `python -m cProfile` does, and write an HTML
report of every einsum it made (numpy, opt_einsum, torch, jax): what each one does, a
figure and a backend check. One summary line per distinct einsum is printed when the script
ends. `einviz run` is read as this command when its script argument ends in .py or names an
existing file; otherwise `run` is read as subscripts."""

RUN_EXAMPLES = """\
examples:
  einviz run model.py                       report in einviz_report_model.html (a new file)
  einviz run -o out.html model.py --lr 0.1  the report in out.html; --lr 0.1 goes to the script

exit status: the script's own (1 when it raised), 2 for bad input to einviz"""


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``einviz`` command; returns the exit status.

    Args:
        argv: the arguments (default ``sys.argv[1:]``).

    Returns:
        0 when all went well, 1 when ``--check`` found a backend that disagrees (for
        ``einviz run``, the script's status), 2 for bad input (the message is on stderr).

    >>> main(["ij->i", "--no-figure", "--quiet"])
    0
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if _is_run(args):
            return _run_command(args[1:])
        return _explain_command(args)
    except _Exit as stop:
        return stop.status
    except EinvizError as error:
        _print_error(error)
        return 2
    except MemoryError:
        # Within MAX_BYTES, but more than this machine could give (or the figure needed).
        print("einviz: ran out of memory making or drawing this einsum\n"
              "  hint: give smaller sizes with --shapes or --sizes", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`einviz ... | head`): stop quietly, as cat does.
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        return 130


class _Exit(Exception):
    """Leave the command with this status (argparse's --help, --version and usage errors)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _print_error(error: EinvizError) -> None:
    print(f"einviz: {error}", file=sys.stderr)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _parser(prog: str, usage: str, description: str, epilog: str) -> argparse.ArgumentParser:
    import argparse

    class Parser(argparse.ArgumentParser):
        # argparse ends the process itself; main() returns a status instead, so it can be
        # called in-process, and usage errors get einviz's "einviz: " prefix.
        def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
            if message:
                sys.stderr.write(message)
            raise _Exit(status)

        def error(self, message: str) -> NoReturn:
            sys.stderr.write(f"einviz: {message}\nusage: {self.usage}\n"
                             f"see `{self.prog} --help` for every option\n")
            raise _Exit(2)

    return Parser(prog=prog, usage=usage, description=description, epilog=epilog,
                  formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)


# --------------------------------------------------------------------------------------------
# einviz SUBSCRIPTS
# --------------------------------------------------------------------------------------------


def _explain_parser() -> argparse.ArgumentParser:
    parser = _parser("einviz", USAGE, DESCRIPTION, EXAMPLES)
    parser.add_argument("subscripts", metavar="SUBSCRIPTS",
                        help='einsum subscripts, e.g. "ij,jk->ik" (quote them in the shell)')
    parser.add_argument("--version", action="version", version=f"einviz {__version__}")

    operands = parser.add_argument_group("operands")
    operands.add_argument("--shapes", metavar="S",
                          help="the operands' shapes, e.g. 2x3,3x4; 'scalar' for a 0-d operand")
    operands.add_argument("--sizes", metavar="S",
                          help="some labels' sizes, e.g. i=2,j=5 (the others get 2, 3, 4); "
                          "...=2x3 for the dimensions of '...'")
    operands.add_argument("--values", choices=VALUES, default="arange",
                          help="arange (default): 1, 2, 3, … in each operand; random: integers "
                          "from -3 to 5; ones")
    operands.add_argument("--seed", type=_count, default=0, metavar="N",
                          help="the seed of --values random (default 0)")
    operands.add_argument("--names", metavar="A,B",
                          help="the operands' names (default A, B, C, …)")
    operands.add_argument("--max-steps", type=_positive, default=DEFAULT_MAX_STEPS, metavar="N",
                          help="refuse einsums of more multiply-adds, or arrays of more elements, "
                          f"than N (default {DEFAULT_MAX_STEPS:,})")

    shown = parser.add_argument_group("what is printed")
    shown.add_argument("--check", action="store_true",
                       help="also run the einsum in numpy, opt_einsum, torch and jax and print "
                       "the comparison; exit 1 when an installed backend disagrees")
    shown.add_argument("--backends", metavar="LIST",
                       help="with --check: the backends to run, e.g. numpy,opt_einsum")
    shown.add_argument("--path", action="store_true",
                       help="also print the contraction path: the pairwise steps the library "
                       "really takes, with FLOPs, intermediate sizes and BLAS kinds")
    shown.add_argument("--path-source", choices=("opt_einsum", "numpy"), default="opt_einsum",
                       help="with --path: whose path, opt_einsum.contract_path's (default) or "
                       "numpy.einsum_path's")
    shown.add_argument("--optimize", metavar="STRATEGY", type=_optimize_option,
                       help="with --path: how the library finds it, e.g. greedy, optimal, dp "
                       "(default: the library's own default), or a path of your own such as "
                       "'[(0, 1), (0, 1)]'")
    shown.add_argument("--code", action="store_true",
                       help="print only the loops, as a runnable Python script (no figure "
                       "unless -o is given)")
    shown.add_argument("-q", "--quiet", action="store_true",
                       help="print no explanation and no progress bar: only the path of the "
                       "file written (and what --path and --check print, when asked)")
    shown.add_argument("--color", dest="color",
                       choices=("auto", "always", "never"), default="auto",
                       help="colour the labels: auto (default: on a terminal, unless NO_COLOR "
                       "is set or TERM=dumb), always, never")
    shown.add_argument("--no-color", dest="color", action="store_const",
                       const="never", help="the same as --color=never")

    figure = parser.add_argument_group("the figure")
    figure.add_argument("-o", "--output", metavar="FILE",
                        help="write the figure to FILE: .svg (animated), .png (the final state), "
                        ".gif or .html (a player); a folder gets the default name; an existing "
                        "file is refused unless --force")
    figure.add_argument("--force", action="store_true",
                        help="let -o overwrite an existing file")
    figure.add_argument("--no-figure", "--text-only", dest="no_figure", action="store_true",
                        help="write no figure")
    figure.add_argument("--granularity", choices=("auto", "step", "cell"), default="auto",
                        help="a frame per multiply-add (step), per output cell (cell), or the "
                        "finest that fits --max-frames (auto, the default)")
    figure.add_argument("--max-frames", type=_positive, default=120, metavar="N",
                        help="the most frames, opening and final ones included (default 120)")
    figure.add_argument("--frame-ms", type=_milliseconds, metavar="MS",
                        help="how long a step or cell frame shows, in milliseconds")
    return parser


def _explain_command(argv: list[str]) -> int:
    args = _explain_parser().parse_args(_shield_arrow(argv))
    quiet = args.quiet
    # With --code, stdout is the script alone: everything else goes to stderr.
    side = sys.stderr if args.code else sys.stdout

    if args.output is not None and args.no_figure:
        raise EinvizError("-o and --no-figure ask for opposite things",
                          hint="drop one of them")
    if args.shapes is not None and args.sizes is not None:
        raise EinvizError("give --shapes or --sizes, not both",
                          hint="--shapes sets every axis; --sizes sets some labels' sizes")
    if args.backends is not None and not args.check:
        raise EinvizError("--backends goes with --check", hint="add --check")
    if (args.optimize is not None or args.path_source != "opt_einsum") and not args.path:
        raise EinvizError("--optimize and --path-source go with --path", hint="add --path")

    equation = parse(args.subscripts)
    names = _parse_names(args.names) if args.names is not None else None
    if args.shapes is not None:
        shapes = _parse_shapes(args.shapes)
    else:
        label_sizes, ellipsis = _parse_sizes(args.sizes, equation) if args.sizes else ({}, None)
        shapes = _default_shapes(equation, label_sizes, ellipsis)
    loop_plan = plan(equation, shapes=shapes, names=names)
    _check_memory(loop_plan)
    _check_size(loop_plan, args.max_steps)

    target = None
    if not args.no_figure and (args.output is not None or not args.code):
        _check_frames(loop_plan, args.max_frames)
        target = _figure_target(args.output, equation, args.force)

    # Everything is computed before anything is printed: when a part fails, only the reason is.
    operands = _make_operands(loop_plan.shapes, args.values, args.seed)
    with limits(max_steps=args.max_steps, max_elements=max(args.max_steps, 1)):
        result = np.asarray(loop_plan.einsum(*operands))
        figure = _render_figure(target, args, equation, operands, names) if target else None
        path = None
        if args.path:
            from .paths import contraction_path

            path = contraction_path(equation, shapes=loop_plan.shapes, names=names,
                                    optimize=True if args.optimize is None else args.optimize,
                                    source=args.path_source)
        report = None
        if args.check:
            from .backends import check

            backends = _split_list(args.backends) if args.backends is not None else None
            report = check(str(equation), *operands, backends=backends)

    # The file first: a reader that stops reading early (`| head`) must not lose it.
    written = _save(target, figure[0]) if target is not None and figure is not None else None

    painter = _Painter.for_plan(loop_plan, _use_colour(args.color, sys.stdout))
    if args.code:
        print(_script(loop_plan, args.values, args.seed, painter))
    elif not quiet:
        from .explain import explain

        print(_report(explain(loop_plan), operands, result, args.values, args.seed, painter))
    gap = "" if quiet or args.code else "\n"
    if path is not None:
        print(gap + str(path), file=side)
        gap = "\n"
    if report is not None:
        print(gap + str(report), file=side)
    if written is not None:
        print(written if quiet else f"\nfigure: {written} ({figure[1]})", file=side)
    return 0 if report is None or report.ok else 1


def _shield_arrow(argv: list[str]) -> list[str]:
    """Subscripts with an empty first term (``->``, ``->i``) look like an option to
    argparse: move them behind a ``--``. No option's value starts with ``->``."""
    for k, arg in enumerate(argv):
        if arg == "--":
            break
        if arg.startswith("->"):
            return argv[:k] + argv[k + 1 :] + ["--", arg]
    return argv


def _count(text: str) -> int:
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


def _positive(text: str) -> int:
    """A positive integer option value (``1e6`` and ``1_000_000`` too)."""
    import argparse

    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not positive")
    return value


def _milliseconds(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of milliseconds") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of milliseconds")
    return value


def _optimize_option(text: str) -> str | list[tuple[int, ...]]:
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


def _split_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",")]


def _parse_names(text: str) -> list[str]:
    names = _split_list(text)
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
        dims.append(int(number))
        position += len(part) + 1
    return tuple(dims)


def _parse_shapes(text: str) -> list[tuple[int, ...]]:
    """``--shapes 2x3,3x4`` → ``[(2, 3), (3, 4)]``; ``scalar`` is a 0-d operand."""
    shapes, start = [], 0
    for item in text.split(","):
        shapes.append(_parse_shape("--shapes", text, start, start + len(item)))
        start += len(item) + 1
    return shapes


def _parse_sizes(
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
            sizes[label] = int(number)
        start = end + 1
    return sizes, ellipsis


def _default_shapes(
    equation: Equation, sizes: dict[str, int], ellipsis: tuple[int, ...] | None
) -> list[tuple[int, ...]]:
    """Shapes from label sizes: the labels not given get 2, 3, 4, 2, … in order of appearance."""
    chosen = dict(sizes)
    others = [label for label in equation.labels if label not in chosen]
    for k, label in enumerate(others):
        chosen[label] = DEFAULT_SIZES[k % len(DEFAULT_SIZES)]
    dots = equation.example_ellipsis if ellipsis is None else ellipsis
    shapes = []
    for term in equation.terms:
        shape: list[int] = []
        for label in term:
            shape.extend(dots if label == ELLIPSIS else (chosen[label],))
        shapes.append(tuple(shape))
    return shapes


def _check_memory(loop_plan: LoopPlan) -> None:
    """Refuse, before allocating anything, operands and a result too large to make in memory.

    Checked before --max-steps, whose hint would otherwise lead to this refusal.
    """
    arrays = list(zip(loop_plan.names, loop_plan.shapes)) + [("out", loop_plan.out_shape)]
    needed = sum(math.prod(shape) for _, shape in arrays) * ITEM_BYTES
    if needed <= MAX_BYTES:
        return
    sizes = "sizes: " + ", ".join(f"{label}={loop_plan.sizes[label]}" for label in loop_plan.labels)
    raise LimitError(
        f"the operands and the result would take {_bytes(needed)}, more than the "
        f"{_bytes(MAX_BYTES)} the command makes in memory",
        subscripts=loop_plan.equation.text_for_carets(),
        details=[*(f"{name}: shape {shape}, {_bytes(math.prod(shape) * ITEM_BYTES)}"
                   for name, shape in arrays), sizes],
        hint="give smaller sizes with --shapes or --sizes (--max-steps does not raise this limit)",
    )


def _bytes(count: int) -> str:
    """A byte count, exact and for people: ``24,000,000,008 bytes (24.0 GB)``, ``88 bytes``."""
    for unit, scale in (("EB", 10**18), ("PB", 10**15), ("TB", 10**12), ("GB", 10**9),
                        ("MB", 10**6)):
        if count >= scale:
            return f"{count:,} bytes ({count / scale:,.{0 if count >= 100 * scale else 1}f} {unit})"
    return f"{count:,} bytes"


def _check_size(loop_plan: LoopPlan, max_steps: int) -> None:
    """Refuse, before allocating anything, an einsum larger than --max-steps."""
    text = loop_plan.equation.text_for_carets()
    sizes = "sizes: " + ", ".join(f"{label}={loop_plan.sizes[label]}" for label in loop_plan.labels)
    if loop_plan.n_steps > max_steps:
        raise LimitError(
            f"the einsum needs {loop_plan.n_steps:,} steps (multiply-adds), more than the "
            f"limit of {max_steps:,}",
            subscripts=text, details=[sizes],
            hint=f"raise the limit with --max-steps {loop_plan.n_steps}, or give smaller sizes",
        )
    arrays = list(zip(loop_plan.names, loop_plan.shapes)) + [("out", loop_plan.out_shape)]
    for name, shape in arrays:
        elements = math.prod(shape)
        if elements > max_steps:
            raise LimitError(
                f"{name} would have {elements:,} elements, more than the limit of {max_steps:,}",
                subscripts=text, details=[f"{name}: shape {shape}", sizes],
                hint=f"raise the limit with --max-steps {elements}, or give smaller sizes",
            )


def _check_frames(loop_plan: LoopPlan, max_frames: int) -> None:
    """Refuse a --max-frames that would let the figure have more than MAX_FRAMES frames."""
    cells = math.prod(loop_plan.out_shape)
    possible = min(max_frames, max(loop_plan.n_steps, cells) + _EXTRA_FRAMES)
    if possible > MAX_FRAMES:
        raise LimitError(
            f"--max-frames {max_frames} would let the figure have more than the "
            f"{MAX_FRAMES:,} frames einviz draws",
            subscripts=loop_plan.equation.text_for_carets(),
            details=[(f"the einsum has {loop_plan.n_steps:,} steps and {cells:,} output cells, "
                      "up to a frame each")],
            hint=f"give --max-frames {MAX_FRAMES} or less, or --no-figure",
        )


def _make_operands(
    shapes: Sequence[tuple[int, ...]], values: str, seed: int
) -> list[np.ndarray]:
    """Small integer operands: ``arange`` (1, 2, 3, … each), ``random`` (-3 to 5) or ``ones``.

    ``arange`` starts at 1, not 0, so no product of the first row or column is a bare 0.

    ``random`` draws each operand in turn from one generator seeded with ``seed``, as
    :func:`einviz.animation.default_operands` does, so the figure and the text agree.
    """
    if values == "random":
        rng = np.random.default_rng(seed)
        return [rng.integers(-3, 6, size=shape, dtype=np.int64) for shape in shapes]
    if values == "ones":
        return [np.ones(shape, dtype=np.int64) for shape in shapes]
    return [np.arange(1, math.prod(shape) + 1, dtype=np.int64).reshape(shape) for shape in shapes]


# -- colour ------------------------------------------------------------------------------------


def _use_colour(choice: str, stream: Any) -> bool:
    """--color always/never win; auto is on for a terminal unless NO_COLOR or TERM=dumb."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return _is_terminal(stream)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class _Painter:
    """Colours labels for a terminal (24-bit ANSI, bold), or leaves text alone."""

    RESET = "\x1b[0m"

    def __init__(self, colours: dict[str, str]) -> None:
        self.codes = {
            label: "\x1b[1;38;2;{};{};{}m".format(*(int(c[k : k + 2], 16) for k in (1, 3, 5)))
            for label, c in colours.items()
        }

    @classmethod
    def for_plan(cls, loop_plan: LoopPlan, on: bool) -> _Painter:
        if not on:
            return cls({})
        from .render.palette import label_colours

        return cls(label_colours(loop_plan.equation.labels + loop_plan.ellipsis))

    def label(self, text: str, label: str) -> str:
        code = self.codes.get(label)
        return f"{code}{text}{self.RESET}" if code else text

    def letters(self, text: str) -> str:
        """Colour every character of ``text`` that is a label (subscripts, index lists)."""
        if not self.codes:
            return text
        return "".join(self.label(char, char) for char in text)

    def formula(self, text: str) -> str:
        """Colour the labels inside ``[...]`` and after ``Σ_``, not the operands' names."""
        if not self.codes:
            return text
        out, inside, summed = [], False, False
        for k, char in enumerate(text):
            if char == "[":
                inside = True
            elif char == "]":
                inside = False
            elif char == "_" and k > 0 and text[k - 1] == "Σ":
                summed = True
            elif char == " ":
                summed = False
            out.append(self.label(char, char) if inside or summed else char)
        return "".join(out)

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


# -- the text ----------------------------------------------------------------------------------


def _values_note(values: str, seed: int) -> str:
    return {"arange": "arange: 1, 2, 3, … in each operand",
            "random": f"random integers from -3 to 5, seed {seed}",
            "ones": "ones"}[values]


def _array_lines(name: str, array: np.ndarray) -> list[str]:
    with np.printoptions(threshold=200, edgeitems=3, linewidth=96):
        body = str(array)
    return [f"  {name} {array.shape} {array.dtype}"] + [f"    {line}" for line in body.splitlines()]


def _sizes_table(loop_plan: LoopPlan, painter: _Painter) -> list[str]:
    where: dict[str, list[str]] = {label: [] for label in loop_plan.labels}
    for k, (name, term) in enumerate(zip(loop_plan.names, loop_plan.terms)):
        for axis, label in enumerate(term):
            note = " (size 1, broadcast)" if loop_plan.is_broadcast(k, axis) else ""
            where[label].append(f"{name} axis {axis}{note}")
    for axis, label in enumerate(loop_plan.output):
        where[label].append(f"out axis {axis}")
    rows = ["  label  size  role    axes"]
    for label in loop_plan.labels:
        role = "free" if label in loop_plan.free else "summed"
        origin = "  (a dimension of '...')" if label in loop_plan.ellipsis else ""
        rows.append(f"  {painter.label(label, label)}{' ' * 5}{loop_plan.sizes[label]:>5}  "
                    f"{role:<7} {', '.join(dict.fromkeys(where[label]))}{origin}")
    rows.append(f"  steps {loop_plan.n_steps:,}   flops {loop_plan.flops:,}   "
                f"out shape {loop_plan.out_shape}")
    return rows


def _report(
    explanation: Explanation,
    operands: Sequence[np.ndarray],
    result: np.ndarray,
    values: str,
    seed: int,
    painter: _Painter,
) -> str:
    loop_plan = explanation.plan
    lines = [f"{painter.letters(explanation.subscripts)}  —  {explanation.title}", ""]
    lines += [f"  {sentence}" for sentence in explanation.sentences]
    lines += ["", "sizes", *_sizes_table(loop_plan, painter)]
    lines += ["", "formula", f"  {painter.formula(explanation.formula)}"]
    code = painter.code(explanation.loop_code, loop_plan.variables())
    lines += ["", "loop code", *(f"  {line}" for line in code.splitlines())]
    lines += ["", f"operands ({_values_note(values, seed)})"]
    for name, operand in zip(loop_plan.names, operands):
        lines += _array_lines(name, operand)
    lines += ["", "result", *_array_lines("out", result)]
    return "\n".join(lines)


def _script(loop_plan: LoopPlan, values: str, seed: int, painter: _Painter) -> str:
    """The loops as a runnable script: the operands, the loops, and a check against numpy."""
    from .explain import explain

    explanation = explain(loop_plan)
    names = loop_plan.names
    lines = [f"# {loop_plan.equation}: {explanation.title} (written by einviz {__version__})",
             "import numpy as np", ""]
    if values == "random":
        rng = "rng" if "rng" not in names else "rng_"
        lines.append(f"{rng} = np.random.default_rng({seed})")
        lines += [f"{n} = {rng}.integers(-3, 6, size={s!r})" for n, s in zip(names, loop_plan.shapes)]
    elif values == "ones":
        lines += [f"{n} = np.ones({s!r}, dtype=np.int64)" for n, s in zip(names, loop_plan.shapes)]
    else:
        lines += [f"{n} = np.arange(1, {math.prod(s) + 1}).reshape({s!r})"
                  for n, s in zip(names, loop_plan.shapes)]
    lines += ["", painter.code(explanation.loop_code, loop_plan.variables()), "", "print(out)"]
    arguments = ", ".join(names)
    lines.append(f"assert np.array_equal(out, np.einsum({str(loop_plan.equation)!r}, {arguments}))")
    if explanation.equivalent is not None:
        lines.append(f"assert np.array_equal(out, {explanation.equivalent})  # without einsum")
    return "\n".join(lines)


# -- the figure --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """Where the figure goes: ``path`` exactly (``-o``), or a new file ``folder/stem[-k].svg``."""

    suffix: str
    path: str | None = None
    folder: str = "."
    stem: str = ""
    force: bool = False


def figure_name(equation: Equation) -> str:
    """The default figure name's stem: ``ij,jk->ik`` → ``einsum_ij_jk_to_ik``.

    Spaces are dropped, a ``...`` is written ``dots`` and an empty term ``scalar``; the
    result holds only letters, digits and underscores.

    >>> figure_name(parse("ij,jk->ik")), figure_name(parse("...ij->"))
    ('einsum_ij_jk_to_ik', 'einsum_dotsij_to_scalar')
    """
    text = (equation.source or str(equation)).replace(" ", "")
    inputs, arrow, output = text.partition("->")

    def term(labels: str) -> str:
        return labels.replace("...", "dots") or "scalar"

    name = "einsum_" + "_".join(term(t) for t in inputs.split(","))
    if arrow:
        name += "_to_" + term(output)
    return re.sub(r"[^A-Za-z0-9_]", "_", name)[:120]


def _figure_target(output: str | None, equation: Equation, force: bool) -> _Target:
    """Check where the figure will go before any work is done (exit 2 when it cannot)."""
    if output is None or os.path.isdir(output):
        return _Target(".svg", folder=output or ".", stem=figure_name(equation))
    if output.endswith(("/", os.sep)):
        missing = output.rstrip("/" + os.sep)
        raise EinvizError(f"cannot write into {output!r}: there is no folder {missing!r}",
                          hint="create the folder first, or choose another path")
    suffix = os.path.splitext(output)[1].lower()
    if suffix == ".htm":
        suffix = ".html"
    if suffix not in FIGURES:
        raise EinvizError(
            f"cannot write {output!r}: einviz writes .svg, .png, .gif or .html files",
            details=[f"given suffix: {suffix or '(none)'}"],
            hint="name the file with one of those suffixes, e.g. -o figure.svg",
        )
    check_target(output)  # its folder is there
    if os.path.exists(output) and not force:
        raise _exists(output)
    return _Target(suffix, path=output, force=force)


def _render_figure(
    target: _Target,
    args: argparse.Namespace,
    equation: Equation,
    operands: Sequence[np.ndarray],
    names: list[str] | None,
) -> tuple[str | bytes, str]:
    """Animate and render in the target's format: the file's contents, and what they are."""
    from .animation import Animation, animate

    method = {".svg": "to_svg", ".png": "to_png", ".gif": "to_gif", ".html": "to_html"}[target.suffix]
    if not hasattr(Animation, method):
        raise EinvizError(
            f"this einviz cannot write {target.suffix} files yet (Animation.{method} is missing)",
            hint="write .svg or .png instead",
        )
    animation = animate(equation.text_for_carets(), *operands, granularity=args.granularity,
                        max_frames=args.max_frames, names=names, frame_ms=args.frame_ms)
    render = getattr(animation, method)
    data = render(**_progress_option(render, args.quiet)) if target.suffix == ".gif" else render()
    if target.suffix == ".png":
        return data, FIGURES[".png"]
    return data, (f"{FIGURES[target.suffix]}, {animation.n_frames} frames, "
                  f"granularity {animation.granularity}")


def _save(target: _Target, data: str | bytes) -> str:
    """Write the figure: to -o's path (over a file only with --force), else to a new file."""
    if target.path is not None:
        try:
            write_file(target.path, data, exclusive=not target.force)
        except FileExistsError:
            raise _exists(target.path) from None
        return target.path
    for path in _candidates(target.folder, target.stem, target.suffix):
        try:
            write_file(path, data, exclusive=True)
        except FileExistsError:
            continue
        return path
    raise AssertionError("unreachable: the candidates never end")


def _progress_option(render: Any, quiet: bool) -> dict[str, Any]:
    """Ask for a progress bar when the renderer offers one and stderr is a terminal."""
    import inspect

    try:
        accepted = inspect.signature(render).parameters
    except (TypeError, ValueError):
        return {}
    if "progress" not in accepted:
        return {}
    return {"progress": not quiet and _is_terminal(sys.stderr)}


def _candidates(folder: str, stem: str, suffix: str) -> Iterator[str]:
    """``stem.svg``, ``stem-1.svg``, ``stem-2.svg``, … in ``folder``."""
    k = 0
    while True:
        name = stem + (f"-{k}" if k else "") + suffix
        yield name if folder == "." else os.path.join(folder, name)
        k += 1


def _exists(path: str) -> EinvizError:
    return EinvizError(f"{path!r} already exists; einviz does not overwrite files unasked",
                       hint="pass --force to overwrite it, or choose another name with -o")


# --------------------------------------------------------------------------------------------
# einviz run SCRIPT.py
# --------------------------------------------------------------------------------------------


def _is_run(argv: list[str]) -> bool:
    """``einviz run`` is the subcommand when its script argument ends in .py or is a file."""
    if not argv or argv[0] != "run":
        return False
    k = 1
    while k < len(argv):
        arg = argv[k]
        if arg in ("-h", "--help"):
            return k == 1
        attached = arg.startswith("--output=") or (arg.startswith("-o") and len(arg) > 2)
        if arg in _RUN_VALUED:
            k += 2
        elif arg in _RUN_FLAGS or attached:
            k += 1
        else:
            return arg.endswith(".py") or os.path.isfile(arg)
    return False


def _run_parser() -> argparse.ArgumentParser:
    import argparse

    parser = _parser("einviz run", "einviz run [-o REPORT.html] [--force] [--no-report] [-q] "
                     "SCRIPT [ARGS ...]", RUN_DESCRIPTION, RUN_EXAMPLES)
    parser.add_argument("script", metavar="SCRIPT", help="the Python script to run")
    parser.add_argument("script_args", metavar="ARGS", nargs=argparse.REMAINDER,
                        help="the script's own arguments")
    parser.add_argument("-o", "--output", metavar="REPORT.html",
                        help="write the report there (default: a new einviz_report_SCRIPT.html "
                        "in the current folder); an existing file is refused unless --force")
    parser.add_argument("--force", action="store_true", help="let -o overwrite an existing file")
    parser.add_argument("--no-report", action="store_true", help="write no report")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print no summary: only the report's path")
    return parser


def _run_command(argv: list[str]) -> int:
    args = _run_parser().parse_args(argv)
    from .recording import run_script

    script = args.script
    if not os.path.isfile(script):
        raise EinvizError(f"cannot run {script!r}: there is no such file",
                          hint="give the path of a Python script, then its arguments")
    if args.no_report and args.output is not None:
        raise EinvizError("-o and --no-report ask for opposite things", hint="drop one of them")
    report = None if args.no_report else _reserve_report(args.output, script, args.force)
    calls = run_script(script, args.script_args, report_path=report, catch=True)
    if calls.error is not None:  # the script's own error: shown as Python shows it
        _print_script_error(calls.error)
    sys.stdout.flush()
    if not args.quiet:
        groups = calls.distinct()
        print(f"\neinviz: {len(calls)} einsum call{'s' * (len(calls) != 1)}, "
              f"{len(groups)} distinct" if calls else "\neinviz: the script made no einsum calls (calls in child processes are not seen)")
        for line in calls.summary_lines():
            print(line)
    if report is not None:
        print(report if args.quiet else f"report: {report}")
    return calls.exit_status or 0


def _reserve_report(output: str | None, script: str, force: bool) -> str:
    """Claim the report's file now (a new empty file), so nothing can be overwritten later."""
    if output is not None and not os.path.isdir(output):
        check_target(output)  # its folder is there
        if os.path.exists(output) and not force:
            raise _exists(output)
        if not os.path.exists(output):
            write_file(output, "", exclusive=True)
        return output
    stem = "einviz_report_" + re.sub(r"[^A-Za-z0-9_]", "_", os.path.splitext(os.path.basename(script))[0])
    for path in _candidates(output or ".", stem, ".html"):
        try:
            write_file(path, "", exclusive=True)
        except FileExistsError:
            continue
        return path
    raise AssertionError("unreachable: the candidates never end")


def _print_script_error(error: BaseException) -> None:
    """Print the script's traceback as Python would, without einviz's and runpy's frames."""
    import traceback

    here = os.path.dirname(os.path.abspath(__file__))
    exception = traceback.TracebackException.from_exception(error)
    frames = [frame for frame in exception.stack
              if not os.path.abspath(frame.filename).startswith(here + os.sep)
              and frame.filename != "<frozen runpy>"
              and os.path.basename(frame.filename) != "runpy.py"]
    exception.stack = traceback.StackSummary.from_list(frames)
    sys.stdout.flush()
    sys.stderr.write("".join(exception.format()))
