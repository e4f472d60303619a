"""Binary numbers and trees as Python values: pattern matching, ints, size and depth."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from algolens.tasks.recursion import B0, B1, Leaf, Node, Z, bits, depth, from_int, size, to_int
from tests.tasks.recursion_strategies import trees


def test_constructors_match_positionally():
    def describe(n):
        match n:
            case Z():
                return "zero"
            case B0(m):
                return f"even, half {to_int(m)}"
            case B1(B1(m)):
                return f"3 mod 4, quarter {to_int(m)}"
            case B1(m):
                return f"odd, half {to_int(m)}"

    assert [describe(from_int(v)) for v in (0, 4, 7, 5)] == [
        "zero",
        "even, half 2",
        "3 mod 4, quarter 1",
        "odd, half 2",
    ]
    match Node(4, Leaf(), Leaf()):
        case Node(label, Leaf(), right):
            assert (label, right) == (4, Leaf())


@given(st.integers(0, 2**40), st.integers(0, 5))
def test_ints_round_trip(v, pad):
    n = from_int(v, v.bit_length() + pad)
    assert to_int(n) == v
    assert len(bits(n)) == v.bit_length() + pad
    assert n == from_int(v, v.bit_length() + pad) and hash(n) == hash(from_int(v, len(bits(n))))


def test_from_int_limits():
    assert from_int(0) == Z()
    with pytest.raises(ValueError, match="needs 3 bits"):
        from_int(5, 2)
    with pytest.raises(ValueError, match="non-negative"):
        from_int(-1)


def test_size_depth_by_hand():
    chain = Node(0, Node(1, Node(2, Leaf(), Leaf()), Leaf()), Leaf())
    full = Node(0, Node(1, Leaf(), Leaf()), Node(2, Leaf(), Leaf()))
    assert (size(Leaf()), depth(Leaf())) == (0, 0)
    assert (size(chain), depth(chain)) == (3, 3)
    assert (size(full), depth(full)) == (3, 2)


def _rec_size_depth(t):
    if isinstance(t, Leaf):
        return 0, 0
    (sl, dl), (sr, dr) = _rec_size_depth(t.left), _rec_size_depth(t.right)
    return 1 + sl + sr, 1 + max(dl, dr)


@given(trees)
def test_size_depth_match_recursion(t):
    assert (size(t), depth(t)) == _rec_size_depth(t)


def test_repr_is_constructor_syntax():
    assert repr(from_int(5)) == "B1(B0(B1(Z())))"
    t = Node(1, Leaf(), Node(2, Leaf(), Leaf()))
    assert repr(t) == "Node(1, Leaf(), Node(2, Leaf(), Leaf()))"
