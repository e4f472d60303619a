"""The residual-stream side of the path-finding mechanism finder
(:mod:`algolens.analysis.pathfinding.mechanism`): edge concatenation by probe beside a
shuffled-label probe with a LEACE erasure, tuned-lens depth per layer, and causal scrubbing of
backward chaining per layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from algolens.analysis.causal import (
    Claim,
    Examples,
    Hypothesis,
    erase,
    fit_tuned_lens,
    lens_curve,
    resid_at,
    scrub,
    unembed,
)
from algolens.analysis.causal.examples import Position, resid_at_positions
from algolens.analysis.causal.probes import probe_grid, probe_predict
from algolens.analysis.pathfinding.mechanism_features import row_facts
from algolens.models.transformer import Transformer
from algolens.tasks.pathfinding.tokens import Vocab

F1_THRESHOLD = 0.9
"""Probe macro-F1 at which an edge's source counts as present at its target token."""
MIN_ROWS_PER_LENGTH = 20
"""Fewest rows of one path length for a per-length scrubbing figure."""


def edge_concat(
    model: Transformer, fit: Examples, test: Examples, vocab: Vocab, n_positions: int = 3
) -> dict[str, Any]:
    """Probe the edge source at ``n_positions`` edge-target positions (first, middle, last
    edge), every residual layer; the concatenation block is the first whose output reaches
    ``F1_THRESHOLD`` (mean over the positions)."""
    n_edges = vocab.n_nodes - 1
    picks = sorted({round(i * (n_edges - 1) / max(n_positions - 1, 1)) for i in range(n_positions)})
    positions = [vocab.edge_positions(i)[1] for i in picks]
    grid = probe_grid(model, fit, test, "edge_source", positions)
    f1 = [float(np.mean(row)) for row in grid.f1]
    ctrl = None
    if grid.control_f1 is not None:
        ctrl = [
            float(np.mean([c for c in row if c is not None] or [np.nan])) for row in grid.control_f1
        ]
    reached = [layer for layer, v in zip(grid.layers, f1) if v >= F1_THRESHOLD]
    erasure = None
    erase_at = reached[0] if reached else min(1, model.cfg.n_layers)  # else the paper's block 0
    if len(np.unique(fit.labels_at("edge_source", "goal_edge"))) > 1:
        erasure = erase(model, fit, test, "edge_source", erase_at, "goal_edge").to_dict()
    return {
        "erasure": erasure,
        "per_prompt": shuffled_control(model, fit, test, "edge_source", positions, [0, 1]),
        "positions": positions,
        "f1_by_layer": f1,
        "control_f1_by_layer": ctrl,
        "majority_f1": float(np.mean(grid.majority_f1)),
        "block": reached[0] - 1 if reached else None,  # resid layer l = output of block l-1
    }


def shuffled_control(
    model: Transformer,
    fit: Examples,
    test: Examples,
    label: str,
    positions: list[Position],
    layers: list[int],
    seed: int = 0,
) -> dict[str, Any]:
    """Per test prompt, the probe's answers beside a chance baseline: the same probe fitted on
    the fit labels shuffled across prompts (so the stream cannot predict them).

    (Hewitt & Liang's token control task is no baseline at an edge's target token: the token
    sits in the stream, so a linear probe decodes any function of it at every layer.)

    Returns:
        ``{"layers", "positions", "labels": [position][N], "pred": [layer][position][N],
        "shuffled_pred": [layer][position][N]}``, test prompts in order.
    """
    rng = np.random.default_rng(seed)
    x_fit = resid_at_positions(model, fit, layers, positions).double().numpy()
    x_test = resid_at_positions(model, test, layers, positions).double().numpy()
    labels, pred, shuffled = [], [], []
    for j, pos in enumerate(positions):
        y_fit = fit.labels_at(label, pos)
        y_shuffled = rng.permutation(y_fit)
        labels.append(test.labels_at(label, pos).tolist())
        pred.append([probe_predict(x_fit[i, j], y_fit, x_test[i, j]).tolist()
                     for i in range(len(layers))])  # fmt: skip
        shuffled.append([probe_predict(x_fit[i, j], y_shuffled, x_test[i, j]).tolist()
                         for i in range(len(layers))])  # fmt: skip
    return {
        "layers": list(layers),
        "positions": list(positions),
        "labels": labels,
        "pred": [list(r) for r in zip(*pred, strict=True)],
        "shuffled_pred": [list(r) for r in zip(*shuffled, strict=True)],
    }


def lens_depth(
    model: Transformer, fit: Examples, test: Examples, vocab: Vocab, kl_steps: int = 50
) -> dict[str, Any]:
    """Tuned-lens decoding accuracy per residual layer, and at the root position the share of
    test rows whose lens decodes ``>a_k`` (the goal's k-th ancestor) for each layer."""
    lens = fit_tuned_lens(model, fit, kl_steps=kl_steps)
    curve = lens_curve(model, test, lens)
    facts = row_facts(test.tokens, vocab)
    hs = resid_at(model, test, curve.layers, vocab.root_pos).double()  # [layer, N, d_model]
    levels = []
    for i in range(len(curve.layers)):
        top = unembed(model, lens.translate(i, hs[i])).argmax(-1).tolist()  # [N]
        hist = [0] * (vocab.n_nodes - 1) + [0]  # levels 0..N-2, then "other"
        for t, f in zip(top, facts):
            node = vocab.node_of(t) if vocab.is_target(t) else None
            anc = f.ancestors[:-1]  # the root itself is never written
            hist[anc.index(node) if node in anc else -1] += 1
        levels.append([c / max(len(facts), 1) for c in hist])
    return {
        "layers": curve.layers,
        "accuracy": curve.accuracy,
        "kl": curve.kl,
        "root_levels": levels,
    }


def scrub_layers(model: Transformer, ex: Examples, vocab: Vocab, seed: int = 0) -> list[dict]:
    """Per layer l: loss recovered by "block l's attention output at the root depends only on
    ``a_l``", on all rows and per path length (lengths with ``MIN_ROWS_PER_LENGTH`` rows)."""
    out = []
    lengths = ex.feature("path_len")
    for layer in range(model.cfg.n_layers):
        name = f"anc{min(layer, vocab.n_nodes - 2)}"
        hyp = Hypothesis(
            f"layer {layer}: attn_out at the root depends only on {name}",
            (Claim(f"blocks.{layer}.hook_attn_out", (vocab.root_pos,), name),),
        )
        by_len = {}
        for length in sorted(set(lengths.tolist())):
            idx = np.nonzero(lengths == length)[0]
            if len(idx) >= MIN_ROWS_PER_LENGTH:
                by_len[str(length)] = scrub(model, ex.subset(idx), hyp, seed=seed).loss_recovered
        res = scrub(model, ex, hyp, seed=seed)
        out.append({**res.to_dict(), "layer": layer, "agree_on": name, "by_length": by_len})
    return out
