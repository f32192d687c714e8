"""Write a scene as an animated GIF: each frame drawn from the scene's data, encoded with Pillow.

Every pixel comes from resvg, drawing the same markup as :mod:`einviz.render.svg`; this
module decides what to draw from the scene and moves, composites and encodes what resvg drew.
It is fast because a frame changes little and its parts come back:

- The unchanging picture is rasterised once, as two layers: the shapes under the frames'
  marks (``render(scene, "base")``) and the text over them (``render(scene, "top")``).
- Each frame is a list of elements read from its :class:`~einviz.render.scene.Frame`: the
  lit code line, highlighted labels, outlines, spots, lit cells, the running sum, the loop
  values, the caption lines, and the output values finished so far. An element is made of
  pieces, each rasterised once by resvg and kept: a shape or a proportional text is one
  piece where it stands; monospaced text (the caption, the code's loop values) is one piece
  per glyph, since DejaVu Sans Mono sets every glyph one advance after the one before, and
  a glyph drawn at the same fraction of a pixel is the same pixels wherever it stands. So a
  new caption costs a few new glyphs, not a line of text.
- New pieces are rasterised many at a time, each alone in a spot of its own on one canvas.
- A frame differs from the one before only where an element differs: there its pixels are
  the shapes, the pieces that reach them and the text on top, composited in order.

One palette, made from the base, the first frames and the final one, serves every frame; pixels map to
their nearest palette colour without dithering, so fills stay flat and text stays crisp.
Each later frame is stored as the box around its changes, unchanged pixels transparent.
Frames are drawn, quantised and encoded one after another, so memory holds the pieces and
the encoded file, not the frames.

>>> import numpy as np
>>> from einviz.tracing import trace
>>> from einviz.render.scene import build_scene
>>> scene = build_scene(trace("i->", np.arange(3)), granularity="step")
>>> write_gif(scene)[:6]
b'GIF89a'
"""

from __future__ import annotations

import functools
import io
import itertools
import math
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import EinvizError, install_hint
from .palette import tint
from .scene import CAPTION_LINE, CAPTION_SIZE, CODE_SIZE, Frame, Mark, Scene, Span, mono_width
from .svg import _LIT_STROKE, _n, cell_fonts, mark_shape, render

__all__ = ["frame_delays", "write_gif"]

#: The shortest delay browsers honour: they show 0 and 10 ms frames for 100 ms instead.
MIN_DELAY_MS = 20
#: The first frames, whose colours go into the palette (with the base and the final frame).
PALETTE_FRAMES = 64
#: The commonest colours, which the palette holds exactly.
EXACT_COLOURS = 48
#: New pieces are rasterised once their spots cover this many pixels (or at :data:`BATCH`
#: frames): resvg's time goes on pixels and glyphs, plus a fixed cost a call.
AREA = 600_000
BATCH = 256
#: Pieces kept between batches, in bytes of layers, before the unused ones are dropped.
KEEP_BYTES = 64 << 20
#: Boxes of frames drawn, kept in case the same elements come back over the same box (in
#: bytes of pixels; and as many bytes of their palette indices).
KEEP_COMPOSITES = 16 << 20
#: Monospaced glyphs are placed to this fraction of a pixel.
SUBPIXEL = 4
#: Pixels between two changed boxes that are drawn as one.
JOIN = 6
#: Side of the tiles that index the output values shown, in pixels.
TILE = 64
#: The fill behind the lit code line, as :mod:`einviz.render.svg` draws it.
CODELINE_FILL = "#FFE8A3"
#: The font size of each class of monospaced text that changes from frame to frame, as the
#: SVG's style sets it: a caption line, a muted caption line, the loops' names and values.
MONO_SIZES = {"c": CAPTION_SIZE, "n": 12.0, "k": CODE_SIZE}

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels
#: A piece (its markup, drawn about the origin) moved right and down by whole pixels.
Placement = tuple[str, int, int]


class Element(tuple[Placement, ...]):
    """What a frame draws, as pieces; equal elements draw equal pixels. Hashed once: an
    element is looked up several times a frame, and a line of text has many pieces."""

    _hash: int

    def __new__(cls, pieces: Iterable[Placement]) -> Element:
        self = super().__new__(cls, pieces)
        self._hash = tuple.__hash__(self)
        return self

    def __hash__(self) -> int:
        return self._hash

#: A layer: where it is, its colours times its alpha, and 255 less its alpha (uint16).
Layer = tuple[Rect, np.ndarray, np.ndarray]
EMPTY: Rect = (0, 0, 0, 0)
RGB = tuple[int, int, int]
#: How a plain rectangle is painted: its fill (``None``: none) and the fill's opacity, its
#: stroke (``None``: none) and the stroke's width in scene units.
Paint = tuple[RGB | None, float, RGB | None, float]
#: A lit spot's outline, as :mod:`einviz.render.svg` draws it.
OUTLINE: Paint = (None, 0.0, (int(_LIT_STROKE[1:3], 16), int(_LIT_STROKE[3:5], 16), int(_LIT_STROKE[5:], 16)),
                   2.0)
#: The attributes of a shape in the SVG's defs that :func:`_box_layer` draws as resvg does.
PLAIN = {"id", "width", "height", "fill", "fill-opacity", "stroke", "stroke-width"}


def frame_delays(scene: Scene, fps: float | None = None) -> list[int]:
    """Each frame's GIF delay in milliseconds (a multiple of 10, GIF's unit).

    Args:
        scene: the scene.
        fps: step (or cell) frames per second; every duration is scaled by the same factor,
            so the opening and final frames stay as much longer as they were. Default: the
            frames' own durations.

    Returns:
        One delay per frame, rounded to 10 ms and at least 20 ms (browsers show shorter
        delays as 100 ms, so the fastest a GIF plays is 50 frames a second).

    Raises:
        EinvizError: ``fps`` is not a positive number.

    >>> import numpy as np
    >>> from einviz.tracing import trace
    >>> from einviz.render.scene import build_scene
    >>> scene = build_scene(trace("i->", np.arange(3)), granularity="step")
    >>> [f.kind for f in scene.frames][-4:], frame_delays(scene)[-4:]
    (['step', 'step', 'step', 'final'], [700, 700, 700, 4000])
    >>> frame_delays(scene, fps=10)[-4:]  # 1/10 s a step; the final frame as much longer
    [100, 100, 100, 570]
    """
    seconds = [frame.duration for frame in scene.frames]
    if fps is not None:
        rate = _frame_rate(fps)
        paced = [f.duration for f in scene.frames if f.kind in ("step", "cell")] or seconds
        common = Counter(paced).most_common(1)[0][0] if paced else 0.0
        if common > 0:
            seconds = [s / (common * rate) for s in seconds]
    return [max(MIN_DELAY_MS, 10 * round(100 * s)) for s in seconds]


