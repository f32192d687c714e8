"""The reference einsum against numpy.einsum, side by side in one run: time and memory.

For each expression: the best time of several runs of ``einviz.einsum`` and of
``numpy.einsum`` (optimize=False, numpy's own loop) on the same operands, their ratio, and
the peak memory einviz's call allocates (tracemalloc) against the output's size and against
the size of all the products at once. The products are made a bounded chunk at a time
(``einviz.reference.CHUNK_ELEMENTS``), so the peak stays near the output plus one chunk however
many steps there are. Requirements (issue 2): ``bij,bjk->bik`` with b=8, i=j=k=64 within 10x
of numpy.einsum, never holding more than a bounded chunk of products in memory: here, the
peak above the output is at most 4 chunks in every case, from 512 steps to 8 million.

Exit status: 0 when both requirements are met, 1 otherwise.

Run: python benchmarks/bench_einsum.py [--repeat N]
"""

from __future__ import annotations

import argparse
import functools
import math
import timeit
import tracemalloc
from collections.abc import Callable

import numpy as np

import einviz
from einviz.reference import CHUNK_ELEMENTS

REQUIREMENT = ("bij,bjk->bik", 10.0)
#: The most memory einviz's call may hold above its output, in chunks of products.
MAX_CHUNKS = 4.0


def cases() -> list[tuple[str, str, list[np.ndarray]]]:
    """(label, subscripts, operands): float64 operands from a fixed seed."""
    rng = np.random.default_rng(0)

    def r(*shape: int) -> np.ndarray:
        return rng.random(shape)

    return [
        ("batched matmul b=8, i=j=k=64", "bij,bjk->bik", [r(8, 64, 64), r(8, 64, 64)]),
        ("row sums 512x512", "ij->i", [r(512, 512)]),
        ("diagonal 512x512", "ii->i", [r(512, 512)]),
        ("matmul 128s", "ij,jk->ik", [r(128, 128), r(128, 128)]),
        ("outer 512 x 512", "i,j->ij", [r(512), r(512)]),
        ("4 operands 24s", "ab,bc,cd,de->ae", [r(24, 24), r(24, 24), r(24, 24), r(24, 24)]),
    ]


def best(call: Callable[[], object], repeat: int) -> float:
    """The best time of ``repeat`` runs, each of enough calls to last about 0.1 s."""
    number, _ = timeit.Timer(call).autorange()
    number = max(1, number // 2)
    return min(timeit.Timer(call).repeat(repeat=repeat, number=number)) / number


def peak_bytes(call: Callable[[], object]) -> int:
    """The peak of memory allocated during one call, above what was allocated before it."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1]
        del result
    finally:
        tracemalloc.stop()
    return peak - before


def mb(n: float) -> str:
    return f"{n / 2**20:7.2f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per timing (best is kept)")
    args = parser.parse_args(argv)

    print(f"einviz {einviz.__version__}, numpy {np.__version__}; best of {args.repeat}; "
          f"chunk = {CHUNK_ELEMENTS:,} products")
    print(f"{'expression':<30} {'subscripts':<16} {'steps':>10} {'einviz':>10} {'numpy':>10} "
          f"{'ratio':>6}  {'einviz peak':>11} {'output':>10} {'peak-output':>11} {'all products':>12}")
    verdict = None
    worst_chunks = 0.0
    for label, subscripts, operands in cases():
        p = einviz.plan(subscripts, *operands)
        ours = einviz.einsum(subscripts, *operands)
        theirs = np.einsum(subscripts, *operands)
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)
        ours_call = functools.partial(einviz.einsum, subscripts, *operands)
        theirs_call = functools.partial(np.einsum, subscripts, *operands)
        t_ours = best(ours_call, args.repeat)
        t_theirs = best(theirs_call, args.repeat)
        ratio = t_ours / t_theirs
        peak = peak_bytes(ours_call)
        itemsize = np.result_type(*operands).itemsize
        out_bytes = math.prod(p.out_shape) * itemsize
        chunks = max(0, peak - out_bytes) / (CHUNK_ELEMENTS * itemsize)
        worst_chunks = max(worst_chunks, chunks)
        print(f"{label:<30} {subscripts:<16} {p.n_steps:>10,} {t_ours * 1e3:>8.2f}ms "
              f"{t_theirs * 1e3:>8.2f}ms {ratio:>5.1f}x  {mb(peak):>11} {mb(out_bytes):>10} "
              f"{chunks:>7.1f} ch. {mb(p.n_steps * itemsize):>12}")
        if subscripts == REQUIREMENT[0]:
            verdict = ratio
    print()
    print(f"peak-output is in chunks of {CHUNK_ELEMENTS:,} products ({mb(CHUNK_ELEMENTS * 8).strip()} "
          f"of float64): at most {worst_chunks:.1f} here, whatever the number of steps")
    assert verdict is not None, f"no case runs {REQUIREMENT[0]}"
    fast = verdict <= REQUIREMENT[1]
    bounded = worst_chunks <= MAX_CHUNKS
    print(f"requirement: {REQUIREMENT[0]} within {REQUIREMENT[1]:.0f}x of numpy.einsum: "
          f"{verdict:.1f}x -> {'met' if fast else 'NOT met'}")
    print(f"requirement: peak above the output at most {MAX_CHUNKS:.0f} chunks of products in "
          f"every case: {worst_chunks:.1f} -> {'met' if bounded else 'NOT met'}")
    return 0 if fast and bounded else 1


if __name__ == "__main__":
    raise SystemExit(main())
