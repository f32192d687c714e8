"""The renderer over everything the strategies draw: it never crashes, its SVG parses, and
the cells each frame lights are the cells of the steps the frame says it covers."""

import xml.etree.ElementTree as ET

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import einviz
from einviz.testing import einsum_problems

SVG = "{http://www.w3.org/2000/svg}"


def lit_cells(group):
    return {(el.get("data-operand"), el.get("data-index"))
            for el in group.iter() if el.get("data-operand") and el.get("data-index") is not None}


@given(einsum_problems(max_operands=3, max_steps=200, complex_dtypes=False),
       st.sampled_from(["step", "cell", "auto"]))
@settings(max_examples=40)
def test_any_problem_renders_and_frames_light_their_steps(problem, granularity):
    subscripts, operands = problem
    animation = einviz.animate(subscripts, *operands, granularity=granularity, max_frames=40)
    root = ET.fromstring(animation.to_svg())
    trace = einviz.trace(subscripts, *operands)
    names = trace.plan.names
    cut = any(el.get("data-values") for el in root.iter())
    for group in root.iter(f"{SVG}g"):
        if "einviz-frame" not in (group.get("class") or "").split():
            continue
        if not group.get("data-steps") or cut:
            continue  # an opening or final frame, or an axis cut short: see test_render
        first, last = (int(x) for x in group.get("data-steps").split("-"))
        expected = set()
        for step in trace.steps(first, last + 1):
            for name, index in zip(names, step.indices):
                expected.add((name, ",".join(map(str, index))))
        assert expected <= lit_cells(group), (subscripts, group.get("data-frame"))
    assert np.asarray(trace.result).shape == trace.plan.out_shape