def write_gif(
    scene: Scene,
    fps: float | None = None,
    loop: bool = True,
    progress: bool | None = None,
    prefix: str = "einviz",
    scale: float = 1.0,
) -> bytes:
    """Draw a scene's frames and encode them as one animated GIF.

    Args:
        scene: the laid-out scene.
        fps: step (or cell) frames per second (see :func:`frame_delays`); default: the
            frames' own durations. The opening and final frames are held longer.
        loop: loop forever (``False``: play once).
        progress: show a progress bar on stderr (tqdm, when installed) once the render has
            taken a second; ``None``: only when stderr is a terminal.
        prefix: the SVG documents' id prefix.
        scale: pixels per SVG unit.

    Returns:
        The GIF file's bytes.

    Raises:
        EinvizError: a bad ``fps`` or ``scale``, or Pillow or resvg-py is missing.

    >>> import numpy as np
    >>> from einviz.tracing import trace
    >>> from einviz.render.scene import build_scene
    >>> from PIL import Image
    >>> scene = build_scene(trace("ij->i", np.eye(2)), granularity="cell")
    >>> gif = Image.open(io.BytesIO(write_gif(scene, fps=2, loop=False)))
    >>> gif.n_frames == scene.n_frames, "loop" in gif.info
    (True, False)
    """
    delays = frame_delays(scene, fps)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale < math.inf:
        raise EinvizError(f"scale must be a positive number, not {scale!r}",
                          hint="scale is pixels per SVG unit: 1 draws the SVG at its own size")
    image, resvg = _imports()
    raster = _Raster(scene, prefix, scale, image, resvg)
    bar = _progress_bar(progress, scene.n_frames)
    try:
        changes = raster.changes()
        # The palette is made from the base, the first frames (the opening ones, and the
        # first steps) and the final frame: their changes are kept until it is made.
        first = list(itertools.islice(changes, PALETTE_FRAMES))
        seen = [region for regions in first for _, region in regions]
        palette, colours = _palette(image, raster.base, seen + raster.sample([scene.n_frames - 1]))
        patches = _patches(raster.base, itertools.chain(first, changes), _Indexer(palette, colours), len(palette))
        return _encode(image, palette, _counted(patches, bar), delays, loop)
    finally:
        if bar is not None:
            bar.close()


def _counted(items: Iterator[Any], bar: Any) -> Iterator[Any]:
    for item in items:
        yield item
        if bar is not None:
            bar.update(1)


