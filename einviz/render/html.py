"""The interactive HTML player: the scene's frames, stepped through and poked at in a browser.

The player draws nothing of its own. Its picture is the SVG of :mod:`einviz.render.svg` in
``"player"`` mode, where every frame group is already drawn and hidden; a small script shows
one frame at a time by toggling the class ``einviz-on``, and lights cells on hover with the
same marks the frames use. The numbers it writes out (each output cell's whole sum) come
from the :class:`~einviz.trace.Trace`, formatted as the captions are.

:func:`player` makes a fragment (its own ids, style, data and script, so several players on
one page never touch each other); :func:`page` wraps one in a self-contained HTML document
that works offline: no CDN, no fonts or scripts fetched from anywhere.

>>> import numpy as np
>>> from einviz.animation import animate
>>> html = page(animate("ij->i", np.array([[1, 2], [3, 4]])))
>>> html.startswith("<!DOCTYPE html>") and "http" not in html.replace("http://www.w3.org", "")
True
"""

from __future__ import annotations

import html as _html
import json
from typing import TYPE_CHECKING, Any

from .svg import render
from .text import format_factor, format_value
from .text import ref as _ref

if TYPE_CHECKING:
    from ..animation import Animation

__all__ = ["page", "player"]

#: An output cell's sum is written out term by term up to this many terms.
MAX_TERMS = 12
#: Speeds offered by the player.
SPEEDS = (0.25, 0.5, 1, 2, 4)
#: The figure shrinks to fit a narrow screen down to this scale (its smallest text, 12 px,
#: then reads about 10 px); narrower still, it scrolls sideways inside its box instead.
MIN_SCALE = 0.8

_STYLE = """
#P{font-family:'DejaVu Sans',system-ui,sans-serif;color:#222;max-width:100%;outline:none;
 border:1px solid #E1E4E8;border-radius:8px;padding:10px 12px;margin:8px 0;background:#fff}
#P:focus-visible{box-shadow:0 0 0 3px #56B4E955}
#P .ez-fig{overflow-x:auto}
#P .ez-fig svg{max-width:100%;height:auto;display:block}
#P .ez-fig text,#P .einviz-frames,#P .einviz-hover{pointer-events:none}
#P[data-hover] .einviz-frame use,#P[data-hover] .einviz-frame rect{visibility:hidden}
#P .ez-fig use[data-operand]{cursor:pointer}
#P .ez-fig use[data-operand]:focus{outline:none}
#P .ez-bar{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin-top:6px}
#P .ez-bar button{font:inherit;font-size:14px;min-width:34px;height:30px;border:1px solid #C9CDD3;
 border-radius:5px;background:#F6F7F9;color:#222;cursor:pointer}
#P .ez-bar button:hover{background:#EAEDF1}
#P .ez-bar button:focus-visible,#P .ez-bar select:focus-visible,#P .ez-bar input:focus-visible{
 outline:2px solid #0072B2;outline-offset:1px}
#P .ez-bar .ez-play{min-width:76px;font-weight:bold}
#P .ez-bar input[type=range]{flex:1 1 160px;min-width:120px}
#P .ez-bar label{font-size:13px;color:#6B7078}
#P .ez-count{font:13px 'DejaVu Sans Mono',monospace;color:#6B7078;min-width:11em;text-align:right}
#P .ez-info{font:13px/1.45 'DejaVu Sans Mono',monospace;white-space:pre-wrap;min-height:4.4em;
 overflow-wrap:anywhere;margin:8px 0 0;padding:6px 8px;background:#F6F7F9;border-radius:5px;
 color:#222}
#P .ez-hint{font-size:12px;color:#6B7078;margin:4px 0 0}
#P details{margin-top:8px;font-size:14px}
#P summary{cursor:pointer;color:#0072B2}
#P pre.ez-code{background:#F6F7F9;padding:6px 8px;border-radius:5px;font-size:13px;overflow-x:auto}
#P .ez-wide{overflow-x:auto}
#P li{overflow-wrap:anywhere}
@media (max-width:480px){#P{padding:8px}#P .ez-count{min-width:0;text-align:left}}
"""

