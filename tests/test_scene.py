"""The scene (einviz.render.scene): built from a trace and the explanation it is given, bounded
by the limits before anything is drawn, and drawn without reading English."""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

import numpy as np
import pytest
from stages import count_stages

import einviz
from einviz.errors import LimitError
from einviz.explaining import Sentence, explain
from einviz.planning import plan
from einviz.render.scene import build_scene, check_figure
from einviz.tracing import trace

RENDER = Path(importlib.import_module("einviz.render").__file__).parent


def test_the_scene_shows_the_explanation_it_is_given() -> None:
    traced = trace("ij->i", np.arange(6).reshape(2, 3))
    given = explain(traced.plan)
    told = dataclasses.replace(given, sentences=[
        Sentence("Only j is summed here.", ("j",), "summed", ((5, 6),)),
        Sentence("In plain numpy: A.sum(1)", (), "numpy"),
    ])
    scene = build_scene(traced, explanation=told)
    intro = [f for f in scene.frames if f.kind == "intro"]
    assert [f.caption_text() for f in intro] == [["Only j is summed here."]]
    assert intro[0].labels == ("j",)
    assert [span.text for span in intro[0].caption[0] if span.label] == ["j"]
    assert scene.frames[-1].caption_text()[-1] == "In plain numpy: A.sum(1)"


@pytest.mark.parametrize("call", [
    lambda: einviz.animate("ij,jk->ik", np.ones((2, 3)), np.ones((3, 4))).to_html(),
    lambda: einviz.animate("ij,jk->ik", shapes=[(2, 3), (3, 4)]).to_html(),
    lambda: einviz.animate("ij->i", sizes={"i": 3}).player_html(),
], ids=["operands", "shapes", "sizes"])
def test_one_animation_parses_binds_and_explains_once(monkeypatch, call) -> None:
    counts = count_stages(monkeypatch)
    call()
    assert counts == {"parse": 1, "bind": 1, "explain": 1}


def test_a_plan_or_a_trace_is_not_parsed_or_bound_again(monkeypatch) -> None:
    loop_plan = plan("ij,jk->ik", shapes=[(2, 3), (3, 4)])
    traced = trace("ij,jk->ik", np.ones((2, 3)), np.ones((3, 4)))
    given = explain(traced.plan)
    counts = count_stages(monkeypatch)
    einviz.animate(loop_plan)
    einviz.animate(loop_plan, np.ones((2, 3)), np.ones((3, 4)))
    assert counts == {"explain": 2}
    einviz.animate(traced, explanation=given).to_html()
    build_scene(traced, explanation=given)
    assert counts == {"explain": 2}


def _imports(path: Path) -> list[str]:
    """Every module a file imports when it runs, at its top or inside a function, made
    absolute (``if TYPE_CHECKING:`` blocks name types for the checker only: not counted)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "einviz.render" if node.level == 1 else "einviz" if node.level == 2 else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found += [module] + [f"{module}.{alias.name}" for alias in node.names]
    return found


@pytest.mark.parametrize("path", sorted(RENDER.glob("*.py")), ids=lambda p: p.name)
def test_the_renderers_import_no_stage_below_them_and_read_no_english(path: Path) -> None:
    below = ("einviz.animation", "einviz.paths", "einviz.capture", "einviz.recording",
             "einviz.backends", "einviz.cli")
    imported = _imports(path)
    assert not [name for name in imported if name.startswith(below)]
    assert "re" not in imported  # structure comes from explain's sentences, never a regex


def test_the_figure_limits_are_checked_from_the_plan_alone() -> None:
    with pytest.raises(LimitError, match=r"A has 17 dimensions, more than the 16 a figure draws"):
        check_figure(plan("abcdefghijklmnopq->a", shapes=[(1,) * 17]))
    with pytest.raises(LimitError, match=r"would draw 16,385 grid cells even with its axes cut short, "
                                         r"more than the limit of 10,000"):
        check_figure(plan("a" * 14, shapes=[(2,) * 14]))
    with pytest.raises(LimitError, match=r"262,148 frames, more than the limit of 10,000"):
        check_figure(plan("ij,jk->ik", shapes=[(64, 64)] * 2), max_frames=10**12)
    check_figure(plan("ij,jk->ik", shapes=[(2, 2)] * 2), max_frames=10**12)  # 12 frames at most
    with einviz.limits(max_drawn_cells=20_000, max_frames=300_000):
        check_figure(plan("a" * 14, shapes=[(2,) * 14]))
        check_figure(plan("ij,jk->ik", shapes=[(64, 64)] * 2), max_frames=10**12)


def test_build_scene_keeps_the_limits_too() -> None:
    with pytest.raises(LimitError, match="grid cells"), einviz.limits(max_drawn_cells=10):
        build_scene(trace("ij->i", np.ones((4, 4))))
