"""Every gadget proven over its whole input range against plain integer arithmetic.

The operands are forms over two positions, ``X = V·a + b + offset`` with tokens ``a, b`` in
``0..V-1``: every integer of ``offset .. offset + V² - 1`` occurs exactly once, so evaluating all
``V²`` (or ``V⁴`` for two operands) sequences covers the gadget's whole input range.
"""

from __future__ import annotations

import numpy as np
import pytest

from algolens.logic.compile_gadgets import Bits, Compiler, LinVec
from algolens.logic.evaluate import evaluate, evaluate_values, one_hot
from algolens.logic.quantize import Chain, Requant, Table, argmax_lowest, round_shift
from tests.logic.threshold_examples import all_sequences


def operand(c: Compiler, first: int, n_vocab: int, offset: int) -> LinVec:
    """``V·token[first] + token[first+1] + offset``."""
    src = np.arange(first * n_vocab, (first + 2) * n_vocab)
    w = np.concatenate([np.arange(n_vocab) * n_vocab, np.arange(n_vocab)])[:, None]
    return c.linear(src, w, np.array([offset]))


def operand_value(seqs: np.ndarray, first: int, n_vocab: int, offset: int) -> np.ndarray:
    return n_vocab * seqs[:, first] + seqs[:, first + 1] + offset


def form_values(c: Compiler, form: LinVec | Bits, seqs: np.ndarray) -> np.ndarray:
    """``[batch, m]`` the forms' values, read from the evaluated circuit's node values."""
    if isinstance(form, Bits):
        bits = form_values(c, form.bits, seqs)
        assert set(np.unique(bits)) <= {0, 1}
        bits = bits.reshape(len(seqs), form.offset.size, form.nb)
        return form.offset + (bits << np.arange(form.nb)).sum(-1)
    circuit = c.build(np.zeros(0, dtype=np.int64))
    values = evaluate_values(circuit, one_hot(seqs, c.n_vocab)).astype(np.int64)
    return form.const + values[:, form.src] @ form.w


REQUANTS = {
    "shrink": Requant(m=3, s=2, lo=-8, hi=7),
    "relu-8bit": Requant(m=16821, s=14, lo=0, hi=255, relu=True),
    "grow": Requant(m=5, s=0, lo=-100, hi=100),
    "relu-round-half": Requant(m=1, s=3, lo=0, hi=15, relu=True),
    "identity-clamp": Requant(m=1, s=0, lo=-50, hi=60),
}


@pytest.mark.parametrize("name", sorted(REQUANTS))
@pytest.mark.parametrize("bits", [False, True], ids=["thermometer", "binary"])
def test_requantise_over_its_whole_range(name, bits):
    r = REQUANTS[name]
    n_vocab, offset = 21, -220  # X takes every value in -220..220
    c = Compiler(2, n_vocab)
    x = operand(c, 0, n_vocab, offset)
    out = c.lut(x, r, "rq", bits=bits)
    seqs = all_sequences(2, n_vocab)
    xv = operand_value(seqs, 0, n_vocab, offset)
    # plain integer arithmetic, written out independently of Requant.__call__
    y = np.maximum(xv, 0) if r.relu else xv
    expect = np.clip(np.floor(y * r.m / 2**r.s + 0.5).astype(np.int64), r.lo, r.hi)
    assert form_values(c, out, seqs)[:, 0].tolist() == expect.tolist()
    assert (r(xv) == expect).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_lookup_table_over_its_whole_range(seed):
    rng = np.random.default_rng(seed)
    table = Table(lo=-30, values=rng.integers(-9, 10, size=50))  # defined on -30..19
    n_vocab, offset = 9, -40  # X in -40..40: both clamped ends are exercised
    c = Compiler(2, n_vocab)
    x = operand(c, 0, n_vocab, offset)
    seqs = all_sequences(2, n_vocab)
    xv = operand_value(seqs, 0, n_vocab, offset)
    expect = np.array([table.values[min(max(v + 30, 0), 49)] for v in xv])
    for bits in (False, True):
        out = c.lut(x, table, f"t{bits}", bits=bits)
        assert form_values(c, out, seqs)[:, 0].tolist() == expect.tolist()


def test_chain_of_requant_and_table():
    r = Requant(m=1, s=2, lo=-8, hi=7)
    t = Table(lo=-8, values=np.arange(16) ** 2)
    n_vocab, offset = 9, -40
    c = Compiler(2, n_vocab)
    out = c.lut(operand(c, 0, n_vocab, offset), Chain(r, t), "chain")
    seqs = all_sequences(2, n_vocab)
    xv = operand_value(seqs, 0, n_vocab, offset)
    expect = (np.clip(np.floor(xv / 4 + 0.5), -8, 7) + 8) ** 2
    assert form_values(c, out, seqs)[:, 0].tolist() == expect.astype(int).tolist()


