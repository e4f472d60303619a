"""The fused MLP training pass gives autograd's losses and gradients (float64, tight tolerance)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from algolens.models import mlp_fused
from algolens.models.mlp import MLP, MLPConfig
from algolens.models.mlp_fused import (
    flat_ids,
    fused_ok,
    loss_and_grads,
    relu_backward_kernel,
    relu_backward_private_,
    relu_backward_reference_,
)


@pytest.fixture(autouse=True)
def _fresh_kernel_choice():
    """Each test probes the ReLU-backward op anew and leaves no choice behind."""
    relu_backward_kernel.cache_clear()
    yield
    relu_backward_kernel.cache_clear()


def _autograd(model: MLP, tokens, targets, alive, loss_dtype):
    k, b = targets.shape
    logits = model.answer_logits(tokens).to(loss_dtype)
    losses = F.cross_entropy(logits.reshape(k * b, -1), targets.reshape(-1), reduction="none")
    losses = losses.view(k, b).mean(1)
    ok = alive & losses.detach().isfinite()
    torch.where(ok, losses, torch.zeros_like(losses)).sum().backward()
    return losses.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


def _private_op_gone(*args, **kwargs):
    raise AttributeError("'_OpNamespace' 'aten' object has no attribute 'threshold_backward'")


@pytest.mark.parametrize("relu_op", ["private", "fallback"])
@pytest.mark.parametrize(
    "mode,bias,loss_dtype",
    [("concat", False, torch.float64), ("sum", True, torch.float64), ("concat", True, None)],
)
def test_fused_matches_autograd(mode, bias, loss_dtype, relu_op, monkeypatch):
    if relu_op == "fallback":
        monkeypatch.setattr(mlp_fused, "relu_backward_private_", _private_op_gone)
    want = relu_backward_private_ if relu_op == "private" else relu_backward_reference_
    assert relu_backward_kernel() is want
    dtype = "float64" if loss_dtype is not None else "float32"
    cfg = MLPConfig(d_vocab=7, d_embed=6, d_mlp=5, n_inst=3, embed_mode=mode, bias=bias,
                    dtype=dtype)  # fmt: skip
    model = MLP(cfg)
    model.init_weights([3, 4, 5])
    if bias:
        with torch.no_grad():
            model.mlp.b_in.normal_(generator=torch.Generator().manual_seed(0))
            model.b_U.normal_(generator=torch.Generator().manual_seed(1))
    gen = torch.Generator().manual_seed(2)
    tokens = torch.randint(0, 7, (3, 11, 2), generator=gen)
    targets = torch.randint(0, 7, (3, 11), generator=gen)
    alive = torch.tensor([True, False, True])
    ldt = loss_dtype or torch.float64  # float32 model with a float64 loss
    ref_loss, ref_grads = _autograd(model, tokens, targets, alive, ldt)
    model.zero_grad()
    loss = loss_and_grads(model, flat_ids(tokens[..., 0], 7), flat_ids(tokens[..., 1], 7),
                          targets, alive, ldt)  # fmt: skip
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == "float64" else dict(rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(loss, ref_loss, **tol)
    for name, p in model.named_parameters():
        assert p.grad.shape == p.shape and p.grad.dtype == p.dtype, name
        torch.testing.assert_close(p.grad, ref_grads[name], **tol)
        assert not p.grad[1].any(), name  # a dead instance gets no gradient


def test_fused_pass_only_without_hooks():
    model = MLP(MLPConfig(d_vocab=5, d_embed=4, d_mlp=3, n_inst=2))
    assert fused_ok(model)
    model.mlp.hook_post.add_hook(lambda x, hook: x)
    assert not fused_ok(model)
    model.reset_hooks()
    assert fused_ok(model)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_private_relu_backward_keeps_its_signature_and_math(dtype):
    """``aten.threshold_backward.grad_input`` as we call it: in place, zero where out <= 0."""
    gen = torch.Generator().manual_seed(0)
    out = torch.randn(4, 33, dtype=dtype, generator=gen).clamp_min(0.0)  # ReLU output: many zeros
    out[0, :3] = torch.tensor([1e-30, -0.0, float("nan")], dtype=dtype)
    grad = torch.randn(4, 33, dtype=dtype, generator=gen)
    want = torch.where(out > 0, grad, torch.zeros_like(grad))
    want[0, 2] = grad[0, 2]  # NaN output: the gradient passes (NaN <= 0 is false)
    got = grad.clone()
    assert relu_backward_private_(got, out).data_ptr() == got.data_ptr()  # in place
    assert torch.equal(got, want)
    fallback = grad.clone()
    relu_backward_reference_(fallback, out)
    assert torch.equal(fallback, want)
    assert relu_backward_kernel() is relu_backward_private_  # the pinned torch passes the probe
