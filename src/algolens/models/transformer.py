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
from collections.abc import Callable
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn
from transformer_lens.hook_points import HookPoint

from algolens.errors import ConfigError
from algolens.models.config import ModelConfig, check_choice, check_int, check_positive
from algolens.models.hooks import BatchedModel, InitSpec, const, has_hooks, normal

ACTS: tuple[str, ...] = ("relu", "gelu")
BIAS_MODES: tuple[str, ...] = ("frozen", "trainable", "none")

SHORT_CONTEXT = 8
"""Up to this many positions attention is computed by broadcasting instead of batched matmuls."""

HookFn = Callable[[HookPoint, torch.Tensor], torch.Tensor]
"""The root model's ``_hook``: passes an activation through a HookPoint in the current layout."""


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
    fold_embed: bool = True  # first-layer Q/K/V by table lookup when no hook needs the stream
    n_inst: int = 1  # seeds trained as one computation
    dtype: str = "float32"

    # Read by transformer_lens.patching and ActivationCache helpers (not fields, not saved).
    n_key_value_heads: ClassVar[None] = None
    device: ClassVar[None] = None
    attn_only: ClassVar[bool] = False

    @property
    def normalization_type(self) -> str | None:
        """TransformerLens's name for the norm: ``"LN"`` or None."""
        return "LN" if self.layernorm else None

    def problems(self) -> list[str]:
        p: list[str] = []
        for name in ("d_vocab", "d_vocab_out", "n_ctx", "n_layers", "n_heads", "d_model"):
            check_int(p, name, getattr(self, name))
        for name in ("d_head", "d_mlp", "n_inst"):
            check_int(p, name, getattr(self, name))
        check_choice(p, "act", self.act, ACTS)
        if not isinstance(self.fold_embed, bool):
            p.append(f"fold_embed must be true or false, got {self.fold_embed!r}")
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

    def __init__(self, root_hook: HookFn) -> None:
        super().__init__()
        object.__setattr__(self, "_h", root_hook)  # not a submodule


