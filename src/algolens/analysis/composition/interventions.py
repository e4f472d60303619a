"""Stander et al.'s interventions table, done through hooks on our MLP, for any run.

Each intervention edits one forward pass over **all** |G|² pairs (a, b) through TransformerLens
hooks (temporary, removed by the ``hooks`` context manager) and reports accuracy and mean
cross-entropy (float64, from the model's logits), over all pairs and, when a held-out mask is
given (the seed's test split), over the held-out pairs alone (the same forward, so the noise
draws are shared). The interventions, as in the paper's Table 2:

* ``base``: no edit.
* ``swap embeddings``: the left slot gets ``E_right[a]``, the right slot ``E_left[b]``.
* ``negate left`` / ``negate right`` / ``negate both``: the side's pre-activation ``W_a[a]``
  (``W_b[b]``) times −1.
* ``noise N(μ, σ)``: i.i.d. N(μ, σ²) added to every pre-activation (seeded generator), for
  (μ, σ) in (0, 0.1), (0, 1), (1, 1), (−1, 1).
* ``ReLU → |x|``: the hidden layer outputs |pre| instead of ReLU(pre).
* ``ablate C ≥ t``: zero the hidden output of every neuron whose coset score (the worse side's
  min C_H, :attr:`CosetConcentration.neuron_score`) is ≥ t, for t in 1, 1e-5, 1e-7.

Only the composition MLP has separate left and right pre-activations; other models are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from algolens.errors import ConfigError
from algolens.groups.group import FiniteGroup
from algolens.models.mlp import MLP

NOISE: tuple[tuple[float, float], ...] = ((0.0, 0.1), (0.0, 1.0), (1.0, 1.0), (-1.0, 1.0))
ABLATION_THRESHOLDS: tuple[float, ...] = (1.0, 1e-5, 1e-7)


@dataclass(frozen=True)
class Intervention:
    """One edit of the forward pass.

    Attributes:
        kind: ``base``, ``swap``, ``negate``, ``noise``, ``abs`` or ``ablate``.
        sides: for ``negate``: which pre-activations, a subset of ``("left", "right")``.
        mu, sigma: for ``noise``. threshold: for ``ablate``.
    """

    kind: str
    sides: tuple[str, ...] = ()
    mu: float = 0.0
    sigma: float = 0.0
    threshold: float = 0.0

    @property
    def name(self) -> str:
        if self.kind == "negate":
            return "negate " + ("both" if len(self.sides) == 2 else self.sides[0])
        if self.kind == "noise":
            return f"noise N({self.mu:g}, {self.sigma:g})"
        if self.kind == "ablate":
            return f"ablate C ≥ {self.threshold:g}"
        return {"base": "base", "swap": "swap embeddings", "abs": "ReLU → |x|"}[self.kind]


def standard_interventions() -> list[Intervention]:
    """The paper's table, in its order."""
    return [
        Intervention("base"),
        Intervention("swap"),
        Intervention("negate", ("left", "right")),
        Intervention("negate", ("left",)),
        Intervention("negate", ("right",)),
        *(Intervention("noise", mu=m, sigma=s) for m, s in NOISE),
        Intervention("abs"),
        *(Intervention("ablate", threshold=t) for t in ABLATION_THRESHOLDS),
    ]


@dataclass(frozen=True)
class Outcome:
    """Accuracy and loss of one intervention on one instance, over all |G|² pairs, and over the
    held-out pairs (``test_accuracy``, ``test_loss``; None when no held-out mask was given)."""

    name: str
    accuracy: float
    loss: float
    n_ablated: int | None = None
    test_accuracy: float | None = None
    test_loss: float | None = None


def all_pairs(group: FiniteGroup) -> tuple[torch.Tensor, torch.Tensor]:
    """``([|G|², 2] tokens (a, b), [|G|²] targets a·b)``, row ``a·|G| + b``."""
    n = group.order
    a, b = np.divmod(np.arange(n * n), n)
    tokens = torch.from_numpy(np.stack([a, b], axis=1))
    return tokens, torch.from_numpy(group.table[a, b].astype(np.int64))


