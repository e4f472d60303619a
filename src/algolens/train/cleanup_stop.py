"""The clean-up stop rule of the group trainer (``TrainConfig.cleanup_stop``).

After grokking, weight decay keeps shrinking the weights that do not serve the circuit (the
clean-up phase of Nanda et al.'s progress measures): train and test loss keep falling and Σθ²
(the sum of squared trainable parameters) settles. A run with ``early_stop`` and a
``cleanup_stop`` set stops when every live instance, at the same evaluation, is either

* **cleaned up** — test loss ≤ ``test_loss`` and train loss ≤ ``train_loss`` (defaults 1e-3 and
  1e-4: the criterion of docs/training.md, "Fidelity"), or
* **plateaued** — it has grokked (test accuracy ≥ ``grok_threshold`` now) and over the last
  ``window`` evaluations (this one included) neither its train loss nor its Σθ² moved by more
  than ``rel_change`` of its value at the window's start: ``|x_last − x_first| ≤ rel_change ·
  |x_first|`` for both;

otherwise the epoch cap ends the run. The window is a history of the last ``window``
evaluations, kept per instance by :class:`CleanupHistory` and saved in every checkpoint (so a
killed run resumes to the same decisions and the same bits).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

Reason = Literal["cleaned", "plateau"]


class CleanupStop(BaseModel):
    """Thresholds of the clean-up stop rule (module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    test_loss: float = Field(1e-3, gt=0.0, allow_inf_nan=False, description="cleaned up: ≤ this")
    train_loss: float = Field(1e-4, gt=0.0, allow_inf_nan=False, description="cleaned up: ≤ this")
    window: int = Field(50, ge=2, le=10_000, description="evaluations in the plateau window")
    rel_change: float = Field(
        0.01, gt=0.0, lt=1.0, description="plateau: largest relative change over the window"
    )


class CleanupHistory:
    """The last ``window`` evaluations of every instance: epoch, train loss and Σθ².

    Attributes:
        epochs: ``[window]`` int64, oldest first, -1 where not filled yet.
        values: ``[window, inst, 2]`` float64, (train loss, Σθ²) per instance.
    """

    def __init__(self, window: int, n_inst: int) -> None:
        self.epochs = torch.full((window,), -1, dtype=torch.int64)
        self.values = torch.zeros(window, n_inst, 2, dtype=torch.float64)

    def add(self, epoch: int, train_loss: torch.Tensor, sum_sq: torch.Tensor) -> None:
        """Append the evaluation of ``epoch`` (a second evaluation of the latest epoch, as on
        resume, is not added again)."""
        if int(self.epochs[-1]) == epoch:
            return
        self.epochs = torch.roll(self.epochs, -1)
        self.values = torch.roll(self.values, -1, dims=0)
        self.epochs[-1] = epoch
        self.values[-1, :, 0] = train_loss.to(torch.float64)
        self.values[-1, :, 1] = sum_sq.to(torch.float64)

    def plateaued(self, rel_change: float) -> torch.Tensor:
        """``[inst]`` bool: the window is full and both quantities moved by at most
        ``rel_change`` of their first value."""
        if int(self.epochs[0]) < 0:
            return torch.zeros(self.values.shape[1], dtype=torch.bool)
        first, last = self.values[0], self.values[-1]  # [inst, 2]
        moved = (last - first).abs() <= rel_change * first.abs()
        return moved.all(1)

    def tensors(self) -> dict[str, torch.Tensor]:
        """The checkpoint entries (``state.cleanup_epochs``, ``state.cleanup_values``)."""
        return {"state.cleanup_epochs": self.epochs.clone(),
                "state.cleanup_values": self.values.clone()}  # fmt: skip

    def load(self, tensors: dict[str, torch.Tensor]) -> None:
        """Restore :meth:`tensors` (shapes checked by the trainer's loader)."""
        self.epochs = tensors["state.cleanup_epochs"].clone()
        self.values = tensors["state.cleanup_values"].clone()


def stop_reasons(
    rule: CleanupStop,
    history: CleanupHistory,
    *,
    train_loss: torch.Tensor,
    test_loss: torch.Tensor,
    test_acc: torch.Tensor,
    grok_threshold: float,
) -> list[Reason | None]:
    """Why each instance may stop now (``"cleaned"`` first, then ``"plateau"``), or None."""
    cleaned = (test_loss <= rule.test_loss) & (train_loss <= rule.train_loss)
    plateau = history.plateaued(rule.rel_change) & (test_acc >= grok_threshold)
    return [
        "cleaned" if bool(c) else ("plateau" if bool(p) else None)
        for c, p in zip(cleaned.tolist(), plateau.tolist())
    ]


def sum_squares(params: dict[str, torch.Tensor], n_inst: int) -> torch.Tensor:
    """``[inst]`` float64: Σθ² of every instance over ``params`` (leading ``inst`` axis)."""
    total = torch.zeros(n_inst, dtype=torch.float64)
    for p in params.values():
        total += p.detach().reshape(n_inst, -1).double().pow(2).sum(1).cpu()
    return total
