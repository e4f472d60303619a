"""Permutation groups: the base-driven Cayley table is the true composition table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from algolens.errors import SpecError
from algolens.groups import parse_group
from algolens.groups.permutations import (
    _base,
    parse_cycles,
    permutation_group,
    permutation_group_from_elements,
)


def test_base_coincidence_is_caught():
    # e, x=(0 1), y=(2 3), z=(0 1)(2 3)(4 5): on the base points {0, 2} x·y looks like z, and the
    # table read off the base is a valid Klein four-group, but x∘y ≠ z on point 4.
    e, x, y, z = parse_cycles("(5),(0 1)(5),(2 3)(5),(0 1)(2 3)(4 5)")
    with pytest.raises(SpecError, match="not closed"):
        permutation_group_from_elements(np.array([e, x, y, z]), name="fake-V4")


def test_missing_product_is_caught():
    with pytest.raises(SpecError, match="not closed"):
        permutation_group_from_elements(np.array([[0, 1, 2], [1, 2, 0]]), name="half-C3")


def test_repeated_element_is_refused():
    with pytest.raises(SpecError, match="listed twice"):
        permutation_group_from_elements(np.array([[0, 1], [1, 0], [1, 0]]), name="dup")


D10 = "perm:(0 1 2 3 4 5 6 7 8 9),(0 9)(1 8)(2 7)(3 6)(4 5)"


@pytest.mark.parametrize("spec", ["S7", "A6", D10])
def test_base_is_at_most_log2_order(spec):
    g = parse_group(spec)
    assert len(_base(g.perms, spec)) <= math.log2(g.order)


def test_s7_base_has_six_points():
    # S_n needs n-1 base points: fixing n-2 points still leaves a transposition.
    assert _base(parse_group("S7").perms, "S7") == [0, 1, 2, 3, 4, 5]


def test_fixed_points_change_nothing():
    small = parse_group("S5")
    big = permutation_group(parse_cycles("(0 1 2 3 4),(0 1),(1023)"), name="S5 on 1024")
    assert big.perms.shape == (120, 1024)
    assert (big.table == small.table).all() and big.labels == small.labels
    assert (big.perms[:, 5:] == np.arange(5, 1024)).all()
