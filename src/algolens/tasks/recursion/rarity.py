"""Rare-structure features: the structural measure of an argument that makes one function hard.

Each :class:`~algolens.tasks.recursion.functions.RecursiveFunction` declares, per argument, the
name of one feature here (``rare``); sampling uses it for the ``balanced`` mode and the rare tail
(:mod:`.sampling`), so "rare" inputs are the ones that are rare *and* hard for that function.

================  ====  ============  ===========================================================
name              kind  range (n)     tail under uniform sampling, ``P(feature >= t)``
================  ====  ============  ===========================================================
trailing_ones     bin   0..n          ``2^-t``: the ``B1`` run before the first ``B0`` or ``Z``
trailing_zeros    bin   0..n          ``2^-t``: the ``B0`` run before the first ``B1`` or ``Z``
depth             tree  bitlen(n)..n  from exact shape counts (paths of depth n are
                                      ``2^(n-1)`` of ``Catalan(n)`` shapes)
left_spine        tree  1..n (0: n=0) from exact counts: root, its left child, ... down to a leaf
================  ====  ============  ===========================================================

The defaults (:data:`DEFAULT`, used by a function that declares none) are ``trailing_ones`` for a
number and ``depth`` for a tree. Every feature can draw a uniform value of size ``n`` whose feature
is exactly ``f`` (:meth:`RareFeature.draw`).

Examples:
    >>> from algolens.tasks.recursion.values import from_bits
    >>> FEATURES["trailing_zeros"].measure(from_bits([0, 0, 1, 0]))
    2
    >>> FEATURES["trailing_ones"].rare_range(8), FEATURES["trailing_zeros"].rare_range(8)
    ((3, 8), (3, 8))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from algolens.errors import ConfigError
from algolens.tasks.recursion.shapes import (
    count,
    forests,
    left_spine,
    tree_exact,
    tree_with_left_spine,
)
from algolens.tasks.recursion.values import Bin, Tree, bits, depth, from_bits

RARE_MASS = 1 / 8
"""The rare tail of a feature holds at most this much probability under uniform sampling."""


@dataclass(frozen=True)
class RareFeature:
    """One structural feature of one kind of value.

    Attributes:
        name: its name (a key of :data:`FEATURES`).
        kind: ``"bin"`` or ``"tree"``.
        measure: the feature of a value.
        span: ``n -> (lo, hi)``, the values a value of size ``n`` can have.
        at_least: ``(n, t) -> count`` of values of size ``n`` with feature ``>= t``, as a share
            of all values of size ``n`` (the uniform tail mass), for ``lo <= t <= hi``.
        exactly: ``(n, f, n_labels, rng) -> value`` uniform among size-``n`` values with feature
            ``f``.
    """

    name: str
    kind: str
    measure: Callable[[object], int]
    span: Callable[[int], tuple[int, int]]
    at_least: Callable[[int, int], float]
    exactly: Callable[[int, int, int, np.random.Generator], object]

    def tail_mass(self, n: int, t: int) -> float:
        """Probability that a uniform value of size ``n`` has feature at least ``t``."""
        lo, hi = self.span(n)
        if t <= lo:
            return 1.0
        if t > hi:
            return 0.0
        return self.at_least(n, t)

    def rare_range(self, n: int) -> tuple[int, int]:
        """The rare tail for size ``n``: from the smallest ``t`` whose upper tail has probability
        at most :data:`RARE_MASS` under uniform sampling, to the top (never empty)."""
        lo, hi = self.span(n)
        t = next(t for t in range(lo, hi + 1) if self.tail_mass(n, t) <= RARE_MASS or t == hi)
        return t, hi

    def draw(self, n: int, f: int, n_labels: int, rng: np.random.Generator) -> object:
        """A uniform value of size ``n`` whose feature is exactly ``f``."""
        return self.exactly(n, f, n_labels, rng)


def _run(bit: int) -> Callable[[object], int]:
    def measure(value: object) -> int:
        bs = bits(value)  # type: ignore[arg-type]
        return next((i for i, b in enumerate(bs) if b != bit), len(bs))

    return measure


def _run_draw(bit: int) -> Callable[[int, int, int, np.random.Generator], Bin]:
    def draw(n: int, f: int, n_labels: int, rng: np.random.Generator) -> Bin:
        tail = [1 - bit, *rng.integers(0, 2, size=n - f - 1).tolist()] if f < n else []
        return from_bits([bit] * f + tail)

    return draw


def _depth_draw(n: int, f: int, n_labels: int, rng: np.random.Generator) -> Tree:
    return tree_exact(n, f, n_labels, rng)


def _spine_draw(n: int, f: int, n_labels: int, rng: np.random.Generator) -> Tree:
    return tree_with_left_spine(n, f, n_labels, rng)


def _bin_span(n: int) -> tuple[int, int]:
    return 0, n


FEATURES: dict[str, RareFeature] = {
    f.name: f
    for f in (
        RareFeature("trailing_ones", "bin", _run(1), _bin_span, lambda n, t: 2.0**-t, _run_draw(1)),
        RareFeature(
            "trailing_zeros", "bin", _run(0), _bin_span, lambda n, t: 2.0**-t, _run_draw(0)
        ),
        RareFeature(
            "depth",
            "tree",
            depth,  # type: ignore[arg-type]
            lambda n: ((n).bit_length(), n),  # ceil(log2(n + 1)) == n.bit_length()
            lambda n, t: (count(n, n) - count(n, t - 1)) / count(n, n),
            _depth_draw,
        ),
        RareFeature(
            "left_spine",
            "tree",
            left_spine,  # type: ignore[arg-type]
            lambda n: (min(n, 1), n),
            lambda n, t: sum(forests(n - k, k) for k in range(t, n + 1)) / count(n, n),
            _spine_draw,
        ),
    )
}
"""The features by name."""
DEFAULT: dict[str, str] = {"bin": "trailing_ones", "tree": "depth"}
"""The feature of an argument whose function declares none."""


def rare_features(arg_kinds: Sequence[str], names: Sequence[str] | None = None) -> tuple[str, ...]:
    """The checked feature names of a function's arguments: ``names`` (one per argument, or
    None for the defaults of :data:`DEFAULT`).

    Raises:
        ConfigError: a wrong number of names, an unknown name, or one for another kind of value.
    """
    if names is None:
        return tuple(DEFAULT.get(k, "trailing_ones") for k in arg_kinds)
    names = tuple(names)
    if len(names) != len(arg_kinds):
        raise ConfigError(
            f"rare names one feature per argument: {len(arg_kinds)} argument(s), "
            f"{len(names)} feature(s) given"
        )
    for name, kind in zip(names, arg_kinds):
        f = FEATURES.get(name)
        if f is None or f.kind != kind:
            known = ", ".join(k for k, v in FEATURES.items() if v.kind == kind)
            raise ConfigError(f"rare feature {name!r} is not one of a {kind} argument's: {known}")
    return names
