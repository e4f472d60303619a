"""`algolens analyze RUN --method mechanism` on a tiny stored path-finding run."""

from __future__ import annotations

import json

import pytest

from algolens.store import RunStore
from tests.train.test_pathfinding_training import tiny


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from algolens.train.run import start_run

    store = RunStore(tmp_path_factory.mktemp("mech") / "s")
    return store, start_run(tiny(epochs=1), store)["run_id"]


def test_cli_mechanism_json_is_stored_and_reused(run, run_cli):
    store, run_id = run
    args = ("analyze", run_id, "--method", "mechanism", "--store", str(store.root), "--json")
    code, out, err = run_cli(*args)
    assert code == 0, err
    got = json.loads(out)["runs"][0]
    assert got["reused"] is False and got["nodes"] == 4 and len(got["instances"]) == 2
    inst = got["instances"][1]
    assert inst["seed"] == 1 and len(inst["scrubbing"]) == 2  # one hypothesis per layer
    assert len(inst["lens"]["accuracy"]) == 3 and len(inst["edge_concat"]["f1_by_layer"]) == 3
    assert (store.paths(run_id).root / "analyses" / "mechanism.json").is_file()
    code, out, err = run_cli(*args)
    again = json.loads(out)["runs"][0]
    assert again["reused"] is True and again["instances"] == got["instances"]
    code, out, err = run_cli("analyze", run_id, "--method", "mechanism", "--store", str(store.root))
    assert code == 0 and "edge concatenation" in out and "deduction heads" in out
    assert "sub-goal registers:" in out
    rp = inst["register_probes"]
    assert rp["layers"] == [0, 1, 2] and rp["positions"] == [0, 2, 3, 5, 6, 8, 9, 10]


def test_cli_mechanism_on_a_composition_run_is_one_line(run, run_cli, tmp_path):
    from algolens.train.config import make_config
    from algolens.train.run import start_run

    store = RunStore(tmp_path / "c")
    run_id = start_run(make_config("fast", group="C3", epochs=1), store)["run_id"]
    code, out, err = run_cli("analyze", run_id, "--method", "mechanism", "--store", str(store.root))
    assert code == 2 and err.count("\n") == 1 and "needs a pathfinding run" in err
    store2, pf = run
    code, out, err = run_cli(
        "analyze", pf, "--method", "mechanism", "--instance", "5", "--store", str(store2.root)
    )
    assert code == 2 and "--instance must lie in 0..1" in err
