"""The clean-up stop rule (``TrainConfig.cleanup_stop``): stops for the stated reason, at the first
evaluation where every seed has one, resumes to the same bits, and leaves other configs alone."""

from __future__ import annotations

import json

import pytest
import torch

from algolens.errors import ConfigError
from algolens.store import RunStore
from algolens.train.config import make_config, validate_config
from algolens.train.run import resume_run, start_run
from algolens.train.trainer import Trainer
from tests.train.conftest import composition_trainer
from tests.train.test_trainer import GROKKING_S4
from tests.train.tiny_runs import Stop

# S4 groks (99.9 % test accuracy for all three seeds) by about epoch 800 with the fast recipe
# and weight decay 1, then its losses keep falling: train 4e-3 -> 9e-4 by epoch 1500.
S4 = {**GROKKING_S4, "weight_decay": 1.0, "seeds": [0, 1, 2], "epochs": 2000}
CLEANED = {"test_loss": 1e-2, "train_loss": 3e-3}  # reached after grokking, before epoch 1500
PLATEAU = {"test_loss": 1e-9, "train_loss": 1e-9, "window": 6, "rel_change": 0.15}


def _sum_sq(trainer: Trainer, k: int) -> float:
    """Σθ² of instance k, from its standalone model (not the trainer's code)."""
    params = trainer.model.instance(k).parameters()
    return sum(float(p.detach().double().pow(2).sum()) for p in params)


def _first_stop(cfg, should_stop) -> tuple[Trainer, int]:
    """Train ``cfg`` evaluating every ``eval_every`` epochs; return the trainer at the first
    evaluation where ``should_stop(history)`` holds, checking ``done()`` was False before."""
    trainer, history = composition_trainer(cfg, workers=1), []
    while trainer.epoch < cfg.epochs:
        for _ in range(cfg.eval_every):
            trainer.train_epoch()
        r = trainer.evaluate()
        history.append([(float(r.train_loss[k]), float(r.test_loss[k]), float(r.test_acc[k]),
                         _sum_sq(trainer, k)) for k in range(cfg.n_inst)])  # fmt: skip
        expected = should_stop(history)
        assert trainer.done() == expected, trainer.epoch
        if expected:
            return trainer, trainer.epoch
    raise AssertionError("the rule never stopped the run")


def test_cleaned_up_stop_comes_after_grokking_at_the_first_cleaned_evaluation():
    cfg = make_config("fast", **S4, cleanup_stop=CLEANED)

    def cleaned(history):
        return all(tr <= 3e-3 and te <= 1e-2 for tr, te, _, _ in history[-1])

    trainer, epoch = _first_stop(cfg, cleaned)
    assert trainer.stop_reasons() == ["cleaned"] * 3
    assert (trainer.grok_epoch > 0).all() and int(trainer.grok_epoch.max()) < epoch


def test_plateau_stop_needs_grokking_and_both_train_loss_and_sum_of_squares_flat():
    cfg = make_config("fast", **S4, cleanup_stop=PLATEAU)

    def plateau(history):  # the window: the last 6 evaluations
        if len(history) < 6:
            return False
        first, last = history[-6], history[-1]
        return all(b[2] >= 0.999 and abs(b[0] - a[0]) <= 0.15 * a[0]
                   and abs(b[3] - a[3]) <= 0.15 * a[3] for a, b in zip(first, last))  # fmt: skip

    trainer, epoch = _first_stop(cfg, plateau)
    assert trainer.stop_reasons() == ["plateau"] * 3
    assert int(trainer.grok_epoch.min()) >= 0 and epoch < 1500


def _metrics(store: RunStore, run_id: str) -> list[dict]:
    text = store.paths(run_id).metrics.read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_runs_stop_by_their_rule_and_go_on_without_one(tmp_path):
    """Same seeds: the grokking rule stops first, the clean-up rule later (its losses under the
    thresholds), and with early_stop off the run trains to its cap."""
    store = RunStore(tmp_path)
    grok = start_run(make_config("fast", **S4), store)
    clean = start_run(make_config("fast", **S4, cleanup_stop=CLEANED), store)
    cap = grok["epochs"] + 50  # past the epoch where the grokking rule stopped
    off = start_run(make_config("fast", **{**S4, "epochs": cap}, early_stop=False), store)
    assert grok["stopped_early"] and clean["stopped_early"] and not off["stopped_early"]
    assert grok["epochs"] < clean["epochs"] < S4["epochs"] and off["epochs"] == cap
    last = _metrics(store, clean["run_id"])[-1]
    assert max(last["train_loss"]) <= 3e-3 and max(last["test_loss"]) <= 1e-2
    before = _metrics(store, clean["run_id"])[-2]
    assert max(before["train_loss"]) > 3e-3 or max(before["test_loss"]) > 1e-2


def test_a_stopped_run_resumes_to_the_same_bits_and_the_same_stop(tmp_path):
    cfg = make_config("fast", **S4, cleanup_stop=PLATEAU, checkpoint_every=100)
    ref_store, store = RunStore(tmp_path / "ref"), RunStore(tmp_path / "cut")
    ref = start_run(cfg, ref_store)
    started: list[str] = []

    def cut(epoch, _result):
        if epoch >= ref["epochs"] - 30:
            raise Stop

    with pytest.raises(Stop):
        start_run(cfg, store, progress=cut, on_start=started.append)
    done = resume_run(store, started[0])
    assert done["resumed_from"] < ref["epochs"] - 30 and done["epochs"] == ref["epochs"]
    assert (
        store.paths(started[0]).final.read_bytes()
        == ref_store.paths(ref["run_id"]).final.read_bytes()
    )


def test_the_field_is_absent_by_default_and_pinned_when_set():
    plain = make_config("fast", group="S4")
    assert "cleanup_stop" not in plain.to_dict()
    ruled = make_config("fast", group="S4", cleanup_stop={})
    stored = json.loads(json.dumps(ruled.to_dict()))
    assert stored["cleanup_stop"] == {"test_loss": 1e-3, "train_loss": 1e-4, "window": 50,
                                      "rel_change": 0.01}  # fmt: skip
    assert validate_config(stored).fingerprint() == ruled.fingerprint() != plain.fingerprint()
    with pytest.raises(ConfigError, match="cleanup_stop needs early_stop"):
        make_config("fast", group="S4", cleanup_stop={}, early_stop=False)
    trainer = composition_trainer(make_config("fast", **S4), workers=1)
    assert trainer.stop_reasons() == [None] * 3 and "state.cleanup_epochs" not in (
        trainer.state_tensors()
    )
    assert torch.equal(trainer.grok_epoch, torch.full((3,), -1))
