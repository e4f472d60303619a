"""Stander, Yu, Fan & Biderman (ICML 2024): the interventions on the paper's 128 S5 models."""

from __future__ import annotations

PAPER_INTERVENTIONS: dict[str, tuple[float, float | None]] = {
    "base": (0.9999, 1.97e-6),
    "swap embeddings": (0.01, 4.76),
    "negate both": (1.0, None),
    "negate left": (0.0, 22.4),
    "negate right": (0.0, 22.4),
    "noise N(0, 0.1)": (0.9999, None),
    "noise N(0, 1)": (0.978, None),
    "noise N(1, 1)": (0.88, None),
    "noise N(-1, 1)": (0.98, None),
    "ReLU → |x|": (1.0, 3.7e-13),
}
"""Mean accuracy and loss over the paper's 128 S5 models (None: not given)."""
