"""Rare-structure features per function: predecessor's rare inputs are its hard ones (long
trailing B0 runs), inorder's have long left spines; exact counts against enumeration; a user
function declares its own or gets the documented default."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from algolens.errors import ConfigError
from algolens.tasks.recursion import FUNCTIONS, Leaf, Node, bits, from_bits, size
from algolens.tasks.recursion.functions import RecursiveFunction, predecessor, successor
from algolens.tasks.recursion.rarity import DEFAULT, FEATURES, rare_features
from algolens.tasks.recursion.sampling import Sampling, sample_values
from algolens.tasks.recursion.shapes import left_spine
from algolens.tasks.recursion.splits import SplitSpec, split_inputs


def all_shapes(n: int) -> list:
    if n == 0:
        return [Leaf()]
    return [Node(0, a, b) for k in range(n) for a in all_shapes(k) for b in all_shapes(n - 1 - k)]


def trailing(value, bit: int) -> int:
    bs = bits(value)
    return next((i for i, b in enumerate(bs) if b != bit), len(bs))


def changed_bits(f, x) -> int:
    """How many low bits ``f`` rewrites: the length of the run it carries or borrows through."""
    a, b = bits(x), bits(f(x))
    return next((i for i in range(len(a)) if a[i] == b[i]), len(a))


def test_each_builtin_declares_the_structure_it_works_through():
    assert FUNCTIONS["successor"].rare == ("trailing_ones",)
    assert FUNCTIONS["predecessor"].rare == ("trailing_zeros",)
    assert FUNCTIONS["inorder"].rare == ("left_spine",)
    assert FUNCTIONS["add"].rare == ("trailing_ones", "trailing_ones")
    # the declared feature is the run each function rewrites, by brute force over 6 bits
    for bs in itertools.product((0, 1), repeat=6):
        x = from_bits(bs)
        if any(bs):  # predecessor leaves zero unchanged
            assert changed_bits(predecessor, x) == FEATURES["trailing_zeros"].measure(x) + 1
        if not all(bs):  # successor of all ones grows
            assert changed_bits(successor, x) == FEATURES["trailing_ones"].measure(x) + 1


def test_predecessors_rare_split_holds_long_trailing_zero_runs():
    """The bug: every binary function's rare tail was successor's trailing-ones run, so
    predecessor's "rare" inputs ended in B1 (its one-step, easy case)."""
    spec = SplitSpec(Sampling(3, 10), n_train=200, n_test=200, n_ood=0, ood_max_size=11)
    rare = split_inputs(spec, ("bin",), "rare", 0, FUNCTIONS["predecessor"].rare)
    assert len(rare) > 100
    assert all(trailing(x, 0) >= 3 for (x,) in rare)  # n >= 3 bits: runs of 3 or more B0
    assert not any(trailing(x, 1) for (x,) in rare)
    # sampled through the dataset builder, which reads the function's declaration
    from algolens.tasks.recursion.dataset import build_dataset

    ds = build_dataset(FUNCTIONS["predecessor"], spec, seed=0)
    assert all(x[0] == "B0" and x[1:3] == ["B0", "B0"] for x in ds.splits["rare"].inputs)


def test_trailing_zero_tail_masses_and_balanced_draws():
    f = FEATURES["trailing_zeros"]
    for n in range(1, 9):
        values = [from_bits(bs) for bs in itertools.product((0, 1), repeat=n)]
        for t in range(n + 1):
            share = sum(f.measure(v) >= t for v in values) / len(values)
            assert f.tail_mass(n, t) == pytest.approx(share)
    assert f.rare_range(8) == (3, 8) and f.rare_range(1) == (1, 1)
    drawn = sample_values(Sampling(6, 6, "balanced"), "bin", 1400, np.random.default_rng(1),
                          "trailing_zeros")  # fmt: skip
    counts = Counter(f.measure(v) for v in drawn)
    assert set(counts) == set(range(7)) and min(counts.values()) > 150  # flat: 200 each


def test_left_spine_counts_match_enumeration_and_draws_are_uniform():
    f = FEATURES["left_spine"]
    for n in range(0, 8):
        shapes = all_shapes(n)
        for t in range(n + 1):
            share = sum(left_spine(s) >= t for s in shapes) / len(shapes)
            assert f.tail_mass(n, t) == pytest.approx(share), (n, t)
    # 5 nodes, left spine exactly 3: every such shape equally often (chi-square-free: counts)
    want = [s for s in all_shapes(5) if left_spine(s) == 3]
    rng = np.random.default_rng(2)
    drawn = Counter(repr(_shape(f.draw(5, 3, 10, rng))) for _ in range(30 * len(want)))
    assert set(drawn) == {repr(s) for s in want}
    assert min(drawn.values()) > 10  # 30 expected each
    assert all(size(f.draw(6, k, 10, rng)) == 6 for k in range(1, 7))


def _shape(t):
    return Leaf() if isinstance(t, Leaf) else Node(0, _shape(t.left), _shape(t.right))


def test_inorders_rare_split_has_long_left_spines():
    spec = SplitSpec(Sampling(4, 7), n_train=50, n_test=100, n_ood=0, ood_max_size=8)
    rare = split_inputs(spec, ("tree",), "rare", 0, FUNCTIONS["inorder"].rare)
    lo = {n: FEATURES["left_spine"].rare_range(n)[0] for n in range(4, 8)}
    assert rare and all(left_spine(t) >= lo[size(t)] for (t,) in rare)
    assert min(lo.values()) >= 3


def test_declarations_are_checked_and_default_by_kind():
    assert rare_features(("bin", "tree")) == (DEFAULT["bin"], DEFAULT["tree"])
    assert rare_features(("bin", "tree")) == ("trailing_ones", "depth")
    with pytest.raises(ConfigError, match="not one of a bin argument's"):
        RecursiveFunction("f", successor, ("bin",), "bin", ("depth",))
    with pytest.raises(ConfigError, match="one feature per argument"):
        RecursiveFunction("f", successor, ("bin",), "bin", ("trailing_ones", "trailing_ones"))


def test_user_function_declares_its_rare_feature(tmp_path):
    from algolens.tasks.recursion.user import UserFunctionError, load_user_function

    head = "from algolens.tasks.recursion import B0, Z, Bin\n\ndef half(n: Bin) -> Bin:\n"
    body = "    return n\n"
    declared = tmp_path / "declared.py"
    declared.write_text(head + body + "half.rare = 'trailing_zeros'\n")
    plain = tmp_path / "plain.py"
    plain.write_text(head + body)
    wrong = tmp_path / "wrong.py"
    wrong.write_text(head + body + "half.rare = 'depth'\n")
    assert load_user_function(declared, "half").rare == ("trailing_zeros",)
    assert load_user_function(plain, "half").rare == ("trailing_ones",)
    with pytest.raises(UserFunctionError, match="not one of a bin argument's") as info:
        load_user_function(wrong, "half")
    assert "\n" not in str(info.value)
