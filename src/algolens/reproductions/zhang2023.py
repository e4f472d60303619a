"""Zhang, Tigges, Biderman, Raginsky & Ringer (2023), *Can Transformers Learn to Solve Problems
Recursively?*

``algolens reproduce zhang2023`` trains one decoder-only transformer run per structurally
recursive function (:data:`QUICK_FUNCTIONS`: binary successor, the three tree traversals, and
predecessor and tree mirror so nothing is tuned to one function), plus successor again with the
rare structures oversampled, and measures every run with algolens's own analyses:

* **accuracy per function and split** (``train``, in-distribution ``test``, ``rare`` structures
  of the function's own rare-structure feature, longer ``ood`` inputs): greedy exact match from
  each run's summary, mean over seeds; the held-out splits hold distinct inputs;
* **the paper's shortcut for successor as a failure predictor**
  (:func:`.zhang2023_shortcut.shortcut_fails`): it
  fails where the trailing ``B1`` run is at least ``k`` or on all ones (the output grows), ``k``
  fitted per seed on the failure analysis's fit inputs and scored on its fresh ones, on *which*
  inputs fail (not the exact wrong output); and the all-ones inputs against the other rare ones;
* **learned failure rules per function** (:mod:`algolens.analysis.recursion.failures_run`): a
  depth-3 rule
  tree fitted on held-out distinct rare-tail inputs and scored on fresh ones (never training or
  fit inputs); recall and precision pooled over seeds;
* **the best shortcut hypothesis** (:mod:`algolens.analysis.recursion.shortcuts`): the built-in
  hypothesis that best matches the model's exact greedy answers on held-out rare-tail inputs,
  and the strongest attention rules;
* **shortcut, not recursion, for the traversals**
  (:mod:`algolens.analysis.recursion.feature_dependence`): on distinct held-out trees, whether
  inputs
  whose rare-structure feature is in the upper half of their size fail more often than the
  others of that size (exact stratified test over seeds × sizes);
* **oversampling**: successor trained with and without ``oversample`` =
  :data:`OVERSAMPLE`, both scored on the same distinct rare-tail inputs that neither run trained
  on.

The paper gives (``../shared/papers.md``, "Seed 000"): shortcuts rather than recursion, failures on
rare structural edge cases, 91 % of one function's (successor's) failures predicted by a
hand-reconstructed shortcut, and oversampling rare structures helps. It published no code and its
sizes and splits are unverified, so accuracies are reported without a paper figure.

Protocols (:data:`PROTOCOLS`; the module takes a :class:`~algolens.reproductions.claims.Scale`):

* ``quick`` fits the issue's 15 minutes on 2 CPU cores (one seed, short numbers and small trees,
  a fixed few epochs). It is too small to test the paper's failure prediction:
  numbers of at most 10 bits leave about 150 rare-tail inputs outside training, and its successor
  run fails on 8 fresh ones.
* ``standard`` (:data:`STANDARD`) is the smallest protocol at which the paper's failure-prediction
  effect can be measured (run on 2026-12-06: docs/reproductions/zhang2023-standard.md):
  the paper's functions (successor and the three traversals, :data:`STANDARD_FUNCTIONS`; every
  judged row is theirs, so predecessor and mirror, context only, are left to quick and full),
  quick's model (2 layers, d_model 64), **3 seeds** per function, **numbers of 1-20 bits** (10 000
  training draws) and trees of 1-7 nodes (6000 draws), trained with the recursion task's default
  preset (recipe ``recursion``, :mod:`algolens.tasks.recursion.preset`: AdamW lr 3e-3, cosine
  schedule, minibatch 64, early stopping once every seed answers 99 % of a held-back tenth of the
  training inputs exactly), so a function is trained until it is learnt rather than for a fixed
  number of epochs (quick left postorder at 97 % and mirror at 90 % train). The one change to the
  preset is its epoch cap, for measured reasons: 60 for numbers, the cap under which
  docs/recursion.md's sweep measured every number function (numbers of up to 8 bits: ≥ 98.4 %
  held-out, 99 % in 12-31 epochs where reached; a 20-epoch probe of the 20-bit successor run at the
  preset's cap of 120 reached 89-94 % validation exact match, oscillating at the peak learning
  rate, so the faster decay of a 60-epoch cosine is wanted too); 40 for trees, because inorder and
  postorder reached only 85 % and 81 % on held-out trees in quick, so their validation split is
  unlikely to reach 99 % before the cap, and a tree epoch costs about 18 CPU-seconds (3 seeds, one
  thread), so three tree runs at the preset's 120 would take 1.8 hours; quick's 20-epoch cosine
  already fitted preorder and inorder (≥ 99.3 % train). Why these sizes: with 20 bits and 10 000
  draws only 7 distinct training inputs end in a ``B1`` run of 9 or more and 3 in one of 10 or
  more, while the failure analysis's fresh half of 2000 rare-tail draws holds about 360 distinct
  inputs, 144 of them with a run of 9 or more and 87 of 11 or more (measured with
  :mod:`algolens.tasks.recursion.sampling`): a model that fails from a run of 9-11 on gives the 50
  distinct fresh failures the paper-shortcut row needs
  (:data:`~algolens.reproductions.zhang2023_claims.MIN_FAILURES`); at 16 bits only 26-60 would.
  Eleven all-ones inputs (10-20 bits) stay out of training. Three seeds make every inequality row
  (rare < test, all-ones < other rare, oversampled > plain, high-feature trees fail more) a
  one-sided test over 3 × the distinct inputs (1500 answers per split); 7-node trees already give
  about 2000 distinct held-out rare-tail trees.
* ``full`` trains more seeds, more data and more epochs and adds ``add``.

Which rows are judged follows from what was trained and measured, never from the protocol's name:
the paper-shortcut row is n/a with fewer than 50 distinct fresh failing inputs, a Fisher row is
n/a when no outcome could reach significance, and the ``protocol`` row lists each stored run's
seeds, sizes, recipe and the epochs it actually trained (and why it stopped). Runs already in the
store with the same config are reused and interrupted ones resumed
(:func:`algolens.reproductions.runs.ensure_run`).

Agreement rules and the paper's figures are in :mod:`algolens.reproductions.zhang2023_claims`;
this module trains the runs, :mod:`algolens.reproductions.zhang2023_measure` measures each
function (:func:`~algolens.reproductions.zhang2023_measure.analyse_function`), and
:mod:`algolens.reproductions.zhang2023_trained` reads back what each run trained.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from algolens.reproductions.claims import Claim, Mode, Scale, as_scale
from algolens.reproductions.runs import ensure_run
from algolens.reproductions.zhang2023_claims import (
    BIN_FUNCTIONS,
    OVERSAMPLE,
    FunctionResult,
    accuracy_claims,
    all_ones_claim,
    failure_claim,
    oversampling_claim,
    paper_shortcut_claim,
    recursion_claim,
    shortcut_claims,
)
from algolens.reproductions.zhang2023_measure import analyse_function, oversampling_effect
from algolens.reproductions.zhang2023_trained import fitted_claim, protocol_claim, trained_of
from algolens.store import RunStore
from algolens.train.config import TrainConfig

PAPER = (
    "Zhang, Tigges, Biderman, Raginsky & Ringer (2023), Can Transformers Learn to Solve Problems "
    "Recursively?"
)
QUICK_FUNCTIONS: tuple[str, ...] = (
    "successor", "predecessor", "preorder", "inorder", "postorder", "mirror",
)  # fmt: skip
FULL_FUNCTIONS: tuple[str, ...] = (*QUICK_FUNCTIONS, "add")
STANDARD_FUNCTIONS: tuple[str, ...] = ("successor", "preorder", "inorder", "postorder")
"""The paper's functions: every judged row is theirs (predecessor and mirror give context only)."""


