"""check(): every backend against the reference einsum; the registry; known differences."""

import doctest
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from corpus import CORPUS, IDS, operands
from hypothesis import HealthCheck, given, settings

import einviz.backends
from einviz import EinvizError
from einviz.backends import (
    BackendNotInstalledError,
    CheckReport,
    CheckRow,
    backend_names,
    check,
    get_einsum,
    installed_backends,
    register_backend,
    unregister_backend,
)
from einviz.errors import ArgumentTypeError, ShapeError
from einviz.testing import einsum_problems

ALWAYS = ["numpy", "opt_einsum"]


@pytest.fixture
def fake_backend():
    """Register einsum functions under test names, and remove them afterwards."""
    added = []

    def register(name, function, **kwargs):
        register_backend(name, function, **kwargs)
        added.append(name)

    yield register
    for name in added:
        unregister_backend(name)


def x64_enabled():
    import jax

    return bool(jax.config.read("jax_enable_x64"))


# -- the corpus -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", IDS)
def test_corpus_agrees_in_numpy_and_opt_einsum(name):
    subscripts, shapes = CORPUS[name]
    report = check(subscripts, *operands(shapes), backends=ALWAYS)
    assert report.ok, report
    assert [row.status for row in report] == ["ok", "ok"]
    assert all(row.max_abs_error == 0 for row in report)


@pytest.mark.parametrize("name", IDS)
def test_corpus_agrees_in_torch(name):
    pytest.importorskip("torch")
    subscripts, shapes = CORPUS[name]
    report = check(subscripts, *operands(shapes), backends=["torch"])
    assert report.row("torch").status == "ok", report


# jax compiles on the first call of every expression and shapes: a few cases only.
@pytest.mark.parametrize("name", ["matmul", "trace", "ellipsis-broadcast", "scalar"])
def test_corpus_agrees_in_jax(name):
    pytest.importorskip("jax")
    subscripts, shapes = CORPUS[name]
    report = check(subscripts, *operands(shapes), backends=["jax"])
    assert report.row("jax").status == "ok", report


DTYPE_CASES = {
    "matmul-float32": ("ij,jk->ik", [np.float32, np.float32], [(3, 4), (4, 2)]),
    "batched-matmul-float64": ("bij,bjk->bik", [np.float64, np.float64], [(2, 2, 3), (2, 3, 2)]),
    "trace-int32": ("ii->", [np.int32], [(3, 3)]),
    "diagonal-int8": ("ii->i", [np.int8], [(3, 3)]),
    "outer-bool": ("i,j->ij", [np.bool_, np.bool_], [(2,), (3,)]),
    "hadamard-bool": ("ij,ij->ij", [np.bool_, np.bool_], [(2, 3), (2, 3)]),
    "ellipsis-broadcast-float": ("...ij,...jk", [np.float64, np.float64], [(2, 1, 2, 3), (4, 3, 2)]),
    "0-d": (",->", [np.float64, np.int64], [(), ()]),
    "mixed-int-float": ("ij,jk->ik", [np.int64, np.float64], [(2, 3), (3, 2)]),
    "complex": ("ij,j->i", [np.complex128, np.complex128], [(2, 3), (3,)]),
}


@pytest.mark.parametrize("name", list(DTYPE_CASES))
def test_dtypes_agree_or_differ_knowingly(name):
    subscripts, dtypes, shapes = DTYPE_CASES[name]
    ops = [o.astype(d) for o, d in zip(operands(shapes), dtypes)]
    # Not jax: it compiles every case anew (test_every_installed_backend_agrees covers it).
    backends = [b for b in ("numpy", "opt_einsum", "torch") if b in installed_backends()]
    report = check(subscripts, *ops, backends=backends)
    assert report.ok, report
    assert report.row("numpy").status == "ok"


def test_sublist_form_is_written_as_text_for_the_backends():
    A, B = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    report = check(A, [0, 1], B, [1, 2], [0, 2], backends=ALWAYS)
    assert report.subscripts == "ab,bc->ac"
    assert report.ok, report
    implicit = check(A, [1, 0], backends=ALWAYS)  # numpy's implicit output: sorted labels
    assert implicit.subscripts == "ba->ab"
    assert implicit.reference_shape == (3, 2)


