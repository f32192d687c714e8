"""A diagram that follows the grids' steps: the network, the 3-D blocks or the iteration cube.

A :class:`Panel` is drawn once, as SVG, beside the grids. Its parts that light up carry the
step they belong to: one ``<g class="einviz-step" data-step="t">`` for each step ``t`` that
lights something, hidden until it has the class ``einviz-on`` (the panel's own CSS says so).
Whoever plays the grids (the HTML player, a combined animated SVG) lights, in each frame, the
groups of that frame's last step, so the panel moves in step with the grids.

The builders take the *spans* to draw: the runs of steps the grids' frames cover
(:func:`frame_spans`; a step frame covers one step, a cell frame the steps of one output
cell). Each span gets one group, keyed by its last step, that lights the whole span: the
lines of the loop variables that move (network), every cell its multiply-adds read and write
(blocks), every product's small cube (cube). :func:`combined_svg` puts the grids and a panel
side by side in one SVG, the panel's groups shown by CSS in the grids' frame times.

>>> from einviz.tracing import trace
>>> import numpy as np
>>> panel = make_panel("network", trace("ij,jk->ik", np.ones((2, 2)), np.ones((2, 2))))
>>> panel.kind, panel.steps
('network', (0, 1, 2, 3, 4, 5, 6, 7))
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ..errors import EinvizError
from .svg import _Document, _s
from .text import format_value

if TYPE_CHECKING:
    from ..planning import LoopPlan
    from ..tracing import Trace
    from .scene import Scene

__all__ = ["AUTO_SIDE", "LAYOUTS", "MAX_PANEL_STEPS", "PANELS", "Panel", "blocks_panel", "cell_ref",
           "choose_panel", "combined_svg", "cube_panel", "frame_spans", "lit_labels", "make_panel", "network_panel",
           "panel_place", "panel_scale"]

#: The panels :func:`make_panel` draws.
PANELS = ("network", "blocks", "cube")
#: ``animate(layout=...)``: the grids alone, a 3-D panel beside them, or 3-D where it is small.
LAYOUTS = ("grid", "3d", "auto")
#: The most step groups a panel draws (a group a frame: ``max_frames`` stays far under it).
MAX_PANEL_STEPS = 512
#: The most steps read to light one span's cells; a longer span lights its last step's.
MAX_SPAN_STEPS = 512
#: ``layout="auto"`` draws 3-D blocks when no axis is longer than this (see :func:`choose_panel`).
AUTO_SIDE = 4
_GAP = 24.0
#: The widest a still or animated figure gets with its panel beside the grids: the 640 px every
#: grid figure keeps, so it reads at full size in a page, a README or a notebook cell; wider,
#: the panel goes under the grids. (The HTML player lays the two out for the screen it is on.)
MAX_SIDE_BY_SIDE = 640.0


@dataclass(frozen=True)
class Panel:
    """A diagram beside the grids, lit step by step.

    Attributes:
        kind: ``"network"``, ``"blocks"`` or ``"cube"``.
        svg: a complete ``<svg>`` with its own ids; its ``g.einviz-step[data-step]`` groups
            are what each step lights.
        width: the SVG's width in px.
        height: the SVG's height in px.
        note: why the panel is drawn as it is, or empty (for example, slices drawn apart
            because a solid block would hide cells).
        steps: the ``data-step`` of every group, in order.
        id: the SVG's id (its CSS rules start with ``#id``).
        done: the ``data-step`` of every ``g.einviz-done`` group: output values shown once
            their cell is done, from the frame that reaches that step on (shown where
            nothing plays them: the final picture).
    """

    kind: str
    svg: str
    width: float
    height: float
    note: str = ""
    steps: tuple[int, ...] = ()
    id: str = ""
    done: tuple[int, ...] = ()


def frame_spans(scene: Scene) -> list[range]:
    """The steps each of the scene's frames covers (frames without steps left out).

    >>> from einviz.tracing import trace
    >>> from einviz.render.scene import build_scene
    >>> frame_spans(build_scene(trace("i->", np.arange(3)), granularity="step"))
    [range(0, 1), range(1, 2), range(2, 3)]
    """
    return [frame.steps for frame in scene.frames if len(frame.steps)]


def _spans(loop_plan: LoopPlan, spans: Sequence[range] | None) -> list[range]:
    """The spans to draw: those given, or every step alone; refused over the bound."""
    if spans is None:
        if loop_plan.n_steps > MAX_PANEL_STEPS:
            raise EinvizError(
                f"a panel draws at most {MAX_PANEL_STEPS} steps; {loop_plan.equation} has "
                f"{loop_plan.n_steps:,}",
                hint="pass spans=frame_spans(scene): a group for each frame of the animation")
        return [range(t, t + 1) for t in range(loop_plan.n_steps)]
    spans = [span for span in spans if len(span)]
    if len(spans) > MAX_PANEL_STEPS:
        raise EinvizError(f"a panel draws at most {MAX_PANEL_STEPS} frames' steps, not {len(spans):,}",
                          hint=f"ask for fewer frames: max_frames (--max-frames) under {MAX_PANEL_STEPS}")
    return spans


def _step_css(doc: _Document, prefix: str) -> None:
    css = (f"#{prefix} g.einviz-step{{visibility:hidden}}"
           f"#{prefix} g.einviz-step.einviz-on{{visibility:visible}}")
    if doc.css:
        doc.css += css
    else:
        doc.defs.add(doc.style(css))


def _panel(kind: str, doc: _Document, prefix: str, steps: Sequence[int], note: str = "",
           done: Mapping[tuple[int, ...], int] | None = None) -> Panel:
    _step_css(doc, prefix)
    width, height = float(str(doc.attribs["width"])), float(str(doc.attribs["height"]))
    return Panel(kind, doc.tostring(), width, height, note, tuple(steps), prefix,
                 tuple(sorted(set((done or {}).values()))))


# -- the network -----------------------------------------------------------------------------------
def lit_labels(loop_plan: LoopPlan, span: range) -> tuple[str, ...]:
    """The loop variables a span lights: the one that moves into its first step (at step 0,
    none has moved yet: the innermost, which moves next), and every one that moves within it.

    >>> from einviz import plan
    >>> p = plan("ij,jk->ik", shapes=[(2, 3), (3, 4)])
    >>> lit_labels(p, range(0, 1)), lit_labels(p, range(3, 4)), lit_labels(p, range(3, 6))
    (('j',), ('k',), ('k', 'j'))
    """
    from .network import loop_values, moving_label

    labels = loop_plan.labels
    if not labels or not len(span):
        return ()
    moved = moving_label(loop_plan, span[0]) if span[0] > 0 else labels[-1]
    lit = {moved}
    first, last = loop_values(loop_plan, span[0]), loop_values(loop_plan, span[-1])
    changed = [label for label in labels if first[label] != last[label]]
    if changed:
        lit |= {label for label in labels[labels.index(changed[0]):] if loop_plan.sizes[label] > 1}
    return tuple(label for label in labels if label in lit)


def _values(loop_plan: LoopPlan, span: range, lit: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Each loop variable's value over a span: one number, or ``first…last`` where it moves."""
    from .network import loop_values

    first, last = loop_values(loop_plan, span[0]), loop_values(loop_plan, span[-1])
    stride = 1
    cover: dict[str, bool] = {}
    for label in reversed(loop_plan.labels):
        stride *= loop_plan.sizes[label]
        cover[label] = len(span) >= stride
    shown = []
    for label in loop_plan.labels:
        if first[label] == last[label] and not (cover[label] and loop_plan.sizes[label] > 1):
            shown.append((label, str(last[label])))
        elif cover[label]:
            shown.append((label, f"0…{loop_plan.sizes[label] - 1}"))
        else:
            shown.append((label, f"{first[label]}…{last[label]}"))
    return tuple(shown)


