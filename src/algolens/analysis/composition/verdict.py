"""The joint verdict: which account, irreps (Chughtai et al.) or cosets (Stander et al.), explains
each neuron, whether the two agree, and how faithful each is for the whole network.

Per neuron and side (left pre-activation ``W_a[:, j]``, right ``W_b[:, j]``, functions on G):

* **irrep account**: the share of the side's centred power (Plancherel,
  :func:`algolens.groups.fourier.power_spectrum`) in its largest isotypic component;
* **coset account**: min C_H over proper subgroups and its subgroup (:mod:`.cosets`);
* **agreement**: a function constant on the (left or right) cosets of H has Fourier support only
  on irreps whose restriction to H contains the trivial irrep
  (:func:`algolens.groups.spectra.invariant_irreps`, from the characters). ``allowed_share`` is
  the side's centred power on those irreps; the accounts *agree* when the dominant irrep is one
  of them. Quantitatively ``1 − allowed_share ≤ C_H / [G:H]`` (the coset means lie in the
  allowed span, and ``‖f − coset means‖² = |H|·Σ_c Var_c``), so a small C_H forces agreement.

A neuron is *explained* by irreps when both sides have ≥ :data:`IRREP_SHARE` of their power in
one irrep, by cosets when both sides have C_H < :data:`COSET_TOL`.

For the network (faithfulness, measured by replacing activations through hooks, all |G|² pairs):

* ``irreps``: both pre-activation tables projected onto the trivial and the key isotypic
  components (key: irreps with ≥ :data:`KEY_POWER` of the total centred pre-activation power of
  all neurons and sides, unless given);
* ``cosets``: each side of each neuron replaced by its means over the cosets of its own
  minimising subgroup;
* ``mean``: each side replaced by its mean (nothing explained; the floor to compare with).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from algolens.analysis.composition.cosets import (
    SIDES,
    CosetConcentration,
    coset_concentration,
    coset_means,
)
from algolens.analysis.composition.interventions import check_mlp, evaluate
from algolens.analysis.methods import InstanceFn, find_method, methods
from algolens.errors import ConfigError
from algolens.groups.fourier import isotypic_projections, power_spectrum
from algolens.groups.group import FiniteGroup
from algolens.groups.reps import irreps
from algolens.groups.spectra import invariant_irreps
from algolens.models.mlp import MLP

IRREP_SHARE = 0.9
"""A side is explained by one irrep when that irrep holds at least this share of its power."""
COSET_TOL = 1e-2
"""A side is explained by cosets when its min C_H is below this."""
KEY_POWER = 0.01
"""Key irreps of the pre-activations: at least this share of the total centred power."""


@dataclass(frozen=True)
class SideAccounts:
    """Both accounts of one side (``[k]`` arrays over neurons).

    Attributes:
        irrep: index (in :func:`irreps`) of the dominant irrep; irrep_share: its power share.
        allowed_share: power share on the irreps invariant under the coset subgroup.
        agree: the dominant irrep is invariant under the coset subgroup.
    """

    irrep: np.ndarray
    irrep_share: np.ndarray
    allowed_share: np.ndarray
    agree: np.ndarray


def side_accounts(
    group: FiniteGroup, f: np.ndarray, conc: CosetConcentration, side: int
) -> SideAccounts:
    """The irrep account of ``f`` ``[|G|, k]`` and its agreement with ``conc`` (pre side
    ``side``)."""
    centred = np.asarray(f, dtype=np.float64) - np.mean(f, axis=0)
    power = power_spectrum(group, centred)  # [n_irreps, k]
    total = np.where(power.sum(axis=0) > 0, power.sum(axis=0), 1.0)
    share = power / total  # [n_irreps, k]
    top = share.argmax(axis=0)  # [k]
    allowed = np.zeros_like(share, dtype=bool)  # [n_irreps, k]
    subs = conc.best_subgroup[side]
    for h in np.unique(subs):
        allowed[np.ix_(invariant_irreps(group, int(h)), np.flatnonzero(subs == h))] = True
    agree = allowed[top, np.arange(share.shape[1])]
    return SideAccounts(top, share.max(axis=0), (share * allowed).sum(axis=0), agree)


def key_irreps(group: FiniteGroup, tables: Sequence[np.ndarray]) -> list[int]:
    """Irreps with ≥ :data:`KEY_POWER` of the total centred power of ``tables`` ``[|G|, k]``."""
    power = sum(power_spectrum(group, t - t.mean(axis=0)).sum(axis=1) for t in tables)
    share = power / power.sum()
    reps = irreps(group)
    return [i for i, s in enumerate(share) if s >= KEY_POWER and reps[i].label != "trivial"]


def _replaced_outcome(model: MLP, group: FiniteGroup, name: str, t_a, t_b) -> dict[str, Any]:
    """Accuracy and loss with the pre-activation tables replaced by ``t_a``, ``t_b``
    ``[|G|, k]``."""
    dt = model.W_U.dtype
    table_a = torch.from_numpy(np.array(t_a)).to(dt)  # [|G|, d_mlp]
    table_b = torch.from_numpy(np.array(t_b)).to(dt)  # [|G|, d_mlp]

    def make_hooks(t: torch.Tensor) -> list:
        return [
            ("mlp.hook_pre_left", lambda x, hook: table_a[t[:, 0]]),  # [batch, d_mlp]
            ("mlp.hook_pre_right", lambda x, hook: table_b[t[:, 1]]),  # [batch, d_mlp]
        ]

    o = evaluate(model, group, name, make_hooks)
    return {"accuracy": o.accuracy, "loss": o.loss}


def verdict(model: MLP, group: FiniteGroup, *, key: Sequence[int] | None = None) -> dict[str, Any]:
    """The joint verdict of one instance, JSON-ready.

    Args:
        model: a one-instance composition MLP trained on ``group``.
        key: key irrep indices (default :func:`key_irreps` of the pre-activation tables).

    Returns:
        ``{"neurons": [...], "summary": {...}, "faithfulness": {...}, "key_irreps": [...]}``;
        see the module docstring for each quantity.
    """
    check_mlp(model)
    reps = irreps(group)
    lattice = group.subgroup_lattice
    w_a, w_b = (w[0].detach().double().numpy() for w in model.folded_weights())
    conc = coset_concentration(group, w_a, w_b)
    acc = [side_accounts(group, f, conc, s) for s, f in enumerate((w_a, w_b))]
    key = key_irreps(group, [w_a, w_b]) if key is None else list(key)
    neurons = []
    for j in range(w_a.shape[1]):
        sides = {}
        for s, name in enumerate(SIDES):
            h = int(conc.best_subgroup[s, j])
            sides[name] = {
                "irrep": reps[int(acc[s].irrep[j])].label,
                "irrep_share": float(acc[s].irrep_share[j]),
                "coset_c": float(conc.best[s, j]),
                "subgroup": h,
                "subgroup_label": lattice.classes[lattice.subgroups[h].class_index].label,
                "subgroup_order": lattice.subgroups[h].order,
                "cosets": ("gH", "Hg")[int(conc.best_coset_side[s, j])],
                "allowed_share": float(acc[s].allowed_share[j]),
                "agree": bool(acc[s].agree[j]),
            }
        by_irreps = all(sides[n]["irrep_share"] >= IRREP_SHARE for n in SIDES)
        by_cosets = all(sides[n]["coset_c"] < COSET_TOL for n in SIDES)
        neurons.append(
            {"neuron": j, "by_irreps": by_irreps, "by_cosets": by_cosets,
             "agree": all(sides[n]["agree"] for n in SIDES), **sides}
        )  # fmt: skip
    return {
        "key_irreps": [reps[i].label for i in key],
        "neurons": neurons,
        "summary": _summary(neurons),
        "faithfulness": faithfulness(model, group, w_a, w_b, conc, key),
    }


def faithfulness(
    model: MLP, group: FiniteGroup, w_a: np.ndarray, w_b: np.ndarray,
    conc: CosetConcentration, key: Sequence[int],
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Accuracy and loss of the network with its pre-activations replaced by each account."""
    reps = irreps(group)
    trivial = next(r.index for r in reps if r.label == "trivial")
    keep = [trivial, *[i for i in key if i != trivial]]  # the mean always stays

    def project(f: np.ndarray) -> np.ndarray:
        return isotypic_projections(group, f)[keep].sum(axis=0)  # [|G|, k]

    def coset_version(f: np.ndarray, side: int) -> np.ndarray:
        cols = [
            coset_means(group, f[:, j], int(conc.best_subgroup[side, j]),
                        int(conc.best_coset_side[side, j]))
            for j in range(f.shape[1])
        ]  # fmt: skip
        return np.stack(cols, axis=1)  # [|G|, k]

    def mean(f: np.ndarray) -> np.ndarray:
        return np.broadcast_to(f.mean(axis=0), f.shape)

    return {
        "base": _replaced_outcome(model, group, "base", w_a, w_b),
        "irreps": dict(
            _replaced_outcome(model, group, "irreps", project(w_a), project(w_b)),
            kept=[reps[i].label for i in keep],
        ),
        "cosets": _replaced_outcome(
            model, group, "cosets", coset_version(w_a, 0), coset_version(w_b, 1)
        ),
        "mean": _replaced_outcome(model, group, "mean", mean(w_a), mean(w_b)),
    }


