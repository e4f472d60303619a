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


def find_subgroup(g, order: int, *, normal: bool) -> int:
    """Index in ``g.subgroup_lattice.subgroups`` of a subgroup of ``order`` (normal or not)."""
    lat = g.subgroup_lattice
    return next(
        i for i, s in enumerate(lat.subgroups)
        if s.order == order and lat.classes[s.class_index].normal == normal
    )  # fmt: skip


def coset_tables(g, sub: int, shift: int, *, mirrored: bool = False, amp_right: float = 1.0,
                 seed: int = 0):  # fmt: skip
    """``(f_L, f_R)`` ``[|G|]``: a coset neuron in the paper's form, silent when a·b ∈ S = H·g.

    H is ``lattice.subgroups[sub]`` and g the element ``shift``. ``f_L(a) = u[Ha]`` (distinct
    random values u per right coset) and ``f_R(b) = −amp_right·u[H·g·b⁻¹]``, a function of b's
    left coset b·(g⁻¹Hg): a·b ∈ H·g makes the two coset labels equal, so the sum is 0 there (for
    amp_right = 1). ``mirrored``: the same with left and right cosets exchanged (left cosets aH
    for the left side), the other convention.
    """
    ids = g.subgroup_lattice.coset_table("left" if mirrored else "right")[sub]
    u = np.random.default_rng(seed).permutation(ids.max() + 1).astype(float)
    inv = g.inv(np.arange(g.order))
    x = g.mul(inv, shift) if mirrored else g.mul(shift, inv)
    return u[ids], -amp_right * u[ids[x]]


def table_net(g, f_left, f_right, *, seed: int = 0):
    """One-hot embeddings, so the pre-activation tables are ``W_in``'s halves: ``f_left`` and
    ``f_right`` ``[|G|, k]``; a random unembedding."""
    n, k = f_left.shape
    eye = np.eye(n)
    w_u = np.random.default_rng(seed).normal(size=(k, n))
    return make_mlp(n, eye, eye, np.concatenate([f_left, f_right]), w_u)
