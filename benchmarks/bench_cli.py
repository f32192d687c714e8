"""How long the ``einviz`` command takes, side by side with importing what it needs.

Requirements (issues 3 and 4): ``einviz "ij,jk->ik"`` prints its text within 1.6x of
``python -c "import numpy"``, and with the animated SVG written within 1.6x of
``python -c "import numpy, svgwrite"``; the command never imports torch or jax unless
``--check`` asks for them.

Every command runs in a fresh interpreter (``python -m einviz``, so the console script's
launcher, e.g. a pyenv shim, is not counted), in a scratch folder emptied after each run;
rounds interleave the commands so drift in the machine's load hits them all alike, and the
best wall time of each is kept. Python's bytecode cache is left on, as it is for any installed
package (a warm-up round fills it; ``PYTHONDONTWRITEBYTECODE`` is dropped for the runs).

Run: python benchmarks/bench_cli.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HEAVY = ("torch", "jax", "jaxlib", "tensorflow")
#: Python's bytecode cache on, as for any installed package (numpy's is): with
#: PYTHONDONTWRITEBYTECODE set, every run would recompile einviz's modules (tens of ms).
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
EINVIZ = [sys.executable, "-m", "einviz"]
LIMIT = 1.6

#: name -> command; the pairs below compare a command with its baseline.
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import numpy": [sys.executable, "-c", "import numpy"],
    'einviz "ij,jk->ik" --no-figure': [*EINVIZ, "ij,jk->ik", "--no-figure"],
    "import numpy, svgwrite": [sys.executable, "-c", "import numpy, svgwrite"],
    'einviz "ij,jk->ik"  (new SVG)': [*EINVIZ, "ij,jk->ik"],
    'einviz "ij,jk->ik" -o out.svg': [*EINVIZ, "ij,jk->ik", "-o", "out.svg"],
}
PAIRS = [
    ('einviz "ij,jk->ik" --no-figure', "import numpy"),
    ('einviz "ij,jk->ik"  (new SVG)', "import numpy, svgwrite"),
    ('einviz "ij,jk->ik" -o out.svg', "import numpy, svgwrite"),
]


def best_times(folder: str, repeat: int) -> dict[str, float]:
    """The best wall time of each command; the first round warms up and is not counted."""
    times = dict.fromkeys(COMMANDS, float("inf"))
    for round_ in range(repeat + 1):
        for name, command in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(command, cwd=folder, check=True, stdout=subprocess.DEVNULL, env=ENV)
            if round_:
                times[name] = min(times[name], time.perf_counter() - start)
            for entry in os.listdir(folder):
                os.remove(os.path.join(folder, entry))
    return times


def heavy_modules(folder: str, *args: str) -> list[str]:
    """The heavy modules a run of the command imports (read from ``-X importtime``)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "einviz", *args], check=True,
                          cwd=folder, capture_output=True, text=True, env=ENV)
    imported = {m.group(1).split(".")[0] for m in re.finditer(r"\|\s*(\S+)\s*$", done.stderr, re.MULTILINE)}
    return [name for name in HEAVY if name in imported]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="fresh interpreters per command")
    args = parser.parse_args(argv)

    folder = tempfile.mkdtemp(prefix="einviz-bench-cli-")
    try:
        times = best_times(folder, args.repeat)
        plain = heavy_modules(folder, "ij,jk->ik")
        checked = heavy_modules(folder, "ij,jk->ik", "--no-figure", "--check")
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(f"best of {args.repeat} fresh interpreters ({sys.executable})")
    print(f"{'command':<34} {'wall':>9}")
    for name in COMMANDS:
        print(f"{name:<34} {times[name] * 1e3:>6.1f} ms")
    print()
    print(f"{'command':<34} {'baseline':<24} {'ratio':>6}  limit {LIMIT}x")
    failed = False
    for name, baseline in PAIRS:
        ratio = times[name] / times[baseline]
        failed |= ratio > LIMIT
        print(f"{name:<34} {baseline:<24} {ratio:>5.2f}x  {'ok' if ratio <= LIMIT else 'TOO SLOW'}")
    print()
    print(f'heavy modules imported by einviz "ij,jk->ik":          {plain or "none"}')
    print(f'heavy modules imported by einviz "ij,jk->ik" --check:  {checked or "none"} '
          "(only --check may import them)")
    failed |= bool(plain)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
