"""Seeded sampling of binary numbers and trees: sizes, uniform or structure-balanced shapes, and
oversampling of rare structures.

Every sampled value has a *size* (bits of a binary number, nodes of a tree) and a *structural
feature* that decides how hard it is for a shortcut of the function being learnt: each function
declares its own (:mod:`.rarity`; e.g. successor the ``trailing_ones`` run it flips, predecessor
the ``trailing_zeros`` run it borrows through, inorder the ``left_spine``); the default is the
``trailing_ones`` of a binary number (uniform bits make a run of k ones have probability
``2^-(k+1)``, ``2^-n`` for all ones) and the ``depth`` of a tree (uniform shapes make deep trees
rare: ``2^(n-1)`` of the ``Catalan(n)`` shapes are paths of depth n).

A :class:`Sampling` draws the size uniformly from ``min_size..max_size``, then

* ``mode="uniform"``: a uniform value of that size (fair bits; a uniform tree shape);
* ``mode="balanced"``: the feature uniform over its range, then a uniform value with that feature;

and, with probability ``oversample``, replaces the draw by one from the *rare tail*: the feature
uniform over ``t..hi``, where ``t`` is the smallest value whose upper tail ``feature >= t`` has
probability at most :data:`RARE_MASS` (1/8) under uniform sampling (never empty: at least ``hi``),
then a uniform value with that feature. For a run feature of a binary number ``t = 3`` once
``n >= 3`` (runs of three or more); for trees ``t`` comes from the exact shape counts. Labels are
uniform over ``0..n_labels-1``.

Tree shapes come from exact counts (Python ints, :mod:`.shapes`), so uniform and fixed-feature
draws are exact, not rejection-sampled. All randomness comes
from the ``numpy.random.Generator`` passed in.

``count`` (tree shapes by size and depth) is re-exported from :mod:`.shapes`.

Examples:
    >>> import numpy as np
    >>> s = Sampling(min_size=3, max_size=5, mode="balanced")
    >>> values = sample_values(s, "bin", 4, np.random.default_rng(0))
    >>> len(values), all(3 <= len(bits(v)) <= 5 for v in values)
    (4, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from algolens.errors import ConfigError
from algolens.tasks.recursion import shapes
from algolens.tasks.recursion.rarity import (
    DEFAULT,
    FEATURES,
    RARE_MASS,  # noqa: F401  (re-exported)
    RareFeature,
    rare_features,
)
from algolens.tasks.recursion.shapes import randbelow, tree_at_most  # noqa: F401  (re-exported)
from algolens.tasks.recursion.values import (
    N_LABELS,
    Bin,
    Leaf,
    Node,
    Tree,
    bits,  # noqa: F401  (doctest)
    from_bits,
)

Mode = Literal["uniform", "balanced"]
MODES: tuple[str, ...] = ("uniform", "balanced")
MAX_SIZE = 64
"""Largest size (bits or nodes) a sampler accepts; keeps token sequences short."""


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


def _feature(kind: str, rare: str | None) -> RareFeature:
    return FEATURES[rare or DEFAULT[kind]]


def feature(value: Bin | Tree, rare: str | None = None) -> int:
    """The structural feature ``rare`` of a value (default: trailing ``B1`` run of a binary
    number, depth of a tree)."""
    kind = "tree" if isinstance(value, (Leaf, Node)) else "bin"
    return _feature(kind, rare).measure(value)


def feature_range(kind: str, n: int, rare: str | None = None) -> tuple[int, int]:
    """``(lo, hi)``: the feature values that values of size ``n`` can have."""
    return _feature(kind, rare).span(n)


def tail_mass(kind: str, n: int, t: int, rare: str | None = None) -> float:
    """Probability that a uniform value of size ``n`` has feature at least ``t``."""
    return _feature(kind, rare).tail_mass(n, t)


def rare_range(kind: str, n: int, rare: str | None = None) -> tuple[int, int]:
    """The rare tail of the feature for size ``n``: from the smallest ``t`` whose upper tail has
    probability at most :data:`RARE_MASS` under uniform sampling, to the top of the range (never
    empty: at least the top value)."""
    return _feature(kind, rare).rare_range(n)


def sample_values(
    s: Sampling, kind: str, n_values: int, rng: np.random.Generator, rare: str | None = None
) -> list:
    """Draw ``n_values`` values of ``kind`` (``"bin"`` or ``"tree"``) as :class:`Sampling` says;
    ``rare`` names the structural feature (:data:`~.rarity.FEATURES`) of the balanced mode and
    the rare tail (default: :data:`~.rarity.DEFAULT` of the kind)."""
    if kind not in ("bin", "tree"):
        raise ConfigError(f"only binary numbers and trees are sampled, not {kind!r}")
    f = _feature(kind, rare_features((kind,), None if rare is None else (rare,))[0])
    out = []
    for _ in range(n_values):
        n = int(rng.integers(s.min_size, s.max_size + 1))
        if s.oversample > 0 and rng.random() < s.oversample:
            lo, hi = f.rare_range(n)
            out.append(f.draw(n, int(rng.integers(lo, hi + 1)), s.n_labels, rng))
        elif s.mode == "balanced":
            lo, hi = f.span(n)
            out.append(f.draw(n, int(rng.integers(lo, hi + 1)), s.n_labels, rng))
        elif kind == "bin":
            out.append(from_bits(rng.integers(0, 2, size=n).tolist()))
        else:
            out.append(tree_at_most(n, n, s.n_labels, rng))
    return out


count = shapes.count
"""Number of tree shapes with ``n`` nodes and depth at most ``h`` (:func:`.shapes.count`)."""
