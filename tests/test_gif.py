"""The GIF: read back with Pillow, frame by frame, against the animation it was made from.

Frame count and delays, the loop flag, one global palette (read from the file's blocks),
lit cells lit, every frame against a direct rasterisation of the same SVG frame (captions
in characters the monospaced font lacks too, and without the fonts found), frames encoded
as they are drawn, fps, bad options, the command line, and the benchmark still running.
"""

from __future__ import annotations

import dataclasses
import io
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PIL")
pytest.importorskip("resvg_py")

from PIL import Image
from test_cli import einviz_command

from einviz.animation import animate, rasterise
from einviz.errors import EinvizError
from einviz.render.gif import frame_delays, write_gif
from einviz.render.scene import Span
from einviz.render.svg import render

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def matmul():
    """``ij,jk->ik`` (2x3 by 3x4) in step mode, and its GIF read back."""
    anim = animate("ij,jk->ik", granularity="step", max_frames=1000)
    return anim, Image.open(io.BytesIO(anim.to_gif()))


def frames(gif: Image.Image) -> list[np.ndarray]:
    """Every frame of a GIF as it shows (RGB)."""
    shown = []
    for k in range(gif.n_frames):
        gif.seek(k)
        shown.append(np.asarray(gif.convert("RGB")).astype(int))
    return shown


def direct(anim, k: int, scale: float = 1.0) -> np.ndarray:
    """Frame ``k`` rasterised straight from its own SVG (RGB)."""
    png = rasterise(render(anim.scene, "frame", k, prefix=anim.id), scale)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def colour_tables(data: bytes) -> tuple[bool, list[bool]]:
    """Whether the GIF has a global colour table, and for each image whether it has a local one."""
    assert data[:6] in (b"GIF87a", b"GIF89a")
    flags, at = data[10], 13
    if flags & 0x80:
        at += 3 << ((flags & 7) + 1)
    local = []
    while data[at] != 0x3B:  # trailer
        if data[at] == 0x21:  # extension: label, then sub-blocks
            at += 2
        else:
            assert data[at] == 0x2C, f"unexpected block {data[at]:#x} at {at}"
            packed = data[at + 9]
            local.append(bool(packed & 0x80))
            at += 10 + ((3 << ((packed & 7) + 1)) if packed & 0x80 else 0) + 1  # + LZW code size
        while data[at]:
            at += data[at] + 1
        at += 1
    return bool(flags & 0x80), local


# --------------------------------------------------------------------------------------------
# Frames, delays, loop, palette
# --------------------------------------------------------------------------------------------


def test_one_gif_frame_per_animation_frame(matmul):
    anim, gif = matmul
    assert gif.n_frames == anim.n_frames == 28
    assert gif.size == (math.ceil(anim.scene.width), math.ceil(anim.scene.height))


def test_each_delay_is_the_frames_duration_and_the_first_multiply_comes_within_4_s(matmul):
    anim, gif = matmul
    delays = []
    for k in range(gif.n_frames):
        gif.seek(k)
        delays.append(gif.info["duration"])
    assert all(abs(d - 1000 * f.duration) <= 5 for d, f in zip(delays, anim.frames))
    kinds = [f.kind for f in anim.frames]
    step = delays[kinds.index("step")]
    assert sum(delays[:kinds.index("step")]) <= 4000
    assert min(d for d, kind in zip(delays, kinds) if kind in ("intro", "final")) > step


def test_loops_forever_by_default_and_plays_once_when_asked(matmul):
    anim, gif = matmul
    assert gif.info.get("loop") == 0
    once = Image.open(io.BytesIO(anim.to_gif(loop=False)))
    assert "loop" not in once.info


def test_every_frame_uses_the_one_global_palette(matmul):
    anim, _ = matmul
    has_global, local = colour_tables(anim.to_gif())
    assert has_global
    assert local == [False] * anim.n_frames


