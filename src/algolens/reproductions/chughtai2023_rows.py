"""Rows of ``reproduce chughtai2023`` read from single settings: the mainline seed's figures,
neuron FVE, the clean-up phase, the cyclic and dihedral groups' key irreps, A5, transformers and
the learning order. The 50-seed tallies live in :mod:`algolens.reproductions.chughtai2023_claims`,
the protocol in :mod:`algolens.reproductions.chughtai2023`.

Every function takes :class:`~algolens.reproductions.chughtai2023.Measured` results and returns
:class:`~algolens.reproductions.claims.Claim` rows; each judged row states its criterion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from algolens.analysis.composition.progress import ACCURACY
from algolens.reproductions.claims import Claim
from algolens.train.recipes import PAPER_RECIPE

if TYPE_CHECKING:
    from algolens.reproductions.chughtai2023 import Measured

MAINLINE_SEED = 2
"""The seed of the paper's mainline S5 MLP."""
WHERE = "the paper's mainline S5 MLP, seed 2"
PAPER_MAINLINE: dict[str, Any] = {
    "key_irreps": ("sign", "standard"),
    "similarity": {"sign": "0.509", "standard": "0.767"},
    "logit_fve": "84.8%",
    "W_a": "100%",
    "W_b": "100%",
    "W_U": "94.0%",
    "test_loss": "2.9e-6",
    "restricted_loss": "7.1e-7",
    "excluded_loss": "7.59",
    "memorised": "~364",  # epoch of train accuracy 1.0
    "generalised": "~93.6k",  # epoch of test accuracy > 0.99
}
"""The mainline seed's figures as the paper prints them (their precision is the criterion)."""
WEIGHT_DROP = 0.9
"""Clean-up: Σθ² at the end ≤ this × Σθ² at memorisation (falls by at least 10 %)."""
RESTRICTED_DROP = 0.1
"""Clean-up: restricted loss at the end ≤ this × at memorisation (falls by a decade or more)."""
EXCLUDED_RISE = 2.0
"""Clean-up: excluded loss at the end ≥ this × at memorisation (at least doubles)."""


def printed_interval(text: str) -> tuple[float, float]:
    """The interval a printed figure stands for: its value ± half a unit of its last digit.

    Examples:
        >>> [round(x, 6) for x in printed_interval("84.8%")]
        [0.8475, 0.8485]
        >>> printed_interval("2.9e-6") == (2.85e-6, 2.95e-6)
        True
        >>> printed_interval("~93.6k")
        (93550.0, 93650.0)
    """
    s, scale = text.strip().lstrip("~"), 1.0
    if s.endswith("%"):
        s, scale = s[:-1], 0.01
    elif s.endswith("k"):
        s, scale = s[:-1], 1000.0
    mantissa, _, exp = s.lower().partition("e")
    e = int(exp) if exp else 0
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    value = float(mantissa) * 10.0**e * scale
    half = 0.5 * 10.0 ** (e - decimals) * scale
    return round(value - half, 12 - e), round(value + half, 12 - e)


def _seed(m: Measured, seed: int) -> int | None:
    """Index of the instance trained with ``seed`` (None if absent)."""
    return next((k for k, i in enumerate(m.instances) if i.get("seed") == seed), None)


def _printed_claim(what: str, printed: str, value: float, fmt: str) -> Claim:
    lo, hi = printed_interval(printed)
    return Claim(
        f"{what} of the mainline seed (agree: within {printed} to its printed precision, "
        f"{lo:.4g}–{hi:.4g})",
        f"{printed} ({WHERE})",
        f"{value:{fmt}}",
        bool(lo <= value <= hi),
    )