def test_sublist_form_in_torch():
    pytest.importorskip("torch")
    A, B = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    assert check(A, [0, 1], B, [1, 2], [0, 2], backends=["torch"]).row("torch").status == "ok"


# -- the property -------------------------------------------------------------------------------
@given(einsum_problems())
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
def test_every_installed_backend_agrees(problem):
    subscripts, ops = problem
    report = check(subscripts, *ops)
    assert report.ok, report
    assert report.row("numpy").status == "ok", report


# -- comparing ----------------------------------------------------------------------------------
def test_a_wrong_backend_is_a_mismatch(fake_backend):
    fake_backend("off-by-one", lambda s, *ops: np.einsum(s, *ops) + 1)
    report = check("ij,jk->ik", np.eye(2), np.ones((2, 2)), backends=["numpy", "off-by-one"])
    row = report.row("off-by-one")
    assert (row.status, row.max_abs_error) == ("mismatch", 1.0)
    assert not report.ok
    assert report.failures == (row,)
    assert str(report).splitlines()[-1] == "FAILED: off-by-one (mismatch)"


def test_a_wrong_shape_is_a_mismatch(fake_backend):
    fake_backend("transposed", lambda s, *ops: np.einsum(s, *ops).T)
    row = check("ij->ij", np.ones((2, 3)), backends=["transposed"]).row("transposed")
    assert row.status == "mismatch"
    assert row.note == "shape (3, 2), reference (2, 3)"


def test_an_integer_off_by_one_is_caught_exactly(fake_backend):
    big = np.array([2**60, 1])
    fake_backend("via-float", lambda s, *ops: np.einsum(s, *[o.astype(float) for o in ops]).astype(np.int64))
    assert check("i->", big, backends=["via-float"]).row("via-float").status == "mismatch"


def test_float_tolerance_follows_the_rounding_error(fake_backend):
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    fake_backend("rounded", lambda s, *ops: np.einsum(s, *ops) * (1 + 1e-15))
    fake_backend("sloppy", lambda s, *ops: np.einsum(s, *ops) * (1 + 1e-9))
    fake_backend("float32", lambda s, *ops: np.einsum(s, *[o.astype(np.float32) for o in ops]))
    report = check("ij,jk->ik", A, B, backends=["rounded", "sloppy", "float32"])
    assert report.row("rounded").status == "ok"
    assert report.row("sloppy").status == "mismatch"
    row32 = report.row("float32")
    assert row32.status == "ok", report
    assert row32.note == "float32 returned float32 (reference float64); compared at float32 precision"
    assert 0 < row32.max_abs_error < 1e-5


def test_an_error_is_a_row_with_its_first_line(fake_backend):
    def broken(subscripts, *ops):
        raise RuntimeError("kernel exploded\nsecond line")

    fake_backend("broken", broken)
    row = check("i->", np.ones(3), backends=["broken"]).row("broken")
    assert (row.status, row.note, row.error) == (
        "error", "RuntimeError: kernel exploded", "RuntimeError: kernel exploded")
    assert row.dtype is row.max_abs_error is row.seconds is None


def test_not_implemented_is_unsupported(fake_backend):
    def partial(subscripts, *ops):
        raise NotImplementedError("no kernel for float16")

    fake_backend("partial", partial)
    report = check("i->", np.ones(3, np.float16), backends=["partial"])
    row = report.row("partial")
    assert row.status == "unsupported"
    assert row.note == "partial does not implement this einsum for float16 (no kernel for float16)"
    assert report.ok


def test_numpy_must_also_match_the_dtype(monkeypatch):
    original = np.einsum
    monkeypatch.setattr(np, "einsum", lambda *args, **kwargs: original(*args, **kwargs).astype(np.float32))
    row = check("i->", np.ones(3), backends=["numpy"]).row("numpy")
    assert row.status == "mismatch"
    assert row.note.startswith("numpy returned float32 (reference float64)")


