"""Write a scene as an animated GIF: the SVG's frames rasterised with resvg, encoded with Pillow.

Every pixel comes from resvg drawing the SVG of :mod:`einviz.render.svg`; this module only
moves, composites and encodes what resvg drew. It is fast because a frame changes little:

- The unchanging picture is rasterised once, as two layers: the shapes under the frames'
  marks (``render(scene, "base")``) and the text over them (``render(scene, "top")``).
- A frame differs from the one before only in a few rectangles (:func:`changed`): the cells
  lit in either frame, output values that appear, the running sum, the loop values, the
  caption. There the frame is redrawn as the shapes, the elements of its overlay
  (``render(scene, "overlay", k)``: its changes on a transparent canvas) and the text,
  composited in that order; everywhere else it is the frame before.
- Each distinct overlay element is rasterised once, and kept while it comes back: the
  caption and the loop values are new in every frame, but lit cells, output values and
  the loops' names return. resvg's time goes on pixels, on glyphs and on a fixed cost a
  call, so the new elements of many frames are rasterised together on one canvas, each
  alone in a spot of its own.

One palette, made from the base and a sample of frames, serves every frame; pixels map to
their nearest palette colour without dithering, so fills stay flat and text stays crisp.
Each later frame is stored as the box around its changes, unchanged pixels transparent.

>>> import numpy as np
>>> from einviz.trace import trace
>>> from einviz.render.scene import build_scene
>>> scene = build_scene(trace("i->", np.arange(3)), granularity="step")
>>> write_gif(scene)[:6]
b'GIF89a'
"""

from __future__ import annotations

import io
import math
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any
from xml.etree import ElementTree as etree
from xml.sax.saxutils import quoteattr

import numpy as np

from ..errors import EinvizError
from .scene import CAPTION_LINE, CAPTION_SIZE, CODE_SIZE, VALUE_BASELINE, Frame, Scene
from .svg import render

__all__ = ["changed", "frame_delays", "write_gif"]

