"""The command line's conventions, run as a user runs them (a subprocess, exit codes):
``-o -`` (the figure to standard output), ``--json``, ``einviz run -m MODULE`` and the
unquoted ``ij->i`` the shell cut at its ``>``."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from einviz.cli import main


@pytest.fixture(autouse=True)
def in_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def einviz(*args: str, cwd: Path, stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "einviz", *args], check=False, stdout=stdout,
                          stderr=subprocess.PIPE, timeout=120, cwd=cwd)


# -- -o - ------------------------------------------------------------------------------------
def test_dash_writes_the_svg_to_stdout_and_the_text_to_stderr(tmp_path):
    done = einviz("ij,jk->ik", "-o", "-", cwd=tmp_path)
    assert done.returncode == 0
    root = ET.fromstring(done.stdout)
    assert root.tag.endswith("svg")
    err = done.stderr.decode()
    assert "matrix multiplication" in err and "figure: standard output (animated SVG" in err
    assert list(tmp_path.iterdir()) == []  # no file made


@pytest.mark.parametrize(("kind", "magic"), [("png", b"\x89PNG\r\n"), ("gif", b"GIF89a"),
                                             ("html", b"<!DOCTYPE html>"), ("svg", b"<svg")])
def test_dash_with_format_pipes_that_format(tmp_path, kind, magic):
    done = einviz("i,i->", "-o", "-", "--format", kind, "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(magic)
    assert done.stderr == b""  # -q: nothing but the figure


def test_dash_refuses_binary_to_a_terminal(tmp_path):
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    try:
        done = einviz("ij->i", "-o", "-", "--format", "png", cwd=tmp_path, stdout=follower)
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2
    assert b"-o - would write PNG (the final state) bytes to the terminal" in done.stderr
    assert b"--format png > figure.png" in done.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "png"], "--format goes with -o -"),
    (["-o", "x.svg", "--format", "png"], "--format goes with -o -"),
    (["--json", "-o", "-"], "--json and -o - both ask for the whole of stdout"),
    (["--json", "--code"], "--code and --json both ask for the whole of stdout"),
])
def test_options_that_clash_with_stdout_are_refused(capsys, args, message):
    assert main(["ij->i", *args]) == 2
    assert message in capsys.readouterr().err


# -- --json ----------------------------------------------------------------------------------
def test_json_prints_the_plan_explanation_operands_and_result(tmp_path):
    done = einviz("ij,jk->ik", "--shapes", "2x3,3x5", "--json", cwd=tmp_path)
    assert done.returncode == 0
    data = json.loads(done.stdout)
    assert data["subscripts"] == "ij,jk->ik"
    assert data["equation"] == {"terms": [["i", "j"], ["j", "k"]], "output": ["i", "k"], "explicit": True}
    assert data["plan"]["sizes"] == {"i": 2, "k": 5, "j": 3}
    assert data["plan"]["steps"] == 2 * 5 * 3 and data["plan"]["summed"] == ["j"]
    assert data["explanation"]["pattern"] == "matrix multiplication"
    a, b = (data["operands"]["arrays"][name]["values"] for name in ("A", "B"))
    expected = [[sum(a[i][j] * b[j][k] for j in range(3)) for k in range(5)] for i in range(2)]
    assert data["result"]["values"] == expected
    assert data["path"] is None and data["check"] is None and data["figure"] is None
    assert list(tmp_path.iterdir()) == []  # like --code: no figure unless -o


def test_json_carries_the_check_and_the_path_and_the_figure(tmp_path):
    done = einviz("ab,bc,cd->ad", "--json", "--check", "--backends", "numpy,opt_einsum", "--path",
                  "-o", "f.svg", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["check"]["ok"] is True
    assert [row["backend"] for row in data["check"]["rows"]] == ["numpy", "opt_einsum"]
    assert len(data["path"]["steps"]) == 2
    assert data["figure"] == "f.svg" and (tmp_path / "f.svg").exists()
    assert b"figure: f.svg" in done.stderr


def test_json_writes_what_json_cannot_hold_as_strings():
    import numpy as np

    from einviz.cli_json import _strict

    data = {"e": float("inf"), "rows": [{"m": -np.inf}, (np.float32("nan"), 1.5)], 2: np.int64(7)}
    text = json.dumps(_strict(data), allow_nan=False)
    assert json.loads(text) == {"e": "inf", "rows": [{"m": "-inf"}, ["nan", 1.5]], "2": 7}


# -- einviz run -m ---------------------------------------------------------------------------
MODULE = """\
import sys
import numpy as np
print("module got", sys.argv[1:], "as", __name__)
np.einsum("ij->j", np.ones((2, 3)))
sys.exit(int(sys.argv[-1]))
"""


def test_run_m_runs_a_module_as_python_m_does(tmp_path):
    (tmp_path / "mymod.py").write_text(MODULE)
    done = einviz("run", "-m", "mymod", "--flag", "-o", "3", cwd=tmp_path)
    out = done.stdout.decode()
    assert done.returncode == 3
    assert "module got ['--flag', '-o', '3'] as __main__" in out
    assert "1x  ij->j  (2, 3)  float64  numpy.einsum" in out
    assert "report: einviz_report_mymod.html" in out
    assert (tmp_path / "einviz_report_mymod.html").read_text().startswith("<!DOCTYPE html>")


def test_run_m_takes_run_options_before_it(tmp_path):
    (tmp_path / "mymod.py").write_text(MODULE)
    done = einviz("run", "-q", "-o", "r.html", "-m", "mymod", "0", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.decode().splitlines()[-1] == "r.html"


def test_run_m_pytest_captures_a_test_suites_einsums(tmp_path):
    (tmp_path / "test_e.py").write_text(
        "import numpy as np\n\ndef test_rows():\n    assert np.einsum('ij->i', np.ones((2, 3))).tolist() == [3, 3]\n")
    done = einviz("run", "--no-report", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_e.py",
                  cwd=tmp_path)
    out = done.stdout.decode()
    assert done.returncode == 0, out
    assert "1 passed" in out and "1x  ij->i  (2, 3)  float64  numpy.einsum" in out


def test_run_m_a_missing_module_is_exit_2_and_makes_no_report(tmp_path):
    done = einviz("run", "-m", "no_such_module_here", cwd=tmp_path)
    assert done.returncode == 2
    assert b"cannot run the module 'no_such_module_here': there is no module of that name" in done.stderr
    assert list(tmp_path.iterdir()) == []
    done = einviz("run", "-m", cwd=tmp_path)
    assert done.returncode == 2 and b"-m needs a module name" in done.stderr


# -- the unquoted arrow --------------------------------------------------------------------------
def test_an_unquoted_arrow_says_to_quote_it(tmp_path):
    command = f"{shlex.quote(sys.executable)} -m einviz ij->i"
    done = subprocess.run(command, shell=True, check=False, stderr=subprocess.PIPE, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    assert "the subscripts 'ij-' end in '-': the shell took the '>' of '->' for a redirect" in done.stderr
    assert "    ij-\n      ^\n" in done.stderr
    assert "hint: quote the subscripts: einviz 'ij->i'; the shell also sent einviz's output into " \
           "a new file 'i': remove it" in done.stderr
    assert (tmp_path / "i").read_text() == ""  # nothing of einviz's went into it


def test_a_trailing_dash_without_a_redirect_still_says_to_quote(capsys):
    assert main(["ij,jk-", "--no-figure"]) == 2
    err = capsys.readouterr().err
    assert "hint: quote the subscripts: einviz 'ij,jk->...'" in err