def test_backends_cannot_spoil_the_reference(fake_backend):
    def vandal(subscripts, *ops):
        for op in ops:
            op[...] = 99
        return np.einsum(subscripts, *ops)

    fake_backend("vandal", vandal)
    A = np.arange(9).reshape(3, 3)
    report = check("ii->i", A, backends=["vandal"])  # numpy's result is a view of A
    assert report.row("vandal").status == "mismatch"


def test_warmup_calls_twice_and_times_one(fake_backend):
    calls = []
    fake_backend("counted", lambda s, *ops: calls.append(s) or np.einsum(s, *ops))
    check("i->", np.ones(2), backends=["counted"])
    assert len(calls) == 1
    row = check("i->", np.ones(2), backends=["counted"], warmup=True).row("counted")
    assert len(calls) == 3
    assert row.seconds is not None and row.seconds >= 0


# -- known differences of the real libraries ------------------------------------------------------
def test_torch_refuses_mixed_int_and_float():
    pytest.importorskip("torch")
    report = check("ij,jk->ik", np.ones((2, 3), np.int64), np.ones((3, 2)), backends=["torch"])
    row = report.row("torch")
    assert row.status == "unsupported"
    assert row.note == ("torch.einsum needs all operands in one dtype (given int64, float64); "
                        "numpy promotes them to float64")
    assert row.error.startswith("RuntimeError: ")
    assert report.ok


@pytest.mark.parametrize("dtype", ["uint16", "uint32"])
def test_torch_lacks_some_unsigned_kernels(dtype):
    pytest.importorskip("torch")
    row = check("ij,jk->ik", np.ones((2, 2), dtype), np.ones((2, 2), dtype), backends=["torch"]).row("torch")
    assert row.status in ("ok", "unsupported")  # a later torch may add the kernel
    if row.status == "unsupported":
        assert row.note.startswith(f"torch does not implement this einsum for {dtype}")


def test_torch_has_no_object_tensors():
    pytest.importorskip("torch")
    A = np.array([[1, 2], [3, 4]], dtype=object)
    row = check("ij,jk", A, A, backends=["torch"]).row("torch")
    assert (row.status, row.note) == ("unsupported", "torch has no tensors of dtype object")


def test_torch_sums_booleans_as_integers():
    pytest.importorskip("torch")
    report = check("i->", np.array([True, True, False]), backends=["torch"])
    row = report.row("torch")
    assert row.status in ("ok", "known difference")
    if row.status == "known difference":
        assert "torch sums booleans as integers" in row.note
    assert report.ok


def test_integer_overflow_wraps_in_different_dtypes():
    pytest.importorskip("torch")
    report = check("i->", np.array([100, 100], np.int8), backends=["numpy", "torch"])
    assert report.row("numpy").status == "ok"
    row = report.row("torch")
    if row.dtype != "int8":  # torch sums small integers in int64
        assert row.status == "known difference"
        assert "the exact values overflow int8" in row.note
    assert report.ok


def test_jax_without_x64_is_compared_in_32_bits():
    pytest.importorskip("jax")
    if x64_enabled():
        pytest.skip("jax_enable_x64 is on")
    A = np.linspace(0, 1, 6).reshape(2, 3)
    row = check("ij->i", A, backends=["jax"]).row("jax")
    assert (row.status, row.dtype) == ("ok", "float32")
    assert row.note == ("jax returned float32 (reference float64); jax_enable_x64 is off, so jax "
                        "computes in 32 bits; compared at float32 precision")
    big = check("ij->i", np.array([[2**40, 1]]), backends=["jax"]).row("jax")
    assert big.status == "known difference"
    assert "the exact values overflow int32" in big.note


def test_opt_einsum_keeps_intermediates_in_the_operands_dtypes():
    # opt_einsum contracts the two bool operands first: a bool sum is a logical or (2, not 6).
    ones = np.ones((3, 2), bool)
    report = check("ij,ij,j->", ones, ones, np.array([1, 1]), backends=["numpy", "opt_einsum"])
    row = report.row("opt_einsum")
    assert row.status == "known difference"
    assert row.note == ("opt_einsum contracts two operands at a time, keeping each intermediate "
                        "in their dtype: one in bool overflows (a bool sum is a logical or)")
    assert report.ok


