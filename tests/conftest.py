"""Hypothesis profiles: ``ci`` (deterministic) when the CI variable is set, else ``dev``.

Pick another with ``HYPOTHESIS_PROFILE=dev`` (or ``ci``) in the environment.

In CI every optional library and the browser are installed, so a test that skips there is
a failure (set ``EINVIZ_ALLOW_SKIPS=1`` to let skips pass on a CI machine that lacks them).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=60,
    print_blob=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and not hasattr(report, "wasxfail") and os.environ.get("CI")
            and not os.environ.get("EINVIZ_ALLOW_SKIPS")):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may be skipped: {reason}"


# The quick subset (`pytest -m "not slow"`) leaves out what starts another program (Chromium,
# a server or JupyterLab, nbconvert, torch or jax, a subprocess running the command or an example), the
# GIFs rasterised frame by frame, the benchmarks' own runs and the docs' executed snippets.
# Tests mark themselves `slow` where that is not plain from these rules.
_SLOW_MODULES = {"test_examples.py", "test_html.py", "test_site.py", "test_widget.py",
                 "test_gif.py"}
_SLOW_WORDS = ("torch", "jax", "nbconvert", "test_snippet_runs", "end_to_end", "subprocess",
               "fresh_interpreter", "benchmark", "run_m")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if (item.path.name in _SLOW_MODULES or item.get_closest_marker("browser")
                or item.get_closest_marker("backend")
                or any(word in item.nodeid for word in _SLOW_WORDS)):
            item.add_marker(pytest.mark.slow)
