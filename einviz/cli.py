"""The ``einviz`` command: plan an einsum on small example operands and print it.

A minimal first version: it prints the loop plan, the loop code, the formula, the example
operands and the result. Bad input prints einviz's message (culprit marked) and exits 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

import numpy as np

from . import __version__
from .errors import EinvizError
from .plan import einsum, plan
from .subscripts import ELLIPSIS, parse

__all__ = ["example_operands", "main"]

#: Sizes given to the labels, in order of first appearance, cycling.
EXAMPLE_SIZES = (2, 3, 4)


def example_operands(subscripts: str) -> list[np.ndarray]:
    """Small integer operands for subscripts: sizes 2, 3, 4, 2, … by label, values from arange.

    A ``...`` stands for one dimension of size 2.

    Args:
        subscripts: the subscripts text.

    Returns:
        One array per term, ``np.arange(n).reshape(shape)``.

    Raises:
        SubscriptError: the subscripts are not valid.

    >>> [a.shape for a in example_operands("ij,jk->ik")]
    [(2, 3), (3, 4)]
    """
    equation = parse(subscripts)
    sizes: dict[str, int] = {}
    for term in equation.terms:
        for label in term:
            if label != ELLIPSIS and label not in sizes:
                sizes[label] = EXAMPLE_SIZES[len(sizes) % len(EXAMPLE_SIZES)]
    operands = []
    for term in equation.terms:
        shape = tuple(2 if label == ELLIPSIS else sizes[label] for label in term)
        operands.append(np.arange(math.prod(shape)).reshape(shape))
    return operands


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="einviz",
        description="Explain an einsum: its loop plan, loop code and formula, run on small "
        "example operands (sizes 2, 3, 4 by label; values from arange).",
        epilog='example: einviz "ij,jk->ik"',
    )
    parser.add_argument("subscripts", help='einsum subscripts, e.g. "ij,jk->ik" (quote them)')
    parser.add_argument("--version", action="version", version=f"einviz {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0, or 2 for bad input).

    Args:
        argv: the arguments (default ``sys.argv[1:]``).

    >>> main(["ij->i"])  # doctest: +ELLIPSIS
    LoopPlan  ij->i
    ...
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    # Subscripts with an empty first term ("->", "->i") start like an option: mark them.
    for k, arg in enumerate(argv):
        if arg.startswith("->") and "--" not in argv[:k]:
            argv.insert(k, "--")
            break
    args = _parser().parse_args(argv)
    try:
        operands = example_operands(args.subscripts)
        loop_plan = plan(args.subscripts, *operands)
        result = einsum(args.subscripts, *operands)
    except EinvizError as error:
        print(f"einviz: {error}", file=sys.stderr)
        return 2
    print(loop_plan)
    print()
    print(loop_plan.formula())
    print()
    print(loop_plan.loop_code())
    print()
    with np.printoptions(threshold=200, linewidth=100):
        for name, operand in zip(loop_plan.names, operands):
            print(f"{name} {operand.shape} =\n{operand}")
        print(f"out {np.shape(result)} =\n{np.asarray(result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
