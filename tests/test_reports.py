"""The capture report (render/reports.py, fed by _report_parts.py) and the path page it shows."""

from __future__ import annotations

import ast
import importlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
import types
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from einviz import EinvizError
from einviz.recording import capture, run_script

ROOT = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


class FakeExplanation:
    pattern = "matrix <product>"

    def __str__(self):
        return "Multiply <script>alert('explain')</script> & sum over j."


class FakeAnimation:
    def to_svg(self):
        return '<svg xmlns="http://www.w3.org/2000/svg"><text>fake figure</text></svg>'


class FakeReport:
    def _repr_html_(self):
        return '<table class="fake-check"><tr><td>numpy</td><td>agrees</td></tr></table>'


def write_script(folder: Path, body: str) -> Path:
    script = folder / "script.py"
    script.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return script


@pytest.fixture
def fake_parts(monkeypatch):
    """Stand-ins for einviz.explain, einviz.animation and einviz.backends; records their calls."""
    seen = {"explain": [], "animate": [], "check": []}

    def explain(subscripts, *operands, shapes=None):
        seen["explain"].append((subscripts, [np.shape(x) for x in operands], shapes))
        return FakeExplanation()

    def animate(subscripts, *operands, **options):
        seen["animate"].append((subscripts, [np.asarray(x) for x in operands]))
        return FakeAnimation()

    def check(subscripts, *operands):
        seen["check"].append((subscripts, [np.shape(x) for x in operands]))
        return FakeReport()

    for module, name, function in (
        ("einviz.explaining", "explain", explain),
        ("einviz.animation", "animate", animate),
        ("einviz.backends", "check", check),
    ):
        fake = types.ModuleType(module)
        setattr(fake, name, function)
        monkeypatch.setitem(sys.modules, module, fake)
    return seen


def assert_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "<link" not in page.lower() and "@import" not in page
    # The only scripts are the players' own: inline, nothing fetched.
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert page.lower().count("<script") == 2 * page.count('class="einviz-player"')


def test_report_sections_with_all_parts(tmp_path, fake_parts):
    small = np.arange(6.0).reshape(2, 3)
    with capture() as calls:
        for _ in range(2):
            np.einsum("ij->i", small)
        np.einsum("ij,jk->ik", np.ones((120, 100)), np.ones((100, 90)))
    path = tmp_path / "report.html"
    page = calls.report(path, title="my <title>")
    assert path.read_text(encoding="utf-8") == page
    assert_self_contained(page)
    assert page.count("<section") == 2
    assert "<title>my &lt;title&gt;</title>" in page
    assert "2 calls through numpy.einsum" in page
    assert "np.einsum(&quot;ij-&gt;i&quot;, small)" in page  # the source line of the call site
    # the explanation is escaped, the check table (einviz's own HTML) is kept
    assert "Multiply &lt;script&gt;alert(&#x27;explain&#x27;)&lt;/script&gt; &amp; sum over j." in page
    assert "matrix &lt;product&gt;" in page
    assert page.count('<table class="fake-check">') == 2
    assert page.count('<img src="data:image/svg+xml;base64,') == 2
    # small operands: drawn and checked as recorded
    assert fake_parts["explain"][0] == ("ij->i", [(2, 3)], None)
    np.testing.assert_array_equal(fake_parts["animate"][0][1][0], small)
    # large operands, not kept: explained by shapes; drawn and checked shrunk, and the page says so
    assert fake_parts["explain"][1] == ("ij,jk->ik", [], ((120, 100), (100, 90)))
    assert [x.shape for x in fake_parts["animate"][1][1]] == [(3, 3), (3, 3)]
    assert fake_parts["check"][1] == ("ij,jk->ik", [(3, 3), (3, 3)])
    assert "filled with 1, 2, 3, … as einviz" in page


def test_report_draws_small_recorded_operands_as_recorded(fake_parts):
    a, b = np.arange(12.0).reshape(3, 4), np.arange(20.0).reshape(4, 5)
    with capture() as calls:
        np.einsum("ij,jk->ik", a, b)
    page = calls.report()
    [(_, shown)] = fake_parts["animate"]
    np.testing.assert_array_equal(shown[0], a)
    np.testing.assert_array_equal(shown[1], b)
    assert "The recorded operands (from " in page
    assert "large" not in page and "cut" not in page


