"""The pictures: lay an einsum out once (:mod:`.scene`), draw it as SVG (:mod:`.svg`).

:mod:`.palette` gives every label its colour, for the pictures and for the terminal.
"""

from .palette import label_colours
from .scene import Frame, Mark, Scene, build_scene, format_factor, format_value
from .svg import render

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
