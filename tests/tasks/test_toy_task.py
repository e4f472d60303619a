"""A task added from outside the package: list reversal, registered with ``register_task``.

Nothing in ``src/`` knows this task. Its :class:`TaskSpec` (below) declares a recipe, its stored
dataset (``reverse.json``, pinned by ``dataset_sha256``), a trainer reusing the sequence trainer
the way recursion does, its summary metrics, a description, ``predict`` and a report section (this
module's :func:`section`) and its settings, the ``args`` table of the config (:class:`ReverseArgs`).
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
from algolens.train.sequence_trainer import SequenceTrainer

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


class ReverseTrainer(SequenceTrainer):
    """The sequence trainer on a :class:`ReverseTask`; its summary is exact match on test."""

    @staticmethod
    def make_task(dataset: Any) -> ReverseTask:
        return ReverseTask(dataset)

    @torch.no_grad()
    def split_metrics(self, batch: int = 512) -> dict[str, dict[str, Any]]:
        data = self.task.splits["test"]
        tf, gr = self.exact_match(data, batch)
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


def start(config: Any, group: Any) -> tuple[ReverseTrainer, Any]:
    from algolens.train.config import validate_config

    ds = make_dataset(config.args["length"])
    config = validate_config({**config.to_dict(), "dataset_sha256": data_sha256(ds)})
    return ReverseTrainer(config, ds), lambda folder: (folder / DATA_FILE).write_text(
        json.dumps(ds, sort_keys=True)
    )


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
    resume=lambda config, root: ReverseTrainer(config, load_data(config, root)),
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
