"""A task added from outside the package: list reversal, registered with ``register_task``.

Nothing in ``src/`` knows this task. Its :class:`TaskSpec` (below) declares a recipe, its stored
dataset (``reverse.json``, pinned by ``dataset_sha256``), its training data for the one
:class:`~algolens.train.trainer.Trainer` (:func:`reverse_data`: rows, loss mask, splits and its
summary metrics), a description, ``predict`` and a report section (this module's
:func:`section`) and its settings, the ``args`` table of the config (:class:`ReverseArgs`).
The tests train it, predict and report it through the library calls
and through the ``algolens`` CLI in-process; docs/architecture.md ("Add a task") walks through it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import torch
from pydantic import BaseModel, ConfigDict, Field

from algolens.errors import CheckpointError, ConfigError, SpecError
from algolens.report.html import HtmlReport
from algolens.store import RunStore
from algolens.tasks.registry import TaskSpec, get_task, register_task, unregister_task
from algolens.tasks.sequence import greedy_decode, pack
from algolens.train.data import TrainingData
from algolens.train.trainer import Trainer

VOCAB = ["<pad>", "<sep>", "<eos>", "A", "B", "C", "D"]
PAD, SEP, EOS = 0, 1, 2
DATA_FILE = "reverse.json"


class ReverseArgs(BaseModel):
    """The task's settings, stored as the config's ``args`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    length: int = Field(3, ge=2, le=5, description="letters per word")


def make_dataset(length: int) -> dict[str, list[list[str]]]:
    """Every word of ``length`` letters over A..D; every fourth one held out."""
    words = [list(w) for w in itertools.product("ABCD", repeat=length)]
    return {
        "train": [w for i, w in enumerate(words) if i % 4],
        "test": [w for i, w in enumerate(words) if not i % 4],
    }


def data_sha256(ds: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(ds, sort_keys=True).encode()).hexdigest()


class ReverseTask:
    """Packed ``word <sep> reversed <eos>`` rows: what the sequence trainer and model need."""

    def __init__(self, dataset: dict[str, list[list[str]]]) -> None:
        self.dataset = dataset
        self.n_vocab_in = self.n_vocab = len(VOCAB)
        width = 2 * len(dataset["train"][0]) + 2
        self.splits = {
            name: pack(
                [ids(w) for w in words],
                [ids(w[::-1]) for w in words],
                sep=SEP,
                eos=EOS,
                pad=PAD,
                width=width,
            )  # fmt: skip
            for name, words in dataset.items()
        }
        self.seq_len = width - 1


def ids(word: list[str]) -> list[int]:
    return [VOCAB.index(t) for t in word]


def reverse_data(
    config: Any, dataset: dict[str, list[list[str]]], mask: Any = None
) -> TrainingData:
    """The task's training data: packed rows ``[N, T-1]`` (train, then test), the next tokens,
    the loss mask (default: the reversed word and ``<eos>``; ``mask`` ``[N, T-1]`` replaces
    it), the same rows for every seed and the summary metrics (:func:`reverse_metrics`)."""
    task = ReverseTask(dataset)
    train, test = task.splits["train"], task.splits["test"]
    tokens = torch.cat([train.tokens, test.tokens])  # [N, T]
    k, n_tr, n_te = config.n_inst, len(train), len(test)
    return TrainingData(
        task=task,
        inputs=tokens[:, :-1],
        targets=tokens[:, 1:],
        train_idx=torch.arange(n_tr).expand(k, n_tr),
        test_idx=(n_tr + torch.arange(n_te)).expand(k, n_te),
        row_elements=task.seq_len * task.n_vocab,
        mask=torch.cat([train.mask, test.mask]) if mask is None else mask,
        split_metrics=reverse_metrics,
    )


@torch.no_grad()
def reverse_metrics(trainer: Trainer) -> dict[str, dict[str, Any]]:
    """Exact match of every seed on the held-out words, teacher-forced and greedy."""
    data = trainer.task.splits["test"]
    tf, gr = trainer.exact_match(data, 512)
    n = len(data)
    return {"test": {"n": n, "tf_acc": tf.double().mean(1).tolist(),
                     "greedy_acc": gr.double().mean(1).tolist()}}  # fmt: skip


def load_data(config: Any, root: Path) -> dict[str, list[list[str]]]:
    path = root / DATA_FILE
    try:
        ds = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"run {root.name}: {DATA_FILE} unreadable ({exc})") from None
    if data_sha256(ds) != config.dataset_sha256:
        raise CheckpointError(f"run {root.name}: {DATA_FILE} changed; restore it")
    return ds


def start(config: Any, group: Any) -> tuple[Trainer, Any]:
    from algolens.train.config import validate_config

    ds = make_dataset(config.args["length"])
    config = validate_config({**config.to_dict(), "dataset_sha256": data_sha256(ds)})
    return Trainer(config, reverse_data(config, ds)), lambda folder: (
        folder / DATA_FILE
    ).write_text(json.dumps(ds, sort_keys=True))


def predict(store: RunStore, run: str, text: str, instance: int, epoch: int | None) -> dict:
    from algolens.train.load import load_run_model

    config, model = load_run_model(store, run, epoch)
    n = config.args["length"]
    word = text.split()
    if len(word) != n or any(t not in VOCAB[3:] for t in word):
        raise SpecError(f"write {n} letters of A B C D separated by spaces")
    row = pack([ids(word)], [[]], sep=SEP, eos=EOS, pad=PAD, width=2 * n + 2)
    written = greedy_decode(model, row, config.n_inst, steps=n + 1)
    got = [VOCAB[int(t)] for t in written[instance, 0, :n]]
    return {"input": " ".join(word), "prediction": " ".join(got),
            "expected": " ".join(word[::-1]), "correct": got == word[::-1]}  # fmt: skip


def section(report: HtmlReport, store: RunStore, run_id: str) -> bool:
    """The toy task's report section: its test accuracy, from the run summary."""
    test = ((store.get(run_id).summary or {}).get("splits") or {}).get("test")
    if not test:
        return False
    report.heading("List reversal")
    report.paragraph(f"Greedy exact match on {test['n']} held-out words: {test['greedy_acc']}.")
    return True


RECIPE = {"lr": 1e-2, "weight_decay": 0.01, "beta2": 0.98, "loss_dtype": "float32",
          "epochs": 4, "eval_every": 2, "checkpoint_every": 2, "log_checkpoints": 0,
          "early_stop": False}  # fmt: skip

SPEC = TaskSpec(
    name="reverse",
    traits=frozenset({"sequence"}),
    fields=("args", "dataset_sha256"),
    section="args",
    args_model=ReverseArgs,
    recipes={"reverse-tiny": RECIPE},
    default_recipe="reverse-tiny",
    defaults=lambda data: {
        "model": "transformer",
        "model_args": {"n_heads": 2, "d_model": 16, "d_head": 8, "d_mlp": 32},
        **data,
    },  # fmt: skip
    start=start,
    resume=lambda config, root: Trainer(config, reverse_data(config, load_data(config, root))),
    load_data=load_data,
    load_task=lambda store, run_id, config: ReverseTask(
        load_data(config, store.paths(run_id).root)
    ),
    summary=lambda config, trainer: {"splits": trainer.split_metrics()},
    describe=lambda config: f"reverse {(config.get('args') or {}).get('length', '?')} letters",
    predict=predict,
    report_section=__name__,
)


@pytest.fixture
def reverse_task():
    register_task(SPEC)
    yield SPEC
    unregister_task(SPEC.name)


def test_a_registered_task_trains_predicts_and_reports(reverse_task, tmp_path):
    from algolens.report.run import run_report
    from algolens.train.config import make_config
    from algolens.train.predict import predict as run_predict
    from algolens.train.run import resume_run, start_run

    store = RunStore(tmp_path)
    config = make_config(None, task="reverse", seeds=[0, 1], epochs=2)
    assert config.recipe is None and config.model == "transformer" and config.args == {"length": 3}
    assert make_config(None, task="reverse", args={"length": 2}).fingerprint() != (
        config.fingerprint()
    )
    with pytest.raises(ConfigError, match="args.length: Input should be less than or equal to 5"):
        make_config(None, task="reverse", args={"length": 9})
    with pytest.raises(ConfigError, match="args only applies to task 'reverse', not 'composition'"):
        make_config(None, task="composition", args={"length": 2})
    summary = start_run(make_config("reverse-tiny", task="reverse", seeds=[0, 1]), store)
    run = summary["run_id"]
    assert summary["task"] == "reverse" and summary["epochs"] == 4
    assert summary["splits"]["test"]["n"] == 16 and len(summary["splits"]["test"]["tf_acc"]) == 2
    record = store.get(run)
    assert (store.paths(run).root / DATA_FILE).is_file()
    assert record.config["dataset_sha256"] == data_sha256(make_dataset(3))
    assert record.config["args"] == {"length": 3}

    answer = run_predict(store, run, "A B C", 1)
    assert answer["expected"] == "C B A" and answer["correct"] == (answer["prediction"] == "C B A")
    assert answer["final"] is True

    path, _ = run_report(store, run)
    html = path.read_text()
    assert "List reversal" in html and "reverse 3 letters transformer" in html

    # an interrupted run resumes from its checkpoint on the stored dataset, to the same end
    other = RunStore(tmp_path / "other")

    def stop(epoch: int, result: Any) -> None:
        if epoch == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        start_run(make_config("reverse-tiny", task="reverse", seeds=[0, 1]), other, progress=stop)
    stopped = other.list()[0].id
    assert resume_run(other, stopped)["splits"] == summary["splits"]

    (store.paths(run).root / DATA_FILE).write_text("{}")
    with pytest.raises(CheckpointError, match="reverse.json changed"):
        run_predict(store, run, "A B C", 0)


def test_the_cli_trains_predicts_and_reports_a_registered_task(reverse_task, run_cli, tmp_path):
    code, out, err = run_cli("train", "--task", "reverse", "--seeds", "0", "--store",
                             str(tmp_path), "--json")  # fmt: skip
    assert code == 0, err
    run = json.loads(out)["run_id"]
    assert json.loads(out)["splits"]["test"]["n"] == 16
    code, out, err = run_cli("predict", run, "D A B", "--store", str(tmp_path), "--json")
    assert code == 0, err
    assert json.loads(out)["expected"] == "B A D"
    code, out, err = run_cli("runs", "list", "--store", str(tmp_path))
    assert code == 0 and "reverse 3 letters" in out
    code, out, err = run_cli("report", run, "--store", str(tmp_path))
    assert code == 0, err
    assert "List reversal" in (tmp_path / "runs" / run / "report.html").read_text()
    toml = tmp_path / "reverse.toml"
    toml.write_text('task = "reverse"\nrecipe = "reverse-tiny"\nepochs = 2\n[args]\nlength = 2\n')
    code, out, err = run_cli("train", "--config", str(toml), "--store", str(tmp_path), "--json")
    assert code == 0, err
    assert json.loads(out)["splits"]["test"]["n"] == 4  # 16 words of 2 letters, every 4th held out
    code, out, err = run_cli("train", "--task", "reverse", "--group", "S5", "--store",
                             str(tmp_path))  # fmt: skip
    assert code == 2 and "--group only applies to task 'composition', not 'reverse'" in err


def test_registering_checks_the_spec_and_unknown_tasks_name_the_known_ones(reverse_task):
    assert get_task("reverse") is SPEC
    with pytest.raises(ConfigError, match="already registered"):
        register_task(SPEC)
    with pytest.raises(ConfigError, match="recipe 'fast' differs"):
        register_task(dataclasses.replace(SPEC, name="rev2", recipes={"fast": RECIPE},
                                          default_recipe="fast"))  # fmt: skip
    with pytest.raises(ConfigError, match="unknown task 'nope'; known tasks: .*reverse"):
        get_task("nope")
    with pytest.raises(ConfigError, match="built in"):
        unregister_task("recursion")


def _masked_ce(trainer: Trainer, mask: torch.Tensor, k: int) -> torch.Tensor:
    """Instance ``k``'s mean cross-entropy over the ``mask`` positions of its train rows, by
    hand from its standalone one-instance model."""
    rows = trainer.train_idx[k]
    logits = trainer.model.instance(k)(trainer.inputs[rows])  # [n_train, T-1, d_vocab]
    m = mask[rows]
    return torch.nn.functional.cross_entropy(logits[m], trainer.targets[rows][m])


def test_the_one_trainer_trains_on_the_tasks_own_data_and_mask(reverse_task):
    from algolens.train.config import make_config

    config = make_config("reverse-tiny", task="reverse", seeds=[0, 1], loss_dtype="float64",
                         model_args={"dtype": "float64"})  # fmt: skip
    ds = make_dataset(3)
    trainer = Trainer(config, reverse_data(config, ds))
    assert trainer.task.seq_len == 7 and tuple(trainer.mask.shape) == (64, 7)
    answer_mask = trainer.mask.clone()  # 'A B C <sep>' predicts 'C B A <eos>': positions 3..6
    assert answer_mask[0].nonzero().flatten().tolist() == [3, 4, 5, 6]
    losses = trainer.instance_losses(trainer.train_idx)
    for k in range(2):
        torch.testing.assert_close(losses[k], _masked_ce(trainer, answer_mask, k))
    # another mask (only the first answer letter) is what the trainer then scores
    first = torch.zeros_like(answer_mask)
    first[:, 3] = True
    only_first = Trainer(config, reverse_data(config, ds, mask=first))
    firsts = only_first.instance_losses(only_first.train_idx)
    for k in range(2):
        torch.testing.assert_close(firsts[k], _masked_ce(only_first, first, k))
    assert not torch.allclose(firsts, losses)
    # training and teacher-forced exact match follow the mask too: on the first letter alone
    # every seed is right on every word after 10 epochs, on whole words far from it
    fast = make_config("reverse-tiny", task="reverse", seeds=[0, 1], lr=3e-2)
    whole, one = Trainer(fast, reverse_data(fast, ds)), Trainer(fast, reverse_data(fast, ds, first))
    for _ in range(10):
        whole.train_epoch(), one.train_epoch()
    assert (
        float(one.evaluate().train_acc.min()) == 1.0 > 0.5 > float(whole.evaluate().train_acc.max())
    )
    metrics = one.split_metrics()  # the task's own hook: whole reversed words
    assert metrics["test"]["n"] == 16 and max(metrics["test"]["tf_acc"]) < 0.5


def test_exact_stop_needs_a_validation_split_from_the_task(reverse_task):
    from algolens.train.config import make_config

    config = make_config("reverse-tiny", task="reverse", seeds=[0], exact_stop={})
    with pytest.raises(ConfigError, match="task 'reverse' has no validation split for exact_stop"):
        Trainer(config, reverse_data(config, make_dataset(3)))