@dataclass(frozen=True)
class Protocol:
    """Sizes of one protocol (module docstring)."""

    functions: tuple[str, ...]
    seeds: tuple[int, ...]
    epochs: int
    n_train: int
    bin_max: int  # largest in-distribution number (bits); ood up to bin_max + 4
    tree_max: int  # largest in-distribution tree (nodes); ood up to tree_max + 3
    n_analysis: int  # failures: 2 n draws; shortcuts: n inputs
    model_args: dict[str, Any] = field(default_factory=dict)
    tree_n_train: int = 0  # tree functions: training inputs and epochs (0: as for numbers)
    tree_epochs: int = 0
    recipe: str | None = None  # None: TRAIN_SETTINGS; else a preset (epochs is then its cap)


QUICK = Protocol(
    functions=QUICK_FUNCTIONS, seeds=(0,), epochs=40, n_train=2000, bin_max=10, tree_max=7,
    n_analysis=1000,
    model_args={"n_layers": 2, "d_model": 64, "n_heads": 4, "d_head": 16, "d_mlp": 256},
    tree_n_train=6000, tree_epochs=20,
)  # fmt: skip
"""Trees get more inputs: with 2000 trees of up to 7 nodes a first quick run memorised inorder
and postorder (train 98.5 %, test 64 %)."""
FULL = Protocol(
    functions=FULL_FUNCTIONS, seeds=(0, 1, 2, 3), epochs=150, n_train=10_000, bin_max=12,
    tree_max=10, n_analysis=2000,
    model_args={"n_layers": 2, "d_model": 128, "n_heads": 4, "d_head": 32, "d_mlp": 512},
    tree_n_train=30_000, tree_epochs=60,
)  # fmt: skip
STANDARD = Protocol(
    functions=STANDARD_FUNCTIONS, seeds=(0, 1, 2), epochs=60, n_train=10_000, bin_max=20,
    tree_max=7, n_analysis=1000, model_args=dict(QUICK.model_args), tree_n_train=6000,
    tree_epochs=40, recipe="recursion",
)  # fmt: skip
"""The smallest protocol at which the paper's failure prediction can be measured (module
docstring): the paper's functions, 3 seeds, numbers of 1-20 bits, the recursion preset's early
stop (capped at 60 epochs for numbers, 40 for trees)."""
PROTOCOLS: dict[Mode, Protocol] = {"quick": QUICK, "standard": STANDARD, "full": FULL}
MODES: tuple[Mode, ...] = ("quick", "standard", "full")
"""The protocols this module offers (it takes a :class:`~algolens.reproductions.claims.Scale`)."""
TRAIN_SETTINGS: dict[str, Any] = {
    "lr": 3e-3, "weight_decay": 0.01, "beta2": 0.99, "batch_size": 64, "schedule": "cosine",
    "early_stop": False,
    "eval_every": 5, "checkpoint_every": 10, "log_checkpoints": 0,
}  # fmt: skip
"""Optimiser and bookkeeping of a protocol without a ``recipe`` (quick, full: fixed epochs)."""


