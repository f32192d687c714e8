"""The docs site: `mkdocs build --strict` builds it, and every page works offline in Chromium.

The site is built once into a tmp folder, served on 127.0.0.1 by ``http.server`` in a thread,
and every HTML page of the build (the Markdown pages, the API reference, the generated player
pages and the gallery's own HTML files) is opened in headless Chromium: no console errors, no
request to any host but the local server, every same-site link answers 200 (and its
``#fragment`` names an element of the target page), every image loads.

It needs the ``docs`` extra (mkdocs, mkdocs-material, mkdocstrings) and skips without it; the
build alone is ``.ci/site``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Schemes that never leave the page (inline images, the player's own blobs).
LOCAL_SCHEMES = {"data", "blob", "about", "javascript"}


def build(out: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` of this checkout into ``out``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
         "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def reference_names() -> set[str]:
    """The names the reference pages document (``::: einviz.plan`` gives ``plan``)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "reference").glob("*.md"))
    return set(re.findall(r"^::: (einviz(?:\.testing)?\.\w+)\s*$", text, re.MULTILINE))


def test_reference_documents_every_public_name() -> None:
    pytest.importorskip("hypothesis")  # einviz.testing needs it
    import einviz
    import einviz.testing

    public = {f"einviz.{name}" for name in einviz.__all__ if name != "__version__"}
    public |= {f"einviz.testing.{name}" for name in einviz.testing.__all__}
    documented = reference_names()
    assert public - documented == set(), "public names missing from docs/reference/*.md"
    assert documented - public == set(), "docs/reference/*.md documents names that are not public"


