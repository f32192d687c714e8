"""The playground's web server: a Starlette app (run it with uvicorn, see :mod:`.launch`).

Routes:
    ``GET /``: the page, opened at the state its query string describes.
    ``GET /api/update?s=…&shapes=…``: what the page shows for a state (see :func:`update`).
    ``GET /api/check?…&backend=numpy``: one backend's row of the check.
    ``GET /static/<name>``: the page's script and style (a fixed list of package files).

The server evaluates no code and reads no file a request names. Work runs in worker
threads with a time limit, so a slow request never holds up another. A request the page
would never send (an unknown field, a long query string, a body) gets a 400 (or 413)
with a JSON error; nothing answers with a traceback.

>>> from starlette.testclient import TestClient
>>> client = TestClient(create_app())
>>> client.get("/api/update", params={"s": "ij->i"}).json()["formula"]
'out[i] = Σ_j A[i,j]'
>>> client.get("/api/update", params={"evil": "1"}).status_code
400
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from importlib import resources
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .payload import BACKENDS, check_backend, update
from .state import PRESETS, BadRequest, State

__all__ = ["LOCAL_HOSTS", "MAX_BODY", "MAX_QUERY", "TIMEOUT", "create_app", "page_html"]

#: The longest query string accepted, in bytes (a state's five fields fit in far less).
MAX_QUERY = 2048
#: The largest request body accepted, in bytes (the page sends none).
MAX_BODY = 4096
#: Seconds an update may take before the page is told to try a smaller problem; a backend
#: check may take longer (the first torch or jax import alone takes seconds).
TIMEOUT = {"update": 10.0, "check": 60.0}
#: Worker threads for updates and checks at once: more requests wait their turn, each
#: still within its time limit.
WORKERS = 4

_STATIC = {"playground.js": "text/javascript", "playground.css": "text/css"}
_HEADERS = {
    # The player fragment carries its own inline script and style; nothing comes from
    # another origin.
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
                               "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _static(name: str) -> str:
    return resources.files(__package__).joinpath("static").joinpath(name).read_text(encoding="utf-8")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": {"kind": "BadRequest", "message": message}},
                        status_code=status, headers=_HEADERS)


def page_html(state: State) -> str:
    """The playground page, opened at ``state`` (its data embedded as JSON, escaped)."""
    boot = {"state": state.to_dict(), "presets": [{"name": n, **s.to_dict()} for n, s in PRESETS],
            "backends": list(BACKENDS)}
    text = json.dumps(boot, ensure_ascii=False).replace("</", "<\\/")
    parts = {"editor": _static("editor.html"), "title": html.escape(state.s), "boot": text}
    # One pass: a state that contains "{{boot}}" is text, not a place to fill.
    return re.sub(r"\{\{(\w+)\}\}", lambda m: parts[m.group(1)], _static("page.html"))


async def _off_loop(request: Request, kind: str, function: Callable[..., dict[str, Any]],
                    *args: Any) -> Response:
    # One limiter per app and kind, made in the loop that serves the app.
    limiters = request.app.state.limiters
    limiter = limiters.get(kind)
    if limiter is None:
        limiter = limiters[kind] = anyio.CapacityLimiter(WORKERS)
    try:
        with anyio.fail_after(TIMEOUT[kind]):
            result = await anyio.to_thread.run_sync(function, *args, limiter=limiter,
                                                    abandon_on_cancel=True)
    except TimeoutError:
        return _error(503, f"the {kind} took longer than {TIMEOUT[kind]:g} s: try smaller sizes")
    return JSONResponse(result, headers=_HEADERS)


def _state(request: Request, extra: tuple[str, ...] = ()) -> State:
    params = dict(request.query_params)
    if len(request.query_params.multi_items()) != len(params):
        raise BadRequest("a field is given twice")
    return State.from_query({k: v for k, v in params.items() if k not in extra})


async def _page(request: Request) -> Response:
    state = _state(request)
    return HTMLResponse(page_html(state), headers=_HEADERS)


async def _update(request: Request) -> Response:
    return await _off_loop(request, "update", update, _state(request))


async def _check(request: Request) -> Response:
    backend = request.query_params.get("backend", "")
    if backend not in BACKENDS:
        raise BadRequest(f"backend must be one of {', '.join(BACKENDS)}")
    return await _off_loop(request, "check", check_backend, _state(request, ("backend",)), backend)


async def _asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _STATIC:  # a fixed list: a request never names a file to read
        raise HTTPException(404)
    return Response(_static(name), media_type=_STATIC[name], headers=_HEADERS)


async def _bad_request(request: Request, exc: Exception) -> Response:
    return _error(400, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return _error(status, {404: "not found", 405: "method not allowed"}.get(status, "error"))


async def _server_error(request: Request, exc: Exception) -> Response:
    return _error(500, "internal error")  # the traceback stays in the server's log


class _Limits:
    """Refuse long query strings (400), large bodies (413) and, when the server listens on
    this computer only, requests for another host name (400: a page on another site that
    points a name of its own at 127.0.0.1 gets nothing) before a route sees them."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str] | None = None) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        if self.hosts is not None and _host_name(headers.get(b"host", b"")) not in self.hosts:
            await _error(400, "unknown host name")(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > MAX_QUERY:
            await _error(400, f"the query string is longer than {MAX_QUERY} bytes")(
                scope, receive, send)
            return
        length = headers.get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY:
            await _error(413, f"request bodies are limited to {MAX_BODY} bytes")(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY:  # a chunked body that outgrows its limit
                raise BadRequest(f"request bodies are limited to {MAX_BODY} bytes")
            return message

        await self.app(scope, limited, send)


def _host_name(header: bytes) -> str:
    """The name in a Host header, without its port: ``[::1]:8000`` → ``::1``."""
    text = header.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1:].partition("]")[0]
    return text.rpartition(":")[0] if text.count(":") == 1 else text


#: The names this computer answers to, for a server bound to a loopback address.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def create_app(hosts: frozenset[str] | None = None) -> Starlette:
    """The playground as an ASGI app (serve it with uvicorn, or test it with httpx).

    Args:
        hosts: the host names requests may name (e.g. :data:`LOCAL_HOSTS`); ``None``: any.

    >>> create_app().routes[0].path
    '/'
    """
    app = Starlette(
        routes=[
            Route("/", _page),
            Route("/api/update", _update),
            Route("/api/check", _check),
            Route("/static/{name}", _asset),
            Route("/favicon.ico", lambda request: Response(status_code=204)),
        ],
        exception_handlers={BadRequest: _bad_request, HTTPException: _http_error,
                            Exception: _server_error},
    )
    app.state.limiters = {}
    app.add_middleware(_Limits, hosts=hosts)
    return app
