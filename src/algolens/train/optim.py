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

    computed by torch's fused AdamW kernel (``torch._fused_adamw_``, the kernel behind
    ``torch.optim.AdamW(fused=True)``), one instance slice per tensor.
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

        Each live instance's slice of each tensor is handed to torch's fused AdamW kernel as a
        tensor of its own (one pass over parameter, gradient and moments), so an instance's bits
        do not depend on which or how many other instances are updated with it: updating group
        by group, or with some instances dead, gives every live instance the same bits.
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
                gs.append(g[i] if g is not None else torch.zeros_like(p[i]))
                ms.append(self.exp_avg[name][i])
                vs.append(self.exp_avg_sq[name][i])
                if self.gf_lamb > 0:
                    emas.append(self.grad_ema[name][i])
        if self.gf_lamb > 0:  # ema <- alpha * ema + (1 - alpha) * g ;  g <- g + lamb * ema
            torch._foreach_mul_(emas, self.gf_alpha)
            torch._foreach_add_(emas, torch._foreach_mul(gs, 1.0 - self.gf_alpha))
            gs = torch._foreach_add(gs, torch._foreach_mul(emas, self.gf_lamb))
        step = torch.tensor(float(self.step_count), device=ps[0].device)
        torch._fused_adamw_(
            ps, gs, ms, vs, [], [step] * len(ps),
            lr=lr, beta1=self.beta1, beta2=self.beta2, weight_decay=self.weight_decay,
            eps=self.eps, amsgrad=False, maximize=False,
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
