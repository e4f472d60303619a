"""Networks set by hand to implement GCR are reported with exactly the irreps they were built
with; a random network has none; every metric is invariant under relabelling the elements."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from algolens.analysis.composition.irreps import analyse_model
from algolens.groups import FiniteGroup, parse_group
from algolens.groups.reps import irreps
from algolens.models import build_model
from tests.analysis.handbuilt import gcr_mlp, gcr_transformer

BUILDERS = {"mlp": gcr_mlp, "transformer": gcr_transformer}


def by_label(group, label):
    return next(r for r in irreps(group) if r.label == label)


def check_single_irrep(group, label, kind, scale=10.0):
    rho = by_label(group, label)
    model, resid = BUILDERS[kind](group, [(rho, scale)], d_mlp=group.order**2 + 64)
    assert resid < 1e-8  # the hand-built network computes exactly s·χ_ρ(a·b·c⁻¹)
    result = analyse_model(group, model)
    assert result.key == [label]
    sims = dict(zip(result.labels, result.similarity))
    assert sims[label] == pytest.approx(1.0, abs=1e-9)
    assert result.logit_fve == pytest.approx(1.0, abs=1e-9)
    for w in ("W_a", "W_b", "W_U"):
        assert result.weight_fve[w] == pytest.approx(1.0, abs=1e-9)
    losses = result.losses
    assert losses["restricted_loss"] == pytest.approx(losses["loss"], rel=1e-4, abs=1e-12)
    # removing the only irrep leaves constant logits: the loss of a uniform guess
    assert losses["excluded_loss"] == pytest.approx(math.log(group.order), rel=1e-6)
    assert losses["excluded_loss"] > 100 * losses["loss"]
    assert result.neurons["assigned"] == {label: model_neurons(model)}
    return result


def model_neurons(model):
    return model.cfg.d_mlp


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_standard_irrep_of_s4(kind):
    check_single_irrep(parse_group("S4"), "standard", kind)


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_one_frequency_of_c9(kind):
    g = parse_group("C9")
    result = check_single_irrep(g, "freq-2", kind, scale=40.0)
    assert result.losses["accuracy"] == 1.0


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_two_irreps_with_known_similarities(kind):
    g = parse_group("S4")
    sign, std = by_label(g, "sign"), by_label(g, "standard")
    model, resid = BUILDERS[kind](g, [(sign, 6.0), (std, 8.0)], d_mlp=640)
    assert resid < 1e-8
    result = analyse_model(g, model)
    assert sorted(result.key) == ["sign", "standard"]
    sims = dict(zip(result.labels, result.similarity))
    # real irreps with Σ_g χ(g)² = |G| have character cubes of equal norm, so the cosines are
    # the scales over their root-sum-square: 6/10 and 8/10
    assert sims["sign"] == pytest.approx(0.6, abs=1e-9)
    assert sims["standard"] == pytest.approx(0.8, abs=1e-9)
    assert result.weight_fve["W_a"] == pytest.approx(1.0, abs=1e-9)
    assert result.losses["excluded_loss"] == pytest.approx(math.log(24), rel=1e-6)
    assert set(result.neurons["assigned"]) <= {"sign", "standard"}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_network_has_no_key_irrep(seed):
    g = parse_group("S5")
    model = build_model("mlp", {"d_vocab": 120, "d_embed": 64, "d_mlp": 64})
    model.init_weights([seed])
    result = analyse_model(g, model)
    assert result.key == []
    assert np.abs(result.similarity).max() < 0.005


def relabelled(group: FiniteGroup, perm: np.ndarray) -> FiniteGroup:
    """The same group with element x renamed perm[x]."""
    n = group.order
    inv = np.argsort(perm)
    table = perm[group.table[inv][:, inv]]  # new[x, y] = perm[old[inv x, inv y]]
    perms = None if group.perms is None else group.perms[inv]
    return FiniteGroup(table, name=group.name, perms=perms, labels=[str(i) for i in range(n)])


def relabel_mlp(model, perm: np.ndarray):
    out = build_model("mlp", model.cfg)
    inv = torch.as_tensor(np.argsort(perm))
    with torch.no_grad():
        out.W_E_left.copy_(model.W_E_left[:, inv])
        out.W_E_right.copy_(model.W_E_right[:, inv])
        out.mlp.W_in.copy_(model.mlp.W_in)
        out.W_U.copy_(model.W_U[:, :, inv])
    return out


def relabel_transformer(model, perm: np.ndarray):
    """Token x of the relabelled model is token inv[x] of the original (`=` stays last)."""
    out = build_model("transformer", model.cfg)
    n = model.cfg.d_vocab_out
    inv = torch.as_tensor(np.argsort(perm))
    out.load_state_dict(model.state_dict())
    with torch.no_grad():
        out.embed.W_E[:, :n] = model.embed.W_E[:, inv]
        out.unembed.W_U.copy_(model.unembed.W_U[:, :, inv])
    return out


RELABEL_CASES = ["handbuilt-mlp", "random-mlp", "handbuilt-transformer", "random-transformer"]


@pytest.mark.parametrize("case", RELABEL_CASES)
def test_metrics_are_invariant_under_relabelling(case):
    build, kind = case.split("-")
    g = parse_group("S4")
    if build == "handbuilt":
        chosen = [(by_label(g, "sign"), 3.0), (by_label(g, "standard"), 5.0)]
        model, _ = BUILDERS[kind](g, chosen, 640)
    elif kind == "mlp":
        model = build_model("mlp", {"d_vocab": 24, "d_embed": 16, "d_mlp": 32, "dtype": "float64"})
    else:
        cfg = {"d_vocab": 25, "d_vocab_out": 24, "d_model": 16, "d_head": 4, "d_mlp": 32}
        model = build_model("transformer", {**cfg, "dtype": "float64"})
    relabel = relabel_mlp if kind == "mlp" else relabel_transformer
    perm = np.random.default_rng(7).permutation(g.order)
    g2 = relabelled(g, perm)
    assert g2.identity == perm[g.identity]
    mask = np.random.default_rng(8).random((24, 24)) < 0.5
    mask2 = np.empty_like(mask)
    mask2[np.ix_(perm, perm)] = mask  # pair (a, b) is pair (perm a, perm b)
    before = analyse_model(g, model, train_mask=mask).to_dict()
    after = analyse_model(g2, relabel(model, perm), train_mask=mask2).to_dict()
    assert after["key_irreps"] == before["key_irreps"]
    for key in ("similarity", "weight_fve", "losses"):
        for name, value in before[key].items():
            if isinstance(value, str):
                assert after[key][name] == value
            else:
                assert after[key][name] == pytest.approx(value, rel=1e-5, abs=1e-6), (key, name)
    for w, values in before["weight_fve_by_irrep"].items():
        for label, v in values.items():
            assert after["weight_fve_by_irrep"][w][label] == pytest.approx(v, abs=1e-6)
    assert after["neurons"]["irrep"] == before["neurons"]["irrep"]
    np.testing.assert_allclose(after["neurons"]["share"], before["neurons"]["share"], atol=1e-6)
