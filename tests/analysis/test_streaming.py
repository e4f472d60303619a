"""The streamed analysis against whole-cube computations built independently on small groups."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from algolens.analysis.composition.irreps import analyse_model
from algolens.analysis.composition.readout import readout
from algolens.analysis.composition.streaming import block_rows, logit_sums, pair_sums
from algolens.errors import ConfigError
from algolens.groups import parse_group
from algolens.groups.reps import irreps
from algolens.models import build_model
from tests.analysis.reference import cube, naive_similarity


def random_model(kind: str, n: int, seed: int, **extra):
    if kind == "mlp":
        cfg = {"d_vocab": n, "d_embed": 8, "d_mlp": 24, "dtype": "float64", **extra}
    else:
        cfg = {
            "d_vocab": n + 1,
            "d_vocab_out": n,
            "d_model": 16,
            "d_head": 4,
            "d_mlp": 24,
            "dtype": "float64",
            **extra,
        }
    model = build_model(kind, cfg)
    model.init_weights([seed])
    if kind == "mlp" and extra.get("bias"):
        with torch.no_grad():  # biases start at zero; make them matter
            model.mlp.b_in.normal_(generator=torch.Generator().manual_seed(seed))
            model.b_U.normal_(generator=torch.Generator().manual_seed(seed + 1))
    return model


def forward_logits(model, n: int) -> np.ndarray:
    """``[a, b, c]`` logits from the model's own forward pass on every pair."""
    a = torch.arange(n).repeat_interleave(n)
    b = torch.arange(n).repeat(n)
    cols = [a, b] if model.cfg.d_vocab == n else [a, b, torch.full_like(a, n)]
    with torch.no_grad():
        out = model(torch.stack(cols, -1), answer=True)  # [n², n]
    if out.ndim == 3:
        out = out[:, -1]
    return out.double().numpy().reshape(n, n, n)


CASES = [("S3", "mlp", {}), ("D4", "mlp", {"bias": True}), ("Q8", "mlp", {}), ("C5", "mlp", {})]
CASES += [
    ("A4", "mlp", {"embed_mode": "sum"}),
    ("S3", "transformer", {}),
    ("D4", "transformer", {}),
]


