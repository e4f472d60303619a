"""The complete subgroup lattice of a finite group, grouped into conjugacy classes, and cosets.

Enumeration (never hand-listed): every subgroup K is reached by adding one cyclic generator at a
time, ``1 < <g1> < <g1, g2> < ... = K``. Working up to conjugacy keeps this cheap: for each class
representative H and each cyclic subgroup <g> not inside H we form <H, g>; a new subgroup brings
its whole conjugacy class with it (computed at once by gathering through the conjugation table),
and only its representative is extended further. Since <x⁻¹Hx, x⁻¹gx> = x⁻¹<H, g>x, extending
representatives by every cyclic subgroup reaches every class; and since conjugating by the
normaliser N(H) fixes H, one cyclic subgroup per N(H)-orbit is enough.

Subgroups are stored as sorted element arrays; a boolean-mask key identifies them.

Size: subgroup-rich groups have very many subgroups (C2^7, order 128, has 29 212; C2^8 has
417 199), so enumeration stops with a ``SizeLimitError`` once more than ``max_subgroups``
(default :data:`MAX_SUBGROUPS`) are found, and reports its count to a ``progress`` callback as it
goes. Elementary abelian groups are counted without enumerating
(:func:`count_elementary_abelian_subgroups`, sums of Gaussian binomials).

Cosets: ``left_cosets(H)[g]`` is the id of gH and ``right_cosets(H)[g]`` the id of Hg, ids
``0..[G:H]-1`` in order of each coset's smallest element. One gather over the table, O(|G|·|H|).

Examples:
    >>> from algolens.groups import parse_group
    >>> lat = SubgroupLattice.of(parse_group("S4"))
    >>> len(lat.subgroups), len(lat.classes)
    (30, 11)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from math import factorial

import numpy as np

from algolens.errors import SizeLimitError
from algolens.groups.group import FiniteGroup, _subgroup_closure

MAX_SUBGROUPS = 20_000
"""Default most subgroups one enumeration may find (S7, the largest group of MAX_ORDER, has
11 300); past it the enumeration stops with a SizeLimitError."""

Progress = Callable[[int], None]
"""Called with the number of subgroups found so far, while an enumeration runs."""


@dataclass(frozen=True)
class Subgroup:
    """One subgroup: sorted ``elements``, ``generators``, and the index of its conjugacy class."""

    elements: np.ndarray = field(repr=False)
    generators: tuple[int, ...]
    class_index: int

    @property
    def order(self) -> int:
        return int(self.elements.size)


@dataclass(frozen=True)
class SubgroupClass:
    """A conjugacy class of subgroups: ``members`` index into ``SubgroupLattice.subgroups``."""

    index: int
    order: int
    members: tuple[int, ...]
    normal: bool
    label: str

    @property
    def size(self) -> int:
        """Number of conjugate subgroups in the class."""
        return len(self.members)


class SubgroupLattice:
    """All subgroups of ``group``, with their conjugacy classes.

    Attributes:
        subgroups: every subgroup, grouped so that each class's members are consecutive; classes
            are sorted by (order, discovery), so ``subgroups[0]`` is trivial and the last is G.
        classes: the conjugacy classes of subgroups.
    """

    def __init__(self, group: FiniteGroup, subgroups: list[Subgroup], classes: list[SubgroupClass]):
        self.group = group
        self.subgroups = subgroups
        self.classes = classes
        self._coset_tables: dict[str, np.ndarray] = {}

    @classmethod
    def of(
        cls,
        group: FiniteGroup,
        max_subgroups: int = MAX_SUBGROUPS,
        progress: Progress | None = None,
    ) -> SubgroupLattice:
        """Enumerate the lattice (use :func:`subgroup_lattice` or ``group.subgroup_lattice``
        for the cached copy).

        Raises:
            SizeLimitError: the group has more than ``max_subgroups`` subgroups (found before
                the whole lattice is built, so a refusal is quick).
        """
        return _enumerate(group, max_subgroups, progress)

    def __len__(self) -> int:
        return len(self.subgroups)

    def find(self, elements: Sequence[int] | np.ndarray) -> int:
        """Index in ``subgroups`` of the subgroup with exactly these elements.

        Raises:
            KeyError: ``elements`` is not a subgroup.
        """
        key = _key(self.group.order, np.asarray(elements))
        return self._index[key]

    @cached_property
    def _index(self) -> dict[bytes, int]:
        return {_key(self.group.order, s.elements): i for i, s in enumerate(self.subgroups)}

    def left_cosets(self, h: int) -> np.ndarray:
        """``[n]`` id of the left coset gH of every g, for subgroup index ``h``."""
        return left_cosets(self.group, self.subgroups[h].elements)

    def right_cosets(self, h: int) -> np.ndarray:
        """``[n]`` id of the right coset Hg of every g, for subgroup index ``h``."""
        return right_cosets(self.group, self.subgroups[h].elements)

    def coset_table(self, side: str = "left") -> np.ndarray:
        """``[n_subgroups, n]`` coset ids of every element for every subgroup (cached).

        Row ``i`` is :meth:`left_cosets` (``side="left"``, cosets gH) or :meth:`right_cosets`
        (``side="right"``, cosets Hg) of subgroup ``i``: the input of coset statistics over the
        whole lattice at once.
        """
        if side not in ("left", "right"):
            raise ValueError(f"side must be 'left' or 'right', got {side!r}")
        if side not in self._coset_tables:
            fn = left_cosets if side == "left" else right_cosets
            table = np.stack([fn(self.group, s.elements) for s in self.subgroups])
            table.setflags(write=False)
            self._coset_tables[side] = table
        return self._coset_tables[side]


def left_cosets(group: FiniteGroup, subgroup: np.ndarray) -> np.ndarray:
    """``[n]`` left-coset id of each element: ids of g and g' agree iff gH = g'H.

    Examples:
        >>> from algolens.groups import cyclic
        >>> left_cosets(cyclic(6), np.array([0, 3])).tolist()
        [0, 1, 2, 0, 1, 2]
    """
    return _coset_ids(group.table[:, subgroup])  # [g, h] -> g·h


def right_cosets(group: FiniteGroup, subgroup: np.ndarray) -> np.ndarray:
    """``[n]`` right-coset id of each element: ids of g and g' agree iff Hg = Hg'."""
    return _coset_ids(group.table[subgroup, :].T)  # [g, h] -> h·g


def _coset_ids(members: np.ndarray) -> np.ndarray:
    """Rows list the coset of each element; number cosets by their smallest element."""
    smallest = members.min(axis=1)
    _, ids = np.unique(smallest, return_inverse=True)
    return ids.astype(np.int64)


# -- enumeration -------------------------------------------------------------------------------


def _key(n: int, elements: np.ndarray) -> bytes:
    mask = np.zeros(n, dtype=bool)
    mask[elements] = True
    return np.packbits(mask).tobytes()


def subgroup_lattice(
    group: FiniteGroup, max_subgroups: int = MAX_SUBGROUPS, progress: Progress | None = None
) -> SubgroupLattice:
    """``group.subgroup_lattice``, enumerated under ``max_subgroups`` with ``progress`` if it is
    not cached yet (and then cached on the group for every later use).

    Raises:
        SizeLimitError: more than ``max_subgroups`` subgroups.
    """
    cached = group.__dict__.get("subgroup_lattice")
    if cached is None:
        cached = SubgroupLattice.of(group, max_subgroups, progress)
        group.__dict__["subgroup_lattice"] = cached  # functools.cached_property's slot
    return cached


def count_elementary_abelian_subgroups(group: FiniteGroup) -> int | None:
    """The number of subgroups of an elementary abelian group (C_p^k, p prime), without
    enumerating them: ``sum over d of the Gaussian binomial [k d]_p``; ``None`` for other groups.

    Examples:
        >>> from algolens.groups import parse_group
        >>> count_elementary_abelian_subgroups(parse_group("C2xC2xC2xC2xC2xC2xC2"))
        29212
        >>> count_elementary_abelian_subgroups(parse_group("C4xC2")) is None
        True
    """
    n, p = group.order, group.exponent
    if n == 1:
        return 1
    if not group.is_abelian or any(p % q == 0 for q in range(2, p)):
        return None
    k, rest = 0, n
    while rest % p == 0:
        rest //= p
        k += 1
    if rest != 1:
        return None
    total = 0
    for d in range(k + 1):  # [k d]_p = prod_{i<d} (p^(k-i) - 1) / (p^(i+1) - 1)
        num = den = 1
        for i in range(d):
            num *= p ** (k - i) - 1
            den *= p ** (i + 1) - 1
        total += num // den
    return total


def _enumerate(
    group: FiniteGroup, max_subgroups: int = MAX_SUBGROUPS, progress: Progress | None = None
) -> SubgroupLattice:
    n, t, e = group.order, group.table, group.identity
    conj = group.conjugation  # [x, g] -> x g x^-1
    # One generator per cyclic subgroup: cyclic_rep[g] = the smallest generator of <g>;
    # powers[g, k-1] = g^k.
    cyclic_rep, powers = _cyclic_representatives(group)
    cyclic_gens = np.unique(cyclic_rep)

    known: set[bytes] = set()
    found: list[tuple[np.ndarray, tuple[int, ...], list[np.ndarray], list[tuple[int, ...]]]] = []

    def register(elements: np.ndarray, gens: tuple[int, ...]) -> bool:
        key = _key(n, elements)
        if key in known:
            return False
        conjugates = np.sort(conj[:, elements], axis=1)  # [x, |H|] elements of x H x^-1
        uniq, first = np.unique(conjugates, axis=0, return_index=True)
        members, member_gens = [], []
        for row, x in zip(uniq, first):
            known.add(_key(n, row))
            members.append(row)
            member_gens.append(tuple(int(conj[x, g]) for g in gens))
        found.append((elements, gens, members, member_gens))
        if len(known) > max_subgroups:
            raise SizeLimitError(
                f"{group.name} has more than {max_subgroups} subgroups; enumerating them all "
                "is refused (the group commands take --max-subgroups N to raise the limit)"
            )
        return True

    register(np.array([e]), ())
    queue = [0]
    while queue:
        rep_index = queue.pop()
        if progress is not None:
            progress(len(known))
        elements, gens, _, _ = found[rep_index]
        inside = np.zeros(n, dtype=bool)
        inside[elements] = True
        # Conjugating by the normaliser N(H) fixes H and permutes the cyclic subgroups, and
        # <H, xgx⁻¹> = x<H, g>x⁻¹ is in the same class as <H, g>: one <g> per N(H)-orbit suffices.
        normaliser = np.flatnonzero((np.sort(conj[:, elements], axis=1) == elements).all(axis=1))
        chosen = _one_per_orbit(conj, cyclic_rep, cyclic_gens, normaliser, inside)
        # For g in N(H), <H, g> = H<g>: one gather for all of them, checked by key before any
        # other work (most extensions are subgroups found already).
        in_normaliser = np.zeros(n, dtype=bool)
        in_normaliser[normaliser] = True
        batch = chosen[in_normaliser[chosen]]
        masks = _products_with_cyclic(t, elements, powers, batch)
        row_of = {int(g): r for r, g in enumerate(batch)}
        keys = np.packbits(masks, axis=1)
        base = np.array(gens, dtype=np.int64)
        for g in chosen.tolist():
            r = row_of.get(g)
            if r is None:
                mask = _subgroup_closure(t, e, np.append(base, g))
            elif keys[r].tobytes() in known:
                continue
            else:
                mask = masks[r]
            if register(np.flatnonzero(mask), gens + (g,)):
                queue.append(len(found) - 1)

    order_of_class = sorted(range(len(found)), key=lambda i: (found[i][0].size, i))
    subgroups: list[Subgroup] = []
    classes: list[SubgroupClass] = []
    labeller = _Labeller(group)
    for ci, fi in enumerate(order_of_class):
        elements, gens, members, member_gens = found[fi]
        start = len(subgroups)
        for m, mg in zip(members, member_gens):
            subgroups.append(Subgroup(elements=m, generators=mg, class_index=ci))
        classes.append(
            SubgroupClass(
                index=ci,
                order=int(elements.size),
                members=tuple(range(start, len(subgroups))),
                normal=len(members) == 1,
                label=labeller.label(elements),
            )
        )
    return SubgroupLattice(group, subgroups, classes)


def _cyclic_representatives(group: FiniteGroup) -> tuple[np.ndarray, np.ndarray]:
    """``[n]``: for each g, the smallest element generating the same cyclic subgroup <g>; and
    ``[n, max order]`` powers, ``[g, k-1] = g^k``.

    The generators of <g> are the powers g^k with gcd(k, ord g) = 1.
    """
    n, t = group.order, group.table
    orders = group.element_orders
    top = int(orders.max())
    powers = np.empty((n, top), dtype=np.int64)  # [g, k-1] = g^k
    powers[:, 0] = np.arange(n)
    for k in range(1, top):
        powers[:, k] = t[powers[:, k - 1], np.arange(n)]
    ks = np.arange(1, top + 1)
    coprime = (np.gcd(ks[None, :], orders[:, None]) == 1) & (ks[None, :] <= orders[:, None])
    return np.where(coprime, powers, n).min(axis=1), powers


_BLOCK = 1 << 21
"""Most entries of one temporary gather in the enumeration (bounds its memory)."""


def _one_per_orbit(
    conj: np.ndarray,
    cyclic_rep: np.ndarray,
    cyclic_gens: np.ndarray,
    normaliser: np.ndarray,
    inside: np.ndarray,
) -> np.ndarray:
    """The cyclic generators g (ascending) to extend H by: <g> not inside H, and g the smallest
    generator in its N(H)-orbit of cyclic subgroups (one per orbit suffices, see the module
    docstring). Whether <g> is inside H is the same for its whole orbit, as N(H) fixes H."""
    smallest = cyclic_gens.copy()
    step = max(1, _BLOCK // max(1, cyclic_gens.size))
    for lo in range(0, normaliser.size, step):
        block = cyclic_rep[conj[np.ix_(normaliser[lo : lo + step], cyclic_gens)]]
        np.minimum(smallest, block.min(axis=0), out=smallest)
    return cyclic_gens[(smallest == cyclic_gens) & ~inside[cyclic_gens]]


def _products_with_cyclic(
    t: np.ndarray, elements: np.ndarray, powers: np.ndarray, gens: np.ndarray
) -> np.ndarray:
    """``[len(gens), n]`` masks of the sets H<g> (a subgroup when g normalises H)."""
    n = t.shape[0]
    masks = np.zeros((gens.size, n), dtype=bool)
    step = max(1, _BLOCK // max(1, elements.size * powers.shape[1]))
    for lo in range(0, gens.size, step):
        part = powers[gens[lo : lo + step]]  # [m, top] powers of each g
        prods = t[elements][:, part]  # [|H|, m, top] = h·g^k
        rows = np.arange(lo, lo + part.shape[0])[None, :, None]
        masks[np.broadcast_to(rows, prods.shape), prods] = True
    return masks


# -- structure labels ----------------------------------------------------------------------------


class _Labeller:
    """Short structure labels by cheap invariants: trivial, whole group, C_k, D_k, C2xC2, S_k, A_k.

    S_k and A_k (k ≤ 6) are recognised by order, the multiset of element orders and the number of
    conjugacy classes of the subgroup, which separate them from every other group of their order
    for k ≤ 6. Anything else is ``order-k``.
    """

    def __init__(self, group: FiniteGroup):
        self.group = group

    @cached_property
    def _reference(self) -> dict[tuple, str]:
        from algolens.groups.named import alternating, symmetric

        refs: dict[tuple, str] = {}
        for k in range(3, 7):
            if factorial(k) > self.group.order:
                break
            for build, name in ((symmetric, "S"), (alternating, "A")):
                ref = build(k)
                refs.setdefault(_signature(ref.table, np.arange(ref.order), ref), f"{name}{k}")
        return refs

    def label(self, elements: np.ndarray) -> str:
        g, m = self.group, int(elements.size)
        if m == 1:
            return "trivial"
        if m == g.order:
            whole = g.name if len(g.name) <= 12 else "G"
            return f"whole ({whole})" if whole != "G" else "whole"
        orders = g.element_orders[elements]
        sub = g.table[np.ix_(elements, elements)]
        abelian = bool((sub == sub.T).all())
        if orders.max() == m:
            return f"C{m}"
        if m == 4 and abelian:
            return "C2xC2"
        if m % 2 == 0 and m >= 6 and not abelian and _is_dihedral(orders, m):
            return f"D{m // 2}"
        if not abelian and m in (6, 12, 24, 60, 120, 360, 720):
            hit = self._reference.get(_signature(g.table, elements, g))
            if hit:
                return hit
        return f"order-{m}"


def _is_dihedral(orders: np.ndarray, m: int) -> bool:
    """A non-abelian group of order m = 2k is D_k if it has an element of order k and exactly
    k involutions (k reflections) plus one more when k is even (the half-turn rotation).

    This separates D_k from the other non-abelian groups with a cyclic subgroup of index 2
    (dicyclic, semidihedral, modular groups), which have fewer involutions.
    """
    k = m // 2
    has_rotation = (orders == k).any()
    involutions = int((orders == 2).sum())
    expected = k + (1 if k % 2 == 0 else 0)
    return bool(has_rotation and involutions == expected)


def _signature(table: np.ndarray, elements: np.ndarray, group: FiniteGroup) -> tuple:
    """(order, sorted element orders, number of conjugacy classes) of the subgroup ``elements``."""
    sub_index = {int(x): i for i, x in enumerate(elements)}
    local = np.vectorize(sub_index.__getitem__)(table[np.ix_(elements, elements)])
    sub = FiniteGroup(local)
    return (
        int(elements.size),
        tuple(np.sort(group.element_orders[elements]).tolist()),
        sub.n_classes,
    )
