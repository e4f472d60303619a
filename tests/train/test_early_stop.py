"""Early stopping on greedy exact match of a validation split (train/early_stop.py), the presets
(tasks/*/preset.py) and the "did not learn" verdict (train/learned.py)."""

from __future__ import annotations

import pytest
import torch

from algolens.errors import ConfigError
from algolens.store import RunStore
from algolens.train.config import DEFAULT_RECIPES, make_config, validate_config
from algolens.train.early_stop import ExactStop, ExactStopper, carve_validation
from algolens.train.learned import learned_status, not_learned_line, outcome

SMALL = {"min_size": 1, "max_size": 5, "n_train": 120, "n_test": 40, "n_ood": 30, "ood_max_size": 7}
MODEL = {"n_layers": 1, "d_model": 32, "n_heads": 2, "d_head": 16, "d_mlp": 64, "dtype": "float64"}


def test_validation_is_distinct_held_out_and_fixed_by_the_seed():
    # rows 0..9 distinct inputs; input 0 drawn five times, input 1 twice, the rest once
    base = torch.arange(10)[:, None].expand(10, 3)
    tokens = torch.cat([base, base[[0, 0, 0, 0, 1]]])
    settings = ExactStop(val_frac=0.3)
    train, val = carve_validation(tokens, settings, seed=4)
    assert len(val) == 3 and len({tuple(tokens[i].tolist()) for i in val}) == 3
    val_inputs = {tuple(tokens[i].tolist()) for i in val}
    assert not val_inputs & {tuple(tokens[i].tolist()) for i in train}  # never trained on
    assert sorted(train.tolist() + val.tolist()) == list(range(len(tokens)))
    assert not val_inputs & {(0, 0, 0), (1, 1, 1)}  # repeated draws stay in training
    again = carve_validation(tokens, settings, seed=4)
    assert torch.equal(again[1], val) and torch.equal(again[0], train)
    others = {tuple(carve_validation(tokens, settings, seed=s)[1].tolist()) for s in range(8)}
    assert len(others) > 1


def acc(xs: list[float]) -> torch.Tensor:
    return torch.tensor(xs, dtype=torch.float64)


def test_stopper_stops_on_the_threshold_and_on_patience():
    alive = torch.tensor([True, True])
    st = ExactStopper(ExactStop(threshold=0.9, patience=2), n_inst=2, n_val=100)
    st.update(2, acc([0.5, 0.95]), alive)
    st.update(4, acc([0.85, 0.95]), alive)
    assert not st.done  # one seed still below 0.9
    st.update(6, acc([0.9, 1.0]), alive)
    assert st.done and st.reason == "reached" and st.stop_epoch == 6
    st = ExactStopper(ExactStop(threshold=0.9, patience=2), n_inst=2, n_val=100)
    st.update(2, acc([0.5, 0.4]), alive)
    st.update(4, acc([0.5, 0.4]), alive)
    assert not st.done
    st.update(6, acc([0.4, 0.4]), alive)
    assert st.done and st.reason == "patience" and st.stop_epoch == 6
    # a dead instance neither blocks the threshold nor counts as an improvement
    st = ExactStopper(ExactStop(threshold=0.9, patience=5), n_inst=2, n_val=100)
    st.update(2, acc([0.95, 0.1]), torch.tensor([True, False]))
    assert st.reason == "reached"
    copy = ExactStopper(ExactStop(threshold=0.9, patience=5), n_inst=2, n_val=100)
    copy.load_state_tensors(st.state_tensors())
    assert copy.summary(2, 10) == st.summary(2, 10)


