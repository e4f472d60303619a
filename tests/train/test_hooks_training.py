"""Hooks attached to ``trainer.model`` fire during training and evaluation, and act on it.

The trainer normally runs instance chunks (separate modules sharing the weights) and, for the
MLP, a fused pass with no hook points; with a hook attached it must run ``trainer.model`` itself.
"""

from __future__ import annotations

import math

import pytest
import torch

from algolens.models.hooks import has_hooks, model_has_hooks
from algolens.models.mlp_fused import fused_ok
from algolens.train.trainer import Trainer
from tests.train.conftest import TINY_MODEL, composition_trainer, tiny_config

TINY_TRANSFORMER = {"d_model": 16, "n_heads": 2, "d_head": 8, "d_mlp": 32}


def _trainer(kind: str = "mlp") -> Trainer:
    """Two seeds, one instance per chunk: more than one chunk, as for S5."""
    args = TINY_MODEL if kind == "mlp" else TINY_TRANSFORMER
    cfg = tiny_config(seeds=[0, 1], model=kind, model_args=dict(args))
    trainer = composition_trainer(cfg, instance_chunk=1)
    assert len(trainer.chunks) == 2
    return trainer


HOOK = {"mlp": "mlp.hook_post", "transformer": "blocks.0.mlp.hook_post"}


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_forward_hook_fires_in_train_epoch_and_evaluate(kind):
    trainer = _trainer(kind)
    shapes: list[tuple[int, ...]] = []

    def record(x: torch.Tensor, hook) -> None:
        shapes.append(tuple(x.shape))

    trainer.model.hook_dict[HOOK[kind]].add_hook(record)
    trainer.train_epoch()
    n_train = len(shapes)
    trainer.evaluate()
    assert n_train > 0 and len(shapes) > n_train
    assert all(s[0] == 2 for s in shapes)  # [inst, batch, ...] with every instance at once


def test_hook_changes_the_training():
    """Zeroing ``mlp.hook_post`` of a bias-free MLP makes every logit 0: each loss is log 5 (C5)
    and no gradient reaches any weight, so AdamW only decays: W_n = W_0 (1 - lr·wd)^n."""
    trainer = _trainer()
    plain = _trainer()
    w0 = {n: p.detach().clone() for n, p in trainer.params.items()}
    trainer.model.hook_dict["mlp.hook_post"].add_hook(lambda x, hook: torch.zeros_like(x))
    for _ in range(3):
        losses = trainer.train_epoch()
        torch.testing.assert_close(losses, torch.full((2,), math.log(5)), rtol=1e-6, atol=0)
    result = trainer.evaluate()
    torch.testing.assert_close(result.test_loss, torch.full((2,), math.log(5)))
    assert not torch.allclose(plain.train_epoch(), torch.full((2,), math.log(5)))
    cfg = trainer.config
    decay = (1 - cfg.lr * cfg.weight_decay) ** 3
    for name, p in trainer.params.items():
        torch.testing.assert_close(p.detach(), w0[name] * decay, rtol=1e-5, atol=1e-7)


def test_observing_hook_does_not_change_the_training():
    """A hook that returns nothing trains through autograd on the whole model; the result
    equals chunked fused training to float rounding."""
    hooked, plain = _trainer(), _trainer()
    hooked.model.hook_dict["mlp.hook_pre"].add_hook(lambda x, hook: None)
    for _ in range(5):
        torch.testing.assert_close(hooked.train_epoch(), plain.train_epoch())
    for name, p in hooked.params.items():
        torch.testing.assert_close(p, plain.params[name], rtol=1e-4, atol=1e-6)


def test_backward_hook_stops_the_fused_pass_and_fires():
    trainer = _trainer()
    grads: list[tuple[int, ...]] = []
    point = trainer.model.hook_dict["mlp.hook_post"]
    assert not has_hooks(point) and fused_ok(trainer.model)
    point.add_hook(lambda g, hook: grads.append(tuple(g.shape)), dir="bwd")
    assert has_hooks(point) and model_has_hooks(trainer.model)
    assert not fused_ok(trainer.model)
    trainer.train_epoch()
    n_train = trainer.train_idx.shape[1]
    assert grads == [(2, n_train, TINY_MODEL["d_mlp"])]


def test_hooks_are_seen_in_every_form():
    """Forward, forward-pre, backward and backward-pre hooks on any submodule count."""
    trainer = _trainer()
    model = trainer.model
    assert not model_has_hooks(model)
    for register in (
        lambda m: m.register_forward_hook(lambda *a: None),
        lambda m: m.register_forward_pre_hook(lambda *a: None),
        lambda m: m.register_full_backward_hook(lambda *a: None),
        lambda m: m.register_full_backward_pre_hook(lambda *a: None),
    ):
        for module in (model, model.mlp, model.hook_dict["hook_logits"]):
            handle = register(module)
            assert has_hooks(module) and model_has_hooks(model)
            handle.remove()
            assert not model_has_hooks(model)


def test_removing_the_hook_returns_to_the_chunks():
    trainer = _trainer()
    calls = []
    trainer.model.hook_dict["mlp.hook_post"].add_hook(lambda x, hook: calls.append(1))
    trainer.train_epoch()
    assert calls and not fused_ok(trainer.model)
    trainer.model.reset_hooks()
    n = len(calls)
    trainer.train_epoch()
    trainer.evaluate()
    assert len(calls) == n and fused_ok(trainer.model)