@pytest.mark.parametrize(("spec", "kind", "extra"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_streamed_similarity_equals_the_cube(spec, kind, extra):
    g = parse_group(spec)
    reps = irreps(g)
    model = random_model(kind, g.order, seed=3, **extra)
    logits = forward_logits(model, g.order)
    naive = [naive_similarity(logits, cube(g, r)) for r in reps]
    for budget in (1, 10**6):  # one left operand per block, and everything in one block
        ours = analyse_model(g, model, budget=budget).similarity
        np.testing.assert_allclose(ours, naive, rtol=0, atol=1e-10)


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_readout_logits_equal_the_forward_pass(kind):
    g = parse_group("D5")
    model = random_model(kind, g.order, seed=1)
    ro = readout(model)
    ours = ro.logits(torch.arange(g.order)).numpy()
    np.testing.assert_allclose(ours, forward_logits(model, g.order), atol=1e-10)


def test_pair_sums_match_explicit_sums():
    g = parse_group("D4")
    n = g.order
    ro = readout(random_model("mlp", n, seed=2))
    h = ro.features(torch.arange(n)).numpy()  # [a, b, d] the whole thing (small group)
    sums = pair_sums(ro, g.table, budget=n * n * 3)  # three left operands per block
    by_product = np.zeros((n, h.shape[-1]))
    for a in range(n):
        for b in range(n):
            by_product[g.table[a, b]] += h[a, b]
    np.testing.assert_allclose(sums.by_product.numpy(), by_product, atol=1e-12)
    np.testing.assert_allclose(sums.by_left.numpy(), h.sum(1), atol=1e-12)
    np.testing.assert_allclose(sums.by_right.numpy(), h.sum(0), atol=1e-12)
    flat = h.reshape(n * n, -1)
    np.testing.assert_allclose(sums.gram.numpy(), flat.T @ flat, atol=1e-10)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_losses_match_torch_cross_entropy_on_each_split(dtype):
    g = parse_group("S3")
    n = g.order
    model = random_model("mlp", n, seed=5)
    logits = torch.from_numpy(forward_logits(model, n)).reshape(n * n, n)
    target = torch.tensor(g.table.ravel())
    mask = np.random.default_rng(0).random((n, n)) < 0.4
    removed = torch.from_numpy(np.random.default_rng(1).normal(size=(n, n)))
    stats = logit_sums(readout(model), g.table, removed, mask, dtype=dtype, budget=n * n * 2)
    rtol = 1e-10 if dtype == torch.float64 else 1e-5
    flat = torch.from_numpy(mask.ravel())
    for split, sel in (("all", torch.ones_like(flat)), ("train", flat), ("test", ~flat)):
        ref = F.cross_entropy(logits[sel], target[sel]).item()
        assert stats.mean_loss(split) == pytest.approx(ref, rel=rtol)
        acc = (logits[sel].argmax(-1) == target[sel]).double().mean().item()
        assert stats.accuracy(split) == pytest.approx(acc)
    excl = logits - removed[target]
    ref = F.cross_entropy(excl[flat], target[flat]).item()
    assert stats.mean_excluded_loss("train") == pytest.approx(ref, rel=rtol)


def test_float32_cross_entropy_keeps_tiny_losses():
    g = parse_group("C5")
    n = g.order
    model = random_model("mlp", n, seed=0)
    ro = readout(model)
    # logits 40·[c = a·b]: loss (n-1)·e^-40 ≈ 1.7e-17, far below float32 resolution near 40
    big = dict(ro.__dict__)
    onehot = torch.zeros(n * n, n, dtype=torch.float64)
    onehot[torch.arange(n * n), torch.tensor(g.table.ravel())] = 40.0
    big["features"] = lambda a, dtype=torch.float64: onehot.view(n, n, n)[a].to(dtype)
    big["unembed"] = torch.eye(n, dtype=torch.float64)
    big["bias"] = torch.zeros(n, dtype=torch.float64)
    ro2 = type(ro)(**big)
    stats = logit_sums(ro2, g.table, torch.zeros(n, n), dtype=torch.float32)
    assert stats.mean_loss("all") == pytest.approx((n - 1) * np.exp(-40.0), rel=1e-5)


def test_block_rows_bounds():
    assert block_rows(720) * 720 * 720 <= 2**23
    assert block_rows(5040) == 1  # a block is at least one left operand
    assert block_rows(5, budget=10**9) == 5


def test_readout_rejects_what_it_cannot_read():
    g = parse_group("S3")
    with pytest.raises(ConfigError, match="n_inst=2"):
        readout(build_model("mlp", {"d_vocab": 6, "d_embed": 4, "d_mlp": 4, "n_inst": 2}))
    deep = random_model("transformer", 6, seed=0, n_layers=2)
    with pytest.raises(ConfigError, match="1-layer"):
        readout(deep)
    with pytest.raises(ConfigError, match="outputs"):
        analyse_model(g, random_model("mlp", 8, seed=0))


def test_sum_of_squared_weights_counts_trainable_parameters_only():
    model = random_model("transformer", 6, seed=4)
    expected = sum(float((p.detach() ** 2).sum()) for p in model.parameters() if p.requires_grad)
    assert readout(model).sq_weights == pytest.approx(expected, rel=1e-12)


def test_a_dead_network_gives_finite_json_and_the_uniform_loss():
    g = parse_group("S3")
    model = random_model("mlp", 6, seed=0)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    d = analyse_model(g, model).to_dict()
    json.dumps(d, allow_nan=False)  # no NaN anywhere
    assert d["key_irreps"] == [] and d["neurons"]["assigned"] == {"dead": model.cfg.d_mlp}
    for name in ("loss", "restricted_loss", "excluded_loss"):
        assert d["losses"][name] == pytest.approx(math.log(6), rel=1e-6)
    assert d["losses"]["accuracy"] == 0.0  # ties are not correct
