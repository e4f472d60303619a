"""FO(M) formulas: the evaluator agrees with the circuit definition on every input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algolens.errors import SizeLimitError, SpecError
from algolens.logic.fom import Quant, circuit_to_fom, fom_size
from algolens.logic.fom_eval import FomEvaluator, evaluate_program
from algolens.logic.fom_parse import parse_program
from tests.logic import reference as ref


def _check_all_inputs(circuit, n_pos, n_vocab):
    program = circuit_to_fom(circuit, n_vocab)
    text = program.to_text()
    assert parse_program(text) == program  # the text is the formula
    xs = ref.all_strings(n_pos, n_vocab)
    want = [ref.output(circuit, list(x), n_vocab) for x in xs]
    assert evaluate_program(parse_program(text), xs).tolist() == want
    return program


@pytest.mark.parametrize("n_pos", [1, 2, 3, 4, 5])
def test_majority_is_an_M_quantifier(n_pos):
    program = _check_all_inputs(ref.majority_circuit(n_pos), n_pos, 2)
    if n_pos > 2:  # with two positions "at least half" is an OR, written as one
        assert isinstance(program.definitions[0].body, Quant)
        assert program.definitions[0].body.kind == "M"
    xs = ref.all_strings(n_pos, 2)
    # independent fact: majority = at least half the bits are 1
    assert evaluate_program(program, xs).tolist() == (2 * xs.sum(1) >= n_pos).astype(int).tolist()


def test_parity_of_two():
    program = _check_all_inputs(ref.parity2_circuit(), 2, 2)
    xs = ref.all_strings(2, 2)
    assert evaluate_program(program, xs).tolist() == (xs[:, 0] ^ xs[:, 1]).tolist()
    assert "&" in program.to_text() and "|" in program.to_text()


@pytest.mark.parametrize("bits", [1, 2, 3])
def test_comparator(bits):
    program = _check_all_inputs(ref.comparator_circuit(bits), 2 * bits, 2)
    xs = ref.all_strings(2 * bits, 2)
    place = 1 << np.arange(bits - 1, -1, -1)
    x, y = xs[:, :bits] @ place, xs[:, bits:] @ place
    assert evaluate_program(program, xs).tolist() == (x >= y).astype(int).tolist()


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_pos=st.integers(1, 3),
    n_vocab=st.integers(1, 4),
    n_gates=st.integers(1, 12),
    n_out=st.integers(1, 4),
)
def test_random_circuits(seed, n_pos, n_vocab, n_gates, n_out):
    rng = np.random.default_rng(seed)
    circuit = ref.random_circuit(rng, n_pos, n_vocab, n_gates, n_out)
    program = _check_all_inputs(circuit, n_pos, n_vocab)
    # gate by gate: every definition g<k> equals node n_inputs + k
    xs = ref.all_strings(n_pos, n_vocab)
    ev = FomEvaluator(program, xs)
    ev.outputs()
    nodes = np.array([ref.node_values(circuit, list(x), n_vocab) for x in xs])
    for k in range(n_gates):
        assert (
            ev.definition_values(f"g{k}").tolist()
            == nodes[:, circuit["n_inputs"] + k].astype(bool).tolist()
        )


def test_hand_written_formulas_with_quantifiers_order_and_bit():
    text = """
    // two ones somewhere, the first before the second
    let pair := E i. E j. (i < j & Q1(i) & Q1(j));
    let odd(i) := bit(i, 0);
    let one_at_odd := E i. (odd(i) & Q1(i));
    let all_zero := A i. Q0(i);
    let first := E i. (i = 0 & Q1(i));
    out 0 := pair;
    out 1 := one_at_odd;
    out 2 := all_zero | first;
    out 3 := [2*#i. Q1(i) - 3*first >= 2];
    """
    program = parse_program(text)
    xs = ref.all_strings(4, 2)
    got = FomEvaluator(program, xs).outputs()
    ones = xs.sum(1)
    assert got[:, 0].tolist() == (ones >= 2).tolist()
    assert got[:, 1].tolist() == ((xs[:, 1] + xs[:, 3]) >= 1).tolist()
    assert got[:, 2].tolist() == ((ones == 0) | (xs[:, 0] == 1)).tolist()
    assert got[:, 3].tolist() == (2 * ones - 3 * xs[:, 0] >= 2).tolist()
    assert parse_program(program.to_text()) == program


def test_size_report_and_limit():
    program = circuit_to_fom(ref.parity2_circuit(), 2)
    size = fom_size(program)
    assert size.definitions == 3 and size.characters == len(program.to_text())
    with pytest.raises(SizeLimitError):
        circuit_to_fom(ref.parity2_circuit(), 2, max_gates=2)


@pytest.mark.parametrize(
    "text",
    [
        "out 0 := Q1(i) &;",
        "let E := true; out 0 := E;",
        "out 1 := true;",
        "out 0 := undefined_pred;",
        "out 0 := Q1(i);",
        "out 0 := $;",
    ],
)
def test_bad_text_is_a_spec_error(text):
    with pytest.raises(SpecError):
        evaluate_program(parse_program(text), np.zeros((1, 2), np.int64))


def test_malformed_gate_is_a_spec_error():
    with pytest.raises(SpecError, match="not earlier"):
        circuit_to_fom({"n_inputs": 2, "gates": [{"w": [[2, 1]], "t": 1}], "outputs": [2]}, 2)


def test_outline_shows_exact_first_gates_of_each_layer():
    from algolens.logic.fom_outline import fom_text
    from tests.logic.dict_circuits import to_circuit

    rng = np.random.default_rng(7)
    d = ref.random_circuit(rng, n_pos=3, n_vocab=3, n_gates=9, n_out=2)
    c = to_circuit(d, 3)
    full = fom_text(c)
    assert full.expanded and full.text == circuit_to_fom(d, 3).to_text()
    outline = fom_text(c, max_gates=4, per_layer=1)
    assert not outline.expanded and "// size report: 9 definitions" in outline.text
    code = [ln for ln in outline.text.splitlines() if not ln.startswith("//")]
    full_lines = set(full.text.splitlines())
    assert code and all(ln in full_lines for ln in code)  # every written line is exact
    assert sum(ln.startswith("let ") for ln in code) == len(c.layers)


def test_circuit_to_fom_pass_module_and_old_import_are_one_function() -> None:
    from algolens.logic import circuit_to_fom as pass_module
    from algolens.logic import fom

    assert fom.circuit_to_fom is pass_module.circuit_to_fom
    assert fom.MAX_EXPANDED_GATES == pass_module.MAX_EXPANDED_GATES
    with pytest.raises(AttributeError):
        fom.no_such_name  # noqa: B018