def test_report_draws_long_recorded_axes_whole_and_lets_the_figure_cut_them(fake_parts):
    a = np.arange(72.0).reshape(6, 12)
    with capture() as calls:
        np.einsum("ij->j", a)
    page = calls.report()
    [(_, shown)] = fake_parts["animate"]
    np.testing.assert_array_equal(shown[0], a)
    assert fake_parts["check"] == [("ij->j", [(6, 12)])]  # the check runs on the real operands
    assert "axes longer than 8 cells are drawn cut, with an ellipsis cell" in page
    assert "large" not in page


def test_report_cuts_recorded_operands_only_when_too_large_to_animate(monkeypatch):
    monkeypatch.setattr(sys.modules["einviz._report_parts"], "_FIGURE_MAX_STEPS", 50)
    a, b = np.arange(12.0).reshape(3, 4), np.arange(20.0).reshape(4, 5)  # 60 multiply-adds
    with capture() as calls:
        np.einsum("ij,jk->ik", a, b)
        np.einsum("ij->i", a)  # 12
    page = calls.report()
    first, second = page.split('<section id="einsum-2">')
    assert "need more than 50 multiply-adds, too many to animate in a report: shown cut to " \
           "their first 3 cells along every axis" in first
    assert 'class="einviz-player"' in first and "No figure" not in first
    assert "The recorded operands (from " in second and "cut to" not in second


def test_report_without_the_optional_parts(monkeypatch):
    for module in ("einviz.explaining", "einviz.animation", "einviz.backends"):
        monkeypatch.setitem(sys.modules, module, None)  # makes the import fail
    with capture() as calls:
        np.einsum("ii->", np.eye(2))
    page = calls.report()
    assert_self_contained(page)
    for part in ("explanations left out", "figures left out", "backend checks left out"):
        assert part in page
    assert "<section" in page and "<h3>" not in page


def test_report_to_a_path_that_cannot_be_written_is_refused_before_its_work(tmp_path, monkeypatch):
    with capture() as calls:
        np.einsum("ii->", np.eye(2))
    import einviz._report_parts

    monkeypatch.setattr(einviz._report_parts, "report_parts",
                        lambda *args: pytest.fail("worked on the report"))
    with pytest.raises(EinvizError, match=r"cannot write '.*': it is a folder"):
        calls.report(tmp_path)
    with pytest.raises(EinvizError, match=r"cannot write '.*r\.html': there is no folder"):
        calls.report(tmp_path / "missing" / "r.html")


def test_report_with_the_parts_this_einviz_has(tmp_path):
    with capture() as calls:
        np.einsum("ij,jk->ik", np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2))
        np.einsum("ij->", np.ones((30, 30)))
    page = calls.report(tmp_path / "report.html")
    assert_self_contained(page)
    assert page.count("<section") == 2
    assert page.count('class="einviz-player"') == 2  # the interactive player in each section
    assert "In words:" not in page  # the section explains; the player does not repeat it


def test_report_escapes_what_comes_from_the_program(tmp_path, fake_parts):
    folder = tmp_path / "<img src=x onerror=alert(1)>"
    folder.mkdir()
    script = folder / "evil&<b>.py"
    script.write_text(
        "import numpy as np\n"
        "np.einsum('ij->i', np.ones((2, 2)))\n"
        "try:\n"
        "    np.einsum('ij-><b>x</b>', np.ones((2, 2)))\n"
        "except ValueError:\n"
        "    pass\n"
    )
    report = tmp_path / "report.html"
    calls = run_script(script, ["<i>arg</i>"], report_path=report)
    page = report.read_text(encoding="utf-8")
    assert_self_contained(page)
    assert len(calls) == 2 and calls[1].error is not None
    for raw in ("<img src=x", "<b>", "<i>arg"):
        assert raw not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "evil&amp;&lt;b&gt;.py" in page
    assert "ij-&gt;&lt;b&gt;x&lt;/b&gt;" in page
    assert "&lt;i&gt;arg&lt;/i&gt;" in page
    assert "1 of these calls raised" in page


def test_report_of_no_calls():
    with capture() as calls:
        pass
    page = calls.report()
    assert "No einsum call was recorded." in page
    assert "Calls made in child processes (multiprocessing" in page
    assert calls.summary_lines() == []


def test_run_script_writes_the_report_when_the_script_raises(tmp_path, fake_parts):
    script = write_script(
        tmp_path,
        """
        import numpy as np
        np.einsum("i->", np.ones(2))
        raise RuntimeError("the script failed")
        """,
    )
    report = tmp_path / "out.html"
    original, argv = np.einsum, sys.argv
    with pytest.raises(RuntimeError, match="the script failed"):
        run_script(script, report_path=report)
    assert np.einsum is original and sys.argv is argv
    text = report.read_text(encoding="utf-8")
    assert "<section" in text and "stopped with an error: RuntimeError: the script failed" in text

    calls = run_script(script, report_path=report, catch=True)
    assert [call.subscripts for call in calls] == ["i->"] and calls.exit_status == 1
    assert isinstance(calls.error, RuntimeError) and str(calls.error) == "the script failed"
    assert "stopped with an error: RuntimeError: the script failed" in report.read_text(encoding="utf-8")


