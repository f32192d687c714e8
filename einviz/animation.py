"""Animate an einsum: :func:`animate` and the :class:`Animation` it returns.

An animation is one laid-out :class:`~einviz.render.scene.Scene` and its frames; the
animated SVG, a single frame, the PNG hero image and the notebook display are all drawn
from it by :mod:`einviz.render.svg`.

>>> import numpy as np
>>> anim = animate("ij,jk->ik", np.eye(2), np.arange(4).reshape(2, 2))
>>> anim.n_frames, anim.granularity  # out[0,0] step by step, then a cell a frame
(9, 'teach')
>>> anim.to_svg().startswith("<svg")
True
"""

from __future__ import annotations

import inspect
import itertools
import numbers
import os
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np

from ._files import Target, check_target, is_file_object, write_file
from .errors import ArgumentTypeError, EinvizError, install_hint
from .explaining import Explanation, explain
from .operands import default_call, made_up
from .planning import LoopPlan
from .planning import plan as make_plan
from .render.panel import Panel, choose_panel, combined_svg, frame_spans, make_panel
from .render.scene import Frame, Scene, build_scene, check_figure
from .render.svg import render
from .subscripts import Equation, parse_call
from .tracing import Trace

if TYPE_CHECKING:
    from .paths import ContractionPath

__all__ = ["Animation", "animate"]

_counter = itertools.count(1)


