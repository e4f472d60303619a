"""The integer reference model Q of our decoder transformer (``models/transformer.py``).

For one instance without LayerNorm, p-bit integers, ``T = 2^(p-1) - 1``, ``E = 2^p - 1``; the
answer is read at the last position. ``RQ`` is a requantisation ``clamp(round(x·M/2^s))``::

    resid[i]  = R[token_i, i] << k_e                   # R = (W_E + W_pos) / (σ_r·2^k_e), p-bit
    per block:
      q, k, v = RQ(resid · W + b)                      # p-bit at σ_q, σ_k, σ_v
      s[i, j] = RQ(Σ_d q[i]·k[j])                      # p-bit at σ_s ≈ max|q·k/√d_head| / T
      u[i, j] = s[i, j] - max_{j' ≤ i} s[i, j']        # causal
      e[i, j] = EXP[u] = clamp(round(E · exp(u·σ_s)), 0, E)      # a table; EXP[0] = E ≥ 1
      z[i]    = clamp(floor((2·Σ_j e_j v_j + Σ_j e_j) / (2·Σ_j e_j)), -T, T)   # rounded mean
      resid  += RQ(z · W_O + b_O) << k_o               # p-bit at σ_r·2^k_o
      h       = RQ_relu(resid · W_in + b_in)           # 0..E    (GELU: RQ to p bits, then a table)
      resid  += RQ(h · W_out + b_out) << k_m
    logits = resid[last] · W_U + b_U;   answer = argmax (lowest index on ties)

**The residual stream** is an exact integer at a fine unit ``σ_r``; each addend (embedding,
attention output, MLP output) is a p-bit integer at its own scale ``σ_r · 2^k`` and enters the
stream shifted by ``k``. The embedding is often much smaller than the MLP outputs (0.48 against
20.5 in a C11 transformer), so one p-bit scale for the whole stream left it a handful of levels
(Q agreed with the float network on 88 % of inputs at 8 bits; with the shifts, 99 %). The shifts
cost no gates: they are integer weights of linear forms.

Weights are symmetric p-bit per matrix; biases sit at the accumulator's scale. Activation scales
come from the float network on calibration inputs (max |·| maps to the top of the range), computed
by :func:`float_forward`, a float64 copy of the model's forward pass that records maxima.
The last block computes its queries at the last position only.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import torch

from algolens.errors import SpecError
from algolens.logic.quantize import (
    Chain,
    Requant,
    Table,
    argmax_lowest,
    check_bits,
    quantize,
    requant_for,
    signed_max,
    unsigned_max,
)


@dataclasses.dataclass(frozen=True, eq=False)
class QBlock:
    """One block of Q: integer weights ``[d_model, head·d_head]`` etc. and requantisers."""

    w_q: np.ndarray
    b_q: np.ndarray
    w_k: np.ndarray
    b_k: np.ndarray
    w_v: np.ndarray
    b_v: np.ndarray
    rq_q: Requant
    rq_k: Requant
    rq_v: Requant
    rq_s: Requant
    exp: Table
    w_o: np.ndarray  # [head·d_head, d_model]
    b_o: np.ndarray
    rq_o: Requant
    shift_o: int  # the attention output enters the stream as rq_o(...) << shift_o
    w_in: np.ndarray  # [d_model, d_mlp]
    b_in: np.ndarray
    act: Requant | Chain
    w_out: np.ndarray  # [d_mlp, d_model]
    b_out: np.ndarray
    rq_m: Requant
    shift_m: int


@dataclasses.dataclass(frozen=True, eq=False)
class QTransformer:
    """Integer transformer on sequences of ``n_pos`` tokens (see the module docstring)."""

    bits: int
    n_heads: int
    d_head: int
    embed: np.ndarray  # [d_vocab, n_pos, d_model]
    blocks: tuple[QBlock, ...]
    w_u: np.ndarray  # [d_model, d_vocab_out]
    b_u: np.ndarray
    scales: dict[str, float]

    @property
    def n_pos(self) -> int:
        return int(self.embed.shape[1])

    @property
    def d_vocab(self) -> int:
        return int(self.embed.shape[0])

    def logits(self, tokens: np.ndarray) -> np.ndarray:
        """``[batch, n_pos]`` -> ``[batch, d_vocab_out]`` int64 answer logits."""
        t = np.asarray(tokens, dtype=np.int64)
        resid = self.embed[t, np.arange(self.n_pos)]  # [batch, pos, d_model]
        for i, blk in enumerate(self.blocks):
            resid = self._block(blk, resid, last=i == len(self.blocks) - 1)
        return resid[:, -1] @ self.w_u + self.b_u  # [batch, d_vocab_out]

    def predict(self, tokens: np.ndarray) -> np.ndarray:
        return argmax_lowest(self.logits(tokens))

    def _block(self, blk: QBlock, resid: np.ndarray, last: bool) -> np.ndarray:
        batch, n, _ = resid.shape
        h, dh = self.n_heads, self.d_head
        x_q = resid[:, -1:] if last else resid
        q = blk.rq_q(x_q @ blk.w_q + blk.b_q).reshape(batch, x_q.shape[1], h, dh)
        k = blk.rq_k(resid @ blk.w_k + blk.b_k).reshape(batch, n, h, dh)
        v = blk.rq_v(resid @ blk.w_v + blk.b_v).reshape(batch, n, h, dh)
        s = blk.rq_s(np.einsum("bihd,bjhd->bhij", q, k))  # [batch, head, query, key]
        queries = np.arange(n - x_q.shape[1], n)
        causal = np.arange(n)[None, :] <= queries[:, None]  # [query, key]
        low = np.iinfo(np.int64).min
        m = np.where(causal, s, low).max(-1, keepdims=True)
        e = np.where(causal, blk.exp(s - m), 0)  # [batch, head, query, key]
        num = np.einsum("bhij,bjhd->bihd", e, v)  # [batch, query, head, d_head]
        den = e.sum(-1).transpose(0, 2, 1)[..., None]  # [batch, query, head, 1]
        assert (den > 0).all()
        top = signed_max(self.bits)
        z = np.clip((2 * num + den) // (2 * den), -top, top).reshape(batch, -1, h * dh)
        resid = x_q + (blk.rq_o(z @ blk.w_o + blk.b_o) << blk.shift_o)
        hid = blk.act(resid @ blk.w_in + blk.b_in)
        return resid + (blk.rq_m(hid @ blk.w_out + blk.b_out) << blk.shift_m)

    def summary(self) -> dict[str, Any]:
        return {"kind": "transformer", "bits": self.bits, "scales": self.scales}


# -- float reference and calibration ------------------------------------------------------------


def transformer_weights(model: Any) -> dict[str, Any]:
    """Float64 numpy weights of a one-instance transformer, projections as ``[d_model, h·dh]``.

    Raises:
        SpecError: LayerNorm (not supported by the integer model), or several instances.
    """
    cfg = model.cfg
    if cfg.layernorm:
        raise SpecError(
            "the integer model does not support LayerNorm yet; compile a transformer trained "
            "with layernorm = false"
        )
    if int(model.unembed.W_U.shape[0]) != 1:
        raise SpecError("quantize one instance: pass model.instance(k)")

    def a(t: torch.Tensor | None, *shape: int) -> np.ndarray:
        if t is None:
            return np.zeros(shape)
        return t[0].detach().double().numpy().copy()

    hd = cfg.n_heads * cfg.d_head
    blocks = []
    for blk in model.blocks:
        at, mlp = blk.attn, blk.mlp
        d: dict[str, np.ndarray] = {}
        for name in ("Q", "K", "V"):
            w, b = at.projection(name)
            d["w_" + name.lower()] = a(w)
            d["b_" + name.lower()] = a(b, hd)
        d["w_o"] = a(at.W_O).reshape(hd, cfg.d_model)
        d["b_o"] = a(at.b_O, cfg.d_model)
        d["w_in"], d["b_in"] = a(mlp.W_in), a(mlp.b_in, cfg.d_mlp)
        d["w_out"], d["b_out"] = a(mlp.W_out), a(mlp.b_out, cfg.d_model)
        blocks.append(d)
    return {
        "w_e": a(model.embed.W_E),
        "w_pos": a(model.pos_embed.W_pos),
        "blocks": blocks,
        "w_u": a(model.unembed.W_U),
        "b_u": a(model.unembed.b_U, cfg.d_vocab_out),
        "n_heads": cfg.n_heads,
        "d_head": cfg.d_head,
        "act": cfg.act,
    }


def _gelu(x: np.ndarray) -> np.ndarray:
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def float_forward(wt: dict[str, Any], tokens: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """Answer logits ``[batch, d_vocab_out]`` of the float network (float64) and the largest
    magnitude of each activation site (``"resid"``, ``"q.0"``, ``"s.0"``, ``"pre.0"``...)."""
    t = np.asarray(tokens, dtype=np.int64)
    n = t.shape[1]
    h, dh = wt["n_heads"], wt["d_head"]
    resid = wt["w_e"][t] + wt["w_pos"][:n]  # [batch, pos, d_model]
    peak: dict[str, float] = {"embed": float(np.abs(resid).max())}

    def note(key: str, x: np.ndarray) -> None:
        peak[key] = max(peak.get(key, 0.0), float(np.abs(x).max(initial=0.0)))

    for i, b in enumerate(wt["blocks"]):
        last = i == len(wt["blocks"]) - 1
        x_q = resid[:, -1:] if last else resid
        q = x_q @ b["w_q"] + b["b_q"]
        k = resid @ b["w_k"] + b["b_k"]
        v = resid @ b["w_v"] + b["b_v"]
        for key, x in (("q", q), ("k", k), ("v", v)):
            note(f"{key}.{i}", x)
        batch = t.shape[0]
        qh = q.reshape(batch, -1, h, dh)
        s = np.einsum("bihd,bjhd->bhij", qh, k.reshape(batch, n, h, dh)) / math.sqrt(dh)
        queries = np.arange(n - qh.shape[1], n)
        causal = np.arange(n)[None, :] <= queries[:, None]
        note(f"s.{i}", np.where(causal, s, 0.0))
        s = np.where(causal, s, -np.inf)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        z = np.einsum("bhij,bjhd->bihd", p, v.reshape(batch, n, h, dh)).reshape(batch, -1, h * dh)
        attn = z @ b["w_o"] + b["b_o"]
        note(f"attn.{i}", attn)
        resid = x_q + attn
        note("resid", resid)
        pre = resid @ b["w_in"] + b["b_in"]
        note(f"pre.{i}", pre)
        post = np.maximum(pre, 0.0) if wt["act"] == "relu" else _gelu(pre)
        note(f"post.{i}", post)
        out = post @ b["w_out"] + b["b_out"]
        note(f"mlp.{i}", out)
        resid = resid + out
        note("resid", resid)
    return resid[:, -1] @ wt["w_u"] + wt["b_u"], peak


def _scale(peak: float, top: int) -> float:
    return peak / top if peak > 0 else 1.0


def quantize_transformer(model: Any, calibration: np.ndarray, bits: int = 8) -> QTransformer:
    """Q of a one-instance :class:`~algolens.models.transformer.Transformer` on sequences
    shaped like ``calibration`` ``[batch, n_pos]`` (the inputs that set the activation scales).

    Raises:
        ConfigError: ``bits`` outside 2..16. SpecError: LayerNorm or several instances.
    """
    bits = check_bits(bits)
    wt = transformer_weights(model)
    _, peak = float_forward(wt, calibration)
    top, e_top = signed_max(bits), unsigned_max(bits)
    n = int(np.asarray(calibration).shape[1])
    s_r, shift = _stream_scales(peak, len(wt["blocks"]), top)
    embed, _ = quantize(
        wt["w_e"][:, None, :] + wt["w_pos"][None, :n], bits, s_r * 2 ** shift["embed"]
    )
    embed = embed << shift["embed"]
    scales = {"resid": s_r}
    blocks = []
    for i, b in enumerate(wt["blocks"]):
        d: dict[str, Any] = {}
        for key in ("q", "k", "v"):
            w, s_w = quantize(b["w_" + key], bits)
            s_out = _scale(peak[f"{key}.{i}"], top)
            d["w_" + key], d["b_" + key] = w, _bias(b["b_" + key], s_r * s_w)
            d["rq_" + key] = requant_for(s_r * s_w / s_out, -top, top)
            scales[f"{key}.{i}"] = s_out
        s_s = _scale(peak[f"s.{i}"], top)
        scales[f"s.{i}"] = s_s
        d["rq_s"] = requant_for(
            scales[f"q.{i}"] * scales[f"k.{i}"] / (math.sqrt(wt["d_head"]) * s_s), -top, top
        )
        d["exp"] = Table.of(lambda u, s_s=s_s: e_top * np.exp(u * s_s), -2 * top, 0, 0, e_top)
        w_o, s_o = quantize(b["w_o"], bits)
        d["w_o"], d["b_o"] = w_o, _bias(b["b_o"], scales[f"v.{i}"] * s_o)
        d["shift_o"] = shift[f"attn.{i}"]
        d["rq_o"] = requant_for(scales[f"v.{i}"] * s_o / (s_r * 2 ** d["shift_o"]), -top, top)
        w_in, s_in = quantize(b["w_in"], bits)
        d["w_in"], d["b_in"] = w_in, _bias(b["b_in"], s_r * s_in)
        if wt["act"] == "relu":
            s_h = _scale(peak[f"post.{i}"], e_top)
            d["act"] = requant_for(s_r * s_in / s_h, 0, e_top, relu=True)
        else:
            s_pre = _scale(peak[f"pre.{i}"], top)
            s_h = _scale(peak[f"post.{i}"], top)
            rq = requant_for(s_r * s_in / s_pre, -top, top)
            gelu = Table.of(lambda x, a=s_pre, c=s_h: _gelu(x * a) / c, -top, top, -top, top)
            d["act"] = Chain(rq, gelu)
        scales[f"h.{i}"] = s_h
        w_out, s_out = quantize(b["w_out"], bits)
        d["w_out"], d["b_out"] = w_out, _bias(b["b_out"], s_h * s_out)
        d["shift_m"] = shift[f"mlp.{i}"]
        d["rq_m"] = requant_for(s_h * s_out / (s_r * 2 ** d["shift_m"]), -top, top)
        blocks.append(QBlock(**d))
    w_u, s_u = quantize(wt["w_u"], bits)
    return QTransformer(
        bits,
        wt["n_heads"],
        wt["d_head"],
        embed,
        tuple(blocks),
        w_u,
        _bias(wt["b_u"], s_r * s_u),
        scales,
    )


MAX_STREAM_SHIFT = 8
"""The residual stream's unit is at least ``2^-8`` times its largest addend's scale."""


def _stream_scales(peak: dict[str, float], n_blocks: int, top: int) -> tuple[float, dict[str, int]]:
    """The residual stream's unit ``σ_r`` and each addend's shift: addend ``x`` (embedding,
    attention and MLP outputs) is a p-bit integer at scale ``σ_r · 2^shift[x] ≥ peak[x] / T``,
    added to the stream as ``x << shift[x]``; ``σ_r`` is the finest natural scale, but no finer
    than ``2^-8`` times the coarsest."""
    keys = ["embed"] + [f"{k}.{i}" for i in range(n_blocks) for k in ("attn", "mlp")]
    natural = {k: _scale(peak.get(k, 0.0), top) for k in keys}
    coarsest = max(natural.values())
    s_r = max(min(natural.values()), coarsest / 2**MAX_STREAM_SHIFT)
    shift = {k: max(0, math.ceil(math.log2(v / s_r) - 1e-9)) for k, v in natural.items()}
    return s_r, shift


def _bias(b: np.ndarray, scale: float) -> np.ndarray:
    return np.rint(np.asarray(b) / scale).astype(np.int64)
