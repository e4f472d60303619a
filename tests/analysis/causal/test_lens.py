"""Logit lens and tuned lens on a transformer whose blocks are known affine maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algolens.analysis.causal import Examples, fit_tuned_lens, lens_curve
from algolens.errors import ConfigError
from algolens.models.transformer import Transformer, TransformerConfig

V, T, D, L = 12, 5, 8, 3


def affine_model(seed: int = 0) -> tuple[Transformer, list[torch.Tensor], list[torch.Tensor]]:
    """Attention off (W_O = 0); block l's MLP computes ``x·M_l + c_l`` exactly, as
    ``relu(x·M) − relu(−x·M)`` with ``W_in = [M, −M]``, ``W_out = [I; −I]``, ``b_out = c``."""
    g = torch.Generator().manual_seed(seed)
    cfg = TransformerConfig(
        d_vocab=V, d_vocab_out=V, n_ctx=T, n_layers=L, n_heads=1, d_model=D, d_head=2,
        d_mlp=2 * D, bias="trainable", dtype="float64",
    )  # fmt: skip
    model = Transformer(cfg)
    ms = [0.4 * torch.randn(D, D, generator=g, dtype=torch.float64) / D**0.5 for _ in range(L)]
    cs = [0.5 * torch.randn(D, generator=g, dtype=torch.float64) for _ in range(L)]
    eye = torch.eye(D, dtype=torch.float64)
    with torch.no_grad():
        for i, blk in enumerate(model.blocks):
            blk.attn.W_O.zero_()
            blk.mlp.W_in[0] = torch.cat([ms[i], -ms[i]], 1)
            blk.mlp.W_out[0] = torch.cat([eye, -eye], 0)
            blk.mlp.b_out[0] = cs[i]
    return model.eval(), ms, cs


def examples(model: Transformer, n: int, seed: int, high: int = V) -> Examples:
    tokens = torch.as_tensor(np.random.default_rng(seed).integers(0, high, size=(n, T)))
    with torch.no_grad():
        targets = model(tokens).argmax(-1)  # the model's own answers
    return Examples(tokens, targets, torch.ones(n, T, dtype=torch.bool))


def test_tuned_lens_recovers_the_remaining_affine_maps() -> None:
    model, ms, cs = affine_model()
    lens = fit_tuned_lens(model, examples(model, 200, seed=0), kl_steps=0)
    eye = torch.eye(D, dtype=torch.float64)
    for layer in range(L + 1):  # the rest of the network from layer l is h·W + b
        w, b = eye.clone(), torch.zeros(D, dtype=torch.float64)
        for j in range(layer, L):
            w, b = w @ (eye + ms[j]), b @ (eye + ms[j]) + cs[j]
        torch.testing.assert_close(lens.weight[layer], w, atol=1e-6, rtol=0)
        torch.testing.assert_close(lens.bias[layer], b, atol=1e-6, rtol=0)
    test = examples(model, 100, seed=1)
    tuned = lens_curve(model, test, lens)
    assert max(tuned.kl) < 1e-8 and min(tuned.agreement) == 1.0 and min(tuned.accuracy) == 1.0
    logit = lens_curve(model, test)  # the untuned stream is not yet in the final basis
    assert logit.kl[0] > 0.01 and logit.kl[-1] < 1e-12 and logit.agreement[-1] == 1.0


def test_kl_refinement_never_ends_worse_than_least_squares() -> None:
    model, _, _ = affine_model(seed=1)
    fit, test = examples(model, 100, seed=0), examples(model, 100, seed=1)
    refined = lens_curve(model, test, fit_tuned_lens(model, fit, kl_steps=20))
    assert max(refined.kl) < 1e-6
    with pytest.raises(ConfigError, match="kl_steps"):
        fit_tuned_lens(model, fit, kl_steps=-1)


def test_float32_rounding_directions_do_not_blow_up_the_tuned_lens() -> None:
    # the layer-0 stream W_E[t] + W_pos[p] spans at most V + T of d_model = 64 directions, up to
    # float32 rounding; the final stream is not a function of (t, p) alone, and the least-squares
    # fit must not explain the rest by the rounding noise of the fit rows' (t, p) pairs (held-out
    # rows with other tokens then land on those directions with weights ~1e7)
    cfg = TransformerConfig(
        d_vocab=V, d_vocab_out=V, n_ctx=T, n_layers=2, n_heads=2, d_model=64, d_head=8, d_mlp=64
    )
    model = Transformer(cfg).eval()
    fit = examples(model, 40, seed=0, high=V // 2)  # tokens 0..5 only
    test = examples(model, 200, seed=1)
    tuned = lens_curve(model, test, fit_tuned_lens(model, fit, kl_steps=0))
    logit = lens_curve(model, test)
    assert tuned.kl[0] < max(1.0, 3 * logit.kl[0])
