"""What every stored-analysis method of ``algolens analyze`` shares: the request (store, runs,
options) and the loop that checks every run, then analyses each in turn (saying on stderr when
it reads a checkpoint, not the final weights), keeps the one instance asked for, adds the
weights used (``"weights"``) and prints JSON when asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from algolens.cli.output import console, print_json
from algolens.cli.weights import note_weights
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
            used = note_weights(self.store, run_id, self.epoch)
            with console.status(f"{self.method}: run {run_id}", spinner="dots"):
                out = analyse(run_id)
            if self.instance is not None:
                out = {**out, "instances": [out["instances"][self.instance]]}
            outputs.append({**out, "weights": used})
        if self.json:
            print_json({"method": self.method, "runs": outputs})
            return None
        return outputs
