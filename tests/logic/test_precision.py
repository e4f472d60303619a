"""Log precision: the exact width of hand-built predictors, the log-law rule on known series,
and the study on a tiny majority transformer."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from algolens.errors import ConfigError
from algolens.logic.precision import exact_bits, judge_log_precision, precision_table
from algolens.logic.quantize import quantize
from algolens.logic.scaling import majority_transformer

X = np.array(list(itertools.product((-1, 0, 1), repeat=2)))  # [9, 2]
W = np.array([1.0, 0.05])


def _unit(bits: int) -> np.ndarray:
    """A one-unit network ``[w·x > 0]`` with its weights quantised at ``bits`` bits."""
    q, _ = quantize(W, bits)
    return (X @ q > 0).astype(int)


def test_exact_bits_of_a_hand_built_unit():
    # q(0.05) = round(0.05 · (2^(p-1) - 1)) is 0 for p ≤ 4 (0.35 at p = 4) and 1 at p = 5
    # (0.75): only then does x = (0, 1) fire, so 5 bits are exactly what this unit needs.
    ref = (X @ W > 0).astype(int)
    assert [np.array_equal(_unit(p), ref) for p in range(2, 8)] == [0, 0, 0, 1, 1, 1]
    assert exact_bits(ref, _unit, range(2, 17)) == 5
    assert exact_bits(ref, _unit, range(2, 5)) is None  # never exact below 5 bits


def test_exact_bits_needs_every_larger_width():
    ref = np.array([1, 0])
    lucky = {2: ref, 3: np.array([0, 0]), 4: ref, 5: ref}  # exact at 2 by chance, not at 3
    assert exact_bits(ref, lucky.__getitem__, [2, 3, 4, 5]) == 4


def test_log_law_rule_on_known_series():
    ns = [4, 8, 16, 32]
    fit = judge_log_precision(ns, [int(math.log2(n)) + 2 for n in ns])
    assert fit.agree and fit.c == pytest.approx(1) and fit.d == pytest.approx(2)
    assert fit.max_residual == pytest.approx(0, abs=1e-9)
    linear = judge_log_precision(ns, [n // 2 for n in ns])  # 2, 4, 8, 16: a line in n
    assert not linear.agree and linear.sse_linear < linear.sse_log
    jump = judge_log_precision(ns, [4, 4, 4, 8])  # a line in n fits better than log2 n here
    assert not jump.agree and jump.max_residual > 1
    assert not judge_log_precision(ns, [4, 5, None, 7]).agree  # one length never exact
    assert judge_log_precision([3, 7, 15], [5, 5, 5]).agree  # constant precision is O(log n)
    with pytest.raises(ConfigError):
        judge_log_precision([3, 5], [1, 2])


def test_precision_table_on_a_tiny_transformer():
    tr = majority_transformer(5, steps=0, d_model=8, d_mlp=8)
    rows = precision_table(tr.model, [3, 5], bits=range(2, 9))
    assert [(r.n, r.inputs, r.exhaustive) for r in rows] == [(3, 8, True), (5, 32, True)]
    for r in rows:
        widths = sorted(r.agreement)
        assert widths[-1] == 8 and all(0 <= a <= 1 for a in r.agreement.values())
        if r.bits is not None:  # exact from r.bits up, and not at the width below (if tried)
            assert all(r.agreement[p] == 1.0 for p in widths if p >= r.bits)
            assert r.bits == widths[0] or r.agreement[r.bits - 1] < 1.0
    with pytest.raises(ConfigError, match="n_ctx"):
        precision_table(tr.model, [7])
