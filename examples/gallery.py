"""Regenerate the gallery in docs/gallery/: every example script, and one figure per pattern.

Each script in examples/ runs with ``--out docs/gallery/examples/<name>``; each pattern gets
its animated SVG (plays inside an ``<img>``), its hero PNG (the final state, with formula and
loop code) and a PNG of one step frame; ``index.md`` shows them all.

Run from the repository's root:

    python examples/gallery.py            # writes docs/gallery/
    python examples/gallery.py -o /tmp/g  # somewhere else
    python examples/gallery.py --only matmul --examples matmul   # a part of it
"""

from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
try:
    import einviz
except ImportError:  # run from a checkout, not installed
    sys.path.insert(0, str(ROOT))
    import einviz
from einviz.animation import animate  # noqa: E402  (after the path is set)

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

#: name -> (subscripts, shapes, what it shows), drawn with view="product": product, then sum.
PRODUCT_VIEWS: dict[str, tuple[str, list[tuple[int, ...]], str]] = {
    "matmul-product": ("ij,jk->ik", [(2, 3), (3, 2)],
                       "product, then sum: P[j,i,k] = A[i,j]·B[j,k], then Σ over j"),
    "batched-matmul-product": ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)],
                               "product, then sum at rank 3: P's slices titled by j and b"),
    "row-sums-product": ("ij->i", [(2, 3)], "one operand: P is A, then Σ over j"),
}


def shown_frame(anim) -> int:
    """The frame a gallery PNG shows: the product view's first sum; else the last step of the
    first output cell (its whole sum built up), or the middle of the cell frames."""
    kinds = [f.kind for f in anim.frames]
    if "sum" in kinds:
        return kinds.index("sum")
    if "step" in kinds:
        first = kinds.index("step")
        steps = first + kinds[first:].index("cell") if "cell" in kinds[first:] else len(kinds) - 1
        return min(steps - 1, first + anim.trace.steps_per_cell - 1)
    first = kinds.index("cell") if "cell" in kinds else 0
    return first + (len(kinds) - 1 - first) // 2


#: The order the gallery shows the examples in, simplest first; any other script comes after.
EXAMPLE_ORDER = ["row_sums", "trace_and_diagonal", "matmul", "batched_matmul", "bilinear",
                 "covariance", "attention", "four_operands"]


def operands(shapes: list[tuple[int, ...]], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-3, 6, size=shape) for shape in shapes]


def example_scripts() -> list[Path]:
    """The example scripts: every examples/*.py but the gallery scripts (this one and
    diagrams_gallery.py) and the helpers (``_*.py``)."""
    scripts = [p for p in HERE.glob("*.py")
               if not p.stem.endswith("gallery") and not p.name.startswith("_")]
    rank = {name: k for k, name in enumerate(EXAMPLE_ORDER)}
    return sorted(scripts, key=lambda p: (rank.get(p.stem, len(rank)), p.name))


def description(script: Path) -> str:
    """The first line of a script's docstring."""
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    return doc.strip().splitlines()[0] if doc else script.stem


def run_example(script: Path, folder: Path) -> list[Path]:
    """Run one example with ``--out folder`` (emptied first); return the files it wrote."""
    shutil.rmtree(folder, ignore_errors=True)
    done = subprocess.run([sys.executable, str(script), "--out", str(folder)],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{script.name} failed (exit status {done.returncode}):\n{done.stderr}")
    return sorted(p for p in folder.rglob("*") if p.is_file())


def example_lines(folder: Path, examples: dict[Path, list[Path]]) -> list[str]:
    """The "Examples" part of index.md: per script, its animations, then its other files."""
    lines = [
        "## Examples",
        "",
        "The scripts in `examples/`, each a short worked example that prints what it shows;",
        "run one on its own with `python examples/<name>.py` (figures in `examples/out/<name>/`).",
        "",
    ]
    for script, files in examples.items():
        lines += [f"### {script.name}", "", f"{description(script)}", ""]
        shown = set()
        for svg in (f for f in files if f.suffix == ".svg" and f.with_suffix(".png") in files):
            png = svg.with_suffix(".png")
            lines += [f"![{svg.stem}, animated]({svg.relative_to(folder).as_posix()})", "",
                      f"[hero PNG]({png.relative_to(folder).as_posix()})", ""]
            shown |= {svg, png}
        others = [f for f in files if f not in shown]
        if others:
            links = " · ".join(f"[{f.name}]({f.relative_to(folder).as_posix()})" for f in others)
            lines += [f"Also: {links}", ""]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", default=str(ROOT / "docs" / "gallery"))
    parser.add_argument("--only", nargs="*", help="pattern names to draw (default: all)")
    parser.add_argument("--examples", nargs="*", metavar="NAME",
                        help="example scripts to run, by name without .py (default: all; "
                             "none with an empty list)")
    args = parser.parse_args(argv)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    scripts = example_scripts()
    unknown = set(args.examples or ()) - {script.stem for script in scripts}
    if unknown:
        parser.error(f"no example named {', '.join(sorted(unknown))}")
    examples = {}
    for script in scripts:
        if args.examples is not None and script.stem not in args.examples:
            continue
        examples[script] = run_example(script, folder / "examples" / script.stem)
        print(f"{script.name:<24} {len(examples[script])} files")
    rows = []
    cases = [(name, case, "grid") for name, case in PATTERNS.items()]
    cases += [(name, case, "product") for name, case in PRODUCT_VIEWS.items()]
    for seed, (name, (subscripts, shapes, note), view) in enumerate(cases):
        if args.only and name not in args.only:
            continue
        anim = animate(subscripts, *operands(shapes, seed), view=view)
        anim.to_svg(folder / f"{name}.svg")
        anim.to_png(folder / f"{name}.png")
        anim.to_png(folder / f"{name}-frame.png", frame=shown_frame(anim))
        rows.append((name, subscripts, note, anim))
        print(f"{name:<20} {anim!r}")
    lines = [
        "# Gallery",
        "",
        "Regenerate with `python examples/gallery.py`. Each animated SVG plays right here, as an",
        "image; beside it are the hero PNG (the final state) and, for the patterns, one frame.",
        "",
    ]
    if examples:
        lines += example_lines(folder, examples)
    lines += ["## Patterns", "", "One figure per einsum pattern, on small integer operands.", ""]
    for name, subscripts, note, anim in rows:
        lines += [
            f"### {name}: `{subscripts}`",
            "",
            f"{note}. {anim.n_frames} frames ({anim.granularity}).",
            "",
            f"![{name}, animated]({name}.svg)",
            "",
            f"[hero PNG]({name}.png) · [frame PNG]({name}-frame.png)",
            "",
        ]
    (folder / "index.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {len(examples)} examples and {len(rows)} patterns to {folder} "
          f"(einviz {einviz.__version__})")


if __name__ == "__main__":
    main()
