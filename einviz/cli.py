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

This module parses the arguments and runs the stages once each — one parse, one bind, one
explanation, handed on to every later stage. Its parts, one job each: ``cli_options`` (the
parser and option values), ``cli_operands`` (the operands made and the limits checked first),
``cli_figure`` (where the figure goes, never over a file), ``cli_report`` (the text printed),
``terminal`` (escapes, encodings, colour) and ``cli_run`` (``einviz run``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__
from . import cli_operands as operands_module
from .cli_figure import STDOUT, Target, figure_name, figure_target, render, save
from .cli_options import (
    Exit,
    count,
    make_parser,
    milliseconds,
    optimize_option,
    parse_names,
    parse_shapes,
    parse_sizes,
    positive,
    split_list,
)
from .errors import EinvizError
from .operands import default_shapes
from .planning import LoopPlan, bind, get_limits, limits
from .reference import run
from .subscripts import ELLIPSIS, Equation, parse
from .terminal import Painter, printable, say, use_colour

if TYPE_CHECKING:
    import argparse

    from .backends import CheckReport
    from .explaining import Explanation
    from .paths import ContractionPath

__all__ = ["figure_name", "main"]

DEFAULT_MAX_STEPS = operands_module.DEFAULT_MAX_STEPS
#: What ``--values`` can fill the operands with.
VALUES = ("arange", "random", "ones")

USAGE = """\
einviz SUBSCRIPTS [--shapes S | --sizes S] [--values V] [options]
       einviz run [-o REPORT.html] (SCRIPT.py | -m MODULE) [ARGS ...]
       einviz serve [--host H] [--port P] [--open]"""

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
  einviz "ij,jk->ik" -o - --format png > m.png   the figure to standard output
  einviz "ij,jk->ik" --json                 the plan and explanation as JSON
  einviz "batch seq, seq dim -> batch dim" --shapes 8x16,16x4   einops' notation
  einviz "ij,jk->ik" --no-figure            the text alone, no file written
  einviz run model.py --epochs 1            the einsums a script makes, in an HTML report
  einviz run -m pytest tests/               the same for a module, run as python -m runs it
  einviz serve --open                       the live playground: type an einsum, watch it

exit status: 0 ok, 1 a backend disagrees (--check), 2 bad input (with the reason on stderr)"""


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
        from .cli_run import is_run, run_command

        if is_run(args):
            return run_command(args[1:])
        if args[:1] == ["serve"]:  # checked first: the launcher's imports are not free
            from .serve.launch import is_serve_command
            from .serve.launch import run as serve

            if is_serve_command(args):
                return serve(args[1:])
        return _explain_command(args)
    except Exit as stop:
        return stop.status
    except EinvizError as error:
        say(f"einviz: {error}", stream=sys.stderr)
        return 2
    except MemoryError:
        # Within MAX_BYTES, but more than this machine could give (or the figure needed).
        say("einviz: ran out of memory making or drawing this einsum\n"
            "  hint: give smaller sizes with --shapes or --sizes", stream=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`einviz ... | head`): stop quietly, as cat does.
        _silence_stdout()
        return 1
    except OSError as error:
        # The output cannot be written (a full disk, /dev/full): files einviz writes are
        # EinvizErrors already, so this is stdout; say so once, not at every later flush.
        _silence_stdout()
        say(f"einviz: cannot write the output: {error.strerror or error}", stream=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


# --------------------------------------------------------------------------------------------
# einviz SUBSCRIPTS
# --------------------------------------------------------------------------------------------


def _explain_parser() -> argparse.ArgumentParser:
    parser = make_parser("einviz", USAGE, DESCRIPTION, EXAMPLES)
    parser.add_argument("subscripts", metavar="SUBSCRIPTS",
                        help='einsum subscripts, e.g. "ij,jk->ik" (quote them in the shell)')
    parser.add_argument("--version", action="version", version=f"einviz {__version__}")
    parser.add_argument("--notation", choices=("auto", "numpy", "einops"), default="auto",
                        help="how to read SUBSCRIPTS: numpy's letters (ij,jk->ik), einops' words "
                        "('batch seq, seq dim -> batch dim'), or auto (default: einops' when a "
                        "term has several words and a word is longer than a letter)")

    operands = parser.add_argument_group("operands")
    operands.add_argument("--shapes", metavar="S",
                          help="the operands' shapes, e.g. 2x3,3x4; 'scalar' for a 0-d operand")
    operands.add_argument("--sizes", metavar="S",
                          help="some labels' sizes, e.g. i=2,j=5 (the others get 2, 3, 4); "
                          "...=2x3 for the dimensions of '...'")
    operands.add_argument("--values", choices=VALUES, default="arange",
                          help="arange (default): 1, 2, 3, … in each operand; random: integers "
                          "from -3 to 5; ones")
    operands.add_argument("--seed", type=count, default=0, metavar="N",
                          help="the seed of --values random (default 0)")
    operands.add_argument("--names", metavar="A,B",
                          help="the operands' names (default A, B, C, …)")
    operands.add_argument("--max-steps", type=positive, default=DEFAULT_MAX_STEPS, metavar="N",
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
    shown.add_argument("--optimize", metavar="STRATEGY", type=optimize_option,
                       help="with --path: how the library finds it, e.g. greedy, optimal, dp "
                       "(default: the library's own default), or a path of your own such as "
                       "'[(0, 1), (0, 1)]'")
    shown.add_argument("--code", action="store_true",
                       help="print only the loops, as a runnable Python script (no figure "
                       "unless -o is given)")
    shown.add_argument("--json", action="store_true",
                       help="print the plan, the explanation, the operands and the result (and "
                       "the path and check, when asked) as one JSON document, and nothing else "
                       "on stdout (no figure unless -o is given)")
    shown.add_argument("-q", "--quiet", action="store_true",
                       help="print no explanation and no progress bar: only the path of the "
                       "file written (and what --path and --check print, when asked)")
    shown.add_argument("--color", dest="color",
                       choices=("auto", "always", "never"), default="auto",
                       help="colour the labels: auto (default: on a terminal, unless NO_COLOR "
                       "is set or TERM=dumb), always, never")
    shown.add_argument("--no-color", dest="color", action="store_const",
                       const="never", help="the same as --color=never")

    _figure_options(parser)
    return parser


def _figure_options(parser: argparse.ArgumentParser) -> None:
    """The options of the figure the command writes."""
    figure = parser.add_argument_group("the figure")
    figure.add_argument("-o", "--output", metavar="FILE",
                        help="write the figure to FILE: .svg (animated), .png (the final state), "
                        ".gif or .html (a player); a folder gets the default name; an existing "
                        "file is refused unless --force; '-' is standard output (the text then "
                        "goes to stderr)")
    figure.add_argument("--format", choices=("svg", "png", "gif", "html"), dest="figure_format",
                        help="with -o -: the figure's format (default svg)")
    figure.add_argument("--force", action="store_true",
                        help="let -o overwrite an existing file")
    figure.add_argument("--no-figure", "--text-only", dest="no_figure", action="store_true",
                        help="write no figure")
    figure.add_argument("--granularity", choices=("auto", "step", "cell"), default="auto",
                        help="a frame per multiply-add (step), per output cell (cell), or the "
                        "finest that fits --max-frames (auto, the default)")
    figure.add_argument("--max-frames", type=positive, default=120, metavar="N",
                        help="the most frames, opening and final ones included (default 120)")
    figure.add_argument("--frame-ms", type=milliseconds, metavar="MS",
                        help="how long a step or cell frame shows, in milliseconds")
    figure.add_argument("--view", choices=("grid", "product", "network", "tree", "blocks", "cube"),
                        default="grid",
                        help="grid (the animated arrays, the default), product (animated: the "
                        "operands multiplied into the product tensor P, then P summed), network (the tensor-"
                        "network diagram), tree (the contraction tree of the path), blocks (3-d "
                        "operands as blocks) or cube (the iteration cube of two matrices)")
    figure.add_argument("--layout", choices=("grid", "3d", "auto"), default="auto",
                        help="beside the animated grids: nothing (grid), a 3-D panel lit in step "
                        "with them (3d: the iteration cube of two matrices, else the arrays as "
                        "blocks), or blocks where a 3-d operand is small (auto, the default)")
    figure.add_argument("--panel", choices=("network", "blocks", "cube"),
                        help="a diagram beside the animated grids, lit in step with them: the "
                        "tensor network (the moving loop variable's line lit), 3-D blocks or "
                        "the iteration cube (.svg and .png; a .gif leaves it out)")


@dataclass(frozen=True)
class _Made:
    """What one run computes, all of it before anything is printed."""

    plan: LoopPlan
    explanation: Explanation | None
    operands: list[np.ndarray]
    result: np.ndarray
    figure: tuple[str | bytes, str] | None
    path: ContractionPath | None
    report: CheckReport | None


def _explain_command(argv: list[str]) -> int:
    args = _explain_parser().parse_args(_shield_arrow(argv))
    _check_option_pairs(args)
    _check_unquoted_arrow(args.subscripts)
    # One parse and one bind per run: every later stage takes these objects.
    equation = parse(args.subscripts, args.notation)
    loop_plan = _bind(args, equation)
    operands_module.check_memory(loop_plan)
    operands_module.check_size(loop_plan, args.max_steps)
    target = None
    if not args.no_figure and (args.output is not None or not (args.code or args.json)):
        operands_module.check_figure(loop_plan, args.max_frames)
        target = figure_target(args.output, equation, args.force, args.figure_format)

    # Everything is computed before anything is printed: when a part fails, only the reason is.
    made = _compute(args, loop_plan, target)
    # The file first: a reader that stops reading early (`| head`) must not lose it.
    written = save(target, made.figure[0]) if target is not None and made.figure is not None else None
    _print(args, made, written)
    return 0 if made.report is None or made.report.ok else 1


def _check_option_pairs(args: argparse.Namespace) -> None:
    """Refuse options that contradict each other, or that need another one."""
    if args.output is not None and args.no_figure:
        raise EinvizError("-o and --no-figure ask for opposite things",
                          hint="drop one of them")
    if args.shapes is not None and args.sizes is not None:
        raise EinvizError("give --shapes or --sizes, not both",
                          hint="--shapes sets every axis; --sizes sets some labels' sizes")
    if args.code and args.json:
        raise EinvizError("--code and --json both ask for the whole of stdout",
                          hint="drop one of them")
    if args.json and args.output == STDOUT:
        raise EinvizError("--json and -o - both ask for the whole of stdout",
                          hint="write the figure to a file, e.g. -o figure.svg")
    if args.figure_format is not None and args.output != STDOUT:
        raise EinvizError("--format goes with -o - (a file's suffix names its format)",
                          hint=f"write -o - --format {args.figure_format}, or "
                               f"-o figure.{args.figure_format}")
    if args.backends is not None and not args.check:
        raise EinvizError("--backends goes with --check", hint="add --check")
    if (args.panel is not None or args.layout == "3d") and args.view not in ("grid", "product"):
        said = f"--panel {args.panel}" if args.panel is not None else "--layout 3d"
        raise EinvizError(f"{said} goes beside the animated grids, not --view {args.view}",
                          hint=f"drop --view {args.view}, or drop {said}")
    if (args.optimize is not None or args.path_source != "opt_einsum") and not args.path:
        raise EinvizError("--optimize and --path-source go with --path", hint="add --path")


def _bind(args: argparse.Namespace, equation: Equation) -> LoopPlan:
    """The plan of the operands the options describe (--shapes, or --sizes and the defaults)."""
    names = parse_names(args.names) if args.names is not None else None
    if args.shapes is not None:
        shapes = parse_shapes(args.shapes)
    else:
        label_sizes, ellipsis = parse_sizes(args.sizes, equation) if args.sizes else ({}, None)
        given = label_sizes if ellipsis is None else {**label_sizes, ELLIPSIS: ellipsis}
        shapes = default_shapes(equation, given)
    return bind(equation, tuple(shapes), names)


def _compute(args: argparse.Namespace, loop_plan: LoopPlan, target: Target | None) -> _Made:
    """The operands, the result, the explanation, the figure, the path and the check."""
    operands = operands_module.make_operands(loop_plan.shapes, args.values, args.seed)
    explanation = None
    if args.code or not args.quiet or target is not None:
        from .explaining import explain

        explanation = explain(loop_plan)
    with limits(max_steps=args.max_steps, max_elements=max(args.max_steps, 1)):
        result = np.asarray(run(loop_plan, operands))
        figure = _figure(args, target, loop_plan, explanation, operands) if target else None
        path = _path(args, loop_plan) if args.path else None
        report = None
        if args.check:
            from .backends import check

            backends = split_list(args.backends) if args.backends is not None else None
            report = check(loop_plan, *operands, backends=backends)
    return _Made(loop_plan, explanation, operands, result, figure, path, report)


def _figure(
    args: argparse.Namespace,
    target: Target,
    loop_plan: LoopPlan,
    explanation: Explanation | None,
    operands: list[np.ndarray],
) -> tuple[str | bytes, str]:
    """Animate the einsum (or draw the other view asked for) in the target's format."""
    from .animation import animate

    if args.view not in ("grid", "product"):  # the animated views go through animate
        return _diagram(args.view, target, loop_plan, operands)

    # check_figure let --max-frames past the frame limit only when the einsum cannot fill it:
    # the animation gets the same frames with the limit itself.
    max_frames = min(args.max_frames, get_limits().max_frames)
    options: dict[str, Any] = {"granularity": args.granularity, "max_frames": max_frames,
                               "frame_ms": args.frame_ms, "view": args.view,
                               "layout": args.layout, "panel": args.panel}
    animation = animate(loop_plan, *operands, explanation=explanation, **options)
    return render(target, animation, args.quiet)


def _diagram(name: str, target: Target, loop_plan: LoopPlan,
             operands: list[np.ndarray]) -> tuple[str | bytes, str]:
    """A diagram view (--view network|tree|blocks|cube), in the target's format."""
    from .diagrams import view

    if target.suffix == ".gif":
        raise EinvizError(f"the {name} view is drawn as .svg, .png or .html, not .gif",
                          hint=f"give -o {name}.svg (or .png, .html)")
    figure = view(name, str(loop_plan.equation), *operands, names=loop_plan.names)
    data: str | bytes = (figure.to_png() if target.suffix == ".png" else
                         figure.to_html() if target.suffix == ".html" else figure.to_svg())
    return data, f"the {name} view"


def _path(args: argparse.Namespace, loop_plan: LoopPlan) -> ContractionPath:
    from .paths import contraction_path

    optimize = True if args.optimize is None else args.optimize
    return contraction_path(loop_plan,
                            optimize=optimize, source=args.path_source)


def _print(args: argparse.Namespace, made: _Made, written: str | None) -> None:
    """The report (or the script), then the path, the check and the file written."""
    from .cli_report import report, script

    if args.json:
        from .cli_json import document

        say(document(made, written, args.values, args.seed))
        if written is not None and made.figure is not None:
            say(f"figure: {printable(written)} ({made.figure[1]})", stream=sys.stderr)
        return
    # With --code, stdout is the script alone, and with -o - the figure: the rest goes to stderr.
    side = sys.stderr if args.code or args.output == STDOUT else sys.stdout
    loop_plan = made.plan
    painter = Painter.for_labels(loop_plan.equation.labels + loop_plan.ellipsis,
                                 use_colour(args.color, side))
    if args.code and made.explanation is not None:
        say(script(made.explanation, args.values, args.seed, painter))
    elif not args.quiet and made.explanation is not None:
        say(report(made.explanation, made.operands, made.result, args.values, args.seed, painter),
            stream=side)
    gap = "" if args.quiet or args.code else "\n"
    if made.path is not None:
        say(gap + str(made.path), stream=side)
        gap = "\n"
    if made.report is not None:
        say(gap + str(made.report), stream=side)
    if written is not None and made.figure is not None and not (args.quiet and args.output == STDOUT):
        # The path as one line, whatever it holds: a newline in it is shown as \n.
        shown = printable(written)
        say(shown if args.quiet else f"\nfigure: {shown} ({made.figure[1]})", stream=side)


def _check_unquoted_arrow(subscripts: str) -> None:
    """Refuse subscripts the shell cut at an unquoted ``>``: ``einviz ij->i`` runs einviz with
    ``ij-`` and sends its output into a new file named ``i``. Text that ends in ``-`` with no
    ``>`` is that, or a typing slip; either way quoting is the fix."""
    if not subscripts.rstrip().endswith("-") or ">" in subscripts:
        return
    where = _stdout_file()
    meant = f"{subscripts.rstrip()}>{where or '...'}"
    made = (f"; the shell also sent einviz's output into a new file {where!r}: remove it"
            if where else "")
    raise EinvizError(
        f"the subscripts {subscripts!r} end in '-': the shell took the '>' of '->' for a redirect",
        subscripts=subscripts, positions=[len(subscripts.rstrip()) - 1],
        hint=f"quote the subscripts: einviz '{meant}'{made}")


def _stdout_file() -> str | None:
    """The regular file standard output was redirected into, where the system says (Linux)."""
    try:
        if sys.stdout.isatty():
            return None
        target = os.readlink("/proc/self/fd/1")
    except (OSError, ValueError, AttributeError):
        return None
    return os.path.basename(target) if os.path.isfile(target) else None


def _shield_arrow(argv: list[str]) -> list[str]:
    """Subscripts with an empty first term (``->``, ``->i``) look like an option to
    argparse: move them behind a ``--``. No option's value starts with ``->``."""
    for k, arg in enumerate(argv):
        if arg == "--":
            break
        if arg.startswith("->"):
            return argv[:k] + argv[k + 1 :] + ["--", arg]
    return argv
