"""The batched trainer: reduction, instance independence, failure isolation, determinism.

Bitwise checks compare runs whose kernel calls have the same shapes; runs of different shapes
(K seeds together against one alone, other chunk sizes) are compared in float64 to the tolerance
derived in conftest.py (docs/training.md, "Where bits are guaranteed").
"""

from __future__ import annotations

import json

import pytest
import torch

from algolens.models.mlp_fused import fused_ok
from algolens.train.config import make_config
from algolens.train.trainer import Trainer
from tests.train.conftest import (
    assert_tensors_close,
    assert_tensors_equal,
    composition_trainer,
    tiny_config,
)


def _train(cfg, epochs: int) -> Trainer:
    trainer = composition_trainer(cfg)
    for _ in range(epochs):
        trainer.train_epoch()
    return trainer


def _instance(tensors: dict[str, torch.Tensor], k: int) -> dict[str, torch.Tensor]:
    return {n: t[k : k + 1] for n, t in tensors.items() if n.startswith(("model.", "optim.e"))}


def test_loss_is_sum_over_instances_of_mean_cross_entropy():
    trainer = composition_trainer(tiny_config())
    rows = trainer.train_idx
    losses = trainer.instance_losses(rows)  # [inst]
    for k in range(3):
        logits = trainer.model.instance(k)(trainer.inputs[rows[k]])  # [batch, d_vocab]
        ref = torch.nn.functional.cross_entropy(logits, trainer.targets[rows[k]])  # mean
        torch.testing.assert_close(losses[k], ref, rtol=1e-6, atol=1e-7)


def test_gradient_of_one_instance_ignores_the_others():
    trainer = composition_trainer(tiny_config())
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


def _float64(kind: str) -> dict:
    """Config overrides: a float64 tiny model of ``kind`` with a float64 loss."""
    args = dict(TINY_TRANSFORMER) if kind == "transformer" else {"d_embed": 16, "d_mlp": 16}
    return {"model": kind, "model_args": {**args, "dtype": "float64"}, "loss_dtype": "float64"}


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_k_seeds_together_equal_each_seed_alone(kind):
    """To float64 rounding: a K-instance bmm may run another BLAS kernel than a 1-instance one."""
    cfg = tiny_config(seeds=[4, 5, 6], epochs=30, **_float64(kind))
    together = _train(cfg, 30).state_tensors()
    for k, seed in enumerate(cfg.seeds):
        alone = _train(tiny_config(seeds=[seed], epochs=30, **_float64(kind)), 30).state_tensors()
        assert_tensors_close(_instance(together, k), _instance(alone, 0))


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
        torch.testing.assert_close(p[1], frozen[n], rtol=0, atol=0, equal_nan=True, msg=n)
    a, b = clean.state_tensors(), poisoned.state_tensors()
    for k in (0, 2):  # the others trained exactly as without the NaN
        assert_tensors_equal(_instance(a, k), _instance(b, k))


def test_inf_loss_marks_failure():
    trainer = _train(tiny_config(), 2)
    with torch.no_grad():
        trainer.model.W_E_left[2].fill_(1e38)
    losses = trainer.train_epoch()
    assert not losses[2].isfinite() and losses[:2].isfinite().all()
    assert trainer.alive.tolist() == [True, True, False]


def _finite_loss_inf_gradient(model) -> None:
    """Set instance 2 of a tiny float32 MLP so that its loss is finite and its gradient is not.

    Tiny positive embeddings (1e-30) times W_in = 1 make small positive hidden units, and W_U
    holds +3e38 in column 0 and -3e38 elsewhere: the logits are about ±1e11 (finite; the loss
    about 2e11), every row with a target other than 0 has logit gradient e_0 - e_target, so each
    hidden unit's gradient is 6e38 / 15 rows = 4e37, a table row collects three of those, and
    d W_E = dW_a · W_inᵀ sums 16 of them: 2e39, beyond float32 (inf).
    """
    with torch.no_grad():
        model.W_E_left[2].fill_(1e-30)
        model.W_E_right[2].fill_(1e-30)
        model.mlp.W_in[2].fill_(1.0)
        model.W_U[2].fill_(-3e38)
        model.W_U[2, :, 0] = 3e38


@pytest.mark.parametrize("path", ["fused", "autograd"])
def test_finite_loss_with_inf_gradient_marks_failure(path):
    """The gradient check, not the loss check, must catch it; the others train on unchanged."""
    cfg = tiny_config(epochs=8)
    clean, faulty = _train(cfg, 2), _train(cfg, 2)
    if path == "autograd":  # a hook turns the fused pass off
        for t in (clean, faulty):
            t.model.mlp.hook_post.add_hook(lambda x, hook: x, is_permanent=True)
    assert fused_ok(faulty.model) == (path == "fused")
    _finite_loss_inf_gradient(faulty.model)
    losses = faulty.train_epoch()
    assert losses.isfinite().all()  # the loss of instance 2 is finite ...
    assert faulty.alive.tolist() == [True, True, False]  # ... yet it failed
    frozen = {n: p[2].clone() for n, p in faulty.params.items()}
    clean.train_epoch()
    for t in (clean, faulty):
        for _ in range(5):
            t.train_epoch()
    for n, p in faulty.params.items():
        assert p[2].isfinite().all() and torch.equal(p[2], frozen[n]), n
    a, b = clean.state_tensors(), faulty.state_tensors()
    for k in (0, 1):
        assert_tensors_equal(_instance(a, k), _instance(b, k))


