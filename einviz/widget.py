"""The playground as a notebook widget: :func:`playground` (anywidget, the ``serve`` extra).

The widget shows the same editor and panels as ``einviz serve``; the kernel answers each
edit with :func:`einviz.serve.payload.update`, so nothing runs in the browser but the page.
Given arrays, it starts from them (the Values box reads "your arrays").

>>> import numpy as np
>>> w = playground("ij->i", np.arange(6).reshape(2, 3))    # doctest: +SKIP
>>> w.result["equivalent"]                                 # doctest: +SKIP
'A.sum(axis=1)'
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import numpy as np

from .errors import EinvizError, install_hint
from .serve.payload import BACKENDS, check_backend, update
from .serve.state import PRESETS, BadRequest, State

__all__ = ["playground"]


def _static(name: str) -> str:
    return resources.files("einviz.serve").joinpath("static").joinpath(name).read_text(encoding="utf-8")


def _shapes_text(shapes: str | Sequence[Sequence[int]] | None) -> str:
    if shapes is None or isinstance(shapes, str):
        return shapes or ""
    return ",".join("x".join(str(int(d)) for d in shape) if len(shape) else "scalar"
                    for shape in shapes)


def _sizes_text(sizes: str | Mapping[str, Any] | None) -> str:
    if sizes is None or isinstance(sizes, str):
        return sizes or ""
    return ",".join(f"{label}={'x'.join(map(str, size)) if isinstance(size, (tuple, list)) else size}"
                    for label, size in sizes.items())


@functools.cache
def _widget_class() -> type:
    """The widget class, made on first use so that einviz imports without anywidget."""
    try:
        import anywidget
        import traitlets
    except ImportError as e:
        raise EinvizError("einviz.playground() needs anywidget",
                          hint=install_hint("serve")) from e

    class Playground(anywidget.AnyWidget):
        """The einviz playground in a notebook: set ``state``, read ``result``."""

        _esm = _static("playground.js") + "\n" + _static("widget.js")
        _css = _static("playground.css")
        editor = traitlets.Unicode(_static("editor.html")).tag(sync=True)
        presets = traitlets.List([{"name": n, **s.to_dict()} for n, s in PRESETS]).tag(sync=True)
        backends = traitlets.List(list(BACKENDS)).tag(sync=True)
        yours = traitlets.Bool(False).tag(sync=True)
        #: The boxes: s, shapes, sizes, values, seed (and the page's serial number).
        state = traitlets.Dict().tag(sync=True)
        #: What the page shows for ``state``: see :func:`einviz.serve.payload.update`.
        result = traitlets.Dict().tag(sync=True)

        def __init__(self, state: State, arrays: Sequence[np.ndarray] | None, **kwargs: Any) -> None:
            self._arrays = arrays
            super().__init__(yours=arrays is not None, **kwargs)
            self.on_msg(self._message)
            self.state = state.to_dict()

        @traitlets.observe("state")
        def _answer(self, change: Any) -> None:
            fields = dict(change["new"])
            serial = fields.pop("serial", None)
            try:
                result = update(State.from_query(fields), self._arrays)
            except BadRequest as e:
                result = {"ok": False, "error": {"kind": "BadRequest", "box": "s",
                                                 "problem": str(e), "message": str(e)}}
            self.result = {**result, "serial": serial}

        def _message(self, widget: Any, content: Any, buffers: Any) -> None:
            if not isinstance(content, dict) or content.get("kind") != "check":
                return
            try:
                row = check_backend(State.from_query(content.get("state") or {}),
                                    str(content.get("backend")), self._arrays)
            except BadRequest as e:
                row = {"ok": False, "error": {"kind": "BadRequest", "message": str(e)}}
            self.send({"kind": "check", "id": content.get("id"), "row": row})

    return Playground


def playground(
    subscripts: str = "ij,jk->ik",
    *operands: Any,
    shapes: str | Sequence[Sequence[int]] | None = None,
    sizes: str | Mapping[str, Any] | None = None,
    values: str = "arange",
    seed: int = 0,
) -> Any:
    """The live playground as a notebook widget: type subscripts and shapes, see it drawn.

    Args:
        subscripts: the subscripts to start from.
        *operands: your own arrays to start from (the widget then draws their values).
        shapes: the shapes to start from (``"2x3,3x4"`` or ``[(2, 3), (3, 4)]``), without operands.
        sizes: label sizes to start from (``"i=2"`` or ``{"i": 2}``), without operands.
        values: ``arange``, ``random`` or ``ones`` (without operands).
        seed: the seed of ``random``.

    Returns:
        The widget (display it, or leave it last in a cell). Its ``state`` holds the boxes'
        text and its ``result`` what the page shows.

    Raises:
        EinvizError: anywidget is not installed, or operands come with shapes or sizes.

    >>> import numpy as np
    >>> w = playground("ij->i", np.arange(6).reshape(2, 3))
    >>> w.result["ok"], w.result["equivalent"], w.state["values"]
    (True, 'A.sum(axis=1)', 'yours')
    """
    arrays = None
    if operands:
        if shapes is not None or sizes is not None:
            raise EinvizError("give either operands or shapes=/sizes=, not both",
                              hint="the operands' own shapes are used")
        arrays = [np.asarray(a) for a in operands]
        shapes, values = [a.shape for a in arrays], "yours"
    try:
        state = State.from_query({"s": subscripts, "shapes": _shapes_text(shapes),
                                  "sizes": _sizes_text(sizes), "values": values,
                                  "seed": str(seed)})
    except BadRequest as e:
        raise EinvizError(f"playground(): {e}") from None
    return _widget_class()(state, arrays)
