"""The interactive HTML player: the scene's frames, stepped through and poked at in a browser.

The player draws nothing of its own. Its picture is the animated SVG of
:mod:`einviz.render.svg`, where every frame group is already drawn; a small script stops the
animation (the class ``einviz-live``), shows one frame at a time by toggling the class
``einviz-on``, and lights cells on hover with the same marks the frames use. Where no script
runs, the picture simply plays. In a notebook the picture is an ``<img>`` of that SVG, which
survives the sanitizer of an untrusted notebook; the script makes it inline to play it. The
numbers it writes out (each output cell's whole sum) come from the
:class:`~einviz.tracing.Trace`, formatted as the captions are.

:func:`player` makes a fragment (its own ids, style, data and script, so several players on
one page never touch each other); :func:`page` wraps one in a self-contained HTML document
that works offline: no CDN, no fonts or scripts fetched from anywhere.

The script and the style are package data, ``player.js`` and ``player.css`` beside this
module, read when a player is made. The explanation and the contraction path shown under the
player are made by the caller (:class:`~einviz.animation.Animation` does it) and passed in:
this module explains nothing and plans no path itself.

>>> import numpy as np
>>> from einviz.render.scene import build_scene
>>> from einviz.tracing import trace
>>> traced = trace("ij->i", np.array([[1, 2], [3, 4]]))
>>> html = page(build_scene(traced), traced, "demo")
>>> html.startswith("<!DOCTYPE html>") and "http" not in html.replace("http://www.w3.org", "")
True
"""

from __future__ import annotations

import base64
import html as _html
import json
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from ..errors import EinvizError
from .frames import Sums
from .grid import CODE_SIZE
from .scene import CAPTION_LINE, CAPTION_SIZE
from .svg import render
from .text import MONO_EM, mono_width

if TYPE_CHECKING:
    from ..explaining import Explanation
    from ..paths import ContractionPath
    from ..tracing import Trace
    from .panel import Panel
    from .scene import Scene

__all__ = ["page", "player"]

#: Speeds offered by the player.
SPEEDS = (0.25, 0.5, 1, 2, 4)
#: The figure always fits its box, however narrow, so nothing is cut; the zoom button shows it
#: at no less than this scale (its smallest text, 12 px, then reads about 10 px), scrolling
#: sideways inside its box.
MIN_SCALE = 0.8
#: Room the page keeps under the figure for the controls (and over it, for a title), so the
#: controls show without scrolling on a laptop screen however tall the figure is.
BELOW_FIGURE = 150


@cache
def _resource(name: str) -> str:
    """A file shipped beside this module (``player.js``, ``player.css``)."""
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


def player(
    scene: Scene,
    trace: Trace,
    prefix: str,
    *,
    explanation: Explanation | None = None,
    path: ContractionPath | None = None,
    details: bool = True,
    embed: str = "inline",
    panel: Panel | None = None,
) -> str:
    """The player as an HTML fragment: figure, explanation, data and script.

    The figure is the animated SVG; the controls are made by the script. Where no script
    runs, the fragment is the animation playing by itself, with the explanation under it.

    Args:
        scene: the laid-out scene to play.
        trace: the trace it was built from (each output cell's sum is written from it).
        prefix: the fragment's id (its SVG takes ``prefix + "-svg"``); distinct for every
            fragment on a page.
        explanation: shown under the player, with its numpy equivalent (none: not shown).
        path: the contraction path of three operands or more, shown under the player.
        details: show the explanation and the path (``False``: the player alone).
        embed: ``"inline"`` (the SVG in the page) or ``"image"``: an ``<img>`` of it, which
            sanitizers that strip ``<svg>``, ``<style>`` and scripts (an untrusted notebook)
            keep, and which still animates; the script decodes it and plays it inline. The
            script then comes as one ``data:`` file holding the style and the data too.
        panel: a diagram drawn beside the figure (under it on a narrow screen), lit in
            step with it: in each frame the panel's ``g.einviz-step`` groups of the frame's
            last step have the class ``einviz-on`` (none in the opening and final frames).

    Returns:
        The fragment's HTML.

    >>> import numpy as np
    >>> from einviz.render.scene import build_scene
    >>> from einviz.tracing import trace
    >>> traced = trace("i->", np.arange(3))
    >>> html = player(build_scene(traced), traced, "demo", embed="image")
    >>> html.startswith('<div class="einviz-player" id="demo"') and html.count("<script") == 1
    True
    >>> "<svg" in html, '<img src="data:image/svg+xml;base64,' in html
    (False, True)
    """
    if embed not in ("inline", "image"):
        raise EinvizError(f"embed must be 'inline' or 'image', not {embed!r}")
    equation = str(scene.plan.equation)
    about = explanation.title if explanation is not None else f"{scene.n_frames} frames"
    shown = _figures(scene, prefix, f"einsum {equation}", about, embed, panel)
    data = _data(scene, trace)
    data["controls"] = _controls(scene.n_frames)
    data["label"] = f"einsum {equation}: an interactive animation"
    style = _style(scene, prefix, panel)
    extra = _details(explanation, path, scene.plan.n_operands) if details else ""
    if embed == "image":
        # The style, the data and the script as one script file: a sanitizer that escapes
        # what it does not allow (nbconvert's) then shows one line of it, not pages of code.
        data["style"] = style
        code = (f"{_resource('player.js').rstrip()}(document.currentScript.parentNode, "
                f"{json.dumps(data, ensure_ascii=False, separators=(',', ':'))});\n")
        encoded = base64.b64encode(code.encode("utf-8")).decode("ascii")
        return (f'<div class="einviz-player" id="{prefix}">{shown}{extra}'
                f'<script src="data:text/javascript;charset=utf-8;base64,{encoded}"></script></div>')
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("</", "<\\/")  # a "</script>" in a name must not end the block
    return (
        f'<div class="einviz-player" id="{prefix}"><style>{style}</style>{shown}'
        f"{extra}"
        f'<script type="application/json" class="ez-data">{text}</script>'
        f"<script>\n{_resource('player.js').rstrip()}(document.getElementById({json.dumps(prefix)}));\n</script>"
        "</div>"
    )