# One function per player, called with its root: nothing is shared between players but
# this text. Frames show by toggling einviz-on; hover marks reuse the frames' <use> shapes.
_SCRIPT = r"""
(function (root) {
  var data = JSON.parse(root.querySelector('script.ez-data').textContent);
  var svg = root.querySelector('.ez-fig svg'), svgns = 'http://www.w3.org/2000/svg';
  var frames = svg.querySelectorAll('.einviz-frame'), finals = svg.querySelectorAll('.einviz-finals text');
  var codeline = svg.querySelector('.einviz-codeline');
  var scrub = root.querySelector('.ez-scrub'), count = root.querySelector('.ez-count');
  var playButton = root.querySelector('.ez-play'), speed = root.querySelector('.ez-speed');
  var info = root.querySelector('.ez-info'), n = data.frames.length, current = 0, timer = null;
  var hover = document.createElementNS(svgns, 'g');
  hover.setAttribute('class', 'v einviz-hover');
  svg.insertBefore(hover, svg.querySelector('.einviz-finals'));  // under the values: they stay legible
  svg.classList.add('einviz-live');

  function status() {
    var f = data.frames[current], text = 'frame ' + (current + 1) + ' / ' + n;
    if (f.steps) text += (f.steps[0] === f.steps[1] ? ' · step ' + (f.steps[0] + 1)
                          : ' · steps ' + (f.steps[0] + 1) + '–' + (f.steps[1] + 1)) + ' of ' + data.n_steps;
    count.textContent = text;
  }
  function show(k) {
    current = Math.max(0, Math.min(n - 1, k));
    for (var i = 0; i < frames.length; i++) frames[i].classList.toggle('einviz-on', i === current);
    for (var j = 0; j < finals.length; j++)
      finals[j].classList.toggle('einviz-on', +finals[j].getAttribute('data-from') <= current);
    if (codeline) codeline.classList.toggle('einviz-on', data.frames[current].code_line !== null);
    scrub.value = current;
    root.setAttribute('data-frame', current);
    status();
    if (!hover.firstChild) info.textContent = data.frames[current].caption.join('\n');
  }
  function stop() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    playButton.textContent = '▶ Play';
    playButton.setAttribute('aria-label', 'Play');
    root.setAttribute('data-playing', 'false');
  }
  function tick() {
    timer = setTimeout(function () {
      if (current >= n - 1) { stop(); return; }
      show(current + 1);
      tick();
    }, 1000 * data.frames[current].duration / +speed.value);
  }
  function play() {
    if (current >= n - 1) show(0);
    playButton.textContent = '❚❚ Pause';
    playButton.setAttribute('aria-label', 'Pause');
    root.setAttribute('data-playing', 'true');
    tick();
  }
  function toggle() { if (timer === null) play(); else stop(); }
  function go(k) { stop(); show(k); }

  // Which output cells an input cell feeds: its labels agree with the output cell's on every
  // free label (a broadcast axis says nothing; a repeated label must agree with itself).
  var operands = {};
  data.operands.forEach(function (o) { operands[o.name] = o; });
  function labelsOf(use) {
    var name = use.getAttribute('data-operand'), text = use.getAttribute('data-index');
    var index = text ? text.split(',').map(Number) : [], values = {};
    var term = name === 'out' ? data.output : operands[name].term;
    for (var a = 0; a < term.length; a++) {
      if (name !== 'out' && operands[name].broadcast[a]) continue;
      if (term[a] in values && values[term[a]] !== index[a]) return null;
      values[term[a]] = index[a];
    }
    return values;
  }
  function feeds(input, output) {
    if (input === null || !data.n_steps) return false;
    for (var label in input) if (label in output && output[label] !== input[label]) return false;
    return true;
  }
  // How many output cells an input cell feeds, drawn or hidden in a cut axis: each output
  // label the cell does not fix takes every value.
  function fedCount(input) {
    if (input === null || !data.n_steps) return 0;
    var total = 1;
    for (var a = 0; a < data.output.length; a++)
      if (!(data.output[a] in input)) total *= data.out_shape[a];
    return total;
  }
  function ref(name, index) { return index ? name + '[' + index + ']' : name; }
  var cells = svg.querySelectorAll('.einviz-cells use[data-operand]');
  var outs = [], ins = [];
  for (var c = 0; c < cells.length; c++) {
    var cell = cells[c], values = labelsOf(cell);
    if (cell.getAttribute('data-operand') === 'out') {
      cell.setAttribute('tabindex', '0');
      cell.setAttribute('role', 'button');
      cell.setAttribute('aria-label',
                        ref('out', cell.getAttribute('data-index')) + ': show its sum');
      outs.push([cell, values]);
    } else ins.push([cell, values]);
  }
  function mark(cell, shape) {
    var m = document.createElementNS(svgns, 'use');
    m.setAttribute('href', '#' + svg.id + shape);
    m.setAttribute('x', cell.getAttribute('x'));
    m.setAttribute('y', cell.getAttribute('y'));
    m.setAttribute('data-operand', cell.getAttribute('data-operand'));
    m.setAttribute('data-index', cell.getAttribute('data-index'));
    hover.appendChild(m);
  }
  function clear() {
    while (hover.firstChild) hover.removeChild(hover.firstChild);
    root.removeAttribute('data-hover');
    info.textContent = data.frames[current].caption.join('\n');
  }
  function point(cell) {
    clear();
    var name = cell.getAttribute('data-operand'), index = cell.getAttribute('data-index');
    var values = labelsOf(cell), lit = [];
    if (name === 'out') {
      mark(cell, 'o');
      ins.forEach(function (p) { if (feeds(p[1], values)) { mark(p[0], 'm'); } });
      info.textContent = data.sums[index] || '';
    } else {
      mark(cell, 'm');
      outs.forEach(function (p) {
        if (!feeds(values, p[1])) return;
        mark(p[0], 'o');
        lit.push(ref('out', p[0].getAttribute('data-index')));
      });
      var total = fedCount(values), hidden = total - lit.length;
      var text = ref(name, index) + ' feeds ';
      if (!total) text += 'no output cell' + (values === null ? ' (its labels disagree)'
                                              : ' (a label has size 0: no multiply-adds)');
      else {
        text += total === 1 ? 'one output cell: ' : total + ' output cells: ';
        if (!lit.length) text += (total === 1 ? 'it is' : 'all') + ' hidden in …';
        else text += lit.join(', ') + (hidden ? ' and ' + hidden + ' hidden in …' : '');
      }
      info.textContent = text;
    }
    root.setAttribute('data-hover', name + ':' + index);
  }
  function cellOf(event) {
    var t = event.target;
    return t && t.closest ? t.closest('.einviz-cells use[data-operand]') : null;
  }
  svg.addEventListener('mouseover', function (e) { var c = cellOf(e); if (c) point(c); });
  // Off a cell onto blank space (a gap, the caption, the code) clears; onto another cell,
  // its mouseover takes over.
  svg.addEventListener('mouseout', function (e) {
    var to = e.relatedTarget;
    if (cellOf(e) && !(to && to.closest && to.closest('.einviz-cells use[data-operand]'))) clear();
  });
  svg.addEventListener('focusin', function (e) { var c = cellOf(e); if (c) point(c); });
  svg.addEventListener('focusout', clear);

  root.querySelector('.ez-first').addEventListener('click', function () { go(0); });
  root.querySelector('.ez-back').addEventListener('click', function () { go(current - 1); });
  root.querySelector('.ez-next').addEventListener('click', function () { go(current + 1); });
  root.querySelector('.ez-last').addEventListener('click', function () { go(n - 1); });
  playButton.addEventListener('click', toggle);
  scrub.addEventListener('input', function () { go(+scrub.value); });
  root.addEventListener('keydown', function (e) {
    var tag = e.target.tagName;
    if (tag === 'INPUT' || tag === 'SELECT' || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === ' ' && tag === 'BUTTON') return;  // the button's own click
    var k = {'ArrowRight': current + 1, 'ArrowLeft': current - 1, 'Home': 0, 'End': n - 1}[e.key];
    if (e.key === ' ') toggle();
    else if (k !== undefined) go(k);
    else return;
    e.preventDefault();
  });
  show(0);
})(document.getElementById(%s));
"""


