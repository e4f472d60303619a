"""Stander, Yu, Fan & Biderman (ICML 2024), *Grokking Group Multiplication with Cosets*.

``algolens reproduce stander2024`` trains the paper's MLPs, measures every seed with
:mod:`algolens.analysis.composition.cosets`, :mod:`algolens.analysis.composition.coset_sides` and
:mod:`algolens.analysis.composition.interventions` (on all pairs and on the seed's held-out pairs),
and sets
each of the paper's figures (``../shared/papers.md``, "Seed 001", copied into the constants of
:mod:`algolens.reproductions.stander2024_claims`) beside ours.

Protocols (:func:`settings`):

* ``quick`` — S5, :data:`QUICK_SEEDS` seeds, the paper's model (embed 256, hidden 128) and train
  fraction 0.4, trained with the fast recipe (``algolens.train.config.FAST_RECIPE``: 25× the
  paper's learning rate, stops when every seed has grokked) — far fewer epochs than the paper's
  250k, so its networks are less cleaned up by weight decay than the paper's.
* ``standard`` — the smallest protocol with the paper's cleaned-up circuits (run on 2026-12-06; see
  docs/reproductions/stander2024-standard.md and docs/reproductions/stander2024.md, "Standard
  protocol"): S5, :data:`STANDARD_SEEDS` seeds (4× quick's, so the Fisher test of the ablation count
  can fail on a few seeds), the paper's model and train fraction, the fast recipe's lr 2.5e-2 with
  the paper's weight decay 1 (:data:`STANDARD_OVERRIDES`), trained past grokking until every seed is
  cleaned up (test loss ≤ 1e-3, train loss ≤ 1e-4) or its train loss and Σθ² have plateaued
  (:mod:`algolens.train.cleanup_stop`), at most :data:`STANDARD_EPOCHS` epochs. Why: the paper's
  coset figures (> 99.2 % of neurons with min C_H < 1, most < 1e-6) are those of networks weight
  decay has cleaned for 250k epochs; quick stops at grokking with weight decay 3 (76 % below 1), and
  docs/training.md ("Fidelity") measured that weight decay 1 at lr 2.5e-2 brings the losses near the
  clean-up criterion by epochs 2500–3000.
* ``full`` — the paper's protocol: paper recipe (full-batch AdamW, lr 1e-3, wd 1, betas
  (0.9, 0.98)), S5 with 128 seeds for 250k epochs (embed 256, hidden 128) and S6 with 100 seeds
  for 50k epochs (embed 512, hidden 256), train fraction 0.4. Runs already in the store with the
  same config are reused and interrupted ones resumed (:func:`ensure_run`).

Agreement rules and the paper's figures are in :mod:`algolens.reproductions.stander2024_claims`;
this module trains the runs and measures each seed (:func:`analyse_instance`). The last row
(context) says what was actually trained: recipe, seeds, epochs and the rule that ended it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from algolens.reproductions.claims import Claim, Mode, Scale, as_scale
from algolens.reproductions.runs import ensure_run
from algolens.reproductions.stander2024_claims import (
    PAPER_INTERVENTIONS,
    SeedResult,
    coset_claims,
    family_claims,
    intervention_claims,
    lattice_claims,
    loss_agrees,
    side_claims,
    sign_form_claims,
    silence_claims,
    spectra_claims,
    unembedding_claims,
)
from algolens.store import RunStore
from algolens.train.config import TrainConfig

if TYPE_CHECKING:
    from algolens.groups.group import FiniteGroup
    from algolens.models.mlp import MLP

__all__ = [
    "PAPER", "PAPER_INTERVENTIONS", "SeedResult", "analyse_instance", "analyse_run",
    "coset_claims", "intervention_claims", "loss_agrees", "reproduce", "settings", "side_claims",
    "sign_form_claims", "silence_claims", "spectra_claims", "unembedding_claims",
]  # fmt: skip

PAPER = "Stander, Yu, Fan & Biderman (ICML 2024), Grokking Group Multiplication with Cosets"

QUICK_SEEDS: tuple[int, ...] = tuple(range(8))
TRAIN_FRAC = 0.4
MODELS: dict[str, dict[str, int]] = {
    "S5": {"d_embed": 256, "d_mlp": 128},
    "S6": {"d_embed": 512, "d_mlp": 256},
}
FULL: dict[str, tuple[int, int]] = {"S5": (128, 250_000), "S6": (100, 50_000)}
"""Seeds and epochs of the paper's protocol."""
STANDARD_SEEDS: tuple[int, ...] = tuple(range(32))
STANDARD_EPOCHS = 6000
"""Epoch cap of the standard protocol (the clean-up rule normally stops it earlier)."""
STANDARD_OVERRIDES: tuple[tuple[str, Any], ...] = (
    ("weight_decay", 1.0),
    ("cleanup_stop", {}),  # the defaults of algolens.train.cleanup_stop.CleanupStop
)
"""The standard protocol's changes to the fast recipe (module docstring)."""
MODES: tuple[Mode, ...] = ("quick", "standard", "full")
"""The protocols this module offers (it takes a :class:`~algolens.reproductions.claims.Scale`)."""