class Animation:
    """The frames of one einsum's animation, and every way to show them.

    Attributes:
        trace: the traced einsum the pictures show.
        scene: the laid-out picture and its frames.
        id: the figure's id prefix (distinct for every animation made in a process).
        panel: the diagram drawn beside the grids and lit in step with them (the network,
            3-D blocks or the iteration cube; see ``animate(layout=..., panel=...)``), or
            ``None``.
    """

    def __init__(self, scene: Scene, trace: Trace, explanation: Explanation | None = None,
                 panel: Panel | None = None) -> None:
        self.scene = scene
        self.trace = trace
        self.id = _prefix(scene)
        self._explanation = explanation
        self.panel = panel

    @property
    def explanation(self) -> Explanation:
        """The einsum explained in words (the one the opening frames tell)."""
        if self._explanation is None:
            self._explanation = explain(self.trace.plan)
        return self._explanation

    def _contraction_path(self) -> ContractionPath | None:
        """The pairwise order a library takes, shown under the player for three operands or
        more (``None`` when there are fewer, or when no path can be planned for them)."""
        p = self.trace.plan
        if p.n_operands < 3:
            return None
        from .paths import contraction_path

        try:
            return contraction_path(str(p.equation), shapes=p.shapes, names=p.names)
        except (EinvizError, ValueError, TypeError):  # a path is extra (opt_einsum may refuse a shape)
            return None

    @property
    def n_frames(self) -> int:
        """How many frames the animation has (opening and final frames included)."""
        return self.scene.n_frames

    @property
    def frames(self) -> list[Frame]:
        """The frames (see :class:`~einviz.render.scene.Frame`)."""
        return self.scene.frames

    @property
    def granularity(self) -> str:
        """What the frames show: ``"step"``, ``"cell"``, ``"sample"`` (a stated sample of
        cells), ``"teach"`` (the first cell step by step, then a cell a frame) or
        ``"product"`` (the product view)."""
        return self.scene.granularity

    @property
    def colours(self) -> dict[str, str]:
        """Each label's colour (label -> CSS colour), as every picture and caption draws it.

        Each letter has a preferred palette slot; ``animate(..., colours=...)`` overrides it.

        >>> animate("ij->i", shapes=[(2, 3)], colours={"j": "tomato"}).colours["j"]
        '#FF6347'
        """
        return dict(self.scene.colours)

    @property
    def duration(self) -> float:
        """One loop of the animation, in seconds."""
        return self.scene.duration

    def __repr__(self) -> str:
        kinds = [f.kind for f in self.frames]
        parts = [f"{kinds.count(k)} {k}" for k in ("intro", "step", "cell", "multiply", "sum")
                 if kinds.count(k)]
        return (f"<Animation {self.trace.plan.equation}: {self.n_frames} frames "
                f"({', '.join(parts + ['final'])}), {self.granularity}, {self.duration:.1f} s>")

    # -- SVG ----------------------------------------------------------------------------------
    @overload
    def to_svg(self, path: None = None) -> str: ...
    @overload
    def to_svg(self, path: Target) -> None: ...
    def to_svg(self, path: Target | None = None) -> str | None:
        """The animated SVG: self-contained, no script, looping; plays inside an ``<img>``.

        With a :attr:`panel`, the grids and the panel side by side in one SVG, the panel's
        lit parts shown in the grids' frame times.

        Args:
            path: where to write it (a file name or an open file); without a path the text
                is returned.

        Returns:
            The SVG text, or ``None`` when it was written to ``path``.
        """
        _check(path)
        if self.panel is not None:
            return _deliver(combined_svg(self.scene, self.panel, self.id), path)
        return _deliver(render(self.scene, "animated", prefix=self.id), path)

    def frame_svg(self, frame: int = -1) -> str:
        """A static SVG of one frame (``-1``: the final frame, everything done).

        >>> import numpy as np
        >>> animate("i->", np.arange(3)).frame_svg(0).count('class="einviz-frame')
        1
        """
        if self.panel is not None:
            return combined_svg(self.scene, self.panel, self.id, frame)
        return render(self.scene, "frame", frame, prefix=self.id)

    @overload
    def to_png(self, path: None = None, frame: int | None = None, scale: float = 1.0) -> bytes: ...
    @overload
    def to_png(self, path: Target, frame: int | None = None, scale: float = 1.0) -> None: ...
    def to_png(
        self,
        path: Target | None = None,
        frame: int | None = None,
        scale: float = 1.0,
    ) -> bytes | None:
        """Rasterise the hero image (the final state, with formula and loop code) or a frame,
        with the :attr:`panel` beside it (the frame's step lit there).

        Args:
            path: where to write the PNG (a file name or a file opened in binary mode);
                without a path its bytes are returned.
            frame: the frame to draw (default: the final frame).
            scale: pixels per SVG unit (2 for a sharp picture on a high-density screen).

        Returns:
            The PNG bytes, or ``None`` when they were written to ``path``.
        """
        _check(path)
        return _deliver(rasterise(self.frame_svg(-1 if frame is None else frame), scale), path)

    # -- GIF and the HTML player -------------------------------------------------------------
    @overload
    def to_gif(self, path: None = None, fps: float | None = None, loop: bool = True,
               progress: bool | None = None, scale: float = 1.0) -> bytes: ...
    @overload
    def to_gif(self, path: Target, fps: float | None = None, loop: bool = True,
               progress: bool | None = None, scale: float = 1.0) -> None: ...
    def to_gif(
        self,
        path: Target | None = None,
        fps: float | None = None,
        loop: bool = True,
        progress: bool | None = None,
        scale: float = 1.0,
    ) -> bytes | None:
        """The animation as a GIF: the SVG's frames rasterised with resvg, one palette.

        Args:
            path: where to write the GIF (a file name or a file opened in binary mode);
                without a path its bytes are returned.
            fps: step (or cell) frames per second (default: the animation's own timing);
                the opening narrative frames and the final frame are held longer.
            loop: loop forever (``False``: play once).
            progress: show a progress bar on the terminal (default: when stderr is a
                terminal and the render takes longer than a second).
            scale: pixels per SVG unit (``640 / animation.scene.width`` for a GIF 640 px wide).

        Returns:
            The GIF bytes, or ``None`` when they were written to ``path``.
        """
        from .render.gif import write_gif

        _check(path)
        return _deliver(write_gif(self.scene, fps=fps, loop=loop, progress=progress,
                                  prefix=self.id, scale=scale), path)

    @overload
    def to_html(self, path: None = None) -> str: ...
    @overload
    def to_html(self, path: Target) -> None: ...
    def to_html(self, path: Target | None = None) -> str | None:
        """The interactive player as one self-contained HTML page (works offline).

        Args:
            path: where to write it (a file name or an open file); without a path the text
                is returned.

        Returns:
            The HTML text, or ``None`` when it was written to ``path``.
        """
        from .render.html import page

        _check(path)
        return _deliver(page(self.scene, self.trace, self.id, explanation=self.explanation,
                             path=self._contraction_path(), panel=self.panel), path)

    def save(self, path: Target, *, format: str | None = None, **options: Any) -> None:
        """Write the animation in the format its file name's suffix names, as matplotlib's
        ``savefig`` does: ``.svg`` (animated), ``.png`` (the hero image), ``.gif``, ``.html``.

        Args:
            path: a file name, or an open file (then its ``name``'s suffix, or ``format=``).
            format: ``"svg"``, ``"png"``, ``"gif"`` or ``"html"``, over the suffix.
            **options: the options of that format's ``to_*`` method (``frame=``, ``scale=``
                for PNG; ``fps=``, ``loop=``, ``progress=``, ``scale=`` for GIF).

        Raises:
            EinvizError: the suffix (or ``format=``) names no format einviz writes, or an
                option does not belong to the format.

        >>> import io, numpy as np
        >>> anim = animate("i->", np.arange(3))
        >>> handle = io.BytesIO()
        >>> anim.save(handle, format="png", scale=0.5)
        >>> handle.getvalue()[:4]
        b'\\x89PNG'
        """
        kind = _save_format(path, format)
        writer = getattr(self, f"to_{kind}")
        allowed = set(inspect.signature(writer).parameters) - {"path"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ArgumentTypeError(
                f"{kind.upper()} output takes no option {unknown[0]!r}",
                hint=f"to_{kind} takes {', '.join(sorted(allowed)) or 'no options'}")
        writer(path, **options)

    def player_html(self, details: bool = True) -> str:
        """The player as an HTML fragment (its own ids, script and style), to embed in a page.

        Args:
            details: add the explanation, the numpy equivalent and (three operands or more)
                the contraction path under the player.
        """
        return self._player(details, "inline")

    def _player(self, details: bool, embed: str) -> str:
        from .render.html import player

        panel = self.panel  # a diagram beside the grids, where there is one
        if not details:
            return player(self.scene, self.trace, self._display_prefix(), details=False,
                          embed=embed, panel=panel)
        return player(self.scene, self.trace, self._display_prefix(), explanation=self.explanation,
                      path=self._contraction_path(), embed=embed, panel=panel)

    # -- notebooks ------------------------------------------------------------------------------
    def _display_prefix(self) -> str:
        # A notebook keeps its outputs across kernel restarts, and the count starts again in
        # each process: the random part keeps an old display's ids from matching a new one's.
        return f"{self.id}-{next(_counter)}-{os.urandom(3).hex()}"

    def _repr_html_(self) -> str:
        """The notebook display: the player, its picture an ``<img>`` of the animated SVG, so
        an untrusted notebook (whose sanitizer strips ``<svg>``, ``<style>`` and scripts)
        still shows the animation. It is the only picture a display stores: there is no
        ``_repr_svg_``, which would store a second copy."""
        return self._player(True, "image")


def rasterise(svg: str, scale: float = 1.0) -> bytes:
    """Draw SVG text to PNG bytes with resvg (system fonts: DejaVu backs the families used)."""
    try:
        import resvg_py
    except ImportError as e:
        raise EinvizError(
            "PNG output needs the resvg-py package",
            hint=install_hint("gif"),
        ) from e
    return bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=scale if scale != 1.0 else None))


