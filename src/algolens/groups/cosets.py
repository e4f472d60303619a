"""Coset ids of a subgroup: ``left_cosets(G, H)[g]`` is the id of gH and ``right_cosets(G, H)[g]``
the id of Hg, ids ``0..[G:H]-1`` in order of each coset's smallest element. One gather over the
table, O(|G|·|H|). :class:`~algolens.groups.subgroups.SubgroupLattice` uses them for each of its
subgroups (``coset_table``).
"""

from __future__ import annotations

import numpy as np

from algolens.groups.group import FiniteGroup


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
