"""SAT miter: UNSAT for equivalent circuits, a real witness for different ones."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from algolens.errors import SpecError
from algolens.logic.miter import miter
from algolens.logic.verify import InputDomain
from tests.logic import reference as ref
from tests.logic.dict_circuits import to_circuit


def _xor_by_threshold():
    """The same XOR as parity2_circuit, built differently: a - b != 0 by two comparisons."""
    return {
        "n_inputs": 4,
        "gates": [
            {"w": [[1, 1], [3, -1]], "t": 1},  # a > b
            {"w": [[1, -1], [3, 1]], "t": 1},  # b > a
            {"w": [[4, 1], [5, 1]], "t": 1},
        ],
        "outputs": [6],
    }


def test_equivalent_circuits_built_differently_are_unsat():
    r = miter(to_circuit(ref.parity2_circuit(), 2), to_circuit(_xor_by_threshold(), 2))
    assert r.equivalent and r.witness is None and r.clauses > 0


def _corruptions(d):
    """Every single change of one weight or threshold by ±1, in order."""
    for gate, g in enumerate(d["gates"]):
        for k in range(-1, len(g["w"])):
            for delta in (1, -1):
                bad = copy.deepcopy(d)
                if k < 0:
                    bad["gates"][gate]["t"] += delta
                else:
                    bad["gates"][gate]["w"][k][1] += delta
                yield gate, bad


@pytest.mark.parametrize("seed", range(6))
def test_corrupted_gate_gives_a_real_witness(seed):
    rng = np.random.default_rng(seed)
    d = ref.random_circuit(rng, n_pos=3, n_vocab=3, n_gates=10, n_out=3)
    xs = ref.all_strings(3, 3)
    seen = set()
    for gate, bad in _corruptions(d):
        n_diff = sum(ref.output(bad, list(x), 3) != ref.output(d, list(x), 3) for x in xs)
        if (n_diff > 0) in seen:
            continue
        seen.add(n_diff > 0)
        r = miter(to_circuit(bad, 3), to_circuit(d, 3))
        assert r.equivalent == (n_diff == 0)  # the brute force decides which answer is right
        if n_diff:
            w = r.witness
            assert ref.output(bad, list(w.tokens), 3) == w.got != w.expected
            assert w.expected == ref.output(d, list(w.tokens), 3)
            assert w.node == d["n_inputs"] + gate  # earlier gates are identical
    assert True in seen  # some corruption changed the function


def test_domain_restricts_the_inputs():
    d = ref.comparator_circuit(2)
    bad = copy.deepcopy(d)
    bad["gates"][0]["t"] = 1  # x > y: differs from x >= y only when x == y
    a, b = to_circuit(bad, 2), to_circuit(d, 2)
    assert not miter(a, b).equivalent
    # x's top bit 1, y's top bit 0: x > y always, so the two agree there
    dom = InputDomain(((1,), (0, 1), (0,), (0, 1)))
    assert miter(a, b, domain=dom).equivalent


def test_mismatched_shapes_are_spec_errors():
    with pytest.raises(SpecError):
        miter(to_circuit(ref.parity2_circuit(), 2), to_circuit(ref.majority_circuit(3), 2))
