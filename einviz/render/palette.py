"""Label colours: one colour per index letter, the same in every picture and on the terminal.

The hues are Okabe and Ito's colour-blind-safe set, Paul Tol's wine (lightened) and a violet, darkened
where needed so a bold letter stays readable on white (contrast at least 3.4:1) but never so
dark that it reads as the text's ink (Tol's indigo did: it is gone). Yellow, which no
darkening saves, is left out, and so are grey (it reads as plain text) and orange (a
protanope sees it as vermillion). Colour is never the only cue: every coloured thing also
shows its letter.

A letter keeps its colour from figure to figure: each letter has a preferred slot of the
palette (``i`` blue, ``j`` vermillion, ``k`` green, ``b`` purple, ...) and takes it unless
another label of the same figure took it first; then it takes the first free slot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["INK", "MUTED", "PALETTE", "PREFERRED", "label_colours", "tint"]

#: Label colours in the order they are handed out: each next the one furthest from those
#: before it for normal, deuteranopic and protanopic eyes alike, so up to six labels (every
#: einsum in the examples) never share a look, and none looks like the text's ink.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#008A65",  # bluish green
    "#B0579A",  # reddish purple
    "#7F4FC9",  # violet
    "#A62B6A",  # wine (Tol), lightened: darker reads as ink to a protanope
    "#2C89BF",  # sky blue, darkened
    "#7A6A00",  # olive
)

#: The colour of ordinary text and of grid lines' darker parts.
INK = "#222222"
#: The colour of secondary text (sizes, indices, notes).
MUTED = "#6B7078"


#: Each letter's preferred slot of :data:`PALETTE`. The letters einsums use together most
#: (``ij,jk``, ``bij,bjk``, ``bhqd,bhkd``, ``abcde``, ``nchw``, ``mn,np``) prefer different
#: slots; a letter not listed prefers the slot its code point picks.
PREFERRED: dict[str, int] = {
    **dict.fromkeys("ianx", 0), **dict.fromkeys("jmgy", 1), **dict.fromkeys("kcsz", 2),
    **dict.fromkeys("bto", 3), **dict.fromkeys("hev", 4), **dict.fromkeys("dr", 5),
    **dict.fromkeys("qw", 6), **dict.fromkeys("lfpu", 7),
}
#: The letters that win a preferred slot over any other letter preferring it.
FIRST = "ijkbhdql"


def _slot(label: str) -> int:
    return PREFERRED.get(label, ord(label[0]) % len(PALETTE)) if label else 0


def label_colours(labels: Iterable[str],
                  overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Give every label its colour, ``'#rrggbb'``: the same letter the same colour in every
    figure, wherever that clashes with no other label of the figure.

    Each label takes its preferred slot of :data:`PALETTE` (see :data:`PREFERRED`) when no
    label before it took that slot; the others then take the free slots in palette order.
    einviz's pictures colour ``plan.equation.labels`` (order of first appearance in the
    subscripts) followed by ``plan.ellipsis``; pass the same labels to get the same
    colours, e.g. for a terminal. Past eight labels the colours repeat (the letters tell
    them apart).

    Args:
        labels: the labels, each once (repeats keep their first colour).
        overrides: colours the caller chose, label -> any CSS colour; labels it names keep
            them, and their palette colours are not given to another label.

    Returns:
        A dict from label to colour, in the order the labels come.

    >>> label_colours("ijk")
    {'i': '#0072B2', 'j': '#D55E00', 'k': '#008A65'}
    >>> label_colours("kji") == label_colours("ijk")  # a letter keeps its colour
    True
    >>> label_colours("ij", overrides={"j": "tomato"})["j"]
    'tomato'
    """
    order = list(dict.fromkeys(labels))
    chosen = {label: overrides[label] for label in order if overrides and label in overrides}
    taken = {colour.upper() for colour in chosen.values()}
    slots: dict[str, int] = {}
    # The commonest letters claim their slots first, then the rest in order of appearance
    # (an ellipsis' Greek letters last: no letter of the subscripts gives way to them).
    claims = sorted(order, key=lambda label: (label not in FIRST, label not in PREFERRED))
    for label in claims:
        if label not in chosen and PALETTE[_slot(label)] not in taken:
            slots[label] = _slot(label)
            taken.add(PALETTE[_slot(label)])
    free = [k for k in range(len(PALETTE)) if PALETTE[k] not in taken]
    rest = [label for label in order if label not in chosen and label not in slots]
    for number, label in enumerate(rest):
        slots[label] = free[number] if number < len(free) else _slot(label)
    return {label: chosen[label] if label in chosen else PALETTE[slots[label]] for label in order}


def tint(colour: str, amount: float = 0.82) -> str:
    """A light version of a colour: ``amount`` of the way to white.

    >>> tint("#000000", 0.5)
    '#808080'
    """
    red, green, blue = (int(colour[k : k + 2], 16) for k in (1, 3, 5))
    mixed = (round(c + (255 - c) * amount) for c in (red, green, blue))
    return "#" + "".join(f"{c:02x}" for c in mixed)
