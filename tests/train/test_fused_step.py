"""The trainer's fused MLP step agrees with its autograd step (used while a hook is attached)."""

from __future__ import annotations

import torch

from algolens.models.mlp_fused import fused_ok
from tests.train.conftest import composition_trainer, tiny_config


def test_fused_step_matches_autograd_step():
    cfg = tiny_config(model_args={"d_embed": 16, "d_mlp": 16, "dtype": "float64"},
                      loss_dtype="float64", epochs=5)  # fmt: skip
    fused, hooked = composition_trainer(cfg), composition_trainer(cfg)
    hooked.model.mlp.hook_post.add_hook(lambda x, hook: x, is_permanent=True)  # forces autograd
    assert fused_ok(fused.model) and not fused_ok(hooked.model)
    for _ in range(5):
        lf, lh = fused.train_epoch(), hooked.train_epoch()
        torch.testing.assert_close(lf, lh, rtol=1e-10, atol=1e-12)
    for n, p in fused.params.items():
        torch.testing.assert_close(p, hooked.params[n], rtol=1e-9, atol=1e-11, msg=n)


def test_the_trainer_asks_the_model_for_its_fused_pass(monkeypatch):
    """The fused pass is a capability the model declares (``has_fused_pass``), not a branch of
    the trainer: an MLP that declares none trains by autograd, and any model that declares one
    is stepped through its own ``fused_loss_and_grads``."""
    from algolens.models.mlp import MLP

    cfg = tiny_config(model_args={"d_embed": 16, "d_mlp": 16}, seeds=[0, 1, 2])
    calls: list[int] = []
    real = MLP.fused_loss_and_grads

    def counted(self, batch, *args, **kwargs):
        calls.append(self.cfg.n_inst)
        return real(self, batch, *args, **kwargs)

    monkeypatch.setattr(MLP, "fused_loss_and_grads", counted)
    trainer = composition_trainer(cfg, instance_chunk=2, workers=1)
    trainer.train_epoch()
    assert sorted(calls) == [1, 2]  # one call per instance chunk, on the chunk's own model
    monkeypatch.setattr(MLP, "has_fused_pass", lambda self: False)
    calls.clear()
    declined = composition_trainer(cfg, instance_chunk=2, workers=1)
    losses = declined.train_epoch()
    assert calls == [] and bool(losses.isfinite().all())
    assert not fused_ok(declined.model)
