"""``einviz run SCRIPT.py [ARGS ...]``: run a script under capture, summarise and report its einsums.

Everything the script supplies — its subscripts, its paths, its error message — is printed
through :func:`einviz.terminal.printable`, so a script cannot retitle, recolour or clear the
terminal, nor split the one line ``-q`` prints.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Any

from ._files import check_target, write_file
from .cli_figure import candidates, exists_error
from .cli_options import make_parser
from .errors import EinvizError
from .terminal import printable, say

if TYPE_CHECKING:
    import argparse

    from .recording import Calls

__all__ = ["is_run", "run_command"]

RUN_DESCRIPTION = """\
Run a Python script under einviz.capture, as `python -m cProfile` does, and write an HTML
report of every einsum it made (numpy, opt_einsum, torch, jax): what each one does, a
figure and a backend check. One summary line per distinct einsum is printed when the script
ends. `einviz run` is read as this command when its script argument ends in .py or names an
existing file, or when it is `-m MODULE`; otherwise `run` is read as subscripts. With -m the
module runs as `python -m MODULE` runs it: as __main__, the current folder first on sys.path."""

RUN_EXAMPLES = """\
examples:
  einviz run model.py                       report in einviz_report_model.html (a new file)
  einviz run -o out.html model.py --lr 0.1  the report in out.html; --lr 0.1 goes to the script
  einviz run -m pytest tests/ -x            a module, run as `python -m pytest tests/ -x` runs it

exit status: the script's own (1 when it raised), 2 for bad input to einviz"""

#: ``einviz run``'s own options, so it can tell its script argument from its options.
_RUN_VALUED = ("-o", "--output")
_RUN_FLAGS = ("--force", "--no-report", "-q", "--quiet")
def is_run(argv: list[str]) -> bool:
    """``einviz run`` is the subcommand when its script argument ends in .py or is a file."""
    if not argv or argv[0] != "run":
        return False
    k = 1
    while k < len(argv):
        arg = argv[k]
        if arg in ("-h", "--help"):
            return k == 1
        if arg == "-m" or (arg.startswith("-m") and len(arg) > 2):
            return True
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

    usage = "einviz run [-o REPORT.html] [--force] [--no-report] [-q] (SCRIPT | -m MODULE) [ARGS ...]"
    parser = make_parser("einviz run", usage, RUN_DESCRIPTION, RUN_EXAMPLES)
    parser.add_argument("script", metavar="SCRIPT", help="the Python script to run")
    parser.add_argument("-m", dest="module", metavar="MODULE",
                        help="run a module as `python -m MODULE` does (then no SCRIPT: every "
                        "argument after MODULE goes to it)")
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


def run_command(argv: list[str]) -> int:
    """``einviz run``'s arguments (after ``run``) → the script's exit status."""
    module, argv = _split_module(argv)
    if module is not None:
        return _run_module_command(module, argv)
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
    return _finish(calls, args.quiet, report)


def _finish(calls: Calls, quiet: bool, report: str | None) -> int:
    """After the program ran: its own error (as Python shows it), the summary, the report's
    path; the program's exit status."""
    if calls.error is not None:
        _print_script_error(calls.error)
    sys.stdout.flush()
    if not quiet:
        _print_summary(calls)
    if report is not None:
        # One line with -q, whatever the path holds (a newline in it is shown as \n).
        say(printable(report) if quiet else f"report: {printable(report)}")
    return calls.exit_status or 0


def _split_module(argv: list[str]) -> tuple[str | None, list[str]]:
    """``[opts..., -m, MODULE, args...]`` → ``(MODULE, [opts..., args...])`` with the module's
    arguments behind a ``--`` (they are its own, as after ``python -m MODULE``)."""
    k = 0
    while k < len(argv):
        arg = argv[k]
        if arg == "-m" or (arg.startswith("-m") and len(arg) > 2):
            module = arg[2:] or (argv[k + 1] if k + 1 < len(argv) else "")
            rest = argv[k + (1 if arg[2:] else 2):]
            if not module:
                raise EinvizError("-m needs a module name",
                                  hint="e.g. einviz run -m pytest tests/")
            return module, argv[:k] + ["--", *rest]
        if arg in _RUN_VALUED:
            k += 2
        elif arg in _RUN_FLAGS or arg.startswith(("--output=", "-o")):
            k += 1
        else:
            return None, argv
    return None, argv


def _run_module_command(module: str, argv: list[str]) -> int:
    """``einviz run [options] -m MODULE ARGS``: the module's exit status."""
    cut = argv.index("--")
    args = _run_parser().parse_args([*argv[:cut], "--", module])
    if args.no_report and args.output is not None:
        raise EinvizError("-o and --no-report ask for opposite things", hint="drop one of them")
    _check_module(module)  # before the report's file is made
    report = None if args.no_report else _reserve_report(args.output, module, args.force)
    return _finish(run_module(module, argv[cut + 1:], report_path=report), args.quiet, report)


def run_module(module: str, argv: list[str], report_path: str | None = None) -> Any:
    """Run a module under :func:`einviz.capture` as ``python -m MODULE ARGS`` does: as
    ``__main__``, ``sys.argv[0]`` its file, the current folder first on ``sys.path``; the
    module's own exception is kept in ``calls.error`` (status 1), ``sys.exit`` gives the status.
    ``sys.argv`` and ``sys.path`` are put back afterwards.

    Raises:
        EinvizError: there is no module of that name.
    """
    import runpy

    from .recording import run_as_main

    _check_module(module)
    return run_as_main(lambda: runpy.run_module(module, run_name="__main__", alter_sys=True),
                       [module, *argv], os.getcwd(), report_path,
                       " ".join(["einviz run -m", module, *argv]))


def _check_module(module: str) -> None:
    """Refuse a module Python cannot find, from the current folder as ``python -m`` looks."""
    import importlib.util

    saved_path = sys.path[:]
    sys.path.insert(0, os.getcwd())
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):  # a missing parent package, or an empty or relative name
        found = None
    finally:
        sys.path[:] = saved_path
    if found is None:
        raise EinvizError(f"cannot run the module {module!r}: there is no module of that name",
                          hint="give a module Python can import, as with python -m; "
                               "a script is run by its path: einviz run script.py")


def _print_summary(calls: Any) -> None:
    """The count of calls, then one line per distinct einsum, escaped: the script wrote them."""
    if calls:
        groups = calls.distinct()
        say(f"\neinviz: {len(calls)} einsum call{'s' * (len(calls) != 1)}, {len(groups)} distinct")
    else:
        say("\neinviz: the script made no einsum calls (calls in child processes are not seen)")
    for line in calls.summary_lines():
        say(printable(line))


def _reserve_report(output: str | None, script: str, force: bool) -> str:
    """Claim the report's file now (a new empty file), so nothing can be overwritten later."""
    if output is not None and not os.path.isdir(output):
        check_target(output)  # its folder is there
        # lexists: a dangling link counts as a file, as it does for the exclusive create.
        if os.path.lexists(output) and not force:
            raise exists_error(output)
        if not os.path.lexists(output):
            try:
                write_file(output, "", exclusive=True)
            except FileExistsError:  # made meanwhile
                raise exists_error(output) from None
        return output
    stem = "einviz_report_" + re.sub(r"[^A-Za-z0-9_]", "_", os.path.splitext(os.path.basename(script))[0])
    for path in candidates(output or ".", stem, ".html"):
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
    # The script's own text (its message, its source lines) is escaped as its einsums are.
    text = "".join(exception.format())
    sys.stderr.write("".join(printable(line) + "\n" for line in text.splitlines()))
