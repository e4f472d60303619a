"""Causal scrubbing (Chan et al. 2022) with hypotheses written as data.

A :class:`Hypothesis` is a list of :class:`Claim` s, each saying "activation ``hook`` at
``positions`` (of head ``head``) depends on the input only through feature ``agree_on``". It is
written as JSON::

    {"name": "copy", "claims": [{"hook": "blocks.0.hook_resid_pre", "positions": [2],
                                 "agree_on": "tok2"}]}

**Scrubbing** tests it by resampling: for each evaluated row and each (claim, position) an
independent source row is drawn uniformly from the rows that agree with it on ``agree_on`` (read
at that position for a per-position feature; the row itself included), and the activation is
replaced by the source's, taken from the source's own unpatched run at the source's position.
All claims are applied in one forward pass. This is the one-level ("resampling ablation") form
of causal scrubbing: the hypothesis names the activations it treats, everything else is left as
computed.

Losses (the task's mean masked cross-entropy on the evaluated rows):

* ``L_model``: the unpatched model;
* ``L_scrubbed``: every claim resampled from agreeing rows;
* ``L_random``: every claim resampled from *any* row (``agree_on`` ignored; the baseline that
  treats the claimed activations as carrying no information).

**Loss recovered** = ``(L_random − L_scrubbed) / (L_random − L_model)``: 1 when the hypothesis
explains everything the claimed activations contribute, 0 when it explains nothing; None when
``L_random ≈ L_model`` (the claimed activations do not matter, nothing to explain).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from algolens.analysis.causal.examples import (
    BATCH,
    Examples,
    Position,
    check_single,
    collect,
    logits_of,
    masked_loss,
)
from algolens.errors import ConfigError
from algolens.models.transformer import Transformer

PER_HEAD = ("attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_z")
"""Hooks shaped ``[batch, pos, head, d_head]``: a claim may name one head of them."""


@dataclass(frozen=True)
class Claim:
    """Activation ``hook`` at ``positions`` (all when empty), of ``head`` for per-head hooks
    (:data:`PER_HEAD`; None: every head), may be resampled from inputs agreeing on
    ``agree_on`` (None: from any input). Attention patterns and scores (``[head, query, key]``)
    cannot be claimed: claim the head's ``hook_z`` instead."""

    hook: str
    positions: tuple[Position, ...] = ()
    agree_on: str | None = None
    head: int | None = None


@dataclass(frozen=True)
class Hypothesis:
    """A named list of claims (module docstring); JSON by :meth:`to_dict`, :meth:`from_dict`."""

    name: str
    claims: tuple[Claim, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "claims": [
                {
                    "hook": c.hook,
                    "positions": list(c.positions),
                    "agree_on": c.agree_on,
                    "head": c.head,
                }
                for c in self.claims
            ],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Hypothesis:
        """Parse the JSON form; ConfigError naming every bad field."""
        if not isinstance(d, Mapping) or not isinstance(d.get("claims"), list):
            raise ConfigError('a hypothesis must be {"name": ..., "claims": [...]}')
        claims, problems = [], []
        for i, c in enumerate(d["claims"]):
            if not isinstance(c, Mapping) or not isinstance(c.get("hook"), str):
                problems.append(f"claim {i} needs a hook name")
                continue
            unknown = set(c) - {"hook", "positions", "agree_on", "head"}
            if unknown:
                problems.append(f"claim {i} has unknown field(s) {', '.join(sorted(unknown))}")
            pos = c.get("positions", [])
            if not isinstance(pos, list) or not all(_is_position(p) for p in pos):
                bad = (
                    pos
                    if not isinstance(pos, list)
                    else next(p for p in pos if not _is_position(p))
                )
                problems.append(
                    f"claim {i}: positions must be a list of non-negative ints or feature names, "
                    f"got {json.dumps(bad)[:40]}"
                )
                continue
            agree, head = c.get("agree_on"), c.get("head")
            if agree is not None and not isinstance(agree, str):
                problems.append(f"claim {i}: agree_on must be a feature name or null")
            if head is not None and (isinstance(head, bool) or not isinstance(head, int)):
                problems.append(f"claim {i}: head must be an integer or null")
            claims.append(Claim(c["hook"], tuple(pos), agree, head))
        if problems:
            raise ConfigError("hypothesis: " + "; ".join(problems))
        return cls(str(d.get("name", "hypothesis")), tuple(claims))


def _is_position(p: object) -> bool:
    """A position a hypothesis file may give: an int ``>= 0`` (not a bool) or a feature name."""
    return isinstance(p, str) or (isinstance(p, int) and not isinstance(p, bool) and p >= 0)


@dataclass(frozen=True)
class ScrubResult:
    """Losses of one scrubbing run (see the module docstring)."""

    hypothesis: str
    loss_model: float
    loss_scrubbed: float
    loss_random: float

    @property
    def loss_recovered(self) -> float | None:
        span = self.loss_random - self.loss_model
        if abs(span) <= 1e-6 * max(1.0, abs(self.loss_model)):
            return None
        return (self.loss_random - self.loss_scrubbed) / span

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return d | {"loss_recovered": self.loss_recovered}


def _sources(agree: np.ndarray | None, n: int, rng: np.random.Generator) -> np.ndarray:
    """``[n]``: for each row a random row with the same ``agree`` value (any row if None)."""
    if agree is None:
        return rng.integers(0, n, size=n)
    _, codes = np.unique(agree, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], codes)  # first member of each row's group
    sizes = np.bincount(codes)[codes]
    return order[starts + (rng.random(n) * sizes).astype(np.int64)]


