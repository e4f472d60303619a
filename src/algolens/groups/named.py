"""The named finite groups: cyclic, dihedral, symmetric, alternating, quaternion, direct products.

Each constructor returns a :class:`FiniteGroup` whose Cayley table follows the conventions in
:mod:`algolens.groups.catalog` (permutation groups: ``(a·b)(i) = a(b(i))``, elements sorted by image
list so the identity is element 0). No spec parsing, GAP or table files here.

Examples:
    >>> cyclic(5).order, dihedral(4).order, symmetric(4).order, alternating(4).order
    (5, 8, 24, 12)
    >>> direct_product(cyclic(2), cyclic(3)).order
    6
"""

from __future__ import annotations

import itertools

import numpy as np

from algolens.errors import SizeLimitError, SpecError
from algolens.groups.group import MAX_ORDER, FiniteGroup
from algolens.groups.permutations import parity, permutation_group_from_elements

MAX_SYMMETRIC_DEGREE = 7
"""S_n and A_n are built for n ≤ 7 (order 5040 ≤ MAX_ORDER)."""


# -- named constructors ----------------------------------------------------------------------


def cyclic(n: int) -> FiniteGroup:
    """C_n: elements 0..n-1 under addition mod n."""
    _check_order(n, f"C{n}")
    k = np.arange(n)
    return FiniteGroup((k[:, None] + k[None, :]) % n, name=f"C{n}", labels=[str(i) for i in k])


def dihedral(n: int) -> FiniteGroup:
    """D_n, symmetries of the regular n-gon, order 2n.

    Element ``f·n + k`` is ``r^k s^f`` (rotation r of order n, reflection s, ``s r s = r⁻¹``), so
    ``r^k1 s^f1 · r^k2 s^f2 = r^(k1 + (-1)^f1 k2) s^(f1+f2)``.
    """
    if n < 1:
        raise SpecError(f"D{n}: the dihedral group needs n ≥ 1")
    _check_order(2 * n, f"D{n}")
    idx = np.arange(2 * n)
    k, f = idx % n, idx // n
    sign = np.where(f == 1, -1, 1)
    k_prod = (k[:, None] + sign[:, None] * k[None, :]) % n
    f_prod = (f[:, None] + f[None, :]) % 2
    labels = [f"r^{kk}" if ff == 0 else ("s" if kk == 0 else f"r^{kk}s") for kk, ff in zip(k, f)]
    labels[0] = "e"
    return FiniteGroup(f_prod * n + k_prod, name=f"D{n}", labels=labels)


def symmetric(n: int) -> FiniteGroup:
    """S_n on points 0..n-1, elements in lexicographic order of image lists."""
    _check_degree(n, "S")
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int64).reshape(-1, n)
    return permutation_group_from_elements(perms, name=f"S{n}")


def alternating(n: int) -> FiniteGroup:
    """A_n: the even permutations of S_n, in lexicographic order."""
    _check_degree(n, "A")
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int64).reshape(-1, n)
    even = np.array([parity(p) == 0 for p in perms], dtype=bool)
    return permutation_group_from_elements(perms[even], name=f"A{n}")


def quaternion() -> FiniteGroup:
    """Q8 = {±1, ±i, ±j, ±k}, built from Hamilton's product on integer 4-vectors."""
    units = np.vstack([np.eye(4, dtype=np.int64), -np.eye(4, dtype=np.int64)])
    units = units[[0, 4, 1, 5, 2, 6, 3, 7]]  # 1, -1, i, -i, j, -j, k, -k
    names = ["1", "-1", "i", "-i", "j", "-j", "k", "-k"]
    prods = _hamilton(units[:, None, :], units[None, :, :])
    table = (prods[:, :, None, :] == units[None, None, :, :]).all(-1).argmax(-1)
    return FiniteGroup(table, name="Q8", labels=names)


def direct_product(*groups: FiniteGroup) -> FiniteGroup:
    """G1 × G2 × ...: element ``(a1, a2, ...)`` has index ``a1·n2·n3... + a2·n3... + ...``."""
    result = groups[0]
    for h in groups[1:]:
        g = result
        _check_order(g.order * h.order, f"{g.name}x{h.name}")
        table = (g.table[:, None, :, None] * h.order + h.table[None, :, None, :]).reshape(
            g.order * h.order, g.order * h.order
        )
        labels = [f"({x},{y})" for x in g.labels for y in h.labels]
        result = FiniteGroup(table, name=f"{g.name}x{h.name}", labels=labels)
    return result


# -- private helpers -------------------------------------------------------------------------


def _check_order(n: int, name: str) -> None:
    if n < 1:
        raise SpecError(f"{name}: order must be at least 1")
    if n > MAX_ORDER:
        raise SizeLimitError(f"{name} has order {n}, above the limit {MAX_ORDER} (MAX_ORDER)")


def _check_degree(n: int, family: str) -> None:
    if n < 1:
        raise SpecError(f"{family}{n}: degree must be at least 1")
    if n > MAX_SYMMETRIC_DEGREE:
        raise SizeLimitError(
            f"{family}{n} is too large: degree at most {MAX_SYMMETRIC_DEGREE} (order ≤ {MAX_ORDER})"
        )


def _hamilton(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    a1, b1, c1, d1 = np.moveaxis(p, -1, 0)
    a2, b2, c2, d2 = np.moveaxis(q, -1, 0)
    return np.stack(
        np.broadcast_arrays(
            a1 * a2 - b1 * b2 - c1 * c2 - d1 * d2,
            a1 * b2 + b1 * a2 + c1 * d2 - d1 * c2,
            a1 * c2 - b1 * d2 + c1 * a2 + d1 * b2,
            a1 * d2 + b1 * c2 - c1 * b2 + d1 * a2,
        ),
        axis=-1,
    )
