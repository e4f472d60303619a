"""A SAT miter of two threshold circuits (python-sat): UNSAT proves them equivalent.

Both circuits read the same one-hot inputs (exactly one token per position, from the allowed
tokens of an :class:`~algolens.logic.verify.InputDomain`); every gate becomes a variable equal to
its threshold function, encoded as a reduced ordered decision diagram over its inputs (Eén &
Sörensson's BDD encoding of a pseudo-Boolean constraint: node ``(i, r)`` means
``Σ_{j ≥ i} w_j·x_j ≥ r``, with each node's variable tied to ``x_i ? hi : lo`` by four clauses).
One more clause asks for an output bit on which the circuits differ. The solver then either
finds no assignment (UNSAT: equivalent on every input of the domain) or returns one, which is
decoded into a witness input and checked by evaluating both circuits.

Meant for tiny models: a gate with many large weights can need many decision-diagram nodes;
:data:`MAX_NODES` bounds the encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pysat.card import CardEnc, EncType
from pysat.solvers import Solver

from algolens.errors import SizeLimitError, SpecError
from algolens.logic.circuit import Circuit
from algolens.logic.evaluate import decode_outputs, evaluate_values, one_hot
from algolens.logic.verify import InputDomain, Mismatch, locate

MAX_NODES = 2_000_000
"""At most this many decision-diagram nodes over all gates of both circuits."""
SOLVER = "cadical153"


@dataclass(frozen=True)
class MiterResult:
    """Outcome of :func:`miter`.

    Attributes:
        equivalent: True iff the solver proved that no input of the domain separates the circuits.
        witness: for non-equivalent circuits, an input where they differ, located in ``a``
            (first disagreeing gate against ``b``'s gates when their gate counts match).
        variables, clauses: size of the SAT instance.
    """

    equivalent: bool
    witness: Mismatch | None
    variables: int
    clauses: int

    def describe(self) -> str:
        size = f"SAT miter ({self.variables} variables, {self.clauses} clauses)"
        if self.equivalent:
            return f"equivalent on every input: UNSAT {size}"
        assert self.witness is not None
        return f"NOT equivalent: {size} found {self.witness.describe()}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "equivalent": self.equivalent,
            "witness": self.witness.to_dict() if self.witness else None,
            "variables": self.variables,
            "clauses": self.clauses,
        }


class _Cnf:
    """Clauses and a variable counter; variable 1 is the constant true."""

    def __init__(self) -> None:
        self.top = 1
        self.clauses: list[list[int]] = [[1]]
        self.nodes = 0

    def new(self) -> int:
        self.top += 1
        return self.top

    def ite(self, x: int, hi: int, lo: int) -> int:
        """A variable equal to ``x ? hi : lo`` (literals)."""
        if hi == lo:
            return hi
        v = self.new()
        self.clauses += [[-x, -hi, v], [-x, hi, -v], [x, -lo, v], [x, lo, -v]]
        return v

    def threshold(self, lits: list[int], weights: list[int], t: int) -> int:
        """A literal equal to ``Σ w·lit ≥ t`` (decision diagram, largest |w| first)."""
        order = sorted(range(len(lits)), key=lambda i: -abs(weights[i]))
        lits = [lits[i] for i in order]
        ws = [weights[i] for i in order]
        n = len(ws)
        lo_sum = np.concatenate([np.cumsum([min(w, 0) for w in ws][::-1])[::-1], [0]])
        hi_sum = np.concatenate([np.cumsum([max(w, 0) for w in ws][::-1])[::-1], [0]])
        levels: list[set[int]] = [{t}]
        for i in range(n):  # top-down: the residuals reached at each level
            nxt: set[int] = set()
            for r in levels[i]:
                if lo_sum[i] < r <= hi_sum[i]:
                    nxt.update((r, r - ws[i]))
            levels.append(nxt)
            self.nodes += len(nxt)
            if self.nodes > MAX_NODES:
                raise SizeLimitError(
                    f"the SAT miter needs more than {MAX_NODES} decision-diagram nodes; "
                    "use exhaustive or sampled verification for this circuit"
                )
        below: dict[int, int] = {}
        for i in range(n, -1, -1):  # bottom-up: a literal per (level, residual)
            here: dict[int, int] = {}
            for r in levels[i]:
                if r <= lo_sum[i]:
                    here[r] = 1
                elif r > hi_sum[i]:
                    here[r] = -1
                else:
                    here[r] = self.ite(lits[i], below[r - ws[i]], below[r])
            below = here
        return below[t]


def _encode(cnf: _Cnf, circuit: Circuit, inputs: list[int]) -> list[int]:
    """Literals of every node of ``circuit`` given the literals of its inputs."""
    node = list(inputs)
    for srcs, ws, t in circuit.gates():
        node.append(cnf.threshold([node[int(s)] for s in srcs], [int(w) for w in ws], t))
    return node


def miter(a: Circuit, b: Circuit, *, domain: InputDomain | None = None) -> MiterResult:
    """Prove ``a`` and ``b`` equivalent on ``domain`` (default: every string), or find a witness.

    Raises:
        SpecError: circuits with different input shapes, or a domain that does not fit.
        SizeLimitError: an encoding above :data:`MAX_NODES` decision-diagram nodes.
    """
    if (a.n_pos, a.n_vocab) != (b.n_pos, b.n_vocab):
        raise SpecError(
            f"the circuits read different inputs: {a.n_pos}x{a.n_vocab} vs {b.n_pos}x{b.n_vocab}"
        )
    domain = domain or InputDomain.full(a.n_pos, a.n_vocab)
    if len(domain.allowed) != a.n_pos or any(
        not s or min(s) < 0 or max(s) >= a.n_vocab for s in domain.allowed
    ):
        raise SpecError(f"the input domain does not fit {a.n_pos} positions of {a.n_vocab} tokens")
    cnf = _Cnf()
    inputs = [-1] * a.n_inputs  # disallowed tokens are constant false
    for p, allowed in enumerate(domain.allowed):
        lits = []
        for tok in allowed:
            v = cnf.new()
            inputs[p * a.n_vocab + tok] = v
            lits.append(v)
        one = CardEnc.equals(lits=lits, bound=1, top_id=cnf.top, encoding=EncType.seqcounter)
        cnf.top = max(cnf.top, one.nv)
        cnf.clauses += one.clauses
    node_a, node_b = _encode(cnf, a, inputs), _encode(cnf, b, inputs)
    n_out = max(len(a.outputs), len(b.outputs))
    out_a = [node_a[int(o)] for o in a.outputs] + [-1] * (n_out - len(a.outputs))
    out_b = [node_b[int(o)] for o in b.outputs] + [-1] * (n_out - len(b.outputs))
    differs = []
    for x, y in zip(out_a, out_b, strict=True):
        d = cnf.new()
        cnf.clauses += [[-d, x, y], [-d, -x, -y]]  # d -> x xor y
        differs.append(d)
    cnf.clauses.append(differs)
    with Solver(name=SOLVER, bootstrap_with=cnf.clauses) as solver:
        sat = solver.solve()
        model = solver.get_model() if sat else None
    if not sat:
        return MiterResult(True, None, cnf.top, len(cnf.clauses))
    assert model is not None
    true = {v for v in model if v > 0}
    tokens = np.array(
        [
            [
                next(t for t in allowed if inputs[p * a.n_vocab + t] in true)
                for p, allowed in enumerate(domain.allowed)
            ]
        ],
        np.int64,
    )
    va = evaluate_values(a, one_hot(tokens, a.n_vocab))
    vb = evaluate_values(b, one_hot(tokens, b.n_vocab))
    expected = int(decode_outputs(b, vb)[0])
    if int(decode_outputs(a, va)[0]) == expected:  # the encoding disagrees with the evaluator
        raise AssertionError(f"SAT witness {tokens[0].tolist()} does not separate the circuits")
    gates_b = vb[:, b.n_inputs :] if b.n_gates == a.n_gates else None
    return MiterResult(
        False, locate(a, tokens[0], va[0], expected, gates_b), cnf.top, len(cnf.clauses)
    )
