"""The HTML player: the page as text, and the page driven in a real browser.

The browser tests run headless Chromium (Debian's package) through Playwright; on a machine
without either they skip with the reason. What the page shows is checked against the trace,
never against the scene the page was drawn from.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from einviz.animation import animate
from einviz.render.html import MIN_SCALE, player
from einviz.render.html import page as page_html
from einviz.render.panel import Panel
from einviz.render.text import format_value

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: name -> (subscripts, operands): small problems with the features the player must handle.
PROBLEMS = {
    "matmul": ("ij,jk->ik", [np.arange(6).reshape(2, 3) - 2, np.arange(12).reshape(3, 4) - 5]),
    "row-sums": ("ij->i", [np.array([[1, 2, 3], [4, 5, 6]])]),
    "diagonal": ("ii->i", [np.arange(9).reshape(3, 3)]),
    "trace": ("ii->", [np.arange(9).reshape(3, 3)]),
    "broadcast": ("ij,jk->ik", [np.array([[2], [3]]), np.arange(12).reshape(3, 4)]),
    "batched": ("bij,bjk->bik", [np.arange(12).reshape(2, 2, 3), np.arange(12).reshape(2, 3, 2)]),
    "long-axis": ("ij,jk->ik", [np.ones((2, 20), int), np.arange(40).reshape(20, 2)]),
    "outer": ("i,j->ij", [np.array([1, -2]), np.array([3, 4, 5])]),
    "total": ("ij->", [np.array([[1, 2, 3], [4, 5, 6]])]),
    # Output cells hidden in a cut axis: an input cell feeds more cells than are drawn.
    "cut-matmul": ("ij,jk->ik", [np.arange(100).reshape(10, 10), np.arange(100).reshape(10, 10)]),
    "cut-outer": ("i,j->ij", [np.array([1, -2]), np.arange(12)]),
    "cut-broadcast": ("ij,jk->ik", [np.arange(12).reshape(12, 1), np.arange(36).reshape(3, 12)]),
    "sampled": ("ij,jk->ik", [np.arange(140).reshape(14, 10) % 7,
                              np.arange(120).reshape(10, 12) % 5]),
    "no-steps": ("i,j->i", [np.array([1, 2]), np.zeros(0, int)]),
}


def make(name: str, **options):
    subscripts, operands = PROBLEMS[name]
    return animate(subscripts, *operands, **options)


# -- the page as text ---------------------------------------------------------------------------
def test_the_page_is_self_contained(tmp_path):
    html = make("matmul").to_html()
    assert html.startswith("<!DOCTYPE html>")
    for outside in ("<link", "src=", "@import", "url(", "//cdn", "https:"):
        assert outside not in html
    assert re.findall(r"http://[^\"' ]+", html) and all(
        url.startswith("http://www.w3.org/") for url in re.findall(r"http://[^\"' ]+", html))
    assert make("matmul").to_html(tmp_path / "p.html") is None
    assert (tmp_path / "p.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def player_ids(html: str) -> list[str]:
    return re.findall(r'class="einviz-player" id="([^"]+)"', html)


def test_two_players_have_their_own_ids():
    anim = make("row-sums")
    first, second = anim._repr_html_(), anim._repr_html_()
    ids = [player_ids(h)[0] for h in (first, second)]
    assert ids[0] != ids[1]
    for fragment, own in zip((first, second), ids):
        for other in re.findall(r'\bid="([^"]+)"', fragment):
            assert other.startswith(own)


def player_data(anim) -> dict:
    html = anim.player_html()
    return json.loads(re.search(r'<script type="application/json" class="ez-data">(.*?)</script>',
                                html, re.S).group(1))


@pytest.mark.parametrize("name", ["matmul", "row-sums", "trace", "long-axis"])
def test_the_player_writes_a_cells_sum_as_its_cell_frame_does(name):
    # One rule writes a cell's whole sum: the cell frames' captions and the hover's text.
    subscripts, operands = PROBLEMS[name]
    anim = animate(subscripts, *operands, granularity="cell")
    sums = player_data(anim)["sums"]
    result = np.einsum(subscripts, *operands)
    cells = [frame for frame in anim.scene.frames if frame.kind == "cell"]
    assert cells
    for frame in cells:
        (out,) = [mark for mark in frame.marks if mark.operand == "out"]
        assert sums[",".join(map(str, out.index))].splitlines() == frame.caption_text()[:2]
    for index in anim.scene.finals:
        assert sums[",".join(map(str, index))].endswith("= " + format_value(result[index]))


# Each process prints its notebook displays' ids, then a hash of its page.
DISPLAYS = """
import hashlib, re, numpy as np
from einviz.animation import animate
anim = animate("ij,jk->ik", np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4))
print(re.search(r'class="einviz-player" id="([^"]+)"', anim._repr_html_()).group(1))
print(re.search(r'class="einviz-player" id="([^"]+)"', anim.player_html()).group(1))
print(re.search(r'<svg[^>]* id="([^"]+)"', anim.player_html()).group(1))
print(hashlib.sha256((anim.to_html() + anim.to_svg()).encode()).hexdigest())
"""


def test_notebook_displays_differ_across_processes_and_files_do_not():
    # A notebook keeps old outputs on the page after a kernel restart; the new process's
    # displays of the same einsum must not reuse their ids.
    runs = [subprocess.run([sys.executable, "-c", DISPLAYS], capture_output=True, text=True,
                           timeout=120) for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    first, second = (run.stdout.split() for run in runs)
    for one, two in zip(first[:3], second[:3]):
        assert one != two
    assert first[3] == second[3]  # to_html and to_svg: the same bytes every run


def test_an_empty_sum_says_so():
    anim = animate("ij->i", np.zeros((2, 0)))
    assert "empty sum" in player_data(anim)["sums"]["0"]


def test_the_command_writes_the_player(tmp_path):
    done = subprocess.run([sys.executable, "-m", "einviz", "ij,jk->ik", "-o", "mm.html", "-q"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "mm.html").read_text(encoding="utf-8")
    assert 'class="einviz-player"' in page and "<svg" in page


def test_the_page_shows_the_numpy_equivalent_and_a_path_for_three_operands():
    assert "A @ B" in make("matmul").to_html()
    page = animate("ij,jk,kl->il", shapes=[(2, 3), (3, 2), (2, 2)]).to_html()
    assert "Contraction path" in page


# -- in the browser -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


class Page:
    """A browser tab on one file, collecting console errors."""

    def __init__(self, browser, path: Path, width: int = 1000) -> None:
        self.tab = browser.new_page(viewport={"width": width, "height": 900})
        self.errors: list[str] = []
        self.tab.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.tab.on("pageerror", lambda e: self.errors.append(str(e)))
        self.tab.goto(path.as_uri())

    def visible_frames(self, root: str = ".einviz-player") -> list[int]:
        return self.tab.eval_on_selector_all(
            f"{root} .ez-fig .einviz-frame",
            "gs => gs.filter(g => getComputedStyle(g).visibility === 'visible')"
            ".map(g => +g.getAttribute('data-frame'))")

    def lit(self, selector: str) -> set[tuple[str, str]]:
        cells = self.tab.eval_on_selector_all(
            selector, "us => us.map(u => [u.getAttribute('data-operand'), u.getAttribute('data-index')])")
        return {tuple(cell) for cell in cells}

    def close(self) -> None:
        self.tab.close()


def written(tmp_path: Path, name: str, **options) -> tuple[Path, object]:
    anim = make(name, **options)
    path = tmp_path / f"{name}.html"
    anim.to_html(path)
    return path, anim


def index_text(index) -> str:
    return ",".join(str(i) for i in index)


def drawn_cells(page: Page) -> set[tuple[str, str]]:
    return page.lit(".einviz-cells use[data-operand]")


def feeds_of(anim) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(operand, index) -> the output cells it feeds, drawn or not, read from the trace."""
    feeds: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for step in anim.trace:
        for n, i in zip(anim.trace.plan.names, step.indices):
            feeds.setdefault((n, index_text(i)), set()).add(("out", index_text(step.out_index)))
    return feeds


