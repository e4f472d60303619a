"""Chughtai, Chan & Nanda (ICML 2023): the S5 MLP tallies over the paper's 50 seeds."""

from __future__ import annotations

from typing import Any

MAINLINE = "S5"
"""The group of the paper's 50-seed MLP tallies."""

PAPER_S5_MLP: dict[str, Any] = {
    "instances": 50,
    "key_frequency": {
        "sign": 49,
        "standard": 49,
        "standard⊗sign": 17,
        "(3,2)": 18,
        "(2,2,1)": 10,
        "(3,1,1)": 0,
    },  # fmt: skip
    "distinct_key_sets": 9,
    "min_test_acc": 0.9999,
    "logit_fve": (0.31, 0.86),
    "W_U_fve": (0.90, 0.99),
}
"""The paper's 50 S5 MLP seeds (250k epochs, paper recipe), from its public per-seed data. The
6-dim irrep (3,1,1) is never key: its claim is the "never key" one, not a frequency test."""
