"""What every example shares: einviz importable from a checkout, the ``--out`` folder, and saving.

Each example imports this first. Run from a clone without installing einviz, it puts the
repository on ``sys.path`` so that ``import einviz`` finds the package next to ``examples/``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

try:
    import einviz
except ImportError:  # run from a checkout, not installed
    sys.path.insert(0, str(ROOT))
    import einviz

__all__ = ["ROOT", "einviz", "output_folder", "save"]


def output_folder(script: str, doc: str | None, argv: list[str] | None = None) -> Path:
    """Read ``--out DIR`` (default ``examples/out/<script name>/``), make the folder, return it.

    Args:
        script: the example's ``__file__``.
        doc: the example's docstring; its first line is the ``--help`` description.
        argv: the arguments (default: the command line).
    """
    name = Path(script).stem
    parser = argparse.ArgumentParser(
        prog=Path(script).name,
        description=(doc or name).strip().splitlines()[0],
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / "out" / name,
        help=f"folder for the figures (default: examples/out/{name}/)",
    )
    folder: Path = parser.parse_args(argv).out
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save(animation: einviz.Animation, folder: Path, stem: str) -> None:
    """Write the animated SVG, the hero PNG (the final state) and the interactive player as
    ``stem.svg``, ``stem.png`` and ``stem.html``."""
    svg, png, html = (folder / f"{stem}{suffix}" for suffix in (".svg", ".png", ".html"))
    animation.to_svg(svg)
    animation.to_png(png)
    animation.to_html(html)
    for path in (svg, png, html):
        print(f"  wrote {path}")
