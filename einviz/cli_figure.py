"""Where ``einviz``'s figure goes, and writing it there: never over a file unasked.

The target is checked before any work (a missing folder, a suffix einviz cannot write, a file
that exists — a dangling symbolic link counts as one), and the figure is written with an
exclusive create, so nothing made meanwhile is overwritten either.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._files import check_target, write_file
from .errors import EinvizError
from .subscripts import Equation
from .terminal import is_terminal

if TYPE_CHECKING:
    from .animation import Animation

__all__ = ["FIGURES", "STDOUT", "Target", "candidates", "exists_error", "figure_name",
           "figure_target", "render", "save"]

#: ``-o -``: the figure goes to standard output, as ``-o -`` means for curl, tar and pandoc.
STDOUT = "-"

#: What a figure file can be, by suffix.
FIGURES = {
    ".svg": "animated SVG",
    ".png": "PNG (the final state)",
    ".gif": "animated GIF",
    ".html": "HTML player",
}


@dataclass(frozen=True)
class Target:
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

    >>> from einviz.subscripts import parse
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


def figure_target(output: str | None, equation: Equation, force: bool,
                  figure_format: str | None = None) -> Target:
    """Check where the figure will go before any work is done (exit 2 when it cannot).

    ``-o -`` is standard output, in ``--format`` (SVG by default); PNG and GIF bytes are not
    written to a terminal."""
    if output == STDOUT:
        suffix = "." + (figure_format or "svg")
        if suffix in (".png", ".gif") and is_terminal(sys.stdout):
            raise EinvizError(
                f"-o - would write {FIGURES[suffix]} bytes to the terminal",
                hint=f"redirect them to a file or a program, e.g. einviz ... -o - --format "
                     f"{figure_format} > figure{suffix}")
        return Target(suffix, path=STDOUT, force=True)
    if figure_format is not None:
        raise EinvizError("--format goes with -o - (a file's suffix names its format)",
                          hint=f"write -o - --format {figure_format}, or -o figure.{figure_format}")
    if output is None or os.path.isdir(output):
        return Target(".svg", folder=output or ".", stem=figure_name(equation))
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
    # lexists: a dangling link is a name the user made, and an exclusive create refuses it.
    if os.path.lexists(output) and not force:
        raise exists_error(output)
    return Target(suffix, path=output, force=force)


def render(target: Target, animation: Animation, quiet: bool) -> tuple[str | bytes, str]:
    """The figure in the target's format: the file's contents, and what they are."""
    method = {".svg": "to_svg", ".png": "to_png", ".gif": "to_gif", ".html": "to_html"}[target.suffix]
    if not hasattr(animation, method):
        raise EinvizError(
            f"this einviz cannot write {target.suffix} files yet (Animation.{method} is missing)",
            hint="write .svg or .png instead",
        )
    write = getattr(animation, method)
    data = write(**_progress_option(write, quiet)) if target.suffix == ".gif" else write()
    panel = getattr(animation, "panel", None)
    beside = f", with the {panel.kind} panel" if panel is not None and target.suffix in (".svg", ".png") else ""
    if target.suffix == ".png":
        return data, FIGURES[".png"] + beside
    return data, (f"{FIGURES[target.suffix]}, {animation.n_frames} frames, "
                  f"granularity {animation.granularity}{beside}")


def save(target: Target, data: str | bytes) -> str:
    """Write the figure: to -o's path (over a file only with --force), to standard output
    (``-o -``), else to a new file."""
    if target.path == STDOUT:
        write_file(sys.stdout, data)  # bytes go to its binary buffer
        sys.stdout.flush()
        return "standard output"
    if target.path is not None:
        try:
            write_file(target.path, data, exclusive=not target.force)
        except FileExistsError:
            raise exists_error(target.path) from None
        return target.path
    for path in candidates(target.folder, target.stem, target.suffix):
        try:
            write_file(path, data, exclusive=True)
        except FileExistsError:
            continue
        return path
    raise AssertionError("unreachable: the candidates never end")


def _progress_option(write: Any, quiet: bool) -> dict[str, Any]:
    """Ask for a progress bar when the renderer offers one and stderr is a terminal."""
    import inspect

    try:
        accepted = inspect.signature(write).parameters
    except (TypeError, ValueError):
        return {}
    if "progress" not in accepted:
        return {}
    return {"progress": not quiet and is_terminal(sys.stderr)}


def candidates(folder: str, stem: str, suffix: str) -> Iterator[str]:
    """``stem.svg``, ``stem-1.svg``, ``stem-2.svg``, … in ``folder``."""
    k = 0
    while True:
        name = stem + (f"-{k}" if k else "") + suffix
        yield name if folder == "." else os.path.join(folder, name)
        k += 1


def exists_error(path: str) -> EinvizError:
    """The refusal to write over ``path`` (a file, a folder's entry or a dangling link)."""
    return EinvizError(f"{path!r} already exists; einviz does not overwrite files unasked",
                       hint="pass --force to overwrite it, or choose another name with -o")


