"""Networks whose weights are set by hand to implement GCR with chosen irreps.

Each embedding row is the flattened matrices ``ρ(a)`` of the chosen irreps, so ``W_a`` and ``W_b``
lie in their span by construction; the hidden layer is ReLU of random linear functions of those
entries; the unembedding is the minimum-norm least-squares solution that makes the logits equal
``Σ_ρ s_ρ χ_ρ(a·b·c⁻¹)`` on all pairs (exact when the hidden features span every function of
(a, b), which the tests check through the fit residual).
"""

from __future__ import annotations

import numpy as np
import torch

from algolens.groups.group import FiniteGroup
from algolens.groups.reps import Irrep
from algolens.models import build_model


def target_logits(group: FiniteGroup, chosen: list[tuple[Irrep, float]]) -> np.ndarray:
    """``[|G|², |G|]``: ``Σ s·χ_ρ(a·b·c⁻¹)`` for pair row ``a·|G| + b`` (element by element)."""
    n, t, inv = group.order, group.table, group.inverses
    out = np.zeros((n * n, n))
    for rho, s in chosen:
        chi = np.trace(rho.matrices, axis1=1, axis2=2)  # [g]
        for a in range(n):
            for b in range(n):
                out[a * n + b] = out[a * n + b] + s * chi[t[t[a, b], inv]]
    return out


def embedding(chosen: list[tuple[Irrep, float]]) -> np.ndarray:
    """``[|G|, Σ d²]``: the flattened ρ(a) of every chosen irrep, side by side."""
    return np.concatenate([r.matrices.reshape(r.matrices.shape[0], -1) for r, _ in chosen], 1)


def random_w_in(d_in: int, d_mlp: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(d_in, d_mlp))


def fit_unembed(hidden: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float]:
    """Minimum-norm least squares ``hidden @ W ≈ target``; returns W and the max residual."""
    w = np.linalg.pinv(hidden, rcond=1e-10) @ target
    return w, float(np.abs(hidden @ w - target).max())


def gcr_mlp(group: FiniteGroup, chosen: list[tuple[Irrep, float]], d_mlp: int, seed: int = 0):
    """A float64 one-instance MLP implementing GCR with ``chosen`` = [(irrep, scale)]; returns
    (model, fit residual)."""
    n = group.order
    e = embedding(chosen)  # [n, d_embed]
    d_embed = e.shape[1]
    model = build_model(
        "mlp", {"d_vocab": n, "d_embed": d_embed, "d_mlp": d_mlp, "dtype": "float64"}
    )
    w_in = random_w_in(2 * d_embed, d_mlp, seed)
    pre = (e @ w_in[:d_embed])[:, None] + (e @ w_in[d_embed:])[None]  # [a, b, d_mlp]
    hidden = np.maximum(pre, 0).reshape(n * n, d_mlp)
    w_u, resid = fit_unembed(hidden, target_logits(group, chosen))
    with torch.no_grad():
        model.W_E_left[0] = torch.from_numpy(e)
        model.W_E_right[0] = torch.from_numpy(e)
        model.mlp.W_in[0] = torch.from_numpy(w_in)
        model.W_U[0] = torch.from_numpy(w_u)
    return model, resid


def gcr_transformer(
    group: FiniteGroup, chosen: list[tuple[Irrep, float]], d_mlp: int, seed: int = 0
):
    """A float64 1-layer transformer on ``[a, b, =]`` implementing GCR; returns (model, residual).

    Residual stream layout: ``[token part (d²) | position one-hot (3) | A (d²) | B (d²) | out
    (|G|)]``. Head 0 attends to position 0 and head 1 to position 1 (scores ±100 on the position
    one-hot), each copying the token part into A or B; the MLP reads A and B like the MLP above
    and writes the fitted unembedding into ``out``, which ``W_U`` reads as the identity.
    """
    n = group.order
    e = embedding(chosen)  # [n, k]
    k = e.shape[1]
    d_model = 3 * k + 3 + n
    tok, pos, blk_a, blk_b, out = 0, k, k + 3, 2 * k + 3, 3 * k + 3
    cfg = {
        "d_vocab": n + 1,
        "d_vocab_out": n,
        "n_ctx": 3,
        "n_heads": 2,
        "d_model": d_model,
        "d_head": k,
        "d_mlp": d_mlp,
        "dtype": "float64",
    }
    model = build_model("transformer", cfg)
    w_in = random_w_in(2 * k, d_mlp, seed)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.embed.W_E[0, :n, tok : tok + k] = torch.from_numpy(e)
        model.pos_embed.W_pos[0, :, pos : pos + 3] = torch.eye(3, dtype=torch.float64)
        attn = model.blocks[0].attn
        for head, (src, dst) in enumerate(((0, blk_a), (1, blk_b))):
            attn.W_Q[0, head, pos + 2, 0] = 10.0  # the query at `=` reads its position
            attn.W_K[0, head, pos + src, 0] = 10.0 * np.sqrt(k)  # score 100 at position src
            attn.W_V[0, head, tok : tok + k] = torch.eye(k, dtype=torch.float64)
            attn.W_O[0, head, :, dst : dst + k] = torch.eye(k, dtype=torch.float64)
        mlp = model.blocks[0].mlp
        mlp.W_in[0, blk_a : blk_a + k] = torch.from_numpy(w_in[:k])
        mlp.W_in[0, blk_b : blk_b + k] = torch.from_numpy(w_in[k:])
        model.unembed.W_U[0, out : out + n] = torch.eye(n, dtype=torch.float64)
    tokens = torch.stack(
        [
            torch.arange(n).repeat_interleave(n),
            torch.arange(n).repeat(n),
            torch.full((n * n,), n),
        ],
        -1,
    )
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens, names_filter=["blocks.0.mlp.hook_post"])
    hidden = cache["blocks.0.mlp.hook_post"][:, -1].numpy()  # [n², d_mlp]
    w_u, resid = fit_unembed(hidden, target_logits(group, chosen))
    with torch.no_grad():
        mlp.W_out[0, :, out : out + n] = torch.from_numpy(w_u)
    return model, resid
