"""The claims of :mod:`algolens.reproductions.stander2024`: the paper's figures (from
``../shared/papers.md``, "Seed 001", copied into the constants below) and the rules that set our
per-seed measurements (:class:`SeedResult`) beside them.

Agreement rules (each claim's text states its own):

* a threshold claim agrees when our figure passes the paper's threshold;
* an intervention agrees when, on all pairs **and** on the held-out pairs (papers.md does not
  say which split the paper's table used, so the figure must hold for both), our mean accuracy
  over seeds is within :data:`ACC_TOLERANCE` of the paper's and our mean loss within
  :data:`LOSS_DECADES` orders of magnitude of the paper's (where it gives one);
* a count out of the paper's 128 models agrees when a two-sided Fisher exact test of our count
  against the paper's gives p ≥ :data:`FISHER_ALPHA`;
* correlations within :data:`CORR_TOLERANCE`;
* the side, shared-coset and sign-form claims (:mod:`algolens.analysis.composition.coset_sides`) by
  the
  thresholds :data:`SIDE_FVE`, :data:`SILENCE_MAX`, :data:`SIGN_RATIO_TOL` and
  :data:`SIGN_FORM_SHARE` (each claim's docstring says over which neurons).

Group-theory figures (subgroup indicator spectra, subgroup counts) are checks of our code, not
agreement; figures without a paper value (ablations, neurons per subgroup) are context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from algolens.papers.stander2024 import PAPER_INTERVENTIONS
from algolens.reproductions.claims import Claim, fisher_count_test

SHARE_BELOW_1 = 0.992
"""> 99.2 % of neurons have min C_H < 1."""
MOST_BELOW = 1e-6
"""Most neurons have min C_H < 1e-6 (we test the median)."""
MIN_SIGN_NEURONS = 2
ABLATION_UNCHANGED = (126, 128)
"""Removing neurons with min C_H ≥ 1 leaves 126 of 128 S5 models at unchanged accuracy."""
PAPER_SPECTRA: dict[str, dict[tuple[int, ...], float]] = {
    "S4": {(4, 1): 1.0},
    "A5": {(1, 1, 1, 1, 1): 1.0},
    "order-20": {(2, 2, 1): 1.0},  # F20
    "D6": {(3, 2): 0.556, (4, 1): 0.444},  # S3×S2
}
"""Table 5: shares of the centred indicator of S5's subgroups (our class labels)."""
PAPER_SUBGROUPS: dict[str, int] = {"S5": 156, "S6": 1455}
"""Number of subgroups the paper minimises over (its coset-concentration metric)."""
PAPER_UNEMBED = {"same_coset": 0.81, "same_class": 0.0}
ACC_TOLERANCE = 0.05
LOSS_DECADES = 1.0
"""An intervention's mean loss agrees within this many orders of magnitude of the paper's."""
CORR_TOLERANCE = 0.15
FISHER_ALPHA = 0.05
UNCHANGED_ACC = 1e-4
"""An ablation leaves accuracy unchanged when it moves by at most this (about one pair in S5)."""
COSET_NEURON = 1.0
"""A coset neuron has min C_H below this (the paper's cut for its ablation)."""
SIDE_FVE = 0.99
""""Constant on cosets": the median own-side FVE over coset-neuron sides must reach this."""
SILENCE_MAX = 0.01
""""Fires only off the shared coset": median activation on it ≤ this share of the mean."""
SIGN_RATIO_TOL = 0.1
"""L = sgn, R = −sgn: the right/left sign amplitude ratio within −1 ± this."""
SIGN_FORM_SHARE = 0.9
"""Share of the both-sides-sign neurons that must have the form."""


