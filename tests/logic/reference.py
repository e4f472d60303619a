"""Brute-force references for the logic tests: the export format read by its definition.

``node_values`` follows docs/logic.md word for word (a plain Python loop over gates and
sources), sharing no code with ``algolens.logic``.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np


def node_values(circuit: dict[str, Any], tokens: list[int], n_vocab: int) -> list[int]:
    """Values of every node (inputs, then gates) on one input string."""
    values = [0] * circuit["n_inputs"]
    for pos, tok in enumerate(tokens):
        values[pos * n_vocab + tok] = 1
    for gate in circuit["gates"]:
        total = sum(w * values[src] for src, w in gate["w"])
        values.append(1 if total >= gate["t"] else 0)
    return values


def output(circuit: dict[str, Any], tokens: list[int], n_vocab: int) -> int:
    """The predicted token: the output nodes read as a binary number, least significant first."""
    values = node_values(circuit, tokens, n_vocab)
    return sum(values[o] << j for j, o in enumerate(circuit["outputs"]))


def all_strings(n_pos: int, n_vocab: int) -> np.ndarray:
    """Every input string ``[n_vocab ** n_pos, n_pos]``."""
    return np.array(list(itertools.product(range(n_vocab), repeat=n_pos)), dtype=np.int64)


def majority_circuit(n_pos: int) -> dict[str, Any]:
    """Vocabulary {0, 1}; one output: token 1 holds at least half of the positions."""
    w = [[p * 2 + 1, 1] for p in range(n_pos)]
    return {
        "n_inputs": 2 * n_pos,
        "gates": [{"w": w, "t": (n_pos + 1) // 2}],
        "outputs": [2 * n_pos],
    }


def parity2_circuit() -> dict[str, Any]:
    """Vocabulary {0, 1}, two positions; XOR of the two bits as OR-and-not-AND."""
    return {
        "n_inputs": 4,
        "gates": [
            {"w": [[1, 1], [3, 1]], "t": 1},  # g0 = a | b   (node 4)
            {"w": [[1, 1], [3, 1]], "t": 2},  # g1 = a & b   (node 5)
            {"w": [[4, 1], [5, -1]], "t": 1},  # g2 = g0 & ~g1 (node 6)
        ],
        "outputs": [6],
    }


def comparator_circuit(bits: int) -> dict[str, Any]:
    """Vocabulary {0, 1}, 2·bits positions: [x ≥ y] for x, y read most significant first."""
    w = []
    for k in range(bits):
        weight = 1 << (bits - 1 - k)
        w.append([k * 2 + 1, weight])  # bit k of x
        w.append([(bits + k) * 2 + 1, -weight])  # bit k of y
    return {"n_inputs": 4 * bits, "gates": [{"w": w, "t": 0}], "outputs": [4 * bits]}


def random_circuit(
    rng: np.random.Generator,
    n_pos: int,
    n_vocab: int,
    n_gates: int,
    n_out: int,
    fan_in: int = 4,
    max_w: int = 3,
) -> dict[str, Any]:
    """A random layered-anyhow circuit: each gate reads up to ``fan_in`` earlier nodes."""
    n_inputs = n_pos * n_vocab
    gates = []
    for k in range(n_gates):
        nodes = n_inputs + k
        srcs = rng.choice(nodes, size=min(fan_in, nodes), replace=False)
        w = [[int(s), int(rng.integers(-max_w, max_w + 1))] for s in srcs]
        gates.append({"w": w, "t": int(rng.integers(-2, 4))})
    outs = [n_inputs + n_gates - 1 - j for j in range(min(n_out, n_gates))]
    return {"n_inputs": n_inputs, "gates": gates, "outputs": outs}
