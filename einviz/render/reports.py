"""The HTML pages einviz writes about einsums it did not draw itself: capture reports and
contraction-path fragments.

Nothing here computes: the caller hands over what the analysis stages found (the calls, their
explanations, the paths each library takes, the figures already drawn, the backend checks) and
this module lays it out. :func:`report_html` is the page :meth:`einviz.Calls.report` writes;
:func:`path_html` is the fragment :meth:`einviz.ContractionPath.to_html` returns.

Everything taken from a program or from the input (file names, subscripts, source lines, error
messages, titles) is HTML-escaped, and control characters are written as escapes, so a page
holds no raw NUL, ESC or other control byte. The pages load nothing from the network.
"""

from __future__ import annotations

import base64
import html
import itertools
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._words import duration, shapes_text, short_path

if TYPE_CHECKING:
    from ..paths import ContractionPath, PathStep
    from ..recording import CallGroup, Calls

__all__ = ["Figure", "Section", "Site", "StepFigure", "WayPath", "path_html", "report_html"]


@dataclass(frozen=True)
class Site:
    """One call site of a distinct einsum: ``file:line``, its function, calls, source line."""

    where: str
    caller: str
    count: int
    source: str


@dataclass(frozen=True)
class Figure:
    """A section's figure: ``kind`` is ``"player"`` (HTML), ``"svg"`` or ``"none"`` (then
    ``content`` says why); ``note`` says which operands it shows."""

    kind: str
    content: str
    note: str = ""


@dataclass(frozen=True)
class WayPath:
    """One way the calls of a distinct einsum were made, and the path that way takes.

    ``rule`` is :attr:`einviz.paths.LibraryPath.rule`; ``detail`` its detail; ``fragment``
    the path's HTML (:func:`path_html`), or ``error`` why there is none.
    """

    function: str
    setting: str
    calls: int
    rule: str
    detail: str | None
    fragment: str | None
    error: str | None = None


@dataclass(frozen=True)
class Section:
    """What the report says about one distinct einsum.

    ``explanation``, ``check``: the :class:`~einviz.Explanation` and the backend check (or the
    exception that stopped them; ``None``: left out). ``paths``: one :class:`WayPath` per way
    shown (``None`` below three operands); ``hidden_paths``: the ways not shown.
    """

    group: CallGroup
    sites: tuple[Site, ...]
    explanation: Any = None
    paths: tuple[WayPath, ...] | None = None
    ways: str = ""
    hidden_paths: int = 0
    figure: Figure | None = None
    check: Any = None
    check_note: str | None = None


