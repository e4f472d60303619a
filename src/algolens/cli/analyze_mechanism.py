"""`algolens analyze RUN --method mechanism`: the path-finding mechanism finder's output."""

from __future__ import annotations

from typing import Any

from algolens.analysis.methods import Options
from algolens.cli.output import print_text


def show(outputs: list[dict[str, Any]], opts: Options) -> None:
    """Each run's mechanism, a few lines per instance (``Method.show`` of ``mechanism``)."""
    from algolens.analysis.pathfinding.mechanism_run import summary_lines

    for out in outputs:
        print_text(f"mechanism: run {out['run']} ({out['nodes']} nodes, {out['n_rows']} test rows)")
        for inst in out["instances"]:
            print_text(f"instance {inst['instance']} (seed {inst['seed']}):")
            for line in summary_lines(inst):
                print_text("  " + line)
