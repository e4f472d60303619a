"""Attention knockout cuts exactly the hand-built heads' edges."""

from __future__ import annotations

import math

import pytest

from algolens.analysis.causal import knockout, knockout_grid
from algolens.errors import ConfigError
from tests.analysis.causal.handbuilt import T, V, chain_model, copy_examples, copy_model


def _harmful(grid) -> set[tuple[int, int, int]]:
    """(layer, head, key) of every knockout that raises the loss by more than 1 nat."""
    return {
        (e.layer, e.head, e.key)
        for layer in grid
        for head in layer
        for e in head
        if e.loss_increase > 1.0
    }


def test_copy_model_only_the_copy_edge_matters() -> None:
    model, ex = copy_model(p=2, head=1), copy_examples(100, 2, seed=0)
    grid = knockout_grid(model, ex, query=T - 1, keys=range(T))
    assert _harmful(grid) == {(0, 1, 2)}
    cut = grid[0][1][2]
    assert cut.accuracy == 1.0 and cut.knocked_accuracy < 0.5
    assert abs(grid[0][0][4].loss_increase) < 1e-9  # the distractor head's edge is harmless


def test_chain_model_both_edges_matter() -> None:
    model, ex = chain_model(a=1, p=3), copy_examples(100, 1, seed=0)
    assert _harmful(knockout_grid(model, ex, query=T - 1, keys=range(T))) == {(1, 1, 3)}
    assert _harmful(knockout_grid(model, ex, query=3, keys=range(4))) == {(0, 0, 1)}


def test_mean_knockout_replaces_the_weight_by_its_mean() -> None:
    # the copy head's weight on its key is ≈ 1 on every input: mean knockout changes nothing
    model, ex = copy_model(p=2, head=1), copy_examples(50, 2, seed=0)
    assert knockout(model, ex, 0, 1, T - 1, 2, mode="mean").loss_increase < 1e-6
    zero = knockout(model, ex, 0, 1, T - 1, 2, mode="zero")
    assert zero.knocked_loss > math.log(V - 1)  # worse than a uniform guess over the tokens


def test_bad_knockouts_raise_config_errors() -> None:
    model, ex = copy_model(), copy_examples(4, 2, seed=0)
    with pytest.raises(ConfigError, match="layer.*head.*mode"):
        knockout(model, ex, 3, 5, T - 1, 0, mode="half")
    with pytest.raises(ConfigError, match="causal"):
        knockout(model, ex, 0, 0, 1, 3)