@dataclass(frozen=True)
class SeedResult:
    """What one seed contributes to the claims.

    Per-neuron arrays cover all ``d_mlp`` neurons; the claims pick the coset neurons.
    """

    scores: np.ndarray  # [d_mlp] coset score per neuron (worse side's min C_H)
    n_sign: int
    outcomes: dict[str, tuple[float, float]]  # intervention -> (accuracy, loss), all pairs
    unembed: dict[str, float]
    held_out: dict[str, tuple[float, float]] = field(default_factory=dict)  # test pairs
    fve_own: np.ndarray = field(default_factory=lambda: np.zeros((2, 0)))  # [2, d_mlp]
    fve_other: np.ndarray = field(default_factory=lambda: np.zeros((2, 0)))  # [2, d_mlp]
    silence: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [d_mlp]
    sign_ratios: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [n both-sign]
    families: dict[str, int] = field(default_factory=dict)  # subgroup class -> coset neurons


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
              f"> {_pct(SHARE_BELOW_1)} (all models; reference figures)",
              f"{_pct(share)} of {scores.size} neurons, {n} seeds", share > SHARE_BELOW_1),
        Claim(f"most neurons have min_H C_H < 1e-6{tag} (agree: median < 1e-6)",
              "most < 1e-06 (reference figures)", f"median {median:.2g}", median < MOST_BELOW),
        Claim(f"sign neurons in every model{tag} (agree: every seed has ≥ {MIN_SIGN_NEURONS})",
              f"≥ {MIN_SIGN_NEURONS} in every model (claim)",
              f"min {min(signs)}, median {np.median(signs):g} over {n} seeds",
              min(signs) >= MIN_SIGN_NEURONS),
        Claim(f"ablating neurons with min C_H ≥ 1 leaves accuracy unchanged{tag} (agree: Fisher "
              f"exact p ≥ {FISHER_ALPHA:g} against the paper's count; unchanged = within "
              f"{UNCHANGED_ACC:g})", f"{k} of {m} S5 models (reference figures)",
              test.describe(), test.agree),
    ]  # fmt: skip


def _judge(acc: float, loss: float, p_acc: float, p_loss: float | None) -> bool:
    ok = abs(acc - p_acc) <= ACC_TOLERANCE
    return bool(ok and (p_loss is None or loss_agrees(loss, p_loss)))


def intervention_claims(results: Sequence[SeedResult]) -> list[Claim]:
    """The interventions table (S5), each row beside the paper's mean over 128 models.

    A row agrees when, on all pairs and on the held-out pairs, our mean accuracy is within
    :data:`ACC_TOLERANCE` of the paper's and, where the paper gives a loss, our mean loss is
    within :data:`LOSS_DECADES` orders of magnitude of it (losses span 1e-13 to 22, so they are
    compared on a log scale). Without held-out figures (no seed has them) a row is judged on all
    pairs and says so. Ablation rows without a paper figure are context.
    """
    out = []
    held = all(r.held_out for r in results)
    for name in results[0].outcomes:
        splits = {"all pairs": [r.outcomes[name] for r in results]}
        if held:
            splits["held-out"] = [r.held_out[name] for r in results]
        means = {s: tuple(float(x) for x in np.mean(v, axis=0)) for s, v in splits.items()}
        claim = f"intervention: {name} (S5 mean over seeds, {' and '.join(splits)})"
        if name not in PAPER_INTERVENTIONS:
            ours = "; ".join(f"{s}: {_pct(a)} / loss {lo:.3g}" for s, (a, lo) in means.items())
            out.append(Claim(claim, "-", ours, None, kind="context"))
            continue
        p_acc, p_loss = PAPER_INTERVENTIONS[name]
        verdicts = {s: _judge(a, lo, p_acc, p_loss) for s, (a, lo) in means.items()}
        ours = "; ".join(f"{s}: {_pct(a)} / loss {lo:.3g} ({'yes' if verdicts[s] else 'no'})"
                         for s, (a, lo) in means.items())  # fmt: skip
        paper = _pct(p_acc) + ("" if p_loss is None else f" / loss {p_loss:.3g}")
        criterion = f"accuracy ± {ACC_TOLERANCE * 100:g} pp"
        if p_loss is not None:
            criterion += f", loss within {LOSS_DECADES:g} decade of the paper's"
        criterion += ", on " + (" and on ".join(splits))
        out.append(Claim(f"{claim} (agree: {criterion})",
                         paper + " (interventions table; split not stated in papers.md)",
                         ours, all(verdicts.values())))  # fmt: skip
    return out


