"""Inputs of the causal toolkit: token rows, scored positions, features; activations and metrics.

Every method of :mod:`algolens.analysis.causal` and :mod:`algolens.analysis.causal.probes` works on
one
single-instance :class:`~algolens.models.transformer.Transformer` (``model.instance(k)``, the
TransformerLens ``[batch, pos]`` layout) and an :class:`Examples`:

* ``tokens [N, T]``: what the model reads;
* ``targets [N, T]`` and ``mask [N, T]``: the next token at every position and the positions
  the task scores (for a packed sequence task ``inputs``, ``targets`` and ``mask`` of
  :class:`~algolens.tasks.sequence.PackedSequences`);
* ``features``: named per-row values, each ``[N]`` (one value per input, e.g. "the goal node")
  or ``[N, T]`` (one value per position, e.g. "the source of the edge whose target is here").
  A task plugs its own features in through a function ``tokens -> features``.

Layers of the residual stream are numbered ``0..n_layers``: layer ``l < n_layers`` is
``blocks.{l}.hook_resid_pre`` (layer 0 = embeddings), layer ``n_layers`` is the last block's
``hook_resid_post``. A *position* is an int (negative counts from the end, as in Python) or the
name of an ``[N]`` integer feature giving one position per row (e.g. ``"sep"``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from algolens.errors import ConfigError
from algolens.models.transformer import Transformer

Position = int | str
Metric = Callable[[torch.Tensor], torch.Tensor]
"""Logits ``[batch, pos, d_vocab_out]`` -> a scalar tensor (higher = more like the clean run)."""

BATCH = 512
"""Rows per forward pass when collecting activations."""


@dataclass(frozen=True)
class Examples:
    """Token rows with scored positions and named features (see the module docstring)."""

    tokens: torch.Tensor  # [N, T] int64
    targets: torch.Tensor  # [N, T] int64
    mask: torch.Tensor  # [N, T] bool
    features: Mapping[str, np.ndarray] = field(default_factory=dict)  # each [N] or [N, T]

    def __post_init__(self) -> None:
        n, t = self.tokens.shape
        for name in ("targets", "mask"):
            if tuple(getattr(self, name).shape) != (n, t):
                raise ConfigError(
                    f"Examples.{name} must have the tokens' shape {(n, t)}, "
                    f"got {tuple(getattr(self, name).shape)}"
                )
        for name, v in self.features.items():
            if np.shape(v)[:1] != (n,) or np.ndim(v) not in (1, 2):
                raise ConfigError(
                    f"feature {name!r} must be [N={n}] or [N={n}, T={t}], got {np.shape(v)}"
                )

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    def subset(self, idx: np.ndarray | torch.Tensor) -> Examples:
        """The rows ``idx`` (features included)."""
        i = torch.as_tensor(np.asarray(idx), dtype=torch.long)
        feats = {k: np.asarray(v)[i.numpy()] for k, v in self.features.items()}
        return Examples(self.tokens[i], self.targets[i], self.mask[i], feats)

    def feature(self, name: str) -> np.ndarray:
        """Feature ``name`` (``[N]`` or ``[N, T]``); ConfigError naming the known ones."""
        if name not in self.features:
            known = ", ".join(sorted(self.features)) or "none"
            raise ConfigError(f"unknown feature {name!r}; known features: {known}")
        return np.asarray(self.features[name])

    def positions(self, pos: Position) -> torch.Tensor:
        """``[N]`` int64: the position ``pos`` of every row (int, or an ``[N]`` feature)."""
        n, t = self.tokens.shape
        if isinstance(pos, str):
            p = torch.as_tensor(self.feature(pos), dtype=torch.long)
            if p.ndim != 1:
                raise ConfigError(f"position feature {pos!r} must be [N], got {tuple(p.shape)}")
        else:
            p = torch.full((n,), pos if pos >= 0 else t + pos, dtype=torch.long)
        if len(p) and (int(p.min()) < 0 or int(p.max()) >= t):
            raise ConfigError(f"position {pos!r} falls outside 0..{t - 1} for some rows")
        return p

    def labels_at(self, name: str, pos: Position) -> np.ndarray:
        """``[N]``: feature ``name`` of each row (read at ``pos`` if it is per-position)."""
        v = self.feature(name)
        if v.ndim == 1:
            return v
        return v[np.arange(len(self)), self.positions(pos).numpy()]


def check_single(model: Transformer) -> None:
    """The toolkit works on one instance in the TransformerLens layout."""
    if model.cfg.n_inst != 1:
        raise ConfigError(
            f"causal analyses take a single-instance model, got n_inst={model.cfg.n_inst}; "
            "use model.instance(k)"
        )


def resid_hook(model: Transformer, layer: int) -> str:
    """The hook name of residual-stream layer ``layer`` (``0..n_layers``)."""
    n = model.cfg.n_layers
    if not 0 <= layer <= n:
        raise ConfigError(f"layer must lie in 0..{n}, got {layer}")
    return f"blocks.{layer}.hook_resid_pre" if layer < n else f"blocks.{n - 1}.hook_resid_post"


@torch.no_grad()
def collect(
    model: Transformer,
    tokens: torch.Tensor,
    hooks: Sequence[str],
    select: Callable[[str, torch.Tensor, slice], torch.Tensor],
) -> dict[str, torch.Tensor]:
    """Run ``tokens [N, T]`` in batches and keep ``select(hook, activation, rows)`` per hook.

    ``select`` gets the activation of one batch (TransformerLens layout) and the slice of rows it
    holds, and returns what to keep; the kept pieces are concatenated along axis 0.
    """
    check_single(model)
    names = set(hooks)
    kept: dict[str, list[torch.Tensor]] = {h: [] for h in hooks}
    for start in range(0, len(tokens), BATCH):
        rows = slice(start, min(start + BATCH, len(tokens)))
        _, cache = model.run_with_cache(tokens[rows], names_filter=lambda n: n in names)
        for h in hooks:
            kept[h].append(select(h, cache[h], rows))
    return {h: torch.cat(v) for h, v in kept.items()}


def resid_at(
    model: Transformer, ex: Examples, layers: Sequence[int], pos: Position
) -> torch.Tensor:
    """``[len(layers), N, d_model]``: the residual stream at one position of every row."""
    return resid_at_positions(model, ex, layers, [pos])[:, 0]


def resid_at_positions(
    model: Transformer, ex: Examples, layers: Sequence[int], positions: Sequence[Position]
) -> torch.Tensor:
    """``[len(layers), len(positions), N, d_model]``: the residual stream at several positions
    of every row, from one pass over the rows."""
    p = torch.stack([ex.positions(pos) for pos in positions], 1)  # [N, P]
    hooks = [resid_hook(model, layer) for layer in layers]

    def select(h: str, act: torch.Tensor, rows: slice) -> torch.Tensor:
        return act[torch.arange(act.shape[0])[:, None], p[rows]]  # [batch, P, d_model]

    got = collect(model, ex.tokens, hooks, select)
    return torch.stack([got[h].transpose(0, 1) for h in hooks])  # [layer, P, N, d_model]


def resid_scored(model: Transformer, ex: Examples, layers: Sequence[int]) -> torch.Tensor:
    """``[len(layers), M, d_model]``: the residual stream at the M scored positions (row-major)."""
    hooks = [resid_hook(model, layer) for layer in layers]
    got = collect(model, ex.tokens, hooks, lambda h, act, rows: act[ex.mask[rows]])
    return torch.stack([got[h] for h in hooks])


def masked_loss(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the scored positions (``logits [N, T, V]``, ``targets,
    mask [N, T]``), in float64."""
    return F.cross_entropy(logits[mask].double(), targets[mask])


