"""The words and numbers a figure writes (einviz.render.text)."""

from __future__ import annotations

import numpy as np
import pytest

from einviz.errors import ArgumentTypeError
from einviz.render import format_factor, format_value


# -- numbers and colours -----------------------------------------------------------------------------
@pytest.mark.parametrize("value, text", [
    (3, "3"), (-12, "−12"), (np.int8(-5), "−5"), (0.5, "0.5"), (2 / 3, "0.667"),
    (123456.0, "1.23e5"), (-1e-7, "−1e−7"), (0.0, "0"), (True, "1"), (float("nan"), "nan"),
    (1254.3, "1254"), (-98765.0, "−98765"), (12345.6, "12346"), (4.567e-4, "4.57e−4"),
    (float("-inf"), "−∞"), (1 + 2j, "1+2j"), (np.float32(1.5), "1.5"),
])
def test_numbers_are_compact(value, text) -> None:
    assert format_value(value) == text


def test_negative_factors_take_parentheses() -> None:
    assert format_factor(-1) == "(−1)" and format_factor(4) == "4"


@pytest.mark.parametrize("width", range(8, 40))
def test_only_the_letters_explain_marks_are_coloured_wherever_a_line_breaks(width) -> None:
    from einviz.explaining import explain
    from einviz.render.text import prose_lines

    # "a" is a label here and a word in the sentences ("a row of A"): only the label is coloured.
    sentences = explain("ab,bc->ac", shapes=[(2, 2), (2, 2)]).sentences
    for sentence in sentences:
        lines = prose_lines([sentence], width)
        assert " ".join("".join(span.text for span in line) for line in lines) == sentence.text
        coloured = [span.text for line in lines for span in line if span.label]
        assert coloured == [sentence.text[a:b] for a, b in sentence.coloured]
    joined = prose_lines(sentences[:2], width)
    assert sum(1 for line in joined for span in line if span.label) == \
        len(sentences[0].coloured) + len(sentences[1].coloured)


def test_a_value_that_is_no_number_is_refused() -> None:
    with pytest.raises(ArgumentTypeError, match=r"a figure shows numbers, not 'x' \(str\)"):
        format_value("x")


def test_implicit_mode_writes_the_output_it_implies_in_the_header() -> None:
    from einviz.planning import plan
    from einviz.render.text import call_spans

    spans = call_spans(plan("ij,jk", shapes=[(2, 3), (3, 2)]))
    assert "".join(s.text for s in spans).endswith("# → ik")
    assert [s.label for s in spans[-2:]] == ["i", "k"]
    explicit = call_spans(plan("ij,jk->ik", shapes=[(2, 3), (3, 2)]))
    assert "→" not in "".join(s.text for s in explicit)


def test_a_scalar_output_starts_at_0_and_a_copy_assigns() -> None:
    from einviz.planning import plan
    from einviz.render.text import code_lines

    def text(subscripts, shapes):
        lines, statement, _ = code_lines(plan(subscripts, shapes=shapes))
        return "".join(s.text for s in lines[0]), "".join(s.text for s in lines[statement]).strip()

    assert text("ii->", [(3, 3)]) == ("out = 0", "out += A[i, i]")
    assert text("ij->ji", [(2, 3)])[1] == "out[j, i] = A[i, j]"
    assert text("ii->i", [(3, 3)])[1] == "out[i] = A[i, i]"
    assert text("ij->i", [(2, 3)])[1] == "out[i] += A[i, j]"


@pytest.mark.parametrize("width", range(10, 40, 3))
def test_a_word_label_is_one_span_in_its_own_colour(width) -> None:
    from einviz.explaining import explain
    from einviz.render.text import prose_lines

    sentences = explain("batch seq, seq dim -> batch dim", shapes=[(2, 3), (3, 4)]).sentences
    for sentence in sentences:
        lines = prose_lines([sentence], width)
        assert " ".join("".join(span.text for span in line) for line in lines) == sentence.text
        labelled = [(span.text, span.label) for line in lines for span in line if span.label]
        assert labelled == [(sentence.text[a:b],) * 2 for a, b in sentence.coloured]


_DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.mark.parametrize("text", ["A  1×2×3×2", "out  2×3", "B  4×(…)", "b=0, h=1 →", "x − y ≈ 0.5"])
def test_sans_width_is_within_a_few_percent_of_the_font_itself(text):
    # Titles are placed by these widths: an estimate 40% short let a title touch a neighbour.
    import os

    from PIL import ImageFont

    from einviz.render.text import sans_width

    if not os.path.exists(_DEJAVU):
        pytest.skip("DejaVu Sans is not installed (CI installs fonts-dejavu-core)")
    measured = ImageFont.truetype(_DEJAVU, 100).getlength(text) / 100 * 15
    assert sans_width(text, 15) == pytest.approx(measured, rel=0.06)
