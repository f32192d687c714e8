"""Covariance, ni,nj->ij: centre the data, then one einsum gives every variance and covariance.

The covariance thread starts on the diagonal: a variance says how far a variable's values
spread from their average. Off the diagonal, a covariance says whether two variables move
together. Both are the same sum: for each pair of variables (i, j), multiply their centred
values observation by observation (n) and add the products up, then divide by n - 1.

    python examples/covariance.py            # figures in examples/out/covariance/
    python examples/covariance.py --out DIR
"""

from __future__ import annotations

import numpy as np
from _common import output_folder, save

import einviz

out = output_folder(__file__, __doc__)

# Four days (rows, the observations n) of three variables (columns i and j).
variables = ["hours studied", "cups of coffee", "hours slept"]
X = np.array([[1.0, 1.0, 9.0],
              [3.0, 2.0, 8.0],
              [4.0, 3.0, 7.0],
              [8.0, 6.0, 4.0]])
n = X.shape[0]

# The thread's first variance: the values 1 and 4, spread around their average 2.5.
spread = np.array([1.0, 4.0]) - 2.5
print("The thread's first variance: values 1 and 4, average 2.5,")
print(f"  ((1 - 2.5)² + (4 - 2.5)²) / (2 - 1) = {einviz.einsum('n,n->', spread, spread) / (2 - 1)}")
print()

Xc = X - X.mean(axis=0)  # centre: every column now averages 0
cov = einviz.einsum("ni,nj->ij", Xc, Xc) / (n - 1)
assert np.allclose(cov, np.cov(X, rowvar=False))

print("The covariance matrix as an einsum: einsum('ni,nj->ij', Xc, Xc) / (n - 1)")
print("n is in both operands but not in the output, so it is summed: each cell (i, j) adds up")
print("the products of variable i and variable j over the observations. With i = j that is a")
print("sum of squares: the variance on the diagonal.")
print()
width = max(map(len, variables))
for name, row in zip(variables, cov):
    print(f"  {name:>{width}}  " + "  ".join(f"{value:6.2f}" for value in row))
print()
print("Studying and coffee go up together (positive); sleep goes down as they go up (negative).")
print("Checked against np.cov(X, rowvar=False).")
print()

# The figure shows the einsum itself, before the division by n - 1. The centred values are
# whole numbers here, so the grids show them as integers. Every operand needs a name of its
# own, so the second copy of Xc is called Xc2.
Xc_whole = Xc.astype(np.int64)
assert np.array_equal(Xc_whole, Xc)
save(einviz.animate("ni,nj->ij", Xc_whole, Xc_whole, names=["Xc", "Xc2"]), out, "covariance")
