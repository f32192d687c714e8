"""Every result object displays richly in a notebook: _repr_html_ beside the text repr."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import einviz
from einviz._reprs import table_html


def cells(markup: str) -> tuple[str, list[str], list[list[str]], list[str]]:
    """Caption, headings, body rows and notes of a table: it must parse as XML."""
    table = ET.fromstring(markup)
    assert table.tag == "table"
    caption = "".join(table.find("caption").itertext())
    head = ["".join(th.itertext()) for th in table.iter("th")]
    body = [["".join(td.itertext()) for td in tr] for tr in table.find("tbody")]
    foot = table.find("tfoot")
    notes = [] if foot is None else ["".join(td.itertext()) for td in foot.iter("td")]
    return caption, head, body, notes


def test_equation_shows_its_terms_and_output():
    caption, _head, body, notes = cells(einviz.parse("ij,jk")._repr_html_())
    assert caption == "Equation ij,jk"
    assert body == [["input 0", "i j"], ["input 1", "j k"], ["output", "i k"]]
    assert "implicit" in notes[0]
    _, _, body, notes = cells(einviz.parse("i,->")._repr_html_())
    assert body[1] == ["input 1", "(a scalar)"] and body[2] == ["output", "(a scalar)"]
    assert "explicit" in notes[0]


def test_loop_plan_shows_the_rows_of_its_text_repr():
    p = einviz.plan("ij,jk->ik", shapes=[(2, 3), (3, 5)])
    caption, head, body, notes = cells(p._repr_html_())
    assert caption == "LoopPlan  ij,jk->ik"
    assert head == ["label", "size", "role", "axes", "from"]
    assert body == [["i", "2", "free", "A0 out0", "i"], ["k", "5", "free", "B1 out1", "k"],
                    ["j", "3", "summed", "A1 B0", "j"]]
    text_rows = repr(p).splitlines()
    for row in body:  # the same table as the text
        assert any(line.split() == row[:3] + row[3].split() + [row[4]] for line in text_rows)
    assert f"steps {p.n_steps:,}   flops {p.flops:,}" in notes
    assert p.formula() in notes


def test_trace_shows_its_first_steps_and_says_how_many_there_are():
    t = einviz.trace("ij,jk->ik", np.arange(6).reshape(2, 3), np.arange(15).reshape(3, 5))
    caption, head, body, notes = cells(t._repr_html_())
    assert caption == repr(t).strip("<>")
    assert head == ["step", "i", "k", "j", "cell", "factors", "product", "running sum"]
    assert len(body) == 12 < len(t)
    for row, step in zip(body, t):
        assert row[0] == str(step.number) and row[-1] == str(step.running_sum)
        assert row[4] == f"out{list(step.out_index)}"
    assert body[1][5] == "A[0, 1]=1 × B[1, 0]=5"
    assert notes == [f"the first 12 of {len(t)} steps; trace[k] is step k, trace.chunks() reads them all as columns"]
    _, _, body, notes = cells(einviz.trace("i->", np.arange(3))._repr_html_())
    assert len(body) == 3 and notes == [] and body[2][-1] == "3"


def test_calls_show_the_summary_and_the_way_to_the_report():
    with einviz.capture() as calls:
        for _ in range(2):
            np.einsum("ij->i", np.ones((2, 3)))
    caption, _head, body, notes = cells(calls._repr_html_())
    assert caption == "Calls: 2 einsum calls, 1 distinct"
    assert body[0][:5] == ["2", "ij->i", "(2, 3)", "float64", "numpy.einsum"]
    assert "calls.report('einsums.html') writes the full report" in notes[0]
    with einviz.capture() as empty:
        pass
    assert cells(empty._repr_html_())[2:] == ([], [])


def test_calls_escape_what_the_program_gave():
    hostile = "<img/src=x/onerror=alert(1)>"
    with einviz.capture() as calls, pytest.raises(ValueError):
        np.einsum(hostile, np.ones(2))
    markup = calls._repr_html_()
    assert "<img" not in markup and "&lt;img/src=x/onerror=alert(1)&gt;" in markup
    _, _, body, _ = cells(markup)
    assert body[0][1] == hostile and body[0][-1].endswith("1 failed")


def test_table_html_escapes_every_text():
    markup = table_html("a\"b", "<cap>", ["<th>"], [["<td>&"]], notes=["<note>"])
    assert "<cap>" not in markup and "<td>&" not in markup and "<note>" not in markup
    caption, head, body, notes = cells(markup)
    assert (caption, head, body, notes) == ("<cap>", ["<th>"], [["<td>&"]], ["<note>"])
    assert ET.fromstring(markup).get("class") == 'a"b'


@pytest.mark.parametrize("make", [
    lambda: einviz.parse("ij->ji"),
    lambda: einviz.plan("ij->ji", shapes=[(2, 3)]),
    lambda: einviz.trace("ij->ji", np.ones((2, 3))),
])
def test_ipython_finds_the_html_beside_the_text(make):
    obj = make()
    assert obj._repr_html_().startswith("<table")
    assert repr(obj)  # the text repr is still there for a terminal
