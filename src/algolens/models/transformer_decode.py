"""Greedy decoding of a :class:`~algolens.models.transformer.Transformer` with a key/value cache.

:func:`algolens.tasks.sequence.greedy_decode` runs the whole model on the buffer once per answer
token, so writing ``S`` tokens after a prompt of ``P`` costs about ``S · (P + S/2)`` position
passes. Causal attention makes every position's keys, values and residual stream depend only on
the tokens up to it, so each layer's keys and values can be kept (the cache) and each step needs
one new position per row: ``P + S`` position passes in all.

Rows of a batch have prompts of different lengths, so at step ``s`` row ``r`` is at its own
position ``p_r = prompt_len_r - 1 + s``. The cache is filled by one pass over the longest prompt
(the prefill; a shorter prompt's later positions hold ``pad`` and are overwritten before they are
read, since a step writes position ``p_r`` before attending over keys ``0..p_r``), then each step
computes one position per row: ``resid = W_E[token] + W_pos[p_r]``, and for every block the
query, key and value at ``p_r`` (the key and value stored at ``p_r``), attention over the row's
keys ``0..p_r``, the MLP, then the unembedding.

The result equals :func:`~algolens.tasks.sequence.greedy_decode` on the same model up to float
rounding of the logits (the same formula with other shapes of matmul), so a token may differ only
where two logits tie to rounding. Hooks are not run: :func:`can_cache` is False for a model with
any hook attached, and the caller then uses the plain decoder.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from transformer_lens.hook_points import HookPoint

from algolens.errors import ConfigError
from algolens.models.hooks import has_hooks
from algolens.models.transformer import Transformer
from algolens.models.transformer_blocks import Block, linear


def can_cache(model: object) -> bool:
    """Whether :func:`cached_greedy_decode` may stand in for the plain decoder: ``model`` is a
    :class:`Transformer` with no hook attached anywhere (a hook would expect full passes)."""
    if not isinstance(model, Transformer):
        return False
    return not any(has_hooks(m) for m in model.modules() if isinstance(m, HookPoint))


@torch.no_grad()
def cached_greedy_decode(
    model: Transformer, data: Any, n_inst: int, steps: int | None = None
) -> torch.Tensor:
    """Each instance writes its own answers from the prompts, greedily, with a key/value cache.

    Same contract as :func:`algolens.tasks.sequence.greedy_decode`: ``steps`` tokens a row
    (default: the longest ``answer <eos>``), a row stops at the buffer's end (``pad`` after).

    Args:
        model: a hook-free transformer of ``n_inst`` live instances (:func:`can_cache`).
        data: the examples, a :class:`algolens.tasks.sequence.PackedSequences` (only its
            prompts are read: ``tokens [N, T]``, ``prompt_len``, ``answer_len``, ``pad``; not
            imported here, as models lie below tasks).

    Returns:
        ``[inst, N, steps]`` int64 on the CPU: the written tokens.
    """
    steps = int(data.answer_len.max()) if steps is None else steps
    n, width = data.tokens.shape
    out = torch.full((n_inst, n, steps), data.pad, dtype=torch.int64)  # [inst, N, steps]
    if steps == 0 or n == 0:
        return out
    device = model.unembed.W_U.device
    first = (data.prompt_len - 1).to(device)  # [N], the position whose logits give token 0
    prefill = int(data.prompt_len.max())  # positions the prefill computes
    reach = max(prefill, min(width - 1, int(first.max()) + steps))  # positions ever computed
    if reach > model.cfg.n_ctx:
        raise ConfigError(f"sequence of {reach} tokens is longer than n_ctx={model.cfg.n_ctx}")
    prompts = data.tokens[:, :prefill].to(device)  # [N, prefill]
    keep = torch.arange(prefill, device=device)[None, :] < first[:, None] + 1
    prompts = torch.where(keep, prompts, torch.full_like(prompts, data.pad))
    prompts = model._tokens(prompts.expand(n_inst, n, prefill))  # [inst, N, prefill], checked
    model._check_ids(prompts, model.cfg.d_vocab)
    cache = _Cache(model, n_inst, n, reach)
    resid = cache.prefill(prompts)  # [inst, N, prefill, d_model]
    rows = torch.arange(n, device=device)
    last = resid[:, rows, first.clamp(max=prefill - 1)]  # [inst, N, d_model]
    for s in range(steps):
        pos = first + s  # [N]
        live = pos < width - 1  # [N], room left in the buffer
        if not bool(live.any()):
            break
        if s > 0:  # the token written at step s-1 sits at position pos
            last = cache.step(out[:, :, s - 1].to(device), pos.clamp(max=width - 2))
        nxt = cache.logits(last).argmax(-1)  # [inst, N]
        out[:, :, s] = torch.where(live[None, :], nxt, torch.full_like(nxt, data.pad)).cpu()
    return out


class _Cache:
    """Keys and values of every block at every position of ``rows`` rows, ``[inst, rows, width,
    head·d_head]`` each, and the passes that fill and read them."""

    def __init__(self, model: Transformer, n_inst: int, rows: int, width: int) -> None:
        cfg = model.cfg
        self.model = model
        self.h, self.dh = cfg.n_heads, cfg.d_head
        like = model.unembed.W_U
        shape = (n_inst, rows, width, cfg.n_heads * cfg.d_head)
        self.k = [like.new_zeros(shape) for _ in model.blocks]
        self.v = [like.new_zeros(shape) for _ in model.blocks]

    def _embed(self, tokens: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """``W_E[tokens] + W_pos[pos]``: tokens ``[inst, N, q]``, pos ``[N, q]`` ->
        ``[inst, N, q, d_model]``."""
        m = self.model
        inst = torch.arange(tokens.shape[0], device=tokens.device)[:, None, None]
        return m.embed.W_E[inst, tokens] + m.pos_embed.W_pos[inst, pos[None]]

    def prefill(self, tokens: torch.Tensor) -> torch.Tensor:
        """Fill positions ``0..q-1`` from ``tokens [inst, N, q]``; the final residual stream
        ``[inst, N, q, d_model]``."""
        _, n, q = tokens.shape
        pos = torch.arange(q, device=tokens.device).expand(n, q)  # [N, q]
        return self._blocks(self._embed(tokens, pos), pos)

    def step(self, tokens: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """One new position a row: ``tokens [inst, N]`` at ``pos [N]``; the final residual stream
        there, ``[inst, N, d_model]``."""
        return self._blocks(self._embed(tokens[..., None], pos[:, None]), pos[:, None])[:, :, 0]

    def logits(self, resid: torch.Tensor) -> torch.Tensor:
        """``[inst, N, d_model]`` -> ``[inst, N, d_vocab_out]`` (final LayerNorm, unembedding)."""
        m = self.model
        if m.cfg.layernorm:
            resid = m.ln_final(resid[:, :, None])[:, :, 0]
        return linear(resid, m.unembed.W_U, m.unembed.b_U)

    def _blocks(self, resid: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """Run every block on the new positions ``pos [N, q]`` (stream ``[inst, N, q, d_model]``),
        storing their keys and values first."""
        for i, block in enumerate(self.model.blocks):
            resid = self._block(i, block, resid, pos)
        return resid

    def _block(self, i: int, block: Block, resid: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        n_inst, n, q, dm = resid.shape
        h, dh = self.h, self.dh
        x = block.ln1(resid) if block.layernorm else resid
        flat = x.reshape(n_inst, n * q, dm)
        qry, key, val = (
            linear(flat, *block.attn.projection(name)).view(n_inst, n, q, h * dh)
            for name in ("Q", "K", "V")
        )
        rows = torch.arange(n, device=pos.device)[:, None].expand(n, q)  # [N, q]
        self.k[i][:, rows, pos] = key
        self.v[i][:, rows, pos] = val
        reach = int(pos.max()) + 1  # keys any new position may read
        keys = self.k[i][:, :, :reach].view(n_inst, n, reach, h, dh)
        vals = self.v[i][:, :, :reach].view(n_inst, n, reach, h, dh)
        qry = qry.view(n_inst, n, q, h, dh)
        scores = torch.einsum("inqhd,inkhd->inhqk", qry, keys) / math.sqrt(dh)
        visible = torch.arange(reach, device=pos.device)[None, None, :] <= pos[:, :, None]
        scores = scores.masked_fill(~visible[None, :, None], float("-inf"))  # [inst, N, h, q, k]
        z = torch.einsum("inhqk,inkhd->inqhd", scores.softmax(-1), vals)  # [inst, N, q, h, dh]
        attn = block.attn
        w_o = attn.W_O.reshape(n_inst, h * dh, dm)
        out = linear(z.reshape(n_inst, n * q, h * dh), w_o, attn.b_O).view(n_inst, n, q, dm)
        resid = resid + out
        x = block.ln2(resid) if block.layernorm else resid
        return resid + block.mlp(x)
