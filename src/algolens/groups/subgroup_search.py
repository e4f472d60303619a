"""Enumeration of every subgroup of a finite group, one conjugacy class at a time.

Every subgroup K is reached by adding one cyclic generator at a time,
``1 < <g1> < <g1, g2> < ... = K``. Working up to conjugacy keeps this cheap: for each class
representative H and each cyclic subgroup <g> not inside H we form <H, g>; a new subgroup brings
its whole conjugacy class with it (computed at once by gathering through the conjugation table),
and only its representative is extended further. Since <x⁻¹Hx, x⁻¹gx> = x⁻¹<H, g>x, extending
representatives by every cyclic subgroup reaches every class; and since conjugating by the
normaliser N(H) fixes H, one cyclic subgroup per N(H)-orbit is enough.

Subgroups are sorted element arrays; a boolean-mask key (:func:`subgroup_key`) identifies them.
:class:`~algolens.groups.subgroups.SubgroupLattice` orders and labels the classes found here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from algolens.errors import SizeLimitError
from algolens.groups.group import FiniteGroup, _subgroup_closure

FoundClass = tuple[np.ndarray, tuple[int, ...], list[np.ndarray], list[tuple[int, ...]]]
"""One conjugacy class as found: its representative's elements and generators, then the elements
and generators of every member (the representative among them)."""


def subgroup_key(n: int, elements: np.ndarray) -> bytes:
    """The key of the subgroup ``elements`` of a group of order ``n``: its packed boolean mask."""
    mask = np.zeros(n, dtype=bool)
    mask[elements] = True
    return np.packbits(mask).tobytes()


def find_subgroup_classes(
    group: FiniteGroup, max_subgroups: int, progress: Callable[[int], None] | None = None
) -> list[FoundClass]:
    """Every conjugacy class of subgroups of ``group``, in order of discovery (the trivial
    subgroup first); ``progress`` is called with the number of subgroups found so far.

    Raises:
        SizeLimitError: more than ``max_subgroups`` subgroups (raised as soon as they are found).
    """
    n, t, e = group.order, group.table, group.identity
    conj = group.conjugation  # [x, g] -> x g x^-1
    # One generator per cyclic subgroup: cyclic_rep[g] = the smallest generator of <g>;
    # powers[g, k-1] = g^k.
    cyclic_rep, powers = _cyclic_representatives(group)
    cyclic_gens = np.unique(cyclic_rep)

    known: set[bytes] = set()
    found: list[FoundClass] = []

    def register(elements: np.ndarray, gens: tuple[int, ...]) -> bool:
        key = subgroup_key(n, elements)
        if key in known:
            return False
        conjugates = np.sort(conj[:, elements], axis=1)  # [x, |H|] elements of x H x^-1
        uniq, first = np.unique(conjugates, axis=0, return_index=True)
        members, member_gens = [], []
        for row, x in zip(uniq, first):
            known.add(subgroup_key(n, row))
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

    return found


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