def test_pairwise_float16_intermediates_are_compared_at_float16():
    A = np.full((2, 3), 3.3, np.float16)
    B = np.full((3, 4), 7.7, np.float16)
    c = np.linspace(1, 2, 4)
    row = check("ij,jk,k->i", A, B, c, backends=["opt_einsum"]).row("opt_einsum")
    assert row.status == "ok"
    assert row.note in ("", ("opt_einsum keeps intermediates in their operands' dtypes: "
                             "compared at float16 precision"))


def test_torch_int32_sums_inside_einsum():
    pytest.importorskip("torch")
    A = np.arange(4, dtype=np.int32).reshape(1, 2, 2)
    row = check("kij,kj->", A, np.ones((1, 2), np.int32), backends=["torch"]).row("torch")
    assert row.status in ("ok", "unsupported")  # pytorch/pytorch#84530, when it is fixed: ok
    if row.status == "unsupported":
        assert row.note == ("torch sums int32 into int64 inside einsum, then refuses to multiply "
                            "that with int32 (pytorch/pytorch#84530)")


def test_jax_refuses_some_mixes_of_integers_and_narrow_floats():
    pytest.importorskip("jax")
    ops = [np.array(16, np.int32), np.array(43, np.uint16), np.ones((2, 3), np.int64),
           np.ones((3, 3), np.float16)]
    report = check(",,ij,jj->i", *ops, backends=["numpy", "jax"])
    row = report.row("jax")
    assert row.status in ("ok", "unsupported", "known difference"), report
    if row.status == "unsupported":
        assert row.note.startswith("jax.numpy.einsum cannot mix these dtypes (given int32, uint16, int64, float16)")
    assert report.ok


def test_float_overflow_in_one_precision_is_known(fake_backend):
    fake_backend("half", lambda s, *ops: np.einsum(s, *[o.astype(np.float16) for o in ops]))
    row = check("i->", np.array([60000.0, 60000.0]), backends=["half"]).row("half")
    assert row.status == "known difference"
    assert row.note.endswith("the sum overflows float16 in one computation and not in the other")
    assert row.max_abs_error == np.inf


# -- the registry ----------------------------------------------------------------------------------
def test_builtin_backends_in_order():
    assert backend_names()[:4] == ("numpy", "opt_einsum", "torch", "jax")
    assert {"numpy", "opt_einsum"} <= set(installed_backends())


def test_unknown_backend_names_the_valid_ones():
    with pytest.raises(EinvizError, match=r"unknown backend 'tensorflow'\n  backends: numpy, opt_einsum, torch, jax"):
        check("i->", np.ones(2), backends=["tensorflow"])
    with pytest.raises(EinvizError, match=r"unknown backend 'Torch'[\s\S]*hint: did you mean 'torch'\?"):
        get_einsum("Torch")


@pytest.mark.parametrize("backends, message", [
    ([], r"backends= names no backend"),
    (3, r"backends= must be a list of backend names, not int"),
    ([None], r"unknown backend None"),
])
def test_bad_backends_argument(backends, message):
    with pytest.raises(EinvizError, match=message):
        check("i->", np.ones(2), backends=backends)


def test_one_backend_by_name_and_duplicates():
    report = check("i->", np.ones(2), backends="numpy")
    assert [row.backend for row in report] == ["numpy"]
    report = check("i->", np.ones(2), backends=["opt_einsum", "numpy", "opt_einsum"])
    assert [row.backend for row in report] == ["opt_einsum", "numpy"]


def test_register_backend_refuses_bad_input(fake_backend):
    with pytest.raises(EinvizError, match=r"backend 'numpy' is already registered"):
        register_backend("numpy", np.einsum)
    with pytest.raises(EinvizError, match=r"a backend name must be a non-empty string, not ''"):
        register_backend("", np.einsum)
    with pytest.raises(ArgumentTypeError, match=r"einsum must be callable, not str"):
        register_backend("mine", "einsum")
    with pytest.raises(EinvizError, match=r"backend 'numpy' is built in and cannot be unregistered"):
        unregister_backend("numpy")
    fake_backend("mine", np.einsum, version="1.2")
    assert get_einsum("mine") is np.einsum
    assert check("i->", np.ones(2), backends=["mine"]).row("mine").version == "1.2"
    assert backend_names()[-1] == "mine"


