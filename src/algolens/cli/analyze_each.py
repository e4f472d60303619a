"""What every stored-analysis method of ``algolens analyze`` shares: the request (store, runs,
options) and the loop that checks every run, then analyses each in turn (with ``weights``: saying
on stderr when it reads a checkpoint, not the final weights, and adding the weights used as
``"weights"``), keeps the one instance asked for, and prints JSON when asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from algolens.cli.output import print_json, status
from algolens.store import RunStore


@dataclass(frozen=True)
class Request:
    """One ``algolens analyze`` call: ``method`` on ``runs`` of ``store`` with its options."""

    store: RunStore
    runs: list[str]
    method: str
    instance: int | None
    force: bool
    json: bool
    inputs: str | None = None
    hypotheses: tuple[str, ...] = ()
    epoch: int | None = None
    """The checkpoint ``--checkpoint`` names (None: the final weights)."""
    weights: Callable[[str], dict[str, Any]] | None = None
    """``weights(run_id)``: the weights an analysis reads, said on stderr when not the final
    ones (:func:`algolens.cli.weights.note_weights`); added to each output as ``"weights"``."""

    def each(
        self, check: Callable[[str], tuple[str, Any]], analyse: Callable[[str], dict[str, Any]]
    ) -> list[dict[str, Any]] | None:
        """``check(run)`` for every run first (every input error before any work; returns
        ``(run_id, config)``), then ``analyse(run_id)`` for each (a spinner on a terminal
        meanwhile), each output's ``instances`` cut to ``[instance]`` when one is given.

        Returns:
            The outputs, for the caller to print as text; ``None`` when ``json``: then
            ``{"method": method, "runs": outputs}`` has been printed as JSON.
        """
        run_ids = [check(run)[0] for run in self.runs]
        outputs = []
        for run_id in run_ids:
            with status(f"{self.method}: run {run_id}"):
                out = analyse(run_id)
            used = self.weights(run_id) if self.weights is not None else None
            if self.instance is not None:
                out = {**out, "instances": [out["instances"][self.instance]]}
            outputs.append(out if used is None else {**out, "weights": used})
        if self.json:
            print_json({"method": self.method, "runs": outputs})
            return None
        return outputs