def info(page: Page) -> str:
    return page.tab.locator(".ez-info").inner_text().strip()


@pytest.mark.browser
@pytest.mark.parametrize("granularity", ["step", "cell", "auto"])
@pytest.mark.parametrize("name", ["matmul", "batched", "long-axis"])
def test_the_page_loads_without_console_errors(browser, tmp_path, name, granularity):
    path, anim = written(tmp_path, name, granularity=granularity, max_frames=40)
    page = Page(browser, path)
    assert page.visible_frames() == [0]
    page.tab.keyboard.press("End")
    assert page.visible_frames() == [anim.n_frames - 1]
    assert page.errors == []
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("name", ["matmul", "diagonal", "broadcast", "outer"])
def test_arrow_keys_step_through_frames_that_match_the_trace(browser, tmp_path, name):
    path, anim = written(tmp_path, name, granularity="step", max_frames=200)
    names = anim.trace.plan.names
    page = Page(browser, path)
    first_step = next(f.number for f in anim.frames if f.kind == "step")
    for _ in range(first_step):
        page.tab.keyboard.press("ArrowRight")
    drawn = drawn_cells(page)
    for number in range(first_step, anim.n_frames - 1):
        assert page.visible_frames() == [number]
        frame = page.tab.locator(f'.einviz-frame[data-frame="{number}"]')
        first, last = map(int, frame.get_attribute("data-steps").split("-"))
        assert first == last
        step = anim.trace[first]
        expected = {(n, index_text(i)) for n, i in zip(names, step.indices)}
        expected.add(("out", index_text(step.out_index)))
        lit = page.lit(f'.einviz-frame[data-frame="{number}"] use[data-operand][data-role="lit"]')
        assert lit == expected & drawn
        caption = page.tab.locator(".ez-info").inner_text()
        out_ref = f"out[{index_text(step.out_index)}]" if step.out_index else "out"
        alone = len(anim.trace.cell_steps(step.out_index)) == 1  # a one-term sum is no sum
        assert caption.startswith(f"{out_ref} = " if alone else f"{out_ref} += ")
        assert caption.rstrip().endswith(format_value(step.running_sum))
        page.tab.keyboard.press("ArrowRight")
    page.tab.keyboard.press("ArrowLeft")
    assert page.visible_frames() == [anim.n_frames - 2]
    page.tab.keyboard.press("Home")
    assert page.visible_frames() == [0]
    assert page.errors == []
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("name", ["matmul", "row-sums", "diagonal", "trace", "broadcast", "batched",
                                  "long-axis"])
