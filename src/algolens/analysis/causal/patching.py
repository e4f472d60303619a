"""Activation patching with TransformerLens's ``patching`` module on our models.

"Denoising" patching: run the **corrupted** input and, one piece at a time, put back the
activation the **clean** input produces there; the metric of each patched run is normalised as

    effect = (metric_patched − metric_corrupted) / (metric_clean − metric_corrupted)

so 1 means "this activation alone restores the clean behaviour" and 0 "it changes nothing".
Clean and corrupted rows pair up one to one (same shape ``[N, T]``). Metrics are functions
``logits [N, T, V] -> scalar`` (:func:`~.examples.loss_metric`,
:func:`~.examples.logit_diff_metric`, or any other).

Pieces: the residual stream entering each block per position (``resid``, ``[layer, pos]``),
each head's output over all positions (``heads``, ``[layer, head]``) and per position
(``heads_by_pos``, ``[layer, pos, head]``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from transformer_lens import patching

from algolens.analysis.causal.examples import Metric, check_single
from algolens.errors import ConfigError
from algolens.models.transformer import Transformer

KINDS: dict[str, tuple[str, ...]] = {
    "resid": ("layer", "pos"),
    "heads": ("layer", "head"),
    "heads_by_pos": ("layer", "pos", "head"),
}
"""Patching kinds and the axes of their effect arrays."""


@dataclass(frozen=True)
class PatchResult:
    """Normalised effects of one patching sweep.

    Attributes:
        kind: one of :data:`KINDS`.
        axes: names of the effect's axes.
        effect: nested lists, normalised (None everywhere when clean and corrupted agree).
        clean, corrupted: the metric of the unpatched clean and corrupted runs.
    """

    kind: str
    axes: tuple[str, ...]
    effect: list
    clean: float
    corrupted: float

    def tensor(self) -> torch.Tensor:
        """The effects as a float64 tensor (NaN where undefined)."""
        return torch.tensor(_nan(self.effect), dtype=torch.float64)

    def argmax(self) -> tuple[int, ...]:
        """Index of the largest effect."""
        t = self.tensor().nan_to_num(float("-inf"))
        return tuple(int(i) for i in torch.unravel_index(t.argmax(), t.shape))

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "axes": list(self.axes),
            "effect": self.effect,
            "clean": self.clean,
            "corrupted": self.corrupted,
        }


def _nan(x: list | float | None) -> list | float:
    if isinstance(x, list):
        return [_nan(v) for v in x]
    return float("nan") if x is None else x


@torch.no_grad()
def patch(
    model: Transformer, clean: torch.Tensor, corrupted: torch.Tensor, metric: Metric, kind: str
) -> PatchResult:
    """Patch every ``kind`` piece from the clean run into the corrupted run (see module doc).

    Args:
        model: a single-instance transformer.
        clean, corrupted: ``[N, T]`` token rows, paired.
        metric: logits ``[N, T, V]`` -> scalar; higher = more like the clean run.
        kind: ``"resid"``, ``"heads"`` or ``"heads_by_pos"``.
    """
    check_single(model)
    if kind not in KINDS:
        raise ConfigError(f"patching kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if clean.shape != corrupted.shape:
        raise ConfigError(
            f"clean and corrupted tokens must have one shape, got {tuple(clean.shape)} "
            f"and {tuple(corrupted.shape)}"
        )
    clean_logits, cache = model.run_with_cache(clean)
    m_clean, m_corrupt = float(metric(clean_logits)), float(metric(model(corrupted)))
    fn = {
        "resid": patching.get_act_patch_resid_pre,
        "heads": patching.get_act_patch_attn_head_out_all_pos,
        "heads_by_pos": patching.get_act_patch_attn_head_out_by_pos,
    }[kind]
    with _no_progress_bars():
        raw = fn(model, corrupted, cache, metric).double()
    span = m_clean - m_corrupt
    if abs(span) <= 1e-9 * max(1.0, abs(m_clean)):
        effect = _none_like(raw.tolist())
    else:
        effect = ((raw - m_corrupt) / span).tolist()
    return PatchResult(kind, KINDS[kind], effect, m_clean, m_corrupt)


@contextmanager
def _no_progress_bars() -> Iterator[None]:
    """TransformerLens's sweeps draw a tqdm bar on stderr unconditionally; a library call must
    not write there, so its module's ``tqdm`` is the identity for the duration."""
    saved = patching.tqdm
    patching.tqdm = lambda it, *args, **kwargs: it
    try:
        yield
    finally:
        patching.tqdm = saved


def _none_like(x: list | float) -> list | None:
    return [_none_like(v) for v in x] if isinstance(x, list) else None
