"""Sampling: exact shape counts against brute-force enumeration, uniformity by chi-square at a
fixed seed, balanced features, oversampling rates, seeds, and named splits."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from algolens.errors import ConfigError
from algolens.tasks.recursion import Leaf, Node, bits, depth, size
from algolens.tasks.recursion.sampling import (
    Sampling,
    count,
    feature,
    feature_range,
    rare_range,
    sample_values,
)
from algolens.tasks.recursion.splits import SplitSpec, shortfall, shortfall_text, split_inputs
from algolens.tasks.recursion.values import from_bits


def all_shapes(n: int) -> list:
    """Every unlabelled shape with n nodes (labels 0), built by brute force."""
    if n == 0:
        return [Leaf()]
    return [
        Node(0, left, right)
        for k in range(n)
        for left in all_shapes(k)
        for right in all_shapes(n - 1 - k)
    ]


def shape(t):
    return Leaf() if isinstance(t, Leaf) else Node(0, shape(t.left), shape(t.right))


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("n", range(8))
def test_counts_match_enumeration(n):
    shapes = all_shapes(n)
    catalan = math.comb(2 * n, n) // (n + 1)
    assert len(shapes) == catalan == count(n, n)
    by_depth = Counter(depth(t) for t in shapes)
    for h in range(n + 1):
        assert count(n, h) == sum(c for d, c in by_depth.items() if d <= h)
    assert by_depth[n] == (2 ** (n - 1) if n else 1)  # paths: one side choice per lower node


def _chi2_p(observed: Counter, keys: list) -> float:
    obs = [observed[k] for k in keys]
    return stats.chisquare(obs).pvalue


def test_uniform_trees_are_uniform_over_shapes():
    n = 4
    values = sample_values(Sampling(n, n, "uniform"), "tree", 14 * 300, rng(1))
    seen = Counter(shape(t) for t in values)
    assert set(seen) == set(all_shapes(n))
    assert _chi2_p(seen, all_shapes(n)) > 1e-3


def test_balanced_trees_are_uniform_over_depths_then_shapes():
    n = 5
    values = sample_values(Sampling(n, n, "balanced"), "tree", 4000, rng(2))
    depths = Counter(depth(t) for t in values)
    lo, hi = feature_range("tree", n)
    assert (lo, hi) == (3, 5)
    assert set(depths) == {3, 4, 5}
    assert _chi2_p(depths, [3, 4, 5]) > 1e-3
    for d in (3, 5):
        keys = [s for s in all_shapes(n) if depth(s) == d]
        seen = Counter(shape(t) for t in values if depth(t) == d)
        assert set(seen) == set(keys)
        assert _chi2_p(seen, keys) > 1e-3


def test_uniform_bins_have_geometric_runs_and_balanced_bins_flat_runs():
    n = 6
    uni = Counter(feature(v) for v in sample_values(Sampling(n, n), "bin", 6400, rng(3)))
    # P(run = k) = 2^-(k+1) for k < n, 2^-n for all ones
    expected = [6400 * 2.0 ** -(k + 1) for k in range(n)] + [6400 * 2.0**-n]
    assert stats.chisquare([uni[k] for k in range(n + 1)], expected).pvalue > 1e-3
    bal = Counter(
        feature(v) for v in sample_values(Sampling(n, n, "balanced"), "bin", 7000, rng(4))
    )
    assert _chi2_p(bal, list(range(n + 1))) > 1e-3


def test_labels_and_sizes_stay_in_range():
    s = Sampling(2, 7, "uniform", n_labels=3)
    trees = sample_values(s, "tree", 300, rng(5))
    assert {size(t) for t in trees} == set(range(2, 8))
    labels = {tok for t in trees for tok in _labels(t)}
    assert labels == {0, 1, 2}
    assert {len(bits(b)) for b in sample_values(s, "bin", 300, rng(5))} == set(range(2, 8))


def _labels(t):
    return [] if isinstance(t, Leaf) else [t.label, *_labels(t.left), *_labels(t.right)]


@pytest.mark.parametrize("kind", ["bin", "tree"])
def test_oversampling_rate(kind):
    n, p = 8, 0.5
    lo, hi = rare_range(kind, n)
    base = sample_values(Sampling(n, n), kind, 4000, rng(6))
    over = sample_values(Sampling(n, n, oversample=p), kind, 4000, rng(6))
    q = np.mean([lo <= feature(v) <= hi for v in base])
    rate = np.mean([lo <= feature(v) <= hi for v in over])
    assert q < 0.16  # the tail is rare under uniform sampling (mass <= 1/8)
    assert abs(rate - (p + (1 - p) * q)) < 0.04
    all_rare = sample_values(Sampling(n, n, oversample=1.0), kind, 200, rng(7))
    assert all(lo <= feature(v) <= hi for v in all_rare)


def test_rare_ranges_by_hand():
    assert rare_range("bin", 8) == (3, 8)  # P(run >= 3) = 1/8
    assert rare_range("bin", 1) == (1, 1)  # never empty
    assert rare_range("bin", 0) == (0, 0)
    # 5 nodes, depths of the 42 shapes: 3 -> 6, 4 -> 20, 5 -> 16 (enumerated below); depth >= 5
    # has mass 16/42 > 1/8, so only the top value is left
    by_depth = Counter(depth(t) for t in all_shapes(5))
    assert by_depth == {3: 6, 4: 20, 5: 16}
    assert rare_range("tree", 5) == (5, 5)
    shapes = all_shapes(8)
    t, hi = rare_range("tree", 8)
    mass = lambda u: sum(depth(s) >= u for s in shapes) / len(shapes)  # noqa: E731
    assert hi == 8 and mass(t) <= 1 / 8 < mass(t - 1)


def test_same_seed_same_values_other_seed_other_values():
    s = Sampling(1, 9, "balanced", oversample=0.2)
    assert sample_values(s, "tree", 50, rng(8)) == sample_values(s, "tree", 50, rng(8))
    assert sample_values(s, "tree", 50, rng(8)) != sample_values(s, "tree", 50, rng(9))


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"min_size": 5, "max_size": 4}, "min_size <= max_size"),
        ({"max_size": 65}, "<= 64"),
        ({"mode": "stratified"}, "unknown"),
        ({"oversample": 1.5}, "[0, 1]"),
        ({"n_labels": 0}, "n_labels"),
    ],
)
def test_bad_sampling_configs(kwargs, fragment):
    with pytest.raises(ConfigError) as info:
        Sampling(**kwargs)
    assert fragment in str(info.value)


SPEC = SplitSpec(Sampling(1, 5, oversample=0.3), n_train=40, n_test=30, n_ood=20, ood_max_size=8)


def test_splits_are_seeded_and_independent_of_each_other():
    a = split_inputs(SPEC, ("bin", "bin"), "test", seed=3)
    assert a == split_inputs(SPEC, ("bin", "bin"), "test", seed=3)
    assert a != split_inputs(SPEC, ("bin", "bin"), "test", seed=4)
    bigger_ood = SplitSpec(SPEC.sampling, n_train=40, n_test=30, n_ood=99, ood_max_size=8)
    assert split_inputs(bigger_ood, ("bin", "bin"), "test", seed=3) == a


def test_held_out_splits_avoid_train_and_ood_is_longer():
    train = set(split_inputs(SPEC, ("bin",), "train", seed=0))
    assert len(split_inputs(SPEC, ("bin",), "train", seed=0)) == 40
    for split in ("test", "rare"):
        xs = split_inputs(SPEC, ("bin",), split, seed=0)
        assert xs and not set(xs) & train
    ood = split_inputs(SPEC, ("tree",), "ood", seed=0)
    assert len(ood) == 20 and all(6 <= size(x[0]) <= 8 for x in ood)
    rare = split_inputs(SPEC, ("bin",), "rare", seed=0)
    assert all(rare_range("bin", len(bits(x[0])))[0] <= feature(x[0]) for x in rare)


def test_exhausted_held_out_split_is_an_error():
    tiny = SplitSpec(Sampling(0, 0), n_train=10, n_test=5, ood_max_size=1)
    for split in ("test", "rare"):
        with pytest.raises(ConfigError, match=f"already in the train set, so the {split} split"):
            split_inputs(tiny, ("bin",), split, seed=0)


def test_held_out_splits_hold_distinct_inputs_and_report_the_shortfall():
    """1..4 bits are 30 numbers; 100 training draws leave a handful: the test split holds each of
    them once (it used to repeat one input up to its asked size) and says how many it lacks."""
    spec = SplitSpec(Sampling(1, 4), n_train=100, n_test=125, n_ood=20, ood_max_size=6)
    train = set(split_inputs(spec, ("bin",), "train", seed=0))
    pool = {(from_bits(bs),) for n in range(1, 5) for bs in itertools.product((0, 1), repeat=n)}
    for split in ("test", "ood"):
        xs = split_inputs(spec, ("bin",), split, seed=0)
        assert len(xs) == len(set(xs))
    test = split_inputs(spec, ("bin",), "test", seed=0)
    assert set(test) == pool - train  # every held-out number, once
    sizes = {"train": 100, "test": len(test), "ood": 20, "rare": 125}
    assert shortfall(spec, sizes) == {"test": (len(test), 125)}
    assert "test holds" in shortfall_text(shortfall(spec, sizes))
    assert shortfall_text({}) is None


def test_bad_split_specs():
    with pytest.raises(ConfigError, match="ood_max_size"):
        SplitSpec(Sampling(1, 5), ood_max_size=5)
    with pytest.raises(ConfigError, match="unknown"):
        split_inputs(SPEC, ("bin",), "valid", seed=0)


def test_big_counts_draw_exactly_in_range():
    from algolens.tasks.recursion.shapes import randbelow as _randbelow

    total = 3 * 2**70 + 1
    draws = [_randbelow(rng(10), total)] + [_randbelow(g, total) for g in [rng(11)] * 200]
    assert all(0 <= d < total for d in draws)
    assert sum(d >= 2**70 for d in draws) > 100  # the high bits are used (2/3 expected)
    trees = sample_values(Sampling(40, 40, "balanced"), "tree", 20, rng(12))  # Catalan(40) > 2^62
    assert all(size(t) == 40 for t in trees)


def test_every_max_size_has_a_default_ood_range():
    """Issue: ``--max-size 12`` and above used to fail (the fixed default ood_max_size 12 was not
    above it). The default reaches above every max_size, with no ood split only at the top."""
    from algolens.tasks.recursion.sampling import MAX_SIZE
    from algolens.tasks.recursion.settings import RecursionArgs

    for top in range(MAX_SIZE + 1):
        args = RecursionArgs(min_size=min(1, top), max_size=top)
        spec = args.split_spec()  # no ConfigError
        if top < MAX_SIZE:
            assert top < spec.ood_max_size <= MAX_SIZE and spec.n_ood == 500
            low, high = spec.sampling_of("ood").min_size, spec.sampling_of("ood").max_size
            assert (low, high) == (top + 1, spec.ood_max_size)
        else:
            assert spec.n_ood == 0 and spec.ood_max_size == MAX_SIZE
    assert RecursionArgs().ood_max_size == 12  # the old default where it was valid
    assert RecursionArgs(max_size=20, ood_max_size=30).ood_max_size == 30  # a given one stays
    with pytest.raises(ConfigError, match=r"got 20; set ood_max_size in 21\.\.64"):
        RecursionArgs(max_size=20, ood_max_size=20).split_spec()
    with pytest.raises(ConfigError, match="set n_ood = 0"):
        RecursionArgs(max_size=MAX_SIZE, n_ood=5).split_spec()
