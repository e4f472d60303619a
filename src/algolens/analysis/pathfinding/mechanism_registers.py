"""Register positions and their sub-goals (Brinkmann et al. 2024's register probes).

Brinkmann et al. find that prompt positions holding no edge target (late edge sources, commas,
'|', the goal, ':') act as registers: they hold sub-paths or sub-goals of the search, which the
path-merging layers read. Nothing here names a position in advance. For every such position (a
*position class*, fixed by the task's format for every tree of N nodes: "',' after edge 7",
"source of edge 3", "|", "goal", ":"), every residual layer and every ancestor level k of the goal
(``a_0 = goal, a_1 = parent(goal), ...``), a linear probe (:func:`algolens.analysis.causal.probes.
probe_grid`, macro-F1 with its control task) asks whether the residual stream there decodes
``a_k``. Only rows whose goal has an ancestor ``a_k`` below the root take part (levels with fewer
than ``MIN_ROWS`` such fit or test rows are skipped).

A **register** is a (position, level) whose probe F1 reaches ``REGISTER_F1`` at some residual layer
``l >= 1`` and beats the same probe on the embeddings (layer 0: the token and position alone) by
``MIN_GAIN``; so a position that simply holds ``a_k`` as its token (the goal position holds
``a_0``) is not a register for that level. The earliest such layer is reported. As a causal check,
every head of every block ``>= l`` (those that can read what the register holds) has its
attention from the root position (which predicts the first path token) to the register knocked
out, and the largest loss increase is reported (0 when no later block reads it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from algolens.analysis.causal import Examples, knockout
from algolens.analysis.causal.probes import probe_grid
from algolens.models.transformer import Transformer
from algolens.tasks.pathfinding.tokens import Vocab

REGISTER_F1 = 0.9
"""Probe macro-F1 at which a position counts as holding a sub-goal."""
MIN_GAIN = 0.3
"""How far that F1 must exceed the same probe's F1 on the embeddings (residual layer 0)."""
MIN_ROWS = 10
"""Fewest fit and test rows with an ancestor at a level for that level to be probed."""


def register_positions(vocab: Vocab) -> list[int]:
    """Prompt positions holding no edge target: edge sources, commas, '|', goal, ':'."""
    return [p for p in range(vocab.prompt_len - 1) if p % 3 != 1 or p >= vocab.bar_pos]


def position_kind(pos: int, vocab: Vocab) -> str:
    """The position class of a prompt position, e.g. ``"',' after edge 7"``."""
    names = {vocab.bar_pos: "|", vocab.goal_pos: "goal", vocab.goal_pos + 1: ":"}
    if pos in names:
        return names[pos]
    return f"source of edge {pos // 3}" if pos % 3 == 0 else f"',' after edge {pos // 3}"


def register_probes(
    model: Transformer, fit: Examples, test: Examples, vocab: Vocab, *, max_level: int = 3
) -> dict[str, Any]:
    """Probe every register position for every ancestor level ``0..max_level`` of the goal.

    Args:
        fit, test: path-finding examples (:func:`~algolens.analysis.pathfinding.mechanism_features.
            pathfinding_examples`), disjoint.

    Returns:
        ``{"positions": [pos], "kinds": [str], "layers": [0..n_layers], "levels": [{"level",
        "n_fit", "n_test", "f1": [layer][position], "control_f1": [layer][position] (None
        entries where the token is constant)}], "registers": [{"position", "kind", "level",
        "layer", "f1", "f1_layer0", "control_f1", "knockout"}]}``, registers sorted by level,
        layer and position.
    """
    positions = register_positions(vocab)
    levels, registers = [], []
    for k in range(min(max_level, vocab.n_nodes - 2) + 1):
        fit_k, test_k = _rows_with_level(fit, k), _rows_with_level(test, k)
        if len(fit_k) < MIN_ROWS or len(test_k) < MIN_ROWS:
            continue
        grid = probe_grid(model, fit_k, test_k, f"anc{k}", positions)
        levels.append(
            {"level": k, "n_fit": len(fit_k), "n_test": len(test_k), "f1": grid.f1,
             "control_f1": grid.control_f1}
        )  # fmt: skip
        for j, pos in enumerate(positions):
            base = grid.f1[0][j]
            for i, layer in enumerate(grid.layers):
                f1 = grid.f1[i][j]
                if layer >= 1 and f1 >= REGISTER_F1 and f1 - base >= MIN_GAIN:
                    ctrl = None if grid.control_f1 is None else grid.control_f1[i][j]
                    registers.append(
                        {"position": pos, "kind": position_kind(pos, vocab), "level": k,
                         "layer": layer, "f1": f1, "f1_layer0": base, "control_f1": ctrl,
                         "knockout": _knockout(model, test_k, vocab, layer, pos)}
                    )  # fmt: skip
                    break
    registers.sort(key=lambda r: (r["level"], r["layer"], r["position"]))
    return {
        "positions": positions,
        "kinds": [position_kind(p, vocab) for p in positions],
        "layers": list(range(model.cfg.n_layers + 1)),
        "levels": levels,
        "registers": registers,
    }


def _rows_with_level(ex: Examples, k: int) -> Examples:
    """The rows whose goal has an ancestor ``a_k`` below the root (path length > k)."""
    return ex.subset(np.nonzero(ex.feature("path_len") > k)[0])


def _knockout(model: Transformer, ex: Examples, vocab: Vocab, layer: int, pos: int) -> dict:
    """Largest loss increase over the heads of blocks ``layer..`` from knocking out the root
    position's attention to ``pos`` (``{"layer", "head", "loss_increase"}``; None heads when no
    block reads residual layer ``layer``)."""
    best: dict[str, Any] = {"layer": None, "head": None, "loss_increase": 0.0}
    for i in range(layer, model.cfg.n_layers):
        for h in range(model.cfg.n_heads):
            inc = knockout(model, ex, i, h, vocab.root_pos, pos).loss_increase
            if best["layer"] is None or inc > best["loss_increase"]:
                best = {"layer": i, "head": h, "loss_increase": float(inc)}
    return best