# -- what a frame draws ----------------------------------------------------------------------------
class _Pieces:
    """A frame's elements, read from the scene, in the order the SVG draws them.

    Each piece is markup that draws it as :mod:`einviz.render.svg` does (the same classes,
    so the same style rules apply), about the origin, with the box of pixels it may reach
    (:attr:`spots`; its exact pixels are known once resvg has drawn it).
    """

    def __init__(self, scene: Scene, prefix: str, sx: float, sy: float,
                 paints: dict[str, Paint] | None = None) -> None:
        self.scene, self.prefix, self.sx, self.sy = scene, prefix, sx, sy
        # How each shape a mark may draw is painted, for those that are plain rectangles.
        self.paints = paints or {}
        # The pieces drawn here, not by resvg: plain rectangles, by their keys.
        self.boxes: dict[str, tuple[tuple[float, float, float, float], Paint]] = {}
        self.box_elements: dict[tuple[float, float, float, float, Paint], Element] = {}
        self.classes = {label: f"l{k}" for k, label in enumerate(scene.colours)}
        self.fonts = cell_fonts(scene)
        self.spots: dict[str, Rect] = {}
        self.mono = _mono_advance()
        self.runs: dict[Any, Element] = {}
        self.wholes: dict[str, Element] = {}
        self.made: dict[Any, Element] = {}
        # The glyphs' markups: each one's class, its class inside, its character (escaped)
        # and where it stands in its pixel.
        self.glyph_parts: dict[str, tuple[str, str | None, str, float, float]] = {}
        # Each monospaced line's glyphs, by character, class and column.
        self.lines: dict[Any, dict[tuple[str, str | None, int], Placement]] = {}

    def drawing(self, frame: Frame) -> list[Element]:
        """The elements of a frame's overlay, bottom to top, without the output values."""
        scene, code = self.scene, self.scene.code
        drawn: list[Element] = []
        if frame.code_line is not None:
            box = code.line_box(frame.code_line)
            drawn.append(self.rect(box.x, box.y, box.w, box.h, f'rx="3" fill="{CODELINE_FILL}"'))
            for label, number in code.label_lines.items():
                drawn.append(self.run("k", code.value_x, code.line_y(number),
                                      (Span(label, label=label), Span(" =")), MONO_SIZES["k"]))
        for label in frame.labels:
            fill = tint(scene.colours[label], 0.72)
            drawn += [self.rect(x, y, w, h, f'rx="2" fill="{fill}"') for x, y, w, h in
                      scene.label_spots.get(label, ())]
        drawn += [self.box(x, y, w, h, OUTLINE) for x, y, w, h in frame.outlines]
        drawn += [self.rect(x + 2, y + 2, w - 4, h - 4, f'rx="3" fill="{tint(scene.colours[label], 0.75)}"')
                  for x, y, w, h, label in frame.spots]
        drawn += self.marks(frame.marks)
        if frame.running is not None:
            r = frame.running
            drawn.append(self.centred(r.text, r.x, r.y, 'class="r"', bold=True))
        drawn += self.loop_values(frame)
        for number, line in enumerate(frame.caption):
            muted = all(span.tone == "muted" for span in line)
            spans = (Span("".join(span.text for span in line)),) if muted else line
            kind = "n" if muted else "c"
            drawn.append(self.run(kind, scene.caption_x, scene.caption_y + CAPTION_LINE * number, spans,
                                  MONO_SIZES[kind]))
        return drawn

    def marks(self, marks: Sequence[Mark]) -> list[Element]:
        """Each mark: a plain rectangle where its shape is one (see :func:`_mark_paints`)."""
        drawn: list[Element] = []
        w, h = self.scene.cell_w, self.scene.cell_h
        for mark in marks:
            kind = mark_shape(mark)
            paint = self.paints.get(kind)
            if paint is not None:
                drawn.append(self.box(mark.x, mark.y, w, h, paint))
            else:
                drawn.append(self.whole(f'<use href="#{self.prefix}{kind}" x="{_n(mark.x)}" y="{_n(mark.y)}"/>',
                                        (mark.x, mark.y, w, h), 2))
        return drawn

    def loop_values(self, frame: Frame) -> list[Element]:
        """The loop variables' values, each beside its loop's line (one text in the SVG,
        its lines set with ``dy``: the same places)."""
        if not frame.loop_values:
            return []
        code = self.scene.code
        x = round(code.value_x + mono_width("i = ", CODE_SIZE))
        line = code.label_lines[frame.loop_values[0][0]]
        y = float(_n(code.line_y(line)))
        drawn = []
        for k, (label, value) in enumerate(frame.loop_values):
            if k:
                below = code.label_lines[label] - line
                line = code.label_lines[label]
                y += float(_n(code.line_y(below) - code.line_y(0)))
            drawn.append(self.run("k", x, y, (Span(value),), MONO_SIZES["k"]))
        return drawn

    def final(self, index: tuple[int, ...]) -> Element:
        """An output cell's final value, shown from the frame that finishes it."""
        t = self.scene.finals[index]
        return self.centred(t.plain, t.x, t.y, "", group="v")

    # -- pieces --------------------------------------------------------------------------------
    def whole(self, markup: str, area: tuple[float, float, float, float], pad: float) -> Element:
        """One piece where it stands, that draws within ``area`` (scene units) and ``pad``."""
        if markup not in self.spots:
            x, y, w, h = area
            self.spots[markup] = (math.floor((x - pad) * self.sx) - 1, math.floor((y - pad) * self.sy) - 1,
                                  math.ceil((x + w + pad) * self.sx) + 1, math.ceil((y + h + pad) * self.sy) + 1)
        found = self.wholes.get(markup)
        if found is None:
            found = self.wholes[markup] = Element(((markup, 0, 0),))
        return found

    def box(self, x: float, y: float, w: float, h: float, paint: Paint) -> Element:
        """A plain rectangle (square corners, a solid fill and stroke), drawn here as resvg
        would draw it (see :func:`_box_layer`): no markup to rasterise."""
        found = self.box_elements.get((x, y, w, h, paint))
        if found is not None and found[0][0] in self.spots:
            return found
        area = (float(_n(x)), float(_n(y)), float(_n(w)), float(_n(h)))
        key = f"box {area} {paint}"
        if key not in self.spots:
            self.boxes[key] = area, paint
            self.spots[key] = _box_edges(area, paint, self.sx, self.sy)[0]
        found = self.box_elements[x, y, w, h, paint] = Element(((key, 0, 0),))
        return found

    def kept(self, key: Any, make: Any, *args: Any) -> Element:
        """``make(*args)``, made once while its pieces are kept (an element made again
        names its pieces again, and they find their spots again)."""
        found = self.made.get(key)
        if found is None or any(markup not in self.spots for markup, _, _ in found):
            found = self.made[key] = make(*args)
        return found

    def rect(self, x: float, y: float, w: float, h: float, paint: str) -> Element:
        return self.kept(("rect", x, y, w, h, paint), self.make_rect, x, y, w, h, paint)

    def make_rect(self, x: float, y: float, w: float, h: float, paint: str) -> Element:
        markup = f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" {paint}/>'
        return self.whole(markup, (x, y, w, h), 2)

    def centred(self, text: str, x: float, y: float, attributes: str, bold: bool = False,
                group: str = "") -> Element:
        """A number of the output centred on ``x`` in its cells' font (see :func:`cell_fonts`)."""
        return self.kept(("centred", text, x, y, attributes, bold, group), self.make_centred,
                         text, x, y, attributes, bold, group)

    def make_centred(self, text: str, x: float, y: float, attributes: str, bold: bool, group: str) -> Element:
        style = self.fonts.get("out", {})  # the output's values and running sums
        fitted = f' style="{style["style"]}"' if style else ""
        markup = f'<text {attributes} x="{_n(x)}" y="{_n(y)}"{fitted}>{_escape(text)}</text>'
        if group:
            markup = f'<g class="{group}">{markup}</g>'
        # Cells' fonts are 13 px at most: half the text's width either side, measured in
        # DejaVu Sans where Pillow finds it, else at most an em and a half a character.
        reach = _sans_width(text, 13.0, bold) / 2 + 3 if self.mono is not None else 20.0 * (len(text) + 1)
        return self.whole(markup, (x - reach, y - 13, 2 * reach, 13 * 1.35), 2)

    def run(self, kind: str, x: float, y: float, spans: tuple[Span, ...], size: float) -> Element:
        """A line of monospaced text (class ``kind``) at ``x, y``: a piece per glyph, each
        one advance after the one before (glyphs come back, at a quarter pixel's
        precision, where lines do not); the line as one piece when a character may not be
        DejaVu Sans Mono's (its advance is not known)."""
        key = (kind, x, y, spans)
        found = self.runs.get(key)
        if found is not None:
            return found
        x, y = float(_n(x)), float(_n(y))
        text = "".join(span.text for span in spans)
        mono = self.mono is not None and all(_monospaced(char) for char in text)
        if mono:
            found = self.glyphs(kind, x, y, spans, size)
        else:
            markup = "".join(_span_markup(span, self.classes) for span in spans)
            # Glyphs reach at most half an em past their advance; other fonts' glyphs, an em
            # and a half each at most.
            reach = (self.mono * len(text) + 0.5) * size if mono and self.mono else 1.5 * size * len(text)
            found = self.whole(f'<text class="{kind}" x="{_n(x)}" y="{_n(y)}">{markup}</text>',
                               (x - size / 2, y - 1.1 * size, reach + size / 2, 1.5 * size), 2)
        if len(self.runs) > 4096:
            self.runs.clear()
        if kind != "c":  # a caption rarely comes back
            self.runs[key] = found
        return found

    def glyphs(self, kind: str, x: float, y: float, spans: tuple[Span, ...], size: float) -> Element:
        line = self.lines.get((kind, x, y, size))
        if line is None:
            line = self.lines[kind, x, y, size] = {}
        placed: list[Placement] = []
        column = 0
        for span in spans:
            cls = _span_class(span, self.classes)
            for char in span.text:
                if char != " ":
                    found = line.get((char, cls, column))
                    if found is None:
                        found = line[char, cls, column] = self.glyph(kind, x, y, size, char, cls, column)
                    placed.append(found)
                column += 1
        return Element(placed)

    def glyph(self, kind: str, x: float, y: float, size: float, char: str, cls: str | None,
              column: int) -> Placement:
        """One glyph of a line: a piece drawn at the fraction of a pixel where it stands,
        moved there by whole pixels."""
        assert self.mono is not None
        # Placed across to the nearest quarter pixel (at most an eighth of a pixel off, which
        # antialiasing shows as a lighter or darker shade of a stem's edge): so a glyph
        # comes back at one of four places in a pixel, whatever its column, and is
        # rasterised once for each (and for each line's place down, which is exact).
        across = round((x + column * self.mono * size) * self.sx * SUBPIXEL) / SUBPIXEL
        down = y * self.sy
        left, top = math.floor(across), math.floor(down)
        fx, fy = across - left, round(down - top, 4)
        inner = _escape(char) if cls is None else f'<tspan class="{cls}">{_escape(char)}</tspan>'
        markup = f'<text class="{kind}" x="{fx / self.sx!r}" y="{fy / self.sy!r}">{inner}</text>'
        if markup not in self.spots:
            bold = kind == "k" or cls not in (None, "mu")
            x0, y0, x1, y1 = _glyph_box(char, size * max(self.sx, self.sy), bold)
            self.spots[markup] = (x0 - 2, y0 - 2, x1 + 3, y1 + 3)
            self.glyph_parts[markup] = kind, cls, _escape(char), fx, fy
        return markup, left, top


