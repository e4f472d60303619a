"""AdamW over parameters with a leading instance dimension, with per-instance freezing.

Every operation is elementwise, so instance k's update reads only instance k's gradient, moments
and weights: K seeds trained together follow the same trajectories as each trained alone. An
instance marked dead (``alive[k] = False``, after a NaN or inf) keeps its weights and moments
unchanged from then on.

The gradient filter of Grokfast (Lee et al. 2024, "Grokfast: accelerated grokking by amplifying
slow gradients") is built in: with ``alpha > 0`` and ``lamb > 0`` the gradient fed to AdamW is
``g + lamb * ema`` where ``ema <- alpha * ema + (1 - alpha) * g`` is a per-element low-pass filter.
"""

from __future__ import annotations

import torch


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

    def grads_finite(self, n_inst: int) -> torch.Tensor:
        """``[inst]`` bool: every gradient element of the instance is finite (missing = finite)."""
        ok = torch.ones(n_inst, dtype=torch.bool)
        for p in self.params.values():
            if p.grad is not None:
                ok &= p.grad.isfinite().reshape(n_inst, -1).all(1)
        return ok

    @torch.no_grad()
    def step(self, lr: float, alive: torch.Tensor) -> None:
        """One update at learning rate ``lr`` of the instances where ``alive`` (``[inst]`` bool)."""
        self.step_count += 1
        t = self.step_count
        bc1 = 1.0 - self.beta1**t
        bc2 = 1.0 - self.beta2**t
        all_alive = bool(alive.all())
        for name, p in self.params.items():
            g = p.grad if p.grad is not None else torch.zeros_like(p)
            mask = alive.reshape(-1, *([1] * (p.ndim - 1)))  # [inst, 1, ...]
            if not all_alive:
                g = torch.where(mask, g, torch.zeros_like(g))
            if self.gf_lamb > 0:
                ema = self.grad_ema[name]
                new_ema = ema * self.gf_alpha + g * (1.0 - self.gf_alpha)
                _masked_copy(ema, new_ema, mask, all_alive)
                g = g + new_ema * self.gf_lamb
            m, v = self.exp_avg[name], self.exp_avg_sq[name]
            new_m = m * self.beta1 + g * (1.0 - self.beta1)
            new_v = v * self.beta2 + g * g * (1.0 - self.beta2)
            denom = (new_v / bc2).sqrt() + self.eps
            new_p = p * (1.0 - lr * self.weight_decay) - (new_m / bc1) / denom * lr
            _masked_copy(m, new_m, mask, all_alive)
            _masked_copy(v, new_v, mask, all_alive)
            _masked_copy(p, new_p, mask, all_alive)

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


def _masked_copy(dst: torch.Tensor, src: torch.Tensor, mask: torch.Tensor, all_alive: bool) -> None:
    if all_alive:
        dst.copy_(src)
    else:
        dst.copy_(torch.where(mask, src, dst))
