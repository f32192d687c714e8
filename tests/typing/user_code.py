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
sentence_text: str = str(explanation)
report: einviz.CheckReport = einviz.check("ij,jk->ik", A, B)
agreed: bool = report.ok
path: einviz.ContractionPath = einviz.contraction_path("ij,jk,kl->il", shapes=[(2, 3), (3, 4), (4, 5)])
animation: einviz.Animation = einviz.animate("ij,jk->ik", A, B)
svg: str = animation.to_svg()
png: bytes = animation.to_png()
gif: bytes = animation.to_gif()
html: str = animation.to_html()
nothing: None = animation.to_svg("out.svg")
nothing = animation.to_png("out.png")
nothing = animation.to_gif("out.gif", fps=4)
nothing = animation.to_html("out.html")
path_html: str = path.to_html()
nothing = path.to_html("path.html")
path_step: einviz.PathStep = path.steps[0]
row: einviz.CheckRow = report.rows[0]
again: einviz.Animation = einviz.animate(steps)
widget = einviz.playground("ij,jk->ik", shapes="2x3,3x4")
bounds: einviz.Limits = einviz.get_limits()
with einviz.limits(max_steps=10**11) as raised:
    bigger: int = raised.max_steps
with einviz.capture() as calls:
    np.einsum("ij->i", A)
recorded: einviz.Calls = calls
page: str = calls.report()
groups: list[einviz.CallGroup] = list(calls.distinct())
one_call: einviz.Call = calls[0]
script_calls: einviz.Calls = einviz.run_script("script.py")
patterns: tuple[str, ...] = tuple(einviz.PATTERNS)
version: str = einviz.__version__
cell: einviz.Cell = next(steps.cells())
try:
    einviz.parse("ij->k")
except einviz.EinvizError as error:
    message: str = str(error)
for caught in (einviz.ArgumentTypeError, einviz.LimitError, einviz.PathError, einviz.ShapeError,
               einviz.StepIndexError, einviz.SubscriptError, einviz.BackendNotInstalledError):
    assert issubclass(caught, einviz.EinvizError)
diagram_svg: str = einviz.network("ij,jk->ik", A, B).to_svg()
tree_svg: str = einviz.contraction_tree("ij,jk,kl->il", shapes=[(2, 3), (3, 4), (4, 5)]).to_svg()
blocks_svg: str = einviz.blocks("bij->bij", shapes=[(2, 2, 3)]).to_svg()
cube_svg: str = einviz.iteration_cube("ij,jk->ik", A, B).to_svg()