def loss_agrees(ours: float, paper: float) -> bool:
    """``|log10(ours / paper)| ≤ LOSS_DECADES``; a loss of 0 or below agrees with nothing."""
    if not (ours > 0 and np.isfinite(ours)):
        return False
    return abs(float(np.log10(ours / paper))) <= LOSS_DECADES


def _coset_mask(r: SeedResult) -> np.ndarray:
    return np.asarray(r.scores) < COSET_NEURON


def side_claims(group: str, results: Sequence[SeedResult]) -> list[Claim]:
    """Left sides on right cosets Ha, right sides on left cosets bH (:func:`side_fit`).

    Agrees when the median own-side FVE over the non-constant sides of all neurons (the paper
    finds > 99.2 % to be coset neurons) is at least :data:`SIDE_FVE` AND, on the sides of coset
    neurons where the two coset sides fit differently, the own side fits better on more than
    half. Disagrees on the median alone; n/a when the median passes but no coset-neuron side
    tells the two apart (normal subgroups and one-coset indicators fit both alike).
    """
    own = np.concatenate([r.fve_own for r in results], axis=1)  # [2, neurons]
    other = np.concatenate([r.fve_other for r in results], axis=1)
    coset = np.concatenate([_coset_mask(r) for r in results])  # [neurons]
    live = np.isfinite(own)
    with np.errstate(invalid="ignore"):
        distinct = live & coset[None, :] & (np.abs(own - other) > 1e-3)
    claim = (f"left pre-activations constant on right cosets Ha, right ones on left cosets bH "
             f"({group}; agree: median own-side variance explained over all neurons' sides ≥ "
             f"{SIDE_FVE:g} AND the own coset side fits better on > 50 % of the coset-neuron "
             "sides where the two differ)")  # fmt: skip
    paper = "left on Hx, right on yH (claim)"
    if not live.any():
        return [Claim(claim, paper, "no neuron with a live side", None)]
    med = float(np.median(own[live]))
    per_side = ", ".join(f"{s} {np.median(own[i][live[i]]):.4g}" if live[i].any() else f"{s} -"
                         for i, s in enumerate(("left", "right")))  # fmt: skip
    wins = int((own[distinct] > other[distinct]).sum())
    n_d = int(distinct.sum())
    ours = (f"median own-side FVE {med:.4g} ({per_side}) over {int(live.sum())} sides; own side "
            f"better on {wins} of {n_d} coset-neuron sides that differ")  # fmt: skip
    if med < SIDE_FVE:
        return [Claim(claim, paper, ours, False)]
    if n_d == 0:
        return [Claim(claim, paper, ours + ": the sides cannot be told apart", None)]
    return [Claim(claim, paper, ours, wins > n_d / 2)]


def silence_claims(group: str, results: Sequence[SeedResult]) -> list[Claim]:
    """Neurons fire only when the product leaves a shared coset
    (:func:`~algolens.analysis.composition.coset_sides.shared_coset_silence`), judged over all
    firing
    neurons (the paper finds > 99.2 % to be coset neurons); the coset neurons' median is shown.
    """
    ratios = np.concatenate([r.silence for r in results])
    coset = np.concatenate([_coset_mask(r) for r in results])
    fires = ~np.isnan(ratios)
    firing = ratios[fires]
    claim = (f"a neuron fires only when the product leaves a coset shared by its sides "
             f"({group}; agree: median over all firing neurons of the activation on the best "
             f"shared coset ≤ {SILENCE_MAX:g} of the neuron's mean)")  # fmt: skip
    paper = "fires when a·b is not in a shared coset (claim)"
    if firing.size == 0:
        return [Claim(claim, paper, "no firing neuron", None)]
    med = float(np.median(firing))
    ours = (f"median {med:.3g} over {firing.size} neurons; {int((firing <= SILENCE_MAX).sum())} "
            f"≤ {SILENCE_MAX:g}, {int(np.isinf(firing).sum())} with no shared coset")  # fmt: skip
    if (fires & coset).any():
        ours += f"; coset neurons alone: median {np.median(ratios[fires & coset]):.3g}"
    return [Claim(claim, paper, ours, med <= SILENCE_MAX)]


