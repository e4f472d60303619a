"""Examples (inputs, features, positions), residual collection and the patching metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algolens.analysis.causal import (
    Examples,
    logit_diff_metric,
    patch,
    resid_at,
    resid_at_positions,
    resid_hook,
)
from algolens.errors import ConfigError
from algolens.models.transformer import Transformer, TransformerConfig
from tests.analysis.causal.handbuilt import T, blocks, copy_examples, copy_model


def test_bad_examples_are_config_errors_naming_the_problem() -> None:
    tokens = torch.zeros(4, 3, dtype=torch.long)
    with pytest.raises(ConfigError, match="targets must have the tokens' shape"):
        Examples(tokens, tokens[:, :2], torch.ones(4, 3, dtype=torch.bool))
    with pytest.raises(ConfigError, match="feature 'f' must be"):
        Examples(tokens, tokens, tokens.bool(), {"f": np.zeros(5)})
    ex = Examples(tokens, tokens, tokens.bool(), {"at": np.array([0, 1, 2, 3])})
    with pytest.raises(ConfigError, match="unknown feature 'g'; known features: at"):
        ex.feature("g")
    with pytest.raises(ConfigError, match="outside 0..2"):
        ex.positions("at")  # row 3's position is 3
    with pytest.raises(ConfigError, match="outside 0..2"):
        ex.positions(-4)
    assert ex.positions(-1).tolist() == [2, 2, 2, 2]
    with pytest.raises(ConfigError, match="single-instance"):
        resid_at(Transformer(TransformerConfig(d_vocab=3, d_vocab_out=3, n_inst=2)), ex, [0], 0)


def test_residual_layers_are_the_hooks_and_positions_are_per_row() -> None:
    model, ex = copy_model(p=2, head=1), copy_examples(5, 2, seed=0)
    assert resid_hook(model, 0) == "blocks.0.hook_resid_pre"
    assert resid_hook(model, 1) == "blocks.0.hook_resid_post"
    with pytest.raises(ConfigError, match="layer must lie in 0..1"):
        resid_hook(model, 2)
    ex = Examples(ex.tokens, ex.targets, ex.mask, {**ex.features, "p": np.arange(5) % T})
    got = resid_at_positions(model, ex, [0, 1], [2, "p"])  # [layer, position, N, d_model]
    _, cache = model.run_with_cache(ex.tokens)
    for i, name in enumerate(["blocks.0.hook_resid_pre", "blocks.0.hook_resid_post"]):
        torch.testing.assert_close(got[i, 0], cache[name][:, 2])
        torch.testing.assert_close(got[i, 1], cache[name][torch.arange(5), torch.arange(5) % T])
    # after the copy head the last position holds token 2 in the answer block
    out = blocks()["out"]
    last = resid_at(model, ex, [1], T - 1)[0, :, out].argmax(-1)
    assert last.tolist() == ex.tokens[:, 2].tolist()


def test_logit_difference_metric_finds_the_copy_head() -> None:
    model = copy_model(p=2, head=1)
    clean, corrupt = copy_examples(64, 2, seed=1), copy_examples(64, 2, seed=2)
    keep = torch.as_tensor((clean.tokens[:, 2] != corrupt.tokens[:, 2]).numpy())
    c, k = clean.tokens[keep], corrupt.tokens[keep]
    last = torch.full((len(c),), T - 1)
    metric = logit_diff_metric(last, c[:, 2], k[:, 2])  # clean answer minus corrupted answer
    logits = model(c)
    by_hand = (logits[:, -1].gather(1, c[:, 2:3]) - logits[:, -1].gather(1, k[:, 2:3])).mean()
    torch.testing.assert_close(metric(logits), by_hand)
    res = patch(model, c, k, metric, "heads")
    assert res.clean > 0 > res.corrupted
    assert res.argmax() == (0, 1) and res.effect[0][1] == pytest.approx(1.0, abs=1e-6)
