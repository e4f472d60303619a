"""Equivalence of a threshold circuit and a reference, on every input or on chosen inputs.

The reference is any function of token strings: the integer model Q, the FO(M) formula
(:func:`fom_reference`), or another circuit (:func:`circuit_reference`). :func:`verify`

* checks **every** input of the domain when there are at most ``exhaustive_limit`` (1e7 by
  default: every group-composition model) — a proof of equivalence on that domain;
* otherwise checks random inputs plus **near-threshold** inputs: inputs that bring a gate's
  weighted sum within ±1 of its threshold (found among the random inputs, then by greedy
  single-position changes that move a gate's sum towards its threshold), where a wrong weight or
  threshold is most likely to show. This finds mismatches; it proves nothing.

A mismatch is reported (:class:`Mismatch`) with the input, both outputs, and the first gate that
disagrees with the reference's gates (when the reference has gates numbered like the circuit's)
or else the first output gate whose bit is wrong — with its threshold, its sum and its inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from algolens.errors import SpecError
from algolens.logic.circuit import Circuit
from algolens.logic.evaluate import decode_outputs, evaluate_values, layer_sums, one_hot
from algolens.logic.verify_refs import circuit_reference, fom_reference

EXHAUSTIVE_LIMIT = 10_000_000
"""Domains up to this many inputs are checked exhaustively."""
BATCH = 2048
MAX_LISTED_INPUTS = 24
"""A mismatch lists at most this many of the disagreeing gate's inputs (largest |weight| first)."""

Reference = Callable[[np.ndarray], np.ndarray]
"""``tokens [batch, n_pos] -> [batch]`` int64 expected token ids."""
GateReference = Callable[[np.ndarray], np.ndarray]
"""``tokens [batch, n_pos] -> [batch, n_gates]`` expected gate values (0/1)."""


@dataclass(frozen=True)
class InputDomain:
    """The inputs to check: the tokens allowed at each position (their product).

    Attributes:
        allowed: per position, the allowed token ids (sorted, distinct).
    """

    allowed: tuple[tuple[int, ...], ...]

    @classmethod
    def full(cls, n_pos: int, n_vocab: int) -> InputDomain:
        """Every token at every position."""
        return cls(tuple(tuple(range(n_vocab)) for _ in range(n_pos)))

    @property
    def size(self) -> int:
        return int(np.prod([len(a) for a in self.allowed], dtype=object))

    def strings(self, start: int, stop: int) -> np.ndarray:
        """Inputs ``start .. stop-1`` in lexicographic order: ``[stop-start, n_pos]`` int64."""
        idx = np.arange(start, stop, dtype=np.int64)
        digits = np.unravel_index(idx, [len(a) for a in self.allowed])
        cols = [np.asarray(a, np.int64)[d] for a, d in zip(self.allowed, digits, strict=True)]
        return np.stack(cols, axis=1) if cols else np.zeros((len(idx), 0), np.int64)

    def sample(self, rng: np.random.Generator, m: int) -> np.ndarray:
        """``m`` uniform random inputs ``[m, n_pos]``."""
        cols = [np.asarray(a, np.int64)[rng.integers(0, len(a), m)] for a in self.allowed]
        return np.stack(cols, axis=1)


