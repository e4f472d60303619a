"""A per-node proof that a thermometer of threshold gates computes a monotone integer function.

A requantisation ``y = f(L)`` (``f`` = :class:`~algolens.logic.quantize.Requant` or a monotone
:class:`~algolens.logic.quantize.Table`) is compiled to gates ``[L ≥ b_k]`` and read back as
``y = base + Σ_k δ_k·[L ≥ b_k]`` (``δ_k = 1``: one gate per level). For a non-decreasing ``f`` it
is enough to check ``f`` at both sides of every breakpoint and at the two ends of the range: a
non-decreasing function that agrees with a step function at both ends of a step agrees on the
whole step. The proof costs two evaluations of ``f`` per breakpoint, whatever the width of the
range of ``L``.

Monotonicity itself is the premise, established per kind of ``f``: a ``Requant`` with ``m ≥ 0``
is a composition of non-decreasing maps (ReLU, multiplication by ``m ≥ 0``, rounding a shift,
clamping); a ``Table`` is checked entry by entry (it is finite).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from algolens.errors import SpecError
from algolens.logic.circuit import Circuit, Layer
from algolens.logic.compile_forms import Identity, LutNode
from algolens.logic.quantize import Chain, Requant, Table
from algolens.logic.quantize_transformer import QTransformer
from algolens.logic.verify import InputDomain


@dataclass(frozen=True)
class BreakpointProof:
    """Outcome of :func:`prove_thermometer`.

    Attributes:
        ok: the gates compute ``f`` on every integer of ``lo..hi``.
        levels: gates checked.
        evaluations: evaluations of ``f`` used.
        monotone: why ``f`` is non-decreasing.
        failure: the first failed check, in words (None when ``ok``).
    """

    ok: bool
    levels: int
    evaluations: int
    monotone: str
    failure: str | None = None


def monotone_reason(f: Callable[[np.ndarray], np.ndarray]) -> str:
    """Why ``f`` is non-decreasing on the integers.

    Raises:
        SpecError: ``f`` is not a ``Requant`` with ``m ≥ 0`` nor a non-decreasing ``Table``.
    """
    if isinstance(f, Requant):
        if f.m < 0:
            raise SpecError(f"requantisation multiplier m = {f.m} < 0: not non-decreasing")
        return "Requant with m >= 0: ReLU, x*m, round-shift and clamp are non-decreasing"
    if isinstance(f, Table):
        steps = np.diff(f.values)
        if (steps < 0).any():
            x = f.lo + int(np.nonzero(steps < 0)[0][0])
            raise SpecError(f"table decreases from x = {x} to {x + 1}: not non-decreasing")
        return f"Table of {len(f.values)} entries checked non-decreasing"
    if isinstance(f, Identity):
        return "identity"
    raise SpecError(f"cannot establish that {type(f).__name__} is non-decreasing")


def prove_thermometer(
    f: Callable[[np.ndarray], np.ndarray],
    thresholds: Sequence[int],
    lo: int,
    hi: int,
    base: int,
    increments: Sequence[int] | None = None,
) -> BreakpointProof:
    """Prove ``f(L) == base + Σ_k increments[k]·[L ≥ thresholds[k]]`` for every integer ``L``
    in ``lo..hi``.

    Gates whose threshold is at most ``lo`` always fire and those above ``hi`` never do; the
    rest, merged by threshold, give breakpoints ``v_1 < ... < v_K`` in ``lo+1..hi`` with partial
    sums ``S_0 .. S_K``. The identity holds on the whole range iff ``f(lo) = S_0``,
    ``f(v_k − 1) = S_{k−1}`` and ``f(v_k) = S_k`` for every ``k``, and ``f(hi) = S_K``: a
    non-decreasing ``f`` with equal values at both ends of ``v_k .. v_{k+1} − 1`` is constant
    there.

    Args:
        f: the integer function (a ``Requant`` or ``Table``; see :func:`monotone_reason`).
        thresholds: the gates' thresholds.
        lo, hi: the range the accumulator ``L`` can take.
        base: the value read when no gate fires.
        increments: each gate's weight in the read-out (default 1: one gate per level).

    Raises:
        SpecError: ``f`` not provably non-decreasing, ``lo > hi``, or a length mismatch.
    """
    if lo > hi:
        raise SpecError(f"empty range {lo}..{hi}")
    incs = [1] * len(thresholds) if increments is None else [int(d) for d in increments]
    if len(incs) != len(thresholds):
        raise SpecError(f"{len(thresholds)} thresholds but {len(incs)} increments")
    reason = monotone_reason(f)

    def at(x: int) -> int:
        return int(np.asarray(f(np.array([x], np.int64)))[0])

    merged: dict[int, int] = {}
    start = base
    for b, d in zip(thresholds, incs, strict=True):
        if b <= lo:
            start += d
        elif b <= hi:
            merged[int(b)] = merged.get(int(b), 0) + d
    checks = [(lo, start, "f(lo)")]
    level = start
    for v in sorted(merged):
        checks.append((v - 1, level, f"below breakpoint {v}"))
        level += merged[v]
        checks.append((v, level, f"at breakpoint {v}"))
    checks.append((hi, level, "f(hi)"))
    for evals, (x, want, what) in enumerate(checks, start=1):
        got = at(x)
        if got != want:
            why = f"{what}: f({x}) = {got} but the gates give {want}"
            return BreakpointProof(False, len(thresholds), evals, reason, why)
    return BreakpointProof(True, len(thresholds), len(checks), reason)


def breakpoints(f: Callable[[np.ndarray], np.ndarray], lo: int, hi: int) -> tuple[int, list[int]]:
    """``(base, thresholds)`` of the thermometer of a non-decreasing ``f`` on ``lo..hi``:
    ``base = f(lo)`` and, for each level ``f(lo)+1 .. f(hi)``, the smallest ``L`` reaching it
    (binary search: ``O(levels · log(hi - lo))`` evaluations)."""
    monotone_reason(f)

    def at(x: int) -> int:
        return int(np.asarray(f(np.array([x], np.int64)))[0])

    base, top = at(lo), at(hi)
    out = []
    for level in range(base + 1, top + 1):
        a, b = lo, hi  # f(a) < level <= f(b)
        while b - a > 1:
            mid = (a + b) // 2
            a, b = (a, mid) if at(mid) >= level else (mid, b)
        out.append(b)
    return base, out


def prove_input_layer(
    circuit: Circuit,
    layer_index: int,
    f: Callable[[np.ndarray], np.ndarray],
    domain: InputDomain | None = None,
) -> list[BreakpointProof]:
    """One proof per basis column of a thermometer layer that reads only the inputs.

    The compiler writes ``f`` of a linear form ``L_j`` (basis column ``j``) as gates
    ``[L_j ≥ v]``, one per point where ``f`` changes. ``L_j`` is a sum of one weight per position
    (one-hot inputs), so its range on ``domain`` is exactly the sum of the per-position minima
    and maxima. Column ``j`` is proven when ``f(L) = f(lo) + Σ_k (f(v_k) − f(v_k − 1))·[L ≥ v_k]``
    holds on that whole range (:func:`prove_thermometer`): the gates then carry ``f`` exactly.
    (That the next layer reads them with these increments is left to end-to-end verification.)

    Raises:
        SpecError: a layer that reads gates, or a gate that mixes basis columns.
    """
    layer = circuit.layers[layer_index]
    if layer.src.size and int(layer.src.max()) >= circuit.n_inputs:
        raise SpecError(f"layer {layer.name} reads gates, not only inputs: its range is unknown")
    domain = domain or InputDomain.full(circuit.n_pos, circuit.n_vocab)
    basis = layer.basis if layer.basis is not None else np.eye(layer.src.size, dtype=np.int64)
    owner = _owners(layer)
    full = np.zeros((circuit.n_inputs, basis.shape[1]), np.int64)  # [n_inputs, r]
    full[layer.src] = basis
    proofs = []
    for j in range(basis.shape[1]):
        w = full[:, j].reshape(circuit.n_pos, circuit.n_vocab)  # [pos, token]
        lo = sum(int(w[p, list(a)].min()) for p, a in enumerate(domain.allowed))
        hi = sum(int(w[p, list(a)].max()) for p, a in enumerate(domain.allowed))
        ts = [int(t) for t in layer.threshold[owner == j]]
        proofs.append(_prove_column(f, ts, lo, hi, f"column {j}"))
    return proofs


def _owners(layer: Layer) -> np.ndarray:
    """``[n_gates]`` the basis column each gate of a thermometer layer reads.

    Raises:
        SpecError: a gate that does not read exactly one column with weight 1.
    """
    select = layer.select.tocsc()
    owner = np.full(layer.n_gates, -1)
    for g in range(layer.n_gates):
        rows = select.indices[select.indptr[g] : select.indptr[g + 1]]
        vals = select.data[select.indptr[g] : select.indptr[g + 1]]
        if len(rows) != 1 or vals[0] != 1:
            raise SpecError(f"gate {layer.first + g} of {layer.name} is not one basis column")
        owner[g] = rows[0]
    return owner


def _prove_column(
    f: Callable[[np.ndarray], np.ndarray], ts: list[int], lo: int, hi: int, what: str
) -> BreakpointProof:
    """Gates ``[L ≥ t]`` (``t`` in ``ts``) carry ``f(L)`` on ``lo..hi``, each read with the
    change ``f(t) − f(t − 1)`` (the compiler writes a gate only where ``f`` changes)."""
    steps = [int(f(np.array([t]))[0] - f(np.array([t - 1]))[0]) for t in ts]
    idle = [t for t, d in zip(ts, steps, strict=True) if d == 0 and lo < t <= hi]
    if idle:
        why = f"{what}: gate L >= {idle[0]} is not at a point where f changes"
        return BreakpointProof(False, len(ts), 2 * len(ts), monotone_reason(f), why)
    base = int(f(np.array([lo]))[0]) - sum(d for t, d in zip(ts, steps, strict=True) if t <= lo)
    proof = prove_thermometer(f, ts, lo, hi, base, steps)
    if proof.failure is None:
        return proof
    return dataclasses.replace(proof, failure=f"{what}: {proof.failure}")


@dataclass(frozen=True)
class NodeProof:
    """Breakpoint proofs of one thermometer layer (a requantisation node), one per column.

    ``monotone`` says why the column checks suffice; None when ``f`` is neither provably
    non-decreasing nor a finite table (no such node is compiled today): not proven.
    """

    layer: str
    columns: list[BreakpointProof]
    monotone: str | None

    @property
    def ok(self) -> bool:
        return self.monotone is not None and all(p.ok for p in self.columns)

    @property
    def failure(self) -> str | None:
        bad = [p.failure for p in self.columns if not p.ok]
        return f"{self.layer} {bad[0]}" if bad else None


def prove_node(circuit: Circuit, node: LutNode) -> NodeProof:
    """Prove the circuit's layer ``node.name`` computes ``node.f`` of each of its forms.

    The range of ``L_j = const_j + Σ_i w[i, j]·value(src_i)`` is the compiler's bound
    ``node.lo[j]..node.hi[j]``; the layer must read exactly ``node``'s forms (same sources and
    weights), and gate ``[Σ_i w[i, j]·value(src_i) ≥ t]`` is ``[L_j ≥ t + const_j]``. Column
    ``j`` is then proven by :func:`prove_thermometer` from the circuit's thresholds.

    Raises:
        SpecError: no such layer, or a layer that does not read ``node``'s forms.
    """
    layer = next((x for x in circuit.layers if x.name == node.name), None)
    if layer is None:
        raise SpecError(f"the circuit has no layer {node.name}")
    basis = layer.basis if layer.basis is not None else np.eye(layer.src.size, dtype=np.int64)
    if not (np.array_equal(layer.src, node.src) and np.array_equal(basis, node.w)):
        raise SpecError(f"layer {node.name} does not read the forms the compiler bounded")
    try:
        reason: str | None = monotone_reason(node.f)
        prove = _prove_column
    except SpecError:
        if isinstance(node.f, Table):
            reason = f"Table of {len(node.f.values)} entries, not monotone: every entry checked"
            prove = _check_table_column
        elif isinstance(node.f, Chain):
            reason = f"g(h(L)) with h non-decreasing ({monotone_reason(node.f.first)})"
            prove = _check_chain_column
        else:
            return NodeProof(node.name, [], None)
    owner = _owners(layer)
    proofs = []
    for j in range(node.const.size):
        c = int(node.const[j])
        ts = [int(t) + c for t in layer.threshold[owner == j]]
        proofs.append(prove(node.f, ts, int(node.lo[j]), int(node.hi[j]), f"column {j}"))
    return NodeProof(node.name, proofs, reason)


def _check_chain_column(f: Chain, ts: list[int], lo: int, hi: int, what: str) -> BreakpointProof:
    """Gates ``[L ≥ t]`` read with ``f(t) − f(t − 1)`` carry ``f = g∘h`` (``h`` non-decreasing,
    ``g`` anything, e.g. a GELU table after a requantisation) on ``lo..hi``: between consecutive
    points of {the points where ``h`` changes (found by binary search, :func:`breakpoints`), the
    gate thresholds} both ``f`` and the read-out are constant, so checking ``lo`` and every such
    point proves the whole range."""
    _, changes = breakpoints(f.first, lo, hi)
    xs = np.array(sorted({lo, *changes, *(t for t in ts if lo < t <= hi)}), dtype=np.int64)
    return _compare_on(f, ts, lo, xs, what, "g(h(L)), h non-decreasing: checked where h changes")


def _compare_on(
    f: Callable[[np.ndarray], np.ndarray],
    ts: list[int],
    lo: int,
    xs: np.ndarray,
    what: str,
    reason: str,
) -> BreakpointProof:
    """Compare ``f`` with the read-out ``f(lo) + Σ_t (f(t) − f(t − 1))·[L ≥ t]`` at ``xs``."""
    t = np.asarray(ts, dtype=np.int64)
    steps = f(t) - f(t - 1)
    base = int(f(np.array([lo]))[0]) - int(steps[t <= lo].sum())
    got = base + ((xs[:, None] >= t[None, :]) * steps[None, :]).sum(1)
    want = f(xs)
    bad = np.nonzero(got != want)[0]
    if bad.size:
        x = int(xs[bad[0]])
        why = f"{what}: f({x}) = {int(want[bad[0]])} but the gates give {int(got[bad[0]])}"
        return BreakpointProof(False, len(ts), xs.size, reason, why)
    return BreakpointProof(True, len(ts), xs.size, reason)


def _check_table_column(f: Table, ts: list[int], lo: int, hi: int, what: str) -> BreakpointProof:
    """Gates ``[L ≥ t]`` read with ``f(t) − f(t − 1)`` carry a (non-monotone) table ``f`` on
    ``lo..hi``: checked at every integer of the range inside the table, at ``lo`` and at every
    threshold in the range (outside the table ``f`` is constant, and the read-out changes only at
    thresholds)."""
    xs = np.arange(max(lo, f.lo), min(hi, f.lo + len(f.values) - 1) + 1, dtype=np.int64)
    inside = [t for t in ts if lo < t <= hi]
    xs = np.unique(np.concatenate([[lo], inside, xs]).astype(np.int64))
    return _compare_on(f, ts, lo, xs, what, "not monotone: every entry checked")


def prove_transformer(
    circuit: Circuit, q: QTransformer, domain: Sequence[Sequence[int]] | None = None
) -> list[NodeProof]:
    """One :class:`NodeProof` per thermometer layer of ``q``'s compiled circuit (q, k, v,
    scores, exp, the max's thermometers, attention output, MLP hidden and output, binarised
    forms): ``q`` is compiled again to learn each layer's function, forms and bounds, and the
    proofs check the thresholds of ``circuit`` (a circuit compiled from ``q`` on ``domain``)."""
    from algolens.logic.compile_transformer import compile_transformer

    nodes: list[LutNode] = []
    compile_transformer(q, domain, nodes)
    return [prove_node(circuit, n) for n in nodes]
