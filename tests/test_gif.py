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
    ("ij,jk->ik", [(3, 20), (20, 2)], "cell"),  # a cut axis: marks on ellipsis cells
    ("ii->", [(3, 3)], "step"),
], ids=["matmul-step", "batched-cell", "cut-axis-cell", "trace"])
def test_each_frame_matches_its_svg_frame_rasterised_directly(subscripts, shapes, granularity):
    anim = animate(subscripts, shapes=shapes, granularity=granularity, max_frames=1000)
    scale = 640 / anim.scene.width  # a zoom that is not a whole number
    shown = gif_frames(anim.scene, anim.id, scale)
    for k in range(anim.n_frames):
        assert not mismatch(shown[k], direct(anim, k, scale)), f"frame {k} ({anim.frames[k].kind})"


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