# --------------------------------------------------------------------------------------------
# Pixels
# --------------------------------------------------------------------------------------------


def test_a_lit_cell_shows_lit(matmul):
    anim, gif = matmul
    scene = anim.scene
    box = next(b for b in scene.boxes if b.operand == "A" and b.index == (0, 0))
    lit = [f.number for f in anim.frames
           if any(m.operand == "A" and m.index == (0, 0) and m.role == "lit" for m in f.marks)]
    unlit = [f.number for f in anim.frames  # not even a term of the sum: left white
             if f.kind == "step" and not any(m.operand == "A" and m.index == (0, 0) for m in f.marks)]
    shown = frames(gif)
    x, y = int(box.x + 5), int(box.y + 5)  # inside the cell, clear of its border and value
    on, off = shown[lit[0]][y, x], shown[unlit[0]][y, x]
    assert tuple(off) == (255, 255, 255)
    assert on[0] > on[2] + 40  # the lit cells' yellow
    assert all(tuple(frame[y, x]) == tuple(on) for frame in (shown[k] for k in lit))


#: How far a pixel of a GIF frame may be from its SVG frame's: the palette moves a colour a
#: little, and a monospaced glyph is placed to a quarter pixel, which resvg's antialiasing
#: (a quarter-pixel grid across) shows as an edge pixel up to a quarter of full ink
#: lighter or darker (64). A wrong digit or a missing highlight changes pixels by far more.
FAR = 80


def mismatch(shown: np.ndarray, expected: np.ndarray) -> str:
    """Why a GIF frame is not its SVG frame (``""``: it is): its pixels are off by a little
    on average, and none by more than :data:`FAR` (a few, for the palette's rounding)."""
    difference = np.abs(shown - expected)
    far = int((difference.max(axis=2) > FAR).sum())
    if difference.mean() >= 0.3 or far > 4:
        return f"mean difference {difference.mean():.3f}, {far} pixels off by more than {FAR}"
    return ""


def gif_frames(scene, prefix: str, scale: float = 1.0) -> list[np.ndarray]:
    return frames(Image.open(io.BytesIO(write_gif(scene, prefix=prefix, scale=scale))))


def direct_scene(scene, prefix: str, k: int, scale: float = 1.0) -> np.ndarray:
    png = rasterise(render(scene, "frame", k, prefix=prefix), scale)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


@pytest.mark.parametrize("subscripts, shapes, granularity", [
    ("ij,jk->ik", [(2, 3), (3, 4)], "step"),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)], "cell"),
    ("bij,bjk->bik", [(2, 2, 2), (2, 2, 2)], "step"),
    ("ij,jk->ik", [(3, 20), (20, 2)], "cell"),  # a cut axis: marks on ellipsis cells
    ("ii->", [(3, 3)], "step"),
    ("i,j->ij", [(3,), (4,)], "step"),
], ids=["matmul-step", "batched-cell", "batched-step", "cut-axis-cell", "trace", "outer-step"])
def test_each_frame_matches_its_svg_frame_rasterised_directly(subscripts, shapes, granularity):
    anim = animate(subscripts, shapes=shapes, granularity=granularity, max_frames=1000)
    scale = 640 / anim.scene.width  # a zoom that is not a whole number
    shown = gif_frames(anim.scene, anim.id, scale)
    for k in range(anim.n_frames):
        assert not mismatch(shown[k], direct(anim, k, scale)), f"frame {k} ({anim.frames[k].kind})"


def cell_point(scene, operand: str, index: tuple[int, ...]) -> tuple[int, int]:
    """A pixel inside a cell (scale 1), clear of its border and value."""
    box = next(b for b in scene.boxes if b.operand == operand and b.index == index)
    return int(box.y + 5), int(box.x + 5)