def _figures(scene: Scene, prefix: str, name: str, about: str, embed: str,
             panel: Panel | None) -> str:
    """The animated SVG (inline, or as an image: ``name`` and ``about`` make its text), and
    the panel beside it where there is one."""
    svg = render(scene, "animated", prefix=f"{prefix}-svg")
    if embed == "image":
        svg = _image(svg, scene.width, scene.height, f"{name}: {about}")
    shown = f'<div class="ez-fig">{svg}</div>'
    if panel is None:
        return shown
    # The display's own ids: two displays of one animation on a page must not share them.
    own = panel.svg.replace(panel.id, f"{prefix}-panel") if panel.id else panel.svg
    drawn = own if embed == "inline" else _image(
        own, panel.width, panel.height, f"{name}: the {panel.kind} diagram")
    return f'<div class="ez-figs">{shown}<div class="ez-panel">{drawn}</div></div>'


def _style(scene: Scene, prefix: str, panel: Panel | None) -> str:
    """The player's style, for its id and the figure's size."""
    style = (f"{_resource('player.css').replace('#P', '#' + prefix)}"
             f"#{prefix} .ez-fig.ez-zoomed svg{{min-width:{round(scene.width * MIN_SCALE)}px}}"
             f"#{prefix} .ez-fig:not(.ez-zoomed) svg"
             f"{{max-height:max(320px,calc(100vh - {BELOW_FIGURE}px))}}")
    if panel is not None:
        # The figure keeps its own size (its words at reading size); the panel takes the rest
        # of the row while that leaves it readable, and goes under the figure otherwise.
        tall = f"max-height:max(320px,calc(100vh - {BELOW_FIGURE}px))"
        style += (f"#{prefix} .ez-figs .ez-fig{{flex:0 1 auto;min-width:min(100%,{round(scene.width)}px)}}"
                  f"#{prefix} .ez-panel{{flex:1 1 0;min-width:min(100%,{round(panel.width * 0.45)}px)}}"
                  f"#{prefix} .ez-panel svg,#{prefix} .ez-panel img{{{tall};width:auto}}")
    return style


def _image(svg: str, width: float, height: float, alt: str) -> str:
    """An SVG as an ``<img>`` (base64, so any text in it survives), at its size and never
    wider than its box."""
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (f'<img src="data:image/svg+xml;base64,{encoded}" width="{round(width)}" '
            f'height="{round(height)}" alt="{_html.escape(alt)}" '
            'style="max-width:100%;height:auto">')


def _controls(n_frames: int) -> str:
    """The controls, the caption box and the keys' hint: made by the script (in its data),
    so a page that runs no script shows no dead buttons."""
    speeds = "".join(f'<option value="{s}"{" selected" if s == 1 else ""}>{s}×</option>'
                     for s in SPEEDS)
    return (
        '<div class="ez-bar">'
        '<button type="button" class="ez-first" aria-label="First frame" title="First frame (Home)">|◀</button>'
        '<button type="button" class="ez-back" aria-label="Previous frame" title="Previous frame (←)">◀</button>'
        '<button type="button" class="ez-play" aria-label="Play" title="Play or pause (space)">▶ Play</button>'
        '<button type="button" class="ez-next" aria-label="Next frame" title="Next frame (→)">▶</button>'
        '<button type="button" class="ez-last" aria-label="Last frame" title="Last frame (End)">▶|</button>'
        f'<input type="range" class="ez-scrub" min="0" max="{n_frames - 1}" value="0" step="1" '
        'aria-label="Frame">'
        f'<label>speed <select class="ez-speed" aria-label="Speed">{speeds}</select></label>'
        '<span class="ez-count" aria-live="off"></span>'
        '<button type="button" class="ez-zoom" aria-pressed="false" aria-label="Zoom the figure" '
        'title="Zoom: the figure at reading size (it then scrolls)">⤢</button>'
        "</div>"
        '<div class="ez-info" aria-live="polite"></div>'
        '<p class="ez-hint">Keys: space plays or pauses, ← → step, Home and End jump. '
        "Point at an output cell to see its whole sum, at an input cell to see what it feeds.</p>"
    )


