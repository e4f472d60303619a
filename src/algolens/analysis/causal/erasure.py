"""Concept erasure with LEACE (Belrose et al. 2023, the ``concept-erasure`` package).

LEACE finds the least-squares edit ``x -> x - P(x - mean)`` after which *no linear classifier*
can predict the concept better than a constant (the class-conditional means of the edited ``x``
coincide). :func:`erase` fits the eraser on the residual stream of the fit inputs at one layer
and position, applies it through the layer's hook on the test inputs, and reports the task's
masked loss and accuracy and a fresh linear probe's macro-F1 and accuracy, before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from concept_erasure import LeaceEraser

from algolens.analysis.causal.examples import (
    BATCH,
    Examples,
    Position,
    check_single,
    logits_of,
    loss_accuracy_before_after,
    resid_at,
    resid_hook,
)
from algolens.errors import ConfigError
from algolens.models.transformer import Transformer


def fit_eraser(x: torch.Tensor, labels: np.ndarray) -> LeaceEraser:
    """A LEACE eraser for ``x [n, d]`` and integer-coded ``labels [n]`` (any hashable values)."""
    _, codes = np.unique(np.asarray(labels), return_inverse=True)
    if codes.max(initial=0) < 1:
        raise ConfigError("LEACE needs at least two distinct label values in the fit set")
    z = torch.nn.functional.one_hot(torch.as_tensor(codes), int(codes.max()) + 1)
    return LeaceEraser.fit(x.double(), z.double())


@dataclass(frozen=True)
class ErasureEffect:
    """Task loss/accuracy and probe F1/accuracy on the test inputs, before and after erasure."""

    label: str
    layer: int
    position: Position
    loss: float
    erased_loss: float
    accuracy: float
    erased_accuracy: float
    probe_f1: float
    erased_probe_f1: float
    probe_accuracy: float
    erased_probe_accuracy: float

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@torch.no_grad()
def erased_logits(
    model: Transformer, ex: Examples, eraser: LeaceEraser, layer: int, pos: Position
) -> torch.Tensor:
    """Logits ``[N, T, V]``, residual layer ``layer`` at ``pos`` passed through ``eraser``."""
    check_single(model)
    name, p = resid_hook(model, layer), ex.positions(pos)
    out = []
    for s in range(0, len(ex), BATCH):
        rows = slice(s, min(s + BATCH, len(ex)))

        def edit(act: torch.Tensor, hook: object, rows: slice = rows) -> torch.Tensor:
            act = act.clone()  # [batch, pos, d_model]
            b = torch.arange(act.shape[0])
            act[b, p[rows]] = eraser(act[b, p[rows]].double()).to(act.dtype)
            return act

        out.append(model.run_with_hooks(ex.tokens[rows], fwd_hooks=[(name, edit)]))
    return torch.cat(out)


def erase(
    model: Transformer, fit: Examples, test: Examples, label: str, layer: int, pos: Position
) -> ErasureEffect:
    """Erase feature ``label`` from residual layer ``layer`` at ``pos`` (fitted on ``fit``) and
    measure the effect on ``test`` (see the module docstring)."""
    from algolens.analysis.causal.probes import probe_score  # probes imports this package

    x_fit = resid_at(model, fit, [layer], pos)[0].double()  # [N, d_model]
    x_test = resid_at(model, test, [layer], pos)[0].double()
    y_fit, y_test = fit.labels_at(label, pos), test.labels_at(label, pos)
    eraser = fit_eraser(x_fit, y_fit)
    before = probe_score(x_fit.numpy(), y_fit, x_test.numpy(), y_test)
    after = probe_score(eraser(x_fit).numpy(), y_fit, eraser(x_test).numpy(), y_test)
    clean, cut = logits_of(model, test.tokens), erased_logits(model, test, eraser, layer, pos)
    return ErasureEffect(
        label,
        layer,
        pos,
        *loss_accuracy_before_after(test, clean, cut),
        before.f1,
        after.f1,
        before.accuracy,
        after.accuracy,
    )