def mainline_seed_claims(m: Measured | None) -> list[Claim]:
    """The mainline seed's figures (:data:`PAPER_MAINLINE`) against our instance of seed
    :data:`MAINLINE_SEED`, each judged at the paper's printed precision; its train loss and
    neuron FVE as context (no paper figure)."""
    p = PAPER_MAINLINE
    k = None if m is None else _seed(m, MAINLINE_SEED)
    if m is None or k is None:
        why = f"not measured: seed {MAINLINE_SEED} is not among our S5 MLP seeds"
        return [Claim(f"the mainline seed's figures ({WHERE})", "see the paper", why, None)]
    inst = m.instances[k]
    keys = sorted(inst["key_irreps"])
    out = [
        Claim(
            "key irreps of the mainline seed (agree: the same set)",
            f"{', '.join(p['key_irreps'])} ({WHERE})",
            ", ".join(keys) or "none",
            keys == sorted(p["key_irreps"]),
        )
    ]
    for label, printed in p["similarity"].items():
        out.append(_printed_claim(f"{label} similarity", printed, inst["similarity"][label], ".3f"))
    out.append(_printed_claim("logit FVE", p["logit_fve"], inst["logit_fve"], ".1%"))
    for w in ("W_a", "W_b", "W_U"):
        out.append(_printed_claim(f"{w} FVE", p[w], inst["weight_fve"][w], ".1%"))
    losses = inst["losses"]
    for name in ("test_loss", "restricted_loss", "excluded_loss"):
        out.append(_printed_claim(name.replace("_", " "), p[name], losses[name], ".3g"))
    out += _epoch_claims(m, k)
    out.append(
        Claim(
            "train loss of the mainline seed",
            "no figure",
            f"{losses.get('train_loss', float('nan')):.3g} "
            f"(train accuracy {losses.get('train_acc', float('nan')):.4%})",
            None,
            "context",
        )
    )
    out.append(neuron_fve_context(m, k))
    return out


def other_optimiser(m: Measured) -> str | None:
    """How ``m``'s run differs from the paper's learning rate and weight decay (which set the
    epochs of every event), or None when it has the paper's."""
    cfg = m.trained()
    diffs = [f"{name} {got:g} (paper {want:g})"
             for name, got, want in (("lr", cfg.lr, PAPER_RECIPE["lr"]),
                                     ("weight decay", cfg.weight_decay,
                                      PAPER_RECIPE["weight_decay"]))
             if got != want]  # fmt: skip
    return ", ".join(diffs) or None


def _epoch_claims(m: Measured, k: int) -> list[Claim]:
    """When the mainline seed memorises (train accuracy 1.0) and generalises (test accuracy
    > 0.99): the checkpoints bracketing the event must overlap the paper's printed epoch (n/a
    for a run at another learning rate or weight decay than the paper's)."""
    series = m.series[k] if k < len(m.series) else []
    other = other_optimiser(m)
    rows = []
    for name, event, key, ok in (
        ("memorised", "train accuracy 1.0", "train_acc", lambda a: a >= 1.0),
        ("generalised", "test accuracy > 0.99", "test_acc", lambda a: a > 0.99),
    ):
        printed = PAPER_MAINLINE[name]
        lo, hi = printed_interval(printed)
        claim = (
            f"the mainline seed reaches {event} at the paper's epoch (agree: the checkpoints "
            f"bracketing it overlap {lo:g}–{hi:g})"
        )
        paper = f"{printed} epochs ({WHERE})"
        if other is not None:
            rows.append(Claim(claim, paper, f"n/a: trained with {other}, which changes epochs",
                              None))  # fmt: skip
            continue
        hit = next((i for i, r in enumerate(series) if ok(r["losses"].get(key, 0.0))), None)
        if hit is None:
            rows.append(Claim(claim, paper, "never, at any checkpoint", False))
            continue
        before = series[hit - 1]["epoch"] if hit else series[hit]["epoch"]
        after = series[hit]["epoch"]
        rows.append(Claim(claim, paper, f"between epochs {before} and {after}",
                          before <= hi and after >= lo))  # fmt: skip
    return rows


