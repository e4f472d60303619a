"""The ``algolens-threshold-circuit/1`` file: round trips and one-line validation errors."""

from __future__ import annotations

import copy
import gzip
import json

import pytest

from algolens.errors import SpecError
from algolens.logic.evaluate import evaluate
from algolens.logic.export import FORMAT, circuit_to_dict, read_circuit, write_circuit
from tests.logic.threshold_examples import adder_circuit, all_sequences, majority_circuit


@pytest.mark.parametrize("name", ["c.json", "c.json.gz"])
def test_round_trip_evaluates_identically(tmp_path, name):
    c = adder_circuit(5)
    path = write_circuit(c, tmp_path / name)
    back = read_circuit(path)
    seqs = all_sequences(2, 5)
    assert evaluate(back, seqs).tolist() == evaluate(c, seqs).tolist() == seqs.sum(1).tolist()
    assert [(s.tolist(), w.tolist(), t) for s, w, t in back.gates()] == [
        (s.tolist(), w.tolist(), t) for s, w, t in c.gates()
    ]
    assert [layer.name for layer in back.layers] == ["sum>=k", "bits"]
    # a dense layer is read as a basis with one column per gate (evaluated with BLAS)
    assert back.layers[0].basis is not None
    assert (back.n_pos, back.n_vocab, back.input_names) == (2, 5, c.input_names)


def test_written_file_is_the_documented_dict(tmp_path):
    c = majority_circuit(3)
    path = write_circuit(c, tmp_path / "m.json.gz")
    data = json.loads(gzip.decompress(path.read_bytes()))
    assert data == circuit_to_dict(c)
    assert data["format"] == FORMAT and data["n_inputs"] == 6
    assert data["gates"] == [{"w": [[1, 1], [3, 1], [5, 1]], "t": 2}]
    assert data["outputs"] == [6] and data["output_encoding"] == "binary-lsb-first"


def test_layers_are_recovered_without_the_optional_key(tmp_path):
    data = circuit_to_dict(adder_circuit(3))
    del data["layers"], data["n_vocab"], data["input_names"]
    (tmp_path / "c.json").write_text(json.dumps(data))
    back = read_circuit(tmp_path / "c.json")
    assert [layer.n_gates for layer in back.layers] == [4, 3]
    assert back.n_pos == 1 and back.n_vocab == 6  # without n_vocab: one position
    bits = all_sequences(2, 3)
    from algolens.logic.evaluate import evaluate_bits, one_hot

    assert evaluate_bits(back, one_hot(bits, 3)).tolist() == bits.sum(1).tolist()


def _corrupt(d, edit):
    d = copy.deepcopy(d)
    edit(d)
    return d


BAD = {
    "format": (lambda d: d.update(format="algolens-threshold-circuit/2"), "format"),
    "missing": (lambda d: d.pop("outputs"), "missing keys"),
    "unknown": (lambda d: d.update(code="import os"), "unknown keys"),
    "later-src": (lambda d: d["gates"][0]["w"].append([7, 1]), "source must lie in 0..5"),
    "self-src": (lambda d: d["gates"][0]["w"].append([6, 1]), "source must lie in 0..5"),
    "bool": (lambda d: d["gates"][0].update(t=True), "threshold must be an integer"),
    "string": (lambda d: d["gates"][0].update(t="2"), "threshold must be an integer"),
    "pair": (lambda d: d["gates"][0]["w"].append([1]), r"\[src, weight\]"),
    "dup": (lambda d: d["gates"][0]["w"].append([1, 1]), "twice"),
    "output": (lambda d: d.update(outputs=[7]), "output 0"),
    "encoding": (lambda d: d.update(output_encoding="msb"), "output_encoding"),
    "names": (lambda d: d.update(input_names=["a"]), "input_names"),
    "vocab": (lambda d: d.update(n_vocab=4), "multiple"),
    "gate-keys": (lambda d: d["gates"][0].update(x=1), "gate 0 must be"),
    "huge": (lambda d: d["gates"][0].update(t=1 << 60), "2\\^50"),
    "layers": (lambda d: d.update(layers=[{"name": "a", "gates": 3}]), "layers"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_invalid_files_give_one_line_errors(tmp_path, case):
    edit, match = BAD[case]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_corrupt(circuit_to_dict(majority_circuit(3)), edit)))
    with pytest.raises(SpecError, match=match) as info:
        read_circuit(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "raw, match",
    [
        (b"{not json", "not valid JSON"),
        (b'{"format": 1.5}', "not valid JSON"),  # no floats anywhere
        (b"\x1f\x8b\x08garbage", "cannot read"),
        (b"[1, 2]", "JSON object"),
    ],
)
def test_unreadable_files(tmp_path, raw, match):
    path = tmp_path / "bad.json"
    path.write_bytes(raw)
    with pytest.raises(SpecError, match=match):
        read_circuit(path)


def test_missing_file(tmp_path):
    with pytest.raises(SpecError, match="cannot read"):
        read_circuit(tmp_path / "nope.json")
