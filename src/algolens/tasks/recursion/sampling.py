"""Seeded sampling of binary numbers and trees: sizes, uniform or structure-balanced shapes, and
oversampling of rare structures.

Every sampled value has a *size* (bits of a binary number, nodes of a tree) and a *structural
feature* that decides how hard it is for a shortcut:

* binary number of n bits: ``trailing_ones``, the run of ``B1`` before the first ``B0`` or ``Z``
  (successor flips exactly this run); range ``0..n``. Uniform bits make a run of k ones have
  probability ``2^-(k+1)`` (``2^-n`` for all ones).
* tree of n nodes: ``depth``; range ``ceil(log2(n+1))..n``. Uniform shapes make deep trees rare
  (``2^(n-1)`` of the ``Catalan(n)`` shapes are paths of depth n).

A :class:`Sampling` draws the size uniformly from ``min_size..max_size``, then

* ``mode="uniform"``: a uniform value of that size (fair bits; a uniform tree shape);
* ``mode="balanced"``: the feature uniform over its range, then a uniform value with that feature;

and, with probability ``oversample``, replaces the draw by one from the *rare tail*: the feature
uniform over ``t..hi``, where ``t`` is the smallest value whose upper tail ``feature >= t`` has
probability at most :data:`RARE_MASS` (1/8) under uniform sampling (never empty: at least ``hi``),
then a uniform value with that feature. For binary numbers ``t = 3`` once ``n >= 3`` (runs of
three or more trailing ``B1``); for trees ``t`` comes from the exact shape counts. Labels are
uniform over ``0..n_labels-1``.

Tree shapes come from exact counts (Python ints): ``count(n, h)`` trees of n nodes with depth at
most h, so uniform and fixed-depth draws are exact, not rejection-sampled. All randomness comes
from the ``numpy.random.Generator`` passed in.

Examples:
    >>> import numpy as np
    >>> s = Sampling(min_size=3, max_size=5, mode="balanced")
    >>> values = sample_values(s, "bin", 4, np.random.default_rng(0))
    >>> len(values), all(3 <= len(bits(v)) <= 5 for v in values)
    (4, True)
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np

from algolens.errors import ConfigError
from algolens.tasks.recursion.values import N_LABELS, Bin, Leaf, Node, Tree, bits, depth, from_bits

Mode = Literal["uniform", "balanced"]
MODES: tuple[str, ...] = ("uniform", "balanced")
MAX_SIZE = 64
"""Largest size (bits or nodes) a sampler accepts; keeps token sequences short."""
RARE_MASS = 1 / 8
"""The rare tail of a feature holds at most this much probability under uniform sampling."""


@dataclass(frozen=True)
class Sampling:
    """How values of one argument are drawn.

    Attributes:
        min_size, max_size: sizes (bits of a binary number, nodes of a tree) drawn uniformly from
            this inclusive range.
        mode: ``"uniform"`` or ``"balanced"`` (see the module docstring).
        oversample: probability in ``[0, 1]`` of drawing from the rare tail instead.
        n_labels: tree labels are drawn from ``0..n_labels-1``.

    Raises:
        ConfigError: sizes outside ``0..MAX_SIZE`` or in the wrong order, an unknown mode, an
            ``oversample`` outside ``[0, 1]``, or ``n_labels`` outside ``1..N_LABELS``.
    """

    min_size: int = 1
    max_size: int = 8
    mode: Mode = "uniform"
    oversample: float = 0.0
    n_labels: int = N_LABELS

    def __post_init__(self) -> None:
        if not 0 <= self.min_size <= self.max_size <= MAX_SIZE:
            raise ConfigError(
                f"sizes must satisfy 0 <= min_size <= max_size <= {MAX_SIZE}, got "
                f"min_size={self.min_size}, max_size={self.max_size}"
            )
        if self.mode not in MODES:
            raise ConfigError(f"sampling mode {self.mode!r} is unknown; use {' or '.join(MODES)}")
        if not 0.0 <= float(self.oversample) <= 1.0:
            raise ConfigError(f"oversample is a probability in [0, 1], got {self.oversample}")
        if not 1 <= self.n_labels <= N_LABELS:
            raise ConfigError(f"n_labels must lie in 1..{N_LABELS}, got {self.n_labels}")


def feature(value: Bin | Tree) -> int:
    """The structural feature: trailing ``B1`` run of a binary number, depth of a tree."""
    if isinstance(value, (Leaf, Node)):
        return depth(value)
    bs = bits(value)
    return next((i for i, b in enumerate(bs) if b == 0), len(bs))


def feature_range(kind: str, n: int) -> tuple[int, int]:
    """``(lo, hi)``: the feature values that values of size ``n`` can have."""
    if kind == "bin":
        return 0, n
    return (n).bit_length(), n  # ceil(log2(n + 1)) == n.bit_length()


def tail_mass(kind: str, n: int, t: int) -> float:
    """Probability that a uniform value of size ``n`` has feature at least ``t``."""
    lo, hi = feature_range(kind, n)
    if t <= lo:
        return 1.0
    if t > hi:
        return 0.0
    if kind == "bin":
        return 2.0**-t
    return (count(n, n) - count(n, t - 1)) / count(n, n)


def rare_range(kind: str, n: int) -> tuple[int, int]:
    """The rare tail of the feature for size ``n``: from the smallest ``t`` whose upper tail has
    probability at most :data:`RARE_MASS` under uniform sampling, to the top of the range (never
    empty: at least the top value)."""
    lo, hi = feature_range(kind, n)
    t = next(t for t in range(lo, hi + 1) if tail_mass(kind, n, t) <= RARE_MASS or t == hi)
    return t, hi


def sample_values(s: Sampling, kind: str, count: int, rng: np.random.Generator) -> list:
    """Draw ``count`` values of ``kind`` (``"bin"`` or ``"tree"``) as :class:`Sampling` says."""
    if kind not in ("bin", "tree"):
        raise ConfigError(f"only binary numbers and trees are sampled, not {kind!r}")
    out = []
    for _ in range(count):
        n = int(rng.integers(s.min_size, s.max_size + 1))
        if s.oversample > 0 and rng.random() < s.oversample:
            lo, hi = rare_range(kind, n)
            out.append(_with_feature(kind, n, int(rng.integers(lo, hi + 1)), s.n_labels, rng))
        elif s.mode == "balanced":
            lo, hi = feature_range(kind, n)
            out.append(_with_feature(kind, n, int(rng.integers(lo, hi + 1)), s.n_labels, rng))
        elif kind == "bin":
            out.append(from_bits(rng.integers(0, 2, size=n).tolist()))
        else:
            out.append(_tree_at_most(n, n, s.n_labels, rng))
    return out


def _with_feature(kind: str, n: int, f: int, n_labels: int, rng: np.random.Generator):
    """A uniform value of size ``n`` whose feature is exactly ``f``."""
    if kind == "bin":
        tail = [0, *rng.integers(0, 2, size=n - f - 1).tolist()] if f < n else []
        return from_bits([1] * f + tail)
    return _tree_exact(n, f, n_labels, rng)


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


def _exact(n: int, h: int) -> int:
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
            (True, _exact(k, h - 1) * count(m, h - 1)),
            (False, count(k, h - 2) * _exact(m, h - 1)),
        ):
            if w:
                total += w
                cum.append(total)
                keys.append((k, left_deep))
    return cum, tuple(keys)


def _randbelow(rng: np.random.Generator, total: int) -> int:
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
    return keys[bisect.bisect_right(cum, _randbelow(rng, cum[-1]))]


def _label(n_labels: int, rng: np.random.Generator) -> int:
    return int(rng.integers(0, n_labels))


def _tree_at_most(n: int, h: int, n_labels: int, rng: np.random.Generator) -> Tree:
    """A uniform shape among those with ``n`` nodes and depth at most ``h``, labelled."""
    if n == 0:
        return Leaf()
    k = _pick(*_splits_at_most(n, h), rng)
    label = _label(n_labels, rng)
    left = _tree_at_most(k, h - 1, n_labels, rng)
    return Node(label, left, _tree_at_most(n - 1 - k, h - 1, n_labels, rng))


def _tree_exact(n: int, h: int, n_labels: int, rng: np.random.Generator) -> Tree:
    """A uniform shape among those with ``n`` nodes and depth exactly ``h``, labelled."""
    if n == 0:
        return Leaf()
    k, left_deep = _pick(*_splits_exact(n, h), rng)
    label = _label(n_labels, rng)
    m = n - 1 - k
    if left_deep:
        left = _tree_exact(k, h - 1, n_labels, rng)
        right = _tree_at_most(m, h - 1, n_labels, rng)
    else:
        left = _tree_at_most(k, h - 2, n_labels, rng)
        right = _tree_exact(m, h - 1, n_labels, rng)
    return Node(label, left, right)
