"""One-hidden-layer MLP for group composition (Chughtai et al. 2023; Stander et al. 2024).

The paper's network, for one instance::

    x      = concat(E_left[a], E_right[b])          # [2·d_embed]   ("sum": E_left[a] + E_right[b])
    pre    = x · W_in (+ b_in)                       # [d_mlp]
    post   = ReLU(pre)                               # [d_mlp]
    logits = post · W_U (+ b_U)                      # [d_vocab]

with no biases by default and every weight drawn as ``randn / sqrt(fan_in) · init_scale``.

**Folded algebra.** Splitting ``W_in`` into its left and right halves,
``concat(E_left[a], E_right[b]) · W_in = W_a[a] + W_b[b]`` with ``W_a = E_left · W_in[:d_embed]``
and ``W_b = E_right · W_in[d_embed:]`` (for "sum", both use the whole ``W_in``). ``forward``
computes ``W_a, W_b`` (``[inst, d_vocab, d_mlp]``) from the parameters on every call and gathers
rows: ``d_vocab·d_embed·d_mlp`` multiply-adds per side instead of ``batch·2·d_embed·d_mlp``, and
still exactly differentiable in the real parameters. Only when a hook is attached to
``hook_embed_left``/``hook_embed_right`` (e.g. ``run_with_cache``) does that side gather its
embedding and multiply, so the hook sees, and may edit, the embedding.
The two routes agree to float rounding, not bitwise.

Hooks, in the order they fire: ``hook_embed_left``, ``hook_embed_right`` ``[inst, batch,
d_embed]``; ``mlp.hook_pre_left``, ``mlp.hook_pre_right`` (the per-side pre-activations
``W_a[a]``, ``W_b[b]`` that Stander et al. study), ``mlp.hook_pre``, ``mlp.hook_post``
``[inst, batch, d_mlp]``; ``hook_logits`` ``[inst, batch, d_vocab]``.

Examples:
    >>> model = MLP(MLPConfig(d_vocab=6, d_embed=8, d_mlp=4, n_inst=2))
    >>> model.init_weights([1, 2])
    >>> tokens = torch.tensor([[0, 1], [2, 3], [4, 5]]).expand(2, 3, 2)  # [inst, batch, 2]
    >>> tuple(model(tokens).shape)
    (2, 3, 6)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from transformer_lens.hook_points import HookPoint

from algolens.errors import ConfigError
from algolens.models.config import ModelConfig, check_choice, check_int, check_positive
from algolens.models.hooks import (
    BatchedModel,
    InitSpec,
    Workspace,
    batched_param,
    const,
    has_hooks,
    normal,
)
from algolens.models.mlp_fused import flat_ids, loss_and_grads

EMBED_MODES: tuple[str, ...] = ("concat", "sum")
MATMUL_DTYPES: tuple[str, ...] = ("float32", "float64", "bfloat16")


@dataclasses.dataclass(frozen=True)
class MLPConfig(ModelConfig):
    """Config of :class:`MLP` (the defaults are the S5 MLP of Chughtai et al.)."""

    d_vocab: int  # |G|: input and output vocabulary
    d_embed: int = 256
    d_mlp: int = 128
    embed_mode: Literal["concat", "sum"] = "concat"
    bias: bool = False  # b_in and b_U (initialised to zero)
    init_scale: float = 1.0  # multiplies randn / sqrt(fan_in)
    n_inst: int = 1  # seeds trained as one computation
    dtype: str = "float32"
    # Training only: dtype of the unembedding matmuls of the trainer's fused pass (None: dtype).
    # "bfloat16" is mixed precision (models/mlp_fused.py); forward, evaluation and analyses
    # always compute in dtype.
    matmul_dtype: str | None = None

    def problems(self) -> list[str]:
        p: list[str] = []
        for name in ("d_vocab", "d_embed", "d_mlp", "n_inst"):
            check_int(p, name, getattr(self, name))
        check_choice(p, "embed_mode", self.embed_mode, EMBED_MODES)
        if not isinstance(self.bias, bool):
            p.append(f"bias must be true or false, got {self.bias!r}")
        check_positive(p, "init_scale", self.init_scale)
        check_choice(p, "dtype", self.dtype, ("float32", "float64"))
        if self.matmul_dtype is not None:
            check_choice(p, "matmul_dtype", self.matmul_dtype, MATMUL_DTYPES)
        return p

    @property
    def d_vocab_out(self) -> int:
        return self.d_vocab

    @property
    def d_in(self) -> int:
        """Input width of ``W_in``: ``2·d_embed`` (concat) or ``d_embed`` (sum)."""
        return 2 * self.d_embed if self.embed_mode == "concat" else self.d_embed


class _MLPHooks(nn.Module):
    """Holds the hidden layer's weights and hook points, so their names read ``mlp.*``."""

    def __init__(self, cfg: MLPConfig) -> None:
        super().__init__()
        dt = cfg.torch_dtype
        self.W_in = batched_param(cfg.n_inst, cfg.d_in, cfg.d_mlp, dtype=dt)
        self.b_in = batched_param(cfg.n_inst, cfg.d_mlp, dtype=dt) if cfg.bias else None
        self.hook_pre_left = HookPoint()  # [inst, batch, d_mlp]
        self.hook_pre_right = HookPoint()  # [inst, batch, d_mlp]
        self.hook_pre = HookPoint()  # [inst, batch, d_mlp]
        self.hook_post = HookPoint()  # [inst, batch, d_mlp]


