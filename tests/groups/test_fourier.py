"""Group Fourier transform: inversion, Plancherel, projections, on G and G×G."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algolens.errors import SpecError
from algolens.groups import direct_product, parse_group
from algolens.groups.fourier import (
    fourier_transform,
    fourier_transform_2d,
    inverse_fourier,
    inverse_fourier_2d,
    isotypic_projection_2d,
    isotypic_projections,
    power_spectrum,
    power_spectrum_2d,
)
from algolens.groups.reps import irreps

SPECS = ["C1", "C7", "C12", "D5", "S4", "Q8", "Q8xC3", "A5", "S5"]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s)
def test_inverse_of_forward_is_identity_and_plancherel_holds(spec):
    g = parse_group(spec)
    rng = np.random.default_rng(0)
    f = rng.standard_normal((g.order, 4))
    coeffs = fourier_transform(g, f)
    assert [c.shape for c in coeffs] == [(r.real_dim, r.real_dim, 4) for r in irreps(g)]
    assert np.abs(inverse_fourier(g, coeffs) - f).max() < 1e-9
    power = power_spectrum(g, f)
    assert power.shape == (len(irreps(g)), 4)
    assert np.allclose(power.sum(axis=0), (f**2).sum(axis=0), rtol=1e-10)
    assert (power >= 0).all()


@pytest.mark.parametrize("spec", ["S4", "Q8xC3", "C6"], ids=lambda s: s)
def test_isotypic_projections_are_orthogonal_idempotent_and_sum_to_f(spec):
    g = parse_group(spec)
    f = np.random.default_rng(1).standard_normal((g.order, 2))
    parts = isotypic_projections(g, f)
    assert parts.shape == (len(irreps(g)), g.order, 2)
    assert np.abs(parts.sum(axis=0) - f).max() < 1e-9
    gram = np.einsum("igk,jgk->ij", parts, parts)
    assert np.abs(gram - np.diag(np.diag(gram))).max() < 1e-9
    assert np.allclose(np.diag(gram), power_spectrum(g, f).sum(axis=1))
    again = isotypic_projections(g, parts[-1])
    assert np.abs(again[-1] - parts[-1]).max() < 1e-9
    assert np.abs(again[:-1]).max() < 1e-9


def test_single_function_shapes_and_delta_at_identity():
    g = parse_group("S4")
    delta = np.zeros(g.order)
    delta[g.identity] = 1.0
    coeffs = fourier_transform(g, delta)
    for r, c in zip(irreps(g), coeffs):  # f̂(ρ) = ρ(e) = I
        assert c.shape == (r.real_dim, r.real_dim) and np.allclose(c, np.eye(r.real_dim))
    assert inverse_fourier(g, coeffs).shape == (g.order,)
    # the regular character: power of the identity delta is c_ρ·d_ρ/|G| = d²/|G| per irrep
    power = power_spectrum(g, delta)
    assert np.allclose(power, [r.real_dim**2 / g.order for r in irreps(g)])


def test_constant_function_lives_in_the_trivial_irrep():
    g = parse_group("A5")
    power = power_spectrum(g, np.ones(g.order))
    assert power[0] == pytest.approx(g.order) and np.allclose(power[1:], 0)


@pytest.mark.parametrize("k", [1, 2, 3, 6], ids=lambda k: f"k{k}")
def test_cyclic_frequency_is_detected(k):
    n = 13
    g = parse_group(f"C{n}")
    f = np.cos(2 * np.pi * k * np.arange(n) / n + 0.3)
    power = power_spectrum(g, f)
    labels = [r.label for r in irreps(g)]
    assert labels[int(np.argmax(power))] == f"freq-{k}"
    assert power.max() == pytest.approx((f**2).sum())


@pytest.mark.parametrize("spec", ["C5", "S3", "Q8", "D4"], ids=lambda s: s)
def test_pairs_inverse_and_plancherel(spec):
    g = parse_group(spec)
    f = np.random.default_rng(2).standard_normal((g.order, g.order, 3))
    blocks = fourier_transform_2d(g, f)
    reps = irreps(g)
    assert blocks[0][-1].shape == (1, 1, reps[-1].real_dim, reps[-1].real_dim, 3)
    assert np.abs(inverse_fourier_2d(g, blocks) - f).max() < 1e-9
    power = power_spectrum_2d(g, f)
    assert power.shape == (len(reps), len(reps), 3)
    assert np.allclose(power.sum(axis=(0, 1)), (f**2).sum(axis=(0, 1)))


def test_pairs_of_a_product_function_factorise():
    g = parse_group("S3")
    rng = np.random.default_rng(3)
    u, v = rng.standard_normal(g.order), rng.standard_normal(g.order)
    p2 = power_spectrum_2d(g, np.outer(u, v))
    assert np.allclose(p2, np.outer(power_spectrum(g, u), power_spectrum(g, v)))


def test_group_product_logits_live_in_diagonal_blocks():
    """f(a, b) = [a·b = c] for fixed c: Σ_g ρ(a)⊗ρ(b) over a·b = c is diagonal in (ρ, σ)."""
    g = parse_group("S4")
    f = (g.table == 5).astype(float)
    power = power_spectrum_2d(g, f)
    off = power - np.diag(np.diag(power))
    assert np.abs(off).max() < 1e-9 and np.trace(power) == pytest.approx(g.order)


def test_shape_errors_are_typed():
    g = parse_group("C5")
    with pytest.raises(SpecError, match="expected"):
        fourier_transform(g, np.zeros(6))
    with pytest.raises(SpecError, match="expected"):
        fourier_transform_2d(g, np.zeros((5, 4)))
    with pytest.raises(SpecError, match="blocks"):
        inverse_fourier(g, [np.zeros((1, 1))])


@settings(max_examples=10, deadline=None, derandomize=True)
@given(
    st.lists(st.sampled_from(["C2", "C3", "C4", "C5", "S3", "Q8", "D4"]), min_size=1, max_size=2),
    st.integers(1, 3),
)
def test_random_groups_round_trip(factors, k):
    g = direct_product(*(parse_group(f) for f in factors))
    f = np.random.default_rng(k).standard_normal((g.order, k))
    assert np.abs(inverse_fourier(g, fourier_transform(g, f)) - f).max() < 1e-9
    assert np.allclose(power_spectrum(g, f).sum(axis=0), (f**2).sum(axis=0))


def test_pair_projections_sum_to_f_and_carry_the_power():
    g = parse_group("Q8")
    f = np.random.default_rng(4).standard_normal((g.order, g.order))
    m = len(irreps(g))
    parts = [[isotypic_projection_2d(g, f, i, j) for j in range(m)] for i in range(m)]
    assert np.abs(sum(p for row in parts for p in row) - f).max() < 1e-9
    power = power_spectrum_2d(g, f)
    for i in range(m):
        for j in range(m):
            assert np.sum(parts[i][j] ** 2) == pytest.approx(power[i, j], abs=1e-9)
