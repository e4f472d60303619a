"""The mechanism finder for path-finding models (Brinkmann et al. 2024), on any checkpoint.

Every answer is measured on the model and inputs given; nothing is tied to one checkpoint. The
only positions used are those the task's format fixes for every tree of N nodes (edge i at 3i
and 3i+1, the goal at 3N-3, the root at 3N-1; :mod:`algolens.tasks.pathfinding.tokens`); which
layer, head or position does what is found from the data:

* **edge concatenation** (:func:`edge_concat`): a linear probe
  (:mod:`algolens.analysis.causal.probes`,
  macro-F1 with a control task) for an edge's *source* from the residual stream at its *target*
  token ``>B``, per layer; the concatenation block is the first whose output reaches
  ``F1_THRESHOLD`` (the paper: chance before layer 0, 1.0 after it). Before and after block 0
  the probe's answers are kept prompt by prompt beside a chance baseline, the same probe fitted
  on shuffled labels (:func:`shuffled_control`). As a causal check, LEACE erases the source from
  the stream after that block (after block 0 when none reaches the threshold) at the goal's edge
  (``>goal``, whose source the first deduction step needs), and the task loss before and after
  is reported;
* **goal mover** (:func:`goal_heads`): mean attention from the root position (which predicts the
  first path token) to the goal position, per layer and head; the best head is checked by
  attention knockout (:func:`algolens.analysis.causal.knockout`); layer 0's best head is kept
  prompt by prompt beside chance (uniform attention) (:func:`goal_per_prompt`);
* **deduction heads** (:func:`deduction_scores`): at every scored position the current node is
  ``c`` and the nodes still to come are the goal's ancestors ``a_0 = goal, a_1, ...`` below
  ``c``; the mean attention to the target token ``>a_k`` of the edge into ``a_k``, per layer,
  head and level k. A deduction head's attention sits on path edges (``path_mass``, against
  ``chance``: the share of visible positions that are such edges), and the level it reads
  (argmax over k of the mean per step, :func:`level_argmax`) rises by one per layer when the
  model backward-chains one level per layer;
* **depth per layer** (:func:`lens_depth`): the tuned lens's decoding accuracy per layer (the
  paper's "layerwise decoding accuracy") and, at the root position, which ancestor level of the
  goal each layer's lens decodes;
* **registers and merging** (:func:`register_mass`): attention from the scored positions to
  prompt positions that hold no edge target (sources, commas, '|', goal, ':') per layer and head,
  with the positions that receive most; the merging layer is the one whose head puts most mass
  there (a heuristic: attention, not a causal test);
* **causal scrubbing** (:func:`scrub_layers`): per layer l the hypothesis "block l's attention
  output at the root position depends on the input only through ``a_l``, the goal's l-th
  ancestor" (backward chaining, written as data for :mod:`algolens.analysis.causal.scrubbing`),
  loss recovered overall and by path length.

* **register sub-goals**
  (:func:`algolens.analysis.pathfinding.mechanism_registers.register_probes`):
  per register position and residual layer, probes for each ancestor level of the goal; the
  (position, level) pairs that decode it, with a knockout of the root's attention to them.
* **activation patching** (:func:`algolens.analysis.pathfinding.mechanism_patching.goal_patching`):
  the
  clean residual stream patched into goal-swapped prompts, per block and position;
* **one-step lookahead** (:func:`algolens.analysis.pathfinding.mechanism_lookahead.lookahead`): the
  log-probability of the wrong child at each step, by whether that child has children.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from algolens.analysis.causal import (
    Claim,
    Examples,
    Hypothesis,
    erase,
    fit_tuned_lens,
    knockout,
    lens_curve,
    resid_at,
    scrub,
    unembed,
)
from algolens.analysis.causal.examples import Position, collect, logits_of, resid_at_positions
from algolens.analysis.causal.probes import probe_grid, probe_predict
from algolens.analysis.pathfinding.mechanism_features import (
    RowFacts,
    pathfinding_examples,
    row_facts,
)
from algolens.analysis.pathfinding.mechanism_lookahead import lookahead
from algolens.analysis.pathfinding.mechanism_patching import goal_patching
from algolens.analysis.pathfinding.mechanism_registers import (
    position_kind,
    register_positions,
    register_probes,
)
from algolens.errors import ConfigError
from algolens.models.transformer import Transformer
from algolens.tasks.pathfinding.tokens import Vocab

F1_THRESHOLD = 0.9
"""Probe macro-F1 at which an edge's source counts as present at its target token."""
MIN_ROWS_PER_LENGTH = 20
"""Fewest rows of one path length for a per-length scrubbing figure."""


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


def find_mechanism(
    model: Transformer, tokens: torch.Tensor, vocab: Vocab, *, n_fit: int, seed: int = 0
) -> dict[str, Any]:
    """Every measurement above on one single-instance model.

    Args:
        tokens: ``[N, 4N-1]`` rows (prompt, path, padding); the first ``n_fit`` fit the probes
            and the lens, the rest score them and everything else.
    """
    if not 0 < n_fit < len(tokens):
        raise ConfigError(f"n_fit must lie in 1..{len(tokens) - 1}, got {n_fit}")
    ex = pathfinding_examples(tokens, vocab)
    fit, test = ex.subset(np.arange(n_fit)), ex.subset(np.arange(n_fit, len(ex)))
    facts = row_facts(tokens[n_fit:], vocab)
    patterns = attention_patterns(model, test.tokens)
    goal = goal_heads(patterns, vocab)
    g_layer, g_head = _argmax2(goal)
    ko = knockout(model, test, g_layer, g_head, vocab.root_pos, vocab.goal_pos)
    deduction = deduction_scores(patterns, facts, vocab)
    registers = register_mass(patterns, facts, vocab)
    heads = [_argmax1(row) for row in deduction["path_mass"]]
    merge = _argmax2(registers["mass"])
    return {
        "n_fit": n_fit,
        "n_test": len(test),
        "edge_concat": edge_concat(model, fit, test, vocab),
        "goal_heads": {
            "attention": goal,
            "best": [g_layer, g_head],
            "knockout": ko.to_dict(),
            "layer0": goal_per_prompt(patterns, vocab, 0),
        },
        "deduction": {
            **deduction,
            "heads": [
                {
                    "layer": i,
                    "head": h,
                    "path_mass": deduction["path_mass"][i][h],
                    "level": deduction["level"][i][h],
                }
                for i, h in enumerate(heads)
            ],
        },  # fmt: skip
        "registers": {**registers, "merge_layer": merge[0], "merge_head": merge[1]},
        "register_probes": register_probes(model, fit, test, vocab),
        "lens": lens_depth(model, fit, test, vocab),
        "scrubbing": scrub_layers(model, test, vocab, seed=seed),
        "lookahead": lookahead(logits_of(model, test.tokens), test.tokens, vocab),
        "patching": goal_patching(model, test.tokens, vocab),
        "example": example_attention(patterns, test, facts, vocab),
    }


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


def _argmax1(xs: list[float]) -> int:
    return int(np.argmax(xs))


def _argmax2(grid: list[list[float]]) -> tuple[int, int]:
    a = np.asarray(grid)
    i, j = np.unravel_index(int(np.argmax(a)), a.shape)
    return int(i), int(j)
