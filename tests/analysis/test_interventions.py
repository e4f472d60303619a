"""Interventions through hooks against hand-computed forwards and the algebra of sign neurons."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from algolens.analysis.composition.cosets import coset_concentration, neuron_families
from algolens.analysis.composition.interventions import (
    Intervention,
    all_pairs,
    intervene,
    intervened_logits,
    mean_table,
    neuron_scores,
    standard_interventions,
)
from algolens.errors import ConfigError
from algolens.groups import parse_group
from algolens.models import build_model
from tests.analysis.coset_nets import make_mlp, sign_net


@pytest.fixture
def random_net():
    g = parse_group("S3")
    rng = np.random.default_rng(0)
    e_l, e_r = rng.normal(size=(2, 6, 5))
    w_in, w_u = rng.normal(size=(10, 7)), rng.normal(size=(7, 6))
    return g, make_mlp(6, e_l, e_r, w_in, w_u), (e_l, e_r, w_in[:5], w_in[5:], w_u)


def manual(e_l, e_r, w1, w2, w_u, a, b, *, act=lambda p: np.maximum(p, 0), sl=1, sr=1, add=0.0):
    pre = sl * (e_l[a] @ w1) + sr * (e_r[b] @ w2) + add  # [batch, d_mlp]
    return act(pre) @ w_u  # [batch, d_vocab]


def test_each_intervention_equals_a_hand_computed_forward(random_net):
    g, model, (e_l, e_r, w1, w2, w_u) = random_net
    tokens, _ = all_pairs(g)
    a, b = tokens[:, 0].numpy(), tokens[:, 1].numpy()
    scores = np.array([0.0, 2.0, 1e-6, 1e-8, 1.0, 0.5, 3e-7])
    keep = (scores < 1e-5).astype(float)
    m = functools.partial(manual, e_l, e_r, w1, w2, w_u, a, b)
    cases = {
        Intervention("base"): m(),
        Intervention("swap"): manual(e_r, e_l, w1, w2, w_u, a, b),
        Intervention("negate", ("left",)): m(sl=-1),
        Intervention("negate", ("right",)): m(sr=-1),
        Intervention("negate", ("left", "right")): m(sl=-1, sr=-1),
        Intervention("noise", mu=1.5, sigma=0.0): m(add=1.5),
        Intervention("abs"): m(act=np.abs),
        Intervention("ablate", threshold=1e-5): m(act=lambda p: np.maximum(p, 0) * keep),
    }
    for iv, want in cases.items():
        got = intervened_logits(model, tokens, iv, scores=scores).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=iv.name)
    # hooks are temporary: the model is unchanged afterwards
    np.testing.assert_allclose(model(tokens).detach().numpy(), cases[Intervention("base")])


def test_noise_has_the_asked_mean_and_spread_and_is_seeded():
    g = parse_group("S4")
    rng = np.random.default_rng(1)
    model = make_mlp(
        24,
        *rng.normal(size=(2, 24, 3)),
        rng.normal(size=(6, 16)),
        rng.normal(size=(16, 24)),
        bias=1e3,
    )  # fmt: skip  pre ≫ 0: ReLU is identity
    tokens, _ = all_pairs(g)
    seen = {}
    capture = [("mlp.hook_post", lambda x, hook: seen.setdefault("post", x.clone()))]
    with model.hooks(fwd_hooks=capture):
        base = intervened_logits(model, tokens, Intervention("base"))
        clean = seen.pop("post")
        iv = Intervention("noise", mu=0.5, sigma=2.0)
        noisy = intervened_logits(model, tokens, iv, seed=3)
        noise = (seen.pop("post") - clean).numpy()
    assert noise.mean() == pytest.approx(0.5, abs=0.06)  # 9216 draws: s.e. 0.02
    assert noise.std() == pytest.approx(2.0, rel=0.03)
    assert torch.equal(noisy, intervened_logits(model, tokens, iv, seed=3))
    assert not torch.equal(noisy, intervened_logits(model, tokens, iv, seed=4))
    assert not torch.equal(noisy, base)


@pytest.fixture
def sign_network():
    return sign_net()


def test_sign_neurons_negate_both_and_abs_follow_the_algebra(sign_network):
    g, model = sign_network
    w_a, w_b = (w[0].detach().numpy() for w in model.folded_weights())
    conc = coset_concentration(g, w_a, w_b)
    assert neuron_families(g, conc, w_a, w_b).sign == [0, 1]
    with torch.no_grad():
        model.W_U[0, 2] = 0.0  # keep only the sign pair for the exact identities
    tokens, _ = all_pairs(g)
    base = intervened_logits(model, tokens, Intervention("base"))
    both = intervened_logits(model, tokens, Intervention("negate", ("left", "right")))
    left = intervened_logits(model, tokens, Intervention("negate", ("left",)))
    absx = intervened_logits(model, tokens, Intervention("abs"))
    # ReLU(−p)u + ReLU(p)u = ReLU(p)u + ReLU(−p)u: the pair is unchanged by negating both sides
    torch.testing.assert_close(both, base, rtol=0, atol=1e-12)
    # |p|u + |−p|u = 2(ReLU(p) + ReLU(−p))u
    torch.testing.assert_close(absx, 2 * base, rtol=0, atol=1e-12)
    assert not torch.allclose(left, base)  # one side alone: sgn a + sgn b, another function


def test_intervene_table_order_counts_and_mean(sign_network):
    g, model = sign_network
    scores = neuron_scores(model, g)
    assert scores[0] < 1e-12 and scores[1] < 1e-12 and scores[2] >= 1.0
    rows = intervene(model, g)
    assert [o.name for o in rows] == [iv.name for iv in standard_interventions()]
    assert [o.name for o in rows][:5] == ["base", "swap embeddings", "negate both",
                                          "negate left", "negate right"]  # fmt: skip
    by = {o.name: o for o in rows}
    assert by["ablate C ≥ 1"].n_ablated == 1 and by["ablate C ≥ 1e-07"].n_ablated == 1
    tokens, targets = all_pairs(g)
    logits = model(tokens).detach()
    acc = float((logits.argmax(-1) == targets).double().mean())
    assert by["base"].accuracy == acc
    ce = -torch.log_softmax(logits, -1)[torch.arange(len(targets)), targets].mean()
    assert by["base"].loss == pytest.approx(float(ce), rel=1e-12)
    table = mean_table([rows, rows])
    assert table[0] == {"intervention": "base", "accuracy": acc, "accuracy_min": acc,
                        "loss": pytest.approx(float(ce), rel=1e-12)}  # fmt: skip
    assert table[-3]["n_ablated"] == 1.0


def test_non_mlp_models_are_refused():
    model = build_model("transformer", {"d_vocab": 7, "d_vocab_out": 6, "n_ctx": 3})
    with pytest.raises(ConfigError, match="composition MLP"):
        intervened_logits(model, torch.zeros((1, 2), dtype=torch.int64), Intervention("base"))


def test_blocked_evaluation_equals_one_block(sign_network, monkeypatch):
    import algolens.analysis.composition.interventions as mod

    g, model = sign_network
    whole = intervene(model, g)
    monkeypatch.setattr(mod, "BLOCK_LOGITS", 7 * g.order)  # 7 pairs per block, 83 blocks
    blocked = intervene(model, g)
    for a, b in zip(whole, blocked):
        if not a.name.startswith("noise"):  # the noise stream is drawn in other shapes
            assert a.accuracy == b.accuracy and a.n_ablated == b.n_ablated, a.name
            assert a.loss == pytest.approx(b.loss, rel=1e-12), a.name


def test_held_out_figures_are_those_of_the_masked_pairs(sign_network):
    g, model = sign_network
    tokens, targets = all_pairs(g)
    mask = np.random.default_rng(3).random(len(tokens)) < 0.6
    ivs = [Intervention("base"), Intervention("negate", ("left",))]
    rows = intervene(model, g, ivs, test_mask=mask)
    held = torch.from_numpy(mask)
    for o, iv in zip(rows, ivs):
        logits = intervened_logits(model, tokens, iv).double()
        nll = -torch.log_softmax(logits, -1)[torch.arange(len(targets)), targets]
        right = (logits.argmax(-1) == targets).double()
        assert o.test_accuracy == float(right[held].mean()) and o.accuracy == float(right.mean())
        assert o.test_loss == pytest.approx(float(nll[held].mean()), rel=1e-12)
        assert o.loss == pytest.approx(float(nll.mean()), rel=1e-12)
        assert o.test_loss != pytest.approx(o.loss, rel=1e-6)  # the subset is another figure
    assert intervene(model, g, ivs[:1])[0].test_accuracy is None


@pytest.mark.parametrize("mask", [np.zeros(576, dtype=bool), np.ones(10, dtype=bool)])
def test_bad_held_out_masks_are_refused(sign_network, mask):
    g, model = sign_network
    with pytest.raises(ConfigError, match="held-out mask"):
        intervene(model, g, [Intervention("base")], test_mask=mask)
