"""References for :func:`algolens.logic.verify.verify`: another circuit, or an FO(M) program.

Each returns ``(outputs, gates)``: ``tokens [batch, n_pos] -> [batch]`` expected token ids and
``tokens -> [batch, n_gates]`` expected gate values (to name the first disagreeing gate).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from algolens.logic.circuit import Circuit
from algolens.logic.evaluate import decode_outputs, evaluate_values, one_hot

Reference = Callable[[np.ndarray], np.ndarray]


def circuit_reference(other: Circuit) -> tuple[Reference, Reference]:
    """Another circuit with the same gate numbering (a re-read export, a corrupted copy) as a
    reference: its outputs and its gate values."""

    def gates(tokens: np.ndarray) -> np.ndarray:
        return evaluate_values(other, one_hot(tokens, other.n_vocab))[:, other.n_inputs :]

    def outputs(tokens: np.ndarray) -> np.ndarray:
        values = evaluate_values(other, one_hot(tokens, other.n_vocab))
        return decode_outputs(other, values)

    return outputs, gates


def fom_reference(
    program: Any, gate_names: Sequence[str] | None = None
) -> tuple[Reference, Reference]:
    """An FO(M) program (:mod:`algolens.logic.fom`) as a reference, evaluated by the formula
    evaluator; ``gate_names[k]`` is the definition that should equal gate ``k`` (default
    ``g0, g1, ...`` as :func:`~algolens.logic.circuit_to_fom.circuit_to_fom` names them)."""
    from algolens.logic.fom_eval import FomEvaluator

    def outputs(tokens: np.ndarray) -> np.ndarray:
        return FomEvaluator(program, tokens).decoded()

    names = list(gate_names) if gate_names is not None else [d.name for d in program.definitions]

    def gates(tokens: np.ndarray) -> np.ndarray:
        ev = FomEvaluator(program, tokens)
        ev.outputs()
        return np.stack([ev.definition_values(n) for n in names], axis=1).astype(np.uint8)

    return outputs, gates
