"""Progress measures: the irrep metrics of one instance over its saved checkpoints.

Chughtai et al. (after Nanda et al. 2023) read training in three phases: *memorisation* (train
loss falls, test loss does not), *circuit formation* (the key irreps' similarity and the gap
between excluded and restricted loss grow while test accuracy is still low) and *clean-up*
(weight decay removes the memorising parts: the sum of squared weights falls and test loss
follows). From a series of per-checkpoint metric dicts (:func:`algolens.analysis.runs.run_progress`)
this module derives, each as the first *checkpoint* epoch where it holds (None if never):

* ``learned_at[ρ]``: similarity of ρ >
  :data:`~algolens.analysis.composition.irreps.LEARNED_SIMILARITY`
  (0.05); ``learning_order``: the irreps sorted by it (ties by label order);
* ``memorised``: train accuracy ≥ :data:`ACCURACY`;
* ``circuit``: every irrep that is key at the last checkpoint has been learned;
* ``generalised``: test accuracy ≥ :data:`ACCURACY`;
* ``peak_weights``: the checkpoint with the largest sum of squared weights (clean-up starts
  after it);

and passes the trainer's ``grok_epoch`` (from the run summary, evaluated more often than
checkpoints are saved) through. Checkpoints are log-spaced, so each epoch is an upper bound on
when the event happened, to within a checkpoint interval.
"""

from __future__ import annotations

from typing import Any

from algolens.analysis.composition.irreps import LEARNED_SIMILARITY

ACCURACY = 0.99
"""Threshold of the ``memorised`` and ``generalised`` events."""


def learned_at(series: list[dict[str, Any]]) -> dict[str, int | None]:
    """First epoch at which each irrep's similarity exceeds ``LEARNED_SIMILARITY``."""
    labels = list(series[0]["similarity"]) if series else []
    out: dict[str, int | None] = {}
    for label in labels:
        out[label] = next(
            (row["epoch"] for row in series if row["similarity"][label] > LEARNED_SIMILARITY),
            None,
        )
    return out


def progress_measures(series: list[dict[str, Any]], grok_epoch: int | None) -> dict[str, Any]:
    """The events of the module docstring for a series ordered by epoch."""
    if not series:
        return {"learned_at": {}, "learning_order": [], "grok_epoch": grok_epoch}
    first = learned_at(series)
    labels = list(first)
    order = sorted(
        (lab for lab in labels if first[lab] is not None), key=lambda x: (first[x], labels.index(x))
    )

    def first_epoch(pred) -> int | None:
        return next((row["epoch"] for row in series if pred(row)), None)

    final_key = series[-1]["key_irreps"]
    circuit = first_epoch(
        lambda row: (
            bool(final_key)
            and all(row["similarity"][lab] > LEARNED_SIMILARITY for lab in final_key)
        )
    )
    peak = max(series, key=lambda row: row["sum_sq_weights"])["epoch"]
    return {
        "learned_at": first,
        "learning_order": order,
        "memorised": first_epoch(lambda row: row["losses"].get("train_acc", 0.0) >= ACCURACY),
        "circuit": circuit,
        "generalised": first_epoch(lambda row: row["losses"].get("test_acc", 0.0) >= ACCURACY),
        "peak_weights": peak,
        "grok_epoch": grok_epoch,
    }


def progress_rows(
    series: list[dict[str, Any]], labels: list[str], *, key_count: bool = False
) -> list[list[Any]]:
    """Table rows: epoch, train/test loss, restricted/excluded loss, Σθ², logit FVE, the key
    irreps (their number with ``key_count``, for narrow terminals), then the similarity of each
    irrep in ``labels``."""
    rows = []
    for row in series:
        losses = row["losses"]
        rows.append(
            [
                row["epoch"],
                _g(losses.get("train_loss")),
                _g(losses.get("test_loss")),
                _g(losses["restricted_loss"]),
                _g(losses["excluded_loss"]),
                _g(row["sum_sq_weights"]),
                f"{row['logit_fve']:.3f}",
                len(row["key_irreps"]) if key_count else ", ".join(row["key_irreps"]) or "-",
                *(f"{row['similarity'][lab]:.3f}" for lab in labels),
            ]
        )
    return rows


def followed_irreps(series: list[dict[str, Any]]) -> list[str]:
    """The irreps worth a column: key at some checkpoint, in irrep order."""
    if not series:
        return []
    ever = {lab for row in series for lab in row["key_irreps"]}
    return [lab for lab in series[-1]["similarity"] if lab in ever]


def _g(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"
