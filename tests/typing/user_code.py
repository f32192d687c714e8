"""A user's file that calls every public function: `mypy tests/typing/user_code.py` must pass.

`.ci/run` type-checks it, so einviz's public API stays usable from typed code (issue 12):
the lazily loaded names are typed, and `to_svg()` without a path is a `str`, `to_png()` bytes.
"""

from __future__ import annotations

import numpy as np

import einviz

A = np.arange(6.0).reshape(2, 3)
B = np.arange(12.0).reshape(3, 4)

result: np.ndarray = einviz.einsum("ij,jk->ik", A, B)
equation: einviz.Equation = einviz.parse("ij,jk->ik")
loop_plan: einviz.LoopPlan = einviz.plan("ij,jk->ik", A, B)
steps: einviz.Trace = einviz.trace("ij,jk->ik", A, B)
first: einviz.Step = steps[0]
explanation: einviz.Explanation = einviz.explain("ij,jk->ik", A, B)
sentence_text: str = explanation.text
report: einviz.CheckReport = einviz.check("ij,jk->ik", A, B)
agreed: bool = report.ok
path: einviz.ContractionPath = einviz.contraction_path("ij,jk,kl->il", shapes=[(2, 3), (3, 4), (4, 5)])
animation: einviz.Animation = einviz.animate("ij,jk->ik", A, B)
svg: str = animation.to_svg()
png: bytes = animation.to_png()
gif: bytes = animation.to_gif()
html: str = animation.to_html()
nothing: None = animation.to_svg("out.svg")
bounds: einviz.Limits = einviz.get_limits()
with einviz.limits(max_steps=10**11) as raised:
    bigger: int = raised.max_steps
with einviz.capture() as calls:
    np.einsum("ij->i", A)
recorded: einviz.Calls = calls
try:
    einviz.parse("ij->k")
except einviz.EinvizError as error:
    message: str = str(error)