def test_hovering_an_output_cell_lights_exactly_its_contributing_cells(browser, tmp_path, name):
    path, anim = written(tmp_path, name)
    names = anim.trace.plan.names
    page = Page(browser, path)
    drawn = drawn_cells(page)
    for index in anim.scene.finals:
        cell = f'.einviz-cells use[data-operand="out"][data-index="{index_text(index)}"]'
        page.tab.hover(cell)
        steps = anim.trace.cell_steps(index)
        expected = {(n, index_text(i)) for s in anim.trace.steps(steps.start, steps.stop)
                    for n, i in zip(names, s.indices)}
        lit = page.lit(".einviz-hover use")
        assert lit == (expected & drawn) | {("out", index_text(index))}
        info = page.tab.locator(".ez-info").inner_text()
        assert info.rstrip().endswith("= " + format_value(anim.trace.result[index]))
    assert page.errors == []
    page.close()


@pytest.mark.browser
def test_while_hovering_only_the_hovered_sum_is_lit(browser, tmp_path):
    path, anim = written(tmp_path, "matmul")
    page = Page(browser, path)
    shown = ("els => els.filter(e => getComputedStyle(e).visibility === 'visible')"
             ".map(e => e.getAttribute('data-index'))")
    on = ".einviz-frame.einviz-on use[data-role='lit']"
    step = next(f for f in anim.frames if f.kind == "step")
    for _ in range(step.number):
        page.tab.keyboard.press("ArrowRight")
    assert len(page.tab.eval_on_selector_all(on, shown)) == 3  # a step frame: A, B and out lit
    page.tab.hover('.einviz-cells use[data-operand="out"][data-index="1,2"]')
    assert page.tab.eval_on_selector_all(on, shown) == []
    assert page.tab.eval_on_selector_all(".einviz-hover use", shown)
    page.tab.mouse.move(1, 1)
    assert len(page.tab.eval_on_selector_all(on, shown)) == 3
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("name", ["matmul", "batched"])
def test_playing_holds_each_intro_frame_for_its_reading_time(browser, tmp_path, name):
    path, anim = written(tmp_path, name, granularity="auto")
    table = anim.scene.frame_table()
    intro = [row for row in table if row["kind"] == "intro"]
    assert intro and all(row["hold"] > 0 for row in intro)
    page = Page.__new__(Page)
    page.tab = browser.new_page(viewport={"width": 1000, "height": 900})
    page.errors = []
    page.tab.clock.install()  # a fake clock: the test waits no real time
    page.tab.goto(path.as_uri())
    fastest = max(page.tab.eval_on_selector_all(".ez-speed option", "os => os.map(o => +o.value)"))
    page.tab.select_option(".ez-speed", str(fastest))
    page.tab.click(".ez-play")
    for row in intro:  # the intro frames come first, one after another
        number = row["frame"]
        assert page.visible_frames() == [number]
        # At the fastest speed the frame's duration is shorter than its hold: the hold wins.
        assert row["duration"] / fastest < row["hold"]
        page.tab.clock.run_for(int(row["hold"] * 1000) - 50)
        assert page.visible_frames() == [number]
        page.tab.clock.run_for(50)
        assert page.visible_frames() == [number + 1]
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("name", ["matmul", "diagonal", "broadcast", "outer"])
def test_hovering_an_input_cell_lights_the_output_cells_it_feeds(browser, tmp_path, name):
    path, anim = written(tmp_path, name)
    feeds = feeds_of(anim)
    page = Page(browser, path)
    for operand, index in sorted(drawn_cells(page)):
        if operand == "out":
            continue
        page.tab.hover(f'.einviz-cells use[data-operand="{operand}"][data-index="{index}"]')
        assert page.lit(".einviz-hover use[data-operand=out]") == feeds.get((operand, index), set())
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize(("name", "granularity"), [
    ("cut-matmul", "cell"), ("cut-matmul", "step"), ("cut-outer", "auto"),
    ("cut-broadcast", "auto"), ("sampled", "auto"), ("matmul", "auto"), ("diagonal", "auto"),
    ("no-steps", "auto")])
