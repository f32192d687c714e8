"""Draw a :class:`~einviz.render.scene.Scene` as SVG: animated, one frame, or parts.

One drawing code serves every view; ``mode`` picks what it emits:

``"animated"``
    One self-contained file, no script: the base drawn once, then every frame as a group of
    changes (lit cells, running sum, caption, loop values) that CSS ``@keyframes`` shows
    during its time slot. It loops, plays inside an ``<img>``, and where animation is not
    supported (or in resvg), or the reader asks for reduced motion
    (``prefers-reduced-motion: reduce``), shows the finished picture.

    The same file is the HTML player's picture. Once a script gives the ``<svg>`` the class
    ``einviz-live`` nothing moves by itself: a frame group shows when it has the class
    ``einviz-on``; so do the output values (``.einviz-finals text``, shown from frame
    ``data-from`` on), the lit code line (``.einviz-codeline``, lit in frames whose record in
    :meth:`Scene.frame_table` has a ``code_line``) and each run of a loop value
    (``.einviz-runs text``, shown from frame ``data-first`` to ``data-last``) and each run of
    held term marks (``.einviz-runs g``, likewise).
``"frame"``
    A static picture of one frame (``frame=-1``: the final frame, the hero image).
``"base"`` / ``"overlay"`` / ``"top"``
    The parts of a frame, bottom to top: the unchanging shapes (background, code panel,
    grid cells); one frame's changes on a transparent canvas; the unchanging text (values,
    titles, the call, the code) on a transparent canvas. The frames' marks lie between the
    shapes and the text, so a lit cell's value stays legible, as under a highlighter pen.
    A rasteriser draws base and top once and composites each frame's overlay between them.

The SVG carries its data: every grid cell is a ``<use>`` in ``g.einviz-cells`` with
``data-operand`` (a name, or ``out``) and ``data-index`` (``"0,2"``); every frame is a
``<g class="einviz-frame" data-frame="k" data-steps="first-last">`` and each lit cell inside
it a ``<use>`` with the same two attributes (``data-values`` instead of ``data-index`` for
a mark standing for several hidden cells of a cut axis, see :class:`~einviz.render.scene.Mark`)
and ``data-role``: ``lit`` (the frame's step), ``term`` (a cell of the whole sum of the
output cell being added up), ``used`` (a term added already). In the animated SVG, term
marks that stay the same over several frames (an output cell's terms, while its sum builds
up) are drawn once, in a ``<g data-first="k" data-last="m">`` inside ``g.einviz-runs``, and
count as marks of each frame from ``k`` to ``m``: a frame then costs what it changes.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as etree

from ..errors import EinvizError
from .palette import INK, MUTED, tint
from .scene import (
    CAPTION_LINE,
    CODE_LINE,
    VALUE_BASELINE,
    Frame,
    Mark,
    Scene,
    Span,
    Text,
    mono_width,
)

__all__ = ["MODES", "render"]

MODES = ("animated", "frame", "base", "top", "overlay")

_LIT_FILL = "#FFC233"
_LIT_STROKE = "#8A5A00"
_OUT_STROKE = "#1F2328"
#: A cell of the whole sum being added up (``term``), and one added already (``used``).
_TERM_STROKE = "#D9A21B"
_USED_FILL = "#8C959F"
_GRID = "#B5BAC2"
_SANS = "'DejaVu Sans', sans-serif"
_MONO = "'DejaVu Sans Mono', monospace"
#: Stands in the style element's text until the document is serialised, then becomes the
#: CSS inside a CDATA section (ElementTree writes none itself).
_CDATA = "\x00einviz-style\x00"


class _Element:
    """An SVG element by name: attributes, then mixed content (text and child elements, in
    the order added, as a line of coloured spans needs).

    Keyword names follow svgwrite's convention: a trailing ``_`` is dropped and ``_`` reads
    ``-`` (``class_="v"``); names with a ``-`` or ``:`` pass as a ``**{...}`` dict.
    """

    def __init__(self, name: str, **attributes: object) -> None:
        self.name = name
        self.attribs: dict[str, object] = {key.rstrip("_").replace("_", "-"): value
                                           for key, value in attributes.items()}
        self.parts: list[str | _Element] = []

    def add(self, element: _Element) -> _Element:
        self.parts.append(element)
        return element

    def add_text(self, text: str) -> _Element:
        self.parts.append(text)
        return self

    def get_xml(self) -> etree.Element:
        xml = etree.Element(self.name)
        for attribute, value in self.attribs.items():
            if value is not None:
                xml.set(attribute, str(value))
        last = None
        for part in self.parts:
            if isinstance(part, str):
                if last is None:
                    xml.text = (xml.text or "") + part
                else:
                    last.tail = (last.tail or "") + part
            else:
                last = part.get_xml()
                xml.append(last)
        return xml


class _Document(_Element):
    """The ``<svg>`` root, written as svgwrite writes a ``Drawing`` (SVG 1.1, full profile,
    attributes sorted, ``<defs>`` first, the style as CDATA), without importing svgwrite:
    its import (a URL library, ssl and a validator's regular expressions) took longer than
    drawing a figure."""

    def __init__(self, width: str, height: str) -> None:
        super().__init__("svg", width=width, height=height)
        self.attribs.update({"xmlns": "http://www.w3.org/2000/svg",
                             "xmlns:xlink": "http://www.w3.org/1999/xlink",
                             "xmlns:ev": "http://www.w3.org/2001/xml-events",
                             "baseProfile": "full", "version": "1.1",
                             "viewBox": f"0,0,{width},{height}"})
        self.defs = self.add(_Element("defs"))
        self.css = ""

    def style(self, css: str) -> _Element:
        """The ``<style>`` element of ``css``, to add to :attr:`defs` (one per document)."""
        self.css = css
        return _Element("style", type="text/css").add_text(_CDATA)

    def get_xml(self) -> etree.Element:
        xml = super().get_xml()
        xml.attrib = dict(sorted(xml.attrib.items()))
        return xml

    def tostring(self) -> str:
        text = etree.tostring(self.get_xml(), encoding="unicode")
        return text.replace(_CDATA, f"<![CDATA[{self.css}]]>", 1)


def _n(value: float) -> str:
    """A coordinate, short: whole numbers without a point, else one decimal."""
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


def _s(seconds: float) -> str:
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return text or "0"


class _Writer:
    def __init__(self, scene: Scene, prefix: str, mode: str, frame: int | None) -> None:
        if mode not in MODES:
            raise EinvizError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.scene = scene
        self.p = prefix
        self.mode = mode
        self.labels = {label: k for k, label in enumerate(scene.colours)}
        self.frame: int | None = None
        self.per_frame: set[str] = set()  # loop labels whose values change too often for runs
        self._runs: dict[tuple[int, int], list[tuple[str, str]]] | None = None
        self._held: dict[tuple[bool, int, int], list[Mark]] | None = None
        self.held_marks: set[tuple[int, tuple]] = set()  # (frame, mark) pairs a held run draws
        # Frames of the commonest length share one @keyframes; each other length gets its own.
        durations = [frame.duration for frame in scene.frames]
        self.common = max(set(durations), key=durations.count)
        self.lengths = {d: f"t{k}" for k, d in enumerate(sorted(set(durations) - {self.common}))}
        if mode in ("frame", "overlay"):
            frame = -1 if frame is None else frame
            if not -scene.n_frames <= frame < scene.n_frames:
                raise EinvizError(
                    f"frame {frame} is out of range: the animation has {scene.n_frames} frames",
                    hint=f"frames are numbered 0 to {scene.n_frames - 1}; -1 is the last",
                )
            self.frame = frame % scene.n_frames
        self.fonts = cell_fonts(scene)
        self.d = _Document(_n(scene.width), _n(scene.height))
        self.d.attribs.update({"id": prefix, "class": "einviz", "data-frames": str(scene.n_frames),
                               "data-granularity": scene.granularity, "role": "img",
                               "xml:space": "preserve"})

    # -- style ------------------------------------------------------------------------------
    def css(self) -> str:
        p, scene = self.p, self.scene
        rules = [
            f"#{p} text{{font-family:{_SANS};fill:{INK};white-space:pre}}",
            f"#{p} .mo,#{p} .mo text{{font-family:{_MONO}}}",
            f"#{p} .mu{{fill:{MUTED}}}",
            f"#{p} .st{{font-weight:bold}}",
            f"#{p} .v text{{font-size:13px;text-anchor:middle}}",
            f"#{p} .g text{{font-size:13px;text-anchor:middle;fill:{MUTED}}}",
            f"#{p} .c{{font-family:{_MONO};font-size:13px}}",
            f"#{p} .n{{font-family:{_MONO};font-size:12px;fill:{MUTED}}}",
            f"#{p} .r{{font-size:13px;text-anchor:middle;font-weight:bold}}",
            f"#{p} .k{{font-family:{_MONO};font-size:12.5px;font-weight:bold}}",
        ]
        for label, k in self.labels.items():
            rules.append(f"#{p} .l{k}{{fill:{scene.colours[label]};font-weight:bold}}")
        if self.mode == "animated":
            rules += self.animation_css()
            rules += self.player_css()
        return "".join(rules)

    def player_css(self) -> list[str]:
        """The rules that let a script play the animated SVG: under the class ``einviz-live``
        nothing moves by itself and each part shows while it has the class ``einviz-on``.
        Without the script the rules never apply, so the file still plays on its own."""
        p = self.p
        moving = (".einviz-frame", ".einviz-finals text", ".einviz-codeline", ".einviz-runs>*")
        # !important: the values and runs name their keyframes in their own style attribute.
        return [",".join(f"#{p}.einviz-live {c}" for c in moving)
                + "{animation:none!important;opacity:1;visibility:hidden}",
                ",".join(f"#{p}.einviz-live {c}.einviz-on" for c in moving) + "{visibility:visible}"]

    def animation_css(self) -> list[str]:
        """Each frame shows in its time slot: one shared @keyframes per frame length, each
        frame group shifted to its start with a negative delay (so the loop needs no script).
        Where CSS animation is not run (resvg, some viewers) the final frame shows."""
        p, scene = self.p, self.scene
        total = scene.duration
        starts = scene.starts()
        loop = f"{_s(total)}s step-end infinite"
        rules = [f"#{p} .einviz-frame{{opacity:0;animation:{p}-s {loop};animation-delay:var(--d)}}",
                 f"#{p} .einviz-frame.f{{opacity:1}}"]
        rules.append(f"@keyframes {p}-s{{0%{{opacity:1}}{_pct(self.common, total)}{{opacity:0}}}}")
        for duration, name in self.lengths.items():
            rules.append(f"@keyframes {p}-{name}{{0%{{opacity:1}}{_pct(duration, total)}{{opacity:0}}}}")
            rules.append(f"#{p} .einviz-frame.{name}{{animation-name:{p}-{name}}}")
        # Output values appear when their cell is done and stay till the loop ends.
        rules.append(f"#{p} .einviz-finals text,#{p} .einviz-codeline,#{p} .einviz-runs>*"
                     f"{{animation:{loop}}}")
        # Hidden where animation does not run, which leaves the final frame's picture.
        rules.append(f"#{p} .einviz-codeline,#{p} .einviz-runs>*{{opacity:0}}")
        for number in sorted({n for n, _ in self.finals_from()}):
            rules.append(f"@keyframes {p}c{number}{{0%{{opacity:0}}{_pct(starts[number], total)}"
                         f"{{opacity:1}}}}")
        for first, last in sorted({*self.runs(), *((first, last) for _, first, last in self.held())}):
            end = starts[last] + scene.frames[last].duration
            rules.append(f"@keyframes {p}r{first}-{last}{{0%{{opacity:0}}{_pct(starts[first], total)}"
                         f"{{opacity:1}}{_pct(end, total)}{{opacity:0}}}}")
        lit = [n for n, f in enumerate(scene.frames) if f.code_line is not None]
        if lit:
            begin, end = starts[lit[0]], starts[lit[-1]] + scene.frames[lit[-1]].duration
            rules.append(f"@keyframes {p}-L{{0%{{opacity:0}}{_pct(begin, total)}{{opacity:1}}"
                         f"{_pct(end, total)}{{opacity:0}}}}")
            rules.append(f"#{p} .einviz-codeline{{animation-name:{p}-L}}")
        # Reduced motion: no animation, which leaves the final frame's picture (as above).
        rules.append("@media (prefers-reduced-motion:reduce){"
                     f"#{p} .einviz-frame,#{p} .einviz-finals text,#{p} .einviz-codeline,"
                     f"#{p} .einviz-runs>*{{animation:none!important}}}}")
        return rules

    def defs(self) -> None:
        scene, d, p = self.scene, self.d, self.p
        w, h = _n(scene.cell_w), _n(scene.cell_h)
        self.runs()
        d.defs.add(d.style(self.css()))
        crisp = {"shape-rendering": "crispEdges"}
        for name, attrs in (
            ("c", {"fill": "#FFFFFF", "stroke": _GRID, **crisp}),
            ("u", {"fill": "#F1F3F6", "stroke": _GRID, **crisp}),
            ("g", {"fill": "#F7F7F8", "stroke": "#C9CDD3", "stroke-dasharray": "3 2", **crisp}),
            ("m", {"fill": _LIT_FILL, "fill-opacity": "0.5", "stroke": _LIT_STROKE, "stroke-width": "2"}),
            ("t", {"fill": _LIT_FILL, "fill-opacity": "0.2", "stroke": _TERM_STROKE, "stroke-width": "1.5"}),
            ("d", {"fill": _USED_FILL, "fill-opacity": "0.3", "stroke": _TERM_STROKE, "stroke-width": "1.5"}),
            ("o", {"fill": "#56B4E9", "fill-opacity": "0.22", "stroke": _OUT_STROKE, "stroke-width": "2.5"}),
        ):
            d.defs.add(_Element("rect", id=f"{p}{name}", width=w, height=h, **attrs))

    # -- elements -----------------------------------------------------------------------------
    def use(self, kind: str, x: float, y: float, **data: str | None) -> _Element:
        return _Element("use", href=f"#{self.p}{kind}", x=_n(x), y=_n(y), **data)

    def text(self, t: Text) -> _Element:
        classes = []
        if t.font == "mono":
            classes.append("mo")
        if t.weight == "bold":
            classes.append("st")
        attrs: dict[str, str] = {"x": _n(t.x), "y": _n(t.y), "font-size": _n(t.size)}
        if t.anchor != "start":
            attrs["text-anchor"] = t.anchor
        if t.tone is not None and t.tone.startswith("#"):
            attrs["style"] = f"fill:{t.tone}"
        elif t.tone == "muted":
            classes.append("mu")
        if classes:
            attrs["class"] = " ".join(classes)
        element = _Element("text", **attrs)
        self.spans(element, t.spans)
        return element

    def spans(self, element: _Element, spans: tuple[Span, ...]) -> None:
        for span in spans:
            if span.label is not None:
                element.add(_Element("tspan", class_=f"l{self.labels[span.label]}").add_text(span.text))
            elif span.tone == "muted":
                element.add(_Element("tspan", class_="mu").add_text(span.text))
            elif span.tone == "strong":
                element.add(_Element("tspan", class_="st").add_text(span.text))
            else:
                element.add_text(span.text)

    # -- the base -------------------------------------------------------------------------------
    def base(self) -> None:
        """The unchanging shapes: background, code panel, grid cells. The frames' marks go
        over them and the unchanging text (:meth:`top`) over the marks, as a highlighter
        pen leaves the print legible."""
        scene, d = self.scene, self.d
        d.add(_Element("rect", width="100%", height="100%", fill="#FFFFFF"))
        panel = scene.code
        d.add(_Element("rect", x=_n(panel.x), y=_n(panel.y), width=_n(panel.w), height=_n(panel.h),
                       rx="6", fill="#F6F7F9", stroke="#E1E4E8"))
        cells = _Element("g", class_="einviz-cells")
        gaps = _Element("g")
        for box in scene.boxes:
            if box.role in ("cell", "out"):
                cells.add(self.use("c" if box.role == "cell" else "u", box.x, box.y,
                                   **{"data-operand": box.operand or "", "data-index": _index(box.index)}))
            elif box.role == "gap":
                gaps.add(self.use("g", box.x, box.y) if box.w == scene.cell_w else
                         _Element("rect", x=_n(box.x), y=_n(box.y), width=_n(box.w), height=_n(box.h),
                                  fill="#F7F7F8", stroke="#C9CDD3", **{"stroke-dasharray": "3 2"}))
            elif box.role == "slice-gap":
                gaps.add(_Element("rect", x=_n(box.x), y=_n(box.y), width=_n(box.w), height=_n(box.h),
                                  fill="none", stroke="#C9CDD3", **{"stroke-dasharray": "4 3"}))
        d.add(cells)
        d.add(gaps)

    def top(self) -> None:
        """The unchanging text, drawn over the frames: cell values, titles, the call, the code."""
        scene, d = self.scene, self.d
        group = _Element("g", class_="einviz-top")
        values = _Element("g", class_="v")
        gaps = _Element("g", class_="g")
        for box in scene.boxes:
            if box.text and box.role in ("cell", "out", "gap"):
                text = _Element("text", x=_n(box.x + box.w / 2), y=_n(box.y + VALUE_BASELINE),
                                **(self.fonts.get(box.operand or "", {}) if box.role != "gap" else {}))
                (gaps if box.role == "gap" else values).add(text.add_text(box.text))
        group.add(values)
        group.add(gaps)
        for t in scene.texts:
            group.add(self.text(t))
        group.add(self.code_text())
        d.add(group)

    def code_text(self) -> _Element:
        panel = self.scene.code
        group = _Element("g", class_="mo", **{"font-size": "12.5"})
        for number, line in enumerate(panel.lines):
            element = _Element("text", x=_n(panel.x + 12), y=_n(panel.line_y(number)))
            self.spans(element, line)
            group.add(element)
        return group

    def codeline(self, frame: Frame | None) -> None:
        """The lit statement line and the loop variables' names: shown while the loops run."""
        panel = self.scene.code
        if self.mode in ("frame", "overlay") and (frame is None or frame.code_line is None):
            return
        line = panel.statement if frame is None or frame.code_line is None else frame.code_line
        box = panel.line_box(line)
        group = _Element("g", class_="einviz-codeline")
        group.add(_Element("rect", x=_n(box.x), y=_n(box.y), width=_n(box.w), height=_n(box.h),
                           rx="3", fill="#FFE8A3"))
        for label, number in panel.label_lines.items():
            t = _Element("text", class_="k", x=_n(panel.value_x), y=_n(panel.line_y(number)))
            self.spans(t, (Span(label, label=label), Span(" =")))
            group.add(t)
        self.d.add(group)

    def runs(self) -> dict[tuple[int, int], list[tuple[str, str]]]:
        """Loop values that hold over several frames, as runs (animated SVG only).

        An outer loop's value stays while the inner loops turn: drawn once per run, with
        its own time window, it costs less than repeating it in every frame.
        """
        if self.mode != "animated":
            return {}
        if self._runs is not None:
            return self._runs
        frames = [f for f in self.scene.frames if f.loop_values]
        runs: dict[tuple[int, int], list[tuple[str, str]]] = {}
        if frames:
            labels = [label for label, _ in frames[0].loop_values]
            for position, label in enumerate(labels):
                spans: list[list] = []
                for f in frames:
                    value = f.loop_values[position][1]
                    if spans and spans[-1][2] == value and spans[-1][1] == f.number - 1:
                        spans[-1][1] = f.number
                    else:
                        spans.append([f.number, f.number, value])
                if len(spans) * 4 > len(frames):
                    self.per_frame.add(label)
                    continue
                for first, last, value in spans:
                    runs.setdefault((first, last), []).append((label, value))
        self._runs = runs
        return runs

    def held(self) -> dict[tuple[bool, int, int], list[Mark]]:
        """Term and used marks that stay over consecutive frames, as runs (animated SVG
        only), by (used?, first frame, last frame): an output cell's terms stay lit while its
        sum builds up, and a term once added stays marked so, each drawn once for all its
        frames. The final frame keeps its own (it is what shows where nothing animates)."""
        if self.mode != "animated":
            return {}
        if self._held is not None:
            return self._held
        open_runs: dict[tuple, tuple[int, int, Mark]] = {}  # a mark -> (first, last frame, mark)
        spans: list[tuple[int, int, Mark]] = []
        for frame in self.scene.frames:
            marks = {} if frame.kind == "final" else {
                _mark_key(m): m for m in frame.marks if m.role in ("term", "used")}
            for key in [key for key in open_runs if key not in marks]:
                spans.append(open_runs.pop(key))
            for key, mark in marks.items():
                first = open_runs[key][0] if key in open_runs else frame.number
                open_runs[key] = (first, frame.number, mark)
        spans += open_runs.values()
        held: dict[tuple[bool, int, int], list[Mark]] = {}
        for first, last, mark in sorted(spans, key=lambda span: (span[2].role == "used", span[0], span[1])):
            if last > first:
                held.setdefault((mark.role == "used", first, last), []).append(mark)
                self.held_marks.update((number, _mark_key(mark)) for number in range(first, last + 1))
        self._held = held
        return held

    def run_values(self) -> None:
        panel = self.scene.code
        x = _n(round(panel.value_x + mono_width("i = ", 12.5)))
        group = _Element("g", class_="k einviz-runs")
        for (first, last), values in self.runs().items():
            for label, value in values:
                group.add(_Element("text", x=x,
                                   y=_n(panel.line_y(panel.label_lines[label])),
                                   style=f"animation-name:{self.p}r{first}-{last}",
                                   **{"data-first": str(first), "data-last": str(last)}
                                   ).add_text(value))
        for (_, first, last), marks in self.held().items():
            held = group.add(_Element("g", style=f"animation-name:{self.p}r{first}-{last}",
                                      **{"data-first": str(first), "data-last": str(last)}))
            for mark in marks:
                held.add(self.mark_use(mark))
        self.d.add(group)

    def finals_from(self) -> list[tuple[int, tuple[int, ...]]]:
        return [(f.number, index) for f in self.scene.frames for index in f.finished]

    def finals(self, upto: int | None) -> None:
        scene = self.scene
        group = _Element("g", class_="v einviz-finals")
        for number, index in self.finals_from():
            if upto is not None and number > upto:
                continue
            t = scene.finals[index]
            attrs = {"data-from": str(number), "data-index": _index(index),
                     "x": _n(t.x), "y": _n(t.y), **self.fonts.get("out", {})}
            if self.mode == "animated":
                attrs["style"] = f"animation-name:{self.p}c{number}"
            group.add(_Element("text", **attrs).add_text(t.plain))
        self.d.add(group)

    # -- frames ---------------------------------------------------------------------------------
    def frame_group(self, frame: Frame, delay: float | None) -> _Element:
        scene = self.scene
        classes = ["einviz-frame"]
        if frame.kind == "final":
            classes.append("f")
        if self.mode == "animated" and frame.duration in self.lengths:
            classes.append(self.lengths[frame.duration])
        attrs = {"class": " ".join(classes), "data-frame": str(frame.number),
                 "data-steps": frame.data_steps}
        if delay is not None:
            attrs["style"] = f"--d:{_s(delay)}s"
        g = _Element("g", **attrs)
        x: Any  # a float in the loops below, the formatted text of one later
        for label in frame.labels:
            colour = scene.colours[label]
            for x, y, w, h in scene.label_spots.get(label, ()):
                g.add(_Element("rect", x=_n(x), y=_n(y), width=_n(w), height=_n(h), rx="2",
                               fill=tint(colour, 0.72)))
        for x, y, w, h in frame.outlines:
            g.add(_Element("rect", x=_n(x), y=_n(y), width=_n(w), height=_n(h),
                           fill="none", stroke=_LIT_STROKE, **{"stroke-width": "2"}))
        for x, y, w, h, label in frame.spots:
            g.add(_Element("rect", x=_n(x + 2), y=_n(y + 2), width=_n(w - 4), height=_n(h - 4), rx="3",
                           fill=tint(scene.colours[label], 0.75)))
        for mark in frame.marks:
            if (frame.number, _mark_key(mark)) not in self.held_marks:
                g.add(self.mark_use(mark))
        if frame.running is not None:
            r = frame.running
            g.add(_Element("text", class_="r", x=_n(r.x), y=_n(r.y),
                           **self.fonts.get("out", {})).add_text(r.text))
        shown = [(label, value) for label, value in frame.loop_values
                 if self.mode != "animated" or label in self.per_frame]
        if shown:
            # One text: each value beside its loop's line.
            panel = scene.code
            at = _n(round(panel.value_x + mono_width("i = ", 12.5)))
            line = panel.label_lines[shown[0][0]]
            values = _Element("text", class_="k", x=at, y=_n(panel.line_y(line)))
            for k, (label, value) in enumerate(shown):
                if k:
                    below = panel.label_lines[label] - line
                    line = panel.label_lines[label]
                    values.add(_Element("tspan", x=at, dy=_n(CODE_LINE * below)).add_text(value))
                else:
                    values.add_text(value)
            g.add(values)
        for number, spans in enumerate(frame.caption):
            muted = all(span.tone == "muted" for span in spans)
            t = _Element("text", class_="n" if muted else "c", x=_n(scene.caption_x),
                         y=_n(scene.caption_y + CAPTION_LINE * number))
            self.spans(t, (Span("".join(span.text for span in spans)),) if muted else spans)
            g.add(t)
        return g

    def mark_use(self, mark: Mark) -> _Element:
        """A mark as a ``<use>`` of its shape, carrying its operand, role and cell(s)."""
        data: dict[str, str] = {"data-operand": mark.operand, "data-role": mark.role}
        if mark.index is not None:
            data["data-index"] = _index(mark.index)
        else:
            data["data-values"] = mark.data_values
        return self.use(mark_shape(mark), mark.x, mark.y, **data)

    def frames(self) -> None:
        scene = self.scene
        if self.frame is not None:
            self.d.add(self.frame_group(scene.frames[self.frame], None))
            return
        layer = _Element("g", class_="einviz-frames")
        total = scene.duration
        for frame, start in zip(scene.frames, scene.starts()):
            layer.add(self.frame_group(frame, start - total if self.mode == "animated" else None))
        self.d.add(layer)

    def write(self) -> str:
        """The drawing, bottom to top: the base's shapes, the lit code line, the frames, the
        output values, then the base's text (``"base"`` draws only the first, ``"top"`` only
        the last, ``"overlay"`` only the middle)."""
        scene, mode = self.scene, self.mode
        self.defs()
        self.d.add(_Element("title").add_text(_title(scene)))
        frame = scene.frames[self.frame] if self.frame is not None else None
        if mode not in ("overlay", "top"):
            self.base()
        if mode not in ("base", "top"):
            self.codeline(frame)
            if mode == "animated":
                self.run_values()
            self.frames()
            self.finals(self.frame if mode in ("frame", "overlay") else None)
        if mode not in ("overlay", "base"):
            self.top()
        # Empty elements end in "/>", not " />": a byte each, hundreds of them a file.
        return self.d.tostring().replace(" />", "/>")


def _mark_key(mark: Mark) -> tuple:
    """What makes two frames' marks the same drawing (``values`` may hold lists)."""
    return (mark.operand, mark.role, mark.x, mark.y, mark.index, mark.data_values)


def mark_shape(mark: Mark) -> str:
    """The shape a mark draws (an id in the defs): a lit cell, a term of the sum, a term
    added already, or the output cell."""
    if mark.operand == "out":
        return "o"
    return {"term": "t", "used": "d"}.get(mark.role, "m")


def cell_fonts(scene: Scene) -> dict[str, dict[str, str]]:
    """One font size per array, so its cells read alike: the size its widest value needs
    (an output's running sums, bold, count too); ``{}``: the cells' own 13 px."""
    needs: dict[str, float] = {}

    def need(name: str, text: str, bold: bool = False) -> None:
        style = _fit(text, scene.cell_w, bold)
        size = float(style["style"].removeprefix("font-size:").removesuffix("px")) if style else 13.0
        needs[name] = min(needs.get(name, 13.0), size)

    for box in scene.boxes:
        if box.text and box.role in ("cell", "out") and box.operand is not None:
            need(box.operand, box.text)
    for t in scene.finals.values():
        need("out", t.plain)
    for frame in scene.frames:
        if frame.running is not None:
            need("out", frame.running.text, bold=True)
    return {name: {"style": f"font-size:{size:.1f}px"} if size < 13 else {} for name, size in needs.items()}


def _fit(text: str, width: float, bold: bool = False) -> dict[str, str]:
    """A smaller font for a number too wide for its cell (none when it fits)."""
    room = width - 6
    wide = len(text) * 0.64 * (1.07 if bold else 1.0)
    if wide * 13 <= room:
        return {}
    return {"style": f"font-size:{max(7.0, room / wide):.1f}px"}


def _pct(seconds: float, total: float) -> str:
    return f"{100 * seconds / total:.3f}".rstrip("0").rstrip(".") + "%"


def _index(index: tuple[int, ...] | None) -> str:
    return ",".join(str(i) for i in index) if index else ""


def _title(scene: Scene) -> str:
    return f"einsum {scene.plan.equation}: {scene.n_frames} frames ({scene.granularity})"


def render(scene: Scene, mode: str = "animated", frame: int | None = None, prefix: str = "einviz") -> str:
    """Write a scene as SVG text.

    Args:
        scene: the laid-out scene.
        mode: ``"animated"``, ``"frame"``, ``"base"``, ``"top"`` or ``"overlay"`` (see the
            module's documentation).
        frame: the frame, for ``"frame"`` and ``"overlay"`` (default: the final frame).
        prefix: the document's id, prefixed to every id, class rule and animation in it, so
            several figures on one page never collide.

    Returns:
        The SVG document.

    >>> import numpy as np
    >>> from einviz.tracing import trace
    >>> from einviz.render.scene import build_scene
    >>> svg = render(build_scene(trace("i->", np.arange(3))), "frame")
    >>> svg.startswith("<svg") and 'data-operand="A"' in svg
    True
    """
    return _Writer(scene, prefix, mode, frame).write()
