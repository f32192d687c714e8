"""Batched matrix multiplication, bij,bjk->bik: one matmul per b, side by side.

A stack of matrices times another stack: b is in both operands and in the output, so it is
kept and never summed over; it only says which pair of matrices goes together. Inside each
b it is the familiar ij,jk->ik. The grids show each 3-d array as slices b=0, b=1.

    python examples/batched_matmul.py        # figures in examples/out/batched_matmul/
    python examples/batched_matmul.py --out DIR
"""

from __future__ import annotations

import numpy as np
from _common import output_folder, save

import einviz

out = output_folder(__file__, __doc__)

A = np.array([[[1, 2, 0],
               [0, 1, 1]],
              [[2, 0, 1],
               [1, 1, -1]]])          # b=2 matrices of 2x3
B = np.array([[[1, 0],
               [2, 1],
               [0, 3]],
              [[1, 1],
               [0, 2],
               [3, 0]]])              # b=2 matrices of 3x2

print("Batched matrix multiplication: np.einsum('bij,bjk->bik', A, B)")
print("b appears everywhere, so it is a batch: matrix A[b] meets only matrix B[b]. j is shared")
print("and dropped, so it is summed, exactly as in a single matmul.")
explanation = einviz.explain("bij,bjk->bik", A, B)
print(f"  pattern: {explanation.title}")
print(f"  formula: {explanation.formula}")
result = einviz.einsum("bij,bjk->bik", A, B)
assert np.array_equal(result, A @ B)
for b in range(len(result)):
    print(f"  out[{b}] = A[{b}] @ B[{b}] = {result[b].tolist()}")
print(f"  {explanation.plan.n_steps} multiply-adds in all: one for every b, i, k and j")
print()

save(einviz.animate("bij,bjk->bik", A, B), out, "batched_matmul")
