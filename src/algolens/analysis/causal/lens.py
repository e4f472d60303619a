"""Logit lens and tuned lens: what each residual layer already predicts.

For residual layer ``l`` (``0..n_layers``, see :mod:`.examples`) and stream ``h [M, d_model]``
at the scored positions:

* **logit lens** (nostalgebraist 2020): ``logits_l = unembed(h)``, where ``unembed`` is the
  model's own final LayerNorm (if any) and ``W_U, b_U``;
* **tuned lens** (Belrose et al. 2023): ``logits_l = unembed(h + h·A_l + b_l)`` with one affine
  *translator* ``(A_l [d_model, d_model], b_l [d_model])`` per layer, trained to make the lens
  predict the model's final logits. We start from the least-squares solution of
  ``h_final ≈ h·(I + A_l) + b_l`` over the fit set (closed form, float64, minimum norm: exact
  when the rest of the network is affine on the data's span) and then minimise
  ``KL(final ‖ lens)`` with Adam for ``kl_steps`` full-batch steps (keeping the best seen).
  The last layer's translator is the identity.

Each lens is scored on held-out inputs (:func:`lens_curve`), per layer: mean ``KL(final ‖ lens)``
in nats, ``agreement`` (the lens's argmax is the model's) and ``accuracy`` (the lens's argmax is
the target: the "layerwise decoding accuracy" of Brinkmann et al.).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from algolens.analysis.causal.examples import Examples, check_single, resid_scored
from algolens.errors import ConfigError
from algolens.models.transformer import Transformer

RCOND = 1e-6
"""Singular values below this share of the largest are dropped from the least-squares fit: a
float32 stream's rounding (relative 1e-7) spans directions a fit with a tiny cutoff would use
with huge weights, which blow up on held-out rows."""


def unembed(model: Transformer, h: torch.Tensor) -> torch.Tensor:
    """``h [..., d_model]`` -> logits ``[..., d_vocab_out]`` through the final LayerNorm (if any)
    and the unembedding of the single-instance ``model``."""
    if model.cfg.layernorm:
        ln = model.ln_final
        h = h - h.mean(-1, keepdim=True)
        h = h / (h.pow(2).mean(-1, keepdim=True) + 1e-5).sqrt()
        h = h * ln.w[0].to(h.dtype) + ln.b[0].to(h.dtype)
    logits = h @ model.unembed.W_U[0].to(h.dtype)
    b = model.unembed.b_U
    return logits if b is None else logits + b[0].to(h.dtype)


@dataclass
class TunedLens:
    """One affine translator per residual layer: ``h -> h·(I + A) + b``.

    Attributes:
        layers: the residual layers, ``0..n_layers``.
        weight: ``[layer, d_model, d_model]``, the matrix ``I + A_l`` (float64).
        bias: ``[layer, d_model]`` (float64).
    """

    layers: list[int]
    weight: torch.Tensor
    bias: torch.Tensor

    def translate(self, i: int, h: torch.Tensor) -> torch.Tensor:
        """``h [..., d_model]`` of ``layers[i]`` mapped into the final layer's basis."""
        return h.double() @ self.weight[i] + self.bias[i]


def _kl(final: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    """``[M]``: ``KL(softmax(final) ‖ softmax(lens))`` per row, in nats."""
    p = final.log_softmax(-1)
    return (p.exp() * (p - lens.log_softmax(-1))).sum(-1)


def fit_tuned_lens(
    model: Transformer, fit: Examples, *, kl_steps: int = 100, lr: float = 1e-3
) -> TunedLens:
    """Fit a translator for every residual layer on the scored positions of ``fit``.

    Args:
        model: a single-instance transformer.
        fit: the inputs to fit on (score on others, :func:`lens_curve`).
        kl_steps: full-batch Adam steps on ``KL(final ‖ lens)`` after the least-squares start.
        lr: Adam's learning rate.
    """
    check_single(model)
    if kl_steps < 0:
        raise ConfigError(f"kl_steps must be >= 0, got {kl_steps}")
    n = model.cfg.n_layers
    layers = list(range(n + 1))
    acts = resid_scored(model, fit, layers).double()  # [layer, M, d_model]
    if acts.shape[1] == 0:
        raise ConfigError("the tuned lens needs inputs with at least one scored position")
    final = acts[-1]  # [M, d_model]
    with torch.no_grad():
        final_logits = unembed(model, final)  # [M, d_vocab_out]
    d = model.cfg.d_model
    weights, biases = [], []
    for i in layers:
        h = acts[i]
        x = torch.cat([h, torch.ones(len(h), 1, dtype=h.dtype)], 1)  # [M, d_model + 1]
        # minimum-norm least squares (directions the data never spans get no weight)
        w = torch.linalg.lstsq(x, final, rcond=RCOND, driver="gelsd").solution if i < n else None
        if w is None:  # the last layer: the identity
            w = torch.cat([torch.eye(d, dtype=h.dtype), torch.zeros(1, d, dtype=h.dtype)])
        elif kl_steps:
            w = _refine(model, x, final_logits, w, kl_steps, lr)
        weights.append(w[:d])
        biases.append(w[d])
    return TunedLens(layers, torch.stack(weights), torch.stack(biases))


def _refine(
    model: Transformer,
    x: torch.Tensor,
    final_logits: torch.Tensor,
    w: torch.Tensor,
    steps: int,
    lr: float,
) -> torch.Tensor:
    """Adam on the mean ``KL(final ‖ unembed(x·w))`` from ``w``; returns the best ``w`` seen."""
    w = w.clone().requires_grad_(True)
    opt = torch.optim.Adam([w], lr=lr)
    best, best_w = float("inf"), w.detach().clone()
    for _ in range(steps + 1):
        loss = _kl(final_logits, unembed(model, x @ w)).mean()
        if float(loss.detach()) < best:
            best, best_w = float(loss.detach()), w.detach().clone()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return best_w


@dataclass(frozen=True)
class LensCurve:
    """Per residual layer: mean KL to the final logits (nats), agreement with the model's
    argmax, accuracy against the targets, on held-out scored positions."""

    kind: str  # "logit" or "tuned"
    layers: list[int]
    kl: list[float]
    agreement: list[float]
    accuracy: list[float]

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "layers": self.layers,
            "kl": self.kl,
            "agreement": self.agreement,
            "accuracy": self.accuracy,
        }


@torch.no_grad()
def lens_curve(model: Transformer, test: Examples, lens: TunedLens | None = None) -> LensCurve:
    """Score the logit lens (``lens=None``) or a tuned lens on the scored positions of ``test``."""
    check_single(model)
    layers: Sequence[int] = list(range(model.cfg.n_layers + 1))
    acts = resid_scored(model, test, layers).double()  # [layer, M, d_model]
    targets = test.targets[test.mask]  # [M]
    final = unembed(model, acts[-1])
    top = final.argmax(-1)
    kl, agree, acc = [], [], []
    for i in layers:
        h = acts[i] if lens is None else lens.translate(i, acts[i])
        logits = unembed(model, h)
        pred = logits.argmax(-1)
        kl.append(float(_kl(final, logits).mean()))
        agree.append(float((pred == top).double().mean()))
        acc.append(float((pred == targets).double().mean()))
    return LensCurve("logit" if lens is None else "tuned", list(layers), kl, agree, acc)
