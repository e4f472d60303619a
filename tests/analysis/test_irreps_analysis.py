"""Chughtai et al.'s metrics against constructions with known answers and a naive cube."""

from __future__ import annotations

import numpy as np
import pytest

from algolens.analysis.composition.irreps import (
    all_pair_logits,
    analyse_mlp,
    character_similarity,
    subspace_fve,
)
from algolens.groups import parse_group
from algolens.groups.reps import irreps
from algolens.models import build_model
from tests.analysis.reference import cube, naive_similarity


@pytest.mark.parametrize("spec", ["S3", "D4", "Q8", "C5"])
def test_matches_naive_cube_on_random_logits(spec):
    g = parse_group(spec)
    reps = irreps(g)
    logits = np.random.default_rng(0).normal(size=(g.order,) * 3)
    ours = character_similarity(g, logits, reps)
    naive = [naive_similarity(logits, cube(g, r)) for r in reps]
    np.testing.assert_allclose(ours, naive, atol=1e-12)


@pytest.mark.parametrize("spec", ["S4", "A4", "D5"])
def test_pure_character_logits_pick_out_their_irrep(spec):
    g = parse_group(spec)
    reps = irreps(g)
    for i, r in enumerate(reps):
        if r.label == "trivial":
            continue
        sims = character_similarity(g, 3.0 * cube(g, r) + 1.5, reps)  # scale and shift ignored
        assert sims[i] == pytest.approx(1.0, abs=1e-10)
        assert np.abs(np.delete(sims, i)).max() < 1e-10  # character orthogonality


def test_mixture_explains_all_variance():
    g = parse_group("S4")
    reps = irreps(g)
    logits = 2.0 * cube(g, reps[1]) + 1.0 * cube(g, reps[3])
    sims = character_similarity(g, logits, reps)
    assert np.sum(sims**2) == pytest.approx(1.0, abs=1e-10)
    assert sims[1] > 0 and sims[3] > 0


def test_weight_fve_of_rho_entries_is_one():
    g = parse_group("S4")
    reps = irreps(g)
    rho = reps[3]
    mix = np.random.default_rng(1).normal(size=(rho.real_dim**2, 7))
    E = rho.matrices.reshape(g.order, -1) @ mix  # [|G|, 7] in the span of ρ's entries
    assert subspace_fve([rho], E) == pytest.approx(1.0)
    assert subspace_fve([reps[1]], E) == pytest.approx(0.0, abs=1e-12)
    assert subspace_fve(reps, np.random.default_rng(2).normal(size=(g.order, 5))) == (
        pytest.approx(1.0)  # all irreps together span every function on G
    )


def test_analyse_untrained_mlp_runs_and_is_bounded():
    g = parse_group("S3")
    model = build_model("mlp", {"d_vocab": 6, "d_embed": 8, "d_mlp": 16})
    assert all_pair_logits(model, 6).shape == (6, 6, 6)
    result = analyse_mlp(g, model)
    assert 0.0 <= result.logit_fve <= 1.0 + 1e-9
    assert all(0.0 <= v <= 1.0 + 1e-9 for v in result.weight_fve.values())
    assert {"similarity", "key_irreps", "logit_fve", "weight_fve"} <= set(result.to_dict())
