"""Four operands, ab,bc,cd,de->ae: a chain of matrices, and the order that makes it cheap.

Written as one loop, this einsum visits every combination of a, b, c, d and e: the sizes
multiply, and the work grows fast. But a chain of matrices can be multiplied two at a time,
each small product feeding the next. opt_einsum picks such an order (a contraction path);
einviz.contraction_path lays it out step by step, with the FLOPs of each step and of the
naive single loop beside them.

    python examples/four_operands.py         # figures in examples/out/four_operands/
    python examples/four_operands.py --out DIR
"""

from __future__ import annotations

import numpy as np
from _common import output_folder, save

import einviz

out = output_folder(__file__, __doc__)

rng = np.random.default_rng(6)
A, B, C, D = (rng.integers(-1, 3, size=shape) for shape in [(2, 3), (3, 4), (4, 3), (3, 2)])

print("A chain of four matrices: np.einsum('ab,bc,cd,de->ae', A, B, C, D)")
print("Only a and e reach the output; b, c and d are each shared by two neighbours and summed.")
print("As one loop that is a multiply-add for every (a, b, c, d, e). Two at a time it is three")
print("small matrix products, and far fewer FLOPs:")
print()
path = einviz.contraction_path("ab,bc,cd,de->ae", A, B, C, D)
print(path)
print()

result = einviz.einsum("ab,bc,cd,de->ae", A, B, C, D)
assert np.array_equal(result, A @ B @ C @ D)
assert np.array_equal(path.einsum(A, B, C, D), result)
print(f"Step by step or in one loop, the result is the same: {result.tolist()} = A @ B @ C @ D")
print()

save(einviz.animate("ab,bc,cd,de->ae", A, B, C, D), out, "four_operands")
# cells=4 draws every label whole (the figures cut longer axes to the first few cells).
for step in path.steps:
    figure = out / f"path-step-{step.index}.svg"
    figure.write_text(path.figure_svg(step.index, cells=4), encoding="utf-8")
    print(f"  wrote {figure}  ({step.contraction()}: {step.subscripts})")
path.to_html(out / "path.html", cells=4)
print(f"  wrote {out / 'path.html'}")
