"""Activation patching of the goal in path-finding models (Brinkmann et al. 2024's evidence).

Clean prompts are test prompts; each corrupted prompt is the same tree with another goal, a
leaf whose path leaves the root by another child (so the first path token changes). The metric
is the root position's logit difference, clean first step minus corrupted first step. Patching
the clean residual stream entering each block at each prompt position into the corrupted run
(:func:`algolens.analysis.causal.patch`, ``resid``) shows where the goal's information sits,
layer by layer: at the goal position before layer 0, at the root once the goal mover has moved
it (Brinkmann et al.: the root attends to the goal in layer 0).
"""

from __future__ import annotations

import random
from typing import Any

import torch

from algolens.analysis.causal import patch
from algolens.models.transformer import Transformer
from algolens.tasks.pathfinding.tokens import Vocab, decode_prompt
from algolens.tasks.pathfinding.tree import PathTree


def goal_swaps(
    tokens: torch.Tensor, vocab: Vocab, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, list[int], list[int]]:
    """``(clean, corrupted, clean_first, corrupted_first)``: prompts ``[M, 3N]`` (root included)
    of the rows of ``tokens`` that have another goal leaf with another first step, that goal
    swapped in, and the target tokens of both first steps. Rows without one are left out."""
    rng = random.Random(seed)
    clean, corrupt, first_a, first_b = [], [], [], []
    for row in tokens[:, : vocab.prompt_len].tolist():
        tree = decode_prompt(row, vocab)
        parents = {a for a, _ in tree.edges}
        first = tree.path()[1]
        others = [
            leaf
            for leaf in range(vocab.n_nodes)
            if leaf not in parents and leaf != tree.root and _first_step(tree, leaf) != first
        ]
        if not others:
            continue
        alt = rng.choice(others)
        swapped = list(row)
        swapped[vocab.goal_pos] = vocab.src(alt)
        clean.append(row)
        corrupt.append(swapped)
        first_a.append(vocab.tgt(first))
        first_b.append(vocab.tgt(_first_step(tree, alt)))
    return _rows(clean, vocab), _rows(corrupt, vocab), first_a, first_b


def _rows(rows: list[list[int]], vocab: Vocab) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.int64).reshape(-1, vocab.prompt_len)


def _first_step(tree: PathTree, goal: int) -> int:
    parent = tree.parent_of()
    node = goal
    while parent[node] != tree.root:
        node = parent[node]
    return node


def goal_patching(model: Transformer, tokens: torch.Tensor, vocab: Vocab) -> dict[str, Any]:
    """Patch the clean residual stream into goal-swapped prompts, per block and position.

    Returns:
        ``{"n": rows, "clean", "corrupted": metric, "by_layer": [{"layer", "goal", "root",
        "top_pos", "top_effect"}]}`` (effects normalised: 1 = the clean answer restored; None
        entries when no row has another goal), or ``{"n": 0}``.
    """
    clean, corrupt, a, b = goal_swaps(tokens, vocab)
    if not len(clean):
        return {"n": 0}
    rows, ia, ib = torch.arange(len(clean)), torch.tensor(a), torch.tensor(b)

    def metric(logits: torch.Tensor) -> torch.Tensor:
        at = logits[:, vocab.root_pos].double()
        return (at[rows, ia] - at[rows, ib]).mean()

    res = patch(model, clean, corrupt, metric, "resid")
    eff = res.tensor().nan_to_num(float("-inf"))  # [layer, pos]
    by_layer = [
        {"layer": i, "goal": res.effect[i][vocab.goal_pos], "root": res.effect[i][vocab.root_pos],
         "top_pos": int(eff[i].argmax()), "top_effect": res.effect[i][int(eff[i].argmax())]}
        for i in range(len(res.effect))
    ]  # fmt: skip
    return {"n": len(clean), "clean": res.clean, "corrupted": res.corrupted, "by_layer": by_layer}
