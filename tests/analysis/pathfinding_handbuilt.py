"""A path-finding transformer with hand-set weights: edge concatenation and goal moving in
layer 0, one deduction step in layer 1 (so it solves the first step of every path of length 2).

Residual stream blocks: ``tok`` (one-hot token, V = 2N+3), ``pos`` (one-hot position),
``mid`` (what layer 0 moved here) and ``out`` (read by the unembedding). MLPs are zero.

* layer 0, head 0 (positional): the target token of edge i (position 3i+1) attends to the
  edge's source (3i), the root position and ':' to the goal position, every other position to
  itself; it copies ``tok`` into ``mid``: each ``>B`` then carries its parent A, the root and
  ':' the goal.
* layer 1, head 0 (deduction, by content): the query is the node in ``mid`` (source tokens
  only), the key the node of a target token in ``tok``; the root therefore attends to ``>goal``
  and copies that position's ``mid`` (the goal's parent) into ``out`` as the target token.

Registers (what the register probes must find): ':' holds the goal (level 0) after layer 0, and
':' and the goal position (a source token, so it queries too) hold the goal's parent (level 1)
after layer 1; nothing reads them afterwards (layer 1 is the last).
"""

from __future__ import annotations

import math

import torch

from algolens.models.transformer import Transformer, TransformerConfig
from algolens.tasks.pathfinding.tokens import Vocab

SCALE = 48.0
LOGIT = 30.0


def deduction_model(n_nodes: int) -> Transformer:
    v = Vocab(n_nodes)
    nv, t = len(v), v.width - 1
    tok, pos = slice(0, nv), slice(nv, nv + t)
    mid, out = slice(nv + t, 2 * nv + t), slice(2 * nv + t, 3 * nv + t)
    d_head = max(nv, t)
    cfg = TransformerConfig(
        d_vocab=nv, d_vocab_out=nv, n_ctx=t, n_layers=2, n_heads=1, d_model=3 * nv + t,
        d_head=d_head, d_mlp=4, bias="none", dtype="float64",
    )  # fmt: skip
    model = Transformer(cfg)
    eye = torch.eye(nv, dtype=torch.float64)
    key_of = {i: i for i in range(t)}
    for e in range(n_nodes - 1):
        key_of[v.edge_positions(e)[1]] = v.edge_positions(e)[0]
    key_of[v.root_pos] = v.goal_pos
    key_of[v.goal_pos + 1] = v.goal_pos  # ':' becomes a register holding the goal
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.embed.W_E[0, :, tok] = eye
        model.pos_embed.W_pos[0, :, pos] = torch.eye(t, dtype=torch.float64)
        model.unembed.W_U[0, out, :] = LOGIT * eye
        a0, a1 = model.blocks[0].attn, model.blocks[1].attn
        for i in range(t):
            a0.W_Q[0, 0, pos.start + i, key_of[i]] = SCALE
            a0.W_K[0, 0, pos.start + i, i] = SCALE
        a0.W_V[0, 0, tok, :nv] = eye
        a0.W_O[0, 0, :nv, mid] = eye
        for x in range(n_nodes):
            a1.W_Q[0, 0, mid.start + v.src(x), x] = SCALE
            a1.W_K[0, 0, tok.start + v.tgt(x), x] = SCALE
            a1.W_V[0, 0, mid.start + v.src(x), x] = 1.0  # the parent's source token ...
            a1.W_O[0, 0, x, out.start + v.tgt(x)] = 1.0  # ... written as its target token
    assert SCALE**2 / math.sqrt(d_head) > 300  # one key wins; the others' weights underflow
    return model.eval()