def check_mlp(model: object) -> MLP:
    """``model`` if it is a one-instance composition MLP, else ConfigError."""
    if not isinstance(model, MLP):
        raise ConfigError(
            f"coset analyses need the composition MLP (left and right pre-activations); "
            f"got a {type(model).__name__}: train with --model mlp"
        )
    if model.cfg.n_inst != 1:
        raise ConfigError("pass one instance: model.instance(k)")
    return model


def intervened_logits(
    model: MLP, tokens: torch.Tensor, iv: Intervention, *,
    scores: np.ndarray | None = None, seed: int = 0,
) -> torch.Tensor:  # fmt: skip
    """``[batch, d_vocab]`` logits of ``tokens`` ``[batch, 2]`` under intervention ``iv``.

    Args:
        model: a one-instance :class:`MLP`.
        scores: ``[d_mlp]`` neuron coset scores, needed by ``ablate``.
        seed: seeds the noise generator.
    """
    check_mlp(model)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad(), model.hooks(fwd_hooks=_hooks(model, tokens, iv, scores, gen)):
        return model(tokens)


Hooks = list[tuple[str, Callable]]


def _hooks(
    model: MLP, tokens: torch.Tensor, iv: Intervention, scores: np.ndarray | None,
    gen: torch.Generator,
) -> Hooks:  # fmt: skip
    if iv.kind == "base":
        return []
    if iv.kind == "swap":
        left = model.W_E_right[0][tokens[:, 0]]  # [batch, d_embed]
        right = model.W_E_left[0][tokens[:, 1]]  # [batch, d_embed]
        return [
            ("hook_embed_left", lambda x, hook: left),
            ("hook_embed_right", lambda x, hook: right),
        ]
    if iv.kind == "negate":
        return [(f"mlp.hook_pre_{side}", lambda x, hook: -x) for side in iv.sides]
    if iv.kind == "noise":

        def add_noise(x: torch.Tensor, hook) -> torch.Tensor:
            noise = torch.randn(x.shape, generator=gen, dtype=x.dtype)  # [batch, d_mlp]
            return x + iv.mu + iv.sigma * noise

        return [("mlp.hook_pre", add_noise)]
    if iv.kind == "abs":
        seen: dict[str, torch.Tensor] = {}

        def keep(x: torch.Tensor, hook) -> torch.Tensor:
            seen["pre"] = x
            return x

        return [("mlp.hook_pre", keep), ("mlp.hook_post", lambda x, hook: seen["pre"].abs())]
    if iv.kind == "ablate":
        if scores is None:
            raise ConfigError("ablation needs the neurons' coset scores")
        keep_mask = torch.from_numpy(np.asarray(scores) < iv.threshold).to(model.W_U.dtype)
        return [("mlp.hook_post", lambda x, hook: x * keep_mask)]
    raise ConfigError(f"unknown intervention kind {iv.kind!r}")


BLOCK_LOGITS = 1 << 22
"""Logits per forward block (|G|² pairs are evaluated in blocks: S6 has 518 400 pairs)."""


