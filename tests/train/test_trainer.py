"""The batched trainer: reduction, instance independence, failure isolation, determinism."""

from __future__ import annotations

import pytest
import torch

from algolens.train.trainer import Trainer
from tests.train.conftest import assert_tensors_equal, tiny_config


def _train(cfg, epochs: int) -> Trainer:
    trainer = Trainer(cfg)
    for _ in range(epochs):
        trainer.train_epoch()
    return trainer


def _instance(tensors: dict[str, torch.Tensor], k: int) -> dict[str, torch.Tensor]:
    return {n: t[k : k + 1] for n, t in tensors.items() if n.startswith(("model.", "optim.e"))}


def test_loss_is_sum_over_instances_of_mean_cross_entropy():
    trainer = Trainer(tiny_config())
    rows = trainer.train_idx
    losses = trainer.instance_losses(rows)  # [inst]
    for k in range(3):
        logits = trainer.model.instance(k)(trainer.inputs[rows[k]])  # [batch, d_vocab]
        ref = torch.nn.functional.cross_entropy(logits, trainer.targets[rows[k]])  # mean
        torch.testing.assert_close(losses[k], ref, rtol=1e-6, atol=1e-7)


def test_gradient_of_one_instance_ignores_the_others():
    trainer = Trainer(tiny_config())
    params = trainer.params

    def grads() -> dict[str, torch.Tensor]:
        trainer.optim.zero_grad()
        trainer.instance_losses(trainer.train_idx).sum().backward()
        return {n: p.grad[0].clone() for n, p in params.items()}

    before = grads()
    with torch.no_grad():
        for p in params.values():
            p[1:].mul_(3.0).add_(0.5)  # change every other instance
    after = grads()
    assert_tensors_equal(before, after)


TINY_TRANSFORMER = {"d_model": 16, "n_heads": 2, "d_head": 8, "d_mlp": 32}


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_k_seeds_together_equal_each_seed_alone(kind):
    """Bitwise: every op is per instance (bmm slices, embedding gathers, elementwise AdamW)."""
    extra = {"model": "transformer", "model_args": TINY_TRANSFORMER} if kind != "mlp" else {}
    cfg = tiny_config(seeds=[4, 5, 6], epochs=30, **extra)
    together = _train(cfg, 30).state_tensors()
    for k, seed in enumerate(cfg.seeds):
        alone = _train(tiny_config(seeds=[seed], epochs=30, **extra), 30).state_tensors()
        assert_tensors_equal(_instance(together, k), _instance(alone, 0))


def test_same_config_same_bits():
    cfg = tiny_config(batch_size=7, grokfast_alpha=0.9, grokfast_lamb=1.0)
    assert_tensors_equal(_train(cfg, 15).state_tensors(), _train(cfg, 15).state_tensors())


def test_nan_in_one_instance_is_isolated():
    cfg = tiny_config(epochs=20)
    clean = _train(cfg, 20)
    poisoned = _train(cfg, 5)
    with torch.no_grad():
        poisoned.model.W_U[1, 0, 0] = float("nan")
    frozen = {n: p[1].clone() for n, p in poisoned.params.items()}
    for _ in range(15):
        poisoned.train_epoch()
    assert poisoned.alive.tolist() == [True, False, True]
    for n, p in poisoned.params.items():  # instance 1 untouched since the NaN appeared
        assert torch.equal(p[1], frozen[n]) or torch.equal(p[1].isnan(), frozen[n].isnan()), n
    a, b = clean.state_tensors(), poisoned.state_tensors()
    for k in (0, 2):  # the others trained exactly as without the NaN
        assert_tensors_equal(_instance(a, k), _instance(b, k))


def test_inf_gradient_marks_failure():
    trainer = _train(tiny_config(), 2)
    with torch.no_grad():
        trainer.model.W_E_left[2].fill_(1e38)
    trainer.train_epoch()
    assert trainer.alive.tolist() == [True, True, False]


def test_restored_state_continues_identically_with_minibatches_and_filter():
    cfg = tiny_config(batch_size=5, grokfast_alpha=0.8, grokfast_lamb=2.0, schedule="cosine",
                      warmup_epochs=3, epochs=20)  # fmt: skip
    straight = _train(cfg, 20).state_tensors()
    first = _train(cfg, 8)
    second = Trainer(cfg)
    second.load_state_tensors(first.state_tensors(), first.epoch)
    for _ in range(12):
        second.train_epoch()
    assert_tensors_equal(straight, second.state_tensors())


def test_grok_epoch_is_first_evaluated_epoch_over_threshold():
    trainer = Trainer(tiny_config(grok_threshold=0.2))
    result = trainer.evaluate()
    assert result.test_acc.shape == (3,) and result.train_loss.dtype == torch.float32
    for k in range(3):
        expected = 0 if result.test_acc[k] >= 0.2 else -1
        assert int(trainer.grok_epoch[k]) == expected


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_instance_chunks_change_nothing(kind):
    """Training chunk by chunk (views of the full parameters) is bitwise one batched pass."""
    extra = {"model": "transformer", "model_args": TINY_TRANSFORMER} if kind != "mlp" else {}
    cfg = tiny_config(seeds=[0, 1, 2, 3, 4], batch_size=6, **extra)
    runs = []
    for chunk in (5, 2, 1):
        trainer = Trainer(cfg, instance_chunk=chunk)
        assert len(trainer.chunks) == -(-5 // chunk)
        for _ in range(12):
            trainer.train_epoch()
        runs.append(trainer.state_tensors())
    assert_tensors_equal(runs[0], runs[1])
    assert_tensors_equal(runs[0], runs[2])


def test_nan_isolated_with_chunks():
    cfg = tiny_config(seeds=[0, 1, 2, 3])
    clean = Trainer(cfg, instance_chunk=1)
    poisoned = Trainer(cfg, instance_chunk=2)
    for t in (clean, poisoned):
        t.train_epoch()
    with torch.no_grad():
        poisoned.model.W_U[2, 0, 0] = float("inf")
    for t in (clean, poisoned):
        for _ in range(5):
            t.train_epoch()
    assert poisoned.alive.tolist() == [True, True, False, True]
    a, b = clean.state_tensors(), poisoned.state_tensors()
    for k in (0, 1, 3):
        assert_tensors_equal(_instance(a, k), _instance(b, k))


def test_run_stops_when_every_instance_failed(tmp_path):
    from algolens.store import RunStore
    from algolens.train.run import start_run

    cfg = tiny_config(lr=1e30, epochs=200, seeds=[0, 1])  # diverges at once
    summary = start_run(cfg, RunStore(tmp_path))
    assert summary["n_failed"] == 2 and summary["epochs"] < 200 and summary["stopped_early"]
