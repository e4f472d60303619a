"""Integer forms of the compiler: affine forms over circuit nodes, binarised forms, step functions.

A :class:`LinVec` holds ``m`` integer quantities, each ``const + Σ_i w[i] · value(src_i)`` with
known bounds; a :class:`Bits` holds quantities as an offset plus bits. :func:`steps` finds the
points where an integer function changes on a range (the thresholds of a thermometer code).
Used by :mod:`algolens.logic.compile_gadgets`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from algolens.errors import SizeLimitError
from algolens.logic.quantize import IntFn

MAX_GENERIC_RANGE = 1 << 22
"""A function without ``breakpoints`` is tabulated over at most this many integers."""


@dataclasses.dataclass(frozen=True, eq=False)
class LinVec:
    """``m`` integer affine forms over nodes ``src`` (see the module docstring).

    ``pos`` is set when the forms are tables over the tokens of one position: then ``src`` is
    exactly that position's ``n_vocab`` inputs in order, ``w [n_vocab, m]`` is the table and
    ``const`` is zero.
    """

    src: np.ndarray  # [n] int64, ascending
    w: np.ndarray  # [n, m] int64
    const: np.ndarray  # [m] int64
    lo: np.ndarray  # [m] int64
    hi: np.ndarray  # [m] int64
    pos: int | None = None

    @property
    def m(self) -> int:
        return int(self.const.shape[0])

    def cols(self, idx: Sequence[int] | np.ndarray | slice) -> LinVec:
        """The forms ``idx`` (a view of the same sources)."""
        return LinVec(
            self.src, self.w[:, idx], self.const[idx], self.lo[idx], self.hi[idx], self.pos
        )


@dataclasses.dataclass(frozen=True, eq=False)
class Bits:
    """Binarised forms: ``value_j = offset_j + Σ_b 2^b · bits[:, j·nb + b]``, each bit 0/1."""

    bits: LinVec  # m·nb forms, each 0 or 1
    offset: np.ndarray  # [m] int64
    nb: int


@dataclasses.dataclass(frozen=True, eq=False)
class LutNode:
    """A thermometer layer written by ``Compiler.lut``: gate ``[X_j ≥ v]`` of form ``X_j =
    const_j + Σ_i w[i, j]·value(src_i)`` for each point ``v`` where ``f`` changes on the
    compiler's bounds ``lo_j..hi_j`` (for the breakpoint proofs of ``logic.verify_requant``)."""

    name: str  # the circuit layer's name
    f: IntFn
    src: np.ndarray  # [n] int64
    w: np.ndarray  # [n, m] int64
    const: np.ndarray  # [m] int64
    lo: np.ndarray  # [m] int64
    hi: np.ndarray  # [m] int64


class Identity:
    """The identity on integers (its thermometer code has a gate at every value)."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.int64)

    def breakpoints(self, lo: int, hi: int) -> np.ndarray:
        return np.arange(lo + 1, hi + 1, dtype=np.int64)


def steps(f: IntFn, lo: int, hi: int) -> tuple[int, np.ndarray, np.ndarray]:
    """``f(lo)`` and the points ``v`` in ``lo+1..hi`` where ``f(v) != f(v-1)``, with ``f(v)``."""
    if hasattr(f, "breakpoints"):
        cand = np.asarray(f.breakpoints(lo, hi), dtype=np.int64)
    elif hi - lo <= MAX_GENERIC_RANGE:
        cand = np.arange(lo + 1, hi + 1, dtype=np.int64)
    else:
        raise SizeLimitError(f"a function over {hi - lo + 1} integers is too wide to tabulate")
    cand = np.unique(cand[(cand > lo) & (cand <= hi)])
    fv, fp = f(cand), f(cand - 1)
    keep = fv != fp
    return int(f(np.array([lo]))[0]), cand[keep], np.asarray(fv[keep], dtype=np.int64)


def pick(m: int, cols: np.ndarray) -> np.ndarray:
    """``[m, k]`` selector: column i picks form ``cols[i]``."""
    p = np.zeros((m, cols.size), dtype=np.int64)
    p[cols, np.arange(cols.size)] = 1
    return p


def is_zero(x: LinVec, cols: np.ndarray) -> np.ndarray:
    """Columns of ``x`` that are identically zero."""
    return ~np.abs(x.w[:, cols]).any(0) & (x.const[cols] == 0)


def segment_sum(a: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
    """``out[:, s] = Σ_{seg[i] = s} a[:, i]``."""
    out = np.zeros((a.shape[0], n), dtype=np.int64)
    np.add.at(out.T, seg, a.T)
    return out
