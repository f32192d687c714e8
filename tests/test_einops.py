"""einops' notation: 'batch seq, seq dim -> batch dim' in parse, plan, explain, animate, the
command and capture; numpy's drop-in keeps numpy's reading."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import einviz
from einviz import SubscriptError, parse
from einviz.subscripts import Equation, looks_einops, parse_call

MATMUL = "batch seq, seq dim -> batch dim"


# -- telling the notations apart ---------------------------------------------------------------
@pytest.mark.parametrize(("text", "einops"), [
    (MATMUL, True),
    ("x1 y, y -> x1", True),              # a digit: not numpy's
    ("out_dim in_dim, ... in_dim -> ... out_dim", True),
    ("ij,jk->ik", False),
    ("ij, jk -> ik", False),              # one word a term
    ("b i j, b j k -> b i k", False),     # one letter a word: the same either way
    ("batch seq, seq dim", False),        # einops' notation always has '->'
    ("batch, batch -> batch", False),     # one word a term: numpy's unless told
    ("... i j -> ... j i", False),
])
def test_the_rule_that_tells_the_notations_apart(text, einops):
    assert looks_einops(text) is einops


def test_words_are_axis_names_and_survive_the_equation():
    eq = parse(MATMUL)
    assert eq.terms == (("batch", "seq"), ("seq", "dim")) and eq.output == ("batch", "dim")
    assert eq.notation == "einops" and eq.explicit
    assert str(eq) == MATMUL and parse(str(eq)) == eq
    assert eq.labels == ("batch", "seq", "dim")
    assert eq.term_positions == ((0, 6), (11, 15)) and eq.output_positions == (22, 28)
    assert eq.numpy_text() == "ab,bc->ac"
    assert Equation((("batch", "seq"), ("seq", "dim")), ("batch", "dim"), explicit=True) == eq


def test_ellipsis_underscores_and_repeated_names_as_in_einops():
    eq = parse("out_dim in_dim, ... in_dim -> ... out_dim")
    assert eq.terms == (("out_dim", "in_dim"), ("...", "in_dim")) and eq.output == ("...", "out_dim")
    assert parse("row row ->", notation="einops").terms == (("row", "row"),)
    assert parse("batch, batch -> batch", notation="einops").terms == (("batch",), ("batch",))
    assert parse("batch, batch -> batch").terms == (tuple("batch"), tuple("batch"))


def test_plan_with_word_labels_binds_each_word_to_its_axis():
    p = einviz.plan(MATMUL, np.ones((8, 16)), np.ones((16, 4)))
    assert p.sizes == {"batch": 8, "dim": 4, "seq": 16}
    assert p.n_steps == 8 * 16 * 4 and p.summed == ("seq",)
    assert p.formula() == "out[batch,dim] = Σ_seq A[batch,seq]·B[seq,dim]"
    namespace = {"np": np, "A": np.arange(6).reshape(2, 3), "B": np.arange(12).reshape(3, 4)}
    exec(einviz.plan(MATMUL, shapes=[(2, 3), (3, 4)]).loop_code(), namespace)
    assert np.array_equal(namespace["out"], namespace["A"] @ namespace["B"])


def test_trace_explain_and_animate_take_einops_text():
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    trace = einviz.trace(MATMUL, a, b)
    assert np.array_equal(trace.result, a @ b)
    assert trace[0].labels == {"batch": 0, "dim": 0, "seq": 0}
    explanation = einviz.explain(MATMUL, a, b)
    assert explanation.pattern == "matrix multiplication"
    anim = einviz.animate(MATMUL, a, b)
    final = anim.frame_svg(-1)
    for word in ("batch", "seq", "dim"):  # the words are the axis names
        assert f">{word}<" in final
    assert einviz.animate(MATMUL, sizes={"batch": 2, "seq": 2, "dim": 2}).trace.plan.n_steps == 8


def test_the_opening_frames_colour_word_labels():
    anim = einviz.animate(MATMUL, shapes=[(2, 3), (3, 4)])
    svg = anim.to_svg()
    assert svg.count(">batch<") > 1
    sentence = einviz.explain(MATMUL, shapes=[(2, 3), (3, 4)]).sentences[2]
    assert set(sentence.labels) <= {"batch", "seq", "dim"}


def test_a_figure_with_word_labels_rasterises():
    png = einviz.animate(MATMUL, shapes=[(2, 3), (3, 4)]).to_png()
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(png))
    assert image.size[0] > 300 and image.size[1] > 300


def test_with_operands_the_reading_that_fits_wins_and_numpy_keeps_its_meaning():
    text = "ab c, c -> ab"  # numpy: abc,c->ab; einops: axes 'ab' and 'c'
    eq, _ = parse_call([text, np.ones((2, 3, 4)), np.ones(4)])
    assert str(eq) == "abc,c->ab"
    eq, _ = parse_call([text, np.ones((2, 4)), np.ones(4)])
    assert eq.terms == (("ab", "c"), ("c",))
    a, c = np.arange(24.0).reshape(2, 3, 4), np.arange(4.0)
    assert np.array_equal(einviz.einsum(text, a, c), np.einsum(text, a, c))


def test_spaced_numpy_text_that_einops_refuses_stays_numpy():
    assert str(parse("ab c, c -> a b")) == "abc,c->ab"


# -- text that fits neither ------------------------------------------------------------------
def test_text_that_fits_neither_names_both_readings():
    with pytest.raises(SubscriptError, match=(
            r"output label 'dum' does not appear in any input \(read as einops' notation: words as "
            r"axis names\)\n    batch seq, seq dim -> batch dum\n {32}\^\n"
            r"  input labels: batch, dim, seq\n"
            r"  read as numpy's notation \(one letter a label\): output label 'u' does not appear in any input\n"
            r"  hint: every output label must name an axis of some operand")):
        parse("batch seq, seq dim -> batch dum")


@pytest.mark.parametrize(("text", "message", "caret"), [
    ("batch (seq), seq -> batch", r"einops.einsum takes no parenthesised groups", 6),
    ("batch 2seq, seq -> batch", r"'2seq' is not an axis name: it starts with a digit", 6),
    ("batch for, for -> batch", r"'for' is a Python keyword", 6),
    ("batch seq, seq -> batch -> seq", r"more than one '->'", 15),
])
def test_einops_mistakes_are_marked(text, message, caret):
    with pytest.raises(SubscriptError, match=message) as info:
        parse(text, notation="einops")
    assert info.value.positions[0] == caret


def test_explicit_einops_needs_the_arrow_and_notation_is_checked():
    with pytest.raises(SubscriptError, match=r"einops' notation needs '->' and the output"):
        parse("batch seq, seq dim", notation="einops")
    with pytest.raises(einviz.errors.ArgumentTypeError, match=r"notation must be one of 'auto', 'numpy', 'einops', not 'torch'"):
        parse("ij", notation="torch")


# -- the command --------------------------------------------------------------------------------
def test_the_command_reads_einops_notation(tmp_path):
    done = subprocess.run([sys.executable, "-m", "einviz", MATMUL, "--shapes", "8x16,16x4",
                           "--no-figure", "--json"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    import json

    plan = json.loads(done.stdout)["plan"]
    assert plan["steps"] == 8 * 16 * 4 and plan["summed"] == ["seq"]
    done = subprocess.run([sys.executable, "-m", "einviz", "batch, batch -> batch", "--notation",
                           "einops", "--shapes", "3,3", "--no-figure", "-q"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_the_command_refuses_text_that_fits_neither_with_exit_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "einviz", "batch seq, seq dim -> batch dum"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False)
    assert done.returncode == 2
    assert "read as numpy's notation" in done.stderr and "Traceback" not in done.stderr


# -- capture ------------------------------------------------------------------------------------
def test_capture_records_einops_einsum():
    einops = pytest.importorskip("einops")
    a, b = np.ones((2, 3)), np.ones((3, 4))
    with einviz.capture() as calls:
        result = einops.einsum(a, b, MATMUL)
        from einops import einsum

        einsum(np.eye(3), "i i ->")
    assert np.array_equal(result, a @ b)
    assert [(c.library, c.function, c.subscripts, c.shapes) for c in calls] == [
        ("einops", "einops.einsum", MATMUL, ((2, 3), (3, 4))),
        ("einops", "einops.einsum", "ii->", ((3, 3),)),
    ]  # einops' own call of numpy.einsum is not recorded twice
    assert calls[0].filename == __file__
    page = calls.report()
    assert "batch seq, seq dim -&gt; batch dim" in page


def test_check_runs_the_backends_on_einops_text():
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    assert einviz.check(MATMUL, a, b, backends=["numpy", "opt_einsum"]).ok


def test_capture_keeps_numpys_reading_of_a_numpy_call():
    a, c = np.ones((2, 3, 4)), np.ones(4)
    with einviz.capture() as calls:
        np.einsum("ab c, c -> ab", a, c)  # numpy reads letters: abc,c->ab
    assert calls[0].subscripts == "abc,c->ab"


def test_text_without_spaces_keeps_numpys_message():
    with pytest.raises(SubscriptError, match=r"^'1' is not a valid label\n    ij,j1->i\n        \^\n"):
        parse("ij,j1->i")


# -- the formula and the printed report -------------------------------------------------------
def test_latex_keeps_word_labels_apart_and_letters_together():
    latex = einviz.plan(MATMUL, shapes=[(2, 3), (3, 4)]).latex()
    assert r"A_{\mathrm{batch}\,\mathrm{seq}}" in latex and r"\sum_{\mathrm{seq}}" in latex
    assert r"\mathrm{out\_dim}" in einviz.plan("out_dim in_dim, in_dim -> out_dim",
                                               shapes=[(2, 3), (3,)]).latex()
    assert einviz.plan("ij,jk->ik", shapes=[(2, 3), (3, 4)]).latex() == \
        r"\mathrm{out}_{ik} = \sum_{j} A_{ij} B_{jk}"


def test_the_report_lines_up_word_labels_and_colours_them_whole():
    from einviz.cli_report import report
    from einviz.terminal import Painter

    e = einviz.explain("out_dimension in_dim, in_dim -> out_dimension", shapes=[(2, 3), (3,)])
    ops = [np.ones((2, 3)), np.ones(3)]
    text = report(e, ops, ops[0] @ ops[1], "ones", 0, Painter({}))
    rows = text.split("\nsizes\n")[1].splitlines()[:3]
    assert [row.index("size") + 4 for row in rows[:1]] == [row.index("2") + 1 for row in rows[1:2]]
    assert rows[2].index("3") == rows[1].index("2")
    painter = Painter.for_labels(e.plan.labels, on=True)
    coloured = report(e, ops, ops[0] @ ops[1], "ones", 0, painter)
    code = painter.codes["in_dim"]
    assert coloured.startswith(painter.label("out_dimension", "out_dimension") + " " + code + "in_dim")
    assert f"{code}in_dim{Painter.RESET} appears in A and B" in coloured


def test_shapes_alone_choose_the_reading_as_operands_do():
    # Found by test_paths' property test: 'aa a' reads as einops' words, but shapes of 2 and 3
    # dimensions fit numpy's letters, as the same operands would.
    assert str(einviz.plan("aa,aa a,->", shapes=[(0, 0), (0, 0, 0), ()]).equation) == "aa,aaa,->"
    assert einviz.plan("ab c, c -> ab", shapes=[(2, 4), (4,)]).equation.notation == "einops"


def test_the_explanation_calls_words_axis_names_and_letters_letters():
    words = einviz.explain("batch seq, seq dim -> batch dim", shapes=[(2, 3), (3, 4)])
    letters = einviz.explain("ij,jk->ik", shapes=[(2, 3), (3, 4)])
    (said,) = [s.text for s in words.sentences if s.role == "letters"]
    assert said == "The subscripts have three axis names: batch, seq, dim."
    assert [s.text for s in letters.sentences if s.role == "letters"] == [
        "The subscripts have three unique letters: i, j, k."]


def test_the_terminal_formula_colours_a_word_label_whole_and_letters_each():
    from einviz.terminal import Painter

    painter = Painter({"batch": "#112233", "seq": "#445566", "i": "#010203", "j": "#040506"})
    batch, seq, i, j = (painter.label(x, x) for x in ("batch", "seq", "i", "j"))
    assert painter.formula("out[batch] = Σ_seq A[batch,seq]") == f"out[{batch}] = Σ_{seq} A[{batch},{seq}]"
    # Letters run together after Σ_ in numpy's notation; the operand's name stays plain.
    assert painter.formula("out[i] = Σ_ij A[i,j]") == f"out[{i}] = Σ_{i}{j} A[{i},{j}]"
