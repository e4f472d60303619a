"""The pass transformer → FO(M): one sentence for every input length.

Merrill & Sabharwal's theorem: a log-precision transformer is defined by one fixed FO(M)
sentence, whatever the input length n. :func:`transformer_to_fom` writes that sentence for the
integer model Q (:mod:`algolens.logic.quantize_transformer`) of a **one-block** transformer
whose answer is read at the last position, from Q's weights alone:

* **Key classes.** The last position's query depends only on its token and position; a key
  position ``j`` contributes a score ``s`` (per head) and a value ``v`` that depend only on
  ``(token_j, j)``. Positions with equal ``(s, v)`` form one class, written as a formula in
  ``j``. When Q's embedding does not depend on the position (:func:`position_free`) a class is
  a set of tokens (``Q0(j) | Q2(j)``) and the sentence holds for **every** n, also beyond the
  lengths Q was built for (:func:`with_length`); with learned positions a class names its
  positions (``Q1(j) & j = 4``) and the sentence holds for every length Q accepts.
* **Softmax by counts.** The largest score present is first-order (``E j`` over the classes
  that reach it, ``~E j`` over those above it). Given it (``m``), every ``e_j = EXP[s_j − m]``
  is a constant of ``j``'s class, so the rounded mean ``z = floor((2·Σ e_j v_j + Σ e_j) /
  (2·Σ e_j))`` is at least ``c`` iff ``Σ_class EXP[s − m]·(2v − 2c + 1)·#j.class(j) ≥ 0``: a
  threshold over counting quantifiers with constant weights (``z<d>ge<c>``, ``c`` written
  ``n5`` when negative).
* **The rest of the block** (output projection, MLP, unembedding, argmax) reads only the last
  position's stream and the thermometer code of ``z``: it is compiled once by
  :mod:`algolens.logic.compile_transformer` (:func:`~algolens.logic.compile_transformer.block_tail`)
  over those bits and written gate by gate (``g<k>``) — a fixed part, the same for every n.

Restriction (stated wherever the sentence is reported): one block (Q's answer depends on the
other positions only through one attention layer's counts); several blocks need the counts of
earlier layers' outputs, which this pass does not build.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from algolens.errors import SpecError
from algolens.logic.circuit_to_fom import NodeFormulas, gate_formula
from algolens.logic.fom import (
    And,
    Call,
    Count,
    Definition,
    Eq,
    Formula,
    Less,
    Not,
    Num,
    Or,
    Program,
    Quant,
    Threshold,
    Tok,
    Var,
)
from algolens.logic.quantize import signed_max
from algolens.logic.quantize_transformer import QBlock, QTransformer


@dataclass(frozen=True, eq=False)
class KeyClass:
    """Key positions with one score per head and one value: ``members`` are ``(token,
    position)`` pairs, position None for "every position" (position-free Q)."""

    members: tuple[tuple[int, int | None], ...]
    score: np.ndarray  # [h] int64
    value: np.ndarray  # [h·dh] int64


@dataclass(frozen=True, eq=False)
class QueryCase:
    """The last position holds ``token`` at ``pos`` (None: any position, position-free Q)."""

    token: int
    pos: int | None
    resid: np.ndarray  # [d_model] the last position's residual stream
    classes: tuple[KeyClass, ...]


def position_free(q: QTransformer) -> bool:
    """Whether Q's embedding is the same at every position (no positional information)."""
    return bool((q.embed == q.embed[:, :1]).all())


def with_length(q: QTransformer, n_pos: int) -> QTransformer:
    """Q on sequences of ``n_pos`` tokens: cut, or (position-free Q only) extended.

    Raises:
        SpecError: longer than Q's positions and Q has learned positions.
    """
    if n_pos <= q.n_pos:
        return dataclasses.replace(q, embed=q.embed[:, :n_pos])
    if not position_free(q):
        raise SpecError(
            f"this integer model has learned positions up to {q.n_pos}; it cannot read "
            f"{n_pos} tokens"
        )
    return dataclasses.replace(q, embed=np.repeat(q.embed[:, :1], n_pos, axis=1))


