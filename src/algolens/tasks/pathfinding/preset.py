"""The default training preset of the path-finding task: what ``algolens train --task
pathfinding`` uses when no recipe is given (a user's flags and a config file's values still win).

The ``brinkmann-cpu`` recipe's data, model and optimiser (measured in docs/pathfinding.md: 99 %
exact-path test accuracy after 7 epochs, about 6 CPU-minutes), stopping on greedy exact-path
match of a validation split held back from the training trees instead of on the test split.
"""

from __future__ import annotations

from typing import Any

from algolens.tasks.pathfinding.setup import BRINKMANN_CPU_RECIPE

EXACT_STOP: dict[str, Any] = {"val_frac": 0.02, "max_val": 500, "threshold": 0.99, "patience": 5}
"""2 % of the 45 000 training trees is 900, capped at 500 validation trees; checked every epoch."""

PRESET: dict[str, Any] = {**BRINKMANN_CPU_RECIPE, "eval_every": 1, "exact_stop": EXACT_STOP}
"""``brinkmann-cpu`` with early stopping on the validation split (train/early_stop.py)."""
