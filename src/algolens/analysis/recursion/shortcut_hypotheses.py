"""Shortcut hypotheses for recursion runs: built-in families per function, and user-written ones
from ``FILE.py:NAME``.

A hypothesis is a plain function on input values with the run function's signature (``f(n)``
for a number, ``f(t)`` for a tree) that returns what a shortcut would answer.
:func:`algolens.analysis.recursion.shortcuts.score_hypotheses` scores it against the model's greedy
answers, separately where the model is right and wrong.

Built in (:func:`builtin_hypotheses`), each family with a depth or width ``k = 0..max_size`` and
the exact function, so the exact function is always one candidate:

* ``successor``: the carry runs through at most the first ``k`` bits (:func:`carry_limited`);
  after a run of at least ``k`` ones one ``B0`` too many is written (:func:`run_overcounted`);
* ``predecessor``: the borrow runs through at most the first ``k`` bits (:func:`borrow_limited`);
* ``inorder``, ``postorder``: the traversal is followed down to depth ``k``; a subtree rooted at
  depth ``k`` is written in prompt order (its preorder), as a model that copies labels would
  (:func:`traversal_limited`); plus the plain "labels in prompt order" and "reverse prompt
  order" readings;
* ``preorder``: "labels in prompt order" is the exact function (the prompt is prefix order);
  "reverse prompt order" and the other traversals are the alternatives;
* ``mirror``: subtrees swapped only down to depth ``k`` (:func:`mirror_limited`).

User hypotheses (:func:`load_user_hypotheses`) are loaded like user functions
(:mod:`algolens.tasks.recursion.user`: the file runs in the command's worker process under a time
limit, a missing name, bad annotations or a failing import are one ``UserFunctionError`` line),
must take the run's argument kinds, and are called by :func:`table_hypothesis` in the worker, all
inputs at once, under the per-call time limit: a call that raises, loops, ends the worker or
returns the wrong type is one ``UserFunctionError`` line, never a silent mismatch; what it prints
never reaches this process's output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from algolens.tasks.recursion.functions import FUNCTIONS, RecursiveFunction, preorder
from algolens.tasks.recursion.tokens import Kind
from algolens.tasks.recursion.user import UserFunctionError, call_all, load_user_function
from algolens.tasks.recursion.values import Bin, Leaf, Node, Tree, bits, from_bits

Hypothesis = Callable[..., object]


def carry_limited(k: int) -> Hypothesis:
    """Successor whose carry runs through at most the first ``k`` bits: a carry into bit ``k``
    sets it to 1 whatever it held; the number grows only when it has at most ``k`` bits, all 1."""
    return _ripple_limited(k, 0, f"carry_limited_{k}")


def run_overcounted(k: int) -> Hypothesis:
    """Successor that, after a run of at least ``k`` trailing ones, writes one ``B0`` too many:
    the true answer with a ``B0`` inserted at the run's end and its last bit dropped (length
    kept). Added after reading a quick successor model's wrong answers (docs/recursion.md)."""

    def f(n: Bin) -> Bin:
        true = bits(FUNCTIONS["successor"].fn(n))
        run = next((i for i, b in enumerate(bits(n)) if b == 0), len(bits(n)))
        if run < k:
            return from_bits(true)
        return from_bits([*true[:run], 0, *true[run:-1]])

    f.__name__ = f"run_overcounted_{k}"
    return f


def borrow_limited(k: int) -> Hypothesis:
    """Predecessor whose borrow runs through at most the first ``k`` bits: a borrow into bit ``k``
    clears it whatever it held; an all-zero number of at most ``k`` bits is returned unchanged
    (as ``max(n - 1, 0)``)."""
    return _ripple_limited(k, 1, f"borrow_limited_{k}")


def _ripple_limited(k: int, stop: int, name: str) -> Hypothesis:
    """The ripple of successor (``stop`` 0: low ones become zeros up to the first zero, which
    becomes one) or predecessor (``stop`` 1: low zeros become ones up to the first one, which
    becomes zero), cut at bit ``k``: bit ``k`` is set to ``1 - stop`` whatever it held. When no
    bit within reach stops it (at most ``k`` bits, all ``1 - stop``), successor grows by a bit
    and predecessor returns the number (zero) unchanged."""

    def f(n: Bin) -> Bin:
        bs, out = bits(n), list(bits(n))
        for i, b in enumerate(bs):
            if i == k or b == stop:
                out[i] = 1 - stop
                return from_bits(out)
            out[i] = stop
        return from_bits([*out, 1]) if stop == 0 else from_bits(bs)

    f.__name__ = name
    return f


