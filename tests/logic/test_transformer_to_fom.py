"""The pass transformer → FO(M) (one sentence for every length) and the ``⌊a/b⌋`` reading, on a
hand-built integer transformer with a known answer and on a tiny random one."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from algolens.errors import SpecError
from algolens.logic.floor_quotient import (
    attention_quotients,
    fit_quotient_bit,
    quotient_bit,
    quotient_forms,
)
from algolens.logic.fom import fom_size
from algolens.logic.fom_eval import evaluate_program
from algolens.logic.quantize import Requant, Table
from algolens.logic.quantize_transformer import QBlock, QTransformer, quantize_transformer
from algolens.logic.transformer_to_fom import position_free, transformer_to_fom, with_length

T, E = 3, 7  # 3-bit integers: |x| ≤ T; EXP values 0..E
EQ = 2


def _identity(lo: int = -T, hi: int = T, relu: bool = False) -> Requant:
    return Requant(m=1, s=0, lo=lo, hi=hi, relu=relu)


def _hand_built() -> QTransformer:
    """Position-free, d_model 1: every score is 0 (zero query), so the attention output is the
    rounded mean of v = T·(token 1) − T·(token 0); the answer is [z ≥ 1]:
    ``Q(x) = [2T·(#1 − #0) ≥ n + 1]`` on ``n`` bits then ``=``."""
    zero, one = np.zeros((1, 1), np.int64), np.ones((1, 1), np.int64)
    blk = QBlock(
        w_q=zero, b_q=np.zeros(1, np.int64), w_k=zero, b_k=np.zeros(1, np.int64),
        w_v=T * one, b_v=np.zeros(1, np.int64),
        rq_q=_identity(), rq_k=_identity(), rq_v=_identity(), rq_s=_identity(),
        exp=Table(lo=-2 * T, values=np.array([0, 0, 1, 1, 2, 4, E], np.int64)),
        w_o=one, b_o=np.zeros(1, np.int64), rq_o=_identity(), shift_o=0,
        w_in=zero, b_in=np.zeros(1, np.int64), act=_identity(0, E, relu=True),
        w_out=zero, b_out=np.zeros(1, np.int64), rq_m=_identity(), shift_m=0,
    )  # fmt: skip
    embed = np.array([[[-1]], [[1]], [[0]]], np.int64).repeat(4, axis=1)  # [vocab, pos, 1]
    w_u = np.array([[0, 1]], np.int64)
    return QTransformer(3, 1, 1, embed, (blk,), w_u, np.zeros(2, np.int64), {})


def _bits_then_eq(n: int) -> np.ndarray:
    bits = np.array(list(itertools.product((0, 1), repeat=n)), np.int64).reshape(-1, n)
    return np.concatenate([bits, np.full((len(bits), 1), EQ)], axis=1)


def _known(x: np.ndarray) -> np.ndarray:
    ones, zeros = (x == 1).sum(1), (x == 0).sum(1)
    return (2 * T * (ones - zeros) >= x.shape[1]).astype(np.int64)


def test_hand_built_sentence_equals_q_and_the_known_answer_at_every_length():
    q = _hand_built()
    assert position_free(q)
    s = transformer_to_fom(q, last_tokens=[EQ])
    assert s.uniform and s.cases == 1 and s.classes == 3  # tokens 0, 1, = are three classes
    assert fom_size(s.program).quantifiers > 0
    for n in (1, 2, 3, 5, 7, 9):  # Q was built for 4 positions: n = 5..9 only by extension
        x = _bits_then_eq(n)
        want = _known(x)
        assert (with_length(q, n + 1).predict(x) == want).all()
        assert (evaluate_program(s.program, x) == want).all(), n
    # e.g. n = 3: "110=": 6·(2 − 1) = 6 ≥ 4 -> 1; "100=": 6·(1 − 2) < 4 -> 0
    x = np.array([[1, 1, 0, EQ], [1, 0, 0, EQ]])
    assert evaluate_program(s.program, x).tolist() == [1, 0]


def test_the_sentence_is_not_the_answer_of_another_network():
    """The sentence follows the weights: a network answering [z ≥ 2] gets a different sentence,
    which differs from the first on some input."""
    q = _hand_built()
    blk = q.blocks[0]
    shifted = QTransformer(
        q.bits, 1, 1, q.embed, (blk,), q.w_u, np.array([0, -1], np.int64), {}
    )  # logits [0, z − 1]: answer [z ≥ 2]
    x = _bits_then_eq(5)
    a = evaluate_program(transformer_to_fom(q, [EQ]).program, x)
    b = evaluate_program(transformer_to_fom(shifted, [EQ]).program, x)
    assert (b == with_length(shifted, 6).predict(x)).all() and (a != b).any()


def test_quotient_reading_of_the_hand_built_network():
    q = _hand_built()
    a, b = attention_quotients(q, np.array([[1, 1, 0, EQ]]))
    # "110=": e = 7 everywhere; a = 2·Σ e·v + Σ e = 2·7·(3 + 3 − 3 + 0) + 4·7, b = 2·4·7
    assert a.tolist() == [[2 * 7 * 3 + 28]] and b.tolist() == [[56]]
    xs = [_bits_then_eq(n) for n in range(1, 6)]
    ab = [attention_quotients(q, t) for t in xs]
    fit = fit_quotient_bit(
        np.concatenate([p[0] for p in ab]), np.concatenate([p[1] for p in ab]),
        np.concatenate([_known(t) for t in xs]), q.bits,
    )  # fmt: skip
    assert (fit.d, fit.c, fit.flip, fit.share) == (0, 1, False, 1.0)
    for t, (a, b) in zip(xs, ab, strict=True):
        assert (quotient_bit(a[:, 0], b[:, 0], 1, q.bits) == _known(t)).all()
        assert (quotient_bit(a[:, 0], b[:, 0], 1, q.bits, flip=True) == 1 - _known(t)).all()
    forms = quotient_forms(q, 0, [EQ])
    assert forms == ["last Q2@any, max score 0: a = -35·#Q0 + 49·#Q1 + 7·#Q2, "
                     "b = 14·#Q0 + 14·#Q1 + 14·#Q2"]  # fmt: skip


def test_quotient_fit_refuses_answers_that_are_not_one_bit():
    with pytest.raises(SpecError, match="two-way"):
        fit_quotient_bit(np.ones((2, 1)), np.ones((2, 1)), np.array([0, 2]), 3)


def _tiny_model(n_ctx: int = 4, n_layers: int = 1):
    from algolens.models.transformer import Transformer, TransformerConfig

    cfg = TransformerConfig(
        d_vocab=3, d_vocab_out=2, n_ctx=n_ctx, n_layers=n_layers, n_heads=1, d_model=4,
        d_head=4, d_mlp=4, bias="trainable",
    )  # fmt: skip
    torch.manual_seed(0)
    model = Transformer(cfg)
    model.init_weights([3])
    return model


def test_learned_positions_sentence_equals_q_on_every_input_it_accepts():
    model = _tiny_model()
    calib = np.array(list(itertools.product(range(3), repeat=4)), np.int64)
    q = quantize_transformer(model, calib, 3)
    assert not position_free(q)
    s = transformer_to_fom(q)  # every last token, every position: a named class per position
    assert not s.uniform and s.cases == 3 * 4
    seen = set()
    for n in range(1, 5):
        x = np.array(list(itertools.product(range(3), repeat=n)), np.int64)
        want = with_length(q, n).predict(x)
        seen |= set(want.tolist())
        assert (evaluate_program(s.program, x) == want).all(), n
    assert seen == {0, 1}  # both answers occur: the comparison is not vacuous
    with pytest.raises(SpecError, match="learned positions up to 4"):
        with_length(q, 5)


def test_several_blocks_are_refused():
    model = _tiny_model(n_layers=2)
    q = quantize_transformer(model, np.zeros((2, 4), np.int64), 3)
    with pytest.raises(SpecError, match="one-block"):
        transformer_to_fom(q)


def test_majority_transformer_without_positions_keeps_them_zero():
    from algolens.logic.scaling import majority_transformer

    trained = majority_transformer(3, d_model=4, d_mlp=4, steps=3, positions=False)
    assert float(trained.model.pos_embed.W_pos.abs().max()) == 0.0
    q = quantize_transformer(trained.model, _bits_then_eq(3), 3)
    assert position_free(q)
