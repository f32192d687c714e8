"""Regenerate the gallery in docs/gallery/: one figure per einsum pattern.

Each pattern gets its animated SVG (plays inside an ``<img>``), its hero PNG (the final
state, with formula and loop code) and a PNG of one step frame; ``index.md`` shows them all.

Run from the repository's root:

    python examples/gallery.py            # writes docs/gallery/
    python examples/gallery.py -o /tmp/g  # somewhere else
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
try:
    import einviz
except ImportError:  # run from a checkout, not installed
    sys.path.insert(0, str(ROOT))
    import einviz
from einviz.animation import animate

#: name -> (subscripts, shapes, what it shows)
PATTERNS: dict[str, tuple[str, list[tuple[int, ...]], str]] = {
    "scalar": ("->", [()], "a 0-d operand: one cell, one step"),
    "scalar-product": (",->", [(), ()], "two scalars multiplied"),
    "total-sum": ("ij->", [(2, 3)], "every element summed into one cell"),
    "row-sums": ("ij->i", [(2, 3)], "the output column stands beside A's rows"),
    "column-sums": ("ij->j", [(2, 3)], "the output row sits under A's columns"),
    "transpose": ("ij->ji", [(2, 3)], "nothing summed: each output cell is one element"),
    "hadamard": ("ij,ij->ij", [(2, 3), (2, 3)], "element by element"),
    "trace": ("ii->", [(3, 3)], "a repeated label lights the diagonal"),
    "diagonal": ("ii->i", [(3, 3)], "the diagonal, kept"),
    "dot": ("i,i->", [(4,), (4,)], "1-d operands as rows"),
    "outer": ("i,j->ij", [(2,), (3,)], "u down the side, v across the top"),
    "matvec": ("ij,j->i", [(2, 3), (3,)], "v above A's columns, out beside A's rows"),
    "matmul": ("ij,jk->ik", [(2, 3), (3, 4)], "out under B and beside A"),
    "batched-matmul": ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)], "3-d arrays as slices b=0, b=1"),
    "attention": ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 2, 2)], "4-d: slices by b and h"),
    "bilinear": ("i,ij,j->", [(2,), (2, 3), (3,)], "three operands around A"),
    "four-operands": ("ab,bc,cd,de->ae", [(2, 2), (2, 3), (3, 2), (2, 2)], "a chain of four"),
    "ellipsis": ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 2)], "the dimension '...' stands for"),
    "ellipsis-broadcast": ("...ij,...jk", [(2, 1, 2, 3), (2, 3, 2)], "a size-1 '...' dimension reused"),
    "broadcast-size-1": ("ij,jk->ik", [(2, 1), (3, 4)], "A's one column reused for every j"),
    "five-d": ("abcde->ea", [(2, 1, 2, 2, 3)], "5-d: small multiples of 2-d slices"),
    "long-axis": ("ij,jk->ik", [(3, 20), (20, 2)], "j cut with an ellipsis cell; every step counted"),
    "large": ("ij,jk->ik", [(14, 10), (10, 12)], "more cells than frames: a stated sample"),
}


def operands(shapes: list[tuple[int, ...]], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-3, 6, size=shape) for shape in shapes]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", default=str(ROOT / "docs" / "gallery"))
    parser.add_argument("--only", nargs="*", help="pattern names to draw (default: all)")
    args = parser.parse_args(argv)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed, (name, (subscripts, shapes, note)) in enumerate(PATTERNS.items()):
        if args.only and name not in args.only:
            continue
        anim = animate(subscripts, *operands(shapes, seed))
        anim.to_svg(folder / f"{name}.svg")
        anim.to_png(folder / f"{name}.png")
        kinds = [f.kind for f in anim.frames]
        first = kinds.index("step") if "step" in kinds else (kinds.index("cell") if "cell" in kinds else 0)
        middle = first + (len(kinds) - 1 - first) // 2
        anim.to_png(folder / f"{name}-frame.png", frame=middle)
        rows.append((name, subscripts, note, anim))
        print(f"{name:<20} {anim!r}")
    lines = [
        "# Gallery",
        "",
        "Regenerate with `python examples/gallery.py`. Each row: the animated SVG (it plays",
        "right here, as an image), then the hero PNG (the final state) and one frame as PNG.",
        "",
    ]
    for name, subscripts, note, anim in rows:
        lines += [
            f"## {name}: `{subscripts}`",
            "",
            f"{note}. {anim.n_frames} frames ({anim.granularity}).",
            "",
            f"![{name}, animated]({name}.svg)",
            "",
            f"[hero PNG]({name}.png) · [frame PNG]({name}-frame.png)",
            "",
        ]
    (folder / "index.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {len(rows)} figures to {folder} (einviz {einviz.__version__})")


if __name__ == "__main__":
    main()