def traversal_limited(order: str, k: int) -> Hypothesis:
    """``order`` (``inorder`` or ``postorder``) followed down to depth ``k`` (the root is depth
    0); a subtree rooted at depth ``k`` is written in prompt order (its preorder)."""

    def walk(t: Tree, d: int) -> list[int]:
        match t:
            case Leaf():
                return []
            case Node(label, left, right):
                if d >= k:
                    return preorder(t)
                lo, hi = walk(left, d + 1), walk(right, d + 1)
                return [*lo, label, *hi] if order == "inorder" else [*lo, *hi, label]
        raise TypeError(f"{order} takes a tree, got {type(t).__name__}")

    def f(t: Tree) -> list[int]:
        return walk(t, 0)

    f.__name__ = f"{order}_limited_{k}"
    return f


def mirror_limited(k: int) -> Hypothesis:
    """Mirror that swaps subtrees only at nodes of depth below ``k`` (the root is depth 0)."""

    def walk(t: Tree, d: int) -> Tree:
        match t:
            case Node(label, left, right) if d < k:
                return Node(label, walk(right, d + 1), walk(left, d + 1))
        return t

    def f(t: Tree) -> Tree:
        return walk(t, 0)

    f.__name__ = f"mirror_limited_{k}"
    return f


def _reverse_prompt_order(t: Tree) -> list[int]:
    return preorder(t)[::-1]


def builtin_hypotheses(function: str | None, max_size: int) -> dict[str, Hypothesis]:
    """Named hypotheses for a built-in function (module docstring); none for other functions."""
    ks = range(max_size + 1)
    exact: dict[str, Hypothesis] = (
        {f"exact {function}": FUNCTIONS[function].fn} if function in FUNCTIONS else {}
    )
    if function == "successor":
        over = {f"one B0 too many after a run of {k}+ ones": run_overcounted(k) for k in ks[1:]}
        return {f"carry through at most {k} bits": carry_limited(k) for k in ks} | over | exact
    if function == "predecessor":
        return {f"borrow through at most {k} bits": borrow_limited(k) for k in ks} | exact
    copies: dict[str, Hypothesis] = {
        "labels in prompt order": preorder,
        "labels in reverse prompt order": _reverse_prompt_order,
    }
    if function in ("inorder", "postorder"):
        limited = {
            f"{function} down to depth {k}, then prompt order": traversal_limited(function, k)
            for k in ks
        }
        return limited | copies | exact
    if function == "preorder":
        others = {"inorder": FUNCTIONS["inorder"].fn, "postorder": FUNCTIONS["postorder"].fn}
        return copies | others | exact
    if function == "mirror":
        return {f"swap subtrees down to depth {k}": mirror_limited(k) for k in ks} | exact
    return {}


def load_user_hypotheses(
    specs: Sequence[str], arg_kinds: Sequence[Kind]
) -> dict[str, RecursiveFunction]:
    """The functions ``FILE.py:NAME`` of ``specs``, loaded under the user-function guards and
    checked to take ``arg_kinds``.

    Raises:
        UserFunctionError: a spec that is not ``FILE.py:NAME``, a file that cannot be loaded, or a
            function whose arguments are not the run's.
    """
    out: dict[str, RecursiveFunction] = {}
    for spec in specs:
        path, sep, name = spec.rpartition(":")
        if not sep or not path.endswith(".py") or not name.isidentifier():
            raise UserFunctionError(f"--hypothesis {spec!r} is not FILE.py:NAME")
        f = load_user_function(Path(path), name)
        if tuple(f.arg_kinds) != tuple(arg_kinds):
            raise UserFunctionError(
                f"hypothesis {spec} takes ({', '.join(f.arg_kinds)}) but the run's function "
                f"takes ({', '.join(arg_kinds)}); annotate its arguments Bin or Tree to match"
            )
        out[spec] = f
    return out


def table_hypothesis(f: RecursiveFunction, inputs: Sequence[tuple[object, ...]]) -> Hypothesis:
    """``f`` called once on every input under the user-function time limits (:func:`call_all`),
    as a hypothesis that looks its answers up.

    Raises:
        UserFunctionError: a call that raises, runs too long or returns a value of no kind.
    """
    answers, _ = call_all(f, inputs)
    table = dict(zip(inputs, answers))

    def h(*x: object) -> object:
        return table[x]

    h.__name__ = f.name
    return h
