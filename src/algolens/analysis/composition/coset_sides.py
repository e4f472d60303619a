"""Side-specific coset structure, the shared-coset firing rule and the form of sign neurons
(Stander, Yu, Fan & Biderman, ICML 2024), measured on a neuron's pre-activation tables.

The paper's picture of a coset neuron: its left pre-activation ``f_L(a)`` is constant on the
*right* cosets ``H_L·a`` of a subgroup, its right pre-activation ``f_R(b)`` on the *left* cosets
``b·H_R``, and the neuron fires only when the product ``a·b`` leaves a *shared* coset ``S``, a
set that is at once a right coset of ``H_L`` and a left coset of ``H_R`` (``S = H_L·g = g·H_R``,
so ``H_R = g⁻¹H_Lg``). Why these sides: ``a·b ∈ H_L·g`` iff ``a ∈ H_L·g·b⁻¹``, a right coset of
``H_L`` fixed by ``b``'s left coset ``b·H_R``. This is a property of the product the network
computes (``group.table``), whatever the labelling of the permutations. Sign neurons are the
index-2 case, ``H_L = H_R = A_n`` with ``L = sgn``, ``R = −sgn`` (equal amplitudes).

Measures (each neuron's own subgroups are
:class:`~algolens.analysis.composition.cosets.CosetConcentration`'s
minimisers ``best_subgroup``):

* :func:`side_fit` — the fraction of a side's variance explained by the partition of its operand
  into the cosets of its subgroup, on its own coset side (right cosets for the left side, left
  cosets for the right side) and on the other one: ``FVE = 1 − C_H/[G:H]`` (``C_H`` is the sum
  of within-coset variances over ``[G:H]`` equal cosets, so ``C_H/[G:H]`` is the within share).
  For a normal subgroup the two sides coincide.
* :func:`shared_coset_silence` — for each neuron, the smallest over shared cosets ``S`` of its
  mean activation on the pairs with ``a·b ∈ S`` divided by its mean activation over all pairs:
  0 when the neuron is silent whenever the product stays in ``S``, about 1 for a neuron that
  ignores the product's coset.
* :func:`sign_amplitudes` — for the neurons whose two sides are both functions of the sign
  (``C_{A_n} < tol``), the ratio of the right side's sign amplitude to the left side's: −1 for
  the paper's ``L = sgn, R = −sgn``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from algolens.analysis.composition.cosets import SIDES, TIE_ATOL, CosetConcentration
from algolens.groups.group import FiniteGroup

OWN_COSET_SIDE: tuple[int, int] = (1, 0)
"""Coset side (0 = left cosets gH, 1 = right cosets Hg) of each pre side in the paper's picture:
left pre-activation on right cosets ``Ha``, right pre-activation on left cosets ``bH``."""


SIDE_ATOL = 1e-3
"""Own- and other-side FVE closer than this cannot tell the sides apart (a normal subgroup, or
the indicator of one coset, which is a right coset of H and a left coset of a conjugate)."""


@dataclass(frozen=True)
class SideFit:
    """Variance of each pre side explained by coset partitions of its operand, on each coset side.

    Attributes:
        own: ``[2 pre side, k]`` FVE on the paper's coset side (:data:`OWN_COSET_SIDE`), at the
            subgroup minimising C_H on that coset side; NaN for a constant side.
        other: ``[2, k]`` the same on the other coset side.
        own_subgroup: ``[2, k]`` the minimiser on the own coset side (index into
            ``lattice.subgroups``; the largest among ties, :data:`TIE_ATOL`).
    """

    own: np.ndarray
    other: np.ndarray
    own_subgroup: np.ndarray

    @property
    def distinct(self) -> np.ndarray:
        """``[2, k]`` True where the two coset sides fit differently (by more than
        :data:`SIDE_ATOL`): the sides a claim about sides can be tested on."""
        with np.errstate(invalid="ignore"):
            return np.abs(self.own - self.other) > SIDE_ATOL


def side_fit(group: FiniteGroup, conc: CosetConcentration) -> SideFit:
    """The :class:`SideFit` of every neuron, from the concentration table ``conc``.

    Each coset side gets its own minimiser over the proper non-trivial subgroups (so one-coset
    indicators, which fit both sides with conjugate subgroups, score alike on both)."""
    lattice = group.subgroup_lattice
    orders = np.array([s.order for s in lattice.subgroups])
    index = group.order / orders  # [S]
    proper = (orders > 1) & (orders < group.order)
    k = conc.best.shape[1]
    cols = np.arange(k)
    fve = np.empty((2, 2, k))  # [pre side, coset side, k]
    subs = np.empty((2, 2, k), dtype=np.int64)
    for pre in range(2):
        for cs in range(2):
            c = np.where(proper[:, None], conc.values[pre, cs], np.inf)  # [S, k]
            near = c <= c.min(axis=0) + TIE_ATOL
            sub = np.where(near, orders[:, None], 0).argmax(axis=0)  # [k] largest of the ties
            subs[pre, cs] = sub
            fve[pre, cs] = np.where(conc.constant[pre], np.nan, 1.0 - c[sub, cols] / index[sub])
    own_side = np.array(OWN_COSET_SIDE)
    pres = np.arange(2)
    return SideFit(fve[pres, own_side], fve[pres, 1 - own_side], subs[pres, own_side])


def neuron_activations(
    f_left: np.ndarray, f_right: np.ndarray, bias: np.ndarray | None = None
) -> np.ndarray:
    """``[k, |G|, |G|]`` hidden activations ``ReLU(f_L[a] + f_R[b] + bias)`` of every pair."""
    pre = f_left.T[:, :, None] + f_right.T[:, None, :]  # [k, a, b]
    if bias is not None:
        pre = pre + np.asarray(bias, dtype=np.float64)[:, None, None]
    return np.maximum(pre, 0.0)


def shared_cosets(group: FiniteGroup, sub_left: int, sub_right: int) -> list[int]:
    """Ids (in ``coset_table("right")[sub_left]``) of the right cosets of ``H_L`` that are also
    left cosets of ``H_R`` (subgroup indices into ``lattice.subgroups``); empty unless ``H_R`` is
    conjugate to ``H_L``."""
    lattice = group.subgroup_lattice
    if lattice.subgroups[sub_left].order != lattice.subgroups[sub_right].order:
        return []
    right_ids = lattice.coset_table(SIDES[1])[sub_left]  # [n] right cosets of H_L
    left_ids = lattice.coset_table(SIDES[0])[sub_right]  # [n] left cosets of H_R
    out = []
    for r in np.unique(right_ids):
        labels = left_ids[right_ids == r]
        if (labels == labels[0]).all():  # equal sizes: one whole left coset
            out.append(int(r))
    return out


def shared_coset_silence(
    group: FiniteGroup, subgroups: np.ndarray, f_left: np.ndarray, f_right: np.ndarray,
    bias: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """``[k]`` each neuron's least activation ratio on a shared coset (module docstring).

    ``min_S mean(act | a·b ∈ S) / mean(act)`` over the shared cosets ``S`` of the neuron's left
    and right subgroups; ``inf`` when they share no coset, NaN for a neuron that never fires.

    Args:
        subgroups: ``[2, k]`` each neuron's left and right subgroup (index into
            ``lattice.subgroups``), e.g. :attr:`SideFit.own_subgroup`.
        f_left, f_right: ``[|G|, k]`` the pre-activation tables ``conc`` was computed from.
        bias: ``[k]`` the hidden bias, if the model has one.
    """
    lattice = group.subgroup_lattice
    f_left, f_right = np.asarray(f_left, float), np.asarray(f_right, float)
    k = f_left.shape[1]
    bias = np.zeros(k) if bias is None else np.asarray(bias, dtype=np.float64)
    out = np.full(k, np.inf)
    cache: dict[tuple[int, int], list[int]] = {}
    for j in range(k):  # one neuron at a time: S6 has 518 400 pairs
        act = neuron_activations(f_left[:, j : j + 1], f_right[:, j : j + 1], bias[j : j + 1])[0]
        total = act.mean()
        if total <= 0:
            out[j] = np.nan
            continue
        sub_l, sub_r = int(subgroups[0, j]), int(subgroups[1, j])
        if (sub_l, sub_r) not in cache:
            cache[sub_l, sub_r] = shared_cosets(group, sub_l, sub_r)
        shared = cache[sub_l, sub_r]
        if not shared:
            continue
        ids = lattice.coset_table(SIDES[1])[sub_l][group.table]  # [a, b] right coset of a·b
        sums = np.bincount(ids.ravel(), weights=act.ravel())
        counts = np.bincount(ids.ravel())
        out[j] = float(min(sums[s] / counts[s] for s in shared) / total)
    return out


def sign_amplitudes(
    group: FiniteGroup, conc: CosetConcentration, f_left: np.ndarray, f_right: np.ndarray,
    *, tol: float = 1e-2,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """``(neurons, ratios)``: the neurons whose both sides are sign functions (``C_N < tol`` on
    the left cosets of the index-2 normal subgroup N, both sides) and, for each, the ratio of the
    right side's amplitude to the left side's (``(mean on N − mean off N)``): −1 for the paper's
    ``L = sgn, R = −sgn``. Empty when the group has no index-2 subgroup."""
    lattice = group.subgroup_lattice
    neurons: list[np.ndarray] = []
    ratios: list[np.ndarray] = []
    for c in lattice.classes:
        if c.order * 2 != group.order:
            continue
        h = c.members[0]  # index 2: normal, one member
        in_h = np.zeros(group.order, dtype=bool)
        in_h[lattice.subgroups[h].elements] = True
        live = ~conc.constant.any(axis=0)
        both = (conc.values[0, 0, h] < tol) & (conc.values[1, 0, h] < tol) & live  # [k]
        js = np.flatnonzero(both)
        amp = [
            f[in_h][:, js].mean(axis=0) - f[~in_h][:, js].mean(axis=0) for f in (f_left, f_right)
        ]
        neurons.append(js)
        ratios.append(amp[1] / amp[0])
    if not neurons:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(neurons), np.concatenate(ratios)
