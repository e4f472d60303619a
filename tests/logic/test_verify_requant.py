"""Breakpoint proofs of thermometer gates against exhaustive checks over the whole range."""

from __future__ import annotations

import numpy as np
import pytest

from algolens.errors import SpecError
from algolens.logic.quantize import Requant, Table
from algolens.logic.verify_requant import breakpoints, prove_thermometer


def _exhaustive(f, thresholds, lo, hi, base, increments=None):
    x = np.arange(lo, hi + 1, dtype=np.int64)
    inc = np.ones(len(thresholds), np.int64) if increments is None else np.asarray(increments)
    fired = (x[:, None] >= np.asarray(thresholds, np.int64)[None, :]) @ inc
    return bool((f(x) == base + fired).all())


def _scan(f, lo, hi):
    """Brute force: smallest x in range with f(x) >= level, for every level above f(lo)."""
    x = np.arange(lo, hi + 1, dtype=np.int64)
    y = f(x)
    return int(y[0]), [int(x[np.argmax(y >= v)]) for v in range(int(y[0]) + 1, int(y[-1]) + 1)]


def _random_requant(rng):
    return Requant(
        m=int(rng.integers(0, 1 << 15)),
        s=int(rng.integers(0, 17)),
        lo=int(rng.integers(-128, 1)),
        hi=int(rng.integers(0, 128)),
        relu=bool(rng.integers(2)),
    )


@pytest.mark.parametrize("seed", range(40))
def test_correct_breakpoints_prove_and_agree_with_exhaustive(seed):
    rng = np.random.default_rng(seed)
    f = _random_requant(rng)
    lo, hi = -int(rng.integers(1, 40_000)), int(rng.integers(1, 40_000))
    base, ts = _scan(f, lo, hi)
    assert breakpoints(f, lo, hi) == (base, ts)
    proof = prove_thermometer(f, ts, lo, hi, base)
    assert proof.ok and proof.failure is None and _exhaustive(f, ts, lo, hi, base)
    assert proof.evaluations <= 2 + 2 * len(ts)


@pytest.mark.parametrize("seed", range(20))
def test_weighted_steps_one_gate_per_breakpoint(seed):
    """The compiler's form: one gate per point where f changes, weighted by the jump."""
    rng = np.random.default_rng(500 + seed)
    f = _random_requant(rng)
    lo, hi = -3000, 3000
    x = np.arange(lo, hi + 1, dtype=np.int64)
    y = f(x)
    change = np.nonzero(np.diff(y))[0] + 1
    ts, incs = x[change].tolist(), np.diff(y)[change - 1].tolist()
    assert prove_thermometer(f, ts, lo, hi, int(y[0]), incs).ok
    for _ in range(4):
        bad_t, bad_i = list(ts) + [int(rng.integers(lo, hi))], list(incs) + [0]
        k = int(rng.integers(0, len(bad_t)))
        if rng.integers(2):
            bad_t[k] += int(rng.choice([-1, 1]))
        else:
            bad_i[k] += int(rng.choice([-1, 1]))
        proof = prove_thermometer(f, bad_t, lo, hi, int(y[0]), bad_i)
        assert proof.ok == _exhaustive(f, bad_t, lo, hi, int(y[0]), bad_i)


@pytest.mark.parametrize("seed", range(40))
def test_wrong_breakpoints_fail_exactly_when_exhaustive_fails(seed):
    rng = np.random.default_rng(1000 + seed)
    f = _random_requant(rng)
    lo, hi = -3000, 3000
    base, ts = _scan(f, lo, hi)
    n_wrong = 0
    for _ in range(6):
        bad = list(ts) + ([] if ts else [int(rng.integers(lo, hi))])
        k = int(rng.integers(0, len(bad)))
        bad[k] += int(rng.choice([-2, -1, 1, 2]))
        b = base + int(rng.choice([0, 0, 0, -1]))
        proof = prove_thermometer(f, bad, lo, hi, b)
        assert proof.ok == _exhaustive(f, bad, lo, hi, b)
        n_wrong += not proof.ok
        if not proof.ok:
            assert proof.failure
    assert n_wrong > 0


