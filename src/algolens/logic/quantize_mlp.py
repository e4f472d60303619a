"""The integer reference model Q of the composition MLP (``models/mlp.py``).

For one instance, with p-bit integers throughout::

    pre[n]    = A[a, n] + B[b, n] + c[n]                    # folded per-side tables, p-bit each
    h[n]      = clamp(round(max(pre[n], 0) · M / 2^s), 0, 2^p - 1)   # ReLU + requantisation
    logits[v] = Σ_n h[n] · U[n, v] + u[v]                   # U p-bit; exact int64 sum
    answer    = argmax_v logits[v]   (the lowest v on ties)

``A = round(W_E_left · W_in[:d] / σ_pre)`` and ``B`` likewise: the MLP folds its embeddings into
one table per side, so the first layer is a table lookup per operand and is quantised once as a
table. Scales: ``σ_pre`` maps the largest table entry to ``2^(p-1) - 1``; ``σ_h`` maps the largest
hidden activation over all inputs (``max_n max_a A + max_b B + c``, exact because the two sides
are independent) to ``2^p - 1``; ``U`` gets its own symmetric scale and ``u`` the product scale.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from algolens.errors import SpecError
from algolens.logic.quantize import (
    Requant,
    argmax_lowest,
    check_bits,
    quantize,
    requant_for,
    unsigned_max,
)


@dataclasses.dataclass(frozen=True, eq=False)
class QMLP:
    """Integer composition MLP (see the module docstring); all arrays int64."""

    bits: int
    table_a: np.ndarray  # [d_vocab, d_mlp]
    table_b: np.ndarray  # [d_vocab, d_mlp]
    bias: np.ndarray  # [d_mlp]
    act: Requant  # ReLU + requantisation to 0..2^p-1
    w_u: np.ndarray  # [d_mlp, d_vocab]
    b_u: np.ndarray  # [d_vocab]
    scales: dict[str, float]

    n_pos = 2

    @property
    def d_vocab(self) -> int:
        return int(self.table_a.shape[0])

    def pre(self, tokens: np.ndarray) -> np.ndarray:
        """``[batch, 2]`` -> ``[batch, d_mlp]`` integer pre-activations."""
        t = np.asarray(tokens, dtype=np.int64)
        return self.table_a[t[:, 0]] + self.table_b[t[:, 1]] + self.bias

    def logits(self, tokens: np.ndarray) -> np.ndarray:
        """``[batch, 2]`` -> ``[batch, d_vocab]`` int64 logits."""
        return self.act(self.pre(tokens)) @ self.w_u + self.b_u

    def predict(self, tokens: np.ndarray) -> np.ndarray:
        """``[batch]`` predicted answers."""
        return argmax_lowest(self.logits(tokens))

    def summary(self) -> dict[str, Any]:
        return {"kind": "mlp", "bits": self.bits, "scales": self.scales, "act": self.act.to_dict()}


def quantize_mlp(model: Any, bits: int = 8) -> QMLP:
    """Q of a one-instance :class:`~algolens.models.mlp.MLP` (``model.instance(k)``).

    Raises:
        ConfigError: ``bits`` outside 2..16.
        SpecError: more than one instance.
    """
    bits = check_bits(bits)
    if int(model.W_U.shape[0]) != 1:
        raise SpecError("quantize one instance: pass model.instance(k)")
    with torch.no_grad():
        wa, wb = (t[0].double().numpy() for t in model.folded_weights())  # [d_vocab, d_mlp]
        b_in = model.mlp.b_in
        bias = b_in[0].double().numpy() if b_in is not None else np.zeros(wa.shape[1])
        w_u = model.W_U[0].double().numpy()  # [d_mlp, d_vocab]
        b_u = model.b_U[0].double().numpy() if model.b_U is not None else np.zeros(w_u.shape[1])
    big = max(np.abs(wa).max(), np.abs(wb).max(), np.abs(bias).max())
    s_pre = float(big) / ((1 << (bits - 1)) - 1) if big > 0 else 1.0
    qa, _ = quantize(wa, bits, s_pre)
    qb, _ = quantize(wb, bits, s_pre)
    qc = np.rint(bias / s_pre).astype(np.int64)
    h_max = float(np.max(wa.max(0) + wb.max(0) + bias, initial=0.0))
    s_h = max(h_max, s_pre) / unsigned_max(bits)
    act = requant_for(s_pre / s_h, 0, unsigned_max(bits), relu=True)
    qu, s_u = quantize(w_u, bits)
    qbu = np.rint(b_u / (s_h * s_u)).astype(np.int64)
    scales = {"pre": s_pre, "hidden": s_h, "unembed": s_u}
    return QMLP(bits, qa, qb, qc, act, qu, qbu, scales)
