"""Gadgets that compile integer operations of Q into threshold-gate layers.

Integer quantities are :class:`LinVec` s: ``m`` affine forms over circuit nodes,
``value_j = const_j + Σ_i w[i, j] · value(src_i)``, with bounds ``lo_j ≤ value_j ≤ hi_j``. Linear
algebra on them (sums, integer matrix products) costs no gates. The gadgets that do:

* :meth:`Compiler.lut` — any integer function ``f`` (requantisation ``clamp(round(x·M/2^s))``,
  ReLU, a lookup table) of a form ``X``: one thermometer gate ``[X ≥ v]`` per point ``v`` where
  ``f`` changes, all reading the same basis column (a template); then
  ``f(X) = f(lo) + Σ_v (f(v) - f(v-1)) · [X ≥ v]``. With ``bits=True`` a second layer turns
  the code into the bits of ``f(X) - min f``: bit b is
  ``[Σ_v Δ_b(v)·[X ≥ v] ≥ 1 - bit_b(f(lo) - min f)]`` with ``Δ_b(v) ∈ {-1, 0, 1}`` the change of
  that bit at v.
* :meth:`Compiler.product` — ``X·Y`` of two binarised forms by AND gates ``[x_a + y_b ≥ 2]``:
  ``(ox + Σ 2^a x_a)(oy + Σ 2^b y_b)``.
* :meth:`Compiler.divide` — ``clamp(floor(N / D), qlo, qhi)`` for ``D > 0`` as the comparisons
  ``[N - t·D ≥ 0]``, one gate per ``t``: the softmax division of Merrill & Sabharwal.
* :meth:`Compiler.maximum` — ``max_j X_j`` as ``[max ≥ v] = [Σ_j [X_j ≥ v] ≥ 1]``.
* :meth:`Compiler.argmax` — pairwise comparisons ``[L_c - L_c' ≥ 0]`` (c < c'), a winner gate per
  class (the lowest index wins ties) and one OR gate per output bit.

**Constant folding.** A form over the one-hot inputs of a single position is a table over that
position's tokens (:attr:`LinVec.pos`); every gadget applied to tables of one position computes
the new table directly and adds no gate. Valid inputs have exactly one token per position, so a
constant is folded into a table's rows. The ``domain`` (allowed tokens per position) tightens
bounds; the circuit is only claimed to agree with Q on inputs from the domain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from algolens.logic.circuit import Circuit, CircuitBuilder, exact_matmul
from algolens.logic.compile_forms import (
    Bits,
    Identity,
    LinVec,
    LutNode,
    is_zero,
    pick,
    segment_sum,
    steps,
)
from algolens.logic.quantize import IntFn


class Compiler:
    """Builds a circuit from gadgets (see the module docstring).

    Args:
        n_pos, n_vocab: the input sequence shape.
        domain: allowed token ids per position (default: every token everywhere).
    """

    def __init__(
        self, n_pos: int, n_vocab: int, domain: Sequence[Sequence[int]] | None = None
    ) -> None:
        self.b = CircuitBuilder(n_pos, n_vocab)
        self.n_vocab = n_vocab
        self.n_inputs = n_pos * n_vocab
        dom = domain if domain is not None else [range(n_vocab)] * n_pos
        self.domain = [np.asarray(sorted(set(d)), dtype=np.int64) for d in dom]
        assert len(self.domain) == n_pos
        self.requants: list[LutNode] = []  # every thermometer layer :meth:`lut` wrote

    # -- forms -------------------------------------------------------------------------------

    def table(self, pos: int, values: np.ndarray) -> LinVec:
        """Forms that are tables over position ``pos``'s tokens: ``values [n_vocab, m]``."""
        v = np.asarray(values, dtype=np.int64).reshape(self.n_vocab, -1)
        live = v[self.domain[pos]]
        if live.shape[0] == 1:  # one allowed token: a constant
            return self.constant(live[0])
        src = np.arange(pos * self.n_vocab, (pos + 1) * self.n_vocab, dtype=np.int64)
        zero = np.zeros(v.shape[1], dtype=np.int64)
        return LinVec(src, v, zero, live.min(0), live.max(0), pos)

    def constant(self, values: np.ndarray) -> LinVec:
        c = np.asarray(values, dtype=np.int64).reshape(-1)
        return LinVec(np.zeros(0, dtype=np.int64), np.zeros((0, c.size), np.int64), c, c, c)

    def linear(self, src: np.ndarray, w: np.ndarray, const: np.ndarray) -> LinVec:
        """A general form with bounds from the inputs' one-hot groups and 0/1 gates."""
        src = np.asarray(src, dtype=np.int64)
        w = np.asarray(w, dtype=np.int64)
        const = np.asarray(const, dtype=np.int64)
        lo, hi = const.copy(), const.copy()
        is_gate = src >= self.n_inputs
        lo += np.minimum(w[is_gate], 0).sum(0)
        hi += np.maximum(w[is_gate], 0).sum(0)
        pos = src[~is_gate] // self.n_vocab
        for p in np.unique(pos):
            rows = np.nonzero(~is_gate)[0][pos == p]
            full = np.zeros((self.n_vocab, w.shape[1]), dtype=np.int64)
            full[src[rows] % self.n_vocab] = w[rows]
            live = full[self.domain[p]]
            lo += live.min(0)
            hi += live.max(0)
        return LinVec(src, w, const, lo, hi)

    def add(self, *xs: LinVec) -> LinVec:
        """Sum of forms with the same ``m`` (tables of one position stay tables)."""
        consts = [x for x in xs if x.src.size == 0]
        tables = [x for x in xs if x.src.size]
        if tables and len({x.pos for x in tables}) == 1 and tables[0].pos is not None:
            extra = sum((x.const for x in consts), np.zeros(xs[0].m, np.int64))
            return self.table(tables[0].pos, sum(x.w for x in tables) + extra)
        src = np.unique(np.concatenate([x.src for x in xs]))
        w = np.zeros((src.size, xs[0].m), dtype=np.int64)
        for x in xs:
            w[np.searchsorted(src, x.src)] += x.w
        out = self.linear(src, w, sum(x.const for x in xs))
        lo = np.maximum(out.lo, sum(x.lo for x in xs))  # both bounds hold
        hi = np.minimum(out.hi, sum(x.hi for x in xs))
        return dataclasses.replace(out, lo=lo, hi=hi)

    def matmul(self, x: LinVec, m: np.ndarray, bias: np.ndarray | None = None) -> LinVec:
        """``x · m (+ bias)`` for an integer matrix ``m [x.m, k]`` (no gates)."""
        m = np.asarray(m, dtype=np.int64)
        const = x.const @ m + (0 if bias is None else np.asarray(bias, dtype=np.int64))
        w = exact_matmul(x.w, m, int(np.abs(x.w).max(initial=0)))  # [n, k]
        if x.pos is not None:
            return self.table(x.pos, w + const)
        return self.linear(x.src, w, const)

    def concat(self, xs: Sequence[LinVec]) -> LinVec:
        """The forms of every ``x`` side by side."""
        if len({x.pos for x in xs}) == 1 and xs[0].pos is not None:
            return self.table(xs[0].pos, np.concatenate([x.w for x in xs], 1))
        src = np.unique(np.concatenate([x.src for x in xs]))
        w = np.zeros((src.size, sum(x.m for x in xs)), dtype=np.int64)
        j = 0
        for x in xs:
            w[np.searchsorted(src, x.src), j : j + x.m] = x.w
            j += x.m
        cat = [np.concatenate([getattr(x, k) for x in xs]) for k in ("const", "lo", "hi")]
        return LinVec(src, w, *cat)

    # -- gadgets -----------------------------------------------------------------------------

    def lut(self, x: LinVec, f: IntFn, name: str, bits: bool = False) -> LinVec | Bits:
        """``f(x)`` column by column: thermometer gates at ``f``'s change points (see the module
        docstring); with ``bits`` the binarised :class:`Bits` of the result."""
        if x.src.size == 0:  # a constant: fold
            t = self.constant(f(x.const))
            return self._const_bits(t) if bits else t
        if x.pos is not None:  # a table: fold
            t = self.table(x.pos, f(x.w))
            return self.binarize(t, name) if bits else t
        firsts, points, values = [], [], []
        for j in range(x.m):
            f_lo, v, fv = steps(f, int(x.lo[j]), int(x.hi[j]))
            firsts.append(f_lo)
            points.append(v)
            values.append(fv)
        counts = np.array([v.size for v in points], dtype=np.int64)
        col = np.repeat(np.arange(x.m), counts)
        n = int(counts.sum())
        select = sp.csc_array((np.ones(n, np.int64), (col, np.arange(n))), shape=(x.m, n))
        thr = np.concatenate(points + [np.zeros(0, np.int64)]) - x.const[col]
        gates = self.b.add_layer(name, x.src, x.w, select, thr)
        self.requants.append(LutNode(name, f, x.src, x.w, x.const, x.lo, x.hi))
        f_lo = np.array(firsts, dtype=np.int64)
        seq = [np.concatenate([[f_lo[j]], values[j]]) for j in range(x.m)]
        lo = np.array([s.min() for s in seq], dtype=np.int64)
        hi = np.array([s.max() for s in seq], dtype=np.int64)
        delta = np.concatenate([np.diff(s) for s in seq] + [np.zeros(0, np.int64)])
        if not bits:
            w = np.zeros((n, x.m), dtype=np.int64)
            w[np.arange(n), col] = delta
            return LinVec(gates, w, f_lo, lo, hi)
        return self._thermo_bits(gates, col, seq, lo, hi, name)

    def _thermo_bits(
        self,
        gates: np.ndarray,
        col: np.ndarray,
        seq: list[np.ndarray],
        lo: np.ndarray,
        hi: np.ndarray,
        name: str,
    ) -> Bits:
        """Bits of ``f(x) - lo`` from the thermometer gates (``seq[j]``: f(lo), f(v1), ...)."""
        m = len(seq)
        nb = max(1, int((hi - lo).max(initial=0)).bit_length())
        rows, cols, vals, thr = [], [], [], []
        start = np.concatenate([[0], np.cumsum([s.size - 1 for s in seq])])
        for j, s in enumerate(seq):
            rel = s - lo[j]
            for b in range(nb):
                bit = (rel >> b) & 1
                d = np.diff(bit)
                nz = np.nonzero(d)[0]
                rows.append(start[j] + nz)
                cols.append(np.full(nz.size, j * nb + b))
                vals.append(d[nz])
                thr.append(1 - bit[0])
        cat = [np.concatenate(a) for a in (rows, cols, vals)]
        select = sp.csc_array((cat[2], (cat[0], cat[1])), shape=(gates.size, m * nb))
        ids = self.b.add_layer(name + ".bits", gates, None, select, np.array(thr))
        one = self.linear(ids, np.eye(ids.size, dtype=np.int64), np.zeros(ids.size, np.int64))
        return Bits(one, lo, nb)

    def _table_bits(self, t: LinVec) -> Bits:
        """Bits of tables: per-bit tables, no gates."""
        lo = t.lo
        nb = max(1, int((t.hi - lo).max(initial=0)).bit_length())
        rel = np.clip(t.w - lo, 0, t.hi - lo)  # [n_vocab, m] (rows off the domain clipped)
        b = (rel[:, :, None] >> np.arange(nb)) & 1  # [n_vocab, m, nb]
        return Bits(self.table(t.pos, b.reshape(self.n_vocab, -1)), lo.copy(), nb)

    def _const_bits(self, t: LinVec) -> Bits:
        """Bits of constants: the value is the offset, one bit that is always 0."""
        return Bits(self.constant(np.zeros(t.m, dtype=np.int64)), t.const.copy(), 1)

    def binarize(self, x: LinVec, name: str) -> Bits:
        """Bits of any forms (tables: per-bit tables; otherwise a thermometer of the identity)."""
        if x.src.size == 0:
            return self._const_bits(x)
        if x.pos is not None:
            return self._table_bits(x)
        return self.lut(x, Identity(), name, bits=True)  # type: ignore[return-value]

    def value(self, x: Bits) -> LinVec:
        """The forms a :class:`Bits` encodes."""
        m = x.offset.size
        pow2 = np.zeros((m * x.nb, m), dtype=np.int64)
        for j in range(m):
            pow2[j * x.nb : (j + 1) * x.nb, j] = 1 << np.arange(x.nb)
        return self.add(self.matmul(x.bits, pow2), self.constant(x.offset))

    def product(self, x: Bits, y: Bits, pairs: np.ndarray, name: str) -> LinVec:
        """``x_i · y_j`` for each row ``(i, j)`` of ``pairs [k, 2]``, by AND gates."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        xv, yv = self.value(x), self.value(y)
        ox, oy = x.offset[pairs[:, 0]], y.offset[pairs[:, 1]]
        # (ox + X')(oy + Y') = oy·X + ox·Y - ox·oy + X'·Y'
        linear = self.add(
            self.matmul(xv, pick(x.offset.size, pairs[:, 0]) * oy),
            self.matmul(yv, pick(y.offset.size, pairs[:, 1]) * ox),
            self.constant(-ox * oy),
        )
        # AND gates over bit pairs: the cross term Σ 2^(a+b) [x_a ∧ y_b]
        both = self.concat([x.bits, y.bits])
        nx = x.bits.m
        a, b = np.meshgrid(np.arange(x.nb), np.arange(y.nb), indexing="ij")
        a, b = a.ravel(), b.ravel()
        xc = (pairs[:, 0, None] * x.nb + a).ravel()  # [k·na·nb]
        yc = (pairs[:, 1, None] * y.nb + b).ravel() + nx
        weight = (1 << (a + b))[None, :].repeat(len(pairs), 0).ravel()
        out_col = np.repeat(np.arange(len(pairs)), a.size)
        if both.pos is not None:  # bits of one position: fold the products into a table
            tab = both.w[:, xc] * both.w[:, yc] * weight  # [n_vocab, k·na·nb]
            cross = self.table(both.pos, segment_sum(tab, out_col, len(pairs)))
            return self.add(linear, cross)
        cb = both.const
        live = ~(is_zero(both, xc) | is_zero(both, yc))
        xc, yc, weight, out_col = xc[live], yc[live], weight[live], out_col[live]
        n = xc.size
        sel = sp.csc_array(
            (np.ones(2 * n, np.int64), (np.concatenate([xc, yc]), np.tile(np.arange(n), 2))),
            shape=(both.m, n),
        )
        gates = self.b.add_layer(name, both.src, both.w, sel, 2 - cb[xc] - cb[yc])
        w = np.zeros((n, len(pairs)), dtype=np.int64)
        w[np.arange(n), out_col] = weight
        cross = self.linear(gates, w, np.zeros(len(pairs), np.int64))
        return self.add(linear, cross)

    def divide(
        self, num: LinVec, den: LinVec, qlo: int, qhi: int, name: str, bits: bool = False
    ) -> LinVec | Bits:
        """``clamp(floor(num_j / den_j), qlo, qhi)`` per column (as :class:`Bits` with ``bits``).

        The caller guarantees ``den > 0`` on every input of the domain (bounds cannot always
        show it: the softmax denominator is positive because its largest term is ``EXP[0]``).
        """
        m = num.m
        both = self.concat([num, den])
        ts = np.arange(qlo + 1, qhi + 1, dtype=np.int64)
        k = ts.size
        j = np.repeat(np.arange(m), k)
        t = np.tile(ts, m)
        rows = np.concatenate([j, j + m])
        vals = np.concatenate([np.ones(m * k, np.int64), -t])
        sel = sp.csc_array((vals, (rows, np.tile(np.arange(m * k), 2))), shape=(2 * m, m * k))
        thr = -(both.const[j] - t * both.const[j + m])
        gates = self.b.add_layer(name, both.src, both.w, sel, thr)
        if bits:
            seq = [np.arange(qlo, qhi + 1, dtype=np.int64)] * m
            lo, hi = np.full(m, qlo, np.int64), np.full(m, qhi, np.int64)
            return self._thermo_bits(gates, j, seq, lo, hi, name)
        w = np.zeros((m * k, m), dtype=np.int64)
        w[np.arange(m * k), j] = 1
        return self.linear(gates, w, np.full(m, qlo, np.int64))

    def maximum(self, x: LinVec, groups: Sequence[Sequence[int]], name: str) -> LinVec:
        """``max`` of the columns in each group of ``x``: ``[len(groups)]`` forms, by
        ``[max ≥ v] = [Σ_j [X_j ≥ v] ≥ 1]`` over thermometer gates of every column."""
        if x.src.size == 0 or x.pos is not None:  # constants or tables: fold
            rows = x.w if x.pos is not None else x.const[None, :]
            top = np.stack([rows[:, list(g)].max(1) for g in groups], 1)
            return self.table(x.pos, top) if x.pos is not None else self.constant(top[0])
        th = self.lut(x, Identity(), name + ".thermo")  # gates [X_c >= v], v = lo_c+1..hi_c
        assert isinstance(th, LinVec)
        start = np.concatenate([[0], np.cumsum(x.hi - x.lo)])
        rows, cols, owner, const = [], [], [], []
        for k, g in enumerate(groups):
            g = np.asarray(g, dtype=np.int64)
            top_lo = int(x.lo[g].max())
            const.append(top_lo)
            for v in range(top_lo + 1, int(x.hi[g].max()) + 1):
                live = g[x.hi[g] >= v]
                rows.extend((start[live] + v - x.lo[live] - 1).tolist())
                cols.extend([len(owner)] * live.size)
                owner.append(k)
        n = len(owner)
        sel = sp.csc_array((np.ones(len(rows), np.int64), (rows, cols)), shape=(th.src.size, n))
        gates = self.b.add_layer(name, th.src, None, sel, np.ones(n, dtype=np.int64))
        w = np.zeros((n, len(groups)), dtype=np.int64)
        w[np.arange(n), owner] = 1
        return self.linear(gates, w, np.array(const, dtype=np.int64))

    def argmax(self, logits: LinVec, name: str = "argmax") -> np.ndarray:
        """Output ids: the bits (LSB first) of the lowest index of the largest form."""
        m = logits.m
        if m == 1:
            return np.zeros(0, dtype=np.int64)
        c, d = np.triu_indices(m, 1)
        k = c.size
        sel = sp.csc_array(
            (
                np.concatenate([np.ones(k), -np.ones(k)]).astype(np.int64),
                (np.concatenate([c, d]), np.tile(np.arange(k), 2)),
            ),
            shape=(m, k),
        )
        thr = -(logits.const[c] - logits.const[d])
        cmp = self.b.add_layer(name + ".compare", logits.src, logits.w, sel, thr)
        # winner_c: sum_{c'>c} [L_c >= L_c'] - sum_{c'<c} [L_c' >= L_c] >= m-1-c
        sel = sp.csc_array(
            (
                np.concatenate([np.ones(k), -np.ones(k)]).astype(np.int64),
                (np.tile(np.arange(k), 2), np.concatenate([c, d])),
            ),
            shape=(k, m),
        )
        win = self.b.add_layer(name + ".winner", cmp, None, sel, m - 1 - np.arange(m))
        nb = (m - 1).bit_length()
        cls = np.arange(m)
        hot = ((cls[:, None] >> np.arange(nb)) & 1).astype(np.int64)  # [m, nb]
        return self.b.add_layer(name + ".bits", win, None, sp.csc_array(hot), np.ones(nb))

    def build(self, outputs: np.ndarray) -> Circuit:
        return self.b.build(outputs)