def page(
    scene: Scene,
    trace: Trace,
    prefix: str,
    *,
    explanation: Explanation | None = None,
    path: ContractionPath | None = None,
    panel: Panel | None = None,
) -> str:
    """A self-contained HTML document with one player (no network needed to view it).

    Args:
        scene: the laid-out scene to play.
        trace: the trace it was built from.
        prefix: the player's id.
        explanation: shown under the player (none: not shown).
        path: the contraction path, for three operands or more.
        panel: a diagram beside the figure (see :func:`player`).

    Returns:
        The HTML document.
    """
    equation = _html.escape(str(scene.plan.equation))
    # Wide enough for the figure and its panel side by side (the player's border and gap).
    wide = 980 if panel is None else max(980, round(scene.width + panel.width + 60))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>einsum {equation} · einviz</title>"
        f"<style>body{{margin:16px auto;max-width:{wide}px;padding:0 12px;"
        "font-family:'DejaVu Sans',system-ui,sans-serif;color:#222}"
        "h1{font-size:20px;font-weight:normal}h1 code{font-size:19px;overflow-wrap:anywhere}"
        "</style></head><body>"
        f'<h1>einsum <code>"{equation}"</code></h1>'
        f"{player(scene, trace, prefix, explanation=explanation, path=path, panel=panel)}"
        f"<script>document.getElementById({json.dumps(prefix)}).focus({{preventScroll: true}})</script>"
        "</body></html>\n"
    )


# -- data ---------------------------------------------------------------------------------------
def _data(scene: Scene, traced: Trace) -> dict[str, Any]:
    """What the script needs: frame timings (an intro frame's reading ``hold`` too) and captions, the terms, and the written sums."""
    p = traced.plan
    frames = [
        {"kind": row["kind"], "duration": row["duration"], "hold": row["hold"],
         "steps": row["steps"], "code_line": row["code_line"], "caption": row["caption"]}
        for row in scene.frame_table()
    ]
    operands = [
        {"name": name, "term": list(term),
         "broadcast": [p.is_broadcast(k, axis) for axis in range(len(term))]}
        for k, (name, term) in enumerate(zip(p.names, p.terms))
    ]
    code = scene.code
    # Where the hover writes its own caption and loop values, as the frames place theirs.
    chars = int((scene.width - 2 * scene.caption_x) / (MONO_EM * CAPTION_SIZE))
    places = {"caption": [scene.caption_x, scene.caption_y, CAPTION_LINE, chars],
              "value_x": round(code.value_x + mono_width("i = ", CODE_SIZE)),
              "lines": {label: code.line_y(line) for label, line in code.label_lines.items()}}
    # An output cell's whole sum, written as its cell frame's caption writes it.
    sums = Sums(traced, chars)
    written = {",".join(map(str, index)): "\n".join("".join(span.text for span in line)
                                                     for line in sums.cell_sum(index))
               for index in scene.finals}
    return {"frames": frames, "operands": operands, "output": list(p.output),
            "sizes": dict(p.sizes), "places": places,
            "out_shape": list(p.out_shape), "n_steps": len(traced), "sums": written}


def _details(explanation: Explanation | None, path: ContractionPath | None, n_operands: int) -> str:
    """The explanation, the numpy equivalent and (three operands or more) the contraction path."""
    parts = []
    if explanation is not None:
        sentences = "".join(f"<li>{_html.escape(s.text)}</li>" for s in explanation.sentences)
        parts.append(f"<details><summary>In words: {_html.escape(explanation.title)}</summary>"
                     f"<ul>{sentences}</ul>")
        if explanation.equivalent is not None:
            parts.append("<div>Without einsum:</div>"
                         f'<pre class="ez-code">{_html.escape(explanation.equivalent)}</pre>')
        parts.append("</details>")
    if path is not None:
        parts.append(f"<details><summary>Contraction path: the order a library contracts "
                     f"these {n_operands} operands</summary>"
                     f'<div class="ez-wide">{path.to_html()}</div></details>')
    return "".join(parts)
