"""Fourier spectra of subgroup indicators: which irreps "see" each subgroup.

For a subgroup H of G, the centred indicator ``1_H − |H|/|G|`` is split into its isotypic
components (:func:`algolens.groups.fourier.power_spectrum`, Plancherel) and each real irrep's
share of the power is reported. This is Stander et al.'s Table 5 for S5 (S4 → 100 % (4,1);
A5 → 100 % sign; F20 → 100 % (2,2,1); S3×S2 → (3,2) 55.6 % / (4,1) 44.4 %), for every
conjugacy class of subgroups of any group. Conjugate subgroups have the same spectrum (the
power in each isotypic component is invariant under conjugation), so one representative per
class is enough.

Algebra (used by the tests, not here): for a complex irreducible χ,
``‖P_χ 1_H‖² = χ(1)·|H|²·⟨χ|_H, 1⟩_H / |G|``, so the share of χ in the centred indicator is
``χ(1)·⟨χ|_H, 1⟩ / ([G:H] − 1)``: the permutation character of G on G/H, without its trivial
part. A real irrep made of a complex pair sums the shares of both. The whole group G has a zero
centred indicator and an empty spectrum.

Examples:
    >>> from algolens.groups import parse_group
    >>> rows = indicator_spectra(parse_group("S3"))
    >>> [(r.label, r.shares) for r in rows if r.order == 3]
    [('C3', {'sign': 1.0})]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from algolens.groups.fourier import power_spectrum
from algolens.groups.group import FiniteGroup
from algolens.groups.reps import irreps

_ZERO = 1e-12
"""Shares below this are reported as absent (rounding of an exactly zero component)."""


@dataclass(frozen=True)
class IndicatorSpectrum:
    """The spectrum of one conjugacy class of subgroups.

    Attributes:
        class_index: index in ``group.subgroup_lattice.classes``.
        order: |H|. class_size: number of conjugates. label: the class label.
        shares: ``{irrep label: share}`` of the centred indicator's power, summing to 1, irreps
            with no power left out (empty for H = G, whose centred indicator is 0).
    """

    class_index: int
    order: int
    class_size: int
    label: str
    shares: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON row of ``algolens group spectra --json``."""
        return {
            "class": self.class_index,
            "order": self.order,
            "class_size": self.class_size,
            "label": self.label,
            "shares": self.shares,
        }


def indicator_spectra(group: FiniteGroup) -> list[IndicatorSpectrum]:
    """One :class:`IndicatorSpectrum` per conjugacy class of subgroups, in lattice order.

    Cost: one batched Fourier transform of the ``[|G|, n_classes]`` centred indicators.

    Raises:
        SizeLimitError: a group too large for irreps (see :mod:`algolens.groups.reps`).
    """
    reps = irreps(group)
    lattice = group.subgroup_lattice
    n = group.order
    ind = np.zeros((n, len(lattice.classes)))  # [|G|, n_classes]
    for j, c in enumerate(lattice.classes):
        ind[lattice.subgroups[c.members[0]].elements, j] = 1.0
    ind -= ind.mean(axis=0)
    power = power_spectrum(group, ind, reps)  # [n_irreps, n_classes]
    total = power.sum(axis=0)
    rows = []
    for j, c in enumerate(lattice.classes):
        shares = {}
        if total[j] > _ZERO:
            share = power[:, j] / total[j]
            shares = {r.label: float(s) for r, s in zip(reps, share) if s > _ZERO}
        rows.append(IndicatorSpectrum(c.index, c.order, c.size, c.label, shares))
    return rows


def invariant_irreps(group: FiniteGroup, subgroup: int) -> list[int]:
    """Indices (in :func:`irreps`) of the irreps whose restriction to ``subgroups[subgroup]``
    contains the trivial irrep, the trivial irrep included.

    A function constant on the cosets of H (left or right) has Fourier support only on these:
    ``f̂(ρ) = f̂(ρ)·ρ(h)`` for every h ∈ H forces f̂(ρ) to vanish off the H-invariant vectors.
    Computed from the characters: ``Σ_{h∈H} χ_ℝ(h) > 0``.
    """
    elements = group.subgroup_lattice.subgroups[subgroup].elements
    classes = group.class_of[elements]  # [|H|]
    out = []
    for r in irreps(group):
        if r.real_character[classes].sum() > 0.5:  # |H|·multiplicity, an integer
            out.append(r.index)
    return out