def test_hovering_an_input_cell_counts_the_output_cells_it_feeds_hidden_ones_too(
        browser, tmp_path, name, granularity):
    path, anim = written(tmp_path, name, granularity=granularity)
    if name == "sampled":
        assert anim.granularity == "teach"
    feeds = feeds_of(anim)
    page = Page(browser, path)
    drawn = drawn_cells(page)
    hidden_seen = False
    for operand, index in sorted(drawn):
        if operand == "out":
            continue
        page.tab.hover(f'.einviz-cells use[data-operand="{operand}"][data-index="{index}"]')
        fed = feeds.get((operand, index), set())
        shown = fed & drawn
        assert page.lit(".einviz-hover use[data-operand=out]") == shown
        said = re.fullmatch(r"(\S+) feeds (no|one|\d+) output cells?(?: \(.*\))?(?:: (.*))?",
                            info(page))
        assert said, info(page)
        assert said.group(1) == f"{operand}[{index}]"
        assert said.group(2) == {0: "no", 1: "one"}.get(len(fed), str(len(fed)))
        if not fed:
            continue
        listed, _, hidden = said.group(3).partition(" and ")
        hidden = hidden or (said.group(3) if listed.endswith("hidden in …") else "")
        listed = "" if listed.endswith("hidden in …") else listed
        assert {("out", ref[4:-1]) for ref in listed.split(", ") if ref} == shown
        count = re.fullmatch(r"(\d+|all|it is) hidden in …", hidden) if hidden else None
        assert (count is not None) == (len(fed) > len(shown)), said.group(3)
        if count and count.group(1).isdigit():
            assert int(count.group(1)) == len(fed) - len(shown)
        hidden_seen |= len(fed) > len(shown)
    assert hidden_seen == name.startswith(("cut", "sampled"))
    assert page.errors == []
    page.close()


