"""Animated SVG size and speed (issue 4), measured side by side in one run.

1. Size: ``ij,jk->ik`` with 8x8 operands in step mode (512 step frames). einviz stores each
   frame as changes to one drawn base; the naive encoding stores every frame as the whole
   picture (what a frame-by-frame export writes). Requirement: einviz at most 600 bytes per
   step frame, base, opening and final frames included.
2. Time: a fresh Python process writing ``ij,jk->ik`` as an animated SVG the way the command
   line does (``einviz.animation.animate(...).to_svg(path)``) against a fresh process that
   only runs ``import numpy, svgwrite``. Requirement: within 1.6x.

Run: python benchmarks/bench_svg.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
try:
    import einviz.animation
except ImportError:  # run from a checkout, not installed
    sys.path.insert(0, str(ROOT))
    import einviz.animation

BASELINE = "import numpy, svgwrite"
WRITE = ("import sys; from einviz.animation import animate; "
         "animate('ij,jk->ik').to_svg(sys.argv[1])")


def sizes() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.integers(-3, 6, (8, 8)), rng.integers(-3, 6, (8, 8))
    start = time.perf_counter()
    anim = einviz.animation.animate("ij,jk->ik", a, b, granularity="step", max_frames=10_000)
    svg = anim.to_svg().encode()
    seconds = time.perf_counter() - start
    steps = sum(frame.kind == "step" for frame in anim.frames)
    # The naive encoding: every frame a complete picture of its own.
    naive = sum(len(anim.frame_svg(k).encode()) for k in range(anim.n_frames))
    print(f"ij,jk->ik, 8x8 operands, step mode: {steps} step frames ({anim.n_frames} with the "
          f"opening and final frames)")
    print(f"  einviz animated SVG      {len(svg):>11,} bytes  {len(svg) / steps:8.0f} bytes/frame"
          f"   (requirement: <= 600; made in {seconds * 1e3:.0f} ms)")
    print(f"  naive, whole picture per frame {naive:>,} bytes  {naive / steps:8.0f} bytes/frame"
          f"   ({naive / len(svg):.0f}x larger)")


#: Both processes may use cached bytecode, as an installed package does (pip compiles it).
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def run(code: str, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, cwd=ROOT, env=ENV)
    return time.perf_counter() - start


def speed(repeat: int = 9) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "out.svg")
        run(BASELINE), run(WRITE, path)  # warm the file cache
        base, ours = [], []
        for _ in range(repeat):  # interleaved, so both see the same machine load
            base.append(run(BASELINE))
            ours.append(run(WRITE, path))
        size = Path(path).stat().st_size
    b, o = min(base), min(ours)
    print(f"fresh process (bytecode cached, as installed), best of {repeat} (median in brackets):")
    print(f"  python -c \"{BASELINE}\"            {b * 1e3:7.0f} ms  [{statistics.median(base) * 1e3:.0f}]")
    print(f"  animate('ij,jk->ik').to_svg(path)     {o * 1e3:7.0f} ms  [{statistics.median(ours) * 1e3:.0f}]"
          f"   ({size:,} bytes written)")
    print(f"  time ratio                            {o / b:7.2f}   (requirement: <= 1.6)")


def main() -> None:
    sizes()
    speed()


if __name__ == "__main__":
    main()