def test_missing_library_is_a_row_or_an_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # how an absent library looks to import
    monkeypatch.setitem(sys.modules, "jax", None)
    assert "torch" not in installed_backends()
    report = check("i->", np.ones(2))
    row = report.row("torch")
    assert (row.status, row.version, row.note) == ("not installed", "", 'pip install "einviz[torch]"')
    assert report.row("jax").note == 'pip install "einviz[jax]"'
    assert report.ok
    with pytest.raises(BackendNotInstalledError, match=r"backend 'torch' needs torch, which is not installed[\s\S]*"
                       r'pip install "einviz\[torch\]"') as info:
        check("i->", np.ones(2), backends=["numpy", "torch"])
    assert isinstance(info.value.__cause__, ImportError)
    assert isinstance(info.value, EinvizError) and isinstance(info.value, ImportError)
    with pytest.raises(BackendNotInstalledError, match=r'pip install "einviz\[jax\]"'):
        get_einsum("jax")


def test_importing_einviz_imports_neither_torch_nor_jax():
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import einviz, einviz.backends
        from einviz.backends import check, installed_backends
        installed_backends()
        assert check("ij->i", np.ones((2, 3)), backends=["numpy", "opt_einsum"]).ok
        heavy = sorted(m for m in ("torch", "jax", "jaxlib") if sys.modules.get(m) is not None)
        assert not heavy, heavy
    """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(_repo_root()))


def _repo_root():
    from pathlib import Path

    return Path(einviz.backends.__file__).resolve().parents[1]


# -- input errors ------------------------------------------------------------------------------------
def test_bad_subscripts_raise_the_reference_message():
    with pytest.raises(ShapeError, match=r"label 'j' has size 3 in A \(axis 1\) but size 4 in B \(axis 0\)"):
        check("ij,jk->ik", np.ones((2, 3)), np.ones((4, 5)), backends=ALWAYS)


def test_unreadable_operand():
    class Unreadable:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("Can't call numpy() on Tensor that requires grad")

    with pytest.raises(ArgumentTypeError, match=r"operand 0 \(Unreadable\) cannot be read as a numpy array"):
        check("i->", Unreadable(), backends=ALWAYS)


@pytest.mark.parametrize("operand", [
    np.array([["a", "b"], ["c", "d"]]), [["a", "b"], ["c", "d"]],
    np.ones((2, 2), dtype="M8[D]"), np.zeros((2, 2), dtype=[("x", int)]),
], ids=["str", "list-of-str", "datetime64", "structured"])
def test_operands_that_are_not_numbers(operand):
    # Summed: there is no reference (numpy refuses too), so check refuses as einsum does.
    with pytest.raises(ArgumentTypeError, match=r"operand 0 has dtype .*, which einsum cannot multiply or add"):
        check("ij->j", operand)
    # Moved only (a transpose): numpy agrees, and torch and jax have no such arrays.
    report = check("ij->ji", operand)
    assert report.ok
    assert report.row("numpy").status == "ok" and report.row("opt_einsum").status == "ok"
    for name in ("torch", "jax"):
        row = report.row(name)
        if row.status != "not installed":
            assert row.status == "unsupported"
            assert re.fullmatch(rf"{name} has no (tensors|arrays) of dtype .+", row.note)


def test_a_sum_of_objects_is_compared_as_one():
    ints = np.array([1, 2, 3], dtype=object)
    report = check("i,i->", ints, ints, backends=ALWAYS)
    assert report.ok and report.reference_dtype == "object"
    assert [row.status for row in report] == ["ok", "ok"]


# -- the report ---------------------------------------------------------------------------------------
def test_report_prints_an_aligned_table(fake_backend):
    fake_backend("wrong", lambda s, *ops: np.einsum(s, *ops) * 2, version="0.0.1")
    report = check("ij,jk->ik", np.ones((2, 3)), np.ones((3, 4)), backends=["numpy", "wrong"])
    lines = str(report).splitlines()
    assert lines[0] == "check 'ij,jk->ik'   A (2, 3) float64   B (3, 4) float64"
    assert re.fullmatch(r"reference  einviz \S+   out \(2, 4\) float64   [\d.]+ (µs|ms|s)", lines[1])
    header, numpy_row, wrong_row = lines[2:5]
    assert header.split() == ["backend", "version", "status", "dtype", "max", "abs", "error", "time", "note"]
    for column in ("status", "dtype", "max abs error", "time"):
        at = header.index(column)
        assert numpy_row[at - 1] == " " and numpy_row[at] != " "
        assert wrong_row[at - 1] == " " and wrong_row[at] != " "
    assert wrong_row.split()[:5] == ["wrong", "0.0.1", "mismatch", "float64", "3"]
    assert lines[-1] == "FAILED: wrong (mismatch)"
    assert repr(report) == str(report)


def test_report_html_is_a_table():
    report = check("i,i->", np.ones(2), np.ones(2), backends=ALWAYS)
    page = report._repr_html_()
    assert page.startswith('<table class="einviz-check">') and page.endswith("</table>")
    assert page.count("<tr>") == 1 + 2 + 1
    assert "check &#x27;i,i-&gt;&#x27;" in page
    assert "ok: every installed backend agrees with the reference" in page


def test_report_rows_are_dataclasses():
    report = check("ij->j", np.ones((2, 3)), backends=ALWAYS)
    assert isinstance(report, CheckReport)
    assert all(isinstance(row, CheckRow) for row in report.rows)
    assert report.names == ("A",) and report.shapes == ((2, 3),) and report.dtypes == ("float64",)
    assert report.reference_dtype == "float64" and report.reference_shape == (3,)
    with pytest.raises(EinvizError, match=r"the report has no row for backend 'torch'\n  rows: numpy, opt_einsum"):
        report.row("torch")


def test_docstring_examples_run():
    failures, tried = doctest.testmod(einviz.backends, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0


# --------------------------------------------------------------------------------------------
# check(plan, ...): a caller that planned already (issue 12: one parse, one bind)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", IDS)
def test_check_of_a_plan_reports_what_check_of_the_subscripts_does(name):
    subscripts, shapes = CORPUS[name]
    arrays = operands(shapes)
    planned = einviz.plan(subscripts, *arrays)
    by_plan = check(planned, *arrays, backends=ALWAYS)
    by_text = check(subscripts, *arrays, backends=ALWAYS)
    assert by_plan.subscripts == by_text.subscripts
    assert (by_plan.names, by_plan.shapes, by_plan.dtypes) == (by_text.names, by_text.shapes, by_text.dtypes)
    assert [(r.backend, r.status, r.dtype) for r in by_plan] == [(r.backend, r.status, r.dtype) for r in by_text]


def test_check_of_a_plan_parses_and_binds_nothing_again(monkeypatch):
    A, B = np.arange(6).reshape(2, 3), np.ones((3, 4))
    planned = einviz.plan("ij,jk->ik", A, B, names=["X", "W"])

    def never(*args, **kwargs):
        raise AssertionError("parsed or bound again")

    monkeypatch.setattr(einviz.backends, "parse_call", never)
    monkeypatch.setattr(einviz.backends, "plan", never)
    report = check(planned, A, B, backends=["numpy"])
    assert report.ok and report.names == ("X", "W")


@pytest.mark.parametrize("given, message", [
    ([np.ones((2, 3)), np.ones((3, 5))],
     (r"operand 1 \(B\) has shape \(3, 5\), but the plan was made for shape \(3, 4\)\n    ij,jk->ik\n"
      r"  plan: \(2, 3\), \(3, 4\)\n  given: \(2, 3\), \(3, 5\)")),
    ([np.ones((2, 3))], r"the plan is for 2 operands, but 1 were given"),
], ids=["shape", "count"])
def test_check_of_a_plan_refuses_other_operands(given, message):
    planned = einviz.plan("ij,jk->ik", shapes=[(2, 3), (3, 4)])
    with pytest.raises(ShapeError, match=message):
        check(planned, *given, backends=["numpy"])
