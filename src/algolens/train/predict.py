"""`predict`: a trained run's answer to a user-written input, beside the truth.

* **Recursion runs**: the greedy answer. The expected answer of a built-in function is computed
  by the built-in (algolens's own code, named in the config); a user function's is looked up in
  the run's stored dataset, and is ``None`` for an input the dataset does not hold: a stored run
  never executes the user's file again.
* **Composition runs**: the input is two elements ``a b``, each written as the run's group
  prints it (``(0 1)``, ``r^2s``) or as its index ``0..|G|-1`` (a label wins where an index is
  also a label); the answer is the argmax of the answer logits, printed as a label, and the
  expected answer is ``a·b`` from the group table stored with the run (:func:`parse_pair`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from algolens.errors import ConfigError, SpecError, listed, quote
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
from algolens.train.load import load_run_dataset, load_run_model, run_config, weights_used


def predict(
    store: RunStore, run: str, text: str, instance: int = 0, *, epoch: int | None = None
) -> dict[str, Any]:
    """Greedy answer of seed ``instance`` of run ``run`` to the input ``text`` (tokens written the
    way the task prints them, e.g. ``"B1 B0 B1 Z"``), from the final weights or (``epoch``) that
    checkpoint's (a run without final weights: its latest checkpoint).

    Returns:
        ``{"input", "prediction", "expected", "correct", "weights", "epoch", "final"}``: the
        answers as token text (the prediction without ``<eos>``; ``expected`` and ``correct``
        are ``None`` when unknown) and the weights used (:func:`weights_used`).

    Raises:
        SpecError: a malformed input, or a run that is not a recursion run.
        ConfigError: an instance out of range, or an input too long for the model.
    """
    config = run_config(store, run)
    used = weights_used(store, run, epoch)
    if config.task == "composition":
        return predict_composition(store, run, text, instance, epoch=epoch) | used
    if config.task == "pathfinding":  # the paper's text format; train/pathfinding_predict.py
        from algolens.train.pathfinding_predict import predict_pathfinding

        return predict_pathfinding(store, run, text, instance, epoch=epoch) | used
    if config.task != "recursion":
        raise SpecError(
            f"predict supports composition and recursion runs; run {run} is a {config.task} run"
        )
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
    } | used


def _expected(ds: Any, function: str | None, args: tuple[object, ...], text: str) -> str | None:
    if function in FUNCTIONS:
        return " ".join(encode(FUNCTIONS[function].fn(*args)))
    for split in ds.splits.values():
        for x, a in zip(split.inputs, split.answers):
            if " ".join(x) == text:
                return " ".join(a)
    return None


def parse_pair(text: str, labels: Sequence[str]) -> tuple[int, int]:
    """The two elements ``a b`` written in ``text``: labels (which may hold spaces, as cycle
    notation does) or indices; the one split of the words into two elements that reads.

    Raises:
        SpecError: no split reads, or more than one does.

    Examples:
        >>> parse_pair("(0 1) (0 1 2)", ["()", "(1 2)", "(0 1)", "(0 1 2)", "(0 2 1)", "(0 2)"])
        (2, 3)
        >>> parse_pair("5 ()", ["()", "(1 2)", "(0 1)", "(0 1 2)", "(0 2 1)", "(0 2)"])
        (5, 0)
    """
    words = text.split()
    index = {" ".join(lab.split()): i for i, lab in enumerate(labels)}

    def element(ws: list[str]) -> int | None:
        word = " ".join(ws)
        if word in index:
            return index[word]
        if word.isdigit() and int(word) < len(labels):
            return int(word)
        return None

    reads = []
    for cut in range(1, len(words)):
        a, b = element(words[:cut]), element(words[cut:])
        if a is not None and b is not None:
            reads.append((a, b))
    shown = listed([quote(x) for x in labels], limit=4)
    if not reads:
        raise SpecError(
            f"{quote(text)} is not two elements of this run's group; write 'a b' with labels as "
            f"the group prints them ({shown}) or indices 0..{len(labels) - 1}"
        )
    if len(set(reads)) > 1:
        raise SpecError(f"{quote(text)} reads as more than one pair of elements; use indices")
    return reads[0]


def predict_composition(
    store: RunStore, run: str, text: str, instance: int = 0, *, epoch: int | None = None
) -> dict[str, Any]:
    """Answer of seed ``instance`` of composition run ``run`` to ``a b`` (:func:`parse_pair`),
    at the final weights or (``epoch``) that checkpoint's.

    Returns:
        ``{"input", "prediction", "expected", "correct"}`` with elements as labels.

    Raises:
        SpecError: an input that is not two elements. ConfigError: an instance out of range.
    """
    from algolens.train.load import load_run_group

    config = run_config(store, run)
    if not 0 <= instance < config.n_inst:
        raise ConfigError(f"--instance must lie in 0..{config.n_inst - 1}, got {instance}")
    group = load_run_group(store, run)
    a, b = parse_pair(text, group.labels)
    _, model = load_run_model(store, run, epoch)
    row = [a, b] if config.model == "mlp" else [a, b, group.order]  # the task's row formats
    tokens = torch.tensor([[row]] * config.n_inst)  # [inst, 1, seq]
    with torch.no_grad():
        logits = model(tokens, answer=True)  # [inst, 1, |G|]
    pred = int(logits[instance, 0].argmax())
    want = int(group.table[a, b])
    return {
        "input": f"{group.labels[a]} {group.labels[b]}",
        "prediction": group.labels[pred],
        "expected": group.labels[want],
        "correct": pred == want,
    }
