"""The live playground: its state and update (no web stack), the Starlette app through
httpx, a real uvicorn server on 127.0.0.1, and Chromium driving the page."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import einviz
from einviz.serve import PRESETS, BadRequest, State, update
from einviz.serve.state import BoxError, make_operands, shapes_of, sizes_of

HUGE = {"s": "ij,jk->ik", "shapes": "100000x100000,100000x100000"}
ROOT = Path(__file__).resolve().parents[1]


# -- state and update: no web stack -------------------------------------------------------------
def test_a_query_round_trips_through_the_state():
    state = State.from_query({"s": "bij,bjk->bik", "sizes": "b=2", "values": "random", "seed": "7"})
    assert State.from_query(dict(__import__("urllib.parse").parse.parse_qsl(state.query()))) == state
    assert state.query().startswith("s=bij,bjk-%3Ebik&")
    assert "shapes" not in state.query()  # defaults are left out of links


@pytest.mark.parametrize("params, match", [
    ({"s": "ij", "evil": "1"}, "unknown field 'evil'"),
    ({"s": "i" * 201}, "at most 200 characters"),
    ({"values": "__import__('os')"}, "values must be one of"),
    ({"seed": "-1"}, "seed must be a whole number"),
    ({"seed": "1e9"}, "seed must be a whole number"),
])
def test_requests_the_page_never_sends_are_refused(params, match):
    with pytest.raises(BadRequest, match=match):
        State.from_query(params)


def test_shapes_errors_point_into_the_shapes_box():
    assert shapes_of("2x3, 3x4,scalar") == [(2, 3), (3, 4), ()]
    with pytest.raises(BoxError, match=r"Shapes: '3y' is not a size") as caught:
        shapes_of("2x3,3y")
    assert caught.value.box == "shapes"
    assert caught.value.subscripts == "2x3,3y" and caught.value.positions == (4, 5)


def test_sizes_errors_name_the_label():
    equation = einviz.parse("...ij->j")
    assert sizes_of("i=2, ...=2x3", equation) == {"i": 2, "...": (2, 3)}
    with pytest.raises(BoxError, match=r"Sizes: 'q' is not a label") as caught:
        sizes_of("i=2,q=3", equation)
    assert caught.value.positions == (4,)
    with pytest.raises(BoxError, match=r"'i=' is not a size|'' is not a size|is not a size"):
        sizes_of("i=", equation)


def test_update_shows_what_the_library_says():
    payload = update(State("ij,jk->ik", shapes="2x3,3x4"))
    plan = einviz.plan("ij,jk->ik", shapes=[(2, 3), (3, 4)])
    explanation = einviz.explain(plan)
    assert payload["ok"] and payload["formula"] == plan.formula()
    assert payload["loop_code"] == plan.loop_code()
    assert payload["sentences"] == [sentence.text for sentence in explanation.sentences]
    assert payload["equivalent"] == explanation.equivalent
    assert payload["sizes"] == [{"label": x, "size": plan.sizes[x],
                                 "role": "free" if x in plan.free else "summed"} for x in plan.labels]
    assert payload["player"].startswith('<div class="einviz-player"') and payload["path"] is None
    assert update(State("i,ij,j->"))["path"].startswith("<section")  # three operands: the path
    assert set(payload["colours"]) == set(plan.labels)
    assert all(colour in payload["player"] for colour in payload["colours"].values())


def test_an_error_carries_its_positions_and_its_box():
    error = update(State("ij,jk->iz"))["error"]
    assert error["kind"] == "SubscriptError" and error["box"] == "s"
    assert error["chars"][error["positions"][0]] == "z"
    clash = update(State("ij,jk->ik", shapes="2x3,4x5"))["error"]
    assert clash["box"] == "shapes" and clash["kind"] == "ShapeError"
    assert update(State("ij", shapes="2y"))["error"]["kind"] == "ShapeError"  # a public class
    assert [clash["chars"][p] for p in clash["positions"]] == ["j", "j"]
    assert update(State("ij", sizes="q=2"))["error"]["box"] == "sizes"


def test_huge_sizes_are_refused_before_anything_is_allocated():
    error = update(State(**HUGE))["error"]
    assert error["kind"] == "LimitError" and "more than the limit" in error["problem"]
    assert "give smaller shapes or sizes" in error["hint"] and "einviz.limits" not in error["hint"]
    # Under the step limit but an operand too large to make: refused too, before allocating.
    error = update(State("i->", shapes="200000"))["error"]
    assert error["kind"] == "LimitError" and "200,000 elements" in error["problem"]
    with pytest.raises(einviz.LimitError, match="more than the playground's limit"):
        make_operands([(10**7,)], "ones", 0)


@pytest.mark.parametrize("name, state", PRESETS, ids=[name for name, _ in PRESETS])
def test_every_preset_draws(name, state):
    payload = update(state)
    assert payload["ok"], payload.get("error")
    assert payload["query"] == state.query()


def test_values_follow_the_values_box():
    ones = update(State("i->", shapes="3", values="ones"))
    arange = update(State("i->", shapes="3", values="arange"))
    assert ones["player"] != arange["player"]
    assert update(State("i->", values="yours"))["error"]["problem"].startswith("values 'yours'")
    mine = update(State("i->", values="yours"), [np.array([40, 2])])
    assert mine["ok"] and mine["shapes"] == "2"


# -- the app, in process ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    from starlette.testclient import TestClient

    from einviz.serve import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


_BOX_TEXT = st.text(alphabet=st.sampled_from("ijk,->.x=0123 " + "\x00<>&\"'é😀"), max_size=24)


@settings(max_examples=60, deadline=None)
@given(s=_BOX_TEXT, shapes=_BOX_TEXT, sizes=_BOX_TEXT, values=st.sampled_from(["arange", "ones", "x"]))
def test_any_text_in_the_boxes_gets_an_answer_never_a_500(client, s, shapes, sizes, values):
    answer = client.get("/api/update", params={"s": s, "shapes": shapes, "sizes": sizes, "values": values})
    payload = answer.json()
    assert answer.status_code == (400 if values == "x" else 200)
    if answer.status_code == 200 and not payload["ok"]:
        error = payload["error"]
        assert error["kind"] in {"SubscriptError", "ShapeError", "LimitError", "EinvizError",
                                 "ArgumentTypeError"}
        assert error["box"] in {"s", "shapes", "sizes"}
        assert all(0 <= p < len(error["chars"]) + 3 for p in error["positions"])


def test_the_api_answers_an_update(client):
    answer = client.get("/api/update", params={"s": "ij->i", "shapes": "2x3"})
    assert answer.status_code == 200 and answer.json()["formula"] == "out[i] = Σ_j A[i,j]"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


@pytest.mark.parametrize("path, status, match", [
    ("/api/update?s=ij&evil=1", 400, "unknown field 'evil'"),
    ("/api/update?s=ij&s=ji", 400, "given twice"),
    ("/api/update?seed=abc", 400, "seed must be"),
    ("/api/update?s=" + "i" * 3000, 400, "query string is longer than 2048"),
    ("/api/check?s=ij&backend=os", 400, "backend must be one of"),
    ("/static/..%2Fapp.py", 404, "not found"),
    ("/static/app.py", 404, "not found"),
    ("/etc/passwd", 404, "not found"),
])
def test_bad_requests_get_json_errors_not_tracebacks(client, path, status, match):
    answer = client.get(path)
    assert answer.status_code == status
    assert match in answer.json()["error"]["message"]
    assert "Traceback" not in answer.text


def test_bodies_are_limited(client):
    answer = client.post("/api/update", content=b"x" * 10_000)
    assert answer.status_code == 413 and "limited to 4096 bytes" in answer.json()["error"]["message"]
    assert client.post("/api/update", content=b"{}").status_code == 405


def test_an_internal_error_is_a_json_500(client, monkeypatch):
    from einviz.serve import app

    def broken(state):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(app, "update", broken)
    answer = client.get("/api/update", params={"s": "ij"})
    assert answer.status_code == 500 and answer.json()["error"]["message"] == "internal error"
    assert "secret detail" not in answer.text


def test_a_slow_update_is_cut_off_at_its_time_limit(client, monkeypatch):
    from einviz.serve import app

    release = threading.Event()

    def stuck(state):
        release.wait(30)
        return {"ok": True}

    monkeypatch.setattr(app, "update", stuck)
    monkeypatch.setitem(app.TIMEOUT, "update", 0.2)
    try:
        answer = client.get("/api/update", params={"s": "ij"})
    finally:
        release.set()
    assert answer.status_code == 503 and "took longer than 0.2 s" in answer.json()["error"]["message"]


def test_the_page_escapes_the_state_it_embeds(client):
    evil = "</script><script>alert(1)</script>"
    page = client.get("/", params={"s": evil}).text
    assert evil not in page and "<\\/script><script>alert(1)<\\/script>" in page
    assert "&lt;/script&gt;" in page.split("</title>")[0]
    assert 'type="application/json" id="ezp-boot"' in page
    filled = client.get("/", params={"s": "{{boot}}{{editor}}"}).text
    assert "<title>einsum {{boot}}{{editor}} · einviz playground</title>" in filled
    assert filled.count('class="ezp-form"') == 1


def test_the_check_runs_one_backend(client):
    row = client.get("/api/check", params={"s": "ij,jk->ik", "backend": "numpy"}).json()
    assert row["ok"] and row["backend"] == "numpy" and row["status"] == "ok"
    error = client.get("/api/check", params={"s": "ij,jk->iz", "backend": "numpy"}).json()
    assert not error["ok"] and error["error"]["kind"] == "SubscriptError"


# -- a real server ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server():
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    from einviz.serve.launch import background

    with background("127.0.0.1", 0) as url:
        yield url


@pytest.mark.slow
def test_fifty_concurrent_requests_each_get_their_own_answer(server):
    httpx = pytest.importorskip("httpx")
    asks = [{"s": "ij->i" if k % 2 else "ij->j", "shapes": f"{k % 5 + 1}x{k % 7 + 1}"} for k in range(50)]

    async def main():
        async with httpx.AsyncClient(base_url=server, timeout=60,
                                     limits=httpx.Limits(max_connections=50)) as c:
            return await asyncio.gather(*(c.get("/api/update", params=a) for a in asks))

    answers = asyncio.run(main())
    assert len(answers) == 50
    for ask, answer in zip(asks, answers):
        assert answer.status_code == 200
        payload = answer.json()
        expected = einviz.plan(ask["s"], shapes=shapes_of(ask["shapes"]))
        assert payload["ok"] and payload["shapes"] == ask["shapes"]
        assert payload["formula"] == expected.formula() and payload["steps"] == expected.n_steps


@pytest.mark.slow
def test_a_huge_size_is_refused_while_another_request_is_being_served(server, monkeypatch):
    httpx = pytest.importorskip("httpx")
    from einviz.serve import app

    started, release = threading.Event(), threading.Event()
    real = app.update

    def held(state):  # one request held in its worker until the test lets it go
        if state.s == "ij->j":
            started.set()
            release.wait(30)
        return real(state)

    monkeypatch.setattr(app, "update", held)
    result = {}
    slow = threading.Thread(target=lambda: result.setdefault(
        "slow", httpx.get(server + "api/update", params={"s": "ij->j"}, timeout=60)))
    slow.start()
    try:
        assert started.wait(30)
        huge = httpx.get(server + "api/update", params=HUGE, timeout=30)
        assert "slow" not in result  # the held request is still being served
    finally:
        release.set()
        slow.join(60)
    assert huge.status_code == 200 and huge.json()["error"]["kind"] == "LimitError"
    assert result["slow"].json()["formula"] == "out[j] = Σ_i A[i,j]"


@pytest.mark.slow
def test_python_m_einviz_serve_prints_its_address_and_serves():
    pytest.importorskip("uvicorn")
    httpx = pytest.importorskip("httpx")
    proc = subprocess.Popen([sys.executable, "-m", "einviz.serve", "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    try:
        line = proc.stdout.readline()
        assert line.startswith("einviz playground: http://127.0.0.1:")
        url = line.split()[2]
        assert httpx.get(url + "api/update", params={"s": "ii->"}, timeout=30).json()["title"] == "trace"
    finally:
        proc.terminate()
        proc.wait(30)


def test_a_port_in_use_is_a_message_not_a_traceback(capsys):
    pytest.importorskip("uvicorn")
    import socket

    from einviz.serve.launch import run

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert run(["--port", str(taken.getsockname()[1])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("einviz: cannot listen on 127.0.0.1:") and "Traceback" not in err
    assert run(["--port", "70000"]) == 2
    assert "cannot listen on 127.0.0.1:70000" in capsys.readouterr().err
    assert run(["--host", "no.such.host.invalid", "--port", "0"]) == 2
    assert "cannot listen on no.such.host.invalid:0" in capsys.readouterr().err


# -- Chromium -----------------------------------------------------------------------------------
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("no Chromium (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        b = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    p = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = []
    p.on("pageerror", lambda e: errors.append(e))
    p.goto(server)
    p.wait_for_selector(".ezp-figure .einviz-player svg")
    yield p
    p.close()
    assert not errors, errors


def _formula(page, expected):
    page.wait_for_function("t => document.querySelector('.ezp-formula').textContent === t", arg=expected)


@pytest.mark.slow
@pytest.mark.browser
def test_typing_subscripts_redraws_everything_and_the_address(page):
    box = page.get_by_label("Subscripts")
    box.fill("")
    box.type("ij->j", delay=30)
    _formula(page, "out[j] = Σ_i A[i,j]")
    assert page.locator(".ezp-figure .einviz-player svg").count() == 1
    assert page.locator(".ezp-title").text_content() == "column sums"
    assert "s=ij-%3Ej" in page.url and page.evaluate("document.title").startswith("einsum ij->j")
    page.get_by_label("Shapes").fill("4x5")
    page.wait_for_function("() => location.search.includes('shapes=4x5')")
    assert [r.text_content() for r in page.locator(".ezp-sizes td").all()][:2] == ["j", "5"]
    # The panels colour each label as the figure does: j in 'out[j] = Σ_i A[i,j]' twice, i twice.
    labels = page.locator(".ezp-formula .ezp-label")
    assert [x.text_content() for x in labels.all()] == ["j", "i", "i", "j"]
    assert labels.first.evaluate("e => e.style.color") != labels.nth(1).evaluate("e => e.style.color")


@pytest.mark.slow
@pytest.mark.browser
def test_a_typo_puts_the_caret_under_the_culprit_and_dims_the_last_figure(page):
    page.get_by_label("Subscripts").fill("ij,jk->iz")
    error = page.locator('.ezp-error[data-box="s"]')
    error.wait_for(state="visible")
    culprit = error.locator(".ezp-culprit")
    assert culprit.count() == 1 and culprit.get_attribute("data-pos") == "8"
    assert culprit.evaluate("e => e.firstChild.textContent") == "z"
    c, caret = culprit.bounding_box(), error.locator(".ezp-caret").bounding_box()
    assert caret["y"] >= c["y"] + c["height"] - 1  # below the character
    assert c["x"] <= caret["x"] + caret["width"] / 2 <= c["x"] + c["width"]  # and under it
    assert error.bounding_box()["y"] > page.get_by_label("Subscripts").bounding_box()["y"]
    assert "does not appear in any input" in error.text_content()
    assert page.locator(".ezp.ezp-stale .einviz-player svg").is_visible()  # kept, dimmed
    assert float(page.locator(".ezp-out").evaluate("e => getComputedStyle(e).opacity")) < 1
    page.get_by_label("Subscripts").fill("ij,jk->ik")
    error.wait_for(state="hidden")
    assert page.locator(".ezp.ezp-stale").count() == 0


@pytest.mark.slow
@pytest.mark.browser
def test_huge_sizes_show_the_limit_message_under_shapes(page):
    page.get_by_label("Shapes").fill(HUGE["shapes"])
    error = page.locator('.ezp-error[data-box="shapes"]')
    error.wait_for(state="visible")
    assert "more than the limit" in error.text_content()


@pytest.mark.slow
@pytest.mark.browser
def test_markup_typed_into_a_box_stays_text(page):
    page.get_by_label("Subscripts").fill('<img src=x onerror="document.title=1">')
    error = page.locator('.ezp-error[data-box="s"]')
    error.wait_for(state="visible")
    assert page.locator(".ezp img").count() == 0
    assert error.locator(".ezp-culprit").evaluate("e => e.firstChild.textContent") == "<"
    assert 'img src=x onerror="document.title=1">' in error.text_content()
    assert page.evaluate("document.title") != "1"


@pytest.mark.slow
@pytest.mark.browser
def test_a_link_opens_its_state(browser, server):
    p = browser.new_page()
    p.goto(server + "?s=ii->&shapes=3x3&values=random&seed=4")
    _formula(p, "out = Σ_i A[i,i]")
    assert p.get_by_label("Subscripts").input_value() == "ii->"
    assert p.get_by_label("Shapes").input_value() == "3x3"
    assert p.get_by_label("Values").input_value() == "random"
    assert p.get_by_label("Seed").input_value() == "4"
    assert p.locator(".ezp-numpy").text_content() == "np.trace(A)"
    p.close()


@pytest.mark.slow
@pytest.mark.browser
def test_every_preset_is_one_click_away(page):
    for name, state in PRESETS:
        page.get_by_role("button", name=name, exact=True).click()
        plan = einviz.plan(state.s, shapes=shapes_of(update(state)["shapes"]))
        _formula(page, plan.formula())
        assert page.get_by_label("Subscripts").input_value() == state.s
        assert page.locator(".ezp-error:visible").count() == 0
        page.wait_for_function("q => location.search === '?' + q", arg=state.query())
    assert page.locator(".ezp-path-box").is_hidden()  # the last preset has two operands
    page.get_by_role("button", name="bilinear", exact=True).click()
    page.locator(".ezp-path .einviz-path").wait_for()


@pytest.mark.slow
@pytest.mark.browser
def test_the_backend_check_shows_progress_and_every_row(page):
    page.get_by_role("button", name="Check numpy, opt_einsum, torch, jax").click()
    rows = page.locator(".ezp-checks tbody tr")
    rows.nth(3).wait_for(timeout=120_000)
    assert [r.locator("td").first.text_content() for r in rows.all()] == list(
        json.loads('["numpy", "opt_einsum", "torch", "jax"]'))
    assert rows.first.locator("td").nth(1).text_content() == "ok"
    assert "checked 4 backends" in page.locator(".ezp-check-status").text_content()


def test_the_listening_socket_says_it_is_tcp():
    # asyncio turns Nagle's algorithm off only then; with it on, responses wait 40 ms.
    import socket

    from einviz.serve.launch import _bind

    with _bind("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP


def test_without_the_extra_the_command_names_it(monkeypatch, capsys):
    from einviz.serve.launch import run

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn now fails
    assert run(["--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "needs Starlette and uvicorn" in err and 'pip install "einviz[serve]"' in err


@pytest.mark.slow
@pytest.mark.browser
def test_a_request_the_page_refuses_is_said_in_the_status_line(page):
    page.get_by_label("Values").select_option("random")
    page.get_by_label("Seed").fill("-3")
    page.wait_for_function("() => document.querySelector('.ezp-status').textContent.includes('seed')")
    assert page.locator(".ezp-error:visible").count() == 0


@pytest.mark.parametrize("argv, expected", [
    (["serve"], True),
    (["serve", "--port", "0", "--open"], True),
    (["serve", "--host=0.0.0.0"], True),
    (["serve", "--help"], True),
    (["serve", "--shapes", "2,2,2,2,2"], False),  # the einsum "serve"
    (["ij->i"], False),
    ([], False),
])
def test_which_arguments_mean_einviz_serve(argv, expected):
    from einviz.serve.launch import is_serve_command

    assert is_serve_command(argv) is expected


def test_open_opens_the_printed_address(monkeypatch, capsys):
    uvicorn = pytest.importorskip("uvicorn")
    import webbrowser

    from einviz.serve.launch import run

    opened, served = [], []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets: served.append(sockets))
    assert run(["--port", "0", "--open"]) == 0
    url = capsys.readouterr().out.split()[2]
    assert opened == [url] and url.startswith("http://127.0.0.1:") and len(served) == 1
    served[0][0].close()


@pytest.mark.slow
def test_a_local_server_answers_only_its_own_host_names(server):
    httpx = pytest.importorskip("httpx")
    port = server.rsplit(":", 1)[1].strip("/")
    for name in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        assert httpx.get(server + "favicon.ico", headers={"Host": name}).status_code == 204
    rebound = httpx.get(server + "api/update", params={"s": "ij"}, headers={"Host": f"evil.example:{port}"})
    assert rebound.status_code == 400 and rebound.json()["error"]["message"] == "unknown host name"