@pytest.mark.parametrize("offsets", [(0, 0), (-12, 3), (-7, -20)])
def test_and_product_over_every_pair_of_operands(offsets):
    n_vocab = 5
    c = Compiler(4, n_vocab)
    x = c.binarize(operand(c, 0, n_vocab, offsets[0]), "bx")
    y = c.binarize(operand(c, 2, n_vocab, offsets[1]), "by")
    out = c.product(x, y, np.array([[0, 0]]), "and")
    seqs = all_sequences(4, n_vocab)  # every (X, Y) pair once
    xv = operand_value(seqs, 0, n_vocab, offsets[0])
    yv = operand_value(seqs, 2, n_vocab, offsets[1])
    assert form_values(c, out, seqs)[:, 0].tolist() == (xv * yv).tolist()


def test_product_of_tables_of_one_position_is_folded():
    c = Compiler(1, 7)
    x = c.binarize(c.table(0, np.arange(7) - 3), "bx")
    y = c.binarize(c.table(0, 2 * np.arange(7) + 1), "by")
    out = c.product(x, y, np.array([[0, 0]]), "and")
    assert out.pos == 0 and c.b.next_id == 7  # a table, and no gate was added
    assert out.w[:, 0].tolist() == [(t - 3) * (2 * t + 1) for t in range(7)]


@pytest.mark.parametrize("qrange", [(-3, 3), (-20, 20), (0, 5)])
def test_division_comparison_over_every_numerator_and_denominator(qrange):
    n_vocab = 5
    c = Compiler(4, n_vocab)
    num = operand(c, 0, n_vocab, -12)  # -12..12
    den = operand(c, 2, n_vocab, 1)  # 1..25
    out = c.divide(num, den, *qrange, "div")
    seqs = all_sequences(4, n_vocab)
    nv, dv = operand_value(seqs, 0, n_vocab, -12), operand_value(seqs, 2, n_vocab, 1)
    expect = np.clip(np.floor_divide(nv, dv), *qrange)
    assert form_values(c, out, seqs)[:, 0].tolist() == expect.tolist()


def test_maximum_over_every_triple():
    n_vocab = 6
    c = Compiler(3, n_vocab)
    tables = [c.table(p, np.arange(n_vocab) * (p + 1) - 4 * p) for p in range(3)]
    x = c.add(*[c.matmul(t, np.eye(1, 3, p, dtype=np.int64)) for p, t in enumerate(tables)])
    out = c.maximum(x, [[0, 1, 2], [1, 2], [0]], "max")
    seqs = all_sequences(3, n_vocab)
    v = np.stack([seqs[:, p] * (p + 1) - 4 * p for p in range(3)], 1)
    expect = np.stack([v.max(1), v[:, 1:].max(1), v[:, 0]], 1)
    assert form_values(c, out, seqs).tolist() == expect.tolist()


def test_argmax_with_lowest_index_ties():
    n_vocab = 4
    c = Compiler(3, n_vocab)
    # three logits, each a table of one position: many ties
    logits = c.add(
        *[
            c.matmul(c.table(p, np.arange(n_vocab) % 3), np.eye(1, 5, p + 1, dtype=np.int64))
            for p in range(3)
        ]
    )
    circuit = c.build(c.argmax(logits))
    seqs = all_sequences(3, n_vocab)
    vals = np.zeros((len(seqs), 5), dtype=np.int64)
    vals[:, 1:4] = seqs % 3
    assert evaluate(circuit, seqs).tolist() == argmax_lowest(vals).tolist()


@pytest.mark.parametrize("n", [4, 5])
def test_majority_over_every_input(n):
    # M i. Q1(i): at least half the positions hold token 1; the count is a form over the
    # per-position indicators, and the majority is one thermometer gate of it
    c = Compiler(n, 2)
    ones = c.add(*[c.matmul(c.table(p, np.arange(2)), np.ones((1, 1))) for p in range(n)])
    majority = Table(lo=0, values=(2 * np.arange(n + 1) >= n).astype(np.int64))
    out = c.lut(ones, majority, "maj")
    assert c.b.layers[-1].n_gates == 1
    seqs = all_sequences(n, 2)
    expect = (2 * seqs.sum(1) >= n).astype(int)
    assert form_values(c, out, seqs)[:, 0].tolist() == expect.tolist()


def test_round_shift_is_round_half_up():
    x = np.arange(-9, 10)
    assert round_shift(x, 2).tolist() == np.floor(x / 4 + 0.5).astype(int).tolist()
