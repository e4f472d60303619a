"""Mixed precision in the fused MLP pass (``matmul_dtype="bfloat16"``): the three unembedding
matmuls in bfloat16, checked against autograd through explicit bfloat16 casts."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from algolens.errors import ConfigError
from algolens.models.mlp import MLP, MLPConfig
from algolens.models.mlp_fused import flat_ids, loss_and_grads
from tests.train.conftest import composition_trainer, tiny_config

N, K, BATCH = 23, 2, 150


def _model() -> MLP:
    model = MLP(MLPConfig(d_vocab=N, d_embed=16, d_mlp=48, n_inst=K))
    model.init_weights([7, 8])
    return model


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    return torch.randint(0, N, (K, BATCH, 2), generator=gen), torch.randint(
        0, N, (K, BATCH), generator=gen
    )


def _bf16_autograd(model: MLP, tokens: torch.Tensor, targets: torch.Tensor):
    """The same network with ``post`` and ``W_U`` cast to bfloat16 for the logits and the
    logits cast back: autograd then runs both backward matmuls in bfloat16 as well."""
    w_a, w_b = model.folded_weights()  # [inst, n, hid]
    pre = torch.stack([w_a[i, tokens[i, :, 0]] + w_b[i, tokens[i, :, 1]] for i in range(K)])
    post = F.relu(pre)  # [inst, batch, hid]
    logits = torch.bmm(post.to(torch.bfloat16), model.W_U.to(torch.bfloat16)).float()
    losses = torch.stack([F.cross_entropy(logits[i], targets[i]) for i in range(K)])
    losses.sum().backward()
    return losses.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


def _fused(model: MLP, tokens, targets, matmul_dtype):
    model.zero_grad()
    loss = loss_and_grads(
        model, flat_ids(tokens[..., 0], N), flat_ids(tokens[..., 1], N), targets,
        torch.ones(K, dtype=torch.bool), torch.float32, matmul_dtype=matmul_dtype,
    )  # fmt: skip
    return loss, {n: p.grad.clone() for n, p in model.named_parameters()}


def test_bf16_matmuls_give_autograd_through_bf16_casts():
    model = _model()
    tokens, targets = _data()
    ref_loss, ref = _bf16_autograd(model, tokens, targets)
    loss, got = _fused(model, tokens, targets, torch.bfloat16)
    torch.testing.assert_close(loss, ref_loss, rtol=1e-3, atol=0)
    _, exact = _fused(model, tokens, targets, None)
    for name, g in got.items():
        assert g.dtype == torch.float32, name
        scale = ref[name].abs().max()
        # one bfloat16 rounding of a product may differ between two kernels: ~2^-8 relative
        torch.testing.assert_close(g, ref[name], rtol=0, atol=2e-2 * scale, msg=name)
        # and it really is bfloat16: the float32 pass differs by far more than float32 rounding
        assert (exact[name] - g).abs().max() > 1e-4 * scale, name


def test_float32_matmul_dtype_is_the_exact_pass():
    model = _model()
    tokens, targets = _data()
    loss, got = _fused(model, tokens, targets, torch.float32)
    loss0, want = _fused(model, tokens, targets, None)
    assert torch.equal(loss, loss0)
    for name in want:
        assert torch.equal(got[name], want[name]), name


def test_trainer_uses_the_configured_matmul_dtype():
    args = {"d_embed": 16, "d_mlp": 16}
    exact = composition_trainer(tiny_config(model_args=args))
    low = composition_trainer(tiny_config(model_args={**args, "matmul_dtype": "bfloat16"}))
    assert exact.model.fused_matmul_dtype is None
    assert all(
        m.fused_matmul_dtype is torch.bfloat16 for m in [low.model, *(m for _, m in low.chunks)]
    )
    for t in (exact, low):
        for _ in range(3):
            t.train_epoch()
    a, b = exact.model.W_U.detach(), low.model.W_U.detach()
    assert not torch.equal(a, b)
    torch.testing.assert_close(a, b, rtol=0, atol=0.05 * a.abs().max())


def test_unknown_matmul_dtype_is_refused():
    with pytest.raises(ConfigError, match="matmul_dtype must be one of"):
        MLPConfig(d_vocab=5, matmul_dtype="float16")
