"""The complete subgroup lattice of a finite group, grouped into conjugacy classes, and cosets.

The subgroups are enumerated, never hand-listed, one conjugacy class at a time
(:mod:`algolens.groups.subgroup_search`, whose docstring shows the enumeration complete); each
class is labelled by :mod:`algolens.groups.subgroup_labels`, and the coset ids of a subgroup come
from :mod:`algolens.groups.cosets`.

Size: subgroup-rich groups have very many subgroups (C2^7, order 128, has 29 212; C2^8 has
417 199), so enumeration stops with a ``SizeLimitError`` once more than ``max_subgroups``
(default :data:`MAX_SUBGROUPS`) are found, and reports its count to a ``progress`` callback as it
goes. Elementary abelian groups are counted without enumerating
(:func:`count_elementary_abelian_subgroups`, sums of Gaussian binomials).

Cosets: ``lattice.left_cosets(h)[g]`` is the id of gH and ``lattice.right_cosets(h)[g]`` the id
of Hg, ids ``0..[G:H]-1`` in order of each coset's smallest element.

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

import numpy as np

from algolens.groups.cosets import left_cosets, right_cosets
from algolens.groups.group import FiniteGroup
from algolens.groups.subgroup_labels import SubgroupLabeller
from algolens.groups.subgroup_search import find_subgroup_classes, subgroup_key

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
        key = subgroup_key(self.group.order, np.asarray(elements))
        return self._index[key]

    @cached_property
    def _index(self) -> dict[bytes, int]:
        return {subgroup_key(self.group.order, s.elements): i for i, s in enumerate(self.subgroups)}

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
    """The lattice of the classes :func:`find_subgroup_classes` finds: classes sorted by (order,
    discovery), each class's members consecutive, every class labelled."""
    found = find_subgroup_classes(group, max_subgroups, progress)
    order_of_class = sorted(range(len(found)), key=lambda i: (found[i][0].size, i))
    subgroups: list[Subgroup] = []
    classes: list[SubgroupClass] = []
    labeller = SubgroupLabeller(group)
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
