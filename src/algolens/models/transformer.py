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

import dataclasses
import math
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn
from transformer_lens.hook_points import HookPoint

from algolens.errors import ConfigError
from algolens.models.config import ModelConfig, check_choice, check_int, check_positive
from algolens.models.hooks import BatchedModel, InitSpec, const, normal

ACTS: tuple[str, ...] = ("relu", "gelu")
BIAS_MODES: tuple[str, ...] = ("frozen", "trainable", "none")


@dataclasses.dataclass(frozen=True)
class TransformerConfig(ModelConfig):
    """Config of :class:`Transformer` (defaults: the Chughtai et al. group transformer)."""

    d_vocab: int  # input vocabulary (|G| + 1 for [a, b, =])
    d_vocab_out: int  # output vocabulary (|G|)
    n_ctx: int = 3  # longest sequence (learned positions)
    n_layers: int = 1
    n_heads: int = 4
    d_model: int = 128
    d_head: int = 32
    d_mlp: int = 512
    act: Literal["relu", "gelu"] = "relu"
    layernorm: bool = False
    bias: Literal["frozen", "trainable", "none"] = "frozen"  # frozen: present, zero, no grad
    init_std: float | None = None  # weight std; None = 0.8/sqrt(d_model) (TransformerLens)
    n_inst: int = 1  # seeds trained as one computation
    dtype: str = "float32"

    # Read by transformer_lens.patching (not fields, not saved).
    n_key_value_heads: ClassVar[None] = None
    device: ClassVar[None] = None

    def problems(self) -> list[str]:
        p: list[str] = []
        for name in ("d_vocab", "d_vocab_out", "n_ctx", "n_layers", "n_heads", "d_model"):
            check_int(p, name, getattr(self, name))
        for name in ("d_head", "d_mlp", "n_inst"):
            check_int(p, name, getattr(self, name))
        check_choice(p, "act", self.act, ACTS)
        if not isinstance(self.layernorm, bool):
            p.append(f"layernorm must be true or false, got {self.layernorm!r}")
        check_choice(p, "bias", self.bias, BIAS_MODES)
        if self.init_std is not None:
            check_positive(p, "init_std", self.init_std)
        check_choice(p, "dtype", self.dtype, ("float32", "float64"))
        return p

    @property
    def weight_std(self) -> float:
        return self.init_std if self.init_std is not None else 0.8 / math.sqrt(self.d_model)


def _param(cfg: TransformerConfig, *shape: int) -> nn.Parameter:
    return nn.Parameter(torch.empty(cfg.n_inst, *shape, dtype=cfg.torch_dtype))


def _bias(module: nn.Module, name: str, cfg: TransformerConfig, *shape: int) -> None:
    """Register a bias as a trainable parameter, a frozen (zero, no-grad) buffer, or None."""
    if cfg.bias == "trainable":
        setattr(module, name, _param(cfg, *shape))
    elif cfg.bias == "frozen":
        module.register_buffer(name, torch.zeros(cfg.n_inst, *shape, dtype=cfg.torch_dtype))
    else:
        setattr(module, name, None)


class _Hooked(nn.Module):
    """A submodule whose forward routes hooks through the root's layout (see BatchedModel)."""

    def __init__(self, root_hook: callable) -> None:  # type: ignore[valid-type]
        super().__init__()
        object.__setattr__(self, "_h", root_hook)  # not a submodule


class LayerNorm(_Hooked):
    """``(x - mean) / sqrt(var + eps) · w + b`` over ``d_model``; hooks as in TransformerLens."""

    def __init__(self, cfg: TransformerConfig, root_hook: callable) -> None:  # type: ignore[valid-type]
        super().__init__(root_hook)
        self.w = _param(cfg, cfg.d_model)
        self.b = _param(cfg, cfg.d_model)
        self.hook_scale = HookPoint()  # [inst, batch, pos, 1]
        self.hook_normalized = HookPoint()  # [inst, batch, pos, d_model]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x - x.mean(-1, keepdim=True)
        scale = self._h(self.hook_scale, (x.pow(2).mean(-1, keepdim=True) + 1e-5).sqrt())
        x = self._h(self.hook_normalized, x / scale)  # [inst, batch, pos, d_model]
        return x * self.w[:, None, None, :] + self.b[:, None, None, :]


