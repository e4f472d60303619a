"""Short structure labels of subgroups by cheap invariants (``trivial``, ``whole``, ``C<k>``,
``D<k>``, ``C2xC2``, ``S<k>``, ``A<k>``, else ``order-<k>``), given to each conjugacy class of
:class:`~algolens.groups.subgroups.SubgroupLattice`.
"""

from __future__ import annotations

from functools import cached_property
from math import factorial

import numpy as np

from algolens.groups.group import FiniteGroup


class SubgroupLabeller:
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
        """The label of the subgroup whose (sorted) elements are ``elements``."""
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