def test_the_terms_of_consecutive_output_cells_are_lit_where_each_frame_says():
    """The terms of the sum stay while an output cell's steps go by, then move: the first
    step of out[0,0] and of out[0,1] tint different columns of B, each as its SVG frame."""
    anim = animate("ij,jk->ik", shapes=[(2, 3), (3, 2)], granularity="step", max_frames=1000)
    shown = gif_frames(anim.scene, anim.id)
    steps = [f for f in anim.frames if f.kind == "step"]
    first, second = (next(f for f in steps if any(m.operand == "out" and m.index == index for m in f.marks))
                     for index in ((0, 0), (0, 1)))
    terms = {f.number: {m.index for m in f.marks if m.operand == "B" and m.role == "term"} for f in (first, second)}
    assert terms[first.number] == {(j, 0) for j in range(3)} and terms[second.number] == {(j, 1) for j in range(3)}
    white = (255, 255, 255)
    for frame in (first, second):
        expected = direct(anim, frame.number)
        for j in range(3):
            for column in (0, 1):
                y, x = cell_point(anim.scene, "B", (j, column))
                pixel = tuple(shown[frame.number][y, x])
                assert np.abs(shown[frame.number][y, x] - expected[y, x]).max() <= 8
                assert (pixel != white) == ((j, column) in terms[frame.number] or any(
                    m.operand == "B" and m.index == (j, column) for m in frame.marks)), (frame.number, j, column)


def test_boxes_drawn_again_from_the_cache_are_the_boxes_drawn_afresh(monkeypatch):
    """The loops come back to the same cells (A's row for every k, B's column for every i):
    those boxes are drawn from the cache, and the GIF is the same byte for byte as one
    drawn without it (and each frame its SVG frame)."""
    from einviz.render import _gif_pixels

    anim = animate("ij,jk->ik", shapes=[(3, 3), (3, 3)], granularity="step", max_frames=1000)
    hits = []
    get = _gif_pixels.Kept.get

    def counting(self, key):
        found = get(self, key)
        hits.append(found is not None)
        return found

    monkeypatch.setattr(_gif_pixels.Kept, "get", counting)
    cached = write_gif(anim.scene, prefix=anim.id)
    assert sum(hits) >= 9  # at least a box a step, past the first output cell's
    monkeypatch.setattr(_gif_pixels.Kept, "get", lambda self, key: None)
    assert write_gif(anim.scene, prefix=anim.id) == cached
    shown = frames(Image.open(io.BytesIO(cached)))
    for k in range(anim.n_frames):
        assert not mismatch(shown[k], direct(anim, k)), f"frame {k} ({anim.frames[k].kind})"


@pytest.mark.parametrize("scale", [1.0, 1.0738, 1.7])
def test_marks_drawn_as_plain_rectangles_are_the_pixels_resvg_draws(scale):
    """Each mark's shape that is a plain rectangle is drawn without resvg, within a level or
    two of resvg's pixels, wherever it stands in a pixel (over white and over a grey)."""
    import resvg_py

    from einviz.render import _gif_pixels, gif

    anim = animate("ij,jk->ik", shapes=[(2, 3), (3, 2)], granularity="step")
    scene = anim.scene
    raster = gif._Raster(scene, anim.id, scale, Image, resvg_py)
    pieces = raster.pieces
    used = {gif.mark_shape(m) for f in anim.frames for m in f.marks}
    assert used <= pieces.paints.keys()  # every mark a frame draws takes the fast way
    for kind in sorted(used):
        for x, y in ((142, 280), (180.3, 281.7), (390.5, 162.2), (17.9, 33.1)):  # as the SVG writes them
            element = pieces.box(x, y, scene.cell_w, scene.cell_h, pieces.paints[kind])
            drawn = _gif_pixels.box_layer(*pieces.boxes[element[0][0]], raster.sx, raster.sy, {})
            markup = f'<use href="#{anim.id}{kind}" x="{x}" y="{y}"/>'
            pieces.whole(markup, (x, y, scene.cell_w, scene.cell_h), 2)
            raster.draw([markup])
            rect = pieces.spots[markup]
            for under in (255, 120):
                ours, theirs = (np.full((rect[3] - rect[1], rect[2] - rect[0], 3), under, np.uint16)
                                for _ in range(2))
                _gif_pixels.blend(ours, rect, drawn)
                _gif_pixels.blend(theirs, rect, raster.layers[markup])
                assert np.abs(ours.astype(int) - theirs).max() <= 3, (kind, x, y, under)