class Attention(_Hooked):
    """Causal multi-head self-attention with per-instance weights."""

    def __init__(self, cfg: TransformerConfig, root_hook: callable) -> None:  # type: ignore[valid-type]
        super().__init__(root_hook)
        self.cfg = cfg
        h, dm, dh = cfg.n_heads, cfg.d_model, cfg.d_head
        self.W_Q = _param(cfg, h, dm, dh)
        self.W_K = _param(cfg, h, dm, dh)
        self.W_V = _param(cfg, h, dm, dh)
        self.W_O = _param(cfg, h, dh, dm)
        _bias(self, "b_Q", cfg, h, dh)
        _bias(self, "b_K", cfg, h, dh)
        _bias(self, "b_V", cfg, h, dh)
        _bias(self, "b_O", cfg, dm)
        self.hook_k = HookPoint()  # [inst, batch, pos, head, d_head]
        self.hook_q = HookPoint()  # [inst, batch, pos, head, d_head]
        self.hook_v = HookPoint()  # [inst, batch, pos, head, d_head]
        self.hook_z = HookPoint()  # [inst, batch, pos, head, d_head]
        self.hook_attn_scores = HookPoint()  # [inst, batch, head, query_pos, key_pos]
        self.hook_pattern = HookPoint()  # [inst, batch, head, query_pos, key_pos]

    def forward(self, x: torch.Tensor, last_only: bool = False) -> torch.Tensor:
        """``x [inst, batch, pos, d_model]`` -> ``[inst, batch, pos, d_model]``.

        With ``last_only`` only the last query position is computed (output ``pos`` = 1).
        """
        c = self.cfg
        n_inst, batch, pos, dm = x.shape
        h, dh = c.n_heads, c.d_head
        w = torch.cat([self.W_Q, self.W_K, self.W_V], dim=1)  # [inst, 3·head, d_model, d_head]
        w = w.permute(0, 2, 1, 3).reshape(n_inst, dm, 3 * h * dh)  # [inst, d_model, 3·head·d_head]
        x = x.reshape(n_inst, batch * pos, dm)  # [inst, batch·pos, d_model]
        qkv = torch.bmm(x, w)  # [inst, batch·pos, 3·head·d_head]
        qkv = qkv.view(n_inst, batch, pos, 3, h, dh)  # [inst, batch, pos, 3, head, d_head]
        q, k, v = qkv.unbind(3)  # [inst, batch, pos, head, d_head] ×3
        if self.b_Q is not None:
            q = q + self.b_Q[:, None, None]
            k = k + self.b_K[:, None, None]
            v = v + self.b_V[:, None, None]
        if last_only:
            q = q[:, :, -1:]  # [inst, batch, 1, head, d_head]
        q = self._h(self.hook_q, q)
        k = self._h(self.hook_k, k)
        v = self._h(self.hook_v, v)
        n_q = q.shape[2]
        q_t, k_t = q.permute(0, 1, 3, 2, 4), k.permute(0, 1, 3, 4, 2)  # [.., head, pos, d_head]..
        scores = (q_t @ k_t) / math.sqrt(dh)  # [inst, batch, head, query_pos, key_pos]
        causal = torch.ones(pos, pos, dtype=torch.bool, device=x.device).tril()[pos - n_q :]
        scores = scores.masked_fill(~causal, float("-inf"))
        scores = self._h(self.hook_attn_scores, scores)
        pattern = self._h(self.hook_pattern, scores.softmax(dim=-1))
        z = pattern @ v.permute(0, 1, 3, 2, 4)  # [inst, batch, head, query_pos, d_head]
        z = self._h(self.hook_z, z.permute(0, 1, 3, 2, 4))  # [inst, batch, pos, head, d_head]
        w_o = self.W_O.reshape(n_inst, h * dh, dm)  # [inst, head·d_head, d_model]
        out = torch.bmm(z.reshape(n_inst, batch * n_q, h * dh), w_o)  # [inst, batch·pos, d_model]
        out = out.view(n_inst, batch, n_q, dm)  # [inst, batch, pos, d_model]
        if self.b_O is not None:
            out = out + self.b_O[:, None, None]
        return out


class MLPBlock(_Hooked):
    """``act(x · W_in + b_in) · W_out + b_out`` per position."""

    def __init__(self, cfg: TransformerConfig, root_hook: callable) -> None:  # type: ignore[valid-type]
        super().__init__(root_hook)
        self.act = F.relu if cfg.act == "relu" else F.gelu
        self.W_in = _param(cfg, cfg.d_model, cfg.d_mlp)
        _bias(self, "b_in", cfg, cfg.d_mlp)
        self.W_out = _param(cfg, cfg.d_mlp, cfg.d_model)
        _bias(self, "b_out", cfg, cfg.d_model)
        self.hook_pre = HookPoint()  # [inst, batch, pos, d_mlp]
        self.hook_post = HookPoint()  # [inst, batch, pos, d_mlp]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n_inst, batch, pos, dm = x.shape
        pre = torch.bmm(x.reshape(n_inst, batch * pos, dm), self.W_in)  # [inst, batch·pos, d_mlp]
        pre = pre.view(n_inst, batch, pos, -1)  # [inst, batch, pos, d_mlp]
        if self.b_in is not None:
            pre = pre + self.b_in[:, None, None]
        post = self._h(self.hook_post, self.act(self._h(self.hook_pre, pre)))
        post = post.reshape(n_inst, batch * pos, -1)  # [inst, batch·pos, d_mlp]
        out = torch.bmm(post, self.W_out)  # [inst, batch·pos, d_model]
        out = out.view(n_inst, batch, pos, dm)  # [inst, batch, pos, d_model]
        if self.b_out is not None:
            out = out + self.b_out[:, None, None]
        return out


