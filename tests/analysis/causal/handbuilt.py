"""Transformers whose weights are set by hand, so the causal toolkit has known answers.

Residual stream of width ``d_model = 4V + T``, in blocks (``V`` tokens, ``T`` positions):
``tok`` (one-hot token), ``pos`` (one-hot position), ``mid`` (a token moved by layer 0),
``out`` (the answer, read by the unembedding) and ``junk`` (written by distractor heads, read by
nothing). A "move" head puts attention 1 from query position q to key position k, and from
every other query to itself (scores ``SCALE²/√d_head`` on the pos one-hots), and copies one
block of the attended stream into another block at the query.
MLPs are zero. Inputs: random tokens ``0..V-2`` at positions ``0..T-2`` and the token ``V-1``
("=") last; the target at the last position is the token the model copies.
"""

from __future__ import annotations

import numpy as np
import torch

from algolens.analysis.causal import Examples
from algolens.models.transformer import Transformer, TransformerConfig

V, T = 6, 6
SCALE = 48.0  # score SCALE²/√d_head ≈ 940 above every other key: exp underflows, weights exactly 0
LOGIT = 30.0  # unembedding gain: the copied token wins by 30 nats


def blocks(v: int = V, t: int = T) -> dict[str, slice]:
    return {
        "tok": slice(0, v),
        "pos": slice(v, v + t),
        "mid": slice(v + t, 2 * v + t),
        "out": slice(2 * v + t, 3 * v + t),
        "junk": slice(3 * v + t, 4 * v + t),
    }


def empty_model(n_layers: int, n_heads: int) -> Transformer:
    """Float64, no LayerNorm, no biases, every weight zero except tok/pos embeddings."""
    cfg = TransformerConfig(
        d_vocab=V, d_vocab_out=V, n_ctx=T, n_layers=n_layers, n_heads=n_heads,
        d_model=4 * V + T, d_head=V, d_mlp=4, bias="none", dtype="float64",
    )  # fmt: skip
    model = Transformer(cfg)
    b = blocks()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.embed.W_E[0, :, b["tok"]] = torch.eye(V, dtype=torch.float64)
        model.pos_embed.W_pos[0, :, b["pos"]] = torch.eye(T, dtype=torch.float64)
        model.unembed.W_U[0, b["out"], :] = LOGIT * torch.eye(V, dtype=torch.float64)
    return model.eval()


def move_head(
    model: Transformer, layer: int, head: int, query: int, key: int, src: str, dst: str
) -> None:
    """Make ``head`` of ``layer`` copy block ``src`` at position ``key`` into block ``dst`` at
    position ``query``; every other query attends to itself (and copies its own ``src``).

    Keys are ``SCALE·e_j`` for position j; queries ``SCALE·e_i``, except ``SCALE·e_key`` at
    ``query``: each query's one large score picks its key (``d_head = V ≥ T``).
    """
    b, attn = blocks(), model.blocks[layer].attn
    eye = torch.eye(V, dtype=torch.float64)
    with torch.no_grad():
        for i in range(T):
            attn.W_Q[0, head, b["pos"].start + i, key if i == query else i] = SCALE
            attn.W_K[0, head, b["pos"].start + i, i] = SCALE
        attn.W_V[0, head, b[src], :] = eye
        attn.W_O[0, head, :, b[dst]] = eye


def copy_model(p: int = 2, head: int = 1, distractor: int = 4) -> Transformer:
    """1 layer, 2 heads: ``head`` copies the token at position ``p`` to the last position's
    answer; the other head copies the token at ``distractor`` into ``junk``."""
    assert V >= T, "move_head needs d_head = V >= T"
    model = empty_model(1, 2)
    move_head(model, 0, head, T - 1, p, "tok", "out")
    move_head(model, 0, 1 - head, T - 1, distractor, "tok", "junk")
    return model


def chain_model(a: int = 1, p: int = 3) -> Transformer:
    """2 layers, 2 heads: layer 0 head 0 moves the token at ``a`` to position ``p`` (``mid``);
    layer 1 head 1 copies ``mid`` at ``p`` to the last position's answer. Heads 1 of layer 0 and
    0 of layer 1 are distractors writing ``junk`` (from positions 4 and 0)."""
    model = empty_model(2, 2)
    move_head(model, 0, 0, p, a, "tok", "mid")
    move_head(model, 0, 1, T - 1, 4, "tok", "junk")
    move_head(model, 1, 1, T - 1, p, "mid", "out")
    move_head(model, 1, 0, T - 1, 0, "tok", "junk")
    return model


def copy_examples(n: int, source: int, seed: int) -> Examples:
    """``n`` random rows; target at the last position = the token at ``source``; features
    ``tok{i}`` (the token at position i, ``[N]``) and ``token`` (the token at every position,
    ``[N, T]``)."""
    rng = np.random.default_rng(seed)
    tokens = torch.as_tensor(rng.integers(0, V - 1, size=(n, T)))
    tokens[:, -1] = V - 1
    targets = torch.zeros_like(tokens)
    targets[:, -1] = tokens[:, source]
    mask = torch.zeros(n, T, dtype=torch.bool)
    mask[:, -1] = True
    feats = {f"tok{i}": tokens[:, i].numpy() for i in range(T)}
    return Examples(tokens, targets, mask, feats | {"token": tokens.numpy()})