def test_each_patch_is_the_box_of_the_pixels_that_changed():
    """A frame is stored as the box of its changed pixels: each edge of a patch has one."""
    from einviz.render import _gif_pixels

    base = np.zeros((40, 50, 3), np.uint8)
    grey = np.full((10, 10, 3), 128, np.uint8)
    some = grey.copy()
    some[:3] = 0  # the box's top rows come out as they were
    changes = [[], [((5, 5, 15, 15), grey)], [((5, 5, 15, 15), some)],
               [((5, 5, 15, 15), some), ((30, 20, 40, 30), grey)], [((30, 20, 40, 30), grey)]]
    palette = np.array([[0, 0, 0], [128, 128, 128]], np.uint8)
    patches = list(_gif_pixels.frame_patches(base, changes, _gif_pixels.Indexer(palette), 2))
    assert [offset for _, offset in patches] == [(0, 0), (5, 5), (5, 5), (30, 20), (0, 0)]
    assert [patch.shape for patch, _ in patches] == [(40, 50), (10, 10), (3, 10), (10, 10), (1, 1)]
    assert (patches[2][0] == 0).all()  # the rows turned back to black: black, not transparent
    assert (patches[4][0] == 2).all()  # nothing changed: one transparent pixel


def test_the_comparison_catches_a_wrong_number_and_a_missing_highlight():
    anim = animate("ij,jk->ik", shapes=[(2, 3), (3, 4)], granularity="step", max_frames=1000)
    shown = gif_frames(anim.scene, anim.id)
    k = next(f.number for f in anim.frames if f.kind == "step" and f.running is not None)
    frame = anim.frames[k]
    caption = tuple(tuple(span._replace(text=span.text.replace("=", "≠", 1)) for span in line)
                    for line in frame.caption)
    for changed in (frame._replace(caption=caption),  # one character of the caption
                    frame._replace(running=frame.running._replace(text=frame.running.text + "1")),
                    frame._replace(marks=tuple(m for m in frame.marks if m.role != "lit")  # a lit
                                   + tuple(m for m in frame.marks if m.role == "lit")[1:])):  # cell missing
        assert changed != frame
        scene = dataclasses.replace(anim.scene, frames=[*anim.frames[:k], changed, *anim.frames[k + 1:]])
        assert mismatch(shown[k], direct_scene(scene, anim.id, k))


def odd_captions(anim):
    """The scene with each step's caption in characters DejaVu Sans Mono lacks or sets
    otherwise: CJK (twice as wide), an emoji, a combining accent, Hebrew (right to left)."""
    frames = [f._replace(caption=((Span("値 = 😀 e\u0301 שלום "), *f.caption[0]),)) if f.kind == "step" else f
              for f in anim.frames]
    return dataclasses.replace(anim.scene, frames=frames)


def test_characters_outside_the_monospaced_font_are_still_drawn_right():
    anim = animate("ij->i", shapes=[(2, 3)], granularity="step")
    scene = odd_captions(anim)
    shown = gif_frames(scene, anim.id, 1.3)
    for k in range(anim.n_frames):
        assert not mismatch(shown[k], direct_scene(scene, anim.id, k, 1.3)), f"frame {k}"


def test_without_the_dejavu_fonts_found_each_line_is_drawn_whole(monkeypatch):
    from einviz.render import gif

    monkeypatch.setattr(gif, "_mono_advance", lambda: None)
    anim = animate("ij->i", shapes=[(2, 3)], granularity="step")
    shown = gif_frames(anim.scene, anim.id, 1.3)
    for k in range(anim.n_frames):
        assert not mismatch(shown[k], direct(anim, k, 1.3)), f"frame {k}"


