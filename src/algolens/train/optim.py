"""AdamW over parameters with a leading instance dimension, with per-instance freezing.

Every operation is elementwise, so instance k's update reads only instance k's gradient, moments
and weights: given the same gradients, it has the same bits whether instance k is updated with
others or alone (tests/train/test_optim.py). An
instance marked dead (``alive[k] = False``, after a NaN or inf) keeps its weights and moments
unchanged from then on.

The gradient filter of Grokfast (Lee et al. 2024, "Grokfast: accelerated grokking by amplifying
slow gradients") is built in: with ``alpha > 0`` and ``lamb > 0`` the gradient fed to AdamW is
``g + lamb * ema`` where ``ema <- alpha * ema + (1 - alpha) * g`` is a per-element low-pass filter.

Kernels. The update runs in torch's fused AdamW kernel ``torch._fused_adamw_`` (private: the kernel
behind ``torch.optim.AdamW(fused=True)``; pyproject pins the torch minor version it is tested
with). On first use :func:`adamw_kernel` probes it against :func:`adamw_reference`, the same
update in public elementwise torch ops; if the kernel is missing, raises, or disagrees (a torch
release changed it), the reference is used instead, with the same result to float rounding.
tests/train/test_optim.py checks both against :class:`torch.optim.AdamW`, and checks the kernel's
signature and behaviour directly, so an incompatible torch fails there rather than here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import torch

AdamWKernel = Callable[..., None]


def adamw_reference(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    exp_avgs: list[torch.Tensor],
    exp_avg_sqs: list[torch.Tensor],
    step: int,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    weight_decay: float,
    eps: float,
) -> None:
    """AdamW step ``step`` (counted from 1) in place on lists of same-shape tensors, public ops.

    Each quadruple ``params[i], grads[i], exp_avgs[i], exp_avg_sqs[i]`` has one shape (any);
    every operation is elementwise, so each tensor's result depends on that tensor alone.
    """
    bias1 = 1.0 - beta1**step
    bias2_sqrt = math.sqrt(1.0 - beta2**step)
    for p, g, m, v in zip(params, grads, exp_avgs, exp_avg_sqs, strict=True):
        p.mul_(1.0 - lr * weight_decay)
        m.lerp_(g, 1.0 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1.0 - beta2)
        denom = (v.sqrt() / bias2_sqrt).add_(eps)
        p.addcdiv_(m, denom, value=-lr / bias1)


def adamw_fused(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    exp_avgs: list[torch.Tensor],
    exp_avg_sqs: list[torch.Tensor],
    step: int,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    weight_decay: float,
    eps: float,
) -> None:
    """:func:`adamw_reference` by torch's private fused kernel (one pass per tensor).

    Raises:
        AttributeError, TypeError, RuntimeError: the installed torch lacks the kernel or has
            changed its signature.
    """
    t = torch.tensor(float(step), device=params[0].device)
    torch._fused_adamw_(
        params, grads, exp_avgs, exp_avg_sqs, [], [t] * len(params),
        lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay, eps=eps,
        amsgrad=False, maximize=False,
    )  # fmt: skip


def _fused_kernel_agrees() -> bool:
    """True if :func:`adamw_fused` runs and gives :func:`adamw_reference`'s result (float64)."""
    gen = torch.Generator().manual_seed(0)
    states = [[torch.randn(37, dtype=torch.float64, generator=gen) for _ in range(4)]]
    states[0][3].abs_()  # a second moment is non-negative
    states.append([t.clone() for t in states[0]])
    hyper = dict(lr=0.05, beta1=0.9, beta2=0.99, weight_decay=0.5, eps=1e-8)
    try:
        for step in (1, 2):
            for kernel, (p, g, m, v) in zip((adamw_fused, adamw_reference), states):
                kernel([p], [g], [m], [v], step, **hyper)
    except (AttributeError, TypeError, RuntimeError, NotImplementedError):
        return False
    return all(torch.allclose(a, b, rtol=1e-12, atol=1e-14) for a, b in zip(*states))


@functools.cache
def adamw_kernel() -> AdamWKernel:
    """The AdamW implementation in use: :func:`adamw_fused` if the installed torch's kernel
    passes a probe against :func:`adamw_reference`, else the reference (decided on the first
    call; ``adamw_kernel.cache_clear()`` makes the next call probe again)."""
    return adamw_fused if _fused_kernel_agrees() else adamw_reference


