"""Compile the integer transformer :class:`~algolens.logic.quantize_transformer.QTransformer`.

Each operation of Q becomes the gadget of :mod:`algolens.logic.compile_gadgets` that computes it
exactly, position by position:

* the residual stream entering block 0 is a table per position (constant folding), and so are
  the first block's ``q, k, v`` and every product of two quantities of the same position; a
  position whose domain holds one token (the ``=`` of ``[a, b, =]``) is a constant;
* ``q, k, v``, the scores, the attention and MLP outputs are requantisations (thermometer LUTs,
  binarised before any wide sum), ``q·k`` and ``e·v`` AND-gate products of bits;
* the softmax: ``max`` by OR gates over thermometer codes, ``EXP[s - max]`` a LUT, and the
  rounded mean ``floor((2·Σ e_j v_j + Σ e_j) / (2·Σ e_j))`` one comparison gate per quotient
  value;
* the logits feed the argmax gadget.

Layer names: ``b{i}.p{pos}.q``, ``...k``, ``...v``, ``...score``, ``...max``, ``...exp``,
``...ev``, ``...z``, ``...attn``, ``...act``, ``...mlp``; then ``argmax.*``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from algolens.logic.circuit import Circuit
from algolens.logic.compile_forms import LutNode
from algolens.logic.compile_gadgets import Bits, Compiler, LinVec
from algolens.logic.quantize import signed_max
from algolens.logic.quantize_transformer import QBlock, QTransformer


def compile_transformer(
    q: QTransformer,
    domain: Sequence[Sequence[int]] | None = None,
    nodes: list[LutNode] | None = None,
) -> Circuit:
    """The threshold circuit of ``q`` on sequences of ``q.n_pos`` tokens from ``domain``
    (``nodes``, when given, receives every thermometer layer written, for breakpoint proofs)."""
    c = Compiler(q.n_pos, q.d_vocab, domain)
    if nodes is not None:
        c.requants = nodes
    resid = [c.table(p, q.embed[:, p, :]) for p in range(q.n_pos)]
    for i, blk in enumerate(q.blocks):
        last = i == len(q.blocks) - 1
        resid = _block(c, q, blk, resid, f"b{i}", last)
    logits = c.matmul(resid[-1], q.w_u, q.b_u)
    return c.build(c.argmax(logits))


def _bits(c: Compiler, x: LinVec | Bits) -> Bits:
    assert isinstance(x, Bits)
    return x


def _block(
    c: Compiler, q: QTransformer, blk: QBlock, resid: list[LinVec], name: str, last: bool
) -> list[LinVec]:
    n, h, dh = len(resid), q.n_heads, q.d_head
    top = signed_max(q.bits)
    qs = range(n - 1, n) if last else range(n)
    keys = [
        _bits(c, c.lut(c.matmul(r, blk.w_k, blk.b_k), blk.rq_k, f"{name}.p{j}.k", True))
        for j, r in enumerate(resid)
    ]
    vals = [
        _bits(c, c.lut(c.matmul(r, blk.w_v, blk.b_v), blk.rq_v, f"{name}.p{j}.v", True))
        for j, r in enumerate(resid)
    ]
    head_sum = np.kron(np.eye(h, dtype=np.int64), np.ones((dh, 1), dtype=np.int64))  # [h·dh, h]
    same = np.repeat(np.arange(h * dh), 1)
    out = []
    for i in qs:
        at = f"{name}.p{i}"
        qb = _bits(c, c.lut(c.matmul(resid[i], blk.w_q, blk.b_q), blk.rq_q, at + ".q", True))
        scores = []
        for j in range(i + 1):
            dot = c.product(qb, keys[j], np.stack([same, same], 1), f"{at}.qk{j}")
            s = c.lut(c.matmul(dot, head_sum), blk.rq_s, f"{at}.score{j}")  # [h]
            assert isinstance(s, LinVec)
            scores.append(s)
        s_all = c.concat(scores)  # column j·h + head
        mx = c.maximum(s_all, [[j * h + a for j in range(i + 1)] for a in range(h)], at + ".max")
        num, den = None, None
        for j, s in enumerate(scores):
            e = _bits(
                c,
                c.lut(
                    c.add(s, c.matmul(mx, -np.eye(h, dtype=np.int64))),
                    blk.exp,
                    f"{at}.exp{j}",
                    True,
                ),
            )
            pairs = np.stack([np.repeat(np.arange(h), dh), np.arange(h * dh)], 1)
            ev = c.product(e, vals[j], pairs, f"{at}.ev{j}")  # [h·dh]
            num = ev if num is None else c.add(num, ev)
            ej = c.value(e)
            den = ej if den is None else c.add(den, ej)
        assert num is not None and den is not None
        den_d = c.matmul(den, head_sum.T)  # [h·dh]: each head's denominator per d
        two = 2 * np.eye(h * dh, dtype=np.int64)
        z = _bits(
            c,
            c.divide(
                c.add(c.matmul(num, two), den_d),
                c.matmul(den_d, two),
                -top,
                top,
                at + ".z",
                bits=True,
            ),
        )
        out.append(block_tail(c, blk, resid[i], c.value(z), at))
    return out


def block_tail(c: Compiler, blk: QBlock, resid: LinVec, z: LinVec, at: str) -> LinVec:
    """The rest of a block after the attention's rounded means ``z [h·dh]`` at one position
    whose residual stream is ``resid``: output projection, MLP, and the stream after both."""
    attn = _bits(c, c.lut(c.matmul(z, blk.w_o, blk.b_o), blk.rq_o, at + ".attn", True))
    r = c.add(resid, _shifted(c, c.value(attn), blk.shift_o))
    hid = _bits(c, c.lut(c.matmul(r, blk.w_in, blk.b_in), blk.act, at + ".act", True))
    mlp = _bits(c, c.lut(c.matmul(c.value(hid), blk.w_out, blk.b_out), blk.rq_m, at + ".mlp", True))
    return c.add(r, _shifted(c, c.value(mlp), blk.shift_m))


def _shifted(c: Compiler, x: LinVec, shift: int) -> LinVec:
    """``x << shift`` (no gates)."""
    return c.matmul(x, np.eye(x.m, dtype=np.int64) << shift)