@dataclass(frozen=True)
class Mismatch:
    """One input on which circuit and reference disagree, and where in the circuit.

    Attributes:
        tokens: the input string.
        expected, got: the reference's and the circuit's output token ids.
        node: id of the first disagreeing gate (None when no output gate differs, e.g. the
            reference's answer does not fit in the output bits).
        layer: name of that gate's layer.
        threshold, total: the gate's threshold and its weighted sum on this input.
        inputs: ``(src, weight, value)`` of the gate's inputs, largest |weight| first (at most
            :data:`MAX_LISTED_INPUTS`).
        n_inputs: how many inputs the gate has in all.
    """

    tokens: tuple[int, ...]
    expected: int
    got: int
    node: int | None
    layer: str | None = None
    threshold: int | None = None
    total: int | None = None
    inputs: tuple[tuple[int, int, int], ...] = ()
    n_inputs: int = 0

    def describe(self) -> str:
        """One line: the input, both outputs, the gate, its sum against its threshold."""
        head = f"input {list(self.tokens)}: reference {self.expected}, circuit {self.got}"
        if self.node is None:
            return head + "; no output gate differs (the answer does not fit the output bits)"
        listed = ", ".join(f"{w:+d}·v{s}={v}" for s, w, v in self.inputs)
        more = f", ... ({self.n_inputs} inputs)" if self.n_inputs > len(self.inputs) else ""
        return (
            f"{head}; first disagreeing gate: node {self.node} ({self.layer}) "
            f"sum {self.total} vs threshold {self.threshold} from [{listed}{more}]"
        )

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["tokens"] = list(self.tokens)
        d["inputs"] = [list(x) for x in self.inputs]
        return d


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`verify`.

    Attributes:
        method: ``"exhaustive"`` or ``"random+near-threshold"``.
        domain_size: inputs in the domain.
        checked: inputs checked (with repeats for sampled inputs).
        mismatches: inputs on which circuit and reference disagree.
        proof: True iff every input of the domain was checked and none disagreed.
        near_threshold_gates: gates brought within ±1 of their threshold by some checked input
            (sampled method only; None for exhaustive).
        first: the first mismatch found, if any.
    """

    method: str
    domain_size: int
    checked: int
    mismatches: int
    proof: bool
    n_gates: int
    near_threshold_gates: int | None = None
    first: Mismatch | None = field(default=None)

    @property
    def equivalent(self) -> bool:
        """No mismatch found (a proof only when :attr:`proof`)."""
        return self.mismatches == 0

    def describe(self) -> str:
        """One line for the CLI."""
        if self.mismatches:
            return (
                f"NOT equivalent: {self.mismatches} of {self.checked} inputs differ "
                f"({self.method}); {self.first.describe() if self.first else ''}"
            )
        if self.proof:
            return f"equivalent on all {self.domain_size} inputs (exhaustive)"
        near = f", {self.near_threshold_gates}/{self.n_gates} gates hit within ±1 of threshold"
        return f"no mismatch on {self.checked} inputs (random+near-threshold{near}); not a proof"

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "first"}
        d["equivalent"] = self.equivalent
        d["first"] = self.first.to_dict() if self.first else None
        return d


def verify(
    circuit: Circuit,
    reference: Reference,
    *,
    domain: InputDomain | None = None,
    reference_gates: GateReference | None = None,
    exhaustive_limit: int = EXHAUSTIVE_LIMIT,
    n_random: int = 20_000,
    near_rounds: int = 8,
    near_targets: int = 64,
    seed: int = 0,
) -> Verdict:
    """Compare ``circuit`` with ``reference`` on ``domain`` (default: every string).

    Args:
        circuit: the threshold circuit.
        reference: expected output token ids of token strings.
        domain: the inputs that matter (e.g. ``a b =`` strings of a group task).
        reference_gates: expected values of the circuit's gates, to name the first wrong gate.
        exhaustive_limit: largest domain checked exhaustively.
        n_random, near_rounds, near_targets: the sampled method's random inputs, greedy rounds
            and gates searched for per round.
        seed: seed of the sampled method's generator.

    Raises:
        SpecError: a domain whose length or tokens do not fit the circuit.
    """
    domain = domain or InputDomain.full(circuit.n_pos, circuit.n_vocab)
    _check_domain(circuit, domain)
    size = domain.size
    if size <= exhaustive_limit:
        found = _Tally()
        for s in range(0, size, BATCH):
            found.add(circuit, reference, reference_gates, domain.strings(s, min(size, s + BATCH)))
        return Verdict(
            "exhaustive",
            size,
            size,
            found.count,
            found.count == 0,
            circuit.n_gates,
            None,
            found.first,
        )
    rng = np.random.default_rng(seed)
    found = _Tally()
    random_inputs = domain.sample(rng, n_random)
    for s in range(0, n_random, BATCH):
        found.add(circuit, reference, reference_gates, random_inputs[s : s + BATCH])
    near_inputs, covered = near_threshold_inputs(
        circuit, domain, random_inputs, rng, rounds=near_rounds, targets=near_targets
    )
    for s in range(0, len(near_inputs), BATCH):
        found.add(circuit, reference, reference_gates, near_inputs[s : s + BATCH])
    checked = n_random + len(near_inputs)
    return Verdict(
        "random+near-threshold",
        size,
        checked,
        found.count,
        False,
        circuit.n_gates,
        covered,
        found.first,
    )


def _check_domain(circuit: Circuit, domain: InputDomain) -> None:
    if len(domain.allowed) != circuit.n_pos:
        raise SpecError(
            f"the input domain has {len(domain.allowed)} positions, the circuit {circuit.n_pos}"
        )
    for p, a in enumerate(domain.allowed):
        if not a or min(a) < 0 or max(a) >= circuit.n_vocab:
            raise SpecError(f"position {p}: allowed tokens must lie in 0..{circuit.n_vocab - 1}")


class _Tally:
    """Mismatch count and the first mismatch over batches."""

    def __init__(self) -> None:
        self.count = 0
        self.first: Mismatch | None = None

    def add(
        self,
        circuit: Circuit,
        reference: Reference,
        reference_gates: GateReference | None,
        tokens: np.ndarray,
    ) -> None:
        values = evaluate_values(circuit, one_hot(tokens, circuit.n_vocab))
        got = decode_outputs(circuit, values)
        want = np.asarray(reference(tokens), dtype=np.int64)
        bad = np.nonzero(got != want)[0]
        self.count += len(bad)
        if self.first is None and len(bad):
            k = int(bad[0])
            ref_gates = None if reference_gates is None else reference_gates(tokens[k : k + 1])
            self.first = locate(circuit, tokens[k], values[k], int(want[k]), ref_gates)


def locate(
    circuit: Circuit,
    tokens: np.ndarray,
    values: np.ndarray,
    expected: int,
    reference_gates: np.ndarray | None = None,
) -> Mismatch:
    """The mismatch record of one input: the first gate that differs from ``reference_gates``
    (``[1, n_gates]``), or without them the first output gate whose bit differs from
    ``expected``.

    Args:
        values: ``[n_nodes]`` the circuit's node values on ``tokens``.
    """
    got = int(decode_outputs(circuit, values[None, :])[0])
    node: int | None = None
    if reference_gates is not None:
        diff = np.nonzero(values[circuit.n_inputs :] != np.asarray(reference_gates[0]))[0]
        node = circuit.n_inputs + int(diff[0]) if len(diff) else None
    if node is None:
        wrong = [
            int(o) for j, o in enumerate(circuit.outputs) if ((expected >> j) & 1) != values[o]
        ]
        node = min(wrong) if wrong else None
    if node is None or node < circuit.n_inputs:
        return Mismatch(tuple(int(t) for t in tokens), expected, got, node)
    srcs, ws, t = circuit.gate_weights(node)
    total = int(sum(w * int(values[s]) for s, w in zip(srcs, ws, strict=True)))
    order = sorted(range(len(srcs)), key=lambda i: -abs(ws[i]))[:MAX_LISTED_INPUTS]
    inputs = tuple((srcs[i], ws[i], int(values[srcs[i]])) for i in order)
    layer = circuit.layers[circuit.layer_of(node)].name
    return Mismatch(
        tuple(int(x) for x in tokens), expected, got, node, layer, t, total, inputs, len(srcs)
    )


# -- near-threshold inputs --------------------------------------------------------------------


def gate_margins(circuit: Circuit, tokens: np.ndarray) -> np.ndarray:
    """``[batch, n_gates]`` int64: each gate's weighted sum minus its threshold."""
    values = evaluate_values(circuit, one_hot(tokens, circuit.n_vocab))
    parts = [layer_sums(layer, values) - layer.threshold for layer in circuit.layers]
    return np.concatenate(parts, axis=1) if parts else np.zeros((len(tokens), 0), np.int64)


