"""The notebook displays of the result objects: one small, escaped HTML table each.

``Equation``, ``LoopPlan``, ``Trace`` and ``Calls`` each gather their own rows (text, as in
their text reprs) and hand them here, so this module knows nothing of einsum and imports
nothing of einviz. Every piece of text is HTML-escaped: subscripts, file names and values come
from a user's program, and a notebook renders what it is given. Styles are inline attributes
(a notebook's sanitizer keeps those longer than a ``<style>`` element) and monospace, so the
columns line up as in the text repr.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["table_html"]

_TABLE = 'class="{css}" style="border-collapse:collapse;font-family:monospace;font-size:0.9em"'
_CAPTION = 'style="text-align:left;caption-side:top;font-weight:bold;padding-bottom:0.3em"'
_CELL = 'style="text-align:{align};padding:0.1em 0.7em;white-space:pre"'
_NOTE = 'style="text-align:left;padding:0.3em 0.7em;white-space:pre-wrap;font-weight:normal"'


def table_html(
    css: str,
    caption: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    notes: Sequence[str] = (),
    numeric: Sequence[int] = (),
) -> str:
    """An HTML table, every text escaped.

    Args:
        css: the table's class (``einviz-plan``, …), for a page that styles it.
        caption: the title line (as the first line of the text repr).
        columns: the column headings.
        rows: the cells, one sequence per row (each cell written with ``str``).
        notes: lines under the table (totals, how to get more).
        numeric: the columns to right-align.

    >>> print(table_html("x", "<b>", ["a"], [[1]], notes=["n & m"]))  # doctest: +ELLIPSIS
    <table class="x" ...><caption ...>&lt;b&gt;</caption><thead><tr><th ...>a</th></tr></thead><tbody><tr><td ...>1</td></tr></tbody><tfoot><tr><td colspan="1" ...>n &amp; m</td></tr></tfoot></table>
    """
    def cell(tag: str, k: int, text: object) -> str:
        align = "right" if k in numeric else "left"
        return f"<{tag} {_CELL.format(align=align)}>{html.escape(str(text))}</{tag}>"

    head = "".join(cell("th", k, name) for k, name in enumerate(columns))
    body = "".join("<tr>" + "".join(cell("td", k, text) for k, text in enumerate(row)) + "</tr>"
                   for row in rows)
    foot = "".join(f'<tr><td colspan="{max(len(columns), 1)}" {_NOTE}>{html.escape(note)}</td></tr>'
                   for note in notes)
    return (f"<table {_TABLE.format(css=html.escape(css))}><caption {_CAPTION}>"
            f"{html.escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            + (f"<tfoot>{foot}</tfoot>" if foot else "") + "</table>")
