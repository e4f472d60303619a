"""Hand-built composition MLPs for the coset analyses (weights set by hand, float64)."""

from __future__ import annotations

import numpy as np
import torch

from algolens.groups import parse_group
from algolens.models import build_model


def make_mlp(n: int, e_left, e_right, w_in, w_u, *, bias: float | None = None):
    """A one-instance float64 MLP with the given embeddings, ``W_in``, ``W_U`` (and b_in)."""
    d_embed, d_mlp = e_left.shape[1], w_u.shape[0]
    cfg = {"d_vocab": n, "d_embed": d_embed, "d_mlp": d_mlp, "dtype": "float64"}
    model = build_model("mlp", dict(cfg, bias=bias is not None))
    with torch.no_grad():
        model.W_E_left[0] = torch.from_numpy(e_left)
        model.W_E_right[0] = torch.from_numpy(e_right)
        model.mlp.W_in[0] = torch.from_numpy(w_in)
        model.W_U[0] = torch.from_numpy(w_u)
        if bias is not None:
            model.mlp.b_in[0] = bias
    return model


def sign_net(seed: int = 2):
    """S4: neurons 0/1 are a pair of sign neurons ReLU(±1.5(sgn a − sgn b)) sharing one
    unembedding vector; neuron 2 is ReLU of random operand features (no coset structure).
    Returns (group, model)."""
    g = parse_group("S4")
    rng = np.random.default_rng(seed)
    sgn = np.where(np.isin(np.arange(24), g.commutator_subgroup), 1.0, -1.0)
    e = np.column_stack([sgn, rng.normal(size=(24, 2))])  # [24, 3] both sides
    w_in = np.zeros((6, 3))
    w_in[0, 0], w_in[3, 0] = 1.5, -1.5  # neuron 0: 1.5 sgn a − 1.5 sgn b
    w_in[0, 1], w_in[3, 1] = -1.5, 1.5  # neuron 1: its negation
    w_in[1:3, 2], w_in[4:6, 2] = rng.normal(size=2), rng.normal(size=2)
    w_u = rng.normal(size=(3, 24))
    w_u[1] = w_u[0]
    return g, make_mlp(24, e, e, w_in, w_u)
