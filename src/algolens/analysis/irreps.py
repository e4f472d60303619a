"""Representation-theoretic metrics of a group-composition network (Chughtai, Chan & Nanda 2023).

The "group composition via representations" algorithm reads the logit of c for input (a, b) as
``χ_ρ(a·b·c⁻¹) = tr ρ(a)ρ(b)ρ(c⁻¹)`` for a few irreps ρ. These functions measure how much of a
trained network that explains:

* **character similarity** of ρ: cosine between the logits ``L[a, b, c]`` and the character cube
  ``T_ρ[a, b, c] = tr ρ(a·b·c⁻¹)``, each row (fixed a, b) centred over c;
* **logit FVE** ``= Σ_ρ similarity²`` (the cubes of distinct irreps are orthogonal);
* **key irreps**: similarity above :data:`KEY_SIMILARITY` (0.005, as in the paper);
* **weight FVE** of an embedding-like matrix E ``[|G|, k]``: ``‖QᵀE‖²/‖E‖²`` with Q the
  orthonormalised ρ-basis of the key irreps (:func:`algolens.groups.reps.rho_basis`); for the MLP,
  E is ``W_a``, ``W_b`` (the folded per-side tables) and ``W_Uᵀ``.

The similarity never builds the ``|G|³`` cube: it sums the centred logits over the pairs with the
same product, ``S[g, c] = Σ_{ab=g} L[a, b, c]``, and uses ``T_ρ[a, b, c] = M_ρ[ab, c]`` with
``M_ρ[g, c] = χ_ρ(g c⁻¹)``: ``O(|G|³)`` adds once, then ``O(|G|²)`` per irrep.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from algolens.groups.group import FiniteGroup
from algolens.groups.reps import Irrep, fve, irreps, rho_basis

KEY_SIMILARITY = 0.005


@dataclass(frozen=True)
class IrrepAnalysis:
    """Chughtai et al.'s metrics for one trained instance.

    Attributes:
        labels: irrep labels, in :func:`algolens.groups.reps.irreps` order.
        similarity: ``[n_irreps]`` character similarity of each irrep.
        key: labels of the key irreps (similarity > :data:`KEY_SIMILARITY`).
        logit_fve: Σ similarity² over all irreps.
        weight_fve: FVE of ``W_a``, ``W_b``, ``W_U`` by the span of the key irreps' ρ-bases.
    """

    labels: list[str]
    similarity: np.ndarray
    key: list[str]
    logit_fve: float
    weight_fve: dict[str, float]

    def to_dict(self) -> dict:
        return {
            "similarity": dict(zip(self.labels, np.round(self.similarity, 6).tolist())),
            "key_irreps": self.key,
            "logit_fve": round(self.logit_fve, 6),
            "weight_fve": {k: round(v, 6) for k, v in self.weight_fve.items()},
        }


def character_similarity(
    group: FiniteGroup, logits: np.ndarray, reps: list[Irrep] | None = None
) -> np.ndarray:
    """Cosine similarity of ``logits`` ``[|G|, |G|, |G|]`` (a, b, c) with each character cube.

    Returns:
        ``[n_irreps]`` similarities in ``reps`` order (default: all irreps of ``group``).
    """
    reps = irreps(group) if reps is None else reps
    n = group.order
    logits = np.asarray(logits, dtype=np.float64)
    if logits.shape != (n, n, n):
        raise ValueError(f"logits must be [|G|, |G|, |G|] = {(n, n, n)}, got {logits.shape}")
    centred = logits - logits.mean(axis=-1, keepdims=True)  # [a, b, c]
    by_product = _sum_by_product(group, centred)  # [g, c]
    norm_logits = np.sqrt(np.sum(centred * centred))
    g_cinv = group.table[:, group.inverses]  # [g, c] -> g·c⁻¹
    sims = np.empty(len(reps))
    for i, rho in enumerate(reps):
        chi = rho.real_character[group.class_of]  # [g] trace of ρ(g)
        m = chi[g_cinv]  # [g, c]
        m = m - m.mean(axis=1, keepdims=True)
        norm_cube = np.sqrt(n * np.sum(m * m))  # each product g arises from n pairs
        denom = norm_logits * norm_cube
        sims[i] = float(np.sum(by_product * m) / denom) if denom > 0 else 0.0
    return sims


def _sum_by_product(group: FiniteGroup, values: np.ndarray) -> np.ndarray:
    """``S[g] = Σ_{a·b = g} values[a, b]`` for ``values`` ``[|G|, |G|, ...]``."""
    n = group.order
    order = np.argsort(group.table.ravel(), kind="stable")  # n pairs per product, grouped
    flat = values.reshape(n * n, *values.shape[2:])
    return flat[order].reshape(n, n, *values.shape[2:]).sum(axis=1)


def subspace_fve(reps: list[Irrep], E: np.ndarray) -> float:
    """FVE of ``E`` ``[|G|, k]`` by the direct sum of the ρ-bases of ``reps`` (orthogonal by
    Schur's lemma, so the bases are concatenated)."""
    if not reps:
        return 0.0
    basis = np.concatenate([rho_basis(r) for r in reps], axis=1)
    return fve(basis, E)


def all_pair_logits(model: torch.nn.Module, n: int) -> np.ndarray:
    """Logits ``[|G|, |G|, |G|]`` (a, b, c) of a single-instance composition MLP on every pair."""
    a = torch.arange(n).repeat_interleave(n)
    b = torch.arange(n).repeat(n)
    tokens = torch.stack([a, b], dim=-1)[None]  # [1, n², 2]
    with torch.no_grad():
        out = model(tokens)  # [1, n², n]
    return out[0].double().numpy().reshape(n, n, n)


def analyse_mlp(group: FiniteGroup, model: torch.nn.Module) -> IrrepAnalysis:
    """All metrics for a single-instance composition MLP (``model.instance(k)`` of a run)."""
    reps = irreps(group)
    labels = [r.label for r in reps]
    sims = character_similarity(group, all_pair_logits(model, group.order), reps)
    key_reps = [r for r, s in zip(reps, sims) if s > KEY_SIMILARITY]
    with torch.no_grad():
        w_a, w_b = (w[0].double().numpy() for w in model.folded_weights())  # [|G|, d_mlp]
        w_u = model.W_U[0].double().numpy().T  # [|G|, d_mlp]
    weight = {
        name: subspace_fve(key_reps, w) for name, w in (("W_a", w_a), ("W_b", w_b), ("W_U", w_u))
    }
    return IrrepAnalysis(
        labels=labels,
        similarity=sims,
        key=[r.label for r in key_reps],
        logit_fve=float(np.sum(sims**2)),
        weight_fve=weight,
    )
