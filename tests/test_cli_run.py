"""``einviz run SCRIPT.py``: the summary, the report, exit statuses, and what a script prints.

A script's text (its subscripts, its error, the report's path) reaches the terminal escaped:
it cannot retitle, recolour or clear the terminal, nor split ``-q``'s one line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from einviz.cli import main


@pytest.fixture(autouse=True)
def in_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def einviz_command(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "einviz", *args], check=False,
                          capture_output=True, text=True, timeout=120, cwd=cwd)


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


SCRIPT = """\
import sys
import numpy as np
print("script got", sys.argv[1:])
a = np.arange(6.0).reshape(2, 3)
for _ in range(3):
    np.einsum("ij->i", a)
np.einsum("ij,jk->ik", a, a.T)
if "--fail" in sys.argv:
    raise RuntimeError("the script failed")
if "--exit" in sys.argv:
    sys.exit(3)
"""


@pytest.fixture
def script(in_empty_folder):
    path = in_empty_folder / "model.py"
    path.write_text(SCRIPT)
    return path


def test_run_prints_a_summary_line_per_distinct_einsum(capsys, script):
    status, out, err = run(capsys, "run", "--no-report", "model.py", "--lr", "0.1")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "script got ['--lr', '0.1']"
    assert "einviz: 4 einsum calls, 2 distinct" in lines
    assert re.search(r"^ +3x  ij->i  \(2, 3\)  float64  numpy\.einsum  .*model\.py:6$", out, re.MULTILINE)
    assert re.search(r"^ +1x  ij,jk->ik  \(2, 3\) \(3, 2\)  float64", out, re.MULTILINE)
    assert sorted(os.listdir()) == ["model.py"]


def test_run_passes_on_the_scripts_exit_status_and_its_traceback(capsys, script):
    assert run(capsys, "run", "--no-report", "-q", "model.py", "--exit") == (3, "script got ['--exit']\n", "")
    status, _, err = run(capsys, "run", "--no-report", "model.py", "--fail")
    assert status == 1
    assert err.startswith("Traceback (most recent call last):\n  File \"model.py\", line 9")
    assert err.endswith("RuntimeError: the script failed\n")
    assert "einviz" not in err and "runpy" not in err
    status, out, err = run(capsys, "run", "model.py", "--fail")  # the summary and report are kept
    assert status == 1 and "einviz: 4 einsum calls, 2 distinct" in out
    report = re.search(r"^report: (.+)$", out, re.MULTILINE).group(1)
    assert "RuntimeError: the script failed" in (Path(report).read_text(encoding="utf-8"))


def test_run_is_the_subcommand_only_before_a_script(capsys, script):
    # "run" is valid implicit subscripts (output "nru"): without a script it is read as such.
    status, out, _ = run(capsys, "run", "--no-figure")
    assert status == 0 and out.startswith("run->nru")
    assert run(capsys, "run", "-o", "figure.svg", "-q")[1] == "figure.svg\n"


def test_run_writes_the_report_to_a_new_file_end_to_end(script, in_empty_folder):
    (in_empty_folder / "einviz_report_model.html").write_text("mine")
    done = einviz_command("run", "model.py", cwd=in_empty_folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "report: einviz_report_model-1.html"
    assert (in_empty_folder / "einviz_report_model.html").read_text() == "mine"
    page = (in_empty_folder / "einviz_report_model-1.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "ij-&gt;i" in page
    refused = einviz_command("run", "-o", "einviz_report_model.html", "model.py", cwd=in_empty_folder)
    assert refused.returncode == 2
    assert "already exists" in refused.stderr and refused.stdout == ""


EVIL = ["\x1b]0;pwned\x07", "\x1b[2J", "\x00", "\u202e", "\x9b31m", "\x7f"]

EVIL_SCRIPT = f"""\
import numpy as np
for text in {EVIL!r}:
    try:
        np.einsum("i" + text + "->i", np.ones(2))
    except Exception:
        pass
"""


def test_run_escapes_the_scripts_subscripts_in_its_summary(capsys, in_empty_folder):
    (in_empty_folder / "evil.py").write_text(EVIL_SCRIPT)
    status, out, err = run(capsys, "run", "--no-report", "evil.py")
    assert (status, err) == (0, "")
    for text in EVIL:
        assert text not in out
        assert "i" + repr(text)[1:-1] + "->i" in out  # shown, escaped as repr escapes it
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", out)


def test_run_quiet_prints_one_line_whatever_the_report_path_holds(capsys, script):
    status, out, _ = run(capsys, "run", "-q", "-o", "new\nline.html", "model.py")
    assert status == 0
    assert out.splitlines()[-1] == "new\\nline.html"
    assert Path("new\nline.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_run_escapes_the_scripts_error_message(capsys, in_empty_folder):
    (in_empty_folder / "fails.py").write_text('raise ValueError("bad \\x1b[2J\\u202e")\n')
    status, _, err = run(capsys, "run", "--no-report", "fails.py")
    assert status == 1
    assert "\x1b" not in err and "\u202e" not in err
    assert err.endswith("ValueError: bad \\x1b[2J\\u202e\n")


def test_run_refuses_a_dangling_link_as_an_existing_file(capsys, script):
    os.symlink("missing-target.html", "dangling.html")
    status, out, err = run(capsys, "run", "-o", "dangling.html", "model.py")
    assert (status, out) == (2, "")
    assert re.match(r"einviz: 'dangling.html' already exists; einviz does not overwrite", err), err
    assert "Traceback" not in err
    assert not os.path.lexists("missing-target.html")