def _plan(
    model: Transformer, ex: Examples, claims: Sequence[Claim]
) -> list[tuple[Claim, Position]]:
    """Validate the claims against the model and inputs; one entry per (claim, position)."""
    hooks = set(model.hook_dict)
    problems, plan = [], []
    for c in claims:
        if c.hook not in hooks:
            problems.append(f"unknown hook {c.hook!r}")
            continue
        if c.hook.endswith(("hook_pattern", "hook_attn_scores")):
            problems.append(f"{c.hook} is [head, query, key], not per position: claim hook_z")
            continue
        per_head = c.hook.endswith(PER_HEAD)
        if c.head is not None and not per_head:
            problems.append(f"{c.hook} has no head axis: give head only for {', '.join(PER_HEAD)}")
        elif c.head is not None and not 0 <= c.head < model.cfg.n_heads:
            problems.append(f"head {c.head} out of range 0..{model.cfg.n_heads - 1}")
        if c.agree_on is not None and c.agree_on not in ex.features:
            known = ", ".join(sorted(ex.features)) or "none"
            problems.append(f"unknown feature {c.agree_on!r} (known: {known})")
        n_pos = ex.tokens.shape[1]
        outside = [p for p in c.positions if isinstance(p, int) and not 0 <= p < n_pos]
        if outside:
            problems.append(
                f"{c.hook}: position {outside[0]} is outside the sequence (0..{n_pos - 1})"
            )
            continue
        plan += [(c, p) for p in c.positions or range(n_pos)]
    if problems:
        raise ConfigError("hypothesis: " + "; ".join(problems))
    return plan


@torch.no_grad()
def scrubbed_logits(
    model: Transformer, ex: Examples, claims: Sequence[Claim], *, random: bool, seed: int
) -> torch.Tensor:
    """Logits ``[N, T, V]`` with every claim resampled (from any row if ``random``)."""
    check_single(model)
    plan = _plan(model, ex, claims)
    rng = np.random.default_rng(seed)
    n = len(ex)
    names = sorted({c.hook for c, _ in plan})
    acts = collect(model, ex.tokens, names, lambda h, act, rows: act.clone())  # clean runs
    edits: dict[str, list[tuple[torch.Tensor, torch.Tensor, int | None, torch.Tensor]]] = {}
    for c, pos in plan:
        agree = None if random or c.agree_on is None else ex.labels_at(c.agree_on, pos)
        src = torch.as_tensor(_sources(agree, n, rng))
        p = ex.positions(pos)
        src_act = acts[c.hook][src, p[src]]  # [N, ...] the sources' activation at their position
        if c.head is not None:
            src_act = src_act[:, c.head]
        edits.setdefault(c.hook, []).append((p, src_act, c.head, src))
    out = []
    for s in range(0, n, BATCH):
        rows = slice(s, min(s + BATCH, n))

        def patch(act: torch.Tensor, hook: Any, rows: slice = rows) -> torch.Tensor:
            act = act.clone()  # [batch, pos, ...]
            b = torch.arange(act.shape[0])
            for p, src_act, head, _ in edits[hook.name]:
                if head is None:
                    act[b, p[rows]] = src_act[rows]
                else:
                    act[b, p[rows], head] = src_act[rows]
            return act

        out.append(model.run_with_hooks(ex.tokens[rows], fwd_hooks=[(h, patch) for h in edits]))
    return torch.cat(out)


def scrub(
    model: Transformer, ex: Examples, hypothesis: Hypothesis, *, seed: int = 0
) -> ScrubResult:
    """Scrub ``hypothesis`` on the rows of ``ex``: the three losses and the loss recovered."""
    if not hypothesis.claims:
        raise ConfigError(f"hypothesis {hypothesis.name!r} has no claims")
    t, m = ex.targets, ex.mask
    loss = lambda logits: float(masked_loss(logits, t, m))  # noqa: E731
    return ScrubResult(
        hypothesis.name,
        loss(logits_of(model, ex.tokens)),
        loss(scrubbed_logits(model, ex, hypothesis.claims, random=False, seed=seed)),
        loss(scrubbed_logits(model, ex, hypothesis.claims, random=True, seed=seed + 1)),
    )
