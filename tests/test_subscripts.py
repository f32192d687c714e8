"""Parsing: syntax, implicit mode, the sublist form, round trips and error messages."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from einviz import EinvizError, Equation, SubscriptError, parse
from einviz.errors import ArgumentTypeError
from einviz.subscripts import parse_sublists
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
    ],
)
def test_sublist_errors(args, error, message):
    with pytest.raises(error, match=message):
        parse_sublists(args)


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
