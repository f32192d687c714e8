"""Recording the einsum calls of a running program: capture(), its records, run_script()."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.util
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from corpus import CORPUS, IDS, operands

from einviz import ArgumentTypeError, EinvizError, parse
from einviz.recording import Call, CallGroup, Calls, capture, run_script

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
    with pytest.raises(KeyError, match="boom"), capture() as calls:
        np.einsum("i->", np.ones(2))
        raise KeyError("boom")
    assert np.einsum is original
    assert len(calls) == 1


def test_a_failing_call_raises_the_same_and_is_recorded():
    a, b = np.ones((2, 3)), np.ones((4, 5))
    with pytest.raises(ValueError) as plain:
        np.einsum("ij,jk->ik", a, b)
    with capture() as calls, pytest.raises(ValueError) as captured:
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
    with pytest.raises(error, match=message), capture(**options):
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
        from einviz import capture
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
        from einviz import capture
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
    assert torch.equal(functional, b.sum(0))
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
@pytest.mark.slow
def test_torch_compile_traces_through_the_wrapper_without_a_break_or_a_record():
    pytest.importorskip("torch")
    out = run_python("""
        import warnings
        import torch, torch._dynamo
        from einviz import capture

        def f(a, b):
            return torch.einsum("ij,jk->ik", a, b).sin()

        a, b = torch.ones(2, 3), torch.ones(3, 4)
        for backend in ("aot_eager", "eager"):
            torch._dynamo.reset()
            torch._dynamo.utils.counters.clear()
            compiled = torch.compile(f, backend=backend)
            with warnings.catch_warnings(record=True) as caught, capture() as calls:
                warnings.simplefilter("always")
                results = [compiled(a, b) for _ in range(3)]
                f(a, b)  # the same function, not compiled: recorded as usual
            assert all(torch.equal(r, f(a, b)) for r in results)
            breaks = sum(torch._dynamo.utils.counters["graph_break"].values())
            frames = [w for w in caught if "_getframe" in str(w.message)]
            print(backend, breaks, len(frames), len(calls), calls[-1].caller,
                  sum(c.filename.startswith("<eval_with_key>") for c in calls))
    """)
    aot, eager = out.split("\n")[:2]
    # aot_eager (like the default, inductor) lowers einsum: only the uncompiled call is seen
    assert aot.split() == ["aot_eager", "0", "0", "1", "f", "0"]
    # "eager" runs the captured graph, which calls torch.einsum on every run
    assert eager.split() == ["eager", "0", "0", "4", "f", "3"]


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


def test_calls_in_child_processes_are_not_seen_and_the_docs_say_so():
    out = run_python(
        """
        import multiprocessing
        import numpy as np
        from einviz import capture

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


# --------------------------------------------------------------------------------------------
# Ctrl-C at any moment: leaving the block restores everything
# --------------------------------------------------------------------------------------------

#: The seed of the interrupt tests: fixed under CI, fresh (and shown on failure) elsewhere.
SEED = 0 if os.environ.get("CI") else random.randrange(2**32)


def assert_nothing_left(original) -> None:
    """Every invariant a closed capture keeps: nothing patched, open, hooked or busy."""
    from einviz import _patching

    assert np.einsum is original, "numpy.einsum left wrapped"
    assert _patching._recorders == (), "a recorder left open"
    assert _patching._patches == [], "a patch left noted"
    assert not any(isinstance(f, _patching._ImportHook) for f in sys.meta_path), "hook left"
    assert _patching._local.busy is False, "the thread left marked busy"


def interrupted_work(a: np.ndarray) -> None:
    """Captures opened, nested, recorded into and closed: what an interrupt lands in."""
    with capture() as outer:
        np.einsum("ij->i", a)
        with capture(max_elements=0) as inner:
            np.einsum("ij,ij->", a, a)
        np.einsum("ij->j", a)
    assert len(outer) == 3 and len(inner) == 1


def run_interrupted_rounds(arm, disarm, seconds: float, rng: random.Random) -> tuple[int, int]:
    """Rounds of :func:`interrupted_work`, each interrupted after a random delay (``arm``);
    checks every invariant after each round. Returns (rounds, rounds interrupted)."""
    original, a = np.einsum, np.ones((2, 3))
    start = time.perf_counter()
    for _ in range(20):
        interrupted_work(a)
    span = (time.perf_counter() - start) / 20  # how long one round takes, uninterrupted
    deadline = time.perf_counter() + seconds
    # No garbage collection meanwhile: an interrupt landing in another library's gc callback
    # (jax has one) is lost there, as Python reports an error in a callback and goes on.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _rounds(arm, disarm, deadline, rng, span, a, original)
    finally:
        if collecting:
            gc.enable()


