"""Coset concentration (Stander, Yu, Fan & Biderman, ICML 2024), over the whole subgroup lattice.

For a function f on G (one neuron's left or right pre-activation as a function of its operand)
and a subgroup H, the coset concentration is

    C_H(f) = Σ_{cosets c of H} Var[f | c] / Var[f]

(population variances). It is a sum, so a function with no coset structure scores about the
number of cosets, and a function constant on the cosets of H scores 0. Two subgroups are
excluded from the minimum: the trivial subgroup (every f is constant on singletons, C = 0) and
G itself (one coset, C = 1 for every non-constant f); ``min C_H < 1`` thus means "some proper
subgroup explains f better than nothing". A constant f (a dead side) has C_H = 0 everywhere.

**One pass over all subgroups.** The cosets of H partition G into [G:H] blocks of |H|
elements, so for centred f (mean 0, population variance v)

    Σ_c Var[f | c] = n·v/|H| − Σ_c mean_c²,    Σ_c mean_c² = (1/|H|²) Σ_{h∈H} A(h)

with the autocorrelation ``A(h) = Σ_g f(g) f(g·h)`` for left cosets gH (``f(h·g)`` for right
cosets Hg): g and g' share a left coset iff g' = g·h for some h ∈ H. Hence
``C_H(f) = [G:H] − (1/|H|²) Σ_{h∈H} A(h) / v``: one autocorrelation ``[n, k]`` per side (n²k
multiply-adds, chunked gathers through the Cayley table), then a segment sum over the members
of every subgroup at once, as one sparse product ``[n_subgroups, n] @ [n, k]``. No loop over
subgroups, and no ``[n_subgroups, n, k]`` array. Float64 throughout; the formula's rounding
floor is about ``1e-15·[G:H]``.

Sides (Stander et al.'s convention): the *left* pre-activation ``W_a[a]`` of a coset neuron is
constant on right cosets ``Ha``, the *right* one ``W_b[b]`` on left cosets ``bH``. Both coset sides
are computed for both pre-activation sides; the minimum runs over subgroups and coset sides.

Examples:
    >>> from algolens.groups import parse_group
    >>> g = parse_group("S3")
    >>> f = np.array([1.0, -1.0, -1.0, 1.0, 1.0, -1.0])[:, None]  # the sign of S3
    >>> c = coset_concentration(g, f, f)
    >>> g.subgroup_lattice.classes[c.best_class[0, 0]].label  # A3, labelled by its type
    'C3'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse

from algolens.errors import SizeLimitError, SpecError
from algolens.groups.group import FiniteGroup
from algolens.groups.subgroups import SubgroupLattice

SIDES: tuple[str, str] = ("left", "right")
"""Order of the pre-activation sides and of the coset sides in every array here."""

MAX_COSET_ORDER = 2520
"""Largest group for coset analyses (the general irreps limit; A7's 3786 subgroups take 6 s to
enumerate, S6×C2's 5825 take 7.5 s on the 2-core development machine)."""

TIE_ATOL = 1e-9
"""Subgroups within this of the minimum tie; the largest of them is reported (f constant on the
cosets of H is also constant on the cosets of every subgroup of H)."""


@dataclass(frozen=True)
class CosetConcentration:
    """Coset concentration of k neurons' left and right pre-activations.

    Attributes:
        values: ``[2 pre side, 2 coset side, n_subgroups, k]`` C_H for every subgroup of the
            lattice (index as ``lattice.subgroups``), coset side 0 = left cosets gH, 1 = right Hg.
        best: ``[2, k]`` min C_H over proper non-trivial subgroups and both coset sides.
        best_subgroup: ``[2, k]`` index in ``lattice.subgroups`` of the minimiser (the largest
            one among those within :data:`TIE_ATOL` of the minimum).
        best_coset_side: ``[2, k]`` 0 (left cosets gH) or 1 (right cosets Hg) of the minimiser.
        best_class: ``[2, k]`` conjugacy class (index in ``lattice.classes``) of the minimiser.
        constant: ``[2, k]`` True where that side is constant (C_H = 0 everywhere).
    """

    values: np.ndarray
    best: np.ndarray
    best_subgroup: np.ndarray
    best_coset_side: np.ndarray
    best_class: np.ndarray
    constant: np.ndarray

    @property
    def neuron_score(self) -> np.ndarray:
        """``[k]`` the worse side's min C_H: a neuron is a coset neuron when both sides are."""
        return self.best.max(axis=0)


def _autocorrelation(table: np.ndarray, f: np.ndarray, chunk_bytes: int = 1 << 24) -> np.ndarray:
    """``[n, k]`` ``A[h] = Σ_g f[g]·f[table[h, g]]``, chunked over h to bound memory."""
    n, k = f.shape
    out = np.empty((n, k))
    step = max(1, chunk_bytes // (8 * n * k))
    for start in range(0, n, step):
        rows = table[start : start + step]  # [h, g]
        out[start : start + step] = np.einsum("hgk,gk->hk", f[rows], f)
    return out


def _membership(group: FiniteGroup) -> scipy.sparse.csr_matrix:
    """``[n_subgroups, n]`` sparse, ``1/|H|²`` at the elements of each subgroup (cached)."""

    def build() -> scipy.sparse.csr_matrix:
        subs = group.subgroup_lattice.subgroups
        rows = np.repeat(np.arange(len(subs)), [s.order for s in subs])
        cols = np.concatenate([s.elements for s in subs])
        data = np.concatenate([np.full(s.order, 1.0 / s.order**2) for s in subs])
        return scipy.sparse.csr_matrix((data, (rows, cols)), shape=(len(subs), group.order))

    return group.derived("subgroup_membership", build)


def concentration_table(group: FiniteGroup, f: np.ndarray) -> np.ndarray:
    """``[2 coset side, n_subgroups, k]`` C_H(f) for every subgroup, f ``[|G|, k]``.

    Raises:
        SpecError: f has the wrong number of rows.
    """
    f = np.asarray(f, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] != group.order:
        raise SpecError(f"expected functions [|G|, k] with |G| = {group.order}, got {f.shape}")
    centred = f - f.mean(axis=0)  # [n, k]
    var = (centred * centred).mean(axis=0)  # [k]
    constant = _is_constant(f)
    safe = np.where(constant, 1.0, var)
    index = group.order / np.array([s.order for s in group.subgroup_lattice.subgroups])
    members = _membership(group)  # [n_subgroups, n]
    out = []
    for table in (group.table.T, group.table):  # left cosets: g ~ g·h; right: g ~ h·g
        between = members @ _autocorrelation(table, centred)  # [n_subgroups, k] Σ_c mean_c²
        c = np.maximum(index[:, None] - between / safe, 0.0)  # rounding may dip below 0
        c[:, constant] = 0.0
        out.append(c)
    return np.stack(out)  # [2, n_subgroups, k]


def coset_concentration(
    group: FiniteGroup, f_left: np.ndarray, f_right: np.ndarray
) -> CosetConcentration:
    """Coset concentration of every neuron's left and right pre-activation over every subgroup.

    Args:
        group: the group (its :attr:`FiniteGroup.subgroup_lattice` is enumerated once, cached).
        f_left: ``[|G|, k]`` left pre-activations ``W_a`` (row a: operand a).
        f_right: ``[|G|, k]`` right pre-activations ``W_b``.

    Raises:
        SpecError: shapes that do not match the group or each other; a group with no proper
            non-trivial subgroup (prime cyclic groups), where the minimum is undefined.
        SizeLimitError: a group above :data:`MAX_COSET_ORDER`.
    """
    check_order(group)
    f_left, f_right = np.asarray(f_left), np.asarray(f_right)
    if f_left.shape != f_right.shape:
        raise SpecError(
            f"left and right functions differ in shape: {f_left.shape} vs {f_right.shape}"
        )
    lattice = group.subgroup_lattice
    values = np.stack([concentration_table(group, f) for f in (f_left, f_right)])  # [2,2,S,k]
    orders = np.array([s.order for s in lattice.subgroups])
    proper = (orders > 1) & (orders < group.order)
    if not proper.any():
        raise SpecError(f"{group.name} has no proper non-trivial subgroup; coset concentration "
                        "needs one (use a group of composite order)")  # fmt: skip
    masked = np.where(proper[None, None, :, None], values, np.inf)  # [2, 2, S, k]
    k, n_sub = values.shape[-1], len(lattice.subgroups)
    flat = masked.transpose(0, 3, 1, 2).reshape(2, k, -1)  # [pre side, k, coset side·S]
    best = flat.min(axis=-1)  # [2, k]
    # ties (f constant on the cosets of H is constant on those of every K ⊂ H): the largest
    near = flat <= best[..., None] + TIE_ATOL  # [2, k, 2·S]
    arg = np.where(near, np.tile(orders, 2), 0).argmax(axis=-1)  # [2, k] first largest
    sub = arg % n_sub
    class_of = np.array([s.class_index for s in lattice.subgroups])
    constant = np.stack([_is_constant(f) for f in (f_left, f_right)])
    return CosetConcentration(values, best, sub, arg // n_sub, class_of[sub], constant)


def check_order(group: FiniteGroup) -> None:
    """SizeLimitError for a group above :data:`MAX_COSET_ORDER` (before any enumeration)."""
    if group.order > MAX_COSET_ORDER:
        raise SizeLimitError(
            f"{group.name} has order {group.order}; coset analyses enumerate every subgroup and "
            f"go up to order {MAX_COSET_ORDER} (MAX_COSET_ORDER)"
        )


def _is_constant(f: np.ndarray) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    var = f.var(axis=0)
    return var <= 1e-24 * np.maximum(1.0, (f * f).mean(axis=0))


def coset_means(group: FiniteGroup, f: np.ndarray, subgroup: int, coset_side: int) -> np.ndarray:
    """``[|G|]`` f replaced by its mean over each coset of ``lattice.subgroups[subgroup]``.

    ``coset_side`` 0: left cosets gH, 1: right cosets Hg. f is ``[|G|]``.
    """
    lattice = group.subgroup_lattice
    ids = lattice.coset_table(SIDES[coset_side])[subgroup]  # [n]
    sums = np.bincount(ids, weights=np.asarray(f, dtype=np.float64))
    return (sums / np.bincount(ids))[ids]


@dataclass(frozen=True)
class NeuronFamilies:
    """Neurons grouped by the conjugacy class of their (left-side) minimising subgroup.

    Attributes:
        by_class: ``{subgroup class label: neuron indices}`` among coset neurons
            (neuron score below ``tol``), ordered by class index.
        sign: neuron indices of sign neurons (see :func:`neuron_families`).
    """

    by_class: dict[str, list[int]]
    sign: list[int]

    @cached_property
    def counts(self) -> dict[str, int]:
        return {label: len(ns) for label, ns in self.by_class.items()}


def neuron_families(
    group: FiniteGroup, conc: CosetConcentration, f_left: np.ndarray, f_right: np.ndarray,
    *, tol: float = 1e-2,
) -> NeuronFamilies:  # fmt: skip
    """Group coset neurons by subgroup class and find the sign neurons.

    A **sign neuron** (Stander et al.: L = sgn, R = −sgn) has both sides best explained (C < tol)
    by the same normal subgroup N of index 2, with opposite orientation: the left side is larger
    on N where the right side is smaller on N, or vice versa. For S_n, N = A_n and the two sides
    are ±sgn up to scale and offset.

    Args:
        f_left, f_right: ``[|G|, k]`` the pre-activations ``conc`` was computed from.
        tol: a neuron belongs to a family when its :attr:`CosetConcentration.neuron_score` < tol.
    """
    lattice = group.subgroup_lattice
    score = conc.neuron_score
    by_class: dict[int, list[int]] = {}
    for j in np.flatnonzero(score < tol):
        by_class.setdefault(int(conc.best_class[0, j]), []).append(int(j))
    labelled = {
        lattice.classes[c].label + _suffix(lattice, c): by_class[c] for c in sorted(by_class)
    }
    sign: list[int] = []
    for c in lattice.classes:
        if c.order * 2 != group.order:
            continue
        h = c.members[0]  # index-2 subgroups are normal: one member
        in_h = np.zeros(group.order, dtype=bool)
        in_h[lattice.subgroups[h].elements] = True
        both = (conc.values[0, 0, h] < tol) & (conc.values[1, 0, h] < tol)  # [k]
        d_left = f_left[in_h].mean(axis=0) - f_left[~in_h].mean(axis=0)
        d_right = f_right[in_h].mean(axis=0) - f_right[~in_h].mean(axis=0)
        sign.extend(int(j) for j in np.flatnonzero(both & (d_left * d_right < 0)))
    return NeuronFamilies(labelled, sorted(set(sign)))


def _suffix(lattice: SubgroupLattice, c: int) -> str:
    """Disambiguate classes that share a label (``order-12`` twice) by their class index."""
    label = lattice.classes[c].label
    same = [k.index for k in lattice.classes if k.label == label]
    return "" if len(same) == 1 else f"#{same.index(c) + 1}"


def top_cosets(
    group: FiniteGroup, conc: CosetConcentration, f: np.ndarray, side: int
) -> np.ndarray:
    """``[k]`` for pre side ``side``: the id of the coset (of each neuron's own minimising
    subgroup and coset side) on which the neuron's mean pre-activation ``f`` ``[|G|, k]`` is
    largest."""
    lattice = group.subgroup_lattice
    out = np.empty(f.shape[1], dtype=np.int64)
    for j in range(f.shape[1]):
        coset_side = int(conc.best_coset_side[side, j])
        ids = lattice.coset_table(SIDES[coset_side])[conc.best_subgroup[side, j]]
        out[j] = int(np.argmax(np.bincount(ids, weights=f[:, j])))  # equal sizes: sums suffice
    return out


def unembedding_correlation(
    group: FiniteGroup, conc: CosetConcentration, f_left: np.ndarray, f_right: np.ndarray,
    w_u: np.ndarray, *, tol: float = 1e-2,
) -> dict[str, float | int]:  # fmt: skip
    """Mean Pearson correlation of the unembedding rows of pairs of coset neurons.

    Pairs of neurons with coset score < ``tol`` are split into: ``same_coset`` (the same
    minimising subgroups and coset sides on both sides, and the same top coset on both sides,
    :func:`top_cosets`), ``same_subgroup`` (the same subgroups, other cosets), ``same_class``
    (the rest whose left subgroups are conjugate) and ``baseline`` (non-conjugate). Stander et al.
    report 0.81 for neurons of the same coset and ≈ 0 for the same conjugacy class.

    Args:
        f_left, f_right: ``[|G|, k]`` the pre-activations ``conc`` was computed from.
        w_u: ``[k, |G|]`` the unembedding of one instance.

    Returns:
        ``{kind: mean correlation, "n_" + kind: number of pairs}``; NaN where no pair exists.
    """
    coset = np.flatnonzero(conc.neuron_score < tol)
    rows = np.asarray(w_u, dtype=np.float64)[coset]  # [m, |G|]
    rows = rows - rows.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(rows, axis=1)
    live = norms > 0
    coset, rows = coset[live], rows[live] / norms[live, None]
    corr = rows @ rows.T  # [m, m]
    tops = [top_cosets(group, conc, f, s)[coset] for s, f in enumerate((f_left, f_right))]
    key = np.stack(
        [
            conc.best_subgroup[0, coset],
            conc.best_subgroup[1, coset],
            conc.best_coset_side[0, coset],
            conc.best_coset_side[1, coset],
        ],
        axis=1,
    )  # fmt: skip  [m, 4]
    same_sub = (key[:, None, :] == key[None, :, :]).all(-1)  # [m, m]
    same_top = (tops[0][:, None] == tops[0][None, :]) & (tops[1][:, None] == tops[1][None, :])
    cls = conc.best_class[0, coset]
    upper = np.triu(np.ones_like(corr, dtype=bool), k=1)
    same_cos = same_sub & same_top & upper
    same_sub = same_sub & ~same_top & upper
    same_cls = (cls[:, None] == cls[None, :]) & upper & ~same_sub & ~same_cos
    other = upper & ~same_cos & ~same_sub & ~same_cls
    out: dict[str, float | int] = {}
    kinds = (("same_coset", same_cos), ("same_subgroup", same_sub), ("same_class", same_cls),
             ("baseline", other))  # fmt: skip
    for name, mask in kinds:
        out[name] = float(corr[mask].mean()) if mask.any() else float("nan")
        out["n_" + name] = int(mask.sum())
    return out