def player(animation: Animation, prefix: str, details: bool = True) -> str:
    """The player as an HTML fragment: figure, controls, explanation, data and script.

    Args:
        animation: the animation to play.
        prefix: the fragment's id (its SVG takes ``prefix + "-svg"``); distinct for every
            fragment on a page.
        details: add the explanation, the numpy equivalent and (three operands or more) the
            contraction path under the player.

    Returns:
        The fragment's HTML.

    >>> import numpy as np
    >>> from einviz.animation import animate
    >>> html = player(animate("i->", np.arange(3)), "demo")
    >>> html.startswith('<div class="einviz-player" id="demo"') and html.count("<script") == 2
    True
    """
    scene = animation.scene
    svg = render(scene, "player", prefix=f"{prefix}-svg")
    data = json.dumps(_data(animation), ensure_ascii=False, separators=(",", ":"))
    data = data.replace("</", "<\\/")  # a "</script>" in a name must not end the block
    last = scene.n_frames - 1
    speeds = "".join(f'<option value="{s}"{" selected" if s == 1 else ""}>{s}×</option>'
                     for s in SPEEDS)
    equation = _html.escape(str(animation.trace.plan.equation))
    min_width = round(scene.width * MIN_SCALE)
    return (
        f'<div class="einviz-player" id="{prefix}" tabindex="0" role="group" '
        f'aria-label="einsum {equation}: an interactive animation">'
        f"<style>{_STYLE.replace('#P', '#' + prefix)}"
        f"#{prefix} .ez-fig svg{{min-width:{min_width}px}}</style>"
        f'<div class="ez-fig">{svg}</div>'
        '<div class="ez-bar">'
        '<button type="button" class="ez-first" aria-label="First frame" title="First frame (Home)">|◀</button>'
        '<button type="button" class="ez-back" aria-label="Previous frame" title="Previous frame (←)">◀</button>'
        '<button type="button" class="ez-play" aria-label="Play" title="Play or pause (space)">▶ Play</button>'
        '<button type="button" class="ez-next" aria-label="Next frame" title="Next frame (→)">▶</button>'
        '<button type="button" class="ez-last" aria-label="Last frame" title="Last frame (End)">▶|</button>'
        f'<input type="range" class="ez-scrub" min="0" max="{last}" value="0" step="1" '
        'aria-label="Frame">'
        f'<label>speed <select class="ez-speed" aria-label="Speed">{speeds}</select></label>'
        '<span class="ez-count" aria-live="off"></span>'
        "</div>"
        '<div class="ez-info" aria-live="polite"></div>'
        '<p class="ez-hint">Keys: space plays or pauses, ← → step, Home and End jump. '
        "Point at an output cell to see its whole sum, at an input cell to see what it feeds.</p>"
        f"{_details(animation) if details else ''}"
        f'<script type="application/json" class="ez-data">{data}</script>'
        f"<script>{_SCRIPT % json.dumps(prefix)}</script>"
        "</div>"
    )


