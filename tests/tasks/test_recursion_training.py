"""Recursion tasks through the engine: config, the trainer on recursion data, stored runs and
the CLI.

Composition runs must not change: their config fingerprint is computed over exactly the fields
that existed before the recursion fields were added (so stored checkpoints stay resumable), and
the trainer's composition path is covered bitwise by tests/train.
"""

from __future__ import annotations

import hashlib
import json
import textwrap

import pytest
import torch

from algolens.errors import CheckpointError, ConfigError
from algolens.store import RunStore
from algolens.tasks.recursion import parse
from algolens.tasks.recursion.functions import successor
from algolens.tasks.recursion.settings import RecursionArgs
from algolens.tasks.recursion.tokens import tokens_of
from algolens.train.config import make_config
from algolens.train.load import load_run_dataset

# TrainConfig's fields before the recursion fields (task, function, recursion, dataset_sha256)
OLD_FIELDS = (
    "task group group_sha256 train_frac model model_args seeds epochs batch_size lr weight_decay "
    "beta1 beta2 eps schedule warmup_epochs min_lr_frac loss_dtype grokfast_alpha grokfast_lamb "
    "grok_threshold early_stop eval_every checkpoint_every log_checkpoints"
).split()
SMALL = {"min_size": 1, "max_size": 5, "n_train": 120, "n_test": 40, "n_ood": 30, "ood_max_size": 7}
MODEL = {"n_layers": 2, "d_model": 32, "n_heads": 2, "d_head": 16, "d_mlp": 64, "dtype": "float64"}


def tiny(function: str = "successor", **overrides):
    base = dict(
        task="recursion", function=function, recursion=SMALL, seeds=[0, 1], epochs=6,
        lr=3e-3, weight_decay=0.01, beta2=0.99, model_args=MODEL, eval_every=2,
        checkpoint_every=2, log_checkpoints=0, early_stop=False,
    )  # fmt: skip
    return make_config(None, **{**base, **overrides})


def builtin_and_user_runs(store, tmp, *, builtin_epochs: int) -> tuple[str, str]:
    """A tiny successor run and a run of a user file that implements successor; afterwards the
    file is replaced by one that raises, so any analysis that re-ran it would fail."""
    from algolens.train.run import start_run

    builtin = start_run(tiny(epochs=builtin_epochs), store)["run_id"]
    user_file = tmp / "succ.py"
    user_file.write_text(USER)
    user = start_run(tiny(function=f"{user_file}:succ", epochs=2), store)["run_id"]
    user_file.write_text("raise RuntimeError('must not run')\n")
    return builtin, user


def test_composition_fingerprint_ignores_the_recursion_fields():
    cfg = make_config("fast", group="S3", seeds=[0, 1], model="transformer")
    d = cfg.to_dict()
    assert d["function"] is None and d["recursion"] is None and d["dataset_sha256"] is None
    old = {k: d[k] for k in OLD_FIELDS if k not in ("group_sha256", "epochs")}
    expected = hashlib.sha256(json.dumps(old, sort_keys=True).encode()).hexdigest()
    assert cfg.fingerprint() == expected


def test_recursion_config_defaults_and_errors():
    cfg = make_config(None, task="recursion", function="mirror")
    assert cfg.model == "transformer" and cfg.recursion == RecursionArgs()
    assert tiny().fingerprint() != tiny(function="predecessor").fingerprint()
    for overrides, fragment in [
        ({"task": "recursion"}, "needs a function"),
        ({"task": "recursion", "function": "successor", "model": "mlp"}, "trains a transformer"),
        ({"function": "successor"}, "function only applies to task 'recursion'"),
        ({"task": "recursion", "function": "f", "recursion": {"max_size": 99}}, "max_size"),
        ({"task": "recursion", "function": "f", "recursion": {"colour": 1}}, "colour"),
    ]:
        with pytest.raises(ConfigError) as info:
            make_config(None, **overrides)
        assert fragment in str(info.value) and "\n" not in str(info.value)


def _dataset(cfg):
    from algolens.tasks.recursion.dataset import build_dataset
    from algolens.tasks.recursion.user import resolve_function

    return build_dataset(
        resolve_function(cfg.function), cfg.recursion.split_spec(), cfg.recursion.data_seed
    )


