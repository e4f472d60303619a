"""The loop every stored-analysis method of ``algolens analyze`` shares: analyse each run in turn
(the runs already checked), keep the one instance asked for, and print JSON when asked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from algolens.cli.output import console, print_json


def analyse_each(
    method: str,
    run_ids: Sequence[str],
    analyse: Callable[[str], dict[str, Any]],
    instance: int | None,
    json: bool,
) -> list[dict[str, Any]] | None:
    """``analyse(run_id)`` for every run of ``run_ids`` (a spinner on a terminal meanwhile), each
    output's ``instances`` cut to ``[instance]`` when one is given.

    Returns:
        The outputs, for the caller to print as text; ``None`` when ``json``: then
        ``{"method": method, "runs": outputs}`` has been printed as JSON.
    """
    outputs = []
    for run_id in run_ids:
        with console.status(f"{method}: run {run_id}", spinner="dots"):
            out = analyse(run_id)
        if instance is not None:
            out = {**out, "instances": [out["instances"][instance]]}
        outputs.append(out)
    if json:
        print_json({"method": method, "runs": outputs})
        return None
    return outputs
