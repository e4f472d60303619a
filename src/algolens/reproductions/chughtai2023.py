"""Chughtai, Chan & Nanda (ICML 2023), *A Toy Model of Universality*: protocol and measurements.

``algolens reproduce chughtai2023`` trains the paper's networks, analyses every seed with
:mod:`algolens.analysis` and sets each claim of the paper beside our figure
(reference figures: ``../shared/papers.md``, copied into the constants of
:mod:`algolens.reproductions.chughtai2023_claims`).

Protocols (:func:`settings`):

* ``quick`` — the fast recipe (``algolens.train.config.FAST_RECIPE``), MLP only:
  :data:`QUICK_S5_SEEDS` S5 seeds plus :data:`QUICK_SEEDS` seeds of each group in
  :data:`QUICK_GROUPS` (a cyclic, a dihedral group and A5), at the paper's train fractions.
  Progress measures follow the first :data:`QUICK_PROGRESS` S5 seeds over their checkpoints.
* ``standard`` — the smallest protocol with the paper's clean-up phase (run on 2026-12-06; see
  docs/reproductions/chughtai2023-standard.md and docs/reproductions/chughtai2023.md, "Standard
  protocol"): the runs of ``quick`` (same groups, seeds and train fractions) with the fast recipe's
  lr 2.5e-2 but the paper's weight decay 1 (:data:`STANDARD_OVERRIDES`), trained past grokking until
  every seed is cleaned up (test loss ≤ 1e-3, train loss ≤ 1e-4) or its train loss and Σθ² have
  plateaued (:mod:`algolens.train.cleanup_stop`), at most :data:`STANDARD_EPOCHS` epochs. Why: the
  fast recipe's weight decay 3 keeps W_U FVE below the paper's range (0.83–0.94 against 0.90–0.99),
  and stopping at 99.9 % test accuracy leaves the paper's 99.99 % and clean-up claims untested;
  docs/training.md ("Fidelity") measured that lr 2.5e-2 with weight decay 1 puts 24 of 24 S5 seeds'
  W_U FVE in the paper's range by epochs 2500–3000. The paper's lr (25× lower) and 250k epochs stay
  out of reach of 3 hours on 2 cores, so the mainline seed's epochs stay n/a.
* ``full`` — the paper's protocol: the paper recipe (full-batch AdamW, lr 1e-3, weight decay 1,
  betas (0.9, 0.98), float64 loss), all seven groups, both architectures, seeds 1–4 each and S5
  MLP seeds 1–50, the paper's epochs and train fractions; every seed followed over checkpoints.

Which claims can be judged follows from what was trained, not from the protocol's name: the
99.99 % accuracy claim is n/a for a run stopped at a lower grokking threshold, the mainline
seed's epochs for a run at another learning rate or weight decay than the paper's, the
transformer claim when no transformer was trained.

Both reuse a run of the same config already in the store and resume an interrupted one
(:func:`ensure_run`), so an interrupted ``--full`` continues where it stopped.

The paper's figures and the agreement rules are in
:mod:`algolens.reproductions.chughtai2023_claims` (the 50-seed tallies, group means and losses)
and :mod:`algolens.reproductions.chughtai2023_rows` (rows read from single settings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from algolens.papers.chughtai2023 import MAINLINE
from algolens.reproductions.chughtai2023_claims import make_claims
from algolens.reproductions.claims import Claim, Mode, Scale, as_scale
from algolens.reproductions.runs import ensure_run
from algolens.store import RunStore
from algolens.train.config import TrainConfig

PAPER = (
    "Chughtai, Chan & Nanda (ICML 2023), A Toy Model of Universality: Reverse Engineering How "
    "Networks Learn Group Operations"
)

TRAIN_FRAC: dict[str, dict[str, float]] = {
    "mlp": {"C": 0.3, "D": 0.3, "S5": 0.4, "S6": 0.25, "A5": 0.5},
    "transformer": {"C": 0.3, "D": 0.3, "S5": 0.6, "S6": 0.4, "A5": 0.6},
}
PAPER_EPOCHS: dict[str, dict[str, int]] = {
    "mlp": {"C": 250_000, "D": 250_000, "S5": 250_000, "S6": 250_000, "A5": 250_000},
    "transformer": {"C": 50_000, "D": 100_000, "S5": 50_000, "S6": 20_000, "A5": 250_000},
}
FULL_GROUPS: tuple[str, ...] = ("C113", "C118", "D59", "D61", "S5", "S6", "A5")
FULL_MODELS: tuple[str, ...] = ("mlp", "transformer")
FULL_SEEDS: tuple[int, ...] = (1, 2, 3, 4)
FULL_S5_MLP_SEEDS: tuple[int, ...] = tuple(range(1, 51))
QUICK_GROUPS: tuple[str, ...] = ("C113", "D59", "A5")
QUICK_SEEDS: tuple[int, ...] = (0, 1, 2, 3)
QUICK_S5_SEEDS: tuple[int, ...] = tuple(range(32))
QUICK_PROGRESS = 4
STANDARD_EPOCHS = 6000
"""Epoch cap of the standard protocol (the clean-up rule normally stops it earlier)."""
STANDARD_OVERRIDES: tuple[tuple[str, Any], ...] = (
    ("weight_decay", 1.0),
    ("cleanup_stop", {}),  # the defaults of algolens.train.cleanup_stop.CleanupStop
)
"""The standard protocol's changes to the fast recipe (module docstring)."""
MODEL_ARGS: dict[str, dict[str, Any]] = {"mlp": {}, "transformer": {}}
"""Model overrides (empty: our model defaults are the paper's sizes; tests shrink them)."""
MODES: tuple[Mode, ...] = ("quick", "standard", "full")
"""The protocols this module offers (it takes a :class:`~algolens.reproductions.claims.Scale`)."""


