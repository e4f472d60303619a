"""The hand-built circuits of ``reference`` as :class:`~algolens.logic.circuit.Circuit` s."""

from __future__ import annotations

from typing import Any

from algolens.logic.circuit import Circuit, CircuitBuilder


def to_circuit(d: dict[str, Any], n_vocab: int) -> Circuit:
    """One layer per gate, exactly the gates of the export-format dict ``d``."""
    b = CircuitBuilder(n_pos=d["n_inputs"] // n_vocab, n_vocab=n_vocab)
    for k, g in enumerate(d["gates"]):
        b.add_gates(f"g{k}", [[(int(s), int(w)) for s, w in g["w"]]], [int(g["t"])])
    return b.build(outputs=d["outputs"])
