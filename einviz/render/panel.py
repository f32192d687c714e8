"""A diagram that follows the grids' steps: the network, the 3-D blocks or the iteration cube.

A :class:`Panel` is drawn once, as SVG, beside the grids. Its parts that light up carry the
step they belong to: one ``<g class="einviz-step" data-step="t">`` for each step ``t`` that
lights something, hidden until it has the class ``einviz-on`` (the panel's own CSS says so).
Whoever plays the grids (the HTML player, a combined animated SVG) lights, in each frame, the
groups of that frame's last step, so the panel moves in step with the grids.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Panel"]


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
    """

    kind: str
    svg: str
    width: float
    height: float
    note: str = ""