def _summary(neurons: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(neurons)
    both = [x for x in neurons if x["by_irreps"] and x["by_cosets"]]
    cosets_c = np.array([max(x["left"]["coset_c"], x["right"]["coset_c"]) for x in neurons])
    classes: dict[str, int] = {}
    for x in neurons:
        if x["by_cosets"]:
            classes[x["left"]["subgroup_label"]] = classes.get(x["left"]["subgroup_label"], 0) + 1
    return {
        "neurons": n,
        "by_both": len(both),
        "by_irreps_only": sum(x["by_irreps"] and not x["by_cosets"] for x in neurons),
        "by_cosets_only": sum(x["by_cosets"] and not x["by_irreps"] for x in neurons),
        "by_neither": sum(not x["by_irreps"] and not x["by_cosets"] for x in neurons),
        "agree": sum(x["agree"] for x in neurons),
        "share_min_c_below_1": float(np.mean(cosets_c < 1)) if n else 0.0,
        "median_min_c": float(np.median(cosets_c)) if n else 0.0,
        "coset_classes": classes,
    }


def cosets_json(model: MLP, group: FiniteGroup) -> dict[str, Any]:
    """``algolens analyze --method cosets`` for one instance: each neuron's min C_H per side
    with its subgroup, the families, sign neurons and unembedding correlations."""
    from algolens.analysis.composition.cosets import neuron_families, unembedding_correlation

    check_mlp(model)
    lattice = group.subgroup_lattice
    w_a, w_b = (w[0].detach().double().numpy() for w in model.folded_weights())
    conc = coset_concentration(group, w_a, w_b)
    fam = neuron_families(group, conc, w_a, w_b, tol=COSET_TOL)

    def side(s: int, j: int) -> dict[str, Any]:
        h = int(conc.best_subgroup[s, j])
        return {
            "c": float(conc.best[s, j]),
            "subgroup": h,
            "label": lattice.classes[lattice.subgroups[h].class_index].label,
            "order": lattice.subgroups[h].order,
            "cosets": ("gH", "Hg")[int(conc.best_coset_side[s, j])],
        }

    score = conc.neuron_score
    return {
        "neurons": [
            {"neuron": j, "score": float(score[j]), "left": side(0, j), "right": side(1, j)}
            for j in range(score.size)
        ],
        "share_below_1": float(np.mean(score < 1)),
        "median_score": float(np.median(score)),
        "sign_neurons": fam.sign,
        "families": fam.counts,
        "unembedding": unembedding_correlation(
            group, conc, w_a, w_b, model.W_U[0].detach().double().numpy(), tol=COSET_TOL
        ),
    }


def interventions_json(model: MLP, group: FiniteGroup) -> dict[str, Any]:
    """``algolens analyze --method interventions`` for one instance."""
    from algolens.analysis.composition.interventions import intervene

    rows = intervene(model, group)
    return {
        "interventions": [
            {"intervention": o.name, "accuracy": o.accuracy, "loss": o.loss}
            | ({} if o.n_ablated is None else {"n_ablated": o.n_ablated})
            for o in rows
        ]
    }


def interventions_mean(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``interventions`` method's ``combine``: ``{"mean": the table averaged over the
    instances}`` (:func:`algolens.analysis.composition.interventions.mean_table`)."""
    from algolens.analysis.composition.interventions import Outcome, mean_table

    per_seed = [
        [Outcome(r["intervention"], r["accuracy"], r["loss"], r.get("n_ablated"))
         for r in res["interventions"]]
        for res in results
    ]  # fmt: skip
    return {"mean": mean_table(per_seed)}


class _CosetFunctions(Mapping[str, InstanceFn]):
    """Coset method name -> its per-instance function, read from the method registry (every
    method of the ``cosets`` family, :attr:`algolens.analysis.methods.Method.per_instance`)
    whenever it is looked up, so a coset method registered later is known."""

    @staticmethod
    def _table() -> dict[str, InstanceFn]:
        return {
            m.name: m.per_instance
            for m in methods()
            if m.family == "cosets" and m.per_instance is not None
        }

    def __getitem__(self, name: str) -> InstanceFn:
        return self._table()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


METHODS: Mapping[str, InstanceFn] = _CosetFunctions()
"""Each coset method's per-instance function ``fn(one-instance MLP, group) -> JSON dict``, from
the registry (the ``cosets`` family of :mod:`algolens.analysis.methods`; the built-in ones are
:func:`cosets_json`, :func:`interventions_json` and :func:`verdict`)."""


def run_method(
    store: Any, run: str, method: str, instance: int | None = None, *, epoch: int | None = None
) -> dict[str, Any]:
    """A coset method (:data:`METHODS`: its registered ``per_instance``) on every instance of a
    stored run (or one), at its final weights or (``epoch``) at that checkpoint.

    Returns ``{"method", "run", "group", "instances": [per-instance JSON with run, instance,
    seed]}``, plus the method's ``combine`` of them (``interventions``: ``"mean"``, the table
    averaged over the instances).

    Raises (all before any weights are read):
        ConfigError: unknown method, a run that is not a group composition MLP, an instance out
            of range. StoreError: unknown run. CheckpointError: no stored group or weights.
        SizeLimitError: a group above :data:`algolens.analysis.composition.cosets.MAX_COSET_ORDER`.
    """
    from algolens.analysis.runs import check_coset_run
    from algolens.train import load_run_group, load_run_model

    run_id, config = check_coset_run(store, run, method, instance)  # the registry's check
    m = find_method(method)
    if m is None or m.per_instance is None:  # registered in the family without a function
        raise ConfigError(f"coset method {method!r} has no per-instance function to run")
    n = len(config.seeds)
    group = load_run_group(store, run_id)
    _, model = load_run_model(store, run_id, epoch)
    ks = [instance] if instance is not None else list(range(n))
    results = [
        {"run": run_id, "instance": k, "seed": config.seeds[k]}
        | m.per_instance(model.instance(k), group)
        for k in ks
    ]
    out: dict[str, Any] = {"method": method, "run": run_id, "group": group.name}
    out["instances"] = results
    if m.combine is not None:
        out |= m.combine(results)
    return out