def network_panel(loop_plan: LoopPlan, spans: Sequence[range] | None = None,
                  prefix: str = "einviz-panel-network", colours: Mapping[str, str] | None = None) -> Panel:
    """The tensor-network diagram, each span lighting the lines of the loop variables that
    move (see :func:`lit_labels`), with the loop variables' values under it.

    >>> from einviz import plan
    >>> panel = network_panel(plan("ij,jk->ik", shapes=[(2, 3), (3, 4)]), [range(0, 3), range(3, 6)])
    >>> panel.steps, panel.svg.count('class="einviz-step"')
    ((2, 5), 2)
    """
    from .network import BUNDLE, NetworkStep, network_document, network_geometry

    bundle = set(loop_plan.ellipsis)
    steps = []
    for span in _spans(loop_plan, spans):
        lit = lit_labels(loop_plan, span)
        shown = tuple(dict.fromkeys(BUNDLE if label in bundle else label for label in lit))
        steps.append(NetworkStep(span[-1], shown, _values(loop_plan, span, lit)))
    geometry = network_geometry(loop_plan)
    geometry = replace(geometry, colours={**geometry.colours, **(colours or {})})
    doc = network_document(geometry, "", prefix, legend=True, steps=steps)
    return _panel("network", doc, prefix, [s.step for s in steps])


