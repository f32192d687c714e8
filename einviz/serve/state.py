"""What the playground shows, as data: the state in the address bar, and its presets.

A :class:`State` is the text of the page's boxes (subscripts, shapes, sizes, values, seed).
It comes from a query string (``/?s=ij,jk->ik&shapes=2x3,3x4``), goes back into one, and is
all the server needs to draw a figure: no user code, only text checked here.

>>> state = State.from_query({"s": "ij->i", "shapes": "3x4"})
>>> state.query()
's=ij-%3Ei&shapes=3x4'
>>> shapes_of("2x3, 3x4")
[(2, 3), (3, 4)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

import numpy as np

from ..errors import LimitError, ShapeError
from ..operands import VALUES as MADE_UP_VALUES
from ..operands import default_shapes, fill
from ..subscripts import ELLIPSIS, Equation

__all__ = ["PRESETS", "VALUES", "BadRequest", "BoxError", "State", "make_operands", "shapes_of", "sizes_of"]

#: The values the page offers; ``yours`` only where a notebook passed its own arrays.
VALUES = (*MADE_UP_VALUES, "yours")
#: The longest text a box may hold; the page refuses longer text with a 400.
MAX_FIELD = 200
#: The most elements one operand made from shapes may have (the server allocates them).
MAX_OPERAND_ELEMENTS = 100_000


class BadRequest(Exception):
    """A request the page would never send (unknown field, text too long): a 400."""


@dataclass(frozen=True)
class State:
    """The playground's boxes: what to draw.

    Attributes:
        s: the subscripts text.
        shapes: the operands' shapes, e.g. ``"2x3,3x4"`` (``""``: made from ``sizes``).
        sizes: some labels' sizes, e.g. ``"i=2,j=5"`` or ``"...=2x3"``.
        values: ``arange``, ``random``, ``ones`` (or ``yours`` in a notebook).
        seed: the seed of ``random``.
    """

    s: str = "ij,jk->ik"
    shapes: str = ""
    sizes: str = ""
    values: str = "arange"
    seed: int = 0

    @classmethod
    def from_query(cls, params: Mapping[str, Any]) -> State:
        """The state a query string (or a dict of the same fields) describes.

        Raises:
            BadRequest: an unknown field, a text over :data:`MAX_FIELD` characters, an
                unknown ``values`` or a ``seed`` that is not a whole number.
        """
        unknown = sorted(set(params) - set(cls.__dataclass_fields__))
        if unknown:
            raise BadRequest(f"unknown field {unknown[0]!r}")
        fields: dict[str, Any] = {}
        for name in ("s", "shapes", "sizes", "values"):
            if name in params:
                text = params[name]
                if not isinstance(text, str) or len(text) > MAX_FIELD:
                    raise BadRequest(f"{name} must be text of at most {MAX_FIELD} characters")
                fields[name] = text
        if fields.get("values", "arange") not in VALUES:
            raise BadRequest(f"values must be one of {', '.join(VALUES)}")
        if "seed" in params:
            seed = str(params["seed"]).strip() or "0"
            if not (seed.isascii() and seed.isdigit() and len(seed) <= 9):
                raise BadRequest("seed must be a whole number from 0 to 999999999")
            fields["seed"] = int(seed)
        return cls(**fields)

    def query(self) -> str:
        """The query string that opens this state (fields left at their defaults left out)."""
        default = State()
        items = [(k, v) for k, v in asdict(self).items() if k == "s" or v != getattr(default, k)]
        return urlencode(items, safe=",=")  # i=2,j=5 reads as typed

    def to_dict(self) -> dict[str, Any]:
        """The state as plain data (for JSON)."""
        return asdict(self)


#: One click away on the page: (name, state).
PRESETS: tuple[tuple[str, State], ...] = (
    ("row sums", State("ij->i", shapes="3x4")),
    ("matmul", State("ij,jk->ik")),
    ("batched matmul", State("bij,bjk->bik", sizes="b=2,j=2")),
    ("attention", State("bqd,bkd->bqk", sizes="b=1,q=3,k=3,d=2")),
    ("covariance", State("ni,nj->ij", shapes="4x2,4x2")),
    ("trace", State("ii->", shapes="3x3")),
    ("outer", State("i,j->ij", shapes="3,4")),
    ("bilinear", State("i,ij,j->", shapes="2,2x3,3")),
    ("ellipsis", State("...ij,...jk->...ik", sizes="...=2,i=2,j=2,k=2")),
)


class BoxError(ShapeError):
    """A Shapes or Sizes box that does not read: its carets point into the box's own text.

    Attributes:
        box: ``"shapes"`` or ``"sizes"``: the box the page shows the message under.
    """

    def __init__(self, box: str, text: str, problem: str, positions: Sequence[int], hint: str,
                 details: Sequence[str] = ()) -> None:
        self.box = box.lower()
        super().__init__(f"{box}: {problem}", subscripts=text, positions=positions,
                         details=details, hint=hint)


_box_error = BoxError


def _shape(box: str, text: str, start: int, end: int) -> tuple[int, ...]:
    item = text[start:end]
    if item.strip() == "scalar":
        return ()
    dims, column = [], start
    for part in item.split("x"):
        number = part.strip()
        if not (number.isascii() and number.isdigit() and len(number) <= 9):
            lead = column + len(part) - len(part.lstrip())
            raise _box_error(box, text, f"{number or item.strip() or 'nothing'!r} is not a size",
                             range(lead, max(lead + len(number), lead + 1)),
                             "sizes are whole numbers joined by x, e.g. 2x3; 'scalar' is 0-d",
                             ["expected: shapes such as 2x3,3x4"])
        dims.append(int(number))
        column += len(part) + 1
    return tuple(dims)


def shapes_of(text: str) -> list[tuple[int, ...]]:
    """The shapes a Shapes box holds: ``"2x3,3x4"`` → ``[(2, 3), (3, 4)]``.

    Raises:
        ShapeError: an item is not a shape; the carets point into ``text``.

    >>> shapes_of("scalar, 5")
    [(), (5,)]
    """
    shapes, start = [], 0
    for item in text.split(","):
        shapes.append(_shape("Shapes", text, start, start + len(item)))
        start += len(item) + 1
    return shapes


def sizes_of(text: str, equation: Equation) -> dict[str, Any]:
    """The label sizes a Sizes box holds: ``"i=2,...=2x3"`` → ``{"i": 2, "...": (2, 3)}``.

    Raises:
        ShapeError: an item is not ``label=size`` or names no label of ``equation``.

    >>> from einviz import parse
    >>> sizes_of("i=2, ...=2x3", parse("...ij->j"))
    {'i': 2, '...': (2, 3)}
    """
    sizes: dict[str, Any] = {}
    if not text.strip():
        return sizes
    start = 0
    for item in text.split(","):
        end = start + len(item)
        label, equals, _ = item.partition("=")
        column = start + len(label) - len(label.lstrip())
        label = label.strip()
        value_start = start + len(item.partition("=")[0]) + 1
        if not equals or not label:
            raise _box_error("Sizes", text, f"{item.strip()!r} is not label=size",
                             range(start, max(end, start + 1)),
                             "give a label, '=' and its size, e.g. i=2,j=5; ...=2x3 sizes '...'")
        known = equation.labels + ((ELLIPSIS,) if equation.has_ellipsis else ())
        if label not in known:
            raise _box_error("Sizes", text, f"{label!r} is not a label of the subscripts",
                             range(column, column + len(label)),
                             "give sizes to the labels of the subscripts only",
                             [f"labels: {', '.join(known) or '(none)'}"])
        dims = _shape("Sizes", text, value_start, end)
        if label != ELLIPSIS and len(dims) != 1:
            raise _box_error("Sizes", text, f"{label!r} needs one size, not {len(dims)}",
                             range(value_start, max(end, value_start + 1)),
                             "one size a label, e.g. i=2")
        sizes[label] = dims if label == ELLIPSIS else dims[0]
        start = end + 1
    return sizes


def shapes_for(state: State, equation: Equation) -> list[tuple[int, ...]]:
    """The operands' shapes: the Shapes box, else label sizes (the Sizes box overriding some
    of :func:`einviz.operands.default_shapes`' 2, 3, 4, … by first appearance)."""
    if state.shapes.strip():
        if state.sizes.strip():
            raise _box_error("Sizes", state.sizes, "give shapes or sizes, not both",
                             range(len(state.sizes)), "empty one of the two boxes")
        return shapes_of(state.shapes)
    return default_shapes(equation, sizes_of(state.sizes, equation))


def make_operands(shapes: Sequence[tuple[int, ...]], values: str, seed: int) -> list[np.ndarray]:
    """Small integer operands by :func:`einviz.operands.fill`, as the command and the library
    make them: ``arange`` (1, 2, 3, … each), ``random`` (-3 to 5, from ``seed``) or ``ones``.

    Raises:
        LimitError: an operand would have more than :data:`MAX_OPERAND_ELEMENTS` elements
            (checked before anything is allocated).

    >>> make_operands([(2,)], "arange", 0)[0].tolist()
    [1, 2]
    """
    for k, shape in enumerate(shapes):
        elements = math.prod(shape)
        if elements > MAX_OPERAND_ELEMENTS:
            raise LimitError(
                f"operand {k + 1} would have {elements:,} elements, more than the playground's "
                f"limit of {MAX_OPERAND_ELEMENTS:,}",
                details=[f"shape {shape}"], hint="give smaller shapes or sizes")
    return fill(shapes, values, seed)
