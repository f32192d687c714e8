"""A named corpus of einsum expressions, shared by the tests of every stage.

Each case has a readable id, the subscripts, and the operands' shapes; operands are made
by :func:`operands` as small integers so every result is exact.
"""

from __future__ import annotations

import numpy as np

#: id -> (subscripts, shapes)
CORPUS: dict[str, tuple[str, list[tuple[int, ...]]]] = {
    "scalar": ("->", [()]),
    "scalar-product": (",->", [(), ()]),
    "total-sum": ("ij->", [(2, 3)]),
    "row-sums": ("ij->i", [(2, 3)]),
    "column-sums": ("ij->j", [(2, 3)]),
    "transpose": ("ij->ji", [(2, 3)]),
    "hadamard": ("ij,ij->ij", [(2, 3), (2, 3)]),
    "trace": ("ii->", [(3, 3)]),
    "diagonal": ("ii->i", [(3, 3)]),
    "repeated-3": ("iij->j", [(2, 2, 3)]),
    "dot": ("i,i->", [(4,), (4,)]),
    "outer": ("i,j->ij", [(2,), (3,)]),
    "matvec": ("ij,j->i", [(2, 3), (3,)]),
    "matmul": ("ij,jk->ik", [(2, 3), (3, 4)]),
    "matmul-implicit": ("ij,jk", [(2, 3), (3, 4)]),
    "batched-matmul": ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    "attention": ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 2, 2)]),
    "bilinear": ("i,ij,j->", [(2,), (2, 3), (3,)]),
    "four-operands": ("ab,bc,cd,de->ae", [(2, 2), (2, 3), (3, 2), (2, 2)]),
    "ellipsis": ("...ij,...jk->...ik", [(2, 2, 3), (2, 3, 2)]),
    "ellipsis-broadcast": ("...ij,...jk", [(2, 1, 2, 3), (4, 3, 2)]),
    "ellipsis-implicit": ("i...->...", [(2, 3, 2)]),
    "broadcast-size-1": ("ij,jk->ik", [(2, 1), (3, 4)]),
    "zero-size": ("ij,jk->ik", [(2, 0), (0, 3)]),
    "zero-out": ("ij->i", [(0, 3)]),
    "uppercase": ("Ab,bC->AC", [(2, 3), (3, 2)]),
    "spaces": (" ij , jk -> ik ", [(2, 3), (3, 2)]),
    "five-d": ("abcde->ea", [(2, 1, 2, 2, 3)]),
}

IDS = list(CORPUS)


def operands(shapes: list[tuple[int, ...]], dtype: str = "int64") -> list[np.ndarray]:
    """Small deterministic integer operands (negative values too) of the given shapes."""
    rng = np.random.default_rng(len(shapes) * 7 + sum(len(s) for s in shapes))
    return [rng.integers(-3, 4, size=shape).astype(dtype) for shape in shapes]


def drawn_values(svg: str) -> dict[tuple[str, str], str]:
    """The value each grid cell of an einviz SVG shows, by (``data-operand``, ``data-index``).

    The cells are drawn in ``g.einviz-cells`` and their values, over the frames' marks, in
    ``g.einviz-top``: a value is centred on its cell, on the value baseline.
    """
    from xml.etree import ElementTree

    from einviz.render.scene import VALUE_BASELINE

    ns = "{http://www.w3.org/2000/svg}"
    root = ElementTree.fromstring(svg)
    cell = next(r for r in root.iter(f"{ns}rect") if r.get("id", "").endswith("c"))
    half = float(cell.get("width")) / 2
    texts = {(round(float(t.get("x")), 1), round(float(t.get("y")), 1)): t.text
             for t in root.find(f".//{ns}g[@class='einviz-top']/{ns}g[@class='v']")}
    values = {}
    for use in root.find(f".//{ns}g[@class='einviz-cells']"):
        spot = (round(float(use.get("x")) + half, 1), round(float(use.get("y")) + VALUE_BASELINE, 1))
        if spot in texts:
            values[(use.get("data-operand"), use.get("data-index"))] = texts[spot]
    return values


def assert_same(result, expected):
    """The same shape, dtype and values (floats to a relative 1e-6): einviz's answer is numpy's."""
    result, expected = np.asarray(result), np.asarray(expected)
    assert result.shape == expected.shape
    assert result.dtype == expected.dtype
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(result, expected)
    else:
        np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-9)