def near_threshold_inputs(
    circuit: Circuit,
    domain: InputDomain,
    start: np.ndarray,
    rng: np.random.Generator,
    *,
    rounds: int = 8,
    targets: int = 64,
) -> tuple[np.ndarray, int]:
    """Inputs that put gates' sums at ``t - 1``, ``t`` and ``t + 1``, and how many gates are hit.

    An off-by-one weight or threshold shows exactly there, so each of the three margins is a
    separate target per gate. A target already reached by an input of ``start`` is done; for up
    to ``targets`` open (gate, margin) targets per round, the input closest to it so far is
    improved by the best single-position change (greedy), for ``rounds`` rounds.

    Returns:
        ``(inputs [m, n_pos], covered)``: the inputs found by the search that reach a target,
        and the number of gates whose sum is within ±1 of the threshold on some input of
        ``start`` or the new ones.
    """
    n_gates = circuit.n_gates
    aims = np.array([-1, 0, 1], np.int64)  # [3] margins sought
    best = np.full((3, n_gates), np.iinfo(np.int64).max)  # distance to each aim
    best_at = np.zeros((3, n_gates, circuit.n_pos), np.int64)  # the input that reached it

    def absorb(chunk: np.ndarray) -> np.ndarray:
        m = gate_margins(circuit, chunk)  # [b, n_gates]
        dist = np.abs(m[None, :, :] - aims[:, None, None])  # [3, b, n_gates]
        arg = dist.argmin(1)  # [3, n_gates]
        reach = np.take_along_axis(dist, arg[:, None, :], 1)[:, 0, :]  # [3, n_gates]
        closer = reach < best
        best[closer] = reach[closer]
        best_at[closer] = chunk[arg[closer]]
        return dist

    for s in range(0, len(start), 256):
        absorb(start[s : s + 256])
    found: list[np.ndarray] = []
    for _ in range(rounds):
        open_k, open_g = np.nonzero(best > 0)
        if not len(open_g):
            break
        pick = rng.choice(len(open_g), size=min(targets, len(open_g)), replace=False)
        for k, g in zip(open_k[pick], open_g[pick], strict=True):
            if best[k, g] == 0:
                continue
            cands = _neighbours(best_at[k, g], domain)  # [m, n_pos]
            dist = absorb(cands)  # [3, m, n_gates]
            hits = (dist == 0).any(axis=(0, 2))  # [m] candidates that reach some aim
            found.extend(cands[hits])
    near = np.unique(np.stack(found), axis=0) if found else np.zeros((0, circuit.n_pos), np.int64)
    return near, int((best.min(0) == 0).sum())


def _neighbours(x: np.ndarray, domain: InputDomain) -> np.ndarray:
    """Every input that differs from ``x`` at most at one position ``[m, n_pos]``."""
    rows = [x]
    for p, allowed in enumerate(domain.allowed):
        for tok in allowed:
            if tok != x[p]:
                y = x.copy()
                y[p] = tok
                rows.append(y)
    return np.stack(rows)


__all__ = [
    "InputDomain", "Mismatch", "Verdict", "circuit_reference", "fom_reference", "gate_margins",
    "locate", "near_threshold_inputs", "verify",
]  # fmt: skip
