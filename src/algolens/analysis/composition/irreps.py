"""Representation-theoretic metrics of a group-composition network (Chughtai, Chan & Nanda 2023).

The "group composition via representations" (GCR) algorithm reads the logit of c for input
(a, b) as ``χ_ρ(a·b·c⁻¹) = tr ρ(a)ρ(b)ρ(c⁻¹)`` for a few irreps ρ. :func:`analyse_model` measures
how much of a trained network (MLP or 1-layer transformer, one instance) that explains:

* **character similarity** of ρ: cosine between the logits ``L[a, b, c]`` and the character cube
  ``T_ρ[a, b, c] = tr ρ(a·b·c⁻¹)``, each row (fixed a, b) centred over c::

      sim_ρ = Σ_{a,b,c} L̃[a,b,c] T̃_ρ[a,b,c] / (‖L̃‖ ‖T̃_ρ‖),   X̃[a,b,c] = X[a,b,c] − mean_c X[a,b,·]

  (the trivial irrep's cube is constant in c, so its similarity is 0 by definition);
* **logit FVE** ``= Σ_ρ sim_ρ²`` (the centred cubes of distinct irreps are orthogonal, so this is
  the fraction of the centred logits' variance inside their span);
* **key irreps**: ``sim_ρ >`` :data:`KEY_SIMILARITY` (0.005, as in the paper); over checkpoints
  an irrep is *learned* at the first checkpoint with ``sim_ρ >`` :data:`LEARNED_SIMILARITY`
  (:mod:`algolens.analysis.composition.progress`);
* **weight FVE** of an embedding-like matrix E ``[|G|, k]`` by irrep ρ: ``‖Q_ρᵀE‖²/‖E‖²`` with
  ``Q_ρ`` the orthonormalised ρ-basis (:func:`algolens.groups.reps.rho_basis`), for every irrep
  (the trivial irrep's value is the share of E's rows' mean, reported with the others) and for
  the key set (the sum over key irreps, orthogonal by Schur). E is ``W_a``, ``W_b``, ``W_Uᵀ``
  (see :mod:`algolens.analysis.composition.readout` for the transformer's);
* **neuron FVE** and the neuron → irrep assignment (:mod:`algolens.analysis.composition.neurons`);
* **restricted and excluded loss** (:mod:`algolens.analysis.composition.losses`);
* **sum of squared weights** ``Σ θ²`` over the trainable parameters.

**Streaming.** Nothing of size ``|G|³`` is held (:mod:`algolens.analysis.composition.streaming`).
The logits
are ``L[a, b] = h[a, b]·U + u``, so the similarity only needs the product sums
``P[g] = Σ_{ab=g} h[a, b]`` ``[|G|, d_feat]``: with ``Ũ``, ``ũ`` centred over c,
``S[g, c] = Σ_{ab=g} L̃[a, b, c] = P[g]·Ũ[:, c] + |G|·ũ[c]``, and since ``T_ρ[a, b, c] =
M_ρ[ab, c]`` with ``M_ρ[g, c] = χ_ρ(g c⁻¹)``, ``Σ L̃ T̃_ρ = Σ_{g,c} S[g, c] M̃_ρ[g, c]`` and
``‖T̃_ρ‖² = |G|·‖M̃_ρ‖²`` (|G| pairs per product), and
``‖L̃‖² = tr(ŨᵀGŨ) + 2(Σh)·Ũũ + |G|²‖ũ‖²`` from the Gram matrix ``G = Σ_{a,b} hᵀh``. All of it
in float64. The losses take a second pass over blocks of logits (float32 by default; see
:func:`algolens.analysis.composition.streaming.logit_sums`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from algolens.analysis.composition.losses import key_component, restricted_loss
from algolens.analysis.composition.neurons import neuron_fve
from algolens.analysis.composition.readout import readout
from algolens.analysis.composition.streaming import (
    BLOCK_ELEMENTS,
    ONE_THREAD_ORDER,
    logit_sums,
    pair_sums,
    torch_threads,
)
from algolens.errors import ConfigError
from algolens.groups._blas import blas_threads
from algolens.groups.group import FiniteGroup
from algolens.groups.reps import Irrep, fve, irreps, rho_basis

KEY_SIMILARITY = 0.005
"""An irrep is *key* when its final character similarity exceeds this (Chughtai et al.)."""

LEARNED_SIMILARITY = 0.05
"""Learning order: the first checkpoint at which an irrep's similarity exceeds this."""


