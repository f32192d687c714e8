"""What a capture report says about each distinct einsum, computed by the analysis stages.

For every :class:`~einviz.CallGroup`, :func:`report_parts` finds the call sites with their
source lines, the explanation (:func:`einviz.explain`), for three or more operands the path
each (entry point, ``optimize``) used takes (:func:`einviz.paths.library_path`,
:func:`einviz.contraction_path`), the figure (:func:`einviz.animate`) and the backend check
(:func:`einviz.check`); :func:`einviz.render.reports.report_html` lays them out. A part whose
module cannot be imported is left out, and the report says which.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._words import optimize_text, short_path
from .errors import LimitError
from .operands import fill
from .planning import limits
from .render.reports import Figure, Section, Site, WayPath

if TYPE_CHECKING:
    from .recording import Call, CallGroup, Calls

_FIGURE_MAX_AXIS = 8  # the figure draws longer axes cut, with an ellipsis cell
# A figure traces every multiply-add; above this many (about half a second) the recorded
# operands are cut instead, so one odd call cannot hold the whole report up.
_FIGURE_MAX_STEPS = 10**7
_FIGURE_CUT = 3  # operands that cannot be drawn whole are cut to their first cells per axis
_MAX_PATH_SETTINGS = 3  # paths drawn per section, one per distinct (entry point, optimize)


def _optional(name: str) -> tuple[Callable[..., Any] | None, str | None]:
    """The function ``name`` of einviz if it can be imported, else why not."""
    # Plain imports, so that no import is hidden from a reader (or a cycle check).
    found: Callable[..., Any]
    try:
        if name == "explain":
            from .explaining import explain as found
        elif name == "animate":
            from .animation import animate as found
        else:
            from .backends import check as found
    except ImportError as exc:
        module = {"explain": "einviz.explaining", "animate": "einviz.animation"}.get(
            name, "einviz.backends")
        return None, f"{module} could not be imported ({exc})"
    return found, None


def report_parts(calls: Calls) -> tuple[list[Section], list[str]]:
    """Each distinct einsum's :class:`~einviz.render.reports.Section`, and the parts left out."""
    explain, no_explain = _optional("explain")
    animate, no_animate = _optional("animate")
    check, no_check = _optional("check")
    absent = (("explanations", no_explain), ("figures", no_animate), ("backend checks", no_check))
    missing = [f"{what} left out: {why}" for what, why in absent if why]
    sections = [_section(group, explain, animate, check) for group in calls.distinct()]
    return sections, missing


def _section(
    group: CallGroup,
    explain: Callable[..., Any] | None,
    animate: Callable[..., Any] | None,
    check: Callable[..., Any] | None,
) -> Section:
    succeeded = len(group.failures) < group.count
    operands, operands_note = _real_operands(group)
    explanation = _explanation(explain, group, operands) if explain is not None else None
    paths, ways, hidden = (None, "", 0)
    if len(group.shapes) >= 3:
        paths, ways, hidden = _paths(group)
    figure = _figure(animate, group) if succeeded and animate is not None else None
    table = None
    if succeeded and check is not None:
        if operands is None:
            operands, operands_note = _made_up_operands(group)
        try:
            table = check(group.subscripts, *operands)
        except Exception as exc:
            table = exc
    return Section(group, _sites(group), explanation, paths, ways, hidden, figure, table,
                   operands_note)


def _sites(group: CallGroup) -> tuple[Site, ...]:
    callers: dict[str, tuple[str, int, str]] = {}
    for call in group.calls:
        callers.setdefault(call.where, (call.filename, call.lineno, call.caller))
    sites = []
    for where, count in group.sites.items():
        filename, lineno, caller = callers[where]
        sites.append(Site(where, caller, count, linecache.getline(filename, lineno).strip()))
    return tuple(sites)


def _real_operands(group: CallGroup) -> tuple[list[np.ndarray] | None, str | None]:
    example = group.example
    if example is None or example.operands is None:
        return None, None
    return list(example.operands), f"Checked on the operands recorded at {short_path(example.where)}."


def _explanation(
    explain: Callable[..., Any], group: CallGroup, operands: list[np.ndarray] | None
) -> Any:
    try:
        if operands is not None:
            return explain(group.subscripts, *operands)
        return explain(group.subscripts, shapes=group.shapes)
    except Exception as exc:
        return exc


