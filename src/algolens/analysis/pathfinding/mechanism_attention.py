"""The attention side of the path-finding mechanism finder
(:mod:`algolens.analysis.pathfinding.mechanism`): the goal mover, deduction heads by ancestor
level, attention to register positions and one example's attention for the report, all read from
the attention patterns of one single-instance model on the test rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from algolens.analysis.causal import Examples
from algolens.analysis.causal.examples import collect
from algolens.analysis.pathfinding.mechanism_features import RowFacts
from algolens.analysis.pathfinding.mechanism_registers import position_kind, register_positions
from algolens.models.transformer import Transformer
from algolens.tasks.pathfinding.tokens import Vocab


def attention_patterns(model: Transformer, tokens: torch.Tensor) -> torch.Tensor:
    """``[layer, N, head, query_pos, key_pos]`` of a single-instance model on ``tokens [N, T]``."""
    names = [f"blocks.{i}.attn.hook_pattern" for i in range(model.cfg.n_layers)]
    got = collect(model, tokens, names, lambda h, act, rows: act.float())
    return torch.stack([got[n] for n in names])


def goal_heads(patterns: torch.Tensor, vocab: Vocab) -> list[list[float]]:
    """``[layer][head]``: mean attention from the root position to the goal position."""
    a = patterns[:, :, :, vocab.root_pos, vocab.goal_pos]  # [layer, N, head]
    return a.mean(1).tolist()


def goal_per_prompt(patterns: torch.Tensor, vocab: Vocab, layer: int) -> dict[str, Any]:
    """The root's attention to the goal, prompt by prompt, for the head of ``layer`` that gives
    the goal most on average, and ``chance``: the share uniform attention over the positions the
    root sees (``0..root_pos``) would give it.

    Returns:
        ``{"layer", "head", "attention": [N], "chance"}``.
    """
    a = patterns[layer, :, :, vocab.root_pos, vocab.goal_pos]  # [N, head]
    head = int(a.mean(0).argmax())
    return {
        "layer": layer,
        "head": head,
        "attention": a[:, head].tolist(),
        "chance": 1.0 / (vocab.root_pos + 1),
    }


def _scored_steps(facts: list[RowFacts], vocab: Vocab) -> list[tuple[int, int, list[int]]]:
    """``(row, query position, [target position of a_0, a_1, ...])`` for every scored position:
    the root and each path token but the last, with the goal's ancestors still below it."""
    out = []
    for r, f in enumerate(facts):
        length = len(f.path) - 1
        for j in range(length):  # current node path[j] at position root_pos + j
            below = f.ancestors[: length - j]  # a_0 .. a_{L-j-1}: the nodes still to come
            out.append((r, vocab.root_pos + j, [f.target_pos[x] for x in below]))
    return out


def deduction_scores(patterns: torch.Tensor, facts: list[RowFacts], vocab: Vocab) -> dict[str, Any]:
    """Attention from each scored position to the edges of the path still ahead.

    Returns:
        ``{"by_level": [layer][head][k]`` mean attention to ``>a_k`` (None where no scored
        position has an ``a_k`` ahead), ``"path_mass": [layer][head]`` mean total attention on
        those edges, ``"chance": float`` the mean share of visible positions that are such
        edges, ``"level": [layer][head]`` the argmax level (None without data),
        ``"uniform_by_level": [k]`` what uniform attention over the visible positions would give
        ``>a_k`` on the same steps (None without data)}.
    """
    n_layers, _, n_heads = patterns.shape[:3]
    depth = vocab.n_nodes - 1
    sums = torch.zeros(n_layers, n_heads, depth, dtype=torch.float64)
    counts = torch.zeros(depth, dtype=torch.float64)
    uniform = torch.zeros(depth, dtype=torch.float64)
    mass = torch.zeros(n_layers, n_heads, dtype=torch.float64)
    chance, steps = 0.0, _scored_steps(facts, vocab)
    for r, q, keys in steps:
        att = patterns[:, r, :, q, :].double()  # [layer, head, key_pos]
        k = torch.tensor(keys)
        sums[:, :, : len(keys)] += att[:, :, k]
        counts[: len(keys)] += 1
        uniform[: len(keys)] += 1 / (q + 1)
        mass += att[:, :, k].sum(-1)
        chance += len(keys) / (q + 1)
    by_level = (sums / counts.clamp(min=1)).tolist()
    for lvl in range(depth):
        if counts[lvl] == 0:
            for row in by_level:
                for h in row:
                    h[lvl] = None
    level = [
        [None if counts[0] == 0 else level_argmax(sums[i, h], counts) for h in range(n_heads)]
        for i in range(n_layers)
    ]  # fmt: skip
    n = max(len(steps), 1)
    return {
        "by_level": by_level,
        "path_mass": (mass / n).tolist(),
        "chance": chance / n,
        "level": level,
        "uniform_by_level": [
            None if c == 0 else float(u / c) for u, c in zip(uniform.tolist(), counts.tolist())
        ],
    }


def level_argmax(sums: torch.Tensor, counts: torch.Tensor) -> int:
    """The level a head reads: the argmax over levels of its *mean* attention per scored step
    (``sums[k] / counts[k]``), not of the summed attention. Deep levels exist only on long paths,
    so they have fewer steps; an argmax of sums would favour the shallow levels for that alone.
    Levels without steps never win."""
    rates = sums / counts.clamp(min=1)
    rates = torch.where(counts > 0, rates, torch.full_like(rates, -1.0))
    return int(torch.argmax(rates))


def register_mass(patterns: torch.Tensor, facts: list[RowFacts], vocab: Vocab) -> dict[str, Any]:
    """Attention from the scored positions to prompt positions holding no edge target.

    Returns:
        ``{"mass": [layer][head]`` mean total attention on such positions, ``"chance"``: their
        share of the visible positions, ``"top": [layer][head]`` the three positions with the
        most mean attention as ``[position, kind, mass]``}.
    """
    reg = register_positions(vocab)
    steps = _scored_steps(facts, vocab)
    idx = torch.tensor(reg)
    n_layers, _, n_heads = patterns.shape[:3]
    per_pos = torch.zeros(n_layers, n_heads, len(reg), dtype=torch.float64)
    for r, q, _ in steps:
        per_pos += patterns[:, r, :, q, idx].double()
    per_pos /= max(len(steps), 1)
    top = [
        [
            [[reg[int(j)], position_kind(reg[int(j)], vocab), float(per_pos[i, h, j])]
             for j in per_pos[i, h].argsort(descending=True)[:3]]
            for h in range(n_heads)
        ]
        for i in range(n_layers)
    ]  # fmt: skip
    mean_visible = float(np.mean([q + 1 for _, q, _ in steps])) if steps else 1.0
    return {"mass": per_pos.sum(-1).tolist(), "chance": len(reg) / mean_visible, "top": top}


def example_attention(
    patterns: torch.Tensor, test: Examples, facts: list[RowFacts], vocab: Vocab
) -> dict[str, Any]:
    """The first test row with the longest path: its tokens (prompt and path) and attention
    ``[layer][head][query][key]`` over them, rounded to 3 digits (for the report's views)."""
    lengths = [len(f.path) for f in facts]
    r = int(np.argmax(lengths))
    t = vocab.prompt_len + lengths[r] - 2  # input positions up to the last path token but one
    att = patterns[:, r, :, :t, :t].numpy().round(3)
    return {"tokens": vocab.text(test.tokens[r, :t].tolist()).split(), "attention": att.tolist()}