def test_restored_state_continues_identically_with_minibatches_and_filter():
    cfg = tiny_config(batch_size=5, grokfast_alpha=0.8, grokfast_lamb=2.0, schedule="cosine",
                      warmup_epochs=3, epochs=20)  # fmt: skip
    straight = _train(cfg, 20).state_tensors()
    first = _train(cfg, 8)
    second = composition_trainer(cfg)
    second.load_state_tensors(first.state_tensors(), first.epoch)
    for _ in range(12):
        second.train_epoch()
    assert_tensors_equal(straight, second.state_tensors())


GROKKING_S4 = dict(group="S4", train_frac=0.8, model_args={"d_embed": 32, "d_mlp": 64},
                   lr=2e-2, weight_decay=3.0, beta2=0.995)  # fmt: skip


def _test_accuracy(trainer: Trainer, k: int) -> float:
    """Instance k's test accuracy by a plain forward of its standalone model (not evaluate())."""
    rows = trainer.test_idx[k]
    with torch.no_grad():
        logits = trainer.model.instance(k)(trainer.inputs[rows])  # [batch, d_vocab]
    return (logits.argmax(-1) == trainer.targets[rows]).double().mean().item()


def test_grok_epoch_is_first_evaluated_epoch_over_threshold():
    """S4 passes 50 % test accuracy within 500 epochs; the expected epochs are computed here."""
    threshold, every = 0.5, 10
    trainer = composition_trainer(tiny_config(grok_threshold=threshold, **GROKKING_S4))
    expected = [-1] * 3
    while trainer.epoch <= 500:
        if trainer.epoch % every == 0:
            result = trainer.evaluate()
            for k in range(3):
                acc = _test_accuracy(trainer, k)
                assert abs(result.test_acc[k].item() - acc) < 1e-6  # float32 mean
                if expected[k] < 0 and acc >= threshold:
                    expected[k] = trainer.epoch
        trainer.train_epoch()
    assert all(e > 0 for e in expected), expected  # each crossed during the run, not at init
    assert trainer.grok_epoch.tolist() == expected


def test_early_stop_needs_every_live_seed_over_the_threshold_now():
    """A seed that grokked and fell back below the threshold keeps the run going."""
    trainer = composition_trainer(tiny_config(grok_threshold=0.5, **GROKKING_S4))
    while not trainer.done():
        for _ in range(10):
            trainer.train_epoch()
        trainer.evaluate()
        assert trainer.epoch <= 600
    assert (trainer.grok_epoch >= 0).all()
    with torch.no_grad():
        trainer.model.W_U[1].zero_()  # instance 1 now predicts class 0 for every pair
    result = trainer.evaluate()
    assert result.test_acc[1] < 0.5 and trainer.grok_epoch[1] >= 0
    assert not trainer.done()


def test_fast_recipe_run_stops_at_the_first_evaluation_with_every_seed_over_the_threshold(
    tmp_path,
):
    """End to end through start_run: the fast recipe's threshold is 99.9 %, and the run neither
    stops while a live seed is below it nor runs past the first evaluation where none is."""
    from algolens.store import RunStore
    from algolens.train.run import start_run

    cfg = make_config("fast", seeds=[0, 1, 2], **GROKKING_S4)
    assert cfg.grok_threshold == 0.999 and cfg.early_stop
    summary = start_run(cfg, RunStore(tmp_path))
    rows = [json.loads(line) for line in (tmp_path / "runs" / summary["run_id"] /
                                          "metrics.jsonl").read_text().splitlines()]  # fmt: skip
    over = [all(a >= 0.999 for a in row["test_acc"]) for row in rows]
    assert summary["stopped_early"] and over[-1] and not any(over[:-1])
    assert rows[-1]["epoch"] == summary["epochs"] > 0
    assert all(seed["test_acc"] >= 0.999 for seed in summary["seeds"])


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_instance_chunks_change_nothing(kind):
    """Training chunk by chunk (views of the full parameters) is one batched pass, to float64
    rounding (chunks of other sizes are matmuls of other shapes)."""
    cfg = tiny_config(seeds=[0, 1, 2, 3, 4], batch_size=6, **_float64(kind))
    runs = []
    for chunk in (5, 2, 1):
        trainer = composition_trainer(cfg, instance_chunk=chunk)
        assert len(trainer.chunks) == -(-5 // chunk)
        for _ in range(12):
            trainer.train_epoch()
        runs.append(trainer.state_tensors())
    assert_tensors_close(runs[0], runs[1])
    assert_tensors_close(runs[0], runs[2])


def test_nan_isolated_with_chunks():
    cfg = tiny_config(seeds=[0, 1, 2, 3])
    clean = composition_trainer(cfg, instance_chunk=1)
    poisoned = composition_trainer(cfg, instance_chunk=2)
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
