"""`FiniteGroup`: a finite group given by its Cayley table.

The Cayley table is the ground truth: elements are ``0..n-1`` and ``table[a, b]`` is the index of
the product ``a·b``. Every other view (permutations, labels, classes, subgroups, irreps) is derived
from the table and checked against it.

Validation on construction is complete, not sampled: the table must be a Latin square with an
identity row (so it is a loop with two-sided inverses), and associativity is then verified in full
with Light's test: the elements ``b`` with ``(x·b)·y = x·(b·y)`` for all ``x, y`` are closed under
the product, so it suffices to check ``b`` in a generating set. That costs ``O(n² · |S|)`` with
``|S| ≤ log2 n`` instead of ``O(n³)``, so every group up to :data:`MAX_ORDER` is checked exactly.

Expensive invariants (conjugacy classes, the subgroup lattice, irreps) are computed on first use
and kept, as in sympy's permutation groups.

Examples:
    >>> import numpy as np
    >>> g = FiniteGroup(np.array([[0, 1, 2], [1, 2, 0], [2, 0, 1]]), name="C3")
    >>> g.order, g.identity, g.inverses.tolist()
    (3, 0, [0, 2, 1])
    >>> g.element_orders.tolist()
    [1, 3, 3]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from math import lcm
from typing import Any, TypeVar

import numpy as np

from algolens.errors import NotAGroupError, SizeLimitError, TableError, quote

T = TypeVar("T")

MAX_ORDER = 5040
"""Largest group order accepted (a ``5040 × 5040`` int32 table is ~100 MB; S7 fits)."""


class FiniteGroup:
    """A finite group given by its Cayley table.

    Args:
        table: ``[n, n]`` integer array, ``table[a, b]`` = index of ``a·b``.
        name: short human-readable name (``"S5"``).
        labels: optional list of ``n`` element labels (cycle notation for permutation groups).
        perms: optional ``[n, d]`` array, ``perms[a]`` = image list of the permutation of element
            ``a`` acting on ``0..d-1``, when the group came from permutations.

    Raises:
        TableError: the table is not a square integer array with entries in ``0..n-1``, or
            ``labels`` are not ``n`` distinct printable strings.
        NotAGroupError: no identity, a row or column that is not a permutation (so some element
            has no inverse or cancellation fails), or a non-associative triple.
        SizeLimitError: ``n > MAX_ORDER``.
    """

    def __init__(
        self,
        table: np.ndarray | Sequence[Sequence[int]],
        *,
        name: str = "G",
        labels: Sequence[str] | None = None,
        perms: np.ndarray | None = None,
    ) -> None:
        self.table = _validated_table(table)
        self.table.setflags(write=False)
        self.name = name
        n = self.order
        self.labels = _validated_labels(labels, n, name)
        self.perms = None if perms is None else np.asarray(perms, dtype=np.int64)
        self.identity = _find_identity(self.table)
        self.inverses = _check_inverses(self.table, self.identity)
        self.inverses.setflags(write=False)
        _check_associative(self.table, self.generators)
        self._derived: dict[str, Any] = {}

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """The derived structure named ``key`` (irreps, subgroup membership, ...), built once by
        ``build()`` on first use and kept with the group; the one cache every module shares."""
        if key not in self._derived:
            self._derived[key] = build()
        return self._derived[key]

    # -- basic structure -------------------------------------------------------------------

    @property
    def order(self) -> int:
        """|G|."""
        return int(self.table.shape[0])

    def __len__(self) -> int:
        return self.order

    def __repr__(self) -> str:
        return f"FiniteGroup({self.name}, order={self.order})"

    def mul(self, a: int | np.ndarray, b: int | np.ndarray) -> int | np.ndarray:
        """Product ``a·b`` (vectorised over integer arrays)."""
        return self.table[a, b]

    def inv(self, a: int | np.ndarray) -> int | np.ndarray:
        """Inverse ``a⁻¹`` (vectorised)."""
        return self.inverses[a]

    def power(self, a: int, k: int) -> int:
        """``a^k`` for ``k ≥ 0``, by repeated squaring on the table."""
        result, base = self.identity, a
        while k:
            if k & 1:
                result = int(self.table[result, base])
            base = int(self.table[base, base])
            k >>= 1
        return result

    @cached_property
    def generators(self) -> list[int]:
        """A small generating set, chosen greedily (each generator at least doubles the span).

        Candidates are tried in order of decreasing element order, which usually finds two or
        three generators. Closure uses the table product only, so it is valid before
        associativity is known.
        """
        n = self.order
        gens: list[int] = []
        span = np.zeros(n, dtype=bool)
        span[self.identity] = True
        for g in np.argsort(-self.element_orders, kind="stable").tolist():
            if span[g]:
                continue
            gens.append(g)
            span = _magma_closure(self.table, np.flatnonzero(span).tolist() + [g])
            if span.all():
                break
        return gens

    @cached_property
    def element_orders(self) -> np.ndarray:
        """``[n]`` order of every element (smallest k ≥ 1 with a^k = e)."""
        n = self.order
        orders = np.zeros(n, dtype=np.int64)
        current = np.arange(n)
        k = 1
        while (orders == 0).any():
            done = (current == self.identity) & (orders == 0)
            orders[done] = k
            current = self.table[current, np.arange(n)]
            k += 1
        orders.setflags(write=False)
        return orders

    @cached_property
    def exponent(self) -> int:
        """Least common multiple of the element orders."""
        return lcm(*np.unique(self.element_orders).tolist())

    @cached_property
    def is_abelian(self) -> bool:
        """True iff ``a·b = b·a`` for all a, b."""
        return bool((self.table == self.table.T).all())

    @cached_property
    def conjugation(self) -> np.ndarray:
        """``[n, n]`` array, ``conjugation[g, x] = g·x·g⁻¹``."""
        t = self.table
        conj = t[t, self.inverses[:, None]]  # [g, x] -> (g x) g^-1
        conj.setflags(write=False)
        return conj

    @cached_property
    def class_of(self) -> np.ndarray:
        """``[n]`` conjugacy class index of each element; class 0 holds the identity.

        The identity's class is 0; the others are numbered in order of their smallest element.
        """
        n = self.order
        cls = np.full(n, -1, dtype=np.int64)
        k = 0
        for x in [self.identity, *range(n)]:
            if cls[x] < 0:
                cls[self.conjugation[:, x]] = k
                k += 1
        cls.setflags(write=False)
        return cls

    @property
    def n_classes(self) -> int:
        """Number of conjugacy classes."""
        return int(self.class_of.max()) + 1

    @cached_property
    def conjugacy_classes(self) -> list[np.ndarray]:
        """Each conjugacy class as a sorted array of elements; ``classes[0] = [identity]``."""
        order = np.argsort(self.class_of, kind="stable")
        bounds = np.cumsum(np.bincount(self.class_of))[:-1]
        return np.split(order, bounds)

    @property
    def class_sizes(self) -> list[int]:
        """Size of each conjugacy class, in class order."""
        return [len(c) for c in self.conjugacy_classes]

    @property
    def class_representatives(self) -> list[int]:
        """Smallest element of each conjugacy class (the identity for class 0)."""
        return [int(c[0]) for c in self.conjugacy_classes]

    @cached_property
    def center(self) -> np.ndarray:
        """Sorted elements commuting with everything."""
        return np.flatnonzero((self.table == self.table.T).all(axis=0))

    @cached_property
    def commutator_subgroup(self) -> np.ndarray:
        """Sorted elements of [G, G], the subgroup generated by all commutators a⁻¹b⁻¹ab."""
        t, inv = self.table, self.inverses
        comms = t[t[inv[:, None], inv[None, :]], t]  # [a, b] -> (a^-1 b^-1)(a b)
        return np.flatnonzero(self.closure(np.unique(comms)))

    def closure(self, elements: Sequence[int] | np.ndarray) -> np.ndarray:
        """``[n]`` boolean mask of the subgroup generated by ``elements``."""
        return _subgroup_closure(self.table, self.identity, np.asarray(elements, dtype=np.int64))

    def is_subgroup(self, elements: Sequence[int] | np.ndarray) -> bool:
        """True iff ``elements`` is non-empty and closed under the product (hence a subgroup)."""
        h = np.unique(np.asarray(elements, dtype=np.int64))
        if h.size == 0:
            return False
        return bool(np.isin(self.table[np.ix_(h, h)], h).all())

    # -- lazily computed structure from other modules -----------------------------------------

    @cached_property
    def subgroup_lattice(self):  # -> SubgroupLattice (import cycle avoided)
        """All subgroups, grouped into conjugacy classes (see :mod:`algolens.groups.subgroups`);
        a SizeLimitError past ``MAX_SUBGROUPS`` of them (``subgroups.subgroup_lattice`` takes
        another limit)."""
        from algolens.groups.subgroups import SubgroupLattice

        return SubgroupLattice.of(self)


# -- validation helpers (private, vectorised over the table) ------------------------------------


def _validated_table(table: np.ndarray | Sequence[Sequence[int]]) -> np.ndarray:
    try:
        arr = np.asarray(table)
    except ValueError as exc:  # ragged nested lists
        raise TableError(f"Cayley table is ragged ({exc}); every row needs n entries") from None
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise TableError(f"Cayley table must be square n×n, got shape {arr.shape}")
    n = arr.shape[0]
    if n == 0:
        raise TableError("Cayley table is empty; a group has at least the identity")
    if n > MAX_ORDER:
        raise SizeLimitError(f"group order {n} exceeds the limit {MAX_ORDER} (MAX_ORDER)")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise TableError("Cayley table entries must be integers 0..n-1")
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise TableError(f"Cayley table entries must be integers 0..n-1, got dtype {arr.dtype}")
    bad = np.argwhere((arr < 0) | (arr >= n))
    if bad.size:
        i, j = bad[0]
        raise TableError(
            f"table[{i}][{j}] = {arr[i, j]} is out of range 0..{n - 1}; entries index elements"
        )
    return np.ascontiguousarray(arr, dtype=np.int64)


def _validated_labels(labels: Sequence[str] | None, n: int, name: str) -> list[str]:
    """``n`` distinct printable strings (default ``"0".."n-1"``)."""
    if labels is None:
        return [str(i) for i in range(n)]
    who = quote(name, bare=True)
    if isinstance(labels, str) or len(labels) != n:
        got = "a string" if isinstance(labels, str) else f"{len(labels)} labels"
        raise TableError(f"{who}: got {got} for {n} elements; give a list of one label each")
    labels = list(labels)
    bad = next((i for i, x in enumerate(labels) if not isinstance(x, str)), None)
    if bad is not None:
        raise TableError(f"{who}: label {bad} is {quote(labels[bad])}, not a string")
    bad = next((i for i, x in enumerate(labels) if not x.isprintable()), None)
    if bad is not None:
        raise TableError(
            f"{who}: label {bad} ({quote(labels[bad])}) has a newline or control character"
        )
    first: dict[str, int] = {}
    for i, x in enumerate(labels):
        if x in first:
            raise TableError(
                f"{who}: label {quote(x)} is given to elements {first[x]} and {i}; "
                "labels must be distinct"
            )
        first[x] = i
    return labels


def _find_identity(t: np.ndarray) -> int:
    n = t.shape[0]
    ident = np.arange(n)
    rows = np.flatnonzero((t == ident).all(axis=1))
    cols = np.flatnonzero((t == ident[:, None]).all(axis=0))
    both = np.intersect1d(rows, cols)
    if both.size == 0:
        raise NotAGroupError(
            "no identity: no element e has e·x = x·e = x for every x; check the table"
        )
    return int(both[0])


def _check_inverses(t: np.ndarray, e: int) -> np.ndarray:
    """Check that every row and column is a permutation (Latin square); return the inverses."""
    n = t.shape[0]
    for axis, side in ((1, "row"), (0, "column")):
        hit = np.zeros((n, n), dtype=bool)  # hit[line, value]
        lines = np.arange(n)[:, None] if axis == 1 else np.arange(n)[None, :]
        hit[np.broadcast_to(lines, (n, n)), t] = True
        complete = hit.all(axis=1)
        if not complete.all():
            a = int(np.flatnonzero(~complete)[0])
            missing = int(np.flatnonzero(~hit[a])[0])
            if not hit[a, e]:
                which = "right" if axis == 1 else "left"
                raise NotAGroupError(
                    f"element {a} has no {which} inverse ({side} {a} never gives e={e})"
                )
            raise NotAGroupError(
                f"{side} {a} repeats an element and misses {missing}: not a Latin square, "
                "so cancellation fails"
            )
    rows, cols = np.nonzero(t == e)
    inv = np.empty(n, dtype=np.int64)
    inv[rows] = cols
    return inv


def _magma_closure(t: np.ndarray, elements: Sequence[int]) -> np.ndarray:
    """Mask of the smallest set containing ``elements`` and closed under the table product."""
    n = t.shape[0]
    mask = np.zeros(n, dtype=bool)
    mask[list(elements)] = True
    while True:
        members = np.flatnonzero(mask)
        new = np.zeros(n, dtype=bool)
        new[t[np.ix_(members, members)].ravel()] = True
        if not (new & ~mask).any():
            return mask
        mask |= new


def _check_associative(t: np.ndarray, gens: Sequence[int]) -> None:
    """Light's test: check (x·b)·y = x·(b·y) for all x, y and b in a generating set."""
    t32 = t.astype(np.int32)  # halves memory traffic; np.take is much faster than t[:, idx]
    for b in gens:
        lhs = t32[t32[:, b]]  # [x, y] -> (x b) y
        rhs = np.take(t32, t32[b], axis=1)  # [x, y] -> x (b y)
        bad = np.argwhere(lhs != rhs)
        if bad.size:
            x, y = (int(v) for v in bad[0])
            raise NotAGroupError(
                f"not associative: ({x}·{b})·{y} = {int(lhs[x, y])} but {x}·({b}·{y}) = "
                f"{int(rhs[x, y])}"
            )


def _subgroup_closure(t: np.ndarray, e: int, gens: np.ndarray) -> np.ndarray:
    """Mask of the subgroup generated by ``gens`` (breadth-first right multiplication)."""
    n = t.shape[0]
    mask = np.zeros(n, dtype=bool)
    mask[e] = True
    if gens.size == 0:
        return mask
    mask[gens] = True
    frontier = np.flatnonzero(mask)
    cols = t[:, gens]  # [n, n_gens] right multiplication by each generator
    while frontier.size:
        fresh = np.zeros(n, dtype=bool)
        fresh[cols[frontier].ravel()] = True
        fresh &= ~mask
        mask |= fresh
        frontier = np.flatnonzero(fresh)
    return mask