def _trainer(cfg):
    from algolens.tasks.recursion.training import training_data
    from algolens.train.trainer import Trainer

    return Trainer(cfg, training_data(cfg, _dataset(cfg)))


def test_loss_is_sum_over_instances_of_masked_token_means():

    cfg = tiny()
    trainer = _trainer(cfg)
    rows = trainer.train_idx[:, :9]
    losses = trainer.instance_losses(rows)
    for k in range(2):
        logits = trainer.model.instance(k)(trainer.inputs[rows[k]])  # [batch, T-1, d_vocab]
        terms = [
            torch.nn.functional.cross_entropy(logits[i, p], trainer.targets[rows[k, i], p])
            for i in range(9)
            for p in range(logits.shape[1])
            if trainer.mask[rows[k, i], p]
        ]
        torch.testing.assert_close(losses[k], torch.stack(terms).mean())


def test_the_trainer_learns_successor_and_reports_every_split():
    cfg = tiny(epochs=150, seeds=[0], batch_size=40, model_args={**MODEL, "dtype": "float32"},
               loss_dtype="float32")  # fmt: skip
    trainer = _trainer(cfg)
    before = trainer.evaluate()
    for _ in range(cfg.epochs):
        trainer.train_epoch()
    after = trainer.evaluate()
    assert float(after.train_loss[0]) < 0.1 * float(before.train_loss[0])
    assert float(after.train_acc[0]) > 0.9 > float(before.train_acc[0])
    metrics = trainer.split_metrics()
    assert set(metrics) == {"train", "test", "ood", "rare"}
    n_test = len(trainer.task.dataset.splits["test"].inputs)  # 62 inputs of 1..5 bits, fewer
    assert 0 < metrics["test"]["n"] == n_test <= 40  # than 40 outside train
    assert len(metrics["test"]["greedy_acc"]) == 1
    by_length = metrics["test"]["greedy_by_feature"]["length"]
    assert sum(v["n"] for v in by_length.values()) == n_test
    # greedy exact match never beats teacher forcing: a greedy answer that is right token by
    # token is also right under teacher forcing
    for m in metrics.values():
        assert m["greedy_acc"][0] <= m["tf_acc"][0] + 1e-12


USER = """
from algolens.tasks.recursion import B0, B1, Z

def succ(n):
    match n:
        case Z():
            return B1(Z())
        case B0(m):
            return B1(m)
        case B1(m):
            return B0(succ(m))
"""


class Stop(Exception):
    pass


def test_split_metrics_score_each_distinct_train_input_once():

    cfg = tiny(seeds=[0])
    trainer = _trainer(cfg)
    drawn = [tuple(x) for x in trainer.task.dataset.splits["train"].inputs]
    assert len(set(drawn)) < len(drawn)  # small sizes: the train draws repeat
    metrics = trainer.split_metrics()["train"]
    assert metrics["n"] == metrics["n_distinct"] == len(set(drawn))
    by_length = metrics["greedy_by_feature"]["length"]
    assert sum(v["n"] for v in by_length.values()) == len(set(drawn))


