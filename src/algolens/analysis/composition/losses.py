"""Restricted and excluded loss (Chughtai et al. 2023, progress measures).

Let ``Q_K = [Q_ρ for ρ in key]`` ``[|G|, k]`` be the key irreps' ρ-bases (orthonormal, orthogonal
to each other and to the constants). The *ρ(ab) component of the key irreps* of the features
``h[a, b]`` ``[d_feat]`` is their orthogonal projection, over G×G, onto the functions
``Q_K[a·b, j]/√|G|``::

    C[g] = (1/|G|) · Q_K Q_Kᵀ P          P[g] = Σ_{ab=g} h[a, b]   ->  C: [|G|, d_feat]

* **restricted loss**: keep only that component (and the mean μ of h over all pairs), unembed,
  and take the mean cross-entropy over *all* pairs. The restricted logits ``(μ + C[g])·U + u``
  depend on g = a·b only, and each g has |G| pairs, so this is the mean over g of
  ``CE((μ + C[g])·U + u, g)``. Low when the key irreps carry the algorithm.
* **excluded loss**: remove the component: logits ``L[a, b] − C[a·b]·U``, mean cross-entropy over
  the *training* pairs (all pairs without a split). High when the network depends on them.

(For the transformer, h includes the stream that bypasses the MLP, so the projection applies to
everything that reaches the unembedding; see :mod:`algolens.analysis.composition.readout`.)
"""

from __future__ import annotations

import numpy as np
import torch

from algolens.analysis.composition.readout import Readout
from algolens.analysis.composition.streaming import PairSums
from algolens.groups.reps import Irrep, rho_basis


def key_component(key_reps: list[Irrep], sums: PairSums) -> torch.Tensor:
    """``C`` ``[|G|, d_feat]``: the key irreps' ρ(ab) component of the features (module doc)."""
    p = sums.by_product  # [n, d_feat]
    n = p.shape[0]
    nontrivial = [r for r in key_reps if r.label != "trivial"]
    if not nontrivial:
        return torch.zeros_like(p)
    q = torch.as_tensor(np.concatenate([rho_basis(r) for r in nontrivial], axis=1))  # [n, k]
    return q @ (q.T @ p) / n  # [n, d_feat]


def restricted_loss(ro: Readout, sums: PairSums, component: torch.Tensor) -> float:
    """Mean cross-entropy over all pairs of the restricted logits ``(μ + C[g])·U + u``."""
    logits = (sums.mean + component) @ ro.unembed + ro.bias  # [g, c]
    target = torch.arange(ro.n)
    ce = torch.logsumexp(logits, -1) - logits[target, target]  # [g]
    return float(ce.mean())
