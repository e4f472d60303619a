"""Side fit, shared-coset silence and sign amplitudes on hand-built pre-activation tables."""

from __future__ import annotations

import numpy as np
import pytest

from algolens.analysis.composition.coset_sides import (
    neuron_activations,
    shared_coset_silence,
    shared_cosets,
    side_fit,
    sign_amplitudes,
)
from algolens.analysis.composition.cosets import coset_concentration
from algolens.groups import parse_group
from tests.analysis.coset_nets import coset_tables, find_subgroup


def tables(g, sub, *, mirrored=False, amp_right=1.0):
    """``(f_L, f_R)`` ``[|G|, |G|]``: one coset neuron per shift g, each with its own values."""
    cols = [coset_tables(g, sub, s, mirrored=mirrored, amp_right=amp_right, seed=s)
            for s in range(g.order)]  # fmt: skip
    return np.column_stack([c[0] for c in cols]), np.column_stack([c[1] for c in cols])


@pytest.fixture(scope="module")
def s4():
    g = parse_group("S4")
    return g, find_subgroup(g, 6, normal=False)  # a point stabiliser, a copy of S3


def test_paper_convention_fits_its_own_sides_exactly(s4):
    g, sub = s4
    f_l, f_r = tables(g, sub)
    fit = side_fit(g, coset_concentration(g, f_l, f_r))
    np.testing.assert_allclose(fit.own, 1.0, atol=1e-12)
    assert fit.other.max() < 0.9 and fit.distinct.all()
    lat = g.subgroup_lattice
    assert {lat.subgroups[s].order for s in fit.own_subgroup.ravel()} == {6}
    assert (fit.own_subgroup[0] == sub).all()  # the left side's subgroup is H itself


def test_the_mirrored_convention_fits_the_other_side(s4):
    g, sub = s4
    fit = side_fit(g, coset_concentration(g, *tables(g, sub, mirrored=True)))
    np.testing.assert_allclose(fit.other, 1.0, atol=1e-12)
    assert fit.own.max() < 0.9


def test_one_coset_indicators_and_constants_cannot_tell_the_sides_apart(s4):
    g, sub = s4
    ids = g.subgroup_lattice.coset_table("right")[sub]
    f = np.column_stack([(ids == 1).astype(float), np.ones(24)])  # Hc = c(c⁻¹Hc); constant
    fit = side_fit(g, coset_concentration(g, f, f))
    np.testing.assert_allclose(fit.own[:, 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(fit.other[:, 0], 1.0, atol=1e-12)
    assert not fit.distinct.any() and np.isnan(fit.own[:, 1]).all()


def test_random_tables_are_explained_by_no_coset_partition():
    g = parse_group("S4")
    f_l, f_r = np.random.default_rng(0).normal(size=(2, 24, 30))
    fit = side_fit(g, coset_concentration(g, f_l, f_r))
    assert np.median(fit.own) < 0.2


def test_shared_cosets_are_the_normaliser_cosets(s4):
    g, sub = s4
    lat = g.subgroup_lattice
    assert len(shared_cosets(g, sub, sub)) == 1  # N(H) = H for a point stabiliser of S4
    a4 = find_subgroup(g, 12, normal=True)
    assert len(shared_cosets(g, a4, a4)) == 2  # normal: every coset is shared
    other = next(i for i, s in enumerate(lat.subgroups) if s.order == 6 and i != sub)
    ids = lat.coset_table("right")[sub]
    shared = shared_cosets(g, sub, other)  # H·x = x·K: one coset when K = x⁻¹Hx
    assert len(shared) == 1
    s = np.flatnonzero(ids == shared[0])
    k_ids = lat.coset_table("left")[other]
    assert len(set(k_ids[s])) == 1 and lat.subgroups[other].order == s.size
    assert shared_cosets(g, sub, a4) == []  # different orders share nothing


def test_silence_is_zero_for_the_paper_circuit_and_about_one_without_it(s4):
    g, sub = s4
    f_l, f_r = tables(g, sub)
    fit = side_fit(g, coset_concentration(g, f_l, f_r))
    np.testing.assert_allclose(shared_coset_silence(g, fit.own_subgroup, f_l, f_r), 0.0, atol=0)
    # a bias makes the neuron fire on the shared coset too: mean there is bias, mean overall
    # is the mean of ReLU(u_k − u_l + 1) over pairs of coset labels
    lifted = shared_coset_silence(g, fit.own_subgroup, f_l, f_r, bias=np.ones(24))
    act = neuron_activations(f_l, f_r, np.ones(24))
    np.testing.assert_allclose(lifted, 1.0 / act.mean(axis=(1, 2)), rtol=1e-12)
    r_l, r_r = np.random.default_rng(1).normal(size=(2, 24, 30))
    fit = side_fit(g, coset_concentration(g, r_l, r_r))
    rand = shared_coset_silence(g, fit.own_subgroup, r_l, r_r)
    assert np.median(rand[np.isfinite(rand)]) > 0.5


def test_dead_neurons_are_nan_and_unshared_subgroups_inf(s4):
    g, sub = s4
    a4 = find_subgroup(g, 12, normal=True)
    f = -np.ones((24, 1))
    out = shared_coset_silence(g, np.array([[sub], [sub]]), f, f)
    assert np.isnan(out[0])
    f_l, f_r = tables(g, sub)
    assert np.isinf(shared_coset_silence(g, np.array([[sub], [a4]]), f_l[:, :1], f_r[:, :1]))[0]


def test_sign_amplitudes_give_the_right_to_left_ratio():
    g = parse_group("S4")
    sgn = np.where(np.isin(np.arange(24), g.commutator_subgroup), 1.0, -1.0)
    rng = np.random.default_rng(0)
    f_l = np.column_stack([sgn, 2 * sgn + 3, sgn, rng.normal(size=24)])
    f_r = np.column_stack([-sgn, -sgn, 0.5 * sgn, rng.normal(size=24)])
    neurons, ratios = sign_amplitudes(g, coset_concentration(g, f_l, f_r), f_l, f_r)
    assert neurons.tolist() == [0, 1, 2]  # the random neuron is no sign neuron
    np.testing.assert_allclose(ratios, [-1.0, -0.5, 0.5], rtol=1e-12)
    g15 = parse_group("C15")  # odd order: no index-2 subgroup
    f = rng.normal(size=(15, 2))
    assert sign_amplitudes(g15, coset_concentration(g15, f, f), f, f)[0].size == 0