def griffe_extension() -> Any:
    """docs/griffe_einviz.py, the extension that makes the docstrings read as Markdown."""
    pytest.importorskip("griffe")
    spec = importlib.util.spec_from_file_location("_griffe_einviz", ROOT / "docs" / "griffe_einviz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docstring_examples_become_code_blocks() -> None:
    fence = griffe_extension().fence_examples
    text = "Sum rows.\n>>> f(1)\n[(1, 2)]\n\nMore.\n\n```python\n>>> kept\n```"
    assert fence(text).splitlines() == [
        "Sum rows.", "", "```pycon", ">>> f(1)", "[(1, 2)]", "```", "", "More.", "",
        "```python", ">>> kept", "```",
    ]
    indented = "Args:\n    x: a value.\n\n        >>> x\n        1"
    assert "        ```pycon\n        >>> x\n        1\n        ```" in fence(indented)


def test_sphinx_roles_become_code_and_links_to_public_names() -> None:
    extension = griffe_extension()
    text = "See :func:`plan`, :class:`~einviz.Animation`, :func:`einviz.plan.default_names`."
    public = {"plan": "einviz.plan.plan", "Animation": "einviz.Animation"}
    assert extension._roles(text, public) == (
        "See [`plan`][einviz.plan.plan], [`Animation`][einviz.Animation], `plan.default_names`.")


def test_a_name_a_submodule_shadows_is_documented_where_its_code_lives() -> None:
    import einviz

    extension = griffe_extension()
    for name in ("einsum", "Animation"):
        assert extension.documented_path(name) == f"einviz.{name}"
    shadowed = [name for name in einviz.__all__ if name != "__version__"
                and importlib.util.find_spec(f"einviz.{name}") is not None]
    for name in shadowed:  # e.g. einviz.plan, the function beside the einviz/plan.py module
        value = getattr(einviz, name)
        assert extension.documented_path(name) == f"{value.__module__}.{value.__qualname__}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    pytest.importorskip("mkdocstrings_handlers.python")
    out = tmp_path_factory.mktemp("site")
    done = build(out)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return out


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            # Chromium drops connections it no longer needs when it moves to the next page.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)  # type: ignore[arg-type]

    httpd = Server(("127.0.0.1", 0), partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.slow
def test_site_builds_with_the_reference_and_the_players(site: Path) -> None:
    import einviz

    spec = importlib.util.spec_from_file_location("_gallery", ROOT / "examples" / "gallery.py")
    assert spec is not None and spec.loader is not None
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    compute = (site / "reference" / "compute.html").read_text(encoding="utf-8")
    # Each heading's first word is the name (labels such as "dataclass" follow it).
    headings = {re.sub(r"<[^>]+>", " ", h).split()[0]
                for h in re.findall(r'<h2 id="[^"]*" class="doc doc-heading">(.*?)<a ', compute, re.S)}
    # einviz.plan is the function (a submodule has its name), einviz.LoopPlan is re-exported.
    assert {"einviz.einsum", "einviz.plan", "einviz.LoopPlan"} <= headings, headings
    assert "def plan(" in compute or ">plan</span><span class=\"p\">(" in compute
    # The docstrings' examples are code blocks, not Markdown quotes.
    assert "<blockquote>" not in compute
    assert '<span class="gp">&gt;&gt;&gt; </span>' in compute  # a prompt, highlighted as pycon
    players = sorted(p.stem for p in (site / "gallery" / "players").glob("*.html") if p.stem != "index")
    assert players == sorted(gallery.PATTERNS), "one player page per gallery pattern"
    matmul = (site / "gallery" / "players" / "matmul.html").read_text(encoding="utf-8")
    assert matmul.count('class="einviz-player"') == 1
    assert einviz.__version__  # the package the site documents imports


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def leaves_this_machine(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme not in LOCAL_SCHEMES and parts.hostname not in LOOPBACK


class Visits:
    """One browser tab that opens pages and keeps what is wrong with them, and what they link."""

    def __init__(self, browser: Any, server: str) -> None:
        self.server = server
        self.problems: list[str] = []
        self.outside: list[str] = []
        self.links: dict[str, set[str]] = {}  # target URL (no fragment) -> fragments asked for
        self.ids: dict[str, set[str]] = {}  # URL of a visited page -> its element ids
        self.path = ""
        context = browser.new_context()
        # Record, and refuse, every request that would leave this machine.
        context.route(leaves_this_machine, self._refuse)
        self.tab = context.new_page()
        self.tab.on("console", self._console)
        self.tab.on("pageerror", lambda error: self.problems.append(f"{self.path}: page error: {error}"))

    def _refuse(self, route: Any) -> None:
        self.outside.append(f"{self.path}: {route.request.url}")
        route.abort()

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"{self.path}: console error: {message.text}")

    def visit(self, path: str) -> None:
        self.path = path
        response = self.tab.goto(self.server + path, wait_until="load")
        assert response is not None and response.status == 200, path
        found = self.tab.evaluate("""() => ({
            links: [...document.querySelectorAll('a[href]')].map(a => a.href),
            ids: [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.name),
            broken: [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
                                        .map(i => i.currentSrc || i.src),
        })""")
        self.ids[self.server + path] = set(found["ids"])
        self.problems += [f"{path}: image does not load: {src}" for src in found["broken"]]
        for href in found["links"]:
            target, fragment = urldefrag(href)
            if target.startswith(self.server):
                self.links.setdefault(target, set()).add(fragment)

    def check_links(self) -> None:
        """Every same-site link answers 200, and its fragment names an element of its page."""
        for target, fragments in sorted(self.links.items()):
            code = status(target)
            if code != 200:
                self.problems.append(f"broken link: {target} answers {code}")
            elif target in self.ids:
                missing = sorted(fragments - {""} - self.ids[target])
                self.problems += [f"broken anchor: {target}#{fragment}" for fragment in missing]


@pytest.mark.slow
@pytest.mark.browser
def test_every_page_loads_offline_without_errors_or_broken_links(site: Path, server: str, browser: Any) -> None:
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    # The Markdown pages, the reference, a player page per pattern, the gallery's HTML files.
    assert len(pages) > 40, pages
    visits = Visits(browser, server)
    for path in pages:
        visits.visit(path)
    visits.check_links()
    assert visits.outside == [], "requests to other hosts:\n" + "\n".join(visits.outside)
    assert visits.problems == [], "\n".join(visits.problems)


@pytest.mark.slow
@pytest.mark.browser
def test_a_player_page_plays(server: str, browser: Any) -> None:
    page = browser.new_page()
    try:
        page.goto(server + "gallery/players/matmul.html", wait_until="load")
        player = page.locator(".einviz-player")
        assert player.count() == 1
        before = player.get_attribute("data-frame")
        page.locator(".einviz-player .ez-next").click()
        after = player.get_attribute("data-frame")
        assert after is not None and after != before, (before, after)
    finally:
        page.close()
