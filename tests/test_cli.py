"""The ``einviz`` command as a user runs it: output, files, exit codes, messages, colour.

Most cases call ``main(argv)`` in-process (it returns the exit status and prints to the
captured stdout and stderr); a few end-to-end ones start ``python -m einviz`` and the
installed console script, as a shell would. Every case runs in its own empty folder, since
the command writes its figure into the current folder.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from corpus import CORPUS, IDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stages import count_stages

import einviz
from einviz.cli import figure_name, main
from einviz.operands import default_operands
from einviz.render.palette import label_colours

ESCAPE = "\x1b["


@pytest.fixture(autouse=True)
def in_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


def einviz_command(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if name != "NO_COLOR"}
    return subprocess.run([sys.executable, "-m", "einviz", *args], check=False,
                          capture_output=True, text=True, timeout=120, cwd=cwd, env=environment)


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def shapes_option(shapes: list[tuple[int, ...]]) -> str:
    return ",".join("x".join(map(str, shape)) if shape else "scalar" for shape in shapes)


# --------------------------------------------------------------------------------------------
# The text
# --------------------------------------------------------------------------------------------


def test_prints_the_narrative_sizes_formula_loop_code_operands_and_result(capsys):
    status, out, err = run(capsys, "ij,jk->ik", "--no-figure")
    assert (status, err) == (0, "")
    sections = ["ij,jk->ik  —  matrix multiplication",
                "einsum sees that A has two dimensions (i: 2, j: 3).",
                "\nsizes\n", "\nformula\n", "\nloop code\n",
                "\noperands (arange: 1, 2, 3, … in each operand)\n", "\nresult\n"]
    positions = [out.index(section) for section in sections]
    assert positions == sorted(positions)
    assert re.search(r"^  j +3  summed  A axis 1, B axis 0$", out, re.MULTILINE)
    assert "  out[i,k] = Σ_j A[i,j]·B[j,k]" in out
    assert "              out[i, k] += A[i, j] * B[j, k]" in out
    assert "In plain numpy: A @ B" in out
    # 1..6 as 2x3 times 1..12 as 3x4
    assert "[[ 38  44  50  56]\n     [ 83  98 113 128]]" in out
    assert os.listdir() == []


def test_default_operands_have_sizes_2_3_4_by_label_and_ellipsis_dims(capsys):
    status, out, _ = run(capsys, "...ij,jkl->...il", "--no-figure")
    assert status == 0
    assert "  A (2, 2, 3) int64" in out  # '...' is one dimension of size 2; i=2, j=3
    assert "  B (3, 4, 2) int64" in out  # j=3, k=4, l=2 (the sizes cycle)
    assert "(a dimension of '...')" in out


@pytest.mark.parametrize("values, first", [("arange", "[[1 2 3]"), ("ones", "[[1 1 1]")])
def test_values(capsys, values, first):
    status, out, _ = run(capsys, "ij->i", "--values", values, "--no-figure")
    assert status == 0
    assert first in out


def test_random_values_follow_the_seed(capsys):
    outputs = [run(capsys, "ij,jk->ik", "--values", "random", "--seed", seed, "--no-figure")[1]
               for seed in ("1", "1", "2")]
    assert outputs[0] == outputs[1] != outputs[2]
    assert "random integers from -3 to 5, seed 1" in outputs[0]


def test_shapes_and_sizes_set_the_operands(capsys):
    _, out, _ = run(capsys, "bij,bjk->bik", "--sizes", "b=5,j=1", "--no-figure")
    assert "  A (5, 2, 1) int64" in out and "  B (5, 1, 3) int64" in out
    _, out, _ = run(capsys, ",ij->ij", "--shapes", "scalar,2x2", "--no-figure")
    assert "  A () int64" in out and "  B (2, 2) int64" in out
    _, out, _ = run(capsys, "...ij->...ji", "--sizes", "...=3x4,i=1", "--no-figure")
    assert "  A (3, 4, 1, 2) int64" in out


@pytest.mark.parametrize("subscripts, shapes", [
    ("...ij->...ji", [(2, 2, 3)]),  # '...' kept: one dimension of size 2
    ("...i", [(2, 2)]),  # implicit: the output keeps '...'
    ("...->", [()]),  # dropped: numpy allows that only when '...' is empty
    ("...i,...i->i", [(2,), (2,)]),
])
def test_a_made_up_ellipsis_is_empty_when_the_output_drops_it(capsys, subscripts, shapes):
    status, out, _ = run(capsys, subscripts, "--no-figure")
    assert status == 0
    assert re.findall(r"^  [AB] (\(.*?\)) int64$", out, re.MULTILINE) == [str(s) for s in shapes]
    assert [a.shape for a in default_operands(subscripts)] == shapes
    assert list(einviz.explain(subscripts).plan.shapes) == shapes


def test_names_name_the_operands_everywhere(capsys):
    status, out, _ = run(capsys, "bhqd,bhkd->bhqk", "--names", "Q,K", "--no-figure")
    assert status == 0
    assert "attention scores" in out
    assert "Q[b,h,q,d]·K[b,h,k,d]" in out
    assert "  Q (2, 3, 4, 2) int64" in out


@pytest.mark.parametrize("case", IDS)
def test_every_corpus_case_prints_and_its_code_agrees_with_numpy(capsys, case):
    subscripts, shapes = CORPUS[case]
    status, out, err = run(capsys, subscripts, "--shapes", shapes_option(shapes), "--no-figure")
    assert (status, err) == (0, "")
    assert "result\n  out " in out
    status, script, err = run(capsys, subscripts, "--shapes", shapes_option(shapes), "--code",
                              "--values", "random")
    assert (status, err) == (0, "")
    namespace: dict[str, object] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdout", io.StringIO())
        exec(compile(script, f"<einviz --code {case}>", "exec"), namespace)
    names = einviz.plan(subscripts, shapes=shapes).names  # A, B, … unless a label is one
    operands = [namespace[name] for name in names]
    np.testing.assert_array_equal(namespace["out"], np.einsum(subscripts, *operands))


def test_path_prints_the_contraction_path_after_the_text(capsys):
    status, out, _ = run(capsys, "ab,bc,cd->ad", "--path", "--no-figure")
    assert status == 0
    assert out.index("\nresult\n") < out.index("\nContraction path  ab,bc,cd->ad   (opt_einsum, auto)\n")
    assert re.search(r"^ +1  T1 = C · B +cd,bc->db +\(2, 3\)", out, re.MULTILINE)
    status, out, _ = run(capsys, "ab,bc,cd->ad", "--path", "--path-source", "numpy",
                         "--optimize", "optimal", "--no-figure", "-q")
    assert status == 0
    assert out.startswith("Contraction path  ab,bc,cd->ad   (numpy, optimal)\n")
    status, out, _ = run(capsys, "ab,bc,cd->ad", "--path", "--optimize", "[(0, 1), (0, 1)]",
                         "--no-figure", "-q")
    assert status == 0
    assert out.startswith("Contraction path  ab,bc,cd->ad   (opt_einsum, explicit)\n")
    assert re.search(r"^ +1  T1 = B · A ", out, re.MULTILINE)  # the path given: A with B first


def test_code_prints_only_a_runnable_script_and_writes_no_figure(capsys):
    status, out, err = run(capsys, "ij->i", "--code")
    assert (status, err) == (0, "")
    assert out.startswith("# ij->i: row sums (written by einviz ")
    assert "A = np.arange(1, 7).reshape((2, 3))" in out
    assert "assert np.array_equal(out, A.sum(axis=1))  # without einsum" in out
    assert os.listdir() == []
    # With -o the figure is written, and its path goes to stderr: stdout stays a script.
    status, out, err = run(capsys, "ij->i", "--code", "-o", "rows.svg")
    assert status == 0 and out.startswith("# ij->i") and "rows.svg" not in out
    assert "figure: rows.svg" in err


def test_quiet_prints_only_the_path_of_the_figure(capsys):
    status, out, err = run(capsys, "ij->i", "-q")
    assert (status, out, err) == (0, "einsum_ij_to_i.svg\n", "")
    assert run(capsys, "ij->i", "-q", "--no-figure") == (0, "", "")


def test_subscripts_that_start_with_an_arrow_are_not_options(capsys):
    status, out, err = run(capsys, "->", "--shapes", "scalar", "--no-figure")
    assert (status, err) == (0, "")
    assert out.startswith("->  —  identity")
    assert run(capsys, "--no-figure", "-q", "->")[0] == 0


def test_version_and_help(capsys):
    status, out, _ = run(capsys, "--version")
    assert (status, out) == (0, f"einviz {einviz.__version__}\n")
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for option in ("--shapes", "--sizes", "--values", "--seed", "--check", "--code", "-o",
                   "--force", "--no-figure", "--granularity", "--max-frames", "--frame-ms",
                   "--names", "--max-steps", "--quiet", "--color", "--path", "--path-source",
                   "--optimize", "--backends", "examples:", "einviz run"):
        assert option in out, option
    status, out, _ = run(capsys, "run", "--help")
    assert status == 0 and "usage: einviz run" in out


# --------------------------------------------------------------------------------------------
# Colour
# --------------------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_is_off_when_captured_and_on_with_color_always(capsys):
    assert ESCAPE not in run(capsys, "ij,jk->ik", "--no-figure")[1]
    _, out, _ = run(capsys, "ij,jk->ik", "--no-figure", "--color=always")
    colours = label_colours("ijk")
    red, green, blue = (int(colours["j"][k : k + 2], 16) for k in (1, 3, 5))
    j = f"\x1b[1;38;2;{red};{green};{blue}mj\x1b[0m"
    # The label j in its colour: in the subscripts, the formula's Σ_j and index lists, the loops.
    assert out.startswith(f"{ESCAPE}")
    assert f"Σ_{j} A[" in out
    assert f"for {j} in range(3):" in out
    assert f"A[{ESCAPE}" in out and "out[" in out
    # The sentences colour the letters explain marked as labels, as the figure's captions do.
    assert f"{j} appears in A and B but not in the output" in out
    assert f"so it is summed: each output cell adds up the products along {j}." in out
    # Operand names are not labels: never coloured, even when a label has the same letter.
    _, out, _ = run(capsys, "Ab,bC->AC", "--names", "A,C", "--no-figure", "--color=always")
    assert "·C[" in out and " A[" in out


@pytest.mark.parametrize(
    "env, option, coloured",
    [({}, [], True), ({"NO_COLOR": "1"}, [], False), ({"TERM": "dumb"}, [], False),
     ({}, ["--no-color"], False), ({"NO_COLOR": "1"}, ["--color=always"], True)],
    ids=["terminal", "NO_COLOR", "TERM=dumb", "--no-color", "always-beats-NO_COLOR"],
)
def test_colour_on_a_terminal(monkeypatch, env, option, coloured):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("TERM", "xterm-256color")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["ij->i", "--no-figure", *option]) == 0
    assert (ESCAPE in terminal.getvalue()) is coloured


# --------------------------------------------------------------------------------------------
# Bad input: exit 2, einviz's message on stderr, nothing on stdout, no traceback
# --------------------------------------------------------------------------------------------

BAD_INPUT = {
    "bad-label": (["ij,j%"], r"'%' is not a valid label\n    ij,j%\n        \^"),
    "output-label-not-in-inputs": (["ij->k"], r"output label 'k' does not appear in any input"),
    "broken-ellipsis": (["i..j"], r"an ellipsis is three dots, not 2"),
    "size-clash": (["ij,jk->ik", "--shapes", "2x3,4x5"],
                   (r"label 'j' has size 3 in A \(axis 1\) but size 4 in B \(axis 0\)\n"
                    r"    ij,jk->ik\n     \^ \^")),
    "too-few-shapes": (["ij,jk->ik", "--shapes", "2x3"],
                       r"the subscripts name 2 operands but 1 was given"),
    "rank-mismatch": (["ij->i", "--shapes", "2x3x4"], r"term 'ij' has 2 labels but A has 3 dimensions"),
    "shapes-nonsense": (["ij->i", "--shapes", "2xa"],
                        r"--shapes: 'a' is not a size\n    --shapes 2xa\n               \^"),
    "shapes-missing-size": (["ij->i", "--shapes", "2x"], r"--shapes: a size is missing"),
    "shapes-empty": (["ij,jk", "--shapes", "2x3,,3x4"],
                     r"--shapes has an empty shape\n    --shapes 2x3,,3x4\n                 \^"),
    "shapes-negative": (["ij->i", "--shapes", "2x-3"], r"--shapes: '-3' is not a size"),
    "sizes-unknown-label": (["ij->i", "--sizes", "i=2,q=3"],
                            (r"--sizes gives a size to 'q', which is not a label of the subscripts\n"
                             r"    --sizes i=2,q=3\n                \^\n"
                             r"  subscripts: ij->i   labels: i, j")),
    "sizes-twice": (["ij->i", "--sizes", "i=2,j=3,i=4"],
                    r"--sizes gives 'i' a size twice\n    --sizes i=2,j=3,i=4\n            \^       \^"),
    "sizes-not-a-number": (["ij->i", "--sizes", "i=two"],
                           r"--sizes: the size of 'i' is 'two', not a whole number"),
    "sizes-no-equals": (["ij->i", "--sizes", "i2"], r"--sizes: 'i2' is not label=size"),
    "sizes-ellipsis-absent": (["ij->i", "--sizes", "...=2"],
                              r"--sizes sizes '\.\.\.' but the subscripts have no '\.\.\.'"),
    "shapes-and-sizes": (["ij->i", "--shapes", "2x3", "--sizes", "i=2"],
                         r"give --shapes or --sizes, not both"),
    "names-count": (["ij,jk->ik", "--names", "A"], r"names must be 2 distinct Python identifiers"),
    "names-empty": (["ij,jk->ik", "--names", "A,,B"], r"--names has an empty name"),
    "over-the-limit": (["ij,jk->ik", "--sizes", "i=1000,j=1000,k=1000"],
                       (r"the einsum needs 1,000,000,000 steps \(multiply-adds\), more than the "
                        r"limit of 10,000,000\n.*\n  sizes: i=1000, k=1000, j=1000\n"
                        r"  hint: raise the limit with --max-steps 1000000000")),
    "operand-over-the-limit": (["i,j->", "--sizes", "i=0,j=100000", "--max-steps", "1000"],
                               (r"B would have 100,000 elements, more than the limit of 1,000\n"
                                r"(.*\n)*  hint: raise the limit with --max-steps 100000")),
    "memory-over-the-limit": (["ij", "--shapes", "99999999999999999999x1", "--no-figure"],
                              (r"the operands and the result would take "
                               r"1,599,999,999,999,999,999,984 bytes \(1,600 EB\), more than the "
                               r"2,000,000,000 bytes \(2\.0 GB\) the command makes in memory")),
    "frames-over-the-limit": (["ij,jk->ik", "--sizes", "i=100,j=100,k=100", "--max-frames", "1e7"],
                              (r"max_frames=10,000,000 lets the figure have [\d,]+ frames, more than "
                               rf"the limit of {einviz.get_limits().max_frames:,}\n    ij,jk->ik\n"
                               r"  the einsum has 1,000,000 steps and 10,000 output cells, up to a "
                               r"frame each, and the opening and final frames\n"
                               rf"  hint: give --max-frames {einviz.get_limits().max_frames} "
                               r"or less, .*or --no-figure for the text alone")),
    "empty-array-numpy-cannot-make": (["ij", "--shapes", "0x99999999999999999999"],
                                      (r"numpy cannot make A: its sizes multiply to more than "
                                       r"numpy counts .*\n    ij\n  A: shape \(0, 99999999999999999999\)")),
    "empty-operand-numpy-cannot-make": (["ij->i", "--sizes", "i=0,j=99999999999999999999999"],
                                        r"numpy cannot make A: its sizes multiply to more"),
    "empty-pair-numpy-cannot-make": (["ij,jk->ik", "--shapes",
                                      "0x4611686018427387904,4611686018427387904x0",
                                      "--max-steps", "1e60"], r"numpy cannot make A"),
    "size-too-long": (["ij->i", "--sizes", "i=" + "9" * 5000],
                      r"--sizes: a size of 5,000 digits is far past any memory\n    --sizes i=9{90}\[\.\.\.\]\n"
                      r" {14}\^{90}\n  \(the subscripts are 5,010 characters long: characters 0 to 99 "
                      r"are shown\)"),
    "shape-too-long": (["ij->i", "--shapes", "2x" + "9" * 50], r"--shapes: a size of 50 digits"),
    "figure-too-many-dimensions": (["...->...", "--shapes", "x".join(["1"] * 40)],
                                   (r"A has 40 dimensions, more than the "
                                    rf"{einviz.get_limits().max_drawn_dims} a figure draws\n(.*\n)*"
                                    r"  hint: .*--no-figure")),
    "ellipsis-too-many-dimensions": (["...->...", "--sizes", "...=" + "x".join(["1"] * 70)],
                                     r"'\.\.\.' stands for 70 dimensions"),
    "figure-over-a-dangling-link": (["ij->i", "-o", "dangling.svg"],
                                    r"'dangling.svg' already exists; einviz does not overwrite"),
    "figure-suffix": (["ij->i", "-o", "out.jpg"],
                      r"cannot write 'out.jpg': einviz writes \.svg, \.png, \.gif or \.html files"),
    "figure-folder": (["ij->i", "-o", "missing/out.svg"], r"there is no folder 'missing'"),
    "figure-missing-folder": (["ij->i", "-o", "missing/"],
                              r"cannot write into 'missing/': there is no folder 'missing'"),
    "figure-and-no-figure": (["ij->i", "-o", "out.svg", "--no-figure"], r"-o and --no-figure"),
    "backends-without-check": (["ij->i", "--backends", "numpy"], r"--backends goes with --check"),
    "optimize-without-path": (["ij->i", "--optimize", "greedy"],
                              r"--optimize and --path-source go with --path"),
    "unknown-strategy": (["ij,jk->ik", "--path", "--optimize", "fastest"],
                         r"optimize='fastest' is not a strategy opt_einsum knows"),
    "path-not-python": (["ab,bc,cd->ad", "--path", "--optimize", "[(0, 1)"],
                        r"argument --optimize: '\[\(0, 1\)' is not a path: write one as a list"),
    "path-wrong-position": (["ab,bc,cd->ad", "--path", "--optimize", "[(0, 1), (0, 2)]"],
                            r"contraction 2 of the path names operand 2, but the operands are numbered 0 to 1"),
    "unknown-backend": (["ij->i", "--check", "--backends", "nump"], r"unknown backend 'nump'"),
    "no-subscripts": ([], r"the following arguments are required: SUBSCRIPTS\nusage: einviz"),
    "bad-choice": (["ij->i", "--granularity", "frames"],
                   r"argument --granularity: invalid choice: 'frames'"),
    "bad-number": (["ij->i", "--max-frames", "many"], r"argument --max-frames: 'many' is not a whole"),
    "bad-frame-ms": (["ij->i", "--frame-ms", "0"], r"argument --frame-ms: '0' is not a positive"),
    "no-frames": (["ij->i", "--max-frames", "0"], r"argument --max-frames: '0' is not positive"),
    "bad-colour": (["ij->i", "--color", "sometimes"], r"argument --color: invalid choice"),
    "run-missing-script": (["run", "missing.py"], r"cannot run 'missing.py': there is no such file"),
}


@pytest.mark.parametrize("args, message", list(BAD_INPUT.values()), ids=list(BAD_INPUT))
def test_bad_input_exits_2_with_the_message_on_stderr(capsys, args, message):
    made = []
    if "dangling.svg" in args:
        os.symlink("missing-target.svg", "dangling.svg")
        made.append("dangling.svg")
    status, out, err = run(capsys, *args)
    assert status == 2
    assert out == ""
    assert err.startswith("einviz: ")
    assert re.search(message, err), err
    assert "Traceback" not in err
    assert os.listdir() == made  # nothing written


def test_raising_the_limit_lets_the_einsum_run(capsys):
    assert run(capsys, "ij,jk->ik", "--max-steps", "23", "-q", "--no-figure")[0] == 2
    assert run(capsys, "ij,jk->ik", "--max-steps", "24", "-q", "--no-figure")[0] == 0
    assert run(capsys, "ij->i", "--sizes", "i=10,j=10", "--max-steps", "1e2", "-q",
               "--no-figure")[0] == 0


MEMORY = r"the operands and the result would take {} bytes \({}\), more than the 2,000,000,000 bytes \(2\.0 GB\) the command makes in memory"


def test_operands_too_large_for_memory_are_refused_before_any_is_made(capsys, monkeypatch):
    # Raising --max-steps as its hint says must not lead to a traceback or a 24 GB allocation.
    import einviz.cli_operands

    def never(*args):
        raise AssertionError("the operands were made")

    monkeypatch.setattr(einviz.cli_operands, "make_operands", never)
    status, out, err = run(capsys, "ij->", "--shapes", "3000000000x1", "--max-steps",
                           "100000000000000000000")
    assert (status, out) == (2, "")
    assert re.search(MEMORY.format("24,000,000,008", "24\\.0 GB") + r"\n    ij->\n"
                     r"  A: shape \(3000000000, 1\), 24,000,000,000 bytes \(24\.0 GB\)\n"
                     r"  out: shape \(\), 8 bytes\n  sizes: i=3000000000, j=1\n"
                     r"  hint: give smaller sizes with --shapes or --sizes \(--max-steps does not "
                     r"raise this limit\)\n\Z", err), err
    assert os.listdir() == []


def test_operands_too_large_for_memory_end_to_end_exit_2_without_a_traceback():
    for extra in (["--max-steps", "99999999999999999999"], []):
        done = einviz_command("ij", "--shapes", "99999999999999999999x1", "--no-figure", *extra)
        assert (done.returncode, done.stdout) == (2, ""), done.stderr
        assert re.match(MEMORY.format("1,599,999,999,999,999,999,984", "1,600 EB"), done.stderr[8:])
        assert "Traceback" not in done.stderr
        assert "--max-steps 99999999999999999999" not in done.stderr  # no hint to a dead end


def test_the_memory_limit_counts_every_operand_and_the_result(monkeypatch):
    import einviz.cli_operands

    loop_plan = einviz.plan("ij,j->i", shapes=[(2, 3), (3,)])  # 6 + 3 + 2 elements of 8 bytes
    monkeypatch.setattr(einviz.cli_operands, "MAX_BYTES", 88)
    einviz.cli_operands.check_memory(loop_plan)
    monkeypatch.setattr(einviz.cli_operands, "MAX_BYTES", 87)
    with pytest.raises(einviz.LimitError, match=r"would take 88 bytes, more than the 87 bytes the"):
        einviz.cli_operands.check_memory(loop_plan)


def test_many_frames_are_refused_only_when_the_einsum_could_fill_them(capsys):
    # 24 steps: --max-frames 1e9 cannot make more than a few dozen frames.
    status, out, _ = run(capsys, "ij,jk->ik", "--max-frames", "1e9", "-q")
    assert (status, out) == (0, "einsum_ij_jk_to_ik.svg\n")
    status, _, _ = run(capsys, "ij,jk->ik", "--sizes", "i=100,j=100,k=100", "--max-frames",
                       "1e7", "--no-figure", "-q")
    assert status == 0  # no figure, no frames


def test_running_out_of_memory_is_a_message_not_a_traceback(capsys, monkeypatch):
    import einviz.cli_operands

    def exhausted(*args):
        raise MemoryError

    monkeypatch.setattr(einviz.cli_operands, "make_operands", exhausted)
    status, out, err = run(capsys, "ij,jk->ik")
    assert (status, out) == (2, "")
    assert err == ("einviz: ran out of memory making or drawing this einsum\n"
                   "  hint: give smaller sizes with --shapes or --sizes\n")


def test_bad_input_end_to_end_has_the_carets_and_no_traceback():
    done = einviz_command("ij,jk->ik", "--shapes", "2x3,4x5")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "einviz: label 'j' has size 3 in A (axis 1) but size 4 in B (axis 0)\n"
        "    ij,jk->ik\n"
        "     ^ ^\n"
        "  A: shape (2, 3)   B: shape (4, 5)\n"
        "  hint: the sizes of a shared label must match (or one of them must be 1)\n"
    )


# --------------------------------------------------------------------------------------------
# The figure
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subscripts, name",
    [("ij,jk->ik", "einsum_ij_jk_to_ik"), ("ij, jk", "einsum_ij_jk"),
     ("...ij,...jk->...ik", "einsum_dotsij_dotsjk_to_dotsik"), ("ij->", "einsum_ij_to_scalar"),
     (",ij->ij", "einsum_scalar_ij_to_ij"), ("Ab,bC", "einsum_Ab_bC")],
)
def test_figure_name(subscripts, name):
    assert figure_name(einviz.parse(subscripts)) == name


def test_writes_the_animated_svg_to_a_new_file_and_never_overwrites(capsys, in_empty_folder):
    (in_empty_folder / "einsum_ij_jk_to_ik.svg").write_text("mine")
    written = []
    for _ in range(2):
        status, out, _ = run(capsys, "ij,jk->ik")
        assert status == 0
        written.append(out.splitlines()[-1])
    pattern = r"figure: einsum_ij_jk_to_ik-{}\.svg \(animated SVG, \d+ frames, granularity teach\)"
    assert re.fullmatch(pattern.format(1), written[0]) and re.fullmatch(pattern.format(2), written[1])
    assert (in_empty_folder / "einsum_ij_jk_to_ik.svg").read_text() == "mine"
    svg = ET.parse(in_empty_folder / "einsum_ij_jk_to_ik-1.svg").getroot()
    frames = [g for g in svg.iter() if "einviz-frame" in (g.get("class") or "").split()]
    assert len(frames) == einviz.animate("ij,jk->ik").n_frames  # the library's figure, whole


def test_output_onto_an_existing_file_needs_force(capsys, in_empty_folder):
    target = in_empty_folder / "mine.svg"
    target.write_text("keep me")
    status, out, err = run(capsys, "ij->i", "-o", "mine.svg")
    assert (status, out) == (2, "")
    assert "'mine.svg' already exists" in err and "--force" in err
    assert target.read_text() == "keep me"
    status, out, _ = run(capsys, "ij->i", "-o", "mine.svg", "--force", "-q")
    assert (status, out) == (0, "mine.svg\n")
    assert target.read_text().startswith("<svg")


def test_output_into_a_folder_uses_the_default_name(capsys, in_empty_folder):
    (in_empty_folder / "figures").mkdir()
    assert run(capsys, "ij->i", "-o", "figures", "-q")[1] == os.path.join("figures", "einsum_ij_to_i.svg") + "\n"
    assert run(capsys, "ij->i", "-o", "figures", "-q")[1] == os.path.join("figures", "einsum_ij_to_i-1.svg") + "\n"


def test_figure_options_reach_the_animation(capsys, in_empty_folder):
    status, out, _ = run(capsys, "ij,jk->ik", "--granularity", "cell", "--names", "P,Q",
                         "--frame-ms", "250", "-o", "cells.svg")
    assert status == 0
    assert out.splitlines()[-1].startswith("figure: cells.svg (animated SVG, ")
    assert "granularity cell" in out.splitlines()[-1]
    assert 'data-operand="P"' in (in_empty_folder / "cells.svg").read_text()
    status, out, _ = run(capsys, "ij,jk->ik", "--max-frames", "12", "-o", "few.svg")
    frames = int(re.search(r"(\d+) frames", out.splitlines()[-1]).group(1))
    assert status == 0 and frames <= 12


def test_png_is_the_final_state(capsys, in_empty_folder):
    pytest.importorskip("resvg_py")
    status, out, _ = run(capsys, "ij->i", "-o", "rows.png")
    assert status == 0
    assert out.splitlines()[-1] == "figure: rows.png (PNG (the final state))"
    assert (in_empty_folder / "rows.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("suffix, method, magic", [(".gif", "to_gif", b"GIF8"), (".html", "to_html", b"<")])
def test_gif_and_html_follow_the_suffix(capsys, in_empty_folder, suffix, method, magic):
    from einviz.animation import Animation

    status, out, err = run(capsys, "ij->i", "-o", f"rows{suffix}")
    if hasattr(Animation, method):
        assert status == 0, err
        assert (in_empty_folder / f"rows{suffix}").read_bytes().lstrip()[: len(magic)] == magic
    else:
        assert (status, out) == (2, "")
        assert f"cannot write {suffix} files yet (Animation.{method} is missing)" in err
        assert os.listdir() == []


# --------------------------------------------------------------------------------------------
# --check
# --------------------------------------------------------------------------------------------


def test_check_prints_the_table_and_exits_0_when_the_backends_agree(capsys):
    status, out, err = run(capsys, "ij,jk->ik", "--check", "--backends", "numpy,opt_einsum",
                           "--no-figure")
    assert (status, err) == (0, "")
    assert "backend     version" in out
    assert re.search(r"^numpy +\S+ +ok ", out, re.MULTILINE)
    assert "ok: every installed backend agrees with the reference" in out


def test_check_exits_1_when_a_backend_disagrees(capsys):
    from einviz.backends import register_backend, unregister_backend

    register_backend("off-by-one", lambda subscripts, *ops: np.einsum(subscripts, *ops) + 1)
    try:
        status, out, _ = run(capsys, "ij,jk->ik", "--check", "--backends", "numpy,off-by-one",
                             "--no-figure", "-q")
    finally:
        unregister_backend("off-by-one")
    assert status == 1
    assert re.search(r"^off-by-one +\S* +mismatch", out, re.MULTILINE)


@pytest.fixture(scope="module")
def full_check(tmp_path_factory) -> subprocess.CompletedProcess[str]:
    """One end-to-end ``--check`` with every installed backend, shared by the tests below."""
    return einviz_command("bij,bjk->bik", "--check", "--no-figure", "-q",
                          cwd=tmp_path_factory.mktemp("check"))


@pytest.mark.backend
@pytest.mark.parametrize("library", ["torch", "jax"])
def test_check_runs_the_installed_heavy_backends_end_to_end(full_check, library):
    pytest.importorskip(library)
    assert full_check.returncode == 0, full_check.stdout + full_check.stderr
    assert re.search(rf"^{library} +\S+ +ok ", full_check.stdout, re.MULTILINE)


# --------------------------------------------------------------------------------------------
# End to end, as a shell runs it
# --------------------------------------------------------------------------------------------


def test_end_to_end_text_is_plain_when_piped_and_the_figure_is_written(in_empty_folder):
    done = einviz_command("ij,jk->ik", cwd=in_empty_folder)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert ESCAPE not in done.stdout
    assert done.stdout.startswith("ij,jk->ik  —  matrix multiplication\n")
    assert re.search(r"\n\nfigure: einsum_ij_jk_to_ik\.svg \(animated SVG, \d+ frames, granularity teach\)\n\Z",
                     done.stdout)
    assert (in_empty_folder / "einsum_ij_jk_to_ik.svg").is_file()
    coloured = einviz_command("ij,jk->ik", "--color=always", "--no-figure", cwd=in_empty_folder)
    assert ESCAPE in coloured.stdout


def test_the_console_script(in_empty_folder):
    script = Path(sys.executable).with_name("einviz")
    if not script.is_file():
        pytest.skip(f"no console script next to {sys.executable}")
    done = subprocess.run([str(script), "ij->i", "--no-figure", "-q"], check=False,
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    done = subprocess.run([str(script), "ij->k"], check=False, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and done.stderr.startswith("einviz: output label 'k'")


# --------------------------------------------------------------------------------------------
# docs/cli.md
# --------------------------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def documented_runs() -> list[tuple[str, str]]:
    """The ``$ einviz ...`` commands of docs/cli.md shown with their output."""
    runs = []
    for block in re.findall(r"```console\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL):
        for command, output in re.findall(r"^\$ (einviz .*)\n((?:(?!\$ ).*\n)*)", block, re.MULTILINE):
            if output.strip() and not command.startswith("einviz run"):
                runs.append((command, output.strip("\n")))
    return runs


@pytest.mark.parametrize("command, shown", documented_runs(), ids=lambda value: value.split("\n")[0])
def test_docs_show_what_the_command_prints(capsys, command, shown):
    import shlex

    status, out, err = run(capsys, *shlex.split(command, comments=True)[1:])
    frames = re.compile(r"\d+ frames")
    assert frames.sub("N frames", (out + err).strip("\n")) == frames.sub("N frames", shown)
    assert status == (2 if shown.startswith("einviz: ") else 0)


def test_docs_describe_every_option(capsys):
    docs = DOCS.read_text(encoding="utf-8")
    helps = run(capsys, "--help")[1] + run(capsys, "run", "--help")[1]
    # argparse lists each option on a line of its own: "  -o FILE, --output FILE  help…"
    listed = re.findall(r"^  (-\S.*?)(?:  |$)", helps, re.MULTILINE)
    options = {name for line in listed for name in re.findall(r"--?[a-z][a-z-]*", line)}
    assert {"--shapes", "--output", "-o", "--no-report"} <= options
    missing = sorted(option for option in options
                     if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", docs))
    assert missing == []


def test_the_figure_is_written_even_when_the_reader_stops_early(in_empty_folder):
    # `einviz ... -o q.svg | head -1`: the pipe closes after one line; the file must exist.
    process = subprocess.Popen([sys.executable, "-m", "einviz", "ij,jk,kl,lm->im", "-o", "q.svg"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline()
    process.stdout.close()
    process.wait(timeout=120)
    assert process.stderr.read() == b""  # no traceback
    assert (in_empty_folder / "q.svg").read_text().startswith("<svg")


# --------------------------------------------------------------------------------------------
# Hostile option values: exit 0, 1 or 2, never a traceback
# --------------------------------------------------------------------------------------------

HOSTILE = ["", " ", "0", "-1", "1e400", "nan", "inf", "1e6", "99999999999999999999999", "9" * 5000,
           "\x00", "\x1b[2J", "\u202e", "é", "２", "٣", ",", ",,", "=", "...", "…", "2x3", "0x0",
           "scalar", "2×3", "1_000", "0x99999999999999999999", "i=0", "j=0,i=99999999999999999999",
           "...=" + "x".join(["1"] * 40), "...=0x99999999999999999999", "[(0, 1)]", "[(0,)]", "[]",
           "[(" * 200, "-", "--", "i=2,i=3", "A,B", "out,np", "1" * 30, "1.5", " 3 ", "x" * 500,
           "numpy", "nope", "greedy", "dp", "x".join(["1"] * 40), "0x4611686018427387904"]
SUBSCRIPTS = ["ij,jk->ik", "ij->i", "ii->", "...ij->...ji", "i,i->", "->", ",->", "...->...",
              "ab,bc,cd->ad", "i->ii", "\x1b", "run"]
VALUED = ["--shapes", "--sizes", "--values", "--seed", "--names", "--max-steps", "--backends",
          "--path-source", "--optimize", "--color", "--granularity", "--max-frames", "--frame-ms"]
FLAGS = ["--check", "--path", "--code", "-q", "--no-color", "--force"]


@st.composite
def hostile_commands(draw: st.DrawFn) -> list[str]:
    argv = [draw(st.sampled_from(SUBSCRIPTS + HOSTILE[:10]))]
    for option in draw(st.lists(st.sampled_from(VALUED), max_size=4)):
        argv += [option, draw(st.sampled_from(HOSTILE) | st.text(max_size=12))]
    argv += draw(st.lists(st.sampled_from(FLAGS), max_size=2, unique=True))
    return argv + ["--no-figure"]  # the figure's own limits are tested with the figure


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=hostile_commands())
def test_hostile_option_values_exit_0_1_or_2_without_a_traceback(capsys, argv):
    if "--check" in argv and "--backends" not in argv:
        argv += ["--backends", "numpy"]  # torch and jax are slow to start and tested elsewhere
    status, out, err = run(capsys, *argv)
    assert status in (0, 1, 2), (argv, err)
    assert "Traceback" not in out + err, argv
    assert os.listdir() == []


# --------------------------------------------------------------------------------------------
# One parse, one bind, one explain per run (issue 12)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--no-figure"], ["--code"], ["--no-figure", "--check",
                                  "--backends", "numpy,opt_einsum"], ["-q"]],
                         ids=["text", "code", "check", "figure"])
def test_a_run_parses_binds_and_explains_once(capsys, monkeypatch, args):
    made = count_stages(monkeypatch)
    assert run(capsys, "ij,jk->ik", *args)[0] == 0
    assert made == Counter(parse=1, bind=1, explain=1)


def test_a_run_with_a_path_parses_binds_and_explains_the_expression_once(capsys, monkeypatch):
    made = count_stages(monkeypatch)
    assert run(capsys, "ij,jk->ik", "-q", "--no-figure", "--path")[0] == 0
    # Each pairwise step of the path is an einsum of its own (here one: "jk,ij->ik"), planned
    # for its figure and its pattern; the expression itself is parsed and bound once.
    assert made.sources.count("ij,jk->ik") == 1
    steps = [source for source in made.sources if source != "ij,jk->ik"]
    assert steps and all(source.endswith("->ik") for source in steps)
    made.subtract(parse=len(steps), bind=len(steps))
    assert made == Counter(parse=1, bind=1, explain=1)


def test_an_output_that_cannot_be_written_is_one_line_on_stderr(capsys, monkeypatch):
    import errno

    class Full(io.StringIO):
        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sys, "stdout", Full())
    status = main(["ij->i", "--no-figure"])
    assert status == 1
    assert capsys.readouterr().err == "einviz: cannot write the output: No space left on device\n"


def test_the_animation_never_gets_more_frames_than_the_frame_limit(capsys, monkeypatch):
    import einviz.animation

    asked = []
    real = einviz.animation.animate

    def recording(*args, **kwargs):
        asked.append(kwargs["max_frames"])
        return real(*args, **kwargs)

    monkeypatch.setattr(einviz.animation, "animate", recording)
    assert run(capsys, "ij,jk->ik", "--max-frames", "1e9", "-q")[0] == 0
    assert asked == [einviz.get_limits().max_frames]
