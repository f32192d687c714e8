"""One update of the playground: a :class:`~einviz.serve.state.State` in, the page's data out.

The server and the notebook widget both call :func:`update`; the page only places what it
gets. Every text is sent as text (the page sets it with ``textContent``); the only HTML is
what einviz draws itself (the player and the contraction path), which escapes what it shows.

>>> payload = update(State("ij->i", shapes="2x3"))
>>> payload["ok"], payload["formula"], payload["sizes"][0]
(True, 'out[i] = Σ_j A[i,j]', {'label': 'i', 'size': 2, 'role': 'free'})
>>> update(State("ij->iz"))["error"]["positions"]
[5]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

import einviz

from ..errors import EinvizError, LimitError
from .state import MAX_OPERAND_ELEMENTS, BoxError, State, make_operands, shapes_for

__all__ = ["BACKENDS", "LIMITS", "check_backend", "error_data", "update"]

#: The playground's limits (tighter than the library's: a page answers in well under a
#: second, and many people may share one server).
LIMITS = {"max_steps": 10**6, "max_elements": 10**5}
#: The backends the page checks, one request each so the page can show progress.
BACKENDS = ("numpy", "opt_einsum", "torch", "jax")
_LIMIT_HINT = (f"the playground draws up to {LIMITS['max_steps']:,} multiply-adds and "
               f"{MAX_OPERAND_ELEMENTS:,} elements an array: give smaller shapes or sizes")
#: The frames a figure may have: the player's default, gallery-sized.
MAX_FRAMES = 120


def error_data(error: EinvizError, box: str) -> dict[str, Any]:
    """An error as the page shows it: the structured fields and the box it belongs under.

    ``chars`` is the subscripts split into characters (code points), so that the page marks
    ``positions`` without counting characters the way JavaScript does (UTF-16).
    """
    text = error.subscripts or ""
    # The public class the error is (a box's own error is a ShapeError to the reader).
    kind = next(c.__name__ for c in type(error).__mro__ if c.__module__ == EinvizError.__module__)
    return {
        "kind": kind,
        "box": box,
        "problem": error.problem,
        "subscripts": text,
        "chars": list(text),
        "positions": [p for p in error.positions if p >= 0],
        "details": list(error.details),
        # The library's hint for a limit says how to raise it; a page's visitor cannot.
        "hint": _LIMIT_HINT if isinstance(error, LimitError) else error.hint,
        "message": str(error),
    }


def _size_box(state: State) -> str:
    """The box a problem with the operands' sizes shows under: the one that set them."""
    if state.values != "yours":
        if state.shapes.strip():
            return "shapes"
        if state.sizes.strip():
            return "sizes"
    return "s"


def _operands(state: State, equation: einviz.Equation,
              arrays: Sequence[np.ndarray] | None) -> list[np.ndarray]:
    """The operands to draw: the notebook's own, or made from the boxes, within the limits."""
    if state.values == "yours":
        if arrays is None:
            raise EinvizError("values 'yours' needs arrays passed in from a notebook",
                              hint="einviz.playground('ij,jk->ik', A, B)")
        return list(arrays)
    shapes = shapes_for(state, equation)
    with einviz.limits(**LIMITS):
        einviz.plan(equation, shapes=shapes).check_limits()  # before anything is allocated
    return make_operands(shapes, state.values, state.seed)


def update(state: State, arrays: Sequence[np.ndarray] | None = None) -> dict[str, Any]:
    """Everything the page shows for a state, or the error to show under a box.

    Args:
        state: the boxes' text.
        arrays: the notebook's own operands (used when ``state.values == "yours"``).

    Returns:
        ``{"ok": True, "player": html, "formula": ..., ...}`` or
        ``{"ok": False, "error": {...}}`` (see :func:`error_data`).
    """
    start = time.perf_counter()
    box = "s"
    try:
        equation = einviz.parse(state.s)
        box = _size_box(state)
        operands = _operands(state, equation, arrays)
        with einviz.limits(**LIMITS):
            animation = einviz.animate(state.s, *operands, max_frames=MAX_FRAMES)
        loop_plan, explanation = animation.trace.plan, animation.explanation
        path = None
        if loop_plan.n_operands >= 3:  # the animation's plan: nothing parsed or bound again
            path = einviz.contraction_path(loop_plan).to_html()
        player = animation.player_html(details=False)
    except BoxError as error:
        return {"ok": False, "state": state.to_dict(), "error": error_data(error, error.box)}
    except EinvizError as error:
        return {"ok": False, "state": state.to_dict(), "error": error_data(error, box)}
    return {
        "ok": True,
        "state": state.to_dict(),
        "query": state.query(),
        "shapes": ",".join("x".join(map(str, s)) if s else "scalar" for s in loop_plan.shapes),
        "player": player,
        "formula": loop_plan.formula(),
        "loop_code": loop_plan.loop_code(),
        # The figure's own label colours, so the panels match it (none if a scene has none).
        "colours": dict(getattr(animation.scene, "colours", {})),
        "sizes": [{"label": label, "size": loop_plan.sizes[label],
                   "role": "free" if label in loop_plan.free else "summed"}
                  for label in loop_plan.labels],
        "steps": loop_plan.n_steps,
        "title": explanation.title,
        "sentences": [sentence.text for sentence in explanation.sentences],
        "equivalent": explanation.equivalent,
        "path": path,
        "seconds": round(time.perf_counter() - start, 4),
    }


def check_backend(state: State, backend: str,
                  arrays: Sequence[np.ndarray] | None = None) -> dict[str, Any]:
    """Run the state's einsum in one backend and compare it with einviz's reference.

    Returns:
        The row (``backend``, ``status``, ``version``, ``dtype``, ``max_abs_error``,
        ``seconds``, ``note``), or ``{"ok": False, "error": ...}`` for bad input.
    """
    if backend not in BACKENDS:
        return {"ok": False, "error": {"kind": "EinvizError", "problem": f"no backend {backend!r}",
                                       "box": "s", "message": f"no backend {backend!r}"}}
    box = "s"
    try:
        equation = einviz.parse(state.s)
        box = _size_box(state)
        operands = _operands(state, equation, arrays)
        with einviz.limits(**LIMITS):
            row = einviz.check(state.s, *operands, backends=[backend]).rows[0]
    except BoxError as error:
        return {"ok": False, "error": error_data(error, error.box)}
    except EinvizError as error:
        return {"ok": False, "error": error_data(error, box)}
    err = row.max_abs_error
    return {"ok": True, "backend": row.backend, "status": row.status, "version": row.version,
            "dtype": row.dtype, "max_abs_error": None if err is None else float(err)
            if np.isfinite(err) else str(err), "seconds": row.seconds, "note": row.note}