#: The shortest delay browsers honour: they show 0 and 10 ms frames for 100 ms instead.
MIN_DELAY_MS = 20
#: Scene units added around each changed thing, for strokes and antialiasing.
MARGIN = 3
#: Step or cell frames whose colours go into the palette (with the base, the opening and
#: the final frames).
PALETTE_SAMPLE = 8
#: The commonest colours, which the palette holds exactly.
EXACT_COLOURS = 48

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels
Area = tuple[float, float, float, float]  # x, y, w, h in scene units
Bounds = tuple[float, float, float, float]  # x0, y0, x1, y1 in scene units
#: A layer: where it is, its colours times its alpha, and 255 less its alpha (uint16).
Layer = tuple[Rect, np.ndarray, np.ndarray]


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
    >>> from einviz.trace import trace
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
    """Rasterise a scene's frames and encode them as one animated GIF.

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
    >>> from einviz.trace import trace
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
    # Each frame counts twice: once drawn, once encoded.
    bar = _progress_bar(progress, 2 * scene.n_frames)
    try:
        changes = list(raster.changes(bar))
        palette = _palette(image, raster.base, changes, _sample(scene))
        patches = _patches(raster.base, changes, _Indexer(palette), len(palette))
        return _encode(image, palette, _counted(patches, bar), delays, loop)
    finally:
        if bar is not None:
            bar.close()


def _counted(items: Iterator[Any], bar: Any) -> Iterator[Any]:
    for item in items:
        yield item
        if bar is not None:
            bar.update(1)


# -- where frames change -------------------------------------------------------------------------
def changed(scene: Scene, before: Frame | None, frame: Frame) -> list[Area]:
    """The rectangles (``x, y, w, h``) where a frame's picture can differ from the one before.

    Args:
        scene: the scene.
        before: the previous frame (``None``: the base alone).
        frame: the frame.

    Returns:
        Rectangles in scene units, with a margin for strokes; outside them the two
        frames' overlays draw the same.

    >>> import numpy as np
    >>> from einviz.trace import trace
    >>> from einviz.render.scene import build_scene
    >>> scene = build_scene(trace("i->", np.arange(3)), granularity="step")
    >>> first, second = scene.frames[-3:-1]
    >>> len(changed(scene, first, second))  # A's cell lit in each, out's cell, caption, loop value
    5
    """
    w, h = scene.cell_w, scene.cell_h
    shown = [f for f in (before, frame) if f is not None]
    rects: list[Area] = []
    for f in shown:
        rects += [(m.x, m.y, w, h) for m in f.marks]
        if f.running is not None:
            rects.append((f.running.x - w / 2, f.running.y - VALUE_BASELINE, w, h))
        for label in f.labels:
            rects += scene.label_spots.get(label, [])
        rects += [spot[:4] for spot in f.spots]
        rects += list(f.outlines)
    for index in frame.finished:
        text = scene.finals[index]
        rects.append((text.x - w / 2, text.y - VALUE_BASELINE, w, h))
    code = scene.code
    if (before is None or before.code_line != frame.code_line) and any(
            f.code_line is not None for f in shown):
        rects.append((code.x, code.y, code.w, code.h))
    if before is None or before.caption != frame.caption:
        lines = max(len(f.caption) for f in shown)
        if lines:
            top = scene.caption_y - CAPTION_SIZE
            rects.append((0, top, scene.width, CAPTION_SIZE + CAPTION_LINE * (lines - 1) + 5))
    areas = [(x - MARGIN, y - MARGIN, rw + 2 * MARGIN, rh + 2 * MARGIN) for x, y, rw, rh in rects]
    if (before is None or before.loop_values != frame.loop_values) and any(f.loop_values for f in shown):
        # The values beside the loops' lines: numbers, with nothing below their baseline.
        # Stopping there leaves out the lit statement under them, a long text.
        loops = code.label_lines.values()
        top = code.line_y(min(loops)) - CODE_SIZE - MARGIN
        areas.append((code.value_x, top, code.x + code.w - code.value_x,
                      code.line_y(max(loops)) + 1 - top))
    return list(dict.fromkeys(areas))


class _Raster:
    """The base as pixels, and each frame's changed rectangles as pixels (RGB arrays).

    An overlay is a list of elements drawn in order over the base. Each distinct element
    (the same markup in the same groups) is rasterised once, alone, and its layer kept: the
    caption and the loop values are new in each frame, but the lit cells, the output
    values and the loop variables' names come back frame after frame. A rectangle's pixels
    are the base with the layers of the elements that reach it composited on top, in order.
    """

    def __init__(self, scene: Scene, prefix: str, scale: float, image: Any, resvg: Any) -> None:
        self.scene = scene
        self.prefix = prefix
        self.image = image
        self.resvg = resvg
        # The frames' marks lie between the unchanging shapes (under) and the unchanging
        # text (top): each is rasterised once, and the picture without any frame is kept.
        under = self.rasterise(render(scene, "base", prefix=prefix), scale)
        self.under = np.asarray(under.convert("RGB"))
        height, width = self.under.shape[:2]
        top = self.rasterise(render(scene, "top", prefix=prefix), scale)
        self.top = _layer((0, 0, width, height), _rgba(top))
        self.base = self.under
        self.base = self.composite((0, 0, width, height), [], force=True)
        # resvg rounds the canvas up to whole pixels and stretches the picture to fill it,
        # so across and down scale a little differently.
        self.sx, self.sy = under.width / scene.width, under.height / scene.height
        self.defs = ""
        self.layers: dict[str, Layer] = {}
        # Each element seen, by a cheap key (its groups, tree and font size), as its markup
        # and box: frames repeat most of their elements, and serialising them is slow.
        self.seen: dict[Any, tuple[str, Rect | None]] = {}

    def rasterise(self, svg: str, zoom: float = 1.0) -> Any:
        png = self.resvg.svg_to_bytes(svg_string=svg, zoom=None if zoom == 1 else zoom)
        return self.image.open(io.BytesIO(bytes(png)))

    def pixels(self, areas: Sequence[Area]) -> list[Rect]:
        """Areas as pixel rectangles, clipped to the canvas."""
        height, width = self.base.shape[:2]
        rects = []
        for x, y, w, h in areas:
            rect = (max(0, math.floor(x * self.sx)), max(0, math.floor(y * self.sy)),
                    min(width, math.ceil((x + w) * self.sx)),
                    min(height, math.ceil((y + h) * self.sy)))
            if rect[0] < rect[2] and rect[1] < rect[3]:
                rects.append(rect)
        return list(dict.fromkeys(rects))

    def elements(self, number: int) -> list[tuple[str, Rect | None]]:
        """A frame's overlay as the elements it draws, in order: each as markup that draws it
        alone (inside copies of its groups, so styles still apply), with the pixels it may
        reach (``None``: not known)."""
        svg = render(self.scene, "overlay", number, prefix=self.prefix)
        if not self.defs:
            self.defs = svg[svg.index("<defs>"):svg.index("</defs>") + len("</defs>")]
        cell = (self.scene.cell_w, self.scene.cell_h)
        seen = self.seen
        found: list[tuple[str, Rect | None]] = []

        def walk(group: etree.Element, opened: str, depth: int, size: float) -> None:
            for child in group:
                tag = child.tag.rpartition("}")[2]
                own = float(child.get("font-size", size))
                if tag == "g":
                    # A frame's number and steps are data; leaving them out lets frames share.
                    attributes = "".join(f" {name}={quoteattr(value)}" for name, value in child.items()
                                         if not name.startswith("data-"))
                    walk(child, f"{opened}<g{attributes}>", depth + 1, own)
                elif tag not in ("defs", "title"):
                    key = (opened, own, _key(child))
                    known = seen.get(key)
                    if known is None:
                        for part in child.iter():
                            part.tag = part.tag.rpartition("}")[2]
                        if any(name.startswith("{") for part in child.iter() for name in part.keys()):
                            markup = etree.tostring(child, encoding="unicode")  # rare: namespaces
                        else:
                            markup = _markup(child)
                        markup = opened + markup + "</g>" * depth
                        bounds = _bounds(child, cell, own)
                        known = seen[key] = (markup, None if bounds is None else self.box(bounds))
                    found.append(known)

        walk(etree.fromstring(svg), "", 0, 16.0)
        return found

    def box(self, bounds: Bounds) -> Rect:
        """Bounds in scene units as the pixels they touch."""
        x0, y0 = math.floor(bounds[0] * self.sx), math.floor(bounds[1] * self.sy)
        return x0, y0, max(x0 + 1, math.ceil(bounds[2] * self.sx)), max(y0 + 1, math.ceil(bounds[3] * self.sy))

    def changes(self, bar: Any) -> Iterator[list[tuple[Rect, np.ndarray]]]:
        """For each frame, the rectangles where it differs from the frame before (the first:
        from the base), each with its pixels."""
        scene = self.scene
        atlas = _Atlas(self.base.shape[1])
        pending: list[list[tuple[Rect, list[str]]]] = []
        before = None
        for number, frame in enumerate(scene.frames):
            elements = self.elements(number)
            entries = []
            for rect in self.pixels(changed(scene, before, frame)):
                used = [(markup, box) for markup, box in elements if box is None or _meets(box, rect)]
                for markup, box in used:
                    if markup in self.layers or markup in atlas.boxes:
                        continue
                    if box is None:
                        self.layers[markup] = self.alone(markup)
                    else:
                        atlas.add(markup, box)
                entries.append((rect, [markup for markup, _ in used]))
            pending.append(entries)
            before = frame
            if atlas.area >= _Atlas.AREA or number == scene.n_frames - 1:
                self.layers.update(atlas.rasterise(self))
                for entries in pending:
                    yield [(rect, self.composite(rect, used)) for rect, used in entries]
                if bar is not None:
                    bar.update(len(pending))
                # Keep the layers this batch used: what comes back soon (lit cells, output
                # values, the loops' names) stays, and the captions do not pile up.
                recent = {markup for entries in pending for _, used in entries for markup in used}
                self.layers = {markup: layer for markup, layer in self.layers.items() if markup in recent}
                atlas, pending = _Atlas(self.base.shape[1]), []

    def alone(self, markup: str) -> Layer:
        """An element of unknown extent, rasterised alone on a canvas the picture's size."""
        height, width = self.base.shape[:2]
        layer = self.rasterise(self.document(markup, width, height))
        return _layer((0, 0, width, height), _rgba(layer))

    def document(self, body: str, width: int, height: int) -> str:
        """An SVG document ``width`` x ``height`` pixels drawing ``body`` (in scene units) at
        the base's scale, with the overlays' styles and shapes."""
        return (f'<svg xmlns="http://www.w3.org/2000/svg" xml:space="preserve" width="{width}" '
                f'height="{height}">{self.defs}<g id="{self.prefix}">'
                f'<g transform="scale({self.sx!r} {self.sy!r})">{body}</g></g></svg>')

    def composite(self, rect: Rect, used: list[str], force: bool = False) -> np.ndarray:
        """A rectangle of the picture: the shapes, the layers of the elements that reach it,
        and the text on top (where no element reaches, the picture without a frame)."""
        x0, y0, x1, y1 = rect
        out = None
        for layer in [*(self.layers[markup] for markup in used), self.top]:
            (bx0, by0, bx1, by1), pre, inv = layer
            left, top, right, bottom = max(x0, bx0), max(y0, by0), min(x1, bx1), min(y1, by1)
            if left >= right or top >= bottom or (out is None and layer is self.top and not force):
                continue
            if out is None:
                out = self.under[y0:y1, x0:x1].astype(np.uint16)
            under = out[top - y0:bottom - y0, left - x0:right - x0]
            # (colour * alpha + under * (255 - alpha) + 127) // 255, exactly, in 16 bits:
            # for 0 <= v < 65281, v // 255 == (v + 1 + ((v + 1) >> 8)) >> 8.
            mixed = under * inv[top - by0:bottom - by0, left - bx0:right - bx0]
            mixed += pre[top - by0:bottom - by0, left - bx0:right - bx0]
            mixed += 128
            mixed += mixed >> 8
            mixed >>= 8
            under[...] = mixed
        if out is None:
            return self.base[y0:y1, x0:x1].copy()
        return out.astype(np.uint8)


