"""_words: the small words a capture's summary and report share, and text safe for a terminal."""

from __future__ import annotations

import pytest

from einviz._words import duration, optimize_text, printable, shapes_text, short_path


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("ij,jk->ik", "ij,jk->ik"),
        ("a\x00b", "a\\x00b"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),  # a terminal title sequence
        ("\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"),  # clear screen, colour
        ("line\nnext\rback\ttab", "line\\nnext\\rback\\ttab"),
        ("abc\u202edcba", "abc\\u202edcba"),  # right-to-left override
        ("\u2066iso\u2069", "\\u2066iso\\u2069"),
        ("x\u2028y", "x\\u2028y"),  # line separator
        ("\x7f\x9b", "\\x7f\\x9b"),  # DEL and a C1 control (CSI)
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("back\\slash", "back\\\\slash"),  # so an escape is never ambiguous
        ("café/Σ/日本.py", "café/Σ/日本.py"),
        ("a b", "a b"),
    ],
)
def test_printable_escapes_what_a_terminal_would_act_on(text, shown):
    assert printable(text) == shown
    assert printable(text).isprintable()
    assert "\n" not in printable(text)


def test_printable_takes_anything():
    assert printable(3) == "3"
    assert printable("\ud800") == "\\ud800"  # a lone surrogate (from a file name) is shown


def test_small_words():
    assert duration(5e-6) == "5.0 us" and duration(0.5) == "500.00 ms" and duration(2) == "2.00 s"
    assert shapes_text(()) == "()" and shapes_text(((2,), (3, 4))) == "(2,) (3, 4)"
    assert short_path("/elsewhere/x.py:3") == "/elsewhere/x.py:3"
    assert optimize_text("torch", None) == "no optimize argument"
    assert optimize_text("numpy", None) == "optimize=None"
