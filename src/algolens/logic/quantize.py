"""Integer arithmetic of the reference model Q: p-bit fixed point, requantisation, lookup tables.

Every quantity of Q is an integer ``q`` standing for the real number ``q · scale``. Weights are
quantised once, ``q = clamp(round(w / scale))`` with a symmetric p-bit range. Between layers an
integer accumulator ``L`` (a sum of products) is brought back to p bits by requantisation::

    y = clamp(round(L · M / 2^s), lo, hi)          # M, s integers: M / 2^s ≈ scale_in / scale_out

with ``round(x / 2^s) = floor((x + 2^(s-1)) / 2^s)`` (half up), so Q is integer arithmetic from
end to end: no float is rounded anywhere after the weights are fixed. Nonlinearities (GELU,
``exp`` of the softmax) are :class:`Table` s over an integer range, computed once when the model
is quantised and stored with it; the compiler reads the same table, so Q and the circuit agree by
construction, whatever libm does.

Examples:
    >>> r = Requant(m=3, s=2, lo=-8, hi=7)        # y = clamp(round(3x / 4))
    >>> r(np.array([-20, -1, 0, 1, 2, 3, 20])).tolist()
    [-8, -1, 0, 1, 2, 2, 7]
    >>> quantize(np.array([0.5, -1.0, 0.26]), bits=4)[0].tolist()
    [4, -7, 2]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from algolens.errors import ConfigError

MIN_BITS, MAX_BITS = 2, 16
"""Supported bit-widths p of weights and activations."""

MULTIPLIER_BITS = 15
"""Requantisation multipliers ``M`` are chosen in ``[2^14, 2^15)`` (or smaller when s = 0)."""
MAX_SHIFT = 40
"""Largest shift ``s``: a smaller ratio than ``2^-40`` gets ``M = 1`` (its output is 0 on every
accumulator below ``2^39``), so ``x · M`` and the breakpoints stay inside int64."""


def check_bits(bits: object) -> int:
    """``bits`` as an int, or :class:`ConfigError` unless it lies in ``MIN_BITS..MAX_BITS``."""
    if isinstance(bits, bool) or not isinstance(bits, int) or not MIN_BITS <= bits <= MAX_BITS:
        raise ConfigError(f"--bits must be an integer from {MIN_BITS} to {MAX_BITS}, got {bits!r}")
    return bits


def signed_max(bits: int) -> int:
    """Largest magnitude of a symmetric signed p-bit integer: ``2^(p-1) - 1``."""
    return (1 << (bits - 1)) - 1


def unsigned_max(bits: int) -> int:
    return (1 << bits) - 1


def round_shift(x: np.ndarray, s: int) -> np.ndarray:
    """``round(x / 2^s)``, halves rounded up, in int64 (``s ≥ 0``)."""
    x = np.asarray(x, dtype=np.int64)
    if s == 0:
        return x
    return (x + (np.int64(1) << (s - 1))) >> s


def quantize(w: np.ndarray, bits: int, scale: float | None = None) -> tuple[np.ndarray, float]:
    """``(q, scale)``: ``q = clamp(round(w / scale), ±(2^(p-1)-1))``; the default scale maps
    ``max|w|`` to ``2^(p-1)-1`` (1.0 for an all-zero ``w``)."""
    w = np.asarray(w, dtype=np.float64)
    top = signed_max(bits)
    if scale is None:
        m = float(np.abs(w).max(initial=0.0))
        scale = m / top if m > 0 else 1.0
    q = np.clip(np.rint(w / scale), -top, top).astype(np.int64)
    return q, scale


@dataclasses.dataclass(frozen=True)
class Requant:
    """``y = clamp(round(max(x, 0) if relu else x) · m / 2^s), lo, hi)`` on int64 arrays."""

    m: int
    s: int
    lo: int
    hi: int
    relu: bool = False

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.int64)
        if self.relu:
            x = np.maximum(x, 0)
        return np.clip(round_shift(x * self.m, self.s), self.lo, self.hi)

    def to_dict(self) -> dict[str, int | bool]:
        return dataclasses.asdict(self)

    def breakpoints(self, lo: int, hi: int) -> np.ndarray:
        """Every x in ``lo..hi`` where the output may change: the least x giving each level."""
        y_lo, y_hi = (int(v) for v in self(np.array([lo, hi])))
        half = (1 << (self.s - 1)) if self.s else 0
        # ceil((k·2^s - half) / m) for each level k reached inside the range, in Python ints
        x = [min(max(-((half - (k << self.s)) // self.m), lo), hi + 1)
             for k in range(y_lo + 1, y_hi + 1)]  # fmt: skip
        return np.asarray(x + ([0, 1] if self.relu else []), dtype=np.int64)


def requant_for(ratio: float, lo: int, hi: int, relu: bool = False) -> Requant:
    """The :class:`Requant` whose ``m / 2^s`` is closest to ``ratio`` with ``m < 2^15``."""
    if not ratio > 0 or not math.isfinite(ratio):
        raise ConfigError(f"a requantisation ratio must be positive and finite, got {ratio}")
    s = min(MAX_SHIFT, max(0, MULTIPLIER_BITS - 1 - math.floor(math.log2(ratio))))
    m = max(1, round(ratio * (1 << s)))
    return Requant(m=m, s=s, lo=lo, hi=hi, relu=relu)


@dataclasses.dataclass(frozen=True, eq=False)
class Table:
    """A lookup table ``f(x) = values[clamp(x, lo, lo + len - 1) - lo]`` on int64 arrays."""

    lo: int
    values: np.ndarray  # [n] int64

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.int64)
        return self.values[np.clip(x - self.lo, 0, self.values.shape[0] - 1)]

    @classmethod
    def of(
        cls, f: Callable[[np.ndarray], np.ndarray], lo: int, hi: int, out_lo: int, out_hi: int
    ) -> Table:
        """Tabulate ``clamp(round(f(x)), out_lo, out_hi)`` for integers ``x`` in ``lo..hi``
        (``f`` takes and returns float64 arrays)."""
        x = np.arange(lo, hi + 1, dtype=np.float64)
        values = np.clip(np.rint(f(x)), out_lo, out_hi).astype(np.int64)
        return cls(lo=int(lo), values=values)

    def breakpoints(self, lo: int, hi: int) -> np.ndarray:
        return np.arange(self.lo + 1, self.lo + self.values.shape[0], dtype=np.int64)


IntFn = Callable[[np.ndarray], np.ndarray]
"""An integer function on int64 arrays: a :class:`Requant`, a :class:`Table` or a :class:`Chain`.
The compiler asks it for ``breakpoints(lo, hi)``: a superset of the points where it changes."""


@dataclasses.dataclass(frozen=True, eq=False)
class Chain:
    """``Chain(f, g)(x) = g(f(x))``; it can change only where ``f`` does."""

    first: Requant | Table
    then: Requant | Table

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.then(self.first(x))

    def breakpoints(self, lo: int, hi: int) -> np.ndarray:
        return self.first.breakpoints(lo, hi)


def argmax_lowest(logits: np.ndarray) -> np.ndarray:
    """``[batch, n] -> [batch]``: index of the largest entry, the lowest index on ties."""
    return np.argmax(logits, axis=-1).astype(np.int64)
