"""CompositionTask: layout, ground truth, seeded splits, validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algolens.errors import ConfigError, SpecError
from algolens.groups import parse_group
from algolens.tasks import CompositionTask, Task, random_split


@pytest.mark.parametrize("spec", ["C5", "S3", "D4", "Q8", "S3xC2"])
@pytest.mark.parametrize("fmt", ["mlp", "transformer"])
def test_targets_are_the_cayley_table(spec: str, fmt: str) -> None:
    task = CompositionTask(spec, 0.5, fmt)
    table = parse_group(spec).table
    n = table.shape[0]
    a, b = task.inputs[:, 0].numpy(), task.inputs[:, 1].numpy()
    assert len(task) == n * n
    np.testing.assert_array_equal(task.targets.numpy(), table[a, b])
    # every ordered pair exactly once, row a·n + b
    np.testing.assert_array_equal(a * n + b, np.arange(n * n))


def test_formats() -> None:
    mlp = CompositionTask("S3", 0.5, "mlp")
    tf = CompositionTask("S3", 0.5, "transformer")
    assert (mlp.n_vocab, mlp.n_vocab_in, mlp.seq_len, mlp.eq_token) == (6, 6, 2, None)
    assert (tf.n_vocab, tf.n_vocab_in, tf.seq_len, tf.eq_token) == (6, 7, 3, 6)
    assert mlp.inputs.dtype == tf.inputs.dtype == mlp.targets.dtype == torch.int64
    assert (tf.inputs[:, 2] == 6).all()
    assert torch.equal(tf.inputs[:, :2], mlp.inputs)
    assert isinstance(mlp, Task) and isinstance(tf, Task)


def test_accepts_a_group_object() -> None:
    task = CompositionTask(parse_group("D3"), 0.3, "mlp")
    assert task.group_spec == "D3" and task.n_vocab == 6


@pytest.mark.parametrize(("spec", "frac"), [("S4", 0.3), ("C7", 0.5), ("S5", 0.4), ("D5", 0.95)])
def test_split_sizes_equal_for_every_seed_disjoint_and_covering(spec: str, frac: float) -> None:
    task = CompositionTask(spec, frac, "transformer")
    n = len(task)
    assert task.n_train == round(frac * n) and task.n_train + task.n_test == n
    for seed in range(5):
        train, test = task.split(seed)
        assert train.dtype == test.dtype == torch.int64
        assert len(train) == task.n_train and len(test) == task.n_test
        both = torch.cat([train, test])
        assert torch.equal(both.sort().values, torch.arange(n))  # disjoint and covering
        assert torch.equal(train, train.sort().values)


def test_split_is_a_pure_function_of_the_seed() -> None:
    task = CompositionTask("S4", 0.3, "mlp")
    a0, b0 = task.split(1)
    a1, b1 = task.split(1)
    a2, _ = task.split(2)
    assert torch.equal(a0, a1) and torch.equal(b0, b1)
    assert not torch.equal(a0, a2)
    # drawn from torch.Generator().manual_seed(seed), independent of global RNG state
    torch.manual_seed(123)
    assert torch.equal(task.split(1)[0], a0)
    expected = torch.randperm(len(task), generator=torch.Generator().manual_seed(1))
    assert torch.equal(a0, expected[: task.n_train].sort().values)


def test_splits_stack_for_k_seeds() -> None:
    task = CompositionTask("S4", 0.3, "mlp")
    train, test = task.splits([3, 4, 5])
    assert train.shape == (3, task.n_train) and test.shape == (3, task.n_test)
    assert torch.equal(train[1], task.split(4)[0])


def test_random_split_edge_sizes() -> None:
    tr, te = random_split(5, 0, seed=0)
    assert len(tr) == 0 and len(te) == 5


@pytest.mark.parametrize("frac", [0.0, 1.0, -0.1, 1.5, "0.3", True, None, float("nan")])
def test_bad_train_frac_is_a_one_line_config_error(frac: object) -> None:
    with pytest.raises(ConfigError) as info:
        CompositionTask("S3", frac, "mlp")  # type: ignore[arg-type]
    msg = str(info.value)
    assert "\n" not in msg and "train_frac" in msg


def test_train_frac_leaving_an_empty_split() -> None:
    with pytest.raises(ConfigError, match="empty split"):
        CompositionTask("C2", 0.1, "mlp")  # round(0.4) = 0 train rows


def test_bad_format_and_bad_spec() -> None:
    with pytest.raises(ConfigError, match="format"):
        CompositionTask("S3", 0.5, "rnn")  # type: ignore[arg-type]
    with pytest.raises(SpecError):
        CompositionTask("Z9", 0.5, "mlp")
