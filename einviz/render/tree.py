"""The contraction tree of a path, and the path as a sequence of network contractions.

Plain data in (render never imports the path finder): the leaves (operands) and one
:class:`TreeStep` per contraction. The tree puts the operands at the bottom and each
intermediate above its inputs, at the height of its deepest input plus one, filled by its
cost (darker: more FLOPs), its edges as thick as the array they carry is large.

:func:`contraction_frames` replays the path on the network diagram: in each frame the arrays
a step contracts are lit with the bonds it sums; in the next they are one node, at the middle
of where they stood, their bond gone. :func:`animated_svg` plays the frames in one SVG file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import network as net
from .palette import INK, MUTED, tint
from .svg import _Document, _Element, _n
from .text import sans_width

__all__ = ["TreeStep", "animated_svg", "contraction_frames", "tree_svg"]

_COST = "#D55E00"
_BOX_H = 52.0
_ROW = 96.0
_GAP = 22.0
_MARGIN = 18.0


@dataclass(frozen=True)
class TreeStep:
    """One contraction: its inputs' names, its result's name, labels, shape, FLOPs, BLAS
    kind and the labels it sums."""

    inputs: tuple[str, ...]
    output: str
    labels: str
    shape: tuple[int, ...]
    flops: int
    blas: str | bool
    summed: tuple[str, ...]


def _shape_text(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _cost_fill(flops: int, cheapest: int, dearest: int) -> str:
    """Light for the cheapest step, strong for the dearest (log scale)."""
    if dearest <= cheapest:
        return tint(_COST, 0.55)
    share = (math.log1p(flops) - math.log1p(cheapest)) / (math.log1p(dearest) - math.log1p(cheapest))
    return tint(_COST, 0.88 - 0.6 * share)


def _tree_positions(leaves: Sequence[str], steps: Sequence[TreeStep], widths: Mapping[str, float]
                    ) -> dict[str, tuple[float, float]]:
    """Leaves in the order a walk from the root meets them, inner nodes above their inputs."""
    children = {step.output: step.inputs for step in steps}
    order: list[str] = []

    def walk(name: str) -> None:
        if name in children:
            for child in children[name]:
                walk(child)
        else:
            order.append(name)

    walk(steps[-1].output)
    order += [leaf for leaf in leaves if leaf not in order]
    height: dict[str, int] = dict.fromkeys(order, 0)
    for step in steps:
        height[step.output] = 1 + max(height[i] for i in step.inputs)
    top = max(height.values())
    at: dict[str, tuple[float, float]] = {}
    x = 0.0
    for leaf in order:
        at[leaf] = (x + widths[leaf] / 2, top * _ROW)
        x += widths[leaf] + _GAP
    for step in steps:
        xs = [at[i][0] for i in step.inputs]
        at[step.output] = ((min(xs) + max(xs)) / 2, (top - height[step.output]) * _ROW)
    return at


def _box(parent: _Element, name: str, at: tuple[float, float], width: float, lines: Sequence[str],
         colours: Mapping[str, str], fill: str) -> None:
    group = parent.add(_Element("g", class_="einviz-tree-node", **{"data-node": name}))
    group.add(_Element("rect", x=_n(at[0] - width / 2), y=_n(at[1] - _BOX_H / 2), width=_n(width),
                       height=_n(_BOX_H), rx=8, fill=fill, stroke=INK, stroke_width=1.4))
    title = group.add(_Element("text", x=_n(at[0]), y=_n(at[1] - 8), text_anchor="middle",
                               font_size=13, fill=INK))
    title.add(_Element("tspan", font_weight="bold")).add_text(name + " ")
    net._coloured(title, lines[0], colours)
    for k, line in enumerate(lines[1:]):
        group.add(_Element("text", x=_n(at[0]), y=_n(at[1] + 8 + 13 * k), text_anchor="middle",
                           font_size=10.5, fill=INK if k else MUTED)).add_text(line)


def tree_svg(
    leaves: Mapping[str, tuple[str, tuple[int, ...]]],
    steps: Sequence[TreeStep],
    colours: Mapping[str, str],
    title: str = "",
    prefix: str = "einviz-tree",
    subtitle: str = "",
) -> str:
    """The contraction tree as SVG: ``leaves`` maps each operand to (term, shape); the
    ``title`` (subscripts) is coloured, the ``subtitle`` after it plain.

    >>> svg = tree_svg({"A": ("ij", (2, 3)), "B": ("jk", (3, 4))},
    ...                [TreeStep(("A", "B"), "out", "ik", (2, 4), 48, "GEMM", ("j",))], {})
    >>> svg.count('class="einviz-tree-node"'), svg.count('class="einviz-tree-edge"')
    (3, 2)
    """
    texts = {name: [term or "()", _shape_text(shape)] for name, (term, shape) in leaves.items()}
    for step in steps:
        cost = f"{step.flops:,} FLOPs" + (f" · {step.blas}" if step.blas else "")
        texts[step.output] = [step.labels or "()", _shape_text(step.shape), cost]
    widths = {name: max(sans_width(name + " " + lines[0], 13, True), *(sans_width(t, 10.5) for t in lines[1:])) + 18
              for name, lines in texts.items()}
    at = _tree_positions(list(leaves), steps, widths)
    sizes = {name: math.prod(shape) for name, (_, shape) in leaves.items()}
    sizes.update({step.output: math.prod(step.shape) for step in steps})
    biggest = max(sizes.values(), default=1) or 1
    left = min(at[n][0] - widths[n] / 2 for n in at)
    right = max(at[n][0] + widths[n] / 2 for n in at)
    bottom = max(y for _, y in at.values())
    legend = "fill: the step's FLOPs (darker costs more) · line width: the array's size"
    width = max(right - left, sans_width(title + subtitle, 15, True), sans_width(legend, 11)) + 2 * _MARGIN
    height = bottom + _BOX_H + 2 * _MARGIN + 30 + 24
    doc = _Document(_n(width), _n(height))
    doc.attribs.update({"id": prefix, "font-family": "'DejaVu Sans', sans-serif"})
    doc.add(_Element("rect", width="100%", height="100%", fill="#FFFFFF"))
    heading = doc.add(_Element("text", x=_n(_MARGIN), y=_n(_MARGIN + 12), font_size=15, fill=INK))
    net._coloured(heading, title, colours)
    heading.add(_Element("tspan", fill=MUTED, font_size=12)).add_text(subtitle)
    body = doc.add(_Element("g", transform=f"translate({_n(_MARGIN - left + (width - 2 * _MARGIN - right + left) / 2)},"
                                           f"{_n(_MARGIN + 30 + _BOX_H / 2)})"))
    cheapest = min((s.flops for s in steps), default=0)
    dearest = max((s.flops for s in steps), default=0)
    for step in steps:
        for child in step.inputs:
            thick = 1.5 + 5 * math.log1p(sizes[child]) / math.log1p(biggest)
            (x1, y1), (x2, y2) = at[child], at[step.output]
            body.add(_Element("path", d=f"M{_n(x1)},{_n(y1)} C{_n(x1)},{_n((y1 + y2) / 2)} "
                                        f"{_n(x2)},{_n((y1 + y2) / 2)} {_n(x2)},{_n(y2)}",
                              fill="none", stroke="#9AA0A8", stroke_width=_n(thick),
                              class_="einviz-tree-edge", **{"data-ends": f"{child},{step.output}"}))
    for name, lines in texts.items():
        step_of = next((s for s in steps if s.output == name), None)
        fill = "#FFFFFF" if step_of is None else _cost_fill(step_of.flops, cheapest, dearest)
        _box(body, name, at[name], widths[name], lines, colours, fill)
    doc.add(_Element("text", x=_n(_MARGIN), y=_n(height - _MARGIN + 4), font_size=11,
                     fill=MUTED)).add_text(legend)
    return doc.tostring()


def contraction_frames(
    terms: Mapping[str, tuple[str, ...]],
    shown: Mapping[str, str],
    output: Sequence[str],
    sizes: Mapping[str, int],
    ellipsis: Sequence[str],
    steps: Sequence[TreeStep],
    colours: Mapping[str, str],
) -> list[tuple[net.Network, str]]:
    """The network before each step (its inputs and summed bonds lit) and after the last,
    each with its caption. ``terms`` holds each operand's labels (the ellipsis' dims named),
    ``shown`` the term text its node shows. Merged nodes stand where their inputs stood."""
    from dataclasses import replace

    alive = dict(terms)
    texts = dict(shown)
    out_text = "".join(net.BUNDLE if label in ellipsis else label for label in output)
    has_out = bool(output)
    names = list(alive) + ([net.OUT] if has_out else [])
    first = net.connections(list(alive.values()), list(alive), output, sizes, ellipsis)
    at = net.place(names, [c.ends for c in first])
    frames = []
    for k in range(len(steps) + 1):
        conns = net.connections(list(alive.values()), list(alive), output, sizes, ellipsis)
        nodes = {name: (texts[name], alive[name]) for name in alive}
        if has_out:
            nodes[net.OUT] = (out_text or "()", tuple(output))
        if k < len(steps):
            step = steps[k]
            lit = [c.label for c in conns if set(c.ends) <= set(step.inputs)]
            cost = f"{step.flops:,} FLOPs" + (f", {step.blas}" if step.blas else "")
            caption = f"step {k + 1} of {len(steps)}: {_result_name(step.output)} = " \
                      f"{' · '.join(step.inputs)}  ({cost})"
            drawn = replace(net.draw(conns, nodes, at, colours, lit), lit_nodes=step.inputs)
        else:
            caption = f"done: {len(steps)} step{'s' if len(steps) != 1 else ''}, " \
                      f"{sum(s.flops for s in steps):,} FLOPs"
            drawn = net.draw(conns, nodes, at, colours)
        frames.append((drawn, caption))
        if k < len(steps):
            step = steps[k]
            name = _result_name(step.output)
            middle = net._centroid([at[i] for i in step.inputs])
            crowded = any(math.dist(middle, at[n]) < 90 for n in names if n not in step.inputs and n in at
                          and (n in alive or n == net.OUT))
            at[name] = middle
            others = [label for n, t in alive.items() if n not in step.inputs for label in t]
            kept = set(others) | set(output)
            merged = tuple(dict.fromkeys(label for i in step.inputs for label in alive[i] if label in kept))
            for i in step.inputs:
                del alive[i]
            alive[name] = merged
            texts[name] = step.labels or "()"
            if crowded:
                # The middle is taken: lay the remaining arrays out afresh rather than overlap.
                links = [c.ends for c in net.connections(list(alive.values()), list(alive), output, sizes, ellipsis)]
                at = net.place(list(alive) + ([net.OUT] if has_out else []), links)
    return frames


def _result_name(name: str) -> str:
    # The path calls its last result "out"; the diagram keeps that name for the output's
    # open legs, so the array that carries them is the "result".
    return "result" if name == net.OUT else name


def animated_svg(frames: Sequence[tuple[net.Network, str]], title: str = "",
                 seconds: float = 1.8, prefix: str = "einviz-contract", only: int | None = None) -> str:
    """The frames in one SVG that plays them in turn (CSS, no script) and, where nothing
    animates (resvg, a print), shows the last; with ``only``, frame ``only`` alone, static.

    The frames share one canvas: their union box, so nothing moves but what merges.
    """
    left = min(f.box[0] for f, _ in frames)
    top = min(f.box[1] for f, _ in frames)
    right = max(f.box[0] + f.box[2] for f, _ in frames)
    bottom = max(f.box[1] + f.box[3] for f, _ in frames)
    width = max(right - left, max(sans_width(c, 13) for _, c in frames),
                sans_width(title, 15, True)) + 2 * _MARGIN
    height = bottom - top + 2 * _MARGIN + 56
    total = seconds * len(frames)
    css = [f"#{prefix} .einviz-frame{{animation:{total:.2f}s step-end infinite}}"]
    doc = _Document(_n(width), _n(height))
    doc.attribs.update({"id": prefix, "font-family": "'DejaVu Sans', sans-serif"})
    doc.defs.add(doc.style(""))
    doc.add(_Element("rect", width="100%", height="100%", fill="#FFFFFF"))
    net._coloured(doc.add(_Element("text", x=_n(_MARGIN), y=_n(_MARGIN + 12), font_size=15,
                                   fill=INK)), title, frames[0][0].colours)
    for k, (frame, caption) in enumerate(frames):
        if only is not None and k != only % len(frames):
            continue
        last = k == len(frames) - 1 or only is not None
        start, end = 100 * k / len(frames), 100 * (k + 1) / len(frames)
        keys = [f"0%{{opacity:{1 if k == 0 else 0}}}", f"{start:.2f}%{{opacity:1}}"]
        if not last:
            keys.append(f"{end:.2f}%{{opacity:0}}")
        css.append(f"@keyframes {prefix}-f{k}{{{''.join(keys)}}}")
        css.append(f"#{prefix} .einviz-frame[data-frame='{k}']{{animation-name:{prefix}-f{k}}}")
        group = doc.add(_Element("g", class_="einviz-frame", opacity=1 if last else 0,
                                 **{"data-frame": str(k)}))
        group.add(_Element("text", x=_n(_MARGIN), y=_n(_MARGIN + 34), font_size=13,
                           fill=MUTED)).add_text(caption)
        group.add(net.network_body(frame, f"translate({_n(_MARGIN - left)},{_n(_MARGIN + 50 - top)})"))
    doc.css = "\n".join(css) if only is None else ""
    return doc.tostring()
