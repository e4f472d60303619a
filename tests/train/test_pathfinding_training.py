"""Path-finding runs through the engine: config, recipes, the loss mask, the trainer,
stored datasets, resume and the CLI."""

from __future__ import annotations

import json

import pytest
import torch

from algolens.errors import CheckpointError, ConfigError
from algolens.store import RunStore
from algolens.tasks.pathfinding.dataset import DATASET_FILE
from algolens.tasks.pathfinding.task import pack_rows
from algolens.tasks.pathfinding.tokens import Vocab, encode_path, encode_prompt
from algolens.tasks.pathfinding.tree import parse_prompt
from algolens.train.config import make_config

MODEL = {"n_layers": 2, "d_model": 16, "d_head": 16, "d_mlp": 32}


def tiny(**overrides):
    base = dict(
        task="pathfinding", pathfinding={"nodes": 4, "n_examples": 120, "test_frac": 0.25},
        seeds=[0, 1], epochs=4, lr=3e-3, weight_decay=0.01, beta2=0.99, batch_size=32,
        model_args=MODEL, eval_every=1, checkpoint_every=2, log_checkpoints=0, early_stop=False,
    )  # fmt: skip
    return make_config(None, **{**base, **overrides})


def test_paper_recipe_is_the_papers_configuration():
    cfg = make_config("brinkmann")
    m = cfg.model_args
    assert (m["n_layers"], m["n_heads"], m["d_model"], m["d_head"], m["d_mlp"]) == (
        6, 1, 128, 128, 512,
    )  # fmt: skip
    assert m["act"] == "gelu" and m["layernorm"] is True
    assert (cfg.lr, cfg.beta1, cfg.beta2, cfg.weight_decay, cfg.batch_size) == (
        3e-4, 0.9, 0.99, 0.01, 64,
    )  # fmt: skip
    assert cfg.schedule == "cosine" and cfg.lr * cfg.min_lr_frac == pytest.approx(2e-6)
    assert cfg.pathfinding.nodes == 16 and cfg.pathfinding.n_examples == 150_000
    cpu = make_config("brinkmann-cpu")
    assert cpu.model_args["n_layers"] == 6 and cpu.model_args["n_heads"] == 1


def test_config_defaults_and_errors():
    cfg = make_config(None, task="pathfinding")
    assert cfg.model == "transformer" and cfg.pathfinding.nodes == 16
    assert cfg.model_args["n_layers"] == 6  # the paper's architecture by default
    assert tiny().fingerprint() != tiny(pathfinding={"nodes": 5, "n_examples": 120}).fingerprint()
    for overrides, fragment in [
        ({"model": "mlp"}, "trains a transformer"),
        ({"pathfinding": {"nodes": 1}}, "nodes"),
        ({"function": "successor"}, "only applies to task 'recursion', not 'pathfinding'"),
    ]:
        with pytest.raises(ConfigError, match=fragment):
            tiny(**overrides)
    with pytest.raises(ConfigError, match="only applies to task 'pathfinding'"):
        make_config("fast", pathfinding={"nodes": 4})


def test_loss_mask_covers_the_root_and_the_path_but_its_last_token():
    v = Vocab(4)
    tree = parse_prompt("2>0,2>1,1>3|3:2", 4)
    row = encode_prompt(tree, v) + encode_path(tree.path(), v)
    tokens = torch.tensor([row + [0] * (v.width - len(row))])
    packed = pack_rows(tokens, v)
    # inputs are tokens[:-1]; position 11 (the root '2') predicts '>1', 12 ('>1') predicts '>3'
    assert packed.mask[0].nonzero().flatten().tolist() == [11, 12]
    assert v.text(packed.targets[0, 11:13].tolist()) == ">1 >3"
    assert packed.answer_len.tolist() == [2]


