"""Brute-force references for the analysis tests: whole cubes built element by element."""

from __future__ import annotations

import itertools

import numpy as np


def cube(group, rho):
    """T[a, b, c] = tr ρ(a b c⁻¹), built element by element from the matrices."""
    n, t, inv = group.order, group.table, group.inverses
    out = np.empty((n, n, n))
    for a, b, c in itertools.product(range(n), repeat=3):
        out[a, b, c] = np.trace(rho.matrices[t[t[a, b], inv[c]]])
    return out


def naive_similarity(logits, t):
    lc = logits - logits.mean(-1, keepdims=True)
    tc = t - t.mean(-1, keepdims=True)
    denom = np.linalg.norm(lc) * np.linalg.norm(tc)
    return 0.0 if denom == 0 else float(np.sum(lc * tc) / denom)