class _Atlas:
    """One canvas on which many elements are rasterised in one resvg call.

    Each element is moved by whole pixels (which draws it exactly as in place) to a spot
    big enough for all it may draw (its generous bounds), so no element draws over another
    and nothing needs clipping. An element that may reach past a side of the picture (a
    caption) keeps its columns, where the canvas's sides clip it as the picture's would;
    those go first, the others where the canvas is lowest (a skyline), tallest first.
    """

    #: The atlas is rasterised once its elements' boxes cover this many pixels.
    AREA = 600_000

    def __init__(self, width: int) -> None:
        self.width = width
        self.boxes: dict[str, Rect] = {}
        self.fixed: set[str] = set()
        self.area = 0

    def add(self, markup: str, box: Rect) -> None:
        left, right = max(0, box[0]), min(self.width, box[2])
        if (left, right) != (box[0], box[2]):
            self.fixed.add(markup)
        self.boxes[markup] = (left, box[1], right, box[3])
        self.area += (right - left) * (box[3] - box[1])

    def rasterise(self, raster: _Raster) -> dict[str, Layer]:
        """Rasterise every element; returns each one's box and layer (RGBA)."""
        skyline = np.zeros(self.width, dtype=np.int64)
        moving = sorted(set(self.boxes) - self.fixed, key=lambda m: self.boxes[m][1] - self.boxes[m][3])
        moves: dict[str, tuple[int, int]] = {}
        for markup in [m for m in self.boxes if m in self.fixed] + moving:
            x0, y0, x1, y1 = self.boxes[markup]
            lows = np.lib.stride_tricks.sliding_window_view(skyline, x1 - x0).max(axis=1)
            at = x0 if markup in self.fixed else int(lows.argmin())
            floor = int(lows[at])
            skyline[at:at + x1 - x0] = floor + y1 - y0 + 1
            moves[markup] = (at - x0, floor - y0)
        body = "".join(f'<g transform="translate({dx / raster.sx!r} {dy / raster.sy!r})">{markup}</g>'
                       for markup, (dx, dy) in moves.items())
        canvas = raster.rasterise(raster.document(body, self.width, max(1, int(skyline.max()))))
        pixels = _rgba(canvas)
        layers = {}
        for markup, (dx, dy) in moves.items():
            x0, y0, x1, y1 = self.boxes[markup]
            layers[markup] = _layer((x0, y0, x1, y1), pixels[y0 + dy:y1 + dy, x0 + dx:x1 + dx])
        return layers