def _in_layout_of(g: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """``g`` with ``p``'s strides: the fused kernel walks a parameter and its gradient by the
    same memory offsets, so a gradient in another layout (from ``torch.autograd.grad``, say, which
    keeps whatever strides its last operation left) would pair the wrong elements."""
    return g if g.stride() == p.stride() else torch.empty_like(p).copy_(g)


class BatchedAdamW:
    """AdamW (decoupled weight decay, bias-corrected moments) for instance-batched parameters.

    Args:
        params: named parameters, each ``[inst, ...]``.
        betas, eps, weight_decay: as in :class:`torch.optim.AdamW`.
        grokfast_alpha, grokfast_lamb: the slow-gradient filter (off when ``lamb == 0``).

    The update of element x with gradient g at step t (learning rate lr) is::

        x <- x * (1 - lr * weight_decay)
        m <- beta1 * m + (1 - beta1) * g ;  v <- beta2 * v + (1 - beta2) * g^2
        x <- x - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)

    computed by :func:`adamw_kernel` (torch's fused kernel, or its public-op reference), one
    instance slice per tensor.
    """

    def __init__(
        self,
        params: dict[str, torch.nn.Parameter],
        *,
        betas: tuple[float, float],
        eps: float,
        weight_decay: float,
        grokfast_alpha: float = 0.0,
        grokfast_lamb: float = 0.0,
    ) -> None:
        self.params = params
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.gf_alpha = grokfast_alpha
        self.gf_lamb = grokfast_lamb
        self.step_count = 0
        self.exp_avg = {n: torch.zeros_like(p) for n, p in params.items()}
        self.exp_avg_sq = {n: torch.zeros_like(p) for n, p in params.items()}
        self.grad_ema = (
            {n: torch.zeros_like(p) for n, p in params.items()} if grokfast_lamb > 0 else {}
        )

    def zero_grad(self) -> None:
        for p in self.params.values():
            p.grad = None

    def grads_finite(self, n_inst: int, instances: slice | None = None) -> torch.Tensor:
        """``[inst]`` bool: every gradient element of the instance is finite (missing = finite).

        With ``instances``, only those instances are checked (``n_inst`` is their number).
        """
        sl = slice(None) if instances is None else instances
        ok = torch.ones(n_inst, dtype=torch.bool)
        for p in self.params.values():
            if p.grad is not None:
                g = p.grad[sl].reshape(n_inst, -1)
                # One summing pass: a finite sum means finite elements. A sum that is not finite
                # (a NaN/inf element, or finite elements overflowing) is settled element-wise.
                fine = g.sum(1).isfinite()
                if not bool(fine.all()):
                    fine = g.isfinite().all(1)
                ok &= fine.cpu()
        return ok

    @torch.no_grad()
    def step(self, lr: float, alive: torch.Tensor) -> None:
        """One update at learning rate ``lr`` of the instances where ``alive`` (``[inst]`` bool)."""
        self.begin_step()
        self.update(lr, alive)

    def begin_step(self) -> None:
        """Count a step; then :meth:`update` each group of instances once (:meth:`step` does
        both)."""
        self.step_count += 1

    @torch.no_grad()
    def update(self, lr: float, alive: torch.Tensor, instances: slice | None = None) -> None:
        """The update of the current step for ``instances`` (default all; ``alive`` is theirs).

        Each live instance's slice of each tensor is handed to the AdamW kernel as a tensor of
        its own, and every operation is elementwise, so an instance's bits do not depend on which
        or how many other instances are updated with it: updating group by group, or with some
        instances dead, gives every live instance the same bits.
        """
        start = 0 if instances is None else instances.start
        live = [start + i for i in torch.nonzero(alive.cpu()).flatten().tolist()]
        if not live:
            return
        ps, gs, ms, vs, emas = [], [], [], [], []
        for name, param in self.params.items():
            p = param.detach()
            g = param.grad
            for i in live:
                ps.append(p[i])
                gs.append(torch.zeros_like(p[i]) if g is None else _in_layout_of(g[i], p[i]))
                ms.append(self.exp_avg[name][i])
                vs.append(self.exp_avg_sq[name][i])
                if self.gf_lamb > 0:
                    emas.append(self.grad_ema[name][i])
        if self.gf_lamb > 0:  # ema <- alpha * ema + (1 - alpha) * g ;  g <- g + lamb * ema
            for ema, g in zip(emas, gs):
                ema.mul_(self.gf_alpha).add_(g * (1.0 - self.gf_alpha))
            gs = [g + ema * self.gf_lamb for g, ema in zip(gs, emas)]
        adamw_kernel()(
            ps, gs, ms, vs, self.step_count, lr=lr, beta1=self.beta1, beta2=self.beta2,
            weight_decay=self.weight_decay, eps=self.eps,
        )  # fmt: skip

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Optimizer state as flat named tensors (for checkpoints)."""
        out = {"optim.step": torch.tensor([self.step_count], dtype=torch.int64)}
        for name in self.params:
            out[f"optim.exp_avg.{name}"] = self.exp_avg[name]
            out[f"optim.exp_avg_sq.{name}"] = self.exp_avg_sq[name]
            if self.grad_ema:
                out[f"optim.grad_ema.{name}"] = self.grad_ema[name]
        return out

    @torch.no_grad()
    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Inverse of :meth:`state_tensors` (shapes were checked by the caller)."""
        self.step_count = int(tensors["optim.step"][0])
        for name in self.params:
            self.exp_avg[name].copy_(tensors[f"optim.exp_avg.{name}"])
            self.exp_avg_sq[name].copy_(tensors[f"optim.exp_avg_sq.{name}"])
            if self.grad_ema:
                self.grad_ema[name].copy_(tensors[f"optim.grad_ema.{name}"])