# -- blocks and the cube ---------------------------------------------------------------------------
def _records(trace: Trace, span: range) -> list:
    """The span's step records (only its last when it is longer than MAX_SPAN_STEPS)."""
    if len(span) > MAX_SPAN_STEPS:
        return list(trace.steps(span[-1], span[-1] + 1))
    return list(trace.steps(span[0], span[-1] + 1))


def _index(index: Sequence[int]) -> str:
    return ",".join(str(i) for i in index)


def _done(trace: Trace, pad: int = 0) -> dict[tuple[int, ...], int]:
    """Each output cell's last step (its value is final after it), by its index padded with
    ``pad`` leading zeros (as a 3-D drawing indexes a smaller array)."""
    return {(0,) * pad + index: trace.cell_steps(index).stop - 1
            for index in np.ndindex(*trace.plan.out_shape)}


def blocks_panel(trace: Trace, spans: Sequence[range] | None = None,
                 prefix: str = "einviz-panel-blocks", colours: Mapping[str, str] | None = None) -> Panel:
    """The operands and the result as 3-D blocks, each span lighting every cell its
    multiply-adds read (amber) and the output cell they write (blue), on every face it shows.

    Raises:
        EinvizError: an array has more than 3 dims or an axis over 8 cells.

    >>> from einviz.tracing import trace
    >>> t = trace("bij,bjk->bik", np.ones((2, 2, 2)), np.ones((2, 2, 2)))
    >>> blocks_panel(t, [range(0, 2)]).note
    "slices along 'b' are drawn apart (A's, B's and out's): a solid block would hide 3 of their 24 cells"
    """
    from .blocks import StepCells, apart_note, array_view, blocks_document, check_blocks
    from .network import plan_colours

    loop_plan = trace.plan
    check_blocks(loop_plan, "a blocks panel")
    names = (*loop_plan.names, "out")
    # The plan's terms name the dimensions of '...' as the grids do (α, β, …).
    terms = [*loop_plan.terms, loop_plan.output]
    views = [array_view(name, term, np.asarray(values)) for name, term, values
             in zip(names, terms, (*trace.operands, trace.result))]
    steps = []
    for span in _spans(loop_plan, spans):
        records = _records(trace, span)
        cells: dict[str, set[tuple[int, ...]]] = {name: set() for name in names}
        for record in records:
            for name, index in zip(names, (*record.indices, record.out_index)):
                cells[name].add((0,) * (3 - len(index)) + tuple(index))
        # Over a run of steps, an index that moves is written as its label: A[0,1,j].
        terms = [*loop_plan.terms, loop_plan.output]
        shown = []
        for n, index in enumerate((*records[-1].indices, records[-1].out_index)):
            moves = [len({(*r.indices, r.out_index)[n][a] for r in records}) > 1 for a in range(len(index))]
            shown.append(",".join(terms[n][a] if moved else str(v) for a, (v, moved) in enumerate(zip(index, moves))))
        reads = " × ".join(f"{name}[{where}]" for name, where in zip(loop_plan.names, shown))
        caption = (f"out[{shown[-1]}] += {reads}" if len(records) == 1 else
                   f"out[{shown[-1]}] = Σ {reads}  ({len(records)} products)")
        steps.append(StepCells(span[-1], {k: sorted(v) for k, v in cells.items()}, caption,
                               format_value(records[-1].running_sum)))
    # An output value shows once its cell is done, as on the grids (its running sum before).
    done = _done(trace, 3 - len(loop_plan.out_shape))
    doc = blocks_document(views, {**plan_colours(loop_plan), **(colours or {})}, "", prefix=prefix,
                          steps=steps, per_row=2, done=done)
    return _panel("blocks", doc, prefix, [s.step for s in steps], apart_note(views), done)