@dataclass(frozen=True)
class IrrepAnalysis:
    """Chughtai et al.'s metrics for one trained instance.

    Attributes:
        labels: irrep labels, in :func:`algolens.groups.reps.irreps` order.
        similarity: ``[n_irreps]`` character similarity of each irrep.
        key: labels of the key irreps (similarity > :data:`KEY_SIMILARITY`).
        logit_fve: Σ similarity² over all irreps.
        weight_fve: FVE of ``W_a``, ``W_b``, ``W_U`` by the span of the key irreps' ρ-bases.
        weight_fve_by_irrep: ``{"W_a" | "W_b" | "W_U": [n_irreps]}`` FVE by each irrep
            (including the trivial irrep).
        neurons: :meth:`~algolens.analysis.composition.neurons.NeuronFVE.summary` plus the
        per-neuron
            assignment (``"irrep"``, ``"share"`` lists).
        losses: ``loss``/``accuracy`` on all pairs (and ``train_*``/``test_*`` with a split),
            ``restricted_loss``, ``excluded_loss`` and ``excluded_on`` (``"train"`` or ``"all"``).
        sum_sq_weights: Σ of squared trainable parameters.
    """

    labels: list[str]
    similarity: np.ndarray
    key: list[str]
    logit_fve: float
    weight_fve: dict[str, float]
    weight_fve_by_irrep: dict[str, np.ndarray] = field(default_factory=dict)
    neurons: dict = field(default_factory=dict)
    losses: dict[str, float | str] = field(default_factory=dict)
    sum_sq_weights: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready dict (floats rounded to 6 significant decimals)."""
        return {
            "similarity": dict(zip(self.labels, _r(self.similarity))),
            "key_irreps": self.key,
            "logit_fve": round(self.logit_fve, 6),
            "weight_fve": {k: round(v, 6) for k, v in self.weight_fve.items()},
            "weight_fve_by_irrep": {
                w: dict(zip(self.labels, _r(v))) for w, v in self.weight_fve_by_irrep.items()
            },
            "neurons": self.neurons,
            "losses": {
                k: v if isinstance(v, str) else float(f"{v:.6g}") for k, v in self.losses.items()
            },
            "sum_sq_weights": float(f"{self.sum_sq_weights:.6g}"),
        }


def _r(values: np.ndarray) -> list[float]:
    return np.round(np.asarray(values, dtype=float), 6).tolist()


def character_similarity(
    group: FiniteGroup, logits: np.ndarray, reps: list[Irrep] | None = None
) -> np.ndarray:
    """Cosine similarity of a whole ``logits`` cube ``[|G|, |G|, |G|]`` (a, b, c) with each
    character cube (small groups and tests; :func:`analyse_model` streams instead).

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
    return similarity_from_sums(group, reps, by_product, float(np.sum(centred * centred)))


def similarity_from_sums(
    group: FiniteGroup, reps: list[Irrep], by_product: np.ndarray, centred_sq: float
) -> np.ndarray:
    """Similarities from ``S[g, c] = Σ_{ab=g} L̃[a, b, c]`` ``[|G|, |G|]`` and ``‖L̃‖²``."""
    n = group.order
    g_cinv = group.table[:, group.inverses]  # [g, c] -> g·c⁻¹
    norm_logits = np.sqrt(centred_sq)
    sims = np.empty(len(reps))
    for i, rho in enumerate(reps):
        chi = rho.real_character[group.class_of]  # [g] trace of ρ(g)
        m = chi[g_cinv]  # [g, c]
        m = m - m.mean(axis=1, keepdims=True)
        denom = norm_logits * np.sqrt(n * np.sum(m * m))  # each product g arises from n pairs
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
    """Logits ``[|G|, |G|, |G|]`` (a, b, c) of a single-instance composition MLP on every pair
    (the whole cube: small groups and tests only)."""
    a = torch.arange(n).repeat_interleave(n)
    b = torch.arange(n).repeat(n)
    tokens = torch.stack([a, b], dim=-1)[None]  # [1, n², 2]
    with torch.no_grad():
        out = model(tokens)  # [1, n², n]
    return out[0].double().numpy().reshape(n, n, n)