_Data = TypeVar("_Data", str, bytes)

#: The formats :meth:`Animation.save` writes, by file-name suffix.
_SUFFIXES = {".svg": "svg", ".png": "png", ".gif": "gif", ".html": "html", ".htm": "html"}


def _save_format(path: Target, format: str | None) -> str:
    """The format to save in: ``format=`` when given, else the file name's suffix."""
    formats = ", ".join(sorted(set(_SUFFIXES.values())))
    if format is not None:
        kind = str(format).lower().lstrip(".")
        if kind not in _SUFFIXES.values():
            raise EinvizError(f"einviz cannot save the format {format!r}",
                              hint=f"format= is one of {formats}")
        return kind
    name = getattr(path, "name", None) if is_file_object(path) else os.fsdecode(
        check_target(path))
    if not isinstance(name, str):
        raise EinvizError("a file object without a name needs format=",
                          hint=f"e.g. animation.save(handle, format='png'); formats: {formats}")
    suffix = os.path.splitext(name)[1].lower()
    if suffix not in _SUFFIXES:
        said = f"the suffix {suffix!r}" if suffix else "no suffix"
        raise EinvizError(f"cannot tell the format of {name!r}: it has {said}",
                          hint=f"end the name with .svg, .png, .gif or .html, or pass format= "
                               f"({formats})")
    return _SUFFIXES[suffix]