def test_tables_monotone_and_not():
    up = Table(lo=-5, values=np.array([0, 0, 1, 1, 1, 2, 3, 3, 3, 5, 5]))
    base, ts = _scan(up, -20, 20)
    assert prove_thermometer(up, ts, -20, 20, base).ok
    assert not prove_thermometer(up, [t + 1 for t in ts], -20, 20, base).ok
    down = Table(lo=0, values=np.array([0, 2, 1]))
    with pytest.raises(SpecError, match="decreases"):
        prove_thermometer(down, [1, 2], 0, 2, 0)
    with pytest.raises(SpecError, match="m = -3"):
        prove_thermometer(Requant(m=-3, s=1, lo=-8, hi=7), [0], -5, 5, 0)
    with pytest.raises(SpecError, match="non-decreasing"):
        prove_thermometer(lambda x: x, [0], -5, 5, 0)


def _tiny_qmlp(seed, bits=4, d_vocab=5, d_mlp=6):
    from algolens.logic.quantize_mlp import QMLP

    rng = np.random.default_rng(seed)
    top = (1 << (bits - 1)) - 1
    return QMLP(
        bits,
        rng.integers(-top, top + 1, (d_vocab, d_mlp)),
        rng.integers(-top, top + 1, (d_vocab, d_mlp)),
        rng.integers(-top, top + 1, d_mlp),
        Requant(m=int(rng.integers(1, 1 << 12)), s=11, lo=0, hi=(1 << bits) - 1, relu=True),
        rng.integers(-top, top + 1, (d_mlp, d_vocab)),
        rng.integers(-top, top + 1, d_vocab),
        {},
    )


@pytest.mark.parametrize("seed", range(4))
def test_compiled_mlp_hidden_layer_is_proven_and_corruptions_are_not(seed):
    import dataclasses

    from algolens.logic.circuit import Circuit
    from algolens.logic.compile_mlp import compile_mlp
    from algolens.logic.verify_requant import prove_input_layer

    q = _tiny_qmlp(seed)
    c = compile_mlp(q)
    layer = c.layers[0]
    proofs = prove_input_layer(c, 0, q.act)
    assert len(proofs) == q.table_a.shape[1] and all(p.ok for p in proofs)
    # what was proven, checked directly: on every input pair, each neuron's gates read with
    # f's increments give f(pre-activation)
    from algolens.logic.evaluate import evaluate_values, one_hot
    from tests.logic.reference import all_strings

    xs = all_strings(2, 5)
    fired = evaluate_values(c, one_hot(xs, 5))[:, layer.first : layer.first + layer.n_gates]
    pre = q.table_a[xs[:, 0]] + q.table_b[xs[:, 1]] + q.bias  # [25, d_mlp]
    col = layer.select.toarray().argmax(0)  # [n_gates] neuron of each gate
    inc = q.act(layer.threshold) - q.act(layer.threshold - 1)
    lo = pre.min(0)
    got = q.act(lo)[None, :] + np.stack([(fired * inc)[:, col == j].sum(1) for j in range(6)], 1)
    assert (got == q.act(pre)).all()
    # a threshold moved by one: the proof of that neuron fails
    k = int(np.random.default_rng(seed).integers(0, layer.n_gates))
    thr = layer.threshold.copy()
    thr[k] += 1
    bad = Circuit(
        c.n_pos,
        c.n_vocab,
        (dataclasses.replace(layer, threshold=thr), *c.layers[1:]),
        c.outputs,
        c.input_names,
    )
    assert sum(not p.ok for p in prove_input_layer(bad, 0, q.act)) == 1
    # the wrong function (other change points): some neuron's proof fails
    wrong = dataclasses.replace(q.act, m=q.act.m // 3)
    assert not all(p.ok for p in prove_input_layer(c, 0, wrong))
