"""Real irreducible orthogonal representations of any finite group.

For each irreducible *real* representation ρ we keep ``matrices`` ``[|G|, d, d]`` (float64,
``ρ(ab) = ρ(a)ρ(b)``, every ``ρ(a)`` orthogonal). Over ℝ, a complex irreducible character χ with
Frobenius–Schur indicator

* ν = 1 is the character of a real irrep of dimension χ(1);
* ν = 0 (χ not real-valued) pairs with conj χ into one real irrep of dimension 2χ(1) and
  character χ + conj χ;
* ν = −1 (quaternionic) gives one real irrep of dimension 2χ(1) and character 2χ.

Construction (general path, any group up to :data:`MAX_IRREPS_ORDER`):

1. the complex character table from the class algebra (:mod:`algolens.groups.characters`);
2. degree-1 characters give their real irrep directly (±1, or a 2×2 rotation for ν = 0);
3. otherwise the real isotypic component E of the regular representation is the image of the
   central idempotent ``e(g) = (c/|G|) χ_ℝ(g⁻¹)`` (``c = d/dim End(ρ)``, see
   :attr:`Irrep.plancherel_weight`): an orthonormal basis Q of E comes from ``P X`` for a random
   X (``P[x, y] = e(x y⁻¹)``, dim E = c·d), never from an |G|×|G| eigendecomposition (small
   components share one product through class sums, see :mod:`algolens.groups.projection`);
4. a random symmetric element of the commutant (right convolution by ``c(h) = c(h⁻¹)``) acts on
   E as ``I ⊗ H``; each of its eigenspaces on E is one irreducible copy W (dimension d);
5. with U an orthonormal basis of W and S = d rows of U picked by pivoted QR,
   ``U[g⁻¹S] = U[S] ρ(g)``, so ``ρ(g) = U[S]⁻¹ U[g⁻¹S]`` costs O(d³) per element.

Symmetric groups given by permutations take Young's orthogonal form instead
(:mod:`algolens.groups.young`) when ``method="auto"``: the same irreps, characters, labels and
order, other (equally orthogonal) bases. Labels: :mod:`algolens.groups.irrep_labels`.

Examples:
    >>> from algolens.groups import parse_group
    >>> [(r.label, r.real_dim) for r in irreps(parse_group("S4"))]
    [('trivial', 1), ('sign', 1), ('(2,2)', 2), ('standard', 3), ('standard⊗sign', 3)]
    >>> irreps_summary(parse_group("Q8"))["character_degrees"]
    [1, 1, 1, 1, 2]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

from algolens.errors import SizeLimitError, SpecError
from algolens.groups._blas import blas_threads
from algolens.groups.characters import CharacterTable, compute_character_table
from algolens.groups.group import FiniteGroup
from algolens.groups.irrep_labels import (
    assign_letters,
    describe,
    is_symmetric,
    named_partition,
    partition_key,
)
from algolens.groups.projection import Target, real_irrep_matrices
from algolens.groups.young import (
    Partition,
    cayley_walk,
    hook_length_dimension,
    partitions,
    young_matrices,
)

MAX_IRREPS_ORDER = 2520
"""Largest order for the general construction (symmetric groups on perms: up to S7 = 5040)."""

_METHODS = ("auto", "general", "young")


@dataclass(eq=False)
class Irrep:
    """One real irreducible orthogonal representation.

    Attributes:
        label: readable stable label (``trivial``, ``standard``, ``freq-3``, ``2d-5``, ``3d-a``).
        matrices: ``[|G|, d, d]`` float64, ``matrices[g] = ρ(g)``, orthogonal.
        complex_degree: degree χ(1) of its complex constituent(s).
        indicator: Frobenius–Schur indicator of the complex constituent: 1, 0 or −1.
        characters: ``[m, r]`` complex values per conjugacy class of the m complex characters it
            comes from (m = 2 for an indicator-0 pair χ, conj χ; else m = 1).
        partition: the partition λ for symmetric groups, else None.
        frequency: k for cyclic groups (``freq-k``), else None.
        index: position in :func:`irreps`.
    """

    label: str
    matrices: np.ndarray
    complex_degree: int
    indicator: int
    characters: np.ndarray
    partition: Partition | None = None
    frequency: int | None = None
    index: int = 0
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def real_dim(self) -> int:
        """d, the size of the real matrices: χ(1) for ν = 1, else 2χ(1)."""
        return self.complex_degree * (1 if self.indicator == 1 else 2)

    @property
    def endomorphism_dim(self) -> int:
        """dim_ℝ End_G(ρ): 1 (ν = 1, real type), 2 (ν = 0, complex type), 4 (ν = −1)."""
        return {1: 1, 0: 2, -1: 4}[self.indicator]

    @property
    def plancherel_weight(self) -> float:
        """``c = d / dim End(ρ)``: the isotypic projector is ``(c/|G|) Σ_g χ_ℝ(g⁻¹)·g`` and the
        isotypic component has dimension ``c·d``."""
        return self.real_dim / self.endomorphism_dim

    @property
    def real_character(self) -> np.ndarray:
        """``[r]`` character of ρ itself per class: χ (ν = 1), χ + conj χ (ν = 0), 2χ (ν = −1)."""
        total = self.characters.sum(axis=0).real
        return 2 * total if self.indicator == -1 else total

    def hom_error(self, group: FiniteGroup, *, budget: float = 2e6) -> float:
        """Max |ρ(ab) − ρ(a)ρ(b)| over all a ∈ G and b ∈ B.

        B = G (a full check) when |G|²·d³ ≤ ``budget``, else the group's generators plus 32
        seeded random elements (the generators alone already force ρ to be a homomorphism).
        """
        n, d = group.order, self.real_dim
        if n * n * d**3 <= budget:
            bs = np.arange(n)
        else:
            rng = np.random.default_rng(0)
            bs = np.unique(np.concatenate([group.generators, rng.integers(0, n, 32)]))
        rho, err = self.matrices, 0.0
        step = max(1, 2**21 // (n * d * d))
        for start in range(0, len(bs), step):  # chunks of b, each vectorised over all (a, b)
            b = bs[start : start + step]
            prod = rho[:, None] @ rho[b][None]  # [a, b, i, k]
            err = max(err, float(np.abs(rho[group.table[:, b]] - prod).max()))
        return err

    def orth_error(self) -> float:
        """Max |ρ(g)ρ(g)ᵀ − I| over all g."""
        rho = self.matrices
        gram = np.einsum("gij,gkj->gik", rho, rho)
        return float(np.abs(gram - np.eye(self.real_dim)).max())


@dataclass(eq=False)
class IrrepSet:
    """All real irreps of a group, in their fixed order, and the ordered character table."""

    irreps: list[Irrep]
    table: CharacterTable
    method: str


# -- public API --------------------------------------------------------------------------------


def irreps(group: FiniteGroup, method: str = "auto") -> list[Irrep]:
    """All real irreducible orthogonal representations of ``group`` (cached on the group).

    Args:
        group: any finite group of order ≤ :data:`MAX_IRREPS_ORDER` (symmetric groups given by
            permutations: any order the catalog builds).
        method: ``"auto"`` (Young's form for symmetric groups, else general), ``"general"``
            (class algebra + projection, any group) or ``"young"`` (symmetric groups only).

    Returns:
        list of :class:`Irrep`, ordered by real dimension then family order (see
        :mod:`algolens.groups.irrep_labels`).

    Raises:
        SizeLimitError: the group is too large for the general construction.
        SpecError: unknown method, or ``"young"`` for a group that is not S_m on permutations.
    """
    return _irrep_set(group, method).irreps


def character_table(group: FiniteGroup, method: str = "auto") -> CharacterTable:
    """The complex character table with rows in irrep order (a ν = 0 pair: χ then conj χ,
    labelled ``L`` and ``L*``; χ has positive imaginary part at the first class where it is not
    real). ``table.check()`` returns the orthogonality errors."""
    return _irrep_set(group, method).table


def irreps_rows(group: FiniteGroup) -> list[dict]:
    """One row per real irrep for the CLI: ``label, real_dim, complex_degree, indicator,
    hom_error, orth_error`` (errors as in :meth:`Irrep.hom_error` / :meth:`Irrep.orth_error`)."""
    return [
        {
            "label": r.label,
            "real_dim": r.real_dim,
            "complex_degree": r.complex_degree,
            "indicator": r.indicator,
            "hom_error": r.hom_error(group),
            "orth_error": r.orth_error(),
        }
        for r in irreps(group)
    ]


def irreps_summary(group: FiniteGroup) -> dict:
    """``{"character_degrees": sorted complex degrees (each complex character once),
    "irreps": [{label, real_dim, complex_degree, indicator}, ...]}``."""
    reps = irreps(group)
    degrees = sorted(r.complex_degree for r in reps for _ in range(len(r.characters)))
    return {
        "character_degrees": degrees,
        "irreps": [
            {
                "label": r.label,
                "real_dim": r.real_dim,
                "complex_degree": r.complex_degree,
                "indicator": r.indicator,
            }
            for r in reps
        ],
    }


def rho_basis(irrep: Irrep) -> np.ndarray:
    """Orthonormal basis ``[|G|, k]`` of the span of ρ's matrix entries (the ρ-basis).

    Chughtai, Chan & Nanda, *A Toy Model of Universality* (2023): flatten ρ to ``[|G|, d²]`` and
    orthonormalise the columns (QR). For ν = 1 the columns are already orthogonal (Schur) and
    k = d²; for ν = 0 / −1 they span only the isotypic component, k = d²/2 or d²/4, so a pivoted
    QR keeps the first k pivots. Cached on the irrep.
    """
    if "rho_basis" not in irrep._cache:
        flat = irrep.matrices.reshape(irrep.matrices.shape[0], -1)
        k = round(irrep.real_dim * irrep.plancherel_weight)
        q, _, piv = scipy.linalg.qr(flat, mode="economic", pivoting=True)
        irrep._cache["rho_basis"] = np.ascontiguousarray(q[:, :k])
    return irrep._cache["rho_basis"]


def fve(basis: np.ndarray, E: np.ndarray) -> float:
    """Fraction of variance explained: ``‖QᵀE‖²_F / ‖E‖²_F`` for an orthonormal ``Q`` ``[|G|, k]``
    and ``E`` ``[|G|]`` or ``[|G|, m]`` (e.g. an embedding matrix, one row per element)."""
    E = np.asarray(E, dtype=float)
    total = float(np.sum(E * E))
    if total == 0.0:
        return 0.0
    proj = basis.T @ E
    return float(np.sum(proj * proj)) / total


# -- construction ---------------------------------------------------------------------------


def _irrep_set(group: FiniteGroup, method: str) -> IrrepSet:
    if method not in _METHODS:
        raise SpecError(f"unknown irreps method {method!r}; use one of {', '.join(_METHODS)}")
    symmetric = is_symmetric(group)
    if method == "young" and not symmetric:
        raise SpecError(f"method 'young' needs a symmetric group on permutations, not {group.name}")
    resolved = (
        "young" if (method == "auto" and symmetric) else ("general" if method == "auto" else method)
    )
    if resolved == "general" and group.order > MAX_IRREPS_ORDER:
        raise SizeLimitError(
            f"irreps of {group.name} (order {group.order}) exceed the general limit "
            f"{MAX_IRREPS_ORDER} (MAX_IRREPS_ORDER); only S_m on permutations goes higher"
        )

    def build() -> IrrepSet:
        with blas_threads(1):
            return _build_young(group) if resolved == "young" else _build_general(group)

    return group.derived(f"irreps:{resolved}", build)


def _pair_characters(table: CharacterTable) -> list[list[int]]:
    """Rows of the character table grouped into real irreps: [i] or [χ, conj χ].

    Each row gets a signature ``Σ_k χ(g_k) v_k`` for one random real v; the partner of χ_i is the
    row whose signature is nearest ``conj`` of χ_i's (checked on the full row), O(r²) in all.
    """
    vals = table.values
    r = len(vals)
    sig = vals @ np.random.default_rng(7).standard_normal(r)
    partner = np.empty(r, dtype=np.int64)
    for start in range(0, r, 256):
        block = np.abs(sig[None, :] - sig[start : start + 256, None].conj())
        partner[start : start + 256] = np.argmin(block, axis=1)
    if np.abs(vals[partner] - vals.conj()).max() > 1e-6 * max(1.0, np.abs(vals).max()):
        raise ArithmeticError("complex conjugate characters could not be paired")
    used: set[int] = set()
    groups = []
    for i in range(len(vals)):
        if i in used:
            continue
        j = int(partner[i])
        if table.indicators[i] != 0 or j == i:
            groups.append([i])
            used.add(i)
            continue
        first = np.flatnonzero(np.abs(vals[i].imag) > 1e-8)[0]
        groups.append([i, j] if vals[i, first].imag > 0 else [j, i])
        used.update((i, j))
    return groups


def _build_general(group: FiniteGroup) -> IrrepSet:
    table = compute_character_table(group)
    members = _pair_characters(table)
    chars = [table.values[m] for m in members]
    ind = [int(table.indicators[m[0]]) for m in members]
    deg = [int(table.degrees[m[0]]) for m in members]
    dims = [d if i == 1 else 2 * d for d, i in zip(deg, ind)]
    if is_symmetric(group):
        lams = _match_partitions(group, table, members)
        keys = [(dim, partition_key(lam)) for dim, lam in zip(dims, lams)]
        names: list[str | None] = [named_partition(lam) for lam in lams]
        freqs: list[int | None] = [None] * len(members)
    else:
        lams = [None] * len(members)
        described = describe(group, chars, dims, ind)
        keys = [k for k, _, _ in described]
        names = [nm for _, nm, _ in described]
        freqs = [f for _, _, f in described]
    order = sorted(range(len(members)), key=lambda i: keys[i])
    labels = assign_letters([names[i] for i in order], [dims[i] for i in order])
    reps = [
        Irrep(labels[pos], np.empty((0, 0, 0)), deg[i], ind[i], chars[i], lams[i], freqs[i], pos)
        for pos, i in enumerate(order)
    ]
    targets = [
        Target(
            r.label,
            r.characters[0],
            r.real_character,
            r.real_dim,
            r.plancherel_weight,
            r.complex_degree,
            r.indicator,
        )
        for r in reps
    ]
    for r, mats in zip(reps, real_irrep_matrices(group, targets)):
        r.matrices = mats
    return IrrepSet(reps, _ordered_table(table, reps, [members[i] for i in order]), "general")


def _build_young(group: FiniteGroup) -> IrrepSet:
    m = group.perms.shape[1]
    walk = cayley_walk(group)
    lams = sorted(partitions(m), key=lambda lam: (hook_length_dimension(lam), partition_key(lam)))
    reps_cls = np.array(group.class_representatives)
    reps = []
    for pos, lam in enumerate(lams):
        mats = young_matrices(group, lam, walk)
        chi = np.trace(mats[reps_cls], axis1=1, axis2=2).astype(complex)[None, :]
        reps.append(Irrep(named_partition(lam), mats, mats.shape[-1], 1, chi, lam, None, pos))
    sizes = np.array(group.class_sizes)
    values = np.concatenate([r.characters for r in reps])
    table = CharacterTable(
        values=values,
        class_sizes=sizes,
        class_reps=reps_cls,
        degrees=np.array([r.complex_degree for r in reps]),
        indicators=np.ones(len(reps), dtype=np.int64),
        labels=[r.label for r in reps],
    )
    return IrrepSet(reps, table, "young")


def _match_partitions(
    group: FiniteGroup, table: CharacterTable, members: list[list[int]]
) -> list[Partition]:
    """Partition of each (real) character of S_m, by comparing with Young characters."""
    young = _irrep_set(group, "young")  # cached: also what method="auto" returns
    out = []
    for m in members:
        diff = [np.abs(table.values[m[0]] - r.characters[0]).max() for r in young.irreps]
        out.append(young.irreps[int(np.argmin(diff))].partition)
    return out


def _ordered_table(table: CharacterTable, reps: list[Irrep], members: list[list[int]]):
    rows = [i for m in members for i in m]
    labels = [
        lab + ("*" if k else "")
        for r, m in zip(reps, members)
        for k, lab in enumerate([r.label] * len(m))
    ]
    return CharacterTable(
        values=table.values[rows],
        class_sizes=table.class_sizes,
        class_reps=table.class_reps,
        degrees=table.degrees[rows],
        indicators=table.indicators[rows],
        labels=labels,
    )