def test_report_path_is_numpys_one_loop_or_its_own_path():
    A, B, C = np.ones((3, 4)), np.ones((4, 5)), np.ones((5, 2))
    with capture() as calls:
        np.einsum("ab,bc,cd->ad", A, B, C)
        np.einsum("ab,bc,cd->ad", A, B, C)
        np.einsum("ab,bc,cd->ad", A, B, C, optimize="optimal")
    page = calls.report()
    assert "opt_einsum, auto" not in page
    assert ("Used here: numpy.einsum with optimize=False (2 calls); numpy.einsum with "
            "optimize=&#x27;optimal&#x27; (1 call).") in page
    assert ("<b>numpy.einsum with optimize=False</b> (numpy&#x27;s default) ran it as one loop "
            "over all 3 operands, with no pairwise path") in page
    assert "With <code>optimize=True</code> numpy would contract it in this order" in page
    assert '<span class="note">numpy, greedy</span>' in page
    assert "<b>numpy.einsum with optimize=&#x27;optimal&#x27;</b> contracts it" in page
    assert '<span class="note">numpy, optimal</span>' in page


def test_report_path_of_opt_einsum_follows_its_optimize_argument():
    opt_einsum = pytest.importorskip("opt_einsum")
    A, B, C = np.ones((3, 4)), np.ones((4, 5)), np.ones((5, 2))
    with capture() as calls:
        opt_einsum.contract("ab,bc,cd->ad", A, B, C)
        opt_einsum.contract("ab,bc,cd->ad", A, B, C, optimize="greedy")
    page = calls.report()
    assert "<b>opt_einsum.contract with optimize=True</b>" in page
    assert '<span class="note">opt_einsum, auto</span>' in page
    assert "<b>opt_einsum.contract with optimize=&#x27;greedy&#x27;</b>" in page
    assert '<span class="note">opt_einsum, greedy</span>' in page


def test_report_path_of_jax_reads_true_as_optimal():
    jnp = pytest.importorskip("jax.numpy")
    A, B, C = np.ones((3, 4)), np.ones((4, 5)), np.ones((5, 2))
    with capture() as calls:
        jnp.einsum("ab,bc,cd->ad", A, B, C, optimize=True)
    assert calls[0].optimize is True
    page = calls.report()
    assert "<b>jax.numpy.einsum with optimize=True</b> asks opt_einsum" in page
    assert '<span class="note">opt_einsum, optimal</span>' in page


def test_report_path_of_torch_follows_its_opt_einsum_setting(monkeypatch):
    torch = pytest.importorskip("torch")
    a, b, c = torch.ones(3, 4), torch.ones(4, 5), torch.ones(5, 2)
    with capture() as calls:
        torch.einsum("ab,bc,cd->ad", a, b, c)
    assert calls[0].optimize is None
    monkeypatch.setattr(torch.backends.opt_einsum, "enabled", False)
    page = calls.report()
    assert "Used here: torch.einsum with no optimize argument (1 call)." in page
    assert "<b>torch.einsum</b> contracts left to right, one pair at a time" in page
    assert '<span class="note">opt_einsum, explicit</span>' in page


def test_report_shows_the_contraction_path_of_three_operands(tmp_path):
    a, b, c = np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 5))
    with capture() as calls:
        np.einsum("ij,jk,kl->il", a, b, c)
    page = calls.report(tmp_path / "report.html")
    assert "Contraction path" in page
    assert "ij,jk,kl-&gt;il" in page or "ij,jk,kl->il" in page


# --------------------------------------------------------------------------------------------
# The report fits a narrow screen
# --------------------------------------------------------------------------------------------