def _made_up_operands(group: CallGroup) -> tuple[list[np.ndarray], str]:
    """Small integer operands of the recorded shapes cut short, and a sentence saying so."""
    shapes = [tuple(min(size, _FIGURE_CUT) for size in shape) for shape in group.shapes]
    made_up = fill(shapes)
    why = group.calls[0].note or "not copied"
    return made_up, (
        f"The operands were not kept ({why}): shown on operands of the recorded shapes cut to at "
        f"most {_FIGURE_CUT} cells per axis, filled with 1, 2, 3, … as einviz's other figures are."
    )


def _cut(operands: Sequence[np.ndarray]) -> list[np.ndarray]:
    # Cutting every axis to its first cells keeps shared labels the same size and broadcast
    # axes at size 1, so the cut problem is still a valid einsum.
    return [operand[tuple(slice(0, _FIGURE_CUT) for _ in operand.shape)] for operand in operands]


def _figure(animate: Callable[..., Any], group: CallGroup) -> Figure:
    """The figure of a section: on the recorded operands whenever they were kept."""
    example = group.example
    if example is None or example.operands is None:
        tries = [_made_up_operands(group)]
    else:
        where = short_path(example.where)
        long_axis = any(size > _FIGURE_MAX_AXIS for shape in group.shapes for size in shape)
        cut_long = f"; axes longer than {_FIGURE_MAX_AXIS} cells are drawn cut, with an ellipsis cell"
        tries = [
            (list(example.operands), f"The recorded operands (from {where}){cut_long * long_axis}."),
            (_cut(example.operands), (
                f"The recorded operands (from {where}) need more than {_FIGURE_MAX_STEPS:,} "
                "multiply-adds, too many to animate in a report: shown cut to their first "
                f"{_FIGURE_CUT} cells along every axis."
            )),
        ]
    for k, (operands, note) in enumerate(tries):
        try:
            with limits(max_steps=_FIGURE_MAX_STEPS):
                animation = animate(group.subscripts, *operands, max_axis=_FIGURE_MAX_AXIS)
            if hasattr(animation, "player_html"):
                # The interactive player; the section above already explains the einsum.
                return Figure("player", animation.player_html(details=False), note)
            svg = animation.to_svg()
        except LimitError as exc:
            if k + 1 < len(tries):
                continue
            return Figure("none", f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            return Figure("none", f"{type(exc).__name__}: {exc}")
        return Figure("svg", svg.decode("utf-8") if isinstance(svg, bytes) else svg, note)
    raise AssertionError("unreachable: the last try returns")


def _paths(group: CallGroup) -> tuple[tuple[WayPath, ...], str, int]:
    """The path of each way the group's calls were made, the ways in words, the ways not shown.

    The order depends on the entry point and its ``optimize`` setting, so the calls are
    split by (entry point, optimize) and each way gets the path its library takes.
    """
    ways: dict[tuple[str, str], list[Call]] = {}
    for call in group.calls:
        ways.setdefault((call.function, optimize_text(call.library, call.optimize)), []).append(call)
    used = "; ".join(
        f"{function} with {setting} ({len(calls)} call{'s' * (len(calls) != 1)})"
        for (function, setting), calls in ways.items()
    )
    shown = tuple(
        _way(group, calls[0], setting, len(calls))
        for (_, setting), calls in list(ways.items())[:_MAX_PATH_SETTINGS]
    )
    return shown, used, max(len(ways) - _MAX_PATH_SETTINGS, 0)


def _way(group: CallGroup, call: Call, setting: str, count: int) -> WayPath:
    from .paths import contraction_path, library_path

    rule = library_path(call.library, call.function, call.optimize, len(group.shapes))
    example = group.example
    try:
        if example is not None and example.operands is not None:  # the figures draw their values
            found = contraction_path(group.subscripts, *example.operands,
                                     optimize=rule.optimize, source=rule.source)
        else:
            found = contraction_path(group.subscripts, shapes=group.shapes,
                                     optimize=rule.optimize, source=rule.source)
        fragment = found.to_html()
    except Exception as exc:
        return WayPath(call.function, setting, count, rule.rule, rule.detail, None,
                       f"{type(exc).__name__}: {exc}")
    return WayPath(call.function, setting, count, rule.rule, rule.detail, fragment)
