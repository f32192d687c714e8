"""The live playground: type an einsum, see it drawn, in a browser or a notebook.

``einviz serve`` (or ``python -m einviz.serve``) starts a local web server (Starlette on
uvicorn, the ``einviz[serve]`` extra); :func:`einviz.playground` shows the same page as a
notebook widget. Both draw from :func:`einviz.serve.payload.update`, which needs neither.

>>> from einviz.serve import State, update
>>> update(State("i,i->", shapes="3,3"))["title"]
'dot product'
"""

from __future__ import annotations

from .payload import check_backend, update
from .state import PRESETS, BadRequest, State

__all__ = ["PRESETS", "BadRequest", "State", "check_backend", "create_app", "run", "update"]


def __getattr__(name: str) -> object:
    # The web stack loads only when a server is made: the widget and the tests of the
    # update do not need Starlette.
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "run":
        from .launch import run

        return run
    raise AttributeError(f"module 'einviz.serve' has no attribute {name!r}")
