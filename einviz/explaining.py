"""Explain an einsum in plain words: what it sees, what it keeps, what it sums, and its name.

:func:`explain` reads a :class:`~einviz.planning.LoopPlan` and writes the narrative of the
illustrated einsum thread, one short sentence at a time ("einsum sees that A has two
dimensions (i: 2, j: 3)"), names the pattern when it is a known one (row sums, trace, matrix
multiplication, attention scores, …) and gives plain numpy code that does the same thing
without einsum.

Patterns are recognised from the structure alone: the rank of each term, which labels the
operands share, which are summed and the order of the output. The letters and the order of
the operands do not matter, so ``ij,jk->ik``, ``ab,bc->ac`` and ``jk,ij->ik`` are all matrix
multiplication; ``ij,jk->ki`` is not (it is the *transpose* of one), and the explanation says
so. A pattern is claimed only when its equivalent code computes exactly the einsum, for the
given shapes (a size-1 axis that einsum broadcasts is broadcast explicitly in the code).

Each sentence comes as data, a :class:`Sentence`: its text, the labels it speaks of, its
role (:data:`ROLES`) and where its label letters stand, so the pictures colour and highlight
from the structure and never read the English.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import EinvizError
from .operands import default_shapes
from .planning import LoopPlan, plan
from .subscripts import ELLIPSIS, Equation, parse

__all__ = ["PATTERNS", "ROLES", "Explanation", "Sentence", "explain"]

#: Every pattern name :func:`explain` can give, with what it means.
PATTERNS: dict[str, str] = {
    "identity": "the output is the operand, unchanged (ij->ij)",
    "total sum": "every value added up (ij->)",
    "row sums": "the sum of each row of a matrix (ij->i)",
    "column sums": "the sum of each column of a matrix (ij->j)",
    "sum over axes": "the sum over some axes of one operand (ijk->ik)",
    "transpose": "a matrix with rows and columns swapped (ij->ji)",
    "axis permutation": "the axes of one operand in another order (ijk->kij)",
    "trace": "the sum of a matrix's diagonal (ii->)",
    "batched trace": "the trace of every matrix in a stack (bii->b)",
    "partial trace": "the sum over the diagonal of two axes of a larger array (iij->j)",
    "diagonal": "the diagonal of a matrix (ii->i)",
    "batched diagonal": "the diagonal of every matrix in a stack (bii->bi)",
    "diagonal over two axes": "the diagonal of two axes of a larger array (iij->ji)",
    "product of scalars": "0-d operands multiplied (,->)",
    "scaling by a scalar": "every cell of an array times one number (,ij->ij)",
    "Hadamard product": "matching cells multiplied (ij,ij->ij)",
    "Hadamard product with a transpose": "matching cells multiplied, some axes reordered (ij,ji->ij)",
    "outer product": "every value of one operand times every value of the other (i,j->ij)",
    "broadcasting multiply": "operands stretched along the labels they lack, then multiplied (ij,i->ij)",
    "dot product": "multiply matching entries of two vectors and add them up (i,i->)",
    "batched dot product": "the dot product of every pair of vectors in two stacks (bi,bi->b)",
    "inner product": "multiply matching cells of two arrays and add them all up (ij,ij->)",
    "trace of a matrix product": "the trace of A @ B without forming it (ij,ji->)",
    "matrix-vector product": "each output cell is a row of the matrix dotted with the vector (ij,j->i)",
    "vector-matrix product": "each output cell is the vector dotted with a column of the matrix (i,ij->j)",
    "batched matrix-vector product": "a matrix-vector product for every batch index (bij,bj->bi)",
    "batched vector-matrix product": "a vector-matrix product for every batch index (bi,bij->bj)",
    "matrix multiplication": "each output cell is a row of one matrix dotted with a column of the other (ij,jk->ik)",
    "matrix multiplication with a transpose": "A @ B.T or A.T @ B (ij,kj->ik)",
    "transpose of a matrix multiplication": "(A @ B).T (ij,jk->ki)",
    "batched matmul": "a matrix multiplication for every batch index (bij,bjk->bik)",
    "batched matmul with a transpose": "a batch of A.T @ B (bji,bjk->bik)",
    "transpose of a batched matmul": "a batch of (A @ B).T (bij,bjk->bki)",
    "attention scores": "every query row dotted with every key row, per batch and head (bhqd,bhkd->bhqk)",
    "bilinear form": "x @ A @ y, a single number (i,ij,j->)",
    "matrix chain product": "three or more matrices (or vectors at the ends) multiplied in a chain (ij,jk,kl->il)",
    "transpose of a matrix chain product": "the transpose of a chain of matrix products (ij,jk,kl->li)",
    "tensor contraction": "products of the operands summed over the shared labels (ijk,jkl->il)",
}

_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve")
_TIMES = {2: "twice", 3: "three times", 4: "four times"}

#: What a sentence of the narrative says, by its ``role``, in the order they come.
ROLES: dict[str, str] = {
    "intro": "what the call is: the subscripts and the arrays",
    "notation": "the text was read as einops' notation: words as axis names",
    "sizes": "no operands were given: the small sizes einviz picked",
    "ellipsis": "what '...' stands for, and which operand is reused along what it lacks",
    "dims": "one operand's dimensions, each label with its size",
    "letters": "the unique letters of the subscripts",
    "implicit": "no '->': which letters the output gets, in which order",
    "repeated": "a label repeated in one operand: the diagonal einsum walks",
    "broadcast": "a size-1 axis reused for every index of its label",
    "summed": "which labels are summed and why (or that none is)",
    "free": "which labels the output keeps, and its shape",
    "order": "the output's axes in another order than the inputs'",
    "steps": "the loops and how many steps they make (multiply-adds; copies where nothing is summed)",
    "pattern": "the pattern's name, in words",
    "numpy": "plain numpy that does the same: 'In plain numpy: A @ B'",
}


@dataclass(frozen=True)
class Sentence:
    """One sentence of the narrative, with what it is about.

    Attributes:
        text: the sentence, plain text (``str(sentence)`` gives it too).
        labels: the labels it speaks of, in order of mention (a picture highlights them).
        role: what it says, a key of :data:`ROLES` (``"summed"``, ``"pattern"``, …).
        coloured: where labels stand in ``text``, each a ``(start, end)`` pair with
            ``text[start:end]`` the label (a letter, or a word in einops' notation), for
            drawing it in its label's colour.

    >>> s = explain("ij->i", shapes=[(2, 3)]).sentences[3]
    >>> s.role, s.labels, [s.text[a:b] for a, b in s.coloured]
    ('summed', ('j',), ['j', 'j'])
    >>> s = explain("batch seq, seq dim -> batch dim", shapes=[(2, 3), (3, 4)]).sentences[4]
    >>> s.role, [s.text[a:b] for a, b in s.coloured]
    ('letters', ['batch', 'seq', 'dim'])
    """

    text: str
    labels: tuple[str, ...] = ()
    role: str = ""
    coloured: tuple[tuple[int, int], ...] = ()

    def __str__(self) -> str:
        return self.text


#: Put around a label while a sentence is written; :func:`_say` takes them out and keeps
#: where the label stands (names and labels are identifiers: neither holds them).
_LABEL, _END = "\x02", "\x03"


def _mark(label: str) -> str:
    return _LABEL + label + _END


def _labels(labels: Sequence[str]) -> str:
    """Labels marked and joined: ``i, j and k``."""
    return _and([_mark(label) for label in labels])


def _say(role: str, marked: str, labels: Sequence[str] | None = None) -> Sentence:
    """A sentence from text with its labels marked (:func:`_mark`); it speaks of ``labels``
    (default: every label marked in it)."""
    pieces: list[str] = []
    coloured: list[tuple[int, int]] = []
    at = 0
    for k, piece in enumerate(marked.split(_LABEL)):
        label, _, rest = piece.partition(_END) if k else ("", "", piece)
        if label:
            coloured.append((at, at + len(label)))
        pieces += [label, rest]
        at += len(label) + len(rest)
    plain = "".join(pieces)
    found = tuple(dict.fromkeys(plain[a:b] for a, b in coloured))
    return Sentence(plain, found if labels is None else tuple(labels), role, tuple(coloured))


@dataclass(frozen=True, eq=False, repr=False)
class Explanation:
    """What an einsum does, in words, in a formula, in loops and in plain numpy.

    Attributes:
        subscripts: the einsum's subscripts, explicit (``"ij,jk->ik"``).
        pattern: the pattern's short name (a key of :data:`PATTERNS`), or ``None``.
        title: the pattern named with its labels, e.g. ``"sum over j"`` (``"general einsum"``
            when no pattern is known).
        sentences: the narrative, one :class:`Sentence` each (its ``text``, the ``labels`` it
            speaks of, its ``role``); labels appear as single letters (ellipsis dimensions as
            Greek letters), operands by their names. :attr:`narrative` gives the texts.
        equivalent: one Python expression, using ``np`` and the operands by name, that gives
            the same values without einsum (``None`` when no pattern is known). numpy's own
            sums promote small integer and bool dtypes, so for those the dtype can differ.
        formula: the formula in unicode, e.g. ``out[i,k] = Σ_j A[i,j]·B[j,k]``.
        latex: the same formula in LaTeX.
        loop_code: runnable nested loops that compute the einsum into ``out``.
        plan: the :class:`~einviz.planning.LoopPlan` it explains.

    >>> e = explain("ij,jk->ik", shapes=[(2, 3), (3, 4)])
    >>> e.pattern, e.equivalent
    ('matrix multiplication', 'A @ B')
    >>> print(e.sentences[1])
    einsum sees that A has two dimensions (i: 2, j: 3).
    >>> e.sentences[1].role, e.sentences[1].labels
    ('dims', ('i', 'j'))
    """

    subscripts: str
    pattern: str | None
    title: str
    sentences: list[Sentence]
    equivalent: str | None
    formula: str
    latex: str
    loop_code: str
    plan: LoopPlan

    @property
    def narrative(self) -> list[str]:
        """The sentences as plain text.

        >>> explain("i,i->", shapes=[(3,), (3,)]).narrative[-1]
        'In plain numpy: A @ B'
        """
        return [sentence.text for sentence in self.sentences]

    def __repr__(self) -> str:
        return f"Explanation({self.subscripts!r}, pattern={self.pattern!r}, equivalent={self.equivalent!r})"

    def __str__(self) -> str:
        lines = [f"{self.subscripts}  —  {self.title}", ""]
        lines.extend(f"  {sentence}" for sentence in self.sentences)
        lines += ["", f"formula:     {self.formula}", "loop code:"]
        lines.extend(f"    {line}" for line in self.loop_code.splitlines())
        if self.equivalent is not None:
            lines += [f"equivalent:  {self.equivalent}"]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        lines = [f"**{_markdown(self.title)}** &nbsp; `{self.subscripts}`", ""]
        lines.extend(f"- {_markdown(sentence.text)}" for sentence in self.sentences)
        lines += ["", f"$${self.latex}$$", "", "```python", self.loop_code, "```"]
        if self.equivalent is not None:
            lines += ["", "Without einsum:", "", "```python", self.equivalent, "```"]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The explanation as plain data (for JSON, an HTML player or a report).

        >>> explain("ii->", shapes=[(3, 3)]).to_dict()["equivalent"]
        'np.trace(A)'
        """
        return {
            "subscripts": self.subscripts,
            "pattern": self.pattern,
            "title": self.title,
            "sentences": self.narrative,
            "roles": [sentence.role for sentence in self.sentences],
            "labels": [list(sentence.labels) for sentence in self.sentences],
            "equivalent": self.equivalent,
            "formula": self.formula,
            "latex": self.latex,
            "loop_code": self.loop_code,
            "names": list(self.plan.names),
            "shapes": [list(shape) for shape in self.plan.shapes],
        }


def _markdown(text: str) -> str:
    import html
    escaped = html.escape(text, quote=False)
    for char in "\\`*_[]$":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


# -- entry point ----------------------------------------------------------------------------
def explain(
    subscripts: Any,
    *operands: Any,
    shapes: Sequence[Sequence[int]] | None = None,
    names: Sequence[str] | None = None,
) -> Explanation:
    """Explain an einsum: the narrative, the pattern's name and plain numpy that does the same.

    Args:
        subscripts: the subscripts text (``"ij,jk->ik"``), an :class:`~einviz.Equation`, a
            :class:`~einviz.LoopPlan` (then give nothing else), or, in numpy's sublist form,
            the first operand (``explain(A, [0, 1], B, [1, 2])``).
        *operands: the operands (only their shapes are read).
        shapes: the operands' shapes, instead of operands. With neither, einviz picks small
            sizes (:func:`einviz.operands.default_shapes`: 2, 3, 4, 2, … in order of first
            appearance) and says so.
        names: the operands' names (default: :func:`einviz.planning.default_names`), used in
            the sentences, the formula, the loop code and the equivalent.

    Returns:
        The :class:`Explanation`.

    Raises:
        SubscriptError: the subscripts are not valid.
        ShapeError: the operands or shapes do not fit the subscripts.
        EinvizError: a plan was given together with operands, shapes or names.

    >>> e = explain("ij->i", shapes=[(2, 3)])
    >>> e.pattern, e.equivalent
    ('row sums', 'A.sum(axis=1)')
    >>> for sentence in e.sentences[1:5]:
    ...     print(sentence)
    einsum sees that A has two dimensions (i: 2, j: 3).
    The subscripts have two unique letters: i, j.
    j appears in A but not in the output, so it is summed: each output cell adds up the values along j.
    i is in the output, so it is kept: the output has shape (2,).
    >>> explain("bhqd,bhkd->bhqk", shapes=[(1, 2, 5, 4), (1, 2, 6, 4)], names=["Q", "K"]).equivalent
    'np.matmul(Q, K.swapaxes(-1, -2))'
    """
    made_up = False
    if isinstance(subscripts, LoopPlan):
        if operands or shapes is not None or names is not None:
            raise EinvizError(
                "a plan already has its shapes and names: give it alone",
                hint="explain(plan), or explain(subscripts, *operands, names=...)",
            )
        loop_plan = subscripts
    else:
        if not operands and shapes is None and isinstance(subscripts, (str, Equation)):
            equation = parse(subscripts) if isinstance(subscripts, str) else subscripts
            shapes = default_shapes(equation)
            made_up = True
        loop_plan = plan(subscripts, *operands, shapes=shapes, names=names)
    match = _recognise(loop_plan)
    return Explanation(
        subscripts=_explicit(loop_plan.equation),
        pattern=match.pattern if match else None,
        title=match.title if match else "general einsum",
        sentences=_narrative(loop_plan, match, made_up),
        equivalent=match.equivalent if match else None,
        formula=loop_plan.formula(),
        latex=loop_plan.latex(),
        loop_code=loop_plan.loop_code(),
        plan=loop_plan,
    )


def _explicit(equation: Equation) -> str:
    """The equation written with its output, in its own notation (``"ij,jk->ik"``,
    ``"batch seq, seq dim -> batch dim"``)."""
    return str(equation if equation.explicit else Equation(equation.terms, equation.output, explicit=True))


# -- recognising the pattern -----------------------------------------------------------------
@dataclass(frozen=True)
class _Match:
    pattern: str
    title: str
    equivalent: str
    gloss: str


def _match(pattern: str, equivalent: str, gloss: str, detail: str = "") -> _Match:
    """A match titled by its pattern, plus ``detail`` (e.g. the labels: ``" over b"``)."""
    return _Match(pattern, pattern + detail, equivalent, gloss)


def _recognise(p: LoopPlan) -> _Match | None:
    if p.n_operands == 1:
        return _one_operand(p)
    if any(len(set(term)) != len(term) for term in p.terms):
        return None
    if not p.summed:
        return _elementwise(p)
    return _inner(p) or _batched_chain(p) or _tensordot(p) or _broadcast_sum(p)


def _operand(p: LoopPlan, k: int, batch: Sequence[str] = ()) -> str:
    """The operand's name, broadcast explicitly when einsum reuses a size-1 axis of it (but
    not for ``batch`` labels, which numpy's matmul broadcasts by itself)."""
    name = p.names[k]
    term = p.terms[k]
    if any(p.is_broadcast(k, axis) and term[axis] not in batch for axis in range(len(term))):
        full = tuple(p.sizes[label] for label in p.terms[k])
        return f"np.broadcast_to({name}, {full!r})"
    return name


def _axes(axes: Sequence[int]) -> str:
    return str(axes[0]) if len(axes) == 1 else repr(tuple(axes))


def _permute(expr: str, perm: Sequence[int]) -> str:
    """``expr`` with its axes in the order ``perm`` (``.T`` when that reverses them)."""
    perm = tuple(perm)
    if perm == tuple(range(len(perm))):
        return expr
    if perm == tuple(reversed(range(len(perm)))):
        return f"{expr}.T"
    return f"np.transpose({expr}, {perm!r})"


def _and(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _one_operand(p: LoopPlan) -> _Match | None:
    term, out, name = p.terms[0], p.output, p.names[0]
    counts = Counter(term)
    if all(n == 1 for n in counts.values()):
        if out == term:
            return _match("identity", name, f"This is the identity: the output is {name}, unchanged.")
        if not out:
            return _match("total sum", f"{name}.sum()",
                          f"This is the total sum: every value of {name} added up.")
        if set(out) == set(term):
            perm = [term.index(label) for label in out]
            if len(term) == 2:
                return _match("transpose", f"{name}.T",
                              f"This is the transpose: the rows of {name} become the columns of the output.")
            return _Match("axis permutation", f"axis permutation {''.join(term)} → {''.join(out)}",
                          _permute(name, perm), f"This permutes the axes of {name}: nothing is added.")
        axes = [axis for axis, label in enumerate(term) if label not in out]
        kept = [label for label in term if label in out]
        total = f"{name}.sum(axis={_axes(axes)})"
        if len(term) == 2 and tuple(kept) == out:
            which, part = ("row sums", "row") if axes == [1] else ("column sums", "column")
            return _match(which, total, f"These are the {which}: each output cell adds up one {part} of {name}.")
        gone = _and([term[axis] for axis in axes])
        title = f"sum over {gone}"
        gloss = f"This sums {name} over {_labels([term[axis] for axis in axes])}."
        if tuple(kept) != out:
            title += ", axes reordered"
            gloss = (f"This sums {name} over {_labels([term[axis] for axis in axes])}, then puts the "
                     "kept axes in the output's order.")
        return _Match("sum over axes", title, _permute(total, [kept.index(label) for label in out]), gloss)
    repeated = [label for label, n in counts.items() if n > 1]
    if len(repeated) != 1 or counts[repeated[0]] != 2:
        return None
    label = repeated[0]
    first, second = (axis for axis, x in enumerate(term) if x == label)
    others = [x for x in term if x != label]
    trailing = (first, second) == (len(term) - 2, len(term) - 1)
    if label not in out and set(out) == set(others):
        if len(term) == 2:
            return _match("trace", f"np.trace({name})",
                          f"This is the trace: the sum of the diagonal of {name}.")
        base = f"np.trace({name}, axis1={first}, axis2={second})"
        which = "batched trace" if trailing and tuple(others) == out else "partial trace"
        return _Match(which, f"{which} over {label}", _permute(base, [others.index(x) for x in out]),
                      f"This adds up the diagonal of {name} along its two {_mark(label)} axes, for every "
                      f"{_labels(others)}.")
    if label in out and set(out) == set(others) | {label}:
        if len(term) == 2:
            return _match("diagonal", f"np.diagonal({name})",
                          f"This is the diagonal of {name}: the cells where row and column index agree.")
        base = f"np.diagonal({name}, axis1={first}, axis2={second})"
        natural = others + [label]
        which = "batched diagonal" if trailing and tuple(natural) == out else "diagonal over two axes"
        return _Match(which, f"{which} along {label}", _permute(base, [natural.index(x) for x in out]),
                      f"This takes the diagonal of {name} along its two {_mark(label)} axes, for every "
                      f"{_labels(others)}.")
    return None


def _aligned(p: LoopPlan, k: int, target: Sequence[str]) -> str:
    """Operand k with its axes in ``target``'s order and ``None`` for labels it lacks, so that
    numpy's broadcasting (which aligns from the right) lines it up with ``target``."""
    term = p.terms[k]
    order = sorted(term, key=list(target).index)
    expr = _permute(p.names[k], [term.index(label) for label in order])
    present = [label in term for label in target]
    if True in present:
        present = present[present.index(True):]
        if not all(present):
            expr += "[" + ", ".join(":" if here else "None" for here in present) + "]"
    return expr


def _elementwise(p: LoopPlan) -> _Match:
    names, terms, out = p.names, p.terms, p.output
    product = " * ".join(_aligned(p, k, out) for k in range(p.n_operands))
    if all(term == out for term in terms):
        if not out:
            return _match("product of scalars", " * ".join(names),
                          f"This multiplies the single numbers {_and(names)}.")
        return _match("Hadamard product", " * ".join(names),
                      "This is the Hadamard (elementwise) product: cells at the same position multiply.")
    arrays = [k for k, term in enumerate(terms) if term]
    if len(arrays) == 1 and terms[arrays[0]] == out:
        scalars = _and([n for k, n in enumerate(names) if k not in arrays])
        return _match("scaling by a scalar", " * ".join(names),
                      f"This scales every cell of {names[arrays[0]]} by {scalars}.")
    if all(term and set(term) == set(out) for term in terms):
        return _match("Hadamard product with a transpose", product,
                      "Cells at matching indices multiply: an elementwise product, with some axes "
                      "reordered.")
    order = sorted(range(p.n_operands), key=lambda k: out.index(terms[k][0]) if terms[k] else -1)
    if all(terms) and sum((terms[k] for k in order), ()) == out:
        if p.n_operands == 2 and all(len(term) == 1 for term in terms):
            code = f"np.outer({names[order[0]]}, {names[order[1]]})"
        else:
            code = names[order[0]]
            for k in order[1:]:
                code = f"np.multiply.outer({code}, {names[k]})"
        return _match("outer product", code,
                      f"This is the outer product: every value of {names[order[0]]} times every value "
                      f"of {_and([names[k] for k in order[1:]])}.")
    return _match("broadcasting multiply", product,
                  "This is a broadcasting multiply: each operand is reused along the labels it lacks, "
                  "then the cells multiply; nothing is added up.")


def _inner(p: LoopPlan) -> _Match | None:
    """Two operands with the same labels, everything summed: an inner product (or trace(A @ B))."""
    if p.n_operands != 2 or p.output:
        return None
    (a, b), (x, y) = p.terms, p.names
    if len(a) >= 2 and a == b:
        return _match("inner product", f"np.sum({x} * {y})",
                      f"This is the inner product of {x} and {y}: cells at the same position multiply, "
                      f"and every product is added up.")
    if len(a) == 2 and b == a[::-1]:
        return _match("trace of a matrix product",
                      f"np.trace({_operand(p, 0)} @ {_operand(p, 1)})",
                      f"This is the trace of {x} @ {y}, without making the whole product.")
    return None


def _batched_chain(p: LoopPlan) -> _Match | None:
    """A chain of matrix and vector products, possibly over leading batch labels.

    The batch labels are the output's first labels; each operand starts with a trailing part
    of them (numpy's matmul broadcasting aligns batch axes from the right) and the rest of
    every term (its core) must be a chain: each core is a vector or a matrix, neighbours
    share exactly one label and it is summed, the free labels sit at the two ends.
    """
    for n_batch in range(len(p.output) + 1):
        batch = p.output[:n_batch]
        cores = []
        for term in p.terms:
            lead = 0
            while lead < len(term) and term[lead] in batch:
                lead += 1
            if term[:lead] != batch[n_batch - lead:] or any(x in batch for x in term[lead:]):
                break
            cores.append(term[lead:])
        else:
            if n_batch and p.n_operands > 2:
                return None
            chain = _chain(cores, p.output[n_batch:])
            if chain is not None:
                return _name_chain(p, batch, cores, *chain)
    return None


def _chain(
    cores: list[tuple[str, ...]], out: tuple[str, ...]
) -> tuple[list[int], list[bool], bool] | None:
    """The operands in chain order, which of them are transposed, and whether the whole is."""
    m = len(cores)
    if m < 2 or any(len(core) not in (1, 2) for core in cores):
        return None
    where: dict[str, list[int]] = {}
    for k, core in enumerate(cores):
        for label in core:
            where.setdefault(label, []).append(k)
    link: dict[frozenset[int], str] = {}
    for label, ks in where.items():
        if len(ks) == 1:
            if label not in out:
                return None
            continue
        pair = frozenset(ks)
        if len(ks) > 2 or label in out or pair in link:
            return None
        link[pair] = label
    neighbours: dict[int, list[int]] = {k: [] for k in range(m)}
    for pair in link:
        q, r = sorted(pair)
        neighbours[q].append(r)
        neighbours[r].append(q)
    ends = [k for k in range(m) if len(neighbours[k]) == 1]
    if len(link) != m - 1 or len(ends) != 2 or any(len(n) > 2 for n in neighbours.values()):
        return None
    order = [ends[0]]
    while len(order) < m:
        step = [k for k in neighbours[order[-1]] if k not in order]
        if not step:
            return None
        order.append(step[0])

    def orient(order: list[int]) -> tuple[list[bool], tuple[str, ...]]:
        # A matrix reads (left link, right link) along the chain; an end matrix has its free
        # label on the outside. A matrix the other way round is used transposed.
        flipped, free = [], []
        for pos, k in enumerate(order):
            core = cores[k]
            if len(core) == 1:
                flipped.append(False)
                continue
            left = link[frozenset((order[pos - 1], k))] if pos > 0 else None
            right = link[frozenset((k, order[pos + 1]))] if pos < m - 1 else None
            if left is None:
                outside = next(x for x in core if x != right)
                want = (outside, right)
                free.append(outside)
            elif right is None:
                outside = next(x for x in core if x != left)
                want = (left, outside)
                free.append(outside)
            else:
                want = (left, right)
            flipped.append(core != want)
        return flipped, tuple(free)

    best: tuple[int, list[int], list[bool], bool] | None = None
    for candidate in (order, order[::-1]):
        flipped, free = orient(candidate)
        for outer in (False, True):
            if free[::-1 if outer else 1] != out or (outer and len(out) < 2):
                continue
            cost = sum(flipped) + outer
            if best is None or cost < best[0]:
                best = (cost, candidate, flipped, outer)
    if best is None:
        return None
    return best[1], best[2], best[3]


def _name_chain(
    p: LoopPlan, batch: tuple[str, ...], cores: list[tuple[str, ...]],
    order: list[int], flipped: list[bool], outer: bool,
) -> _Match:
    ranks = (len(cores[order[0]]), len(cores[order[-1]]))
    names = [p.names[k] for k in order]
    if batch:
        return _name_batched_pair(p, batch, cores, order, flipped, outer)
    code = " @ ".join(_operand(p, k) + (".T" if flip else "") for k, flip in zip(order, flipped))
    if outer:
        code = f"({code}).T"
    if len(order) > 2:
        if ranks == (1, 1) and len(order) == 3:
            return _match("bilinear form", code, f"This is a bilinear form: {code}, a single number.")
        which = "transpose of a matrix chain product" if outer else "matrix chain product"
        return _match(which, code, f"This is a chain of matrix products: {code}.")
    x, y = names
    if ranks == (1, 1):
        return _match("dot product", code, f"This is the dot product of {x} and {y}: matching entries "
                      "multiply, and the products are added up.")
    if ranks == (2, 1):
        return _match("matrix-vector product", code, "This is a matrix-vector product: each output cell "
                      f"is a row of {x} dotted with {y}.")
    if ranks == (1, 2):
        return _match("vector-matrix product", code, "This is a vector-matrix product: each output cell "
                      f"is {x} dotted with a column of {y}.")
    if outer:
        return _match("transpose of a matrix multiplication", code, f"This is {code}: the matrix "
                      f"product {x} @ {y} with its rows and columns swapped.")
    cell = f"each output cell is {_row_and_column(x, y, flipped)}"
    if flipped == [False, True]:
        cell += ", the way attention compares queries with keys (Q @ K.T)"
    if any(flipped):
        return _match("matrix multiplication with a transpose", code,
                      f"This is matrix multiplication with a transpose: {cell}.")
    return _match("matrix multiplication", code, f"This is matrix multiplication: {cell}.")


def _row_and_column(x: str, y: str, flipped: list[bool]) -> str:
    """Which slices of the two matrices one output cell dots together."""
    return (f"{'a column' if flipped[0] else 'a row'} of {x} dotted with "
            f"{'a row' if flipped[1] else 'a column'} of {y}")


def _name_batched_pair(
    p: LoopPlan, batch: tuple[str, ...], cores: list[tuple[str, ...]],
    order: list[int], flipped: list[bool], outer: bool,
) -> _Match:
    ranks = (len(cores[order[0]]), len(cores[order[-1]]))
    names = [p.names[k] for k in order]
    over, every = f" over {_and(batch)}", f"for every {_labels(batch)}"
    x, y = (_operand(p, k, batch) + (".swapaxes(-1, -2)" if flip else "") for k, flip in zip(order, flipped))
    # A vector without batch axes is a plain 1-d operand, which np.matmul takes as it is.
    batched = [len(p.terms[k]) > len(cores[k]) for k in order]
    if ranks == (1, 1):
        return _match("batched dot product", f"np.sum({x} * {y}, axis=-1)", f"This is a batched dot "
                      f"product: {every}, a vector of {names[0]} dotted with one of {names[1]}.", over)
    if ranks == (2, 1):
        code = f"np.matmul({x}, {y}[..., None])[..., 0]" if batched[1] else f"np.matmul({x}, {y})"
        return _match("batched matrix-vector product", code, "This is a batched matrix-vector product: "
                      f"{every}, a matrix of {names[0]} times a vector of {names[1]}.", over)
    if ranks == (1, 2):
        code = f"np.matmul({x}[..., None, :], {y})[..., 0, :]" if batched[0] else f"np.matmul({x}, {y})"
        return _match("batched vector-matrix product", code, "This is a batched vector-matrix product: "
                      f"{every}, a vector of {names[0]} times a matrix of {names[1]}.", over)
    code = f"np.matmul({x}, {y})"
    if outer:
        return _match("transpose of a batched matmul", f"{code}.swapaxes(-1, -2)", "This is a batched "
                      f"matmul, transposed: {every}, {names[0]} @ {names[1]} with rows and columns "
                      "swapped.", over)
    if flipped == [False, True]:
        return _match("attention scores", code, f"These are attention scores: {every}, each row of "
                      f"{names[0]} (a query) is dotted with each row of {names[1]} (a key).", over)
    cell = f"{every}, each output cell is {_row_and_column(names[0], names[1], flipped)}"
    if any(flipped):
        return _match("batched matmul with a transpose", code,
                      f"This is a batched matmul with a transpose: {cell}.", over)
    return _match("batched matmul", code, f"This is a batched matmul: {cell}.", over)


def _tensordot(p: LoopPlan) -> _Match | None:
    """Two operands whose shared labels are exactly the summed ones: numpy's tensordot."""
    if p.n_operands != 2:
        return None
    a, b = p.terms
    shared = [label for label in a if label in b]
    if set(shared) != set(p.summed):
        return None
    summed = _and(p.summed)
    options = []
    for first, second in ((0, 1), (1, 0)):
        s, t = p.terms[first], p.terms[second]
        axes = ([s.index(x) for x in shared], [t.index(x) for x in shared])
        natural = [x for x in s if x not in shared] + [x for x in t if x not in shared]
        code = f"np.tensordot({_operand(p, first)}, {_operand(p, second)}, axes=({axes[0]}, {axes[1]}))"
        options.append((tuple(natural) != p.output, first, _permute(code, [natural.index(x) for x in p.output])))
    return _Match("tensor contraction", f"tensor contraction over {summed}", min(options)[2],
                  f"This is a tensor contraction over {_labels(p.summed)}: the products of "
                  f"{p.names[0]} and {p.names[1]} are added up along {_labels(p.summed)}.")


def _broadcast_sum(p: LoopPlan) -> _Match:
    """Any einsum without repeated labels: multiply broadcast operands, then sum."""
    target = p.output + p.summed
    product = " * ".join(_aligned(p, k, target) for k in range(p.n_operands))
    axes = list(range(len(p.output), len(target)))
    summed = _and(p.summed)
    return _Match("tensor contraction", f"tensor contraction over {summed}",
                  f"({product}).sum(axis={_axes(axes)})",
                  f"This is a tensor contraction over {_labels(p.summed)}: the operands are lined up "
                  f"by label, multiplied, and added up along {_labels(p.summed)}.")


# -- the narrative ----------------------------------------------------------------------------
def _number(n: int) -> str:
    return _NUMBERS[n] if n < len(_NUMBERS) else f"{n:,}"


def _plural(n: int, noun: str) -> str:
    return f"{_number(n)} {noun}{'' if n == 1 else 's'}"


def _shape(shape: tuple[int, ...]) -> str:
    return repr(tuple(shape))


def _narrative(p: LoopPlan, match: _Match | None, made_up: bool) -> list[Sentence]:
    eq, names = p.equation, p.names
    subscripts = _written(eq)
    arrays = "one array, " + names[0] if p.n_operands == 1 else f"{_number(p.n_operands)} arrays: {_and(names)}"
    # The call is about every label at once: it names none in particular.
    sentences = [_say("intro", f"The subscripts '{subscripts}' tell einsum what to do with {arrays}.", ())]
    if eq.notation == "einops":
        sentences.append(_say("notation", "They are read as einops' notation: each word is the name of "
                              "an axis, and spaces separate them.", ()))
    if made_up:
        sizes = ", ".join(f"{_mark(label)}: {p.sizes[label]}"
                          for label in dict.fromkeys(x for t in p.terms for x in t))
        sentences.append(_say("sizes", f"No arrays were given, so einviz picks small sizes: {sizes}." if sizes
                              else "No arrays were given, so einviz uses single numbers."))
    if eq.has_ellipsis:
        sentences.extend(_ellipsis_sentences(p))
    for k, (name, term, shape) in enumerate(zip(names, p.terms, p.shapes)):
        start = "einsum sees that " if k == 0 else ""
        if not shape:
            sentences.append(_say("dims", f"{start}{name} has no dimensions: it is a single number."))
        else:
            dims = ", ".join(f"{_mark(label)}: {size}" for label, size in zip(term, shape))
            sentences.append(_say("dims", f"{start}{name} has {_plural(len(shape), 'dimension')} ({dims})."))
    letters = eq.labels
    # einops' notation names axes with words: call them what the user wrote.
    unit = "unique letter" if eq.notation == "numpy" else "axis name"
    if letters:
        sentences.append(_say("letters", f"The subscripts have {_plural(len(letters), unit)}: "
                              f"{', '.join(_mark(x) for x in letters)}."))
    else:
        sentences.append(_say("letters", "The subscripts have no " + unit.split()[-1] + "s"
                              + (", only '...'." if eq.has_ellipsis else ".")))
    if not eq.explicit:
        sentences.append(_implicit_sentence(eq))
    sentences += _repeated_sentences(p)
    for k, (name, term) in enumerate(zip(names, p.terms)):
        for axis, label in enumerate(term):
            if p.is_broadcast(k, axis):
                sentences.append(_say("broadcast", f"{name}'s axis {axis} has size 1, so its one cell is reused "
                                      f"for every {_mark(label)} ({_mark(label)}: {p.sizes[label]})."))
    sentences.append(_summed_sentence(p))
    sentences.extend(_free_sentences(p))
    sentences.append(_steps_sentence(p))
    if match is not None:
        sentences.append(_say("pattern", match.gloss))
        sentences.append(_say("numpy", f"In plain numpy: {match.equivalent}"))
    return sentences


def _written(eq: Equation) -> str:
    """``str(eq)`` with its labels marked (:func:`_mark`)."""
    def marked(term: Sequence[str], sep: str) -> str:
        return sep.join(x if x == ELLIPSIS else _mark(x) for x in term)

    if eq.notation == "einops":
        inputs = ", ".join(marked(term, " ") for term in eq.terms)
        return f"{inputs} -> {marked(eq.output, ' ')}".rstrip()
    inputs = ",".join(marked(term, "") for term in eq.terms)
    return f"{inputs}->{marked(eq.output, '')}" if eq.explicit else inputs


def _repeated_sentences(p: LoopPlan) -> list[Sentence]:
    """A label repeated inside one term: the diagonal einsum walks."""
    sentences = []
    for name, term in zip(p.names, p.terms):
        for label, n in Counter(term).items():
            if n > 1:
                times = _TIMES.get(n, f"{n} times")
                axes = "both" if n == 2 else f"all {_number(n)}"
                sentences.append(_say("repeated", f"{_mark(label)} appears {times} in {name}, so einsum walks "
                                      f"{name}'s diagonal: only the cells where {axes} {_mark(label)} axes "
                                      "have the same index."))
    return sentences


def _ellipsis_sentences(p: LoopPlan) -> list[Sentence]:
    if not p.ellipsis:
        return [_say("ellipsis", "'...' stands for no dimensions here, so it changes nothing.")]
    dims = ", ".join(f"{_mark(label)}: {p.sizes[label]}" for label in p.ellipsis)
    noun = "dimension" if len(p.ellipsis) == 1 else "dimensions"
    sentences = [_say("ellipsis", f"'...' stands for the broadcast {noun} {_labels(p.ellipsis)} ({dims}).")]
    for name, source, term in zip(p.names, p.equation.terms, p.terms):
        if ELLIPSIS not in source:
            continue
        covered = [label for label in p.ellipsis if label in term]
        missing = [label for label in p.ellipsis if label not in term]
        if missing:
            what = f"covers only {_labels(covered)}" if covered else "covers no dimensions"
            sentences.append(_say("ellipsis", f"In {name}, '...' {what}, so {name} is reused for every "
                                  f"{_labels(missing)}."))
    return sentences


def _implicit_sentence(eq: Equation) -> Sentence:
    letters = [x for x in eq.output if x != ELLIPSIS]
    out = "".join(x if x == ELLIPSIS else _mark(x) for x in eq.output)
    start = "No '->' is given, so the output is "
    if ELLIPSIS in eq.output:
        start += "the '...' dimensions, then "
    if not letters:
        if ELLIPSIS in eq.output:
            return _say("implicit", start + "no letters, since none appears once: ...")
        return _say("implicit", start + "the letters that appear once: none do, so the result is a single number.")
    order = "alphabetical order"
    if any(x.isupper() for x in letters) and any(x.islower() for x in letters):
        order += " (capitals first)"
    return _say("implicit", start + f"the letters that appear once, in {order}: {out}.")


def _summed_sentence(p: LoopPlan) -> Sentence:
    if not p.summed:
        if p.n_operands == 1:
            return _say("summed", f"No letter is summed, so each output cell is one cell of {p.names[0]}.")
        return _say("summed", "No letter is summed, so each output cell is a single product: nothing is added up.")
    groups: dict[tuple[str, ...], list[str]] = {}
    for label in p.summed:
        holders = tuple(name for name, term in zip(p.names, p.terms) if label in term)
        groups.setdefault(holders, []).append(label)
    clauses = [
        f"{_labels(labels)} {'appears' if len(labels) == 1 else 'appear'} in {_and(holders)}"
        for holders, labels in groups.items()
    ]
    n = len(p.summed)
    tail = {1: "but not in the output, so it is summed", 2: "but neither is in the output, so both are summed"}
    what = "values" if p.n_operands == 1 else "products"
    where = "the single output number adds up all the" if not p.output else "each output cell adds up the"
    joined = ", and ".join(clauses) + ("," if len(clauses) > 1 else "")
    return _say("summed", f"{joined} {tail.get(n, 'but none of them is in the output, so all are summed')}: "
                f"{where} {what} along {_labels(p.summed)}.")


def _free_sentences(p: LoopPlan) -> list[Sentence]:
    if not p.output:
        return [_say("free", "Nothing is left for the output, so the result is a single number.")]
    verb, pronoun = ("is", "it is") if len(p.output) == 1 else ("are", "they are")
    sentences = [_say("free", f"{_labels(p.output)} {verb} in the output, so {pronoun} kept: the output has "
                      f"shape {_shape(p.out_shape)}.")]
    seen = [label for label in dict.fromkeys(x for term in p.terms for x in term) if label in p.output]
    if tuple(seen) != p.output:
        sentences.append(_say("order", f"The output lists them as {', '.join(_mark(x) for x in p.output)}, so "
                              "the result's axes come in that order."))
    return sentences


def _steps_sentence(p: LoopPlan) -> Sentence:
    if not p.labels:
        return _say("steps", "There is nothing to loop over: one step makes the result.")
    sizes = [p.sizes[label] for label in p.labels]
    loops = "The loop runs" if len(sizes) == 1 else "The loops run"
    count = f"{p.n_steps:,} step{'' if p.n_steps == 1 else 's'}"
    figure = count if len(sizes) == 1 else f"{' × '.join(map(str, sizes))} = {count}"
    sentence = f"{loops} over {_labels(p.labels)}: {figure}"
    if not p.summed and p.n_steps:
        # Nothing is added up: a step writes its output cell once (a copy multiplies nothing).
        sentence += (f", each copying one cell of {p.names[0]}" if p.n_operands == 1
                     else ", each writing one product")
    if p.n_steps == 0:
        if not p.output:
            sentence += ", so the result stays 0"
        else:
            sentence += ", so every output cell stays 0" if math.prod(p.out_shape) else ", and the output is empty"
    return _say("steps", sentence + ".")
