"""Readable, stable labels and a deterministic order for the real irreps of a group.

Every group: the trivial representation is ``trivial``. Then, by family (detected from the table,
never from the group's name):

* symmetric group S_m given by permutations (|G| = m!): the partition λ of Young's
  construction; ``(m)`` = ``trivial``, ``(1^m)`` = ``sign``, ``(m-1,1)`` = ``standard``,
  ``(2,1^(m-2))`` = ``standard⊗sign``, any other λ as ``(3,2,1)``. Order: dimension, then λ in
  reverse lexicographic order.
* cyclic group (abelian with an element g of order |G|, g the smallest such index): ``freq-k``
  for the real irrep with ``χ(g) = exp(±2πik/n)``, ``0 < k ≤ n/2`` (2-dimensional for k < n/2).
  Order: dimension, then k.
* dihedral group D_m, m ≥ 3 (rotation r = smallest index of order m, every element outside
  ⟨r⟩ of order 2, s = smallest such reflection): ``sign`` (r ↦ 1, s ↦ −1), and for even m
  ``alt`` (r ↦ −1, s ↦ 1) and ``alt⊗sign`` (r ↦ −1, s ↦ −1); ``2d-k`` for the 2-dimensional
  irrep with ``χ(r) = 2cos(2πk/m)``, 1 ≤ k < m/2. Order: dimension, then as listed / by k.
* anything else: ``{real_dim}d-{letter}`` (``3d-a``, ``3d-b``, ..., ``aa`` after ``z``), letters
  given in order of (complex degree, indicator descending, character values rounded to 1e-6).
"""

from __future__ import annotations

from math import factorial

import numpy as np

from algolens.groups.group import FiniteGroup
from algolens.groups.young import Partition, partition_label

SortKey = tuple


def named_partition(lam: Partition) -> str:
    """``trivial``/``sign``/``standard``/``standard⊗sign`` for the four special shapes, else
    the partition itself."""
    m = sum(lam)
    if lam == (m,):
        return "trivial"
    if lam == (1,) * m:
        return "sign"
    if lam == (m - 1, 1):
        return "standard"
    if lam == (2,) + (1,) * (m - 2):
        return "standard⊗sign"
    return partition_label(lam)


def partition_key(lam: Partition) -> SortKey:
    """Sort key: reverse lexicographic, so ``(m)`` comes before ``(1^m)``."""
    return tuple(-p for p in lam)


def letters(i: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa, ..."""
    out = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        out = chr(ord("a") + rem) + out
    return out


def cyclic_generator(group: FiniteGroup) -> int | None:
    """Smallest element of order |G| if the group is cyclic, else None."""
    hits = np.flatnonzero(group.element_orders == group.order)
    return int(hits[0]) if hits.size else None


def dihedral_generators(group: FiniteGroup) -> tuple[int, int] | None:
    """``(r, s)`` if the group is dihedral of order 2m with m ≥ 3, else None."""
    n = group.order
    if n % 2 or n < 6 or group.is_abelian:
        return None
    m = n // 2
    hits = np.flatnonzero(group.element_orders == m)
    if not hits.size:
        return None
    r = int(hits[0])
    rot = group.closure([r])
    if not (group.element_orders[~rot] == 2).all():
        return None
    return r, int(np.flatnonzero(~rot)[0])


def describe(
    group: FiniteGroup, chars: list[np.ndarray], real_dims: list[int], indicators: list[int]
) -> list[tuple[SortKey, str | None, int | None]]:
    """For each real irrep (its complex character(s) ``[m, r]``, real dimension and indicator),
    a sort key, a label (None: to be lettered) and the cyclic frequency (or None).

    Not for symmetric groups (see :func:`named_partition`)."""
    out: list[tuple[SortKey, str | None, int | None]] = []
    cls = group.class_of
    gen = cyclic_generator(group) if group.is_abelian else None
    dih = None if gen is not None else dihedral_generators(group)
    for ch, dim, ind in zip(chars, real_dims, indicators):
        first = ch[0]
        if np.allclose(first, 1.0):
            out.append(((dim, 0), "trivial", 0 if gen is not None else None))
        elif gen is not None:
            n = group.order
            k = int(round(np.angle(first[cls[gen]]) / (2 * np.pi) * n)) % n
            k = min(k, n - k)
            out.append(((dim, k), f"freq-{k}", k))
        elif dih is not None:
            r, s = (first[cls[x]].real for x in dih)
            m = group.order // 2
            if dim == 1:
                name = {(1, -1): "sign", (-1, 1): "alt", (-1, -1): "alt⊗sign"}[
                    (int(round(r)), int(round(s)))
                ]
                out.append(((1, ["sign", "alt", "alt⊗sign"].index(name) + 1), name, None))
            else:
                k = int(round(np.arccos(np.clip(r / 2, -1, 1)) / (2 * np.pi) * m))
                out.append(((2, k), f"2d-{k}", None))
        else:
            vals = np.round(np.concatenate([ch.real, ch.imag], axis=1), 6) + 0.0
            degree = int(round(ch[0, cls[group.identity]].real))
            key = (dim, 1, degree, -ind, tuple(vals.ravel().tolist()))
            out.append((key, None, None))
    return out


def assign_letters(names: list[str | None], real_dims: list[int]) -> list[str]:
    """Fill the generic ``{dim}d-{letter}`` labels, given the irreps already sorted."""
    counters: dict[int, int] = {}
    labels = []
    for name, dim in zip(names, real_dims):
        if name is None:
            i = counters.get(dim, 0)
            counters[dim] = i + 1
            name = f"{dim}d-{letters(i)}"
        labels.append(name)
    return labels


def is_symmetric(group: FiniteGroup) -> bool:
    """True iff the group is given as the full symmetric group on its permutation points."""
    return group.perms is not None and factorial(group.perms.shape[1]) == group.order
