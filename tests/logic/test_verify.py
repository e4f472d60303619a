"""Equivalence checks: proofs on whole domains, witnesses for corrupted circuits."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from algolens.errors import SpecError
from algolens.logic.fom import Threshold, circuit_to_fom
from algolens.logic.verify import (
    InputDomain,
    circuit_reference,
    fom_reference,
    gate_margins,
    verify,
)
from tests.logic import reference as ref
from tests.logic.dict_circuits import to_circuit


def _brute(d, n_vocab):
    return lambda xs: np.array([ref.output(d, list(x), n_vocab) for x in xs], np.int64)


def test_exhaustive_proof_against_brute_force():
    d = ref.majority_circuit(5)
    v = verify(to_circuit(d, 2), _brute(d, 2))
    assert v.proof and v.equivalent and v.method == "exhaustive"
    assert v.checked == v.domain_size == 32


def test_independent_fact_comparator():
    d = ref.comparator_circuit(3)
    place = 1 << np.arange(2, -1, -1)

    def geq(xs):
        return (xs[:, :3] @ place >= xs[:, 3:] @ place).astype(np.int64)

    assert verify(to_circuit(d, 2), geq).proof


def _corrupt(d, gate, dt):
    bad = copy.deepcopy(d)
    bad["gates"][gate]["t"] += dt
    return bad


def test_corrupted_gate_caught_with_witness_and_first_gate():
    rng = np.random.default_rng(3)
    d = ref.random_circuit(rng, n_pos=3, n_vocab=3, n_gates=10, n_out=3)
    xs = ref.all_strings(3, 3)
    for gate in range(10):  # the first corruption that changes some output
        for dt in (1, -1, 2, -2):
            bad = _corrupt(d, gate, dt)
            if any(ref.output(bad, list(x), 3) != ref.output(d, list(x), 3) for x in xs):
                break
        else:
            continue
        break
    good_c, bad_c = to_circuit(d, 3), to_circuit(bad, 3)
    v = verify(bad_c, *circuit_reference(good_c)[:1], reference_gates=circuit_reference(good_c)[1])
    assert not v.equivalent and not v.proof and v.first is not None
    w = v.first
    # the witness is a real disagreement, checked by the brute-force reading
    assert (
        ref.output(bad, list(w.tokens), 3)
        == w.got
        != w.expected
        == ref.output(d, list(w.tokens), 3)
    )
    # gates before the corrupted one are identical, so the first disagreeing gate is it
    assert w.node == d["n_inputs"] + gate and w.threshold == bad["gates"][gate]["t"]
    values = ref.node_values(bad, list(w.tokens), 3)
    assert w.total == sum(wt * values[s] for s, wt in bad["gates"][gate]["w"])
    assert f"node {w.node}" in v.describe()
    # the count of mismatches is exact
    n_bad = sum(ref.output(bad, list(x), 3) != ref.output(d, list(x), 3) for x in xs)
    assert v.mismatches == n_bad


def test_output_only_reference_names_the_wrong_output_gate():
    d = ref.comparator_circuit(2)
    bad = _corrupt(d, 0, 1)  # x > y instead of x >= y: wrong exactly when x == y
    v = verify(to_circuit(bad, 2), _brute(d, 2))
    assert v.mismatches == 4 and v.first.node == 8
    assert v.first.tokens[:2] == v.first.tokens[2:]


def test_near_threshold_inputs_find_what_random_misses():
    bits = 8
    d = ref.comparator_circuit(bits)
    bad = _corrupt(d, 0, 1)  # wrong only on the 256 of 65536 inputs with x == y
    args = dict(exhaustive_limit=0, n_random=20, seed=1)
    plain = verify(to_circuit(bad, 2), _brute(d, 2), near_rounds=0, **args)
    near = verify(to_circuit(bad, 2), _brute(d, 2), **args)
    assert plain.equivalent and not plain.proof  # 20 random inputs miss x == y
    assert not near.equivalent and near.near_threshold_gates == 1
    t = near.first.tokens
    assert t[:bits] == t[bits:]


def test_margins_match_definition():
    rng = np.random.default_rng(0)
    d = ref.random_circuit(rng, n_pos=2, n_vocab=3, n_gates=6, n_out=2)
    xs = ref.all_strings(2, 3)
    m = gate_margins(to_circuit(d, 3), xs)
    for x, row in zip(xs, m, strict=True):
        values = ref.node_values(d, list(x), 3)
        want = [sum(w * values[s] for s, w in g["w"]) - g["t"] for g in d["gates"]]
        assert row.tolist() == want


def test_restricted_domain_and_bad_domain():
    d = ref.parity2_circuit()
    c = to_circuit(d, 2)
    dom = InputDomain(((1,), (0, 1)))
    v = verify(c, lambda xs: xs[:, 0] ^ xs[:, 1], domain=dom)
    assert v.proof and v.domain_size == 2
    with pytest.raises(SpecError, match="positions"):
        verify(c, lambda xs: xs[:, 0], domain=InputDomain(((0,),)))
    with pytest.raises(SpecError, match="allowed tokens"):
        verify(c, lambda xs: xs[:, 0], domain=InputDomain(((0,), (2,))))


@pytest.mark.parametrize("seed", range(5))
def test_formula_against_circuit(seed):
    rng = np.random.default_rng(seed)
    d = ref.random_circuit(rng, n_pos=3, n_vocab=2, n_gates=12, n_out=3)
    c = to_circuit(d, 2)
    program = circuit_to_fom(c)
    assert program == circuit_to_fom(d, 2)  # the Circuit and its dict give one formula
    outputs, gates = fom_reference(program)
    assert verify(c, outputs, reference_gates=gates).proof


def test_corrupted_formula_names_its_gate():
    d = ref.comparator_circuit(2)
    d["gates"].append({"w": [[8, 1]], "t": 1})  # g1 = g0, node 9
    d["outputs"] = [9]
    c = to_circuit(d, 2)
    program = circuit_to_fom(c)
    g0 = program.definitions[0]
    assert isinstance(g0.body, Threshold)
    wrong = type(g0)(g0.name, g0.params, Threshold(g0.body.terms, g0.body.t + 1))
    bad = type(program)((wrong, *program.definitions[1:]), program.outputs)
    outputs, gates = fom_reference(bad)
    v = verify(c, outputs, reference_gates=gates)
    assert v.mismatches == 4 and v.first.node == 8


@pytest.mark.parametrize("name", ["c.json", "c.json.gz"])
def test_exported_circuit_reread_is_equivalent_gate_by_gate(tmp_path, name):
    from algolens.logic.export import read_circuit, write_circuit
    from algolens.logic.miter import miter

    rng = np.random.default_rng(11)
    d = ref.random_circuit(rng, n_pos=3, n_vocab=3, n_gates=15, n_out=3)
    c = to_circuit(d, 3)
    again = read_circuit(write_circuit(c, tmp_path / name))
    outputs, gates = circuit_reference(c)
    xs = ref.all_strings(3, 3)
    assert (circuit_reference(again)[1](xs) == gates(xs)).all()  # every gate, every input
    assert verify(again, outputs, reference_gates=gates).proof
    assert miter(again, c).equivalent
    assert circuit_to_fom(again).to_text() == circuit_to_fom(d, 3).to_text()
