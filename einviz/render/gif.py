"""Write a scene as an animated GIF: each frame drawn from the scene's data, encoded with Pillow.

The pixels are resvg's, drawing the same markup as :mod:`einviz.render.svg`, but for plain
rectangles; this module decides what to draw from the scene, and :mod:`._gif_pixels`
composites and encodes it. It is fast because a frame changes little and its parts come back:

- The unchanging picture is rasterised once, as two layers: the shapes under the frames'
  marks (``render(scene, "base")``) and the text over them (``render(scene, "top")``).
- Each frame is a list of elements read from its :class:`~einviz.render.scene.Frame`: the
  lit code line, highlighted labels, outlines, spots, lit cells, the running sum, the loop
  values, the caption lines, and the output values finished so far. An element is made of
  pieces, each drawn once and kept: a proportional text or a rounded shape is one piece
  where it stands, rasterised by resvg; a mark (a cell's tint and border) or an outline is a
  plain rectangle, drawn here as resvg draws it (edges on its quarter-pixel grid), with no
  markup; monospaced text (the captions, the loop values) is one piece per glyph placed to
  the nearest quarter pixel, since DejaVu Sans Mono sets every glyph one advance after the
  one before: a glyph comes back at one of four places in a pixel whatever its column and
  line, so a new caption costs a few new glyphs, not a line of text.
- New pieces are rasterised many at a time, on one canvas, the glyphs in one text a class.
- A frame differs from the one before only where an element differs: there its pixels are
  the shapes, the pieces that reach them and the text on top, composited in order. A box
  drawn once is kept, with its palette indices, by the elements that reach it: the loops
  come back to the same cells (a row of A for every column of B), and so to the same boxes.

One palette, made from the base, the first frames and the final one, serves every frame; pixels map to
their nearest palette colour without dithering, so fills stay flat and text stays crisp.
Each later frame is stored as the box around the pixels it changes, the others transparent.
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
from ._gif_pixels import (
    KEEP_COMPOSITES,
    Indexer,
    Kept,
    Layer,
    Paint,
    Rect,
    Shown,
    blend,
    box_edges,
    box_layer,
    clip,
    cut_layer,
    encode,
    frame_patches,
    make_palette,
    mark_paints,
    meets,
    merged,
    rgba_pixels,
    shelves,
    stack,
)
from .palette import tint
from .scene import CAPTION_LINE, CAPTION_SIZE, CODE_SIZE, Frame, Mark, Scene, Span, mono_width
from .svg import _LIT_STROKE, _n, cell_fonts, mark_shape, render

__all__ = ["frame_delays", "write_gif"]

#: The shortest delay browsers honour: they show 0 and 10 ms frames for 100 ms instead.
MIN_DELAY_MS = 20
#: The first frames, whose colours go into the palette (with the base and the final frame).
PALETTE_FRAMES = 64
#: New pieces are rasterised once their spots cover this many pixels (or at :data:`BATCH`
#: frames): resvg's time goes on pixels and glyphs, plus a fixed cost a call.
AREA = 600_000
BATCH = 256
#: Pieces kept between batches, in bytes of layers, before the unused ones are dropped.
KEEP_BYTES = 64 << 20
#: Monospaced glyphs are placed to this fraction of a pixel.
SUBPIXEL = 4
#: The fill behind the lit code line, as :mod:`einviz.render.svg` draws it.
CODELINE_FILL = "#FFE8A3"
#: The font size of each class of monospaced text that changes from frame to frame, as the
#: SVG's style sets it: a caption line, a muted caption line, the loops' names and values.
MONO_SIZES = {"c": CAPTION_SIZE, "n": 12.0, "k": CODE_SIZE}

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


#: A lit spot's outline, as :mod:`einviz.render.svg` draws it.
OUTLINE: Paint = (None, 0.0, (int(_LIT_STROKE[1:3], 16), int(_LIT_STROKE[3:5], 16), int(_LIT_STROKE[5:], 16)),
                   2.0)


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
        palette, colours = make_palette(image, raster.base, seen + raster.sample([scene.n_frames - 1]))
        patches = frame_patches(raster.base, itertools.chain(first, changes), Indexer(palette, colours), len(palette))
        return encode(image, palette, _counted(patches, bar), delays, loop)
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
        """Each mark: a plain rectangle where its shape is one (see :func:`mark_paints`)."""
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
        would draw it (see :func:`box_layer`): no markup to rasterise."""
        found = self.box_elements.get((x, y, w, h, paint))
        if found is not None and found[0][0] in self.spots:
            return found
        area = (float(_n(x)), float(_n(y)), float(_n(w)), float(_n(h)))
        key = f"box {area} {paint}"
        if key not in self.spots:
            self.boxes[key] = area, paint
            self.spots[key] = box_edges(area, paint, self.sx, self.sy)[0]
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
        top_rgba = rgba_pixels(top)
        self.top = cut_layer((0, 0, self.width, self.height), top_rgba)
        # How many of the text's pixels are inked above and left of each point: a region
        # the text leaves blank is not blended with it.
        self.inked = np.zeros((self.height + 1, self.width + 1), dtype=np.int32)
        self.inked[1:, 1:] = (top_rgba[..., 3] > 0).cumsum(axis=0, dtype=np.int32).cumsum(axis=1, dtype=np.int32)
        self.base = self.under.astype(np.uint16)
        blend(self.base, (0, 0, self.width, self.height), self.top)
        self.base = self.base.astype(np.uint8)
        # resvg rounds the canvas up to whole pixels and stretches the picture to fill it,
        # so across and down scale a little differently.
        self.sx, self.sy = under.width / scene.width, under.height / scene.height
        self.pieces = _Pieces(scene, prefix, self.sx, self.sy, mark_paints(self.defs, prefix, scene))
        self.layers: dict[str, Layer] = {}
        self.bytes = 0
        # The elements of the frame before and of this one, as layers.
        self.stacks: dict[Element, Layer] = {}
        # Plain rectangles' pixels, by their edges within their first pixel.
        self.box_pixels: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
        # Boxes drawn already, by where they are and what reaches them.
        self.composites = Kept(KEEP_COMPOSITES)

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
                self.keep(markup, box_layer(*boxes[markup], self.sx, self.sy, self.box_pixels))
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
        places, height = shelves([spots[m] for m in markups], width)
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
        pixels = rgba_pixels(self.rasterise(self.document("".join(body), width, height)))
        for markup, (px, py) in zip(markups, places):
            x0, y0, x1, y1 = spots[markup]
            self.keep(markup, cut_layer((x0, y0, x1, y1), pixels[py:py + y1 - y0, px:px + x1 - x0]))

    def keep(self, markup: str, layer: Layer) -> None:
        self.layers[markup] = layer
        self.bytes += layer[1].nbytes + layer[2].nbytes

    def stacked(self, element: Element) -> Layer:
        """An element as one layer: its pieces composited in order (drawn already)."""
        found = self.stacks.get(element)
        if found is None:
            found = self.stacks[element] = stack([(self.layers[m], dx, dy) for m, dx, dy in element])
        return found

    def composite(self, rect: Rect, layers: Iterable[Layer]) -> np.ndarray:
        """A rectangle of the picture: the shapes, the layers that reach it, and the text on
        top (where no layer reaches, the picture without a frame)."""
        x0, y0, x1, y1 = rect
        out = None
        for layer in layers:
            if meets(layer[0], rect):
                if out is None:
                    out = self.under[y0:y1, x0:x1].astype(np.uint16)
                blend(out, rect, layer)
        if out is None:
            return self.base[y0:y1, x0:x1].copy()
        inked = self.inked
        if inked[y1, x1] - inked[y0, x1] - inked[y1, x0] + inked[y0, x0]:
            blend(out, rect, self.top)
        return out.astype(np.uint8)

    # -- frames ----------------------------------------------------------------------------------
    def changes(self) -> Iterator[list[tuple[Rect, np.ndarray]]]:
        """For each frame, the rectangles where it differs from the frame before (the first:
        from the base), each with its pixels. Frames go in batches: a batch's new pieces are
        rasterised together, then its frames are composited."""
        batch: list[tuple[list[Element], list[Element]]] = []
        new: set[str] = set()
        area = 0
        shown = Shown()
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
        return [region for drawn, finals in frames for _, region in self.regions(set(), drawn, finals, Shown())]

    def regions(self, before: set[Element], drawn: list[Element], finals: list[Element],
                shown: Shown) -> list[tuple[Rect, np.ndarray]]:
        """The boxes where a frame draws differently from the one before (``before``: its
        elements), merged where they meet, each with its pixels; ``finals``: the output
        values this frame adds to ``shown``."""
        boxes = [self.stacked(element)[0] for element in before.symmetric_difference(drawn)]
        for element in finals:
            layer = self.stacked(element)
            shown.add(element, layer)
            boxes.append(layer[0])
        canvas = (0, 0, self.width, self.height)
        rects = merged([clip(box, canvas) for box in boxes if meets(box, canvas)])
        layers = [(element, self.stacked(element)) for element in drawn]
        found = []
        for rect in rects:
            meeting = [(element, layer) for element, layer in layers if meets(layer[0], rect)]
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
