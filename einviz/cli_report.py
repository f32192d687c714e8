"""The text ``einviz SUBSCRIPTS`` prints: the explanation report, or the loops as a script.

Both are made from the stages' own objects (the plan and the explanation), never by parsing
or binding again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from . import __version__
from .planning import LoopPlan
from .terminal import Painter

if TYPE_CHECKING:
    from .explaining import Explanation, Sentence

__all__ = ["report", "script"]


def _values_note(values: str, seed: int) -> str:
    return {"arange": "arange: 1, 2, 3, … in each operand",
            "random": f"random integers from -3 to 5, seed {seed}",
            "ones": "ones"}[values]


def _array_lines(name: str, array: np.ndarray) -> list[str]:
    with np.printoptions(threshold=200, edgeitems=3, linewidth=96):
        body = str(array)
    return [f"  {name} {array.shape} {array.dtype}"] + [f"    {line}" for line in body.splitlines()]


def _sizes_table(loop_plan: LoopPlan, painter: Painter) -> list[str]:
    where: dict[str, list[str]] = {label: [] for label in loop_plan.labels}
    for k, (name, term) in enumerate(zip(loop_plan.names, loop_plan.terms)):
        for axis, label in enumerate(term):
            note = " (size 1, broadcast)" if loop_plan.is_broadcast(k, axis) else ""
            where[label].append(f"{name} axis {axis}{note}")
    for axis, label in enumerate(loop_plan.output):
        where[label].append(f"out axis {axis}")
    # A column as wide as the longest label (words in einops' notation), padded outside the
    # colour codes, which take no room on screen.
    width = max([len("label"), *map(len, loop_plan.labels)])
    rows = [f"  {'label':<{width}} {'size':>5}  role    axes"]
    for label in loop_plan.labels:
        role = "free" if label in loop_plan.free else "summed"
        origin = "  (a dimension of '...')" if label in loop_plan.ellipsis else ""
        pad = " " * (width - len(label) + 1)
        rows.append(f"  {painter.label(label, label)}{pad}{loop_plan.sizes[label]:>5}  "
                    f"{role:<7} {', '.join(dict.fromkeys(where[label]))}{origin}")
    rows.append(f"  steps {loop_plan.n_steps:,}   flops {loop_plan.flops:,}   "
                f"out shape {loop_plan.out_shape}")
    return rows


def _subscripts(text: str, loop_plan: LoopPlan, painter: Painter) -> str:
    """The subscripts with their labels coloured: each letter, or each word in einops' notation."""
    if loop_plan.equation.notation == "numpy":
        return painter.letters(text)
    return re.sub(r"\w+", lambda m: painter.label(m.group(), m.group()), text)


def _sentence(sentence: Sentence, painter: Painter) -> str:
    """The sentence with each label it marks in its colour (a word label whole)."""
    text, out, at = sentence.text, [], 0
    for start, end in sentence.coloured:
        out += [text[at:start], painter.label(text[start:end], text[start:end])]
        at = end
    return "".join(out) + text[at:]


def report(
    explanation: Explanation,
    operands: Sequence[np.ndarray],
    result: np.ndarray,
    values: str,
    seed: int,
    painter: Painter,
) -> str:
    """The report: narrative, sizes, formula, loop code, operands and result, labels coloured."""
    loop_plan = explanation.plan
    lines = [f"{_subscripts(explanation.subscripts, loop_plan, painter)}  —  {explanation.title}", ""]
    lines += [f"  {_sentence(s, painter)}" for s in explanation.sentences]
    lines += ["", "sizes", *_sizes_table(loop_plan, painter)]
    lines += ["", "formula", f"  {painter.formula(explanation.formula)}"]
    code = painter.code(explanation.loop_code, loop_plan.variables())
    lines += ["", "loop code", *(f"  {line}" for line in code.splitlines())]
    lines += ["", f"operands ({_values_note(values, seed)})"]
    for name, operand in zip(loop_plan.names, operands):
        lines += _array_lines(name, operand)
    lines += ["", "result", *_array_lines("out", result)]
    return "\n".join(lines)


def script(explanation: Explanation, values: str, seed: int, painter: Painter) -> str:
    """The loops as a runnable script: the operands, the loops, and a check against numpy."""
    loop_plan = explanation.plan
    names = loop_plan.names
    lines = [f"# {loop_plan.equation}: {explanation.title} (written by einviz {__version__})",
             "import numpy as np", ""]
    if values == "random":
        rng = "rng" if "rng" not in names else "rng_"
        lines.append(f"{rng} = np.random.default_rng({seed})")
        lines += [f"{n} = {rng}.integers(-3, 6, size={s!r})" for n, s in zip(names, loop_plan.shapes)]
    elif values == "ones":
        lines += [f"{n} = np.ones({s!r}, dtype=np.int64)" for n, s in zip(names, loop_plan.shapes)]
    else:
        lines += [f"{n} = np.arange(1, {math.prod(s) + 1}).reshape({s!r})"
                  for n, s in zip(names, loop_plan.shapes)]
    lines += ["", painter.code(explanation.loop_code, loop_plan.variables()), "", "print(out)"]
    arguments = ", ".join(names)
    lines.append(f"assert np.array_equal(out, np.einsum({str(loop_plan.equation)!r}, {arguments}))")
    if explanation.equivalent is not None:
        lines.append(f"assert np.array_equal(out, {explanation.equivalent})  # without einsum")
    return "\n".join(lines)


