"""What every stored-analysis method of ``algolens analyze`` shares: the request (store, runs,
options) and the loop that checks every run, then analyses each in turn, keeps the one instance
asked for, and prints JSON when asked."""

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
            if self.instance is not None:
                out = {**out, "instances": [out["instances"][self.instance]]}
            outputs.append(out)
        if self.json:
            print_json({"method": self.method, "runs": outputs})
            return None
        return outputs
