"""`predict` for recursion runs: the greedy answer to a user-written input, beside the truth.

The expected answer of a built-in function is computed by the built-in (algolens's own code, named
in the config); a user function's is looked up in the run's stored dataset, and is ``None`` for an
input the dataset does not hold: a stored run never executes the user's file again.
"""

from __future__ import annotations

from typing import Any

import torch

from algolens.errors import ConfigError
from algolens.store import RunStore
from algolens.tasks.recursion.functions import FUNCTIONS
from algolens.tasks.recursion.tokens import (
    EOS,
    EOS_ID,
    PAD_ID,
    SEP_ID,
    encode,
    ids,
    parse,
    tokens_of,
)
from algolens.tasks.sequence import greedy_decode, pack
from algolens.train.load import load_run_dataset, load_run_model, run_config


def predict_recursion(
    store: RunStore, run: str, text: str, instance: int = 0, *, epoch: int | None = None
) -> dict[str, Any]:
    """Greedy answer of seed ``instance`` of recursion run ``run`` to ``text`` (tokens written
    the way the task prints them, ``"B1 B0 B1 Z"``), at the final weights or (``epoch``) that
    checkpoint's.

    Returns:
        ``{"input", "prediction", "expected", "correct"}``: token text (the prediction without
        ``<eos>``; ``expected`` and ``correct`` are ``None`` when unknown).

    Raises:
        SpecError: a malformed input. ConfigError: an instance out of range, or an input too long
            for the model.
    """
    config = run_config(store, run)
    if not 0 <= instance < config.n_inst:
        raise ConfigError(f"--instance must lie in 0..{config.n_inst - 1}, got {instance}")
    ds = load_run_dataset(store, run)
    args = parse(text, ds.arg_kinds)
    prompt = ids(text.split())
    _, model = load_run_model(store, run, epoch)
    n_ctx = model.cfg.n_ctx
    if len(prompt) + 1 > n_ctx:
        raise ConfigError(
            f"the input has {len(prompt)} tokens; this run's model reads at most {n_ctx - 1} "
            f"before <sep>"
        )
    data = pack([prompt], [[]], sep=SEP_ID, eos=EOS_ID, pad=PAD_ID, width=n_ctx + 1)
    with torch.no_grad():
        written = greedy_decode(model, data, config.n_inst, steps=n_ctx + 1 - len(prompt) - 1)
    toks = [int(t) for t in written[instance, 0]]
    answer = toks[: toks.index(EOS_ID)] if EOS_ID in toks else [t for t in toks if t != PAD_ID]
    prediction = " ".join(tokens_of(answer)) + ("" if EOS_ID in toks else f" (no {EOS})")
    expected = _expected(ds, config.function, args, " ".join(text.split()))
    return {
        "input": " ".join(text.split()),
        "prediction": prediction,
        "expected": expected,
        "correct": None if expected is None else prediction == expected,
    }


def _expected(ds: Any, function: str | None, args: tuple[object, ...], text: str) -> str | None:
    if function in FUNCTIONS:
        return " ".join(encode(FUNCTIONS[function].fn(*args)))
    for split in ds.splits.values():
        for x, a in zip(split.inputs, split.answers):
            if " ".join(x) == text:
                return " ".join(a)
    return None
