"""einviz.playground(): the notebook widget, its model in process and in a real JupyterLab."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import einviz
from einviz.widget import playground

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("anywidget")


def test_the_widget_starts_from_the_users_arrays():
    w = playground("ij->i", np.array([[40, 2, 7], [1, 1, 1]]))
    assert w.state["values"] == "yours" and w.state["shapes"] == "2x3" and w.yours
    assert w.result["ok"] and w.result["equivalent"] == "A.sum(axis=1)"
    assert ">49<" in w.result["player"]  # 40 + 2 + 7, from the user's values
    assert w.result["formula"] == einviz.plan("ij->i", shapes=[(2, 3)]).formula()


def test_an_edit_from_the_page_is_answered_by_the_kernel():
    w = playground("ij,jk->ik", shapes=[(2, 3), (3, 4)])
    assert w.state["shapes"] == "2x3,3x4" and w.state["values"] == "arange"
    w.state = {"s": "ij,jk->iz", "shapes": "2x3,3x4", "sizes": "", "values": "arange",
               "seed": "0", "serial": 7}
    assert w.result["serial"] == 7 and not w.result["ok"]
    assert w.result["error"]["kind"] == "SubscriptError" and w.result["error"]["positions"] == [8]
    w.state = {**w.state, "s": "ij,jk->ik", "serial": 8}
    assert w.result["ok"] and w.result["serial"] == 8
    w.state = {**w.state, "evil": "1", "serial": 9}
    assert w.result["error"]["kind"] == "BadRequest"


def test_sizes_are_written_as_the_sizes_box_reads_them():
    w = playground("...ij->...ji", sizes={"i": 2, "...": (2, 3)})
    assert w.state["sizes"] == "i=2,...=2x3" and w.result["ok"]
    from einviz.operands import default_operands  # the library's rule for unsized labels

    (made,) = default_operands("...ij->...ji", sizes={"i": 2, "...": (2, 3)})
    assert w.result["shapes"] == "x".join(map(str, made.shape))


def test_a_backend_check_is_answered_by_a_message(monkeypatch):
    w = playground("ij->i", np.ones((2, 3)))
    sent = []
    monkeypatch.setattr(w, "send", sent.append)
    w._message(w, {"kind": "check", "id": 3, "state": {"s": "ij->i", "values": "yours"},
                   "backend": "numpy"}, [])
    assert sent[0]["id"] == 3 and sent[0]["row"]["status"] == "ok"
    w._message(w, {"kind": "check", "id": 4, "state": {"s": "x" * 500}, "backend": "numpy"}, [])
    assert sent[1]["row"]["error"]["kind"] == "BadRequest"


def test_bad_arguments_are_einviz_errors():
    with pytest.raises(einviz.EinvizError, match="either operands or shapes"):
        playground("i->", np.ones(2), shapes=[(2,)])
    with pytest.raises(einviz.EinvizError, match="values must be one of"):
        playground("i->", values="eval")


def test_the_esm_is_the_pages_script_and_the_widget_glue():
    w = playground()
    assert "function einvizPlayground" in w._esm and "export default { render }" in w._esm
    assert w._css.lstrip().startswith("/*") and "body{" not in w._css  # a notebook keeps its page


# -- a real JupyterLab --------------------------------------------------------------------------
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
CELL = ("import numpy as np, einviz.widget\n"
        "einviz.widget.playground('ij->i', np.array([[40, 2, 7], [1, 1, 1]]))")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    pytest.importorskip("jupyterlab")
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": "cell", "metadata": {},
                           "outputs": [], "source": CELL}],
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                            "name": "python3"}},
                "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "play.ipynb").write_text(json.dumps(notebook))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(240):  # up to a minute for the server to answer
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert proc.poll() is None, "jupyter lab exited"
                time.sleep(0.25)
        yield f"http://127.0.0.1:{port}/lab/tree/play.ipynb?token={token}"
    finally:
        proc.terminate()
        proc.wait(30)


def _run_the_cell(page) -> None:
    """Run the notebook's cell until the widget shows: on a busy machine a keystroke sent
    before the editor or the kernel is ready is lost, so ask again (Ctrl+Enter stays put)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    player = page.locator(".ezp .einviz-player svg")
    for _ in range(6):
        page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first.click(timeout=120_000)
        page.keyboard.press("Control+Enter")
        try:
            player.wait_for(timeout=30_000)
            return
        except PlaywrightTimeout:
            continue
    outputs = page.locator(".jp-OutputArea").all_text_contents()
    pytest.fail(f"the widget did not show; the cell's output: {outputs}")


@pytest.mark.slow
@pytest.mark.browser
def test_the_widget_plays_and_follows_edits_in_jupyterlab(lab):
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("no Chromium (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(lab)
        _run_the_cell(page)
        assert page.locator(".ezp-formula").text_content() == "out[i] = Σ_j A[i,j]"
        assert page.get_by_label("Values").input_value() == "yours"
        page.get_by_label("Subscripts").fill("ij->j")
        page.wait_for_function(
            "() => document.querySelector('.ezp-formula').textContent === 'out[j] = Σ_i A[i,j]'",
            timeout=60_000)
        assert page.locator(".ezp-title").text_content() == "column sums"
        page.get_by_role("button", name="Check numpy, opt_einsum, torch, jax").click()
        first = page.locator(".ezp-checks tbody tr").first  # numpy's row, from the kernel
        first.wait_for(timeout=60_000)
        assert [td.text_content() for td in first.locator("td").all()][:2] == ["numpy", "ok"]
        page.get_by_label("Subscripts").fill("ij->q")
        error = page.locator('.ezp-error[data-box="s"] .ezp-culprit')
        error.wait_for(timeout=60_000)
        assert error.get_attribute("data-pos") == "4"
        browser.close()


def test_without_anywidget_the_error_names_the_extra(monkeypatch):
    from einviz import widget

    monkeypatch.setitem(sys.modules, "anywidget", None)
    widget._widget_class.cache_clear()
    try:
        with pytest.raises(einviz.EinvizError, match=r"needs anywidget(.|\n)*einviz\[serve\]"):
            playground()
    finally:
        widget._widget_class.cache_clear()
