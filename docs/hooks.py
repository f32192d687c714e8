"""mkdocs hooks: a live player page for every pattern of examples/gallery.py, made at build time.

The pages exist only in the build (``File.generated``), never in docs/, so nothing generated
is committed and tests/test_docs.py, which runs every docs/*.md, never sees them. Each page's
Markdown holds a marker where the player goes; the player's HTML (its own style and script)
replaces the marker after the Markdown is converted, so Markdown never reads the script.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
FOLDER = "gallery/players"
MARKER = "<p>EINVIZ-PLAYER</p>"
#: A reference block naming a public name: ``::: einviz.plan``.
AUTODOC = re.compile(r"^::: einviz\.(\w+)[ \t]*$", re.MULTILINE)

#: src_uri of a generated page -> the player HTML that replaces its marker.
_players: dict[str, str] = {}


@functools.cache
def _load(name: str, path: Path) -> ModuleType:
    """A script that is not part of a package (examples/gallery.py, docs/griffe_einviz.py)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shapes(shapes: list[tuple[int, ...]]) -> str:
    return ", ".join(repr(tuple(shape)) for shape in shapes)


def _page(name: str, subscripts: str, shapes: list[tuple[int, ...]], note: str) -> str:
    call = f'einviz.animate("{subscripts}", shapes=[{_shapes(shapes)}]).player_html()'
    if len(call) > 72:  # keep the block narrower than the page: no sideways scrolling
        call = f'einviz.animate(\n    "{subscripts}",\n    shapes=[{_shapes(shapes)}],\n).player_html()'
    return "\n".join([
        f"# {name}: `{subscripts}`",
        "",
        f"{note[:1].upper()}{note[1:]}. Play it, step through it with the buttons or the arrow keys,",
        "or drag the slider. This page's player is made by:",
        "",
        f"```python\n{call}\n```",
        "",
        MARKER,
        "",
        f"The gallery draws this pattern as an animated SVG too (on other values): "
        f"[{name}.svg](../{name}.svg). [All the players](index.md).",
        "",
    ])


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Point ``::: einviz.<name>`` at the object, where a submodule of that name hides it."""
    reference = _load("_einviz_griffe", ROOT / "docs" / "griffe_einviz.py")

    def replace(match: re.Match[str]) -> str:
        path = reference.documented_path(match.group(1))
        if path == f"einviz.{match.group(1)}":
            return match.group(0)
        heading = f"einviz.{match.group(1)}"
        return f'::: {path}\n    options:\n      heading: "{heading}"\n      toc_label: "{heading}"'

    return AUTODOC.sub(replace, markdown)


def on_files(files: Files, config: Any) -> Files:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import einviz

    _players.clear()
    rows = []
    patterns = _load("_einviz_gallery", ROOT / "examples" / "gallery.py").PATTERNS
    for name, (subscripts, shapes, note) in patterns.items():
        uri = f"{FOLDER}/{name}.md"
        anim = einviz.animate(subscripts, shapes=shapes)
        _players[uri] = anim.player_html()
        files.append(File.generated(config, uri, content=_page(name, subscripts, shapes, note)))
        rows.append(f"| [{name}]({name}.md) | `{subscripts}` | {note} | {anim.n_frames} |")
    index = [
        "# Live players",
        "",
        "Every pattern of the [gallery](../index.md) as the interactive HTML player that",
        "`Animation.player_html()` embeds in a page (and a notebook shows): play, pause, step",
        "and scrub through each frame. The pages are drawn when the site is built, from",
        "`PATTERNS` in `examples/gallery.py`.",
        "",
        "| pattern | subscripts | what it shows | frames |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
    ]
    files.append(File.generated(config, f"{FOLDER}/index.md", content="\n".join(index)))
    return files


def on_page_content(html_text: str, page: Any, config: Any, files: Files) -> str:
    player = _players.get(page.file.src_uri)
    if player is None:
        return html_text
    if MARKER not in html_text:
        raise RuntimeError(f"{page.file.src_uri}: the player marker is missing")
    # The player's captions and numbers would swamp the search index: the page's prose is enough.
    return html_text.replace(MARKER, f"<div data-search-exclude>{player}</div>", 1)
