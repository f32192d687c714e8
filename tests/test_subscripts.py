"""Parsing: syntax, implicit mode, the sublist form, round trips and error messages."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import einviz
from einviz import EinvizError, Equation, SubscriptError, parse
from einviz.errors import ArgumentTypeError, printable
from einviz.subscripts import parse_call, parse_sublists
from einviz.testing import subscripts as subscripts_strategy


@pytest.mark.parametrize(
    "text, terms, output, explicit",
    [
        ("ij,jk->ik", (("i", "j"), ("j", "k")), ("i", "k"), True),
        ("ij,jk", (("i", "j"), ("j", "k")), ("i", "k"), False),
        ("ba", (("b", "a"),), ("a", "b"), False),
        ("Ba", (("B", "a"),), ("B", "a"), False),  # char-code order: upper before lower
        ("ii", (("i", "i"),), (), False),
        ("ii->i", (("i", "i"),), ("i",), True),
        ("...ij,...jk", (("...", "i", "j"), ("...", "j", "k")), ("...", "i", "k"), False),
        ("i->...i", (("i",),), ("...", "i"), True),
        ("", ((),), (), False),
        ("->", ((),), (), True),
        (",", ((), ()), (), False),
        (" i j , j ->i ", (("i", "j"), ("j",)), ("i",), True),
    ],
    ids=["matmul", "implicit", "implicit-sorted", "implicit-case", "trace", "diagonal",
         "ellipsis", "ellipsis-output-only", "empty", "arrow-only", "two-scalars", "spaces"],
)
def test_parse(text, terms, output, explicit):
    eq = parse(text)
    assert (eq.terms, eq.output, eq.explicit) == (terms, output, explicit)
    assert parse(str(eq)) == eq


def test_positions_point_at_labels():
    eq = parse(" ij, jk->ik")
    assert eq.term_positions == ((1, 2), (5, 6))
    assert eq.output_positions == (9, 10)


@pytest.mark.parametrize(
    "text, message, carets",
    [
        ("i%j", r"'%' is not a valid label", " ^"),
        ("ij->ii", r"the output has label 'i' more than once", "    ^^"),
        ("ij->k", r"output label 'k' does not appear in any input", "    ^"),
        ("i..j", r"an ellipsis is three dots, not 2", " ^^"),
        (".i...", r"an ellipsis is three dots, not 1", "^"),
        ("i....", r"an ellipsis is three dots, not 4", " ^^^^"),
        ("...i...", r"a term can have only one ellipsis", "^   ^"),
        ("i-i", r"'-' must be part of an arrow", " ^"),
        ("i>i", r"'>' must be part of an arrow", " ^"),
        ("i->i->i", r"more than one '->'", " ^  ^"),
        ("i->i,j", r"the output cannot have a ','", "    ^"),
        ("i...->...i...", r"a term can have only one ellipsis", "      ^   ^"),
        ("ij,中k->ik", r"'中' is not a valid label", "   ^^"),  # wide: two columns
        ("ij,je\u0301->ik", r"U\+0301 \(a combining mark\) is not a valid label", "    ^"),
    ],
)
def test_syntax_errors_mark_the_culprit(text, message, carets):
    with pytest.raises(SubscriptError, match=message) as info:
        parse(text)
    lines = str(info.value).splitlines()
    assert lines[1] == "    " + text
    assert lines[2] == "    " + carets
    assert "hint:" in lines[-1]


def test_subscripts_must_be_text():
    with pytest.raises(ArgumentTypeError, match="subscripts must be a string, not int"):
        parse(3)
    assert issubclass(ArgumentTypeError, TypeError) and issubclass(ArgumentTypeError, EinvizError)


def test_sublist_form():
    eq, ops = parse_sublists(["A", [0, 1], "B", [1, 2], [0, 2]])
    assert str(eq) == "ab,bc->ac" and ops == ["A", "B"]
    eq, _ = parse_sublists(["A", [26, 0]])  # implicit: numeric order, like numpy
    assert eq.output == ("a", "A")
    eq, _ = parse_sublists(["A", [0, Ellipsis]])
    assert eq.output == ("...", "a")


@pytest.mark.parametrize(
    "args, error, message",
    [
        (["A", [0, 52]], SubscriptError, "holds 52, out of the range 0 to 51"),
        (["A", [0, -1]], SubscriptError, "holds -1, out of the range 0 to 51"),
        (["A", [0.5]], ArgumentTypeError, r"holds 0.5, which is not an integer or Ellipsis"),
        (["A", 0], ArgumentTypeError, "must be a list of integers, not int"),
        (["A", "ij"], ArgumentTypeError, "must be a list of integers, not str"),
        (["A", [0, 1], None], ArgumentTypeError, "the sublist of the output must be a list of integers, not NoneType"),
        (["A", [0, True]], ArgumentTypeError, r"the sublist of operand 0 holds True, which is not an integer or Ellipsis"),
        (["A", [0, np.True_]], ArgumentTypeError, r"the sublist of operand 0 holds np.True_, which is not an integer"),
        (["A", {0, 1}], ArgumentTypeError, r"the sublist of operand 0 must be a list of integers, not set"),
        (["A", np.ones((2, 2))], ArgumentTypeError, r"the sublist of operand 0 must be a list of integers, not a 2-d array"),
        (["A", [0], np.array(0)], ArgumentTypeError, r"the sublist of the output must be a list of integers, not a 0-d array"),
        (["A", [Ellipsis, Ellipsis]], SubscriptError, (r"the sublist of operand 0 holds Ellipsis more than once\n"
                                                       r"  hint: a sublist may hold Ellipsis once")),
        (["A", [0], [Ellipsis, 0, Ellipsis]], SubscriptError, r"the sublist of the output holds Ellipsis more than once"),
        (["A"], SubscriptError, r"the subscripts are missing\n  given: \w+ .*alone\n"),
        ([], SubscriptError, r"the subscripts are missing\n  given: nothing"),
    ],
)
def test_sublist_errors(args, error, message):
    with pytest.raises(error, match=message):
        parse_sublists(args)
    if args and args[0] == "A":
        args = [np.ones((2, 2))] + args[1:]
    with pytest.raises(error, match=message):
        einviz.einsum(*args) if args else parse_sublists(args)


def test_sublists_numpy_takes():
    a = np.arange(4.0).reshape(2, 2)
    for sublist in ([0, 1], (0, 1), range(2), np.array([0, 1]), [np.int64(0), np.uint8(1)]):
        np.testing.assert_array_equal(einviz.einsum(a, sublist, [1]), np.einsum(a, sublist, [1]))


@pytest.mark.parametrize("args", [(np.array(1.0),), (np.ones(3),), ([0, 1],)], ids=["0-d", "1-d", "list"])
def test_forgotten_subscripts(args):
    with pytest.raises(ValueError):  # numpy: "must provide at least an operand and a subscripts list"
        np.einsum(*args)
    with pytest.raises(SubscriptError, match=r"^the subscripts are missing\n  given: (ndarray of shape \(\)|"
                                             r"ndarray of shape \(3,\)|list \[0, 1\]) alone\n"
                                             r"  hint: the first argument is the subscripts text, as in "
                                             r"einsum\('ij->i', A\), or an operand followed by its sublist"):
        parse_call(args)


def test_bytes_subscripts_are_read_as_numpy_reads_them():
    a = np.arange(4.0).reshape(2, 2)
    assert parse(b"ij->j") == parse("ij->j")
    np.testing.assert_array_equal(einviz.einsum(b"ij->j", a), np.einsum(b"ij->j", a))
    assert einviz.plan(b"ij,jk", shapes=[(2, 3), (3, 4)]).out_shape == (2, 4)
    assert einviz.check(b"ij->j", a, backends=["numpy"]).ok
    with pytest.raises(SubscriptError, match=r"'\\xff' is not a valid label|'ÿ' is not a valid label"):
        parse(b"i\xffj")


def test_parse_call_reads_both_forms():
    eq, ops = parse_call(("ij->i", 1))
    assert (str(eq), ops) == ("ij->i", [1])
    eq, ops = parse_call((parse("ij"), 1))
    assert (str(eq), ops) == ("ij", [1])
    eq, ops = parse_call((1, [0, 1], 2, [1]))
    assert (str(eq), ops) == ("ab,b->a", [1, 2])


@pytest.mark.parametrize("text, shown, carets", [
    ("ij\x1b[31m", "ij\\x1b[31m", "  ^^^^"),
    ("i\tj", "i\\tj", " ^^"),
    ("i\x7f,j", "i\\x7f,j", " ^^^^"),
    ("ij\u200b", "ij\\u200b", "  ^^^^^^"),
], ids=["ansi", "tab", "del", "zero-width-space"])
def test_characters_that_do_not_print_are_shown_escaped_under_aligned_carets(text, shown, carets):
    with pytest.raises(SubscriptError, match=r"is not a valid label|does not appear in any input") as info:
        parse(text)
    lines = str(info.value).splitlines()
    assert lines[1] == "    " + shown
    assert lines[2] == "    " + carets
    assert all(line.isprintable() for line in lines)
    assert info.value.subscripts == text  # the attribute keeps the text as given


def test_carets_after_an_escape_move_with_it():
    error = EinvizError("problem", subscripts="\x00a\x1bb", positions=[0, 2, 3])
    assert str(error).splitlines()[1:] == ["    \\x00a\\x1bb", "    ^^^^ ^^^^^"]
    error = EinvizError("problem", subscripts="\x00ab", positions=[2, 5])  # 5: past the end
    assert str(error).splitlines()[1:] == ["    \\x00ab", "         ^  ^"]


@pytest.mark.parametrize("text, positions, carets", [
    ("ij,中k->ik", [3], "       ^^"),
    ("中中,ij->ik", [0, 1], "    ^^^^"),
    ("中,jk->ik", [3], "        ^"),  # after a wide character, its neighbour still lines up
    ("ij,je\u0301->ik", [5], "        ^"),  # a combining mark: under the letter it marks
], ids=["wide", "two-wide", "after-wide", "combining"])
def test_carets_count_terminal_columns(text, positions, carets):
    error = EinvizError("problem", subscripts=text, positions=positions)
    assert str(error).splitlines()[2] == carets


def test_printable():
    assert printable("ij->i") == "ij->i"
    assert printable("a\x1b[0mb\n") == "a\\x1b[0mb\\n"


@given(subscripts_strategy())
def test_round_trip(text):
    eq = parse(text)
    assert parse(str(eq)) == eq
    assert isinstance(eq, Equation)


@given(st.text(alphabet="ijkIJ.,->% \t1", max_size=12) | st.text(max_size=8))
def test_random_text_raises_only_einviz_errors(text):
    try:
        eq = parse(text)
    except EinvizError:
        return
    assert parse(str(eq)) == eq


# -- long text, and equations made by hand ------------------------------------------------------
def test_a_long_run_of_ellipsis_terms_is_read_in_one_pass():
    # "...," * 250000 took 14-30 s when every '.' sliced the rest of the text (numpy rejects
    # it in 3 ms); benchmarks/bench_refusals.py times it. Here: what it reads.
    eq = parse("...," * 250_000)
    assert eq.n_operands == 250_001 and eq.terms[-1] == () and eq.terms[0] == ("...",)
    assert eq.term_positions[-2] == (4 * 249_999,) and eq.output == ("...",)


@given(st.text(alphabet="ab .,->X", max_size=14))
def test_the_fast_scan_reads_text_as_the_character_scan_does(text):
    from einviz.subscripts import _scan, _scan_simple

    simple = _scan_simple(text)
    if simple is not None:
        assert simple == _scan(text)


@pytest.mark.parametrize("text", ["...ij,j...->...", "a,b,...", "ab->", "...->...", ",,", "->..."])
def test_the_fast_scan_takes_simple_text(text):
    from einviz.subscripts import _scan, _scan_simple

    assert _scan_simple(text) == _scan(text)


@pytest.mark.parametrize("args, error, message, carets", [
    (((("<script>",),), (), True), SubscriptError, r"'<script>' is not a valid label", "^^^^^^^^"),
    (((("i",),), ("k",), True), SubscriptError, r"output label 'k' does not appear in any input",
     "   ^"),
    (((("i", "é"),), ("i",), True), SubscriptError, r"'é' is not a valid label", " ^"),
    ((("ij",), ("i", "i"), True), SubscriptError, r"the output has label 'i' more than once",
     "    ^^"),
    ((("...i...",), (), True), SubscriptError, r"a term can have only one ellipsis", "^   ^"),
    ((("ij",), ("i",), False), SubscriptError, r"an implicit equation's output must be numpy's",
     None),
    ((("i",), ("<b>",), True), SubscriptError, r"'<b>' is not a valid label", "   ^^^"),
    (("ij", "i", True), ArgumentTypeError, r"an Equation's terms must be a sequence of terms", None),
    ((((1,),), (), True), ArgumentTypeError, r"term 0 of an Equation holds 1, which is not a label",
     None),
    ((("i",), (), "yes"), ArgumentTypeError, r"explicit must be True or False", None),
])
def test_a_hand_made_equation_is_checked_as_parse_checks_text(args, error, message, carets):
    with pytest.raises(error, match=message) as raised:
        Equation(*args)
    if carets is not None:
        assert str(raised.value).splitlines()[2] == "    " + carets


def test_a_hand_made_equation_never_reaches_einsum_unchecked():
    with pytest.raises(SubscriptError, match="'<script>' is not a valid label"):
        einviz.einsum(Equation((("<script>",),), ("<script>",), explicit=True), np.ones(2))
    with pytest.raises(SubscriptError, match="output label 'k' does not appear in any input"):
        einviz.plan(Equation((("i",),), ("k",), explicit=True), shapes=[(2,)])


def test_a_hand_made_equation_takes_terms_as_text_and_equals_the_parsed_one():
    made = Equation(("...ij", "jk"), "...ik", explicit=True)
    assert made == parse("...ij,jk->...ik") and str(made) == "...ij,jk->...ik"
    assert Equation([["i", "j"]], ["i", "j"], explicit=False) == parse("ij")


def test_a_long_text_is_shown_cut_around_the_culprit():
    with pytest.raises(SubscriptError) as raised:
        parse("ab," * 100 + "c%d")
    lines = str(raised.value).splitlines()
    assert lines[1] == "    [...]," + "ab," * 32 + "c%d"
    assert lines[2].index("^") == lines[1].index("%")
    assert lines[3] == "  (the subscripts are 303 characters long: characters 203 to 302 are shown)"
    with pytest.raises(EinvizError) as many:
        einviz.einsum("...," * 250_000, np.ones(2))
    text, carets = str(many.value).splitlines()[1:3]
    assert text.endswith("[...]") and len(text) == 4 + 100 + len("[...]")
    assert carets == "    " + "    ^" + "   ^" * 23  # the missing terms, at columns 4, 8, ... 96
    assert "characters 0 to 99 are shown" in str(many.value)
