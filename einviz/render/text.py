"""The words and numbers a figure writes, and how wide they are.

Numbers are written compactly (:func:`format_value`), text is measured in the fonts the SVG
names (:func:`mono_width`, :func:`sans_width`), wrapped into caption lines, and split into
:class:`Span` runs, each coloured as its label: the call, the formula, the legend, the loop
code and the narrative's sentences.

>>> format_value(-1234.4), format_factor(-1)
('−1234', '(−1)')
>>> wrap("out[0,1] = A[0,0] × B[0,1] (i: 2, j: 3)", 16)
['out[0,1] =', 'A[0,0] × B[0,1]', '(i: 2, j: 3)']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import ArgumentTypeError

if TYPE_CHECKING:
    from ..explaining import Sentence
    from ..planning import LoopPlan

__all__ = [
    "MONO_EM",
    "Span",
    "Text",
    "format_factor",
    "format_value",
    "mono_width",
    "sans_width",
    "wrap",
]

#: DejaVu Sans Mono advances 0.602 em per character; DejaVu Sans varies (see :func:`sans_width`).
MONO_EM = 0.602


# -- numbers ---------------------------------------------------------------------------------
def format_value(value: Any, digits: int = 3) -> str:
    """A number written compactly: integers as integers, floats to ``digits`` significant
    digits (3; from 1000 to 99999, to the nearest whole number when ``digits`` is 3 to 5).

    Negative numbers take a true minus sign.

    >>> [format_value(v) for v in (3, -12, 0.5, 2/3, -1234.4, 4.567e-4, 2.5e6, True, float("inf"))]
    ['3', '−12', '0.5', '0.667', '−1234', '4.57e−4', '2.5e6', '1', '∞']
    """
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value)).replace("-", "−")
    if isinstance(value, (complex, np.complexfloating)):
        real, imag = format_value(value.real), format_value(abs(value.imag))
        sign = "−" if value.imag < 0 else "+"
        return f"{real}{sign}{imag}j".replace("−", "-", 0)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"a figure shows numbers, not {value!r} ({type(value).__name__})",
                                hint="give numeric arrays") from None
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    if number == 0:
        return "0"
    if 1e3 <= abs(number) < 1e5 and digits <= 5:
        # Thousands read better whole than as 1.25e3; rounded to 3 significant digits
        # (12300 for 12345.6) they would look exact and wrong, so to the nearest whole.
        return str(round(number)).replace("-", "−")
    text = f"{number:.{digits}g}"
    if abs(number) < 1e-3:
        text = f"{number:.{digits - 1}e}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        text = f"{mantissa}e{int(exponent)}"
    return text.replace("-", "−")


def format_factor(value: Any, digits: int = 3) -> str:
    """A number as a factor inside a product: negatives in parentheses.

    >>> format_factor(-1), format_factor(2.5)
    ('(−1)', '2.5')
    """
    text = format_value(value, digits)
    return f"({text})" if text.startswith("−") or "+" in text.lstrip("−") else text


def ref(name: str, index: Sequence[Any]) -> str:
    """An element written as code: ``A[0,2]`` (a 0-d array: its name alone)."""
    return f"{name}[{','.join(str(i) for i in index)}]" if len(index) else name


def _shown(text: str) -> float:
    """The number a formatted value reads as."""
    return float(text.strip("()").replace("−", "-").replace("∞", "inf"))


def agreeing(terms: Sequence[Sequence[Any]], total: Any) -> tuple[int, str]:
    """The digits to write a sum's terms (each a product of factors) and its total with, so
    the numbers shown add up to the total shown; and ``"="``, or ``"≈"`` when no digits up
    to 6 make them agree.

    >>> agreeing([[0.1125], [-0.3684]], 0.1125 - 0.3684)
    (4, '=')
    >>> agreeing([[1], [2]], 3)
    (3, '=')
    """
    if all(isinstance(v, (int, np.integer, bool, np.bool_)) for t in terms for v in t):
        return 3, "="
    try:
        for digits in range(3, 7):
            shown = sum(math.prod(_shown(format_value(v, digits)) for v in term) for term in terms)
            if format_value(shown, digits) == format_value(total, digits):
                return digits, "="
    except (TypeError, ValueError):
        return 3, "="
    return 3, "≈"


# -- runs of text ------------------------------------------------------------------------------
class Span(NamedTuple):
    """A run of text: coloured (and bold) as ``label`` when given, else in ``tone``."""

    text: str
    label: str | None = None
    tone: str | None = None  # None (ink), "muted", "strong"


class Text(NamedTuple):
    """A line of text; ``x, y`` is its anchor on the baseline."""

    x: float
    y: float
    spans: tuple[Span, ...]
    size: float = 12.0
    font: str = "sans"  # "sans" | "mono"
    anchor: str = "start"  # "start" | "middle" | "end"
    weight: str = "normal"
    tone: str | None = None
    role: str = ""

    @property
    def plain(self) -> str:
        return "".join(span.text for span in self.spans)


# -- widths ------------------------------------------------------------------------------------
def mono_width(text: str, size: float) -> float:
    """The width of text in DejaVu Sans Mono at ``size`` px."""
    return len(text) * MONO_EM * size


#: DejaVu Sans' advance widths (in em) of the signs the figures write; letters go by class.
_SANS_SIGNS = {
    **dict.fromkeys(" ,.·", 0.318), **dict.fromkeys("'", 0.275), **dict.fromkeys("/:;|\\", 0.337),
    "-": 0.361, **dict.fromkeys("()[]", 0.39), "!": 0.401, '"': 0.46, "?": 0.531, "Σ": 0.632,
    **dict.fromkeys("${}", 0.636), "&": 0.78, **dict.fromkeys("#+<=>^~×−→≈←↓", 0.838),
    "%": 0.95, **dict.fromkeys("@…⋯", 1.0),
}


def sans_width(text: str, size: float, bold: bool = False) -> float:
    """The width of text in DejaVu Sans at ``size`` px: signs by their own widths, letters
    and digits by their class."""
    total = 0.0
    for char in text:
        if char in _SANS_SIGNS:
            total += _SANS_SIGNS[char]
        elif char.isdigit():
            total += 0.636
        elif char.isupper():
            total += 0.70
        elif char.islower():
            total += 0.58
        else:
            total += 0.5
    return total * size * (1.07 if bold else 1.0)


# -- wrapping ----------------------------------------------------------------------------------
def wrap(text: str, width: int) -> list[str]:
    """Words filled into lines of ``width`` characters; a short group in parentheses, like
    ``(2, 4)`` or ``(i: 2, j: 3)``, is never broken."""
    words: list[str] = []
    for word in text.split(" "):
        if words and words[-1].startswith("(") and ")" not in words[-1] \
                and len(words[-1]) + 1 + len(word) <= 24:
            words[-1] += " " + word
        else:
            words.append(word)
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines



def pack(sentences: Sequence[Sentence], chars: int, lines: int, frames: int) -> list[list[Sentence]]:
    """Sentences grouped into at most ``frames`` captions of at most ``lines`` wrapped lines."""
    groups: list[list[Sentence]] = []
    for sentence in sentences:
        if groups and len(wrap(_joined(groups[-1] + [sentence]), chars)) <= lines:
            groups[-1].append(sentence)
        else:
            groups.append([sentence])
    if frames < 1:
        return []
    while len(groups) > frames:
        # Merge the pair of neighbours that makes the shortest caption.
        k = min(range(len(groups) - 1), key=lambda i: len(_joined(groups[i] + groups[i + 1])))
        groups[k : k + 2] = [groups[k] + groups[k + 1]]
    return groups


def _joined(sentences: Sequence[Sentence]) -> str:
    return " ".join(sentence.text for sentence in sentences)



def packed(parts: Sequence[str], chars: int, most: int = 2) -> tuple[tuple[Span, ...], ...]:
    """Caption lines of ``parts`` (each starting with its separator): one line when they fit,
    else the first part then the rest (the arithmetic together) when that fits, else wrapped
    between parts, never inside a number; a line past ``most`` is cut (``…``)."""
    whole, rest = "".join(parts), "    " + "".join(parts[1:]).lstrip()
    if len(whole) <= chars:
        return (clip(whole, chars),)
    if len(parts[0]) <= chars and len(rest) <= chars:
        return (clip(parts[0], chars), clip(rest, chars))
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + len(part) <= chars:
            lines[-1] += part
        else:
            lines.append("    " + part.lstrip())
    if len(lines) > most:
        lines[most - 1:] = [" ".join(line.strip() for line in lines[most - 1:])]
        lines[most - 1] = "    " + lines[most - 1]
    return tuple(clip(line, chars) for line in lines)


def ref_spans(name: str, index: Sequence[Any], labels: Sequence[str | None]) -> list[Span]:
    """An element as code, each index coloured as its label: ``A[0,2]`` (``None``: no colour).

    >>> [s.label for s in ref_spans("A", (0, 2), ("i", "j"))]
    [None, 'i', None, 'j', None]
    """
    if not len(index):
        return [Span(name)]
    spans = [Span(name + "[")]
    for k, (value, label) in enumerate(zip(index, labels)):
        if k:
            spans.append(Span(","))
        spans.append(Span(str(value), label=label))
    spans.append(Span("]"))
    return spans


def clip(text: str, chars: int) -> tuple[Span, ...]:
    """One caption line of at most ``chars`` characters (cut with ``…``)."""
    if len(text) > chars:
        text = text[: chars - 1] + "…"
    return (Span(text),)


# -- coloured lines ----------------------------------------------------------------------------
def label_spans(text: str, labels: Iterable[str]) -> tuple[Span, ...]:
    """Text with every label letter coloured (runs of other characters kept together)."""
    known = set(labels)
    spans: list[Span] = []
    for char in text:
        if char in known:
            spans.append(Span(char, label=char))
        elif spans and spans[-1].label is None and spans[-1].tone is None:
            spans[-1] = Span(spans[-1].text + char)
        else:
            spans.append(Span(char))
    return tuple(spans)


def prose_lines(sentences: Sequence[Sentence], width: int) -> list[tuple[Span, ...]]:
    """Sentences joined with spaces and wrapped to ``width`` characters, each label the
    explanation marks (:attr:`~einviz.explaining.Sentence.coloured`, a letter or a word)
    drawn in its label's colour.

    >>> from einviz.explaining import explain
    >>> lines = prose_lines(explain("ij->i", shapes=[(2, 3)]).sentences[3:4], 40)
    >>> [span.text for span in lines[0] if span.label]
    ['j']
    """
    text = " ".join(sentence.text for sentence in sentences)
    ends: dict[int, int] = {}
    offset = 0
    for sentence in sentences:
        ends.update((offset + start, offset + end) for start, end in sentence.coloured)
        offset += len(sentence.text) + 1
    spans: list[Span] = []
    k = 0
    while k < len(text):
        if k in ends:
            spans.append(Span(text[k:ends[k]], label=text[k:ends[k]]))
            k = ends[k]
            continue
        if spans and spans[-1].label is None:
            spans[-1] = Span(spans[-1].text + text[k])
        else:
            spans.append(Span(text[k]))
        k += 1
    lines: list[tuple[Span, ...]] = []
    for line in wrap(text, width):
        taken: list[Span] = []
        left = len(line)
        while left > 0:
            span = spans.pop(0)
            if len(span.text) > left:
                spans.insert(0, span._replace(text=span.text[left:]))
                span = span._replace(text=span.text[:left])
            taken.append(span)
            left -= len(span.text)
        lines.append(tuple(taken))
        if spans:  # the space the line was broken at
            spans[0] = spans[0]._replace(text=spans[0].text[1:])
            if not spans[0].text:
                spans.pop(0)
    return lines


def call_spans(plan: LoopPlan) -> tuple[Span, ...]:
    """The header's first line: the call, ``np.einsum("ij,jk->ik", A, B)``; in implicit
    mode, the output it implies after it (``np.einsum("ij,jk", A, B)  # → ik``).

    >>> from einviz.planning import plan
    >>> "".join(s.text for s in call_spans(plan("ij,jk", shapes=[(2, 3), (3, 2)])))
    'np.einsum("ij,jk", A, B)  # → ik'
    """
    source = plan.equation.source.strip() if plan.equation.source else str(plan.equation)
    spans = [Span("np.einsum(\"")]
    body = label_spans(source, plan.equation.labels)
    spans += list(body)  # as written: the call can be copied and run
    spans.append(Span("\", " + ", ".join(plan.names) + ")"))
    if not plan.equation.explicit:
        # Implicit mode: the output einsum gives it (labels seen once, sorted), written out.
        spans.append(Span("  # → ", tone="muted"))
        spans += [Span(label, label=label) for label in plan.output] or [Span("a number", tone="muted")]
    return tuple(spans)


def formula_spans(plan: LoopPlan) -> tuple[Span, ...]:
    """The formula: ``out[i,k] = Σ_j A[i,j] · B[j,k]``."""
    spans: list[Span] = []

    def indexed(name: str, labels: Sequence[str]) -> None:
        spans.append(Span(name))
        if labels:
            spans.append(Span("["))
            for k, label in enumerate(labels):
                if k:
                    spans.append(Span(","))
                spans.append(Span(label, label=label))
            spans.append(Span("]"))

    indexed("out", plan.output)
    spans.append(Span(" = "))
    if plan.summed:
        spans.append(Span("Σ_" + ("{" if len(plan.summed) > 1 else "")))
        for k, label in enumerate(plan.summed):
            if k:
                spans.append(Span(","))
            spans.append(Span(label, label=label))
        spans.append(Span(("}" if len(plan.summed) > 1 else "") + " "))
    for k, (name, term) in enumerate(zip(plan.names, plan.terms)):
        if k:
            spans.append(Span(" · "))
        indexed(name, term)
    return tuple(s for s in spans if s.text)


def legend_spans(plan: LoopPlan) -> tuple[Span, ...]:
    """The legend: the kept labels and the summed ones, with their sizes."""
    spans: list[Span] = []

    def group(title: str, labels: Sequence[str]) -> None:
        if not labels:
            return
        if spans:
            spans.append(Span("    "))
        spans.append(Span(title, tone="muted"))
        for label in labels:
            spans.append(Span(" "))
            spans.append(Span(label, label=label))
            note = " (…)" if label in plan.ellipsis else ""
            spans.append(Span(f"={plan.sizes[label]}{note}", tone="muted"))

    group("kept:", plan.free)
    group("summed:", plan.summed)
    if not spans:
        spans.append(Span("no labels: a product of scalars", tone="muted"))
    return tuple(spans)


def code_lines(plan: LoopPlan) -> tuple[list[tuple[Span, ...]], int, dict[str, int]]:
    """The loop code's lines, the multiply-add's line, and each label's ``for`` line."""
    names = plan.variables()
    start = "out = 0" if not plan.output else f"out = np.zeros({plan.out_shape!r})"
    lines: list[tuple[Span, ...]] = [(Span(start),)]
    label_lines: dict[str, int] = {}
    indent = ""
    for label in plan.labels:
        label_lines[label] = len(lines)
        lines.append((Span(f"{indent}for "), Span(names[label], label=label),
                      Span(f" in range({plan.sizes[label]}):")))
        indent += "    "
    variable_labels = {v: k for k, v in names.items()}
    # A copy (nothing summed) writes each output cell once: "=", not "+=".
    target = plan.index_expression(None) if plan.output else "out"
    statement = indent + target + (" += " if plan.summed else " = ") + " * ".join(
        plan.index_expression(k) for k in range(plan.n_operands))
    spans: list[Span] = []
    for token in _tokens(statement):
        if token in variable_labels:
            spans.append(Span(token, label=variable_labels[token]))
        elif spans and spans[-1].label is None:
            spans[-1] = Span(spans[-1].text + token)
        else:
            spans.append(Span(token))
    lines.append(tuple(spans))
    return lines, len(lines) - 1, label_lines


def _tokens(text: str) -> list[str]:
    tokens, word = [], ""
    for char in text:
        if char.isalnum() or char == "_":
            word += char
        else:
            if word:
                tokens.append(word)
                word = ""
            tokens.append(char)
    if word:
        tokens.append(word)
    return tokens


def line_width(spans: Sequence[Span], size: float) -> float:
    """The width of a line of monospaced spans."""
    return mono_width("".join(s.text for s in spans), size)

