"""``--checkpoint EPOCH|FILE`` (train --resume, analyze, predict, report), the weights a command
reads said on stderr and in --json, and `runs show` listing verified checkpoints (issue 18)."""

from __future__ import annotations

import json
import shutil

import pytest

from algolens.store import RunStore
from algolens.train.checkpoint import checkpoint_name, list_checkpoints
from tests.train.conftest import tiny_config
from tests.train.tiny_runs import train_tiny


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A store with an interrupted C5 MLP run (checkpoints 0, 5, 10, 20; no final weights) and
    a completed C6 one (checkpoints 0, 1, 3, 7, 20)."""
    root = tmp_path_factory.mktemp("store")
    store = RunStore(root)
    stopped = train_tiny(store, "C5", stop_at=20, log_checkpoints=0, checkpoint_every=5)
    for epoch, path in list_checkpoints(store.paths(stopped).checkpoints):
        if epoch in (15,):
            path.unlink()  # leave a gap: 0, 5, 10, 20
    from algolens.train.run import start_run

    done = start_run(tiny_config(group="C6", seeds=[0, 1], epochs=20), store)["run_id"]
    return root, stopped, done


@pytest.fixture
def copy(runs, tmp_path):
    root, stopped, done = runs
    shutil.copytree(root, tmp_path / "s")
    return tmp_path / "s", stopped, done


def one_line_exit_2(result, *needles):
    code, out, err = result
    assert code == 2, (out, err)
    assert err.startswith("error:") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, err


def _damage(path):
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # a flipped bit in the tensor data
    path.write_bytes(bytes(data))


def test_predict_on_an_unfinished_run_says_which_checkpoint(runs, run_cli):
    root, stopped, _ = runs
    code, out, err = run_cli("predict", stopped, "1 2", "--store", str(root), "--json")
    assert code == 0, err
    assert err.count("\n") == 1 and "epoch_00000020.safetensors (epoch 20)" in err, err
    data = json.loads(out)
    assert (data["epoch"], data["final"], data["weights"]) == (20, False, checkpoint_name(20))


def test_predict_on_final_weights_is_silent_and_json_has_the_epoch(runs, run_cli):
    root, _, done = runs
    code, out, err = run_cli("predict", done, "1 2", "--store", str(root), "--json")
    assert code == 0 and err == "", err
    data = json.loads(out)
    assert (data["epoch"], data["final"], data["weights"]) == (20, True, "final.safetensors")


@pytest.mark.parametrize("choice", ["5", checkpoint_name(5), "CKPT_PATH"])
def test_predict_at_a_chosen_checkpoint(runs, run_cli, choice):
    root, stopped, _ = runs
    if choice == "CKPT_PATH":
        choice = str(RunStore(root).paths(stopped).checkpoints / checkpoint_name(5))
    code, out, err = run_cli(
        "predict", stopped, "1 2", "--store", str(root), "--json", "--checkpoint", choice
    )
    assert code == 0, err
    assert json.loads(out)["epoch"] == 5 and "(epoch 5): as asked" in err


def test_a_checkpoint_outside_the_run_or_missing_is_refused(runs, run_cli, tmp_path):
    root, stopped, done = runs
    paths = RunStore(root).paths(stopped)
    outside = tmp_path / checkpoint_name(5)
    shutil.copy(paths.checkpoints / checkpoint_name(5), outside)
    other_run = RunStore(root).paths(done).checkpoints / checkpoint_name(0)
    for choice in ("15", "999", str(outside), str(other_run), str(paths.final), "/etc/passwd",
                   f"{paths.checkpoints}/../checkpoints/../config.json"):  # fmt: skip
        for cmd in (("predict", stopped, "1 2"), ("analyze", stopped), ("report", stopped)):
            one_line_exit_2(
                run_cli(*cmd, "--store", str(root), "--checkpoint", choice), "--checkpoint"
            )


def test_analyze_at_a_checkpoint_is_not_stored_as_the_final_analysis(runs, run_cli):
    root, stopped, done = runs
    analyses = RunStore(root).paths(done).root / "analyses"
    args = ("analyze", done, "--store", str(root), "--json")
    code, out, err = run_cli(*args, "--checkpoint", "7")
    assert code == 0, err
    data = json.loads(out)
    assert [i["epoch"] for i in data["instances"]] == [7, 7]
    assert data["instances"][0]["weights"] == {
        "weights": checkpoint_name(7), "epoch": 7, "final": False
    }  # fmt: skip
    assert not analyses.exists() or not list(analyses.iterdir())
    code, out, err = run_cli(*args)
    assert code == 0 and err == "", err
    assert [i["epoch"] for i in json.loads(out)["instances"]] == [None, None]
    code, out, err = run_cli(*args, "--method", "cosets", "--checkpoint", "0")
    assert code == 0, err
    assert json.loads(out)["runs"][0]["checkpoint_epoch"] == 0
    assert sorted(p.name for p in analyses.iterdir()) == ["irreps.json"]


def test_report_at_a_checkpoint_goes_to_its_own_file(runs, run_cli):
    root, _, done = runs
    code, out, err = run_cli("report", done, "--store", str(root), "--checkpoint", "3", "--json")
    assert code == 0, err
    path = json.loads(out)["report"]
    assert path.endswith("report-epoch_00000003.html")
    assert "checkpoint at epoch 3" in open(path).read()
    assert not (RunStore(root).paths(done).root / "report.html").exists()


def test_a_damaged_last_checkpoint_is_listed_and_resume_goes_past_it(copy, run_cli):
    root, stopped, _ = copy
    paths = RunStore(root).paths(stopped)
    _damage(paths.checkpoints / checkpoint_name(20))
    code, out, err = run_cli("runs", "show", stopped, "--store", str(root), "--json")
    assert code == 0, err
    listed = {w["epoch"]: w["verified"] for w in json.loads(out)["checkpoints"]}
    assert listed == {0: True, 5: True, 10: True, 20: False}
    code, out, _ = run_cli("runs", "show", stopped, "--store", str(root))
    assert "DAMAGED" in out and checkpoint_name(10) in out
    one_line_exit_2(run_cli("analyze", stopped, "--store", str(root)), "--checkpoint EPOCH")
    one_line_exit_2(run_cli("train", "--checkpoint", "10", "--store", str(root)), "--resume")
    code, out, err = run_cli(
        "train", "--resume", stopped, "--checkpoint", "10", "--store", str(root), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["resumed_from"] == 10
    assert paths.final.is_file()
    code, out, err = run_cli("runs", "show", stopped, "--store", str(root), "--json")
    assert all(w["verified"] for w in json.loads(out)["checkpoints"])