def test_frames_are_encoded_as_they_are_drawn_and_pieces_are_dropped(monkeypatch):
    """Memory holds a batch of frames and the pieces, not every frame: with small batches
    and no room for pieces kept, frames are still drawn right, each one encoded before
    frames far after it are drawn."""
    from einviz.render import gif

    monkeypatch.setattr(gif, "BATCH", 4)
    monkeypatch.setattr(gif, "PALETTE_FRAMES", 4)
    monkeypatch.setattr(gif, "KEEP_BYTES", 0)
    events: list[str] = []
    regions, counted = gif._Raster.regions, gif._counted

    def drawing(self, *args, **kwargs):
        events.append("drawn")
        return regions(self, *args, **kwargs)

    def encoding(items, bar):
        for item in counted(items, bar):
            events.append("encoded")
            yield item

    monkeypatch.setattr(gif._Raster, "regions", drawing)
    monkeypatch.setattr(gif, "_counted", encoding)
    anim = animate("ij,jk->ik", shapes=[(2, 3), (3, 4)], granularity="step", max_frames=1000)
    shown = gif_frames(anim.scene, anim.id)
    ahead = [events[:at].count("drawn") - events[:at].count("encoded") for at in range(len(events))]
    assert events.count("encoded") == anim.n_frames
    assert max(ahead) <= 2 * 4 + 1  # the final frame is drawn once early, for the palette
    for k in range(anim.n_frames):
        assert not mismatch(shown[k], direct(anim, k)), f"frame {k}"


def test_scale_sets_the_size(matmul):
    anim, _ = matmul
    gif = Image.open(io.BytesIO(write_gif(anim.scene, scale=2)))
    assert gif.size == (math.ceil(2 * anim.scene.width), math.ceil(2 * anim.scene.height))


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


def test_fps_paces_the_steps_and_keeps_the_opening_and_final_frames_longer(matmul):
    anim, _ = matmul
    kinds = [f.kind for f in anim.frames]
    for fps, step in ((10, 100), (2, 500)):
        delays = frame_delays(anim.scene, fps=fps)
        assert {d for d, kind in zip(delays, kinds) if kind == "step"} == {step}
        ratio = anim.frames[-1].duration / anim.frames[kinds.index("step")].duration
        assert delays[-1] == 10 * round(step * ratio / 10)
    gif = Image.open(io.BytesIO(anim.to_gif(fps=10)))
    gif.seek(kinds.index("step"))
    assert gif.info["duration"] == 100


def test_delays_are_whole_hundredths_and_never_below_20_ms(matmul):
    anim, _ = matmul
    assert all(d % 10 == 0 and d >= 20 for d in frame_delays(anim.scene, fps=1000))
    assert all(d % 10 == 0 for d in frame_delays(anim.scene, fps=3))


def test_a_path_writes_the_file_and_returns_none(matmul, tmp_path):
    anim, _ = matmul
    path = tmp_path / "matmul.gif"
    assert anim.to_gif(path) is None
    assert path.read_bytes()[:6] == b"GIF89a"


@pytest.mark.parametrize("fps", [0, -2, math.nan, math.inf, "fast", True])
def test_a_bad_fps_is_refused(matmul, fps):
    anim, _ = matmul
    with pytest.raises(EinvizError, match=r"fps must be a positive number, not .*\n  hint: fps is step"):
        anim.to_gif(fps=fps)


@pytest.mark.parametrize("scale", [0, -1, math.inf])
def test_a_bad_scale_is_refused(matmul, scale):
    anim, _ = matmul
    with pytest.raises(EinvizError, match="scale must be a positive number"):
        write_gif(anim.scene, scale=scale)