def _rounds(arm, disarm, deadline, rng, span, a, original) -> tuple[int, int]:
    rounds = hits = 0
    while time.perf_counter() < deadline and rounds < 2_000:
        rounds += 1
        delay = rng.uniform(0, 1.3 * span)
        try:
            try:
                arm(delay)
                interrupted_work(a)
            finally:
                disarm()
        except KeyboardInterrupt:
            hits += 1
        assert_nothing_left(original)
        with capture() as later:  # and a later capture records normally
            np.einsum("i->", np.ones(2))
        assert len(later) == 1 and np.einsum is original
    return rounds, hits


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no signal.setitimer here")
def test_ctrl_c_by_a_signal_at_any_moment_leaves_nothing_behind():
    rng = random.Random(SEED)
    armed = [False]

    def interrupt(signum, frame):
        if armed[0]:
            armed[0] = False
            raise KeyboardInterrupt

    def arm(delay):
        armed[0] = True
        signal.setitimer(signal.ITIMER_REAL, max(delay, 1e-6))

    def disarm():
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        rounds, hits = run_interrupted_rounds(arm, disarm, 1.5, rng)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert hits >= 20, f"seed {SEED}: only {hits} of {rounds} rounds interrupted"


def test_ctrl_c_from_another_thread_at_any_moment_leaves_nothing_behind():
    """PyThreadState_SetAsyncExc: the interrupt lands wherever the thread next checks."""
    rng = random.Random(SEED)
    set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    target = ctypes.c_ulong(threading.get_ident())
    lock = threading.Lock()
    live: list[bool] = [False]
    timers: list[threading.Thread] = []

    def fire(when):
        while time.perf_counter() < when:  # spin: the switch interval below hands the GIL over
            pass
        with lock:
            if live[0]:
                live[0] = False
                set_async_exc(target, ctypes.py_object(KeyboardInterrupt))

    def arm(delay):
        live[0] = True
        timer = threading.Thread(target=fire, args=(time.perf_counter() + delay,), daemon=True)
        timers.append(timer)
        timer.start()

    def disarm():
        with lock:
            live[0] = False
            set_async_exc(target, None)  # NULL: withdraw an interrupt not yet delivered
        timers.pop().join()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        rounds, hits = run_interrupted_rounds(arm, disarm, 1.5, rng)
    finally:
        sys.setswitchinterval(interval)
    assert hits >= 20, f"seed {SEED}: only {hits} of {rounds} rounds interrupted"


def test_an_exit_dropped_without_being_called_closes_the_capture():
    """An interrupt as Python enters __exit__ (before its first line) drops the exit: that closes."""
    original = np.einsum
    manager = capture()
    exit_ = manager.__exit__  # what a with statement does: look __exit__ up, then enter
    calls = manager.__enter__()
    assert np.einsum is not original
    looked_at = manager.__exit__  # a debugger looking at the manager meanwhile closes nothing
    del looked_at
    np.einsum("i->", np.ones(2))
    assert len(calls) == 1
    del exit_
    assert_nothing_left(original)
    np.einsum("i->", np.ones(2))
    assert len(calls) == 1
    # an ExitStack looks __exit__ up on the class, and still closes
    with contextlib.ExitStack() as stack:
        calls = stack.enter_context(capture())
        np.einsum("i->", np.ones(2))
    assert len(calls) == 1
    assert_nothing_left(original)


def test_summary_lines_are_safe_to_print_to_a_terminal(tmp_path):
    script = tmp_path / "evil\n\x1b[2J.py"
    script.write_text(
        "import numpy as np\n"
        "for text in ('ij->i\\x1b]0;pwned\\x07', 'ij->\\u202ei', 'ij->i\\x00'):\n"
        "    try:\n"
        "        np.einsum(text, np.ones((2, 2)))\n"
        "    except ValueError:\n"
        "        pass\n",
        encoding="utf-8",
    )
    lines = run_script(script).summary_lines()
    assert len(lines) == 3
    for line in lines:
        assert line.isprintable() and "\x1b" not in line and "\n" not in line, repr(line)
    assert "\\x1b]0;pwned\\x07" in lines[0] and "\\u202e" in lines[1] and "\\x00" in lines[2]
    assert "evil\\n\\x1b[2J.py" in lines[0]