def masked_accuracy(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> float:
    """Share of scored positions whose argmax is the target."""
    return float((logits[mask].argmax(-1) == targets[mask]).double().mean())


def loss_accuracy_before_after(
    ex: Examples, clean: torch.Tensor, cut: torch.Tensor
) -> tuple[float, float, float, float]:
    """Masked loss and accuracy against ``ex``'s targets of the ``clean`` and the intervened
    (``cut``) logits ``[N, T, V]``: ``(loss, cut loss, accuracy, cut accuracy)``."""
    t, m = ex.targets, ex.mask
    return (
        float(masked_loss(clean, t, m)),
        float(masked_loss(cut, t, m)),
        masked_accuracy(clean, t, m),
        masked_accuracy(cut, t, m),
    )


@torch.no_grad()
def logits_of(model: Transformer, tokens: torch.Tensor) -> torch.Tensor:
    """``[N, T, d_vocab_out]`` in batches."""
    check_single(model)
    return torch.cat([model(tokens[s : s + BATCH]) for s in range(0, len(tokens), BATCH)])


def loss_metric(ex: Examples) -> Metric:
    """Negative mean masked cross-entropy against ``ex``'s targets (higher = better)."""
    return lambda logits: -masked_loss(logits, ex.targets, ex.mask)


def logit_diff_metric(pos: torch.Tensor, right: torch.Tensor, wrong: torch.Tensor) -> Metric:
    """Mean over rows of ``logits[i, pos[i], right[i]] - logits[i, pos[i], wrong[i]]``
    (each argument ``[N]``)."""

    def metric(logits: torch.Tensor) -> torch.Tensor:
        at = logits[torch.arange(len(pos)), pos]  # [N, d_vocab_out]
        return (at.gather(1, right[:, None]) - at.gather(1, wrong[:, None])).mean()

    return metric
