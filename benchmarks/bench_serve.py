"""The playground's speed (issue 15): server-side time per update against ``einviz.animate``
alone, for every problem of the gallery, and the figure's delay after the last keystroke.

1. Server side, per gallery pattern: ``animate(...)`` alone; ``update(state)``, what one
   request computes (the animation, its player fragment, the explanation, the contraction
   path for three operands or more); and a whole ``GET /api/update`` round trip to a live
   uvicorn server on 127.0.0.1 (JSON included). Medians of several runs.
2. In Chromium (playwright), per pattern: the time from the last keystroke in "Subscripts"
   to the new figure in the page, the page's debounce (``EZP_DEBOUNCE`` in playground.js)
   included. Requirement: at most 300 ms for every gallery pattern.

Exit status: 0 when the requirement is met, 1 otherwise.

Run: python benchmarks/bench_serve.py   (needs the serve extra and playwright's Chromium)
"""

from __future__ import annotations

import functools
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

import httpx  # noqa: E402
from gallery import PATTERNS  # noqa: E402

import einviz  # noqa: E402
from einviz.serve import State, update  # noqa: E402
from einviz.serve.launch import background  # noqa: E402

REQUIREMENT_MS = 300
RUNS = 7
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _shapes(shapes: list[tuple[int, ...]]) -> str:
    return ",".join("x".join(map(str, s)) if s else "scalar" for s in shapes)


def _median_ms(function) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def server_side(url: str) -> None:
    print(f"{'pattern':<18} {'animate':>9} {'update':>9} {'HTTP':>9}   (median ms of {RUNS})")
    with httpx.Client(base_url=url, timeout=60) as client:
        for name, (subscripts, shapes, _) in PATTERNS.items():
            state = State(subscripts, shapes=_shapes(shapes))
            alone = _median_ms(functools.partial(einviz.animate, subscripts, shapes=shapes))
            whole = _median_ms(functools.partial(update, state))
            http = _median_ms(functools.partial(client.get, "/api/update", params=state.to_dict()))
            print(f"{name:<18} {alone:9.1f} {whole:9.1f} {http:9.1f}")


# Type the subscripts but the last character, wait for that figure, then time the last key
# to the moment the page shows the new figure.
_WAIT_DRAWN = "q => document.querySelector('.ezp').getAttribute('data-state') === q"


def in_the_browser(url: str) -> float:
    from playwright.sync_api import sync_playwright

    debounce = re.search(r"EZP_DEBOUNCE = (\d+)",
                         (ROOT / "einviz/serve/static/playground.js").read_text()).group(1)
    print(f"\nlast keystroke to new figure in Chromium (debounce {debounce} ms included)")
    worst = 0.0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url)
        page.wait_for_selector(".ezp-figure .einviz-player svg")
        for name, (subscripts, shapes, _) in PATTERNS.items():
            page.get_by_label("Shapes").fill(_shapes(shapes))
            box = page.get_by_label("Subscripts")
            times = []
            for _ in range(3):
                box.fill(subscripts + ",")  # an error: the figure to come is a new one
                page.wait_for_selector(".ezp.ezp-stale")
                start = time.perf_counter()
                box.press("Backspace")
                page.wait_for_function(_WAIT_DRAWN, arg=State(subscripts, _shapes(shapes)).query())
                times.append(1000 * (time.perf_counter() - start))
            ms = statistics.median(times)
            worst = max(worst, ms)
            print(f"{name:<18} {ms:7.0f} ms")
        browser.close()
    return worst


def main() -> int:
    with background() as url:
        server_side(url)
        worst = in_the_browser(url)
    ok = worst <= REQUIREMENT_MS
    print(f"\nworst: {worst:.0f} ms; requirement: at most {REQUIREMENT_MS} ms -> {'OK' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
