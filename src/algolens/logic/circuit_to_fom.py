"""The pass circuit → FO(M): the formula of a threshold circuit, one definition per gate.

Each gate of a circuit becomes one let-definition ``g<k>`` (gate index ``k``, node id
``n_inputs + k``); each output bit ``j`` (least significant first) becomes ``out j := ...``.
Gates that are an AND, OR or NOT of their sources are written with ``&``, ``|``, ``~``, a
gate on one token's count over all positions with threshold ``⌈n/2⌉`` as ``M i. Qa(i)``.
This is a rewrite of one circuit (one input length); :mod:`algolens.logic.transformer_to_fom`
writes one sentence for every length.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from algolens.errors import SizeLimitError, SpecError
from algolens.logic.fom import (
    And,
    Call,
    Const,
    Count,
    Definition,
    Formula,
    Not,
    Num,
    Or,
    Program,
    Quant,
    Threshold,
    Tok,
    Var,
)

MAX_EXPANDED_GATES = 20_000
"""Above this many gates :func:`circuit_to_fom` refuses to write the expanded formula."""


def circuit_gates(circuit: Mapping[str, Any]) -> list[tuple[list[int], list[int], int]]:
    """``(sources, weights, threshold)`` of every gate of a circuit in the export format.

    Raises:
        SpecError: a gate that is not ``{"w": [[src, weight], ...], "t": int}`` or uses a
            source that is not earlier than itself.
    """
    n_inputs = int(circuit["n_inputs"])
    gates = []
    for k, g in enumerate(circuit["gates"]):
        try:
            srcs = [int(s) for s, _ in g["w"]]
            weights = [int(w) for _, w in g["w"]]
            t = int(g["t"])
        except (KeyError, TypeError, ValueError):
            raise SpecError(f"gate {k} is not {{'w': [[src, weight], ...], 't': int}}") from None
        if any(s < 0 or s >= n_inputs + k for s in srcs):
            raise SpecError(f"gate {k} (node {n_inputs + k}) reads a node that is not earlier")
        gates.append((srcs, weights, t))
    return gates


def circuit_to_fom(
    circuit: Any, n_vocab: int | None = None, *, max_gates: int = MAX_EXPANDED_GATES
) -> Program:
    """The FO(M) program of a threshold circuit (fully expanded).

    Args:
        circuit: a :class:`~algolens.logic.circuit.Circuit` or its export dict
            ``{"n_inputs", "gates", "outputs", ...}`` (docs/logic.md, export format).
        n_vocab: tokens per position (read from a ``Circuit``, or from a dict's ``n_vocab``
            field when not given); input node ``pos * n_vocab + token`` is ``Q<token>(pos)``.
        max_gates: refuse larger circuits (their expanded text is too long to read).

    Raises:
        SizeLimitError: more than ``max_gates`` gates.
        SpecError: a malformed gate, or ``n_inputs`` not a multiple of ``n_vocab``.
    """
    if isinstance(circuit, Mapping):
        n_inputs, n_gates = int(circuit["n_inputs"]), len(circuit["gates"])
        outputs = [int(o) for o in circuit["outputs"]]
        if n_vocab is None:  # the format's default: one position of n_inputs tokens
            n_vocab = int(circuit.get("n_vocab", n_inputs))
    else:
        n_inputs, n_gates = circuit.n_inputs, circuit.n_gates
        outputs = [int(o) for o in circuit.outputs]
        n_vocab = circuit.n_vocab
    if n_vocab is None or n_vocab < 1 or n_inputs % n_vocab:
        raise SpecError(f"n_inputs {n_inputs} is not a multiple of n_vocab {n_vocab}")
    if n_gates > max_gates:
        raise SizeLimitError(
            f"the circuit has {n_gates} gates, more than {max_gates} to write out; "
            "use fom_size for its size or a smaller model"
        )
    if isinstance(circuit, Mapping):
        gates = circuit_gates(circuit)
    else:
        gates = [([int(x) for x in s], [int(x) for x in w], t) for s, w, t in circuit.gates()]
    n_pos = n_inputs // n_vocab
    node = NodeFormulas(n_inputs, n_vocab)
    defs = tuple(
        Definition(f"g{k}", (), gate_formula(srcs, ws, t, n_inputs, n_vocab, n_pos, node))
        for k, (srcs, ws, t) in enumerate(gates)
    )
    return Program(defs, tuple(node(o) for o in outputs))


class NodeFormulas:
    """:func:`node_formula` with one shared formula object per node (large circuits read each
    node many times)."""

    def __init__(self, n_inputs: int, n_vocab: int) -> None:
        self.n_inputs, self.n_vocab = n_inputs, n_vocab
        self._cache: dict[int, Formula] = {}

    def __call__(self, src: int) -> Formula:
        f = self._cache.get(src)
        if f is None:
            f = self._cache[src] = node_formula(src, self.n_inputs, self.n_vocab)
        return f


def node_formula(src: int, n_inputs: int, n_vocab: int) -> Formula:
    """Node ``src`` as a formula: ``Q<token>(<pos>)`` for an input, ``g<k>`` for gate k."""
    if src < n_inputs:
        return Tok(src % n_vocab, Num(src // n_vocab))
    return Call(f"g{src - n_inputs}")


def gate_formula(
    srcs: list[int],
    ws: list[int],
    t: int,
    n_inputs: int,
    n_vocab: int,
    n_pos: int,
    node: NodeFormulas | None = None,
) -> Formula:
    """One gate (sources, weights, threshold) as the most readable equivalent formula."""
    node = node or NodeFormulas(n_inputs, n_vocab)
    merged: dict[int, int] = {}
    for s, w in zip(srcs, ws, strict=True):
        merged[s] = merged.get(s, 0) + w
    items = sorted((s, w) for s, w in merged.items() if w != 0)  # sources ascending
    if t <= 0 and all(w >= 0 for _, w in items):
        return Const(True)
    if t > sum(w for _, w in items if w > 0):
        return Const(False)
    nodes = [node(s) for s, _ in items]
    if all(w == 1 for _, w in items):
        if t == len(items):
            return nodes[0] if len(nodes) == 1 else And(tuple(nodes))
        if t == 1:
            return Or(tuple(nodes))
    if len(items) == 1 and items[0][1] == -1 and t == 0:
        return Not(nodes[0])
    terms = _count_terms(items, n_inputs, n_vocab, n_pos, node)
    if len(terms) == 1 and terms[0][0] == 1 and isinstance(terms[0][1], Count):
        if t == (n_pos + 1) // 2:
            return Quant("M", terms[0][1].var, terms[0][1].body)
    return Threshold(tuple(terms), t)


def _count_terms(
    items: list[tuple[int, int]], n_inputs: int, n_vocab: int, n_pos: int, node: NodeFormulas
) -> list[tuple[int, Formula | Count]]:
    """Weighted sources; a token read with one weight at every one of at least three positions
    becomes a count (with two positions an equal weight is more likely chance than structure)."""
    by_token: dict[tuple[int, int], list[int]] = {}
    for s, w in items:
        if s < n_inputs:
            by_token.setdefault((s % n_vocab, w), []).append(s // n_vocab)
    counted = {key for key, ps in by_token.items() if n_pos > 2 and len(ps) == n_pos}
    terms: list[tuple[int, Formula | Count]] = []
    done: set[tuple[int, int]] = set()
    for s, w in items:
        key = (s % n_vocab, w)
        if s < n_inputs and key in counted:
            if key not in done:
                done.add(key)
                terms.append((w, Count(Var("i"), Tok(key[0], Var("i")))))
            continue
        terms.append((w, node(s)))
    return terms
