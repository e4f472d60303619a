"""Exact counts and uniform draws of binary tree shapes, by size and by a structural measure.

``count(n, h)`` is the number of shapes with ``n`` nodes and depth at most ``h``; ``forests(m,
k)`` the number of sequences of ``k`` shapes with ``m`` nodes in all, which counts the shapes of
``n`` nodes whose left spine (root, its left child, ...) has exactly ``k`` nodes:
``forests(n - k, k)`` (each spine node carries a right subtree). Counts are exact Python ints, so
every draw here is exactly uniform among the shapes it is restricted to (no rejection sampling);
labels are uniform over ``0..n_labels-1``. All randomness comes from the
``numpy.random.Generator`` passed in.

Examples:
    >>> count(3, 3), count(3, 2), forests(2, 1)
    (5, 1, 2)
    >>> import numpy as np
    >>> t = tree_with_left_spine(4, 3, 10, np.random.default_rng(0))
    >>> size(t), left_spine(t)
    (4, 3)
"""

from __future__ import annotations

import bisect
from functools import cache

import numpy as np

from algolens.tasks.recursion.values import Leaf, Node, Tree, size  # noqa: F401  (doctest)


def left_spine(t: Tree) -> int:
    """Nodes on the path from the root through left children (0 for a leaf)."""
    n = 0
    while isinstance(t, Node):
        n, t = n + 1, t.left
    return n


@cache
def forests(m: int, k: int) -> int:
    """Number of sequences of ``k`` tree shapes with ``m`` nodes in all (exact)."""
    if k == 0:
        return 1 if m == 0 else 0
    return sum(count(s, s) * forests(m - s, k - 1) for s in range(m + 1))


def tree_with_left_spine(n: int, k: int, n_labels: int, rng: np.random.Generator) -> Tree:
    """A uniform shape among those with ``n`` nodes and a left spine of exactly ``k`` nodes,
    labelled: the right subtrees' sizes drawn by their share of the count, then each subtree a
    uniform shape of its size."""
    sizes, m = [], n - k
    for rest in range(k - 1, -1, -1):
        cum, total = [], 0
        for s in range(m + 1):
            total += count(s, s) * forests(m - s, rest)
            cum.append(total)
        s = bisect.bisect_right(cum, randbelow(rng, total))
        sizes.append(s)
        m -= s
    t: Tree = Leaf()
    for s in reversed(sizes):
        label = label_draw(n_labels, rng)
        t = Node(label, t, tree_at_most(s, s, n_labels, rng))
    return t


@cache
def count(n: int, h: int) -> int:
    """Number of tree shapes with ``n`` nodes and depth at most ``h`` (exact)."""
    if h < 0:
        return 0
    if n == 0:
        return 1
    if h == 0:
        return 0
    return sum(count(k, h - 1) * count(n - 1 - k, h - 1) for k in range(n))


def exact(n: int, h: int) -> int:
    """Number of tree shapes with ``n`` nodes and depth exactly ``h``."""
    return count(n, h) - count(n, h - 1)


@cache
def _splits_at_most(n: int, h: int) -> tuple[list[int], tuple[int, ...]]:
    """Cumulative weights of left-subtree sizes ``k`` for a shape of depth at most h."""
    cum, total = [], 0
    for k in range(n):
        total += count(k, h - 1) * count(n - 1 - k, h - 1)
        cum.append(total)
    return cum, tuple(range(n))


@cache
def _splits_exact(n: int, h: int) -> tuple[list[int], tuple[tuple[int, bool], ...]]:
    """Cumulative weights of ``(k, left_is_deep)`` for a shape of depth exactly h: either the left
    subtree has depth exactly h-1 (right at most h-1), or the left has at most h-2 and the right
    exactly h-1; the two cases are disjoint."""
    cum, keys, total = [], [], 0
    for k in range(n):
        m = n - 1 - k
        for left_deep, w in (
            (True, exact(k, h - 1) * count(m, h - 1)),
            (False, count(k, h - 2) * exact(m, h - 1)),
        ):
            if w:
                total += w
                cum.append(total)
                keys.append((k, left_deep))
    return cum, tuple(keys)


def randbelow(rng: np.random.Generator, total: int) -> int:
    """A uniform int in ``0..total-1`` for any Python int ``total`` (rejection on random bits)."""
    if total <= 2**62:
        return int(rng.integers(total))
    n_bits = total.bit_length()
    n_bytes = (n_bits + 7) // 8
    while True:
        r = int.from_bytes(rng.bytes(n_bytes), "little") & ((1 << n_bits) - 1)
        if r < total:
            return r


def _pick(cum: list[int], keys: tuple, rng: np.random.Generator):
    return keys[bisect.bisect_right(cum, randbelow(rng, cum[-1]))]


def label_draw(n_labels: int, rng: np.random.Generator) -> int:
    """A uniform label in ``0..n_labels-1``."""
    return int(rng.integers(0, n_labels))


def tree_at_most(n: int, h: int, n_labels: int, rng: np.random.Generator) -> Tree:
    """A uniform shape among those with ``n`` nodes and depth at most ``h``, labelled."""
    if n == 0:
        return Leaf()
    k = _pick(*_splits_at_most(n, h), rng)
    label = label_draw(n_labels, rng)
    left = tree_at_most(k, h - 1, n_labels, rng)
    return Node(label, left, tree_at_most(n - 1 - k, h - 1, n_labels, rng))


def tree_exact(n: int, h: int, n_labels: int, rng: np.random.Generator) -> Tree:
    """A uniform shape among those with ``n`` nodes and depth exactly ``h``, labelled."""
    if n == 0:
        return Leaf()
    k, left_deep = _pick(*_splits_exact(n, h), rng)
    label = label_draw(n_labels, rng)
    m = n - 1 - k
    if left_deep:
        left = tree_exact(k, h - 1, n_labels, rng)
        right = tree_at_most(m, h - 1, n_labels, rng)
    else:
        left = tree_at_most(k, h - 2, n_labels, rng)
        right = tree_exact(m, h - 1, n_labels, rng)
    return Node(label, left, right)