@pytest.mark.browser
def test_a_scalar_output_is_called_out_without_brackets(browser, tmp_path):
    path, _ = written(tmp_path, "total")
    page = Page(browser, path)
    page.tab.hover('.einviz-cells use[data-operand="A"][data-index="1,2"]')
    assert info(page) == "A[1,2] feeds one output cell: out"
    out = page.tab.locator('.einviz-cells use[data-operand="out"]')
    assert out.get_attribute("aria-label") == "out: show its sum"
    out.hover()
    assert info(page).startswith("out = Σ_{i,j} A[i,j]\n= ")  # as the cell frames write it
    assert page.errors == []
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("name", ["matmul", "cut-matmul"])
def test_moving_off_a_cell_to_blank_space_in_the_figure_clears_the_hover(browser, tmp_path, name):
    path, _ = written(tmp_path, name)
    page = Page(browser, path)
    page.tab.keyboard.press("End")
    caption = info(page)
    # Points of the figure on no cell: gaps between cells, the code panel, the caption, margins.
    blank = page.tab.eval_on_selector(".ez-fig svg", """svg => {
        const r = svg.getBoundingClientRect(), points = [];
        for (let y = r.top + 2; y < r.bottom - 2; y += 5)
          for (let x = r.left + 2; x < r.right - 2; x += 5) {
            const e = document.elementFromPoint(x, y);
            if (e && svg.contains(e) && !e.closest('.einviz-cells use[data-operand]'))
              points.push([x, y]);
          }
        return points;
    }""")
    assert len(blank) > 100
    for operand, index in [("out", "0,1"), ("A", "0,1"), ("B", "1,0")]:
        box = page.tab.locator(
            f'.einviz-cells use[data-operand="{operand}"][data-index="{index}"]').bounding_box()
        centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        nearest = min(blank, key=lambda p: (p[0] - centre[0]) ** 2 + (p[1] - centre[1]) ** 2)
        lowest = max(blank, key=lambda p: p[1])
        for x, y in (nearest, lowest, blank[len(blank) // 2]):
            page.tab.mouse.move(*centre)
            root = page.tab.locator(".einviz-player")
            assert root.get_attribute("data-hover") == f"{operand}:{index}"
            assert page.lit(".einviz-hover use")
            page.tab.mouse.move(x, y)
            assert root.get_attribute("data-hover") is None, (x, y)
            assert page.lit(".einviz-hover use") == set()
            assert info(page) == caption
    assert page.errors == []
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("name", ["cut-matmul", "four-operands", "batched"])
def test_on_a_phone_the_page_never_scrolls_sideways_and_the_figure_stays_readable(
        browser, tmp_path, name):
    if name == "four-operands":
        anim = animate("ab,bc,cd,de->ae", shapes=[(2, 2), (2, 3), (3, 2), (2, 2)])
        path = tmp_path / "four.html"
        anim.to_html(path)
    else:
        path, anim = written(tmp_path, name)
    page = Page(browser, path, width=360)
    page.tab.eval_on_selector_all("details", "ds => ds.forEach(d => { d.open = true; })")
    page.tab.keyboard.press("End")
    page.tab.hover('.einviz-cells use[data-operand="out"]')  # the longest text: a whole sum
    width = page.tab.evaluate("document.documentElement.clientWidth")
    assert width == 360
    assert page.tab.evaluate("document.documentElement.scrollWidth") <= width
    controls = ".ez-bar button, .ez-bar input, .ez-bar select, .ez-count"
    for control in page.tab.locator(controls).all():
        box = control.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    # Nothing is cut: the whole figure fits the screen (the caption, the code, every column).
    drawn = page.tab.eval_on_selector(".ez-fig svg", "s => s.getBoundingClientRect().toJSON()")
    assert drawn["left"] >= 0 and drawn["right"] <= width
    fig = page.tab.eval_on_selector(".ez-fig", "f => [f.clientWidth, f.scrollWidth, "
                                    "f.getBoundingClientRect().right]")
    assert fig[2] <= width and fig[1] <= fig[0]
    # The zoom button shows it at a readable scale, scrolling inside its own box.
    page.tab.click(".ez-zoom")
    drawn = page.tab.eval_on_selector(".ez-fig svg", "s => s.getBoundingClientRect().width")
    assert drawn >= anim.scene.width * MIN_SCALE - 1
    fig = page.tab.eval_on_selector(".ez-fig", "f => [f.clientWidth, f.scrollWidth, "
                                    "f.getBoundingClientRect().right]")
    assert fig[2] <= width and fig[1] > fig[0]
    assert page.tab.evaluate("document.documentElement.scrollWidth") <= width
    assert page.errors == []
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("subscripts, shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 2, 2)]),
    ("bhqd,bhkd->bhqk", [(2, 4, 8, 16)] * 2),  # a figure far taller than the screen
])
def test_on_a_laptop_the_controls_show_without_scrolling(browser, tmp_path, subscripts, shapes):
    anim = animate(subscripts, shapes=shapes)
    path = tmp_path / "player.html"
    anim.to_html(path)
    tab = browser.new_page(viewport={"width": 1280, "height": 800})
    tab.goto(path.as_uri())
    for control in tab.locator(".ez-bar button, .ez-bar input, .ez-bar select").all():
        box = control.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 800, (subscripts, box)
    assert tab.evaluate("window.scrollY") == 0
    tab.close()


@pytest.mark.browser
@pytest.mark.parametrize("name", ["matmul", "batched", "broadcast"])
def test_hovering_a_cell_rewrites_the_caption_and_loop_values_to_match(browser, tmp_path, name):
    path, anim = written(tmp_path, name)
    plan = anim.trace.plan
    page = Page(browser, path)
    for _ in range(5):
        page.tab.keyboard.press("ArrowRight")  # a step frame, with its own caption and values
    shown = ("els => els.filter(e => getComputedStyle(e).visibility === 'visible')"
             ".map(e => e.textContent)")
    words = ".einviz-hover-words text"
    code = anim.scene.code
    value_y = {label: code.line_y(line) for label, line in code.label_lines.items()}
    for index in list(anim.scene.finals)[:3]:
        page.tab.hover(f'.einviz-cells use[data-operand="out"][data-index="{index_text(index)}"]')
        assert page.tab.eval_on_selector_all(".einviz-frame.einviz-on text", shown) == []
        texts = page.tab.eval_on_selector_all(
            words, "ts => ts.map(t => [t.getAttribute('class'), +t.getAttribute('y'), t.textContent])")
        caption = [text for cls, _, text in texts if cls == "c"]
        assert caption[0].startswith(f"out[{index_text(index)}] = ")
        assert caption[-1].strip().endswith("= " + format_value(anim.trace.result[index]))
        values = {y: text for cls, y, text in texts if cls == "k"}
        for label, y in value_y.items():
            if label in plan.output:
                assert values[y] == str(index[plan.output.index(label)])
            else:  # a summed label runs over all its values
                assert values[y] == f"0–{plan.sizes[label] - 1}"
    # An input cell: its own labels' values, the others' whole ranges.
    page.tab.hover('.einviz-cells use[data-operand="A"][data-index="1,0"]'
                   if name != "batched" else '.einviz-cells use[data-operand="A"][data-index="1,1,0"]')
    texts = page.tab.eval_on_selector_all(words, "ts => ts.map(t => t.textContent)")
    assert texts[0].startswith("A[1,") and " feeds " in texts[0]
    page.tab.mouse.move(1, 1)
    assert page.tab.eval_on_selector_all(words, "ts => ts.length") == 0
    assert page.tab.eval_on_selector_all(".einviz-frame.einviz-on text", shown)
    assert page.errors == []
    page.close()


@pytest.mark.browser
def test_focus_shows_a_sum_and_the_controls_have_names(browser, tmp_path):
    path, anim = written(tmp_path, "matmul")
    page = Page(browser, path)
    page.tab.focus('.einviz-cells use[data-operand="out"][data-index="1,2"]')
    assert page.tab.locator(".ez-info").inner_text().startswith("out[1,2] = ")
    for control in page.tab.locator(".ez-bar button, .ez-bar input, .ez-bar select").all():
        assert control.get_attribute("aria-label")
    page.tab.locator(".ez-last").click()
    assert page.visible_frames() == [anim.n_frames - 1]
    page.tab.locator(".ez-first").click()
    page.tab.locator(".ez-next").click()
    assert page.visible_frames() == [1]
    page.tab.locator(".ez-scrub").fill("5")
    assert page.visible_frames() == [5]
    page.tab.locator(".ez-speed").select_option("4")
    page.tab.locator(".ez-scrub").fill(str(anim.n_frames - 4))  # past the long opening frames
    page.tab.locator(".ez-play").click()
    assert page.tab.locator(".einviz-player").get_attribute("data-playing") == "true"
    page.tab.wait_for_function("document.querySelector('.einviz-player').dataset.playing === 'false'",
                               timeout=10_000)
    assert page.visible_frames() == [anim.n_frames - 1]
    assert page.errors == []
    page.close()


@pytest.mark.browser
def test_two_players_on_one_page_never_interfere(browser, tmp_path):
    first, second = make("matmul"), make("matmul")
    path = tmp_path / "two.html"
    path.write_text(f"<!DOCTYPE html><html><body>{first._repr_html_()}{second._repr_html_()}"
                    "</body></html>", encoding="utf-8")
    page = Page(browser, path)
    players = page.tab.locator(".einviz-player")
    one, two = (f"#{players.nth(k).get_attribute('id')}" for k in (0, 1))
    page.tab.focus(one)
    for _ in range(3):
        page.tab.keyboard.press("ArrowRight")
    assert page.visible_frames(one) == [3] and page.visible_frames(two) == [0]
    page.tab.hover(f'{two} .einviz-cells use[data-operand="out"][data-index="0,0"]')
    assert page.lit(f"{one} .einviz-hover use") == set()
    assert page.lit(f"{two} .einviz-hover use")
    assert page.errors == []
    page.close()


@pytest.mark.browser
def test_the_animated_svg_plays_alone_and_inside_an_img(browser, tmp_path):
    anim = make("row-sums", granularity="step")
    svg = anim.to_svg()
    (tmp_path / "a.svg").write_text(svg, encoding="utf-8")
    data = base64.b64encode(svg.encode()).decode()
    (tmp_path / "img.html").write_text(
        f'<!DOCTYPE html><html><body style="margin:0"><img src="data:image/svg+xml;base64,{data}">'
        "</body></html>", encoding="utf-8")
    pages = [Page(browser, tmp_path / "a.svg"), Page(browser, tmp_path / "img.html")]
    seen: list[set[bytes]] = [set(), set()]
    # The opening frame holds for seconds; watch until each view has changed its picture.
    opening = anim.frames[0].duration
    for _ in range(int(opening / 0.4) + 6):
        for view, page in zip(seen, pages):
            view.add(page.tab.screenshot(clip={"x": 0, "y": 0, "width": 700, "height": 460}))
        if all(len(view) >= 2 for view in seen):
            break
        pages[0].tab.wait_for_timeout(400)
    assert [len(view) >= 2 for view in seen] == [True, True]
    for page in pages:
        assert page.errors == []
        page.close()


def test_player_data_is_valid_json():
    html = make("batched").player_html()
    block = re.search(r'<script type="application/json" class="ez-data">(.*?)</script>', html, re.S)
    data = json.loads(block.group(1))
    assert len(data["frames"]) == make("batched").n_frames
    assert [o["term"] for o in data["operands"]] == [list("bij"), list("bjk")]


@pytest.mark.browser
def test_every_corpus_expression_plays_without_errors_on_one_page(browser, tmp_path):
    from corpus import CORPUS

    rng = np.random.default_rng(0)
    fragments = []
    for subscripts, shapes in CORPUS.values():
        operands = [rng.integers(-3, 6, size=shape) for shape in shapes]
        fragments.append(animate(subscripts, *operands, max_frames=30).player_html())
    path = tmp_path / "corpus.html"
    path.write_text(f"<!DOCTYPE html><html><body>{''.join(fragments)}</body></html>", encoding="utf-8")
    page = Page(browser, path)
    ids = page.tab.eval_on_selector_all(".einviz-player", "ps => ps.map(p => p.id)")
    assert len(ids) == len(CORPUS)
    for own in ids:
        page.tab.focus(f"#{own}")
        page.tab.keyboard.press("End")
        last = page.tab.locator(f"#{own}").get_attribute("data-frame")
        assert page.visible_frames(f"#{own}") == [int(last)]
        cells = page.tab.locator(f"#{own} .einviz-cells use[data-operand]")
        if cells.count():
            cells.first.hover()
    assert page.errors == []
    page.close()


def test_the_script_and_the_style_are_the_package_files_read_at_render_time():
    from importlib.resources import files

    import einviz.render.html as html_module

    anim = make("matmul")
    page = anim.to_html()
    script = files("einviz.render").joinpath("player.js").read_text(encoding="utf-8")
    style = files("einviz.render").joinpath("player.css").read_text(encoding="utf-8")
    assert script.rstrip() + f"(document.getElementById({json.dumps(anim.id)}));" in page
    assert style.replace("#P", f"#{anim.id}") in page
    source = Path(html_module.__file__).read_text(encoding="utf-8")
    assert "function (root)" not in source and "#P{" not in source


# -- a diagram panel beside the figure ----------------------------------------------------------
def hand_made_panel(n_steps: int, note: str = "") -> Panel:
    """A panel as the diagram views make them: one ``g.einviz-step`` a step, hidden until lit."""
    height = 40 + 14 * n_steps
    groups = "".join(f'<g class="einviz-step" data-step="{t}"><text x="10" y="{24 + 14 * t}">'
                     f"step {t}</text></g>" for t in range(n_steps))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" id="hand-panel" width="220" height="{height}">'
           "<style>#hand-panel .einviz-step{visibility:hidden}"
           "#hand-panel .einviz-step.einviz-on{visibility:visible}</style>"
           f'<rect width="220" height="{height}" fill="#eef"/>{groups}</svg>')
    return Panel("network", svg, 220, height, note)


