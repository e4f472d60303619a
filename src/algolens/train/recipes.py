"""The training presets several tasks share: ``paper`` and ``fast`` (group composition and
structural recursion both serve them; :mod:`algolens.tasks.registry` collects every task's).

    ``paper``  Chughtai et al. 2023 / Stander et al. 2024: full-batch AdamW, lr 1e-3, weight decay
               1, betas (0.9, 0.98), float64 cross-entropy, constant learning rate.
    ``fast``   Groks S5 in well under a minute on 2 CPU cores; see docs/training.md for what it
               changes and why.
"""

from __future__ import annotations

from typing import Any

PAPER_RECIPE: dict[str, Any] = {
    "lr": 1e-3,
    "weight_decay": 1.0,
    "beta1": 0.9,
    "beta2": 0.98,
    "batch_size": None,
    "loss_dtype": "float64",
    "schedule": "constant",
    "grokfast_alpha": 0.0,
    "grokfast_lamb": 0.0,
    "epochs": 250_000,
    "eval_every": 100,
    "checkpoint_every": 25_000,  # plus 20 log-spaced: about 30 full checkpoints per run
}

FAST_RECIPE: dict[str, Any] = {
    "lr": 2.5e-2,  # 25x the paper's; 2e-2 needed 20 % more epochs to 99.9 % (docs/training.md)
    "weight_decay": 3.0,  # lr * wd = 0.075 per step, 75x the paper's decay rate
    "beta1": 0.9,
    "beta2": 0.995,  # 0.98 makes the high learning rate spike and lose the grokked solution
    "batch_size": None,
    "loss_dtype": "float32",
    "schedule": "constant",
    "grokfast_alpha": 0.0,
    "grokfast_lamb": 0.0,
    "epochs": 3_000,
    "eval_every": 10,
    "checkpoint_every": 500,
    "grok_threshold": 0.999,  # at 0.99 two of four S5 seeds stopped with test loss 0.2
}

SHARED_RECIPES: dict[str, dict[str, Any]] = {"paper": PAPER_RECIPE, "fast": FAST_RECIPE}
"""The presets of :mod:`algolens.train.config`'s ``paper`` and ``fast`` recipes, by name."""
