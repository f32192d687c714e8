"""How long the ``einviz`` command takes, side by side with importing what it needs.

Requirements:

- issue 3: ``einviz "ij,jk->ik"`` finishes within 1.6x of ``python -c "import numpy"``. This is
  the command as a user types it: the installed console script, with no option, so it also
  writes the animated SVG (into a new file in the current folder, here a scratch folder);
- issue 4: ``einviz "ij,jk->ik" -o out.svg`` finishes within 1.6x of
  ``python -c "import numpy, svgwrite"``;
- issue 3: the command never imports torch or jax unless ``--check`` asks for them.

The console script is the one next to this Python (``einviz`` in its ``bin`` folder), run
directly, so a launcher such as a pyenv shim is not counted, as it is not for ``python -c``;
without one, ``python -m einviz`` stands in. ``python -m einviz`` and ``--no-figure`` (the text
alone) are shown beside them, for information: on CPython 3.11 the same import can cost tens of
ms more from one call depth than from another (python/cpython#142183), so the two ways of
starting the command need not agree.

Every command runs in a fresh interpreter, in a scratch folder emptied after each run; rounds
interleave the commands so drift in the machine's load hits them all alike, and the best and
the median wall time of each are kept (the verdicts use the best). Python's bytecode cache is
on, as it is for an installed package (a warm-up round fills it; ``PYTHONDONTWRITEBYTECODE`` is
dropped for the runs: with it set, a module edited since its cache was written is compiled
again on every run, 5 to 20 ms a module).

Exit status: 0 when every requirement is met, 1 otherwise.

Run: python benchmarks/bench_cli.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("torch", "jax", "jaxlib", "tensorflow")
#: Python's bytecode cache on, as for any installed package (numpy's is): with
#: PYTHONDONTWRITEBYTECODE set, every run would recompile einviz's modules edited since.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
SCRIPT = Path(sys.executable).with_name("einviz")
MODULE = [sys.executable, "-m", "einviz"]
#: The command as a user types it: the console script, or python -m einviz without one.
EINVIZ = [str(SCRIPT)] if SCRIPT.is_file() else MODULE
LIMIT = 1.6

NUMPY = 'python -c "import numpy"'
SVGWRITE = 'python -c "import numpy, svgwrite"'
DEFAULT = 'einviz "ij,jk->ik"'
TO_FILE = 'einviz "ij,jk->ik" -o out.svg'
TEXT = 'einviz "ij,jk->ik" --no-figure'
AS_MODULE = 'python -m einviz "ij,jk->ik"'

#: name -> command, in the order they run in each round and are printed.
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    NUMPY: [sys.executable, "-c", "import numpy"],
    DEFAULT: [*EINVIZ, "ij,jk->ik"],
    TEXT: [*EINVIZ, "ij,jk->ik", "--no-figure"],
    SVGWRITE: [sys.executable, "-c", "import numpy, svgwrite"],
    TO_FILE: [*EINVIZ, "ij,jk->ik", "-o", "out.svg"],
}
if EINVIZ != MODULE:
    COMMANDS[AS_MODULE] = [*MODULE, "ij,jk->ik"]
#: The commands that must write an SVG file.
FIGURES = (DEFAULT, TO_FILE, AS_MODULE)

#: (command, baseline, is a requirement): the ratios printed.
PAIRS = [
    (DEFAULT, NUMPY, True),
    (TO_FILE, SVGWRITE, True),
    (TEXT, NUMPY, False),
    *([(AS_MODULE, NUMPY, False)] if AS_MODULE in COMMANDS else []),
]


def wall_times(folder: str, repeat: int) -> dict[str, list[float]]:
    """Each command's wall times; the first round warms up (and fills the bytecode cache)."""
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for round_ in range(repeat + 1):
        for name, command in COMMANDS.items():
            start = time.perf_counter()
            done = subprocess.run(command, cwd=folder, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, env=ENV, check=False)
            if round_:
                times[name].append(time.perf_counter() - start)
            if done.returncode:
                raise SystemExit(f"{name} failed (exit status {done.returncode}):\n{done.stderr}")
            written = os.listdir(folder)
            if name in FIGURES and not any(entry.endswith(".svg") for entry in written):
                raise SystemExit(f"{name} wrote no SVG file (it wrote {written})")
            for entry in written:
                os.remove(os.path.join(folder, entry))
    return times


def heavy_modules(folder: str, *args: str) -> list[str]:
    """The heavy modules a run of the command imports (read from ``-X importtime``)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "einviz", *args], check=True,
                          cwd=folder, capture_output=True, text=True, env=ENV)
    for entry in os.listdir(folder):
        os.remove(os.path.join(folder, entry))
    imported = {m.group(1).split(".")[0]
                for m in re.finditer(r"\|\s*(\S+)\s*$", done.stderr, re.MULTILINE)}
    return [name for name in HEAVY if name in imported]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="fresh interpreters per command")
    args = parser.parse_args(argv)

    folder = tempfile.mkdtemp(prefix="einviz-bench-cli-")
    try:
        times = wall_times(folder, args.repeat)
        plain = heavy_modules(folder, "ij,jk->ik")
        checked = heavy_modules(folder, "ij,jk->ik", "--no-figure", "--check")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    best = {name: min(values) for name, values in times.items()}

    print(f"{args.repeat} fresh interpreters each, interleaved; python is {sys.executable}, "
          f"einviz is {' '.join(EINVIZ)}")
    print(f"{'command':<36} {'best':>9} {'median':>9}")
    for name in COMMANDS:
        print(f"{name:<36} {best[name] * 1e3:>6.1f} ms {statistics.median(times[name]) * 1e3:>6.1f} ms")
    print()
    print(f"{'command':<36} {'baseline':<36} {'ratio of best':>13}")
    verdicts = []
    for name, baseline, required in PAIRS:
        ratio = best[name] / best[baseline]
        median = statistics.median(times[name]) / statistics.median(times[baseline])
        note = f"(limit {LIMIT}x)" if required else "(for information)"
        print(f"{name:<36} {baseline:<36} {ratio:>12.2f}x  median {median:.2f}x  {note}")
        if required:
            verdicts.append((f"{name} within {LIMIT}x of {baseline}: {ratio:.2f}x", ratio <= LIMIT))
    print()
    print(f'heavy modules imported by einviz "ij,jk->ik":          {", ".join(plain) or "none"}')
    print(f'heavy modules imported by einviz "ij,jk->ik" --check:  {", ".join(checked) or "none"} '
          "(only --check may import them)")
    verdicts.append((f'einviz "ij,jk->ik" imports no torch or jax: {", ".join(plain) or "none"}',
                     not plain))
    print()
    for text, met in verdicts:
        print(f"requirement: {text} -> {'met' if met else 'NOT met'}")
    return 0 if all(met for _, met in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