def evaluate(
    model: MLP, group: FiniteGroup, name: str, make_hooks: Callable[[torch.Tensor], Hooks],
    test_mask: np.ndarray | None = None,
) -> Outcome:  # fmt: skip
    """Accuracy and float64 mean cross-entropy over all |G|² pairs, in blocks of rows, each
    forward run under the hooks ``make_hooks(block_tokens)``; also over the pairs where
    ``test_mask`` (``[|G|²]`` or ``[|G|, |G|]`` bool, row ``a·|G| + b``) is True, if given.

    Raises:
        ConfigError: a mask of the wrong size, or one that selects no pair.
    """
    tokens, targets = all_pairs(group)
    held = _check_mask(test_mask, len(tokens))
    rows = max(1, BLOCK_LOGITS // group.order)
    correct = np.empty(len(tokens), dtype=bool)
    losses = np.empty(len(tokens))
    for start in range(0, len(tokens), rows):
        t, y = tokens[start : start + rows], targets[start : start + rows]
        with torch.no_grad(), model.hooks(fwd_hooks=make_hooks(t)):
            logits = model(t)  # [block, d_vocab]
        correct[start : start + len(t)] = (logits.argmax(-1) == y).numpy()
        losses[start : start + len(t)] = F.cross_entropy(
            logits.double(), y, reduction="none"
        ).numpy()
    out = Outcome(name, float(correct.mean()), float(losses.mean()))
    if held is None:
        return out
    return replace(out, test_accuracy=float(correct[held].mean()),
                   test_loss=float(losses[held].mean()))  # fmt: skip


def _check_mask(mask: np.ndarray | None, n_pairs: int) -> np.ndarray | None:
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=bool).ravel()
    if mask.size != n_pairs:
        raise ConfigError(f"held-out mask has {mask.size} entries, the group has {n_pairs} pairs")
    if not mask.any():
        raise ConfigError("held-out mask selects no pair")
    return mask


def neuron_scores(model: MLP, group: FiniteGroup) -> np.ndarray:
    """``[d_mlp]`` each neuron's coset score from its folded pre-activation tables."""
    from algolens.analysis.composition.cosets import coset_concentration

    w_a, w_b = (w[0].detach().double().numpy() for w in model.folded_weights())
    return coset_concentration(group, w_a, w_b).neuron_score


def intervene(
    model: MLP, group: FiniteGroup, interventions: Sequence[Intervention] | None = None, *,
    scores: np.ndarray | None = None, seed: int = 0, test_mask: np.ndarray | None = None,
) -> list[Outcome]:  # fmt: skip
    """Every intervention on one instance, over all |G|² pairs (and the held-out ones).

    Args:
        model: a one-instance :class:`MLP` trained on ``group``.
        interventions: default :func:`standard_interventions`.
        scores: ``[d_mlp]`` coset scores (computed from the weights when None).
        test_mask: ``[|G|²]`` bool, True on the seed's held-out pairs (row ``a·|G| + b``, as
            :func:`algolens.analysis.runs.train_masks` negated); fills ``test_accuracy`` and
            ``test_loss``.
    """
    check_mlp(model)
    ivs = list(standard_interventions() if interventions is None else interventions)
    if scores is None and any(iv.kind == "ablate" for iv in ivs):
        scores = neuron_scores(model, group)
    out = []
    for iv in ivs:
        gen = torch.Generator().manual_seed(seed)  # one noise stream across the blocks

        def make_hooks(t: torch.Tensor, iv: Intervention = iv, gen=gen) -> Hooks:
            return _hooks(model, t, iv, scores, gen)

        o = evaluate(model, group, iv.name, make_hooks, test_mask)
        if iv.kind == "ablate":
            o = replace(o, n_ablated=int((scores >= iv.threshold).sum()))
        out.append(o)
    return out


def mean_table(per_seed: Sequence[Sequence[Outcome]]) -> list[dict]:
    """Rows ``{"intervention", "accuracy", "loss", "accuracy_min", "n_ablated"}`` averaged over
    seeds (``accuracy_min``: the worst seed; ``n_ablated``: mean over seeds, ablations only)."""
    rows = []
    for column in zip(*per_seed):
        row = {
            "intervention": column[0].name,
            "accuracy": float(np.mean([o.accuracy for o in column])),
            "accuracy_min": float(np.min([o.accuracy for o in column])),
            "loss": float(np.mean([o.loss for o in column])),
        }
        if column[0].n_ablated is not None:
            row["n_ablated"] = float(np.mean([o.n_ablated for o in column]))
        rows.append(row)
    return rows
