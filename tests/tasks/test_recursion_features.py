"""Structural features by hand, and accuracy by feature against a direct count."""

from __future__ import annotations

from algolens.tasks.recursion import FUNCTIONS, Leaf, Node, from_bits, from_int
from algolens.tasks.recursion.features import accuracy_by_feature, input_features, value_features
from tests.tasks.test_sequence import successor_shortcut


def test_bin_features_by_hand():
    assert value_features(from_bits([1, 1, 1])) == {
        "length": 3, "trailing_ones": 3, "first_b0": -1, "ones": 3, "all_ones": True,
        "trailing_zeros": 0, "all_zeros": False,
    }  # fmt: skip
    assert value_features(from_bits([])) == {
        "length": 0, "trailing_ones": 0, "first_b0": -1, "ones": 0, "all_ones": True,
        "trailing_zeros": 0, "all_zeros": True,
    }  # fmt: skip
    assert value_features(from_bits([0, 0, 1, 0]))["trailing_zeros"] == 2
    assert value_features(from_bits([0, 1]))["first_b0"] == 0


def test_tree_features_by_hand():
    t = Node(1, Node(2, Node(3, Leaf(), Leaf()), Leaf()), Node(4, Leaf(), Leaf()))
    assert value_features(t) == {
        "nodes": 4, "depth": 3, "left_spine": 3, "right_spine": 2, "root_left": 2,
    }  # fmt: skip
    assert value_features(Leaf())["root_left"] == -1


def test_two_arguments_are_prefixed():
    f = input_features((from_int(1), from_int(2)))
    assert f["arg0_length"] == 1 and f["arg1_first_b0"] == 0


def test_successor_shortcut_fails_exactly_on_all_ones():
    inputs = [(from_int(v, 4),) for v in range(16)]
    succ = FUNCTIONS["successor"].fn
    correct = [[succ(x) == successor_shortcut(x) for (x,) in inputs], [True] * 16]
    table = accuracy_by_feature(correct, [input_features(x) for x in inputs])
    assert table["all_ones"] == {
        False: {"n": 15, "acc": [1.0, 1.0]},
        True: {"n": 1, "acc": [0.0, 1.0]},
    }
    # counts by trailing ones: 8, 4, 2, 1 inputs with runs 0..3, one with 4
    assert [table["trailing_ones"][k]["n"] for k in range(5)] == [8, 4, 2, 1, 1]