def cube_panel(trace: Trace, spans: Sequence[range] | None = None,
               prefix: str = "einviz-panel-cube", colours: Mapping[str, str] | None = None) -> Panel:
    """The i×j×k iteration cube of a product of two matrices, each span lighting its
    products' small cubes and the cells of A, B and the result they join.

    Raises:
        EinvizError: not a product of two matrices, or an axis over 8 cells.

    >>> from einviz.tracing import trace
    >>> cube_panel(trace("ij,jk->ik", np.ones((2, 3)), np.ones((3, 2)))).steps[-3:]
    (9, 10, 11)
    """
    from .blocks import CubeStep, check_blocks, cube_arrays, cube_document
    from .network import loop_values, plan_colours

    loop_plan = trace.plan
    a, b, out, (row, summed, col), (name_a, name_b) = cube_arrays(loop_plan, trace.operands)
    check_blocks(loop_plan, "the iteration cube")
    steps = []
    for span in _spans(loop_plan, spans):
        chosen = span if len(span) <= MAX_SPAN_STEPS else range(span[-1], span[-1] + 1)
        where = []
        for t in chosen:
            v = loop_values(loop_plan, t)
            where.append((v[row], v[summed], v[col]))
        i, j, k = where[-1]
        values = {row: i, summed: j, col: k}
        if len(where) == 1:
            caption = (f"out[{row}={i},{col}={k}] += {cell_ref(loop_plan, name_a, values)} × "
                       f"{cell_ref(loop_plan, name_b, values)} = {format_value(a[i, j])} × {format_value(b[j, k])}")
        else:
            caption = (f"out[{row}={i},{col}={k}] = Σ over {summed} of {cell_ref(loop_plan, name_a, values, summed)}"
                       f" × {cell_ref(loop_plan, name_b, values, summed)} = {format_value(out[i, k])}")
        steps.append(CubeStep(span[-1], where, caption, format_value(trace[span[-1]].running_sum)))
    done = _done(trace)
    doc = cube_document(a, b, out, (row, summed, col), (name_a, name_b),
                        {**plan_colours(loop_plan), **(colours or {})}, prefix=prefix, steps=steps,
                        done=done)
    return _panel("cube", doc, prefix, [s.step for s in steps], "", done)


def cell_ref(loop_plan: LoopPlan, name: str, values: Mapping[str, int], moving: str = "") -> str:
    """An operand's cell as the loops read it: ``A[1,0]`` in its own axes' order (a
    broadcast size-1 axis reads 0; the ``moving`` label written as itself)."""
    number = loop_plan.names.index(name)
    term, shape = loop_plan.terms[number], loop_plan.shapes[number]
    return f"{name}[" + ",".join(label if label == moving else str(values[label] if side > 1 else 0)
                                 for label, side in zip(term, shape)) + "]"


def make_panel(kind: str, trace: Trace, spans: Sequence[range] | None = None,
               prefix: str | None = None, colours: Mapping[str, str] | None = None) -> Panel:
    """A panel by name: ``"network"``, ``"blocks"`` or ``"cube"`` (see the builders), in
    ``colours`` (label -> colour; default: the palette's, as the grids have them)."""
    prefix = prefix or f"einviz-panel-{kind}"
    if kind == "network":
        return network_panel(trace.plan, spans, prefix, colours)
    if kind == "blocks":
        return blocks_panel(trace, spans, prefix, colours)
    if kind == "cube":
        return cube_panel(trace, spans, prefix, colours)
    raise EinvizError(f"unknown panel {kind!r}", hint="the panels are " + ", ".join(PANELS))


