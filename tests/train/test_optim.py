"""BatchedAdamW against torch.optim.AdamW; the private fused kernel and its public fallback."""

from __future__ import annotations

import pytest
import torch

from algolens.train import optim
from algolens.train.optim import BatchedAdamW, adamw_fused, adamw_kernel, adamw_reference

HYPER = dict(betas=(0.9, 0.98), eps=1e-8, weight_decay=0.7)
SHAPES = {"w": (3, 4, 5), "b": (3, 6)}  # [inst, ...]
KERNELS = {"fused": adamw_fused, "reference": adamw_reference}


@pytest.fixture(autouse=True)
def _fresh_kernel_choice():
    """Each test probes the kernel anew and leaves no choice behind for later tests."""
    adamw_kernel.cache_clear()
    yield
    adamw_kernel.cache_clear()


def _params(seed: int = 0) -> dict[str, torch.nn.Parameter]:
    gen = torch.Generator().manual_seed(seed)
    return {
        n: torch.nn.Parameter(torch.randn(s, dtype=torch.float64, generator=gen))
        for n, s in SHAPES.items()
    }


def _grads(steps: int) -> list[dict[str, torch.Tensor]]:
    gen = torch.Generator().manual_seed(1)
    return [
        {n: torch.randn(s, dtype=torch.float64, generator=gen) for n, s in SHAPES.items()}
        for _ in range(steps)
    ]


def _slice(tensors: dict[str, torch.Tensor], k: int) -> dict[str, torch.Tensor]:
    return {n: t[k] for n, t in tensors.items()}


def _run_batched(params, grads, lrs, alive_per_step, **kw) -> BatchedAdamW:
    opt = BatchedAdamW(params, **HYPER, **kw)
    for g, lr, alive in zip(grads, lrs, alive_per_step):
        for n, p in params.items():
            p.grad = g[n].clone()
        opt.step(lr, alive)
    return opt


def _torch_adamw(start: dict[str, torch.Tensor], grads, lrs) -> dict[str, torch.Tensor]:
    """One instance trained by torch.optim.AdamW (single-tensor, public implementation)."""
    params = {n: torch.nn.Parameter(t.clone()) for n, t in start.items()}
    ref = torch.optim.AdamW(list(params.values()), lr=lrs[0], **HYPER, foreach=False, fused=False)
    for g, lr in zip(grads, lrs):
        for group in ref.param_groups:
            group["lr"] = lr
        for n, p in params.items():
            p.grad = g[n].clone()
        ref.step()
    return {n: p.detach() for n, p in params.items()}


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_batched_adamw_is_torch_adamw_per_instance(kernel, monkeypatch):
    """Instance 1 dies after 3 of 6 steps: it must hold its 3-step weights and moments."""
    monkeypatch.setattr(optim, "adamw_kernel", lambda: KERNELS[kernel])
    params = _params()
    start = {n: p.detach().clone() for n, p in params.items()}
    grads, lrs = _grads(6), [0.05, 0.04, 0.03, 0.03, 0.02, 0.01]
    alive = [torch.tensor([True, True, True])] * 3 + [torch.tensor([True, False, True])] * 3
    opt = _run_batched(params, grads, lrs, alive)
    for k, steps in ((0, 6), (1, 3), (2, 6)):
        want = _torch_adamw(_slice(start, k), [_slice(g, k) for g in grads[:steps]], lrs[:steps])
        for n, p in params.items():
            torch.testing.assert_close(p.detach()[k], want[n], rtol=1e-12, atol=1e-14, msg=n)
    frozen = _run_batched(_params(), grads[:3], lrs[:3], alive[:3])
    for n in params:  # the dead instance's moments stopped with its weights
        assert torch.equal(opt.exp_avg[n][1], frozen.exp_avg[n][1]), n
        assert torch.equal(opt.exp_avg_sq[n][1], frozen.exp_avg_sq[n][1]), n


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_optimizer_alone_equals_together_bitwise(kernel, monkeypatch):
    """Elementwise on per-instance tensors: no BLAS, so bitwise holds by construction."""
    monkeypatch.setattr(optim, "adamw_kernel", lambda: KERNELS[kernel])
    grads, lrs = _grads(4), [0.05] * 4
    together = _params()
    _run_batched(together, grads, lrs, [torch.tensor([True] * 3)] * 4)
    for k in range(3):
        alone = {n: torch.nn.Parameter(p.detach()[k : k + 1].clone()) for n, p in _params().items()}
        one_grads = [{n: g[n][k : k + 1] for n in g} for g in grads]
        _run_batched(alone, one_grads, lrs, [torch.tensor([True])] * 4)
        for n in SHAPES:
            assert torch.equal(alone[n].detach()[0], together[n].detach()[k]), n


