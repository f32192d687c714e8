"""Trace and diagonal, ii-> and ii->i: one letter written twice walks down the diagonal.

Writing the same letter twice in one operand, ii, means "the row index equals the column
index": only the cells A[0, 0], A[1, 1], A[2, 2] take part. Drop i from the output and those
cells are added up (the trace); keep it and they are copied out as a vector (the diagonal).

    python examples/trace_and_diagonal.py    # figures in examples/out/trace_and_diagonal/
    python examples/trace_and_diagonal.py --out DIR
"""

from __future__ import annotations

import numpy as np
from _common import output_folder, save

import einviz

out = output_folder(__file__, __doc__)

A = np.array([[4, 1, 2],
              [0, 5, 3],
              [7, 1, 6]])

print("The trace and the diagonal: np.einsum('ii->', A) and np.einsum('ii->i', A)")
print("ii makes the two axes of A move together, so einsum only visits the diagonal, 3 cells")
print("out of 9. The output decides what happens to them:")
cases = {"trace": ("ii->", np.trace(A)), "diagonal": ("ii->i", np.diagonal(A))}
for subscripts, same in cases.values():
    explanation = einviz.explain(subscripts, A)
    result = einviz.einsum(subscripts, A)
    assert np.array_equal(result, same)
    print(f"  {subscripts:<6} {explanation.title:<9} {result!s:<9}  "
          f"in plain numpy: {explanation.equivalent}")
print()

for stem, (subscripts, _) in cases.items():
    save(einviz.animate(subscripts, A), out, stem)
