"""What each run of :mod:`algolens.reproductions.zhang2023` actually trained, read from the
store (:func:`trained_of`), and the two rows that report it: our fit check on the training inputs
and the protocol beside the paper's (unpublished) one.
"""

from __future__ import annotations

from typing import Any

from algolens.reproductions.claims import Claim
from algolens.reproductions.zhang2023_claims import BIN_FUNCTIONS, pct
from algolens.store import RunStore
from algolens.tasks.recursion.training import MAX_TRAIN_SCORED


def trained_of(store: RunStore, run_id: str) -> dict[str, Any]:
    """What a stored run actually trained, from its config and summary: ``seeds``, ``max_size``,
    ``n_train``, ``oversample``, ``recipe``, ``epochs`` (trained), ``max_epochs``, ``stop`` (the
    early stop's reason, None without one), ``train_min`` (the lowest seed's greedy exact match on
    its distinct training inputs, or on the summary's fixed sample of them when there are more than
    :data:`~algolens.tasks.recursion.training.MAX_TRAIN_SCORED`; None without a train split) and
    ``model_args``."""
    record = store.get(run_id)
    config, summary = record.config, record.summary or {}
    rc = config["recursion"]
    train = summary.get("splits", {}).get("train")
    return {
        "seeds": len(config["seeds"]), "max_size": rc["max_size"], "n_train": rc["n_train"],
        "oversample": rc["oversample"], "recipe": config.get("recipe"),
        "epochs": summary.get("epochs"), "max_epochs": summary.get("max_epochs"),
        "stop": (summary.get("early_stop") or {}).get("reason"),
        "train_min": min(train["greedy_acc"]) if train else None,
        "model_args": config.get("model_args", {}),
    }  # fmt: skip


FIT_TARGET = 0.99
"""Every seed of every run should answer at least this share of its distinct training inputs
exactly (the standard protocol trains to about 100 %; a row on an unfitted run says less)."""


def fitted_claim(trained: dict[str, dict[str, Any]]) -> Claim:
    """Our target: every seed of every run fits its training inputs (greedy exact match ≥
    :data:`FIT_TARGET` on the distinct training inputs, from each run's summary)."""
    low = {
        name: t["train_min"] for name, t in trained.items() if (t["train_min"] or 0) < FIT_TARGET
    }
    worst = ", ".join(f"{name} {pct(v)}" for name, v in low.items())
    ours = f"below target: {worst}" if low else f"all {len(trained)} runs at or above target"
    return Claim(
        f"every seed of every run fits its training inputs (greedy exact match ≥ "
        f"{pct(FIT_TARGET)} on the distinct training inputs, a fixed sample of "
        f"{MAX_TRAIN_SCORED} where there are more; lowest seed)",
        "-", ours, not low, kind="check",
    )  # fmt: skip


def protocol_claim(trained: dict[str, dict[str, Any]]) -> Claim:
    """What each stored run trained (:func:`trained_of`), beside the paper's (unpublished)
    protocol."""
    parts = []
    for name, t in trained.items():
        unit = "bits" if name.split()[0] in BIN_FUNCTIONS else "nodes"
        stop = f", stopped: {t['stop']}" if t["stop"] else ""
        recipe = f"recipe {t['recipe']}" if t["recipe"] else "fixed settings, no early stop"
        parts.append(
            f"{name}: {t['seeds']} seed(s), 1-{t['max_size']} {unit}, {t['n_train']} training "
            f"draws, {recipe}, {t['epochs']} of {t['max_epochs']} epochs{stop}"
        )
    m = next(iter(trained.values()))["model_args"] if trained else {}
    model = (
        f"transformer {m.get('n_layers')} layers, d_model {m.get('d_model')}, "
        f"{m.get('n_heads')} heads"
    )
    return Claim(
        "protocol",
        "not published (no code; sizes and splits unverified)",
        "; ".join(parts) + f"; {model}",
        None,
        kind="context",
    )
