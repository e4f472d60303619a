"""LEACE removes a linearly encoded concept: probes fall to chance, the copy model breaks.

(Erasing a concept that is *not* encoded is not harmless in a small space: LEACE always removes
``classes − 1`` whitened directions, then chosen by sampling noise; so the "unused" control below
is a concept that is encoded, by the distractor head, but not used.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algolens.analysis.causal import erase, fit_eraser
from algolens.analysis.causal.probes import probe_score
from algolens.errors import ConfigError
from tests.analysis.causal.handbuilt import T, copy_examples, copy_model


def test_leace_makes_a_linear_concept_undecodable() -> None:
    rng = np.random.default_rng(0)
    z = rng.integers(0, 3, size=2000)
    means = rng.normal(size=(3, 10)) * 3.0  # the concept moves the class means apart
    x = rng.normal(size=(2000, 10)) + means[z]
    fit, test = slice(0, 1000), slice(1000, 2000)
    assert probe_score(x[fit], z[fit], x[test], z[test]).accuracy > 0.95
    eraser = fit_eraser(torch.as_tensor(x[fit]), z[fit])
    erased = eraser(torch.as_tensor(x)).numpy()
    after = probe_score(erased[fit], z[fit], erased[test], z[test])
    assert after.accuracy < 0.40  # three balanced classes: chance is 1/3
    # the class means of the erased data coincide (LEACE's defining property)
    class_means = np.stack([erased[fit][z[fit] == k].mean(0) for k in range(3)])
    assert np.abs(class_means - class_means.mean(0)).max() < 1e-8
    with pytest.raises(ConfigError, match="two distinct"):
        fit_eraser(torch.as_tensor(x[:5]), np.zeros(5))


def test_erasing_the_copied_token_breaks_the_copy_model_and_nothing_else_does() -> None:
    model = copy_model(p=2, head=1)
    fit, test = copy_examples(2000, 2, seed=0), copy_examples(400, 2, seed=1)
    hit = erase(model, fit, test, "tok2", layer=1, pos=T - 1)
    assert hit.accuracy == 1.0 and hit.erased_accuracy < 0.35
    assert hit.probe_f1 > 0.99 and hit.erased_probe_f1 < 0.35
    assert hit.erased_loss > hit.loss + 1.0
    # the distractor head's token is there too, but unused: erased, the answer survives
    miss = erase(model, fit, test, "tok4", layer=1, pos=T - 1)
    assert miss.probe_f1 > 0.99 and miss.erased_probe_f1 < 0.35
    assert miss.erased_accuracy > 0.95
