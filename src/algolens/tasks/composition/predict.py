"""`predict` for group composition runs: the answer to two elements ``a b``, beside ``a·b``.

The input is two elements, each written as the run's group prints it (``(0 1)``, ``r^2s``) or as
its index ``0..|G|-1`` (a label wins where an index is also a label); the answer is the argmax of
the answer logits, printed as a label, and the expected answer is ``a·b`` from the group table
stored with the run (:func:`parse_pair`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from algolens.errors import ConfigError, SpecError, listed, quote
from algolens.store import RunStore
from algolens.train.load import load_run_model, run_config


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
        if word.isascii() and word.isdigit() and int(word) < len(labels):
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
