"""Attention knockout: cut the attention of one head from a query position to a key position.

Through the ``blocks.{l}.attn.hook_pattern`` hook, the weight ``pattern[head, q, k]`` is set to
0 (``mode="zero"``, the other weights are *not* renormalised, as in Geva et al. 2023 and
Brinkmann et al. 2024) or to its mean over the given inputs (``mode="mean"``). The effect is the
change of the task's masked loss and accuracy (:class:`KnockoutEffect`).

Positions are ints or ``[N]`` position features (:class:`~.examples.Examples`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from algolens.analysis.causal.examples import (
    BATCH,
    Examples,
    Position,
    check_single,
    collect,
    logits_of,
    loss_accuracy_before_after,
)
from algolens.errors import ConfigError
from algolens.models.transformer import Transformer

MODES = ("zero", "mean")


@dataclass(frozen=True)
class KnockoutEffect:
    """Masked loss and accuracy with and without one knockout."""

    layer: int
    head: int
    query: Position
    key: Position
    loss: float
    knocked_loss: float
    accuracy: float
    knocked_accuracy: float

    @property
    def loss_increase(self) -> float:
        return self.knocked_loss - self.loss

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return d | {"loss_increase": self.loss_increase}


def _check(model: Transformer, layer: int, head: int, mode: str) -> None:
    c = model.cfg
    problems = []
    if not 0 <= layer < c.n_layers:
        problems.append(f"layer must lie in 0..{c.n_layers - 1}, got {layer}")
    if not 0 <= head < c.n_heads:
        problems.append(f"head must lie in 0..{c.n_heads - 1}, got {head}")
    if mode not in MODES:
        problems.append(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if problems:
        raise ConfigError("knockout: " + "; ".join(problems))


@torch.no_grad()
def knocked_logits(
    model: Transformer,
    ex: Examples,
    layer: int,
    head: int,
    query: Position,
    key: Position,
    mode: str = "zero",
) -> torch.Tensor:
    """Logits ``[N, T, V]`` with ``pattern[head, query, key]`` of ``layer`` knocked out."""
    check_single(model)
    _check(model, layer, head, mode)
    name = f"blocks.{layer}.attn.hook_pattern"
    q, k = ex.positions(query), ex.positions(key)
    if bool((k > q).any()):
        raise ConfigError(f"knockout key {key!r} lies after query {query!r}: attention is causal")
    fill = torch.zeros(len(ex), dtype=torch.float64)
    if mode == "mean":

        def select(h: str, act: torch.Tensor, rows: slice) -> torch.Tensor:
            return act[torch.arange(act.shape[0]), head, q[rows], k[rows]]  # [batch]

        fill = collect(model, ex.tokens, [name], select)[name].double().mean().expand(len(ex))
    out = []
    for s in range(0, len(ex), BATCH):
        rows = slice(s, min(s + BATCH, len(ex)))

        def cut(pattern: torch.Tensor, hook: object, rows: slice = rows) -> torch.Tensor:
            pattern = pattern.clone()  # [batch, head, query_pos, key_pos]
            b = torch.arange(pattern.shape[0])
            pattern[b, head, q[rows], k[rows]] = fill[rows].to(pattern.dtype)
            return pattern

        out.append(model.run_with_hooks(ex.tokens[rows], fwd_hooks=[(name, cut)]))
    return torch.cat(out)


@torch.no_grad()
def knockout(
    model: Transformer,
    ex: Examples,
    layer: int,
    head: int,
    query: Position,
    key: Position,
    mode: str = "zero",
) -> KnockoutEffect:
    """The task's masked loss and accuracy before and after one knockout."""
    return _effect(model, ex, logits_of(model, ex.tokens), layer, head, query, key, mode)


def _effect(
    model: Transformer,
    ex: Examples,
    clean: torch.Tensor,
    layer: int,
    head: int,
    query: Position,
    key: Position,
    mode: str,
) -> KnockoutEffect:
    cut = knocked_logits(model, ex, layer, head, query, key, mode)
    return KnockoutEffect(layer, head, query, key, *loss_accuracy_before_after(ex, clean, cut))


@torch.no_grad()
def knockout_grid(
    model: Transformer,
    ex: Examples,
    query: Position,
    keys: Sequence[int],
    mode: str = "zero",
) -> list[list[list[KnockoutEffect]]]:
    """Every ``[layer][head][key]`` knockout from one query position to each key position
    (keys must not lie after the query: pass ``range(query + 1)``)."""
    c, clean = model.cfg, logits_of(model, ex.tokens)
    return [
        [[_effect(model, ex, clean, i, h, query, k, mode) for k in keys] for h in range(c.n_heads)]
        for i in range(c.n_layers)
    ]