def neuron_fve_context(m: Measured, k: int) -> Claim:
    """Neuron FVE by the key irreps (spans of ρ(a), ρ(b), ρ(ab)): the mainline seed's and the
    range over the setting's seeds (papers.md records no figure, so it is context)."""
    totals = [i["neurons"]["key_fve"]["total"] for i in m.instances if i.get("neurons")]
    if k >= len(m.instances) or not m.instances[k].get("neurons"):
        return Claim("neuron FVE by the key irreps", "no figure", "not measured", None, "context")
    mine = m.instances[k]["neurons"]["key_fve"]
    parts = ", ".join(f"{s} {mine[s]:.1%}" for s in ("a", "b", "ab"))
    return Claim(
        "neuron FVE by the key irreps (share of neuron variance in the spans of ρ(a), ρ(b), ρ(ab))",
        "no figure",
        f"mainline seed {mine['total']:.1%} ({parts}); {len(totals)} seeds "
        f"{min(totals):.1%}–{max(totals):.1%}",
        None,
        "context",
    )


def cleanup_claims(followed: Sequence[Measured]) -> list[Claim]:
    """The clean-up phase of every followed seed, from memorisation (first checkpoint with train
    accuracy ≥ 99 %) to the last checkpoint, which must come after generalisation (test accuracy
    ≥ 99 %): Σθ² falls by ≥ 10 %, the restricted loss falls by ≥ a decade, the excluded loss at
    least doubles. Each agrees when every such seed shows it; n/a when no seed has checkpoints
    after memorising and generalising."""
    spans = []  # (seed, start row, end row)
    for r in followed:
        for k, series in enumerate(r.series):
            start = next((x for x in series if x["losses"].get("train_acc", 0) >= ACCURACY), None)
            gen = next((x for x in series if x["losses"].get("test_acc", 0) >= ACCURACY), None)
            if start is not None and gen is not None and series[-1]["epoch"] > start["epoch"]:
                spans.append((r.instances[k]["seed"] if k < len(r.instances) else k,
                              start, series[-1]))  # fmt: skip
    out = []
    for what, get, bound, rule in (
        ("Σθ² (sum of squared weights) falls", lambda x: x["sum_sq_weights"], WEIGHT_DROP,
         "end ≤ 0.9 × at memorisation"),
        ("restricted loss falls", lambda x: x["losses"]["restricted_loss"], RESTRICTED_DROP,
         "end ≤ 0.1 × at memorisation"),
        ("excluded loss rises", lambda x: x["losses"]["excluded_loss"], EXCLUDED_RISE,
         "end ≥ 2 × at memorisation"),
    ):  # fmt: skip
        claim = (
            f"clean-up: {what} from memorisation to the end of training (followed seeds; "
            f"agree: every seed {rule})"
        )
        paper = "memorise → form circuit → clean up (progress measures)"
        if not spans:
            why = "n/a: no followed seed has a checkpoint after memorising and generalising"
            out.append(Claim(claim, paper, why, None))
            continue
        ratios = [(seed, get(b), get(e), get(e) / get(b) if get(b) else np.inf)
                  for seed, b, e in spans]  # fmt: skip
        rising = bound > 1
        ok = sum((q >= bound) if rising else (q <= bound) for *_, q in ratios)
        detail = "; ".join(f"seed {s}: {b:.3g} → {e:.3g} ({q:.2g}×)" for s, b, e, q in ratios)
        out.append(Claim(claim, paper, f"{ok}/{len(ratios)} seeds: {detail}", ok == len(ratios)))
    return out


