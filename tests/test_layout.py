"""Where everything sits (einviz.render.layout): aligned grids, cut axes, slices, and a cost
that follows the cells drawn."""

from __future__ import annotations

import itertools
import re

import numpy as np
from figures import make

from einviz.animation import animate


def test_layout_aligns_matmul_rows_and_columns() -> None:
    anim = make("matmul")
    scene = anim.scene
    where = {(b.operand, b.index): (b.x, b.y) for b in scene.boxes if b.index is not None}
    for i, j, k in itertools.product(range(2), range(3), range(4)):
        assert where[("out", (i, k))][1] == where[("A", (i, j))][1]  # rows line up with A's
        assert where[("out", (i, k))][0] == where[("B", (j, k))][0]  # columns with B's
    row_sums = make("row-sums").scene
    where = {(b.operand, b.index): (b.x, b.y) for b in row_sums.boxes if b.index is not None}
    assert where[("out", (1,))][1] == where[("A", (1, 0))][1]
    assert where[("out", (1,))][0] > where[("A", (1, 2))][0]
    column_sums = make("column-sums").scene
    where = {(b.operand, b.index): (b.x, b.y) for b in column_sums.boxes if b.index is not None}
    assert where[("out", (2,))][0] == where[("A", (1, 2))][0]
    assert where[("out", (2,))][1] > where[("A", (1, 2))][1]


def test_long_axes_are_cut_and_steps_still_counted() -> None:
    anim = make("cut-summed-axis", granularity="cell")
    drawn = {b.index for b in anim.scene.boxes if b.operand == "A"}
    assert (0, 19) in drawn and (0, 10) not in drawn
    assert any(b.role == "gap" for b in anim.scene.boxes)
    assert len(anim.trace) == 3 * 20 * 2
    assert "hidden" in " ".join(anim.frames[-1].caption_text()) or \
        any("hidden" in " ".join(f.caption_text()) for f in anim.frames)


def test_slices_titled_by_leading_indices() -> None:
    anim = make("batched-matmul")
    titles = [t.plain for t in anim.scene.texts if t.role == "slice"]
    assert titles == ["b=0", "b=1 →"]  # one title a batch (not one a tile); the arrow: b runs on


def test_ellipsis_and_broadcast_axes_say_so() -> None:
    axes = " ".join(t.plain for t in make("ellipsis-broadcast").scene.texts if t.role == "axis")
    legend = " ".join(t.plain for t in make("ellipsis-broadcast").scene.texts if t.role == "legend")
    assert "(…)" in legend
    broadcast = " ".join(t.plain for t in make("broadcast-size-1").scene.texts if t.role == "axis")
    assert "reused" in broadcast
    assert axes


def test_long_numbers_widen_their_cells_rather_than_shrink_past_reading() -> None:
    a = np.array([[123456, 987654], [-555555, 1]])
    b = np.array([[123456, 2], [3, 999999]])
    anim = animate("ij,jk->ik", a, b)  # results of 12 characters: −68586598077
    sizes = [float(size) for svg in (anim.frame_svg(-1), anim.frame_svg(5), anim.to_svg())
             for size in re.findall(r"font-size:([\d.]+)px", svg)]
    assert sizes and min(sizes) >= 9.5 and anim.scene.width <= 640
    small = animate("ij,jk->ik", np.ones((2, 2), int), np.ones((2, 2), int))
    assert small.scene.cell_w < anim.scene.cell_w  # short numbers keep narrow cells


def test_a_label_cut_in_one_array_is_cut_the_same_in_all() -> None:
    anim = animate("bij->b", sizes={"b": 20, "i": 2, "j": 2})  # b: slices in A, a row in out
    shown = {}
    for box in anim.scene.boxes:
        if box.role in ("cell", "out"):
            shown.setdefault(box.operand, set()).add(box.index[0])
    assert shown["A"] == shown["out"] == {0, 1, 19}


def test_a_broadcast_operand_is_drawn_without_copying_it() -> None:
    import tracemalloc

    a = np.broadcast_to(np.arange(4000.0), (4000, 4000))  # 128 MB it does not hold
    tracemalloc.start()
    try:
        animate("ij->i", a, max_frames=12).to_svg()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < a.nbytes / 10


def test_a_long_summed_axis_costs_memory_by_its_drawn_cells_not_its_length() -> None:
    import tracemalloc

    a = np.arange(2_000_000).reshape(-1, 1)  # one output cell, two million terms
    tracemalloc.start()
    try:
        anim = animate("ij->", a, granularity="cell")
        svg = anim.to_svg()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6  # a list of the hidden indices alone would take 56 MB
    # The ellipsis cell stands for the hidden run of i, kept as a range, not a list.
    spread = next(m for f in anim.frames for m in f.marks if m.index is None)
    hidden = dict(spread.values)["i"]
    assert isinstance(hidden, range) and hidden.stop == 1_999_999  # the last row is drawn
    assert f'data-values="i={hidden.start}:1999998;j=0"' in svg


def test_an_object_array_of_unorderable_numbers_is_drawn() -> None:
    values = np.array([1j, 2], dtype=object)
    svg = animate("i->", values).to_svg()
    assert np.einsum("i->", values) == 2 + 1j
    assert "2+1j" in svg  # the final sum, as its cell shows it


def _cells(anim) -> dict:
    return {(b.operand, b.index): (b.x, b.y) for b in anim.scene.boxes if b.index is not None}


