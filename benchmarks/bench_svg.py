"""Animated SVG size and speed (issue 4), measured side by side in one run.

1. Size: ``ij,jk->ik`` with 8x8 operands in step mode (512 step frames). einviz stores each
   frame as changes to one drawn base; the naive encoding stores every frame as the whole
   picture (what a frame-by-frame export writes). Requirement: einviz's file at most a tenth
   of the naive one, base, opening and final frames included (bytes per frame printed too).
   An earlier bound, 600 bytes a frame, dates from frames that carried three lit cells and
   one caption line; since a frame shows its sum building up (every term of the output
   cell, the terms added already, two caption lines) the measure is against the peer.
2. Time: the command ``einviz "ij,jk->ik" -o out.svg`` (the installed console script next to
   this Python, or ``python -m einviz`` without one) against a fresh process that only runs
   ``import numpy, svgwrite``; and, for information, a fresh ``python -c`` that writes the
   same SVG through the library (``animate(...).to_svg(path)``). Requirement: the command
   within 1.6x. ``benchmarks/bench_cli.py`` times the command's other forms.

Exit status: 0 when both requirements are met, 1 otherwise.

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

#: einviz's animated SVG at most this fraction of the naive whole-picture-per-frame file.
MAX_SHARE = 0.1
MAX_RATIO = 1.6
BASELINE = "import numpy, svgwrite"
WRITE = ("import sys; from einviz.animation import animate; "
         "animate('ij,jk->ik').to_svg(sys.argv[1])")
SCRIPT = Path(sys.executable).with_name("einviz")
#: The command as a user types it: the console script, or python -m einviz without one.
EINVIZ = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "einviz"]


def sizes() -> float:
    """Print the sizes; returns einviz's size as a share of the naive encoding's."""
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
          f"   (made in {seconds * 1e3:.0f} ms)")
    print(f"  naive, whole picture per frame {naive:>,} bytes  {naive / steps:8.0f} bytes/frame"
          f"   ({naive / len(svg):.0f}x larger)")
    return len(svg) / naive


#: Both processes may use cached bytecode, as an installed package does (pip compiles it).
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def run(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def speed(repeat: int = 9) -> float:
    """Print the times; returns the ratio of the command's best time to the baseline's."""
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "out.svg")
        commands = {
            f'python -c "{BASELINE}"': [sys.executable, "-c", BASELINE],
            'einviz "ij,jk->ik" -o out.svg': [*EINVIZ, "ij,jk->ik", "-o", path, "--force", "-q"],
            "python -c: animate(...).to_svg(path)": [sys.executable, "-c", WRITE, path],
        }
        for command in commands.values():  # warm the file cache
            run(command)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(repeat):  # interleaved, so all see the same machine load
            for name, command in commands.items():
                times[name].append(run(command))
        size = Path(path).stat().st_size
    best = {name: min(values) for name, values in times.items()}
    base, ours = best[f'python -c "{BASELINE}"'], best['einviz "ij,jk->ik" -o out.svg']
    print(f"fresh process (bytecode cached, as installed), best of {repeat} (median in brackets); "
          f"einviz is {' '.join(EINVIZ)}:")
    for name, values in times.items():
        print(f"  {name:<38} {best[name] * 1e3:7.0f} ms  [{statistics.median(values) * 1e3:.0f}]"
              f"   {best[name] / base:.2f}x")
    print(f"  ({size:,} bytes written)   time ratio of the command {ours / base:.2f}   "
          f"(requirement: <= {MAX_RATIO})")
    return ours / base


def main() -> int:
    share = sizes()
    ratio = speed()
    small, fast = share <= MAX_SHARE, ratio <= MAX_RATIO
    print()
    print(f"requirement: ij,jk->ik 8x8 in step mode, frames as changes to one base: at most "
          f"{MAX_SHARE:.0%} of the whole-picture-per-frame file: {share:.1%} -> "
          f"{'met' if small else 'NOT met'}")
    print(f"requirement: einviz \"ij,jk->ik\" -o out.svg within {MAX_RATIO}x of "
          f"python -c \"{BASELINE}\": {ratio:.2f}x -> {'met' if fast else 'NOT met'}")
    return 0 if small and fast else 1


if __name__ == "__main__":
    sys.exit(main())
