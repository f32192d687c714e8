"""Helpers the figure tests share: extra cases beyond the corpus, and the SVG read as data.

The SVG is read back as data, the way the HTML player and any program would: every frame's
lit cells (``data-operand``/``data-index`` inside ``g.einviz-frame``) are expanded to the
cells they stand for (a mark on an ellipsis cell stands for several hidden cells).
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from corpus import CORPUS, operands

from einviz.animation import Animation, animate

SVG = "{http://www.w3.org/2000/svg}"


#: Cases beyond the shared corpus: cut axes (summed, free, leading) and a sampled output.
EXTRA = {
    "cut-summed-axis": ("ij,jk->ik", [(3, 20), (20, 2)]),
    "cut-free-axes": ("ij,jk->ik", [(12, 3), (3, 10)]),
    "cut-leading-axis": ("bij->bj", [(7, 2, 3)]),
    "cut-trace": ("ii->", [(11, 11)]),
    "cut-diagonal": ("ii->i", [(11, 11)]),
    "broadcast-cut": ("ij,jk->ik", [(2, 1), (12, 2)]),
}


CASES = {**CORPUS, **EXTRA}


def make(case: str, **options) -> Animation:
    subscripts, shapes = CASES[case]
    return animate(subscripts, *operands(shapes), **options)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def frames_of(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if "einviz-frame" in g.get("class", "").split()]


def lit_cells(group: ET.Element, anim: Animation) -> set[tuple[str, tuple[int, ...]]]:
    """The cells a frame group marks, expanded (a mark may stand for several hidden cells)."""
    plan = anim.trace.plan
    cells = set()
    for element in group.iter():
        operand = element.get("data-operand")
        if operand is None or element.get("data-role") not in (None, "lit"):
            continue
        if element.get("data-index") is not None:
            text = element.get("data-index")
            cells.add((operand, tuple(int(i) for i in text.split(",")) if text else ()))
            continue
        k = plan.names.index(operand)
        values = {}
        for part in element.get("data-values").split(";"):
            label, runs = part.split("=")
            vals = []
            for run in runs.split("+"):
                first, _, last = run.partition(":")
                vals.extend(range(int(first), int(last or first) + 1))
            values[label] = vals
        term = plan.terms[k]
        names = list(values)
        for combo in itertools.product(*values.values()):
            value = dict(zip(names, combo))
            cells.add((operand, tuple(0 if plan.is_broadcast(k, a) else value[label]
                                      for a, label in enumerate(term))))
    return cells


def step_cells(anim: Animation, first: int, last: int) -> set[tuple[str, tuple[int, ...]]]:
    plan = anim.trace.plan
    cells = set()
    for step in anim.trace.steps(first, last + 1):
        for name, index in zip(plan.names, step.indices):
            if 0 not in plan.shapes[plan.names.index(name)]:
                cells.add((name, index))
        cells.add(("out", step.out_index))
    return cells
