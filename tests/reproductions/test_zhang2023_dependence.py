"""`reproduce zhang2023`: the failure counts pooled over seeds, the stratified test of feature
dependence (exact hypergeometric tails, by hand) and the recursion claim's rules."""

from __future__ import annotations

import pytest

from algolens.reproductions import zhang2023_claims as zc
from algolens.reproductions import zhang2023_measure as zm


def test_pooled_failures_sum_over_instances():
    inst = [{"fresh": {"failures": 3, "hits": 3, "predicted": 4}, "rules": ["a"]},
            {"fresh": {"failures": 1, "hits": 0, "predicted": 0}, "rules": ["b"]}]  # fmt: skip
    out = zm.pooled_failures({"instances": inst, "n_fresh": 10, "n_fit": 12,
                               "fresh_in_fit": 0.0, "fresh_in_train": 0.0})  # fmt: skip
    assert (out["recall"], out["precision"], out["rules"]) == (0.75, 0.75, ["a"])


def test_stratified_excess_is_the_exact_hypergeometric_tail():
    from algolens.analysis.recursion.feature_dependence import stratified_excess

    # one stratum of 4 inputs, 2 high, 2 failures, both on high inputs: P = 1 / C(4, 2)
    one = stratified_excess(["a"] * 4, [1, 1, 0, 0], [1, 1, 0, 0])
    assert (one.observed, one.expected, one.strata) == (2, 1.0, 1)
    assert one.p == pytest.approx(1 / 6) and one.p_min == pytest.approx(1 / 6)
    two = stratified_excess(["a"] * 4 + ["b"] * 4, [1, 1, 0, 0] * 2, [1, 1, 0, 0] * 2)
    assert two.p == pytest.approx(1 / 36) and two.strata == 2
    # failures on the low inputs: no excess at all; the reach is unchanged
    low = stratified_excess(["a"] * 4, [1, 1, 0, 0], [0, 0, 1, 1])
    assert low.p == pytest.approx(1.0) and low.p_min == pytest.approx(1 / 6)
    # strata without failures, or with one group only, carry no information
    none = stratified_excess(["a"] * 3 + ["b"] * 2, [1, 0, 0, 1, 1], [0, 0, 0, 1, 0])
    assert none.strata == 0 and none.p == 1.0 and none.p_min == 1.0


def test_feature_dependence_summary_by_hand():
    import numpy as np

    from algolens.analysis.recursion.feature_dependence import summarise

    # size 3: depths 2, 3, 3 (upper half: the 3s); size 4: depths 3, 3, 4, 4 (the 4s)
    sizes, depths = [3, 3, 3, 4, 4, 4, 4], [2, 3, 3, 3, 3, 4, 4]
    wrong = np.array([[0, 0, 0, 0, 0, 1, 1], [0, 0, 1, 0, 0, 1, 0]], bool)  # two seeds
    d = summarise("depth", sizes, depths, wrong)
    assert (d.inputs, d.seeds, d.high_n, d.high_correct, d.low_n, d.low_correct) == (
        7, 2, 8, 4, 6, 6,
    )  # fmt: skip
    assert (d.top_feature, d.top_n, d.top_correct) == (4, 4, 1)
    # every failure is on a high input: (seed 1, size 3) p 2/3, (seed 0, size 4) 1/6,
    # (seed 1, size 4) 1/2; (seed 0, size 3) has no failure
    assert d.test.strata == 3 and d.test.observed == 4
    assert d.test.p == pytest.approx(2 / 3 * 1 / 6 * 1 / 2)


def test_upper_cut_splits_ties_at_the_top():
    from algolens.analysis.recursion.feature_dependence import upper_cut

    # six paths of depth 7 and four shallower trees: the median (7) would leave nobody above
    assert upper_cut([7, 7, 7, 7, 7, 7, 4, 5, 5, 6]) == 7
    assert upper_cut([3, 4, 5, 6]) == 5 and upper_cut([2, 2]) == float("inf")


def _dependence(p, p_min, function="inorder"):
    from algolens.analysis.recursion.feature_dependence import Excess, FeatureDependence

    dep = FeatureDependence("left_spine", 300, 2, 200, 40, 400, 380, 6, 20, 0,
                            Excess(150, 60.0, p, p_min, 12))  # fmt: skip
    return zc.FunctionResult(function, {}, {}, {}, dependence=dep)


def test_recursion_claim_rules():
    yes = zc.recursion_claim(_dependence(1e-9, 1e-30))
    assert yes.agree is True and yes.kind == "paper"
    assert "20.0 % right (40 of 200), the others 95.0 % (380 of 400)" in yes.ours
    assert "at the largest left_spine drawn (6): 0.0 % (0 of 20)" in yes.ours
    no = zc.recursion_claim(_dependence(0.4, 1e-6))
    assert no.agree is False  # the test could reach p < 0.05 and did not
    weak = zc.recursion_claim(_dependence(0.4, 0.2))
    assert weak.agree is None and "cannot reach p < 0.05" in weak.ours
    pre = zc.recursion_claim(_dependence(1e-9, 1e-30, "preorder"))
    assert pre.agree is None and "copy shortcut is exact" in pre.ours
    assert zc.recursion_claim(zc.FunctionResult("successor", {}, {}, {})) is None
