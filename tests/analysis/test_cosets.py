"""Coset concentration against a naive per-subgroup computation and hand-built coset functions."""

from __future__ import annotations

import numpy as np
import pytest

from algolens.analysis.composition.cosets import (
    coset_concentration,
    coset_means,
    neuron_families,
    unembedding_correlation,
)
from algolens.errors import SizeLimitError, SpecError
from algolens.groups import parse_group


def naive_concentration(table: np.ndarray, elements: np.ndarray, f: np.ndarray, side: str):
    """Σ_cosets Var[f | coset] / Var[f] by listing each coset as a set (Python loops)."""
    cosets: dict[frozenset[int], list[int]] = {}
    for g in range(len(table)):
        members = frozenset(
            int(table[g, h]) if side == "left" else int(table[h, g]) for h in elements
        )
        cosets.setdefault(members, []).append(g)
    assert all(len(c) == len(elements) for c in cosets.values())
    return sum(np.var(f[c]) for c in cosets.values()) / np.var(f)


@pytest.mark.parametrize("spec", ["S4", "D6", "Q8", "A4", "C2xC2xC2", "C3xS3"])
def test_batched_equals_naive_on_every_subgroup(spec):
    g = parse_group(spec)
    rng = np.random.default_rng(1)
    f_left, f_right = rng.normal(size=(2, g.order, 3))
    f_right[:, 2] = np.repeat(rng.normal(size=g.order // 2), 2)[: g.order]  # some structure
    c = coset_concentration(g, f_left, f_right)
    subs = g.subgroup_lattice.subgroups
    for p, f in enumerate((f_left, f_right)):
        for s, side in enumerate(("left", "right")):
            for i, sub in enumerate(subs):
                want = [naive_concentration(g.table, sub.elements, f[:, j], side) for j in range(3)]
                np.testing.assert_allclose(c.values[p, s, i], want, rtol=1e-9, atol=1e-12)


def _stabiliser_function(g, point: int, seed: int):
    """f(x) = φ(x(point)) with φ injective: constant exactly on left cosets of Stab(point)."""
    phi = np.random.default_rng(seed).normal(size=g.perms.shape[1])
    return phi[g.perms[:, point]]


def test_function_of_an_s4_coset_in_s5():
    g = parse_group("S5")
    lattice = g.subgroup_lattice
    f = _stabiliser_function(g, 4, seed=0)[:, None]
    stab = lattice.find(np.flatnonzero(g.perms[:, 4] == 4))
    rng = np.random.default_rng(3)
    c = coset_concentration(g, f, rng.normal(size=(g.order, 1)))
    # left cosets xK: f is constant on them iff K fixes 4 (f(xk) = φ(x(k(4))), φ injective)
    for i, sub in enumerate(lattice.subgroups):
        inside = bool(np.all(g.perms[sub.elements, 4] == 4))
        assert (c.values[0, 0, i, 0] < 1e-10) == inside, (i, sub.order)
    assert c.values[0, 0, -1, 0] == pytest.approx(1.0)  # G: one coset, C = 1
    assert c.best[0, 0] < 1e-10
    assert c.best_subgroup[0, 0] == stab  # the largest subgroup of the tie, not a C2 inside it
    assert c.best_coset_side[0, 0] == 0
    assert lattice.classes[c.best_class[0, 0]].label == "S4"
    # the right side is random: no subgroup explains it
    assert c.best[1, 0] > 1.5


def test_random_function_scores_about_the_number_of_cosets():
    g = parse_group("S5")
    lattice = g.subgroup_lattice
    f = np.random.default_rng(7).normal(size=(g.order, 400))
    c = coset_concentration(g, f, f)
    n = g.order
    for i in (lattice.find(np.flatnonzero(g.perms[:, 4] == 4)), 1, len(lattice) - 2):
        h = lattice.subgroups[i].order
        # E Σ_c Var_c / Var = [G:H]·(1 − 1/|H|) · n/(n − 1) for iid entries
        expected = (n // h) * (1 - 1 / h) * n / (n - 1)
        mean = c.values[0, 0, i].mean()
        assert mean == pytest.approx(expected, rel=0.05), (h, mean, expected)


def test_coset_means_is_constant_on_cosets_and_keeps_the_mean():
    g = parse_group("S4")
    f = np.random.default_rng(0).normal(size=g.order)
    for i in range(1, len(g.subgroup_lattice) - 1):
        for side in (0, 1):
            m = coset_means(g, f, i, side)
            c = coset_concentration(g, m[:, None], m[:, None])
            assert c.values[0, side, i, 0] < 1e-12
            assert m.sum() == pytest.approx(f.sum())


def test_sign_neuron_and_families():
    g = parse_group("S5")
    sgn = np.where(np.isin(np.arange(g.order), g.commutator_subgroup), 1.0, -1.0)
    stab = _stabiliser_function(g, 2, seed=1)
    f_left = np.stack([2 * sgn + 0.3, stab, -sgn, sgn], axis=1)
    f_right = np.stack(
        [-sgn + 1.0, stab[g.inverses], -sgn, np.random.default_rng(0).normal(size=g.order)], axis=1
    )
    c = coset_concentration(g, f_left, f_right)
    fam = neuron_families(g, c, f_left, f_right)
    assert fam.sign == [0]  # neuron 2 has equal orientation; neuron 3's right side is noise
    assert fam.counts == {"S4": 1, "A5": 2}
    assert fam.by_class["S4"] == [1]


def test_bad_shapes_and_prime_groups_are_refused():
    g = parse_group("S3")
    with pytest.raises(SpecError, match="differ in shape"):
        coset_concentration(g, np.zeros((6, 2)), np.zeros((6, 3)))
    with pytest.raises(SpecError, match=r"\|G\| = 6"):
        coset_concentration(g, np.zeros((5, 2)), np.zeros((5, 2)))
    with pytest.raises(SizeLimitError, match="MAX_COSET_ORDER"):
        coset_concentration(parse_group("S7"), np.zeros((5040, 1)), np.zeros((5040, 1)))
    with pytest.raises(SpecError, match="no proper non-trivial subgroup"):
        coset_concentration(parse_group("C7"), np.ones((7, 1)), np.ones((7, 1)))


def test_unembedding_correlation_splits_pairs_by_subgroup_and_coset():
    g = parse_group("S4")
    lattice = g.subgroup_lattice
    rng = np.random.default_rng(4)
    # neurons 0-2 on one S3 (point stabiliser of 3): 0 and 1 largest where x(3) = 0, 2 where
    # x(3) = 1; neuron 3 on a conjugate S3; neuron 4 the sign (A4)
    phis = [[3.0, 1.0, 0.5, 0.0], [2.0, 0.0, 1.0, 0.5], [0.0, 3.0, 1.0, 2.0]]
    cols = [np.array(phi)[g.perms[:, 3]] for phi in phis]
    sgn = np.where(np.isin(range(24), g.commutator_subgroup), 1.0, -1.0)
    cols += [rng.normal(size=4)[g.perms[:, 0]], sgn]
    f = np.stack(cols, axis=1)
    conc = coset_concentration(g, f, f)
    assert [lattice.classes[c].label for c in conc.best_class[0]] == ["D3"] * 4 + ["A4"]
    base = rng.normal(size=24)
    w_u = np.stack([base, base + 0.1 * rng.normal(size=24), 2 * base + 1,
                    rng.normal(size=24), rng.normal(size=24)])  # fmt: skip
    got = unembedding_correlation(g, conc, f, f, w_u)
    c = np.corrcoef(w_u)
    assert [got["n_" + k] for k in ("same_coset", "same_subgroup", "same_class", "baseline")] == [
        1, 2, 3, 4]  # fmt: skip
    assert got["same_coset"] == pytest.approx(c[0, 1])
    assert got["same_subgroup"] == pytest.approx(np.mean([c[0, 2], c[1, 2]]))
    assert got["same_class"] == pytest.approx(np.mean([c[0, 3], c[1, 3], c[2, 3]]))
    assert got["baseline"] == pytest.approx(np.mean(c[:4, 4]))
