"""What each refusal costs: time and peak memory of every problem einviz refuses before work.

einviz promises to refuse a problem it will not do (a limit, a bad call) with an
``EinvizError`` and its numbers, before any large allocation and in well under a second
(issue 11). Each probe below runs in a fresh interpreter of its own, twice: once timed (and
its growth in peak RSS read from ``getrusage``: "RSS MB"), once under ``tracemalloc`` (numpy's
allocations are traced too, including pages never touched: "traced MB"). The peak is the
larger of the two. A probe that hangs is stopped after ``--timeout`` seconds, and each child is capped at
``--cap`` GB of address space, so a probe that would allocate gigabytes fails with a
MemoryError instead of taking the machine down. Probes that do not refuse (a parse that
succeeds, a figure still drawn) are timed all the same: the promise is about their cost.

The figure probes (``animate``, the command) test limits the figure code enforces; where a
version of einviz does not refuse them yet they show up as timeouts or MemoryErrors here.

Exit status: 0 when every probe finishes in under 1 s and 200 MB, 1 otherwise.

Run: python benchmarks/bench_refusals.py [--timeout S] [--cap GB] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

MAX_SECONDS = 1.0
MAX_MB = 200.0

#: (name, setup, statement): the setup is not measured; the statement is.
PROBES: list[tuple[str, str, str]] = [
    ("parse '...,'*250000", "", "einviz.parse('...,' * 250_000)"),
    ("einsum '...,'*250000, one operand", "x = np.ones(2)",
     "einviz.einsum('...,' * 250_000, x)"),
    ("einsum over max_steps (broadcast 10^5 x 10^5 operands)",
     "a = np.broadcast_to(np.ones(1), (10**5, 10**5))",
     "einviz.einsum('ij,jk->ik', a, a)"),
    ("einsum over max_elements (outer of 10^5 and 10^5)",
     "v = np.broadcast_to(np.ones(1), (10**5,))",
     "einviz.einsum('i,j->ij', v, v)"),
    ("plan shapes=[(10^6, 10^6)]*2 + check_limits", "",
     "einviz.plan('ij,jk->ik', shapes=[(10**6, 10**6)] * 2).check_limits()"),
    ("trace over max_steps (broadcast 10^5 x 10^5 operands)",
     "a = np.broadcast_to(np.ones(1), (10**5, 10**5))",
     "einviz.trace('ij,jk->ik', a, a)"),
    ("animate('a' * 14)", "", "einviz.animate('a' * 14)"),
    ("animate ij->i sizes i=2*10^8, j=2", "",
     "einviz.animate('ij->i', sizes={'i': 2 * 10**8, 'j': 2})"),
    ("animate shapes=[(10^6, 10^6)]*2", "",
     "einviz.animate('ij,jk->ik', shapes=[(10**6, 10**6)] * 2)"),
    ("animate 30x30 max_axis=10^6", "x = np.ones((30, 30))",
     "einviz.animate('ij->i', x, max_axis=10**6)"),
    ("animate 40 dimensions through '...'", "",
     "einviz.animate('...->...', shapes=[(1,) * 40])"),
    ("command: einviz aaaaaaaaaaaaaa", "from einviz.cli import main",
     "status = main(['aaaaaaaaaaaaaa'])\n"
     "if status: raise SystemExit(status)"),
]

#: Runs one probe in the child: prints one JSON line with the outcome and the measures.
RUNNER = r"""
import contextlib, io, json, resource, sys, time, tracemalloc
setup, statement, mode = sys.argv[1], sys.argv[2], sys.argv[3]
import numpy as np
import einviz
exec(setup)
quiet = io.StringIO()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if mode == "memory":
    tracemalloc.start()
start = time.perf_counter()
outcome, message = "finished", ""
try:
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        exec(statement)
except SystemExit as stop:
    outcome, message = f"exit {stop.code}", quiet.getvalue().strip().splitlines()[:1]
    message = message[0] if message else ""
except BaseException as error:
    outcome, message = type(error).__name__, (str(error).splitlines() or [""])[0]
seconds = time.perf_counter() - start
traced = tracemalloc.get_traced_memory()[1] if mode == "memory" else 0
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"outcome": outcome, "message": message[:90], "seconds": seconds,
                  "rss_mb": grown / 1024, "traced_mb": traced / 2**20}))
"""


def run(setup: str, statement: str, mode: str, timeout: float, cap_gb: float) -> dict[str, Any]:
    """One probe in a fresh interpreter (a scratch folder for anything it writes)."""
    def cap() -> None:
        limit = int(cap_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}
    with tempfile.TemporaryDirectory() as scratch:
        try:
            done = subprocess.run([sys.executable, "-c", RUNNER, setup, statement, mode],
                                  capture_output=True, text=True, timeout=timeout, cwd=scratch,
                                  env=env, preexec_fn=cap)
        except subprocess.TimeoutExpired:
            return {"outcome": "timeout", "message": f"stopped after {timeout:g} s",
                    "seconds": timeout, "rss_mb": float("nan"), "traced_mb": float("nan")}
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"outcome": f"crashed ({done.returncode})", "message": last[:90],
                "seconds": float("nan"), "rss_mb": float("nan"), "traced_mb": float("nan")}
    return json.loads(lines[-1])


def measure(name: str, setup: str, statement: str, timeout: float, cap_gb: float) -> dict[str, Any]:
    timed = run(setup, statement, "time", timeout, cap_gb)
    if timed["outcome"] == "timeout":
        return {**timed, "name": name, "peak_mb": float("nan")}
    traced = run(setup, statement, "memory", timeout, cap_gb)["traced_mb"]
    # (The traced run's own RSS is not used: tracemalloc's bookkeeping inflates it.)
    return {**timed, "name": name, "traced_mb": traced, "peak_mb": max(timed["rss_mb"], traced)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per probe run")
    parser.add_argument("--cap", type=float, default=3.0, help="address space per child, GB")
    parser.add_argument("--only", default="", help="run the probes whose name contains this")
    args = parser.parse_args()
    rows = [measure(name, setup, statement, args.timeout, args.cap)
            for name, setup, statement in PROBES if args.only in name]
    width = max(len(row["name"]) for row in rows)
    print(f"{'probe':<{width}}  {'outcome':<16} {'seconds':>8} {'RSS MB':>8} {'traced MB':>10} "
          f"{'peak MB':>8}  message")
    failed = []
    for row in rows:
        ok = row["seconds"] < MAX_SECONDS and row["peak_mb"] < MAX_MB  # NaN compares False
        failed += [] if ok else [row["name"]]
        print(f"{row['name']:<{width}}  {row['outcome']:<16} {row['seconds']:>8.3f} "
              f"{row['rss_mb']:>8.1f} {row['traced_mb']:>10.1f} {row['peak_mb']:>8.1f}  "
              f"{'' if ok else '[over] '}{row['message'][:70]}")
    met = not failed
    print(f"requirement: every refusal < {MAX_SECONDS:g} s and < {MAX_MB:g} MB -> "
          f"{'met' if met else 'NOT met'}" + ("" if met else f" ({len(failed)} over: "
                                              f"{'; '.join(failed)})"))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
