"""The other views of an einsum: the tensor-network diagram, the contraction tree of a path,
and 3-D blocks, each a figure with ``to_svg``, ``to_png`` and ``to_html`` like
:class:`~einviz.Animation`, in the grids' colours.

>>> import einviz.diagrams as d
>>> figure = d.network("ij,jk->ik", shapes=[(2, 3), (3, 4)])
>>> [(line.label, line.kind, line.ends) for line in figure.connections]
[('i', 'free', ('A', 'out')), ('j', 'summed', ('A', 'B')), ('k', 'free', ('B', 'out'))]
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from typing import Any

from ._files import check_target, write_file
from .errors import EinvizError
from .planning import LoopPlan, plan
from .render import network as net
from .render.palette import label_colours

__all__ = ["Figure", "NetworkDiagram", "TreeDiagram", "contraction_tree", "network", "network_geometry"]


class Figure:
    """A drawn figure: its SVG, and the PNG and HTML made from it."""

    svg_text: str
    title: str

    def to_svg(self, path: str | os.PathLike[str] | None = None) -> str | None:
        """The SVG text, or ``None`` when written to ``path``."""
        return _deliver(self.svg_text, path)

    def to_png(self, path: str | os.PathLike[str] | None = None, scale: float = 1.0) -> bytes | None:
        """The figure rasterised by resvg (``scale``: pixels per SVG unit)."""
        from .animation import rasterise

        if path is not None:
            check_target(path)
        return _deliver(rasterise(self.svg_text, scale), path)

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str | None:
        """A self-contained HTML page showing the figure."""
        page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(self.title)}</title></head>"
                f"<body style=\"margin:24px;background:#fff\">\n{self.svg_text}\n</body></html>\n")
        return _deliver(page, path)

    def _repr_svg_(self) -> str:
        return self.svg_text


def _deliver(data: Any, path: str | os.PathLike[str] | None) -> Any:
    if path is None:
        return data
    check_target(path)
    write_file(path, data)
    return None


def _colours(loop_plan: LoopPlan) -> dict[str, str]:
    """The grids' colours (the equation's labels, then the ellipsis' dims); ``...`` takes the
    colour of its first dimension."""
    colours = label_colours(loop_plan.equation.labels + loop_plan.ellipsis)
    if loop_plan.ellipsis:
        colours[net.BUNDLE] = colours[loop_plan.ellipsis[0]]
    return colours


def _term_text(term: Sequence[str]) -> str:
    return "".join(term) if term else "()"


def network_geometry(loop_plan: LoopPlan, lit: Sequence[str] = ()) -> net.Network:
    """The network diagram's geometry for a plan (the labels in ``lit`` drawn lit).

    >>> g = network_geometry(plan("ii->", shapes=[(3, 3)]))
    >>> [(line.connection.kind, line.connection.ends) for line in g.lines]
    [('loop', ('A', 'A'))]
    """
    conns = net.connections(loop_plan.terms, loop_plan.names, loop_plan.output, loop_plan.sizes,
                            loop_plan.ellipsis)
    nodes = {name: (_term_text(term), tuple(term))
             for name, term in zip(loop_plan.names, loop_plan.equation.terms)}
    if any(net.OUT in c.ends for c in conns):
        nodes[net.OUT] = (_term_text(loop_plan.equation.output), loop_plan.equation.output)
    at = net.place(list(nodes), [c.ends for c in conns])
    return net.draw(conns, nodes, at, _colours(loop_plan), lit)


class NetworkDiagram(Figure):
    """The tensor-network diagram of an einsum (see :func:`network`).

    Attributes:
        plan: the einsum's :class:`~einviz.LoopPlan`.
        geometry: the laid-out :class:`~einviz.render.network.Network` (nodes and lines).
    """

    def __init__(self, loop_plan: LoopPlan, lit: Sequence[str] = ()) -> None:
        self.plan = loop_plan
        self.geometry = network_geometry(loop_plan, lit)
        self.title = str(loop_plan.equation)
        self.svg_text = net.network_svg(self.geometry, self.title)

    @property
    def connections(self) -> list[net.Connection]:
        """The lines: label, kind (``summed``, ``free``, ``hyper``, ``loop``) and ends."""
        return [line.connection for line in self.geometry.lines]

    def to_tikz(self) -> str:
        """The diagram as a standalone LaTeX document drawing it with TikZ."""
        from .render.exports import network_tikz

        return network_tikz(self.geometry, self.title)

    def to_dot(self) -> str:
        """The diagram as a Graphviz ``graph`` (hyperedges as junction points)."""
        from .render.exports import network_dot

        return network_dot(self.geometry, self.title)

    def __repr__(self) -> str:
        kinds = [c.kind for c in self.connections]
        parts = ", ".join(f"{kinds.count(k)} {k}" for k in net.KINDS if k in kinds)
        return f"<NetworkDiagram {self.title}: {len(self.geometry.nodes)} nodes, {parts or 'no lines'}>"


def network(
    subscripts: Any,
    *operands: Any,
    shapes: Sequence[Sequence[int]] | None = None,
    names: Sequence[str] | None = None,
    lit: Sequence[str] = (),
) -> NetworkDiagram:
    """The tensor-network (Penrose) diagram of an einsum.

    Each operand is a node and each label a line in its colour: a bond between two operands
    (summed), an open leg to ``out`` (free), a dot joining three or more legs (hyperedge), a
    loop (a label repeated in one term), a capped stub (a label summed inside one operand);
    ``...`` is a double line. Sizes are written on the lines.

    Args:
        subscripts: the subscripts (or, in the sublist form, the first operand).
        *operands: the operands (only their shapes are read).
        shapes: the operands' shapes, instead of operands.
        names: the operands' names.
        lit: labels to draw lit (the loop variable that moves).

    Returns:
        A :class:`NetworkDiagram` (``to_svg``, ``to_png``, ``to_html``, ``to_tikz``, ``to_dot``).

    Raises:
        EinvizError: bad subscripts or shapes (a subclass says which), or more than 8 operands.

    >>> network("ij,jk,kl->il", shapes=[(2, 3), (3, 4), (4, 5)])
    <NetworkDiagram ij,jk,kl->il: 4 nodes, 2 summed, 2 free>
    """
    loop_plan = plan(subscripts, *operands, shapes=shapes, names=names)
    _check_count(loop_plan)
    return NetworkDiagram(loop_plan, lit)


#: The most operands a network diagram lays out (its search tries every order on a ring).
MAX_OPERANDS = 12


def _check_count(loop_plan: LoopPlan) -> None:
    if loop_plan.n_operands > MAX_OPERANDS:
        raise EinvizError(
            f"a network diagram draws at most {MAX_OPERANDS} operands, not {loop_plan.n_operands}",
            hint="draw a contraction tree instead: einviz.diagrams.contraction_tree(path)",
        )


# -- contraction trees ---------------------------------------------------------------------------
class TreeDiagram(Figure):
    """The contraction tree of a path (see :func:`contraction_tree`), and the path replayed
    on the network diagram: :meth:`frame_svg`, :meth:`animated_svg`.

    Attributes:
        path: the :class:`~einviz.ContractionPath`.
        steps: the tree's inner nodes as :class:`~einviz.render.tree.TreeStep` data.
    """

    def __init__(self, path: Any) -> None:
        from .render import tree

        self.path = path
        loop_plan: LoopPlan = path.plan
        self.steps = [tree.TreeStep(s.inputs, s.output, s.labels, s.shape, s.flops, s.blas, s.summed)
                      for s in path.steps]
        self._colours = _colours(loop_plan)
        self.title = str(loop_plan.equation)
        self.subtitle = (f"   {path.source}, {path.strategy}: {path.flops:,} FLOPs "
                         f"(one loop: {path.naive_flops:,})")
        leaves = {name: (_term_text(term), shape) for name, term, shape
                  in zip(loop_plan.names, loop_plan.equation.terms, loop_plan.shapes)}
        self.svg_text = tree.tree_svg(leaves, self.steps, self._colours, self.title, subtitle=self.subtitle)
        self.frames = tree.contraction_frames(
            dict(zip(loop_plan.names, loop_plan.terms)),
            {name: _term_text(term) for name, term in zip(loop_plan.names, loop_plan.equation.terms)},
            loop_plan.output, loop_plan.sizes, loop_plan.ellipsis, self.steps, self._colours)

    @property
    def n_frames(self) -> int:
        """The network frames: one before each step, one after the last."""
        return len(self.frames)

    def frame_svg(self, frame: int = -1) -> str:
        """One frame of the contraction as a static SVG (``-1``: the end)."""
        from .render.tree import animated_svg

        return animated_svg(self.frames, str(self.path.plan.equation), only=frame)

    def animated_svg(self, path: str | os.PathLike[str] | None = None, seconds: float = 1.8) -> str | None:
        """The contraction as one animated SVG (no script): two nodes merge each step and
        their bond disappears; it shows the end where nothing animates."""
        from .render.tree import animated_svg

        return _deliver(animated_svg(self.frames, str(self.path.plan.equation), seconds), path)

    def to_dot(self) -> str:
        """The tree as a Graphviz ``digraph`` (inputs point to their result)."""
        from .render.exports import tree_dot

        return tree_dot(self.path.plan.names, self.steps, self.title)

    def __repr__(self) -> str:
        return f"<TreeDiagram {self.path.plan.equation}: {len(self.steps)} steps, {self.path.flops:,} FLOPs>"


def contraction_tree(
    subscripts: Any,
    *operands: Any,
    shapes: Sequence[Sequence[int]] | None = None,
    names: Sequence[str] | None = None,
    optimize: Any = True,
    source: str = "opt_einsum",
) -> TreeDiagram:
    """The contraction tree of the path a library takes (or of a given ContractionPath).

    Leaves are the operands; each inner node is an intermediate with its labels, shape,
    FLOPs and BLAS kind, filled darker the more its step costs.

    Args:
        subscripts: the subscripts, or a :class:`~einviz.ContractionPath` (then nothing else).
        *operands: the operands (their shapes choose the path).
        shapes: the operands' shapes, instead of operands.
        names: the operands' names.
        optimize: the strategy or path, as :func:`einviz.contraction_path` takes it.
        source: ``"opt_einsum"`` or ``"numpy"``.

    Returns:
        A :class:`TreeDiagram` (``to_svg``, ``to_png``, ``to_html``, ``to_dot``,
        ``frame_svg``, ``animated_svg``).

    >>> contraction_tree("ab,bc,cd->ad", shapes=[(2, 3), (3, 4), (4, 5)])
    <TreeDiagram ab,bc,cd->ad: 2 steps, 64 FLOPs>
    """
    from .paths import ContractionPath, contraction_path

    if isinstance(subscripts, ContractionPath):
        return TreeDiagram(subscripts)
    return TreeDiagram(contraction_path(subscripts, *operands, shapes=shapes, names=names,
                                        optimize=optimize, source=source))