def choose_panel(loop_plan: LoopPlan, layout: str = "auto", panel: str | None = None) -> str | None:
    """The panel an animation draws beside its grids, from ``layout=`` and ``panel=``.

    ``layout="3d"`` is the iteration cube for a product of two matrices, else 3-D blocks
    (every array up to 3 dims, no axis over 8 cells), else an error saying why.
    ``layout="auto"`` draws blocks only where a 3-d operand is small: every array up to 3
    dims, every axis from 1 to :data:`AUTO_SIDE` cells, at most three operands (a larger
    block stands wider than the grids beside it). ``panel=`` names one outright.

    >>> from einviz import plan
    >>> choose_panel(plan("bij,bjk->bik", shapes=[(2, 2, 3), (2, 3, 2)]))
    'blocks'
    >>> choose_panel(plan("ij,jk->ik", shapes=[(2, 3), (3, 2)])) is None
    True
    >>> choose_panel(plan("ij,jk->ik", shapes=[(2, 3), (3, 2)]), "3d")
    'cube'
    """
    from .blocks import check_blocks, cube_arrays

    if layout not in LAYOUTS:
        raise EinvizError(f"layout must be one of {', '.join(map(repr, LAYOUTS))}, not {layout!r}",
                          hint="'grid': the grids alone; '3d': a 3-D panel beside them; "
                               "'auto': 3-D where a 3-d operand is small")
    if panel is not None and panel not in PANELS:
        raise EinvizError(f"panel must be one of {', '.join(map(repr, PANELS))} or None, not {panel!r}",
                          hint="panel='network' draws the tensor network beside the grids")
    if layout == "3d":
        check_blocks(loop_plan, "layout='3d'")
        try:
            cube_arrays(loop_plan, [np.zeros(shape) for shape in loop_plan.shapes])
            kind = "cube"
        except EinvizError:
            kind = "blocks"
        if panel is not None and panel != kind:
            raise EinvizError(f"layout='3d' draws the {kind} panel beside the grids; panel={panel!r} "
                              "asks for another", hint=f"give layout='3d' or panel={panel!r}, not both")
        return kind
    if panel is not None or layout == "grid":
        return panel
    arrays = [*loop_plan.shapes, loop_plan.out_shape]
    small = (loop_plan.n_operands <= 3 and any(len(shape) == 3 for shape in loop_plan.shapes)
             and all(len(shape) <= 3 and all(1 <= side <= AUTO_SIDE for side in shape) for shape in arrays))
    return "blocks" if small else None


# -- the grids and a panel in one SVG --------------------------------------------------------------
def _pct(seconds: float, total: float) -> str:
    return f"{100 * seconds / total:.3f}".rstrip("0").rstrip(".") + "%"


def _panel_css(scene: Scene, panel: Panel, outer: str) -> list[str]:
    """Each step group shown in the time slots of the frames whose last step it is."""
    total = scene.duration
    slots: dict[int, list[tuple[float, float]]] = {}
    for frame, start in zip(scene.frames, scene.starts()):
        if len(frame.steps):
            slots.setdefault(frame.steps[-1], []).append((start, start + frame.duration))
    rules = [f"#{outer} #{panel.id} g.einviz-step{{visibility:visible;opacity:0;"
             f"animation:{_s(total)}s step-end infinite}}"]
    for step in panel.steps:
        if step not in slots:
            continue
        keys = {0.0: 0}
        for begin, end in slots[step]:
            keys[begin] = 1
            if end < total - 1e-9:
                keys.setdefault(end, 0)
        text = "".join(f"{_pct(at, total)}{{opacity:{value}}}" for at, value in sorted(keys.items()))
        rules += [f"@keyframes {outer}-s{step}{{{text}}}",
                  f"#{outer} #{panel.id} g.einviz-step[data-step='{step}']{{animation-name:{outer}-s{step}}}"]
    return rules


def _reached(scene: Scene, number: int) -> float:
    """The last step done by frame ``number``: every step at the final frame, none (-1)
    before the first step."""
    if scene.frames[number].kind == "final":
        return math.inf
    return max((frame.steps[-1] for frame in scene.frames[:number + 1] if len(frame.steps)), default=-1)


def _done_css(scene: Scene, panel: Panel, outer: str) -> list[str]:
    """Each output value hidden until the first frame that reaches its cell's last step
    (the final frame reaches every step), then shown till the loop ends, as the grids' are."""
    total, reached = scene.duration, []
    for frame, start in zip(scene.frames, scene.starts()):
        if frame.kind == "final" or len(frame.steps):
            reached.append((math.inf if frame.kind == "final" else frame.steps[-1], start))
    shown: dict[float, list[int]] = {}
    for step in panel.done:
        at = next((start for last, start in reached if last >= step), None)
        if at is not None:
            shown.setdefault(at, []).append(step)
    rules = []
    for number, (at, steps) in enumerate(sorted(shown.items())):
        rules.append(f"@keyframes {outer}-d{number}{{0%{{opacity:0}}{_pct(at, total)}{{opacity:1}}}}")
        rules.append(",".join(f"#{outer} #{panel.id} g.einviz-done[data-step='{step}']" for step in steps)
                     + f"{{animation:{outer}-d{number} {_s(total)}s step-end infinite}}")
    return rules


def panel_scale(scene: Scene, panel: Panel) -> float:
    """How much larger (or smaller) :func:`combined_svg` draws a panel: about the grids'
    height (and not much wider than them), between 0.8 times (its text stays readable) and
    1.5 times its own size."""
    return max(0.8, min(_largest(panel), 0.95 * scene.height / panel.height,
                         1.2 * scene.width / panel.width))