def _check(path: Target | None) -> None:
    """Refuse a path that cannot be written before the figure is drawn."""
    if path is not None:
        check_target(path)


def _deliver(data: _Data, path: Target | None) -> _Data | None:
    """The data itself without a path; else the file written (and ``None``)."""
    if path is None:
        return data
    write_file(path, data)
    return None


def _prefix(scene: Scene) -> str:
    digest = zlib.crc32(
        f"{scene.plan.equation}|{scene.plan.shapes}|{scene.plan.names}|{scene.granularity}|"
        f"{scene.n_frames}".encode()
    )
    return f"e{digest & 0xFFFF:04x}{next(_counter)}"


def animate(
    subscripts: Any,
    *operands: Any,
    granularity: str = "auto",
    max_frames: int = 120,
    names: Sequence[str] | None = None,
    shapes: Sequence[Sequence[int]] | Mapping[str, Sequence[int]] | None = None,
    sizes: Mapping[str, int | Sequence[int]] | None = None,
    frame_ms: float | None = None,
    max_axis: int = 8,
    values: str = "arange",
    seed: int = 0,
    explanation: Explanation | None = None,
    view: str = "grid",
    colours: Mapping[str, str] | None = None,
    layout: str = "auto",
    panel: str | None = None,
) -> Animation:
    """Animate an einsum: every multiply-add (or every output cell) as a frame.

    Args:
        subscripts: the subscripts (or, in numpy's sublist form, the first operand); or a
            :class:`~einviz.LoopPlan` already made (with its operands, or none: small
            integer operands of its shapes), or a :class:`~einviz.Trace` (alone), so that
            nothing is parsed or bound again.
        *operands: the operands; leave them out to animate small integer operands made from
            ``shapes`` or ``sizes`` (see :func:`einviz.operands.default_operands`).
        granularity: ``"step"`` (one multiply-add a frame), ``"cell"`` (one output element a
            frame, its whole sum shown) or ``"auto"`` (the finest that fits ``max_frames``;
            when even cells do not fit, a stated sample of cells and the final state).
        max_frames: the most frames, the opening narrative and the final frame included.
        names: the operands' names (default: :func:`einviz.planning.default_names`).
        shapes: the operands' shapes (a list, or a dict keyed by name), without operands.
        sizes: label sizes, without operands, e.g. ``{"i": 2, "j": 3}``.
        frame_ms: how long a step (or cell) frame shows, in milliseconds.
        max_axis: axes longer than this are cut with an ellipsis cell.
        values: the made-up operands' values: ``"arange"`` (1, 2, 3, … in each operand, as
            the command and the playground show), ``"random"`` or ``"ones"``.
        seed: the seed of ``values="random"``.
        explanation: the einsum's :class:`~einviz.explaining.Explanation` when the caller has
            one already (default: made here, once, for the frames and the HTML player).
        view: ``"grid"`` (the loops: one multiply-add, or one output cell, a frame; in
            ``auto``, the first output cell step by step, then a cell a frame) or
            ``"product"`` (product, then sum: the operands multiplied over every label into
            the product tensor ``P``, then ``P`` summed into the output; see
            docs/visual-language.md). ``granularity`` and ``frame_ms`` apply to the loops.
        colours: label colours to use instead of the palette's, label -> CSS colour (a name
            such as ``"tomato"``, ``"#RRGGBB"`` or ``rgb(…)``/``hsl(…)``); the other labels
            keep their palette colours (see :attr:`Animation.colours`, which gives them all
            as ``#RRGGBB``).
        layout: ``"grid"`` (the grids alone), ``"3d"`` (a 3-D panel beside the grids, lit in
            step with them: the i×j×k iteration cube for a product of two matrices, else the
            arrays as 3-D blocks, for arrays of up to 3 dims and 8 cells an axis) or
            ``"auto"`` (3-D blocks only where a 3-d operand is small: every array up to 3
            dims and 4 cells an axis, at most three operands; see
            :func:`einviz.render.panel.choose_panel`).
        panel: a diagram to draw beside the grids, lit in step with them: ``"network"``
            (the tensor network, the moving loop variable's line lit), ``"blocks"`` or
            ``"cube"`` (see :attr:`Animation.panel`); ``to_svg``, ``to_png`` and ``save``
            draw it, ``to_gif`` does not.

    Returns:
        The :class:`Animation`.

    Raises:
        EinvizError: bad subscripts, shapes or options (a subclass says which).
        LimitError: the einsum or its figure is over a limit of :func:`einviz.get_limits`
            (see :func:`einviz.render.scene.check_figure`), refused before anything large
            is allocated.

    >>> anim = animate("ij->i", shapes=[(2, 3)], granularity="cell")
    >>> anim.n_frames, [f.kind for f in anim.frames][-3:]
    (5, ['cell', 'cell', 'final'])
    >>> [f.kind for f in animate("ij,jk->ik", shapes=[(2, 2), (2, 2)], view="product").frames][:4]
    ['intro', 'multiply', 'multiply', 'sum']
    >>> from einviz.planning import plan
    >>> str(animate(plan("i,i->", shapes=[(3,), (3,)])).trace.plan.equation)
    'i,i->'
    >>> animate("bij,bjk->bik", shapes=[(2, 2, 3), (2, 3, 2)]).panel.kind  # auto: small 3-d
    'blocks'
    >>> animate("ij,jk->ik", shapes=[(2, 3), (3, 2)], layout="3d").panel.kind
    'cube'
    """
    def figure_fits(loop_plan: LoopPlan) -> None:
        check_figure(loop_plan, _whole(max_axis, "max_axis"), _whole(max_frames, "max_frames"))

    traced = _traced(subscripts, operands, names, shapes, sizes, values, seed, figure_fits)
    kind = choose_panel(traced.plan, layout, panel)
    if kind is not None and view == "product":
        if panel is not None or layout == "3d":
            raise EinvizError("a panel is lit by the loops' steps, and view='product' has none",
                              hint="draw the panel with view='grid' (the default)")
        kind = None  # layout="auto" leaves the product view as it is
    chosen = _colours(colours, traced.plan)
    if explanation is None:
        explanation = explain(traced.plan)
    scene = build_scene(traced, granularity=granularity, max_frames=max_frames, frame_ms=frame_ms,
                        max_axis=max_axis, explanation=explanation, colours=chosen, view=view)
    animation = Animation(scene, traced, explanation)
    if kind is not None:
        animation.panel = make_panel(kind, traced, frame_spans(scene), prefix=f"{animation.id}-{kind}",
                                     colours=scene.colours)
    return animation


