"""Matrix multiplication, ij,jk->ik: each output cell is a row of A times a column of B.

The letter j sits in both operands and not in the output, so it is the one that gets summed:
for every pair (i, k), walk along row i of A and down column k of B together, multiply the
pairs and add them up. The same einsum then runs in every installed library, checked against
einviz's own reference.

    python examples/matmul.py                # figures in examples/out/matmul/
    python examples/matmul.py --out DIR
"""

from __future__ import annotations

import numpy as np
from _common import output_folder, save

import einviz

out = output_folder(__file__, __doc__)

A = np.array([[1, 2, 0],
              [3, -1, 2]])
B = np.array([[2, 1],
              [0, 3],
              [1, -2]])

print("Matrix multiplication: np.einsum('ij,jk->ik', A, B)")
print("i comes from A's rows and k from B's columns, and both stay. j is shared and dropped, so")
print("out[i, k] is row i of A and column k of B multiplied pair by pair and added up: A @ B.")
print(f"  formula: {einviz.plan('ij,jk->ik', A, B).formula()}")
result = einviz.einsum("ij,jk->ik", A, B)
assert np.array_equal(result, A @ B)
print(f"  result:  {result.tolist()}  (the same as A @ B)")
print()

# numpy, opt_einsum, torch and jax (those installed) against the reference, cell by cell.
report = einviz.check("ij,jk->ik", A, B)
print(report)
assert report.ok
print()

save(einviz.animate("ij,jk->ik", A, B), out, "matmul")
