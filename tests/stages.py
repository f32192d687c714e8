"""Count the work each pipeline stage does: the one helper behind every "parses, binds and
explains once" test (issue 12)."""

from __future__ import annotations

from collections import Counter

import pytest

from einviz.explaining import Explanation
from einviz.planning import LoopPlan
from einviz.subscripts import Equation


def count_stages(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """From here on, count the Equations made (``parse``), the LoopPlans (``bind``) and the
    Explanations (``explain``), whoever makes them and however (parse builds its checked
    Equations through ``Equation._parsed``, which skips ``__init__``); ``made.sources`` lists
    the text of each equation parsed."""
    made: Counter = Counter()
    made.sources = []  # the text of each equation parse made, in order
    for cls, key in ((Equation, "parse"), (LoopPlan, "bind"), (Explanation, "explain")):
        def counted(self, *args, _init=cls.__init__, _key=key, **kwargs):
            made[_key] += 1
            _init(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", counted)
    parsed = Equation._parsed.__func__  # type: ignore[attr-defined]

    def counted_parsed(cls, *args, **kwargs):
        made["parse"] += 1
        equation = parsed(cls, *args, **kwargs)
        made.sources.append(equation.source)
        return equation

    monkeypatch.setattr(Equation, "_parsed", classmethod(counted_parsed))
    return made