def _colours(colours: Any, loop_plan: LoopPlan) -> dict[str, str] | None:
    """``colours=`` checked and written as ``#RRGGBB`` (the figures tint them, so they need
    the numbers): a mapping from the einsum's labels to CSS colours."""
    if colours is None:
        return None
    if not isinstance(colours, Mapping):
        raise ArgumentTypeError(f"colours must be a dict of label -> colour, not {type(colours).__name__}",
                                hint='e.g. colours={"i": "tomato"}')
    from PIL import ImageColor  # a dependency, loaded only when colours are chosen

    labels, chosen = set(loop_plan.labels), {}
    for label, colour in colours.items():
        if label not in labels:
            raise EinvizError(f"colours names the label {label!r}, which "
                              f"{loop_plan.equation} does not have",
                              hint=f"its labels: {', '.join(sorted(labels))}")
        try:
            rgb = ImageColor.getrgb(colour.strip()) if isinstance(colour, str) else None
        except ValueError:
            rgb = None
        if rgb is None:
            raise EinvizError(f"colours[{label!r}] is not a CSS colour: {colour!r}",
                              hint='e.g. "tomato", "#D55E00" or "rgb(213, 94, 0)"')
        chosen[label] = "#" + "".join(f"{c:02X}" for c in rgb[:3])
    return chosen


