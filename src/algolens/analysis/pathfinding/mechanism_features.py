"""Per-row facts of path-finding inputs that the mechanism finder measures against.

From token rows alone (never from a model): the tree of each row, its root-to-goal path, the
goal's ancestors ``a_0 = goal, a_1 = parent(goal), ...`` and the position of the target token
``>x`` of the edge into each node. These become the ``features`` of a causal-toolkit
:class:`~algolens.analysis.causal.Examples` (``anc{k}``: the k-th ancestor of the goal, -1 past
the root; ``edge_source``: at an edge's target position, the edge's source, else -1;
``goal_edge``: the position of ``>goal``, an ``[N]`` position feature; ``path_len``).

Examples:
    >>> from algolens.tasks.pathfinding.tokens import Vocab, encode_path, encode_prompt
    >>> from algolens.tasks.pathfinding.tree import parse_prompt
    >>> v = Vocab(4); t = parse_prompt("2>0,2>1,1>3|3:2", 4)
    >>> row = torch.tensor([encode_prompt(t, v) + encode_path(t.path(), v)])
    >>> f = row_facts(row, v)[0]
    >>> f.path, f.ancestors, f.target_pos
    ([2, 1, 3], [3, 1, 2], {0: 1, 1: 4, 3: 7})
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from algolens.analysis.causal import Examples
from algolens.tasks.pathfinding.task import pack_rows
from algolens.tasks.pathfinding.tokens import Vocab, decode_prompt


@dataclass(frozen=True)
class RowFacts:
    """One row: ``path`` root..goal, ``ancestors`` goal..root, ``target_pos[x]`` = position of
    ``>x`` in the edge list (every node but the root)."""

    path: list[int]
    ancestors: list[int]
    target_pos: dict[int, int]


def row_facts(tokens: torch.Tensor, vocab: Vocab) -> list[RowFacts]:
    """The facts of every row of ``tokens [N, >= 3N]``."""
    out = []
    for row in tokens.tolist():
        tree = decode_prompt(row[: vocab.prompt_len], vocab)
        path = tree.path()
        target_pos = {b: vocab.edge_positions(i)[1] for i, (_, b) in enumerate(tree.edges)}
        out.append(RowFacts(path, path[::-1], target_pos))
    return out


def pathfinding_examples(tokens: torch.Tensor, vocab: Vocab) -> Examples:
    """Rows ``[N, 4N-1]`` (prompt, path, padding) as toolkit :class:`Examples` with features
    ``anc0..anc{N-2}``, ``path_len``, ``goal_edge`` (each ``[N]``) and ``edge_source``
    ``[N, T]``."""
    packed = pack_rows(tokens, vocab)
    facts = row_facts(tokens, vocab)
    n, t = packed.inputs.shape
    feats: dict[str, np.ndarray] = {}
    for k in range(vocab.n_nodes - 1):
        feats[f"anc{k}"] = np.array([f.ancestors[k] if k < len(f.ancestors) else -1 for f in facts])
    feats["path_len"] = np.array([len(f.path) - 1 for f in facts])
    feats["goal_edge"] = np.array([f.target_pos[f.path[-1]] for f in facts])
    src = np.full((n, t), -1)
    for i in range(vocab.n_nodes - 1):
        s, tg = vocab.edge_positions(i)
        src[:, tg] = tokens[:, s].numpy() - vocab.src(0)
    feats["edge_source"] = src
    return Examples(packed.inputs, packed.targets, packed.mask, feats)
