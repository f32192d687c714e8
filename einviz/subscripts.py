"""Parse einsum subscripts (text or numpy's sublist form) into an :class:`Equation`.

This stage knows nothing of shapes or arrays: it reads the notation, checks its syntax the
way numpy does, works out the output of implicit mode, and remembers where every label stood
in the text so later errors can put a caret under it.
"""

from __future__ import annotations

import itertools
import keyword
import operator
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from .errors import ArgumentTypeError, SubscriptError, quoted

__all__ = ["ELLIPSIS", "NOTATIONS", "Equation", "parse", "parse_call", "parse_sublists"]

#: How an ellipsis stands in a term's labels.
ELLIPSIS = "..."

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: How :func:`parse` may read subscripts: ``"auto"`` tells the two notations apart (see
#: :func:`parse`), ``"numpy"`` is numpy's (one letter a label, spaces ignored), ``"einops"``
#: is einops' (``"batch seq, seq dim -> batch dim"``: words separated by spaces).
NOTATIONS = ("auto", "numpy", "einops")
_LABEL_HINT = "labels are the letters a-z and A-Z; terms are separated by ',' and '->' starts the output"
_MISSING_HINT = (
    "the first argument is the subscripts text, as in einsum('ij->i', A), or an operand "
    "followed by its sublist, as in einsum(A, [0, 1], [0])"
)


@dataclass(frozen=True)
class Equation:
    """Parsed subscripts: the labels of each input term and of the output.

    Attributes:
        terms: the labels of each operand, one tuple per operand; an ellipsis is ``"..."``.
        output: the labels of the output (worked out by numpy's rule in implicit mode).
        explicit: whether the text gave the output after ``->``.
        source: the text as written (not part of equality).
        term_positions: for each term, the column in ``source`` of each label.
        output_positions: the column in ``source`` of each output label (``-1`` when implicit).

    ``str(eq)`` is the canonical text and ``parse(str(eq)) == eq``. A hand-made equation is
    checked as :func:`parse` checks text (a term may be given as text, ``"ij"``):

    >>> Equation(("ij", "jk"), "ik", explicit=True)
    Equation(terms=(('i', 'j'), ('j', 'k')), output=('i', 'k'), explicit=True)
    >>> Equation((("i",),), ("k",), explicit=True)
    Traceback (most recent call last):
    ...
    einviz.errors.SubscriptError: output label 'k' does not appear in any input
        i->k
           ^
      input labels: i
      hint: every output label must name an axis of some operand

    >>> eq = parse("ij, jk")
    >>> eq.terms, eq.output, eq.explicit
    ((('i', 'j'), ('j', 'k')), ('i', 'k'), False)
    >>> str(eq)
    'ij,jk'

    Labels may be words, as in einops' notation; such an equation is written back in it:

    >>> eq = parse("batch seq, seq dim -> batch dim")
    >>> eq.terms, eq.notation, str(eq)
    ((('batch', 'seq'), ('seq', 'dim')), 'einops', 'batch seq, seq dim -> batch dim')
    >>> eq.numpy_text()
    'ab,bc->ac'
    """

    terms: tuple[tuple[str, ...], ...]
    output: tuple[str, ...]
    explicit: bool
    source: str = field(default="", compare=False, repr=False)
    term_positions: tuple[tuple[int, ...], ...] = field(default=(), compare=False, repr=False)
    output_positions: tuple[int, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def _parsed(
        cls,
        terms: tuple[tuple[str, ...], ...],
        output: tuple[str, ...],
        explicit: bool,
        source: str,
        term_positions: tuple[tuple[int, ...], ...],
        output_positions: tuple[int, ...],
    ) -> Equation:
        """An equation :func:`parse` has already checked: made without checking it again."""
        equation = cls.__new__(cls)
        for name, value in (("terms", terms), ("output", output), ("explicit", explicit),
                            ("source", source), ("term_positions", term_positions),
                            ("output_positions", output_positions)):
            object.__setattr__(equation, name, value)
        return equation

    def __post_init__(self) -> None:
        # Frozen: the normalised labels are set through object.__setattr__.
        terms = self.terms
        if isinstance(terms, (str, bytes)) or not hasattr(terms, "__iter__"):
            raise ArgumentTypeError(
                f"an Equation's terms must be a sequence of terms, not {type(terms).__name__}",
                hint="e.g. Equation(terms=(('i', 'j'), ('j', 'k')), output=('i', 'k'), "
                     "explicit=True), or parse('ij,jk->ik')",
            )
        object.__setattr__(self, "terms", tuple(_labels_of(t, f"term {k}") for k, t in enumerate(terms)))
        object.__setattr__(self, "output", _labels_of(self.output, "the output"))
        if not isinstance(self.explicit, bool):
            raise ArgumentTypeError(f"explicit must be True or False, not {self.explicit!r}",
                                    hint="explicit says whether the text has '->'")
        _check_hand_made(self)

    def __str__(self) -> str:
        if self.notation == "einops":
            inputs = ", ".join(" ".join(term) for term in self.terms)
            return f"{inputs} -> {' '.join(self.output)}".rstrip()
        inputs = ",".join("".join(term) for term in self.terms)
        return f"{inputs}->{''.join(self.output)}" if self.explicit else inputs

    @property
    def notation(self) -> str:
        """``"einops"`` when a label is a word (``batch``), else ``"numpy"``; ``str(eq)`` is
        written in it."""
        return "einops" if any(_is_word(label) for term in (*self.terms, self.output)
                               for label in term) else "numpy"

    def numpy_text(self) -> str:
        """The equation in numpy's notation, for a library's einsum: each word label becomes a
        letter (a one-letter word keeps its letter when it can; others take the first letters
        still free, in order of appearance).

        >>> parse("b h q d, b h k d -> b h q k").numpy_text()
        'bhqd,bhkd->bhqk'
        >>> parse("x1 y, y -> x1").numpy_text()
        'ay,y->a'
        """
        if self.notation == "numpy":
            return str(self)
        words = list(dict.fromkeys(label for term in (*self.terms, self.output)
                                   for label in term if label != ELLIPSIS))
        if len(words) > len(_LETTERS):
            raise SubscriptError(f"{len(words)} axis names are more than numpy's 52 letters",
                                 subscripts=self.text_for_carets(),
                                 hint="numpy, torch and jax take at most 52 labels")
        letters = {word: word for word in words if len(word) == 1}
        free = iter(letter for letter in _LETTERS if letter not in letters)
        for word in words:
            if word not in letters:
                letters[word] = next(free)
        written = [",".join("".join(letters.get(x, x) for x in term) for term in self.terms),
                   "".join(letters.get(x, x) for x in self.output)]
        return "->".join(written) if self.explicit else written[0]
    @property
    def n_operands(self) -> int:
        """The number of operands the subscripts name."""
        return len(self.terms)

    @property
    def labels(self) -> tuple[str, ...]:
        """Every distinct label of the inputs, in order of first appearance (no ellipsis)."""
        seen = dict.fromkeys(label for term in self.terms for label in term if label != ELLIPSIS)
        return tuple(seen)

    @property
    def has_ellipsis(self) -> bool:
        """Whether any input term has an ellipsis."""
        return any(ELLIPSIS in term for term in self.terms)

    @property
    def example_ellipsis(self) -> tuple[int, ...]:
        """The dims ``...`` gets in made-up example operands: one of size 2, or none when the
        output drops ``...`` (numpy then allows it only 0-d, as in ``"...->"``).

        >>> parse("...ij->...ji").example_ellipsis, parse("...i->i").example_ellipsis
        ((2,), ())
        """
        return (2,) if ELLIPSIS in self.output else ()

    def _repr_html_(self) -> str:
        """The terms and the output as a table, for a notebook."""
        from ._reprs import table_html

        rows = [[f"input {k}", " ".join(term) or "(a scalar)"] for k, term in enumerate(self.terms)]
        rows.append(["output", " ".join(self.output) or "(a scalar)"])
        how = ("explicit: the output follows '->'" if self.explicit
               else "implicit: the output is the labels seen once, sorted")
        return table_html("einviz-equation", f"Equation {self}", ["term", "labels"], rows, [how])

    def text_for_carets(self) -> str:
        """The text that ``term_positions`` and ``output_positions`` refer to."""
        return self.source if self.source else str(self)


def parse(subscripts: str | bytes, notation: str = "auto") -> Equation:
    """Parse einsum subscripts text, in numpy's notation or in einops'.

    numpy's notation: one letter a label, spaces ignored. einops' notation (``einops.einsum``):
    axis names are words separated by spaces, terms by ``,``, and ``->`` is required; ``...``
    is the ellipsis, as in numpy. With ``notation="auto"`` the text is read as einops' when
    (a) it has ``->``, a term holds two or more words and one word of the text is longer
    than one letter (``"batch seq, seq dim -> batch dim"``), or (b) a word is a name with a digit or ``_``
    (``"x1, x1 -> x1"``), which numpy's notation cannot hold; either way the text has a space
    between its words (``"ij,j1->i"`` is numpy's, with a slip); otherwise as numpy's (``"ij, jk -> ik"``,
    ``"b i j, b j k -> b i k"``, which reads the same either way). When einops' reading finds
    a mistake, numpy's is tried (spaced numpy text such as ``"ab c, c -> a b"`` stays numpy's);
    text that fits neither is refused with both readings' reasons. Text whose every term is one
    word (``"batch, batch -> batch"``) is numpy's unless ``notation="einops"`` says otherwise.

    Args:
        subscripts: e.g. ``"ij,jk->ik"`` (explicit), ``"ij,jk"`` (implicit: the output is
            the labels seen once, sorted), ``"...ij->...ji"`` (ellipsis), ``"ii->i"``, or
            ``"batch seq, seq dim -> batch dim"``. ``bytes`` are read as text, as numpy
            reads them.
        notation: ``"auto"`` (default), ``"numpy"`` or ``"einops"``.

    Returns:
        The :class:`Equation`, with the source position of every label.

    Raises:
        SubscriptError: the text is not valid einsum syntax (the message marks the culprit;
            for text that could be in either notation it says how each reads it).
        ArgumentTypeError: ``subscripts`` is not a string, or ``notation`` is not one of
            :data:`NOTATIONS`.

    >>> parse("ij,jk->ik").output
    ('i', 'k')
    >>> parse("ba").output  # implicit mode sorts the output
    ('a', 'b')
    >>> parse("batch seq, seq dim -> batch dim").output
    ('batch', 'dim')
    >>> parse("batch, batch -> batch", notation="einops").terms
    (('batch',), ('batch',))
    """
    if notation not in NOTATIONS:
        raise ArgumentTypeError(f"notation must be one of {', '.join(map(repr, NOTATIONS))}, "
                                f"not {notation!r}",
                                hint="notation='einops' reads words as axis names")
    # bytes are numpy's (as numpy reads them) unless notation= says otherwise
    numpy_text = not isinstance(subscripts, str) or not looks_einops(subscripts)
    if notation == "numpy" or (notation == "auto" and numpy_text):
        return _parse_numpy(subscripts)
    if isinstance(subscripts, bytes):
        subscripts = subscripts.decode("latin-1")
    if not isinstance(subscripts, str):
        return _parse_numpy(subscripts)  # says what a string must be
    if notation == "einops":
        return _parse_einops(subscripts)
    try:
        return _parse_einops(subscripts)
    except SubscriptError as error:
        einops_error = error
    try:  # numpy's reading, where einops' finds a mistake: the text may be numpy's, spaced
        return _parse_numpy(subscripts)
    except SubscriptError as numpy_error:
        raise _both_readings(subscripts, einops_error, numpy_error) from None


def looks_einops(text: str) -> bool:
    """Whether ``notation="auto"`` reads ``text`` as einops' notation (see :func:`parse`).

    >>> looks_einops("batch seq, seq dim -> batch dim"), looks_einops("ij, jk -> ik")
    (True, False)
    """
    if not any(char.isspace() for char in text.strip()):
        return False  # einops' words are separated by spaces; 'ij,j1->i' is numpy's (a slip)
    words = [word for word in text.replace(",", " ").replace("->", " ").split() if word != ELLIPSIS]
    if any(word.isidentifier() and word.isascii() and not word.isalpha() for word in words):
        return True  # a name with a digit or '_' (x1, in_dim): numpy's notation has none
    if "->" not in text or not any(len(word) > 1 for word in words):
        return False  # einops' notation always has '->'
    return any(len(term.split()) > 1 for part in text.split("->") for term in part.split(","))


def _both_readings(text: str, error: SubscriptError, numpy_error: SubscriptError) -> SubscriptError:
    """Text that fits neither notation: einops' reading's mistake, marked, and numpy's."""
    return SubscriptError(
        error.problem + " (read as einops' notation: words as axis names)",
        subscripts=text, positions=error.positions,
        details=[*error.details,
                 f"read as numpy's notation (one letter a label): {numpy_error.problem}"],
        hint=error.hint)


def _parse_numpy(subscripts: Any) -> Equation:
    """Parse subscripts text as numpy reads it."""
    if isinstance(subscripts, bytes):
        subscripts = subscripts.decode("latin-1")  # one character per byte: carets stay put
    if not isinstance(subscripts, str):
        raise ArgumentTypeError(
            f"subscripts must be a string, not {type(subscripts).__name__}",
            hint="write einsum('ij,jk->ik', A, B), or the sublist form einsum(A, [0, 1], B, [1, 2])",
        )
    text = subscripts
    scanned = _scan_simple(text) or _scan(text)
    return _equation_of(scanned, text)


def _equation_of(scanned: _Scanned, text: str) -> Equation:
    """The equation of scanned text, its implicit output worked out or its output checked."""
    terms, positions, output, output_positions = scanned
    if output is None:
        return Equation._parsed(terms, _implicit_output(terms), False, text, positions, ())
    _check_output(terms, list(output), list(output_positions), text)
    return Equation._parsed(terms, output, True, text, positions, output_positions)


_Scanned = tuple[tuple[tuple[str, ...], ...], tuple[tuple[int, ...], ...],
                 "tuple[str, ...] | None", tuple[int, ...]]

_ELLIPSIS_TERM = (ELLIPSIS,)

#: The characters of simple text: letters, ',', the dots of '...' and the '->'.
_SIMPLE_CHARACTERS = frozenset(_LETTERS + ",.->")


def _is_simple(text: str) -> bool:
    """Whether text is letters, commas, '...' and at most one '->' with no ',' after it:
    checked by counting (no regular expression: its backtracking stack grows with the text)."""
    if not _SIMPLE_CHARACTERS.issuperset(text):
        return False
    arrows = text.count("->")
    if arrows > 1 or text.count("-") != arrows or text.count(">") != arrows:
        return False
    if arrows and "," in text[text.index("->"):]:
        return False
    return "." not in text.replace(ELLIPSIS, "")


def _scan_simple(text: str) -> _Scanned | None:
    """The terms and output of text without spaces or mistakes, with their columns, read a
    term at a time; ``None`` when the text is not that simple (then :func:`_scan` reads it,
    and finds any mistake)."""
    if not _is_simple(text):
        return None
    inputs, arrow, output_text = text.partition("->")
    pieces = inputs.split(",")
    # Where each term starts: one past the comma before it.
    starts = list(itertools.accumulate(map((1).__add__, map(len, pieces[:-1])), initial=0))
    # The two common terms (letters alone, a lone '...') are made inline, without a call
    # per term: 250,000 terms take a fraction of a second.
    terms = [tuple(piece) if "." not in piece else _ELLIPSIS_TERM if piece == ELLIPSIS else None
             for piece in pieces]
    positions = [tuple(range(start, start + len(piece))) if "." not in piece else (start,)
                 for piece, start in zip(pieces, starts)]
    for k, term in enumerate(terms):
        if term is None:  # letters beside an ellipsis: the rare case
            scanned = _simple_term(pieces[k], starts[k])
            if scanned is None:
                return None
            terms[k], positions[k] = scanned
    output = _simple_term(output_text, len(inputs) + 2) if arrow else ((), ())
    if output is None:
        return None
    read = cast("list[tuple[str, ...]]", terms)  # every None was replaced above
    return tuple(read), tuple(positions), output[0] if arrow else None, output[1]


def _simple_term(piece: str, offset: int) -> tuple[tuple[str, ...], tuple[int, ...]] | None:
    if "." not in piece:
        return tuple(piece), tuple(range(offset, offset + len(piece)))
    if piece == ELLIPSIS:
        return _ELLIPSIS_TERM, (offset,)
    head, _, tail = piece.partition(ELLIPSIS)
    if "." in tail:  # a second ellipsis: _scan says so
        return None
    middle = offset + len(head)
    return ((*head, ELLIPSIS, *tail),
            (*range(offset, middle), middle, *range(middle + 3, offset + len(piece))))


def _scan(text: str) -> _Scanned:
    """Read subscripts text a character at a time; raise on the first mistake."""
    terms: list[list[str]] = [[]]
    positions: list[list[int]] = [[]]
    output: list[str] | None = None
    output_positions: list[int] = []
    i = 0
    while i < len(text):
        char = text[i]
        labels, cols = (terms[-1], positions[-1]) if output is None else (output, output_positions)
        if char == " ":
            i += 1
        elif char in _LETTERS:
            labels.append(char)
            cols.append(i)
            i += 1
        elif char == ",":
            if output is not None:
                raise SubscriptError(
                    "the output cannot have a ','",
                    subscripts=text, positions=[i],
                    hint="the output after '->' is a single term",
                )
            terms.append([])
            positions.append([])
            i += 1
        elif char == "-" or char == ">":
            if char == ">" or text[i + 1 : i + 2] != ">":
                raise SubscriptError(
                    f"'{char}' must be part of an arrow '->'",
                    subscripts=text, positions=[i],
                    hint="write the output after '->', as in 'ij->i'",
                )
            if output is not None:
                raise SubscriptError(
                    "the subscripts have more than one '->'",
                    subscripts=text, positions=[text.index("->"), i],
                    hint="one '->' separates the inputs from the output",
                )
            output = []
            i += 2
        elif char == ".":
            _check_ellipsis(text, i, labels, cols)
            labels.append(ELLIPSIS)
            cols.append(i)
            i += 3
        else:
            raise SubscriptError(
                f"{quoted(char)} is not a valid label",
                subscripts=text, positions=[i], hint=_LABEL_HINT,
            )
    return (tuple(tuple(term) for term in terms), tuple(tuple(p) for p in positions),
            None if output is None else tuple(output), tuple(output_positions))


_EINOPS_HINT = ("in einops' notation axis names are words (letters, digits and '_', not starting "
                "with a digit or '_') separated by spaces, as in 'batch seq, seq dim -> batch dim'")


def _parse_einops(text: str) -> Equation:
    """Parse text in einops' notation: words separated by spaces, terms by ',', '->' required."""
    arrows = [k for k in range(len(text) - 1) if text.startswith("->", k)]
    if not arrows:
        raise SubscriptError(
            "einops' notation needs '->' and the output",
            subscripts=text, positions=[len(text.rstrip())],
            hint="write the output after '->', as in 'batch seq, seq dim -> batch dim'; "
                 "einops.einsum has no implicit mode")
    if len(arrows) > 1:
        raise SubscriptError("the subscripts have more than one '->'", subscripts=text,
                             positions=arrows[:2], hint="one '->' separates the inputs from the output")
    inputs_end = arrows[0]
    terms: list[tuple[str, ...]] = []
    positions: list[tuple[int, ...]] = []
    start = 0
    for piece in text[:inputs_end].split(","):
        words, columns = _einops_term(text, start, start + len(piece))
        terms.append(words)
        positions.append(columns)
        start += len(piece) + 1
    if "," in text[inputs_end:]:
        raise SubscriptError("the output cannot have a ','", subscripts=text,
                             positions=[text.index(",", inputs_end)],
                             hint="the output after '->' is a single term")
    output, output_positions = _einops_term(text, inputs_end + 2, len(text))
    return _equation_of((tuple(terms), tuple(positions), output, output_positions), text)


def _einops_term(text: str, start: int, end: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The words of ``text[start:end]`` and their columns, each checked as einops checks it."""
    words: list[str] = []
    columns: list[int] = []
    k = start
    while k < end:
        if text[k].isspace():
            k += 1
            continue
        first = k
        while k < end and not text[k].isspace():
            k += 1
        word = text[first:k]
        _check_word(text, word, first, words, columns)
        words.append(word)
        columns.append(first)
    return tuple(words), tuple(columns)


def _check_word(text: str, word: str, column: int, words: list[str], columns: list[int]) -> None:
    """Refuse a word einops' notation does not take as an axis name, or a second '...'."""
    where = range(column, column + len(word))
    if word == ELLIPSIS:
        if ELLIPSIS in words:
            raise SubscriptError("a term can have only one ellipsis", subscripts=text,
                                 positions=[columns[words.index(ELLIPSIS)], column],
                                 hint="'...' stands for all the broadcast dimensions at once")
        return
    bad = next((k for k, char in enumerate(word) if not (char.isascii() and (char.isalnum() or char == "_"))), None)
    if bad is not None:
        char = word[bad]
        problem = (f"{quoted(char)} is not part of an axis name" if char not in "()-.>"
                   else "einops.einsum takes no parenthesised groups" if char in "()"
                   else f"{quoted(char)} must be part of '->' or '...', written apart from the names")
        raise SubscriptError(problem, subscripts=text, positions=[column + bad], hint=_EINOPS_HINT)
    if word[0].isdigit() or word[0] == "_" or word[-1] == "_":
        raise SubscriptError(f"{word!r} is not an axis name: it starts with a digit or starts "
                             "or ends with '_'", subscripts=text, positions=where, hint=_EINOPS_HINT)
    if keyword.iskeyword(word):
        raise SubscriptError(f"{word!r} is a Python keyword: einviz's loop code cannot name a "
                             "loop variable so", subscripts=text, positions=where,
                             hint="rename the axis, e.g. 'in_' or 'inputs'")


def _check_ellipsis(text: str, i: int, labels: list[str], cols: list[int]) -> None:
    """Refuse a run of dots at ``i`` that is not one '...', or a term's second '...'."""
    end = i
    while end < len(text) and text[end] == ".":  # counted in place: parsing stays linear
        end += 1
    if end - i != 3:
        raise SubscriptError(
            f"an ellipsis is three dots, not {end - i}",
            subscripts=text, positions=range(i, end),
            hint="write '...' for the broadcast dimensions",
        )
    if ELLIPSIS in labels:
        raise SubscriptError(
            "a term can have only one ellipsis",
            subscripts=text, positions=[cols[labels.index(ELLIPSIS)], i],
            hint="'...' stands for all the broadcast dimensions at once",
        )


def _labels_of(term: Any, where: str) -> tuple[str, ...]:
    """A term's labels as a tuple: a tuple or list of labels, or text such as ``"...ij"``."""
    if isinstance(term, str):
        labels: list[str] = []
        i = 0
        while i < len(term):
            step = 3 if term.startswith(ELLIPSIS, i) else 1
            labels.append(term[i : i + step])
            i += step
        return tuple(labels)
    if isinstance(term, bytes) or not hasattr(term, "__iter__"):
        raise ArgumentTypeError(
            f"{where} of an Equation must be a tuple of labels, not {type(term).__name__}",
            hint="e.g. ('i', 'j'), or the text 'ij'",
        )
    labels = list(term)
    for label in labels:
        if not isinstance(label, str):
            raise ArgumentTypeError(
                f"{where} of an Equation holds {label!r}, which is not a label",
                hint="labels are one-letter strings, or '...' for the ellipsis",
            )
    return tuple(labels)


def _is_word(label: str) -> bool:
    """Whether a label is a word of einops' notation (a name longer than one letter)."""
    return len(label) > 1 and label.isidentifier() and label.isascii()


def _check_hand_made(equation: Equation) -> None:
    """Check an equation made by hand (not by :func:`parse`) as parse checks text."""
    if equation.notation == "einops":  # word labels: checked as einops' notation reads them
        if not equation.explicit:
            raise SubscriptError("einops' notation has no implicit mode: an equation with word "
                                 "labels is explicit", subscripts=str(equation),
                                 hint="pass explicit=True and give the output")
        _parse_einops(str(equation))
        return
    text = str(equation)
    column = 0
    for term in equation.terms:
        seen_ellipsis = -1
        for label in term:
            if label == ELLIPSIS:
                if seen_ellipsis >= 0:
                    raise SubscriptError(
                        "a term can have only one ellipsis",
                        subscripts=text, positions=[seen_ellipsis, column],
                        hint="'...' stands for all the broadcast dimensions at once",
                    )
                seen_ellipsis = column
            elif len(label) != 1 or label not in _LETTERS:
                raise SubscriptError(
                    f"{quoted(label) if len(label) == 1 else repr(label)} is not a valid label",
                    subscripts=text, positions=range(column, column + max(len(label), 1)),
                    hint=_LABEL_HINT,
                )
            column += len(label)
        column += 1  # the ','
    inputs = ",".join("".join(term) for term in equation.terms)
    positions, column = [], len(inputs) + 2
    for label in equation.output:
        positions.append(column)
        column += len(label)
    if not equation.explicit:
        if equation.output != _implicit_output(equation.terms):
            raise SubscriptError(
                "an implicit equation's output must be numpy's: the labels seen once, sorted",
                subscripts=text,
                details=[f"given output: {''.join(equation.output) or '(none)'}",
                         f"implicit:     {''.join(_implicit_output(equation.terms)) or '(none)'}"],
                hint="pass explicit=True to give the output yourself",
            )
        return
    for label, position in zip(equation.output, positions):
        if label != ELLIPSIS and (len(label) != 1 or label not in _LETTERS):
            raise SubscriptError(
                f"{quoted(label) if len(label) == 1 else repr(label)} is not a valid label",
                subscripts=text, positions=range(position, position + max(len(label), 1)),
                hint=_LABEL_HINT,
            )
    _check_output(equation.terms, list(equation.output), positions, text)


def _implicit_output(terms: tuple[tuple[str, ...], ...], key: Any = None) -> tuple[str, ...]:
    counts = Counter(label for term in terms for label in term if label != ELLIPSIS)
    once = sorted((label for label, n in counts.items() if n == 1), key=key)
    ellipsis = (ELLIPSIS,) if any(ELLIPSIS in term for term in terms) else ()
    return ellipsis + tuple(once)


def _check_output(
    terms: tuple[tuple[str, ...], ...], output: list[str], output_positions: list[int], text: str
) -> None:
    inputs = {label for term in terms for label in term}
    seen: dict[str, int] = {}
    for label, column in zip(output, output_positions):
        if label in seen:
            raise SubscriptError(
                f"the output has label {label!r} more than once",
                subscripts=text, positions=[seen[label], column],
                hint="each output label names one axis of the result",
            )
        seen[label] = column
        if label != ELLIPSIS and label not in inputs:
            raise SubscriptError(
                f"output label {label!r} does not appear in any input",
                subscripts=text, positions=[column],
                details=[f"input labels: {', '.join(sorted(inputs - {ELLIPSIS})) or '(none)'}"],
                hint="every output label must name an axis of some operand",
            )


def parse_call(args: Sequence[Any], notation: str = "auto") -> tuple[Equation, list[Any]]:
    """Read the positional arguments of an einsum call, in either of numpy's two forms.

    The first argument is the subscripts (text, ``bytes`` or an :class:`Equation`) followed
    by the operands, or, in the sublist form, the first operand followed by its sublist.
    Text that reads as einops' notation (see :func:`parse`) is read so unless numpy's reading
    is valid and fits the operands' dimensions: every call numpy accepts keeps numpy's meaning.

    Args:
        args: the positional arguments, e.g. ``("ij->i", A)`` or ``(A, [0, 1], [0])``.
        notation: as :func:`parse` takes it.

    Returns:
        The equation and the list of operands.

    Raises:
        SubscriptError: the subscripts are missing (an operand came first with no sublist)
            or are not valid.
        ArgumentTypeError: a sublist is not a list of integers.

    >>> eq, ops = parse_call(["ij->i", "A"])
    >>> str(eq), ops
    ('ij->i', ['A'])
    >>> eq, ops = parse_call([7, [0, 1], [0]])
    >>> str(eq), ops
    ('ab->a', [7])
    >>> import numpy as np
    >>> str(parse_call(["ab c, c -> ab", np.ones((2, 3, 4)), np.ones(4)])[0])  # numpy's fits
    'abc,c->ab'
    >>> str(parse_call(["ab c, c -> ab", np.ones((2, 4)), np.ones(4)])[0])  # einops' fits
    'ab c, c -> ab'
    """
    args = list(args)
    if args and isinstance(args[0], Equation):
        return args[0], args[1:]
    if args and isinstance(args[0], str) and notation == "auto" and looks_einops(args[0]):
        return _reading_that_fits(args[0], args[1:]), args[1:]
    if args and isinstance(args[0], (str, bytes)):
        return parse(args[0], notation), args[1:]
    return parse_sublists(args)


def _reading_that_fits(text: str, operands: Sequence[Any]) -> Equation:
    """Text that reads as einops' notation, with operands: numpy's reading when it is valid
    and fits the operands' dimensions (so a call numpy accepts means what it means to numpy),
    else einops'."""
    try:
        numpy_reading = _parse_numpy(text)
    except SubscriptError:
        return parse(text, "auto")
    if _fits(numpy_reading, operands):
        return numpy_reading
    try:
        return _parse_einops(text)
    except SubscriptError:
        return numpy_reading  # numpy's reading says what does not fit


def _fits(equation: Equation, operands: Sequence[Any]) -> bool:
    """Whether the operands have as many dimensions as the terms name (those whose shape is
    not known fit)."""
    if len(operands) != len(equation.terms):
        return False
    for term, operand in zip(equation.terms, operands):
        shape = getattr(operand, "shape", None)
        if not isinstance(shape, tuple):
            continue
        named = len(term) - (ELLIPSIS in term)
        if len(shape) < named or (ELLIPSIS not in term and len(shape) != named):
            return False
    return True


def parse_sublists(args: Sequence[Any]) -> tuple[Equation, list[Any]]:
    """Parse numpy's sublist form ``(A, [0, 1], B, [1, 2], [0, 2])``.

    Integers 0-25 become the labels a-z and 26-51 become A-Z; ``Ellipsis`` is ``...``.
    Without an output sublist the output follows numpy's implicit rule (labels seen once,
    in increasing order, after the ellipsis), and the equation is made explicit.

    Args:
        args: operands and sublists interleaved, optionally followed by the output sublist.

    Returns:
        The equation and the list of operands.

    Raises:
        SubscriptError: there is no sublist at all (the subscripts are missing), a label is
            out of range, or a sublist holds ``Ellipsis`` twice.
        ArgumentTypeError: a sublist is not a list of integers (and ``Ellipsis``).

    >>> eq, ops = parse_sublists(["A", [0, 1], "B", [1, 2]])
    >>> str(eq), ops
    ('ab,bc->ac', ['A', 'B'])
    """
    args = list(args)
    if len(args) < 2:
        raise SubscriptError(
            "the subscripts are missing",
            details=[f"given: {_describe(args[0])} alone" if args else "given: nothing"],
            hint=_MISSING_HINT,
        )
    operands = args[0::2][: len(args) // 2]
    sublists = args[1::2]
    terms = tuple(_sublist_labels(sublist, f"operand {k}") for k, sublist in enumerate(sublists))
    if len(args) % 2 == 0:
        output = _implicit_output(terms, key=_LETTERS.index)
    else:
        output = _sublist_labels(args[-1], "the output")
    text = ",".join("".join(term) for term in terms) + "->" + "".join(output)
    return parse(text), operands


def _describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        return f"{type(value).__name__} of shape {shape}"
    return f"{type(value).__name__} {value!r}" if isinstance(value, (list, tuple, int, float)) \
        else type(value).__name__


def _is_sequence(value: Any) -> bool:
    """Whether numpy would read ``value`` as a sublist: a sequence (list, tuple, range, a 1-d
    array), not text or a mapping."""
    if isinstance(value, (str, bytes, bytearray, Mapping)):
        return False
    if getattr(value, "ndim", 1) != 1:  # a 0-d or 2-d array is not a list of labels
        return False
    kind = type(value)
    return hasattr(kind, "__len__") and hasattr(kind, "__getitem__") and hasattr(kind, "__iter__")


def _sublist_labels(sublist: Any, where: str) -> tuple[str, ...]:
    if not _is_sequence(sublist):
        ndim = getattr(sublist, "ndim", None)
        what = f"a {ndim}-d array" if isinstance(ndim, int) else type(sublist).__name__
        raise ArgumentTypeError(
            f"the sublist of {where} must be a list of integers, not {what}",
            hint="in the sublist form each operand is followed by a list such as [0, 1]",
        )
    labels = []
    for item in sublist:
        if item is Ellipsis:
            if ELLIPSIS in labels:
                raise SubscriptError(
                    f"the sublist of {where} holds Ellipsis more than once",
                    hint="a sublist may hold Ellipsis once: it stands for all the broadcast "
                         "dimensions at once",
                )
            labels.append(ELLIPSIS)
            continue
        try:
            if isinstance(item, bool):  # an int to Python, but numpy refuses it as a label
                raise TypeError
            number = operator.index(item)
        except TypeError:
            raise ArgumentTypeError(
                f"the sublist of {where} holds {item!r}, which is not an integer or Ellipsis",
                hint="sublist labels are integers from 0 to 51, or Ellipsis",
            ) from None
        if not 0 <= number < len(_LETTERS):
            raise SubscriptError(
                f"the sublist of {where} holds {number}, out of the range 0 to 51",
                hint="sublist labels are integers from 0 to 51 (52 letters)",
            )
        labels.append(_LETTERS[number])
    return tuple(labels)

