"""Activation patching finds exactly the hand-built heads and positions."""

from __future__ import annotations

import pytest
import torch

from algolens.analysis.causal import loss_metric, patch
from algolens.errors import ConfigError
from tests.analysis.causal.handbuilt import T, chain_model, copy_examples, copy_model


def _pair(source: int):
    clean, corrupt = copy_examples(64, source, seed=1), copy_examples(64, source, seed=2)
    keep = (clean.tokens[:, source] != corrupt.tokens[:, source]).numpy()  # answer differs
    return clean.subset(keep.nonzero()[0]), corrupt.subset(keep.nonzero()[0])


def _only(effect: torch.Tensor, index: tuple[int, ...]) -> None:
    """``effect[index] ≈ 1`` and every other entry ≈ 0."""
    assert effect[index] == pytest.approx(1.0, abs=1e-6)
    rest = effect.clone()
    rest[index] = 0.0
    assert rest.abs().max() < 1e-6


def test_copy_model_patching_finds_the_head_and_the_source_position() -> None:
    model = copy_model(p=2, head=1)
    clean, corrupt = _pair(2)
    metric = loss_metric(clean)
    resid = patch(model, clean.tokens, corrupt.tokens, metric, "resid")
    assert resid.axes == ("layer", "pos") and resid.clean > resid.corrupted
    _only(resid.tensor(), (0, 2))  # only the token at position 2 matters
    _only(patch(model, clean.tokens, corrupt.tokens, metric, "heads").tensor(), (0, 1))
    by_pos = patch(model, clean.tokens, corrupt.tokens, metric, "heads_by_pos").tensor()
    _only(by_pos, (0, T - 1, 1))  # head 1's output at the last position


def test_chain_model_patching_follows_the_two_heads() -> None:
    model = chain_model(a=1, p=3)
    clean, corrupt = _pair(1)
    metric = loss_metric(clean)
    resid = patch(model, clean.tokens, corrupt.tokens, metric, "resid").tensor()  # [layer, pos]
    _only(resid[0:1], (0, 1))  # before layer 0: the token at a = 1
    _only(resid[1:2], (0, 3))  # before layer 1: the moved copy at p = 3, not a
    by_pos = patch(model, clean.tokens, corrupt.tokens, metric, "heads_by_pos").tensor()
    assert by_pos[0, 3, 0] == pytest.approx(1.0, abs=1e-6)  # layer 0 head 0 writes at p
    assert by_pos[1, T - 1, 1] == pytest.approx(1.0, abs=1e-6)  # layer 1 head 1 at the answer
    by_pos[0, 3, 0] = by_pos[1, T - 1, 1] = 0.0
    assert by_pos.abs().max() < 1e-6


def test_identical_runs_give_undefined_effects_and_shapes_must_match() -> None:
    model = copy_model()
    ex = copy_examples(8, 2, seed=0)
    res = patch(model, ex.tokens, ex.tokens, loss_metric(ex), "heads")
    assert res.effect == [[None, None]]
    with pytest.raises(ConfigError, match="one shape"):
        patch(model, ex.tokens, ex.tokens[:4], loss_metric(ex), "resid")
    with pytest.raises(ConfigError, match="kind"):
        patch(model, ex.tokens, ex.tokens, loss_metric(ex), "mlp")
