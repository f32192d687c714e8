"""Label colours: one colour per index letter, the same in every picture and on the terminal.

The hues are Okabe and Ito's colour-blind-safe set and Paul Tol's indigo and wine, darkened
where needed so a bold letter stays readable on white (contrast at least 3.4:1). Yellow,
which no darkening saves, is left out, and so are grey (it reads as plain text) and orange
(a protanope sees it as vermillion). Colour is never the only cue: every coloured thing also
shows its letter.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["INK", "MUTED", "PALETTE", "label_colours", "tint"]

#: Label colours in the order they are handed out: each next the one furthest from those
#: before it for normal, deuteranopic and protanopic eyes alike, so up to six labels (every
#: einsum in the examples) never share a look, and none looks like the text's ink.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#008A65",  # bluish green
    "#B0579A",  # reddish purple
    "#332288",  # indigo (Tol)
    "#882255",  # wine (Tol)
    "#2C89BF",  # sky blue, darkened
    "#7A6A00",  # olive
)

#: The colour of ordinary text and of grid lines' darker parts.
INK = "#222222"
#: The colour of secondary text (sizes, indices, notes).
MUTED = "#6B7078"


def label_colours(labels: Iterable[str]) -> dict[str, str]:
    """Give every label its colour, ``'#rrggbb'``, in the order the labels come.

    einviz's pictures colour ``plan.equation.labels`` (order of first appearance in the
    subscripts) followed by ``plan.ellipsis``; pass the same order to get the same colours,
    e.g. for a terminal. After eight labels the colours repeat (the letters tell them apart).

    Args:
        labels: the labels, each once (repeats keep their first colour).

    Returns:
        A dict from label to colour.

    >>> label_colours("ijk")
    {'i': '#0072B2', 'j': '#D55E00', 'k': '#008A65'}
    """
    colours: dict[str, str] = {}
    for label in labels:
        if label not in colours:
            colours[label] = PALETTE[len(colours) % len(PALETTE)]
    return colours


def tint(colour: str, amount: float = 0.82) -> str:
    """A light version of a colour: ``amount`` of the way to white.

    >>> tint("#000000", 0.5)
    '#808080'
    """
    red, green, blue = (int(colour[k : k + 2], 16) for k in (1, 3, 5))
    mixed = (round(c + (255 - c) * amount) for c in (red, green, blue))
    return "#" + "".join(f"{c:02x}" for c in mixed)
