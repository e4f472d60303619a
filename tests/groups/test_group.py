"""FiniteGroup: validation and structure, checked against theorems and independent facts."""

from __future__ import annotations

from math import factorial

import numpy as np
import pytest

from algolens.errors import NotAGroupError, SizeLimitError, TableError
from algolens.groups import FiniteGroup, dihedral, parse_group, symmetric
from algolens.groups.group import MAX_ORDER
from tests.groups.reference import naive_is_associative, partitions

# A Latin square with identity 0 in which every element is its own inverse. A group of odd order
# 5 cannot have elements of order 2, so this loop is not associative.
LOOP5 = [
    [0, 1, 2, 3, 4],
    [1, 0, 3, 4, 2],
    [2, 4, 0, 1, 3],
    [3, 2, 4, 0, 1],
    [4, 3, 1, 2, 0],
]


@pytest.mark.parametrize("spec", ["C1", "C7", "D4", "D5", "S3", "A4", "Q8", "S3xC2"])
def test_light_test_agrees_with_naive_associativity(spec):
    g = parse_group(spec)
    assert naive_is_associative(g.table)


def test_non_associative_loop_reports_witness():
    assert not naive_is_associative(np.array(LOOP5))
    with pytest.raises(NotAGroupError, match=r"not associative: \(\d·\d\)·\d"):
        FiniteGroup(LOOP5)


@pytest.mark.parametrize(
    ("table", "error", "pattern"),
    [
        ([[0, 2, 1], [2, 1, 0], [1, 0, 2]], NotAGroupError, "no identity"),
        ([[0, 1], [1, 1]], NotAGroupError, "not a Latin square|no .* inverse"),
        ([[0, 1], [1, 2]], TableError, "out of range"),
        ([[0, 1, 2], [1, 2, 0]], TableError, "square"),
        ([[0, 1], [1]], TableError, "ragged|square"),
        ([[0.5, 1], [1, 0]], TableError, "integers"),
    ],
    ids=["no-identity", "no-inverse", "out-of-range", "not-square", "ragged", "float"],
)
def test_bad_tables_raise_one_line_errors(table, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        FiniteGroup(table)
    assert "\n" not in str(info.value)


def test_size_limit():
    with pytest.raises(SizeLimitError, match="MAX_ORDER"):
        FiniteGroup(np.zeros((MAX_ORDER + 1, MAX_ORDER + 1), dtype=np.int64))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_symmetric_group_facts(n):
    g = symmetric(n)
    assert g.order == factorial(n)
    assert g.n_classes == partitions(n)
    assert sum(g.class_sizes) == g.order
    assert g.identity == 0 and g.labels[0] == "()"
    # Permutations compose as functions: perms[a·b] = perms[a] ∘ perms[b].
    a, b = np.meshgrid(np.arange(g.order), np.arange(g.order), indexing="ij")
    assert (g.perms[g.table[a, b]] == np.take_along_axis(g.perms[a], g.perms[b], -1)).all()
    if n >= 2:
        assert len(g.commutator_subgroup) == factorial(n) // 2  # [S_n, S_n] = A_n


@pytest.mark.parametrize("spec", ["S4", "A5", "D6", "Q8", "C12", "S3xC2xC2"])
def test_lagrange_and_inverses(spec):
    g = parse_group(spec)
    assert (g.order % g.element_orders == 0).all()
    assert (g.table[np.arange(g.order), g.inverses] == g.identity).all()
    assert (g.table[g.inverses, np.arange(g.order)] == g.identity).all()
    for c in g.conjugacy_classes:  # class sizes divide |G| (orbit–stabiliser)
        assert g.order % len(c) == 0
        assert len(set(g.element_orders[c].tolist())) == 1  # conjugates share their order
    assert g.exponent % g.element_orders.max() == 0


@pytest.mark.parametrize("n", range(3, 11))
def test_dihedral_centre_and_involutions(n):
    g = dihedral(n)
    assert g.order == 2 * n
    assert len(g.center) == (2 if n % 2 == 0 else 1)
    assert (g.element_orders == 2).sum() == n + (1 if n % 2 == 0 else 0)


def test_abelian_groups_have_singleton_classes():
    for spec in ["C9", "C2xC2xC2", "C4xC6"]:
        g = parse_group(spec)
        assert g.is_abelian and g.n_classes == g.order and len(g.center) == g.order
        assert len(g.commutator_subgroup) == 1


def test_simple_group_has_trivial_centre_and_is_perfect():
    g = parse_group("A5")
    assert len(g.center) == 1
    assert len(g.commutator_subgroup) == 60


def test_quaternion_facts():
    g = parse_group("Q8")
    assert sorted(g.element_orders.tolist()) == [1, 2, 4, 4, 4, 4, 4, 4]
    assert len(g.center) == 2 and not g.is_abelian


def test_direct_product_multiplies_order_and_classes():
    a, b = parse_group("S3"), parse_group("D4")
    p = parse_group("S3xD4")
    assert p.order == a.order * b.order
    assert p.n_classes == a.n_classes * b.n_classes


def test_generators_generate():
    for spec in ["S5", "D7", "C2xC2xC2", "Q8"]:
        g = parse_group(spec)
        assert g.closure(g.generators).all()
        assert len(g.generators) <= int(np.log2(g.order)) + 1


def test_identity_class_is_first_even_when_identity_is_not_zero():
    g = parse_group("S3")
    perm = np.array([3, 1, 4, 0, 5, 2])  # relabel: old element i becomes perm[i]
    relabelled = np.empty_like(g.table)
    relabelled[np.ix_(perm, perm)] = perm[g.table]
    h = FiniteGroup(relabelled)
    assert h.identity == 3
    assert h.conjugacy_classes[0].tolist() == [3] and h.class_representatives[0] == 3
    assert sorted(h.class_sizes) == [1, 2, 3]


C3 = [[0, 1, 2], [1, 2, 0], [2, 0, 1]]


@pytest.mark.parametrize(
    ("labels", "pattern"),
    [
        (["e", "a", "e"], r"'e' is given to elements 0 and 2"),
        (["e", "a"], "got 2 labels for 3 elements"),
        ("eab", "got a string"),
        (["e", "a", 2], "not a string"),
        (["e", "a", "b\nc"], "newline"),
    ],
    ids=["duplicate", "too-few", "string", "non-string", "newline"],
)
def test_labels_must_be_distinct_printable_strings(labels, pattern):
    with pytest.raises(TableError, match=pattern) as info:
        FiniteGroup(np.array(C3), name="C3", labels=labels)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("spec", ["S4", "D6", "Q8", "C6", "S3xC2", "perm:(0 1 2),(3 4)"])
def test_built_in_labels_are_distinct(spec):
    g = parse_group(spec)
    assert len(set(g.labels)) == g.order


def test_derived_cache_builds_once_per_group_and_key():
    """Issue 19: one lazy cache of derived structures per group (irreps use it too)."""
    from algolens.groups import cyclic, irreps

    g, h = cyclic(4), cyclic(4)
    calls = []
    first = g.derived("thing", lambda: calls.append(1) or ["built"])
    again = g.derived("thing", lambda: calls.append(1) or ["other"])
    assert first is again and first == ["built"] and calls == [1]
    assert h.derived("thing", lambda: ["fresh"]) == ["fresh"]  # not shared between groups
    reps = irreps(g)
    assert g.derived("irreps:general", lambda: None) is not None
    assert irreps(g) is reps
