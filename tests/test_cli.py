"""The ``einviz`` command as a user runs it: output, exit codes, no traceback for bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import einviz
from einviz.cli import example_operands, main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "einviz", *args], capture_output=True, text=True, timeout=60
    )


def test_prints_plan_code_formula_and_result():
    done = run("ij,jk->ik")
    assert done.returncode == 0, done.stderr
    assert "LoopPlan  ij,jk->ik" in done.stdout
    assert "out[i,k] = Σ_j A[i,j]·B[j,k]" in done.stdout
    assert "for j in range(3):" in done.stdout
    assert "[[20 23 26 29]" in done.stdout  # arange(6).reshape(2, 3) @ arange(12).reshape(3, 4)
    assert done.stderr == ""


@pytest.mark.parametrize(
    "subscripts, message",
    [
        ("ij,j%", r"'%' is not a valid label"),
        ("ij->k", r"'k'"),
        ("i.j", r"\.\.\."),
    ],
    ids=["bad-label", "output-label-not-in-inputs", "broken-ellipsis"],
)
def test_bad_subscripts_exit_2_with_the_message_and_no_traceback(subscripts, message):
    done = run(subscripts)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("einviz: ")
    assert "^" in done.stderr
    assert "Traceback" not in done.stderr
    with pytest.raises(einviz.EinvizError, match=message):
        einviz.parse(subscripts)


def test_version_and_help():
    assert run("--version").stdout.strip() == f"einviz {einviz.__version__}"
    done = run("--help")
    assert done.returncode == 0
    assert "subscripts" in done.stdout


def test_missing_argument_is_a_usage_error():
    done = run()
    assert done.returncode == 2
    assert "usage: einviz" in done.stderr


@pytest.mark.parametrize("subscripts", ["ij->i", "ii->i", "...ij,...jk", "i,i", "->", "Ab,bC"])
def test_main_in_process_matches_numpy(subscripts, capsys):
    assert main([subscripts]) == 0
    operands = example_operands(subscripts)
    expected = np.asarray(np.einsum(subscripts, *operands))
    assert f"out {expected.shape} =" in capsys.readouterr().out


def test_example_operands_give_labels_sizes_2_3_4_in_order():
    a, b, c = example_operands("ij,jk,kl")
    assert (a.shape, b.shape, c.shape) == ((2, 3), (3, 4), (4, 2))
    np.testing.assert_array_equal(a, np.arange(6).reshape(2, 3))
