"""Compile the integer composition MLP :class:`~algolens.logic.quantize_mlp.QMLP` to a circuit.

Layers, for ``V = d_vocab`` and ``d = d_mlp``:

1. ``mlp.act`` — thermometer gates ``[A[a, n] + B[b, n] + c[n] ≥ v]`` at every point v where the
   ReLU + requantisation changes: one basis column per neuron (the per-side tables are the input
   weights: constant folding of the first layer), up to ``2^p - 1`` gates each;
2. ``mlp.act.bits`` — the p bits of every hidden activation;
3. ``argmax.compare`` — ``[L_c - L_c' ≥ 0]`` for ``c < c'``, over the ``d·p`` bits, with
   ``L = Σ_n h[n]·U[n, :] + u`` as ``V`` basis columns;
4. ``argmax.winner``, ``argmax.bits`` — the answer's bits, least significant first.
"""

from __future__ import annotations

from collections.abc import Sequence

from algolens.logic.circuit import Circuit
from algolens.logic.compile_gadgets import Bits, Compiler
from algolens.logic.quantize_mlp import QMLP


def compile_mlp(q: QMLP, domain: Sequence[Sequence[int]] | None = None) -> Circuit:
    """The threshold circuit of ``q`` on sequences ``(a, b)`` (every token pair by default)."""
    c = Compiler(2, q.d_vocab, domain)
    pre = c.add(c.table(0, q.table_a), c.table(1, q.table_b + q.bias))  # [d_mlp] forms
    h = c.lut(pre, q.act, "mlp.act", bits=True)
    assert isinstance(h, Bits)
    logits = c.matmul(c.value(h), q.w_u, q.b_u)  # [d_vocab] forms over the bits
    return c.build(c.argmax(logits))
