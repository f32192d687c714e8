"""``einviz serve``: start the playground's web server and print its address.

>>> parser().parse_args(["--port", "0"]).host
'127.0.0.1'
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Iterator, Sequence
from typing import Any

from ..errors import EinvizError, install_hint

__all__ = ["background", "is_serve_command", "main", "parser", "run"]

_OPTIONS = ("--host", "--port", "--open", "-h", "--help")


def parser() -> argparse.ArgumentParser:
    """The command line of ``einviz serve``."""
    p = argparse.ArgumentParser(
        prog="einviz serve",
        description="Start the einviz playground: a local web page where you type an einsum "
                    "and see it drawn as you type. Needs the serve extra: "
                    f"{install_hint('serve')}.")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1: this computer only)")
    p.add_argument("--port", type=int, default=8000,
                   help="the port (default 8000; 0 picks a free one)")
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    return p


def is_serve_command(argv: Sequence[str]) -> bool:
    """Whether ``einviz ARGV`` means ``einviz serve``: ``serve`` followed by nothing but its
    own options (``serve`` alone is also the implicit einsum ``"serve"``; with ``--shapes``
    or ``--sizes`` after it, that einsum is meant).

    >>> is_serve_command(["serve", "--port", "0"]), is_serve_command(["serve", "--sizes", "s=2"])
    (True, False)
    """
    if not argv or argv[0] != "serve":
        return False
    rest = list(argv[1:])
    while rest:
        option = rest.pop(0)
        name = option.split("=", 1)[0]
        if name not in _OPTIONS:
            return False
        if name in ("--host", "--port") and "=" not in option and rest:
            rest.pop(0)
    return True


def _uvicorn() -> Any:
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError as e:
        raise EinvizError("the playground needs Starlette and uvicorn",
                          hint=install_hint("serve")) from e
    return uvicorn


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto given: asyncio turns Nagle's algorithm off only for sockets that say they are TCP,
    # and with it on, every response written in two parts waits 40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as e:  # in use, not this machine's, or not a port
        sock.close()
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise EinvizError(f"cannot listen on {host}:{port}: {reason}",
                          hint="give another --port (0 picks a free one) or --host") from None
    return sock


def _app(sock: socket.socket) -> Any:
    """The app for a socket: on a loopback address, it answers this computer's names only."""
    from .app import LOCAL_HOSTS, create_app

    host = sock.getsockname()[0]
    local = host in LOCAL_HOSTS or host.startswith("127.")
    return create_app(LOCAL_HOSTS | {host} if local else None)


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def run(argv: Sequence[str] | None = None) -> int:
    """Run ``einviz serve`` with these arguments until interrupted; the exit status.

    Bad options and a missing extra print a message (no traceback) and return 2.
    """
    args = parser().parse_args(argv)
    try:
        uvicorn = _uvicorn()
        sock = _bind(args.host, args.port)
    except EinvizError as error:
        print(f"einviz: {error}", file=sys.stderr)
        return 2
    url = _url(sock)
    server = uvicorn.Server(uvicorn.Config(_app(sock), log_level="warning"))
    print(f"einviz playground: {url}   (Ctrl+C stops it)", flush=True)
    if args.open:
        webbrowser.open(url)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    return 0


def main() -> None:
    """``python -m einviz.serve``."""
    raise SystemExit(run())


@contextlib.contextmanager
def background(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve the playground from a thread of this process for a ``with`` block.

    Yields:
        The page's address, e.g. ``http://127.0.0.1:53211/``.
    """
    uvicorn = _uvicorn()
    sock = _bind(host, port)
    server = uvicorn.Server(uvicorn.Config(_app(sock), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise EinvizError("the playground's server did not start")
            time.sleep(0.02)
        yield _url(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
