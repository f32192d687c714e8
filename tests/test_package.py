"""The package as installed: what ``import einviz`` loads, what it exports, what it ships."""

from __future__ import annotations

import doctest
import importlib.metadata
import importlib.resources
import json
import re
import subprocess
import sys
from pathlib import Path

import einviz


def python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


HEAVY = ("torch", "jax", "jaxlib", "tensorflow")


def test_import_einviz_does_not_import_torch_or_jax():
    code = f"import sys, json, einviz; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    assert json.loads(python(code)) == []


def test_the_command_does_not_import_torch_or_jax():
    code = (
        "import contextlib, io, sys, json\n"
        "from einviz.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['bij,bjk->bik', '--no-figure'])\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    assert json.loads(python(code)) == []


def test_drawing_a_figure_imports_no_svg_library():
    # The SVG is written by einviz itself: svgwrite's import alone (urllib, ssl, a validator)
    # took longer than drawing a figure.
    code = (
        "import sys, json, einviz\n"
        "einviz.animate('ij,jk->ik').to_svg()\n"
        "print(json.dumps([m for m in ('svgwrite', 'urllib.request', 'ssl') if m in sys.modules]))"
    )
    assert json.loads(python(code)) == []


def test_all_equals_the_public_names():
    # In a fresh interpreter: tests that import submodules (einviz.testing) add attributes.
    code = (
        "import json, types, einviz\n"
        "names = [n for n in dir(einviz)\n"
        "         if not n.startswith('_') and not isinstance(getattr(einviz, n), types.ModuleType)]\n"
        "print(json.dumps({'public': sorted(names + ['__version__']), 'all': einviz.__all__}))"
    )
    found = json.loads(python(code))
    assert sorted(found["all"]) == found["public"]
    assert len(set(found["all"])) == len(found["all"])


def test_version_matches_the_installed_metadata():
    assert importlib.metadata.version("einviz") == einviz.__version__


def test_ships_py_typed():
    assert importlib.resources.files("einviz").joinpath("py.typed").is_file()


def test_console_script_points_at_main():
    scripts = importlib.metadata.entry_points(group="console_scripts")
    (entry,) = [e for e in scripts if e.name == "einviz"]
    assert entry.value == "einviz.cli:main"


def test_readme_examples_run_as_shown():
    readme = Path(__file__).resolve().parents[1] / "README.md"
    # A code fence ends an example's expected output, as a blank line does.
    text = re.sub(r"^```.*$", "", readme.read_text(encoding="utf-8"), flags=re.M)
    test = doctest.DocTestParser().get_doctest(text, {}, "README.md", str(readme), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.tries > 0
    assert runner.failures == 0
