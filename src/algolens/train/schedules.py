"""Learning-rate schedules as pure functions of training progress.

``progress`` is measured in epochs and may be fractional (minibatch steps inside an epoch). Each
schedule returns a multiplier of the base learning rate.
"""

from __future__ import annotations

import math

from algolens.train.config import TrainConfig


def lr_factor(config: TrainConfig, progress: float) -> float:
    """Multiplier of ``config.lr`` at ``progress`` epochs (0 at the first step).

    * ``constant``: 1, after an optional linear warmup.
    * ``warmup``: linear from ``1/warmup_epochs`` to 1 over ``warmup_epochs``, then 1.
    * ``cosine``: the same warmup, then a half cosine from 1 down to ``min_lr_frac`` at ``epochs``.

    Examples:
        >>> from algolens.train.config import make_config
        >>> cfg = make_config(epochs=100, schedule="cosine", warmup_epochs=10, min_lr_frac=0.1)
        >>> [round(lr_factor(cfg, p), 3) for p in (0, 9, 10, 55, 100)]
        [0.1, 1.0, 1.0, 0.55, 0.1]
    """
    w = config.warmup_epochs
    if w and progress < w:
        return (progress + 1.0) / w
    if config.schedule != "cosine":
        return 1.0
    span = max(config.epochs - w, 1)
    t = min(max((progress - w) / span, 0.0), 1.0)
    floor = config.min_lr_frac
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * t))