def test_in_a_notebook_the_panel_is_an_image_too():
    anim = make("row-sums", granularity="step")
    html = player(anim.scene, anim.trace, "nb", embed="image",
                  panel=hand_made_panel(len(anim.trace), note="drawn <by hand>"))
    assert "<svg" not in html and html.count('<img src="data:image/svg+xml;base64,') == 2
    # The panel's picture writes its own note: the page does not say it twice.
    assert "by hand" not in html


def lit_steps(page: Page) -> list[int]:
    return page.tab.eval_on_selector_all(
        ".ez-panel g.einviz-step",
        "gs => gs.filter(g => getComputedStyle(g).visibility === 'visible')"
        ".map(g => +g.getAttribute('data-step'))")


@pytest.mark.browser
@pytest.mark.parametrize("embed", ["inline", "image"])
def test_each_frame_lights_the_panel_at_its_last_step(browser, tmp_path, embed):
    anim = make("row-sums", granularity="step")
    panel = hand_made_panel(len(anim.trace))
    path = tmp_path / "panel.html"
    if embed == "inline":
        path.write_text(page_html(anim.scene, anim.trace, "pp", panel=panel), encoding="utf-8")
    else:
        fragment = player(anim.scene, anim.trace, "pp", embed="image", panel=panel)
        path.write_text(f"<!DOCTYPE html><html><body>{fragment}</body></html>", encoding="utf-8")
    page = Page(browser, path, width=1200)
    page.tab.focus("#pp")
    seen = []
    for k, frame in enumerate(anim.frames):
        if k:
            page.tab.keyboard.press("ArrowRight")
        assert page.visible_frames() == [k]
        # The frame's last step is lit (none before or after the loops).
        expected = [frame.steps[-1]] if frame.kind != "final" and len(frame.steps) else []
        assert lit_steps(page) == expected, (k, frame.kind)
        seen += expected
    assert seen == list(range(len(anim.trace)))  # a frame a step: every step lit in turn
    page.tab.keyboard.press("Home")
    assert lit_steps(page) == []  # the opening frame
    page.tab.keyboard.press("ArrowRight")
    while not len(anim.frames[int(page.tab.get_attribute("#pp", "data-frame"))].steps):
        page.tab.keyboard.press("ArrowRight")
    before = lit_steps(page)
    page.tab.hover('#pp .einviz-cells use[data-operand="out"][data-index="1"]')
    assert page.lit("#pp .einviz-hover use") and lit_steps(page) == before  # hover leaves it be
    page.tab.screenshot(path=str(tmp_path / f"panel-{embed}.png"))
    assert page.errors == []
    page.close()


