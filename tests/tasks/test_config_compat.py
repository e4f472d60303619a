"""Configs written before the task registry load to the same JSON and fingerprint.

Each dict below is the ``config.json`` a run of that task stored on main before the registry
(commit 66c7f00), and each digest is what ``TrainConfig.fingerprint()`` returned for it there; a
checkpoint carries that digest, so a changed one would refuse every stored run on resume.
"""

from __future__ import annotations

import json

import pytest

from algolens.train.config import make_config, validate_config

COMPOSITION = {"recipe": "fast", "task": "composition", "function": None, "recursion": None, "pathfinding": None, "dataset_sha256": None, "group": "S5", "group_sha256": "ab" * 32, "train_frac": 0.4, "model": "mlp", "model_args": {}, "seeds": [0, 1], "epochs": 3000, "batch_size": None, "lr": 0.025, "weight_decay": 3.0, "beta1": 0.9, "beta2": 0.995, "eps": 1e-08, "schedule": "constant", "warmup_epochs": 0, "min_lr_frac": 0.0, "loss_dtype": "float32", "grokfast_alpha": 0.0, "grokfast_lamb": 0.0, "grok_threshold": 0.999, "early_stop": True, "eval_every": 10, "checkpoint_every": 500, "log_checkpoints": 20}  # fmt: skip # noqa: E501
RECURSION = {"recipe": "fast", "task": "recursion", "function": "successor", "recursion": {"min_size": 1, "max_size": 6, "sampling": "uniform", "oversample": 0.0, "n_labels": 10, "n_train": 2000, "n_test": 500, "n_ood": 500, "ood_max_size": 12, "data_seed": 0}, "pathfinding": None, "dataset_sha256": "cd" * 32, "group": "S5", "group_sha256": None, "train_frac": 0.4, "model": "transformer", "model_args": {}, "seeds": [0], "epochs": 3000, "batch_size": None, "lr": 0.025, "weight_decay": 3.0, "beta1": 0.9, "beta2": 0.995, "eps": 1e-08, "schedule": "constant", "warmup_epochs": 0, "min_lr_frac": 0.0, "loss_dtype": "float32", "grokfast_alpha": 0.0, "grokfast_lamb": 0.0, "grok_threshold": 0.999, "early_stop": True, "eval_every": 10, "checkpoint_every": 500, "log_checkpoints": 20}  # fmt: skip # noqa: E501
PATHFINDING = {"recipe": "brinkmann-cpu", "task": "pathfinding", "function": None, "recursion": None, "pathfinding": {"nodes": 6, "n_examples": 50000, "test_frac": 0.1, "edge_order": "shuffled", "data_seed": 0}, "dataset_sha256": "ef" * 32, "group": "S5", "group_sha256": None, "train_frac": 0.4, "model": "transformer", "model_args": {"n_layers": 6, "n_heads": 1, "d_model": 64, "d_head": 64, "d_mlp": 256, "act": "gelu", "layernorm": True, "bias": "trainable"}, "seeds": [0], "epochs": 30, "batch_size": 256, "lr": 0.001, "weight_decay": 0.01, "beta1": 0.9, "beta2": 0.99, "eps": 1e-08, "schedule": "cosine", "warmup_epochs": 0, "min_lr_frac": 0.01, "loss_dtype": "float32", "grokfast_alpha": 0.0, "grokfast_lamb": 0.0, "grok_threshold": 0.99, "early_stop": True, "eval_every": 1, "checkpoint_every": 1, "log_checkpoints": 0}  # fmt: skip # noqa: E501

CASES = [
    (COMPOSITION, "4a4b4d9841cc7f6b692cccef7d07f1d04b088bc5c01db090e8726d6e041622e1",
     ("fast", {"group": "S5", "seeds": [0, 1]}), {"group_sha256": "ab" * 32}),
    (RECURSION, "0900ca91e09ec701cb75aa2fd5dcc727c8d4eabbbb9ed5d56a70cb47746909d4",
     ("fast", {"task": "recursion", "function": "successor", "recursion": {"max_size": 6}}),
     {"dataset_sha256": "cd" * 32}),
    (PATHFINDING, "fd2a37c96198ed724e050106d060737bdb49e3d36fd0bb1f1d7ea5c447ea6a0f",
     ("brinkmann-cpu", {"pathfinding": {"nodes": 6, "n_examples": 50000, "test_frac": 0.1}}),
     {"dataset_sha256": "ef" * 32}),
]  # fmt: skip


@pytest.mark.parametrize(
    "stored, digest, made, pinned", CASES, ids=["composition", "recursion", "pathfinding"]
)
def test_a_stored_config_loads_to_the_same_json_and_fingerprint(stored, digest, made, pinned):
    config = validate_config(json.loads(json.dumps(stored)))
    assert json.dumps(config.to_dict()) == json.dumps(stored)  # byte-identical config.json
    assert config.fingerprint() == digest
    recipe, overrides = made  # today's recipes and defaults give the same config
    again = validate_config({**make_config(recipe, **overrides).to_dict(), **pinned})
    assert again.to_dict() == stored and again.fingerprint() == digest