class MLP(BatchedModel):
    """The one-hidden-layer composition MLP, K instances at once.

    Args:
        cfg: :class:`MLPConfig`.

    Parameters (leading axis ``inst``): ``W_E_left``, ``W_E_right`` ``[inst, d_vocab, d_embed]``;
    ``mlp.W_in`` ``[inst, d_in, d_mlp]`` (rows ``:d_embed`` act on the left embedding);
    ``mlp.b_in`` ``[inst, d_mlp]`` (if bias); ``W_U`` ``[inst, d_mlp, d_vocab]``; ``b_U``
    ``[inst, d_vocab]`` (if bias). Instances are seeded ``0..n_inst-1`` until
    :meth:`init_weights` is called.
    """

    def __init__(self, cfg: MLPConfig) -> None:
        super().__init__()
        self.cfg = cfg
        dt, k = cfg.torch_dtype, cfg.n_inst
        self.W_E_left = batched_param(k, cfg.d_vocab, cfg.d_embed, dtype=dt)
        self.W_E_right = batched_param(k, cfg.d_vocab, cfg.d_embed, dtype=dt)
        self.hook_embed_left = HookPoint()  # [inst, batch, d_embed]
        self.hook_embed_right = HookPoint()  # [inst, batch, d_embed]
        self.mlp = _MLPHooks(cfg)
        self.W_U = batched_param(k, cfg.d_mlp, cfg.d_vocab, dtype=dt)
        self.b_U = batched_param(k, cfg.d_vocab, dtype=dt) if cfg.bias else None
        self.hook_logits = HookPoint()  # [inst, batch, d_vocab]
        self.setup()
        self.init_weights(range(k))

    def init_specs(self) -> list[InitSpec]:
        c = self.cfg
        specs: list[InitSpec] = [
            ("W_E_left", normal(c.init_scale / math.sqrt(c.d_vocab))),  # fan_in: one-hot a
            ("W_E_right", normal(c.init_scale / math.sqrt(c.d_vocab))),
            ("mlp.W_in", normal(c.init_scale / math.sqrt(c.d_in))),
            ("W_U", normal(c.init_scale / math.sqrt(c.d_mlp))),
        ]
        if c.bias:
            specs += [("mlp.b_in", const(0.0)), ("b_U", const(0.0))]
        return specs

    def folded_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(W_a, W_b)``, each ``[inst, d_vocab, d_mlp]``: the per-side pre-activation tables.

        ``W_a = W_E_left · W_in[:d_embed]`` and ``W_b = W_E_right · W_in[d_embed:]`` for
        "concat"; both halves are the whole ``W_in`` for "sum".
        """
        w_left, w_right = self._w_in_halves()
        return self.W_E_left @ w_left, self.W_E_right @ w_right  # [inst, d_vocab, d_mlp] ×2

    def _w_in_halves(self) -> tuple[torch.Tensor, torch.Tensor]:
        w = self.mlp.W_in
        if self.cfg.embed_mode == "concat":
            d = self.cfg.d_embed
            return w[:, :d], w[:, d:]  # [inst, d_embed, d_mlp] ×2
        return w, w

    def forward(self, tokens: torch.Tensor, *, answer: bool = False) -> torch.Tensor:
        """Logits for ``tokens`` ``[inst, batch, 2]`` (or ``[batch, 2]`` if ``n_inst == 1``).

        Args:
            tokens: operand pairs ``(a, b)``.
            answer: accepted for the common interface (the output is always the answer).

        Returns:
            ``[inst, batch, d_vocab]`` (``[batch, d_vocab]`` for 2-D tokens).
        """
        tokens = self._tokens(tokens)  # [inst, batch, 2]
        self._check_ids(tokens, self.cfg.d_vocab)
        if tokens.shape[-1] != 2:
            raise ConfigError(f"MLP tokens must have 2 positions (a, b), got {tokens.shape[-1]}")
        w_left, w_right = self._w_in_halves()
        pre_left = self._side(tokens[..., 0], self.W_E_left, w_left, self.hook_embed_left)
        pre_right = self._side(tokens[..., 1], self.W_E_right, w_right, self.hook_embed_right)
        pre_left = self._hook(self.mlp.hook_pre_left, pre_left)  # [inst, batch, d_mlp]
        pre_right = self._hook(self.mlp.hook_pre_right, pre_right)  # [inst, batch, d_mlp]
        pre = pre_left + pre_right
        if self.mlp.b_in is not None:
            pre = pre + self.mlp.b_in[:, None, :]
        pre = self._hook(self.mlp.hook_pre, pre)  # [inst, batch, d_mlp]
        post = self._hook(self.mlp.hook_post, F.relu(pre))  # [inst, batch, d_mlp]
        logits = post @ self.W_U  # [inst, batch, d_vocab]
        if self.b_U is not None:
            logits = logits + self.b_U[:, None, :]
        return self._out(self._hook(self.hook_logits, logits))

    def _n_live(self) -> int:
        return int(self.W_U.shape[0])

    # -- the fused training pass (algolens.models.mlp_fused) ------------------------------

    def has_fused_pass(self) -> bool:
        """True while no hook is attached (the fused pass would skip them)."""
        return not any(has_hooks(h) for h in self.hook_dict.values())

    def fused_batch(self, tokens: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``(a, b, targets)``: the operands of ``tokens`` ``[inst, batch, 2]`` as ``[inst·batch]``
        rows of the flattened per-side tables (:func:`~algolens.models.mlp_fused.flat_ids`) and
        ``targets`` ``[inst, batch]``."""
        n = self.cfg.d_vocab
        return flat_ids(tokens[..., 0], n), flat_ids(tokens[..., 1], n), targets

    def fused_loss_and_grads(
        self,
        batch: tuple[torch.Tensor, ...],
        alive: torch.Tensor,
        loss_dtype: torch.dtype,
        *,
        grads: dict[str, torch.Tensor],
        work: Workspace,
    ) -> torch.Tensor:
        """:func:`~algolens.models.mlp_fused.loss_and_grads` on ``batch``
        (:meth:`fused_batch`), its unembedding matmuls in ``cfg.matmul_dtype``."""
        a, b, targets = batch
        mm = self.fused_matmul_dtype
        return loss_and_grads(
            self, a, b, targets, alive, loss_dtype, grads=grads, work=work, matmul_dtype=mm
        )

    @property
    def fused_matmul_dtype(self) -> torch.dtype | None:
        """The dtype of the fused pass's unembedding matmuls (``cfg.matmul_dtype``; None: the
        parameters')."""
        mm = self.cfg.matmul_dtype
        return None if mm is None else getattr(torch, mm)

    def trains_with_bfloat16_matmuls(self) -> bool:
        """The fused pass's unembedding matmuls in bfloat16 (``matmul_dtype``, any ``dtype``)."""
        return self.fused_matmul_dtype == torch.bfloat16

    def _side(
        self, ids: torch.Tensor, embed: torch.Tensor, w_half: torch.Tensor, hook: HookPoint
    ) -> torch.Tensor:
        """Pre-activation contribution of one operand: ``[inst, batch, d_mlp]``."""
        if has_hooks(hook):  # the embedding is observed: compute it explicitly
            e = self._hook(hook, _gather_rows(embed, ids))  # [inst, batch, d_embed]
            return e @ w_half  # [inst, batch, d_mlp]
        return _gather_rows(embed @ w_half, ids)  # [inst, batch, d_mlp]


def _gather_rows(table: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """``out[i, j] = table[i, ids[i, j]]`` for ``table [inst, n, d]``, ``ids [inst, batch]``.

    Implemented as one ``F.embedding`` over the flattened table (its backward is a fast
    index-add), which beats advanced indexing on CPU.
    """
    n_inst, n, d = table.shape
    offsets = torch.arange(n_inst, device=ids.device)[:, None] * n  # [inst, 1]
    return F.embedding(ids + offsets, table.reshape(n_inst * n, d))  # [inst, batch, d]
