"""Brinkmann, Sheshadri, Levoso, Swoboda & Bartelt (ACL Findings 2024), *A Mechanistic Analysis
of a Transformer Trained on a Symbolic Multi-Step Reasoning Task*.

``algolens reproduce brinkmann2024`` trains the path-finding transformer, finds its mechanism
with :mod:`algolens.analysis.pathfinding.mechanism` (stored as the run's ``mechanism`` analysis)
and sets the paper's figures (``../shared/papers.md``, "Seed 003", copied into the constants of
:mod:`algolens.reproductions.brinkmann2024_claims`) beside ours.

Protocols (:func:`settings`), one seed each:

* ``quick`` — the ``brinkmann-cpu`` recipe (:mod:`algolens.tasks.pathfinding.setup`): the
  paper's 6-layer, 1-head GELU/LayerNorm architecture at d_model 64 on 6-node trees (paths of
  1–5 edges), 50k examples, batch 256, lr 1e-3 with a cosine schedule, stopping at 99 % test
  accuracy. Its trees are shallower than the paper's, so the depth-per-layer figures are not
  expected to match the paper's 16-node numbers; the claims say so.
* ``standard`` — the smallest protocol where the paper's mechanism has a reason to exist (run
  once, 2026-12-06: 60.4 % exact path at its end, 4 of 10 paper claims; see
  docs/reproductions/brinkmann2024.md, "Standard protocol"): the ``brinkmann`` recipe's
  model at the paper's width (6 layers, 1 head, d_model 128, d_mlp 512) on the paper's 16-node
  trees, whose paths (up to 15 edges) are longer than the 6 layers, so climbing one level per
  layer cannot finish and registers and path merging have work to do. To fit about 3 hours on 2
  cores: :data:`STANDARD_EXAMPLES` examples (10 % test) instead of 150k, and the batch and peak
  learning rate of the ``brinkmann-cpu`` recipe (256 and 1e-3; it trains this architecture at
  half width to 99 % on 6-node trees) instead of 64 and 3e-4, on the paper's cosine schedule to
  2e-6, trained to the schedule's end (:data:`STANDARD_EPOCHS` epochs, no stop at 99 %, so the
  accuracy row can be judged), evaluated and checkpointed every :data:`STANDARD_EVERY` epochs.
* ``full`` — the ``brinkmann`` recipe: the paper's data (16 nodes, 150k examples, 10 % test) and
  configuration (d_model 128, d_mlp 512, AdamW 3e-4, betas (0.9, 0.99), wd 0.01, batch 64,
  cosine to 2e-6) for 100 epochs. A run already in the store with the same config is reused and
  an interrupted one resumed (:func:`algolens.reproductions.runs.ensure_run`).

The paper's figures and the agreement rules (each row states its own criterion in its text) are
in :mod:`algolens.reproductions.brinkmann2024_claims`.
"""

from __future__ import annotations

from collections.abc import Callable

from algolens.reproductions.brinkmann2024_claims import PAPER_NODES, claims
from algolens.reproductions.claims import Claim, Mode, Scale, as_scale
from algolens.reproductions.runs import ensure_run
from algolens.store import RunStore
from algolens.train.config import TrainConfig, make_config, validate_config

PAPER = (
    "Brinkmann, Sheshadri, Levoso, Swoboda & Bartelt (ACL Findings 2024), A Mechanistic "
    "Analysis of a Transformer Trained on a Symbolic Multi-Step Reasoning Task"
)
MODES: tuple[Mode, ...] = ("quick", "standard", "full")
"""The protocols this module offers (it takes a :class:`~algolens.reproductions.claims.Scale`)."""
STANDARD_EXAMPLES = 60_000
STANDARD_BATCH = 256
STANDARD_LR = 1e-3
STANDARD_EPOCHS = 25
STANDARD_EVERY = 5
"""The standard protocol's data, batch, peak learning rate, epochs and evaluation/checkpoint
interval (module docstring)."""


def settings(mode: Mode) -> TrainConfig:
    """The training config of a protocol."""
    if mode == "standard":
        data = {"nodes": PAPER_NODES, "n_examples": STANDARD_EXAMPLES, "test_frac": 0.1}
        return make_config(
            "brinkmann", seeds=[0], pathfinding=data, batch_size=STANDARD_BATCH, lr=STANDARD_LR,
            min_lr_frac=2e-6 / STANDARD_LR, epochs=STANDARD_EPOCHS, eval_every=STANDARD_EVERY,
            checkpoint_every=STANDARD_EVERY,
        )  # fmt: skip
    return make_config("brinkmann-cpu" if mode == "quick" else "brinkmann", seeds=[0])


def planned_configs(scale: Scale) -> list[TrainConfig]:
    """The one run ``scale``'s protocol trains (``reproduce --executor`` trains it through the
    sweep executors, e.g. on a Ray cluster, before it is analysed here)."""
    config = settings(scale.mode)
    if scale.epochs_cap is not None:  # tests: a few epochs (a cosine run of another length)
        config = validate_config({**config.to_dict(), "epochs": scale.epochs(config.epochs)})
    return [config]


def reproduce(scale: Scale | Mode, store: RunStore, *, log: Callable[[str], None]) -> list[Claim]:
    """Train (or reuse), analyse, compare; see the module docstring."""
    from algolens.analysis.pathfinding.mechanism_run import run_mechanism

    scale = as_scale(scale)
    (config,) = planned_configs(scale)
    nodes = config.pathfinding.nodes if config.pathfinding else "?"
    run_id = ensure_run(store, config, log, what=f"pathfinding {nodes} nodes")
    summary = store.get(run_id).summary or {}
    log(f"finding the mechanism of run {run_id}")
    mech = run_mechanism(store, run_id)["instances"][0]
    return claims(summary, mech, config)