def test_a_large_train_split_is_scored_on_a_fixed_sample_of_distinct_inputs(monkeypatch):
    from algolens.tasks.recursion import training

    trainer = _trainer(tiny(seeds=[0]))
    drawn = [tuple(x) for x in trainer.task.dataset.splits["train"].inputs]
    most = len(set(drawn)) // 3
    monkeypatch.setattr(training, "MAX_TRAIN_SCORED", most)
    decoded: list[torch.Tensor] = []
    exact_match = trainer.exact_match

    def spy(data, batch):  # the packed rows the summary decodes
        decoded.append(data.tokens)
        return exact_match(data, batch)

    monkeypatch.setattr(trainer, "exact_match", spy)
    first = trainer.split_metrics()
    again = trainer.split_metrics()
    assert first["train"]["n"] == most and first["train"]["n_distinct"] == len(set(drawn))
    assert first["test"]["n"] == first["test"]["n_distinct"]  # only train is sampled
    assert first == again  # the same sample every time
    train_rows = {tuple(r) for r in trainer.task.splits["train"].tokens.tolist()}
    sampled = decoded[0].tolist()  # train is scored first
    assert len(sampled) == most == len({tuple(r) for r in sampled})  # distinct inputs
    assert all(tuple(r) in train_rows for r in sampled)
    assert torch.equal(decoded[0], decoded[len(decoded) // 2])  # the second call's train rows
    by_length = first["train"]["greedy_by_feature"]["length"]
    assert sum(v["n"] for v in by_length.values()) == most


def test_run_stores_its_dataset_and_resume_never_runs_the_users_file(tmp_path):
    from algolens.train.load import load_run_dataset, load_run_model
    from algolens.train.run import resume_run, start_run

    path = tmp_path / "succ.py"
    path.write_text(textwrap.dedent(USER))
    store = RunStore(tmp_path / "store")
    cfg = tiny(function=f"{path}:succ")
    straight = start_run(cfg, store)

    started: list[str] = []

    def stop(epoch, _):
        if epoch == 3:
            raise Stop

    with pytest.raises(Stop):
        start_run(cfg, store, progress=stop, on_start=started.append)
    path.write_text("raise RuntimeError('the stored run must not run this file')\n")
    resumed = resume_run(store, started[0])  # running the file again would raise
    ds = load_run_dataset(store, started[0])
    for x, a in zip(ds.splits["train"].inputs, ds.splits["train"].answers):
        assert parse(a, ("bin",))[0] == successor(parse(x, ("bin",))[0])
    _, a = load_run_model(store, straight["run_id"])
    _, b = load_run_model(store, started[0])
    for (n, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(p, q), n  # same shapes, same process: resuming changes no bit
    assert resumed["splits"] == straight["splits"]
    assert resumed["task"] == "recursion" and resumed["group"] is None
    assert tokens_of([3]) == ["Z"]


def test_changed_dataset_file_is_refused(tmp_path):
    from algolens.train.load import load_run_model
    from algolens.train.run import start_run

    store = RunStore(tmp_path / "store")
    run = start_run(tiny(epochs=2), store)["run_id"]
    f = store.paths(run).root / "dataset.json"
    obj = json.loads(f.read_text())
    obj["splits"]["test"]["answers"][0] = "Z"
    f.write_text(json.dumps(obj))
    with pytest.raises(CheckpointError, match="differs from the dataset the run was trained on"):
        load_run_model(store, run)


def test_cli_trains_a_recursion_run(run_cli, tmp_path):
    code, out, err = run_cli(
        "train", "--task", "recursion", "--function", "predecessor", "--max-size", "4",
        "--n-train", "40", "--epochs", "2", "--seeds", "0,1", "--store", str(tmp_path / "s"),
        "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["function"] == "predecessor" and set(summary["splits"]) >= {"train", "test"}
    assert len(summary["splits"]["test"]["greedy_acc"]) == 2
    # 1..4 bits are 30 numbers and 40 training draws leave few: the held-out splits hold each
    # once, the summary counts them, and one warning line says how few there are
    store = RunStore(tmp_path / "s")
    ds = load_run_dataset(store, summary["run_id"])
    for split in ("test", "rare"):
        held = [" ".join(x) for x in ds.splits[split].inputs]
        assert len(held) == len(set(held)) == summary["splits"][split]["n"] < 500
    n_test = summary["splits"]["test"]["n"]
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2 and f"test holds {n_test} of 500" in warnings[0]
    # two epochs do not learn predecessor: the second warning says so (train/learned.py)
    assert "did not learn" in warnings[1] and summary["learned"]["learned"] is False


def test_cli_refuses_a_recursion_run_with_an_empty_rare_split(run_cli, tmp_path):
    """Successor on 1..4 bits with 100 training draws: every rare-tail number (three or more
    trailing B1) is in train, so the rare split would be empty: one error line, nothing made."""
    store = tmp_path / "s"
    code, out, err = run_cli(
        "train", "--task", "recursion", "--function", "successor", "--max-size", "4",
        "--n-train", "100", "--epochs", "1", "--store", str(store),
    )  # fmt: skip
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert "rare split would be empty" in err and "max_size" in err
    assert not (store / "runs").exists() or not any((store / "runs").iterdir())


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--function", "sucessor"], "neither a built-in"),
        (["--function", "{loop}:f"], "ran over 1 s on input"),
        (["--function", "{loop}:g"], "no function 'g'"),
        (["--function", "successor", "--model", "mlp"], "trains a transformer"),
        (["--function", "successor", "--oversample", "2"], "oversample"),
    ],
    ids=["unknown", "loops", "missing-name", "mlp", "oversample"],
)
def test_cli_bad_recursion_runs_are_one_line_and_create_nothing(run_cli, tmp_path, args, fragment):
    loop = tmp_path / "loop.py"
    loop.write_text("def f(n):\n    while True:\n        pass\n")
    args = [a.format(loop=loop) for a in args]
    store = tmp_path / "s"
    code, out, err = run_cli("train", "--task", "recursion", *args, "--store", str(store))
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err
    assert not (store / "runs").exists() or not any((store / "runs").iterdir())


@pytest.mark.parametrize("model", ["mlp", "transformer"])
def test_composition_trainer_setup_is_the_tasks_own_data_and_model(model):
    """The one trainer on composition's TrainingData holds the task's own rows and splits and
    the model builder's initial weights."""
    from algolens.models import build_model
    from algolens.tasks import CompositionTask
    from algolens.tasks.composition.training import training_data
    from algolens.train.trainer import CHUNK_ELEMENTS, Trainer, model_config_dict

    cfg = make_config("fast", group="S3", seeds=[3, 4], model=model, batch_size=5)
    trainer = Trainer(cfg, training_data(cfg))
    task = CompositionTask("S3", cfg.train_frac, fmt=model)
    assert torch.equal(trainer.inputs, task.inputs) and torch.equal(trainer.targets, task.targets)
    for k, seed in enumerate(cfg.seeds):
        tr, te = task.split(seed)
        assert torch.equal(trainer.train_idx[k], tr) and torch.equal(trainer.test_idx[k], te)
    fresh = build_model(model, model_config_dict(cfg, task))
    fresh.init_weights(cfg.seeds)
    for (n, p), (_, q) in zip(trainer.model.state_dict().items(), fresh.state_dict().items()):
        assert torch.equal(p, q), n
    assert trainer.batch_size == 5
    expected_chunk = max(1, CHUNK_ELEMENTS // (5 * task.n_vocab))
    assert trainer.chunks[0][0] == slice(0, min(expected_chunk, 2))
    with pytest.raises(ConfigError, match="built from its dataset"):
        from algolens.tasks.composition.training import build_task

        build_task(tiny())


def test_a_recursion_run_has_no_group(tmp_path):
    from algolens.train.load import load_run_group
    from algolens.train.run import start_run

    store = RunStore(tmp_path / "store")
    run = start_run(tiny(epochs=1), store)["run_id"]
    assert not (store.paths(run).root / "group.json").exists()
    with pytest.raises(
        CheckpointError, match="is a recursion run \\(successor\\): it has a stored"
    ):
        load_run_group(store, run)


def test_training_reads_only_the_train_width():
    """Train rows are shorter than ood rows; the loss on the cut rows equals the loss on the
    full-width rows (the columns cut are padding, unscored and causally invisible)."""

    from algolens.tasks.sequence import masked_cross_entropy

    cfg = tiny()
    trainer = _trainer(cfg)
    assert trainer.train_width < trainer.task.seq_len  # ood rows (6-7 bits) are wider
    rows = trainer.train_idx
    cut = trainer.instance_losses(rows)
    logits = trainer.model(trainer.inputs[rows])  # full width
    full = masked_cross_entropy(logits, trainer.targets[rows], trainer.mask[rows], torch.float64)
    # the two forwards have different shapes, so a BLAS may pick different kernels: compare to
    # float32 rounding (a padding column reaching a scored position moves the loss by far more)
    torch.testing.assert_close(cut, full, rtol=1e-5, atol=1e-6)
    assert not trainer.mask[rows][..., trainer.train_width :].any()
