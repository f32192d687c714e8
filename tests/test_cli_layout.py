"""``einviz --layout grid|3d|auto`` and ``--panel network|blocks|cube``: the panel beside the
animated grids, from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from einviz.cli import main


@pytest.fixture(autouse=True)
def in_empty_folder(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(("args", "kind"), [
    (["ij,jk->ik", "--layout", "3d"], "cube"),
    (["bij,bjk->bik", "--layout", "3d"], "blocks"),
    (["ij,jk->ik", "--panel", "network"], "network"),
    (["bij,bjk->bik", "--shapes", "2x2x3,2x3x2"], "blocks"),  # auto: a small 3-d operand
])
def test_the_layout_and_panel_options_put_a_panel_beside_the_grids(capsys, args, kind) -> None:  # type: ignore[no-untyped-def]
    status, out, err = run(capsys, *args, "-o", "figure.svg")
    assert status == 0, err
    svg = Path("figure.svg").read_text()
    assert f"-with-{kind}\"" in svg and svg.count('class="einviz-step') > 0
    assert f"with the {kind} panel" in out + err


def test_layout_grid_and_auto_on_large_arrays_draw_the_grids_alone(capsys) -> None:  # type: ignore[no-untyped-def]
    for args in (["bij,bjk->bik", "--shapes", "2x2x3,2x3x2", "--layout", "grid"], ["ij,jk->ik"]):
        status, out, err = run(capsys, *args, "-o", "figure.svg", "--force")
        assert status == 0, err
        assert "-with-" not in Path("figure.svg").read_text() and "panel)" not in out + err


def test_the_png_carries_the_panel(capsys) -> None:  # type: ignore[no-untyped-def]
    status, out, err = run(capsys, "ij,jk->ik", "--panel", "cube", "-o", "figure.png")
    assert status == 0, err
    assert Path("figure.png").read_bytes()[:4] == b"\x89PNG" and "with the cube panel" in out + err


@pytest.mark.parametrize(("args", "message"), [
    (["bhqd,bhkd->bhqk", "--layout", "3d"], "layout='3d' draws arrays of up to 3 dimensions; A has 4"),
    (["ij,jk->ik", "--view", "network", "--panel", "cube"], "--panel cube goes beside the animated grids, "
                                                           "not --view network"),
    (["ij,jk->ik", "--view", "tree", "--layout", "3d"], "--layout 3d goes beside the animated grids"),
    (["ij,jk->ik", "--layout", "3d", "--panel", "network"], "layout='3d' draws the cube panel"),
    (["ij,jk->ik", "--panel", "tree"], "argument --panel: invalid choice: 'tree'"),
])
def test_what_cannot_be_drawn_is_refused_with_the_reason(capsys, args, message) -> None:  # type: ignore[no-untyped-def]
    status, _, err = run(capsys, *args, "-o", "figure.svg")
    assert status == 2
    assert message in " ".join(err.split())
    assert not Path("figure.svg").exists()