def cyclic_dihedral_context(mlps: Sequence[Measured]) -> list[Claim]:
    """Key irreps of each cyclic (frequencies) and dihedral (with dimensions) group's seeds;
    papers.md records no key irreps for these groups, so the rows are context."""
    out = []
    for r in mlps:
        family = r.setting.group[0]
        if family not in "CD" or not r.instances:
            continue
        per_seed = []
        for i in r.instances:
            keys = i["key_irreps"]
            if family == "C":
                text = ", ".join(k.removeprefix("freq-") for k in keys) or "none"
            else:
                dims = sorted({r.dims[k] for k in keys})
                text = (", ".join(keys) or "none") + f" (dims {dims})"
            per_seed.append(f"seed {i['seed']}: {text}")
        kind = "frequencies" if family == "C" else "irreps"
        two = sum(all(r.dims[k] == 2 for k in i["key_irreps"]) and bool(i["key_irreps"])
                  for i in r.instances)  # fmt: skip
        out.append(
            Claim(
                f"{r.setting.group} MLP key {kind} per seed",
                "no figure",
                "; ".join(per_seed) + f" — only 2-dim irreps key in {two}/{len(r.instances)}",
                None,
                "context",
            )
        )
    return out


def _frac(k: int, n: int) -> str:
    return f"{k}/{n} ({k / n:.0%})" if n else "-"


def a5_claim(m: Measured | None) -> Claim:
    """A5 MLPs: the 4-dim irrep plus one or both 3-dim irreps, nothing else."""
    claim, paper = "A5 MLP seeds: the 4-dim irrep plus one or both 3-dim irreps", "4/4 seeds"
    if m is None or not m.instances:
        return Claim(claim, paper, "not measured", None)

    def fits(keys: list[str]) -> bool:
        dims = sorted(m.dims[k] for k in keys)
        return dims.count(4) == 1 and 1 <= dims.count(3) == len(dims) - 1

    ok = sum(fits(i["key_irreps"]) for i in m.instances)
    sets = "; ".join(sorted({", ".join(i["key_irreps"]) or "none" for i in m.instances}))
    return Claim(claim, paper, f"{_frac(ok, len(m.instances))}: {sets}", ok == len(m.instances))


def transformer_claim(m: Measured | None, group: str = "S5") -> Claim:
    """S5 transformers: the sign irrep plus one 4-dim irrep each."""
    claim, paper = f"{group} transformer seeds: sign plus one 4-dim irrep", "4/4 seeds"
    if m is None:
        return Claim(claim, paper, "not measured: this protocol trains no transformer (--full "
                     "does)", None)  # fmt: skip
    if not m.instances:
        return Claim(claim, paper, "not measured", None)

    def fits(keys: list[str]) -> bool:
        return "sign" in keys and sorted(m.dims[k] for k in keys) == [1, 4]

    ok = sum(fits(i["key_irreps"]) for i in m.instances)
    sets = "; ".join(sorted({", ".join(i["key_irreps"]) or "none" for i in m.instances}))
    return Claim(claim, paper, f"{_frac(ok, len(m.instances))}: {sets}", ok == len(m.instances))


def learning_order_claim(followed: Sequence[Measured]) -> Claim:
    """Progress measures: every final key irrep is learned (similarity > 0.05) at or before the
    first checkpoint with test accuracy ≥ 99 % (circuit formation precedes generalisation)."""
    claim = "learning order: the key irreps form before the network generalises"
    paper = "memorise → form circuit → clean up"
    ms = [m for r in followed for m in r.progress]
    if not ms:
        return Claim(claim, paper, "not measured", None)
    ok = sum(None not in (m["circuit"], m["generalised"]) and m["circuit"] <= m["generalised"]
             for m in ms)  # fmt: skip
    firsts: dict[str, int] = {}
    for m in ms:
        if m["learning_order"]:
            firsts[m["learning_order"][0]] = firsts.get(m["learning_order"][0], 0) + 1
    first = ", ".join(f"{lab} {c}" for lab, c in sorted(firsts.items(), key=lambda x: -x[1]))
    return Claim(
        claim, paper, f"{_frac(ok, len(ms))} followed seeds; first learned: {first or 'none'}",
        ok == len(ms),
    )  # fmt: skip
