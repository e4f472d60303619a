"""The n-scaling study: task data by brute force, fits on exact power laws, a compiled sweep."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from algolens.errors import ConfigError
from algolens.logic.scaling import (
    compile_majority,
    exponent_interval,
    fit_affine_power,
    fit_exponent,
    majority_answers,
    majority_inputs,
    majority_transformer,
    scaling_table,
)


@pytest.mark.parametrize("n", [1, 3, 5])
def test_majority_data_by_brute_force(n):
    x = majority_inputs(n)
    want = [list(b) + [2] for b in itertools.product((0, 1), repeat=n)]
    assert x.tolist() == want
    assert majority_answers(x).tolist() == [
        int(sum(b) > n / 2) for b in itertools.product((0, 1), repeat=n)
    ]
    big = majority_inputs(21, np.random.default_rng(0), m=50)
    assert big.shape == (50, 22) and set(big[:, -1]) == {2}


def test_fits_recover_exact_power_laws():
    ns = [3, 5, 7, 9, 11]
    f = fit_exponent(ns, [3 * n**2 for n in ns])
    assert (
        f.exponent == pytest.approx(2)
        and f.constant == pytest.approx(3)
        and f.r2 == pytest.approx(1)
    )
    g = fit_affine_power(ns, [30_000 + 7 * n**1.5 for n in ns])
    assert g.exponent == pytest.approx(1.5) and g.a == pytest.approx(30_000, rel=1e-6)
    assert fit_exponent(ns, [30_000 + 7 * n**1.5 for n in ns]).exponent < 0.05
    with pytest.raises(ConfigError):
        fit_exponent([3], [1])
    with pytest.raises(ConfigError):
        fit_affine_power([3, 5], [1, 2])


def test_exponent_interval_on_known_series():
    ns = [3, 5, 7, 9, 11]
    noisy = [n**2 * (1.02 if i % 2 else 0.98) for i, n in enumerate(ns)]  # n², ±2 % noise
    lo, hi = exponent_interval(ns, noisy)
    assert lo < 2 < hi and hi < 2.5
    lo, hi = exponent_interval(ns, [5 * n**2 for n in ns])
    assert lo == pytest.approx(2) and hi == pytest.approx(2)  # exact: a zero-width interval
    lo, hi = exponent_interval(ns, [2.0**n for n in ns])
    assert hi > 3  # exponential growth: the rule (upper end ≤ 3) rejects it
    with pytest.raises(ConfigError):
        exponent_interval([3, 5], [9, 25])


def test_compiled_sweep_constant_depth_and_verified():
    # untrained: any weights compile. Constant folding can lower the depth at some n (a gadget
    # whose inputs take one value folds away), so the claim tested is that it does not grow.
    tr = majority_transformer(9, steps=0, d_model=8, d_mlp=8)
    rows = scaling_table(tr.model, [1, 3, 5, 7, 9], bits=4)
    assert [r.n for r in rows] == [1, 3, 5, 7, 9]
    assert all(r.proof for r in rows)  # circuit = Q on all 2^n inputs
    with torch.no_grad():  # the circuit vs float share equals Q's, Q computed by another path
        for r in rows:
            x = majority_inputs(r.n)
            want = tr.model(torch.from_numpy(x)[None], answer=True)[0].argmax(-1).numpy()
            q, _, _ = compile_majority(tr.model, r.n, 4)
            assert r.circuit_vs_float == pytest.approx(np.mean(q.predict(x) == want))
    assert max(r.depth for r in rows[2:]) <= max(r.depth for r in rows[:2])
    with pytest.raises(ConfigError):
        majority_transformer(4)
    with pytest.raises(ConfigError, match="n_ctx"):
        scaling_table(tr.model, [11])
