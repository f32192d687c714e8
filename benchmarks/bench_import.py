"""What ``import einviz`` costs, side by side with ``import numpy``, and whether it loads torch or jax.

Each import runs in a fresh interpreter (``python -c``), several times; the best wall time
is kept, and the interpreter's own start-up (``python -c pass``) is shown so the difference
is the import itself. Requirement (issue 2): ``import einviz`` never imports torch or jax.

Run: python benchmarks/bench_import.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

HEAVY = ("torch", "jax", "jaxlib", "tensorflow")

REPORT = (
    "import sys, json; {statement}; "
    f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
)


def best_times(statements: dict[str, str], repeat: int) -> dict[str, float]:
    """The best wall time of each statement; rounds interleave them so drift hits all alike."""
    times: dict[str, float] = dict.fromkeys(statements, float("inf"))
    for _ in range(repeat):
        for name, code in statements.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
            times[name] = min(times[name], time.perf_counter() - start)
    return times


def heavy_modules(statement: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", REPORT.format(statement=statement)],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="fresh interpreters per timing")
    args = parser.parse_args(argv)

    statements = {
        "python -c pass": "pass",
        "import numpy": "import numpy",
        "import einviz": "import einviz",
        "import einviz.cli": "import einviz.cli",
    }
    times = best_times(statements, args.repeat)
    start_up = times["python -c pass"]
    print(f"best of {args.repeat} fresh interpreters ({sys.executable})")
    print(f"{'statement':<20} {'wall':>9} {'minus start-up':>15}   torch/jax loaded")
    failed = False
    for name, code in statements.items():
        loaded = heavy_modules(code)
        failed |= bool(loaded) and name.startswith("import einviz")
        print(f"{name:<20} {times[name] * 1e3:>7.1f}ms {(times[name] - start_up) * 1e3:>13.1f}ms   "
              f"{', '.join(loaded) or 'none'}")
    ratio = (times["import einviz"] - start_up) / max(times["import numpy"] - start_up, 1e-9)
    print()
    print(f"import einviz / import numpy (minus start-up): {ratio:.2f}x")
    print(f"requirement: import einviz never imports torch or jax -> {'NOT met' if failed else 'met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