def sign_form_claims(group: str, results: Sequence[SeedResult]) -> list[Claim]:
    """Sign neurons have L = sgn, R = −sgn: equal amplitudes of opposite sign.

    The sign neurons are the neurons whose two sides are both sign functions with opposite
    orientation (right/left amplitude ratio < 0, as :func:`neuron_families` finds them); the
    form is the equal amplitude. Neurons with both sides sign functions of the same orientation
    are another kind (the paper says nothing of them) and are only counted.
    """
    ratios = np.concatenate([r.sign_ratios for r in results])
    sign = ratios[ratios < 0]
    claim = (f"sign neurons have the form L = sgn, R = −sgn ({group}; agree: ≥ "
             f"{_pct(SIGN_FORM_SHARE)} of the neurons whose sides are sign functions of "
             "opposite orientation have right/left amplitude ratio in "
             f"−1 ± {SIGN_RATIO_TOL:g})")  # fmt: skip
    paper = "L = sgn, R = −sgn (claim)"
    same = f"; {int((ratios > 0).sum())} neurons with both sides +sgn or both −sgn not counted"
    if sign.size == 0:
        return [Claim(claim, paper, "no sign neuron" + same, None)]
    ok = np.abs(sign + 1.0) <= SIGN_RATIO_TOL
    share = float(ok.mean())
    ours = f"{int(ok.sum())} of {sign.size} ({_pct(share)}); median ratio {np.median(sign):.3g}"
    return [Claim(claim, paper, ours + same, share >= SIGN_FORM_SHARE)]


def family_claims(group: str, results: Sequence[SeedResult]) -> list[Claim]:
    """Coset neurons per subgroup class, mean per seed: context (papers.md gives no counts)."""
    totals: dict[str, int] = {}
    for r in results:
        for label, count in r.families.items():
            totals[label] = totals.get(label, 0) + count
    items = sorted(totals.items(), key=lambda x: -x[1])
    ours = ", ".join(f"{lab} {c / len(results):.3g}" for lab, c in items) or "none"
    return [Claim(f"coset neurons (score < 0.01) per subgroup class, mean per seed ({group})",
                  "-", ours, None, kind="context")]  # fmt: skip


def lattice_claims(groups: Sequence[str]) -> list[Claim]:
    """Our subgroup enumeration against the paper's subgroup counts (group theory: checks)."""
    from algolens.groups import parse_group

    out = []
    for name in groups:
        if name not in PAPER_SUBGROUPS:
            continue
        got = len(parse_group(name).subgroup_lattice.subgroups)
        want = PAPER_SUBGROUPS[name]
        out.append(Claim(f"subgroups of {name} (group theory: a check of our enumeration)",
                         f"{want} (metric)", f"{got}", got == want, kind="check"))  # fmt: skip
    return out


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
        name = f"unembedding correlation, {kind.replace('_', ' ')}"
        where = f"{paper:g} (reference figures)"
        if not vals:
            out.append(Claim(name, where, "no such pairs", None))
            continue
        mean = float(np.mean(vals))
        base = [r.unembed["baseline"] for r in results if r.unembed["n_baseline"] > 0]
        b = f"{np.mean(base):.2f}" if base else "n/a"
        ours = f"{mean:.2f} over {pairs} pairs (baseline {b})"
        out.append(Claim(f"{name} (agree: seed mean within ± {CORR_TOLERANCE:g})", where, ours,
                         abs(mean - paper) <= CORR_TOLERANCE))  # fmt: skip
    return out