def _rgba(image: Any) -> np.ndarray:
    return np.asarray(image if image.mode == "RGBA" else image.convert("RGBA"))


def _layer(rect: Rect, rgba: np.ndarray) -> Layer:
    """A layer ready to composite, cut down to the pixels it draws (elsewhere its alpha is 0,
    which leaves what is under it as it was)."""
    alpha = rgba[..., 3]
    rows, columns = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    x0, y0 = rect[:2]
    if not len(rows):
        return (x0, y0, x0, y0), np.zeros((0, 0, 3), np.uint16), np.zeros((0, 0, 1), np.uint16)
    top, bottom, left, right = rows[0], rows[-1] + 1, columns[0], columns[-1] + 1
    drawn = rgba[top:bottom, left:right].astype(np.uint16)
    alpha = drawn[..., 3:]
    return ((x0 + int(left), y0 + int(top), x0 + int(right), y0 + int(bottom)),
            drawn[..., :3] * alpha, 255 - alpha)


def _key(element: etree.Element) -> tuple:
    """What an element's markup is made of (its tail too, as ``tostring`` writes it)."""
    return (element.tag, tuple(element.items()), element.text, element.tail,
            tuple(_key(child) for child in element) if len(element) else ())


def _markup(element: etree.Element) -> str:
    """An element as ``etree.tostring`` writes it with its namespaces left out (and faster)."""
    tag = element.tag.rpartition("}")[2]
    parts = [f"<{tag}"]
    for name, value in element.items():
        parts.append(f" {name}={_attribute(value)}")
    if element.text or len(element):
        parts.append(">")
        if element.text:
            parts.append(_text(element.text))
        parts += [_markup(child) for child in element]
        parts.append(f"</{tag}>")
    else:
        parts.append(" />")
    if element.tail:
        parts.append(_text(element.tail))
    return "".join(parts)


