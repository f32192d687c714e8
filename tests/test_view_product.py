"""``einviz ... --view product``: the command draws the product view through animate."""

from __future__ import annotations

import re

import pytest

from einviz.animation import animate
from einviz.cli import main


@pytest.mark.parametrize("suffix", [".svg", ".html"])
def test_view_product_writes_the_product_animation(tmp_path, suffix):
    drawn = {}
    for view in ("grid", "product"):
        target = tmp_path / f"{view}{suffix}"
        assert main(["ij,jk->ik", "--shapes", "2x3,3x2", "--view", view, "-o", str(target),
                     "-q"]) == 0
        drawn[view] = target.read_text(encoding="utf-8")
    for view, text in drawn.items():
        expected = animate("ij,jk->ik", shapes=[(2, 3), (3, 2)], view=view)
        assert len(re.findall(r'class="einviz-frame[ "]', text)) == expected.n_frames
    product = animate("ij,jk->ik", shapes=[(2, 3), (3, 2)], view="product")
    grid = animate("ij,jk->ik", shapes=[(2, 3), (3, 2)])
    assert product.n_frames != grid.n_frames  # so the frame counts above tell the views apart


def test_view_product_says_what_it_drew(tmp_path, capsys):
    target = tmp_path / "p.svg"
    assert main(["ij->i", "--shapes", "2x3", "--view", "product", "-o", str(target)]) == 0
    out, err = capsys.readouterr()
    assert "granularity product" in out + err


def test_view_product_draws_a_gif_too(tmp_path):
    target = tmp_path / "p.gif"
    assert main(["ij->i", "--shapes", "2x3", "--view", "product", "-o", str(target), "-q"]) == 0
    assert target.read_bytes().startswith(b"GIF8")
