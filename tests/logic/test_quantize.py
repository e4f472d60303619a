"""Q's integer primitives against plain arithmetic, and Q of networks with known answers."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
import torch

from algolens.errors import ConfigError
from algolens.logic.quantize import (
    Chain,
    Requant,
    Table,
    argmax_lowest,
    check_bits,
    quantize,
    requant_for,
)
from algolens.logic.quantize_mlp import quantize_mlp
from algolens.models.mlp import MLP, MLPConfig


@pytest.mark.parametrize(
    "m,s,lo,hi,relu",
    [
        (3, 2, -8, 7, False),
        (16821, 14, 0, 255, True),
        (7, 0, -100, 100, False),
        (1, 5, -3, 3, True),
    ],
)
def test_requant_is_clamped_round_half_up(m, s, lo, hi, relu):
    r = Requant(m, s, lo, hi, relu)
    for x in range(-3000, 3001, 7):
        y = Fraction(max(x, 0) if relu else x) * m / 2**s
        want = min(max(int(np.floor(y + Fraction(1, 2))), lo), hi)
        assert int(r(np.array([x]))[0]) == want


@pytest.mark.parametrize("ratio", [1e-4, 0.013, 0.5, 1.0, 3.7, 250.0])
def test_requant_for_approximates_the_ratio(ratio):
    r = requant_for(ratio, -127, 127)
    assert r.m < 2**15
    assert abs(r.m / 2**r.s - ratio) <= max(ratio * 2**-13, 0.5)  # s = 0 rounds large ratios


def test_requant_breakpoints_cover_every_change():
    for r in (Requant(3, 2, -8, 7), Requant(16821, 14, 0, 255, True), Requant(5, 0, -20, 20)):
        x = np.arange(-400, 400)
        y = r(x)
        changes = set(x[1:][y[1:] != y[:-1]].tolist())
        assert changes <= set(r.breakpoints(-400, 399).tolist())


def test_quantize_symmetric_range_and_scale():
    w = np.array([0.5, -1.0, 0.26, 0.0])
    q, scale = quantize(w, bits=4)
    assert scale == pytest.approx(1 / 7) and q.tolist() == [4, -7, 2, 0]
    q, _ = quantize(w, bits=4, scale=0.01)  # clamped to ±7
    assert q.tolist() == [7, -7, 7, 0]
    q, scale = quantize(np.zeros(3), 8)
    assert scale == 1.0 and q.tolist() == [0, 0, 0]


def test_table_clamps_its_domain_and_chain_composes():
    t = Table(lo=-2, values=np.array([5, 6, 7, 8]))
    assert t(np.array([-9, -2, 0, 1, 9])).tolist() == [5, 5, 7, 8, 8]
    tab = Table.of(lambda x: x * x / 2, -3, 3, 0, 4)
    assert tab.values.tolist() == [4, 2, 0, 0, 0, 2, 4]  # rint: 4.5 -> 4, 0.5 -> 0, clamp 4
    c = Chain(Requant(1, 1, -2, 1), t)
    assert c(np.array([-10, 0, 1, 2, 10])).tolist() == [5, 7, 8, 8, 8]


def test_argmax_lowest_index_on_ties():
    assert argmax_lowest(np.array([[1, 3, 3], [2, 2, 2], [0, -1, 5]])).tolist() == [1, 0, 2]


@pytest.mark.parametrize("bad", [1, 17, 0, -8, 8.0, "8", True, None])
def test_bad_bit_widths(bad):
    with pytest.raises(ConfigError, match="--bits must be an integer from 2 to 16"):
        check_bits(bad)


def exact_cyclic_mlp(n: int) -> MLP:
    """An MLP whose float answer is (a + b) mod n on every pair: neuron (i, j) fires iff
    a = i and b = j (pre = [a=i] + [b=j] - 1), and it votes for (i + j) mod n."""
    model = MLP(MLPConfig(d_vocab=n, d_embed=n, d_mlp=n * n, bias=True))
    with torch.no_grad():
        eye = torch.eye(n)
        model.W_E_left.copy_(eye[None])
        model.W_E_right.copy_(eye[None])
        w_in = torch.zeros(2 * n, n * n)
        w_u = torch.zeros(n * n, n)
        for i, j in itertools.product(range(n), repeat=2):
            w_in[i, i * n + j] = 1.0
            w_in[n + j, i * n + j] = 1.0
            w_u[i * n + j, (i + j) % n] = 1.0
        model.mlp.W_in.copy_(w_in[None])
        model.mlp.b_in.fill_(-1.0)
        model.W_U.copy_(w_u[None])
        model.b_U.zero_()
    return model


@pytest.mark.parametrize("bits", [2, 3, 8])
def test_q_of_an_exact_network_is_exact(bits):
    n = 5
    model = exact_cyclic_mlp(n)
    pairs = np.array(list(itertools.product(range(n), repeat=2)))
    truth = pairs.sum(1) % n
    with torch.no_grad():
        assert (model(torch.from_numpy(pairs)).argmax(-1).numpy() == truth).all()
    assert quantize_mlp(model, bits).predict(pairs).tolist() == truth.tolist()


def test_tiny_ratios_keep_shift_and_breakpoints_in_int64():
    # an untrained network can have a scale ratio near zero; s was unbounded and the
    # breakpoints overflowed int64 (OverflowError while compiling an S4 transformer)
    r = requant_for(1e-30, -127, 127)
    assert r.s <= 40 and r.m >= 1
    x = np.array([-(2**38), -5, 0, 5, 2**38])
    assert r(x).tolist() == [0, 0, 0, 0, 0]
    assert r.breakpoints(-(2**38), 2**38).size == 0
    big = Requant(m=3, s=40, lo=-32767, hi=32767)  # 16-bit levels: k << s beyond 2^63
    bp = big.breakpoints(-(2**50), 2**50)
    y = big(bp) - big(bp - 1)
    assert (y != 0).all() and bp.size == 2 * 3 * 2**10  # levels -3072..3072