def _text(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _attribute(value: str) -> str:
    value = _text(value)
    for raw, escaped in (('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;")):
        if raw in value:
            value = value.replace(raw, escaped)
    return f'"{value}"'


def _meets(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _bounds(element: etree.Element, cell: tuple[float, float], size: float) -> Bounds | None:
    """Where an overlay element may draw, at most (``None``: not known).

    A rectangle or cell (``<use>``) with its stroke; text at most one font size wide a
    character either side of its anchor, from one size above its baseline to half a size
    below (below its last line, for lines set with ``dy``).
    """
    try:
        x, y = float(element.get("x", 0)), float(element.get("y", 0))
        if element.tag in ("use", "rect"):
            w = float(element.get("width", cell[0]))
            h = float(element.get("height", cell[1]))
            pad = max(MARGIN, float(element.get("stroke-width", 0)))
            return x - pad, y - pad, x + w + pad, y + h + pad
        if element.tag == "text":
            reach = size * len("".join(element.itertext()))
            below = sum(float(span.get("dy", 0)) for span in element.iter("tspan"))
            return x - reach, y - size, x + reach, y + below + size / 2
    except ValueError:
        return None
    return None


# -- colours ---------------------------------------------------------------------------------------
def _sample(scene: Scene) -> list[int]:
    """The frames whose colours go into the palette: every opening and final frame (each
    lights its own labels) and a few step or cell frames spread over the animation."""
    paced = [f.number for f in scene.frames if f.kind in ("step", "cell")]
    others = [f.number for f in scene.frames if f.kind not in ("step", "cell")]
    spread = paced[:: max(1, len(paced) // PALETTE_SAMPLE)]
    return sorted(set(others + spread))


def _palette(image: Any, base: np.ndarray, changes: list[list[tuple[Rect, np.ndarray]]],
             sample: Sequence[int]) -> np.ndarray:
    """One palette for every frame (``n x 3`` bytes, at most 255 colours: GIF's 256 less
    the transparent index), from the colours of the base and of the sampled frames' changes.

    Every colour, when there are few enough. Else a median cut over the colours, each
    weighted by the square root of how often it is seen (so the antialiased edges of text
    get their shades, not only the large fills), in which the commonest colours (the flat
    fills, the ink, the label colours) are then set exactly.
    """
    parts = [base.reshape(-1, 3)] + [region.reshape(-1, 3) for k in sample for _, region in changes[k]]
    colours, counts = np.unique(_pack(np.concatenate(parts)), return_counts=True)
    if len(colours) <= 255:
        return _unpack(colours)
    weighted = np.repeat(_unpack(colours), np.sqrt(counts).astype(np.int64), axis=0)
    quantized = image.fromarray(weighted[:, None, :], "RGB").quantize(
        255, method=image.Quantize.MEDIANCUT, dither=image.Dither.NONE)
    palette = np.array(quantized.getpalette()[:3 * 255], dtype=np.int64).reshape(-1, 3)
    free = np.ones(len(palette), dtype=bool)
    for colour in _unpack(colours[np.argsort(-counts, kind="stable")[:EXACT_COLOURS]]):
        distance = np.where(free, ((palette - colour) ** 2).sum(axis=1), np.iinfo(np.int64).max)
        nearest = int(distance.argmin())
        palette[nearest], free[nearest] = colour, False
    return np.unique(palette.astype(np.uint8), axis=0)


class _Indexer:
    """Maps RGB pixels to their nearest palette colour, exactly, remembering each answer."""

    def __init__(self, palette: np.ndarray) -> None:
        self.palette = palette.astype(np.int64)
        # Each colour's index (at most 254: the palette has at most 255 colours); 255: not
        # looked up yet.
        self.lut = np.full(1 << 24, 255, dtype=np.uint8)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        keys = _pack(rgb)
        found = self.lut[keys]
        missing = found == 255
        if missing.any():
            new = np.unique(keys[missing])
            for start in range(0, len(new), 4096):
                chunk = new[start:start + 4096]
                distance = ((_unpack(chunk)[:, None, :].astype(np.int64) - self.palette) ** 2).sum(axis=2)
                self.lut[chunk] = distance.argmin(axis=1)
            found = self.lut[keys]
        return found


def _patches(base: np.ndarray, changes: list[list[tuple[Rect, np.ndarray]]], indexer: _Indexer,
             transparent: int) -> Iterator[tuple[np.ndarray, tuple[int, int]]]:
    """Each frame as palette indices, as the GIF stores it: the first whole, each later one as
    the box around its changed rectangles (and where it goes), transparent outside them."""
    canvas = indexer(base)
    for number, pixels in enumerate(changes):
        if number == 0:
            for (x0, y0, x1, y1), region in pixels:
                canvas[y0:y1, x0:x1] = indexer(region)
            yield canvas.copy(), (0, 0)
            continue
        if not pixels:
            yield np.full((1, 1), transparent, dtype=np.uint8), (0, 0)
            continue
        left, top = min(r[0] for r, _ in pixels), min(r[1] for r, _ in pixels)
        right, bottom = max(r[2] for r, _ in pixels), max(r[3] for r, _ in pixels)
        patch = np.full((bottom - top, right - left), transparent, dtype=np.uint8)
        before = canvas.copy()
        for (x0, y0, x1, y1), region in pixels:
            now = indexer(region)
            # Pixels that did not change stay transparent too: long runs compress well.
            patch[y0 - top:y1 - top, x0 - left:x1 - left] = np.where(
                now == before[y0:y1, x0:x1], transparent, now)
            canvas[y0:y1, x0:x1] = now
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
    parts: list[bytes] = []
    for (indices, offset), delay in zip(patches, delays):
        frame = image.fromarray(indices, "P")
        if not parts:
            frame.putpalette(colours)
            parts += GifImagePlugin.getheader(frame, None, info)[0]
        parts += GifImagePlugin.getdata(frame, offset, duration=delay, disposal=1,
                                        transparency=transparent)
    parts.append(b";")
    return b"".join(parts)


def _pack(rgb: np.ndarray) -> np.ndarray:
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
                          hint='pip install "einviz[gif]"') from e
    return Image, resvg_py


def _progress_bar(progress: bool | None, total: int) -> Any:
    """A tqdm bar on stderr, shown once a second has passed (``None``: no bar)."""
    if progress is False:
        return None
    try:
        from tqdm import tqdm  # type: ignore[import-untyped]
    except ImportError:
        return None
    return tqdm(total=total, desc="GIF", unit="frame", file=sys.stderr, delay=1.0, leave=False,
                disable=None if progress is None else False)
