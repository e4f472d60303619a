"""Stander, Yu, Fan & Biderman (ICML 2024), *Grokking Group Multiplication with Cosets*.

``algolens reproduce stander2024`` trains the paper's MLPs, measures every seed with
:mod:`algolens.analysis.cosets` and :mod:`algolens.analysis.interventions`, and sets each of the
paper's figures (``../shared/papers.md``, "Seed 001", copied into the constants below) beside
ours.

Protocols (:func:`settings`):

* ``quick`` — S5, :data:`QUICK_SEEDS` seeds, the paper's model (embed 256, hidden 128) and train
  fraction 0.4, trained with the fast recipe (``algolens.train.config.FAST_RECIPE``: 25× the
  paper's learning rate, stops when every seed has grokked) — far fewer epochs than the paper's
  250k, so its networks are less cleaned up by weight decay than the paper's.
* ``full`` — the paper's protocol: paper recipe (full-batch AdamW, lr 1e-3, wd 1, betas
  (0.9, 0.98)), S5 with 128 seeds for 250k epochs (embed 256, hidden 128) and S6 with 100 seeds
  for 50k epochs (embed 512, hidden 256), train fraction 0.4. Runs already in the store with the
  same config are reused and interrupted ones resumed (:func:`ensure_run`).

Agreement rules (each claim says which): a threshold claim agrees when our figure passes the
paper's threshold; an intervention agrees when our mean accuracy over seeds is within
:data:`ACC_TOLERANCE` of the paper's and our mean loss within :data:`LOSS_DECADES` orders of
magnitude of the paper's (where it gives one); a count out of the paper's 128 models agrees when a
two-sided Fisher exact test of our count against the paper's gives p ≥ :data:`FISHER_ALPHA`;
correlations within :data:`CORR_TOLERANCE`. The subgroup indicator spectra are group theory, so
they are checks of our Fourier transform (within 0.1 percentage point), not agreement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from algolens.recipes.claims import Claim, Mode, fisher_count_test
from algolens.recipes.runs import ensure_run
from algolens.store import RunStore
from algolens.train.config import TrainConfig

PAPER = "Stander, Yu, Fan & Biderman (ICML 2024), Grokking Group Multiplication with Cosets"

SHARE_BELOW_1 = 0.992
"""> 99.2 % of neurons have min C_H < 1."""
MOST_BELOW = 1e-6
"""Most neurons have min C_H < 1e-6 (we test the median)."""
MIN_SIGN_NEURONS = 2
ABLATION_UNCHANGED = (126, 128)
"""Removing neurons with min C_H ≥ 1 leaves 126 of 128 S5 models at unchanged accuracy."""
PAPER_INTERVENTIONS: dict[str, tuple[float, float | None]] = {
    "base": (0.9999, 1.97e-6),
    "swap embeddings": (0.01, 4.76),
    "negate both": (1.0, None),
    "negate left": (0.0, 22.4),
    "negate right": (0.0, 22.4),
    "noise N(0, 0.1)": (0.9999, None),
    "noise N(0, 1)": (0.978, None),
    "noise N(1, 1)": (0.88, None),
    "noise N(-1, 1)": (0.98, None),
    "ReLU → |x|": (1.0, 3.7e-13),
}
"""Mean accuracy and loss over the paper's 128 S5 models (None: not given)."""
PAPER_SPECTRA: dict[str, dict[tuple[int, ...], float]] = {
    "S4": {(4, 1): 1.0},
    "A5": {(1, 1, 1, 1, 1): 1.0},
    "order-20": {(2, 2, 1): 1.0},  # F20
    "D6": {(3, 2): 0.556, (4, 1): 0.444},  # S3×S2
}
"""Table 5: shares of the centred indicator of S5's subgroups (our class labels)."""
PAPER_UNEMBED = {"same_coset": 0.81, "same_class": 0.0}
ACC_TOLERANCE = 0.05
LOSS_DECADES = 1.0
"""An intervention's mean loss agrees within this many orders of magnitude of the paper's."""
CORR_TOLERANCE = 0.15
FISHER_ALPHA = 0.05
UNCHANGED_ACC = 1e-4
"""An ablation leaves accuracy unchanged when it moves by at most this (about one pair in S5)."""

QUICK_SEEDS: tuple[int, ...] = tuple(range(8))
TRAIN_FRAC = 0.4
MODELS: dict[str, dict[str, int]] = {
    "S5": {"d_embed": 256, "d_mlp": 128},
    "S6": {"d_embed": 512, "d_mlp": 256},
}
FULL: dict[str, tuple[int, int]] = {"S5": (128, 250_000), "S6": (100, 50_000)}
"""Seeds and epochs of the paper's protocol."""
EPOCHS_OVERRIDE: int | None = None
"""Cap on every run's epochs (None: the protocol's; tests set a few)."""


