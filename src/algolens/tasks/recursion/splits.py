"""Named, seeded input sets of a recursion task: ``train``, ``test``, ``ood`` and ``rare``.

=======  =========================================================================================
split    inputs
=======  =========================================================================================
train    ``n_train`` draws of the training :class:`Sampling` (oversampling included)
test     in distribution: the same sizes and mode without oversampling, no input seen in train
ood      out of distribution: sizes ``max_size+1 .. ood_max_size`` (longer numbers, larger and
         deeper trees), same mode, no oversampling
rare     in-distribution sizes, every argument from the rare tail (long trailing ``B1`` runs, deep
         trees), no input seen in train
=======  =========================================================================================

Each split draws from its own ``numpy`` generator, ``default_rng(SeedSequence(seed,
spawn_key=(i,)))`` with ``i`` the split's index in :data:`SPLITS`, so a split does not change when
another split's size does. Arguments of a several-argument function are drawn independently.

Examples:
    >>> spec = SplitSpec(Sampling(1, 6), n_train=50, n_test=10, n_ood=10, ood_max_size=9)
    >>> xs = split_inputs(spec, ("bin",), "ood", seed=0)
    >>> len(xs), min(len(bits(x[0])) for x in xs) >= 7
    (10, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from algolens.errors import ConfigError
from algolens.tasks.recursion.sampling import MAX_SIZE, Sampling, sample_values
from algolens.tasks.recursion.values import bits  # noqa: F401  (doctest)

SPLITS: tuple[str, ...] = ("train", "test", "ood", "rare")
MAX_EXAMPLES = 1_000_000
"""Most inputs one split may ask for."""
_TRIES = 20
"""A held-out split draws at most this many times its size before settling for fewer inputs."""


@dataclass(frozen=True)
class SplitSpec:
    """Sizes of the named splits and the distribution they are drawn from.

    Raises:
        ConfigError: a negative or too large split size, or ``ood_max_size`` not above
            ``max_size`` (or above :data:`MAX_SIZE`).
    """

    sampling: Sampling
    n_train: int = 2000
    n_test: int = 500
    n_ood: int = 500
    ood_max_size: int = 12

    def __post_init__(self) -> None:
        for name in ("n_train", "n_test", "n_ood"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_EXAMPLES:
                raise ConfigError(f"{name} must lie in 0..{MAX_EXAMPLES}, got {value}")
        if not self.sampling.max_size < self.ood_max_size <= MAX_SIZE:
            raise ConfigError(
                f"ood_max_size must lie in {self.sampling.max_size + 1}..{MAX_SIZE} (above "
                f"max_size={self.sampling.max_size}), got {self.ood_max_size}"
            )

    def size_of(self, split: str) -> int:
        """How many inputs ``split`` asks for (``rare`` asks for as many as ``test``)."""
        return {"train": self.n_train, "test": self.n_test, "ood": self.n_ood}.get(
            split, self.n_test
        )

    def sampling_of(self, split: str) -> Sampling:
        """The :class:`Sampling` that draws ``split``."""
        s = self.sampling
        if split == "train":
            return s
        if split == "test":
            return replace(s, oversample=0.0)
        if split == "ood":
            return replace(s, min_size=s.max_size + 1, max_size=self.ood_max_size, oversample=0.0)
        return replace(s, oversample=1.0)


def split_rng(seed: int, split: str) -> np.random.Generator:
    """The generator of ``split`` for ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(SPLITS.index(split),)))


def split_inputs(
    spec: SplitSpec, arg_kinds: Sequence[str], split: str, seed: int
) -> list[tuple[object, ...]]:
    """The inputs (argument tuples) of ``split`` for ``seed``.

    ``test`` and ``rare`` leave out every input that ``train`` holds; where the sizes allow too few
    other inputs they hold fewer than asked for (never duplicates of train); ``rare`` may end up
    empty.

    Raises:
        ConfigError: an unknown split, or a ``test`` split that finds no input outside train.
    """
    if split not in SPLITS:
        raise ConfigError(f"split {split!r} is unknown; use one of {', '.join(SPLITS)}")
    want = spec.size_of(split)
    rng = split_rng(seed, split)
    sampling = spec.sampling_of(split)
    if split in ("train", "ood"):
        return _draw(sampling, arg_kinds, want, rng)
    seen = set(split_inputs(spec, arg_kinds, "train", seed))
    out: list[tuple[object, ...]] = []
    for _ in range(_TRIES):
        if len(out) == want:
            break
        out += [x for x in _draw(sampling, arg_kinds, want - len(out), rng) if x not in seen]
    if want and not out and split == "test":
        raise ConfigError(
            f"every {split} input of sizes {sampling.min_size}..{sampling.max_size} is already in "
            f"the train set; raise max_size or lower n_train"
        )
    return out


def _draw(
    s: Sampling, arg_kinds: Sequence[str], n: int, rng: np.random.Generator
) -> list[tuple[object, ...]]:
    columns = [sample_values(s, k, n, rng) for k in arg_kinds]
    return list(zip(*columns))