def run_config(
    p: Protocol, function: str, oversample: float = 0.0, epochs_cap: int | None = None
) -> TrainConfig:
    """The config of ``function``'s run under protocol ``p``: its ``recipe`` (a preset) if it
    names one, else :data:`TRAIN_SETTINGS`; ``epochs_cap`` caps the epochs (:class:`Scale`,
    tests)."""
    from algolens.train.config import make_config

    numbers = function in BIN_FUNCTIONS
    size = p.bin_max if numbers else p.tree_max
    n_train = p.n_train if numbers else p.tree_n_train or p.n_train
    epochs = Scale(epochs_cap=epochs_cap).epochs(p.epochs if numbers else p.tree_epochs or p.epochs)
    recursion = {
        "min_size": 1, "max_size": size, "ood_max_size": size + (4 if numbers else 3),
        "n_train": n_train, "n_test": 500, "n_ood": 500, "oversample": oversample,
    }  # fmt: skip
    settings = {} if p.recipe else TRAIN_SETTINGS
    return make_config(
        p.recipe, task="recursion", function=function, recursion=recursion, seeds=list(p.seeds),
        epochs=epochs, model_args=dict(p.model_args), **settings,
    )  # fmt: skip


def _ensure(store: RunStore, config: TrainConfig, log: Callable[[str], None]) -> str:
    """:func:`ensure_run` of a recursion run (its dataset hash is set at the start and follows
    from the config for a built-in function)."""
    assert config.recursion is not None
    what = f"{config.function} (oversample {config.recursion.oversample:g}), {config.n_inst} seeds"
    return ensure_run(store, config, log, what=what)


def planned_configs(scale: Scale) -> list[TrainConfig]:
    """The configs of every run ``scale``'s protocol trains, in order: one per function, then
    successor with the rare tail oversampled. They are independent, so ``reproduce --executor``
    trains them in parallel before they are analysed."""
    p = PROTOCOLS[scale.mode]
    cap = scale.epochs_cap
    return [
        *(run_config(p, function, epochs_cap=cap) for function in p.functions),
        run_config(p, "successor", OVERSAMPLE, epochs_cap=cap),
    ]


def reproduce(scale: Scale | Mode, store: RunStore, *, log: Callable[[str], None]) -> list[Claim]:
    """Train (or reuse) the runs of ``scale``'s protocol, analyse them, return the claims (which
    rows are judged follows from what the runs trained and the analyses measured)."""
    scale = as_scale(scale)
    p = PROTOCOLS[scale.mode]
    *configs, over_config = planned_configs(scale)
    results: list[FunctionResult] = []
    run_ids: dict[str, str] = {}
    for function, config in zip(p.functions, configs, strict=True):
        run_ids[function] = _ensure(store, config, log)
        results.append(analyse_function(store, run_ids[function], function, p.n_analysis, log))
    over_id = _ensure(store, over_config, log)
    effect = oversampling_effect(store, run_ids["successor"], over_id, p.n_analysis)
    trained = {r.function: r.trained for r in results}
    trained[f"successor (oversample {OVERSAMPLE:g})"] = trained_of(store, over_id)
    claims: list[Claim] = []
    for r in results:
        claims += accuracy_claims(r, r.trained["seeds"])
    claims += [failure_claim(r) for r in results]
    claims += [c for r in results for c in (paper_shortcut_claim(r), all_ones_claim(r)) if c]
    claims += [c for c in map(recursion_claim, results) if c]
    for r in results:
        claims += shortcut_claims(r)
    claims.append(oversampling_claim(effect))
    claims.append(fitted_claim(trained))
    claims.append(protocol_claim(trained))
    return claims
