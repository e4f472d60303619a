"""`algolens analyze` and the stored analyses on tiny real runs; bad input is one line, exit 2,
nothing written."""

from __future__ import annotations

import json
import os

import pytest
import torch

from algolens.analysis.composition.irreps import analyse_model
from algolens.analysis.runs import run_irreps, run_progress, train_masks
from algolens.store import RunStore
from algolens.train import make_config, start_run
from algolens.train.load import load_run_group, load_run_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A store with a 2-seed S3 MLP run and a 1-seed S3 transformer run."""
    root = tmp_path_factory.mktemp("store")
    store = RunStore(root)
    mlp = start_run(make_config("fast", group="S3", seeds=[0, 1], epochs=30, train_frac=0.5), store)
    tf = make_config("fast", group="S3", model="transformer", seeds=[2], epochs=10, train_frac=0.5)
    return root, mlp["run_id"], start_run(tf, store)["run_id"]


def analyses_dir(root, run_id):
    return RunStore(root).paths(run_id).root / "analyses"


def test_analyze_json_matches_a_direct_analysis(tiny, run_cli):
    root, run_id, _ = tiny
    code, out, err = run_cli("analyze", run_id, "--store", str(root), "--json", "--force")
    assert code == 0, err
    data = json.loads(out)
    assert [d["seed"] for d in data["instances"]] == [0, 1]
    store = RunStore(root)
    config, model = load_run_model(store, run_id)
    group = load_run_group(store, run_id)
    masks = train_masks(config, group)
    assert masks[1].sum() == round(0.5 * 36)
    direct = analyse_model(group, model.instance(1), train_mask=masks[1]).to_dict()
    got = data["instances"][1]
    assert got["key_irreps"] == direct["key_irreps"]
    assert got["similarity"] == direct["similarity"]
    # the test loss the analysis computes equals the one the trainer logged last
    logged = json.loads(store.paths(run_id).metrics.read_text().splitlines()[-1])
    assert got["losses"]["test_loss"] == pytest.approx(logged["test_loss"][1], rel=1e-4)
    assert got["losses"]["train_acc"] == pytest.approx(logged["train_acc"][1], abs=1e-9)


def test_stored_analysis_is_reused_until_forced_or_the_weights_change(tiny):
    root, run_id, _ = tiny
    store = RunStore(root)
    first = run_irreps(store, run_id, force=True)
    assert first["reused"] is False
    stored = json.loads((analyses_dir(root, run_id) / "irreps.json").read_text())
    assert stored["method"] == "irreps" and stored["algolens_version"]
    assert stored["source"]["file"] == "final.safetensors"
    assert run_irreps(store, run_id)["reused"] is True
    assert run_irreps(store, run_id, force=True)["reused"] is False
    final = store.paths(run_id).final
    st = final.stat()
    os.utime(final, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # as if retrained
    assert run_irreps(store, run_id)["reused"] is False


def test_progress_over_checkpoints(tiny, run_cli):
    root, run_id, _ = tiny
    code, out, err = run_cli(
        "analyze", run_id, "--store", str(root), "--instance", "0", "--checkpoints", "--json"
    )
    assert code == 0, err
    (inst,) = json.loads(out)["instances"]
    prog = inst["progress"]
    store = RunStore(root)
    epochs = [int(p.stem.split("_")[1]) for p in sorted(store.paths(run_id).checkpoints.iterdir())]
    assert prog["epochs"] == epochs == [row["epoch"] for row in prog["series"]]
    # the last checkpoint's metrics equal an analysis of that checkpoint alone
    _, model = load_run_model(store, run_id, epochs[-1])
    group = load_run_group(store, run_id)
    config, _ = load_run_model(store, run_id)
    last = analyse_model(group, model.instance(0), train_mask=train_masks(config, group)[0])
    assert prog["series"][-1]["similarity"] == last.to_dict()["similarity"]
    assert run_progress(store, run_id, 0)["reused"] is True
    code, out, err = run_cli("analyze", run_id, "--store", str(root), "--checkpoints")
    assert code == 0, err
    assert "learning order" in out and "over checkpoints" in out


def test_tally_over_two_runs(tiny, run_cli):
    root, mlp, tf = tiny
    code, out, err = run_cli("analyze", mlp, tf, "--store", str(root), "--tally", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [d["model"] for d in data["instances"]] == ["mlp", "mlp", "transformer"]
    assert data["tally"]["instances"] == 3
    assert data["paper_comparison"] is None  # not S5 MLPs
    threads = torch.get_num_threads()
    try:
        code, out, err = run_cli(
            "analyze", mlp, tf, "--store", str(root), "--tally", "--threads", "1"
        )
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)  # the option sets it for the whole process
    assert code == 0 and "distinct key-irrep sets" in out


def one_line_exit_2(result):
    code, out, err = result
    assert code == 2, (out, err)
    assert err.startswith("error:") and err.count("\n") == 1, err


def test_bad_instance_method_and_run(tiny, run_cli):
    root, run_id, _ = tiny
    fresh = RunStore(root).paths(run_id).root / "analyses"
    before = sorted(p.name for p in fresh.iterdir()) if fresh.exists() else []
    one_line_exit_2(run_cli("analyze", run_id, "--store", str(root), "--instance", "2"))
    one_line_exit_2(run_cli("analyze", run_id, "--store", str(root), "--method", "nonsense"))
    one_line_exit_2(run_cli("analyze", "nope", "--store", str(root)))
    one_line_exit_2(run_cli("analyze", run_id, "--store", str(root), "--threads", "0"))
    after = sorted(p.name for p in fresh.iterdir()) if fresh.exists() else []
    assert after == before


def test_run_without_checkpoints_or_weights(tmp_path, run_cli):
    store = RunStore(tmp_path)
    run_id = start_run(make_config("fast", group="S3", seeds=[0], epochs=3), store)["run_id"]
    paths = store.paths(run_id)
    for p in paths.checkpoints.iterdir():
        p.unlink()
    err = run_cli("analyze", run_id, "--store", str(tmp_path), "--checkpoints")
    one_line_exit_2(err)
    assert "no checkpoints" in err[2]
    paths.final.unlink()
    one_line_exit_2(run_cli("analyze", run_id, "--store", str(tmp_path)))
    assert not (paths.root / "analyses").exists()


def test_group_over_the_irreps_limit(tmp_path, run_cli, monkeypatch):
    store = RunStore(tmp_path)
    run_id = start_run(make_config("fast", group="C6", seeds=[0], epochs=2), store)["run_id"]
    monkeypatch.setattr("algolens.groups.reps.MAX_IRREPS_ORDER", 5)
    code, out, err = run_cli("analyze", run_id, "--store", str(tmp_path))
    one_line_exit_2((code, out, err))
    assert "MAX_IRREPS_ORDER" in err
    assert not (store.paths(run_id).root / "analyses").exists()


def test_run_of_another_task(tmp_path, run_cli):
    store = RunStore(tmp_path)
    run_id = start_run(make_config("fast", group="S3", seeds=[0], epochs=2), store)["run_id"]
    path = store.paths(run_id).config
    config = json.loads(path.read_text())
    config["task"] = "sorting"
    path.write_text(json.dumps(config))
    one_line_exit_2(run_cli("analyze", run_id, "--store", str(tmp_path)))
    assert not (store.paths(run_id).root / "analyses").exists()


def test_coset_methods_through_analyze(tiny, run_cli):
    from algolens.analysis.composition.verdict import METHODS, run_method
    from algolens.analysis.store import finite_or_none
    from algolens.cli.analyze import COSET_METHODS

    assert COSET_METHODS == tuple(METHODS)
    root, mlp, tf = tiny
    code, out, err = run_cli("analyze", mlp, "--store", str(root), "--method", "cosets", "--json")
    assert code == 0, err
    (result,) = json.loads(out)["runs"]
    direct = run_method(RunStore(root), mlp, "cosets")
    # stored and printed as strict JSON: a constant neuron's NaN concentration becomes null
    same = json.dumps(finite_or_none(direct["instances"]))
    assert json.dumps(result["instances"]) == same
    stored = json.loads((analyses_dir(root, mlp) / "cosets.json").read_text())
    assert stored["method"] == "cosets" and json.dumps(stored["instances"]) == same
    code, out, err = run_cli(
        "analyze", mlp, "--store", str(root), "--method", "interventions", "--instance", "1"
    )
    assert code == 0 and "negate left" in out and "instance 1" in out
    code, out, err = run_cli("analyze", mlp, "--store", str(root), "--method", "interventions")
    assert code == 0 and "negate left" in out and "mean over seeds" in out
    code, out, err = run_cli("analyze", mlp, "--store", str(root), "--method", "cosets")
    assert code == 0 and "cosets: run" in out and "mean over seeds" not in out
    one_line_exit_2(run_cli("analyze", tf, "--store", str(root), "--method", "verdict"))
    assert not (analyses_dir(root, tf) / "verdict.json").exists()
    one_line_exit_2(run_cli("analyze", mlp, "--store", str(root), "--method", "cosets", "--tally"))