@dataclass(frozen=True)
class Setting:
    """One training run of the protocol: a group, an architecture, its seeds and recipe."""

    group: str
    model: str
    seeds: tuple[int, ...]
    recipe: str
    epochs: int | None = None  # None: the recipe's
    follow: int = 0  # instances followed over checkpoints (progress measures)
    overrides: tuple[tuple[str, Any], ...] = ()  # config fields changed from the recipe

    def config(self, epochs_cap: int | None = None) -> TrainConfig:
        """The run's config; ``epochs_cap`` caps its epochs (:class:`Scale`, tests)."""
        from algolens.train import make_config

        family = self.group if self.group in TRAIN_FRAC[self.model] else self.group[0]
        return make_config(
            self.recipe, group=self.group, model=self.model, seeds=list(self.seeds),
            train_frac=TRAIN_FRAC[self.model][family],
            epochs=Scale(epochs_cap=epochs_cap).epochs(self.epochs),
            model_args=dict(MODEL_ARGS[self.model]), **dict(self.overrides),
        )  # fmt: skip


def settings(mode: Mode) -> list[Setting]:
    """The runs of ``mode``'s protocol (module docstring), S5 MLP first."""
    if mode in ("quick", "standard"):
        std = mode == "standard"
        more: dict[str, Any] = (
            {"epochs": STANDARD_EPOCHS, "overrides": STANDARD_OVERRIDES} if std else {}
        )
        s5 = Setting(MAINLINE, "mlp", QUICK_S5_SEEDS, "fast", follow=QUICK_PROGRESS, **more)
        return [s5, *(Setting(g, "mlp", QUICK_SEEDS, "fast", **more) for g in QUICK_GROUPS)]
    out = []
    for model in FULL_MODELS:
        for g in FULL_GROUPS:
            seeds = FULL_S5_MLP_SEEDS if (g, model) == (MAINLINE, "mlp") else FULL_SEEDS
            family = g if g in PAPER_EPOCHS[model] else g[0]
            out.append(Setting(g, model, seeds, "paper", PAPER_EPOCHS[model][family], len(seeds)))
    return out


def planned_configs(scale: Scale) -> list[TrainConfig]:
    """The configs of every run ``scale``'s protocol trains, in order; they are independent, so
    ``reproduce --executor`` trains them in parallel before the claims are measured."""
    return [setting.config(scale.epochs_cap) for setting in settings(scale.mode)]


@dataclass
class Measured:
    """What one setting gave: per-instance metric dicts and the group's irrep dimensions."""

    setting: Setting
    instances: list[dict[str, Any]]
    dims: dict[str, int]  # irrep label -> real dimension
    progress: list[dict[str, Any]] = field(default_factory=list)  # progress_measures dicts
    series: list[list[dict[str, Any]]] = field(default_factory=list)  # per-checkpoint dicts
    config: TrainConfig | None = None  # what was trained (None: ``setting.config()``)
    stopped_early: bool = False  # the run's stop rule ended it before its epoch cap

    def trained(self) -> TrainConfig:
        """The config the run was trained with."""
        return self.config if self.config is not None else self.setting.config()


def measure(
    store: RunStore, setting: Setting, log: Callable[[str], None], scale: Scale | None = None
) -> Measured:
    """Train (or reuse) the run of ``setting`` and analyse it (stored analyses are reused)."""
    from algolens.analysis.runs import run_irreps, run_progress
    from algolens.groups.reps import irreps
    from algolens.train import load_run_group

    config = setting.config(None if scale is None else scale.epochs_cap)
    run_id = ensure_run(store, config, log)
    stopped = bool((store.get(run_id).summary or {}).get("stopped_early"))
    log(f"analysing run {run_id}")
    instances = [dict(d) for d in run_irreps(store, run_id)["instances"]]
    progress, series = [], []
    for k in range(min(setting.follow, len(instances))):
        followed = run_progress(store, run_id, k)
        instances[k]["learning_order"] = followed["measures"]["learning_order"]
        progress.append(followed["measures"])
        series.append(followed["series"])
    dims = {r.label: r.real_dim for r in irreps(load_run_group(store, run_id))}
    return Measured(setting, instances, dims, progress, series, config, stopped)


def reproduce(scale: Scale | Mode, store: RunStore, *, log: Callable[[str], None]) -> list[Claim]:
    """Run ``scale``'s protocol in ``store`` and return the paper's claims beside our figures."""
    scale = as_scale(scale)
    return make_claims([measure(store, s, log, scale) for s in settings(scale.mode)])