@pytest.mark.browser
def test_the_panel_sits_beside_the_figure_or_under_it_on_a_narrow_screen(browser, tmp_path):
    anim = make("matmul")
    path = tmp_path / "panel.html"
    path.write_text(page_html(anim.scene, anim.trace, "pp", panel=hand_made_panel(24)),
                    encoding="utf-8")
    for width, beside in ((1300, True), (420, False)):
        page = Page(browser, path, width=width)
        figure = page.tab.locator("#pp .ez-fig svg").bounding_box()
        drawn = page.tab.locator("#pp .ez-panel svg").bounding_box()
        if beside:
            assert drawn["x"] >= figure["x"] + figure["width"] and drawn["y"] < figure["y"] + figure["height"]
        else:
            assert drawn["y"] >= figure["y"] + figure["height"]
            assert drawn["x"] + drawn["width"] <= width
        assert page.tab.evaluate("document.documentElement.scrollWidth") <= width
        page.tab.screenshot(path=str(tmp_path / f"panel-{width}.png"), full_page=True)
        page.close()


def test_two_displays_of_one_panel_on_a_page_have_their_own_ids():
    anim = make("row-sums", granularity="step")
    drawn = hand_made_panel(len(anim.trace))
    panel = Panel(drawn.kind, drawn.svg, drawn.width, drawn.height, id="hand-panel")
    first, second = (player(anim.scene, anim.trace, prefix, panel=panel) for prefix in ("p1", "p2"))
    assert 'id="p1-panel"' in first and "#p1-panel .einviz-step" in first and "hand-panel" not in first
    assert 'id="p2-panel"' in second and "p1-panel" not in second


