"""``einviz SUBSCRIPTS --json``: what one run computed, as one JSON document.

The document is made from the stages' own objects (the plan, the explanation, the path and
the check), as the text report is, so a program reads the same facts a person does:

- ``subscripts``, ``equation`` (``terms``, ``output``, ``explicit``; labels as strings, the
  ellipsis as ``"..."``);
- ``plan``: names, shapes, loop labels, sizes, free and summed labels, steps, FLOPs, the
  output shape, the formula and the loop code;
- ``explanation``: :meth:`einviz.explaining.Explanation.to_dict`;
- ``operands`` and ``result``: their values, with the rule that made the operands;
- ``path`` (with ``--path``) and ``check`` (with ``--check``), else ``null``;
- ``figure``: where the figure went, or ``null``.

Numbers that JSON cannot hold (``inf``, ``nan``, in a check's error column or a result) are
written as the strings ``"inf"``, ``"-inf"`` and ``"nan"``, so the document is strict JSON.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .backends import CheckReport
    from .cli import _Made
    from .planning import LoopPlan

__all__ = ["document"]


def document(made: _Made, figure: str | None, values: str, seed: int) -> str:
    """The run as JSON text (indented, keys in a fixed order)."""
    loop_plan = made.plan
    equation = loop_plan.equation
    data = {
        "subscripts": equation.source or str(equation),
        "equation": {"terms": [list(term) for term in equation.terms],
                     "output": list(equation.output), "explicit": equation.explicit},
        "plan": plan_data(loop_plan),
        "explanation": made.explanation.to_dict() if made.explanation is not None else None,
        "operands": {"values": values, "seed": seed if values == "random" else None,
                     "arrays": {name: _array(a) for name, a in zip(loop_plan.names, made.operands)}},
        "result": _array(made.result),
        "path": made.path.to_dict() if made.path is not None else None,
        "check": check_data(made.report) if made.report is not None else None,
        "figure": figure,
    }
    return json.dumps(_strict(data), indent=2, ensure_ascii=True, allow_nan=False)


def plan_data(loop_plan: LoopPlan) -> dict[str, Any]:
    """A plan's facts as plain data.

    >>> from einviz import plan
    >>> plan_data(plan("ij->i", shapes=[(2, 3)]))["summed"]
    ['j']
    """
    return {
        "names": list(loop_plan.names),
        "shapes": [list(shape) for shape in loop_plan.shapes],
        "labels": list(loop_plan.labels),
        "sizes": {label: loop_plan.sizes[label] for label in loop_plan.labels},
        "free": list(loop_plan.free),
        "summed": list(loop_plan.summed),
        "ellipsis": list(loop_plan.ellipsis),
        "steps": loop_plan.n_steps,
        "flops": loop_plan.flops,
        "out_shape": list(loop_plan.out_shape),
        "formula": loop_plan.formula(),
        "loop_code": loop_plan.loop_code(),
    }


def check_data(report: CheckReport) -> dict[str, Any]:
    """A backend check as plain data: ``ok`` and one dict per backend's row."""
    return {"ok": report.ok, "reference_dtype": report.reference_dtype,
            "rows": [dataclasses.asdict(row) for row in report.rows]}


def _array(array: np.ndarray) -> dict[str, Any]:
    values = array.tolist()
    if np.iscomplexobj(array):  # JSON has no complex numbers: [real, imaginary] pairs
        values = np.stack([array.real, array.imag], axis=-1).tolist()
    return {"shape": list(array.shape), "dtype": str(array.dtype), "values": values}


def _strict(value: Any) -> Any:
    """``value`` with every number JSON cannot hold written as a string."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(key): _strict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(item) for item in value]
    if isinstance(value, np.generic):
        return _strict(value.item())
    return value
