"""Linear probes: the hand-built copy models' information flow, the control task, selectivity."""

from __future__ import annotations

import numpy as np
import pytest

from algolens.analysis.causal.probes import control_labels, probe_grid, probe_score
from algolens.errors import ConfigError
from tests.analysis.causal.handbuilt import T, V, chain_model, copy_examples, copy_model
from tests.models.conftest import _one_thread  # noqa: F401  (autouse: one torch thread)

CHANCE = 0.35  # macro-F1 well below any decodable label (5 balanced classes: 1/5 at random)


def test_probe_score_on_a_linear_and_a_random_label() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 8))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    assert probe_score(x[:300], y[:300], x[300:], y[300:]).f1 > 0.95
    noise = rng.integers(0, 3, size=600)
    assert probe_score(x[:300], noise[:300], x[300:], noise[300:]).f1 < 0.45
    one = probe_score(x[:10], np.zeros(10), x[10:20], np.zeros(10))  # one class: predicted
    assert one.accuracy == 1.0
    with pytest.raises(ConfigError, match="matching"):
        probe_score(x[:10], y[:9], x[10:20], y[10:20])


def test_copy_model_probe_finds_the_copied_token_after_the_head() -> None:
    model = copy_model(p=2, head=1)
    fit, test = copy_examples(300, 2, seed=0), copy_examples(300, 2, seed=1)
    grid = probe_grid(model, fit, test, "tok2", [2, T - 1])  # layers 0 (embed) and 1
    f1 = np.array(grid.f1)  # [layer, position]
    assert f1[0, 1] < CHANCE  # the last position holds "=" only before the head
    assert f1[1, 1] > 0.99  # the head moved the token there
    assert f1[:, 0].min() > 0.99  # at its own position, always
    # the last position always holds "=": its control task is constant, hence undefined
    assert [row[1] for row in grid.control_f1] == [None, None]
    assert [row[1] for row in grid.selectivity] == [None, None]
    # token identity at position 2 is in the stream: the control labels decode too
    assert min(row[0] for row in grid.control_f1) > 0.99
    assert max(abs(row[0]) for row in grid.selectivity) < 0.01
    assert grid.best() == (0, 2, pytest.approx(f1[0, 0]))
    unused = np.array(probe_grid(model, fit, test, "tok3", [T - 1], control=False).f1)
    assert unused.max() < CHANCE  # nobody copies position 3


def test_chain_model_probes_follow_the_moved_token() -> None:
    model = chain_model(a=1, p=3)
    fit, test = copy_examples(300, 1, seed=0), copy_examples(300, 1, seed=1)
    grid = probe_grid(model, fit, test, "tok1", [3, T - 1])
    f1 = np.array(grid.f1)  # [layer, position]
    assert f1[0, 0] < CHANCE and f1[1:, 0].min() > 0.99  # at p from layer 1 on
    assert f1[:2, 1].max() < CHANCE and f1[2, 1] > 0.99  # at the answer after layer 1
    # at p = 3 before layer 0 the probe fails but the control (identity of token 3) succeeds
    assert grid.control_f1[0][0] > 0.99 and grid.selectivity[0][0] < -0.6


def test_per_position_features_and_control_labels() -> None:
    model = copy_model()
    fit, test = copy_examples(200, 2, seed=0), copy_examples(200, 2, seed=1)
    grid = probe_grid(model, fit, test, "token", [0, 3], layers=[0])  # the token where it is
    assert min(grid.f1[0]) > 0.99
    table = control_labels(np.array([0, 1, 1]), np.array([7, 7, 9]), n_vocab=V, seed=0)
    assert table.shape == (V,) and set(table) <= {7, 9}
