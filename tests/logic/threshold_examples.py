"""Hand-built threshold circuits with brute-force meanings, shared by L1's logic tests."""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp

from algolens.logic.circuit import Circuit, CircuitBuilder


def all_sequences(n_pos: int, n_vocab: int) -> np.ndarray:
    """``[n_vocab^n_pos, n_pos]`` every token sequence."""
    return np.array(list(itertools.product(range(n_vocab), repeat=n_pos)), dtype=np.int64)


def majority_circuit(n_pos: int) -> Circuit:
    """Tokens 0/1 at ``n_pos`` positions; output 1 iff at least half of them are 1."""
    b = CircuitBuilder(n_pos, 2)
    ones = [(b.input_id(p, 1), 1) for p in range(n_pos)]
    return b.build(b.add_gates("majority", [ones], [(n_pos + 1) // 2]))


def adder_circuit(n_vocab: int = 4) -> Circuit:
    """Two tokens ``a, b`` in ``0..n_vocab-1``; outputs the bits of ``a + b``.

    Layer 1 is one template: the basis column is the linear form ``a + b`` over the one-hot
    inputs, selected by ``2·(n_vocab-1)`` gates ``a + b ≥ k``. Layer 2 turns that thermometer
    code into binary: bit j of ``a + b`` changes by ±1 at each k where bit j of k differs from
    bit j of k-1, so ``bit_j = [Σ_k Δ_jk · [a+b ≥ k] ≥ 1]``.
    """
    b = CircuitBuilder(2, n_vocab)
    top = 2 * (n_vocab - 1)
    src = np.arange(2 * n_vocab)
    value = np.tile(np.arange(n_vocab), 2)[:, None]  # [2·n_vocab, 1] token value
    thermo = b.add_layer("sum>=k", src, value, np.ones((1, top)), np.arange(1, top + 1))
    n_bits = top.bit_length()
    ks = np.arange(1, top + 1)
    delta = np.stack([((ks >> j) & 1) - (((ks - 1) >> j) & 1) for j in range(n_bits)], 1)
    bits = b.add_layer("bits", thermo, None, sp.csc_array(delta), np.ones(n_bits))
    return b.build(bits)