def test_batched_matmul_repeats_the_matmul_tableau_for_every_batch() -> None:
    anim = animate("bij,bjk->bik", shapes=[(2, 2, 3), (2, 3, 2)])
    where = _cells(anim)
    for b, i, j, k in itertools.product(range(2), range(2), range(3), range(2)):
        out_x, out_y = where[("out", (b, i, k))]
        assert out_y == where[("A", (b, i, j))][1]  # A's rows beside out's, in each batch
        assert out_x == where[("B", (b, j, k))][0]  # B's columns over out's
        assert where[("A", (b, i, j))][0] < out_x and where[("B", (b, j, k))][1] < out_y
    titles = [t.plain for t in anim.scene.texts if t.role == "slice"]
    assert titles == ["b=0", "b=1 →"]


def test_attention_lines_up_queries_keys_and_the_summed_d() -> None:
    anim = animate("bhqd,bhkd->bhqk", shapes=[(1, 2, 3, 2), (1, 2, 3, 2)])
    where = _cells(anim)
    for h, q, k, d in itertools.product(range(2), range(3), range(3), range(2)):
        out_x, out_y = where[("out", (0, h, q, k))]
        assert out_y == where[("A", (0, h, q, d))][1]  # q down in A and out
        assert out_x == where[("B", (0, h, k, d))][0]  # k across in B and out
        assert where[("A", (0, h, q, d))][0] == where[("A", (0, h, 0, d))][0]  # d across in A ...
        assert where[("B", (0, h, k, d))][1] == where[("B", (0, h, 0, d))][1]  # ... and down in B
    texts = anim.scene.texts
    assert not [t for t in texts if t.role == "arrow"]
    # Each batch is titled once, not every tile of it (6 tiles, 2 titles).
    assert [t.plain for t in texts if t.role == "slice"] == ["b=0, h=0", "b=0, h=1 →"]


def test_a_broadcast_batch_is_drawn_as_ghosts_of_the_reused_slice() -> None:
    anim = animate("bij,bjk->bik", shapes=[(1, 2, 3), (3, 3, 2)])
    ghosts = [t.plain for t in anim.scene.texts if t.role == "ghost"]
    assert ghosts == ["A reused for b"] * 2
    assert sum(b.role == "slice-gap" for b in anim.scene.boxes) == 2
    where = _cells(anim)
    assert where[("out", (2, 1, 0))][0] == where[("B", (2, 0, 0))][0]


def test_small_multiples_title_each_leading_label_once_a_row_or_column() -> None:
    anim = animate("abcd->abcd", shapes=[(2, 2, 2, 2)])
    titles = [t.plain for t in anim.scene.texts if t.role == "slice"]
    # Per array: the top row names b, the first column names a; never "a=…, b=…" on every tile.
    assert titles.count("a=0, b=0") == 2 and titles.count("b=1 →") == 2
    assert titles.count("a=1 ↓") == 2 and len(titles) == 6


def test_no_arrow_points_at_an_output_that_opens_its_own_line() -> None:
    for subscripts, shapes in [("bhqd,bhkd->bhqk", [(2, 4, 8, 16)] * 2),
                               ("...ij,...jk", [(2, 1, 2, 3), (2, 3, 2)]),
                               ("abcde,abcef->abcdf", [(2, 1, 2, 2, 2)] * 2)]:
        anim = animate(subscripts, shapes=shapes)
        where = _cells(anim)
        for arrow in (t for t in anim.scene.texts if t.role == "arrow"):
            before = [x for (name, _), (x, y) in where.items()
                      if name != "out" and x < arrow.x and y - 60 < arrow.y < y + 60]
            assert before, (subscripts, arrow)


def test_an_operand_draws_a_label_the_way_the_output_does() -> None:
    # Too many batches for the tableau: the plain row, with B's k across as in out.
    anim = animate("bhqd,bhkd->bhqk", shapes=[(2, 4, 8, 16)] * 2)
    where = _cells(anim)
    assert where[("B", (0, 0, 0, 0))][1] == where[("B", (0, 0, 1, 0))][1]
    assert where[("B", (0, 0, 0, 0))][0] < where[("B", (0, 0, 1, 0))][0]
    # A transpose keeps its own order: that is what it shows.
    where = _cells(animate("ij->ji", shapes=[(2, 3)]))
    assert where[("A", (0, 0))][1] == where[("A", (0, 1))][1]


def test_a_batched_outer_product_draws_each_batch_as_column_times_row() -> None:
    where = _cells(animate("bi,bj->bij", shapes=[(2, 3), (2, 2)]))
    for b, i, j in itertools.product(range(2), range(3), range(2)):
        assert where[("out", (b, i, j))][1] == where[("A", (b, i))][1]  # A a column beside out
        assert where[("out", (b, i, j))][0] == where[("B", (b, j))][0]  # B a row over it


def test_the_arrow_points_at_the_output_title_not_at_a_row_label() -> None:
    for subscripts, shapes in [("ij,ij->ij", [(2, 3)] * 2), ("abcde->ea", [(2, 1, 2, 2, 3)])]:
        texts = animate(subscripts, shapes=shapes).scene.texts
        (arrow,) = [t for t in texts if t.role == "arrow"]
        title = next(t for t in texts if t.role == "title" and t.plain.startswith("out"))
        rows = [t for t in texts if t.role == "axis" and t.anchor == "end"]
        assert abs(arrow.y - title.y) < 8 and arrow.x < title.x
        assert all(abs(arrow.y - row.y) > 12 for row in rows)