def test_tiny_run_stores_its_dataset_resumes_bitwise_and_reports_by_length(tmp_path):
    from algolens.train.load import load_run_model, load_run_pathfinding
    from algolens.train.run import resume_run, start_run

    store = RunStore(tmp_path / "store")
    cfg = tiny()
    straight = start_run(cfg, store)
    run = straight["run_id"]
    assert (store.paths(run).root / DATASET_FILE).is_file()
    test = straight["splits"]["test"]
    assert test["n"] == 30 and len(test["greedy_acc"]) == 2
    # exact-path: greedy decoding is right exactly when every teacher-forced token is
    assert test["greedy_acc"] == test["tf_acc"]
    by_len = test["greedy_by_length"]
    assert sum(v["n"] for v in by_len.values()) == 30 and set(by_len) <= {"1", "2", "3"}

    started: list[str] = []

    class Stop(Exception):
        pass

    def stop(epoch, _):
        if epoch == 3:
            raise Stop

    with pytest.raises(Stop):
        start_run(cfg, store, progress=stop, on_start=started.append)
    resumed = resume_run(store, started[0])
    _, a = load_run_model(store, run)
    _, b = load_run_model(store, started[0])
    for (n, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(p, q), n  # same shapes, same process: resuming changes no bit
    assert resumed["splits"] == straight["splits"] and resumed["task"] == "pathfinding"
    from algolens.train.load import load_run_group

    with pytest.raises(CheckpointError, match="is a pathfinding run .trees.: it has a stored"):
        load_run_group(store, run)
    ds = load_run_pathfinding(store, run)
    for r in ds.tokens:  # every stored row is a valid tree followed by its own path
        v = ds.vocab
        tree = parse_prompt(_prompt_text(r, v), 4)
        assert r[v.prompt_len : v.prompt_len + len(tree.path()) - 1].tolist() == encode_path(
            tree.path(), v
        )


def _prompt_text(row, v):
    return v.text(row[: v.prompt_len].tolist()).replace(" ", "")


def test_training_lowers_the_loss(tmp_path):
    from algolens.train.run import start_run

    s = start_run(tiny(epochs=12, seeds=[0]), RunStore(tmp_path / "s"))
    rows = [json.loads(x) for x in open(RunStore(tmp_path / "s").paths(s["run_id"]).metrics)]
    assert rows[-1]["train_loss"][0] < 0.8 * rows[0]["train_loss"][0]


def test_changed_dataset_file_is_refused(tmp_path):
    from algolens.train.load import load_run_model
    from algolens.train.run import start_run

    store = RunStore(tmp_path / "store")
    run = start_run(tiny(epochs=1), store)["run_id"]
    from algolens.tasks.pathfinding.dataset import load_dataset, save_dataset

    path = store.paths(run).root / DATASET_FILE
    ds = load_dataset(path)
    ds.tokens[0, 0], ds.tokens[0, 3] = ds.tokens[0, 3].clone(), ds.tokens[0, 0].clone()
    save_dataset(ds, path)
    with pytest.raises(CheckpointError, match="differs from the dataset the run was trained on"):
        load_run_model(store, run)


def test_cli_trains_a_pathfinding_run(run_cli, tmp_path):
    toml = tmp_path / "pf.toml"
    toml.write_text(
        'task = "pathfinding"\nseeds = [0]\nepochs = 1\nbatch_size = 32\n'
        "[pathfinding]\nnodes = 4\nn_examples = 60\n[model_args]\nn_layers = 1\nd_model = 16\n"
        "d_head = 16\nd_mlp = 16\n"
    )
    code, out, err = run_cli(
        "train", "--config", str(toml), "--store", str(tmp_path / "s"), "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["task"] == "pathfinding" and summary["nodes"] == 4


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--task", "pathfinding", "--nodes", "1"], "nodes"),
        (["--task", "pathfinding", "--nodes", "3"], "distinct trees"),
        (["--task", "pathfinding", "--recipe", "fast"], "not a pathfinding recipe"),
    ],
    ids=["too-few-nodes", "too-few-trees", "wrong-recipe"],
)
def test_cli_bad_pathfinding_runs_are_one_line_and_create_nothing(
    run_cli, tmp_path, args, fragment
):
    store = tmp_path / "s"
    code, out, err = run_cli("train", *args, "--store", str(store))
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err
    assert not (store / "runs").exists() or not any((store / "runs").iterdir())
