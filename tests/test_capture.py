"""Capture: recording the einsum calls of a running program, its report, and run_script."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import types
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from corpus import CORPUS, IDS, operands

from einviz import ArgumentTypeError, EinvizError, parse
from einviz.capture import Call, CallGroup, Calls, capture, run_script

REPO = Path(__file__).resolve().parents[1]
HERE = os.path.abspath(__file__)


def next_line() -> int:
    """The number of the line after the caller's."""
    return sys._getframe(1).f_lineno + 1


def run_python(code: str, timeout: float = 180) -> str:
    """Run ``code`` in a fresh interpreter with einviz importable; return its stdout."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# --------------------------------------------------------------------------------------------
# numpy: results, records, restoring
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", IDS)
def test_results_unchanged_and_recorded(name):
    subscripts, shapes = CORPUS[name]
    arrays = operands(shapes)
    expected = np.einsum(subscripts, *arrays)
    with capture() as calls:
        got = np.einsum(subscripts, *arrays)
    assert type(got) is type(expected)
    assert np.asarray(got).dtype == np.asarray(expected).dtype
    np.testing.assert_array_equal(got, expected)
    [call] = calls
    assert call.subscripts == str(parse(subscripts))
    assert call.shapes == tuple(tuple(shape) for shape in shapes)
    for copy, array in zip(call.operands, arrays):
        np.testing.assert_array_equal(copy, array)


def test_keywords_and_views_unchanged():
    a = np.arange(9.0).reshape(3, 3)
    out = np.empty(3)
    with capture() as calls:
        diagonal = np.einsum("ii->i", a)  # numpy returns a writeable view here
        returned = np.einsum("ij->i", a, out=out)
        optimized = np.einsum("ij,jk,kl->il", a, a, a, optimize=True)
        widened = np.einsum("ij->", a.astype(np.int32), dtype=np.int64)
    assert np.shares_memory(diagonal, a)
    assert returned is out
    np.testing.assert_array_equal(optimized, a @ a @ a)
    assert widened.dtype == np.int64 and widened == 36
    assert len(calls) == 4  # optimize=True calls numpy internals, not einsum again


def test_record_fields():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.arange(12, dtype=np.int64).reshape(3, 4)
    with capture() as calls:
        line = next_line()
        np.einsum("ij,jk->ik", a, b)
    [call] = calls
    assert isinstance(call, Call)
    assert (call.library, call.function) == ("numpy", "numpy.einsum")
    assert call.subscripts == "ij,jk->ik"
    assert call.shapes == ((2, 3), (3, 4))
    assert call.dtypes == ("float32", "int64")
    assert (call.filename, call.lineno, call.caller) == (HERE, line, "test_record_fields")
    assert call.where == f"{HERE}:{line}"
    assert 0 < call.seconds < 10
    assert call.error is None and call.note is None
    assert call.thread == threading.get_ident()
    assert call.elements == 18
    assert call.describe() == "A: float32 (2, 3), B: int64 (3, 4)"
    assert "numpy.einsum('ij,jk->ik')" in repr(call)


def test_describe_names_operands_as_the_figure_does():
    with capture() as calls:
        np.einsum("Ab,bC->AC", np.ones((2, 3)), np.ones((3, 4)))
    [call] = calls
    assert call.describe() == "B: float64 (2, 3), D: float64 (3, 4)"


def test_operands_are_copies_taken_before_the_call():
    a = np.ones((2, 2))
    with capture() as calls:
        np.einsum("ij->ij", a, out=a)  # the output overwrites the input
        a[0, 0] = 99.0
    copy = calls[0].operands[0]
    assert copy is not a and not np.shares_memory(copy, a)
    np.testing.assert_array_equal(copy, np.ones((2, 2)))


def test_python_numbers_and_lists_as_operands():
    with capture() as calls:
        result = np.einsum("i,i->", [1, 2, 3], [4, 5, 6])
        scaled = np.einsum(",ij->ij", 3, np.ones((2, 2)))
    assert result == 32 and scaled.sum() == 12
    assert calls[0].shapes == ((3,), (3,)) and calls[0].dtypes == ("int64", "int64")
    assert calls[1].shapes == ((), (2, 2))


def test_restored_exactly_after_normal_exit():
    original = np.einsum
    with capture():
        assert np.einsum is not original
        assert np.einsum.__wrapped__ is original
        assert np.einsum.__name__ == "einsum"
    assert np.einsum is original


def test_restored_exactly_when_the_block_raises():
    original = np.einsum
    with pytest.raises(KeyError, match="boom"):
        with capture() as calls:
            np.einsum("i->", np.ones(2))
            raise KeyError("boom")
    assert np.einsum is original
    assert len(calls) == 1


def test_a_failing_call_raises_the_same_and_is_recorded():
    a, b = np.ones((2, 3)), np.ones((4, 5))
    with pytest.raises(ValueError) as plain:
        np.einsum("ij,jk->ik", a, b)
    with capture() as calls:
        with pytest.raises(ValueError) as captured:
            np.einsum("ij,jk->ik", a, b)
    assert str(captured.value) == str(plain.value)
    assert calls[0].error.startswith("ValueError: ")
    assert calls[0].shapes == ((2, 3), (3 + 1, 5))
    assert "1 failed" in calls.summary_lines()[0]


def test_nested_captures():
    original = np.einsum
    with capture() as outer:
        np.einsum("i->", np.ones(1))
        with capture() as inner:
            np.einsum("i->", np.ones(2))
        assert np.einsum is not original  # the outer capture is still open
        np.einsum("i->", np.ones(3))
    assert np.einsum is original
    assert [call.shapes for call in outer] == [((1,),), ((2,),), ((3,),)]
    assert [call.shapes for call in inner] == [((2,),)]
    assert outer[1] is not inner[0] and outer[1].seconds == inner[0].seconds


def test_a_wrapper_kept_after_the_block_passes_through():
    with capture() as calls:
        kept = np.einsum
    assert kept is not np.einsum
    np.testing.assert_array_equal(kept("ij->j", np.ones((2, 3))), [2, 2, 2])
    assert len(calls) == 0
    with capture() as later:  # and it records again while a capture is open
        kept("i->", np.ones(2))
    assert len(later) == 1


def test_a_name_imported_before_the_block_is_not_seen():
    from numpy import einsum  # documented limitation: this name holds the original

    with capture() as calls:
        einsum("i->", np.ones(2))
    assert len(calls) == 0


def test_a_name_rebound_inside_the_block_is_left_alone():
    original = np.einsum

    def mine(*args, **kwargs):
        return original(*args, **kwargs)

    try:
        with capture():
            np.einsum = mine
        assert np.einsum is mine
    finally:
        np.einsum = original


# --------------------------------------------------------------------------------------------
# Subscripts, copies and descriptions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (lambda a, b: (a, [0, 1], b, [1, 2], [0, 2]), "ab,bc->ac"),
        (lambda a, b: (a, [0, 1], b, [1, 2]), "ab,bc->ac"),  # implicit output made explicit
        (lambda a, b: (a, [1, 0], [0, 1]), "ba->ab"),
        (lambda a, b: (a, [Ellipsis, 1], [Ellipsis]), "...b->..."),
        (lambda a, b: (a, [0, 0]), "aa->"),
    ],
    ids=["explicit", "implicit", "transpose", "ellipsis", "trace"],
)
def test_sublist_form_normalised_to_text(args, expected):
    a, b = np.arange(9.0).reshape(3, 3), np.ones((3, 3))
    with capture() as calls:
        got = np.einsum(*args(a, b))
    np.testing.assert_array_equal(got, np.einsum(*args(a, b)))
    assert calls[0].subscripts == expected
    assert calls[0].shapes[0] == (3, 3)


def test_text_is_canonical_and_unparseable_text_kept():
    with capture() as calls:
        np.einsum(" ij , jk -> ik ", np.ones((2, 2)), np.ones((2, 2)))
        with pytest.raises(ValueError):
            np.einsum("i j -> k", np.ones((2, 2)))
    assert calls[0].subscripts == "ij,jk->ik"
    assert calls[1].subscripts == "ij->k"  # einviz cannot parse it either: spaces dropped only


def test_large_operands_are_described_not_copied():
    big = np.ones((200, 100))
    with capture(max_elements=1_000) as calls:
        np.einsum("ij->", big)
        np.einsum("ij->", big[:10, :10])
    large, small = calls
    assert large.operands is None
    assert large.note == "not copied: 20,000 elements, more than max_elements"
    assert large.shapes == ((200, 100),) and large.dtypes == ("float64",)
    assert large.describe() == "A: float64 (200, 100)"
    assert small.operands is not None and small.operands[0].shape == (10, 10)


def test_copies_per_distinct_einsum_are_limited():
    with capture(max_copies=2) as calls:
        for _ in range(4):
            np.einsum("i->", np.ones(3))
        np.einsum("i->", np.ones(4))
    kept = [call.operands is not None for call in calls]
    assert kept == [True, True, False, False, True]
    assert "max_copies" in calls[2].note
    with capture(max_copies=None, max_elements=0) as none_kept:
        np.einsum("i->", np.ones(3))
    assert none_kept[0].operands is None


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"max_elements": -1}, EinvizError, r"max_elements=\.\.\.\) must be a whole number >= 0, not -1"),
        ({"max_elements": None}, ArgumentTypeError, r"must be a whole number >= 0, not None"),
        (
            {"max_copies": 1.5},
            ArgumentTypeError,
            r"max_copies=\.\.\.\) must be a whole number >= 0 or None, not 1.5",
        ),
        ({"internal": [3]}, ArgumentTypeError, r"internal=\.\.\.\) holds 3, which is not a package name"),
    ],
)
def test_options_are_checked(options, error, message):
    original = np.einsum
    with pytest.raises(error, match=message):
        with capture(**options):
            pass
    assert np.einsum is original


# --------------------------------------------------------------------------------------------
# Call sites
# --------------------------------------------------------------------------------------------


def test_call_site_skips_the_frames_of_named_packages(tmp_path, monkeypatch):
    package = tmp_path / "capture_helperlib"
    package.mkdir()
    (package / "__init__.py").write_text(
        "import numpy as np\n\ndef row_sums(a):\n    return np.einsum('ij->i', a)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))  # where internal=[...] finds the package
    spec = importlib.util.spec_from_file_location("capture_helperlib", package / "__init__.py")
    capture_helperlib = importlib.util.module_from_spec(spec)  # not left in sys.modules
    spec.loader.exec_module(capture_helperlib)

    with capture() as calls:
        capture_helperlib.row_sums(np.ones((2, 2)))
    assert calls[0].where == f"{package / '__init__.py'}:4"
    assert calls[0].caller == "row_sums"
    for internal in (["capture_helperlib"], "capture_helperlib"):
        with capture(internal=internal) as calls:
            line = next_line()
            capture_helperlib.row_sums(np.ones((2, 2)))
        assert calls[0].where == f"{HERE}:{line}"


def test_opt_einsum_contract_is_one_call_at_the_users_line():
    opt_einsum = pytest.importorskip("opt_einsum")
    original = opt_einsum.contract
    a, b, c = (np.arange(4.0).reshape(2, 2) + k for k in range(3))
    expected = opt_einsum.contract("ij,jk,kl->il", a, b, c)
    with capture() as calls:
        line = next_line()
        got = opt_einsum.contract("ij,jk,kl->il", a, b, c)
    np.testing.assert_array_equal(got, expected)
    [call] = calls  # the numpy calls opt_einsum makes inside are its own business
    assert (call.library, call.function) == ("opt_einsum", "opt_einsum.contract")
    assert call.where == f"{HERE}:{line}"
    assert opt_einsum.contract is original


# --------------------------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------------------------


def test_calls_from_several_threads_are_all_recorded():
    n_threads, n_calls = 4, 25
    barrier = threading.Barrier(n_threads)
    errors = []

    def work(k):
        try:
            barrier.wait()
            a = np.full((2, 2), float(k))
            for _ in range(n_calls):
                assert np.einsum("ij->", a) == 4 * k
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with capture() as calls:
        threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    assert len(calls) == n_threads * n_calls
    assert len({call.thread for call in calls}) == n_threads
    assert {call.caller for call in calls} == {"work"}


def test_captures_opened_and_closed_in_other_threads():
    original = np.einsum
    started, release = threading.Event(), threading.Event()
    inner = []

    def other():
        with capture() as calls:
            inner.append(calls)
            started.set()
            release.wait(10)

    with capture() as outer:
        thread = threading.Thread(target=other)
        thread.start()
        started.wait(10)
        np.einsum("i->", np.ones(2))
        release.set()
        thread.join()
        np.einsum("i->", np.ones(3))  # the other capture has closed; this one still records
        assert np.einsum is not original
    assert np.einsum is original
    assert len(outer) == 2 and len(inner[0]) == 1


# --------------------------------------------------------------------------------------------
# Only imported libraries; libraries imported inside the block
# --------------------------------------------------------------------------------------------


def test_capture_imports_no_library():
    out = run_python(
        """
        import sys
        import numpy as np
        from einviz.capture import capture
        before = {name for name in ("torch", "jax", "opt_einsum") if name in sys.modules}
        with capture() as calls:
            np.einsum("ii->", np.eye(2))
        after = {name for name in ("torch", "jax", "jax.numpy", "opt_einsum") if name in sys.modules}
        print(len(calls), sorted(after - before))
        """
    )
    assert out.split() == ["1", "[]"]


@pytest.mark.backend
def test_a_library_imported_inside_the_block_is_wrapped_and_restored():
    names = [name for name in ("torch", "jax") if importlib.util.find_spec(name) is not None]
    if not names:
        pytest.skip("neither torch nor jax is installed")
    out = run_python(
        f"""
        import sys
        import numpy as np
        from einviz.capture import capture
        names = {names!r}
        with capture() as calls:
            if "torch" in names:
                import torch
                torch.einsum("ij->", torch.ones(2, 2))
            if "jax" in names:
                import jax.numpy as jnp
                jnp.einsum("ij->", np.ones((2, 2), np.float32))
        print(*[call.function for call in calls])
        if "torch" in names:
            assert torch.einsum is torch.functional.einsum
            assert not hasattr(torch.einsum, "__wrapped__"), "torch.einsum not restored"
            assert type(torch.__loader__).__name__ != "_PatchingLoader"
            assert type(torch.__spec__.loader).__name__ != "_PatchingLoader"
        if "jax" in names:
            assert not hasattr(jnp.einsum, "__wrapped__"), "jax.numpy.einsum not restored"
        if "opt_einsum" in sys.modules:  # imported by jax or torch: its cache must not keep a wrapper
            cached = sys.modules["opt_einsum.backends.dispatch"]._cached_funcs
            assert cached[("einsum", "numpy")] is np.einsum
        assert not any(type(f).__name__ == "_ImportHook" for f in sys.meta_path)
        """
    )
    expected = {"torch": "torch.einsum", "jax": "jax.numpy.einsum"}
    assert out.split() == [expected[name] for name in names]


# --------------------------------------------------------------------------------------------
# torch and jax
# --------------------------------------------------------------------------------------------


@pytest.mark.backend
def test_torch():
    torch = pytest.importorskip("torch")
    originals = (torch.einsum, torch.functional.einsum)
    a = torch.arange(6.0).reshape(2, 3).requires_grad_()
    b = torch.arange(12.0).reshape(3, 4)
    expected = torch.einsum("ij,jk->ik", a, b)
    with capture() as calls:
        line = next_line()
        plain = torch.einsum("ij,jk->ik", a, b)
        listed = torch.einsum("ij,jk", [a, b])  # torch also takes the operands as one list
        sublist = torch.einsum(a, [0, 1], b, [1, 2], [0, 2])
        functional = torch.functional.einsum("ij->j", b)
        half = torch.einsum("i,i->", torch.ones(3, dtype=torch.bfloat16), torch.ones(3, dtype=torch.bfloat16))
    for got in (plain, listed, sublist):
        assert torch.equal(got, expected)
    assert plain.requires_grad and plain.grad_fn is not None
    assert half.dtype == torch.bfloat16
    assert (torch.einsum, torch.functional.einsum) == originals
    assert torch.einsum is originals[0] and torch.functional.einsum is originals[1]
    assert [call.function for call in calls] == ["torch.einsum"] * 5  # one record each, no repeats
    assert [call.subscripts for call in calls] == ["ij,jk->ik", "ij,jk", "ab,bc->ac", "ij->j", "i,i->"]
    first = calls[0]
    assert (first.library, first.where, first.dtypes) == ("torch", f"{HERE}:{line}", ("float32", "float32"))
    assert isinstance(first.operands[0], np.ndarray)
    np.testing.assert_array_equal(first.operands[0], a.detach().numpy())
    assert calls[1].shapes == ((2, 3), (3, 4))
    assert calls[4].dtypes == ("bfloat16", "bfloat16")
    assert calls[4].operands[0].dtype == np.float32 and "float32" in calls[4].note


@pytest.mark.backend
def test_torch_calls_made_inside_torch_are_put_on_the_users_line():
    torch = pytest.importorskip("torch")
    wishart = torch.distributions.Wishart(torch.tensor(4.0), covariance_matrix=torch.eye(2))
    with capture() as calls:
        line = next_line()
        variance = wishart.variance  # torch/distributions/wishart.py calls torch.einsum
    assert variance.shape == (2, 2)
    if not calls:
        pytest.skip("this torch computes Wishart.variance without torch.einsum")
    assert calls[0].where == f"{HERE}:{line}"
    assert calls[0].caller == "test_torch_calls_made_inside_torch_are_put_on_the_users_line"


@pytest.mark.backend
def test_jax():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    original = jnp.einsum
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.arange(12, dtype=np.float32).reshape(3, 4)
    expected = jnp.einsum("ij,jk->ik", a, b)
    jitted = jax.jit(lambda x, y: jnp.einsum("ij,jk->ik", x, y))
    with capture() as calls:
        got = jnp.einsum("ij,jk->ik", a, b)
        first, second = jitted(a, b), jitted(a, b)
    assert jnp.einsum is original
    assert np.array_equal(got, expected) and np.array_equal(first, expected) and np.array_equal(second, expected)
    eager, traced = calls  # the jitted function calls einsum only while being traced
    assert (eager.library, eager.function, eager.dtypes) == ("jax", "jax.numpy.einsum", ("float32", "float32"))
    np.testing.assert_array_equal(eager.operands[1], b)
    assert traced.shapes == ((2, 3), (3, 4)) and traced.operands is None
    assert traced.note.startswith("not copied: ") and traced.caller == "<lambda>"


# --------------------------------------------------------------------------------------------
# Calls: the list, groups and summary
# --------------------------------------------------------------------------------------------


def test_calls_is_a_read_only_list_with_groups():
    with capture() as calls:
        for n in (2, 3, 2):
            np.einsum("ij->i", np.ones((n, n)))
        np.einsum("i,i->", np.ones(2), np.ones(2))
    assert isinstance(calls, Calls)
    assert len(calls) == 4 and calls[-1].subscripts == "i,i->"
    assert [call.shapes for call in calls[:2]] == [((2, 2),), ((3, 3),)]
    assert calls[0] is calls[0] and calls[0] in calls
    groups = calls.distinct()
    assert all(isinstance(group, CallGroup) for group in groups)
    assert [(g.subscripts, g.shapes, g.count) for g in groups] == [
        ("ij->i", ((2, 2),), 2),
        ("ij->i", ((3, 3),), 1),
        ("i,i->", ((2,), (2,)), 1),
    ]
    assert list(groups[0].sites.values()) == [2]
    assert groups[0].example is calls[0]
    assert groups[0].seconds == calls[0].seconds + calls[2].seconds
    assert repr(calls) == "<Calls: 4 einsum calls, 3 distinct>"
    assert calls.exit_status is None


def test_summary_lines():
    with capture() as calls:
        for _ in range(3):
            line = next_line()
            np.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((3, 4)))
        np.einsum("ii->", np.eye(2, dtype=np.float32))
    lines = calls.summary_lines()
    assert len(lines) == 2
    site = os.path.relpath(HERE)
    assert re.fullmatch(
        rf"\s+3x  ij,jk->ik  \(2, 3\) \(3, 4\)  float64  numpy\.einsum  [\d.]+ (us|ms)  {re.escape(site)}:{line}",
        lines[0],
    )
    assert lines[1].startswith("    1x  ii->  (2, 2)  float32  numpy.einsum  ")


def test_summary_lines_give_the_optimize_settings_that_choose_a_path():
    ops = [np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 2))]
    with capture() as calls:
        np.einsum("ij,jk,kl->il", *ops)
        np.einsum("ij,jk,kl->il", *ops, optimize="greedy")
        np.einsum("ij,jk->ik", *ops[:2], optimize=True)  # two operands: one way only
    three, two = calls.summary_lines()
    assert "  numpy.einsum  optimize=False / optimize='greedy'  " in three
    assert "optimize" not in two


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
        ("einviz.explain", "explain", explain),
        ("einviz.animation", "animate", animate),
        ("einviz.backends", "check", check),
    ):
        fake = types.ModuleType(module)
        setattr(fake, name, function)
        monkeypatch.setitem(sys.modules, module, fake)
    return seen


def assert_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "<link" not in page.lower() and "@import" not in page
    # The only scripts are the players' own: inline, nothing fetched.
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
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
    assert "filled with small integers" in page


def test_report_draws_small_recorded_operands_as_recorded(fake_parts):
    a, b = np.arange(12.0).reshape(3, 4), np.arange(20.0).reshape(4, 5)
    with capture() as calls:
        np.einsum("ij,jk->ik", a, b)
    page = calls.report()
    [(subscripts, shown)] = fake_parts["animate"]
    np.testing.assert_array_equal(shown[0], a)
    np.testing.assert_array_equal(shown[1], b)
    assert "The recorded operands (from " in page
    assert "large" not in page and "cut" not in page


def test_report_draws_long_recorded_axes_whole_and_lets_the_figure_cut_them(fake_parts):
    a = np.arange(72.0).reshape(6, 12)
    with capture() as calls:
        np.einsum("ij->j", a)
    page = calls.report()
    [(subscripts, shown)] = fake_parts["animate"]
    np.testing.assert_array_equal(shown[0], a)
    assert fake_parts["check"] == [("ij->j", [(6, 12)])]  # the check runs on the real operands
    assert "axes longer than 8 cells are drawn cut, with an ellipsis cell" in page
    assert "large" not in page


def test_report_cuts_recorded_operands_only_when_too_large_to_animate(monkeypatch):
    monkeypatch.setattr(sys.modules["einviz.capture"], "_FIGURE_MAX_STEPS", 50)
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
    for module in ("einviz.explain", "einviz.animation", "einviz.backends"):
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
    module = sys.modules["einviz.capture"]  # einviz.capture is also the function's name
    monkeypatch.setattr(module, "_report_html", lambda *args: pytest.fail("drew the report"))
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


def test_calls_in_child_processes_are_not_seen_and_the_docs_say_so():
    out = run_python(
        """
        import multiprocessing
        import numpy as np
        from einviz.capture import capture

        with capture() as calls:
            child = multiprocessing.get_context("fork").Process(
                target=np.einsum, args=("ii->", np.eye(2)))
            child.start()
            child.join()
        print(child.exitcode, len(calls))
        """
    )
    assert out.split() == ["0", "0"]
    docs = (REPO / "docs" / "capture.md").read_text(encoding="utf-8")
    not_covered = docs.split("### What is not covered", 1)[1].split("\n## ", 1)[0]
    assert "multiprocessing" in not_covered and "child process" in not_covered


def test_docs_put_einviz_run_options_before_the_script(tmp_path):
    docs = (REPO / "docs" / "capture.md").read_text(encoding="utf-8")
    assert "$ einviz run -o report.html model.py --epochs 1" in docs
    assert "model.py --epochs 1 -o" not in docs
    # as the docs say: everything after the script goes to the script
    script = tmp_path / "model.py"
    script.write_text("import sys\nimport numpy as np\nnp.einsum('ii->', np.eye(2))\n"
                      "print('ARGV', sys.argv[1:])\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "einviz", "run", "-o", "report.html", "model.py", "--epochs", "1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "ARGV ['--epochs', '1']" in done.stdout
    assert "<section" in (tmp_path / "report.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# run_script
# --------------------------------------------------------------------------------------------


def write_script(folder: Path, body: str) -> Path:
    script = folder / "script.py"
    script.write_text(textwrap.dedent(body))
    return script


def test_run_script_runs_as_main_with_its_arguments(tmp_path):
    (tmp_path / "helper_for_capture_test.py").write_text("SIZE = 3\n")
    script = write_script(
        tmp_path,
        """
        import sys
        import numpy as np
        from helper_for_capture_test import SIZE  # found: the script's folder is on sys.path

        def main():
            assert sys.argv[1:] == ["--n", "2"], sys.argv
            for _ in range(int(sys.argv[2])):
                np.einsum("ii->", np.eye(SIZE))

        if __name__ == "__main__":
            main()
        """,
    )
    argv, path = sys.argv, sys.path[:]
    calls = run_script(script, ["--n", "2"])
    assert sys.argv is argv and sys.path == path
    assert isinstance(calls, Calls) and calls.exit_status == 0
    assert len(calls) == 2
    assert calls[0].where == f"{script}:9" and calls[0].caller == "main"
    assert len(calls.summary_lines()) == 1
    assert "helper_for_capture_test" in sys.modules  # imported modules stay, as with cProfile
    del sys.modules["helper_for_capture_test"]


@pytest.mark.parametrize(("code", "status"), [("None", 0), ("3", 3), ("'bad input'", 1)])
def test_run_script_keeps_the_exit_status(tmp_path, capsys, code, status):
    script = write_script(
        tmp_path,
        f"""
        import sys
        import numpy as np
        np.einsum("i->", np.ones(2))
        sys.exit({code})
        """,
    )
    calls = run_script(script)
    assert calls.exit_status == status and len(calls) == 1
    if status == 1:
        assert "bad input" in capsys.readouterr().err


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


def test_run_script_of_a_missing_file(tmp_path):
    with pytest.raises(EinvizError, match=r"cannot run '.*nothing\.py': there is no such file"):
        run_script(tmp_path / "nothing.py")


def test_run_script_passes_capture_options(tmp_path):
    script = write_script(tmp_path, "import numpy as np\nnp.einsum('i->', np.ones(5))\n")
    calls = run_script(script, max_elements=2)
    assert calls[0].operands is None


# --------------------------------------------------------------------------------------------
# The benchmark still runs
# --------------------------------------------------------------------------------------------


def test_benchmark_runs():
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_capture.py"),
         "--calls", "50", "--size", "8", "--tiny", "200", "--repeat", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "overhead" in done.stdout and "us/call" in done.stdout


# --------------------------------------------------------------------------------------------
# The contraction path follows the library and its optimize setting
# --------------------------------------------------------------------------------------------


def test_calls_record_their_optimize_setting():
    opt_einsum = pytest.importorskip("opt_einsum")
    a = np.ones((2, 2))
    with capture() as calls:
        np.einsum("ij,jk->ik", a, a)
        np.einsum("ij,jk->ik", a, a, optimize="optimal")
        np.einsum("ij,jk->ik", a, a, optimize=["einsum_path", (0, 1)])
        opt_einsum.contract("ij,jk->ik", a, a)
        opt_einsum.contract("ij,jk->ik", a, a, optimize="greedy")
    assert [call.optimize for call in calls] == [
        False, "optimal", ["einsum_path", (0, 1)], True, "greedy"]
    old_style = Call("numpy", "numpy.einsum", "i->", ((2,),), ("float64",), "x.py", 1, "f",
                     0.0, None, None)
    assert old_style.optimize is None and old_style.thread == 0


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
    assert ("<b>numpy.einsum with optimize=False</b> (numpy's default) ran it as one loop "
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

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

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
