"""Generic causal-analysis toolkit for our transformers (any task; docs/causal.md).

Every function takes one single-instance :class:`~algolens.models.transformer.Transformer`
(``model.instance(k)``) and :class:`Examples` (token rows, scored positions, named features):

* :mod:`.examples`: the inputs, residual-stream collection, losses and patching metrics;
* :mod:`algolens.analysis.causal.probes`: linear probes per layer and position with a control task;
* :mod:`.erasure`: LEACE concept erasure through a hook;
* :mod:`.patching`: activation patching (TransformerLens ``patching``), normalised effects;
* :mod:`.knockout`: attention knockout from a query to a key position of one head;
* :mod:`.lens`: logit lens and tuned lens, per-layer KL / agreement / accuracy;
* :mod:`.scrubbing`: causal scrubbing of hypotheses written as data, loss recovered.
"""

from algolens.analysis.causal.erasure import ErasureEffect, erase, erased_logits, fit_eraser
from algolens.analysis.causal.examples import (
    Examples,
    Metric,
    Position,
    logit_diff_metric,
    logits_of,
    loss_metric,
    masked_accuracy,
    masked_loss,
    resid_at,
    resid_at_positions,
    resid_hook,
    resid_scored,
)
from algolens.analysis.causal.knockout import (
    KnockoutEffect,
    knocked_logits,
    knockout,
    knockout_grid,
)
from algolens.analysis.causal.lens import LensCurve, TunedLens, fit_tuned_lens, lens_curve, unembed
from algolens.analysis.causal.patching import KINDS, PatchResult, patch
from algolens.analysis.causal.scrubbing import (
    Claim,
    Hypothesis,
    ScrubResult,
    scrub,
    scrubbed_logits,
)

__all__ = [
    "KINDS",
    "Claim",
    "ErasureEffect",
    "Examples",
    "Hypothesis",
    "KnockoutEffect",
    "LensCurve",
    "Metric",
    "PatchResult",
    "Position",
    "ScrubResult",
    "TunedLens",
    "erase",
    "erased_logits",
    "fit_eraser",
    "fit_tuned_lens",
    "knocked_logits",
    "knockout",
    "knockout_grid",
    "lens_curve",
    "logit_diff_metric",
    "logits_of",
    "loss_metric",
    "masked_accuracy",
    "masked_loss",
    "patch",
    "resid_at",
    "resid_at_positions",
    "resid_hook",
    "resid_scored",
    "scrub",
    "scrubbed_logits",
    "unembed",
]