@dataclass(frozen=True)
class Setting:
    """One training run of the protocol."""

    group: str
    seeds: tuple[int, ...]
    recipe: str
    epochs: int | None = None  # None: the recipe's
    overrides: tuple[tuple[str, Any], ...] = ()  # config fields changed from the recipe

    def config(self, epochs_cap: int | None = None) -> TrainConfig:
        """The run's config; ``epochs_cap`` caps its epochs (:class:`Scale`, tests)."""
        from algolens.train import make_config

        return make_config(
            self.recipe, group=self.group, model="mlp", seeds=list(self.seeds),
            train_frac=TRAIN_FRAC, epochs=Scale(epochs_cap=epochs_cap).epochs(self.epochs),
            model_args=dict(MODELS[self.group]), **dict(self.overrides),
        )  # fmt: skip


def settings(mode: Mode) -> list[Setting]:
    """The runs of ``mode``'s protocol (module docstring)."""
    if mode == "quick":
        return [Setting("S5", QUICK_SEEDS, "fast")]
    if mode == "standard":
        return [Setting("S5", STANDARD_SEEDS, "fast", STANDARD_EPOCHS, STANDARD_OVERRIDES)]
    return [Setting(g, tuple(range(1, n + 1)), "paper", e) for g, (n, e) in FULL.items()]


def planned_configs(scale: Scale) -> list[TrainConfig]:
    """The configs of every run ``scale``'s protocol trains, in order; they are independent, so
    ``reproduce --executor`` trains them in parallel before the claims are measured."""
    return [setting.config(scale.epochs_cap) for setting in settings(scale.mode)]


def analyse_instance(
    group: FiniteGroup, model: MLP, *, seed: int = 0, test_mask: np.ndarray | None = None
) -> SeedResult:
    """Everything the claims read from one trained instance (a one-instance :class:`MLP`).

    Args:
        seed: seeds the noise interventions.
        test_mask: ``[|G|²]`` bool, True on the instance's held-out pairs (row ``a·|G| + b``).
    """
    from algolens.analysis.composition.coset_sides import (
        shared_coset_silence,
        side_fit,
        sign_amplitudes,
    )
    from algolens.analysis.composition.cosets import (
        coset_concentration,
        neuron_families,
        unembedding_correlation,
    )
    from algolens.analysis.composition.interventions import intervene

    w_a, w_b = (w[0].detach().double().numpy() for w in model.folded_weights())
    bias = None if model.mlp.b_in is None else model.mlp.b_in[0].detach().double().numpy()
    conc = coset_concentration(group, w_a, w_b)
    families = neuron_families(group, conc, w_a, w_b)
    rows = intervene(model, group, scores=conc.neuron_score, seed=seed, test_mask=test_mask)
    fit = side_fit(group, conc)
    w_u = model.W_U[0].detach().double().numpy()
    held = {
        o.name: (float(o.test_accuracy), float(o.test_loss))
        for o in rows
        if o.test_accuracy is not None and o.test_loss is not None
    }
    return SeedResult(
        scores=conc.neuron_score,
        n_sign=len(families.sign),
        outcomes={o.name: (o.accuracy, o.loss) for o in rows},
        unembed=unembedding_correlation(group, conc, w_a, w_b, w_u),
        held_out=held,
        fve_own=fit.own,
        fve_other=fit.other,
        silence=shared_coset_silence(group, fit.own_subgroup, w_a, w_b, bias),
        sign_ratios=sign_amplitudes(group, conc, w_a, w_b)[1],
        families=families.counts,
    )


