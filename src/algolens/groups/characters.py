"""Complex character table of any finite group, from its class algebra (Burnside's method).

The class sums ``C_k = Σ_{x ∈ class k} x`` span the centre Z(ℂG), a commutative semisimple
algebra whose characters are the *central characters* ``ω_χ(C_k) = |C_k| χ(g_k) / χ(1)``, one for
each irreducible χ. Multiplication by a central element ``W = Σ_k w_k C_k`` is, in the orthonormal
basis ``C_k / sqrt|C_k|`` (inner product of ℂG where group elements are orthonormal), the matrix

    B_W[k, j] = sqrt(|C_k| / |C_j|) · Σ_{x ∈ G} w(x) [x⁻¹ z_k ∈ class j]      (z_k: class rep)

and its adjoint is multiplication by ``W* = Σ_k conj(w_k) C_{k'}`` (``k'``: the inverse class).
Choosing ``w_{k'} = conj(w_k)`` makes ``B_W`` Hermitian, so ``eigh`` applies (stable, orthogonal
eigenvectors). The common eigenvectors of all ``B_W`` are the central idempotents
``e_χ = χ(1)/|G| Σ_g conj χ(g) g``, so an eigenvector ``u`` gives ``χ(g_k) ∝ conj(u_k)/sqrt|C_k|``,
and the degree follows from the first orthogonality relation: ``χ(1) = sqrt(|G|)·|u_e|/‖u‖``
(``e``: the identity's class).
Eigenvalues of one random ``W`` may (rarely) collide; such clusters are split with further random
elements restricted to the cluster, so the result never depends on luck, only on the seed.

Costs: building one ``B_W`` is O(|G|·r) (``np.bincount``), one ``eigh`` is O(r³) with r the
number of classes. No |G|×|G| matrix is formed.

The Frobenius–Schur indicator ``ν(χ) = 1/|G| Σ_g χ(g²)`` is 1 (real representation), 0 (χ not
real-valued) or −1 (quaternionic: real-valued character, no real representation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from algolens.groups.group import FiniteGroup

_SEED = 20260511
_CLUSTER_RTOL = 1e-3
_SPARSE_SUPPORT = 16
_POLISH_BUDGET = 2e7


@dataclass(eq=False)
class CharacterTable:
    """The complex character table.

    Attributes:
        values: ``[r, r]`` complex, ``values[i, k] = χ_i(g_k)`` for irreducible character i and
            conjugacy class k (classes in :attr:`FiniteGroup.conjugacy_classes` order).
        class_sizes: ``[r]`` sizes ``|C_k|``.
        class_reps: ``[r]`` representative element of each class (its smallest element).
        degrees: ``[r]`` ``χ_i(1)``.
        indicators: ``[r]`` Frobenius–Schur indicators (1, 0, −1).
        labels: ``r`` labels (filled in by :mod:`algolens.groups.reps`; the conjugate of a
            complex character ``L`` is ``L*``).
    """

    values: np.ndarray
    class_sizes: np.ndarray
    class_reps: np.ndarray
    degrees: np.ndarray
    indicators: np.ndarray
    labels: list[str] = field(default_factory=list)

    @property
    def order(self) -> int:
        """|G| = Σ_k |C_k|."""
        return int(self.class_sizes.sum())

    def check(self) -> dict[str, float]:
        """Max deviations from the row and column orthogonality relations (see
        :func:`orthogonality_errors`)."""
        return orthogonality_errors(self.values, self.class_sizes)


def orthogonality_errors(values: np.ndarray, class_sizes: np.ndarray) -> dict[str, float]:
    """Check a character table against both orthogonality relations.

    Row relation: ``Σ_k |C_k| χ_i(g_k) conj χ_j(g_k) = |G| δ_ij``.
    Column relation: ``Σ_i χ_i(g_k) conj χ_i(g_l) = δ_kl |G| / |C_k|``.

    Args:
        values: ``[r, r]`` character values (rows characters, columns classes).
        class_sizes: ``[r]`` class sizes.

    Returns:
        ``{"row": e1, "column": e2, "square": e3}``: the largest absolute deviation of each
        relation divided by |G|, and ``square`` = 0.0 if the table is square (else 1.0, so a
        missing character is never reported as a pass).
    """
    values = np.asarray(values, dtype=complex)
    sizes = np.asarray(class_sizes, dtype=float)
    n = sizes.sum()
    rows = (values * sizes) @ values.conj().T
    cols = values.T @ values.conj()
    row_err = np.abs(rows - n * np.eye(len(values))).max() / n
    col_err = np.abs(cols - np.diag(n / sizes)).max() / n
    square = 0.0 if values.shape[0] == values.shape[1] == sizes.size else 1.0
    return {"row": float(row_err), "column": float(col_err), "square": square}


def compute_character_table(group: FiniteGroup, *, seed: int = _SEED) -> CharacterTable:
    """Irreducible complex characters of ``group`` from its class algebra (see module docstring).

    Rows are unsorted (eigenvalue order); :mod:`algolens.groups.reps` orders and labels them.
    Character values of linear characters are snapped to exact roots of unity.
    """
    rng = np.random.default_rng(seed)
    cls = group.class_of
    r = group.n_classes
    sizes = np.bincount(cls, minlength=r).astype(float)
    reps = np.array(group.class_representatives, dtype=np.int64)
    inv_class = cls[group.inverses[reps]]
    # y[x, k] = class of x⁻¹ z_k: the only |G|·r object we need.
    ycls = cls[group.table[group.inverses[:, None], reps[None, :]]]
    flat = (ycls * r + np.arange(r)[None, :]).ravel()  # bin (j, k) for each (x, k)
    xcls = np.repeat(cls, r)
    scale = np.sqrt(sizes)

    classes = group.conjugacy_classes

    def central_matrix(real: bool) -> np.ndarray | scipy.sparse.csr_matrix:
        """Hermitian matrix of multiplication by a random central W (``w_{k'} = conj w_k``).

        ``real=True`` draws a real W on all classes with ``w_{k'} = w_k``: the matrix is real
        symmetric (a cheaper ``eigh``) and separates everything except the pairs {χ, conj χ}.
        Later (complex) draws only have to split small clusters; with many classes they are
        supported on at most ``_SPARSE_SUPPORT`` random classes (and their inverses), so the
        matrix is sparse and applying it to all clusters costs O(r²·support), not O(r³).
        """
        if real or r <= 4 * _SPARSE_SUPPORT:
            w = rng.standard_normal(r) + (0.0 if real else 1j * rng.standard_normal(r))
            w = 0.5 * (w + w[inv_class].conj())
            wx = w[xcls]
            h = np.bincount(flat, weights=wx.real, minlength=r * r).astype(complex)
            if not real:
                h += 1j * np.bincount(flat, weights=wx.imag, minlength=r * r)
            a = h.reshape(r, r).T  # a[k, j]: coefficient of C_k in W·C_j
            b = a * scale[:, None] / scale[None, :]
            b = 0.5 * (b + b.conj().T)
            return b.real.copy() if real else b
        support = np.unique(rng.choice(r, size=_SPARSE_SUPPORT, replace=False))
        support = np.union1d(support, inv_class[support])
        w = np.zeros(r, dtype=complex)
        w[support] = rng.standard_normal(support.size) + 1j * rng.standard_normal(support.size)
        w = 0.5 * (w + w[inv_class].conj())
        xs = np.concatenate([classes[k] for k in support])
        cols = cls[group.table[group.inverses[xs][:, None], reps[None, :]]]  # class of x⁻¹z_k
        rows = np.broadcast_to(np.arange(r), cols.shape)
        vals = w[cls[xs]][:, None] * scale[rows] / scale[cols]
        a = scipy.sparse.csr_matrix((vals.ravel(), (rows.ravel(), cols.ravel())), shape=(r, r))
        return 0.5 * (a + a.conj().T)

    vectors = _joint_eigenvectors(central_matrix, r)
    u = vectors  # [r, r] columns = eigenvectors
    e = int(cls[group.identity])  # the identity's class (not always class 0)
    deg = np.sqrt(group.order) * np.abs(u[e]) / np.linalg.norm(u, axis=0)
    degrees = np.rint(deg).astype(np.int64)
    if np.abs(deg - degrees).max() > 1e-6 or (degrees < 1).any():
        raise ArithmeticError(f"{group.name}: character degrees did not come out integral: {deg}")
    vals = (u.conj() / scale[:, None]).T  # [i, k]
    vals = vals / vals[:, e : e + 1] * degrees[:, None]
    vals = _snap_linear(group, vals, degrees, reps)
    vals = _polish(group, vals, degrees, ycls)
    sq_class = cls[group.table[reps, reps]]
    ind = (vals[:, sq_class] * sizes).sum(axis=1) / group.order
    indicators = np.rint(ind.real).astype(np.int64)
    if np.abs(ind - indicators).max() > 1e-6:
        raise ArithmeticError(f"{group.name}: Frobenius–Schur indicators not integral: {ind}")
    return CharacterTable(
        values=vals,
        class_sizes=sizes.astype(np.int64),
        class_reps=reps,
        degrees=degrees,
        indicators=indicators,
    )


def _joint_eigenvectors(make_matrix, r: int, max_depth: int = 12) -> np.ndarray:
    """Orthonormal common eigenvectors of a commuting family of Hermitian r×r matrices.

    ``make_matrix(real)`` returns a fresh random member (real symmetric on the first round).
    Eigenvalue clusters (relative gap below ``_CLUSTER_RTOL``) are refined with new random
    members restricted to the cluster; all clusters of a round share one matrix product.
    """
    out: list[np.ndarray] = []
    pending: list[np.ndarray | None] = [None]  # None: the identity basis (first round)
    for depth in range(max_depth):
        if not pending:
            return np.concatenate(out, axis=1)
        h = make_matrix(depth == 0)
        if depth == 0:
            hb = h
            scale = np.linalg.norm(h) / np.sqrt(r)
        else:
            hb = h @ np.concatenate(pending, axis=1)
            scale = scipy.sparse.linalg.norm(h) if scipy.sparse.issparse(h) else np.linalg.norm(h)
            scale /= np.sqrt(r)
        tol = _CLUSTER_RTOL * max(scale, 1e-300)  # relative to the RMS eigenvalue
        nxt = []
        start = 0
        for basis in pending:
            m = r if basis is None else basis.shape[1]
            block = hb[:, start : start + m]
            hs = block if basis is None else basis.conj().T @ block
            start += m
            evals, evecs = np.linalg.eigh(0.5 * (hs + hs.conj().T))
            breaks = np.flatnonzero(np.diff(evals) > tol) + 1
            for idx in np.split(np.arange(len(evals)), breaks):
                sub = evecs[:, idx] if basis is None else basis @ evecs[:, idx]
                (out if len(idx) == 1 else nxt).append(sub)
        pending = nxt
    raise ArithmeticError("class algebra eigenvalues did not separate; the table is odd")


def _polish(
    group: FiniteGroup, vals: np.ndarray, degrees: np.ndarray, ycls: np.ndarray
) -> np.ndarray:
    """One squaring of each approximate central idempotent (non-linear characters only).

    ``e = (d/|G|) Σ_g conj χ(g) g`` is idempotent exactly when χ is a character; if χ is off by
    δ in the directions of the other characters, ``e·e`` is off by δ², so one product
    ``(e·e)(z) = Σ_x e(x) e(x⁻¹z)`` (``ycls[x, k]`` = class of ``x⁻¹ z_k``) takes ~1e-13 to
    rounding level. Cost O(|G|·r) per character; skipped above ``_POLISH_BUDGET`` in all
    (groups with hundreds of non-linear characters and classes, e.g. D500, keep ~1e-13).
    """
    vals = vals.copy()
    rows = np.flatnonzero(degrees > 1)
    n, r = ycls.shape
    if rows.size * n * r > _POLISH_BUDGET:
        return vals
    cls = group.class_of
    step = max(1, 2**22 // (n * r))
    for start in range(0, rows.size, step):
        idx = rows[start : start + step]
        conj = vals[idx].conj()  # [m, r]
        sq = np.einsum("mx,mxl->ml", conj[:, cls], conj[:, ycls], optimize=True)
        vals[idx] = sq.conj() * (degrees[idx, None] / n)
    return vals


def _snap_linear(
    group: FiniteGroup, vals: np.ndarray, degrees: np.ndarray, reps: np.ndarray
) -> np.ndarray:
    """Replace the values of degree-1 characters by the exact roots of unity they approximate."""
    vals = vals.astype(complex)
    orders = group.element_orders[reps].astype(float)
    lin = degrees == 1
    if lin.any():
        turns = np.angle(vals[lin]) / (2 * np.pi) * orders  # integer multiples of 1/ord
        snapped = np.rint(turns)
        if np.abs(turns - snapped).max() > 1e-6:
            raise ArithmeticError(f"{group.name}: a linear character is not a root of unity")
        vals[lin] = np.exp(2j * np.pi * snapped / orders)
    return vals


def frobenius_schur(group: FiniteGroup, values: np.ndarray) -> np.ndarray:
    """``[m]`` indicators ``1/|G| Σ_g χ(g²)`` of characters per class (``[m, r]``), rounded."""
    values = np.atleast_2d(values)
    cls = group.class_of
    sq = cls[group.table[np.arange(group.order), np.arange(group.order)]]
    ind = values[:, sq].sum(axis=1) / group.order
    return np.rint(ind.real).astype(np.int64)
