"""The pictures: lay an einsum out once (:mod:`.scene`), draw it as SVG (:mod:`.svg`).

:func:`build_scene` stands on :mod:`.text` (numbers, widths, coloured lines), :mod:`.layout`
(each array as a grid, the grids arranged) and :mod:`.frames` (what each frame changes);
:mod:`.svg`, :mod:`.gif` and :mod:`.html` (with ``player.js`` and ``player.css``) draw the
scene. :mod:`.palette` gives every label its colour, for the pictures and for the terminal;
it loads without the drawing modules, so the command's colours cost nothing.
"""

from importlib import import_module

from .palette import label_colours

__all__ = [
    "Frame",
    "Mark",
    "Scene",
    "build_scene",
    "format_factor",
    "format_value",
    "label_colours",
    "render",
]

_LAZY = {
    "Frame": ".scene", "Mark": ".scene", "Scene": ".scene", "build_scene": ".scene",
    "format_factor": ".text", "format_value": ".text", "render": ".svg",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