class LayerNorm(_Hooked):
    """``(x - mean) / sqrt(var + eps) · w + b`` over ``d_model``; hooks as in TransformerLens."""

    def __init__(self, cfg: TransformerConfig, root_hook: HookFn) -> None:
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

    def __init__(self, cfg: TransformerConfig, root_hook: HookFn) -> None:
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

    def projection(self, name: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Weight and bias of projection ``name`` (``"Q"``, ``"K"``, ``"V"``) as one linear map:
        ``[inst, d_model, head·d_head]`` and ``[inst, head·d_head]`` (None without biases)."""
        w = getattr(self, "W_" + name)  # [inst, head, d_model, d_head]
        n_inst, h, dm, dh = w.shape
        w = w.permute(0, 2, 1, 3).reshape(n_inst, dm, h * dh)  # [inst, d_model, head·d_head]
        b = getattr(self, "b_" + name)
        return w, None if b is None else b.reshape(n_inst, h * dh)  # [inst, head·d_head]

    def forward(
        self,
        x: torch.Tensor,
        last_only: bool = False,
        qkv: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """``x [inst, batch, pos, d_model]`` -> ``[inst, batch, pos, d_model]``.

        Args:
            x: the (normalised) residual stream (unused when ``qkv`` is given).
            last_only: compute only the last query position (output ``pos`` = 1).
            qkv: ``(q, k, v)``, each ``[inst, batch, pos, head·d_head]`` (q may hold the last
                position only), when the caller already has them (the folded first layer).
        """
        c = self.cfg
        h, dh, dm = c.n_heads, c.d_head, c.d_model
        if qkv is None:
            n_inst, batch, pos, _ = x.shape
            x_q = x[:, :, -1:] if last_only else x  # queries needed
            q, k, v = (
                _linear(y.reshape(n_inst, -1, dm), *self.projection(name))  # [inst, b·p, h·dh]
                for y, name in ((x_q, "Q"), (x, "K"), (x, "V"))
            )
        else:
            q, k, v = qkv
            n_inst, batch, pos, _ = k.shape
        q = q.reshape(n_inst, batch, -1, h, dh)  # [inst, batch, pos, head, d_head]
        if last_only and q.shape[2] > 1:
            q = q[:, :, -1:]  # [inst, batch, 1, head, d_head]
        k = k.reshape(n_inst, batch, pos, h, dh)  # [inst, batch, pos, head, d_head]
        v = v.reshape(n_inst, batch, pos, h, dh)  # [inst, batch, pos, head, d_head]
        q, k, v = self._h(self.hook_q, q), self._h(self.hook_k, k), self._h(self.hook_v, v)
        n_q = q.shape[2]
        causal = torch.ones(pos, pos, dtype=torch.bool, device=k.device).tril()[pos - n_q :]
        if pos <= SHORT_CONTEXT:  # broadcast-and-sum beats batches of tiny matmuls
            # work in [inst, batch, query_pos, key_pos, head]; hooks see permuted views
            to_hooks, from_hooks = (0, 1, 4, 2, 3), (0, 1, 3, 4, 2)
            scores = (q[:, :, :, None] * k[:, :, None]).sum(-1)  # [inst, batch, q, k, head]
            scores = (scores / math.sqrt(dh)).masked_fill(~causal[:, :, None], float("-inf"))
            scores = self._h(self.hook_attn_scores, scores.permute(to_hooks)).permute(from_hooks)
            pattern = scores.softmax(dim=3)  # [inst, batch, query_pos, key_pos, head]
            pattern = self._h(self.hook_pattern, pattern.permute(to_hooks)).permute(from_hooks)
            z = (pattern[..., None] * v[:, :, None]).sum(3)  # [inst, batch, pos, head, d_head]
        else:
            q_t = q.permute(0, 1, 3, 2, 4)  # [inst, batch, head, query_pos, d_head]
            k_t = k.permute(0, 1, 3, 4, 2)  # [inst, batch, head, d_head, key_pos]
            scores = (q_t @ k_t) / math.sqrt(dh)  # [inst, batch, head, query_pos, key_pos]
            scores = self._h(self.hook_attn_scores, scores.masked_fill(~causal, float("-inf")))
            pattern = self._h(self.hook_pattern, scores.softmax(dim=-1))
            z = pattern @ v.permute(0, 1, 3, 2, 4)  # [inst, batch, head, query_pos, d_head]
            z = z.permute(0, 1, 3, 2, 4)  # [inst, batch, pos, head, d_head]
        z = self._h(self.hook_z, z)
        w_o = self.W_O.reshape(n_inst, h * dh, dm)  # [inst, head·d_head, d_model]
        z = z.reshape(n_inst, batch * n_q, h * dh)  # [inst, batch·pos, head·d_head]
        out = _linear(z, w_o, self.b_O)  # [inst, batch·pos, d_model]
        return out.view(n_inst, batch, n_q, dm)  # [inst, batch, pos, d_model]


def _linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """``x [inst, rows, d_in] · w [inst, d_in, d_out] (+ b [inst, d_out])``, bias fused in."""
    if b is None:
        return torch.bmm(x, w)  # [inst, rows, d_out]
    return torch.baddbmm(b[:, None, :], x, w)  # [inst, rows, d_out]


class MLPBlock(_Hooked):
    """``act(x · W_in + b_in) · W_out + b_out`` per position."""

    def __init__(self, cfg: TransformerConfig, root_hook: HookFn) -> None:
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
        x = x.reshape(n_inst, batch * pos, dm)  # [inst, batch·pos, d_model]
        pre = _linear(x, self.W_in, self.b_in)  # [inst, batch·pos, d_mlp]
        pre = pre.view(n_inst, batch, pos, -1)  # [inst, batch, pos, d_mlp]
        post = self._h(self.hook_post, self.act(self._h(self.hook_pre, pre)))
        post = post.reshape(n_inst, batch * pos, -1)  # [inst, batch·pos, d_mlp]
        out = _linear(post, self.W_out, self.b_out)  # [inst, batch·pos, d_model]
        return out.view(n_inst, batch, pos, dm)  # [inst, batch, pos, d_model]


class Block(_Hooked):
    """Pre-LN residual block: attention then MLP."""

    def __init__(self, cfg: TransformerConfig, root_hook: HookFn) -> None:
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

    def forward(
        self,
        resid: torch.Tensor,
        last_only: bool = False,
        qkv: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        h = self._h
        resid = h(self.hook_resid_pre, resid)  # [inst, batch, pos, d_model]
        x = self.ln1(resid) if self.layernorm else resid
        attn_out = h(self.hook_attn_out, self.attn(x, last_only=last_only, qkv=qkv))
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
        logits = _linear(resid, self.unembed.W_U, self.unembed.b_U)  # [inst, batch·pos, d_vocab]
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
        q = lookup(_linear(table, *attn.projection("Q")), last_ids)  # [inst, batch, pos, h·dh]
        k = lookup(_linear(table, *attn.projection("K")), ids)  # [inst, batch, pos, h·dh]
        v = lookup(_linear(table, *attn.projection("V")), ids)  # [inst, batch, pos, h·dh]
        return lookup(table, last_ids), (q, k, v)  # resid: [inst, batch, pos, d_model]


def last_position(logits: torch.Tensor) -> torch.Tensor:
    """``[..., pos, d_vocab]`` -> ``[..., d_vocab]``: the answer logits of a full forward."""
    return logits[..., -1, :]
