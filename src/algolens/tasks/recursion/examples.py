"""Held-out inputs of a recursion run for analyses: drawn like one of its splits (training inputs
rejected), split into a fit half and a fresh half, or read from a stored split; each input with its
prompt tokens and its true answer tokens.

A built-in function is run here to give the answers; a user function never is (a stored run
never executes the user's file): its inputs come from the stored dataset
(:func:`stored_examples`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from algolens.errors import ConfigError
from algolens.tasks.recursion.functions import FUNCTIONS
from algolens.tasks.recursion.sampling import sample_values
from algolens.tasks.recursion.settings import RecursionArgs
from algolens.tasks.recursion.tokens import encode, encode_args, parse
from algolens.train.config import TrainConfig

DRAW_ROUNDS = 20
"""A held-out input set draws at most this many rounds before settling for fewer inputs."""
Example = tuple[tuple[object, ...], list[str], list[str]]
"""One input: its arguments, prompt tokens and answer tokens."""


def sampled_examples(
    config: TrainConfig,
    arg_kinds: Sequence[str],
    n: int,
    seed: int,
    split: str = "test",
    exclude: Collection[tuple[str, ...]] = (),
) -> list[Example]:
    """Up to ``n`` inputs of a built-in-function run drawn like its ``split`` (``rng`` from
    ``seed``), each with its prompt tokens and the true answer tokens.

    Inputs whose prompt tokens are in ``exclude`` are rejected and drawn again, at most
    :data:`DRAW_ROUNDS` rounds; where the sizes leave too few other inputs the list is shorter
    than ``n`` (possibly empty). Repeats of one input are kept: the set is a sample of the
    distribution restricted to inputs outside ``exclude``.
    """
    f = FUNCTIONS[config.function]  # type: ignore[index]
    fn, rare = f.fn, f.rare or (None,) * len(arg_kinds)  # the function's own rare features
    sampling = (config.recursion or RecursionArgs()).split_spec().sampling_of(split)
    rng = np.random.default_rng(seed)
    out: list[Example] = []
    for _ in range(DRAW_ROUNDS):
        if len(out) >= n:
            break
        columns = [
            sample_values(sampling, k, n - len(out), rng, r) for k, r in zip(arg_kinds, rare)
        ]
        for x in zip(*columns):
            prompt = encode_args(x)
            if tuple(prompt) not in exclude:
                out.append((x, prompt, encode(fn(*x))))
    return out


def held_out_examples(
    config: TrainConfig, ds: Any, n: int, fit_seed: int, fresh_seed: int, split: str, width: int
) -> tuple[list[Example], list[Example], int]:
    """``(fit, fresh, n_too_long)`` for a built-in-function run: inputs never seen in training,
    split into a fit set and a fresh set that share no input.

    ``2n`` draws like ``split`` with ``default_rng(fit_seed)``, training inputs rejected
    (:func:`sampled_examples`); the distinct inputs drawn are shuffled with
    ``default_rng(fresh_seed)`` and the first half (rounded up) of them goes to ``fit``, the rest
    to ``fresh``, each once: both sets are random halves of one pool (the same distribution, no
    input counted twice), and a small pool of held-out inputs is shared rather than used up by
    ``fit``. Draws that do not fit ``width`` tokens are left out and counted.

    Raises:
        ConfigError: fewer than two distinct held-out inputs fit the model (the sizes leave too few
            inputs outside the training set).
    """
    train = {tuple(x) for x in ds.splits["train"].inputs}
    drawn = sampled_examples(config, ds.arg_kinds, 2 * n, fit_seed, split, exclude=train)
    kept = fitting_examples(drawn, width)
    keys = list(dict.fromkeys(tuple(p) for _, p, _ in kept))
    if len(keys) < 2:
        raise ConfigError(
            f"{len(keys)} distinct input drawn like the {split} split lies outside the training "
            f"set and fits the model's context; two are needed (fit and fresh): train with a "
            f"larger max_size or a smaller n_train, or use another --inputs"
        )
    first = {tuple(e[1]): e for e in reversed(kept)}  # one example per distinct input
    order = np.random.default_rng(fresh_seed).permutation(len(keys))
    half = (len(keys) + 1) // 2
    fit = [first[keys[i]] for i in order[:half]]
    fresh = [first[keys[i]] for i in order[half:]]
    return fit, fresh, len(drawn) - len(kept)


def stored_examples(split: Any, arg_kinds: Sequence[str]) -> list[Example]:
    """The examples of a stored dataset split (a user-function run: its file is never run)."""
    return [(parse(x, arg_kinds), list(x), list(a)) for x, a in zip(split.inputs, split.answers)]


def fitting_examples(examples: list[Example], width: int) -> list[Example]:
    """The examples whose packed row ``prompt <sep> answer <eos>`` fits ``width`` tokens."""
    return [e for e in examples if len(e[1]) + len(e[2]) + 2 <= width]