@dataclass(frozen=True)
class Setting:
    """One training run of the protocol."""

    group: str
    seeds: tuple[int, ...]
    recipe: str
    epochs: int | None = None  # None: the recipe's

    def config(self) -> TrainConfig:
        from algolens.train import make_config

        epochs = self.epochs if EPOCHS_OVERRIDE is None else EPOCHS_OVERRIDE
        return make_config(
            self.recipe, group=self.group, model="mlp", seeds=list(self.seeds),
            train_frac=TRAIN_FRAC, epochs=epochs, model_args=dict(MODELS[self.group]),
        )  # fmt: skip


def settings(mode: Mode) -> list[Setting]:
    """The runs of ``mode``'s protocol (module docstring)."""
    if mode == "quick":
        return [Setting("S5", QUICK_SEEDS, "fast")]
    return [Setting(g, tuple(range(1, n + 1)), "paper", e) for g, (n, e) in FULL.items()]


@dataclass(frozen=True)
class SeedResult:
    """What one seed contributes to the claims."""

    scores: np.ndarray  # [d_mlp] coset score per neuron (worse side's min C_H)
    n_sign: int
    outcomes: dict[str, tuple[float, float]]  # intervention -> (accuracy, loss)
    unembed: dict[str, float]


def analyse_run(store: RunStore, run_id: str, log: Callable[[str], None]) -> list[SeedResult]:
    """Coset concentration, sign neurons, interventions and unembedding correlation per seed."""
    from algolens.analysis.cosets import (
        coset_concentration,
        neuron_families,
        unembedding_correlation,
    )
    from algolens.analysis.interventions import intervene
    from algolens.train import load_run_group, load_run_model

    group = load_run_group(store, run_id)
    _, model = load_run_model(store, run_id)
    out = []
    for k in range(model.cfg.n_inst):
        one = model.instance(k)
        w_a, w_b = (w[0].detach().double().numpy() for w in one.folded_weights())
        conc = coset_concentration(group, w_a, w_b)
        sign = neuron_families(group, conc, w_a, w_b).sign
        rows = intervene(one, group, scores=conc.neuron_score, seed=k)
        w_u = one.W_U[0].detach().double().numpy()
        out.append(
            SeedResult(
                conc.neuron_score, len(sign), {o.name: (o.accuracy, o.loss) for o in rows},
                unembedding_correlation(group, conc, w_a, w_b, w_u),
            )
        )  # fmt: skip
        log(f"{group.name} seed {k}: min C_H < 1 for {np.mean(conc.neuron_score < 1):.1%} of "
            f"neurons, {len(sign)} sign neurons, accuracy {rows[0].accuracy:.4f}")  # fmt: skip
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.4g} %"


def coset_claims(group: str, results: Sequence[SeedResult]) -> list[Claim]:
    """Share below 1, median, sign neurons and the ablation of non-coset neurons."""
    scores = np.concatenate([r.scores for r in results])
    n = len(results)
    share = float(np.mean(scores < 1))
    median = float(np.median(scores))
    signs = [r.n_sign for r in results]
    base = [r.outcomes["base"][0] for r in results]
    ablated = [r.outcomes["ablate C ≥ 1"][0] for r in results]
    unchanged = sum(abs(a - b) <= UNCHANGED_ACC for a, b in zip(ablated, base))
    test = fisher_count_test(unchanged, n, *ABLATION_UNCHANGED, alpha=FISHER_ALPHA)
    k, m = ABLATION_UNCHANGED
    tag = f" ({group})"
    return [
        Claim(f"share of neurons with min_H C_H < 1{tag} (agree: share > {_pct(SHARE_BELOW_1)})",
              f"> {_pct(SHARE_BELOW_1)} (all models)",
              f"{_pct(share)} of {scores.size} neurons, {n} seeds", share > SHARE_BELOW_1),
        Claim(f"most neurons have min_H C_H < 1e-6{tag} (agree: median < 1e-6)",
              "most < 1e-06", f"median {median:.2g}", median < MOST_BELOW),
        Claim(f"sign neurons in every model{tag} (agree: every seed has ≥ {MIN_SIGN_NEURONS})",
              f"≥ {MIN_SIGN_NEURONS} in every model",
              f"min {min(signs)}, median {np.median(signs):g} over {n} seeds",
              min(signs) >= MIN_SIGN_NEURONS),
        Claim(f"ablating neurons with min C_H ≥ 1 leaves accuracy unchanged{tag} (agree: Fisher "
              f"exact p ≥ {FISHER_ALPHA:g} against the paper's count; unchanged = within "
              f"{UNCHANGED_ACC:g})", f"{k} of {m} S5 models", test.describe(), test.agree),
    ]  # fmt: skip


