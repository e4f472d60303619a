"""`BatchedModel`: the base of every algolens model (K seeds as one module, TL hooks).

A model holds K independently seeded *instances*: every parameter has a leading ``inst`` axis
(as in the equinox "ensembling" trick and the toy-models-of-superposition code), so K seeds train
as one computation and instance ``k`` is bitwise the model a single-seed run would build.

Tokens come in two layouts:

* ``[inst, batch, pos]``: every activation, hook and output carries the leading ``inst`` axis.
* ``[batch, pos]`` on a single-instance model (``n_inst == 1``): every hook sees, and every
  output is, the TransformerLens layout without ``inst`` (``[batch, pos, d_model]``...). This is
  what makes ``transformer_lens.patching`` and other TL tools work unchanged on ``instance(k)``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from transformer_lens import ActivationCache, HookedRootModule
from transformer_lens.hook_points import HookPoint

from algolens.errors import ConfigError

InitSpec = tuple[str, Callable[[torch.Generator, tuple[int, ...]], torch.Tensor]]
"""(parameter or buffer name, draw(generator, per-instance shape) -> tensor)."""


def normal(std: float) -> Callable[[torch.Generator, tuple[int, ...]], torch.Tensor]:
    """Initialiser drawing ``randn(shape) · std`` from the given generator."""

    def draw(gen: torch.Generator, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.randn(shape, generator=gen, dtype=torch.float64) * std

    return draw


def const(value: float) -> Callable[[torch.Generator, tuple[int, ...]], torch.Tensor]:
    """Initialiser filling ``value`` (draws nothing from the generator)."""

    def draw(gen: torch.Generator, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.full(shape, value, dtype=torch.float64)

    return draw


def has_hooks(hook: HookPoint | nn.Module) -> bool:
    """True if any hook is attached to the module: forward or backward (TransformerLens's
    ``dir="bwd"`` hooks are full backward hooks), temporary, permanent or caching, or a plain
    torch forward-pre / backward-pre hook.

    A backward hook counts too: it fires only if the module's forward runs, so a model must not
    skip the hook point (MLP embedding folding, the trainer's fused pass) while one is attached.
    """
    return bool(
        hook._forward_hooks
        or hook._forward_pre_hooks
        or hook._backward_hooks
        or hook._backward_pre_hooks
    )


def model_has_hooks(model: nn.Module) -> bool:
    """True if any module of ``model`` (itself included) has a hook attached (:func:`has_hooks`)."""
    return any(has_hooks(m) for m in model.modules())


class BatchedModel(HookedRootModule):
    """Base class: instance handling, seeded init and the two token layouts.

    Subclasses set ``self.cfg`` (a :class:`~algolens.models.config.ModelConfig` with ``n_inst``),
    create parameters with a leading ``inst`` axis, call ``self.setup()``, and implement
    :meth:`init_specs`, :meth:`_n_live` and ``forward(tokens, *, answer=False)`` (``answer=True``
    returns the answer logits ``[inst, batch, d_vocab_out]``).

    The trainer's interface: :meth:`init_weights`, :meth:`answer_logits` (optionally for a group
    of instances), :meth:`instance`, :meth:`stack`, and the optional fused training pass
    (:meth:`has_fused_pass`, :meth:`fused_batch`, :meth:`fused_loss_and_grads`: a model declares
    it, the trainer asks); analyses use ``run_with_cache`` / ``run_with_hooks`` and the
    TransformerLens hook names.
    """

    cfg: Any
    _squeeze: bool = False

    # -- initialisation ----------------------------------------------------------------

    def init_specs(self) -> list[InitSpec]:
        """Every parameter/buffer with its initialiser, in the fixed order draws are made."""
        raise NotImplementedError

    @torch.no_grad()
    def init_weights(self, seeds: Sequence[int]) -> None:
        """Initialise instance ``k`` from ``torch.Generator().manual_seed(seeds[k])``.

        Each instance's generator draws every tensor of :meth:`init_specs` in order, at the
        per-instance shape, in float64 on the CPU (then cast), so instance ``k`` of a K-seed model
        is bitwise equal to a 1-seed model built with ``seeds[k]``, on any device and dtype.

        Raises:
            ConfigError: ``len(seeds) != n_inst``.
        """
        seeds = list(seeds)
        if len(seeds) != self.cfg.n_inst:
            raise ConfigError(
                f"init_weights got {len(seeds)} seeds for a model with n_inst={self.cfg.n_inst}; "
                "give one seed per instance"
            )
        gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        tensors = dict(self.named_parameters()) | dict(self.named_buffers())
        for name, draw in self.init_specs():
            t = tensors[name]
            shape = tuple(t.shape[1:])
            for k, gen in enumerate(gens):
                t[k].copy_(draw(gen, shape))

    # -- instances ---------------------------------------------------------------------

    def instance(self, k: int) -> BatchedModel:
        """A standalone single-instance model (``n_inst=1``) holding copies of instance ``k``."""
        n = self.cfg.n_inst
        if not -n <= k < n:
            raise ConfigError(f"instance {k} out of range for a model with n_inst={n}")
        k = k % n
        single = type(self)(self.cfg.replace(n_inst=1))
        state = {name: t[k : k + 1].clone() for name, t in self.state_dict().items()}
        single.load_state_dict(state)
        p = next(self.parameters())
        return single.to(device=p.device)

    @classmethod
    def stack(cls, models: Sequence[BatchedModel]) -> BatchedModel:
        """One model whose instances are those of ``models`` in order (configs must agree)."""
        if not models:
            raise ConfigError("stack needs at least one model")
        base = models[0].cfg.replace(n_inst=1)
        for m in models:
            if m.cfg.replace(n_inst=1) != base:
                raise ConfigError("stack: models differ in more than n_inst; stack like models")
        out = cls(base.replace(n_inst=sum(m.cfg.n_inst for m in models)))
        states = [m.state_dict() for m in models]
        out.load_state_dict({name: torch.cat([s[name] for s in states]) for name in states[0]})
        return out

    # -- training precision ------------------------------------------------------------

    def training_precision(self) -> contextlib.AbstractContextManager[Any]:
        """The context a trainer enters around a training forward (and its loss) for the
        model's mixed precision: here none (every op in the parameters' dtype); a model with a
        ``matmul_dtype`` option overrides it. Like autocast it is per thread: enter it in the
        thread that runs the forward."""
        return contextlib.nullcontext()

    def trains_with_bfloat16_matmuls(self) -> bool:
        """Whether a trainer's steps run some of this model's matmuls in bfloat16 (the
        ``matmul_dtype`` option, where a model has one); here never."""
        return False

    # -- token layouts -----------------------------------------------------------------

    def _n_live(self) -> int:
        """Instances this forward computes: ``n_inst``, or fewer inside :meth:`forward_instances`
        (read from a parameter, which ``functional_call`` replaces by a slice)."""
        raise NotImplementedError

    def _tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Validate tokens, set the layout for this forward, return ``[inst, batch, pos]``."""
        if tokens.dtype not in (torch.int64, torch.int32):
            raise ConfigError(f"tokens must be an integer tensor, got {tokens.dtype}")
        n = self._n_live()
        if tokens.ndim == 2:
            if n != 1:
                raise ConfigError(
                    f"[batch, pos] tokens need a single-instance model; this one has "
                    f"n_inst={n}: pass [inst, batch, pos] or use model.instance(k)"
                )
            self._squeeze = True
            return tokens.unsqueeze(0)  # [inst=1, batch, pos]
        if tokens.ndim != 3 or tokens.shape[0] != n:
            raise ConfigError(f"tokens must be [inst={n}, batch, pos], got {tuple(tokens.shape)}")
        self._squeeze = False
        return tokens

    def _check_ids(self, tokens: torch.Tensor, d_vocab: int) -> None:
        """Token ids must lie in ``0..d_vocab-1`` (an id past the end would silently read the
        next instance's rows of the flattened embedding)."""
        if tokens.numel() == 0:
            return
        lo, hi = int(tokens.min()), int(tokens.max())
        if lo < 0 or hi >= d_vocab:
            raise ConfigError(f"token ids must lie in 0..{d_vocab - 1}, got ids {lo}..{hi}")

    def _hook(self, hook: HookPoint, x: torch.Tensor) -> torch.Tensor:
        """Pass ``x`` (``[inst, ...]``) through ``hook`` in the layout of this forward."""
        if self._squeeze:
            return hook(x.squeeze(0)).unsqueeze(0)
        return hook(x)

    def _out(self, x: torch.Tensor) -> torch.Tensor:
        """Drop the ``inst`` axis of an output in the ``[batch, pos]`` layout."""
        return x.squeeze(0) if self._squeeze else x

    def run_with_cache(
        self, *model_args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, ActivationCache]:
        """As :meth:`HookedRootModule.run_with_cache`, with the cache as an ``ActivationCache``.

        Keys are hook names in the order the hooks fired; shapes follow the token layout.
        """
        out, cache = super().run_with_cache(*model_args, **kwargs)
        return out, ActivationCache(cache, self, has_batch_dim=True)

    def answer_logits(
        self, tokens: torch.Tensor, *, instances: slice | None = None
    ) -> torch.Tensor:
        """Logits for the answer of each row: ``[inst, batch, d_vocab_out]``.

        Args:
            tokens: ``[inst, batch, pos]`` (``[batch, pos]`` on a single-instance model).
            instances: compute only these instances (a contiguous slice; ``tokens`` then has
                one row per selected instance); see :meth:`forward_instances`.
        """
        if instances is None:
            return self(tokens, answer=True)
        return self.forward_instances(instances, tokens, answer=True)

    def instance_views(self, instances: slice) -> dict[str, torch.Tensor]:
        """Every parameter and buffer sliced to ``instances`` along ``inst`` (views, not copies)."""
        if not isinstance(instances, slice) or instances.step not in (None, 1):
            raise ConfigError(f"instances must be a contiguous slice, got {instances!r}")
        named = list(self.named_parameters()) + list(self.named_buffers())
        return {name: t[instances] for name, t in named}

    def forward_instances(self, instances: slice, tokens: torch.Tensor, **kwargs: Any) -> Any:
        """``forward`` of a contiguous group of instances only.

        Runs the model with its parameters replaced by views of the selected instances
        (``torch.func.functional_call``), so gradients flow into the full parameters and a
        trainer can call ``backward`` once per group. On a CPU this keeps each group's
        activations in cache: a large task (S5) trains faster per model in groups of 1–2 than
        as one K-instance computation (see docs/benchmarks.md, "Models"). Hooks fire as usual,
        with the group's ``inst`` size.
        """
        views = self.instance_views(instances)
        return torch.func.functional_call(self, views, (tokens,), kwargs)

    # -- an optional fused training pass -----------------------------------------------------

    def has_fused_pass(self) -> bool:
        """Whether :meth:`fused_loss_and_grads` may train this model now (losses and gradients
        without autograd, for a loss of one answer per row). False here: the trainer then uses
        autograd. A model with such a pass (:class:`~algolens.models.mlp.MLP`) says True while no
        hook is attached, since the pass would skip its hooks."""
        return False

    def fused_batch(self, tokens: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Rows ``tokens`` ``[inst, batch, pos]`` with their answers ``targets`` ``[inst, batch]``
        as :meth:`fused_loss_and_grads` reads them (the trainer keeps the full batch's)."""
        raise NotImplementedError(f"{type(self).__name__} has no fused training pass")

    def fused_loss_and_grads(
        self,
        batch: tuple[torch.Tensor, ...],
        alive: torch.Tensor,
        loss_dtype: torch.dtype,
        *,
        grads: dict[str, torch.Tensor],
        work: Workspace,
    ) -> torch.Tensor:
        """``[inst]`` mean cross-entropy of each instance over ``batch`` (:meth:`fused_batch`),
        its logits cast to ``loss_dtype``; writes into ``grads`` (parameter name -> tensor of the
        parameter's shape) the gradient of the sum of the losses of the instances that are
        ``alive`` (``[inst]`` bool) and finite. ``work`` keeps scratch tensors between calls."""
        raise NotImplementedError(f"{type(self).__name__} has no fused training pass")

    def n_params(self, trainable_only: bool = True) -> int:
        """Parameters per instance."""
        ps = [p for p in self.parameters() if p.requires_grad or not trainable_only]
        return sum(p[0].numel() for p in ps)


def batched_param(n_inst: int, *shape: int, dtype: torch.dtype) -> nn.Parameter:
    """An uninitialised parameter of shape ``[inst, *shape]`` (filled by ``init_weights``)."""
    return nn.Parameter(torch.empty(n_inst, *shape, dtype=dtype))


class Workspace:
    """Scratch tensors kept between calls (fresh multi-MB allocations cost page faults)."""

    def __init__(self) -> None:
        self._bufs: dict[str, torch.Tensor] = {}

    def get(
        self,
        name: str,
        shape: tuple[int, ...],
        like: torch.Tensor,
        dtype: torch.dtype | None = None,
    ) -> torch.Tensor:
        """An uninitialised tensor of ``shape`` on ``like``'s device, of ``dtype`` (default
        ``like``'s)."""
        dtype = like.dtype if dtype is None else dtype
        t = self._bufs.get(name)
        if t is None or t.shape != shape or t.dtype != dtype or t.device != like.device:
            t = self._bufs[name] = torch.empty(shape, dtype=dtype, device=like.device)
        return t