def analyse_run(store: RunStore, run_id: str, log: Callable[[str], None]) -> list[SeedResult]:
    """:func:`analyse_instance` of every seed of a run, on its own held-out pairs."""
    from algolens.analysis.runs import train_masks
    from algolens.train import load_run_group, load_run_model

    group = load_run_group(store, run_id)
    config, model = load_run_model(store, run_id)
    masks = train_masks(config, group)
    out = []
    for k in range(model.cfg.n_inst):
        r = analyse_instance(group, model.instance(k), seed=k, test_mask=~masks[k].ravel())
        out.append(r)
        log(f"{group.name} seed {k}: min C_H < 1 for {np.mean(r.scores < 1):.1%} of neurons, "
            f"{r.n_sign} sign neurons, accuracy {r.outcomes['base'][0]:.4f} (held-out "
            f"{r.held_out['base'][0]:.4f})")  # fmt: skip
    return out


def reproduce(scale: Scale | Mode, store: RunStore, *, log: Callable[[str], None]) -> list[Claim]:
    """Train (or reuse) the runs of ``scale``, analyse every seed, return the claims."""
    scale = as_scale(scale)
    claims: list[Claim] = []
    per_group: dict[str, list[SeedResult]] = {}
    trained: list[tuple[TrainConfig, dict[str, Any]]] = []
    for setting in settings(scale.mode):
        config = setting.config(scale.epochs_cap)
        run_id = ensure_run(store, config, log)
        trained.append((config, store.get(run_id).summary or {}))
        per_group[setting.group] = analyse_run(store, run_id, log)
    s5 = per_group["S5"]
    for name, results in per_group.items():  # S5, then S6 in --full
        claims += coset_claims(name, results)
        claims += side_claims(name, results)
        claims += silence_claims(name, results)
        claims += sign_form_claims(name, results)
    claims += intervention_claims(s5)
    claims += unembedding_claims(s5)
    claims += spectra_claims()
    claims += lattice_claims(list(per_group))
    for name, results in per_group.items():
        claims += family_claims(name, results)
    ours = "; ".join(protocol_text(c, s) for c, s in trained)
    claims.append(
        Claim("protocol", "paper recipe, 128 S5 seeds × 250k epochs", ours, None, kind="context")
    )
    return claims


def protocol_text(config: TrainConfig, summary: dict[str, Any]) -> str:
    """What a run trained and why it ended, e.g. ``"S5: fast recipe (lr 0.025, weight decay 1),
    32 seeds, 2710 epochs, stopped by the clean-up rule (cap 6000)"``."""
    epochs = summary.get("epochs", "?")
    if not summary.get("stopped_early"):
        end = "ran to its epoch cap"
    elif config.cleanup_stop is not None:
        end = f"stopped by the clean-up rule (cap {config.epochs})"
    else:
        end = (f"stopped at grokking (every seed ≥ {100 * config.grok_threshold:.6g} % test "
               "accuracy)")  # fmt: skip
    return (f"{config.group}: {config.recipe} recipe (lr {config.lr:g}, weight decay "
            f"{config.weight_decay:g}), {config.n_inst} seeds, {epochs} epochs, {end}")  # fmt: skip