def test_a_small_validation_split_must_meet_the_threshold_at_consecutive_checks():
    """29 rows: 100 confirming answers take ceil(100 / 29) = 4 checks in a row; a miss restarts
    the count, and a resumed stopper keeps it."""
    alive = torch.tensor([True, True])
    st = ExactStopper(ExactStop(threshold=0.99, patience=50), n_inst=2, n_val=29)
    assert st.confirm == 4
    for epoch in (2, 4, 6):
        st.update(epoch, acc([1.0, 1.0]), alive)
    st.update(8, acc([1.0, 28 / 29]), alive)  # one seed misses one row: count starts again
    assert not st.done and st.streak == 0
    for epoch in (10, 12, 14):
        st.update(epoch, acc([1.0, 1.0]), alive)
    assert not st.done and st.streak == 3
    copy = ExactStopper(ExactStop(threshold=0.99, patience=50), n_inst=2, n_val=29)
    copy.load_state_tensors(st.state_tensors())
    for s in (st, copy):
        s.update(16, acc([1.0, 1.0]), alive)
        assert s.done and s.reason == "reached" and s.stop_epoch == 16
    assert st.summary(16, 40)["confirm_checks"] == 4
    assert ExactStopper(ExactStop(), 1, n_val=500).confirm == 1  # 100 rows or more: one check


def tiny(**overrides):
    base = dict(
        task="recursion", function="successor", recursion=SMALL, seeds=[0, 1], epochs=12,
        model_args=MODEL, checkpoint_every=2, exact_stop={"threshold": 1.0, "patience": 2},
    )  # fmt: skip
    return make_config("recursion", **{**base, **overrides})


def test_killed_run_resumes_to_the_same_bits_and_stop(tmp_path):
    from algolens.train.run import resume_run, start_run

    ref_store = RunStore(tmp_path / "ref")
    ref = start_run(tiny(), ref_store)
    store = RunStore(tmp_path / "s")

    def interrupt(epoch, result):
        if epoch == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        start_run(tiny(), store, progress=interrupt)
    run_id = store.list()[0].id
    out = resume_run(store, run_id)
    assert out["early_stop"] == ref["early_stop"] and out["epochs"] == ref["epochs"]
    assert out["early_stop"]["reason"] in ("reached", "patience", "epoch cap")
    a, b = store.paths(run_id).final, ref_store.paths(ref["run_id"]).final
    assert a.read_bytes() == b.read_bytes()
    rows = store.paths(run_id).metrics.read_text().splitlines()
    assert sum('"val_exact"' in r for r in rows) >= 2  # each check is in metrics.jsonl


def test_presets_are_the_task_defaults_and_flags_win():
    assert DEFAULT_RECIPES["recursion"] == "recursion"
    assert DEFAULT_RECIPES["pathfinding"] == "pathfinding"
    cfg = make_config("recursion", task="recursion", function="successor")
    assert cfg.exact_stop is not None and cfg.batch_size == 64
    mine = make_config("recursion", task="recursion", function="successor", lr=0.5, epochs=7)
    assert mine.lr == 0.5 and mine.epochs == 7
    path = make_config("pathfinding", task="pathfinding")
    assert path.exact_stop is not None
    with pytest.raises(ConfigError, match="exact_stop applies to sequence tasks"):
        make_config("fast", group="C5", exact_stop={})


def test_configs_without_exact_stop_keep_their_fingerprint():
    cfg = make_config(None, task="recursion", function="successor", recursion=SMALL)
    d = cfg.to_dict()
    assert "exact_stop" not in d  # config.json and the fingerprint as before the field
    stored = dict(d)
    old = validate_config(stored)  # as a stored run's config.json is read
    assert old.fingerprint() == cfg.fingerprint() and old.exact_stop is None
    on = validate_config({**stored, "exact_stop": {}})
    assert on.fingerprint() != cfg.fingerprint()


class _Trainer:
    stopper = None
    epoch = 3


def test_learned_verdict_and_warning_line():
    low = outcome(_Trainer(), {"test": {"greedy_acc": [0.99, 0.5]}})
    assert low["learned"] == {"threshold": 0.95, "test_exact": [0.99, 0.5], "learned": False}
    summary = {"run_id": "r", "epochs": 3, "max_epochs": 3, **low}
    assert learned_status(summary) == "did not learn"
    line = not_learned_line(summary)
    assert line.startswith("warning: run r did not learn") and "50.0 % (worst seed)" in line
    assert "--epochs 6" in line and "\n" not in line
    high = outcome(_Trainer(), {"test": {"greedy_acc": [0.96]}})
    assert learned_status(high) is None and not_learned_line({"run_id": "r", **high}) is None
    assert outcome(_Trainer(), None) == {}  # composition runs: no verdict
