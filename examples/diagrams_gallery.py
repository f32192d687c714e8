"""The diagram views, drawn for a gallery: tensor networks, contraction trees, 3-D blocks.

Each network is written as SVG and PNG (and one as TikZ and DOT), each contraction tree as
SVG and PNG with its path replayed as an animated SVG, the 3-D views as SVG and PNG;
``index.md`` shows them all.

    python examples/diagrams_gallery.py            # writes docs/gallery/diagrams/
    python examples/diagrams_gallery.py --out DIR
"""

from __future__ import annotations

import sys

from _common import ROOT, output_folder

from einviz import diagrams

#: name -> (subscripts, shapes, what the network shows)
NETWORKS: dict[str, tuple[str, list[tuple[int, ...]], str]] = {
    "matmul": ("ij,jk->ik", [(2, 3), (3, 4)], "a bond (j, summed) and two open legs to out"),
    "trace": ("ii->", [(3, 3)], "a loop: a label repeated in one term"),
    "diagonal": ("ii->i", [(3, 3)], "a loop, and a leg to out"),
    "row-sums": ("ij->i", [(2, 3)], "a capped stub: j summed inside one operand"),
    "hadamard": ("ij,ij->ij", [(2, 3), (2, 3)], "hyperedges: each label in three arrays"),
    "batched-matmul": ("bij,bjk->bik", [(8, 2, 3), (8, 3, 4)], "the batch b a hyperedge"),
    "ellipsis": ("...ij,...jk->...ik", [(5, 2, 3), (5, 3, 4)], "'...' as one bundle"),
    "attention": ("bhqd,bhkd->bhqk", [(2, 4, 5, 8), (2, 4, 6, 8)], "two hyperedges, a bond, two legs"),
    "chain": ("ab,bc,cd,de->ae", [(2, 3), (3, 4), (4, 5), (5, 6)], "a matrix chain"),
    "ring": ("ab,bc,cd,de,ef,fg,gh,ha->", [(2, 2)] * 8, "eight operands in a ring, a scalar out"),
    "k4": ("abc,ade,bdf,cef->", [(2, 2, 2)] * 4, "every pair bonded: one node at the hub"),
}

#: name -> (subscripts, shapes) of the contraction trees.
TREES: dict[str, tuple[str, list[tuple[int, ...]]]] = {
    "chain": ("ab,bc,cd,de->ae", [(2, 3), (3, 4), (4, 5), (5, 6)]),
    "attention": ("bhqd,bhkd,bhkv->bhqv", [(2, 4, 5, 8), (2, 4, 6, 8), (2, 4, 6, 8)]),
    "ring": ("ij,jk,kl,lm,mi->", [(2, 3), (3, 4), (4, 5), (5, 6), (6, 2)]),
}


def main() -> None:
    argv = sys.argv[1:] or ["--out", str(ROOT / "docs" / "gallery" / "diagrams")]
    out = output_folder(__file__, __doc__, argv)
    index = ["# Diagrams", "", "Drawn by `python examples/diagrams_gallery.py`. See "
             "[the diagrams page](../../diagrams.md) for how to make them.", "", "## Tensor networks", ""]
    for name, (subscripts, shapes, what) in NETWORKS.items():
        figure = diagrams.network(subscripts, shapes=shapes)
        figure.to_svg(out / f"network-{name}.svg")
        figure.to_png(out / f"network-{name}.png", scale=1.5)
        index += [f"### `{subscripts}`: {what}", "", f"![{subscripts}](network-{name}.svg)", ""]
    loops = diagrams.network("ij,jk->ik", shapes=[(2, 3), (3, 2)])
    loops.animated_svg(out / "network-loops.svg")
    (out / "network-attention.tex").write_text(diagrams.network(*NETWORKS["attention"][:1],
                                                                shapes=NETWORKS["attention"][1]).to_tikz())
    (out / "network-attention.dot").write_text(diagrams.network(*NETWORKS["attention"][:1],
                                                                shapes=NETWORKS["attention"][1]).to_dot())
    index += ["### The loops on the network (animated: the line of the loop variable that moves)", "",
              "![loops](network-loops.svg)", "",
              "The attention network for LaTeX and Graphviz: [network-attention.tex](network-attention.tex), "
              "[network-attention.dot](network-attention.dot).", "", "## Contraction trees", ""]
    for name, (subscripts, shapes) in TREES.items():
        tree = diagrams.contraction_tree(subscripts, shapes=shapes)
        tree.to_svg(out / f"tree-{name}.svg")
        tree.to_png(out / f"tree-{name}.png", scale=1.5)
        tree.animated_svg(out / f"contraction-{name}.svg")
        index += [f"### `{subscripts}`", "", f"![tree]({f'tree-{name}.svg'})", "",
                  f"![the path as network contractions](contraction-{name}.svg)", ""]
    blocks = diagrams.blocks("bij,bjk->bik", shapes=[(2, 2, 3), (2, 3, 2)], lit={"A": [(0, 1, 2)]})
    blocks.to_svg(out / "blocks-batched-matmul.svg")
    blocks.to_png(out / "blocks-batched-matmul.png", scale=1.5)
    cube = diagrams.iteration_cube("ij,jk->ik", shapes=[(2, 3), (3, 4)], step=9)
    cube.to_svg(out / "cube-matmul.svg")
    cube.to_png(out / "cube-matmul.png", scale=1.5)
    cube.animated_svg(out / "cube-matmul-steps.svg")
    index += ["## 3-D blocks", "", "![blocks](blocks-batched-matmul.svg)", "",
              *(f"- {note}" for note in blocks.notes), "",
              "## The iteration cube of `ij,jk->ik`", "", "![cube](cube-matmul.svg)", "",
              "Every step in turn:", "", "![the steps](cube-matmul-steps.svg)", ""]
    (out / "index.md").write_text("\n".join(index))
    for path in sorted(out.iterdir()):
        print(f"  wrote {path}")


if __name__ == "__main__":
    main()
