"""The docs site: `mkdocs build --strict` builds it, and every page works offline in Chromium.

The site is built once into a tmp folder, served on 127.0.0.1 by ``http.server`` in a thread,
and every HTML page of the build (the Markdown pages, the API reference, the generated player
pages and the gallery's own HTML files) is opened in headless Chromium: no console errors, no
request to any host but the local server, every same-site link answers 200 (and its
``#fragment`` names an element of the target page), every image loads.
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
    import einviz
    import einviz.testing

    public = {f"einviz.{name}" for name in einviz.__all__ if name != "__version__"}
    public |= {f"einviz.testing.{name}" for name in einviz.testing.__all__}
    documented = reference_names()
    assert public - documented == set(), "public names missing from docs/reference/*.md"
    assert documented - public == set(), "docs/reference/*.md documents names that are not public"


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
    assert 'class="language-pycon' in compute or "highlight" in compute
    players = sorted(p.stem for p in (site / "gallery" / "players").glob("*.html") if p.stem != "index")
    assert players == sorted(gallery.PATTERNS), "one player page per gallery pattern"
    matmul = (site / "gallery" / "players" / "matmul.html").read_text(encoding="utf-8")
    assert matmul.count('class="einviz-player"') == 1
    assert einviz.__version__  # the package the site documents imports


@pytest.mark.slow
@pytest.mark.browser
def test_every_page_loads_offline_without_errors_or_broken_links(site: Path, server: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert len(pages) > 40, pages
    problems: list[str] = []
    outside: list[str] = []
    links: dict[str, set[str]] = {}  # target URL (no fragment) -> fragments asked for ("" too)
    ids: dict[str, set[str]] = {}

    def leaves(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme not in LOCAL_SCHEMES and parts.hostname not in LOOPBACK

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            # Record, and refuse, every request that would leave this machine.
            context.route(leaves, lambda route: (outside.append(route.request.url), route.abort()))
            page = context.new_page()
            current = {"url": ""}
            page.on("console", lambda m: m.type == "error" and problems.append(
                f"{current['url']}: console error: {m.text}"))
            page.on("pageerror", lambda e: problems.append(f"{current['url']}: page error: {e}"))
            for path in pages:
                url = server + path
                current["url"] = path
                response = page.goto(url, wait_until="load")
                assert response is not None and response.status == 200, path
                found = page.evaluate("""() => ({
                    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
                    ids: [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.name),
                    broken: [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
                                                .map(i => i.currentSrc || i.src),
                })""")
                ids[url] = set(found["ids"])
                problems += [f"{path}: image does not load: {src}" for src in found["broken"]]
                for href in found["links"]:
                    target, fragment = urldefrag(href)
                    if target.startswith(server):
                        links.setdefault(target, set()).add(fragment)
        finally:
            browser.close()
    for target, fragments in sorted(links.items()):
        code = status(target)
        if code != 200:
            problems.append(f"broken link: {target} answers {code}")
        elif target in ids:
            problems += [f"broken anchor: {target}#{f}" for f in sorted(fragments - {""} - ids[target])]
    assert outside == [], f"requests to other hosts: {outside}"
    assert problems == [], "\n".join(problems)


@pytest.mark.slow
@pytest.mark.browser
def test_a_player_page_plays(site: Path, server: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(server + "gallery/players/matmul.html", wait_until="load")
            player = page.locator(".einviz-player")
            assert player.count() == 1
            before = player.get_attribute("data-frame")
            page.locator(".einviz-player .ez-next").click()
            after = player.get_attribute("data-frame")
            assert after is not None and after != before, (before, after)
        finally:
            browser.close()