@pytest.mark.parametrize("missing", ["PIL", "resvg_py"])
def test_a_missing_rasteriser_names_the_extra(matmul, monkeypatch, missing):
    anim, _ = matmul
    monkeypatch.setitem(sys.modules, missing, None)
    with pytest.raises(EinvizError, match=r'GIF output needs Pillow and resvg-py[\s\S]*pip install "einviz\[gif\]"') as caught:
        anim.to_gif()
    assert isinstance(caught.value.__cause__, ImportError)


def test_no_progress_bar_when_not_asked_or_not_a_terminal(matmul, capsys):
    anim, _ = matmul
    anim.to_gif(progress=False)
    anim.to_gif()  # stderr is captured: not a terminal
    assert capsys.readouterr().err == ""


def test_the_progress_bar_counts_each_frame_as_it_is_encoded(matmul, monkeypatch):
    from einviz.render import gif

    anim, _ = matmul
    events: list[tuple[str, int]] = []

    class Bar:
        def update(self, n: int) -> None:
            events.append(("update", n))

        def close(self) -> None:
            events.append(("close", 0))

    encode = gif.encode

    def encoding(*args, **kwargs):
        events.append(("encode", 0))
        return encode(*args, **kwargs)

    monkeypatch.setattr(gif, "_progress_bar", lambda progress, total: Bar() if total == anim.n_frames else None)
    monkeypatch.setattr(gif, "encode", encoding)
    anim.to_gif(progress=True)
    started = events.index(("encode", 0))
    assert sum(n for kind, n in events[started:] if kind == "update") == anim.n_frames
    assert events[-1] == ("close", 0)


def test_the_progress_bar_is_tqdm_on_stderr_and_silently_absent_without_it(monkeypatch):
    from einviz.render.gif import _progress_bar

    tqdm = pytest.importorskip("tqdm")
    bar = _progress_bar(True, 5)
    assert isinstance(bar, tqdm.tqdm) and not bar.disable and bar.fp is not None
    bar.close()
    assert _progress_bar(False, 5) is None
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert _progress_bar(True, 5) is None


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


def test_the_command_writes_a_gif_and_never_overwrites_one_unasked(tmp_path):
    done = einviz_command("ij,jk->ik", "-o", "out.gif", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "out.gif"
    written = (tmp_path / "out.gif").read_bytes()
    assert Image.open(io.BytesIO(written)).n_frames == animate("ij,jk->ik").n_frames

    refused = einviz_command("i->", "-o", "out.gif", "-q", cwd=tmp_path)
    assert refused.returncode == 2
    assert "'out.gif' already exists" in refused.stderr and "--force" in refused.stderr
    assert (tmp_path / "out.gif").read_bytes() == written

    forced = einviz_command("i->", "-o", "out.gif", "-q", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "out.gif").read_bytes() != written


# --------------------------------------------------------------------------------------------
# The benchmark still runs
# --------------------------------------------------------------------------------------------


def test_benchmark_runs():
    pytest.importorskip("matplotlib")
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_gif.py"), "--size", "2",
                           "--repeat", "1"], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("-> einviz") == 2 and "bytes" in done.stdout  # at both sizes


def test_benchmark_times_a_long_gif():
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_gif.py"), "--max-frames", "40"],
                          check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "frames/s" in done.stdout and "peak memory" in done.stdout


def test_the_product_view_and_a_teaching_auto_draw_as_their_svg_frames():
    for anim in (animate("ij,jk->ik", shapes=[(2, 3), (3, 2)], view="product"),
                 animate("bij,bjk->bik", shapes=[(2, 2, 3), (2, 3, 2)])):  # auto: steps, then cells
        shown = gif_frames(anim.scene, anim.id, 1.0)
        assert {"multiply", "sum"} <= {f.kind for f in anim.frames} or anim.granularity == "teach"
        for k in range(anim.n_frames):
            assert not mismatch(shown[k], direct(anim, k)), f"frame {k} ({anim.frames[k].kind})"