def _span_class(span: Span, classes: dict[str, str]) -> str | None:
    if span.label is not None:
        return classes[span.label]
    return {"muted": "mu", "strong": "st"}.get(span.tone or "")


def _span_markup(span: Span, classes: dict[str, str]) -> str:
    cls = _span_class(span, classes)
    return _escape(span.text) if cls is None else f'<tspan class="{cls}">{_escape(span.text)}</tspan>'


def _escape(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


@functools.lru_cache(maxsize=1)
def _mono_advance() -> float | None:
    """DejaVu Sans Mono's advance in ems (read from the font), or ``None`` when Pillow does
    not find the DejaVu fonts (then resvg may set the text in others: glyphs are not placed
    one by one, and extents are not measured)."""
    try:
        from PIL import ImageFont

        regular = ImageFont.truetype("DejaVuSansMono.ttf", 2048)
        for face in ("DejaVuSansMono-Bold.ttf", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
            ImageFont.truetype(face, 12)
    except (ImportError, OSError):
        return None
    return float(regular.getlength("0")) / 2048


@functools.lru_cache(maxsize=4096)
def _glyph_box(char: str, size: float, bold: bool) -> Rect:
    """The pixels a glyph of DejaVu Sans Mono inks at ``size`` px, about its origin on the
    baseline (as FreeType hints it: within a pixel of resvg's)."""
    font = _face("DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf", round(size, 2))
    x0, y0, x1, y1 = font.getbbox(char, anchor="ls")
    return math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)


@functools.lru_cache(maxsize=32)
def _face(name: str, size: float) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(name, size)


def _sans_width(text: str, size: float, bold: bool) -> float:
    """The advance of ``text`` in DejaVu Sans (found already: see :func:`_mono_advance`)."""
    return float(_face("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", size).getlength(text))


@functools.lru_cache(maxsize=4096)
def _monospaced(char: str) -> bool:
    """Whether resvg sets ``char`` in DejaVu Sans Mono, one advance wide, alone: printable
    ASCII, and left-to-right letters, digits, punctuation and symbols that both its regular
    and bold faces draw (not combining marks, wide characters or right-to-left scripts)."""
    if " " <= char <= "~":
        return True
    if (unicodedata.category(char)[0] not in "LNPS" or unicodedata.combining(char)
            or unicodedata.east_asian_width(char) in ("W", "F")
            or unicodedata.bidirectional(char) not in ("L", "EN", "ES", "ET", "CS", "ON")):
        return False
    for face in ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"):
        font = _face(face, 24.0)
        missing = font.getmask("\U0010fffd")  # a private-use character: the font's blank box
        mask = font.getmask(char)
        if mask.size == missing.size and bytes(mask) == bytes(missing):
            return False
    return True


# -- pixels --------------------------------------------------------------------------------------
class _Raster:
    """The base as pixels, the pieces as layers, and each frame's changes as pixels."""

    def __init__(self, scene: Scene, prefix: str, scale: float, image: Any, resvg: Any) -> None:
        self.scene, self.prefix, self.image, self.resvg = scene, prefix, image, resvg
        base = render(scene, "base", prefix=prefix)
        # The overlays' styles and shapes (the cells a mark draws), taken once as text.
        self.defs = base[base.index("<defs>"):base.index("</defs>") + len("</defs>")]
        under = self.rasterise(base, scale)
        self.under = np.asarray(under.convert("RGB"))
        self.height, self.width = self.under.shape[:2]
        top = self.rasterise(render(scene, "top", prefix=prefix), scale)
        top_rgba = _rgba(top)
        self.top = _layer((0, 0, self.width, self.height), top_rgba)
        # How many of the text's pixels are inked above and left of each point: a region
        # the text leaves blank is not blended with it.
        self.inked = np.zeros((self.height + 1, self.width + 1), dtype=np.int32)
        self.inked[1:, 1:] = (top_rgba[..., 3] > 0).cumsum(axis=0, dtype=np.int32).cumsum(axis=1, dtype=np.int32)
        self.base = self.under.astype(np.uint16)
        _blend(self.base, (0, 0, self.width, self.height), self.top)
        self.base = self.base.astype(np.uint8)
        # resvg rounds the canvas up to whole pixels and stretches the picture to fill it,
        # so across and down scale a little differently.
        self.sx, self.sy = under.width / scene.width, under.height / scene.height
        self.pieces = _Pieces(scene, prefix, self.sx, self.sy, _mark_paints(self.defs, prefix, scene))
        self.layers: dict[str, Layer] = {}
        self.bytes = 0
        # The elements of the frame before and of this one, as layers.
        self.stacks: dict[Element, Layer] = {}
        # Plain rectangles' pixels, by their edges within their first pixel.
        self.box_pixels: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
        # Boxes drawn already, by where they are and what reaches them.
        self.composites = _Kept(KEEP_COMPOSITES)

    def rasterise(self, svg: str, zoom: float = 1.0) -> Any:
        png = self.resvg.svg_to_bytes(svg_string=svg, zoom=None if zoom == 1 else zoom)
        return self.image.open(io.BytesIO(bytes(png)))

    def document(self, body: str, width: int, height: int) -> str:
        """An SVG document ``width`` x ``height`` pixels drawing ``body`` (in pixels: each
        piece scales itself, see :meth:`draw_chunk`), with the overlays' styles and shapes."""
        return (f'<svg xmlns="http://www.w3.org/2000/svg" xml:space="preserve" width="{width}" '
                f'height="{height}">{self.defs}<g id="{self.prefix}">{body}</g></svg>')

    def draw(self, markups: Iterable[str]) -> None:
        """Rasterise pieces, many on one canvas, each alone in its spot."""
        spots, boxes = self.pieces.spots, self.pieces.boxes
        todo = []
        for markup in set(markups) - self.layers.keys():
            if markup in boxes:
                self.keep(markup, _box_layer(*boxes[markup], self.sx, self.sy, self.box_pixels))
            else:
                todo.append(markup)
        todo.sort(key=lambda m: spots[m][1] - spots[m][3])
        while todo:
            chunk: list[str] = []
            area = 0
            while todo and (area < AREA or not chunk):
                chunk.append(todo.pop())
                x0, y0, x1, y1 = spots[chunk[-1]]
                area += (x1 - x0) * (y1 - y0)
            self.draw_chunk(chunk[::-1])

    def draw_chunk(self, markups: list[str]) -> None:
        spots = self.pieces.spots
        width = max(self.width, *(spots[m][2] - spots[m][0] for m in markups))
        places, height = _pack([spots[m] for m in markups], width)
        body = []
        # Glyphs go in one text a class, each placed by its own tspan: resvg sets a text's
        # glyphs for less than as many texts.
        glyphs: dict[str, list[str]] = {}
        parts = self.pieces.glyph_parts
        for markup, (px, py) in zip(markups, places):
            x0, y0 = spots[markup][:2]
            part = parts.get(markup)
            if part is not None:
                kind, cls, char, fx, fy = part
                paint = "" if cls is None else f' class="{cls}"'
                glyphs.setdefault(kind, []).append(
                    f'<tspan{paint} x="{(px - x0 + fx) / self.sx!r}" y="{(py - y0 + fy) / self.sy!r}">{char}</tspan>')
                continue
            # Moved by whole pixels after scaling: an edge that falls on a pixel's edge in the
            # whole picture falls on one here too (moved in scene units, it may not).
            body.append(f'<g transform="translate({px - x0} {py - y0}) scale({self.sx!r} {self.sy!r})">'
                        f'{markup}</g>')
        body += [f'<g transform="scale({self.sx!r} {self.sy!r})"><text class="{kind}">{"".join(spans)}</text></g>'
                 for kind, spans in glyphs.items()]
        pixels = _rgba(self.rasterise(self.document("".join(body), width, height)))
        for markup, (px, py) in zip(markups, places):
            x0, y0, x1, y1 = spots[markup]
            self.keep(markup, _layer((x0, y0, x1, y1), pixels[py:py + y1 - y0, px:px + x1 - x0]))

    def keep(self, markup: str, layer: Layer) -> None:
        self.layers[markup] = layer
        self.bytes += layer[1].nbytes + layer[2].nbytes

    def stacked(self, element: Element) -> Layer:
        """An element as one layer: its pieces composited in order (drawn already)."""
        found = self.stacks.get(element)
        if found is None:
            found = self.stacks[element] = _stack([(self.layers[m], dx, dy) for m, dx, dy in element])
        return found

    def composite(self, rect: Rect, layers: Iterable[Layer]) -> np.ndarray:
        """A rectangle of the picture: the shapes, the layers that reach it, and the text on
        top (where no layer reaches, the picture without a frame)."""
        x0, y0, x1, y1 = rect
        out = None
        for layer in layers:
            if _meets(layer[0], rect):
                if out is None:
                    out = self.under[y0:y1, x0:x1].astype(np.uint16)
                _blend(out, rect, layer)
        if out is None:
            return self.base[y0:y1, x0:x1].copy()
        inked = self.inked
        if inked[y1, x1] - inked[y0, x1] - inked[y1, x0] + inked[y0, x0]:
            _blend(out, rect, self.top)
        return out.astype(np.uint8)

    # -- frames ----------------------------------------------------------------------------------
    def changes(self) -> Iterator[list[tuple[Rect, np.ndarray]]]:
        """For each frame, the rectangles where it differs from the frame before (the first:
        from the base), each with its pixels. Frames go in batches: a batch's new pieces are
        rasterised together, then its frames are composited."""
        batch: list[tuple[list[Element], list[Element]]] = []
        new: set[str] = set()
        area = 0
        shown = _Shown()
        before: set[Element] = set()
        last = self.scene.n_frames - 1
        for number, frame in enumerate(self.scene.frames):
            drawn = self.pieces.drawing(frame)
            finals = [self.pieces.final(index) for index in frame.finished]
            for element in (*drawn, *finals):
                for markup, _, _ in element:
                    if markup not in self.layers and markup not in new:
                        new.add(markup)
                        x0, y0, x1, y1 = self.pieces.spots[markup]
                        area += (x1 - x0) * (y1 - y0)
            batch.append((drawn, finals))
            if area < AREA and len(batch) < BATCH and number < last:
                continue
            self.draw(new)
            for drawn, finals in batch:
                yield self.regions(before, drawn, finals, shown)
                before = set(drawn)
            self.forget({markup for drawn, finals in batch for e in (*drawn, *finals) for markup, _, _ in e},
                        shown.pieces)
            batch, new, area = [], set(), 0

    def sample(self, numbers: Sequence[int]) -> list[np.ndarray]:
        """The pixels where each of these frames differs from the base (for the palette)."""
        frames = [(self.pieces.drawing(self.scene.frames[number]),
                   [self.pieces.final(index) for index in self.scene.finished_by(number)])
                  for number in numbers]
        self.draw(markup for drawn, finals in frames for element in (*drawn, *finals) for markup, _, _ in element)
        return [region for drawn, finals in frames for _, region in self.regions(set(), drawn, finals, _Shown())]

    def regions(self, before: set[Element], drawn: list[Element], finals: list[Element],
                shown: _Shown) -> list[tuple[Rect, np.ndarray]]:
        """The boxes where a frame draws differently from the one before (``before``: its
        elements), merged where they meet, each with its pixels; ``finals``: the output
        values this frame adds to ``shown``."""
        boxes = [self.stacked(element)[0] for element in before.symmetric_difference(drawn)]
        for element in finals:
            layer = self.stacked(element)
            shown.add(element, layer)
            boxes.append(layer[0])
        canvas = (0, 0, self.width, self.height)
        rects = _merged([_clip(box, canvas) for box in boxes if _meets(box, canvas)])
        layers = [(element, self.stacked(element)) for element in drawn]
        found = []
        for rect in rects:
            meeting = [(element, layer) for element, layer in layers if _meets(layer[0], rect)]
            values = shown.reaching(rect)
            # The same elements over the same box draw the same pixels: a lit cell's row,
            # say, comes back as the loops come round to it again.
            key = (rect, tuple(element for element, _ in meeting), tuple(order for order, _ in values))
            pixels = self.composites.get(key)
            if pixels is None:
                pixels = self.composite(rect, [layer for _, layer in meeting] + [layer for _, layer in values])
                self.composites.add(key, pixels)
            found.append((rect, pixels))
        self.stacks = {element: self.stacks[element] for element in drawn}
        return found

    def forget(self, used: set[str], pinned: set[str]) -> None:
        """Past :data:`KEEP_BYTES` of layers, drop those neither ``used`` (by the last batch,
        whose last frame the next is compared with) nor ``pinned`` (output values shown)."""
        if self.bytes <= KEEP_BYTES:
            return
        for markup in [m for m in self.layers if m not in used and m not in pinned]:
            _, pre, inv = self.layers.pop(markup)
            self.bytes -= pre.nbytes + inv.nbytes
            self.pieces.spots.pop(markup, None)
            self.pieces.boxes.pop(markup, None)
            self.pieces.glyph_parts.pop(markup, None)
            self.pieces.wholes.pop(markup, None)
        # Lines and runs name pieces: made again, they find their spots again.
        self.pieces.runs.clear()
        self.pieces.lines.clear()
        self.pieces.made.clear()


def _mark_paints(defs: str, prefix: str, scene: Scene) -> dict[str, Paint]:
    """How each shape a mark draws is painted, read from the SVG's defs (where
    :mod:`einviz.render.svg` sets them): those a cell wide and high, with no attribute but
    solid colours, an opacity and a stroke width (no dashes, no crisp edges)."""
    import xml.etree.ElementTree as ET

    paints: dict[str, Paint] = {}
    size = (_n(scene.cell_w), _n(scene.cell_h))
    for shape in ET.fromstring(defs):
        a = shape.attrib
        if (shape.tag.rpartition("}")[2] != "rect" or not a.keys() <= PLAIN
                or (a.get("width"), a.get("height")) != size or not a.get("id", "").startswith(prefix)):
            continue
        fill, stroke = a.get("fill", "#000000"), a.get("stroke", "none")
        if _solid(fill) and (stroke == "none" or _solid(stroke)):
            paints[a["id"][len(prefix):]] = (
                _rgb(fill), float(a.get("fill-opacity", 1)),
                None if stroke == "none" else _rgb(stroke), float(a.get("stroke-width", 1)))
    return paints


def _solid(colour: str) -> bool:
    return len(colour) == 7 and colour[0] == "#" and all(c in "0123456789abcdefABCDEF" for c in colour[1:])


def _rgb(colour: str) -> RGB:
    """``#RRGGBB`` as three numbers."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:], 16)


def _box_edges(area: tuple[float, float, float, float], paint: Paint, sx: float,
               sy: float) -> tuple[Rect, tuple[int, ...], tuple[int, ...]]:
    """A plain rectangle's edges in quarter pixels, across and down: its fill's, then its
    stroke's outer and inner edges (the stroke is centred on the fill's edge); and the
    pixels they reach. resvg's antialiasing samples a grid of quarter pixels, so an edge
    is where it is rounded to the nearest quarter."""
    x, y, w, h = area
    width = paint[3] if paint[2] is not None else 0.0
    hx, hy = width * sx / 2, width * sy / 2
    x0, y0, x1, y1 = x * sx, y * sy, (x + w) * sx, (y + h) * sy
    across = tuple(round(4 * v) for v in (x0, x1, x0 - hx, x1 + hx, x0 + hx, x1 - hx))
    down = tuple(round(4 * v) for v in (y0, y1, y0 - hy, y1 + hy, y0 + hy, y1 - hy))
    return (min(across) // 4, min(down) // 4, -(-max(across) // 4), -(-max(down) // 4)), across, down


def _box_layer(area: tuple[float, float, float, float], paint: Paint, sx: float, sy: float,
               drawn: dict[Any, tuple[np.ndarray, np.ndarray]]) -> Layer:
    """A plain rectangle as a layer, painted as resvg paints it: the fill, then the stroke
    over it, each pixel covered by its share of the area between the edges (an
    axis-aligned box covers a pixel by its share across times its share down). ``drawn``:
    the pixels of those drawn already, by their edges within their first pixel."""
    rect, across, down = _box_edges(area, paint, sx, sy)
    key = (tuple(e - 4 * rect[0] for e in across), tuple(e - 4 * rect[1] for e in down), paint)
    found = drawn.get(key)
    if found is None:
        found = drawn[key] = _box_pixels(key[0], key[1], paint, rect[2] - rect[0], rect[3] - rect[1])
    return rect, *found


def _box_pixels(across: tuple[int, ...], down: tuple[int, ...], paint: Paint, width: int,
                height: int) -> tuple[np.ndarray, np.ndarray]:
    """A plain rectangle's colours times alpha and 255 less alpha, ``width`` x ``height``
    pixels, its edges in quarter pixels from the first pixel (see :func:`_box_edges`)."""
    fill, opacity, stroke, _ = paint

    def cover(k: int) -> np.ndarray:
        """The share of each pixel between the k-th pair of edges across and down."""
        return np.multiply.outer(_shares(height, down[k], down[k + 1]), _shares(width, across[k], across[k + 1]))

    # The stroke's alpha, and the fill's where the stroke leaves it showing.
    ring = cover(2) - cover(4) if stroke is not None else np.zeros((height, width))
    under = opacity * cover(0) * (1 - ring) if fill is not None else np.zeros((height, width))
    pre = np.multiply.outer(ring, stroke or (0, 0, 0)) + np.multiply.outer(under, fill or (0, 0, 0))
    alpha = (ring + under)[..., None]
    return np.rint(pre * 255).astype(np.uint16), (255 - np.rint(alpha * 255)).astype(np.uint16)


def _shares(n: int, start: int, end: int) -> np.ndarray:
    """The share of each of ``n`` pixels in a row that lies between two edges (in quarter
    pixels from the first pixel's left)."""
    shares = np.zeros(n)
    if end > start:
        first, last = start // 4, end // 4
        if first == last:
            shares[first] = (end - start) / 4
        else:
            shares[first] = 1 - start % 4 / 4
            shares[first + 1:last] = 1
            if last < n:
                shares[last] = end % 4 / 4
    return shares


def _blend(out: np.ndarray, rect: Rect, layer: Layer) -> None:
    """Composite a layer over ``out`` (the pixels of ``rect``, uint16), in place."""
    x0, y0, x1, y1 = rect
    (bx0, by0, bx1, by1), pre, inv = layer
    left, top, right, bottom = max(x0, bx0), max(y0, by0), min(x1, bx1), min(y1, by1)
    if left >= right or top >= bottom:
        return
    under = out[top - y0:bottom - y0, left - x0:right - x0]
    # (colour * alpha + under * (255 - alpha) + 127) // 255, exactly, in 16 bits and in
    # place: for 0 <= v < 65281, v // 255 == (v + 1 + ((v + 1) >> 8)) >> 8.
    under *= inv[top - by0:bottom - by0, left - bx0:right - bx0]
    under += pre[top - by0:bottom - by0, left - bx0:right - bx0]
    under += 128
    under += under >> 8
    under >>= 8


def _stack(parts: Sequence[tuple[Layer, int, int]]) -> Layer:
    """Layers, each moved by whole pixels, composited in order into one layer (a glyph
    beside the ones before is set in place; one that meets them is composited over them)."""
    boxes = [((x0 + dx, y0 + dy, x1 + dx, y1 + dy), pre, inv)
             for ((x0, y0, x1, y1), pre, inv), dx, dy in parts if x0 < x1]
    if len(boxes) == 1:
        return boxes[0]
    if not boxes:
        return EMPTY, np.zeros((0, 0, 3), np.uint16), np.zeros((0, 0, 1), np.uint16)
    left, top = min(b[0][0] for b in boxes), min(b[0][1] for b in boxes)
    right, bottom = max(b[0][2] for b in boxes), max(b[0][3] for b in boxes)
    pre = np.zeros((bottom - top, right - left, 3), np.uint16)
    inv = np.full((bottom - top, right - left, 1), 255, np.uint16)
    reached = -1  # the right edge of the boxes set so far: past it, nothing is drawn yet
    for (x0, y0, x1, y1), p, i in boxes:
        at = np.s_[y0 - top:y1 - top, x0 - left:x1 - left]
        if x0 >= reached:
            pre[at], inv[at] = p, i
        else:
            # Over: this layer's colours, plus those under it times its 255 less alpha.
            pre[at] = p + (pre[at].astype(np.uint32) * i + 127) // 255
            inv[at] = (inv[at].astype(np.uint32) * i + 127) // 255
        reached = max(reached, x1)
    return (left, top, right, bottom), pre, inv


class _Shown:
    """The output values shown so far, as layers, found by the tiles their pixels touch."""

    def __init__(self) -> None:
        self.tiles: dict[tuple[int, int], list[tuple[int, Layer]]] = {}
        self.pieces: set[str] = set()
        self.count = 0

    def add(self, element: Element, layer: Layer) -> None:
        for tile in _tiles(layer[0]):
            self.tiles.setdefault(tile, []).append((self.count, layer))
        self.pieces.update(markup for markup, _, _ in element)
        self.count += 1

    def reaching(self, rect: Rect) -> list[tuple[int, Layer]]:
        """The values whose pixels meet ``rect``, in the order they appeared (and that order)."""
        found = {order: layer for tile in _tiles(rect) for order, layer in self.tiles.get(tile, ())
                 if _meets(layer[0], rect)}
        return [(order, found[order]) for order in sorted(found)]


class _Kept:
    """Arrays kept by key up to a number of bytes, the oldest dropped first."""

    def __init__(self, limit: int) -> None:
        self.limit, self.bytes = limit, 0
        self.items: dict[Any, np.ndarray] = {}

    def get(self, key: Any) -> np.ndarray | None:
        return self.items.get(key)

    def add(self, key: Any, value: np.ndarray) -> None:
        self.items[key] = value
        self.bytes += value.nbytes
        while self.bytes > self.limit and len(self.items) > 1:
            oldest = next(iter(self.items))
            self.bytes -= self.items.pop(oldest).nbytes


def _tiles(box: Rect) -> Iterator[tuple[int, int]]:
    for tx in range(box[0] // TILE, (box[2] - 1) // TILE + 1):
        for ty in range(box[1] // TILE, (box[3] - 1) // TILE + 1):
            yield tx, ty


def _meets(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _clip(a: Rect, b: Rect) -> Rect:
    return max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])


def _merged(rects: list[Rect]) -> list[Rect]:
    """The rectangles, those that meet or nearly meet (:data:`JOIN`) drawn as one box."""
    rects = list(dict.fromkeys(rects))
    joined = True
    while joined and len(rects) > 1:
        joined = False
        out: list[Rect] = []
        for r in rects:
            for k, o in enumerate(out):
                if r[0] <= o[2] + JOIN and o[0] <= r[2] + JOIN and r[1] <= o[3] + JOIN and o[1] <= r[3] + JOIN:
                    out[k] = (min(r[0], o[0]), min(r[1], o[1]), max(r[2], o[2]), max(r[3], o[3]))
                    joined = True
                    break
            else:
                out.append(r)
        rects = out
    return rects


def _pack(boxes: Sequence[Rect], width: int) -> tuple[list[tuple[int, int]], int]:
    """Places for boxes on a canvas ``width`` wide, in rows (shelves) left to right, a pixel
    apart; and the canvas's height. Boxes come tallest first, so rows waste little."""
    places = []
    x = y = row = 0
    for x0, y0, x1, y1 in boxes:
        w, h = x1 - x0, y1 - y0
        if x and x + w > width:
            x, y, row = 0, y + row + 1, 0
        places.append((x, y))
        x += w + 1
        row = max(row, h)
    return places, max(1, y + row)


def _rgba(image: Any) -> np.ndarray:
    return np.asarray(image if image.mode == "RGBA" else image.convert("RGBA"))


def _layer(rect: Rect, rgba: np.ndarray) -> Layer:
    """A layer ready to composite, cut down to the pixels it draws (elsewhere its alpha is 0,
    which leaves what is under it as it was)."""
    alpha = rgba[..., 3]
    rows, columns = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    x0, y0 = rect[:2]
    if not len(rows):
        return EMPTY, np.zeros((0, 0, 3), np.uint16), np.zeros((0, 0, 1), np.uint16)
    top, bottom, left, right = rows[0], rows[-1] + 1, columns[0], columns[-1] + 1
    drawn = rgba[top:bottom, left:right].astype(np.uint16)
    alpha = drawn[..., 3:]
    return ((x0 + int(left), y0 + int(top), x0 + int(right), y0 + int(bottom)),
            drawn[..., :3] * alpha, 255 - alpha)


# -- colours ---------------------------------------------------------------------------------------
def _palette(image: Any, base: np.ndarray, regions: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One palette for every frame (``n x 3`` bytes, at most 255 colours: GIF's 256 less
    the transparent index), from the colours of the base and of some frames' changes; and
    those colours (packed, see :func:`_pack_rgb`).

    Every colour, when there are few enough. Else a median cut over the colours, each
    weighted by the square root of how often it is seen (so the antialiased edges of text
    get their shades, not only the large fills), in which the commonest colours (the flat
    fills, the ink, the label colours) are then set exactly.
    """
    parts = [base.reshape(-1, 3)] + [region.reshape(-1, 3) for region in regions]
    colours, counts = np.unique(_pack_rgb(np.concatenate(parts)), return_counts=True)
    if len(colours) <= 255:
        return _unpack(colours), colours
    weighted = np.repeat(_unpack(colours), np.sqrt(counts).astype(np.int64), axis=0)
    quantized = image.fromarray(weighted[:, None, :], "RGB").quantize(
        255, method=image.Quantize.MEDIANCUT, dither=image.Dither.NONE)
    palette = np.array(quantized.getpalette()[:3 * 255], dtype=np.int64).reshape(-1, 3)
    free = np.ones(len(palette), dtype=bool)
    for colour in _unpack(colours[np.argsort(-counts, kind="stable")[:EXACT_COLOURS]]):
        distance = np.where(free, ((palette - colour) ** 2).sum(axis=1), np.iinfo(np.int64).max)
        nearest = int(distance.argmin())
        palette[nearest], free[nearest] = colour, False
    return np.unique(palette.astype(np.uint8), axis=0), colours


class _Indexer:
    """Maps RGB pixels to their nearest palette colour, exactly, remembering each answer."""

    def __init__(self, palette: np.ndarray, colours: np.ndarray | None = None) -> None:
        self.palette = palette.astype(np.int64)
        # Each colour's index (at most 254: the palette has at most 255 colours); 255: not
        # looked up yet. The colours the palette was made from are looked up at once.
        self.lut = np.full(1 << 24, 255, dtype=np.uint8)
        if colours is not None:
            self.look_up(colours)
        # Regions indexed already, by identity (a box drawn again is the same array).
        self.regions: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.bytes = 0

    def region(self, rgb: np.ndarray) -> np.ndarray:
        """A region's indices (not to be written to), looked up once while it is kept."""
        found = self.regions.get(id(rgb))
        if found is not None and found[0] is rgb:
            return found[1]
        indices = self(rgb)
        self.regions[id(rgb)] = rgb, indices
        self.bytes += rgb.nbytes + indices.nbytes
        while self.bytes > KEEP_COMPOSITES and len(self.regions) > 1:
            old, old_indices = self.regions.pop(next(iter(self.regions)))
            self.bytes -= old.nbytes + old_indices.nbytes
        return indices

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        keys = _pack_rgb(rgb)
        found = self.lut[keys]
        missing = found == 255
        if missing.any():
            self.look_up(np.unique(keys[missing]))
            found = self.lut[keys]
        return found

    def look_up(self, keys: np.ndarray) -> None:
        """Find the nearest palette colour of each of these colours (packed, distinct)."""
        for start in range(0, len(keys), 4096):
            chunk = keys[start:start + 4096]
            colours = _unpack(chunk).astype(np.int64)
            # |c - p|^2 less |c|^2 (the same for every p), exactly, in integers.
            distance = (self.palette ** 2).sum(axis=1) - 2 * colours @ self.palette.T
            self.lut[chunk] = distance.argmin(axis=1)


def _patches(base: np.ndarray, changes: Iterable[list[tuple[Rect, np.ndarray]]], indexer: _Indexer,
             transparent: int) -> Iterator[tuple[np.ndarray, tuple[int, int]]]:
    """Each frame as palette indices, as the GIF stores it: the first whole, each later one as
    the box around the pixels that changed (and where it goes), transparent elsewhere."""
    canvas = indexer(base)
    for number, pixels in enumerate(changes):
        if number == 0:
            for (x0, y0, x1, y1), region in pixels:
                canvas[y0:y1, x0:x1] = indexer.region(region)
            yield canvas.copy(), (0, 0)
            continue
        # Each rectangle cut to the box of its pixels that changed (a rectangle is drawn
        # whole where an element changed, but much of it may come out as it was), with them.
        # The rectangles do not overlap, so each compares with the frame before.
        changed = []
        for (x0, y0, x1, y1), region in pixels:
            now = indexer.region(region)
            differs = now != canvas[y0:y1, x0:x1]
            rows = np.flatnonzero(differs.any(axis=1))
            if len(rows):
                columns = np.flatnonzero(differs.any(axis=0))
                cut = np.s_[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
                changed.append(((x0 + int(columns[0]), y0 + int(rows[0])), now[cut], differs[cut]))
                canvas[y0:y1, x0:x1] = now
        if not changed:
            yield np.full((1, 1), transparent, dtype=np.uint8), (0, 0)
            continue
        left, top = min(x for (x, _), _, _ in changed), min(y for (_, y), _, _ in changed)
        right = max(x + now.shape[1] for (x, _), now, _ in changed)
        bottom = max(y + now.shape[0] for (_, y), now, _ in changed)
        patch = np.full((bottom - top, right - left), transparent, dtype=np.uint8)
        for (x, y), now, differs in changed:
            # Pixels that did not change stay transparent too: long runs compress well.
            h, w = now.shape
            patch[y - top:y - top + h, x - left:x - left + w] = np.where(differs, now, transparent)
        yield patch, (left, top)


def _encode(image: Any, palette: np.ndarray, patches: Iterator[tuple[np.ndarray, tuple[int, int]]],
            delays: Sequence[int], loop: bool) -> bytes:
    """The GIF file: one global palette (plus the transparent index after its colours), then
    each frame's patch, kept on screen under the next (disposal 1).

    Pillow encodes; the frames are laid out here because each one's changed box is already
    known, which spares Pillow comparing whole frames and remapping each one's palette.
    """
    from PIL import GifImagePlugin

    transparent = len(palette)
    colours = np.concatenate([palette, np.zeros((1, 3), dtype=np.uint8)]).tobytes()
    info: dict[str, Any] = {"transparency": transparent}
    if loop:
        info["loop"] = 0  # forever; without the key the GIF plays once
    out = io.BytesIO()
    for (indices, offset), delay in zip(patches, delays):
        frame = image.fromarray(indices, "P")
        if not out.tell():
            frame.putpalette(colours)
            out.writelines(GifImagePlugin.getheader(frame, None, info)[0])
        out.writelines(GifImagePlugin.getdata(frame, offset, duration=delay, disposal=1,
                                              transparency=transparent))
    out.write(b";")
    return out.getvalue()


def _pack_rgb(rgb: np.ndarray) -> np.ndarray:
    keys = rgb[..., 0].astype(np.uint32)
    keys <<= 8
    keys |= rgb[..., 1]
    keys <<= 8
    keys |= rgb[..., 2]
    return keys


def _unpack(keys: np.ndarray) -> np.ndarray:
    return np.stack([(keys >> 16) & 255, (keys >> 8) & 255, keys & 255], axis=-1).astype(np.uint8)


# -- options and optional dependencies ------------------------------------------------------------
def _frame_rate(fps: Any) -> float:
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps < math.inf:
        raise EinvizError(f"fps must be a positive number, not {fps!r}",
                          hint="fps is step (or cell) frames per second, e.g. fps=2")
    return float(fps)


def _imports() -> tuple[Any, Any]:
    try:
        import resvg_py
        from PIL import Image
    except ImportError as e:
        raise EinvizError(f"GIF output needs Pillow and resvg-py ({e.name} is missing)",
                          hint=install_hint("gif")) from e
    return Image, resvg_py


def _progress_bar(progress: bool | None, total: int) -> Any:
    """A tqdm bar on stderr, shown once a second has passed (``None``: no bar)."""
    if progress is False:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="GIF", unit="frame", file=sys.stderr, delay=1.0, leave=False,
                disable=None if progress is None else False)