def test_grokfast_filter_feeds_the_filtered_gradient_to_adamw():
    """ema <- a·ema + (1-a)·g ; AdamW sees g + lamb·ema (checked against torch.optim.AdamW)."""
    alpha, lamb = 0.8, 2.0
    params = _params()
    start = {n: p.detach().clone() for n, p in params.items()}
    grads, lrs = _grads(5), [0.03] * 5
    _run_batched(params, grads, lrs, [torch.tensor([True] * 3)] * 5,
                 grokfast_alpha=alpha, grokfast_lamb=lamb)  # fmt: skip
    ema = {n: torch.zeros(s, dtype=torch.float64) for n, s in SHAPES.items()}
    filtered = []
    for g in grads:
        for n in g:
            ema[n] = alpha * ema[n] + (1 - alpha) * g[n]
        filtered.append({n: g[n] + lamb * ema[n] for n in g})
    for k in range(3):
        want = _torch_adamw(_slice(start, k), [_slice(f, k) for f in filtered], lrs)
        for n, p in params.items():
            torch.testing.assert_close(p.detach()[k], want[n], rtol=1e-12, atol=1e-14, msg=n)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_private_fused_kernel_keeps_its_signature_and_math(dtype):
    """``torch._fused_adamw_`` as we call it (a torch upgrade that changes it fails here)."""
    gen = torch.Generator().manual_seed(3)
    p, g, m = (torch.randn(2, 50, dtype=dtype, generator=gen) for _ in range(3))
    v = torch.rand(2, 50, dtype=dtype, generator=gen)
    a = [[t[i].clone() for i in range(2)] for t in (p, g, m, v)]
    b = [[t[i].clone() for i in range(2)] for t in (p, g, m, v)]
    hyper = dict(lr=0.02, beta1=0.9, beta2=0.995, weight_decay=3.0, eps=1e-8)
    for step in (1, 2, 7):
        adamw_fused(*a, step, **hyper)
        adamw_reference(*b, step, **hyper)
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == torch.float64 else dict(rtol=2e-6, atol=1e-7)
    for x, y in zip(a, b):
        for xi, yi in zip(x, y):
            torch.testing.assert_close(xi, yi, **tol)
    assert adamw_kernel() is adamw_fused  # the pinned torch passes the probe


def _fallback_matches_torch_adamw() -> None:
    params = _params()
    start = {n: p.detach().clone() for n, p in params.items()}
    grads, lrs = _grads(3), [0.05, 0.05, 0.05]
    _run_batched(params, grads, lrs, [torch.tensor([True] * 3)] * 3)
    want = _torch_adamw(_slice(start, 2), [_slice(g, 2) for g in grads], lrs)
    for n, p in params.items():
        torch.testing.assert_close(p.detach()[2], want[n], rtol=1e-12, atol=1e-14)


def test_fallback_when_the_private_kernel_is_missing(monkeypatch):
    monkeypatch.delattr(torch, "_fused_adamw_")
    assert adamw_kernel() is adamw_reference
    _fallback_matches_torch_adamw()


def _raises_type_error(*args, **kwargs):
    raise TypeError("_fused_adamw_() got an unexpected keyword argument 'beta1'")


_REAL_FUSED_ADAMW = torch._fused_adamw_


def _ignores_weight_decay(*args, **kwargs):
    _REAL_FUSED_ADAMW(*args, **{**kwargs, "weight_decay": 0.0})


@pytest.mark.parametrize(
    "changed", [_raises_type_error, _ignores_weight_decay], ids=["raises", "differs"]
)
def test_fallback_when_the_private_kernel_changed(changed, monkeypatch):
    monkeypatch.setattr(torch, "_fused_adamw_", changed)
    assert adamw_kernel() is adamw_reference
    _fallback_matches_torch_adamw()


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_a_gradient_in_another_layout_updates_its_own_elements(kernel, monkeypatch):
    """``torch.autograd.grad`` may hand back a gradient with permuted strides; the update must
    pair each gradient element with its own parameter element (the fused kernel walks both by
    memory offset), as torch's AdamW does."""
    monkeypatch.setattr(optim, "adamw_kernel", lambda: KERNELS[kernel])
    start = _params()
    grads = _grads(2)
    permuted = [
        {n: g.transpose(-1, -2).contiguous().transpose(-1, -2) for n, g in step.items()}
        for step in grads
    ]  # same values, column-major in the last two axes
    assert not permuted[0]["w"].is_contiguous()
    params = {n: torch.nn.Parameter(t.detach().clone()) for n, t in start.items()}
    opt = BatchedAdamW(params, **HYPER)
    for g in permuted:
        for n, p in params.items():
            p.grad = g[n]
        opt.step(1e-2, torch.ones(3, dtype=torch.bool))
    for k in range(3):
        expected = _torch_adamw(_slice(start, k), [_slice(g, k) for g in grads], [1e-2, 1e-2])
        for n in params:
            torch.testing.assert_close(params[n].detach()[k], expected[n], msg=n)