_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;margin:0 auto;
max-width:64rem;padding:1rem clamp(.75rem,4vw,1.5rem) 4rem}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
pre{background:#f6f8fa;border-radius:.4rem;padding:.75rem 1rem;overflow-x:auto;white-space:pre-wrap}
h1,h2{overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border-bottom:1px solid #d0d7de;padding:.3rem .7rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.n{text-align:right;font-variant-numeric:tabular-nums}
td code{white-space:nowrap}
section{border-top:2px solid #d0d7de;margin-top:2.5rem;padding-top:.5rem}
h2 code{font-size:1.1em}
.shapes{color:#57606a;font-weight:normal}
.note{color:#57606a;font-style:italic}
.error{color:#b3261e}
.pattern{background:#ddf4ff;border-radius:.3rem;padding:.1rem .5rem}
figure{margin:1rem 0}
figure img{max-width:100%;height:auto;border:1px solid #d0d7de;border-radius:.4rem}
"""

# C0 and C1 controls but tab and line feed (which HTML shows as white space), as \xNN.
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x00, 0x09), *range(0x0B, 0x20),
                                                  *range(0x7F, 0xA0))}


def _e(value: Any) -> str:
    """Text for HTML: escaped, and each control character written as ``\\xNN``."""
    text = html.escape(str(value), quote=True)
    return text.translate(_CONTROLS)


def report_html(
    calls: Calls, title: str, sections: Sequence[Section], missing: Sequence[str] = ()
) -> str:
    """The capture report: one self-contained page, a section per distinct einsum.

    Args:
        calls: the recorded calls.
        title: the page title.
        sections: one :class:`Section` per distinct einsum, in order of first call.
        missing: sentences naming the parts left out and why.

    Returns:
        The HTML text.
    """
    total = sum(call.seconds for call in calls)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{_e(title)}</h1>",
        f"<p>{len(calls)} einsum call{'s' if len(calls) != 1 else ''}, {len(sections)} distinct "
        f"(subscripts, shapes), {_e(duration(total))} in einsum.</p>",
    ]
    if calls.error is not None:
        stopped = "".join(traceback.format_exception_only(type(calls.error), calls.error)).strip()
        parts.append(f'<p class="error">The script stopped with an error: {_e(stopped)}</p>')
    elif calls.exit_status:
        parts.append(f'<p class="error">The script exited with status {calls.exit_status}.</p>')
    parts.extend(f'<p class="note">{_e(line)}</p>' for line in missing)
    parts.append("</header>")
    if sections:
        parts.append(_contents_table([section.group for section in sections]))
    else:
        parts.append(
            '<p class="note">No einsum call was recorded. Calls made in child processes '
            "(multiprocessing, a process pool, a DataLoader's workers) are not seen: only "
            "the process that runs the capture is recorded.</p>"
        )
    for number, section in enumerate(sections, 1):
        parts.append(_section(number, section))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _contents_table(groups: list[CallGroup]) -> str:
    rows = [
        '<nav class="scroll"><table><thead><tr><th>#</th><th>subscripts</th><th>shapes</th>'
        "<th>dtypes</th><th>calls</th><th>time</th><th>first call site</th></tr></thead><tbody>"
    ]
    for number, group in enumerate(groups, 1):
        rows.append(
            f'<tr><td class="n"><a href="#einsum-{number}">{number}</a></td>'
            f"<td><code>{_e(group.subscripts)}</code></td><td>{_e(shapes_text(group.shapes))}</td>"
            f"<td>{_e(', '.join(group.dtypes))}</td><td class=\"n\">{group.count}</td>"
            f'<td class="n">{_e(duration(group.seconds))}</td>'
            f"<td><code>{_e(short_path(next(iter(group.sites))))}</code></td></tr>"
        )
    rows.append("</tbody></table></nav>")
    return "\n".join(rows)


def _section(number: int, section: Section) -> str:
    group = section.group
    parts = [
        f'<section id="einsum-{number}">',
        f'<h2>{number}. <code>{_e(group.subscripts)}</code> <span class="shapes">'
        f"{_e(shapes_text(group.shapes))}</span></h2>",
        f"<p>{group.count} call{'s' if group.count != 1 else ''} through "
        f"{_e(', '.join(group.functions))}; dtypes {_e(', '.join(group.dtypes) or '-')}; "
        f"{_e(duration(group.seconds))} in all, "
        f"{_e(duration(group.seconds / group.count))} each.</p>",
        _sites_table(section.sites),
    ]
    if group.failures:
        parts.append(
            f'<p class="error">{len(group.failures)} of these calls raised:</p>'
            f"<pre class=\"error\">{_e(group.failures[0].error)}</pre>"
        )
    if section.explanation is not None:
        parts.append("<h3>What it does</h3>")
        parts.append(_explanation(section.explanation))
    if section.paths is not None:
        parts.append("<h3>Contraction path</h3>")
        parts.append(_paths(section))
    if section.figure is not None:
        parts.append("<h3>Figure</h3>")
        parts.append(_figure(section.figure, group.subscripts))
    if section.check is not None:
        parts.append("<h3>Backend check</h3>")
        parts.append(_check(section.check, section.check_note))
    parts.append("</section>")
    return "\n".join(parts)


def _sites_table(sites: Sequence[Site]) -> str:
    rows = [
        '<div class="scroll"><table><thead><tr><th>call site</th><th>in</th><th>calls</th>'
        "<th>source</th></tr></thead><tbody>"
    ]
    for site in sites:
        rows.append(
            f'<tr><td><code title="{_e(site.where)}">{_e(short_path(site.where))}</code></td>'
            f"<td><code>{_e(site.caller)}</code></td>"
            f'<td class="n">{site.count}</td><td><code>{_e(site.source)}</code></td></tr>'
        )
    rows.append("</tbody></table></div>")
    return "\n".join(rows)


def _explanation(result: Any) -> str:
    if isinstance(result, BaseException):
        return f'<pre class="error">{_e(result)}</pre>'
    pattern = getattr(result, "pattern", None)
    badge = f'<p>Pattern: <span class="pattern">{_e(pattern)}</span></p>' if pattern else ""
    return f"{badge}<pre>{_e(result)}</pre>"


def _figure(figure: Figure, subscripts: str) -> str:
    if figure.kind == "none":
        return f'<p class="note">No figure: {_e(figure.content)}</p>'
    caption = f'<figcaption class="note">{_e(figure.note)}</figcaption>'
    if figure.kind == "player":  # einviz's own HTML: it escapes what it shows itself
        return f'<figure class="scroll">{figure.content}{caption}</figure>'
    # An <img> keeps each figure's ids and styles to itself, and still plays SVG animation.
    data = base64.b64encode(figure.content.encode("utf-8")).decode("ascii")
    return f'<figure><img src="data:image/svg+xml;base64,{data}" alt="{_e(subscripts)}">{caption}</figure>'


def _check(table: Any, note: str | None) -> str:
    if isinstance(table, BaseException):
        return f'<p class="note">No backend check: {_e(type(table).__name__)}: {_e(table)}</p>'
    # einviz's own HTML: whatever it shows of the program it escapes itself.
    table_html = table._repr_html_() if hasattr(table, "_repr_html_") else f"<pre>{_e(table)}</pre>"
    caption = f'<p class="note">{_e(note)}</p>' if note else ""
    return f'{caption}<div class="scroll">{table_html}</div>'


def _paths(section: Section) -> str:
    parts = [
        "<p>The order of the pairwise contractions depends on the library and its "
        f"<code>optimize</code> setting. Used here: {_e(section.ways)}.</p>"
    ]
    for way in section.paths or ():
        fragment = way.fragment if way.error is None else f'<pre class="error">{_e(way.error)}</pre>'
        parts.append(f'<p>{_path_intro(way, len(section.group.shapes))}</p>\n<div class="scroll">{fragment}</div>')
    if section.hidden_paths:
        parts.append(
            f'<p class="note">The paths of the other {section.hidden_paths} settings '
            "are not shown.</p>"
        )
    return "\n".join(parts)


def _path_intro(way: WayPath, n: int) -> str:
    """What the library of one way does with three or more operands, in one sentence."""
    setting, detail = _e(way.setting), _e(way.detail or "")
    if way.rule == "numpy-one-loop":
        return (
            f"<b>numpy.einsum with {setting}</b> ({detail}) ran it as one loop over all {n} "
            "operands, with no pairwise path: the naive single loop below. With "
            "<code>optimize=True</code> numpy would contract it in this order "
            "(<code>numpy.einsum_path</code>):"
        )
    if way.rule == "numpy":
        limit = f" (shown without its memory limit, {detail})" if way.detail else ""
        return (f"<b>numpy.einsum with {setting}</b> contracts it in this order "
                f"(<code>numpy.einsum_path</code>){limit}:")
    if way.rule == "jax":
        return (f"<b>jax.numpy.einsum with {setting}</b> asks opt_einsum for its order "
                "(jax reads <code>True</code> as <code>'optimal'</code> and "
                "<code>False</code> as left to right):")
    if way.rule == "torch-opt-einsum":
        return ("<b>torch.einsum</b> asks opt_einsum for its order, with the strategy in "
                f"<code>torch.backends.opt_einsum.strategy</code> (now {detail}):")
    if way.rule == "torch-left-to-right":
        return ("<b>torch.einsum</b> contracts left to right, one pair at a time: opt_einsum "
                "is not available to torch here, or "
                "<code>torch.backends.opt_einsum.enabled</code> is false:")
    return f"<b>{_e(way.function)} with {setting}</b> contracts it in this order:"


# --------------------------------------------------------------------------------------------
# Contraction paths
# --------------------------------------------------------------------------------------------

_PATH_CSS = """\
#{id} {{font-family: system-ui, 'DejaVu Sans', sans-serif; color: #222; line-height: 1.4}}
#{id} h3 {{margin: 0.2em 0 0.4em; font-size: 1.1em}}
#{id} code, #{id} pre, #{id} td.mono {{font-family: 'DejaVu Sans Mono', monospace}}
#{id} table {{border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em}}
#{id} th, #{id} td {{padding: 0.2em 0.7em; border-bottom: 1px solid #ddd; text-align: left}}
#{id} td.num, #{id} th.num {{text-align: right; font-variant-numeric: tabular-nums}}
#{id} .cost b {{font-size: 1.05em}}
#{id} .steps {{display: flex; flex-wrap: wrap; gap: 1em}}
#{id} figure {{margin: 0; width: 340px; border: 1px solid #e3e3e3; border-radius: 6px; padding: 0.5em}}
#{id} figure svg {{width: 100%; height: auto}}
#{id} figcaption {{font-size: 0.85em; color: #444}}
#{id} .note {{font-size: 0.85em; color: #6B7078}}
#{id} pre {{font-size: 0.8em; white-space: pre-wrap}}"""

_path_ids = itertools.count(1)


@dataclass(frozen=True)
class StepFigure:
    """The figure of one path step: its SVG, or why there is none."""

    step: PathStep
    svg: str | None
    why_not: str | None = None


def path_html(
    p: ContractionPath,
    *,
    colours: Mapping[str, str],
    table: tuple[list[str], list[list[str]]],
    speedup: str,
    figures: Sequence[StepFigure] | None = None,
    operands: str = "small integer operands",
    cut_to: int | None = None,
) -> str:
    """A contraction path as a self-contained HTML fragment: costs, table, step figures.

    No script and no external resource; the styles are scoped to the fragment's own id, so
    several fragments can share a page.

    Args:
        p: the path.
        colours: the colour of each letter.
        table: the path's table: its head and rows of text.
        speedup: the speed-up, written out (``"11.6×"``).
        figures: one :class:`StepFigure` per step, or ``None`` for no figures.
        operands: what the figures are drawn on (``"your operands"``).
        cut_to: the cells per label the figures were cut to, when they were cut.

    Returns:
        The HTML text.
    """
    fragment_id = f"einviz-path-{next(_path_ids)}"

    def coloured(text: str) -> str:
        return "".join(
            f'<span style="color:{colours[c]};font-weight:bold">{_e(c)}</span>' if c in colours
            else _e(c)
            for c in text
        )

    out = [f'<section class="einviz-path" id="{fragment_id}">',
           f"<style>{_PATH_CSS.format(id=fragment_id)}</style>",
           f"<h3>Contraction path <code>{coloured(p.subscripts)}</code> "
           f'<span class="note">{_e(p.source)}, {_e(p.strategy)}</span></h3>',
           '<p class="cost">naive single loop: <b>' + f"{p.naive_flops:,}</b> FLOPs · path: <b>"
           f"{p.flops:,}</b> FLOPs · speed-up <b>{_e(speedup)}</b> · largest "
           f"intermediate {p.largest_intermediate:,} elements</p>"]
    out.append(_path_table(table, coloured))
    differs = (p.library_naive_flops, p.library_flops) != (p.naive_flops, p.flops)
    out.append('<p class="note">FLOPs: one multiplication per extra operand and one addition when a '
               "label is summed, per step"
               + (f"; {_e(p.source)} counts naive {p.library_naive_flops:,}, path "
                  f"{p.library_flops:,} (see docs/paths.md)" if differs else "") + ".</p>")
    if figures is not None:
        note = (f"Each figure shows one step on {_e(operands)}"
                + (f", cut to at most {cut_to} cells along each label" if cut_to else "")
                + "; the step's result is titled <code>out</code> in its figure.")
        out.append(f'<p class="note">{note}</p><div class="steps">')
        for figure in figures:
            step = figure.step
            svg = figure.svg if figure.svg is not None else f'<p class="note">{_e(figure.why_not)}</p>'
            out.append(
                f"<figure>{svg}<figcaption><b>step {step.index}</b>: {_e(step.contraction())} "
                f"&nbsp; <code>{coloured(step.subscripts)}</code><br>{_e(step.output)} shape "
                f"{_e(_shape(step.shape))}, {step.flops:,} FLOPs, BLAS {_e(str(step.blas or '—'))}, "
                f"{_e(step.title)}</figcaption></figure>"
            )
        out.append("</div>")
    out.append(f"<details><summary>How FLOPs are counted</summary><pre>{_e(p.conventions)}</pre>"
               "</details>")
    out.append(f"<details><summary>{_e(p.source)}'s own printout</summary>"
               f"<pre>{_e(p.library_printout)}</pre></details>")
    out.append("</section>")
    return "\n".join(out)


def _path_table(table: tuple[list[str], list[list[str]]], coloured: Any) -> str:
    head, rows = table
    numeric = {"step", "size", "FLOPs"}
    out = ["<table><thead><tr>" + "".join(
        f'<th class="num">{_e(h)}</th>' if h in numeric else f"<th>{_e(h)}</th>" for h in head
    ) + "</tr></thead><tbody>"]
    for row in rows:
        cells = []
        for h, value in zip(head, row):
            if h == "subscripts":
                cells.append(f'<td class="mono">{coloured(value)}</td>')
            elif h in numeric:
                cells.append(f'<td class="num">{_e(value)}</td>')
            else:
                cells.append(f"<td>{_e(value)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