def _one_block(q: QTransformer) -> QBlock:
    if len(q.blocks) != 1:
        raise SpecError(
            f"the uniform FO(M) sentence is built for one-block transformers; this one has "
            f"{len(q.blocks)} blocks"
        )
    return q.blocks[0]


def query_cases(q: QTransformer, last_tokens: Sequence[int] | None = None) -> list[QueryCase]:
    """Every case of the last position (token, position) with its key classes."""
    blk = _one_block(q)
    h, dh = q.n_heads, q.d_head
    free = position_free(q)
    places: list[int | None] = [None] if free else list(range(q.n_pos))
    tokens = range(q.d_vocab) if last_tokens is None else last_tokens
    cases = []
    for t_last in tokens:
        for at in places:
            x = q.embed[t_last, 0 if at is None else at]
            qv = blk.rq_q(x @ blk.w_q + blk.b_q).reshape(h, dh)
            groups: dict[tuple[bytes, bytes], list[tuple[int, int | None]]] = {}
            found: dict[tuple[bytes, bytes], tuple[np.ndarray, np.ndarray]] = {}
            for p in [None] if at is None else range(at + 1):
                for t in range(q.d_vocab):
                    r = q.embed[t, 0 if p is None else p]
                    k = blk.rq_k(r @ blk.w_k + blk.b_k).reshape(h, dh)
                    v = blk.rq_v(r @ blk.w_v + blk.b_v)
                    s = blk.rq_s(np.einsum("hd,hd->h", qv, k))
                    key = (s.tobytes(), v.tobytes())
                    groups.setdefault(key, []).append((t, p))
                    found[key] = (s, v)
            classes = tuple(KeyClass(tuple(m), *found[key]) for key, m in groups.items())
            cases.append(QueryCase(int(t_last), at, x, classes))
    return cases


# -- the sentence ---------------------------------------------------------------------------

J = Var("j")
L = Var("l")


def _member(t: int, p: int | None) -> Formula:
    return Tok(t, J) if p is None else And((Tok(t, J), Eq(J, Num(p))))


def class_formula(cls: KeyClass) -> Formula:
    """``j`` is in the class (a formula in the variable ``j``)."""
    parts = [_member(t, p) for t, p in cls.members]
    return parts[0] if len(parts) == 1 else Or(tuple(parts))


def _any(classes: Sequence[KeyClass]) -> Formula:
    """Some position is in one of ``classes``."""
    if not classes:
        return Or(())
    parts = tuple(class_formula(c) for c in classes)
    return Quant("E", J, parts[0] if len(parts) == 1 else Or(parts))


def case_formula(case: QueryCase) -> Formula:
    """The last position holds ``case.token`` (at ``case.pos``)."""
    last = And((Tok(case.token, L), Not(Quant("E", J, Less(L, J)))))
    if case.pos is not None:
        last = And((Tok(case.token, L), Eq(L, Num(case.pos)), Not(Quant("E", J, Less(L, J)))))
    return Quant("E", L, last)


def z_name(d: int, c: int) -> str:
    """Name of "attention output ``d`` is at least ``c``"."""
    return f"z{d}ge{c}" if c >= 0 else f"z{d}gen{-c}"


@dataclass(frozen=True)
class Sentence:
    """The sentence of a one-block Q and how it was built."""

    program: Program
    position_free: bool
    cases: int
    classes: int  # key classes over all cases
    tail_gates: int  # gates of the fixed part after the attention

    @property
    def uniform(self) -> bool:
        """True when the sentence holds for every length (no position is named)."""
        return self.position_free


