"""Label colours (einviz.render.palette): stable, distinct, and readable for every eye."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from einviz.render import label_colours
from einviz.render.palette import INK, PALETTE


def test_label_colours_are_stable_and_distinct() -> None:
    colours = label_colours("ijk")
    assert list(colours.values()) == list(PALETTE[:3])
    assert label_colours("kji") == label_colours("ijk")
    assert len(set(label_colours("abcdefgh").values())) == 8
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in PALETTE)


#: Machado, Oliveira and Fernandes (2009) at full severity, on linear RGB.
DEFICIENCIES = {
    "normal": np.eye(3),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
}


def _lab(colour: str, seen_by: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of a '#rrggbb' colour as an eye with the given deficiency sees it."""
    srgb = np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)]) / 255
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    linear = np.clip(seen_by @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ linear / np.array([0.9505, 1.0, 1.089])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("eye", list(DEFICIENCIES))
def test_the_first_six_label_colours_stay_apart_for_colour_blind_eyes(eye: str) -> None:
    labs = [_lab(colour, DEFICIENCIES[eye]) for colour in PALETTE[:6]]
    closest = min(np.linalg.norm(a - b) for a, b in itertools.combinations(labs, 2))
    assert closest > 10, f"two of the first six colours are {closest:.1f} apart (delta E) for {eye}"


def test_every_label_colour_is_a_colour_not_a_grey_like_the_text() -> None:
    chroma = {colour: float(np.hypot(*_lab(colour, np.eye(3))[1:])) for colour in PALETTE}
    assert min(chroma.values()) > 30, chroma  # grey has none; the text is grey
    assert np.hypot(*_lab(INK, np.eye(3))[1:]) < 1


def test_label_colours_read_on_white() -> None:
    def luminance(colour: str) -> float:
        srgb = np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)]) / 255
        linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
        return float(linear @ [0.2126, 0.7152, 0.0722])

    assert min(1.05 / (luminance(colour) + 0.05) for colour in PALETTE) >= 3.4


@pytest.mark.parametrize("figure", ["bij,bjk->bik", "bhqd,bhkd->bhqk", "ik,kj->ij", "nchw,c->nhw",
                                    "abcde->ae", "...ij,...jk", "i,i->"])
def test_a_letter_keeps_its_colour_from_figure_to_figure(figure: str) -> None:
    from einviz.planning import plan

    shapes = [(2,) * len(term.replace("...", "ab")) for term in figure.split("->")[0].split(",")]
    p = plan(figure, shapes=shapes)
    colours = label_colours(list(p.equation.labels) + list(p.ellipsis))
    assert len(set(colours.values())) == len(colours)  # no clash inside a figure
    matmul = label_colours("ijk")
    for label in set(colours) & set(matmul):
        assert colours[label] == matmul[label], label


def test_a_clash_falls_back_to_a_free_colour_and_overrides_win() -> None:
    # 'a' and 'i' prefer the same slot: the commoner 'i' keeps it, 'a' takes another.
    assert label_colours("ai")["i"] == label_colours("ij")["i"] != label_colours("ai")["a"]
    chosen = label_colours("ijk", overrides={"j": "#0072B2", "z": "red"})
    assert chosen["j"] == "#0072B2" and "z" not in chosen
    assert len(set(chosen.values())) == 3  # i gives up the blue j was given


def test_no_label_colour_reads_as_the_text_ink() -> None:
    # Tol's indigo (#332288) is only 9 L* lighter than the ink: bold, it read as black.
    for eye, seen_by in DEFICIENCIES.items():
        ink = _lab(INK, seen_by)
        for colour in PALETTE:
            lab = _lab(colour, seen_by)
            assert lab[0] - ink[0] > 15 and np.linalg.norm(lab - ink) > 20, (colour, eye)
