"""Bilinear form, i,ij,j->: x^T A y, three operands summed down to one number.

Nothing is left in the output, so every letter is summed: for each cell A[i, j], take the x
of its row and the y of its column, multiply all three, and add everything into one number.
It is x @ A @ y, done in one pass without the in-between vector.

    python examples/bilinear.py              # figures in examples/out/bilinear/
    python examples/bilinear.py --out DIR
"""

from __future__ import annotations

import numpy as np
from _common import output_folder, save

import einviz

out = output_folder(__file__, __doc__)

x = np.array([2, -1])
A = np.array([[2, 0, 1],
              [1, 3, -1]])
y = np.array([3, 1, 2])

print("A bilinear form: np.einsum('i,ij,j->', x, A, y)")
print("The output '->' has no letters: a single number. i ties x to A's rows, j ties y to A's")
print("columns, and both are summed, so each of the 6 steps is x[i] * A[i, j] * y[j].")
print(f"  formula: {einviz.plan('i,ij,j->', x, A, y, names=['x', 'A', 'y']).formula()}")
result = einviz.einsum("i,ij,j->", x, A, y)
assert result == x @ A @ y
print(f"  result:  {result}  (the same as x @ A @ y)")
print()

save(einviz.animate("i,ij,j->", x, A, y, names=["x", "A", "y"]), out, "bilinear")