def analyse_model(
    group: FiniteGroup,
    model: torch.nn.Module,
    *,
    train_mask: np.ndarray | None = None,
    budget: int = BLOCK_ELEMENTS,
) -> IrrepAnalysis:
    """Every metric for one instance of a composition MLP or 1-layer transformer.

    Args:
        group: the group the network composes (element ids = token ids).
        model: a single-instance model (``run_model.instance(k)``).
        train_mask: ``[|G|, |G|]`` bool, True on the training pairs (for train/test losses and
            the excluded loss); None: all pairs count as one split.
        budget: logits per streamed block (peak memory is a few arrays of ``budget`` floats).

    Raises:
        ConfigError: a model that has no read-out
        (:func:`algolens.analysis.composition.readout.readout`) or
            whose vocabulary is not the group's.
        SizeLimitError: the group's irreps exceed the size limit.
    """
    reps = irreps(group)
    # numpy's OpenBLAS only sees small [|G|, k] products here: one thread (see groups._blas)
    with torch_threads(1 if group.order <= ONE_THREAD_ORDER else None), blas_threads(1):
        ro = readout(model)
        if ro.n != group.order:
            raise ConfigError(
                f"model has {ro.n} outputs but {group.name} has {group.order} elements"
            )
        return _analyse(group, reps, ro, train_mask, budget)


def _analyse(group, reps, ro, train_mask, budget) -> IrrepAnalysis:
    sums = pair_sums(ro, group.table, budget=budget)
    sims = _similarities(group, reps, ro, sums)
    key_reps = [r for r, s in zip(reps, sims) if s > KEY_SIMILARITY]
    comp = key_component(key_reps, sums)  # [g, d_feat]
    stats = logit_sums(ro, group.table, comp @ ro.unembed, train_mask, budget=budget)
    by_irrep = {w: np.array([fve(rho_basis(r), m) for r in reps]) for w, m in ro.weights.items()}
    nfve = neuron_fve(reps, sums, ro.n_neurons)
    names, share, _ = nfve.assignment()
    neurons = nfve.summary([r.label for r in key_reps])
    neurons["irrep"] = names
    neurons["share"] = _r(share)
    return IrrepAnalysis(
        labels=[r.label for r in reps],
        similarity=sims,
        key=[r.label for r in key_reps],
        logit_fve=float(np.sum(sims**2)),
        weight_fve={w: subspace_fve(key_reps, m) for w, m in ro.weights.items()},
        weight_fve_by_irrep=by_irrep,
        neurons=neurons,
        losses=_losses(stats, restricted_loss(ro, sums, comp)),
        sum_sq_weights=ro.sq_weights,
    )


def analyse_mlp(
    group: FiniteGroup, model: torch.nn.Module, *, train_mask: np.ndarray | None = None
) -> IrrepAnalysis:
    """All metrics for a single-instance composition MLP (``model.instance(k)`` of a run);
    the same as :func:`analyse_model`, kept for its callers."""
    return analyse_model(group, model, train_mask=train_mask)


def _similarities(group: FiniteGroup, reps: list[Irrep], ro, sums) -> np.ndarray:
    """Streamed similarities: ``S = P·Ũ + |G|·ũ`` and ``‖L̃‖² = tr(ŨᵀGŨ) + 2(Σh)·Ũũ + |G|²‖ũ‖²``
    from the pass-1 sums (G the Gram matrix of h)."""
    n = group.order
    u_c = ro.unembed - ro.unembed.mean(1, keepdim=True)  # [d_feat, c]
    b_c = ro.bias - ro.bias.mean()  # [c]
    by_product = sums.by_product @ u_c + n * b_c  # [g, c]
    total = sums.by_left.sum(0)  # [d_feat] Σ_{a,b} h
    centred_sq = (
        float((u_c * (sums.gram @ u_c)).sum())
        + 2.0 * float(total @ u_c @ b_c)
        + n * n * float(b_c @ b_c)
    )
    return similarity_from_sums(group, reps, by_product.numpy(), max(centred_sq, 0.0))


def _losses(stats, restricted: float) -> dict[str, float | str]:
    out: dict[str, float | str] = {
        "loss": stats.mean_loss("all"),
        "accuracy": stats.accuracy("all"),
    }
    split = "train" if "train" in stats.count else "all"
    if split == "train":
        for part in ("train", "test"):
            out[f"{part}_loss"] = stats.mean_loss(part)
            out[f"{part}_acc"] = stats.accuracy(part)
    out["restricted_loss"] = restricted
    out["excluded_loss"] = stats.mean_excluded_loss(split)
    out["excluded_on"] = split
    return out
