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

The measurements read from attention patterns (goal mover, deduction heads, register attention,
the report's example) live in :mod:`algolens.analysis.pathfinding.mechanism_attention`, those of
the residual stream (probes, erasure, tuned lens, scrubbing) in
:mod:`algolens.analysis.pathfinding.mechanism_stream`; :func:`find_mechanism` runs them all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from algolens.analysis.causal import knockout
from algolens.analysis.causal.examples import logits_of
from algolens.analysis.pathfinding.mechanism_attention import (
    attention_patterns,
    deduction_scores,
    example_attention,
    goal_heads,
    goal_per_prompt,
    register_mass,
)
from algolens.analysis.pathfinding.mechanism_features import pathfinding_examples, row_facts
from algolens.analysis.pathfinding.mechanism_lookahead import lookahead
from algolens.analysis.pathfinding.mechanism_patching import goal_patching
from algolens.analysis.pathfinding.mechanism_registers import register_probes
from algolens.analysis.pathfinding.mechanism_stream import edge_concat, lens_depth, scrub_layers
from algolens.errors import ConfigError
from algolens.models.transformer import Transformer
from algolens.tasks.pathfinding.tokens import Vocab


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


def _argmax1(xs: list[float]) -> int:
    return int(np.argmax(xs))


def _argmax2(grid: list[list[float]]) -> tuple[int, int]:
    a = np.asarray(grid)
    i, j = np.unravel_index(int(np.argmax(a)), a.shape)
    return int(i), int(j)
