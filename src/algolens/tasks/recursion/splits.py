"""Named, seeded input sets of a recursion task: ``train``, ``test``, ``ood`` and ``rare``.

=======  =========================================================================================
split    inputs
=======  =========================================================================================
train    ``n_train`` draws of the training :class:`Sampling` (oversampling included; repeats
         kept)
test     in distribution: the same sizes and mode without oversampling, distinct inputs, none
         seen in train
ood      out of distribution: sizes ``max_size+1 .. ood_max_size`` (longer numbers, larger and
         deeper trees), same mode, no oversampling, distinct inputs
rare     in-distribution sizes, every argument from the rare tail of the function's own feature
         (e.g. long trailing ``B1`` runs for successor, deep trees), distinct, none seen in train
=======  =========================================================================================

Each split draws from its own ``numpy`` generator, ``default_rng(SeedSequence(seed,
spawn_key=(i,)))`` with ``i`` the split's index in :data:`SPLITS`, so a split does not change when
another split's size does. Arguments of a several-argument function are drawn independently.
A held-out split that gets fewer distinct inputs than asked holds what it found
(:func:`shortfall` and :func:`shortfall_text` say so; ``algolens train`` prints it as a
warning); an empty ``test`` or ``rare`` split is a ``ConfigError``.

Examples:
    >>> spec = SplitSpec(Sampling(1, 6), n_train=50, n_test=10, n_ood=10, ood_max_size=9)
    >>> xs = split_inputs(spec, ("bin",), "ood", seed=0)
    >>> len(xs), min(len(bits(x[0])) for x in xs) >= 7
    (10, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from algolens.errors import ConfigError
from algolens.tasks.recursion.rarity import rare_features
from algolens.tasks.recursion.sampling import MAX_SIZE, Sampling, sample_values
from algolens.tasks.recursion.values import bits  # noqa: F401  (doctest)

SPLITS: tuple[str, ...] = ("train", "test", "ood", "rare")
MAX_EXAMPLES = 1_000_000
"""Most inputs one split may ask for."""
_TRIES = 20
"""A held-out split draws at most this many rounds (each of the inputs still missing) before
settling for fewer inputs."""


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
        top = self.sampling.max_size
        if self.n_ood == 0 and top == self.ood_max_size == MAX_SIZE:
            return  # no ood split, and no size above max_size to draw one from
        if not top < self.ood_max_size <= MAX_SIZE:
            fix = (
                "set n_ood = 0 in the --config file's [recursion] table (no larger size exists)"
                if top >= MAX_SIZE
                else f"set ood_max_size in {top + 1}..{MAX_SIZE} in the --config file's "
                "[recursion] table, or leave it out for the default"
            )
            raise ConfigError(
                f"ood_max_size must lie above max_size={top} (at most {MAX_SIZE}), got "
                f"{self.ood_max_size}; {fix}"
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
            low = min(s.max_size + 1, self.ood_max_size)  # equal only with no ood split
            return replace(s, min_size=low, max_size=self.ood_max_size, oversample=0.0)
        return replace(s, oversample=1.0)


def split_rng(seed: int, split: str) -> np.random.Generator:
    """The generator of ``split`` for ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(SPLITS.index(split),)))


def split_inputs(
    spec: SplitSpec,
    arg_kinds: Sequence[str],
    split: str,
    seed: int,
    rare: Sequence[str] | None = None,
) -> list[tuple[object, ...]]:
    """The inputs (argument tuples) of ``split`` for ``seed``; ``rare`` names each argument's
    rare-structure feature (:mod:`.rarity`; default: that of its kind).

    ``train`` is ``n_train`` draws (repeats kept: they weight the training distribution). The
    held-out splits ``test``, ``ood`` and ``rare`` hold *distinct* inputs, ``test`` and ``rare``
    none that ``train`` holds, in the order first drawn; where the sizes allow too few of them a
    split holds fewer than asked (:func:`shortfall` says how many).

    Raises:
        ConfigError: an unknown split, or a ``test`` or ``rare`` split that finds no input outside
            train.
    """
    if split not in SPLITS:
        raise ConfigError(f"split {split!r} is unknown; use one of {', '.join(SPLITS)}")
    want = spec.size_of(split)
    rng = split_rng(seed, split)
    sampling = spec.sampling_of(split)
    if split == "train":
        return _draw(sampling, arg_kinds, want, rng, rare)
    seen = set() if split == "ood" else set(split_inputs(spec, arg_kinds, "train", seed, rare))
    out: dict[tuple[object, ...], None] = {}
    for _ in range(_TRIES):
        if len(out) == want:
            break
        for x in _draw(sampling, arg_kinds, want - len(out), rng, rare):
            if x not in seen and len(out) < want:
                out[x] = None
    if want and not out and split in ("test", "rare"):
        what = "rare-tail " if split == "rare" else ""
        raise ConfigError(
            f"every {what}input of sizes {sampling.min_size}..{sampling.max_size} is already in "
            f"the train set, so the {split} split would be empty; raise max_size or lower n_train"
        )
    return list(out)


def shortfall(spec: SplitSpec, sizes: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """``{split: (held, asked)}`` for every held-out split that holds fewer distinct inputs than
    ``spec`` asks for (``sizes``: split -> inputs held)."""
    return {
        s: (sizes[s], spec.size_of(s))
        for s in SPLITS[1:]
        if s in sizes and sizes[s] < spec.size_of(s)
    }


def shortfall_text(short: Mapping[str, tuple[int, int]]) -> str | None:
    """One line saying which splits hold fewer distinct inputs than asked (None: none)."""
    if not short:
        return None
    cells = ", ".join(f"{s} holds {held} of {asked}" for s, (held, asked) in short.items())
    return (
        f"the sizes leave too few distinct held-out inputs ({cells} asked); their accuracy is "
        f"over these inputs only (raise max_size or lower n_train for more)"
    )


def _draw(
    s: Sampling,
    arg_kinds: Sequence[str],
    n: int,
    rng: np.random.Generator,
    rare: Sequence[str] | None = None,
) -> list[tuple[object, ...]]:
    names = rare_features(arg_kinds, rare)
    columns = [sample_values(s, k, n, rng, f) for k, f in zip(arg_kinds, names)]
    return list(zip(*columns))
