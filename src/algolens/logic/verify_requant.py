"""A per-node proof that a thermometer of threshold gates computes a monotone integer function.

A requantisation ``y = f(L)`` (``f`` = :class:`~algolens.logic.quantize.Requant` or a monotone
:class:`~algolens.logic.quantize.Table`) is compiled to gates ``[L ≥ b_k]`` and read back as
``y = base + Σ_k δ_k·[L ≥ b_k]`` (``δ_k = 1``: one gate per level). For a non-decreasing ``f`` it
is enough to check ``f`` at both sides of every breakpoint and at the two ends of the range: a
non-decreasing function that agrees with a step function at both ends of a step agrees on the
whole step. The proof costs two evaluations of ``f`` per breakpoint, whatever the width of the
range of ``L``.

Monotonicity itself is the premise, established per kind of ``f``: a ``Requant`` with ``m ≥ 0``
is a composition of non-decreasing maps (ReLU, multiplication by ``m ≥ 0``, rounding a shift,
clamping); a ``Table`` is checked entry by entry (it is finite).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from algolens.errors import SpecError
from algolens.logic.quantize import Requant, Table


@dataclass(frozen=True)
class BreakpointProof:
    """Outcome of :func:`prove_thermometer`.

    Attributes:
        ok: the gates compute ``f`` on every integer of ``lo..hi``.
        levels: gates checked.
        evaluations: evaluations of ``f`` used.
        monotone: why ``f`` is non-decreasing.
        failure: the first failed check, in words (None when ``ok``).
    """

    ok: bool
    levels: int
    evaluations: int
    monotone: str
    failure: str | None = None


def monotone_reason(f: Callable[[np.ndarray], np.ndarray]) -> str:
    """Why ``f`` is non-decreasing on the integers.

    Raises:
        SpecError: ``f`` is not a ``Requant`` with ``m ≥ 0`` nor a non-decreasing ``Table``.
    """
    if isinstance(f, Requant):
        if f.m < 0:
            raise SpecError(f"requantisation multiplier m = {f.m} < 0: not non-decreasing")
        return "Requant with m >= 0: ReLU, x*m, round-shift and clamp are non-decreasing"
    if isinstance(f, Table):
        steps = np.diff(f.values)
        if (steps < 0).any():
            x = f.lo + int(np.nonzero(steps < 0)[0][0])
            raise SpecError(f"table decreases from x = {x} to {x + 1}: not non-decreasing")
        return f"Table of {len(f.values)} entries checked non-decreasing"
    raise SpecError(f"cannot establish that {type(f).__name__} is non-decreasing")


def prove_thermometer(
    f: Callable[[np.ndarray], np.ndarray],
    thresholds: Sequence[int],
    lo: int,
    hi: int,
    base: int,
    increments: Sequence[int] | None = None,
) -> BreakpointProof:
    """Prove ``f(L) == base + Σ_k increments[k]·[L ≥ thresholds[k]]`` for every integer ``L``
    in ``lo..hi``.

    Gates whose threshold is at most ``lo`` always fire and those above ``hi`` never do; the
    rest, merged by threshold, give breakpoints ``v_1 < ... < v_K`` in ``lo+1..hi`` with partial
    sums ``S_0 .. S_K``. The identity holds on the whole range iff ``f(lo) = S_0``,
    ``f(v_k − 1) = S_{k−1}`` and ``f(v_k) = S_k`` for every ``k``, and ``f(hi) = S_K``: a
    non-decreasing ``f`` with equal values at both ends of ``v_k .. v_{k+1} − 1`` is constant
    there.

    Args:
        f: the integer function (a ``Requant`` or ``Table``; see :func:`monotone_reason`).
        thresholds: the gates' thresholds.
        lo, hi: the range the accumulator ``L`` can take.
        base: the value read when no gate fires.
        increments: each gate's weight in the read-out (default 1: one gate per level).

    Raises:
        SpecError: ``f`` not provably non-decreasing, ``lo > hi``, or a length mismatch.
    """
    if lo > hi:
        raise SpecError(f"empty range {lo}..{hi}")
    incs = [1] * len(thresholds) if increments is None else [int(d) for d in increments]
    if len(incs) != len(thresholds):
        raise SpecError(f"{len(thresholds)} thresholds but {len(incs)} increments")
    reason = monotone_reason(f)

    def at(x: int) -> int:
        return int(np.asarray(f(np.array([x], np.int64)))[0])

    merged: dict[int, int] = {}
    start = base
    for b, d in zip(thresholds, incs, strict=True):
        if b <= lo:
            start += d
        elif b <= hi:
            merged[int(b)] = merged.get(int(b), 0) + d
    checks = [(lo, start, "f(lo)")]
    level = start
    for v in sorted(merged):
        checks.append((v - 1, level, f"below breakpoint {v}"))
        level += merged[v]
        checks.append((v, level, f"at breakpoint {v}"))
    checks.append((hi, level, "f(hi)"))
    for evals, (x, want, what) in enumerate(checks, start=1):
        got = at(x)
        if got != want:
            why = f"{what}: f({x}) = {got} but the gates give {want}"
            return BreakpointProof(False, len(thresholds), evals, reason, why)
    return BreakpointProof(True, len(thresholds), len(checks), reason)


def breakpoints(f: Callable[[np.ndarray], np.ndarray], lo: int, hi: int) -> tuple[int, list[int]]:
    """``(base, thresholds)`` of the thermometer of a non-decreasing ``f`` on ``lo..hi``:
    ``base = f(lo)`` and, for each level ``f(lo)+1 .. f(hi)``, the smallest ``L`` reaching it
    (binary search: ``O(levels · log(hi - lo))`` evaluations)."""
    monotone_reason(f)

    def at(x: int) -> int:
        return int(np.asarray(f(np.array([x], np.int64)))[0])

    base, top = at(lo), at(hi)
    out = []
    for level in range(base + 1, top + 1):
        a, b = lo, hi  # f(a) < level <= f(b)
        while b - a > 1:
            mid = (a + b) // 2
            a, b = (a, mid) if at(mid) >= level else (mid, b)
        out.append(b)
    return base, out
