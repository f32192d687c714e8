"""The scripts in examples/: each runs as a user runs it and writes valid figures.

Every script runs in a subprocess with ``--out`` in a temporary folder and the temporary
folder as its working directory, so nothing is written into the checkout.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: script name -> the files it writes into --out.
FIGURES = {
    "row_sums": ["row_sums.svg", "row_sums.png", "row_sums.html"],
    "covariance": ["covariance.svg", "covariance.png", "covariance.html"],
    "matmul": ["matmul.svg", "matmul.png", "matmul.html"],
    "batched_matmul": ["batched_matmul.svg", "batched_matmul.png", "batched_matmul.html"],
    "attention": ["attention.svg", "attention.png", "attention.html", "report.html"],
    "bilinear": ["bilinear.svg", "bilinear.png", "bilinear.html"],
    "trace_and_diagonal": ["trace.svg", "trace.png", "trace.html",
                           "diagonal.svg", "diagonal.png", "diagonal.html"],
    "four_operands": ["four_operands.svg", "four_operands.png", "four_operands.html",
                      "path-step-1.svg", "path-step-2.svg", "path-step-3.svg", "path.html"],
}

#: scripts that need an optional library, which the test skips without.
NEEDS = {"attention": "torch"}


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None,
        python: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    # No __pycache__ for the examples' helper in the checkout either.
    env = {**(env or os.environ), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([*(python or [sys.executable]), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def assert_valid(path: Path) -> None:
    assert path.is_file(), f"{path.name} was not written"
    if path.suffix == ".svg":
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg"), path.name
    elif path.suffix == ".png":
        assert path.read_bytes().startswith(PNG_SIGNATURE), path.name
    elif path.suffix == ".html":
        text = path.read_text(encoding="utf-8")
        assert text.lstrip().startswith("<") and "</" in text, path.name


def load_gallery():
    spec = importlib.util.spec_from_file_location("gallery", EXAMPLES / "gallery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_example_runs_and_writes_its_figures(name: str, tmp_path: Path) -> None:
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    out = tmp_path / "out"
    done = run([str(EXAMPLES / f"{name}.py"), "--out", str(out)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "an example says what it shows"
    for figure in FIGURES[name]:
        assert_valid(out / figure)
    assert sorted(p.name for p in out.iterdir()) == sorted(FIGURES[name])


def test_every_example_is_tested() -> None:
    scripts = {p.stem for p in EXAMPLES.glob("*.py")
               if not p.stem.endswith("gallery") and not p.name.startswith("_")}
    assert scripts == set(FIGURES), "add a new example to FIGURES"
    gallery = load_gallery()
    assert {p.stem for p in gallery.example_scripts()} == scripts
    assert set(gallery.EXAMPLE_ORDER) == scripts, "give a new example its place in the gallery"


def test_attention_skips_cleanly_without_torch(tmp_path: Path) -> None:
    # A module named torch that fails to import stands in for a machine without torch.
    (tmp_path / "hide").mkdir()
    (tmp_path / "hide" / "torch.py").write_text("raise ImportError('no torch here')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "hide")}
    done = run([str(EXAMPLES / "attention.py"), "--out", str(tmp_path / "out")], tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert "needs torch" in done.stdout
    assert not list((tmp_path / "out").iterdir())


def test_an_example_runs_from_a_checkout_without_einviz_installed(tmp_path: Path) -> None:
    # A copy of the checkout; python -S with only the dependencies' folders on the path
    # (no .pth files, so no editable install of einviz) leaves einviz importable only
    # through the examples' own fallback.
    checkout = tmp_path / "checkout"
    for folder in ("einviz", "examples"):
        shutil.copytree(ROOT / folder, checkout / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "out"))
    import opt_einsum
    import resvg_py

    paths = {str(Path(m.__file__).resolve().parent.parent)
             for m in (np, opt_einsum, resvg_py)}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sorted(paths))}
    python = [sys.executable, "-S"]
    if run(["-c", "import einviz"], tmp_path, env, python).returncode == 0:
        pytest.skip("einviz is importable without the fallback here")
    done = run([str(checkout / "examples" / "row_sums.py")], tmp_path, env, python)
    assert done.returncode == 0, done.stderr
    out = checkout / "examples" / "out" / "row_sums"  # the default --out
    for figure in FIGURES["row_sums"]:
        assert_valid(out / figure)


def test_gallery_runs_the_examples_into_its_index(tmp_path: Path) -> None:
    out = tmp_path / "gallery"
    done = run([str(EXAMPLES / "gallery.py"), "-o", str(out), "--only", "row-sums",
                "--examples", "row_sums", "trace_and_diagonal"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    index = (out / "index.md").read_text(encoding="utf-8")
    assert "## Examples" in index and "## Patterns" in index
    assert index.index("### row_sums.py") < index.index("### trace_and_diagonal.py")
    assert load_gallery().description(EXAMPLES / "row_sums.py") in index
    assert "(examples/trace_and_diagonal/diagonal.svg)" in index
    assert "### covariance.py" not in index
    for name in ("row_sums", "trace_and_diagonal"):
        for figure in FIGURES[name]:
            assert_valid(out / "examples" / name / figure)
    assert_valid(out / "row-sums.svg")


def test_gallery_refuses_an_unknown_example(tmp_path: Path) -> None:
    done = run([str(EXAMPLES / "gallery.py"), "-o", str(tmp_path), "--examples", "no_such"],
               cwd=tmp_path)
    assert done.returncode == 2
    assert "no example named no_such" in done.stderr
