"""einviz: see what an einsum does.

Parse einsum subscripts, plan the loops, run them as an exact reference einsum, and (in
later stages) trace and draw every multiply-and-sum step.

>>> import numpy as np, einviz
>>> einviz.einsum("ij->i", np.arange(6).reshape(2, 3))
array([ 3, 12])
"""

from .errors import (
    ArgumentTypeError,
    EinvizError,
    LimitError,
    PathError,
    ShapeError,
    SubscriptError,
)
from .plan import Limits, LoopPlan, einsum, get_limits, limits, plan
from .subscripts import Equation, parse
from .trace import Cell, Step, Trace, trace

__version__ = "0.1.0"

__all__ = [
    "ArgumentTypeError",
    "Cell",
    "EinvizError",
    "Equation",
    "LimitError",
    "Limits",
    "LoopPlan",
    "PathError",
    "ShapeError",
    "Step",
    "SubscriptError",
    "Trace",
    "__version__",
    "einsum",
    "get_limits",
    "limits",
    "parse",
    "plan",
    "trace",
]