def intervention_claims(results: Sequence[SeedResult]) -> list[Claim]:
    """The interventions table (S5), each row beside the paper's mean over 128 models.

    A row agrees when our mean accuracy is within :data:`ACC_TOLERANCE` of the paper's and, where
    the paper gives a loss, our mean loss is within :data:`LOSS_DECADES` orders of magnitude of
    it (losses span 1e-13 to 22, so they are compared on a log scale). Ablation rows without a
    paper figure are context.
    """
    out = []
    for name in results[0].outcomes:
        acc = float(np.mean([r.outcomes[name][0] for r in results]))
        loss = float(np.mean([r.outcomes[name][1] for r in results]))
        ours = f"{_pct(acc)} / loss {loss:.3g}"
        claim = f"intervention: {name} (S5 mean over seeds, all pairs)"
        if name not in PAPER_INTERVENTIONS:
            out.append(Claim(claim, "-", ours, None, kind="context"))
            continue
        p_acc, p_loss = PAPER_INTERVENTIONS[name]
        paper = _pct(p_acc) + ("" if p_loss is None else f" / loss {p_loss:.3g}")
        criterion = f"accuracy ± {ACC_TOLERANCE * 100:g} pp"
        agree = abs(acc - p_acc) <= ACC_TOLERANCE
        if p_loss is not None:
            criterion += f", loss within {LOSS_DECADES:g} decade of the paper's"
            agree = agree and loss_agrees(loss, p_loss)
        out.append(Claim(f"{claim} (agree: {criterion})", paper + " (interventions table)",
                         ours, bool(agree)))  # fmt: skip
    return out


def loss_agrees(ours: float, paper: float) -> bool:
    """``|log10(ours / paper)| ≤ LOSS_DECADES``; a loss of 0 or below agrees with nothing."""
    if not (ours > 0 and np.isfinite(ours)):
        return False
    return abs(float(np.log10(ours / paper))) <= LOSS_DECADES


def _shares(shares: dict[tuple[int, ...], float]) -> str:
    """``(3,2) 55.56 %, (4,1) 44.44 %``: partitions by decreasing share."""
    items = sorted(shares.items(), key=lambda x: -x[1])
    return ", ".join(f"({','.join(map(str, p))}) {_pct(s)}" for p, s in items)


def spectra_claims() -> list[Claim]:
    """Table 5 of the paper against our indicator spectra of S5."""
    from algolens.groups import parse_group
    from algolens.groups.reps import irreps
    from algolens.groups.spectra import indicator_spectra

    g = parse_group("S5")
    part = {r.label: r.partition for r in irreps(g)}
    rows = {r.label: r for r in indicator_spectra(g)}
    out = []
    for label, want in PAPER_SPECTRA.items():
        got = {part[lab]: s for lab, s in rows[label].shares.items()}
        agree = got.keys() == want.keys() and all(abs(got[p] - s) <= 1e-3 for p, s in want.items())
        out.append(
            Claim(
                f"indicator spectrum of {label} in S5 (group theory: a check of our Fourier "
                "transform, not of training)",
                _shares(want) + " (paper's spectra table)",
                _shares(got),
                agree,
                kind="check",
            )
        )
    return out


def unembedding_claims(results: Sequence[SeedResult]) -> list[Claim]:
    """Same-coset and same-class unembedding correlations (:func:`unembedding_correlation`)."""
    out = []
    for kind, paper in PAPER_UNEMBED.items():
        vals = [r.unembed[kind] for r in results if r.unembed["n_" + kind] > 0]
        pairs = sum(r.unembed["n_" + kind] for r in results)
        if not vals:
            out.append(
                Claim(
                    f"unembedding correlation, {kind.replace('_', ' ')}",
                    f"{paper:g}",
                    "no such pairs",
                    None,
                )
            )
            continue
        mean = float(np.mean(vals))
        base = [r.unembed["baseline"] for r in results if r.unembed["n_baseline"] > 0]
        b = f"{np.mean(base):.2f}" if base else "n/a"
        ours = f"{mean:.2f} over {pairs} pairs (baseline {b})"
        out.append(Claim(f"unembedding correlation, {kind.replace('_', ' ')} (agree: seed mean "
                         f"within ± {CORR_TOLERANCE:g})", f"{paper:g}", ours,
                         abs(mean - paper) <= CORR_TOLERANCE))  # fmt: skip
    return out


def reproduce(mode: Mode, store: RunStore, *, log: Callable[[str], None]) -> list[Claim]:
    """Train (or reuse) the runs of ``mode``, analyse every seed, return the claims."""
    claims: list[Claim] = []
    per_group: dict[str, list[SeedResult]] = {}
    for setting in settings(mode):
        run_id = ensure_run(store, setting.config(), log)
        per_group[setting.group] = analyse_run(store, run_id, log)
    s5 = per_group["S5"]
    for name, results in per_group.items():  # S5, then S6 in --full
        claims += coset_claims(name, results)
    claims += intervention_claims(s5)
    claims += spectra_claims()
    claims += unembedding_claims(s5)
    if mode == "quick":
        ours = f"fast recipe, {len(s5)} S5 seeds, stopped at grokking"
        claims.append(
            Claim(
                "protocol", "paper recipe, 128 S5 seeds × 250k epochs", ours, None, kind="context"
            )
        )
    return claims
