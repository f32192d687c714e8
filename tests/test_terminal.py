"""What the command does to text before a terminal sees it: escapes, encodings, colour."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from einviz.cli import main
from einviz.terminal import ASCII_STAND_INS, fit, printable


@pytest.mark.parametrize("char", ["\x1b", "\x00", "\x07", "\n", "\r", "\t", "\x7f", "\x85", "\x9b",
                                  "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
                                  "\u2066", "\u2067", "\u2068", "\u2069"])
def test_printable_escapes_every_control_and_bidi_character(char):
    shown = printable(f"i{char}j")
    assert char not in shown
    assert shown.isascii() and shown.isprintable()
    assert shown.startswith("i\\") and shown.endswith("j")


def test_printable_keeps_text_that_prints():
    assert printable("ij,jk->ik  (2, 3)  αβ  Σ") == "ij,jk->ik  (2, 3)  αβ  Σ"


def ascii_stream() -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding="ascii")


def test_fit_uses_the_stand_ins_then_escapes_on_an_ascii_stream():
    assert fit("ij->i  —  2 × 3 = 6 steps, Σ_j …", ascii_stream()) == \
        "ij->i  --  2 x 3 = 6 steps, sum_j ..."
    assert fit("label α", ascii_stream()) == "label \\u03b1"
    for char, stand_in in ASCII_STAND_INS.items():
        assert fit(char, ascii_stream()) == stand_in
        assert stand_in.isascii()


def test_fit_leaves_text_the_stream_can_write():
    utf8 = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert fit("ij->i  —  Σ_j α", utf8) == "ij->i  —  Σ_j α"
    latin1 = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    assert fit("× and —", latin1) == "× and --"  # latin-1 has ×, not —


def ascii_command(*args: str) -> subprocess.CompletedProcess[bytes]:
    environment = {name: value for name, value in os.environ.items() if name != "NO_COLOR"}
    environment["PYTHONIOENCODING"] = "ascii"
    return subprocess.run([sys.executable, "-m", "einviz", *args], check=False,
                          capture_output=True, timeout=120, env=environment)


@pytest.mark.parametrize("args", [["ij->i", "--no-figure"], ["ab,bc,cd->ad", "--no-figure", "--path",
                                  "--check", "--backends", "numpy"], ["ij->i", "--code"], ["--help"]],
                         ids=["text", "path-and-check", "code", "help"])
def test_valid_input_works_on_an_ascii_terminal(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    done = ascii_command(*args)
    assert done.returncode == 0, done.stderr.decode("ascii", "replace")
    done.stdout.decode("ascii")  # nothing else came through
    assert b"Traceback" not in done.stderr


def test_the_report_on_an_ascii_terminal_reads_with_the_stand_ins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = ascii_command("ij->i", "--no-figure").stdout.decode("ascii")
    assert out.startswith("ij->i  --  row sums\n")
    assert "out[i] = sum_j A[i,j]" in out


def test_the_command_in_process_fits_its_stdout(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    stream = ascii_stream()
    monkeypatch.setattr(sys, "stdout", stream)
    assert main(["ij->i", "--no-figure"]) == 0
    stream.flush()
    text = stream.buffer.getvalue().decode("ascii")
    assert "row sums" in text and "sum_j" in text
