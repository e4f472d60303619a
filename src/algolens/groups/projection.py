"""Real orthogonal matrices of irreps from their characters, by projecting the regular rep.

Given a real irrep's character χ_ℝ (per class), dimension d and Plancherel weight c (see
:mod:`algolens.groups.reps`):

1. The real isotypic component E ⊂ ℝ^G (dimension c·d) is the image of the projector
   ``P[x, y] = e(x y⁻¹)``, ``e = (c/|G|) χ_ℝ``. An orthonormal basis Q of E comes from the SVD of
   ``P X`` for a random ``X`` with c·d + 8 columns. For small components (the common case with
   hundreds of 2-dimensional irreps, e.g. D500) ``P X`` is not formed per component: with
   ``Z_k = Σ_{g ∈ C_k} X[g⁻¹·]`` computed once for every class k, ``P X = (c/|G|) Σ_k χ_ℝ(k) Z_k``
   for all small components is one matrix product. Large components use the dense P.
2. A random symmetric commutant element M (right convolution by ``c(h) = c(h⁻¹)``) restricted
   to E is ``I ⊗ H`` with H self-adjoint over the endomorphism field (ℝ, ℂ or ℍ); an eigenspace of
   ``QᵀMQ`` (eigenvalues repeat d times) is one irreducible copy W. The most isolated eigenvalue
   block is taken; ``M·Q`` for all small components is one matrix product.
3. With U an orthonormal basis of W (left-invariant: ``L(g)U = Uρ(g)``), choose d rows S of U by
   pivoted QR on Uᵀ (well conditioned); then ``ρ(g) = U[S]⁻¹ U[g⁻¹S]``, O(d³) per element.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from algolens.groups.group import FiniteGroup

_SEED = 1729
_OVERSAMPLE = 8
_SMALL_COLUMNS = 48  # components with c·d + 8 ≤ this share the class-sum projection


@dataclass
class Target:
    """What the construction needs to know about one real irrep.

    Attributes:
        label: for error messages.
        chi: ``[r]`` complex values of (the first) complex constituent per class.
        real_character: ``[r]`` real character χ_ℝ per class.
        dim: real dimension d.
        weight: Plancherel weight c = d / dim End(ρ).
        degree: complex degree χ(1).
        indicator: Frobenius–Schur indicator.
    """

    label: str
    chi: np.ndarray
    real_character: np.ndarray
    dim: int
    weight: float
    degree: int
    indicator: int

    @property
    def iso_dim(self) -> int:
        return round(self.dim * self.weight)


def real_irrep_matrices(group: FiniteGroup, targets: list[Target]) -> list[np.ndarray]:
    """``[|G|, d, d]`` orthogonal matrices for every target (see module docstring)."""
    out: list[np.ndarray | None] = [None] * len(targets)
    ctx = _Context(group)
    big = []
    small = []
    for i, t in enumerate(targets):
        if t.degree == 1:
            out[i] = _linear(group, t)
        elif t.iso_dim + _OVERSAMPLE <= _SMALL_COLUMNS:
            small.append(i)
        else:
            big.append(i)
    bases: dict[int, np.ndarray] = {}
    if small:
        ys = ctx.small_projections([targets[i] for i in small])
        for i, y in zip(small, ys):
            bases[i] = _orthonormal_range(group, targets[i], y)
    for i in big:
        t = targets[i]
        proj = (t.weight / group.order) * t.real_character[ctx.class_index]  # P[x, y] = e(x y⁻¹)
        x = ctx.rng.standard_normal((group.order, t.iso_dim + _OVERSAMPLE))
        bases[i] = _orthonormal_range(group, t, proj @ x)
    keys = list(bases)
    if keys:
        stacked = np.concatenate([bases[i] for i in keys], axis=1)
        mq = ctx.commutant() @ stacked  # one product for every component
        start = 0
        for i in keys:
            q = bases[i]
            block = mq[:, start : start + q.shape[1]]
            start += q.shape[1]
            u = _irreducible_block(q, block, targets[i].dim)
            for _ in range(3):  # an unlucky commutant draw: try fresh ones for this component
                if u is not None:
                    break
                u = _irreducible_block(q, ctx.fresh_commutant() @ q, targets[i].dim)
            if u is None:
                raise ArithmeticError(
                    f"{group.name}: could not split the {targets[i].label} isotypic component"
                )
            out[i] = _matrices_from_subspace(group, u)
    return out  # type: ignore[return-value]


def _linear(group: FiniteGroup, t: Target) -> np.ndarray:
    """Degree-1 characters: ±1, or the 2×2 rotation by arg χ(g) for a complex pair."""
    chi = t.chi[group.class_of]
    if t.indicator == 1:
        return chi.real.reshape(-1, 1, 1).copy()
    c, s = chi.real, chi.imag
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def _orthonormal_range(group: FiniteGroup, t: Target, y: np.ndarray) -> np.ndarray:
    q, sv, _ = np.linalg.svd(y, full_matrices=False)
    k = t.iso_dim
    if sv[k - 1] < 1e-6 * sv[0] or (k < len(sv) and sv[k] > 1e-8 * sv[0]):
        raise ArithmeticError(f"{group.name}: isotypic component of {t.label} has wrong rank")
    return q[:, :k]


def _irreducible_block(q: np.ndarray, mq: np.ndarray, dim: int) -> np.ndarray | None:
    """Basis ``[n, dim]`` of the most isolated eigen-block of ``QᵀMQ``, or None if unclear."""
    t = q.T @ mq
    evals, evecs = np.linalg.eigh(0.5 * (t + t.T))
    blocks = evals.reshape(-1, dim)
    scale = max(np.abs(evals).max(), 1e-300)
    if (blocks.max(axis=1) - blocks.min(axis=1)).max() > 1e-6 * scale:
        return None
    centers = blocks.mean(axis=1)
    gaps = np.abs(centers[:, None] - centers[None, :])
    np.fill_diagonal(gaps, np.inf)
    isolation = gaps.min(axis=1) if len(centers) > 1 else np.array([np.inf])
    best = int(np.argmax(isolation))
    if isolation[best] < 1e-4 * scale:
        return None
    return q @ evecs[:, best * dim : (best + 1) * dim]


def _matrices_from_subspace(group: FiniteGroup, u: np.ndarray) -> np.ndarray:
    """ρ(g) = U[S]⁻¹ U[g⁻¹S] for all g, rows S chosen by pivoted QR on Uᵀ."""
    d = u.shape[1]
    _, _, piv = scipy.linalg.qr(u.T, mode="economic", pivoting=True)
    rows = piv[:d]
    moved = u[group.table[group.inverses[:, None], rows[None, :]]]  # [g, i, j] = U[g⁻¹ s_i, j]
    return np.linalg.solve(u[rows][None, :, :], moved)


class _Context:
    """Shared random draws and |G|×|G| index matrices, built lazily."""

    def __init__(self, group: FiniteGroup) -> None:
        self.group = group
        self.rng = np.random.default_rng(_SEED)
        self._kx: np.ndarray | None = None
        self._comm: np.ndarray | None = None

    @property
    def class_index(self) -> np.ndarray:
        """``[n, n]`` class of ``x y⁻¹``."""
        if self._kx is None:
            g = self.group
            dtype = np.int16 if g.n_classes < 2**15 else np.int32
            self._kx = g.class_of.astype(dtype)[g.table[:, g.inverses]]
        return self._kx

    def commutant(self) -> np.ndarray:
        """``[n, n]`` symmetric ``M[x, y] = c(x⁻¹y)`` for a random ``c(h) = c(h⁻¹)``: right
        convolution by c, which commutes with every left translation."""
        if self._comm is None:
            g = self.group
            v = self.rng.standard_normal(g.order)
            c = v + v[g.inverses]
            self._comm = c[g.table[g.inverses]]
        return self._comm

    def fresh_commutant(self) -> np.ndarray:
        self._comm = None
        return self.commutant()

    def small_projections(self, targets: list[Target]) -> list[np.ndarray]:
        """``P X`` (``[n, c·d + 8]``) for each target through the class sums of one X."""
        g = self.group
        n, r = g.order, g.n_classes
        p = max(t.iso_dim for t in targets) + _OVERSAMPLE
        x = self.rng.standard_normal((n, p))
        coef = np.array([(t.weight / n) * t.real_character for t in targets])  # [m, r]
        y = np.zeros((len(targets), n * p))
        left = g.table[g.inverses]  # [h, x] -> h⁻¹ x
        classes = g.conjugacy_classes
        chunk = max(1, 2**22 // (n * p))  # bound the [chunk, n, p] block to ~32 MB
        for start in range(0, r, chunk):  # loop over classes, not elements
            ks = range(start, min(start + chunk, r))
            z = np.stack([x[left[classes[k]]].sum(axis=0) for k in ks])  # Z_k = Σ X[g⁻¹·]
            y += coef[:, ks.start : ks.stop] @ z.reshape(len(ks), n * p)
        y = y.reshape(len(targets), n, p)
        return [y[i, :, : t.iso_dim + _OVERSAMPLE] for i, t in enumerate(targets)]
