"""The default training preset of the recursion task: what ``algolens train --task recursion``
uses when no recipe is given (a user's flags and a config file's values still win).

Chosen from the measured sweep in docs/recursion.md (benchmarks/sweep_recursion_defaults.py) over
built-in, composed and user-written functions, not tuned to one function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXACT_STOP: dict[str, Any] = {"val_frac": 0.1, "max_val": 500, "threshold": 0.99, "patience": 10}
"""A tenth of the distinct training inputs held back for validation, checked every ``eval_every``
epochs; stop at 99 % greedy exact match (held at consecutive checks covering 100 validation
answers, :data:`~algolens.train.early_stop.CONFIRM_ROWS`) or after 10 checks without improvement."""

MODEL_ARGS: dict[str, Any] = {
    "n_layers": 2, "d_model": 128, "n_heads": 4, "d_head": 32, "d_mlp": 512,
}  # fmt: skip
"""The default transformer of a recursion run: two layers of the task's 1-layer default width. In
the sweep (docs/recursion.md) it beat one layer on every function measured: preorder 99.4 % in 28
epochs (one layer: 95.2 % at the 120-epoch cap), predecessor 99.2 % (98.4 %), add 99.0 % (16.4 %),
inorder 88.4 % (52.2 %), the other number functions the same or better. A config file's
``[model_args]`` replaces the whole table."""

PRESET: dict[str, Any] = {
    "lr": 3e-3,
    "weight_decay": 0.01,
    "beta1": 0.9,
    "beta2": 0.99,
    "batch_size": 64,
    "loss_dtype": "float32",
    "schedule": "cosine",
    "min_lr_frac": 0.0,
    "epochs": 120,
    "eval_every": 2,
    "checkpoint_every": 10,
    "log_checkpoints": 0,
    "early_stop": True,
    "exact_stop": EXACT_STOP,
    "model_args": MODEL_ARGS,
}
"""Optimiser, schedule, epoch cap and the early-stopping rule. In the sweep (docs/recursion.md)
these settings with a 60-epoch cap brought every number function measured to at least 98.4 %
greedy test exact match (five of seven to 99 % in 12-31 epochs) but left the tree function
preorder at 93.8 %; the 120-epoch cap brought preorder to 95.2 % (4.5 minutes) and reached 99 % on
plus3 sooner. lr 1e-3 left two functions below 97 %; lr 1e-2 and batch 32 changed no plateau. The
model is :data:`MODEL_ARGS`."""

TREE_DRAWS = 20_000
"""Training draws of the tree preset: ten times the task's default of 2000."""

TREE_PRESET: dict[str, Any] = {**PRESET, "epochs": 20, "recursion": {"n_train": TREE_DRAWS}}
"""The preset for a function that takes a tree (``algolens train`` picks it by the function's
domain, :func:`pick_recipe`): :data:`PRESET` with :data:`TREE_DRAWS` training draws and a 20-epoch
cap (the cosine schedule's length). The tree functions were short of data, not of optimiser
settings or depth: with 2000 draws the 2-layer model stopped at 88 % (inorder), 62 % (postorder)
and 62 % (mirror) greedy test exact match after 120 epochs, and a third layer left postorder at
64 %. Trees of up to 8 nodes have far more labelled shapes than numbers of up to 8 bits (510), so
ten times the draws are ten times the distinct training trees; 20 epochs of them are 1.7 times the
samples of the number preset's 120-epoch cap. Measured in docs/recursion.md ("Trees: ten times the
draws"). Numbers keep :data:`PRESET`: 20,000 draws of numbers up to 8 bits would hold every input,
leaving no test split."""


def pick_recipe(fields: Mapping[str, Any]) -> str | None:
    """The recursion recipe for a run's ``function`` (built-in name or ``FILE.py:NAME``):
    ``recursion-trees`` when it takes a tree, ``recursion`` otherwise; None without a function (the
    config check then asks for one). A user's function is loaded (in its isolated worker) to read
    its argument kinds, as the run's start would.

    >>> pick_recipe({"function": "preorder"}), pick_recipe({"function": "successor"})
    ('recursion-trees', 'recursion')
    """
    from algolens.tasks.recursion.user import resolve_function

    function = fields.get("function")
    if function is None:
        return None
    kinds = resolve_function(function).arg_kinds
    return "recursion-trees" if "tree" in kinds else "recursion"
