"""The diagrams for writers: TikZ (a LaTeX document) and Graphviz DOT.

Both are written from the same geometry as the SVG (:class:`~einviz.render.network.Network`,
:class:`~einviz.render.tree.TreeStep`), in the same colours: the TikZ picture keeps the SVG's
positions (1 cm = 40 px); the DOT graph pins them too (``layout=neato``, ``pos="x,y!"``), so
``dot -Tpdf diagram.dot`` draws the same picture, and a writer who deletes the positions gets
Graphviz's own layout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .network import BUNDLE, OUT, Line, Network
from .palette import INK, MUTED, tint
from .tree import TreeStep

__all__ = ["network_dot", "network_tikz", "tree_dot"]

_PX_PER_CM = 40.0
_TEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
                "#": r"\#", "%": r"\%", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "<": r"\textless{}", ">": r"\textgreater{}"}


def _tex(text: str) -> str:
    """Text set as itself in LaTeX (its special characters escaped)."""
    return "".join(_TEX_SPECIAL.get(char, char) for char in text).replace(BUNDLE, r"\ldots{}")


def _cm(x: float, y: float) -> str:
    return f"({x / _PX_PER_CM:.2f},{-y / _PX_PER_CM:.2f})"


def _colour_name(label: str) -> str:
    """A TikZ colour name for a label (letters only: TeX names take no digits)."""
    if label == BUNDLE:
        return "einvizdots"
    return "einviz" + "".join(chr(ord("a") + int(d)) if d.isdigit() else d for d in
                              (label if label.isascii() and label.isalpha() else str(ord(label[0]))))


def _path_commands(path: str) -> list[tuple[str, list[float]]]:
    """The commands of an SVG path the diagrams write (``M``, ``L``, ``Q``, ``C``, each
    followed by its numbers, separated by spaces or commas), with their numbers."""
    for command in "MLQC":
        path = path.replace(command, f" {command} ")
    commands: list[tuple[str, list[float]]] = []
    for token in path.replace(",", " ").split():
        if token in ("M", "L", "Q", "C"):
            commands.append((token, []))
        else:
            commands[-1][1].append(float(token))
    return commands


def _tikz_path(path: str) -> str:
    """An SVG path of M, L, Q and C commands (what the diagram draws) as a TikZ path."""
    out = []
    for command, values in _path_commands(path):
        points = [_cm(values[k], values[k + 1]) for k in range(0, len(values), 2)]
        if command == "M":
            out.append(points[0])
        elif command == "L":
            out.append("-- " + points[0])
        elif command == "Q":
            out.append(f".. controls {points[0]} .. {points[1]}")
        else:
            out.append(f".. controls {points[0]} and {points[1]} .. {points[2]}")
    return " ".join(out)


def _tikz_line(line: Line) -> list[str]:
    c = line.connection
    colour = _colour_name(c.label)
    style = f"{colour}, line width=1.2pt" + (", double=white, double distance=1.2pt" if c.label == BUNDLE else "")
    rows = [f"  \\draw[{style}] {_tikz_path(path)};" for path in line.paths]
    if line.dot is not None:
        rows.append(f"  \\fill[{colour}] {_cm(*line.dot)} circle (2.4pt);")
    rows.append(f"  \\node[fill=white, inner sep=1pt] at {_cm(*line.text_at)} "
                f"{{\\textcolor{{{colour}}}{{\\textbf{{{_tex(c.label)}}}}}{{\\scriptsize\\color{{einvizmuted}}$=${_tex(c.size)}}}}};")
    return rows


def network_tikz(network: Network, title: str = "") -> str:
    r"""A standalone LaTeX document (article class, TikZ) drawing the network diagram.

    >>> from einviz.render.network import connections, draw, place
    >>> conns = connections([("i", "j"), ("j",)], ["A", "B"], ("i",), {"i": 2, "j": 3})
    >>> g = draw(conns, {"A": ("ij", ()), "B": ("j", ()), "out": ("i", ())},
    ...          place(["A", "B", "out"], [c.ends for c in conns]), {"i": "#0072B2", "j": "#D55E00"})
    >>> tex = network_tikz(g, "ij,j->i")
    >>> tex.count(r"\node[einviznode") + tex.count(r"\node[einvizout"), r"\begin{tikzpicture}" in tex
    (3, True)
    """
    colours = {label: colour for label, colour in network.colours.items()}
    _, _, width, height = network.box
    # The page is the picture's size, so the PDF drops into a paper as a figure.
    paper = f"papersize={{{width / _PX_PER_CM + 1.6:.1f}cm,{height / _PX_PER_CM + 2.4:.1f}cm}}"
    lines = [r"\documentclass{article}", f"\\usepackage[{paper},margin=0.5cm]{{geometry}}",
             r"\usepackage{tikz}", r"\pagestyle{empty}"]
    lines += [f"\\definecolor{{{_colour_name(label)}}}{{HTML}}{{{colour[1:].upper()}}}"
              for label, colour in colours.items()]
    lines += [f"\\definecolor{{einvizink}}{{HTML}}{{{INK[1:]}}}", f"\\definecolor{{einvizmuted}}{{HTML}}{{{MUTED[1:]}}}",
              r"\begin{document}", r"\noindent", r"\begin{tikzpicture}[font=\sffamily,",
              r"  einviznode/.style={draw=einvizink, line width=0.8pt, rounded corners=4pt, fill=white,"
              r" align=center, inner sep=3pt},", r"  einvizout/.style={einviznode, dashed, fill=black!4}]"]
    if title:
        left, top, _, _ = network.box
        lines.append(f"  \\node[anchor=south west] at {_cm(left, top - 16)} {{\\large "
                     + "".join(f"\\textcolor{{{_colour_name(ch)}}}{{\\textbf{{{_tex(ch)}}}}}" if ch in colours
                               else _tex(ch) for ch in title) + "};")
    for line in network.lines:
        lines += _tikz_line(line)
    for node in network.nodes:
        style = "einvizout" if node.name == OUT else "einviznode"
        term = "".join(f"\\textcolor{{{_colour_name(ch)}}}{{{_tex(ch)}}}" if ch in colours else _tex(ch)
                       for ch in node.shape)
        lines.append(f"  \\node[{style}, minimum width={node.width / _PX_PER_CM:.2f}cm, minimum height=1cm] "
                     f"at {_cm(node.x, node.y)} {{\\textbf{{{_tex(node.name)}}}\\\\[-1pt]{{\\scriptsize {term}}}}};")
    lines += [r"\end{tikzpicture}", r"\end{document}", ""]
    return "\n".join(lines)


def _dot_id(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _dot_term(term: str, colours: dict[str, str]) -> str:
    return "".join(f'<font color="{colours[ch]}">{_html(ch)}</font>' if ch in colours else _html(ch)
                   for ch in term)


def network_dot(network: Network, title: str = "") -> str:
    """The network diagram as a Graphviz ``graph``: positions pinned, hyperedges as junction
    points, loops as self-edges, a label summed in one operand as a leg to a bare point.

    >>> from einviz.render.network import connections, draw, place
    >>> conns = connections([("i", "j"), ("j",)], ["A", "B"], ("i",), {"i": 2, "j": 3})
    >>> g = draw(conns, {"A": ("ij", ()), "B": ("j", ()), "out": ("i", ())},
    ...          place(["A", "B", "out"], [c.ends for c in conns]), {"i": "#0072B2", "j": "#D55E00"})
    >>> print(network_dot(g).splitlines()[0])
    graph einviz {
    """
    colours = dict(network.colours)
    rows = ["graph einviz {", '  graph [layout=neato, splines=true, fontname="DejaVu Sans", '
            f'label=<{_dot_term(title, colours)}>, labelloc=t];',
            '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="DejaVu Sans"];',
            '  edge [fontname="DejaVu Sans", penwidth=2];']
    for node in network.nodes:
        extra = ', style="rounded,filled,dashed", fillcolor="#F3F4F6"' if node.name == OUT else ""
        rows.append(f'  {_dot_id(node.name)} [label=<<b>{_html(node.name)}</b><br/>'
                    f'<font point-size="10">{_dot_term(node.shape, colours)}</font>>, '
                    f'pos="{node.x / 72 * 1.4:.2f},{-node.y / 72 * 1.4:.2f}!"{extra}];')
    for k, line in enumerate(network.lines):
        c = line.connection
        colour = colours.get(c.label, INK)
        pen = f'"{colour}:white:{colour}"' if c.label == BUNDLE else f'"{colour}"'
        label = f'label=<<b><font color="{colour}">{_html(c.label)}</font></b>={_html(c.size)}>'
        if c.kind == "hyper" and line.dot is not None:
            hub = _dot_id(f"_{c.label}_{k}")
            rows.append(f'  {hub} [shape=point, width=0.12, color="{colour}", xlabel=<<b><font color="{colour}">'
                        f'{_html(c.label)}</font></b>={_html(c.size)}>, '
                        f'pos="{line.dot[0] / 72 * 1.4:.2f},{-line.dot[1] / 72 * 1.4:.2f}!"];')
            rows += [f"  {hub} -- {_dot_id(end)} [color={pen}];" for end in c.ends]
        elif len(c.ends) == 1:
            stub = _dot_id(f"_{c.label}_{k}")
            rows.append(f'  {stub} [shape=point, width=0.02, style=invis];')
            rows.append(f"  {_dot_id(c.ends[0])} -- {stub} [color={pen}, dir=forward, arrowhead=tee, {label}];")
        else:
            rows.append(f"  {_dot_id(c.ends[0])} -- {_dot_id(c.ends[1])} [color={pen}, {label}];")
    rows.append("}")
    return "\n".join(rows) + "\n"


def tree_dot(names: Sequence[str], steps: Sequence[TreeStep], title: str = "") -> str:
    """The contraction tree as a Graphviz ``digraph``: operands at the bottom, each step's
    result above its inputs, filled darker the more FLOPs its step costs.

    >>> print(tree_dot(["A", "B"], [TreeStep(("A", "B"), "out", "ik", (2, 4), 48, "GEMM", ("j",))]))
    ... # doctest: +ELLIPSIS
    digraph einviz_tree {
    ...
      "A" -> "out";
    ...
    """
    flops = [s.flops for s in steps] or [0]
    low, high = math.log1p(min(flops)), math.log1p(max(flops))
    rows = ["digraph einviz_tree {", f'  graph [rankdir=BT, label="{_html(title)}", labelloc=t, '
            'fontname="DejaVu Sans"];', '  node [shape=box, style="rounded,filled", fillcolor=white, '
            'fontname="DejaVu Sans"];', '  edge [arrowhead=none, color="#9AA0A8", penwidth=2];']
    rows += [f"  {_dot_id(name)};" for name in names]
    for step in steps:
        share = 0.5 if high == low else (math.log1p(step.flops) - low) / (high - low)
        cost = f"{step.flops:,} FLOPs" + (f" · {step.blas}" if step.blas else "")
        shape = "(" + ", ".join(map(str, step.shape)) + ")"
        rows.append(f'  {_dot_id(step.output)} [fillcolor="{tint("#D55E00", 0.88 - 0.6 * share)}", '
                    f'label="{_html(step.output)} {_html(step.labels)}\\n{shape}\\n{cost}"];')
        rows += [f"  {_dot_id(i)} -> {_dot_id(step.output)};" for i in step.inputs]
    rows.append("}")
    return "\n".join(rows) + "\n"