def _largest(panel: Panel) -> float:
    """The most a panel is scaled up: the network's words are drawn at reading size already."""
    return 1.0 if panel.kind == "network" else 1.5


def panel_place(scene: Scene, panel: Panel) -> tuple[float, float, float]:
    """Where :func:`combined_svg` draws a panel: ``(x, y, scale)``. Beside the grids while the
    two together fit :data:`MAX_SIDE_BY_SIDE`; under them otherwise (centred, at about their
    width), so a pair too wide for a page does not shrink every word of both to fit it."""
    scale = panel_scale(scene, panel)
    if scene.width + _GAP + panel.width * scale <= MAX_SIDE_BY_SIDE:
        return scene.width + _GAP, 0.0, scale
    # Under the grids: about their width, its words not much larger than theirs.
    scale = max(0.8, min(_largest(panel), 1.2, scene.width / panel.width))
    return max(0.0, (scene.width - panel.width * scale) / 2), scene.height, scale


def _attribute(tag: str, name: str) -> str:
    """The value of attribute ``name`` in an element's start ``tag`` (it must be there)."""
    return tag.split(f' {name}="', 1)[1].split('"', 1)[0]


def combined_svg(scene: Scene, panel: Panel, prefix: str = "einviz", frame: int | None = None) -> str:
    """The grids and a panel side by side, as one SVG: animated (``frame=None``: the panel's
    step groups shown by CSS in the grids' frame times, looping with them; where CSS
    animation does not run, the final frame, nothing lit) or one frame (its last step lit).
    The root carries the grids' ``data-frames`` and ``data-granularity``, and ``data-panel``.

    >>> from einviz.tracing import trace
    >>> from einviz.render.scene import build_scene
    >>> t = trace("ij,jk->ik", np.ones((2, 2)), np.ones((2, 2)))
    >>> scene = build_scene(t, granularity="step")
    >>> svg = combined_svg(scene, make_panel("cube", t, frame_spans(scene)))
    >>> svg.count("<svg"), svg.count("@keyframes einviz-with-cube-s")
    (3, 8)
    """
    from .svg import render

    outer = f"{prefix}-with-{panel.kind}"
    grids = render(scene, "animated" if frame is None else "frame", frame, prefix=prefix)  # checks frame
    drawn = panel.svg
    if frame is None:
        css = "".join([*_panel_css(scene, panel, outer), *_done_css(scene, panel, outer)])
    else:
        css = ""
        frame %= scene.n_frames  # -1: the final frame
        steps = scene.frames[frame].steps
        if len(steps):
            drawn = drawn.replace(f'class="einviz-step" data-step="{steps[-1]}"',
                                  f'class="einviz-step einviz-on" data-step="{steps[-1]}"')
        reached = _reached(scene, frame)
        for step in panel.done:
            if step > reached:  # an output value whose cell is not done yet in this frame
                drawn = drawn.replace(f'class="einviz-done" data-step="{step}"',
                                      f'class="einviz-done" data-step="{step}" visibility="hidden"')
    x, y, scale = panel_place(scene, panel)
    shown = (panel.width * scale, panel.height * scale)
    root = drawn[:drawn.index(">")]
    for name, value in (("width", shown[0]), ("height", shown[1])):
        root = root.replace(f' {name}="{_attribute(root, name)}"', f' {name}="{_s(value)}"', 1)
    drawn = root + drawn[drawn.index(">"):]
    width = max(scene.width, x + shown[0])
    height = max(scene.height, y + shown[1])
    title = grids.partition("<title>")[2].partition("</title>")[0]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'id="{outer}" class="einviz einviz-combined" role="img" data-frames="{scene.n_frames}" '
            f'data-granularity="{scene.granularity}" data-panel="{panel.kind}" width="{_s(width)}" '
            f'height="{_s(height)}" viewBox="0,0,{_s(width)},{_s(height)}">'
            f"<title>{title} (with the {panel.kind} panel)</title>"
            f"<defs><style type=\"text/css\"><![CDATA[{css}]]></style></defs>"
            f'<rect width="100%" height="100%" fill="#FFFFFF"/>'
            f'<svg x="0" y="0"{grids[4:]}'
            f'<svg x="{_s(x)}" y="{_s(y)}"{drawn[4:]}</svg>')
