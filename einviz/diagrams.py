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
from collections.abc import Mapping, Sequence
from typing import Any, overload

from ._files import check_target, write_file
from .errors import EinvizError
from .planning import LoopPlan, plan
from .render import network as net
from .render.blocks import MAX_BLOCK_SIDE
from .render.network import loop_values, moving_label, network_geometry
from .render.network import network_parts as _network_parts
from .render.network import plan_colours as _colours
from .render.network import term_text as _term_text

__all__ = ["MAX_BLOCK_SIDE", "BlocksDiagram", "CubeDiagram", "Figure", "NetworkDiagram", "TreeDiagram", "blocks",
           "contraction_tree", "iteration_cube", "loop_values", "moving_label", "network",
           "network_geometry", "view"]


class Figure:
    """A drawn figure: its SVG, and the PNG and HTML made from it."""

    svg_text: str
    title: str

    @overload
    def to_svg(self, path: None = None) -> str: ...
    @overload
    def to_svg(self, path: str | os.PathLike[str]) -> None: ...
    def to_svg(self, path: str | os.PathLike[str] | None = None) -> str | None:
        """The SVG text, or ``None`` when written to ``path``."""
        return _deliver(self.svg_text, path)

    @overload
    def to_png(self, path: None = None, scale: float = 1.0) -> bytes: ...
    @overload
    def to_png(self, path: str | os.PathLike[str], scale: float = 1.0) -> None: ...
    def to_png(self, path: str | os.PathLike[str] | None = None, scale: float = 1.0) -> bytes | None:
        """The figure rasterised by resvg (``scale``: pixels per SVG unit)."""
        from .animation import rasterise

        if path is not None:
            check_target(path)
        return _deliver(rasterise(self.svg_text, scale), path)

    @overload
    def to_html(self, path: None = None) -> str: ...
    @overload
    def to_html(self, path: str | os.PathLike[str]) -> None: ...
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


