"""einviz: see what an einsum does.

Parse einsum subscripts, plan the loops, run them as an exact reference einsum, trace every
multiply-and-sum step, and draw them.

>>> import numpy as np, einviz
>>> einviz.einsum("ij->i", np.arange(6).reshape(2, 3))
array([ 3, 12])
"""

import typing as _typing

from .errors import (
    ArgumentTypeError,
    EinvizError,
    LimitError,
    PathError,
    ShapeError,
    StepIndexError,
    SubscriptError,
)
from .explaining import PATTERNS, Explanation, explain
from .planning import Limits, LoopPlan, get_limits, limits, plan
from .recording import Call, CallGroup, Calls, capture, run_script
from .reference import einsum
from .subscripts import Equation, parse
from .tracing import Cell, Step, Trace, trace

if _typing.TYPE_CHECKING:  # what the lazy names below are, for type checkers (loaded on first use)
    from .animation import Animation, animate
    from .backends import BackendNotInstalledError, CheckReport, CheckRow, check
    from .diagrams import blocks, contraction_tree, iteration_cube, network
    from .paths import ContractionPath, PathStep, contraction_path
    from .widget import playground

__version__ = "0.1.0"

# The pictures, the backend check and contraction paths load on first use, so that
# `import einviz` and the command load only what they use.
_LAZY = {
    "Animation": "einviz.animation", "animate": "einviz.animation",
    **dict.fromkeys(["BackendNotInstalledError", "CheckReport", "CheckRow", "check"],
                    "einviz.backends"),
    **dict.fromkeys(["ContractionPath", "PathStep", "contraction_path"], "einviz.paths"),
    "playground": "einviz.widget",
    **dict.fromkeys(["network", "contraction_tree", "blocks", "iteration_cube"], "einviz.diagrams"),
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'einviz' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "PATTERNS",
    "Animation",
    "ArgumentTypeError",
    "BackendNotInstalledError",
    "Call",
    "CallGroup",
    "Calls",
    "Cell",
    "CheckReport",
    "CheckRow",
    "ContractionPath",
    "EinvizError",
    "Equation",
    "Explanation",
    "LimitError",
    "Limits",
    "LoopPlan",
    "PathError",
    "PathStep",
    "ShapeError",
    "Step",
    "StepIndexError",
    "SubscriptError",
    "Trace",
    "__version__",
    "animate",
    "blocks",
    "capture",
    "check",
    "contraction_path",
    "contraction_tree",
    "einsum",
    "explain",
    "get_limits",
    "iteration_cube",
    "limits",
    "network",
    "parse",
    "plan",
    "playground",
    "run_script",
    "trace",
]