class _Boxes(HTMLParser):
    """Records, for every <table>, whether some element around it scrolls sideways."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, bool]] = []
        self.tables: list[bool] = []

    def handle_starttag(self, tag, attrs):
        scrolls = "scroll" in (dict(attrs).get("class") or "").split()
        if tag == "table":
            self.tables.append(scrolls or any(box for _, box in self.open))
        if tag not in self.VOID:
            self.open.append((tag, scrolls))

    def handle_endtag(self, tag):
        while self.open and self.open.pop()[0] != tag:
            pass


NARROW_TITLE = "einviz run /a/very/long/path/to/some/model_with_a_long_name.py --epochs=1"


def narrow_report() -> str:
    A, B, C = np.arange(12.0).reshape(3, 4), np.arange(20.0).reshape(4, 5), np.ones((5, 2))
    with capture() as calls:
        np.einsum("ab,bc,cd->ad", A, B, C)
        np.einsum("bqd,bkd->bqk", np.ones((2, 30, 40)), np.ones((2, 50, 40)))
    return calls.report(title=NARROW_TITLE)


def test_report_tables_scroll_inside_their_box_and_titles_wrap():
    page = narrow_report()
    css = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert ".scroll{overflow-x:auto" in css
    assert "h1,h2{overflow-wrap:anywhere}" in css
    boxes = _Boxes()
    boxes.feed(page)
    assert len(boxes.tables) >= 4  # contents, call sites, contraction path, backend check
    assert all(boxes.tables)


@pytest.mark.browser
def test_report_does_not_overflow_a_360_px_screen(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("no Chromium (apt-get install chromium)")
    path = tmp_path / "report.html"
    path.write_text(narrow_report(), encoding="utf-8")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            tab = browser.new_page(viewport={"width": 360, "height": 800})
            tab.goto(path.as_uri())
            assert tab.evaluate("document.documentElement.scrollWidth") <= 360
        finally:
            browser.close()


# --------------------------------------------------------------------------------------------
# Control characters, and where the report's code lives
# --------------------------------------------------------------------------------------------


def test_report_holds_no_control_character(tmp_path):
    script = tmp_path / "ctl\x1b[31m.py"
    script.write_text(
        "import numpy as np\n"
        "for text in ('ij->i\\x00', 'ij->\\x1b]0;pwned\\x07i', 'ij-><script>alert(1)</script>'):\n"
        "    try:\n"
        "        np.einsum(text, np.ones((2, 2)))\n"
        "    except ValueError:\n"
        "        pass\n"
        "np.einsum('ij->i', np.ones((2, 2)))  # \\x00 \x0c in the source line\n",
        encoding="utf-8",
    )
    calls = run_script(script, ["\x00arg\x1b[2J"])
    page = calls.report(title="t\x00itle\x1b[2J")
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", page)
    assert "\\x00" in page and "\\x1b" in page  # shown as escapes
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_import_einviz_does_not_load_the_report_code():
    code = ("import einviz, sys, numpy as np\n"
            "assert 'einviz.render.reports' not in sys.modules\n"
            "assert '_report_parts' not in ' '.join(sys.modules)\n"
            "with einviz.capture() as calls:\n"
            "    np.einsum('i->', np.ones(2))\n"
            "assert 'einviz.render.reports' not in sys.modules\n"
            "calls.report()\n"
            "assert 'einviz.render.reports' in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr


def test_no_capture_module_shadows_the_function():
    import einviz
    import einviz.recording

    assert not (ROOT / "einviz" / "capture.py").exists()
    assert callable(einviz.capture) and einviz.capture is einviz.recording.capture
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("einviz.capture")


def runtime_imports(path: Path) -> set[str]:
    """The einviz modules a file imports when it runs (in functions too; not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    skipped = {id(node) for branch in ast.walk(tree) if isinstance(branch, ast.If)
               and "TYPE_CHECKING" in ast.unparse(branch.test)
               for statement in branch.body for node in ast.walk(statement)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
            found.update(name for name in names if name.startswith("einviz"))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("einviz"))
    return found


def test_the_report_renderer_imports_no_analysis_or_command_module():
    imports = runtime_imports(ROOT / "einviz" / "render" / "reports.py")
    forbidden = ("einviz.paths", "einviz.recording", "einviz.animation", "einviz.backends",
                 "einviz.cli", "einviz._report_parts")
    assert imports and not [name for name in imports if name.startswith(forbidden)], imports


def test_paths_imports_the_pictures_only_inside_functions():
    tree = ast.parse((ROOT / "einviz" / "paths.py").read_text(encoding="utf-8"))
    top = {ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))}
    assert not [line for line in top if "animation" in line or "render" in line], top


#: An HTML or SVG tag in code (docstrings aside): what an analysis module must not write.
TAG = re.compile(r"<(section|table|tr|td|th|div|p|pre|span|figure|svg|code|b|h[1-6]|style|html)\b")


@pytest.mark.parametrize("module", ["paths.py", "recording.py", "_patching.py", "_report_parts.py"])
def test_analysis_modules_write_no_html_or_svg(module):
    tree = ast.parse((ROOT / "einviz" / module).read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    tags = [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings and TAG.search(node.value)]
    assert tags == []
