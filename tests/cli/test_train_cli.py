"""`algolens train` and `algolens runs`: JSON output, resume, and exit code 2 on bad input."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from algolens.cli.train import MAX_THREADS
from algolens.cli.train_output import interrupted_message
from algolens.errors import ConfigError
from algolens.store import RunStore
from algolens.train.checkpoint import latest_checkpoint

TINY = """
group = "C5"
train_frac = 0.6
seeds = [0, 1]
epochs = 30
lr = 0.01
loss_dtype = "float32"
eval_every = 10
checkpoint_every = 10
log_checkpoints = 0
early_stop = false
[model_args]
d_embed = 8
d_mlp = 8
"""


@pytest.fixture(autouse=True)
def _restore_threads():
    old = torch.get_num_threads()
    yield
    torch.set_num_threads(old)


def _train(run_cli, tmp_path, *extra: str, text: str = TINY) -> tuple[int, str, str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    toml = tmp_path / "run.toml"
    toml.write_text(text)
    store = str(tmp_path / "store")
    return run_cli("train", "--config", str(toml), "--store", store, "--threads", "1", *extra)


def test_train_json_summary(run_cli, tmp_path):
    code, out, err = _train(run_cli, tmp_path, "--json")
    assert code == 0, err
    s = json.loads(out)
    assert s["epochs"] == 30 and s["group"] == "C5" and isinstance(s["wall_s"], float)
    assert [r["seed"] for r in s["seeds"]] == [0, 1]
    for r in s["seeds"]:
        assert set(r) >= {"grok_epoch", "train_acc", "test_acc", "train_loss", "test_loss"}
    code, out, _ = run_cli("runs", "list", "--store", str(tmp_path / "store"), "--json")
    (row,) = json.loads(out)
    assert row["id"] == s["run_id"] and row["status"] == "completed"
    code, out, _ = run_cli("runs", "show", s["run_id"][:15], "--store", str(tmp_path / "store"))
    assert code == 0 and s["run_id"] in out


def test_flags_override_config(run_cli, tmp_path):
    code, out, err = _train(run_cli, tmp_path, "--epochs", "5", "--seeds", "3-4", "--json")
    assert code == 0, err
    s = json.loads(out)
    assert s["epochs"] == 5 and [r["seed"] for r in s["seeds"]] == [3, 4]


@pytest.mark.parametrize(
    "flags, fragment",
    [
        pytest.param(["--lr", "-0.1"], "lr", id="negative-lr"),
        pytest.param(["--train-frac", "1.5"], "train_frac", id="fraction-above-one"),
        pytest.param(["--train-frac", "nan"], "train_frac", id="fraction-nan"),
        pytest.param(["--model", "lstm"], "model", id="unknown-model"),
        pytest.param(["--group", "X9"], "X9", id="unknown-group"),
        pytest.param(["--group", "bogus"], "bogus", id="bogus-group"),
        pytest.param(["--seeds", "x"], "seeds", id="bad-seeds"),
        pytest.param(["--seeds", "0-100000"], "1024", id="too-many-seeds"),
        pytest.param(["--seeds", "0-" + "9" * 30], "1024", id="huge-seed-range"),
        pytest.param(["--recipe", "turbo"], "recipe", id="unknown-recipe"),
        pytest.param(["--epochs", "9" * 20], "epochs", id="huge-epochs"),
        pytest.param(["--epochs", "0"], "epochs", id="zero-epochs"),
        pytest.param(["--threads", "100000"], str(MAX_THREADS), id="too-many-threads"),
        pytest.param(["--threads", "0"], "--threads", id="zero-threads"),
        pytest.param(["--resume", "2026"], "no run", id="resume-unknown"),
    ],
)
def test_bad_input_exit_2_and_nothing_created(run_cli, tmp_path, flags, fragment):
    store = tmp_path / "store"
    args = ["train", "--store", str(store), *flags]
    if "--epochs" not in flags and "--resume" not in flags:
        args += ["--epochs", "3"]
    code, out, err = run_cli(*args)
    assert code == 2 and out == ""
    assert err.startswith("error:") and fragment in err and err.count("\n") == 1
    assert not store.exists()  # not even an empty index


def test_config_that_is_a_directory(run_cli, tmp_path):
    code, _, err = run_cli("train", "--config", str(tmp_path), "--store", str(tmp_path / "s"))
    assert code == 2 and "is a directory" in err and err.count("\n") == 1
    assert not (tmp_path / "s").exists()


def test_bad_model_args_in_toml(run_cli, tmp_path):
    code, _, err = _train(run_cli, tmp_path, text=TINY + "d_hidden = 3\n")
    assert code == 2 and "d_hidden" in err
    assert not (tmp_path / "store").exists()


def _interrupted_run(run_cli, tmp_path) -> tuple[RunStore, str]:
    """A completed tiny run turned into an 'interrupted' one by dropping its last checkpoints."""
    code, out, err = _train(run_cli, tmp_path, "--json")
    assert code == 0, err
    store = RunStore(tmp_path / "store")
    run_id = json.loads(out)["run_id"]
    paths = store.paths(run_id)
    for epoch in (20, 30):
        (paths.checkpoints / f"epoch_{epoch:08d}.safetensors").unlink()
    paths.final.unlink()
    store.set_status(run_id, "interrupted")
    return store, run_id


def test_resume_finishes_with_same_weights(run_cli, tmp_path):
    store, run_id = _interrupted_run(run_cli, tmp_path)
    ref = _train(run_cli, tmp_path / "ref", "--json")
    ref_id = json.loads(ref[1])["run_id"]
    ref_final = RunStore(tmp_path / "ref" / "store").paths(ref_id).final.read_bytes()
    code, out, err = run_cli("train", "--resume", run_id, "--store", str(store.root), "--json")
    assert code == 0, err
    assert json.loads(out)["resumed_from"] == 10
    assert store.paths(run_id).final.read_bytes() == ref_final


@pytest.mark.parametrize("damage", ["truncated", "foreign", "other-task"])
def test_resume_refuses_bad_checkpoint(run_cli, tmp_path, damage):
    store, run_id = _interrupted_run(run_cli, tmp_path)
    _, path = latest_checkpoint(store.paths(run_id).checkpoints)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "foreign":
        from safetensors.torch import save_file

        save_file({"weight": torch.zeros(3)}, str(path))
    else:
        other = TINY.replace('group = "C5"', 'group = "C7"')
        code, out, _ = _train(run_cli, tmp_path / "other", "--json", text=other)
        other_store = RunStore(tmp_path / "other" / "store")
        src = other_store.paths(json.loads(out)["run_id"]).checkpoints / path.name
        shutil.copyfile(src, path)
    before = {p.name: p.read_bytes() for p in store.paths(run_id).root.rglob("*") if p.is_file()}
    code, _, err = run_cli("train", "--resume", run_id, "--store", str(store.root))
    assert code == 2 and err.startswith("error:") and err.count("\n") == 1
    after = {p.name: p.read_bytes() for p in store.paths(run_id).root.rglob("*") if p.is_file()}
    assert after == before  # nothing overwritten


def test_resume_rejects_config_flags(run_cli, tmp_path):
    code, _, err = run_cli("train", "--resume", "x", "--lr", "0.1", "--store", str(tmp_path))
    assert code == 2 and "--lr" in err


def test_runs_rm_and_unknown(run_cli, tmp_path):
    code, out, _ = _train(run_cli, tmp_path, "--json")
    run_id = json.loads(out)["run_id"]
    store = str(tmp_path / "store")
    code, out, _ = run_cli("runs", "rm", run_id, "--yes", "--store", store, "--json")
    assert code == 0 and json.loads(out) == {"removed": run_id}
    code, _, err = run_cli("runs", "show", run_id, "--store", store)
    assert code == 2 and "no run" in err


def test_help_texts(run_cli):
    code, out, _ = run_cli("train", "--help")
    assert code == 0 and "--resume" in out and "--recipe" in out


def test_load_run_model_gives_final_and_checkpoint_weights(run_cli, tmp_path):
    from algolens.train import checkpoint_epochs_of, load_run_model

    code, out, _ = _train(run_cli, tmp_path, "--json")
    run_id = json.loads(out)["run_id"]
    store = tmp_path / "store"
    cfg, final = load_run_model(store, run_id)
    assert cfg.seeds == [0, 1] and final.cfg.n_inst == 2
    assert checkpoint_epochs_of(RunStore(store), run_id) == [0, 10, 20, 30]
    _, at30 = load_run_model(store, run_id, epoch=30)
    _, at0 = load_run_model(store, run_id, epoch=0)
    assert torch.equal(final.W_U, at30.W_U) and not torch.equal(final.W_U, at0.W_U)
    tokens = torch.tensor([[0, 1], [2, 3]])
    assert final.instance(1)(tokens).shape == (2, 5)


def test_sigterm_marks_interrupted_then_resume_completes(run_cli, tmp_path, monkeypatch):
    import os
    import signal

    from algolens.train.trainer import Trainer

    real_epoch = Trainer.train_epoch

    def epoch_then_term(self):
        out = real_epoch(self)
        if self.epoch == 15:
            os.kill(os.getpid(), signal.SIGTERM)
        return out

    monkeypatch.setattr(Trainer, "train_epoch", epoch_then_term)
    code, _, err = _train(run_cli, tmp_path)
    store = RunStore(tmp_path / "store")
    (record,) = store.list()
    assert code == 130 and err.strip().splitlines()[-1] == (
        f"interrupted: run {record.id} continues with "
        f"`algolens train --resume {record.id} --store {store.root}`"
    )
    assert record.status == "interrupted"
    monkeypatch.setattr(Trainer, "train_epoch", real_epoch)
    code, out, err = run_cli("train", "--resume", record.id, "--store", str(store.root), "--json")
    assert code == 0, err
    assert json.loads(out)["resumed_from"] == 10 and store.get(record.id).status == "completed"
    code, ref, _ = _train(run_cli, tmp_path / "ref", "--json")
    ref_store = RunStore(tmp_path / "ref" / "store")
    ref_final = ref_store.paths(json.loads(ref)["run_id"]).final.read_bytes()
    assert store.paths(record.id).final.read_bytes() == ref_final


def test_resume_of_completed_run_is_refused(run_cli, tmp_path):
    code, out, _ = _train(run_cli, tmp_path, "--json")
    run_id = json.loads(out)["run_id"]
    code, _, err = run_cli("train", "--resume", run_id, "--store", str(tmp_path / "store"))
    assert code == 2 and "already completed" in err


def test_interrupted_message_names_the_store_only_when_not_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("ALGOLENS_STORE", str(tmp_path / "default"))
    run = "20261122-042712-3fa9c1"
    assert interrupted_message(run, RunStore()).endswith(f"--resume {run}`")
    assert interrupted_message(run, RunStore(tmp_path / "default")).endswith(f"--resume {run}`")
    odd = tmp_path / "my store"
    assert interrupted_message(run, RunStore(odd)).endswith(f"--resume {run} --store '{odd}'`")
    assert "nothing was saved" in interrupted_message(None, RunStore(odd))


def _flags(**given):
    """``train``'s flag values with ``given`` set (``max_size=4`` is ``--max-size 4``)."""
    from algolens.cli.train import _flag_values

    names = ("config", "group", "task", "nodes", "function", "max_size", "sampling",
             "oversample", "n_train", "model", "seeds", "epochs", "recipe", "train_frac", "lr",
             "weight_decay", "batch_size", "eval_every")  # fmt: skip
    return _flag_values({n: given.get(n) for n in names})


def test_config_from_flags_is_the_recipe_with_the_flags_on_top(tmp_path):
    from algolens.cli.train_flags import config_from_flags
    from algolens.train.config import make_config

    got = config_from_flags(_flags(group="S4", seeds="0-2", epochs=7, lr=0.01, train_frac=0.5))
    want = make_config("fast", group="S4", seeds=[0, 1, 2], epochs=7, lr=0.01, train_frac=0.5)
    assert got.fingerprint() == want.fingerprint()
    rec = config_from_flags(_flags(task="recursion", function="successor", max_size=5))
    assert rec.recipe == "recursion" and rec.function == "successor"
    assert rec.recursion.max_size == 5
    with pytest.raises(ConfigError, match="--function only applies to task 'recursion'"):
        config_from_flags(_flags(group="S4", function="successor"))
    path = tmp_path / "r.toml"
    path.write_text('task = "recursion"\n[recursion]\nfunction = "successor"\n')
    with pytest.raises(ConfigError, match=r"cannot be combined with --config; set them in the "
                       r"file's \[recursion\] table"):  # fmt: skip
        config_from_flags(_flags(config=path, max_size=4))