class Block(_Hooked):
    """Pre-LN residual block: attention then MLP."""

    def __init__(self, cfg: TransformerConfig, root_hook: callable) -> None:  # type: ignore[valid-type]
        super().__init__(root_hook)
        if cfg.layernorm:
            self.ln1 = LayerNorm(cfg, root_hook)
            self.ln2 = LayerNorm(cfg, root_hook)
        self.attn = Attention(cfg, root_hook)
        self.mlp = MLPBlock(cfg, root_hook)
        self.hook_resid_pre = HookPoint()  # [inst, batch, pos, d_model]
        self.hook_attn_out = HookPoint()  # [inst, batch, pos, d_model]
        self.hook_resid_mid = HookPoint()  # [inst, batch, pos, d_model]
        self.hook_mlp_out = HookPoint()  # [inst, batch, pos, d_model]
        self.hook_resid_post = HookPoint()  # [inst, batch, pos, d_model]
        self.layernorm = cfg.layernorm

    def forward(self, resid: torch.Tensor, last_only: bool = False) -> torch.Tensor:
        h = self._h
        resid = h(self.hook_resid_pre, resid)  # [inst, batch, pos, d_model]
        x = self.ln1(resid) if self.layernorm else resid
        attn_out = h(self.hook_attn_out, self.attn(x, last_only=last_only))
        if last_only:
            resid = resid[:, :, -1:]  # [inst, batch, 1, d_model]
        resid = h(self.hook_resid_mid, resid + attn_out)
        x = self.ln2(resid) if self.layernorm else resid
        mlp_out = h(self.hook_mlp_out, self.mlp(x))
        return h(self.hook_resid_post, resid + mlp_out)


class Embed(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.W_E = _param(cfg, cfg.d_vocab, cfg.d_model)


class PosEmbed(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.W_pos = _param(cfg, cfg.n_ctx, cfg.d_model)


class Unembed(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.W_U = _param(cfg, cfg.d_model, cfg.d_vocab_out)
        _bias(self, "b_U", cfg, cfg.d_vocab_out)


class Transformer(BatchedModel):
    """Decoder-only transformer, K instances at once.

    Parameter names follow TransformerLens's state dict (``embed.W_E``, ``pos_embed.W_pos``,
    ``blocks.{i}.attn.W_Q`` ``[inst, head, d_model, d_head]``, ``blocks.{i}.mlp.W_in``,
    ``unembed.W_U``...), each with a leading ``inst`` axis. Weights are drawn
    ``N(0, weight_std²)``, biases are zero, LayerNorm scales one. Instances are seeded
    ``0..n_inst-1`` until :meth:`init_weights` is called.
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

    def forward(self, tokens: torch.Tensor, *, last_only: bool = False) -> torch.Tensor:
        """Logits at every position.

        Args:
            tokens: ``[inst, batch, pos]`` (``[batch, pos]`` if ``n_inst == 1``), ``pos ≤ n_ctx``.
            last_only: compute the last block after its attention scores at the last position
                only (hooks there then see ``pos = 1``); see :meth:`answer_logits`.

        Returns:
            ``[inst, batch, pos, d_vocab_out]`` (``pos = 1`` with ``last_only``; no ``inst`` for
            2-D tokens).
        """
        tokens = self._tokens(tokens)  # [inst, batch, pos]
        self._check_ids(tokens, self.cfg.d_vocab)
        n_inst, batch, pos = tokens.shape
        if pos > self.cfg.n_ctx:
            raise ConfigError(f"sequence of {pos} tokens is longer than n_ctx={self.cfg.n_ctx}")
        offsets = torch.arange(n_inst, device=tokens.device)[:, None, None] * self.cfg.d_vocab
        w_e = self.embed.W_E.reshape(-1, self.cfg.d_model)  # [inst·d_vocab, d_model]
        embed = F.embedding(tokens + offsets, w_e)  # [inst, batch, pos, d_model]
        pos_embed = self.pos_embed.W_pos[:, None, :pos].expand(-1, batch, -1, -1)  # same
        resid = self._hook(self.hook_embed, embed) + self._hook(self.hook_pos_embed, pos_embed)
        for i, block in enumerate(self.blocks):
            resid = block(resid, last_only=last_only and i == len(self.blocks) - 1)
        if self.cfg.layernorm:
            resid = self.ln_final(resid)
        logits = torch.bmm(resid.flatten(1, 2), self.unembed.W_U)  # [inst, batch·pos, d_vocab]
        logits = logits.view(n_inst, batch, resid.shape[2], -1)  # [inst, batch, pos, d_vocab]
        if self.unembed.b_U is not None:
            logits = logits + self.unembed.b_U[:, None, None]
        return self._out(logits)

    def answer_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits at the last position, ``[inst, batch, d_vocab_out]`` (``[batch, ...]`` for 2-D).

        Uses ``forward(tokens, last_only=True)``: equal to ``forward(tokens)[..., -1, :]`` up to
        float rounding, and about a third of the MLP and unembedding work for ``[a, b, =]``.
        """
        return self(tokens, last_only=True)[..., -1, :]


def last_position(logits: torch.Tensor) -> torch.Tensor:
    """``[..., pos, d_vocab]`` -> ``[..., d_vocab]``: the answer logits of a full forward."""
    return logits[..., -1, :]
