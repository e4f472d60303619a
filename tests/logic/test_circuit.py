"""The circuit IR, its exact evaluator and layer statistics on hand-built circuits."""

from __future__ import annotations

import numpy as np
import pytest

from algolens.errors import SpecError
from algolens.logic.circuit import CircuitBuilder, circuit_depth, layer_stats
from algolens.logic.evaluate import evaluate, evaluate_values, exact_matmul, one_hot
from tests.logic.threshold_examples import adder_circuit, all_sequences, majority_circuit


@pytest.mark.parametrize("n_pos", [1, 4, 5])
def test_majority_circuit_against_counting(n_pos):
    seqs = all_sequences(n_pos, 2)
    got = evaluate(majority_circuit(n_pos), seqs)
    assert got.tolist() == (2 * seqs.sum(1) >= n_pos).astype(int).tolist()


@pytest.mark.parametrize("n_vocab", [2, 4, 7])
def test_adder_template_against_addition(n_vocab):
    seqs = all_sequences(2, n_vocab)
    assert evaluate(adder_circuit(n_vocab), seqs).tolist() == seqs.sum(1).tolist()


def test_expanded_gates_match_templates():
    c = adder_circuit(4)
    # the thermometer gate "a + b >= 3" reads every input with the token's value as weight
    srcs, ws, t = c.gate_weights(c.n_inputs + 2)
    assert (srcs, ws, t) == ([1, 2, 3, 5, 6, 7], [1, 2, 3, 1, 2, 3], 3)
    gates = list(c.gates())
    assert len(gates) == c.n_gates == 6 + 3
    # bit 0 of a + b flips at every k: weights +1, -1, +1, ...
    srcs, ws, t = gates[6]
    assert ws.tolist() == [1, -1, 1, -1, 1, -1] and t == 1


def test_every_node_value_by_brute_force():
    c = adder_circuit(3)
    seqs = all_sequences(2, 3)
    values = evaluate_values(c, one_hot(seqs, 3))
    s = seqs.sum(1)
    for k in range(1, 5):  # thermometer gates
        assert values[:, c.n_inputs + k - 1].tolist() == (s >= k).astype(int).tolist()


def test_layer_stats_of_the_adder():
    stats = layer_stats(adder_circuit(4))
    first, bits = stats
    assert (first.gates, first.wires, first.depth, first.max_fan_in) == (6, 6 * 6, 1, 6)
    assert first.weight_bits == 3 and first.threshold_bits == 4  # max|w| 3, max t 6
    assert (bits.gates, bits.depth, bits.max_fan_in, bits.weight_bits) == (3, 2, 6, 2)
    assert bits.wires == 6 + 3 + 1  # bit 0 flips 6 times, bit 1 three times, bit 2 once
    assert circuit_depth(stats) == 2


def test_constant_gates_and_empty_layers():
    b = CircuitBuilder(1, 2)
    one, zero = b.constant(1), b.constant(0)
    c = b.build([one, zero, one])
    assert evaluate(c, np.array([[0], [1]])).tolist() == [5, 5]
    assert [s.depth for s in layer_stats(c)] == [1, 1]


def test_exact_matmul_switches_away_from_float32_before_it_rounds():
    x = np.array([[1, 1]], dtype=np.uint8)
    m = np.array([[1 << 24], [1]], dtype=np.int64)  # 2^24 + 1 is not a float32
    assert exact_matmul(x, m).tolist() == [[(1 << 24) + 1]]
    m = np.array([[1 << 53], [1]], dtype=np.int64)  # nor a float64
    assert exact_matmul(x, m).tolist() == [[(1 << 53) + 1]]


def test_big_weights_evaluate_exactly():
    b = CircuitBuilder(2, 2)
    big = (1 << 40) + 1
    # fires iff big·[x0=1] - (big-1)·[x1=1] >= 2: only (1, 0); (1, 1) sums to exactly 1
    g = b.add_gates("big", [[(1, big), (3, -(big - 1))]], [2])
    got = evaluate(b.build(g), all_sequences(2, 2))
    assert got.tolist() == [0, 0, 1, 0]


def test_sources_must_be_earlier():
    b = CircuitBuilder(1, 2)
    with pytest.raises(ValueError, match="earlier"):
        b.add_gates("bad", [[(2, 1)]], [1])


def test_bad_tokens_are_one_line_errors():
    c = majority_circuit(3)
    with pytest.raises(SpecError, match=r"\[batch, 3\]"):
        evaluate(c, np.zeros((2, 4), dtype=int))
    with pytest.raises(SpecError, match="0..1"):
        evaluate(c, np.full((2, 3), 2))


def test_a_layer_without_gates_is_not_recorded():
    import scipy.sparse as sp

    b = CircuitBuilder(1, 2)
    ids = b.add_layer("empty", np.array([0, 1]), None, sp.csc_array((2, 0)), np.zeros(0))
    assert ids.size == 0 and b.layers == [] and b.next_id == 2
    c = b.build(b.add_gates("copy", [[(1, 1)]], [1]))
    assert [layer.name for layer in c.layers] == ["copy"]
    assert [s.name for s in layer_stats(c)] == ["copy"]
