"""A compiled MLP agrees with its integer model Q on every input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algolens.logic.circuit import layer_stats
from algolens.logic.compile_mlp import compile_mlp
from algolens.logic.evaluate import evaluate
from algolens.logic.quantize import Requant
from algolens.logic.quantize_mlp import QMLP, quantize_mlp
from algolens.models.mlp import MLP, MLPConfig
from tests.logic.threshold_examples import all_sequences


def test_hand_built_mlp():
    # 3 tokens, 2 neurons: h0 = relu(a - b), h1 = relu(b - a); logits pick 0, 1 or 2
    q = QMLP(
        bits=3,
        table_a=np.array([[0, 0], [1, -1], [2, -2]]),
        table_b=np.array([[0, 0], [-1, 1], [-2, 2]]),
        bias=np.zeros(2, dtype=np.int64),
        act=Requant(m=3, s=0, lo=0, hi=7, relu=True),  # h = min(3·relu(pre), 7)
        w_u=np.array([[0, 2, 0], [0, 0, 2]]),
        b_u=np.array([1, 0, 0]),
        scales={},
    )
    seqs = all_sequences(2, 3)
    expect = [0 if a == b else (1 if a > b else 2) for a, b in seqs]
    assert q.predict(seqs).tolist() == expect
    circuit = compile_mlp(q)
    assert evaluate(circuit, seqs).tolist() == expect
    names = [s.name for s in layer_stats(circuit)]
    assert names == ["mlp.act", "mlp.act.bits", "argmax.compare", "argmax.winner", "argmax.bits"]


@pytest.mark.parametrize(("bits", "bias"), [(3, False), (4, True), (8, False)])
def test_random_mlp_agrees_with_q_everywhere(bits, bias):
    model = MLP(MLPConfig(d_vocab=7, d_embed=8, d_mlp=6, bias=bias))
    model.init_weights([bits])
    if bias:
        with torch.no_grad():
            model.mlp.b_in.normal_(0, 0.3)
            model.b_U.normal_(0, 0.3)
    q = quantize_mlp(model, bits)
    seqs = all_sequences(2, 7)
    assert evaluate(compile_mlp(q), seqs).tolist() == q.predict(seqs).tolist()


def test_domain_restricts_the_claim_not_the_answers():
    model = MLP(MLPConfig(d_vocab=5, d_embed=4, d_mlp=4))
    q = quantize_mlp(model, 4)
    domain = [[0, 1, 2], [3, 4]]
    seqs = np.array([[a, b] for a in domain[0] for b in domain[1]])
    assert evaluate(compile_mlp(q, domain), seqs).tolist() == q.predict(seqs).tolist()
