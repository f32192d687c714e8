"""Row sums, ij->i: the first example of the einsum thread, one array summed along its rows.

The thread opens with the smallest einsum that still does something: one array in, the sum of
each row out. Two letters, one kept (i) and one summed away (j). The thread shows its numbers
only in a picture, so this example uses a small array of its own.

    python examples/row_sums.py              # figures in examples/out/row_sums/
    python examples/row_sums.py --out DIR
"""

from __future__ import annotations

import numpy as np
from _common import output_folder, save

import einviz

out = output_folder(__file__, __doc__)

A = np.array([[1, 2, 3],
              [4, 5, 6]])

print("Summing the rows of one array: np.einsum('ij->i', A)")
print("Read the subscripts as a promise about the output: 'i' stays, so there is one number per")
print("row; 'j' is gone, so everything along a row is added into that one number.")
print()
explanation = einviz.explain("ij->i", A)
for sentence in explanation.sentences:
    print(f"  {sentence}")
print(f"  formula: {explanation.formula}")

result = einviz.einsum("ij->i", A)
assert np.array_equal(result, np.einsum("ij->i", A))
assert np.array_equal(result, A.sum(axis=1))
print(f"  result:  {result}  (the same as A.sum(axis=1))")
print()

save(einviz.animate("ij->i", A), out, "row_sums")
