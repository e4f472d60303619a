"""Reference functions against independent implementations: ints for binary numbers, explicit
stacks for traversals, and hand-written cases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from algolens.tasks.recursion import (
    B0,
    B1,
    FUNCTIONS,
    Leaf,
    Node,
    Z,
    bits,
    from_bits,
    from_int,
    to_int,
)
from algolens.tasks.recursion.functions import (
    add,
    inorder,
    mirror,
    postorder,
    predecessor,
    preorder,
    successor,
)
from tests.tasks.recursion_strategies import (
    bins,
    int_bits,
    stack_inorder,
    stack_postorder,
    stack_preorder,
    trees,
)

# 3 = B1 B1 Z; its successor 4 = B0 B0 B1 Z (grows); 5 = B1 B0 B1 Z -> 6 = B0 B1 B1 Z (paper)
HAND_SUCCESSOR = [
    (Z(), B1(Z())),
    (B0(Z()), B1(Z())),
    (B1(B1(Z())), B0(B0(B1(Z())))),
    (B1(B0(B1(Z()))), B0(B1(B1(Z())))),
]
T = Node(1, Node(2, Leaf(), Node(3, Leaf(), Leaf())), Node(4, Leaf(), Leaf()))
#      1
#    2   4
#     3


@pytest.mark.parametrize("n, expected", HAND_SUCCESSOR, ids=["0", "0-padded", "3", "5"])
def test_successor_by_hand(n, expected):
    assert successor(n) == expected


@given(bins)
def test_successor_matches_ints(n):
    v, w = to_int(n), len(bits(n))
    assert bits(successor(n)) == int_bits(v + 1, max(w, (v + 1).bit_length()))


@given(bins)
def test_predecessor_matches_ints(n):
    v, w = to_int(n), len(bits(n))
    assert bits(predecessor(n)) == int_bits(max(v - 1, 0), w)


def test_predecessor_by_hand():
    assert predecessor(from_int(4)) == B1(B1(B0(Z())))  # 4 -> 3, keeping three bits
    assert predecessor(B0(B0(Z()))) == B0(B0(Z()))  # 0 stays 0
    assert predecessor(Z()) == Z()


@given(bins, bins)
@settings(max_examples=200)
def test_add_matches_ints(a, b):
    va, vb = to_int(a), to_int(b)
    width = max(len(bits(a)), len(bits(b)), (va + vb).bit_length())
    assert bits(add(a, b)) == int_bits(va + vb, width)


def test_add_by_hand():
    assert add(from_int(3), from_int(1)) == from_bits([0, 0, 1])  # 3 + 1 = 4, carry out
    assert add(from_int(6), Z()) == from_int(6)


def test_traversals_by_hand():
    assert preorder(T) == [1, 2, 3, 4]
    assert inorder(T) == [2, 3, 1, 4]
    assert postorder(T) == [3, 2, 4, 1]
    assert mirror(T) == Node(1, Node(4, Leaf(), Leaf()), Node(2, Node(3, Leaf(), Leaf()), Leaf()))


@given(trees)
def test_traversals_match_stack_versions(t):
    assert preorder(t) == stack_preorder(t)
    assert inorder(t) == stack_inorder(t)
    assert postorder(t) == stack_postorder(t)


@given(trees)
def test_mirror_facts(t):
    m = mirror(t)
    assert mirror(m) == t
    assert inorder(m) == inorder(t)[::-1]
    assert preorder(m) == postorder(t)[::-1]


def test_registry_kinds_match_the_functions():
    for f in FUNCTIONS.values():
        args = [from_int(5) if k == "bin" else T for k in f.arg_kinds]
        out = f.fn(*args)
        expected_type = {"bin": (Z, B0, B1), "tree": (Leaf, Node), "labels": list}[f.out_kind]
        assert isinstance(out, expected_type), f.name