def page(animation: Animation) -> str:
    """A self-contained HTML document with one player (no network needed to view it).

    Args:
        animation: the animation to play.

    Returns:
        The HTML document.
    """
    equation = _html.escape(str(animation.trace.plan.equation))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>einsum {equation} · einviz</title>"
        "<style>body{margin:16px auto;max-width:980px;padding:0 12px;"
        "font-family:'DejaVu Sans',system-ui,sans-serif;color:#222}"
        "h1{font-size:20px;font-weight:normal}h1 code{font-size:19px;overflow-wrap:anywhere}"
        "</style></head><body>"
        f'<h1>einsum <code>"{equation}"</code></h1>'
        f"{player(animation, animation.id)}"
        f"<script>document.getElementById({json.dumps(animation.id)}).focus()</script>"
        "</body></html>\n"
    )


# -- data ---------------------------------------------------------------------------------------
def _data(animation: Animation) -> dict[str, Any]:
    """What the script needs: frame timings and captions, the terms, and the written sums."""
    scene, traced = animation.scene, animation.trace
    p = traced.plan
    frames = [
        {"duration": f.duration, "steps": [f.steps[0], f.steps[-1]] if len(f.steps) else None,
         "code_line": f.code_line, "caption": f.caption_text()}
        for f in scene.frames
    ]
    operands = [
        {"name": name, "term": list(term),
         "broadcast": [p.is_broadcast(k, axis) for axis in range(len(term))]}
        for k, (name, term) in enumerate(zip(p.names, p.terms))
    ]
    return {"frames": frames, "operands": operands, "output": list(p.output),
            "out_shape": list(p.out_shape), "n_steps": len(traced),
            "sums": {",".join(map(str, index)): _sum_text(animation, index) for index in scene.finals}}