class NetworkDiagram(Figure):
    """The tensor-network diagram of an einsum (see :func:`network`).

    Attributes:
        plan: the einsum's :class:`~einviz.LoopPlan`.
        geometry: the laid-out :class:`~einviz.render.network.Network` (nodes and lines).
    """

    def __init__(self, loop_plan: LoopPlan, lit: Sequence[str] = (), prefix: str = "einviz-net") -> None:
        self.plan = loop_plan
        self.geometry = network_geometry(loop_plan, lit)
        self.title = str(loop_plan.equation)
        self.svg_text = net.network_svg(self.geometry, self.title, prefix)

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

    def animated_svg(self, path: str | os.PathLike[str] | None = None, max_frames: int = 48,
                     seconds: float = 0.9) -> str | None:
        """The loops run on the diagram: one frame a step (up to ``max_frames``), the line
        of the loop variable that moves lit, the loop values in the caption. An SVG with no
        script that shows the last frame where nothing animates.

        >>> svg = network("ij,j->i", shapes=[(2, 2), (2,)]).animated_svg()
        >>> svg.count('class="einviz-frame"')
        4
        """
        from .render.tree import animated_svg

        conns, nodes, at = _network_parts(self.plan)
        colours = _colours(self.plan)
        frames = []
        for step in range(min(self.plan.n_steps, max_frames)):
            moving = moving_label(self.plan, step)
            values = ", ".join(f"{label}={value}" for label, value in loop_values(self.plan, step).items())
            caption = f"step {step + 1} of {self.plan.n_steps}: {values}" + (f"  ({moving} moves)" if moving else "")
            frames.append((net.draw(conns, nodes, at, colours, [moving] if moving else []), caption))
        if not frames:
            frames.append((self.geometry, "no steps: an axis has size 0"))
        return _deliver(animated_svg(frames, self.title, seconds, prefix="einviz-loops"), path)

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
    <TreeDiagram ab,bc,cd->ad: 2 steps, 128 FLOPs>
    """
    from .paths import ContractionPath, contraction_path

    if isinstance(subscripts, ContractionPath):
        return TreeDiagram(subscripts)
    return TreeDiagram(contraction_path(subscripts, *operands, shapes=shapes, names=names,
                                        optimize=optimize, source=source))


# -- 3-D blocks ----------------------------------------------------------------------------------
def _plan_and_arrays(subscripts: Any, operands: tuple[Any, ...], shapes: Sequence[Sequence[int]] | None,
                     names: Sequence[str] | None, seed: int, what: str) -> tuple[LoopPlan, list[Any]]:
    """The plan, checked small enough to draw as blocks, and the operands given (or small
    made-up integers of the shapes given)."""
    import numpy as np

    from .operands import default_operands
    from .render.blocks import check_blocks

    loop_plan = plan(subscripts, *operands, shapes=shapes, names=names)
    check_blocks(loop_plan, what)
    if operands:
        return loop_plan, [np.asarray(a) for a in operands]
    return loop_plan, default_operands(str(loop_plan.equation), shapes=loop_plan.shapes, seed=seed)


class BlocksDiagram(Figure):
    """Arrays drawn as 3-D blocks (see :func:`blocks`).

    Attributes:
        plan: the einsum's plan.
        views: each array's :class:`~einviz.render.blocks.ArrayView` (operands, then ``out``).
        notes: why any array's slices are drawn apart (a solid block would hide cells).
    """

    def __init__(self, loop_plan: LoopPlan, arrays: Sequence[Any],
                 lit: Mapping[str, Sequence[Sequence[int]]] | None = None) -> None:
        from .reference import einsum
        from .render import blocks as draw

        self.plan = loop_plan
        result = einsum(str(loop_plan.equation), *arrays)
        terms = [*loop_plan.equation.terms, loop_plan.equation.output]
        self.views = [draw.array_view(name, term, values) for name, term, values
                      in zip((*loop_plan.names, "out"), terms, (*arrays, result))]
        self.notes = [view.apart for view in self.views if view.apart]
        self.title = str(loop_plan.equation)
        # A cell of a 2-d array is cell (0, row, column) of its one-slice block.
        padded = {name: {(0,) * (3 - len(cell)) + tuple(cell) for cell in cells}
                  for name, cells in (lit or {}).items()}
        self.svg_text = draw.blocks_svg(self.views, _colours(loop_plan), self.title, padded)

    def __repr__(self) -> str:
        return f"<BlocksDiagram {self.title}: {len(self.views)} arrays, {len(self.notes)} drawn apart>"


def blocks(
    subscripts: Any,
    *operands: Any,
    shapes: Sequence[Sequence[int]] | None = None,
    names: Sequence[str] | None = None,
    lit: Mapping[str, Sequence[Sequence[int]]] | None = None,
    seed: int = 0,
) -> BlocksDiagram:
    """The operands and the result as 3-D blocks of cubes, each cell a cube face with its value.

    An isometric view (the three axes 120° apart, a cell's edge as long along each): the
    leading axis of a 3-d array is the depth (for ``bij,bjk->bik``, ``b``), receding up and
    to the right; rows go down and columns right (and down, at 30°), as in the grids. A
    solid block shows every cell only when an axis has size 1; otherwise its slices are drawn
    apart along the depth axis, and the figure says so (:attr:`BlocksDiagram.notes`).

    Args:
        subscripts: the subscripts.
        *operands: the operands (up to 3 dims, up to 8 cells an axis).
        shapes: shapes instead of operands (values are made up: small integers).
        names: the operands' names.
        lit: cells to light, by array name: ``{"A": [(0, 1, 2)], "out": [(0, 0, 0)]}``.
        seed: the seed of made-up values.

    Returns:
        A :class:`BlocksDiagram` (``to_svg``, ``to_png``, ``to_html``).

    Raises:
        EinvizError: an array has more than 3 dims, an empty axis or an axis over 8 cells.

    >>> figure = blocks("bij,bjk->bik", shapes=[(2, 2, 3), (2, 3, 2)])
    >>> figure.notes[0]
    "a solid block would hide 2 of A's 12 cells: its slices along 'b' are drawn apart"
    """
    loop_plan, arrays = _plan_and_arrays(subscripts, operands, shapes, names, seed, "a blocks diagram")
    return BlocksDiagram(loop_plan, arrays, lit)


class CubeDiagram(Figure):
    """The iteration space of a product of two matrices (see :func:`iteration_cube`).

    Attributes:
        plan: the einsum's plan.
        labels: (row label, summed label, column label): the cube's height, depth and width.
        n_frames: one frame a step (a multiply-add), in the loops' order.
    """

    def __init__(self, loop_plan: LoopPlan, arrays: Sequence[Any], step: int | None) -> None:
        from .render.blocks import cube_arrays

        self.plan = loop_plan
        self._a, self._b, self._out, self.labels, self._names = cube_arrays(loop_plan, arrays)
        self.n_frames = self._a.shape[0] * self._a.shape[1] * self._b.shape[1]
        self.title = str(loop_plan.equation)
        self.step = step
        self.svg_text = self.frame_svg(-1 if step is None else step) if self.n_frames else self._draw(None)

    def _caption(self, where: tuple[int, int, int]) -> str:
        from .render.panel import cell_ref
        from .render.text import format_value

        i, j, k = where
        r, s, c = self.labels
        values = {r: i, s: j, c: k}  # each operand's cell written in its own axes' order
        return (f"out[{r}={i},{c}={k}] += {cell_ref(self.plan, self._names[0], values)} × "
                f"{cell_ref(self.plan, self._names[1], values)} = {format_value(self._a[i, j])} × "
                f"{format_value(self._b[j, k])}   (summed over {s})")

    def _draw(self, where: tuple[int, int, int] | None) -> str:
        from .render.blocks import cube_svg

        return cube_svg(self._a, self._b, self._out, self.labels, self._names, _colours(self.plan),
                        where, self._caption(where) if where is not None else "", self.title)

    def _where(self, step: int) -> tuple[int, int, int]:
        # The loops' order: free labels outside (output order), the summed label inside.
        depth, cols = self._a.shape[1], self._b.shape[1]
        i, rest = divmod(step, cols * depth)
        k, j = divmod(rest, depth)
        return i, j, k

    def animated_svg(self, path: str | os.PathLike[str] | None = None, max_frames: int = 64,
                     seconds: float = 0.9) -> str | None:
        """The steps lit in turn (up to ``max_frames``), in one SVG with no script; the faces
        are drawn once and each frame only lights its cells and its product's cube.

        >>> iteration_cube("ij,jk->ik", shapes=[(2, 2), (2, 2)]).animated_svg().count('class="einviz-frame"')
        8
        """
        from .render.blocks import cube_animated_svg

        frames = [(self._where(t), self._caption(self._where(t))) for t in range(min(self.n_frames, max_frames))]
        return _deliver(cube_animated_svg(self._a, self._b, self._out, self.labels, self._names,
                                          _colours(self.plan), frames, self.title, seconds), path)

    def frame_svg(self, step: int = -1) -> str:
        """The cube with one step lit: its product cube and the three cells it joins."""
        if not -self.n_frames <= step < self.n_frames:
            raise EinvizError(f"step {step} is out of range: the cube has {self.n_frames} steps",
                              hint=f"steps count from 0 to {self.n_frames - 1} (or -1, the last)")
        return self._draw(self._where(step % self.n_frames))

    def __repr__(self) -> str:
        return f"<CubeDiagram {self.title}: {' × '.join(self.labels)} cube, {self.n_frames} steps>"


def iteration_cube(
    subscripts: Any,
    *operands: Any,
    shapes: Sequence[Sequence[int]] | None = None,
    names: Sequence[str] | None = None,
    step: int | None = None,
    seed: int = 0,
) -> CubeDiagram:
    """The i×j×k iteration space of a product of two matrices, as a 3-D cube.

    A sits on the cube's right face, B on its top, the result on its front; each step is a
    small cube inside, where A's cell, B's cell and the result's cell meet; summing over
    ``j`` runs along the depth, onto the front face.

    Args:
        subscripts: two matrices' product (``"ij,jk->ik"``, ``"ij,kj->ki"``, …).
        *operands: the two matrices.
        shapes: shapes instead of operands (values made up).
        names: the operands' names.
        step: the step lit in :meth:`to_svg` (default: the last).
        seed: the seed of made-up values.

    Returns:
        A :class:`CubeDiagram` (``to_svg``, ``to_png``, ``to_html``, ``frame_svg(step)``).

    >>> iteration_cube("ij,jk->ik", shapes=[(2, 3), (3, 2)])
    <CubeDiagram ij,jk->ik: i × j × k cube, 12 steps>
    """
    loop_plan, arrays = _plan_and_arrays(subscripts, operands, shapes, names, seed, "the iteration cube")
    return CubeDiagram(loop_plan, arrays, step)


#: The views :func:`view` draws, as ``einviz --view`` names them.
VIEWS = ("network", "tree", "blocks", "cube")


def view(
    name: str,
    subscripts: Any,
    *operands: Any,
    shapes: Sequence[Sequence[int]] | None = None,
    names: Sequence[str] | None = None,
) -> Figure:
    """One of the views by name (for ``einviz --view NAME``): ``"network"``, ``"tree"``,
    ``"blocks"`` or ``"cube"``.

    >>> view("tree", "ij,jk,kl->il", shapes=[(2, 3), (3, 4), (4, 5)])
    <TreeDiagram ij,jk,kl->il: 2 steps, 128 FLOPs>
    >>> view("cube", "ij,kj->ki", shapes=[(2, 3), (4, 3)])
    <CubeDiagram ij,kj->ki: k × j × i cube, 24 steps>
    """
    makers: dict[str, Any] = {"network": network, "tree": contraction_tree, "blocks": blocks,
                              "cube": iteration_cube}
    if name not in makers:
        raise EinvizError(f"unknown view {name!r}", hint="the views are " + ", ".join(VIEWS))
    figure: Figure = makers[name](subscripts, *operands, shapes=shapes, names=names)
    return figure