def _whole(value: Any, what: str) -> int:
    """A counting option, read loosely for the early limit check (build_scene checks it)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ArgumentTypeError(f"{what} must be an integer, not {value!r}", hint=f"e.g. {what}=120")
    return int(value)


def _traced(
    subscripts: Any, operands: tuple[Any, ...], names: Sequence[str] | None, shapes: Any,
    sizes: Any, values: str, seed: int, check: Callable[[LoopPlan], None],
) -> Trace:
    """The trace to animate, from what :func:`animate` was given: each stage's object taken
    as it is, and default operands made only after the figure passed ``check``."""
    if isinstance(subscripts, Trace):
        if operands or names is not None or shapes is not None or sizes is not None:
            raise EinvizError("a trace already has its operands and names: give it alone",
                              hint="animate(trace), or animate(subscripts, *operands, names=...)")
        check(subscripts.plan)
        return subscripts
    if operands and (shapes is not None or sizes is not None):
        raise EinvizError("give either operands or shapes=/sizes=, not both",
                          hint="shapes= and sizes= make small integer operands for you")
    if isinstance(subscripts, LoopPlan):
        if names is not None or shapes is not None or sizes is not None:
            raise EinvizError("a plan already has its shapes and names: give it alone",
                              hint="animate(plan), or animate(plan, *operands)")
        check(subscripts)
        if not operands:
            subscripts.check_limits()
            operands = tuple(made_up(subscripts, values, seed))
        return Trace(subscripts, operands)
    if not operands and not isinstance(subscripts, (str, bytes, Equation)):
        raise EinvizError("the sublist form needs its operands",
                          hint="e.g. einviz.animate(A, [0, 1], B, [1, 2], [0, 2])")
    if not operands:
        loop_plan, made = default_call(subscripts, shapes, sizes, names, values, seed, check)
        return Trace(loop_plan, made)
    if isinstance(subscripts, Equation):
        subscripts = str(subscripts)
    equation, arrays = parse_call((subscripts, *operands))
    loop_plan = make_plan(equation, *arrays, names=list(names) if names is not None else None)
    check(loop_plan)
    _numbers_only(loop_plan, arrays)
    return Trace(loop_plan, arrays)


def _numbers_only(loop_plan: LoopPlan, arrays: Sequence[Any]) -> None:
    """Refuse an object array holding something other than numbers (a figure writes every
    value as a number, and the trace multiplies them); other dtypes the trace checks."""
    for name, array in zip(loop_plan.names, arrays):
        if not (isinstance(array, np.ndarray) and array.dtype == object):
            continue
        for value in array.flat:
            if not isinstance(value, numbers.Number):
                raise ArgumentTypeError(
                    f"{name} holds {value!r} ({type(value).__name__}), not a number",
                    subscripts=loop_plan.equation.text_for_carets(),
                    hint="a figure shows numbers: give numeric arrays (an object array of Python "
                         "numbers works too)")
