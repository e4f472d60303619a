"""Group Fourier transform over the real irreps, on G and on G×G, batched and vectorised.

Normalisation (real irreps ρ of :func:`algolens.groups.reps.irreps`, dimension d_ρ, Plancherel
weight ``c_ρ = d_ρ / dim End(ρ)`` = d_ρ for real-type ρ, d_ρ/2 for complex type, d_ρ/4 for
quaternionic type):

    forward   f̂(ρ) = Σ_g f(g) ρ(g)                                   (a d_ρ×d_ρ matrix)
    inverse   f(x) = Σ_ρ (c_ρ/|G|) tr(ρ(x)ᵀ f̂(ρ))
    isotypic  (P_ρ f)(x) = (c_ρ/|G|) tr(ρ(x)ᵀ f̂(ρ)),   f = Σ_ρ P_ρ f, orthogonal pieces
    power     p_ρ(f) = ‖P_ρ f‖² = (c_ρ/|G|) ‖f̂(ρ)‖²_F,   Plancherel: Σ_ρ p_ρ(f) = Σ_g f(g)²

When every irrep is of real type this is the usual ``f(x) = 1/|G| Σ_ρ d_ρ tr(ρ(x)ᵀ f̂(ρ))``
(e.g. Chughtai, Chan & Nanda, *A Toy Model of Universality*, 2023, with real orthogonal ρ). For
a complex or quaternionic ρ the d² entries of f̂(ρ) are linearly dependent, hence the smaller c_ρ.

On G×G (functions of pairs, e.g. logits ``[|G|, |G|, k]``) the blocks are indexed by pairs of
real irreps: ``f̂(ρ, σ) = Σ_{a,b} f(a, b) ρ(a) ⊗ σ(b)`` as a ``[d_ρ, d_ρ, d_σ, d_σ]`` array, the
weights multiply (``c_ρ c_σ / |G|²``) and Plancherel holds the same way. Each block is the
isotypic component of G×G for ρ⊗σ (two real irreps of G×G when neither ρ nor σ is of real type).

Functions take ``f`` as ``[|G|]`` or ``[|G|, k]`` (``[|G|, |G|]`` or ``[|G|, |G|, k]``: k
functions at once, batch last) and loop over irreps only, never over group elements.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from algolens.errors import SpecError
from algolens.groups.group import FiniteGroup
from algolens.groups.reps import Irrep, irreps


def _prepare(group: FiniteGroup, f: np.ndarray, ndim_group: int) -> tuple[np.ndarray, bool]:
    arr = np.asarray(f, dtype=float)
    n = group.order
    if arr.shape[:ndim_group] != (n,) * ndim_group or arr.ndim not in (ndim_group, ndim_group + 1):
        want = ", ".join(["|G|"] * ndim_group)
        raise SpecError(
            f"function on {group.name} has shape {arr.shape}; expected [{want}] or [{want}, k] "
            f"with |G| = {n}"
        )
    single = arr.ndim == ndim_group
    return (arr[..., None] if single else arr), single


def _reps(group: FiniteGroup, reps: Sequence[Irrep] | None) -> Sequence[Irrep]:
    return irreps(group) if reps is None else reps


def fourier_transform(
    group: FiniteGroup, f: np.ndarray, reps: Sequence[Irrep] | None = None
) -> list[np.ndarray]:
    """``f̂(ρ) = Σ_g f(g) ρ(g)`` for every real irrep.

    Args:
        f: ``[|G|]`` or ``[|G|, k]``.
        reps: irreps to use (default :func:`irreps` of the group).

    Returns:
        one array per irrep, ``[d, d]`` or ``[d, d, k]``.
    """
    arr, single = _prepare(group, f, 1)
    out = [np.einsum("gij,gk->ijk", r.matrices, arr, optimize=True) for r in _reps(group, reps)]
    return [c[..., 0] for c in out] if single else out


def inverse_fourier(
    group: FiniteGroup, coeffs: Sequence[np.ndarray], reps: Sequence[Irrep] | None = None
) -> np.ndarray:
    """``f(x) = Σ_ρ (c_ρ/|G|) tr(ρ(x)ᵀ f̂(ρ))`` from coefficients ``[d, d]`` or ``[d, d, k]``.

    Returns ``[|G|]`` or ``[|G|, k]`` (matching the coefficients)."""
    reps = _reps(group, reps)
    if len(coeffs) != len(reps):
        raise SpecError(f"got {len(coeffs)} Fourier blocks for {len(reps)} irreps of {group.name}")
    single = np.ndim(coeffs[0]) == 2
    total = 0.0
    for r, c in zip(reps, coeffs):
        c = np.asarray(c, dtype=float)
        c = c[..., None] if single else c
        total = total + (r.plancherel_weight / group.order) * np.einsum(
            "gij,ijk->gk", r.matrices, c, optimize=True
        )
    return total[:, 0] if single else total


def isotypic_projections(
    group: FiniteGroup, f: np.ndarray, reps: Sequence[Irrep] | None = None
) -> np.ndarray:
    """``[n_irreps, |G|(, k)]``: the component ``P_ρ f`` of f in each isotypic subspace;
    the components sum to f and are mutually orthogonal."""
    reps = _reps(group, reps)
    coeffs = fourier_transform(group, f, reps)
    return np.stack([inverse_fourier(group, [c], [r]) for r, c in zip(reps, coeffs)])


def power_spectrum(
    group: FiniteGroup, f: np.ndarray, reps: Sequence[Irrep] | None = None
) -> np.ndarray:
    """``[n_irreps(, k)]``: ``p_ρ = (c_ρ/|G|)‖f̂(ρ)‖²_F``; sums to ``Σ_g f(g)²`` (Plancherel)."""
    reps = _reps(group, reps)
    coeffs = fourier_transform(group, f, reps)
    return np.stack(
        [
            (r.plancherel_weight / group.order) * np.sum(c * c, axis=(0, 1))
            for r, c in zip(reps, coeffs)
        ]
    )


# -- functions on G×G ---------------------------------------------------------------------------


def fourier_transform_2d(
    group: FiniteGroup, f: np.ndarray, reps: Sequence[Irrep] | None = None
) -> list[list[np.ndarray]]:
    """``f̂(ρ, σ) = Σ_{a,b} f(a, b) ρ(a) ⊗ σ(b)`` for every pair of real irreps.

    Args:
        f: ``[|G|, |G|]`` or ``[|G|, |G|, k]`` (e.g. logits indexed by the pair (a, b)).

    Returns:
        ``out[i][j]`` of shape ``[d_i, d_i, d_j, d_j]`` or ``[d_i, d_i, d_j, d_j, k]``.
        Cost O(|G|²·Σd²·k) (contract b first, then a), not O(|G|²·(Σd²)²·k).
    """
    arr, single = _prepare(group, f, 2)
    reps = _reps(group, reps)
    out: list[list[np.ndarray]] = [[] for _ in reps]
    for s in reps:
        half = np.einsum("bpq,abk->apqk", s.matrices, arr, optimize=True)
        for i, r in enumerate(reps):
            block = np.einsum("aij,apqk->ijpqk", r.matrices, half, optimize=True)
            out[i].append(block[..., 0] if single else block)
    return out


def inverse_fourier_2d(
    group: FiniteGroup, coeffs: Sequence[Sequence[np.ndarray]], reps: Sequence[Irrep] | None = None
) -> np.ndarray:
    """``f(a, b) = Σ_{ρ,σ} (c_ρ c_σ/|G|²) ⟨ρ(a) ⊗ σ(b), f̂(ρ, σ)⟩``; returns ``[|G|, |G|(, k)]``."""
    reps = _reps(group, reps)
    n = group.order
    single = np.ndim(coeffs[0][0]) == 4
    total = 0.0
    for j, s in enumerate(reps):
        inner = 0.0
        for i, r in enumerate(reps):
            c = np.asarray(coeffs[i][j], dtype=float)
            c = c[..., None] if single else c
            w = r.plancherel_weight * s.plancherel_weight / n**2
            inner = inner + w * np.einsum("aij,ijpqk->apqk", r.matrices, c, optimize=True)
        total = total + np.einsum("bpq,apqk->abk", s.matrices, inner, optimize=True)
    return total[..., 0] if single else total


def power_spectrum_2d(
    group: FiniteGroup, f: np.ndarray, reps: Sequence[Irrep] | None = None
) -> np.ndarray:
    """``[n_irreps, n_irreps(, k)]``: ``p_{ρσ} = (c_ρ c_σ/|G|²)‖f̂(ρ, σ)‖²``; sums to
    ``Σ_{a,b} f(a, b)²``."""
    reps = _reps(group, reps)
    n = group.order
    blocks = fourier_transform_2d(group, f, reps)
    return np.array(
        [
            [
                (r.plancherel_weight * s.plancherel_weight / n**2)
                * np.sum(blocks[i][j] ** 2, axis=(0, 1, 2, 3))
                for j, s in enumerate(reps)
            ]
            for i, r in enumerate(reps)
        ]
    )


def isotypic_projection_2d(
    group: FiniteGroup, f: np.ndarray, i: int, j: int, reps: Sequence[Irrep] | None = None
) -> np.ndarray:
    """Component of f on G×G in the (ρ_i, ρ_j) block, ``[|G|, |G|(, k)]``; the components of all
    pairs are orthogonal and sum to f."""
    arr, single = _prepare(group, f, 2)
    reps = _reps(group, reps)
    r, s = reps[i], reps[j]
    n = group.order
    half = np.einsum("bpq,abk->apqk", s.matrices, arr, optimize=True)
    block = np.einsum("aij,apqk->ijpqk", r.matrices, half, optimize=True)
    w = r.plancherel_weight * s.plancherel_weight / n**2
    inner = w * np.einsum("aij,ijpqk->apqk", r.matrices, block, optimize=True)
    out = np.einsum("bpq,apqk->abk", s.matrices, inner, optimize=True)
    return out[..., 0] if single else out