def transformer_to_fom(q: QTransformer, last_tokens: Sequence[int] | None = None) -> Sentence:
    """One FO(M) sentence equal to ``q`` on every input whose last token is in
    ``last_tokens`` (default: any), of every length (position-free Q) or of every length up to
    ``q.n_pos`` (learned positions). Module docstring for the construction.

    Raises:
        SpecError: Q has more than one block.
    """
    blk = _one_block(q)
    h, dh, top = q.n_heads, q.d_head, signed_max(q.bits)
    cases = query_cases(q, last_tokens)
    defs: list[Definition] = []
    case_names = []
    for k, case in enumerate(cases):
        case_names.append(f"case{k}")
        defs.append(Definition(case_names[-1], (), case_formula(case)))
    levels = range(-top + 1, top + 1)
    # the largest score present, per case and head: mx<k>h<a>v<i> for its i-th value
    maxima: list[list[list[tuple[int, str]]]] = []
    for k, case in enumerate(cases):
        per_head = []
        for a in range(h):
            scores = sorted({int(c.score[a]) for c in case.classes})
            named = []
            for i, m in enumerate(scores):
                at = [c for c in case.classes if int(c.score[a]) == m]
                above = [c for c in case.classes if int(c.score[a]) > m]
                body: Formula = _any(at) if not above else And((_any(at), Not(_any(above))))
                named.append((m, f"mx{k}h{a}v{i}"))
                defs.append(Definition(named[-1][1], (), body))
            per_head.append(named)
        maxima.append(per_head)
    for d in range(h * dh):
        a = d // dh
        for c in levels:
            alts: list[Formula] = []
            for k, case in enumerate(cases):
                opts: list[Formula] = []
                for m, name in maxima[k][a]:
                    terms = []
                    for cls in case.classes:
                        e = int(blk.exp(np.array(int(cls.score[a]) - m)))
                        w = e * (2 * int(cls.value[d]) - 2 * c + 1)
                        if w:
                            terms.append((w, Count(J, class_formula(cls))))
                    opts.append(And((Call(name), Threshold(tuple(terms), 0))))
                alts.append(And((Call(case_names[k]), Or(tuple(opts)))))
            defs.append(Definition(z_name(d, c), (), Or(tuple(alts))))
    tail, names = _tail_program(q, blk, cases, case_names, levels)
    n_classes = sum(len(c.classes) for c in cases)
    program = Program(tuple(defs) + tail.definitions, tail.outputs)
    return Sentence(program, cases[0].pos is None, len(cases), n_classes, len(tail.definitions))


class _Virtual(NodeFormulas):
    """Input node ``2k + 1`` of the tail circuit is the named predicate ``names[k]``."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(2 * len(names), 2)
        self.names = list(names)

    def __call__(self, src: int) -> Formula:
        if src >= self.n_inputs:
            return Call(f"g{src - self.n_inputs}")
        f = Call(self.names[src // 2])
        return f if src % 2 else Not(f)


def _tail_program(
    q: QTransformer,
    blk: QBlock,
    cases: Sequence[QueryCase],
    case_names: Sequence[str],
    levels: range,
) -> tuple[Program, list[str]]:
    """The fixed part: output projection, MLP and argmax over the thermometer code of ``z``
    and the case of the last position, compiled over those bits and written gate by gate."""
    from algolens.logic.compile_gadgets import Compiler
    from algolens.logic.compile_transformer import block_tail

    width = q.n_heads * q.d_head
    names = [z_name(d, c) for d in range(width) for c in levels] + list(case_names)
    c = Compiler(len(names), 2)
    n_z = width * len(levels)
    ones = 2 * np.arange(len(names), dtype=np.int64) + 1  # node "bit k is 1"
    w_z = np.zeros((n_z, width), dtype=np.int64)
    w_z[np.arange(n_z), np.repeat(np.arange(width), len(levels))] = 1
    z = c.linear(ones[:n_z], w_z, np.full(width, -signed_max(q.bits), np.int64))
    w_x = np.stack([case.resid for case in cases]).astype(np.int64)  # [cases, d_model]
    resid = c.linear(ones[n_z:], w_x, np.zeros(w_x.shape[1], np.int64))
    out = block_tail(c, blk, resid, z, "tail")
    circuit = c.build(c.argmax(c.matmul(out, q.w_u, q.b_u)))
    node = _Virtual(names)
    defs = tuple(
        Definition(f"g{k}", (), gate_formula(list(s), list(w), int(t), node.n_inputs, 2, 0, node))
        for k, (s, w, t) in enumerate(circuit.gates())
    )
    return Program(defs, tuple(node(int(o)) for o in circuit.outputs)), names


__all__ = [
    "KeyClass", "QueryCase", "Sentence", "class_formula", "position_free", "query_cases",
    "transformer_to_fom", "with_length", "z_name",
]  # fmt: skip
