"""The transformer's layers: LayerNorm, causal multi-head attention, MLP, block, embeddings.

Every parameter carries a leading ``inst`` axis (K seeded instances trained at once); activations
pass through the root model's hook (see :class:`algolens.models.hooks.BatchedModel`) under the
TransformerLens names listed in :mod:`algolens.models.transformer`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from transformer_lens.hook_points import HookPoint

from algolens.models.hooks import has_hooks
from algolens.models.transformer_config import TransformerConfig

LN_EPS = 1e-5
"""LayerNorm's epsilon, added to the variance (TransformerLens's default)."""

SHORT_CONTEXT = 8
"""Up to this many positions attention is computed by broadcasting instead of batched matmuls."""

HookFn = Callable[[HookPoint, torch.Tensor], torch.Tensor]
"""The root model's ``_hook``: passes an activation through a HookPoint in the current layout."""


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
    """``(x - mean) / sqrt(var + eps) · w + b`` over ``d_model``; hooks as in TransformerLens.

    With no hook on ``hook_scale`` or ``hook_normalized`` the same function runs as one fused
    ``F.layer_norm`` (about 5x fewer passes over the stream, forward and backward); equal to the
    hooked form up to float rounding (the variance is summed in another order).
    """

    def __init__(self, cfg: TransformerConfig, root_hook: HookFn) -> None:
        super().__init__(root_hook)
        self.w = _param(cfg, cfg.d_model)
        self.b = _param(cfg, cfg.d_model)
        self.hook_scale = HookPoint()  # [inst, batch, pos, 1]
        self.hook_normalized = HookPoint()  # [inst, batch, pos, d_model]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x [inst, batch, pos, d_model]`` -> the same shape."""
        if not (has_hooks(self.hook_scale) or has_hooks(self.hook_normalized)):
            return self._fused(x)
        x = x - x.mean(-1, keepdim=True)
        scale = self._h(self.hook_scale, (x.pow(2).mean(-1, keepdim=True) + LN_EPS).sqrt())
        x = self._h(self.hook_normalized, x / scale)  # [inst, batch, pos, d_model]
        return x * self.w[:, None, None, :] + self.b[:, None, None, :]

    def _fused(self, x: torch.Tensor) -> torch.Tensor:
        d = (x.shape[-1],)
        if x.shape[0] == 1:  # one instance: the affine map fused in too
            return F.layer_norm(x, d, self.w[0], self.b[0], eps=LN_EPS)
        normalized = F.layer_norm(x, d, eps=LN_EPS)  # [inst, batch, pos, d_model]
        return torch.addcmul(self.b[:, None, None, :], normalized, self.w[:, None, None, :])


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
                linear(y.reshape(n_inst, -1, dm), *self.projection(name))  # [inst, b·p, h·dh]
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
        dt = self.W_O.dtype  # scores and softmax in it (q, k, v are bfloat16 under autocast)
        if pos <= SHORT_CONTEXT:  # broadcast-and-sum beats batches of tiny matmuls
            q, k, v = q.to(dt), k.to(dt), v.to(dt)  # elementwise work, not matmuls
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
            scores = (q_t @ k_t).to(dt) / math.sqrt(dh)  # [inst, batch, head, q_pos, k_pos]
            scores = self._h(self.hook_attn_scores, scores.masked_fill(~causal, float("-inf")))
            pattern = self._h(self.hook_pattern, scores.softmax(dim=-1))
            z = pattern @ v.permute(0, 1, 3, 2, 4)  # [inst, batch, head, query_pos, d_head]
            z = z.permute(0, 1, 3, 2, 4)  # [inst, batch, pos, head, d_head]
        z = self._h(self.hook_z, z)
        w_o = self.W_O.reshape(n_inst, h * dh, dm)  # [inst, head·d_head, d_model]
        z = z.reshape(n_inst, batch * n_q, h * dh)  # [inst, batch·pos, head·d_head]
        out = linear(z, w_o, self.b_O)  # [inst, batch·pos, d_model]
        return out.view(n_inst, batch, n_q, dm)  # [inst, batch, pos, d_model]


def linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
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
        pre = linear(x, self.W_in, self.b_in)  # [inst, batch·pos, d_mlp]
        pre = pre.view(n_inst, batch, pos, -1)  # [inst, batch, pos, d_mlp]
        post = self._h(self.hook_post, self.act(self._h(self.hook_pre, pre)))
        post = post.reshape(n_inst, batch * pos, -1)  # [inst, batch·pos, d_mlp]
        out = linear(post, self.W_out, self.b_out)  # [inst, batch·pos, d_model]
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
