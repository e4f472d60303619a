"""Neuron FVE against explicit projections onto basis functions built pair by pair."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algolens.analysis.composition.neurons import neuron_fve
from algolens.analysis.composition.streaming import PairSums
from algolens.groups import parse_group
from algolens.groups.reps import irreps, rho_basis


def sums_of(group, h: np.ndarray) -> PairSums:
    """PairSums of explicit features ``h`` ``[a, b, d]``, summed pair by pair."""
    n, d = group.order, h.shape[-1]
    by_product = np.zeros((n, d))
    for a in range(n):
        for b in range(n):
            by_product[group.table[a, b]] += h[a, b]
    flat = h.reshape(n * n, d)
    return PairSums(
        torch.from_numpy(by_product),
        torch.from_numpy(h.sum(1)),
        torch.from_numpy(h.sum(0)),
        torch.from_numpy(flat.T @ flat),
    )


def explicit_fve(group, rho, h: np.ndarray, span: str) -> np.ndarray:
    """``[d]`` FVE of each centred feature by the functions Q[x(a, b), j]/√n, x = a, b or a·b."""
    n = group.order
    q = rho_basis(rho)
    phi = np.empty((n, n, q.shape[1]))
    for a in range(n):
        for b in range(n):
            x = {"a": a, "b": b, "ab": group.table[a, b]}[span]
            phi[a, b] = q[x] / np.sqrt(n)
    phi = phi.reshape(n * n, -1)
    np.testing.assert_allclose(phi.T @ phi, np.eye(phi.shape[1]), atol=1e-10)  # orthonormal
    f = h.reshape(n * n, -1)
    f = f - f.mean(0)
    proj = phi.T @ f
    return (proj**2).sum(0) / (f**2).sum(0)


@pytest.mark.parametrize("spec", ["S3", "D4", "C6"])
def test_neuron_fve_matches_explicit_projections(spec):
    g = parse_group(spec)
    reps = irreps(g)
    h = np.maximum(np.random.default_rng(0).normal(size=(g.order, g.order, 5)), 0)
    result = neuron_fve(reps, sums_of(g, h), n_neurons=5)
    for i, rho in enumerate(reps):
        for span in ("a", "b", "ab"):
            expected = 0.0 if rho.label == "trivial" else explicit_fve(g, rho, h, span)
            np.testing.assert_allclose(result.fve[span][i], expected, atol=1e-10)
    # the spans of all irreps of a alone, b alone and a·b alone are orthogonal: total ≤ 1
    assert result.total.sum(0).max() <= 1 + 1e-10


def test_assignment_and_trivial_share_of_built_neurons():
    g = parse_group("S4")
    reps = irreps(g)
    std = next(r for r in reps if r.label == "standard")
    sign = next(r for r in reps if r.label == "sign")
    n = g.order
    f_std = std.matrices[:, 0, 1]  # one entry of ρ(a): lies in the standard ρ-span
    h = np.zeros((n, n, 3))
    h[:, :, 0] = f_std[:, None] + 2.0  # function of a, plus a constant
    h[:, :, 1] = sign.matrices[g.table, 0, 0]  # sign(a·b)
    h[:, :, 2] = 0.0  # dead
    result = neuron_fve(reps, sums_of(g, h), n_neurons=3)
    names, share, top = result.assignment()
    assert names == ["standard", "sign", None]
    np.testing.assert_allclose(share[:2], 1.0, atol=1e-12)
    np.testing.assert_allclose(top[:2], 1.0, atol=1e-12)
    i_std = [r.label for r in reps].index("standard")
    assert result.fve["a"][i_std, 0] == pytest.approx(1.0)
    assert result.fve["ab"][i_std, 0] == pytest.approx(0.0, abs=1e-12)
    # trivial share of neuron 0: n²·μ² / Σ h² with μ = 2 (f_std has mean 0)
    expected = n * n * 4.0 / float((h[:, :, 0] ** 2).sum())
    assert result.trivial_share[0] == pytest.approx(expected)
    summary = result.summary(["standard"])
    assert summary["assigned"] == {"standard": 1, "sign": 1, "dead": 1}