@pytest.mark.browser
def test_the_panels_output_values_fill_in_as_the_grids_do(browser, tmp_path):
    anim = animate("bij,bjk->bik", np.arange(12).reshape(2, 2, 3), np.arange(12).reshape(2, 3, 2),
                   granularity="step", panel="blocks")
    path = tmp_path / "blocks.html"
    anim.to_html(path)
    page = Page(browser, path, width=1300)
    page.tab.focus(".einviz-player")
    shown = ("gs => gs.filter(g => getComputedStyle(g).visibility === 'visible')"
             ".map(g => +g.getAttribute('data-step'))")
    reached = -1
    for k, frame in enumerate(anim.frames):
        if k:
            page.tab.keyboard.press("ArrowRight")
        reached = len(anim.trace) if frame.kind == "final" else frame.steps[-1] if len(frame.steps) else reached
        visible = page.tab.eval_on_selector_all(".ez-panel g.einviz-done", shown)
        assert sorted(visible) == [s for s in anim.panel.done if s <= reached], k
    page.tab.keyboard.press("Home")
    assert page.tab.eval_on_selector_all(".ez-panel g.einviz-done", shown) == []
    assert page.errors == []


@pytest.mark.browser
@pytest.mark.parametrize(("subscripts", "shapes"), [("ij,jk->ik", [(3, 4), (4, 3)]), ("ij->i", [(3, 4)])])
def test_the_animated_svg_shows_each_frames_marks_in_its_time(browser, subscripts, shapes):
    # Marks held over several frames (an output cell's terms, the terms added already) are
    # drawn once; at every frame's time exactly that frame's marks must show, as frame_svg has.
    anim = animate(subscripts, shapes=shapes, granularity="step")
    starts = anim.scene.starts()
    tab = browser.new_page(viewport={"width": 700, "height": 700})
    tab.set_content(anim.to_svg())
    shown = ("[...document.querySelectorAll('use[data-role]')].filter(u => {"
             " for (let e = u; e && e.tagName !== 'svg'; e = e.parentElement) {"
             "  const s = getComputedStyle(e); if (s.opacity === '0' || s.visibility === 'hidden') return false; }"
             " return true; }).map(u => [u.dataset.role, u.dataset.operand, u.dataset.index].join(' '))")
    for number, frame in enumerate(anim.frames):
        at = (starts[number] + 0.1) * 1000
        tab.evaluate(f"document.getAnimations().forEach(a => {{ a.pause(); a.currentTime = {at}; }})")
        expected = {f"{m.role} {m.operand} {','.join(map(str, m.index))}" for m in frame.marks}
        assert set(tab.evaluate(shown)) == expected, (number, frame.kind)
    tab.close()
