"""Early stopping on greedy exact match of a validation split (sequence tasks).

A sequence run whose config sets ``exact_stop`` (:class:`ExactStop`; the recursion and
path-finding presets do) holds back a validation split carved from its training rows
(:func:`carve_validation`: distinct inputs, none of them trained on, so disjoint from test too;
the same for every seed and fixed by the data seed). Every ``eval_every`` epochs the trainer
decodes it greedily with every instance (:class:`ExactStopper`), and the run stops when

* every live instance writes at least ``threshold`` of the validation answers exactly, at
  enough checks in a row that they hold :data:`CONFIRM_ROWS` validation answers between them
  (``ceil(CONFIRM_ROWS / n_val)`` checks: one for a split of 100 rows or more; ``reason``
  ``"reached"``), or
* ``patience`` checks in a row improved no live instance's best (``"patience"``).

A run that reaches neither runs to its epoch cap. The stopper's state (each instance's best, the
checks since an improvement, the last check and the decision) is part of the checkpoint, so a run
killed and resumed stops at the same epoch with the same bits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import torch


class ExactStop(BaseModel):
    """The validation split and the stopping rule (a ``TrainConfig`` field, ``exact_stop``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    val_frac: float = Field(0.1, gt=0.0, lt=1.0, description="share of distinct train inputs")
    max_val: int = Field(500, ge=1, description="most validation inputs")
    threshold: float = Field(0.99, gt=0.0, le=1.0, description="greedy exact match that stops")
    patience: int = Field(10, ge=1, description="checks without improvement that stop")


STATE_KEYS = ("state.val_best", "state.val_last", "state.val_stale", "state.val_decision")
REASONS = ("", "reached", "patience")
CONFIRM_ROWS = 100
"""Validation answers the threshold must hold on before a run stops as ``reached``, counted over
consecutive checks. A small split alone is weak evidence: at 29 rows a threshold of 99 % means
every row right, and a seed that writes 94 % of the test inputs exactly gets all 29 right at one
check with probability 0.94^29 ≈ 17 %. Measured (docs/recursion.md): a user's function on 1000
draws of up to 8 bits stopped at one check of 29 rows with a seed at 94.0 % on the test split
(AMD EPYC) and 93.0 % (Intel Xeon, one seed)."""


def carve_validation(
    tokens: torch.Tensor, settings: ExactStop, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Split the training rows ``tokens`` ``[n, T]`` into rows to train on and validation rows.

    Validation takes ``val_frac`` of the *distinct* rows (at least one, at most ``max_val``, and
    never all), drawn by a generator seeded with ``seed`` from the rows that occur once (as the
    test split's inputs are the ones training never drew; rows repeated by the sampling, such as
    the few shortest numbers, stay in training), or from all distinct rows when too few occur
    once; every copy of a chosen row leaves training.

    Returns:
        ``(train_rows, val_rows)``: indices into ``tokens``, each ascending; ``val_rows`` holds
        one row per chosen input.
    """
    import torch

    _, inverse, counts = torch.unique(tokens, dim=0, return_inverse=True, return_counts=True)
    n_distinct = len(counts)
    n_val = min(max(1, round(settings.val_frac * n_distinct)), settings.max_val, n_distinct - 1)
    # Inputs drawn once stand for the ones never drawn (the test split's); short inputs that
    # every draw repeats stay in training. Too few such inputs: any distinct input.
    pool = (counts == 1).nonzero().flatten()
    if len(pool) < n_val:
        pool = torch.arange(n_distinct)
    gen = torch.Generator().manual_seed(0x7A11DA7E + seed)
    chosen = torch.zeros(n_distinct, dtype=torch.bool)
    chosen[pool[torch.randperm(len(pool), generator=gen)[:n_val]]] = True
    in_val = chosen[inverse]  # [n]
    rows = torch.arange(len(tokens))
    first = torch.full((n_distinct,), len(tokens), dtype=torch.long)
    first.scatter_reduce_(0, inverse, rows, reduce="amin")  # first row of each distinct input
    val_rows = first[chosen].sort().values
    return rows[~in_val], val_rows


class ExactStopper:
    """The stopping state of a K-instance run (see the module docstring).

    Attributes:
        best: ``[K]`` float64, each instance's best validation exact match so far (-1: none).
        last: ``[K]`` float64, the latest check's exact match.
        stale: checks since the last improvement of any live instance.
        checked: the epoch of the latest check (-1: none).
        streak: checks in a row, up to the latest, at which every live instance met the threshold.
        confirm: the streak that stops a run as reached (``ceil(confirm_rows / n_val)``).
        reason: ``""`` (go on), ``"reached"`` or ``"patience"``.
    """

    def __init__(
        self, settings: ExactStop, n_inst: int, n_val: int, confirm_rows: int = CONFIRM_ROWS
    ) -> None:
        import torch

        self.settings = settings
        self.n_val = n_val
        self.confirm = max(1, -(-confirm_rows // max(1, n_val)))
        self.streak = 0
        self.best = torch.full((n_inst,), -1.0, dtype=torch.float64)
        self.last = torch.full((n_inst,), -1.0, dtype=torch.float64)
        self.stale = 0
        self.checked = -1
        self.stop_epoch = -1
        self.reason = ""

    def update(self, epoch: int, exact: torch.Tensor, alive: torch.Tensor) -> None:
        """Record the check at ``epoch``: ``exact`` ``[K]`` validation exact match, ``alive``
        ``[K]`` bool; decides whether to stop (a decision once made stays)."""
        import torch

        exact = exact.to(self.best.dtype)
        improved = bool(((exact > self.best) & alive).any())
        self.best = torch.maximum(self.best, exact)
        self.last = exact.clone()
        self.stale = 0 if improved else self.stale + 1
        self.checked = epoch
        met = bool(alive.any()) and bool((exact[alive] >= self.settings.threshold).all())
        self.streak = self.streak + 1 if met else 0
        if self.reason or not bool(alive.any()):
            return
        if met and self.streak >= self.confirm:
            self.reason, self.stop_epoch = "reached", epoch
        elif self.stale >= self.settings.patience:
            self.reason, self.stop_epoch = "patience", epoch

    @property
    def done(self) -> bool:
        """Whether the run should stop now."""
        return bool(self.reason)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The state as checkpoint tensors (:data:`STATE_KEYS`)."""
        import torch

        decision = [
            self.stale, self.checked, self.stop_epoch, REASONS.index(self.reason), self.streak,
        ]  # fmt: skip
        return {
            "state.val_best": self.best.clone(),
            "state.val_last": self.last.clone(),
            "state.val_stale": torch.tensor(decision[:1], dtype=torch.int64),
            "state.val_decision": torch.tensor(decision[1:], dtype=torch.int64),
        }

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Restore :meth:`state_tensors` output (the caller checked names and shapes)."""
        self.best = tensors["state.val_best"].clone()
        self.last = tensors["state.val_last"].clone()
        self.stale = int(tensors["state.val_stale"][0])
        checked, stop_epoch, reason, streak = (int(x) for x in tensors["state.val_decision"])
        self.streak = streak
        if not 0 <= reason < len(REASONS):
            from algolens.errors import CheckpointError

            raise CheckpointError(f"checkpoint holds an unknown early-stop reason ({reason})")
        self.checked, self.stop_epoch, self.reason = checked, stop_epoch, REASONS[reason]

    def summary(self, epochs: int, cap: int) -> dict[str, Any]:
        """The ``early_stop`` entry of a run summary: the rule, the split size, each instance's
        latest and best validation exact match, and where and why the run stopped
        (``"epoch cap"`` when it ran to ``cap``; ``"running"`` when it had not stopped yet)."""
        s = self.settings
        why = self.reason or ("epoch cap" if epochs >= cap else "running")
        return {
            "threshold": s.threshold, "patience": s.patience, "val_n": self.n_val,
            "confirm_checks": self.confirm,
            "val_exact": [round(float(x), 6) for x in self.last],
            "val_best": [round(float(x), 6) for x in self.best],
            "stopped_epoch": self.stop_epoch if self.reason else epochs, "reason": why,
        }  # fmt: skip
