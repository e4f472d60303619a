"""The stored logic analysis of a run: figures recomputed independently, storage, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algolens.errors import ConfigError, SpecError
from algolens.logic.export import circuit_to_dict
from algolens.logic.verify_run import run_logic, stored_logic
from algolens.store import RunStore
from algolens.train import load_run_group, load_run_model, make_config, start_run
from tests.logic import reference as ref


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("store"))
    mlp = make_config("fast", group="C5", seeds=[0, 1], epochs=30,
                      model_args={"d_embed": 16, "d_mlp": 6})  # fmt: skip
    small = {"d_model": 16, "n_heads": 2, "d_head": 8, "d_mlp": 16}
    tf = make_config("fast", group="S3", model="transformer", seeds=[0], epochs=2,
                     model_args=small)  # fmt: skip
    return store, start_run(mlp, store)["run_id"], start_run(tf, store)["run_id"]


def test_figures_match_an_independent_recount(runs):
    from algolens.logic.compile_mlp import compile_mlp
    from algolens.logic.quantize_mlp import quantize_mlp

    store, run_id, _ = runs
    assert stored_logic(store, run_id) is None
    data = run_logic(store, run_id, instances=[0, 1], bits=5)
    assert data["reused"] is False and [r["instance"] for r in data["instances"]] == [0, 1]
    table = np.asarray(load_run_group(store, run_id).table)
    _, model = load_run_model(store, run_id)
    pairs = ref.all_strings(2, 5)
    for row in data["instances"]:
        one = model.instance(row["instance"])
        q = quantize_mlp(one, 5)
        circuit = circuit_to_dict(compile_mlp(q))
        # the circuit's file form, read by the brute-force definition, against Q
        by_definition = [ref.output(circuit, list(x), 5) for x in pairs]
        assert by_definition == q.predict(pairs).tolist()
        assert row["verify"]["proof"] and row["verify"]["mismatches"] == 0
        assert row["gates"] == len(circuit["gates"]) and row["inputs"] == 25
        with torch.no_grad():
            floats = one(torch.from_numpy(pairs)).argmax(-1).numpy()
        answers = [table[a, b] for a, b in pairs]
        agree = row["agreement"]
        assert agree["q_vs_task"] == np.mean(np.array(by_definition) == answers)
        assert agree["float_vs_task"] == np.mean(floats == answers)
        assert agree["q_vs_float"] == np.mean(floats == np.array(by_definition))
        assert row["requant_proofs"]["proven"] == row["requant_proofs"]["columns"] == 6
        assert row["requant_proofs"]["nodes"] == row["requant_proofs"]["nodes_proven"] == 1


def test_stored_reused_and_recomputed(runs):
    store, run_id, _ = runs
    first = run_logic(store, run_id, bits=4)
    assert run_logic(store, run_id, bits=4)["reused"] is True
    assert run_logic(store, run_id, bits=4, force=True)["reused"] is False

    def strip(rows):  # everything but the timings is a pure function of weights and bits
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    assert strip(stored_logic(store, run_id)["instances"]) == strip(first["instances"])
    assert run_logic(store, run_id, bits=6)["reused"] is False  # another bit-width


def test_transformer_run(runs):
    store, _, tf_id = runs
    row = run_logic(store, tf_id, bits=4)["instances"][0]
    assert row["kind"] == "transformer" and row["inputs"] == 36  # [a, b, =] over S3
    assert row["verify"]["proof"]
    proofs = row["requant_proofs"]  # every thermometer layer of the circuit proven
    thermometers = [s for s in row["layers"] if not s["name"].endswith((".bits", ".max"))
                    and s["name"].split(".")[-1].rstrip("0123456789") in
                    {"q", "k", "v", "score", "exp", "thermo", "attn", "act", "mlp"}]  # fmt: skip
    assert proofs["nodes"] == proofs["nodes_proven"] == len(thermometers) > 0
    assert proofs["proven"] == proofs["columns"] > 0 and proofs["first_failure"] is None


def test_bad_input(runs):
    store, run_id, _ = runs
    with pytest.raises(SpecError, match="out of range"):
        run_logic(store, run_id, instances=[2])
    with pytest.raises(ConfigError, match="bits"):
        run_logic(store, run_id, bits=1)
    stored = stored_logic(store, run_id)
    assert stored is None or stored["bits"] != 1  # nothing stored by the failed calls
