"""Decoder-only transformer with TransformerLens hook names and K seeded instances.

The architecture of the transformer in Chughtai et al. (2023) (1 layer, 4 heads, d_model 128,
d_head 32, d_mlp 512, ReLU, no LayerNorm, frozen zero biases, input ``[a, b, =]``, answer read at
the last position) and of Brinkmann et al. (2024) (6 layers, 1 head, GELU, LayerNorm). For one
instance and a sequence ``x`` of tokens::

    resid = W_E[x] + W_pos[:pos]
    for each block:  resid += Attn(LN1(resid));  resid += MLP(LN2(resid))
    logits = LN_final(resid) · W_U + b_U

with causal multi-head attention ``softmax(q·kᵀ/√d_head + causal mask) · v · W_O`` and
``MLP(x) = act(x·W_in + b_in)·W_out + b_out``. LayerNorms are the identity when
``layernorm=False``.

Hooks (exactly TransformerLens's names; every shape carries a leading ``inst``):
``hook_embed``, ``hook_pos_embed`` ``[inst, batch, pos, d_model]``;
``blocks.{i}.hook_resid_pre``; ``blocks.{i}.ln1.hook_scale`` ``[inst, batch, pos, 1]`` and
``blocks.{i}.ln1.hook_normalized`` (LayerNorm only); ``blocks.{i}.attn.hook_q/hook_k/hook_v``
``[inst, batch, pos, head, d_head]``; ``blocks.{i}.attn.hook_attn_scores`` and
``hook_pattern`` ``[inst, batch, head, query_pos, key_pos]``; ``blocks.{i}.attn.hook_z``
``[inst, batch, pos, head, d_head]``; ``blocks.{i}.hook_attn_out``, ``blocks.{i}.hook_resid_mid``
``[inst, batch, pos, d_model]``; ``blocks.{i}.mlp.hook_pre/hook_post``
``[inst, batch, pos, d_mlp]``; ``blocks.{i}.hook_mlp_out``, ``blocks.{i}.hook_resid_post``;
``ln_final.hook_scale/hook_normalized`` (LayerNorm only). With ``[batch, pos]`` tokens on a
single-instance model the ``inst`` axis is dropped everywhere (the TransformerLens layout).

Examples:
    >>> cfg = TransformerConfig(d_vocab=7, d_vocab_out=6, n_ctx=3, d_model=16, d_head=4,
    ...                         n_heads=4, d_mlp=32, n_inst=2)
    >>> model = Transformer(cfg)
    >>> tokens = torch.tensor([[0, 1, 6], [2, 3, 6]]).expand(2, 2, 3)  # [inst, batch, pos]
    >>> tuple(model(tokens).shape), tuple(model.answer_logits(tokens).shape)
    ((2, 2, 3, 6), (2, 2, 6))
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformer_lens.hook_points import HookPoint

from algolens.errors import ConfigError
from algolens.models.hooks import BatchedModel, InitSpec, const, has_hooks, normal
from algolens.models.transformer_blocks import Block, Embed, LayerNorm, PosEmbed, Unembed, linear
from algolens.models.transformer_config import ACTS, BIAS_MODES, TransformerConfig

__all__ = ["ACTS", "BIAS_MODES", "Transformer", "TransformerConfig", "last_position"]


class Transformer(BatchedModel):
    """Decoder-only transformer, K instances at once.

    Parameter names follow TransformerLens's state dict (``embed.W_E``, ``pos_embed.W_pos``,
    ``blocks.{i}.attn.W_Q`` ``[inst, head, d_model, d_head]``, ``blocks.{i}.mlp.W_in``,
    ``unembed.W_U``...), each with a leading ``inst`` axis. Weights are drawn
    ``N(0, weight_std²)``, biases are zero, LayerNorm scales one. Instances are seeded
    ``0..n_inst-1`` until :meth:`init_weights` is called.

    :meth:`answer_logits` (``forward(tokens, answer=True)``) equals
    ``forward(tokens)[..., -1, :]`` up to float rounding but computes the last block after its
    attention scores at the last position only (a third of the MLP and unembedding work for
    ``[a, b, =]``); with ``fold_embed`` the first layer's Q/K/V are table lookups.
    """

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        h = self._hook
        self.embed = Embed(cfg)
        self.hook_embed = HookPoint()  # [inst, batch, pos, d_model]
        self.pos_embed = PosEmbed(cfg)
        self.hook_pos_embed = HookPoint()  # [inst, batch, pos, d_model]
        self.blocks = nn.ModuleList([Block(cfg, h) for _ in range(cfg.n_layers)])
        if cfg.layernorm:
            self.ln_final = LayerNorm(cfg, h)
        self.unembed = Unembed(cfg)
        self.setup()
        self.init_weights(range(cfg.n_inst))

    def init_specs(self) -> list[InitSpec]:
        c = self.cfg
        w = normal(c.weight_std)
        specs: list[InitSpec] = [("embed.W_E", w), ("pos_embed.W_pos", w)]
        for i in range(c.n_layers):
            b = f"blocks.{i}."
            specs += [(b + n, w) for n in ("attn.W_Q", "attn.W_K", "attn.W_V", "attn.W_O")]
            specs += [(b + "mlp.W_in", w), (b + "mlp.W_out", w)]
        specs.append(("unembed.W_U", w))
        names = dict(self.named_parameters()) | dict(self.named_buffers())
        zero = const(0.0)
        for i in range(c.n_layers):
            b = f"blocks.{i}."
            for n in ("attn.b_Q", "attn.b_K", "attn.b_V", "attn.b_O", "mlp.b_in", "mlp.b_out"):
                if b + n in names:
                    specs.append((b + n, zero))
            if c.layernorm:
                specs += [(b + "ln1.w", const(1.0)), (b + "ln1.b", zero)]
                specs += [(b + "ln2.w", const(1.0)), (b + "ln2.b", zero)]
        if c.layernorm:
            specs += [("ln_final.w", const(1.0)), ("ln_final.b", zero)]
        if "unembed.b_U" in names:
            specs.append(("unembed.b_U", zero))
        return specs

    def _n_live(self) -> int:
        return int(self.unembed.W_U.shape[0])

    def training_precision(self) -> contextlib.AbstractContextManager[Any]:
        """Mixed precision for a training forward: with ``cfg.matmul_dtype == "bfloat16"`` on a
        float32 model, ``torch.autocast`` (on the parameters' device type) to bfloat16, else a
        null context (a float64 copy made for an analysis computes in float64).

        Inside it the weight matmuls (Q/K/V/O projections, both MLP matmuls, the unembedding)
        and the long-context attention's two batched matmuls take bfloat16 inputs (the BLAS
        accumulates in float32 and returns bfloat16). The residual stream, LayerNorm, the
        attention scores and softmax, the logits, the loss and every gradient of a parameter
        stay in the parameters' dtype (float32). Only a trainer enters it, around the training
        forward; evaluation and analyses never do, so they compute in ``dtype``.
        """
        if not self.trains_with_bfloat16_matmuls():
            return contextlib.nullcontext()
        return torch.autocast(self.unembed.W_U.device.type, dtype=torch.bfloat16)

    def trains_with_bfloat16_matmuls(self) -> bool:
        """``matmul_dtype == "bfloat16"`` on a float32 model (the option acts on no other)."""
        return self.cfg.matmul_dtype == "bfloat16" and self.cfg.dtype == "float32"

    def forward(
        self, tokens: torch.Tensor, *, last_only: bool = False, answer: bool = False
    ) -> torch.Tensor:
        """Logits at every position.

        Args:
            tokens: ``[inst, batch, pos]`` (``[batch, pos]`` if ``n_inst == 1``), ``pos ≤ n_ctx``.
            last_only: compute the last block after its attention scores at the last position
                only (hooks there then see ``pos = 1``).
            answer: ``last_only`` and drop the ``pos`` axis: the answer logits
                ``[inst, batch, d_vocab_out]`` (see :meth:`answer_logits`).

        Returns:
            ``[inst, batch, pos, d_vocab_out]`` (``pos = 1`` with ``last_only``; no ``pos`` with
            ``answer``; no ``inst`` for 2-D tokens).
        """
        last_only = last_only or answer
        tokens = self._tokens(tokens)  # [inst, batch, pos]
        self._check_ids(tokens, self.cfg.d_vocab)
        n_inst, batch, pos = tokens.shape
        if pos > self.cfg.n_ctx:
            raise ConfigError(f"sequence of {pos} tokens is longer than n_ctx={self.cfg.n_ctx}")
        qkv = None
        if self._can_fold():
            resid, qkv = self._folded_embed(tokens, last_only)
        else:
            offsets = torch.arange(n_inst, device=tokens.device)[:, None, None] * self.cfg.d_vocab
            w_e = self.embed.W_E.reshape(-1, self.cfg.d_model)  # [inst·d_vocab, d_model]
            embed = F.embedding(tokens + offsets, w_e)  # [inst, batch, pos, d_model]
            pos_embed = self.pos_embed.W_pos[:, None, :pos].expand(-1, batch, -1, -1)  # same
            resid = self._hook(self.hook_embed, embed) + self._hook(self.hook_pos_embed, pos_embed)
        for i, block in enumerate(self.blocks):
            last = last_only and i == len(self.blocks) - 1
            resid = block(resid, last_only=last, qkv=qkv if i == 0 else None)
        if self.cfg.layernorm:
            resid = self.ln_final(resid)
        n_pos = resid.shape[2]
        resid = resid.flatten(1, 2)  # [inst, batch·pos, d_model]
        logits = linear(resid, self.unembed.W_U, self.unembed.b_U)  # [inst, batch·pos, d_vocab]
        logits = logits.to(self.unembed.W_U.dtype)  # bfloat16 under training_precision
        logits = self._out(logits.view(n_inst, batch, n_pos, -1))  # [inst, batch, pos, d_vocab]
        return logits[..., -1, :] if answer else logits  # [inst, batch, d_vocab] if answer

    def _can_fold(self) -> bool:
        """Fold the first layer's Q/K/V into per-(token, position) tables? Only without
        LayerNorm and when no hook observes or edits the stream before those projections."""
        if self.cfg.layernorm or not self.cfg.fold_embed:
            return False
        hooks = (self.hook_embed, self.hook_pos_embed, self.blocks[0].hook_resid_pre)
        return not any(has_hooks(hp) for hp in hooks)

    def _folded_embed(
        self, tokens: torch.Tensor, last_only: bool
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Residual stream and first-layer q, k, v by table lookup.

        The stream entering block 0 at position p is ``R[t, p] = W_E[t] + W_pos[p]``: a function
        of the pair (t, p), of which there are only ``d_vocab · pos``. So ``resid = R[t, p]`` and
        ``q = R[t, p] · W_Q + b_Q`` (likewise k, v) are rows of small tables computed from the
        parameters on each call (differentiable, exact up to float rounding), instead of
        ``batch · pos`` row matmuls.

        Returns:
            ``resid [inst, batch, pos, d_model]`` and ``(q, k, v)``, each
            ``[inst, batch, pos, head·d_head]`` (resid and q at the last position only if
            ``last_only`` and block 0 is the last block).
        """
        n_inst, batch, pos = tokens.shape
        d_vocab, dm = self.cfg.d_vocab, self.cfg.d_model
        w_e, w_pos = self.embed.W_E[:, :, None], self.pos_embed.W_pos[:, None, :pos]
        table = (w_e + w_pos).reshape(n_inst, d_vocab * pos, dm)  # [inst, d_vocab·pos, d_model]
        rows = d_vocab * pos
        ids = tokens * pos + torch.arange(pos, device=tokens.device)  # [inst, batch, pos]
        ids = ids + torch.arange(n_inst, device=tokens.device)[:, None, None] * rows

        def lookup(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
            return F.embedding(idx, t.reshape(n_inst * rows, -1))  # [inst, batch, pos, -1]

        attn = self.blocks[0].attn
        # a one-block answer pass needs queries and the stream at the last position only
        last_ids = ids[:, :, -1:] if last_only and len(self.blocks) == 1 else ids
        q = lookup(linear(table, *attn.projection("Q")), last_ids)  # [inst, batch, pos, h·dh]
        k = lookup(linear(table, *attn.projection("K")), ids)  # [inst, batch, pos, h·dh]
        v = lookup(linear(table, *attn.projection("V")), ids)  # [inst, batch, pos, h·dh]
        return lookup(table, last_ids), (q, k, v)  # resid: [inst, batch, pos, d_model]


def last_position(logits: torch.Tensor) -> torch.Tensor:
    """``[..., pos, d_vocab]`` -> ``[..., d_vocab]``: the answer logits of a full forward."""
    return logits[..., -1, :]
