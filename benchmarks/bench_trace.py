"""Trace speed and memory (issue 3), measured side by side in one run.

1. Consuming ``trace.chunks()`` of ``bij,bjk->bik`` (b=8, i=j=k=64: 2.1 M steps) against
   materialising the same columns with plain numpy in one go (np.indices, fancy indexing,
   cumsum). Requirement: einviz at least half as fast (time ratio <= 2).
2. A 10^8-step trace consumed in chunks, its peak memory measured in a fresh process
   (ru_maxrss) against a bare ``import numpy, einviz``. Requirement: under 300 MB.

Exit status: 0 when both requirements are met, 1 otherwise.

Run: python benchmarks/bench_trace.py
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

import einviz

MAX_RATIO = 2.0
MAX_PEAK_MB = 300.0


def consume_chunks(t: einviz.Trace) -> int:
    total = 0
    for columns in t.chunks():
        total += len(columns["step"])
    return total


def one_go(a: np.ndarray, b: np.ndarray) -> int:
    sizes = (a.shape[0], a.shape[1], b.shape[2], a.shape[2])  # b, i, k, j: loop order
    bb, ii, kk, jj = np.indices(sizes).reshape(4, -1)
    factors = np.stack([a[bb, ii, jj], b[bb, jj, kk]], axis=1)
    product = factors[:, 0] * factors[:, 1]
    running = np.cumsum(product.reshape(-1, sizes[-1]), axis=1).reshape(-1)
    cell = np.arange(len(product)) // sizes[-1]
    return len(running) + 0 * len(cell)


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


PEAK_SCRIPT = """
import resource, sys, tracemalloc, numpy as np, einviz
tracemalloc.start()
if sys.argv[1] == "trace":
    rng = np.random.default_rng(0)
    a, b = rng.random((100, 1000)), rng.random((1000, 1000))   # 10^8 steps
    t = einviz.trace("ij,jk->ik", a, b)
    n = 0
    for columns in t.chunks():
        n += len(columns["step"])
    assert n == 10**8
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, tracemalloc.get_traced_memory()[1] / 2**20)
"""


def peak_mb(mode: str) -> tuple[float, float]:
    """(peak RSS, peak traced allocations) in MB of a fresh process."""
    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, mode], capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> int:
    # Measured first, while this process is small: a child may inherit its RSS high-water mark.
    start = time.perf_counter()
    (peak, traced), (baseline, _) = peak_mb("trace"), peak_mb("import")
    seconds = time.perf_counter() - start
    rng = np.random.default_rng(0)
    a, b = rng.random((8, 64, 64)), rng.random((8, 64, 64))
    t = einviz.trace("bij,bjk->bik", a, b)
    assert consume_chunks(t) == one_go(a, b) == 8 * 64**3
    ours, theirs = best(lambda: consume_chunks(t)), best(lambda: one_go(a, b))
    print("bij,bjk->bik, b=8, i=j=k=64: 2,097,152 steps")
    print(f"  einviz trace.chunks()        {ours * 1e3:8.1f} ms")
    print(f"  numpy one go (indices/cumsum) {theirs * 1e3:7.1f} ms")
    print(f"  time ratio einviz/numpy      {ours / theirs:8.2f}   (requirement: <= {MAX_RATIO})")
    print("ij,jk->ik, 100x1000 @ 1000x1000: 10^8 steps consumed in chunks "
          f"[{seconds:.1f} s for both processes]")
    print(f"  peak RSS {peak:7.1f} MB   (a process that only imports numpy and einviz: "
          f"{baseline:.1f} MB)   requirement: < {MAX_PEAK_MB:.0f} MB")
    print(f"  peak traced allocations {traced:.1f} MB (operands 8.8 MB, result 0.8 MB)")
    fast, small = ours / theirs <= MAX_RATIO, peak < MAX_PEAK_MB
    print()
    print(f"requirement: consuming trace.chunks() at least half as fast as numpy in one go "
          f"(time ratio <= {MAX_RATIO}): {ours / theirs:.2f} -> {'met' if fast else 'NOT met'}")
    print(f"requirement: a 10^8-step trace consumed in chunks peaks under {MAX_PEAK_MB:.0f} MB: "
          f"{peak:.1f} MB -> {'met' if small else 'NOT met'}")
    return 0 if fast and small else 1


if __name__ == "__main__":
    sys.exit(main())
