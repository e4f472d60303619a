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


def _tiny_transformer(case):
    from algolens.logic.compile_transformer import compile_transformer
    from algolens.logic.quantize_transformer import quantize_transformer
    from tests.logic.test_compile_transformer import CASES, tiny
    from tests.logic.threshold_examples import all_sequences

    kw, bits = CASES[case]
    model = tiny(len(case), **kw)
    seqs = all_sequences(model.cfg.n_ctx, model.cfg.d_vocab)
    q = quantize_transformer(model, seqs, bits)
    return q, compile_transformer(q), seqs


TRANSFORMER_CASES = ["gelu-2layer-4bit", "relu-1layer-8bit-bias", "relu-2layer-6bit-nobias-4pos"]


@pytest.mark.parametrize("case", TRANSFORMER_CASES)
def test_every_transformer_requantisation_node_is_proven(case):
    from algolens.logic.compile_transformer import compile_transformer
    from algolens.logic.evaluate import evaluate_values, one_hot
    from algolens.logic.verify_requant import prove_transformer

    q, c, seqs = _tiny_transformer(case)
    proofs = prove_transformer(c, q)
    kinds = {p.layer.split(".")[-1].rstrip("0123456789") for p in proofs}
    assert {"act", "attn", "mlp", "score", "exp"} <= kinds
    if "2layer" in case:  # the second block's q, k, v read gates (the first block's fold)
        assert {"q", "k", "v"} <= kinds
    assert all(p.ok and p.columns for p in proofs), [p.failure for p in proofs if not p.ok]
    if "gelu" in case:  # the GELU table is not monotone: proven through its requantisation
        assert any(p.monotone.startswith("g(h(L))") for p in proofs if p.layer.endswith("act"))
    # what was proven, checked by brute force on every input: each node's form lies in the
    # compiler's bounds, and its gates read with f's increments give f of the form
    nodes = []
    compile_transformer(q, None, nodes)
    values = evaluate_values(c, one_hot(seqs, q.d_vocab))  # [inputs, nodes]
    for node in nodes:
        layer = next(x for x in c.layers if x.name == node.name)
        form = node.const + values[:, node.src] @ node.w  # [inputs, m]
        assert (form >= node.lo).all() and (form <= node.hi).all()
        fired = values[:, layer.first : layer.first + layer.n_gates]
        col = layer.select.toarray().argmax(0)
        t = layer.threshold + node.const[col]
        inc = node.f(t) - node.f(t - 1)
        got = node.f(node.lo)[None, :] + np.stack(
            [(fired * inc)[:, col == j].sum(1) for j in range(node.const.size)], 1
        )
        assert (got == node.f(form)).all(), node.name


@pytest.mark.parametrize("case", TRANSFORMER_CASES)
def test_a_moved_transformer_threshold_fails_exactly_its_node(case):
    import dataclasses

    from algolens.logic.circuit import Circuit
    from algolens.logic.compile_transformer import compile_transformer
    from algolens.logic.verify_requant import prove_node, prove_transformer

    q, c, _ = _tiny_transformer(case)
    nodes = []
    compile_transformer(q, None, nodes)
    rng = np.random.default_rng(len(case))
    kinds = {n.name.split(".")[-1].rstrip("0123456789"): n for n in nodes}
    for node in kinds.values():  # a node of every kind: one of its gates one step higher
        name = node.name
        i = next(k for k, x in enumerate(c.layers) if x.name == name)
        layer = c.layers[i]
        thr = layer.threshold.copy()
        thr[int(rng.integers(0, layer.n_gates))] += 1
        layers = list(c.layers)
        layers[i] = dataclasses.replace(layer, threshold=thr)
        bad = Circuit(c.n_pos, c.n_vocab, tuple(layers), c.outputs, c.input_names)
        failed = [p.layer for p in (prove_node(bad, n) for n in nodes) if not p.ok]
        assert failed == [name]
    assert [p.layer for p in prove_transformer(bad, q) if not p.ok] == [name]


def test_a_node_whose_forms_differ_from_the_compilers_is_refused():
    import dataclasses

    from algolens.logic.compile_transformer import compile_transformer
    from algolens.logic.verify_requant import prove_node

    q, c, _ = _tiny_transformer("relu-1layer-4bit")
    nodes = []
    compile_transformer(q, None, nodes)
    node = nodes[-1]
    with pytest.raises(SpecError, match="does not read"):
        prove_node(c, dataclasses.replace(node, w=node.w + 1))
    with pytest.raises(SpecError, match="no layer"):
        prove_node(c, dataclasses.replace(node, name="nowhere"))


@pytest.mark.parametrize("seed", range(6))
def test_non_monotone_nodes_prove_exactly_when_every_value_agrees(seed):
    """A GELU-like chain (a requantisation, then a non-monotone table) and a bare non-monotone
    table, compiled over a form of two positions; one threshold moved or not: the node proof
    must agree with a check of the gates at every value of the form."""
    import dataclasses

    from algolens.logic.circuit import Circuit
    from algolens.logic.compile_gadgets import Compiler
    from algolens.logic.quantize import Chain, Table
    from algolens.logic.verify_requant import prove_node

    rng = np.random.default_rng(seed)
    vals = rng.integers(-3, 4, 15)
    table = Table(-7, vals)
    f = Chain(Requant(m=int(rng.integers(1, 9)), s=2, lo=-7, hi=7), table) if seed % 2 else table
    comp = Compiler(2, 6)
    w = rng.integers(-6, 7, (12, 1))
    comp.lut(comp.linear(np.arange(12), w, np.array([int(rng.integers(-3, 4))])), f, "n")
    node = comp.requants[0]
    c = comp.build(np.zeros(0, np.int64))
    layer = c.layers[0]
    thr = layer.threshold.copy()
    if seed >= 2:
        thr[int(rng.integers(0, thr.size))] += 1 if seed < 4 else -1
    bad = Circuit(c.n_pos, c.n_vocab, (dataclasses.replace(layer, threshold=thr),), c.outputs,
                  c.input_names)  # fmt: skip
    form = np.arange(int(node.lo[0]), int(node.hi[0]) + 1)  # every value in the bounds
    t = layer.threshold + node.const[0]
    inc = f(t) - f(t - 1)
    got = f(node.lo)[0] + ((form[:, None] >= (thr + node.const[0])[None, :]) * inc).sum(1)
    assert prove_node(bad, node).ok == bool((got == f(form)).all())
    assert prove_node(c, node).ok