def _sum_text(animation: Animation, out_index: tuple[int, ...]) -> str:
    """An output cell's whole sum, written out: the terms, their numbers and the value.

    >>> import numpy as np
    >>> from einviz.animation import animate
    >>> print(_sum_text(animate("ij->i", np.array([[1, -2], [3, 4]])), (0,)))
    out[0] = A[0,0] + A[0,1]
           = 1 + (−2)
           = −1
    """
    traced = animation.trace
    p = traced.plan
    steps = traced.cell_steps(out_index)
    head = _ref("out", out_index)
    value = format_value(traced.result[out_index] if out_index else traced.result[()])
    if not len(steps):
        return f"{head} = {value}  (an empty sum: a summed label has size 0)"
    shown = list(traced.steps(steps.start, min(steps.stop, steps.start + MAX_TERMS)))
    more = len(steps) - len(shown)
    tail = f" + … ({more} more terms)" if more else ""
    refs = " + ".join("·".join(_ref(name, index) for name, index in zip(p.names, step.indices))
                      for step in shown)
    numbers = " + ".join("×".join(format_factor(f) for f in step.factors) for step in shown)
    pad = " " * len(head)
    lines = [f"{head} = {refs}{tail}"]
    if len(p.names) > 1 or any(format_factor(f) != _ref(p.names[0], s.indices[0])
                               for s in shown for f in s.factors):
        lines.append(f"{pad} = {numbers}{tail}")
    lines.append(f"{pad} = {value}")
    return "\n".join(lines)


def _details(animation: Animation) -> str:
    """The explanation, the numpy equivalent and (three operands or more) the contraction path."""
    from ..explain import explain

    p = animation.trace.plan
    parts = []
    try:
        e = explain(p)
    except Exception:  # an explanation is extra: the player stands without it
        e = None
    if e is not None:
        sentences = "".join(f"<li>{_html.escape(s)}</li>" for s in e.sentences)
        parts.append(f"<details><summary>In words: {_html.escape(e.title)}</summary>"
                     f"<ul>{sentences}</ul>")
        if e.equivalent is not None:
            parts.append("<p>Without einsum:</p>"
                         f'<pre class="ez-code">{_html.escape(e.equivalent)}</pre>')
        parts.append("</details>")
    if len(p.terms) >= 3:
        from ..paths import contraction_path

        try:
            path_html = contraction_path(str(p.equation), shapes=p.shapes, names=p.names).to_html()
        except Exception:  # a path is extra too (opt_einsum may refuse a shape)
            path_html = None
        if path_html:
            parts.append(f"<details><summary>Contraction path: the order a library contracts "
                         f"these {len(p.terms)} operands</summary>"
                         f'<div class="ez-wide">{path_html}</div></details>')
    return "".join(parts)
