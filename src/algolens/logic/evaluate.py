"""Vectorised, exact evaluation of a :class:`~algolens.logic.circuit.Circuit` on many inputs.

Each layer is two products: ``y = values[:, src] · basis`` (dense) and ``z = y · select``
(sparse, int64), then ``fires = z ≥ threshold``. The arithmetic is exact integer arithmetic:

* the sparse product runs in int64 (scipy), after checking that no partial sum can reach
  ``2^63``;
* the dense product runs in BLAS floating point only where that is exact: every operand and every
  partial sum is an integer of magnitude ``≤ max|value| · max column Σ|basis|``, and when that
  bound is below ``2^24`` (float32) or ``2^53`` (float64) every intermediate is representable, so
  the result is the exact integer whatever the summation order or kernel; above ``2^53`` it runs
  as an int64 matmul.

Examples:
    >>> from algolens.logic.circuit import CircuitBuilder
    >>> b = CircuitBuilder(n_pos=2, n_vocab=2)
    >>> g = b.add_gates("xor-ish", [[(1, 1), (3, 1)], [(1, 1), (3, 1)]], [1, 2])
    >>> c = b.build(outputs=g)                           # bit0: a or b, bit1: a and b
    >>> evaluate(c, np.array([[0, 0], [0, 1], [1, 1]])).tolist()
    [0, 1, 3]
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from algolens.errors import SpecError
from algolens.logic.circuit import INT64_SAFE, Circuit, Layer, exact_matmul

BATCH = 256
"""Inputs evaluated together (bounds the ``[batch, n_nodes]`` value array)."""


def one_hot(tokens: np.ndarray, n_vocab: int) -> np.ndarray:
    """``[batch, n_pos]`` token ids -> ``[batch, n_pos·n_vocab]`` uint8 input bits."""
    tokens = np.asarray(tokens, dtype=np.int64)
    if tokens.ndim != 2:
        raise SpecError(f"tokens must be [batch, n_pos], got shape {tokens.shape}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= n_vocab):
        raise SpecError(f"token ids must lie in 0..{n_vocab - 1}")
    batch, n_pos = tokens.shape
    bits = np.zeros((batch, n_pos * n_vocab), dtype=np.uint8)
    ids = tokens + np.arange(n_pos, dtype=np.int64) * n_vocab  # [batch, n_pos]
    np.put_along_axis(bits, ids, 1, axis=1)
    return bits


def _sparse_matmul(y: np.ndarray, select: sp.csc_array, y_max: int) -> np.ndarray:
    col = abs(select).sum(0) if select.nnz else np.zeros(1, dtype=np.int64)
    if int(y_max) * int(np.max(col, initial=0)) >= INT64_SAFE:
        raise OverflowError("a layer's sums may reach beyond int64")
    return np.asarray(select.T @ y.T).T  # [batch, n_gates] int64 (scipy: sparse · dense)


def layer_sums(layer: Layer, values: np.ndarray) -> np.ndarray:
    """``[batch, n_gates]`` int64 weighted sums ``Σ w · value(src)`` of the layer's gates, from
    ``values [batch, ≥ layer.first]`` (0/1)."""
    x = values[:, layer.src]  # [batch, n_src]
    if layer.basis is None:
        y, y_max = x.astype(np.int64), 1
    else:
        y = exact_matmul(x, layer.basis)  # [batch, r]
        y_max = int(np.abs(layer.basis).sum(0).max(initial=0))
    sel = layer.select
    per_gate = np.diff(sel.indptr)
    if sel.nnz == sel.shape[1] and (per_gate == 1).all() and (sel.data == 1).all():
        return y[:, sel.indices]  # each gate reads one form as it is (thermometer codes)
    if (per_gate == 2).all():  # differences, ANDs, divisions: two forms per gate
        if 2 * y_max * int(np.abs(sel.data).max(initial=0)) >= INT64_SAFE:
            raise OverflowError("a layer's sums may reach beyond int64")
        first, second = sel.indices[0::2], sel.indices[1::2]
        return y[:, first] * sel.data[0::2] + y[:, second] * sel.data[1::2]
    return _sparse_matmul(y, sel, y_max)  # [batch, n_gates]


def evaluate_values(circuit: Circuit, bits: np.ndarray) -> np.ndarray:
    """Value of every node: ``[batch, n_nodes]`` uint8 from input bits ``[batch, n_inputs]``."""
    bits = np.asarray(bits)
    if bits.ndim != 2 or bits.shape[1] != circuit.n_inputs:
        raise SpecError(f"input bits must be [batch, {circuit.n_inputs}], got {bits.shape}")
    values = np.zeros((bits.shape[0], circuit.n_nodes), dtype=np.uint8)
    values[:, : circuit.n_inputs] = bits
    for layer in circuit.layers:
        fires = layer_sums(layer, values) >= layer.threshold  # [batch, n_gates]
        values[:, layer.first : layer.first + layer.n_gates] = fires
    return values


def decode_outputs(circuit: Circuit, values: np.ndarray) -> np.ndarray:
    """``[batch]`` int64 token ids read from the output nodes (LSB first)."""
    out = values[:, circuit.outputs].astype(np.int64)  # [batch, n_out]
    return out @ (np.int64(1) << np.arange(out.shape[1], dtype=np.int64))


def evaluate_bits(circuit: Circuit, bits: np.ndarray, batch: int = BATCH) -> np.ndarray:
    """``[batch]`` predicted token ids from input bits ``[batch, n_inputs]``."""
    return np.concatenate(
        [
            decode_outputs(circuit, evaluate_values(circuit, bits[i : i + batch]))
            for i in range(0, bits.shape[0], batch)
        ]
        or [np.zeros(0, dtype=np.int64)]
    )


def evaluate(circuit: Circuit, tokens: np.ndarray, batch: int = BATCH) -> np.ndarray:
    """``[batch]`` predicted token ids for token sequences ``[batch, n_pos]``."""
    tokens = np.asarray(tokens, dtype=np.int64)
    if tokens.ndim != 2 or tokens.shape[1] != circuit.n_pos:
        raise SpecError(f"tokens must be [batch, {circuit.n_pos}], got shape {tokens.shape}")
    return np.concatenate(
        [
            decode_outputs(
                circuit, evaluate_values(circuit, one_hot(tokens[i : i + batch], circuit.n_vocab))
            )
            for i in range(0, tokens.shape[0], batch)
        ]
        or [np.zeros(0, dtype=np.int64)]
    )
