"""The GIF writer's pixels: layers and how they are composited, plain rectangles drawn as
resvg draws them, and the frames turned into palette indices and encoded.

:mod:`einviz.render.gif` decides what each frame draws; this module holds the pixel work it
hands on, none of which knows about scenes but :func:`mark_paints`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .svg import _n

if TYPE_CHECKING:
    from .scene import Scene

#: The commonest colours, which the palette holds exactly.
EXACT_COLOURS = 48
#: Boxes of frames drawn, kept in case the same elements come back over the same box (in
#: bytes of pixels; and as many bytes of their palette indices).
KEEP_COMPOSITES = 8 << 20
#: Pixels between two changed boxes that are drawn as one.
JOIN = 6
#: Side of the tiles that index the output values shown, in pixels.
TILE = 64

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels
#: A layer: where it is, its colours times its alpha, and 255 less its alpha (uint16).
Layer = tuple[Rect, np.ndarray, np.ndarray]
EMPTY: Rect = (0, 0, 0, 0)
RGB = tuple[int, int, int]
#: How a plain rectangle is painted: its fill (``None``: none) and the fill's opacity, its
#: stroke (``None``: none) and the stroke's width in scene units.
Paint = tuple[RGB | None, float, RGB | None, float]
#: The attributes of a shape in the SVG's defs that :func:`box_layer` draws as resvg does.
PLAIN = {"id", "width", "height", "fill", "fill-opacity", "stroke", "stroke-width"}


def mark_paints(defs: str, prefix: str, scene: Scene) -> dict[str, Paint]:
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


def box_edges(area: tuple[float, float, float, float], paint: Paint, sx: float,
              sy: float) -> tuple[Rect, tuple[int, ...], tuple[int, ...]]:
    """A plain rectangle's edges in quarter pixels, across and down: its fill's, then its
    stroke's outer and inner edges (the stroke is centred on the fill's edge); and the
    pixels they reach.

    As resvg finds them: the shape's own points (the stroke's about the shape's corner, as
    a mark's ``<use>`` places its cell's shape) scaled and moved in single precision, then
    rounded to the nearest quarter pixel, the grid its antialiasing samples.
    """
    x, y, w, h = area
    half = (paint[3] if paint[2] is not None else 0.0) / 2
    points = np.array([0.0, w, -half, w + half, half, w - half], np.float32), \
        np.array([0.0, h, -half, h + half, half, h - half], np.float32)
    edges = []
    for local, scale, at in zip(points, (sx, sy), (x, y)):
        scale32 = np.float32(scale)
        moved = local * scale32 + scale32 * np.float32(at)
        edges.append(tuple(int(q) for q in np.floor(moved.astype(np.float64) * 4 + 0.5)))
    across, down = edges
    return (min(across) // 4, min(down) // 4, -(-max(across) // 4), -(-max(down) // 4)), across, down


def box_layer(area: tuple[float, float, float, float], paint: Paint, sx: float, sy: float,
               drawn: dict[Any, tuple[np.ndarray, np.ndarray]]) -> Layer:
    """A plain rectangle as a layer, painted as resvg paints it: the fill, then the stroke
    over it, each pixel covered by its share of the area between the edges (an
    axis-aligned box covers a pixel by its share across times its share down). ``drawn``:
    the pixels of those drawn already, by their edges within their first pixel."""
    rect, across, down = box_edges(area, paint, sx, sy)
    key = (tuple(e - 4 * rect[0] for e in across), tuple(e - 4 * rect[1] for e in down), paint)
    found = drawn.get(key)
    if found is None:
        found = drawn[key] = _box_pixels(key[0], key[1], paint, rect[2] - rect[0], rect[3] - rect[1])
    return rect, *found


def _box_pixels(across: tuple[int, ...], down: tuple[int, ...], paint: Paint, width: int,
                height: int) -> tuple[np.ndarray, np.ndarray]:
    """A plain rectangle's colours times alpha and 255 less alpha, ``width`` x ``height``
    pixels, its edges in quarter pixels from the first pixel (see :func:`box_edges`)."""
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


def blend(out: np.ndarray, rect: Rect, layer: Layer) -> None:
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


def stack(parts: Sequence[tuple[Layer, int, int]]) -> Layer:
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


class Shown:
    """The output values shown so far, as layers, found by the tiles their pixels touch."""

    def __init__(self) -> None:
        self.tiles: dict[tuple[int, int], list[tuple[int, Layer]]] = {}
        self.pieces: set[str] = set()
        self.count = 0

    def add(self, element: Iterable[tuple[str, int, int]], layer: Layer) -> None:
        for tile in _tiles(layer[0]):
            self.tiles.setdefault(tile, []).append((self.count, layer))
        self.pieces.update(markup for markup, _, _ in element)
        self.count += 1

    def reaching(self, rect: Rect) -> list[tuple[int, Layer]]:
        """The values whose pixels meet ``rect``, in the order they appeared (and that order)."""
        found = {order: layer for tile in _tiles(rect) for order, layer in self.tiles.get(tile, ())
                 if meets(layer[0], rect)}
        return [(order, found[order]) for order in sorted(found)]


class Kept:
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


def meets(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def clip(a: Rect, b: Rect) -> Rect:
    return max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])


def merged(rects: list[Rect]) -> list[Rect]:
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


def shelves(boxes: Sequence[Rect], width: int) -> tuple[list[tuple[int, int]], int]:
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


def rgba_pixels(image: Any) -> np.ndarray:
    return np.asarray(image if image.mode == "RGBA" else image.convert("RGBA"))


def cut_layer(rect: Rect, rgba: np.ndarray) -> Layer:
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


# -- colours and encoding -------------------------------------------------------------------------
def make_palette(image: Any, base: np.ndarray, regions: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One palette for every frame (``n x 3`` bytes, at most 255 colours: GIF's 256 less
    the transparent index), from the colours of the base and of some frames' changes; and
    those colours (packed, see :func:`pack_rgb`).

    Every colour, when there are few enough. Else a median cut over the colours, each
    weighted by the square root of how often it is seen (so the antialiased edges of text
    get their shades, not only the large fills), in which the commonest colours (the flat
    fills, the ink, the label colours) are then set exactly.
    """
    parts = [base.reshape(-1, 3)] + [region.reshape(-1, 3) for region in regions]
    colours, counts = np.unique(pack_rgb(np.concatenate(parts)), return_counts=True)
    if len(colours) <= 255:
        return unpack(colours), colours
    weighted = np.repeat(unpack(colours), np.sqrt(counts).astype(np.int64), axis=0)
    quantized = image.fromarray(weighted[:, None, :], "RGB").quantize(
        255, method=image.Quantize.MEDIANCUT, dither=image.Dither.NONE)
    palette = np.array(quantized.getpalette()[:3 * 255], dtype=np.int64).reshape(-1, 3)
    free = np.ones(len(palette), dtype=bool)
    for colour in unpack(colours[np.argsort(-counts, kind="stable")[:EXACT_COLOURS]]):
        distance = np.where(free, ((palette - colour) ** 2).sum(axis=1), np.iinfo(np.int64).max)
        nearest = int(distance.argmin())
        palette[nearest], free[nearest] = colour, False
    return np.unique(palette.astype(np.uint8), axis=0), colours


class Indexer:
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
        keys = pack_rgb(rgb)
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
            colours = unpack(chunk).astype(np.int64)
            # |c - p|^2 less |c|^2 (the same for every p), exactly, in integers.
            distance = (self.palette ** 2).sum(axis=1) - 2 * colours @ self.palette.T
            self.lut[chunk] = distance.argmin(axis=1)


def frame_patches(base: np.ndarray, changes: Iterable[list[tuple[Rect, np.ndarray]]], indexer: Indexer,
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


def encode(image: Any, palette: np.ndarray, patches: Iterator[tuple[np.ndarray, tuple[int, int]]],
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


def pack_rgb(rgb: np.ndarray) -> np.ndarray:
    keys = rgb[..., 0].astype(np.uint32)
    keys <<= 8
    keys |= rgb[..., 1]
    keys <<= 8
    keys |= rgb[..., 2]
    return keys


def unpack(keys: np.ndarray) -> np.ndarray:
    return np.stack([(keys >> 16) & 255, (keys >> 8) & 255, keys & 255], axis=-1).astype(np.uint8)
